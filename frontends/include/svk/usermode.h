/* SPDX-License-Identifier: MIT */
/* The usermode word (usermode.c): a process of ours in Xen PV guest user mode. */
#ifndef SVK_USERMODE_H
#define SVK_USERMODE_H

#include <xen/xen.h>

/*
 * Builds a user address space, registers a syscall callback and the kernel
 * stack, runs a process that makes system calls and takes a demand-zero
 * #PF, then ones killed by #GP, #UD and a #PF on kernel memory; says
 * "usermode: ok".
 */
void usermode_word(const start_info_t *si, const char *arg);

/*
 * usermode-smp[=ROUNDS]: a process on every vCPU at once (up to 4), each
 * vCPU with its own kernel L4, kernel stack and syscall callback (the
 * secondaries' from VCPUOP_initialise); hostile callback calls first.
 * Says "usermode-smp: ok".  Once per boot, before anything else starts
 * the secondaries.
 */
void usermode_smp_word(const start_info_t *si, const char *arg);

#endif
