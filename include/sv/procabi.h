/* SPDX-License-Identifier: MIT */
/* The contract between the hypervisor's process engine and sv-runner, the host process that is one
 * PV domain. */
#ifndef SV_PROCABI_H
#define SV_PROCABI_H

/*
 * The runner's address space (x86-64, lower half only):
 *
 *   [4 KiB, SV_PROC_GUEST_VA_END)    guest mappings, as the guest's page tables say
 *   SV_PROC_M2P_VA                   the read-only M2P table
 *   SV_PROC_RUNNER_VA                sv-runner's own code and data (linked there)
 *   SV_PROC_SHARED_VA                pages shared with the hypervisor: a header,
 *                                    then SV_PROC_VCPU_PAGES per vCPU
 *   SV_PROC_SHINFO_VA                the guest's shared_info page (its vcpu_info,
 *                                    for the runner's own HYPERVISOR_iret)
 *
 * The seccomp filter lets mmap and munmap reach only the first window, and
 * mmap only the guest's own memory (fd SV_PROC_MEMFD), so nothing the
 * guest does can touch the rest.
 */
#ifdef __ASSEMBLY__
#define SV_PROC_U(x) x
#else
#define SV_PROC_U(x) x##ULL
#endif
#define SV_PROC_GUEST_VA_END SV_PROC_U(0x400000000000) /* 64 TiB */
#define SV_PROC_MAP_LEN_MAX SV_PROC_U(0x100000000000)  /* one mmap/munmap, at most */
#define SV_PROC_M2P_VA SV_PROC_U(0x580000000000)
#define SV_PROC_RUNNER_VA SV_PROC_U(0x600000000000)
#define SV_PROC_SHARED_VA SV_PROC_U(0x600040000000)
#define SV_PROC_SHINFO_VA SV_PROC_U(0x600080000000)
#define SV_PROC_VCPU_PAGES 2
#define SV_PROC_MAX_VCPUS 16
#define SV_PROC_SHARED_SIZE ((1 + SV_PROC_MAX_VCPUS * SV_PROC_VCPU_PAGES) * SV_PROC_U(4096))
#define SV_PROC_VCPU_VA(i) (SV_PROC_SHARED_VA + SV_PROC_U(4096) * (1 + SV_PROC_VCPU_PAGES * (i)))

/* File descriptors the runner is started with; it keeps only the first. */
#define SV_PROC_MEMFD 3
#define SV_PROC_SHAREDFD 4

#define SV_PROC_MAGIC 0x53565052u /* "SVPR" */
#define SV_PROC_VERSION 3

/* vCPU block state: whose turn it is.  A futex word for both sides. */
#define SV_PROC_DEAD 0 /* the kernel clears it when the thread dies */
#define SV_PROC_RUN 1  /* runner's turn: apply maps, run the guest */
#define SV_PROC_EXIT 2 /* hypervisor's turn: reason says why */

/* Why the runner handed the vCPU back. */
#define SV_PROC_R_READY 1     /* thread started, waits for its first run */
#define SV_PROC_R_HYPERCALL 2 /* rax = number, arguments in rdi rsi rdx r10 r8 */
#define SV_PROC_R_FAULT 3     /* trapno, err, cr2 from the host's signal frame */
#define SV_PROC_R_SYSCALL 4   /* a denied host system call: trapno = nr, err = AUDIT_ARCH_* */
#define SV_PROC_R_KICK 5      /* interrupted on the hypervisor's request */
#define SV_PROC_R_MAPPED 6    /* maps_only request done */
#define SV_PROC_R_RUNTIME                                                                          \
	7 /* the runner's own code faulted (e.g. a bad guest stack at a hypercall) */

#define SV_PROC_SEG_FS 1
#define SV_PROC_SEG_GS 2

/* hypervisor: what the runner may do for this run without handing the vCPU back. */
#define SV_PROC_FAST_IRET 1 /* HYPERVISOR_iret from kernel to kernel mode (runner.c, fast_iret) */

#define SV_PROC_OP_MAP 1
#define SV_PROC_OP_UNMAP 2
#define SV_PROC_MAX_MAPS 96

