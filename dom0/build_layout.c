// SPDX-License-Identifier: MIT
/* Where the PV domain builder puts things: Xen's start-of-day order, computed without a domain. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "build.h"

#define PAGE 4096ULL
#define MASK_4M ((4ULL << 20) - 1)
#define BOOT_PAD_PAGES ((512 * 1024) / PAGE) /* Xen's 512 KiB padding */

/* Page-table pages needed to map [start, end) with 4 KiB pages (tables at each level). */
static uint64_t count_tables(uint64_t start, uint64_t end)
{
	static const unsigned shifts[3] = { 39, 30, 21 };
	uint64_t n = 1; /* L4 */

	for (int i = 0; i < 3; i++)
		n += ((end - 1) >> shifts[i]) - (start >> shifts[i]) + 1;
	return n;
}

static uint64_t pages_of(uint64_t bytes)
{
	return bytes / PAGE + (bytes % PAGE != 0);
}

/*
 * Xen's builder honours INIT_P2M below VIRT_BASE and page aligned (else
 * ignores it).  We also want its L4 slots apart from the kernel's mapping
 * (up to all of RAM), which Xen shares table by table and we do not: a
 * p2m_base that close is ignored too, the list then in the region.
 */
static bool init_p2m_usable(const struct sv_elf *elf, const struct sv_pv_plan *p,
			    uint64_t nr_frames)
{
	const struct sv_xen_notes *n = &elf->notes;
	uint64_t bytes = pages_of(nr_frames * 8) * PAGE;

	if (!n->has_init_p2m || n->init_p2m >= p->virt_base || (n->init_p2m & (PAGE - 1)) ||
	    n->init_p2m > UINT64_MAX - bytes)
		return false;
	return ((n->init_p2m + bytes - 1) >> 39) < (p->virt_base >> 39);
}

bool sv_pv_low_va(const struct sv_elf *elf)
{
	uint64_t base = elf->notes.has_virt_base ? elf->notes.virt_base : 0;

	return base < SV_LOW_VA_END || elf->vstart < SV_LOW_VA_END;
}

int sv_pv_plan(const struct sv_elf *elf, uint64_t nr_pages, uint64_t nr_frames, size_t ramdisk_size,
	       struct sv_pv_plan *p, char *err, size_t errlen)
{
	uint64_t alloc, alloc_va, pages, try_end, span;
	const uint64_t extra = 1 /* boot stack */ + BOOT_PAD_PAGES;
	const bool map_all = !strcmp(elf->notes.guest_os, SV_PV_MAP_ALL_GUEST_OS);

	memset(p, 0, sizeof(*p));
	if (!nr_pages || nr_pages > nr_frames || nr_frames > SV_PV_MAX_FRAMES)
		return sv_errf(-EINVAL, err, errlen, "bad memory size (%llu of %llu pages)",
			       (unsigned long long)nr_pages, (unsigned long long)nr_frames);
	p->virt_base = elf->notes.has_virt_base ? elf->notes.virt_base : 0;
	if (elf->vstart < p->virt_base)
		return sv_errf(-EINVAL, err, errlen, "kernel starts below its VIRT_BASE");
	span = elf->vend - p->virt_base;
	if (span / PAGE + 16 > nr_pages)
		return sv_errf(
		    -ENOMEM, err, errlen, "kernel (%llu KiB) does not fit in %llu KiB of memory",
		    (unsigned long long)(span / 1024), (unsigned long long)(nr_pages * 4));
	/* Kernel at its virtual address: pfn = (vaddr - virt_base) / 4 KiB. */
	p->kernel_pfn = (elf->vstart - p->virt_base) / PAGE;
	alloc = p->kernel_end_pfn = span / PAGE;

