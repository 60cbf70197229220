/* SPDX-License-Identifier: MIT */
/* The contract between the hypervisor's process engine and sv-runner, the host process that is one
 * PV domain. */
#ifndef SV_PROCABI_H
#define SV_PROCABI_H

/*
 * The runner's address space (x86-64, lower half only):
 *
 *   [4 KiB, SV_PROC_GUEST_VA_END)    guest mappings, as the guest's page tables say
 *                                    (from 0 for a low-window domain, below)
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
 *
 * The low window.  Linux refuses any mmap below vm.mmap_min_addr unless
 * the caller has CAP_SYS_RAWIO in the initial user namespace, so a runner
 * in a user namespace of its own (the normal case) cannot map a kernel
 * linked at VA 0 (PV GRUB, Mini-OS).  For a domain created with
 * SV_CTL_CREATE_F_LOW_VA on a host whose vm.mmap_min_addr is not 0, the
 * hypervisor sets hdr.low_window and the runner, instead of entering a user
 * namespace, becomes uid and gid SV_PROC_LOW_UID_BASE + its pid (no host
 * user, no other live process has it), keeps CAP_SYS_RAWIO and nothing
 * else (permitted, effective; inheritable, ambient and the bounding set
 * emptied of every other capability), locks its securebits (no root
 * semantics, no set*id fix-ups, no keep-caps changes, no ambient raise) and
 * sets no_new_privs, all before the seccomp filter goes on.  The filter is
 * the same for every domain: the only system calls the runner can make
 * are those listed in runner/filter.h, and of them only mmap consults
 * CAP_SYS_RAWIO (the mmap_min_addr check): it still maps nothing but the
 * guest's own memfd, shared and fixed, inside the guest window.  ioperm,
 * iopl, open (/dev/mem, /dev/port), ioctl, mremap, capset, set*id and
 * ptrace, which a process with CAP_SYS_RAWIO could otherwise use, are
 * refused by the filter.  So the capability buys the guest exactly one
 * thing: its own memory mapped below vm.mmap_min_addr, in its own
 * process.  What vm.mmap_min_addr guards against is a host-kernel NULL
 * dereference, made while such a process is current, reading data it
 * chose; here the kernel paths the process can reach are those ten calls
 * and its faults and signals (SMAP and SMEP close the rest on current
 * CPUs), and its uid owns nothing on the host.
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

/* A low-window runner's uid and gid: this plus its pid (pids are below 2^22). */
#define SV_PROC_LOW_UID_BASE 0x5f000000u

/* File descriptors the runner is started with; it keeps only the first. */
#define SV_PROC_MEMFD 3
#define SV_PROC_SHAREDFD 4

#define SV_PROC_MAGIC 0x53565052u /* "SVPR" */
#define SV_PROC_VERSION 5

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
#define SV_PROC_OP_LDT 3 /* modify_ldt(0x11, ldt, 16): one entry of the guest's LDT */
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

/*
 * A mapping change the runner makes before it next runs the guest, or
 * one entry of the process's LDT: the guest's LDT as its vCPUs that run
 * now have it (proc/proc_ldt.c), a struct user_desc the kernel checks.
 */
struct sv_proc_map {
	union {
		struct {
			uint64_t va;
			uint64_t len;
		};
		uint8_t ldt[16]; /* SV_PROC_OP_LDT: struct user_desc */
	};
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
	uint32_t low_window; /* hypervisor: 1: guest window from VA 0, keep CAP_SYS_RAWIO alone */
	uint32_t low_uid;    /* runner: the uid (and gid) a low-window runner took */
	char error_msg[96]; /* runner: which step failed */
	uint32_t tsc_trap;  /* 1: rdtsc faults in every thread (PR_SET_TSC, set before seccomp) */
	/*
	 * Tests only (SPLITVISOR_TEST_ENTRY_DELAY, TSC cycles; normally 0):
	 * the runner spins this long after its last look at the kick flag in
	 * C, just before it jumps to a restore block, so that a kick can land
	 * there (runner.c, enter_guest).  Nothing to gain for a guest.
	 */
	uint32_t test_entry_delay;
	uint64_t shinfo_offset; /* shared_info's page in the memfd, mapped at SV_PROC_SHINFO_VA */
};
#endif

#endif
