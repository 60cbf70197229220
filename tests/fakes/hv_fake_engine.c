// SPDX-License-Identifier: MIT
/* An engine of fakes with the KVM engine's guest ABI; see hv_fake_engine.h. */
#include "hv_fake_engine.h"

static int fake_pte_changed(struct hv_vcpu *v, uint64_t va)
{
	return 0;
}

static int fake_install_l4(struct hv_domain *d, uint64_t l4)
{
	return 0;
}

static uint64_t fake_tsc(struct hv_vcpu *v)
{
	return 1;
}

static void fake_kick(struct hv_vcpu *v)
{
}

static void fake_unkick(struct hv_vcpu *v)
{
}

static void fake_domain_stop(struct hv_domain *d)
{
}

static pid_t fake_host_tid(struct hv_vcpu *v, pid_t *pid)
{
	return 0; /* no host thread behind it */
}

void hv_fake_engine(struct hv_engine *e)
{
	*e = (struct hv_engine){
		.name = hv_kvm_engine.name,
		.id = hv_kvm_engine.id,
		.m2p_va = hv_kvm_engine.m2p_va,
		.virt_start = hv_kvm_engine.virt_start,
		.va_reserved = hv_kvm_engine.va_reserved,
		.hypercall_page = hv_kvm_engine.hypercall_page,
		.pte_changed = fake_pte_changed,
		.install_l4 = fake_install_l4,
		.vcpu_tsc = fake_tsc,
		.vcpu_kick = fake_kick,
		.vcpu_unkick = fake_unkick,
		.domain_stop = fake_domain_stop,
		.vcpu_host_tid = fake_host_tid,
	};
}
