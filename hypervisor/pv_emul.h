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
	PV_INSN_CLI,	  /* fa */
	PV_INSN_STI,	  /* fb */
	PV_INSN_MOV_FROM_CR, /* 0f 20 /r: mov crN, r64 (cr in ctrl, register in reg) */
	PV_INSN_MOV_TO_CR,   /* 0f 22 /r: mov r64, crN */
	PV_INSN_CLTS,	     /* 0f 06 */
	PV_INSN_WBINVD,	     /* 0f 09 */
	PV_INSN_MOV_STORE,   /* 89 /r with a memory operand: mov r, m */
	PV_INSN_XCHG,	     /* 87 /r with a memory operand (lock optional) */
	PV_INSN_CMPXCHG,     /* 0f b1 /r with a memory operand (lock optional) */
	PV_INSN_RMW_IMM,     /* 80/81/83 /1 /4 /6 (or, and, xor m, imm) and 0f ba /5-/7 (bts, btr,
			      * btc m, imm8) on memory, lock optional: op and imm below */
	PV_INSN_IN,	     /* e4 e5 (port imm8), ec ed (port %dx): size 1, 2 or 4 */
	PV_INSN_OUT,	     /* e6 e7, ee ef */
};

struct pv_insn {
	enum pv_insn_kind kind;
	unsigned len; /* bytes, prefixes included */
	bool forced;  /* behind Xen's forced-emulation signature */
	/* PV_INSN_MOV_LOAD, _MOV_STORE, _XCHG, _CMPXCHG: */
	unsigned size;	 /* operand bytes: 2, 4 or 8 */
	unsigned reg;	 /* destination, x86 encoding 0..15 */
	int base, index; /* x86 encoding 0..15; -1: none; PV_EA_RIP: rip-relative */
	unsigned scale;	 /* 1, 2, 4, 8 */
	int64_t disp;
	unsigned seg; /* 0: none; 4: %fs; 5: %gs (x86 segment numbers) */
	unsigned ctrl; /* PV_INSN_MOV_*_CR: the control register, 0..15 */
	int port;      /* PV_INSN_IN/OUT: the imm8 port, or -1 for %dx */
	unsigned op;   /* PV_INSN_RMW_IMM: 1 or, 4 and, 6 xor, 0x15 bts, 0x16 btr, 0x17 btc */
	uint64_t imm;  /* PV_INSN_RMW_IMM: the immediate, sign-extended to the operand size */
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
