/* SPDX-License-Identifier: MIT */
/* The mmu word (pagetables.c): the guest builds and switches its own page tables. */
#ifndef SVK_PAGETABLES_H
#define SVK_PAGETABLES_H

#include <xen/xen.h>

/*
 * A second top-level table cloned from the boot one, pinned, switched to
 * with NEW_BASEPTR and back; pages mapped and unmapped with mmu_update,
 * one and 32 at a time; each of Xen's refusals (a table mapped writable,
 * double pin, unpin of what is not pinned, superpages, frames not ours,
 * a table given back) checked.  Says "mmu: ok" or "mmu: FAIL ...".
 * mmu=touch then reads the clone's private page from the boot tables,
 * which must fault (the guest has no handler then: it is crashed).
 */
void mmu_selftest(const start_info_t *si, const char *arg);
/* mmu-bench=N: N map+unmap pairs of one page, N multicalls of 32 and 32 calls N times. */
void mmu_bench(const start_info_t *si, const char *arg);

#endif
