// SPDX-License-Identifier: MIT
/* libxenforeignmemory (Xen's xenforeignmemory.h API): dom0 maps any guest frame, like privcmd. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <xenforeignmemory.h>
#include "svxen.h"

/*
 * A domain's RAM is a memfd the hypervisor hands out (DOMAIN_MEMORY); a
 * gfn is translated to a memfd offset through the domain's RAM ranges (for
 * a PV guest gfn = mfn = its guest-physical frame) and mapped directly.
 * Frames outside the RAM ranges fail with -EINVAL in err[] and stay
 * inaccessible (PROT_NONE) in the returned range.
 *
 * Thread safety: `lock` covers the socket and the memfd cache; any call may
 * come from any thread.
 */
struct xenforeignmemory_handle {
	struct svctl *ctl;
	pthread_mutex_t lock;
	struct xentoollog_logger *logger;
	struct svxen_dommem_cache mem;
};

static const char ctx[] = "xenforeignmemory";

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
					       unsigned open_flags)
{
	xenforeignmemory_handle *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return NULL;
	h->logger = logger;
	ret = svxen_handle_init(logger, ctx, &h->lock, &h->ctl);
	if (ret) {
		free(h);
		errno = -ret;
		return NULL;
	}
	return h;
}

/* Mappings outlive the handle (they are plain memfd mappings); close drops the memfds. */
int xenforeignmemory_close(xenforeignmemory_handle *h)
{
	if (!h)
		return 0;
	svctl_close(h->ctl);
	svxen_dommem_clear(&h->mem);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return 0;
}

/*
 * DOMID_XEN's frames: the machine-to-phys table libxc's save and restore
 * map (XENMEM_machphys_mfn_list names its extents).  Every domain here has
 * gfn == mfn, so the table is the identity: frame F holds the entries of
 * machine frames F * 512 .. F * 512 + 511.  Read-only, as Xen gives it;
 * frames past the 40-bit machine frame space are -EINVAL.
 */
#define M2P_PER_PAGE (SVXEN_PAGE_SIZE / sizeof(xen_pfn_t))
#define M2P_FRAMES ((1ULL << 40) / M2P_PER_PAGE)

static void *map_m2p(void *addr, int prot, int flags, size_t pages, const xen_pfn_t arr[],
		     int err[])
{
	size_t len = pages << SVXEN_PAGE_SHIFT;
	int first_err = 0;
	char *base;

	if (prot & PROT_WRITE)
		return errno = EPERM, NULL;
	base = mmap(addr, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)), -1,
		    0);
	if (base == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < pages; i++) {
		xen_pfn_t *t = (xen_pfn_t *)(base + (i << SVXEN_PAGE_SHIFT));
		if (arr[i] >= M2P_FRAMES) {
			if (err)
				err[i] = -EINVAL;
			first_err = EINVAL;
			continue;
		}
		for (size_t k = 0; k < M2P_PER_PAGE; k++)
			t[k] = arr[i] * M2P_PER_PAGE + k;
		if (err)
			err[i] = 0;
	}
	if (first_err && !err) {
		munmap(base, len);
		return errno = first_err, NULL;
	}
	mprotect(base, len, prot & PROT_READ ? PROT_READ : PROT_NONE);
	return base;
}

void *xenforeignmemory_map2(xenforeignmemory_handle *h, uint32_t dom, void *addr, int prot,
			    int flags, size_t pages, const xen_pfn_t arr[], int err[])
{
	struct svxen_dommem *m;
	size_t len, i = 0;
	void *base;
	int ret, first_err = 0;

	if (!pages || pages > (SIZE_MAX >> SVXEN_PAGE_SHIFT) / 2)
		return errno = EINVAL, NULL;
	if (dom == DOMID_XEN)
		return map_m2p(addr, prot, flags, pages, arr, err);
	len = pages << SVXEN_PAGE_SHIFT;
	pthread_mutex_lock(&h->lock);
	ret = svxen_dommem_get(&h->mem, h->ctl, dom, &m);
	if (ret) {
		pthread_mutex_unlock(&h->lock);
		return errno = -ret, NULL;
	}
	/* Reserve the whole range first; frames are mapped over it, failures stay PROT_NONE. */
	base = mmap(addr, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)),
		    -1, 0);
	if (base == MAP_FAILED) {
		ret = errno;
		svxen_dommem_trim_unused(&h->mem);
		pthread_mutex_unlock(&h->lock);
		return errno = ret, NULL;
	}
	while (i < pages) {
		uint64_t off, next;
		size_t j = i + 1;

		if (!svxen_dommem_gfn_offset(m, arr[i], &off)) {
			if (err)
				err[i] = -EINVAL;
			first_err = first_err ? first_err : EINVAL;
			i++;
			continue;
		}
		/* One mmap for each run of frames adjacent in the memfd. */
		while (j < pages && svxen_dommem_gfn_offset(m, arr[j], &next) &&
		       next == off + ((uint64_t)(j - i) << SVXEN_PAGE_SHIFT))
			j++;
		if (mmap((char *)base + (i << SVXEN_PAGE_SHIFT), (j - i) << SVXEN_PAGE_SHIFT,
			 prot & (PROT_READ | PROT_WRITE), MAP_SHARED | MAP_FIXED, m->memfd,
			 (off_t)off) == MAP_FAILED) {
			int e = errno;

			for (size_t k = i; k < j; k++)
				if (err)
					err[k] = -e;
			first_err = first_err ? first_err : e;
		} else if (err) {
			for (size_t k = i; k < j; k++)
				err[k] = 0;
		}
		i = j;
	}
	/* The mappings keep the memory; the memfd is not kept (see svxen.h). */
	svxen_dommem_trim_unused(&h->mem);
	pthread_mutex_unlock(&h->lock);
	/* Without err[], any failed frame fails the whole call. */
	if (first_err && !err) {
		munmap(base, len);
		return errno = first_err, NULL;
	}
	return base;
}

void *xenforeignmemory_map(xenforeignmemory_handle *h, uint32_t dom, int prot, size_t pages,
			   const xen_pfn_t arr[], int err[])
{
	return xenforeignmemory_map2(h, dom, NULL, prot, 0, pages, arr, err);
}

int xenforeignmemory_unmap(xenforeignmemory_handle *h, void *addr, size_t pages)
{
	if (!pages || pages > (SIZE_MAX >> SVXEN_PAGE_SHIFT))
		return svxen_fail(-EINVAL);
	if (munmap(addr, pages << SVXEN_PAGE_SHIFT))
		return -1;
	return 0;
}

int xenforeignmemory_restrict(xenforeignmemory_handle *h, domid_t domid)
{
	return svxen_fail(-EOPNOTSUPP);
}

/* Resources (ioreq pages, grant table frames) are not offered: callers fall back on EOPNOTSUPP. */
xenforeignmemory_resource_handle *
xenforeignmemory_map_resource(xenforeignmemory_handle *h, domid_t domid, unsigned int type,
			      unsigned int id, unsigned long frame, unsigned long nr_frames,
			      void **paddr, int prot, int flags)
{
	errno = EOPNOTSUPP;
	return NULL;
}

int xenforeignmemory_unmap_resource(xenforeignmemory_handle *h,
				    xenforeignmemory_resource_handle *fres)
{
	return fres ? svxen_fail(-EINVAL) : 0;
}

int xenforeignmemory_resource_size(xenforeignmemory_handle *h, domid_t domid, unsigned int type,
				   unsigned int id, size_t *size)
{
	return svxen_fail(-EOPNOTSUPP);
}
