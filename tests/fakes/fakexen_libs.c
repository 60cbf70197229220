// SPDX-License-Identifier: MIT
/* The fake hypervisor's in-process front door: dom0's Xen libraries (grants, event channels,
 * foreign maps) over fakexen_core.c.  See fakexen_libs.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xen/grant_table.h>
#include "fakexen_core.h"
#include "fakexen_libs.h"

struct fx_grant fx_grants[FX_NR_GREFS];
uint8_t *fx_guest;
int fx_live_maps;
int fx_peak_maps;
int fx_notifies;
void *fx_fmem_page;
bool fx_fmem_fails;
int fx_fmem_maps, fx_fmem_unmaps, fx_binds, fx_unbinds;
int fx_pending_port = -1;

/*
 * The fake hypervisor under this door (fakexen_core.c) and the one client
 * it has: these libraries, whatever handle the backend passes.  Grant maps
 * go through it (validity, read-only refs, map counts); so do event channel
 * binds, unbinds, notifies and unmasks.  What the guest would send is the
 * suite's to say: fx_pending_port.
 */
static struct fakexen *fx;
static struct fakexen_owner fx_owner;
static unsigned fx_pages;

/* A mapping of count refs: the handles xengnttab_unmap gives back. */
struct fx_map {
	void *base;
	uint32_t count;
	uint32_t *handles;
	struct fx_map *next;
};
static struct fx_map *fx_maps_held;

/* The core, made once: dom0 may hold a map of every ref of every ring at once. */
static struct fakexen *fx_core(void)
{
	if (!fx) {
		fx = fakexen_new(&(struct fakexen_params){ .domid = FX_DOMID,
							   .pages = 0,
							   .nr_grefs = FX_NR_GREFS,
							   .nr_ports = 1024,
							   .nr_handles = 1u << 16,
							   .any_peer_domain = true });
		if (!fx) {
			perror("fakexen: core");
			abort();
		}
	}
	return fx;
}

void fx_guest_init(unsigned pages)
{
	int fd = fakexen_memfd(fx_core());

	/* The old guest's ports and grant maps go; a map still held is only forgotten. */
	fakexen_release(fx, &fx_owner);
	while (fx_maps_held) {
		struct fx_map *m = fx_maps_held;

		fx_maps_held = m->next;
		free(m->handles);
		free(m);
	}
	if (fx_guest)
		munmap(fx_guest, fx_pages * 4096ul);
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, pages * 4096l) < 0) {
		perror("fakexen: guest memory");
		abort();
	}
	fx_guest = mmap(NULL, pages * 4096ul, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fx_guest == MAP_FAILED) {
		perror("fakexen: mmap");
		abort();
	}
	fx_pages = pages;
	memset(fx_grants, 0, sizeof(fx_grants));
	fakexen_grants_clear(fx);
	for (unsigned i = 0; i < pages && i < FX_NR_GREFS; i++)
		fx_grant(i, i, false);
	fx_live_maps = 0;
	fx_peak_maps = 0;
	fx_notifies = 0;
}

int fx_guest_port(void)
{
	struct sv_ctl_evtchn_bind b = { .remote_dom = FX_DOMID, .remote_port = 1 };
	int port = fakexen_evtchn_bind(fx_core(), &fx_owner, SV_CTL_EVTCHN_BIND_INTERDOMAIN, &b, 0);

	if (port < 0) {
		fprintf(stderr, "fakexen: guest port: %s\n", strerror(-port));
		abort();
	}
	return port;
}

void fx_grant(uint32_t ref, unsigned page, bool readonly)
{
	fx_grants[ref].valid = true;
	fx_grants[ref].readonly = readonly;
	fx_grants[ref].page = page;
	fakexen_grant(fx_core(), ref, page, readonly);
}

/* Gives back the first n handles of m (the maps the core made for it). */
static void fx_put_handles(const uint32_t *handles, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		fakexen_gnt_unmap(fx, &fx_owner, handles[i]);
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count, uint32_t domid,
				      uint32_t *refs, int prot)
{
	struct fx_map *m;
	char *base;

	if (domid != FX_DOMID || !count) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m || !(m->handles = calloc(count, sizeof(*m->handles)))) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t off;

		if (fakexen_gnt_map(fx_core(), &fx_owner, domid, refs[i], !(prot & PROT_WRITE),
				    &m->handles[i], &off) != GNTST_okay) {
			fx_put_handles(m->handles, i);
			free(m->handles);
			free(m);
			errno = EPERM;
			return NULL;
		}
	}
	base = mmap(NULL, count * 4096ul, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (uint32_t i = 0; base != MAP_FAILED && i < count; i++) {
		if (mmap(base + i * 4096ul, 4096, prot, MAP_SHARED | MAP_FIXED, fakexen_memfd(fx),
			 fx_grants[refs[i]].page * 4096l) == MAP_FAILED) {
			int e = errno;
			munmap(base, count * 4096ul);
			errno = e;
			base = MAP_FAILED;
		}
	}
	if (base == MAP_FAILED) {
		fx_put_handles(m->handles, count);
		free(m->handles);
		free(m);
		return NULL;
	}
	m->base = base;
	m->count = count;
	m->next = fx_maps_held;
	fx_maps_held = m;
	fx_live_maps = (int)fakexen_live_handles(fx);
	if (fx_live_maps > fx_peak_maps)
		fx_peak_maps = fx_live_maps;
	return base;
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	struct fx_map **pm = &fx_maps_held, *m;

	while (*pm && (*pm)->base != start_address)
		pm = &(*pm)->next;
	m = *pm;
	if (!m) /* a map of a guest fx_guest_init replaced: its handles went with it */
		return munmap(start_address, count * 4096ul);
	if (m->count != count) {
		errno = EINVAL;
		return -1;
	}
	*pm = m->next;
	fx_put_handles(m->handles, count);
	fx_live_maps = (int)fakexen_live_handles(fx);
	free(m->handles);
	free(m);
	return munmap(start_address, count * 4096ul);
}

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot, size_t pages,
			   const xen_pfn_t arr[], int err[])
{
	if (fx_fmem_fails) {
		errno = ESRCH;
		return NULL;
	}
	fx_fmem_maps++;
	err[0] = 0;
	return fx_fmem_page;
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
	fx_fmem_unmaps++;
	return 0;
}

/* A guest's port binds to local port 40 + its domid where that is free, so a suite can name it. */
xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     evtchn_port_t remote_port)
{
	struct sv_ctl_evtchn_bind b = { .remote_dom = domid, .remote_port = remote_port };
	int port = fakexen_evtchn_bind(fx_core(), &fx_owner, SV_CTL_EVTCHN_BIND_INTERDOMAIN, &b,
				       40 + domid);

	if (port < 0) {
		errno = -port;
		return -1;
	}
	fx_binds++;
	return port;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	int ret = fakexen_evtchn_unbind(fx_core(), &fx_owner, port);

	fx_unbinds++;
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	int ret = fakexen_evtchn_notify(fx_core(), &fx_owner, port);

	fx_notifies++;
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	int p = fx_pending_port;

	fx_pending_port = -1;
	if (p < 0)
		errno = EAGAIN;
	return p;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	int ret = fakexen_evtchn_unmask(fx_core(), &fx_owner, port);

	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}
