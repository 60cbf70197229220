// SPDX-License-Identifier: MIT
// LD_PRELOAD shim that lets Debian's C xenstored (xen-utils-4.17) run without Xen, for
// bench/xenstore.sh.
//
// C xenstored insists on a hypervisor at start: it opens libxenctrl,
// libxenevtchn and libxengnttab, asks about dom0 and maps dom0's xenstore
// page from /proc/xen/xsd_kva with its event channel from
// /proc/xen/xsd_port. This shim answers all of that with fakes: handles
// that do nothing, an event channel fd that never fires, dom0 as the only
// domain, and an anonymous page for dom0's ring (nobody writes to it, so
// all its requests come over the UNIX socket, which is what we measure).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#define FAKE_XSD_KVA "/proc/xen/xsd_kva"
#define FAKE_XSD_PORT "/proc/xen/xsd_port"

struct fake_evtchn {
	int fd; /* an eventfd nobody signals */
};

static int fake_handle; /* xc and gnttab handles point here */

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				unsigned int open_flags)
{
	return (xc_interface *)&fake_handle;
}

int xc_interface_close(xc_interface *xch)
{
	return 0;
}

/* Dom0 exists and runs; no other domain does. */
int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
		      xc_dominfo_t *info)
{
	if (first_domid != 0 || max_doms == 0)
		return 0;
	memset(info, 0, sizeof(*info));
	info->running = 1;
	return 1;
}

static xenevtchn_handle *fake_evtchn_new(int fd)
{
	struct fake_evtchn *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->fd = fd >= 0 ? fd : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->fd < 0) {
		free(e);
		return NULL;
	}
	return (xenevtchn_handle *)e;
}

xenevtchn_handle *xenevtchn_open(xentoollog_logger *logger, unsigned int flags)
{
	return fake_evtchn_new(-1);
}

xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd, unsigned int flags)
{
	return fake_evtchn_new(-1);
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	struct fake_evtchn *e = (struct fake_evtchn *)xce;

	if (e) {
		close(e->fd);
		free(e);
	}
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return ((struct fake_evtchn *)xce)->fd;
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	return 1;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     evtchn_port_t remote_port)
{
	static int next = 2;

	return next++;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	errno = EAGAIN;
	return -1;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

xengnttab_handle *xengnttab_open(xentoollog_logger *logger, unsigned int flags)
{
	return (xengnttab_handle *)&fake_handle;
}

int xengnttab_close(xengnttab_handle *xgt)
{
	return 0;
}

int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	return 0;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	return munmap(start_address, 4096UL * count);
}

/* A memory file holding @data: what dom0's /proc/xen files would read. */
static int fake_file(const char *data, size_t len, size_t size)
{
	int fd = memfd_create("fakexen", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) || (len && pwrite(fd, data, len, 0) != (ssize_t)len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Returns a fake fd for the /proc/xen files, -2 for any other path. */
static int fake_open(const char *path)
{
	if (!strcmp(path, FAKE_XSD_KVA))
		return fake_file(NULL, 0, 4096);
	if (!strcmp(path, FAKE_XSD_PORT))
		return fake_file("1", 1, 1);
	return -2;
}

static int fake_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	int fd = fake_open(path), mode;
	va_list ap;

	if (fd != -2)
		return fd;
	va_start(ap, flags);
	mode = fake_mode(flags, ap);
	va_end(ap);
	if (!real)
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	return real(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	int fd = fake_open(path), mode;
	va_list ap;

	if (fd != -2)
		return fd;
	va_start(ap, flags);
	mode = fake_mode(flags, ap);
	va_end(ap);
	if (!real)
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	return real(path, flags, mode);
}
