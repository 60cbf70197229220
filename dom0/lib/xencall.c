// SPDX-License-Identifier: MIT
/* libxencall (Xen's xencall.h API): hypercalls from dom0 through the control socket, as privcmd. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xencall.h>
#include "svxen.h"

/*
 * A handle is one control connection.  Each call sends the hypercall
 * number and its five arguments (SV_CTL_XEN_HYPERCALL); arguments that
 * are pointers stay addresses in this process, which the hypervisor reads
 * and writes itself, as Xen's copy_from_guest reads the caller's memory
 * through privcmd.  So any memory may serve as a hypercall buffer: the
 * buffer calls hand out plain anonymous pages, and
 * xencall_buffers_never_fault says 1.
 *
 * Thread safety: `lock` keeps each request with its reply; any call may
 * come from any thread.
 *
 * Across fork: privcmd's fd keeps working in a child (libxl's domain
 * monitor is a forked child of `xl create`, whose parent then exits), but
 * the hypervisor serves a connection for the process that made it (its
 * SO_PEERCRED pid).  So a handle used from another process than the one
 * that opened it first opens a connection of its own (the inherited one
 * is closed in the child only).
 */
struct xencall_handle {
	struct svctl *ctl;
	pthread_mutex_t lock;
	pid_t pid; /* the process ctl's connection is for */
};

static const char ctx[] = "xencall";

xencall_handle *xencall_open(struct xentoollog_logger *logger, unsigned open_flags)
{
	xencall_handle *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return NULL;
	ret = svxen_handle_init(logger, ctx, &h->lock, &h->ctl);
	if (ret) {
		free(h);
		errno = -ret;
		return NULL;
	}
	h->pid = getpid();
	return h;
}

/* Under h->lock: a connection of this process's own (after a fork). 0 or -errno. */
static int own_connection(xencall_handle *h)
{
	struct svctl *c;

	if (h->pid == getpid())
		return 0;
	c = svctl_open(svctl_rundir());
	if (!c)
		return -errno;
	svctl_close(h->ctl);
	h->ctl = c;
	h->pid = getpid();
	return 0;
}

int xencall_close(xencall_handle *h)
{
	if (!h)
		return 0;
	svctl_close(h->ctl);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return 0;
}

/* The control socket (poll only), as Xen gives privcmd's fd. */
int xencall_fd(xencall_handle *h)
{
	return svctl_fd(h->ctl);
}

/* The hypercall's result, or -errno: the hypervisor's, or the transport's. */
static long call(xencall_handle *h, unsigned op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		 uint64_t a5)
{
	struct sv_ctl_hypercall req = { .op = op, .arg = { a1, a2, a3, a4, a5 } };
	struct sv_ctl_hypercall_ret rep = { 0 };
	uint32_t len = 0;
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = own_connection(h);
	if (!ret)
		ret = svctl_call(h->ctl, SV_CTL_XEN_HYPERCALL, &req, sizeof(req), &rep, sizeof(rep),
				 &len, NULL);
	pthread_mutex_unlock(&h->lock);
	if (ret)
		return ret;
	if (len != sizeof(rep))
		return -EIO;
	return (long)rep.ret;
}

/* Xen's convention: -1 with errno on failure, else the hypervisor's value. */
static long result(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

int xencall0(xencall_handle *h, unsigned int op)
{
	return (int)result(call(h, op, 0, 0, 0, 0, 0));
}

int xencall1(xencall_handle *h, unsigned int op, uint64_t a1)
{
	return (int)result(call(h, op, a1, 0, 0, 0, 0));
}

int xencall2(xencall_handle *h, unsigned int op, uint64_t a1, uint64_t a2)
{
	return (int)result(call(h, op, a1, a2, 0, 0, 0));
}

long xencall2L(xencall_handle *h, unsigned int op, uint64_t a1, uint64_t a2)
{
	return result(call(h, op, a1, a2, 0, 0, 0));
}

int xencall3(xencall_handle *h, unsigned int op, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return (int)result(call(h, op, a1, a2, a3, 0, 0));
}

int xencall4(xencall_handle *h, unsigned int op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	return (int)result(call(h, op, a1, a2, a3, a4, 0));
}

int xencall5(xencall_handle *h, unsigned int op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
	     uint64_t a5)
{
	return (int)result(call(h, op, a1, a2, a3, a4, a5));
}

/* Zeroed pages; NULL with errno (EINVAL for 0 or an absurd count). */
void *xencall_alloc_buffer_pages(xencall_handle *h, size_t nr_pages)
{
	void *p;

	if (!nr_pages || nr_pages > (SIZE_MAX >> SVXEN_PAGE_SHIFT) / 2)
		return errno = EINVAL, NULL;
	p = mmap(NULL, nr_pages << SVXEN_PAGE_SHIFT, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void xencall_free_buffer_pages(xencall_handle *h, void *p, size_t nr_pages)
{
	if (p && nr_pages)
		munmap(p, nr_pages << SVXEN_PAGE_SHIFT);
}

/*
 * A buffer of any size: whole pages, the first 16 bytes of which record
 * how many (the caller gets the address after them).
 */
#define BUF_HDR 16
void *xencall_alloc_buffer(xencall_handle *h, size_t size)
{
	size_t pages;
	uint8_t *p;

	if (size > SIZE_MAX / 2)
		return errno = ENOMEM, NULL;
	pages = (size + BUF_HDR + SVXEN_PAGE_SIZE - 1) >> SVXEN_PAGE_SHIFT;
	p = xencall_alloc_buffer_pages(h, pages);
	if (!p)
		return NULL;
	memcpy(p, &pages, sizeof(pages));
	return p + BUF_HDR;
}

void xencall_free_buffer(xencall_handle *h, void *buf)
{
	uint8_t *p = buf;
	size_t pages;

	if (!p)
		return;
	p -= BUF_HDR;
	memcpy(&pages, p, sizeof(pages));
	xencall_free_buffer_pages(h, p, pages);
}

int xencall_buffers_never_fault(xencall_handle *h)
{
	return 1;
}
