// SPDX-License-Identifier: MIT
/* NMIs for PV guests, as Xen sends them (XEN_DOMCTL_SENDTRIGGER_NMI): a callback the guest
 * registered, entered once until its iret. */
#include <errno.h>
#include "hv.h"

/*
 * Mark an NMI pending on the vCPU and get it there: a blocked vCPU is
 * woken (Xen's vcpu_kick unblocks too), a running one leaves the guest
 * soon.  The flag is set under dom->lock, which SCHEDOP_block also takes,
 * so a vCPU never goes to sleep on a pending NMI.
 */
int nmi_send(struct hv_domain *d, uint32_t vcpu)
{
	struct hv_vcpu *v;
	int ret = 0;

	if (vcpu >= d->max_vcpus)
		return -EINVAL;
	v = d->vcpus[vcpu];
	pthread_mutex_lock(&d->lock);
	if (d->state == DOM_DYING) {
		ret = -ESRCH;
	} else {
		atomic_store(&v->nmi_pending, true);
		if (v->state == VCPU_BLOCKED) {
			v->state = VCPU_RUNNABLE;
			v->poll_deadline_ns = 0;
			pthread_cond_broadcast(&v->wake);
		} else if (atomic_load(&v->in_guest)) {
			vcpu_kick(v);
		}
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

/*
 * As Xen's process_nmi: a pending NMI waits while the guest is still in
 * its NMI handler; else it is taken, and entered through the vCPU's NMI
 * callback with the event frame (events masked), or dropped when the
 * guest registered none.  Before events: Xen tests NMIs first too.
 */
void nmi_deliver(struct hv_vcpu *v)
{
	uint64_t entry;

	if (!atomic_load(&v->nmi_pending) || v->nmi_masked || !v->ran)
		return;
	atomic_store(&v->nmi_pending, false);
	pthread_mutex_lock(&v->dom->lock);
	entry = v->nmi_callback;
	pthread_mutex_unlock(&v->dom->lock);
	if (!entry) {
		hv_log("d%u v%u: NMI dropped: no NMI callback registered", v->dom->domid, v->id);
		return;
	}
	if (!pv_bounce(v, entry, "NMI")) {
		v->nmi_masked = true;
		v->nmis++;
	}
}
