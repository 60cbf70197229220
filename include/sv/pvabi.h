/* SPDX-License-Identifier: MIT */
/* The contract between the hypervisor core and the domain builder for PV guests. */
#ifndef SV_PVABI_H
#define SV_PVABI_H

/*
 * I/O ports the hypercall page and the hypervisor's own CPL0 stubs use.
 * A hypercall stub is "mov $nr,%eax; out %al,$SV_PORT_HYPERCALL; ret":
 * the `out` exits to the VMM with the arguments in rdi, rsi, rdx, r10, r8
 * (Xen's x86-64 ABI) and the VMM writes the result to rax.  The TSS I/O
 * bitmap lets CPL3 reach SV_PORT_HYPERCALL and SV_PORT_SYSCALL only;
 * SV_PORT_FAULT is used by the CPL0 exception stubs, SV_PORT_SYSCALL by the
 * stub a guest `syscall` enters (at CPL0 on hardware, at CPL3 under PVM).
 */
#define SV_PORT_HYPERCALL 0xEA
#define SV_PORT_FAULT 0xEB
#define SV_PORT_SYSCALL 0xEC

/* Size of one hypercall-page stub, as in Xen. */
#define SV_HYPERCALL_STUB_SIZE 32

/*
 * Guest-physical layout of every domain.  Guest RAM starts at 0 and runs up
 * to SV_RAM_LOW_MAX; RAM beyond that continues at SV_RAM_HIGH_BASE, leaving
 * the hole below 4 GiB for the hypervisor's private pages and (for HVM and
 * the event path) the local APIC at 0xFEE00000.  For a PV guest the
 * "machine frame" of a page is its guest-physical frame here.
 */
#define SV_RAM_LOW_MAX 0xC0000000ULL	/* 3 GiB */
#define SV_RAM_HIGH_BASE 0x100000000ULL /* 4 GiB */
#define SV_PRIV_GPA 0xFD000000ULL	/* hypervisor-private pages */
#define SV_PRIV_MAX_SIZE 0x01000000ULL	/* at most 16 MiB of them */

/* Frame of the shared_info page: the first private page. */
#define SV_SHARED_INFO_GPA SV_PRIV_GPA

/*
 * Guest-virtual windows the hypervisor owns in every PV address space, in
 * Xen's reserved range (PML4 slots 256-271).  Slot 256 faults at CPL3 on
 * PVM hosts, so the read-only M2P goes to slot 257 and the hypervisor's
 * private pages (GDT, IDT, TSS, stubs: supervisor-only) to slot 258.
 */
#define SV_M2P_VA 0xFFFF808000000000ULL	 /* PML4 slot 257 */
#define SV_PRIV_VA 0xFFFF810000000000ULL /* PML4 slot 258 */
#define SV_PRIV_L4_SLOT 258
#define SV_XEN_L4_FIRST 256
#define SV_XEN_L4_LAST 271

#define SV_MAX_VCPUS 16

#endif
