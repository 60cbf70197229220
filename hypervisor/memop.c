// SPDX-License-Identifier: MIT
/* Reservations: XENMEM_{increase,decrease}_reservation and populate_physmap, and the domain's page
 * counts. */
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include "hv.h"
#include "mmu.h"

/*
 * A PV domain's frames never move: pseudo-physical frame N is the Nth
 * page of RAM in the memfd, and its machine frame is its guest-physical
 * frame (sv/pvabi.h), as the M2P says.  Ballooning does not change that
 * mapping; it takes frames out of the domain and puts them back:
 *
 * - decrease_reservation takes machine frames (a PV guest's gmfns), punches
 *   each out of the memfd (the host gets the memory back; the frame reads
 *   as zeros), marks it absent and sets its M2P entry to INVALID_M2P_ENTRY.
 * - populate_physmap takes pseudo-physical frames, brings each absent one
 *   back (zeroed) and writes its machine frame back, as Xen does for PV.
 * - increase_reservation picks absent frames itself and writes back their
 *   machine frames.
 *
 * Each extent is checked whole before anything changes: a bad extent ends
 * the batch there and the count done so far is the result, as in Xen.
 * Counts and the absent bitmap change under the domain's lock.
 */

#define MEMOP_EXTENT_SHIFT 6 /* Xen's: the cmd's bits above this are a continuation's start */
#define MEMOP_MAX_ORDER 9    /* Xen's default domU_max_order (2 MiB extents) */
#define INVALID_M2P_ENTRY (~0ULL)

/* The guest's address in a guest handle. */
static uint64_t handle_va(const struct xen_memory_reservation *r)
{
	return (uint64_t)(uintptr_t)r->extent_start.p;
}

static bool pfn_absent(const struct hv_mem *m, uint64_t pfn)
{
	return m->absent[pfn / 64] & (1ULL << (pfn % 64));
}

static void pfn_set_absent(struct hv_mem *m, uint64_t pfn, bool absent)
{
	uint64_t bit = 1ULL << (pfn % 64);

	if (absent)
		__atomic_fetch_or(&m->absent[pfn / 64], bit, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&m->absent[pfn / 64], ~bit, __ATOMIC_RELEASE);
}

/* Guest-physical address of RAM frame pfn (memfd order), or ~0 past the end. */
static uint64_t pfn_gpa(const struct hv_mem *m, uint64_t pfn)
{
	uint64_t off = pfn * PAGE_SIZE;

	for (unsigned i = 0; i < m->nr_ram; i++)
		if (off >= m->ram[i].offset && off - m->ram[i].offset < m->ram[i].size)
			return m->ram[i].gpa + (off - m->ram[i].offset);
	return ~0ULL;
}

/* The RAM frame of machine frame mfn, or false when it is not the domain's RAM. */
static bool mfn_pfn(const struct hv_mem *m, uint64_t mfn, uint64_t *pfn)
{
	if (mfn > (UINT64_MAX >> PAGE_SHIFT) || !mem_is_ram(m, mfn << PAGE_SHIFT, PAGE_SIZE))
		return false;
	*pfn = (uint64_t)mem_offset(m, mfn << PAGE_SHIFT) / PAGE_SIZE;
	return *pfn < m->nr_frames;
}

/* Give the frame's memory back to the host; it reads as zeros afterwards. */
static void frame_punch(struct hv_mem *m, uint64_t pfn)
{
	off_t off = (off_t)(pfn * PAGE_SIZE);

	if (fallocate(m->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, PAGE_SIZE))
		memset(m->base + off, 0, PAGE_SIZE); /* no hole punching here: zero it at least */
}

/* n frames from pfn on: all RAM, contiguous in machine frames too, all absent (or all present). */
static bool run_ok(const struct hv_mem *m, uint64_t pfn, uint64_t n, bool want_absent)
{
	uint64_t gpa0;

	if (pfn >= m->nr_frames || n > m->nr_frames - pfn)
		return false;
	gpa0 = pfn_gpa(m, pfn);
	for (uint64_t j = 0; j < n; j++)
		if (pfn_gpa(m, pfn + j) != gpa0 + j * PAGE_SIZE ||
		    pfn_absent(m, pfn + j) != want_absent)
			return false;
	return true;
}

static void run_remove(struct hv_domain *d, uint64_t pfn, uint64_t n)
{
	struct hv_mem *m = &d->mem;

	for (uint64_t j = 0; j < n; j++) {
		pfn_set_absent(m, pfn + j, true);
		pv_m2p_set(d, pfn_gpa(m, pfn + j), INVALID_M2P_ENTRY);
		frame_punch(m, pfn + j);
	}
	m->cur_pages -= n;
}

