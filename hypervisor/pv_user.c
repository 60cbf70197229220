// SPDX-License-Identifier: MIT
/*
 * Guest user mode for x86-64 PV, as Xen runs it: the guest kernel and its
 * processes both execute unprivileged, told apart by a per-vCPU mode and
 * by their page tables.  Kernel mode runs on the base pointer of
 * MMUEXT_NEW_BASEPTR with the kernel %gs base, user mode on the one of
 * MMUEXT_NEW_USER_BASEPTR with the user %gs base (Xen's toggle_guest_mode:
 * swapgs and the other cr3).  HYPERVISOR_iret to a frame whose CS has
 * RPL 3 enters user mode (pv.c); an exception, event or NMI in user mode
 * toggles back and bounces onto the stack_switch stack (pv.c,
 * pv_bounce_frame); a `syscall` in user mode enters the syscall callback
 * (Xen's switch_to_kernel, below).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "hv.h"
#include "mmu.h"

uint64_t pv_user_base(struct hv_vcpu *v)
{
	struct hv_mmu *m = v->dom->mmu;
	uint64_t base;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	base = m->user_base[v->id];
	pthread_mutex_unlock(&m->lock);
	return base;
}

int pv_toggle_mode(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	const struct hv_engine *eng = d->eng;
	uint64_t kbase = 0, ubase = 0;

	if (d->mmu) {
		pthread_mutex_lock(&d->mmu->lock);
		kbase = d->mmu->base[v->id];
		ubase = d->mmu->user_base[v->id];
		pthread_mutex_unlock(&d->mmu->lock);
	}
	v->user_mode = !v->user_mode;
	/* The tables themselves hold their references (base, user_base); cr3 only names one. */
	if (v->user_mode ? ubase : kbase)
		v->cr3 = v->user_mode ? ubase : kbase;
	v->segs_dirty = true; /* swapgs: the other %gs base is the active one now */
	if (eng && eng->new_baseptr && eng->new_baseptr(v)) {
		vcpu_dump_and_crash(v, "cannot switch the address space between kernel and user mode");
		return -EFAULT;
	}
	return 0;
}

#define UD_VECTOR 6

/*
 * Xen's switch_to_kernel for a 64-bit `syscall` from user mode: the CPU
 * has put the return rip in rcx and rflags in r11; the frame shows user
 * mode (FLAT_USER_CS64, FLAT_USER_SS64), is built on the kernel stack of
 * stack_switch, and enters the syscall callback with events masked when
 * it was registered with CALLBACKF_mask_events.  No callback: Xen turns
 * the syscall into a #UD at the instruction for the guest's #UD handler;
 * with no handler either the domain is crashed.
 */
void pv_user_syscall(struct hv_vcpu *v)
{
	struct hv_regs *r = &v->regs;
	uint64_t entry = v->syscall_callback; /* this vCPU's, as Xen keeps it */
	bool mask = v->syscall_masks;

	r->rcx = r->rip;
	r->r11 = r->rflags;
	v->regs_dirty = true;
	if (!entry) {
		uint64_t ud = v->trap_addr[UD_VECTOR];

		if (!ud) {
			vcpu_dump_and_crash(v, "syscall from user mode with no syscall callback and "
					       "no #UD handler");
			return;
		}
		r->rip -= 2; /* the #UD is the syscall instruction's (0f 05) */
		(void)pv_bounce_frame(v, ud, "syscall #UD", false, 0,
				      v->trap_flags[UD_VECTOR] & 4 /* TI_GET_IF */);
		return;
	}
	(void)pv_bounce_frame(v, entry, "syscall", false, 0, mask);
}

/*
 * A `syscall` in guest kernel mode is a hypercall, as on Xen (whose
 * hypercall page is `mov $nr,%eax; syscall`, and which kernels patched
 * for XSA-466 and Mini-OS-style kernels such as PV GRUB issue inline):
 * number in rax, arguments in rdi rsi rdx r10 r8, the result in rax.  The
 * CPU has already put the return rip in rcx and rflags in r11 (Xen's
 * sysret takes them back), and rip is past the instruction.
 */
void pv_kernel_syscall(struct hv_vcpu *v)
{
	v->regs.rcx = v->regs.rip;
	v->regs.r11 = v->regs.rflags;
	v->regs_dirty = true;
	hypercall_dispatch(v);
}

/*
 * A host system call the engine stopped (the process engine: seccomp's
 * SIGSYS, rip after the instruction).  In user mode a 64-bit one is the
 * guest process's `syscall`.  In kernel mode a 64-bit one (x32 numbers
 * included: they are only numbers) is a hypercall.  In either mode an
 * i386 one is the guest's `int $0x80` (in a 64-bit process that is a host
 * system call, not a #GP): the software interrupt through the trap table
 * as on Xen (the traps word raises it in kernel mode).  Another ABI
 * crashes the domain.
 */
void pv_syscall_exit(struct hv_vcpu *v, const struct hv_exit *e)
{
	char why[200];

	if (v->user_mode && e->sys_abi && !strcmp(e->sys_abi, "x86_64")) {
		pv_user_syscall(v);
		return;
	}
	if (!v->user_mode && e->sys_abi &&
	    (!strcmp(e->sys_abi, "x86_64") || !strcmp(e->sys_abi, "x32"))) {
		pv_kernel_syscall(v);
		return;
	}
	if (e->sys_abi && !strcmp(e->sys_abi, "i386")) {
		struct hv_exit gp = { .kind = HV_EXIT_FAULT, .vector = 13 };

		/* As the CPU would report `int $0x80` through a DPL0 gate: #GP(0x80 << 3 | 2). */
		gp.error_code = (0x80 << 3) | 2;
		gp.frame[0] = v->regs.rip - 2;
		gp.frame[1] = v->user_mode ? FLAT_USER_CS64 : FLAT_KERNEL_CS64;
		gp.frame[2] = v->regs.rflags;
		gp.frame[3] = v->regs.rsp;
		gp.frame[4] = v->user_mode ? FLAT_USER_SS64 : FLAT_KERNEL_SS64;
		pv_fault(v, &gp);
		return;
	}
	snprintf(why, sizeof(why), "host system call %llu (%s) denied",
		 (unsigned long long)e->sys_nr, e->sys_abi ? e->sys_abi : "unknown ABI");
	domain_crash(v->dom, why);
}
