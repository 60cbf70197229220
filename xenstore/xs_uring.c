// SPDX-License-Identifier: MIT
// The io_uring event loop for socket clients: every pass's replies, the next receives and the
// wait in one system call, with its completion queue in memory the fd keeper holds.
//
// Each socket connection has at most one receive (into the free part of its in[] buffer) and one
// send (of committed replies from out[]) in flight. A pass submits the sends the journal allowed,
// re-arms the receives and waits, all in one io_uring_enter; listeners, signals, event channels
// and guest rings stay in the epoll set, whose fd the ring polls.
//
// A kill must not lose a received request or send a reply twice. recvmmsg/sendmmsg leave their
// byte count in the connection's shared buffers; here the count is in the completion, so the
// rings themselves live in a memfd the keeper holds (IORING_SETUP_NO_MMAP): the next daemon reads
// the completions the dead one had not reaped and gives each interrupted call its count
// (xs_uring_recover). A completion is applied to the buffers before the completion queue's head
// moves past it, and a connection's next call is armed only after that.
#include <errno.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "xs_uring.h"

/* Newer than the installed uapi header; the kernel has them since 6.5/6.6. */
#ifndef IORING_SETUP_NO_MMAP
#define IORING_SETUP_NO_MMAP (1U << 14)
#endif
#ifndef IORING_SETUP_NO_SQARRAY
#define IORING_SETUP_NO_SQARRAY (1U << 16)
#endif

#define XU_MAGIC 0x31474e4952555358ULL /* "XSURING1" */
#define XU_SQ 512u
#define XU_CQ 4096u
/* Each connection has at most two requests (receive, send) in flight. */
#define XU_MAX_CONNS ((XU_CQ - 16) / 2)
#define XU_PAGE 4096u
#define XU_RINGS_LEN (XU_PAGE + XU_CQ * sizeof(struct io_uring_cqe))
#define XU_SQES_LEN (XU_SQ * sizeof(struct io_uring_sqe))
#define XU_LEN (XU_PAGE + XU_RINGS_LEN + XU_SQES_LEN)

/* user_data: connection key << 23 | slot << 3 | operation. */
enum { XU_OP_RECV = 1, XU_OP_SEND = 2, XU_OP_EPOLL = 3, XU_OP_POLLOUT = 4 };
#define XU_UD(key, slot, op) (((uint64_t)(key) << 23) | ((uint64_t)(slot) << 3) | (op))
#define XU_UD_KEY(ud) ((ud) >> 23)
#define XU_UD_SLOT(ud) ((uint32_t)((ud) >> 3) & 0xfffffu)
#define XU_UD_OP(ud) ((unsigned int)(ud)&7u)

/* Page 0 of the memfd: where the next daemon finds the completion queue. */
struct xu_hdr {
	uint64_t magic;
	uint32_t cq_entries, cq_head, cq_tail, cq_mask, cq_cqes; /* offsets in the rings region */
	uint32_t rings_off;					 /* of the rings region */
};

struct xs_uring {
	int fd, memfd;
	uint8_t *mem;
	uint8_t *rings;
	struct io_uring_sqe *sqes;
	uint32_t *sq_head, *sq_tail, *cq_head, *cq_tail;
	uint32_t sq_mask, cq_mask, sq_entries;
	struct io_uring_cqe *cqes;
	uint32_t sq_local; /* our tail, published at submit */
	uint32_t nsends;   /* sends queued since the last submit */
	int epfd;
	bool epoll_armed;
	struct xs_conn **slots; /* XU_MAX_CONNS */
	uint32_t nfree, *free_slots;
	struct xs_conn **ready; /* connections with completions this pass */
};

static int xu_enter(int fd, unsigned int submit, unsigned int wait, unsigned int flags, void *arg,
		    size_t argsz)
{
	long r = syscall(__NR_io_uring_enter, fd, submit, wait, flags, arg, argsz);

	return r < 0 ? -errno : (int)r;
}

static void xu_free(struct xs_uring *u)
{
	if (u->fd >= 0)
		close(u->fd);
	if (u->mem)
		munmap(u->mem, XU_LEN);
	if (u->memfd >= 0)
		close(u->memfd);
	free(u->slots);
	free(u->free_slots);
	free(u->ready);
	free(u);
}

