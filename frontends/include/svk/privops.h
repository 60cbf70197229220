/* SPDX-License-Identifier: MIT */
/* The privops word (privops.c): Xen's emulation of privileged instructions, seen from a guest. */
#ifndef SVK_PRIVOPS_H
#define SVK_PRIVOPS_H

#include <xen/xen.h>

/*
 * Runs each check, prints a line per family and "privops: ok" or "privops: FAIL";
 * with arg "bare", a refused rdmsr with no trap table (the domain must crash).
 */
void privops_selftest(const start_info_t *si, const char *arg);

/* The gdt word (gdtword.c): set_gdt and update_descriptor, good and hostile; "gdt: ok" or FAIL. */
void gdt_word(const start_info_t *si, const char *arg);
/* The ldt word (ldtword.c): MMUEXT_SET_LDT with entries, good and hostile; "ldt: ok" or FAIL. */
void ldt_word(const start_info_t *si, const char *arg);

/*
 * HYPERVISOR_iret to the next instruction with cs/ss and VGCF flags: rcx,
 * r11, rax as they came back and the label returned to.  A failed return
 * enters privops_failsafe (when registered as the failsafe callback),
 * which counts privops_failsafes and goes on at the same label.
 */
bool iret_case(unsigned long flags, unsigned long cs, unsigned long ss, unsigned long *rcx,
	       unsigned long *r11, unsigned long *rax, unsigned long *label);
extern char privops_failsafe[];
extern volatile unsigned long privops_failsafes;

#endif
