/* SPDX-License-Identifier: MIT */
/* The domain builder: lays a kernel, its modules and start info into a new domain. */
#ifndef SV_BUILD_H
#define SV_BUILD_H

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
 * Builds a PV domain the way Xen's x86-64 PV builder does: kernel at its
 * virtual base, then ramdisk, p2m list, start_info, xenstore and console
 * pages, the bootstrap page tables (read-only to the guest) and a boot
 * stack, all mapped from VIRT_BASE up to a 4 MiB boundary at least 512 KiB
 * past the end; then the hypercall page and vCPU 0's registers.  Returns 0
 * or -errno with a one-line message in err.
 */
int sv_build_pv(struct svctl *c, uint32_t domid, const struct sv_pv_image *img,
		struct sv_pv_layout *out, char *err, size_t errlen);

#endif