int xs_uring_open(struct xs_daemon *d, const char **why)
{
	const char *env = getenv("XENSTORED_IO_URING");
	struct io_uring_params p;
	struct xs_uring *u;
	struct xu_hdr *h;
	uint32_t i;

	*why = NULL;
	if (env && strcmp(env, "0") == 0) {
		*why = "XENSTORED_IO_URING=0";
		return -EPERM;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = u->memfd = -1;
	u->epfd = d->epfd;
	u->slots = calloc(XU_MAX_CONNS, sizeof(*u->slots));
	u->free_slots = calloc(XU_MAX_CONNS, sizeof(*u->free_slots));
	u->ready = calloc(XU_CQ, sizeof(*u->ready));
	u->memfd = memfd_create("xenstored-uring", MFD_CLOEXEC);
	if (!u->slots || !u->free_slots || !u->ready || u->memfd < 0 ||
	    ftruncate(u->memfd, XU_LEN)) {
		*why = "no memory for the ring";
		goto fail;
	}
	u->mem = mmap(NULL, XU_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, u->memfd, 0);
	if (u->mem == MAP_FAILED) {
		u->mem = NULL;
		*why = "cannot map the ring memory";
		goto fail;
	}
	u->rings = u->mem + XU_PAGE;
	u->sqes = (struct io_uring_sqe *)(u->rings + XU_RINGS_LEN);
	memset(&p, 0, sizeof(p));
	/*
	 * Our memory (it outlives a kill), no SQ index array, completions
	 * run only inside our own io_uring_enter.
	 */
	p.flags = IORING_SETUP_NO_MMAP | IORING_SETUP_NO_SQARRAY | IORING_SETUP_SINGLE_ISSUER |
		  IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
	p.cq_entries = XU_CQ;
	p.cq_off.resv2 = (uint64_t)(uintptr_t)u->rings; /* user_addr */
	p.sq_off.resv2 = (uint64_t)(uintptr_t)u->sqes;
	u->fd = (int)syscall(__NR_io_uring_setup, XU_SQ, &p);
	if (u->fd < 0) {
		*why = strerror(errno);
		goto fail;
	}
	if (p.sq_entries > XU_SQ || p.cq_entries != XU_CQ ||
	    p.cq_off.cqes + XU_CQ * 16 > XU_RINGS_LEN) {
		*why = "unexpected ring geometry";
		goto fail;
	}
	u->sq_head = (uint32_t *)(u->rings + p.sq_off.head);
	u->sq_tail = (uint32_t *)(u->rings + p.sq_off.tail);
	u->sq_mask = *(uint32_t *)(u->rings + p.sq_off.ring_mask);
	u->sq_entries = p.sq_entries;
	u->cq_head = (uint32_t *)(u->rings + p.cq_off.head);
	u->cq_tail = (uint32_t *)(u->rings + p.cq_off.tail);
	u->cq_mask = *(uint32_t *)(u->rings + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(u->rings + p.cq_off.cqes);
	u->sq_local = *u->sq_tail;
	h = (struct xu_hdr *)u->mem;
	*h = (struct xu_hdr){ .cq_entries = p.cq_entries,
			      .cq_head = p.cq_off.head,
			      .cq_tail = p.cq_off.tail,
			      .cq_mask = p.cq_off.ring_mask,
			      .cq_cqes = p.cq_off.cqes,
			      .rings_off = XU_PAGE };
	xs_cbuf_order();
	h->magic = XU_MAGIC;
	for (i = 0; i < XU_MAX_CONNS; i++)
		u->free_slots[i] = XU_MAX_CONNS - 1 - i;
	u->nfree = XU_MAX_CONNS;
	d->uring = u;
	return 0;

fail:
	xu_free(u);
	return -EIO;
}

void xs_uring_close(struct xs_daemon *d)
{
	if (!d->uring)
		return;
	xu_free(d->uring);
	d->uring = NULL;
}

int xs_uring_memfd(const struct xs_daemon *d)
{
	return d->uring ? d->uring->memfd : -1;
}

/* Hands every queued entry to the kernel; with @wait, waits too. */
static int xu_submit(struct xs_uring *u, unsigned int wait, void *arg, size_t argsz)
{
	unsigned int n = u->sq_local - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
	unsigned int flags = wait ? IORING_ENTER_GETEVENTS : 0;

	if (!n && !wait)
		return 0;
	__atomic_store_n(u->sq_tail, u->sq_local, __ATOMIC_RELEASE);
	if (arg)
		flags |= IORING_ENTER_EXT_ARG;
	return xu_enter(u->fd, n, wait, flags, arg, argsz);
}

static struct io_uring_sqe *xu_sqe(struct xs_uring *u)
{
	struct io_uring_sqe *s;

	if (u->sq_local - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE) >= u->sq_entries) {
		/* Full: the kernel takes these now (each completes or waits alone). */
		xu_submit(u, 0, NULL, 0);
		if (u->sq_local - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE) >= u->sq_entries)
			return NULL;
	}
	s = &u->sqes[u->sq_local & u->sq_mask];
	memset(s, 0, sizeof(*s));
	u->sq_local++;
	return s;
}

