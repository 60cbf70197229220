/* SPDX-License-Identifier: MIT */
/* sv-runner's seccomp filter: what a PV domain's process may ask of the host kernel. */
#ifndef SV_RUNNER_FILTER_H
#define SV_RUNNER_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <asm/unistd.h>
#include "sv/procabi.h"

#define SV_MAP_SHARED 0x01
#define SV_MAP_FIXED 0x10
#define SV_ARCH_SET_GS 0x1001
#define SV_ARCH_SET_FS 0x1002
#define SV_MODIFY_LDT_WRITE 0x11 /* write_ldt, the new mode: an all-zero entry clears it */

/*
 * The seccomp filter.  Nothing from the guest window (the instruction
 * after the `syscall` below SV_PROC_GUEST_VA_END: guest code, whose
 * `syscall` is its process's in user mode and a hypercall in kernel mode,
 * both reported to the hypervisor).  The same filter for every runner:
 * a low-window runner (procabi.h) differs only in what the kernel lets
 * the one allowed mmap do (map at 0); the window's bottom is not checked
 * here, the kernel's vm.mmap_min_addr check is what keeps others above it.
 * Allowed from the runner's code: gettid, rt_sigreturn, exit, exit_group,
 * sched_yield; futex WAIT and WAKE; mmap of the guest memfd only, shared
 * and fixed, inside the guest window; munmap inside the guest window;
 * arch_prctl ARCH_SET_FS and ARCH_SET_GS (the guest's segment bases; the
 * runner uses neither register), and no other arch_prctl code;
 * modify_ldt writing one 16-byte entry (the guest's LDT, proc_ldt.c: the
 * kernel takes only user code and data segments there, so a process can
 * give itself nothing more than it could without a filter).
 * Anything else, any other ABI (int $0x80, sysenter) and x32 numbers:
 * SIGSYS, which is reported to the hypervisor as a denied call.
 */
#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define JGE(k, t, f) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (k), (t), (f))
#define JSET(k, t, f) BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (k), (t), (f))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#define ARG_HI(n) (ARG_LO(n) + 4)
#define VA_END_HI ((uint32_t)(SV_PROC_GUEST_VA_END >> 32))
#define LEN_MAX_HI ((uint32_t)(SV_PROC_MAP_LEN_MAX >> 32))

static const struct sock_filter sv_runner_filter[] = {
	/* 0 */ LD(offsetof(struct seccomp_data, arch)),
	/* 1 */ JEQ(AUDIT_ARCH_X86_64, 1, 0),
	/* 2 */ RET(SECCOMP_RET_TRAP),
	/* 3 */ LD(offsetof(struct seccomp_data, nr)),
	/* 4 */ JGE(0x40000000, 0, 1), /* x32 */
	/* 5 */ RET(SECCOMP_RET_TRAP),
	/* the guest window: its code (kernel or user mode) makes no host call at all */
	/* 5a */ LD(offsetof(struct seccomp_data, instruction_pointer) + 4),
	/* 5b */ JGE(VA_END_HI, 1, 0),
	/* 5c */ RET(SECCOMP_RET_TRAP),
	/* 5d */ LD(offsetof(struct seccomp_data, nr)),
	/* 6 */ JEQ(__NR_gettid, 8, 0),
	/* 7 */ JEQ(__NR_rt_sigreturn, 7, 0),
	/* 8 */ JEQ(__NR_exit, 6, 0),
	/* 9 */ JEQ(__NR_exit_group, 5, 0),
	/* 10 */ JEQ(__NR_sched_yield, 4, 0),
	/* 11 */ JEQ(__NR_futex, 4, 0),	       /* -> 16 */
	/* 12 */ JEQ(__NR_mmap, 8, 0),	       /* -> 21 */
	/* 13 */ JEQ(__NR_munmap, 23, 0),      /* -> 37 */
	/* 14 */ JEQ(__NR_arch_prctl, 28, 35), /* -> 43, else -> 50 */
	/* 15 */ RET(SECCOMP_RET_ALLOW),
	/* futex: WAIT or WAKE, shared (the hypervisor waits on the same words) */
	/* 16 */ LD(ARG_LO(1)),
	/* 17 */ JEQ(FUTEX_WAIT, 2, 0),
	/* 18 */ JEQ(FUTEX_WAKE, 1, 0),
	/* 19 */ RET(SECCOMP_RET_TRAP),
	/* 20 */ RET(SECCOMP_RET_ALLOW),
	/* mmap(addr, len, prot, MAP_SHARED | MAP_FIXED, SV_PROC_MEMFD, off) */
	/* 21 */ LD(ARG_LO(4)),
	/* 22 */ JEQ(SV_PROC_MEMFD, 0, 13),
	/* 23 */ LD(ARG_LO(3)),
	/* 24 */ JEQ(SV_MAP_SHARED | SV_MAP_FIXED, 0, 11),
	/* 25 */ LD(ARG_HI(3)),
	/* 26 */ JEQ(0, 0, 9),
	/* 27 */ LD(ARG_LO(2)),
	/* 28 */ JSET(~7u, 7, 0),
	/* 29 */ LD(ARG_HI(2)),
	/* 30 */ JEQ(0, 0, 5),
	/* 31 */ LD(ARG_HI(0)),
	/* 32 */ JGE(VA_END_HI, 3, 0),
	/* 33 */ LD(ARG_HI(1)),
	/* 34 */ JGE(LEN_MAX_HI, 1, 0),
	/* 35 */ RET(SECCOMP_RET_ALLOW),
	/* 36 */ RET(SECCOMP_RET_TRAP),
	/* munmap(addr, len) inside the guest window */
	/* 37 */ LD(ARG_HI(0)),
	/* 38 */ JGE(VA_END_HI, 3, 0),
	/* 39 */ LD(ARG_HI(1)),
	/* 40 */ JGE(LEN_MAX_HI, 1, 0),
	/* 41 */ RET(SECCOMP_RET_ALLOW),
	/* 42 */ RET(SECCOMP_RET_TRAP),
	/* arch_prctl(ARCH_SET_FS or ARCH_SET_GS, base): the whole 64-bit code compared */
	/* 43 */ LD(ARG_HI(0)),
	/* 44 */ JEQ(0, 0, 4),
	/* 45 */ LD(ARG_LO(0)),
	/* 46 */ JEQ(SV_ARCH_SET_FS, 1, 0),
	/* 47 */ JEQ(SV_ARCH_SET_GS, 0, 1),
	/* 48 */ RET(SECCOMP_RET_ALLOW),
	/* 49 */ RET(SECCOMP_RET_TRAP),
	/* modify_ldt(0x11, desc, 16): write one LDT entry (the kernel checks the entry) */
	/* 50 */ JEQ(__NR_modify_ldt, 1, 0),
	/* 51 */ RET(SECCOMP_RET_TRAP),
	/* 52 */ LD(ARG_HI(0)),
	/* 53 */ JEQ(0, 0, 7),
	/* 54 */ LD(ARG_LO(0)),
	/* 55 */ JEQ(SV_MODIFY_LDT_WRITE, 0, 5),
	/* 56 */ LD(ARG_HI(2)),
	/* 57 */ JEQ(0, 0, 3),
	/* 58 */ LD(ARG_LO(2)),
	/* 59 */ JEQ(16, 0, 1),
	/* 60 */ RET(SECCOMP_RET_ALLOW),
	/* 61 */ RET(SECCOMP_RET_TRAP),
};

#endif
