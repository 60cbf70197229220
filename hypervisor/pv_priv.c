// SPDX-License-Identifier: MIT
/*
 * A PV vCPU's privileged state that the guest changes by hypercall rather
 * than by instruction: segment bases (set_segment_base, and the MSR
 * writes pv_emul.c takes) and the virtual CR0.TS (fpu_taskswitch).
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <xen/errno.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "hv.h"
#include "hypercall.h"

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/*
 * Xen's do_set_segment_base for a 64-bit PV kernel: a canonical base for
 * %fs, the kernel %gs (active while the kernel runs) or the user %gs (the
 * inactive one, swapped in on the way to user mode); SEGBASE_GS_USER_SEL
 * loads a user %gs selector (RPL forced to 3 for non-NUL ones, an
 * unusable one NUL), whose base is the flat descriptors' 0.  The engine loads what changed before
 * the vCPU next runs.  An engine that cannot load a base (the process
 * engine: only its guest window) refuses it as a non-canonical one.
 * Returns 0 or -XEN_EINVAL.
 */
long pv_set_segment_base(struct hv_vcpu *v, unsigned which, uint64_t base)
{
	const struct hv_engine *eng = v->dom->eng;

	if (which != SEGBASE_GS_USER_SEL &&
	    (!canonical(base) || (eng->seg_base_max && base >= eng->seg_base_max)))
		return -XEN_EINVAL;
	switch (which) {
	case SEGBASE_FS:
		v->fs_base = base;
		break;
	case SEGBASE_GS_KERNEL:
		v->gs_base_kernel = base;
		break;
	case SEGBASE_GS_USER:
		v->gs_base_user = base;
		break;
	case SEGBASE_GS_USER_SEL: {
		/*
		 * RPL 3 for a non-NUL selector; one that names no descriptor a
		 * guest may load (ours are the flat ones) becomes NUL, as Xen's
		 * fault fixup does.  Either way the base is 0.
		 */
		uint16_t sel = (uint16_t)base;
		if (sel > 3)
			sel |= 3;
		/* Xen's ring-3 flat data segment, and its flat code segments (readable: loadable). */
		if (sel > 3 && sel != FLAT_RING3_DS32 && sel != FLAT_RING3_CS32 &&
		    sel != FLAT_RING3_CS64)
			sel = 0;
		v->gs_sel_user = sel;
		v->gs_base_user = 0;
		break;
	}
	default:
		return -XEN_EINVAL;
	}
	v->segs_dirty = true;
	return 0;
}

long hc_set_segment_base(struct hv_vcpu *v, const uint64_t *a)
{
	return pv_set_segment_base(v, (unsigned)a[0], a[1]);
}

/*
 * fpu_taskswitch: set or clear the vCPU's virtual CR0.TS.  While it is
 * set the next FPU/SSE instruction raises #NM to the guest's handler, and
 * Xen clears TS as it delivers that #NM (pv.c).  On the KVM engine this is
 * the vCPU's CR0.TS; the process engine cannot trap a process's FPU use,
 * so there the state is kept and reported but no #NM is raised (docs).
 */
long hc_fpu_taskswitch(struct hv_vcpu *v, const uint64_t *a)
{
	bool ts = a[0] != 0;

	if (v->fpu_ts != ts) {
		v->fpu_ts = ts;
		v->fpu_ts_dirty = true;
	}
	return 0;
}

#define RFLAGS_IF 0x200ULL
#define RFLAGS_GUEST 0x40cd5ULL /* CF PF AF ZF SF DF OF AC */

/*
 * Xen's failsafe bounce (create_bounce_frame with TBF_FAILSAFE): on the
 * stack the failed return would have used, aligned to 16, from the new
 * rsp up: rcx, r11, ds, es, fs, gs, then the return frame rip, cs (the
 * saved upcall mask in bits 32-39), rflags, rsp, ss as the guest gave
 * them (from user mode: on the stack_switch stack, in kernel mode again).
 * Our data selectors are always NUL.  Events are masked only when
 * the callback was registered with CALLBACKF_mask_events.
 */
int pv_failsafe(struct hv_vcpu *v, uint16_t cs, uint16_t ss)
{
	struct vcpu_info *vi = vcpu_info_of(v);
	struct hv_regs *r = &v->regs;
	uint64_t entry, frame[11], top;
	bool mask, masked;
	char why[128];

	entry = v->failsafe_callback; /* the vCPU's own, as Xen's */
	mask = v->failsafe_masks;
	masked = vi && __atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_ACQUIRE);
	if (!entry) {
		snprintf(
		    why, sizeof(why),
		    "iret to cs %#x ss %#x rip %#llx, which cannot be loaded, with no failsafe "
		    "callback",
		    cs, ss, (unsigned long long)r->rip);
		vcpu_dump_and_crash(v, why);
		return -EFAULT;
	}
	/* The failed return was to user mode: back to kernel mode, onto the stack_switch stack. */
	if (v->user_mode) {
		if (pv_toggle_mode(v))
			return -EFAULT;
		top = v->kernel_sp & ~0xfULL;
	} else {
		top = r->rsp & ~0xfULL;
	}
	frame[0] = r->rcx;
	frame[1] = r->r11;
	frame[2] = frame[3] = frame[4] = frame[5] = 0; /* ds es fs gs */
	frame[6] = r->rip;
	frame[7] = cs | ((uint64_t)masked << 32);
	frame[8] = (r->rflags & RFLAGS_GUEST) | (masked ? 0 : RFLAGS_IF) | 2;
	frame[9] = r->rsp;
	frame[10] = ss;
	if (top < sizeof(frame) ||
	    vcpu_copy_to_guest(v, top - sizeof(frame), frame, sizeof(frame))) {
		snprintf(why, sizeof(why), "failsafe callback: stack %#llx is not writable",
			 (unsigned long long)top);
		vcpu_dump_and_crash(v, why);
		return -EFAULT;
	}
	if (vi && mask)
		__atomic_store_n(&vi->evtchn_upcall_mask, 1, __ATOMIC_RELEASE);
	r->rsp = top - sizeof(frame);
	r->rip = entry;
	r->rflags = (r->rflags & RFLAGS_GUEST & ~0x400ULL) | RFLAGS_IF | 2;
	v->regs_dirty = true;
	return 0;
}