bool xs_uring_attach(struct xs_conn *c)
{
	struct xs_uring *u = c->d->uring;

	/* Without shared buffers a crash loses the connection anyway; fine. */
	if (!u || c->fd < 0 || !u->nfree)
		return false;
	c->ur_slot = u->free_slots[--u->nfree];
	u->slots[c->ur_slot] = c;
	c->uring = true;
	return true;
}

void xs_uring_detach(struct xs_conn *c)
{
	struct xs_uring *u = c->d->uring;
	struct io_uring_sync_cancel_reg reg;

	if (!c->uring || !u)
		return;
	if (c->ur_recv || c->ur_send || c->ur_pollout) {
		/* Queued entries first, so the cancel finds them in the kernel. */
		xu_submit(u, 0, NULL, 0);
		memset(&reg, 0, sizeof(reg));
		reg.fd = c->fd;
		reg.flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
		reg.timeout.tv_sec = -1;
		reg.timeout.tv_nsec = -1;
		/* Returns once none is in flight: the buffers may go. */
		syscall(__NR_io_uring_register, u->fd, IORING_REGISTER_SYNC_CANCEL, &reg, 1);
	}
	/* Their completions (if not yet reaped) no longer find the connection. */
	u->slots[c->ur_slot] = NULL;
	u->free_slots[u->nfree++] = c->ur_slot;
	c->uring = c->ur_recv = c->ur_send = c->ur_pollout = false;
}

void xs_uring_send(struct xs_conn *c, uint64_t limit)
{
	struct xs_uring *u = c->d->uring;
	struct xs_cbuf_hdr *h = c->cb.h;
	struct xs_cbuf_io *io = &h->io_out;
	struct io_uring_sqe *s;
	struct iovec iov[2];
	size_t want;
	int niov;

	/* A socket that refused output is retried once it polls writable. */
	if (c->ur_send || c->out_blocked || c->dead || h->out_sent >= limit)
		return;
	niov = xs_cbuf_out_data(&c->cb, iov);
	want = (size_t)(limit - h->out_sent);
	if (iov[0].iov_len >= want) {
		iov[0].iov_len = want;
		niov = 1;
	} else if (niov > 1) {
		iov[1].iov_len = want - iov[0].iov_len;
	}
	s = xu_sqe(u);
	if (!s)
		return; /* the next pass tries again */
	memcpy(c->ur_iov[1], iov, sizeof(iov));
	memset(&c->ur_msg[1], 0, sizeof(c->ur_msg[1]));
	c->ur_msg[1].msg_iov = c->ur_iov[1];
	c->ur_msg[1].msg_iovlen = (size_t)niov;
	memset(&io->mh, 0, sizeof(io->mh));
	io->from = h->out_sent;
	xs_cbuf_order();
	io->pending = 1;
	xs_cbuf_order();
	s->opcode = IORING_OP_SENDMSG;
	s->fd = c->fd;
	s->addr = (uint64_t)(uintptr_t)&c->ur_msg[1];
	s->len = 1;
	/* Never waits in the kernel: it completes within this pass's submit. */
	s->msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT;
	s->user_data = XU_UD(c->key, c->ur_slot, XU_OP_SEND);
	c->ur_want = want;
	c->ur_send = true;
	u->nsends++;
}