/* Byte offsets in a vCPU block, for entry.S; checked against the struct in C. */
#define SV_PROC_OFF_STATE 0
#define SV_PROC_OFF_REASON 4
#define SV_PROC_OFF_KICK 8
#define SV_PROC_OFF_REGS 24
#define SV_PROC_REG(n) (SV_PROC_OFF_REGS + 8 * (n))
#define SV_PROC_RAX 0
#define SV_PROC_RBX 1
#define SV_PROC_RCX 2
#define SV_PROC_RDX 3
#define SV_PROC_RSI 4
#define SV_PROC_RDI 5
#define SV_PROC_RSP 6
#define SV_PROC_RBP 7
#define SV_PROC_R8 8
#define SV_PROC_R9 9
#define SV_PROC_R10 10
#define SV_PROC_R11 11
#define SV_PROC_R12 12
#define SV_PROC_R13 13
#define SV_PROC_R14 14
#define SV_PROC_R15 15
#define SV_PROC_RIP 16
#define SV_PROC_RFLAGS 17
#define SV_PROC_NR_REGS 18
/* The entry path's stack: the top of the block's second page. */
#define SV_PROC_OFF_STACK_TOP (4096 * SV_PROC_VCPU_PAGES)
/* Restore blocks in the runner's text: one per vCPU, this far apart. */
#define SV_PROC_RESTORE_STRIDE 256

#ifndef __ASSEMBLY__
#include <stdint.h>

/* A mapping change the runner makes before it next runs the guest. */
struct sv_proc_map {
	uint64_t va;
	uint64_t len;
	uint64_t offset; /* in the guest memfd (MAP only) */
	uint32_t op;	 /* SV_PROC_OP_* */
	uint32_t prot;	 /* PROT_READ | PROT_WRITE | PROT_EXEC subset */
};

/*
 * One vCPU's page, shared by the hypervisor and the runner (and so
 * writable by the guest: the hypervisor copies what it reads once and
 * trusts none of it).
 */
struct sv_proc_vcpu {
	uint32_t state;	 /* SV_PROC_RUN / EXIT / DEAD: futex word, the thread's clear_child_tid */
	uint32_t reason; /* runner: SV_PROC_R_* */
	uint32_t kick;	 /* hypervisor: leave the guest soon; the runner clears it when it does */
	uint32_t maps_only; /* hypervisor: apply the maps and come back without running */
	uint32_t tid;	    /* runner: this vCPU's host thread */
	uint32_t nr_maps;   /* hypervisor: entries of maps[] to apply */
	uint64_t regs[SV_PROC_NR_REGS];
	uint64_t trapno, err, cr2;
	int64_t map_error;  /* runner: -errno of the first map op that failed, else 0 */
	uint32_t hv_sleeps; /* hypervisor: in (or going into) FUTEX_WAIT on state: wake it */
	uint32_t rt_sleeps; /* runner: likewise; a side that spins is never woken by syscall */
	/*
	 * hypervisor: SV_PROC_SEG_* of the bases below to load (arch_prctl)
	 * before the guest runs; the runner clears it as it takes them.
	 */
	uint32_t seg_load;
	uint32_t seg_pad;
	uint64_t fs_base, gs_base; /* hypervisor: %fs and the active (kernel) %gs base */
	uint32_t fast;		   /* hypervisor: SV_PROC_FAST_* allowed until the next hand-back */
	uint32_t fast_pad;
	struct sv_proc_map maps[SV_PROC_MAX_MAPS];
};

/* Page 0: set up by the hypervisor before the runner starts. */
struct sv_proc_hdr {
	uint32_t magic, version;
	uint32_t nr_vcpus;
	int32_t parent_pid; /* the runner dies if its parent is not this one */
	uint64_t memfd_size;
	uint64_t m2p_offset; /* M2P table pages in the memfd; m2p_len 0: none */
	uint64_t m2p_len;
	uint32_t nice;	    /* CPU priority of every guest thread */
	uint32_t ready;	    /* runner: 1 when every vCPU thread waits and seccomp is on (futex) */
	int32_t error;	    /* runner: -errno of a failed setup step */
	uint32_t userns;    /* runner: 1 if it entered a user namespace of its own */
	char error_msg[96]; /* runner: which step failed */
	uint64_t shinfo_offset; /* shared_info's page in the memfd, mapped at SV_PROC_SHINFO_VA */
};
#endif

#endif
