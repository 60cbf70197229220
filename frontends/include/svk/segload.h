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

/* What the words read through their segments, and a DPL-3 data descriptor based at b (< 4 GiB). */
#define SEG_MAGIC 0x5a5a1234c0ffee00UL
#define SEG_DATA_BASE(b)                                                                           \
	(0x00cff2000000ffffUL | (((uint64_t)(b) & 0xffffff) << 16) |                               \
	 (((uint64_t)(b) >> 24 & 0xff) << 56))
/*
 * A load that must work: no #GP, and for SEG_DS/SEG_FS SEG_MAGIC read at
 * off through it.  Else "WORD: FAIL what (...)" and false.  Resets after.
 */
bool seg_must_load(const char *word, enum seg_reg reg, uint16_t sel, uint64_t off,
		   const char *what);
/* A try that must have raised exactly one #GP(sel & ~3), as Xen's CPU would. */
bool seg_must_gp(const char *word, struct seg_try t, uint16_t sel, const char *what);

#endif