/* A receive into the free part of in[], unless throttled or full. */
static void xu_arm_recv(struct xs_uring *u, struct xs_conn *c)
{
	struct xs_cbuf_hdr *h = c->cb.h;
	struct xs_cbuf_io *io = &h->io_in;
	struct io_uring_sqe *s;
	struct iovec iov[2];
	int niov;

	if (c->ur_recv || c->dead || c->throttled)
		return;
	/* Nothing of ours is in flight into the buffers: they may move. */
	if (!c->ur_send)
		xs_cbuf_rebase(&c->cb);
	niov = xs_cbuf_in_space(&c->cb, iov);
	if (!niov)
		return; /* uncommitted requests fill it: after the journal */
	s = xu_sqe(u);
	if (!s)
		return;
	memcpy(c->ur_iov[0], iov, sizeof(iov));
	memset(&c->ur_msg[0], 0, sizeof(c->ur_msg[0]));
	c->ur_msg[0].msg_iov = c->ur_iov[0];
	c->ur_msg[0].msg_iovlen = (size_t)niov;
	memset(&io->mh, 0, sizeof(io->mh));
	io->from = h->in_tail;
	xs_cbuf_order();
	io->pending = 1;
	xs_cbuf_order();
	s->opcode = IORING_OP_RECVMSG;
	s->fd = c->fd;
	s->addr = (uint64_t)(uintptr_t)&c->ur_msg[0];
	s->len = 1;
	s->user_data = XU_UD(c->key, c->ur_slot, XU_OP_RECV);
	c->ur_recv = true;
}

/* Applies one completion to the connection's buffers, as recvmm/sendmm would. */
static bool xu_complete(struct xs_conn *c, unsigned int op, int res)
{
	struct xs_cbuf_hdr *h = c->cb.h;
	struct xs_cbuf_io *io = op == XU_OP_RECV ? &h->io_in : &h->io_out;

	if (op == XU_OP_POLLOUT) {
		c->ur_pollout = false;
		c->out_blocked = false; /* writable (or failed: the send will say) */
		return true;
	}
	if (op == XU_OP_RECV)
		c->ur_recv = false;
	else
		c->ur_send = false;
	if (res > 0) {
		io->mh.msg_len = (unsigned int)res;
		xs_cbuf_order();
		if (op == XU_OP_RECV)
			h->in_tail = io->from + (uint64_t)res;
		else
			h->out_sent = io->from + (uint64_t)res;
	}
	xs_cbuf_order();
	io->pending = 0;
	if (op == XU_OP_RECV) {
		if (res == 0 || res == -ECONNRESET)
			c->ur_eof = "";
		else if (res < 0 && res != -EAGAIN && res != -EINTR && res != -ECANCELED)
			c->ur_eof = "read error";
		return true;
	}
	/* Full socket: the rest waits for POLLOUT (xu_arm_all). */
	if (res == -EAGAIN || (res >= 0 && (size_t)res < c->ur_want))
		c->out_blocked = true;
	if (res == -EPIPE || res == -ECONNRESET)
		c->ur_eof = "";
	else if (res < 0 && res != -EAGAIN && res != -EINTR && res != -ECANCELED)
		c->ur_eof = "write error";
	if (!xs_conn_unsent(c)) {
		c->out_msgs = 0;
		c->want_out = false;
		c->events_dropped = false;
		c->quota_logged = false;
	}
	return true;
}

static void xu_arm_all(struct xs_daemon *d)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->conns)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);

		if (!c->uring)
			continue;
		xu_arm_recv(d->uring, c);
		if (c->out_blocked && !c->ur_pollout && !c->ur_send && !c->dead) {
			struct io_uring_sqe *s = xu_sqe(d->uring);

			if (!s)
				continue;
			s->opcode = IORING_OP_POLL_ADD;
			s->fd = c->fd;
			s->poll32_events = POLLOUT;
			s->user_data = XU_UD(c->key, c->ur_slot, XU_OP_POLLOUT);
			c->ur_pollout = true;
		}
	}
}

int xs_uring_submit(struct xs_daemon *d)
{
	xu_arm_all(d);
	d->uring->nsends = 0;
	return xu_submit(d->uring, 0, NULL, 0);
}

