/* SPDX-License-Identifier: MIT */
/* One-entry MMU hypercalls for the words that build their own page tables (mmu, usermode). */
#ifndef SVK_PVMMU_H
#define SVK_PVMMU_H

#include <svk/hypercall.h>
#include <svk/mm.h>

/* The machine address of the page at p (a page of our own memory). */
static inline uint64_t pv_ma(const void *p)
{
	return (uint64_t)virt_to_mfn(p) << PAGE_SHIFT;
}

/* Map p's own page at p again with flags (update_va_mapping, this vCPU's TLB). */
static inline long pv_remap(void *p, uint64_t flags)
{
	return HYPERVISOR_update_va_mapping((unsigned long)p, pv_ma(p) | flags,
					    UVMF_INVLPG | UVMF_LOCAL);
}

/* One mmu_update request; *done (may be NULL) gets the count done. */
static inline long pv_mmu_update1(uint64_t ptr, uint64_t val, unsigned *done)
{
	struct mmu_update u = { .ptr = ptr, .val = val };

	return HYPERVISOR_mmu_update(&u, 1, done, DOMID_SELF);
}

/* One mmuext_op whose argument is a frame (pin, unpin, new base pointer...). */
static inline long pv_mmuext1(unsigned cmd, unsigned long mfn)
{
	struct mmuext_op op = { .cmd = cmd };

	op.arg1.mfn = mfn;
	return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

#endif
