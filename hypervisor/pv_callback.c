// SPDX-License-Identifier: MIT
/*
 * The PV callbacks and a vCPU's context, per vCPU as Xen 4.17 keeps them.
 *
 * Per vCPU (struct hv_vcpu): the event, failsafe, syscall, syscall32,
 * sysenter and NMI callbacks with their CALLBACKF_mask_events, the trap
 * table, the stack_switch stack, the LDT, the segment bases, the page
 * tables (kernel and user), kernel/user mode.  Per domain: vm_assist (a
 * context sets it for vCPU 0 only), the shared_info, memory.
 * set_callbacks and callback_op change the calling vCPU's callbacks;
 * VCPUOP_initialise (and the builder's context) sets a new vCPU's from its
 * vcpu_guest_context; vcpu_get_context is what a save would copy back.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "hv.h"
#include <xen/errno.h>
#include <xen/callback.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "hypercall.h"
#include "mmu.h"

#define X86_CR0_TS 8ULL

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/*
 * Xen's register_guest_callback, for the calling vCPU: any canonical
 * address (a callback the guest does not map is its own loss: it faults
 * when entered); CALLBACKF_mask_events is kept for failsafe, syscall,
 * syscall32 and sysenter, and ignored for event and NMI (always masked).
 * 0, -EINVAL (not canonical: nothing changes) or -ENOSYS (no such type).
 */