	/* Then, in xc_dom_build_image's order: the modules (the ramdisk), */
	if (ramdisk_size) {
		p->ramdisk_pages = pages_of(ramdisk_size);
		if (p->ramdisk_pages > nr_pages || alloc + p->ramdisk_pages + 16 > nr_pages)
			return sv_errf(-ENOMEM, err, errlen,
				       "ramdisk (%zu bytes) does not fit in memory", ramdisk_size);
		p->ramdisk_pfn = alloc;
		alloc += p->ramdisk_pages;
	}
	/* the p2m list (unless INIT_P2M maps it elsewhere, after the stack), */
	p->p2m_pages = pages_of(nr_pages * 8);
	p->p2m_mapped = init_p2m_usable(elf, p, nr_frames);
	if (!p->p2m_mapped) {
		p->p2m_pfn = alloc;
		alloc += p->p2m_pages;
	}
	/* the magic pages (alloc_magic_pages_pv), */
	p->start_info_pfn = alloc++;
	p->store_pfn = alloc++;
	p->console_pfn = alloc++;
	if (alloc > nr_pages)
		return sv_errf(
		    -ENOMEM, err, errlen,
		    "%llu KiB of memory is too little for this kernel's bootstrap region",
		    (unsigned long long)(nr_pages * 4));

	/*
	 * then the page tables (alloc_pgtables_pv): they map VIRT_BASE up to
	 * a 4 MiB boundary with room past the allocations for the tables
	 * themselves, the boot stack and 512 KiB; Xen's round_up(x, mask) is
	 * x | mask, so an x already on a boundary gets 4 MiB more.  Grow
	 * until the tables fit.
	 */
	alloc_va = p->virt_base + alloc * PAGE;
	p->pt_pfn = alloc;
	pages = extra;
	for (;;) {
		if (alloc_va > UINT64_MAX - pages * PAGE - MASK_4M - 1)
			return sv_errf(-EINVAL, err, errlen,
				       "the bootstrap region runs past the top of the address "
				       "space");
		try_end = (alloc_va + pages * PAGE) | MASK_4M;
		p->boot_end = try_end + 1;
		p->map_end = p->boot_end;
		/*
		 * Our own kernel has no page tables of its own yet: past Xen's
		 * region the tables map the rest of RAM too (guests of up to
		 * SV_PV_MAP_ALL_MAX_FRAMES frames), entries of frames not
		 * populated at start left empty.  Only ours: any other kernel
		 * gets Xen's region alone, as on Xen, since it may take the
		 * frames past it for page tables of its own (PV GRUB builds its
		 * tables at the top of RAM), which a writable boot mapping
		 * would keep from becoming tables.
		 */
		if (map_all && nr_frames <= SV_PV_MAP_ALL_MAX_FRAMES &&
		    p->virt_base < UINT64_MAX - nr_frames * PAGE - (2ULL << 20) &&
		    p->virt_base + nr_frames * PAGE > p->map_end)
			p->map_end = (p->virt_base + nr_frames * PAGE + (2ULL << 20) - 1) &
				     ~((2ULL << 20) - 1);
		p->nr_pt = count_tables(p->virt_base, p->map_end);
		pages = p->nr_pt + extra;
		if (alloc_va + pages * PAGE <= try_end + 1)
			break;
	}
	/* and last the boot stack. */
	p->stack_pfn = p->pt_pfn + p->nr_pt;
	p->alloc_end_pfn = p->stack_pfn + 1;
	if ((p->boot_end - p->virt_base) / PAGE > nr_pages)
		return sv_errf(
		    -ENOMEM, err, errlen,
		    "%llu KiB of memory is too little for this kernel's bootstrap region",
		    (unsigned long long)(nr_pages * 4));
	/* INIT_P2M: the list and the tables mapping it at p2m_base (the L4 is shared). */
	if (p->p2m_mapped) {
		p->p2m_base = elf->notes.init_p2m;
		p->p2m_pfn = p->alloc_end_pfn;
		p->p2m_pt_pfn = p->p2m_pfn + p->p2m_pages;
		p->p2m_nr_pt = count_tables(p->p2m_base, p->p2m_base + p->p2m_pages * PAGE) - 1;
		p->alloc_end_pfn = p->p2m_pt_pfn + p->p2m_nr_pt;
		if (p->alloc_end_pfn > nr_pages)
			return sv_errf(
			    -ENOMEM, err, errlen,
			    "%llu KiB of memory is too little for the p2m list at INIT_P2M",
			    (unsigned long long)(nr_pages * 4));
	}
	return 0;
}
