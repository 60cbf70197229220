// SPDX-License-Identifier: MIT
/*
 * A PV vCPU's privileged state that the guest changes by hypercall rather
 * than by instruction: segment bases (set_segment_base, and the MSR
 * writes pv_emul.c takes) and the virtual CR0.TS (fpu_taskswitch).
 */
#include <errno.h>
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
 * loads a user %gs selector (RPL forced to 3 for non-NUL ones), whose
 * base is the flat descriptors' 0.  The engine loads what changed before
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
		uint16_t sel = (uint16_t)base;
		v->gs_sel_user = sel > 3 ? sel | 3 : 0;
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