int xs_uring_wait(struct xs_daemon *d, bool *epoll_ready)
{
	struct xs_uring *u = d->uring;
	uint32_t head, tail, nready = 0, i;
	int ret;

	*epoll_ready = false;
	xu_arm_all(d);
	if (!u->epoll_armed && u->epfd >= 0) {
		struct io_uring_sqe *s = xu_sqe(u);

		if (s) {
			s->opcode = IORING_OP_POLL_ADD;
			s->fd = u->epfd;
			s->poll32_events = POLLIN;
			s->user_data = XU_OP_EPOLL;
			u->epoll_armed = true;
		}
	}
	/* Sends never wait (MSG_DONTWAIT): wait for one event beyond them. */
	ret = xu_submit(u, u->nsends + 1, NULL, 0);
	u->nsends = 0;
	if (ret < 0 && ret != -EINTR && ret != -ETIME && ret != -EAGAIN && ret != -EBUSY)
		return ret;

	head = *u->cq_head;
	tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
	for (i = head; i != tail; i++) {
		struct io_uring_cqe *e = &u->cqes[i & u->cq_mask];
		unsigned int op = XU_UD_OP(e->user_data);
		struct xs_conn *c;

		if (op == XU_OP_EPOLL) {
			u->epoll_armed = false;
			*epoll_ready = true;
			continue;
		}
		c = u->slots[XU_UD_SLOT(e->user_data)];
		if (!c || XU_UD_KEY(XU_UD(c->key, 0, 0)) != XU_UD_KEY(e->user_data) || !c->uring)
			continue; /* closed since: cancelled */
		xu_complete(c, op, e->res);
		if (!c->ur_ready) {
			c->ur_ready = true;
			u->ready[nready++] = c;
		}
	}
	/* Applied: the next daemon must not apply them again. */
	__atomic_store_n(u->cq_head, tail, __ATOMIC_RELEASE);

	for (i = 0; i < nready; i++) {
		struct xs_conn *c = u->ready[i];

		c->ur_ready = false;
		if (c->dead)
			continue;
		if (c->ur_eof) {
			xs_conn_kill(c, *c->ur_eof ? c->ur_eof : NULL);
			continue;
		}
		xs_conn_handle_input(c);
	}
	return 0;
}

unsigned int xs_uring_recover(struct xs_daemon *d, int memfd, const struct xs_kept_fd *kept,
			      unsigned int nkept)
{
	struct stat st;
	struct xu_hdr h;
	uint8_t *mem;
	uint32_t head, tail, i, j, applied = 0;

	if (fstat(memfd, &st) || (size_t)st.st_size < XU_PAGE)
		return 0;
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		return 0;
	memcpy(&h, mem, sizeof(h));
	if (h.magic != XU_MAGIC || !h.cq_entries || (h.cq_entries & (h.cq_entries - 1)) ||
	    (uint64_t)h.rings_off + h.cq_cqes + (uint64_t)h.cq_entries * 16 >
		(uint64_t)st.st_size ||
	    (uint64_t)h.rings_off + h.cq_head + 4 > (uint64_t)st.st_size ||
	    (uint64_t)h.rings_off + h.cq_tail + 4 > (uint64_t)st.st_size) {
		xs_log(d, "restart: ring memory unusable: unreaped completions ignored");
		munmap(mem, (size_t)st.st_size);
		return 0;
	}
	memcpy(&head, mem + h.rings_off + h.cq_head, 4);
	memcpy(&tail, mem + h.rings_off + h.cq_tail, 4);
	if (tail - head > h.cq_entries)
		head = tail; /* nonsense: apply nothing */
	for (i = head; i != tail; i++) {
		struct io_uring_cqe e;
		unsigned int op;

		memcpy(&e, mem + h.rings_off + h.cq_cqes + (size_t)(i & (h.cq_entries - 1)) * 16,
		       sizeof(e));
		op = XU_UD_OP(e.user_data);
		if (e.res <= 0 || (op != XU_OP_RECV && op != XU_OP_SEND))
			continue;
		for (j = 0; j < nkept; j++) {
			struct xs_cbuf_hdr *ch;
			struct xs_cbuf_io *io;

			if (kept[j].key != XU_UD_KEY(e.user_data) || kept[j].cbuf_fd < 0)
				continue;
			ch = mmap(NULL, sizeof(*ch), PROT_READ | PROT_WRITE, MAP_SHARED,
				  kept[j].cbuf_fd, 0);
			if (ch == MAP_FAILED)
				break;
			io = op == XU_OP_RECV ? &ch->io_in : &ch->io_out;
			/* Only the call still pending: an applied one was finished. */
			if (ch->magic == XS_CBUF_MAGIC && ch->key == kept[j].key && io->pending) {
				io->mh.msg_len = (unsigned int)e.res;
				applied++;
			}
			munmap(ch, sizeof(*ch));
			break;
		}
	}
	munmap(mem, (size_t)st.st_size);
	if (applied)
		xs_log(d, "restart: %u completions the crash left unreaped applied", applied);
	return applied;
}