static long register_callback(struct hv_vcpu *v, unsigned type, unsigned flags, uint64_t address)
{
	bool mask = (flags & CALLBACKF_mask_events) != 0;

	if (!canonical(address))
		return -XEN_EINVAL;
	switch (type) {
	case CALLBACKTYPE_event:
		v->event_callback = address;
		return 0;
	case CALLBACKTYPE_failsafe:
		v->failsafe_callback = address;
		v->failsafe_masks = mask;
		return 0;
	case CALLBACKTYPE_syscall:
		v->syscall_callback = address;
		v->syscall_masks = mask;
		return 0;
	case CALLBACKTYPE_syscall32:
		v->syscall32_callback = address;
		v->syscall32_masks = mask;
		return 0;
	case CALLBACKTYPE_sysenter:
		v->sysenter_callback = address;
		v->sysenter_masks = mask;
		return 0;
	case CALLBACKTYPE_nmi:
		pthread_mutex_lock(&v->dom->lock); /* nmi.c reads it under the lock */
		v->nmi_callback = address;
		pthread_mutex_unlock(&v->dom->lock);
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}

/* set_callbacks: the three 64-bit ones with flags 0; a bad address is skipped, as Xen. */
long hc_set_callbacks(struct hv_vcpu *v, const uint64_t *a)
{
	(void)register_callback(v, CALLBACKTYPE_event, 0, a[0]);
	(void)register_callback(v, CALLBACKTYPE_failsafe, 0, a[1]);
	(void)register_callback(v, CALLBACKTYPE_syscall, 0, a[2]);
	return 0;
}

/*
 * callback_op.  Unregister, as Xen: only the NMI callback can go (0);
 * event, failsafe, syscall, syscall32 and sysenter say -EINVAL and stay;
 * any other type -ENOSYS.  Other commands -ENOSYS.
 */
long hc_callback_op(struct hv_vcpu *v, const uint64_t *a)
{
	switch (a[0]) {
	case CALLBACKOP_register: {
		struct callback_register cb;

		if (vcpu_copy_from_guest(v, &cb, a[1], sizeof(cb)))
			return -XEN_EFAULT;
		return register_callback(v, cb.type, cb.flags, cb.address);
	}
	case CALLBACKOP_unregister: {
		struct callback_unregister cb;

		if (vcpu_copy_from_guest(v, &cb, a[1], sizeof(cb)))
			return -XEN_EFAULT;
		switch (cb.type) {
		case CALLBACKTYPE_event:
		case CALLBACKTYPE_failsafe:
		case CALLBACKTYPE_syscall:
		case CALLBACKTYPE_syscall32:
		case CALLBACKTYPE_sysenter:
			return -XEN_EINVAL;
		case CALLBACKTYPE_nmi:
			return register_callback(v, CALLBACKTYPE_nmi, 0, 0);
		default:
			return -XEN_ENOSYS;
		}
	}
	default:
		return -XEN_ENOSYS;
	}
}

/*
 * Xen's checks of arch_set_info_guest for a 64-bit PV context, made
 * before anything changes: every address canonical (rip, rsp, kernel_sp,
 * the bases, the three callbacks, each trap-table entry), an LDT page
 * aligned, at most 8192 entries and below the hypervisor's range, vCPU 0's
 * vm_assist only of known types, the page-table bases (ctrlreg[3] and the
 * user one in ctrlreg[1]) frames a page-table entry can name.  The
 * tables themselves are validated as L4s when they are taken
 * (mmu_vcpu_context_full), the LDT's frames once the context is set
 * (pv_ldt.c).
 */
int vcpu_context_check(const struct hv_vcpu *v, const struct vcpu_guest_context *ctx)
{
	const struct cpu_user_regs *u = &ctx->user_regs;
	const struct hv_engine *eng = v->dom->eng;

	if (!canonical(u->rip) || !canonical(u->rsp) || !canonical(ctx->kernel_sp) ||
	    !canonical(ctx->ldt_base) || !canonical(ctx->fs_base) ||
	    !canonical(ctx->gs_base_kernel) || !canonical(ctx->gs_base_user) ||
	    !canonical(ctx->event_callback_eip) || !canonical(ctx->syscall_callback_eip) ||
	    !canonical(ctx->failsafe_callback_eip))
		return -EINVAL;
	for (unsigned i = 0; i < 256; i++)
		if (!canonical(ctx->trap_ctxt[i].address))
			return -EINVAL;
	if ((ctx->ldt_base & (PAGE_SIZE - 1)) || ctx->ldt_ents > 8192 ||
	    (eng && eng->va_reserved && eng->va_reserved(ctx->ldt_base)))
		return -EINVAL;
	if (v->id == 0 && (ctx->vm_assist & ~HV_VMASST_VALID))
		return -EINVAL;
	if (ctx->gdt_ents > FIRST_RESERVED_GDT_ENTRY) /* its frames: pv_gdt_context_take */
		return -EINVAL;
	/* Frame numbers past what a page-table entry can hold name no frame. */
	if ((ctx->ctrlreg[3] >> PAGE_SHIFT) > (0x000ffffffffff000ULL >> PAGE_SHIFT) ||
	    (ctx->ctrlreg[1] >> PAGE_SHIFT) > (0x000ffffffffff000ULL >> PAGE_SHIFT))
		return -EINVAL;
	return 0;
}

/* The callbacks, trap table and vm_assist of a checked context (vcpu_set_context). */
void vcpu_context_callbacks(struct hv_vcpu *v, const struct vcpu_guest_context *ctx)
{
	v->event_callback = ctx->event_callback_eip;
	v->failsafe_callback = ctx->failsafe_callback_eip;
	v->failsafe_masks = (ctx->flags & VGCF_failsafe_disables_events) != 0;
	v->syscall_callback = ctx->syscall_callback_eip;
	v->syscall_masks = (ctx->flags & VGCF_syscall_disables_events) != 0;
	v->syscall32_callback = v->sysenter_callback = 0;
	v->syscall32_masks = v->sysenter_masks = false;
	for (unsigned i = 0; i < 256; i++) {
		v->trap_addr[i] = ctx->trap_ctxt[i].address;
		v->trap_flags[i] = ctx->trap_ctxt[i].address ? ctx->trap_ctxt[i].flags : 0;
	}
	if (v->id == 0)
		__atomic_store_n(&v->dom->vm_assist, ctx->vm_assist, __ATOMIC_RELAXED);
}

/*
 * Xen's arch_get_info_guest for a 64-bit PV vCPU: registers, the trap
 * table, the stack_switch stack, the kernel tables in ctrlreg[3] and the
 * user ones in ctrlreg[1] whatever the mode, the callbacks with their
 * VGCF_*_disables_events, the bases, the domain's vm_assist, and flags
 * VGCF_in_kernel (kernel mode) and VGCF_online.  The vCPU is not running
 * (its own thread, or paused).
 */
void vcpu_get_context(struct hv_vcpu *v, struct vcpu_guest_context *ctx)
{
	struct hv_domain *d = v->dom;
	struct cpu_user_regs *u = &ctx->user_regs;
	const struct hv_regs *r = &v->regs;
	uint64_t kbase = v->cr3, ubase = 0;

	memset(ctx, 0, sizeof(*ctx));
	if (d->mmu) {
		pthread_mutex_lock(&d->mmu->lock);
		kbase = d->mmu->base[v->id];
		ubase = d->mmu->user_base[v->id];
		pthread_mutex_unlock(&d->mmu->lock);
	}
	ctx->flags = (v->user_mode ? 0 : VGCF_in_kernel) |
		     (v->failsafe_masks ? VGCF_failsafe_disables_events : 0) |
		     (v->syscall_masks ? VGCF_syscall_disables_events : 0);
	pthread_mutex_lock(&d->lock);
	/* A shut-down (suspended) domain's vCPUs are up as they were before, as in Xen. */
	enum hv_vcpu_state st = v->state == VCPU_STOPPED ? v->before_shutdown : v->state;
	if (st == VCPU_RUNNABLE || st == VCPU_BLOCKED)
		ctx->flags |= VGCF_online;
	pthread_mutex_unlock(&d->lock);
	u->rax = r->rax, u->rbx = r->rbx, u->rcx = r->rcx, u->rdx = r->rdx;
	u->rsi = r->rsi, u->rdi = r->rdi, u->rbp = r->rbp, u->rsp = r->rsp;
	u->r8 = r->r8, u->r9 = r->r9, u->r10 = r->r10, u->r11 = r->r11;
	u->r12 = r->r12, u->r13 = r->r13, u->r14 = r->r14, u->r15 = r->r15;
	u->rip = r->rip;
	u->rflags = r->rflags | ((uint64_t)(v->iopl & 3) << 12);
	u->cs = v->user_mode ? FLAT_USER_CS64 : FLAT_KERNEL_CS64;
	u->ss = v->user_mode ? FLAT_USER_SS64 : FLAT_KERNEL_SS64;
	for (unsigned i = 0; i < 256; i++) {
		if (!v->trap_addr[i])
			continue;
		ctx->trap_ctxt[i].vector = (uint8_t)i;
		ctx->trap_ctxt[i].flags = v->trap_flags[i];
		ctx->trap_ctxt[i].cs = FLAT_KERNEL_CS64;
		ctx->trap_ctxt[i].address = v->trap_addr[i];
	}
	ctx->kernel_ss = v->kernel_ss;
	ctx->kernel_sp = v->kernel_sp;
	ctx->ctrlreg[0] = v->fpu_ts ? X86_CR0_TS : 0;
	ctx->ctrlreg[3] = xen_pfn_to_cr3(kbase >> PAGE_SHIFT);
	ctx->ctrlreg[1] = ubase ? xen_pfn_to_cr3(ubase >> PAGE_SHIFT) : 0;
	ctx->event_callback_eip = v->event_callback;
	ctx->failsafe_callback_eip = v->failsafe_callback;
	ctx->syscall_callback_eip = v->syscall_callback;
	ctx->fs_base = v->fs_base;
	ctx->gs_base_kernel = v->gs_base_kernel;
	ctx->gs_base_user = v->gs_base_user;
	ctx->vm_assist = __atomic_load_n(&d->vm_assist, __ATOMIC_RELAXED);
	mmu_vcpu_ldt(d, v->id, &ctx->ldt_base, &ctx->ldt_ents);
	pv_gdt_context_get(v, ctx);
}
