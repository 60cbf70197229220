/* SPDX-License-Identifier: MIT */
/* The domain builder: lays a kernel, its modules and start info into a new domain. */
#ifndef SV_BUILD_H
#define SV_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "elf.h"
#include "sv/svctl.h"

struct sv_pv_image {
	const struct sv_elf *kernel; /* parsed, sv_elf_check_pv passed */
	const void *ramdisk;	     /* NULL when none */
	size_t ramdisk_size;
	const char *cmdline;
	uint32_t store_evtchn, console_evtchn; /* 0 until event channels exist */
};

/* Where things landed, for xenstore entries and the toolstack. */
struct sv_pv_layout {
	uint64_t nr_pages;
	uint64_t virt_base, virt_end; /* bootstrap mapping */
	uint64_t start_info_va, p2m_va, pt_va, stack_top_va;
	uint64_t store_mfn, console_mfn;
	uint64_t nr_pt_frames;
};

/*
 * Where each part goes, in pfns from VIRT_BASE (pfn n at VIRT_BASE + n *
 * 4 KiB), in Xen's start-of-day order (xc_dom_build_image): the kernel at
 * its own address, the ramdisk, the p2m list, start_info, the xenstore
 * and console pages, the page tables, the boot stack.  Guests find their
 * first free frame past pt_base + nr_pt_frames (and past mfn_list, the
 * modules and their stack), so the order is ABI.
 */
struct sv_pv_plan {
	uint64_t virt_base;
	uint64_t kernel_pfn, kernel_end_pfn; /* [first, end) */
	uint64_t ramdisk_pfn, ramdisk_pages;
	uint64_t p2m_pfn, p2m_pages;
	uint64_t start_info_pfn, store_pfn, console_pfn;
	uint64_t pt_pfn, nr_pt;
	uint64_t stack_pfn;
	uint64_t alloc_end_pfn; /* the first pfn the builder did not use */
	uint64_t boot_end;	/* Xen's virt_pgtab_end: the bootstrap region's end */
	uint64_t map_end;	/* what the tables map: boot_end, or all RAM */
	/*
	 * XEN_ELFNOTE_INIT_P2M honoured (below VIRT_BASE, page aligned, in
	 * L4 slots of its own): the p2m list is not in the bootstrap region
	 * but after the boot stack, mapped at p2m_base by tables of its own
	 * that follow it (start_info's first_p2m_pfn/nr_p2m_frames cover
	 * both), as Xen's builder does.
	 */
	bool p2m_mapped;
	uint64_t p2m_base, p2m_pt_pfn, p2m_nr_pt;
};

/* The largest domain the builder lays out (4 TiB of frames). */
#define SV_PV_MAX_FRAMES (1ULL << 30)
/* Up to this many frames (1 GiB) the tables map all RAM, for our kernel. */
#define SV_PV_MAP_ALL_MAX_FRAMES (1ULL << 18)
/* The GUEST_OS note of the kernel whose boot tables map all RAM (ours): any other gets Xen's. */
#define SV_PV_MAP_ALL_GUEST_OS "Splitvisor"


/*
 * Computes the layout for elf (parsed and checked) in a domain of
 * nr_frames RAM frames, nr_pages of them populated, with a ramdisk of
 * ramdisk_size bytes (0: none).  Pure: no domain needed.  Returns 0, or
 * -ENOMEM/-EINVAL with a one-line message when it does not fit.
 */
/*
 * Does this kernel's boot mapping start below SV_LOW_VA_END (VIRT_BASE, or
 * its lowest segment, under 1 MiB: PV GRUB and Mini-OS are linked at 0)?
 * Its domain is then created with SV_CTL_CREATE_F_LOW_VA.
 */
bool sv_pv_low_va(const struct sv_elf *elf);

int sv_pv_plan(const struct sv_elf *elf, uint64_t nr_pages, uint64_t nr_frames, size_t ramdisk_size,
	       struct sv_pv_plan *p, char *err, size_t errlen);

/*
 * Builds a PV domain the way Xen's x86-64 PV builder does: kernel at its
 * virtual base, then ramdisk, p2m list, start_info, xenstore and console
 * pages, the bootstrap page tables (read-only to the guest) and a boot
 * stack, all mapped from VIRT_BASE up to Xen's 4 MiB boundary past the
 * tables, the stack and 512 KiB (sv_pv_plan); then the hypercall page and vCPU 0's registers.
 * Returns 0 or -errno with a one-line message in err.
 */
int sv_build_pv(struct svctl *c, uint32_t domid, const struct sv_pv_image *img,
		struct sv_pv_layout *out, char *err, size_t errlen);

#endif
