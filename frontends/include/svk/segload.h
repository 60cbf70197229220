/* SPDX-License-Identifier: MIT */
/*
 * Loads of the guest's own GDT and LDT selectors (segload.c), for the gdt
 * and ldt words: each runs with a #GP entry (privops.c's) that resumes
 * after the instruction, and says how many #GPs it took and their error
 * code.
 */
#ifndef SVK_SEGLOAD_H
#define SVK_SEGLOAD_H

#include <stdbool.h>
#include <stdint.h>

enum seg_reg { SEG_DS, SEG_ES, SEG_FS, SEG_GS };

struct seg_try {
	unsigned long traps; /* #GPs taken (0: the instruction ran) */
	unsigned long err;   /* the last one's error code */
	uint64_t got;	     /* SEG_FS/SEG_DS reads: what was read through the segment */
};

/* Register the #GP entry (true), or take it away again. */
bool seg_traps_on(void);
void seg_traps_off(void);
/* Load sel into reg; for SEG_FS then read %fs:(off), for SEG_DS %ds:(off). */
struct seg_try seg_load(enum seg_reg reg, uint16_t sel, uint64_t off);
/* lretq to sel:next instruction, 64-bit code expected. */
struct seg_try seg_lret(uint16_t sel);
/* NUL %ds %es %fs %gs again, %fs and kernel %gs bases 0. */
void seg_reset(void);

#endif
