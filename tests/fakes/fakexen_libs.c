// SPDX-License-Identifier: MIT
/* The in-process fake of dom0's Xen libraries (grants, event channels, foreign maps): see
 * fakexen_libs.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
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
static int fx_fd = -1;
static unsigned fx_pages;

void fx_guest_init(unsigned pages)
{
	if (fx_fd >= 0) {
		munmap(fx_guest, fx_pages * 4096ul);
		close(fx_fd);
	}
	fx_fd = memfd_create("guest", MFD_CLOEXEC);
	if (fx_fd < 0 || ftruncate(fx_fd, pages * 4096l) < 0) {
		perror("fakexen: guest memory");
		abort();
	}
	fx_guest = mmap(NULL, pages * 4096ul, PROT_READ | PROT_WRITE, MAP_SHARED, fx_fd, 0);
	if (fx_guest == MAP_FAILED) {
		perror("fakexen: mmap");
		abort();
	}
	fx_pages = pages;
	memset(fx_grants, 0, sizeof(fx_grants));
	for (unsigned i = 0; i < pages && i < FX_NR_GREFS; i++)
		fx_grant(i, i, false);
	fx_live_maps = 0;
	fx_peak_maps = 0;
	fx_notifies = 0;
}

void fx_grant(uint32_t ref, unsigned page, bool readonly)
{
	fx_grants[ref].valid = true;
	fx_grants[ref].readonly = readonly;
	fx_grants[ref].page = page;
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count, uint32_t domid,
				      uint32_t *refs, int prot)
{
	char *base;

	if (domid != FX_DOMID || !count) {
		errno = EINVAL;
		return NULL;
	}
	for (uint32_t i = 0; i < count; i++) {
		if (refs[i] >= FX_NR_GREFS || !fx_grants[refs[i]].valid ||
		    ((prot & PROT_WRITE) && fx_grants[refs[i]].readonly)) {
			errno = EPERM;
			return NULL;
		}
	}
	base = mmap(NULL, count * 4096ul, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	for (uint32_t i = 0; i < count; i++) {
		if (mmap(base + i * 4096ul, 4096, prot, MAP_SHARED | MAP_FIXED, fx_fd,
			 fx_grants[refs[i]].page * 4096l) == MAP_FAILED) {
			int e = errno;
			munmap(base, count * 4096ul);
			errno = e;
			return NULL;
		}
	}
	fx_live_maps += (int)count;
	if (fx_live_maps > fx_peak_maps)
		fx_peak_maps = fx_live_maps;
	return base;
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	fx_live_maps -= (int)count;
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

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     evtchn_port_t remote_port)
{
	fx_binds++;
	return 40 + (int)domid;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	fx_unbinds++;
	return 0;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	fx_notifies++;
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
	return 0;
}
