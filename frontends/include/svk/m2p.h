// SPDX-License-Identifier: MIT
// Machine-to-physical translation: the hypervisor's M2P table or a p2m scan (m2p.c).
#ifndef SVK_M2P_H
#define SVK_M2P_H

#include <svk/compiler.h>
#include <svk/xen.h>

/*
 * m2p_init: find the read-only M2P table with XENMEM_machphys_mapping.  If
 * the call fails (a hypervisor that maps no M2P), mfn_to_pfn scans the p2m
 * list instead.  Needs mm_init.  Returns 0 when the table is used,
 * -errno (the hypercall's) when lookups fall back to the scan.
 */
int m2p_init(void);

/*
 * mfn_to_pfn: the pseudo-physical frame of machine frame @mfn, or ~0UL when
 * it is not ours.  A table entry is trusted only when the p2m maps it back.
 */
unsigned long mfn_to_pfn(unsigned long mfn);

/* mfn_to_virt: where machine frame @mfn is mapped in the kernel, or NULL. */
void *mfn_to_virt(unsigned long mfn);

#endif
