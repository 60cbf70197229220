/* SPDX-License-Identifier: MIT */
/* The PV instruction emulator's decoder (pv_emul.c): what a faulting guest instruction is. */
#ifndef PV_EMUL_H
#define PV_EMUL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* x86 limit: an instruction longer than this raises #GP. */
#define PV_INSN_MAX 15

enum pv_insn_kind {
	PV_INSN_RDMSR,	  /* 0f 32 */
	PV_INSN_WRMSR,	  /* 0f 30 */
	PV_INSN_CPUID,	  /* 0f a2, or Xen's forced form: 0f 0b 'x' 'e' 'n' 0f a2 */
	PV_INSN_RDTSC,	  /* 0f 31 */
	PV_INSN_RDTSCP,	  /* 0f 01 f9 */
	PV_INSN_MOV_LOAD, /* 8b /r with a memory operand: mov r16/32/64, m */
};

struct pv_insn {
	enum pv_insn_kind kind;
	unsigned len; /* bytes, prefixes included */
	bool forced;  /* behind Xen's forced-emulation signature */
	/* PV_INSN_MOV_LOAD only: */
	unsigned size;	 /* operand bytes: 2, 4 or 8 */
	unsigned reg;	 /* destination, x86 encoding 0..15 */
	int base, index; /* x86 encoding 0..15; -1: none; PV_EA_RIP: rip-relative */
	unsigned scale;	 /* 1, 2, 4, 8 */
	int64_t disp;
	unsigned seg; /* 0: none; 4: %fs; 5: %gs (x86 segment numbers) */
};
#define PV_EA_RIP 16

/*
 * Decode the instruction at buf, of which only avail bytes could be read
 * (a fetch stopped at an unmapped page).  Returns 0 and fills *out;
 * -EAGAIN: it runs past avail (truncated); -EINVAL: not one we emulate
 * (unknown opcode, a lock or rep prefix, 32-bit addressing, too long).
 */
int pv_emul_decode(const uint8_t *buf, size_t avail, struct pv_insn *out);

#endif