static void run_add(struct hv_domain *d, uint64_t pfn, uint64_t n)
{
	struct hv_mem *m = &d->mem;

	for (uint64_t j = 0; j < n; j++) {
		frame_punch(m, pfn + j); /* whatever a guest wrote to it while absent goes */
		pv_m2p_set(d, pfn_gpa(m, pfn + j), pfn + j);
		pfn_set_absent(m, pfn + j, false);
	}
	m->cur_pages += n;
}

int memop_domain_init(struct hv_domain *d, uint64_t boot_pages)
{
	struct hv_mem *m = &d->mem;

	if (!boot_pages || boot_pages > m->nr_frames)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	for (uint64_t pfn = boot_pages; pfn < m->nr_frames; pfn++) {
		pfn_set_absent(m, pfn, true);
		pv_m2p_set(d, pfn_gpa(m, pfn), INVALID_M2P_ENTRY);
	}
	m->cur_pages = m->boot_pages = boot_pages;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/*
 * A domain built by Xen's own tools (XEN_DOMCTL_createdomain): it starts
 * with no memory at all, as on Xen; dom0 populates it (memop_populate).
 */
void memop_domain_empty(struct hv_domain *d)
{
	struct hv_mem *m = &d->mem;

	pthread_mutex_lock(&d->lock);
	for (uint64_t pfn = 0; pfn < m->nr_frames; pfn++) {
		if (!pfn_absent(m, pfn)) {
			pfn_set_absent(m, pfn, true);
			pv_m2p_set(d, pfn_gpa(m, pfn), INVALID_M2P_ENTRY);
			frame_punch(m, pfn);
		}
	}
	m->cur_pages = m->boot_pages = 0;
	m->max_pages = 0;
	pthread_mutex_unlock(&d->lock);
}

/*
 * XENMEM_populate_physmap from dom0 for another domain: the extent of
 * 2^order frames from pseudo-physical frame pfn is brought in and *mfn is
 * its first machine frame.  -EINVAL when it is not absent RAM of the
 * domain, -ENOMEM past the domain's maximum; nothing changes then.
 */
int memop_populate(struct hv_domain *d, uint64_t pfn, unsigned order, uint64_t *mfn)
{
	struct hv_mem *m = &d->mem;
	uint64_t n;
	int ret = 0;

	if (order > MEMOP_MAX_ORDER)
		return -EINVAL;
	n = 1ULL << order;
	pthread_mutex_lock(&d->lock);
	if (!run_ok(m, pfn, n, true))
		ret = -EINVAL;
	else if (m->cur_pages + n > m->max_pages)
		ret = -ENOMEM;
	if (!ret) {
		*mfn = pfn_gpa(m, pfn) >> PAGE_SHIFT;
		run_add(d, pfn, n);
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

/* Lowest absent run of n frames aligned to n (an extent), or false. */
static bool find_absent_run(const struct hv_mem *m, uint64_t n, uint64_t *pfn)
{
	for (uint64_t p = 0; p + n <= m->nr_frames; p += n) {
		if (n <= 64 && !m->absent[p / 64]) {
			p = (p / 64 + 1) * 64 - n; /* a word with nothing absent: the next word */
			continue;
		}
		if (!(m->absent[p / 64] & (1ULL << (p % 64))))
			continue;
		if (run_ok(m, p, n, true)) {
			*pfn = p;
			return true;
		}
	}
	return false;
}

/*
 * One extent; returns false to end the batch.  Runs under d->lock, so the
 * copies to and from the guest (its own page tables and memory) happen
 * with nothing of the domain changing under them.
 */
static bool one_extent(struct hv_vcpu *v, unsigned op, const struct xen_memory_reservation *r,
		       uint64_t i)
{
	struct hv_domain *d = v->dom;
	struct hv_mem *m = &d->mem;
	uint64_t n = 1ULL << r->extent_order, slot = handle_va(r) + i * sizeof(xen_pfn_t);
	xen_pfn_t frame, out;
	uint64_t pfn;

	switch (op) {
	case XENMEM_decrease_reservation:
		if (vcpu_copy_from_guest(v, &frame, slot, sizeof(frame)))
			return false;
		if (!mfn_pfn(m, frame, &pfn) || !run_ok(m, pfn, n, false))
			return false;
		/* Still mapped, linked or typed (mmu.c): refused, the guest must let go first. */
		if (!mmu_frames_free_lock(d, pfn, n))
			return false;
		run_remove(d, pfn, n);
		mmu_unlock(d);
		return true;
	case XENMEM_populate_physmap:
		if (vcpu_copy_from_guest(v, &frame, slot, sizeof(frame)))
			return false;
		pfn = frame;
		if (m->cur_pages + n > m->max_pages || !run_ok(m, pfn, n, true))
			return false;
		out = pfn_gpa(m, pfn) >> PAGE_SHIFT; /* a PV guest learns the machine frame */
		if (vcpu_copy_to_guest(v, slot, &out, sizeof(out)))
			return false;
		run_add(d, pfn, n);
		return true;
	case XENMEM_increase_reservation:
		if (m->cur_pages + n > m->max_pages || !find_absent_run(m, n, &pfn))
			return false;
		out = pfn_gpa(m, pfn) >> PAGE_SHIFT;
		if (handle_va(r) && vcpu_copy_to_guest(v, slot, &out, sizeof(out)))
			return false;
		run_add(d, pfn, n);
		return true;
	}
	return false;
}

/*
 * XENMEM_increase_reservation, _decrease_reservation, _populate_physmap:
 * as Xen's do_memory_op, a request it cannot read or accept is answered
 * with the start extent (nothing done), another domain with -EPERM, and
 * otherwise the number of extents done.  start is the continuation's
 * start extent from the cmd's upper bits; we never preempt, so a guest
 * only sends one if it made it up, and it is honoured as Xen would.
 */
long memop_reservation(struct hv_vcpu *v, unsigned op, unsigned start, uint64_t arg)
{
	struct hv_domain *d = v->dom;
	struct xen_memory_reservation r;
	uint64_t i;

	if (vcpu_copy_from_guest(v, &r, arg, sizeof(r)))
		return start;
	if (r.nr_extents > (UINT_MAX >> MEMOP_EXTENT_SHIFT) || start >= r.nr_extents)
		return start;
	if (r.extent_order > MEMOP_MAX_ORDER)
		return start;
	/* The handle must cover its extents without wrapping (guest_handle_subrange_okay). */
	if ((handle_va(&r) || op != XENMEM_increase_reservation) &&
	    handle_va(&r) + r.nr_extents * sizeof(xen_pfn_t) < handle_va(&r))
		return start;
	if (op != XENMEM_decrease_reservation && (r.mem_flags & XENMEMF_populate_on_demand))
		return start; /* only for translated guests */
	if (r.domid != DOMID_SELF && r.domid != d->domid) {
		/* Xen: a domain that does not exist is "nothing done"; one that does, XSM's -EPERM. */
		struct hv_domain *o = r.domid && r.domid < DOMID_FIRST_RESERVED ? domain_get(r.domid)
										: NULL;
		if (!o && r.domid)
			return start;
		if (o)
			domain_put(o);
		return -XEN_EPERM;
	}
	for (i = start; i < r.nr_extents; i++) {
		bool ok;

		pthread_mutex_lock(&d->lock);
		ok = one_extent(v, op, &r, i);
		pthread_mutex_unlock(&d->lock);
		if (!ok)
			break;
	}
	return (long)i;
}

int memop_release_frames(struct hv_domain *d, const uint64_t *gfn, unsigned n)
{
	struct hv_mem *m = &d->mem;
	uint64_t pfn;
	int ret = 0;

	pthread_mutex_lock(&d->lock);
	/* Every one checked before any goes: present RAM of this domain, listed once. */
	for (unsigned i = 0; i < n && !ret; i++) {
		if (!mfn_pfn(m, gfn[i], &pfn) || pfn_absent(m, pfn) || m->cur_pages <= n)
			ret = -EINVAL;
		for (unsigned j = 0; j < i && !ret; j++)
			if (gfn[j] == gfn[i])
				ret = -EINVAL;
	}
	for (unsigned i = 0; i < n && !ret; i++) {
		mfn_pfn(m, gfn[i], &pfn);
		if (!mmu_frames_free_lock(d, pfn, 1)) {
			ret = -EBUSY; /* a page table or held: not a frame to give back */
			break;
		}
		run_remove(d, pfn, 1);
		mmu_unlock(d);
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

uint64_t memop_current(struct hv_domain *d)
{
	uint64_t n;

	pthread_mutex_lock(&d->lock);
	n = d->mem.cur_pages;
	pthread_mutex_unlock(&d->lock);
	return n;
}

uint64_t memop_maximum(struct hv_domain *d)
{
	uint64_t n;

	pthread_mutex_lock(&d->lock);
	n = d->mem.max_pages;
	pthread_mutex_unlock(&d->lock);
	return n;
}

int memop_set_max(struct hv_domain *d, uint64_t max_kb)
{
	if (max_kb > (1ULL << 40) / 1024)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	d->mem.max_pages = max_kb / (PAGE_SIZE / 1024);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

uint64_t memop_host_bytes(struct hv_domain *d)
{
	struct stat st;

	if (d->mem.memfd < 0 || fstat(d->mem.memfd, &st))
		return 0;
	return (uint64_t)st.st_blocks * 512;
}
