// SPDX-License-Identifier: MIT
/*
 * A PV guest's LDT on the KVM engine.  Xen maps the guest's LDT frames
 * into its own per-vCPU area and points LDTR there (LDT_ENTRY in the
 * reserved GDT entries).  Here each vCPU has a copy of its LDT in the
 * hypervisor's private area (PV_LDT_PAGES pages after the level-1 page
 * pv_priv_ldt_l1 names, mapped supervisor-only at KVM_LDT_VA), filled
 * from the frames pv_ldt.c holds (the segment-descriptor type keeps the
 * guest from writing them except through update_descriptor, which
 * calls us again), and an LDT descriptor at SEL_LDT in the vCPU's GDT.
 * LDTR itself is vCPU state: set with KVM_SET_SREGS on the vCPU's own
 * thread before its next run (kvm_ldt_apply), its limit the LDT's
 * entries; none (0 entries, or an LDT whose frames did not resolve) is a
 * NUL LDTR, so an LDT selector raises #GP(selector) for the guest.
 *
 * Under PVM the guest's CPL3 code runs on the host's descriptor tables:
 * a load of one of the guest's selectors faults there and PVM's
 * instruction emulator does it from the vCPU's GDTR and LDTR (the copies
 * here); what it cannot load it raises in the guest as #GP, which the
 * core bounces to the guest's trap table.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include "../hypercall.h"
#include "../mmu.h"
#include "kvm.h"

/* Xen's LDT_ENTRY: FIRST_RESERVED_GDT_ENTRY + 10, a 16-byte system descriptor. */
#define SEL_LDT 0xe050

/* One fill at a time: its callers are any thread, for any vCPU (update_descriptor). */
static pthread_mutex_t ldt_lock = PTHREAD_MUTEX_INITIALIZER;

uint64_t kvm_ldt_va(unsigned vcpu)
{
	return KVM_LDT_VA + (uint64_t)vcpu * PV_LDT_PAGES * PAGE_SIZE;
}

/* LDTR for an LDT of ents entries at va (0: none). */
static struct kvm_segment ldt_seg(uint64_t va, unsigned ents)
{
	if (!ents)
		return (struct kvm_segment){ .unusable = 1, .type = 2 };
	return (struct kvm_segment){ .base = va,
				     .limit = ents * 8 - 1,
				     .selector = SEL_LDT,
				     .type = 2,
				     .present = 1 };
}

/* The 16-byte LDT descriptor the GDT holds at SEL_LDT (zero: none). */
static void ldt_desc(uint64_t *gdt, uint64_t va, unsigned ents)
{
	uint64_t lo = 0, limit = ents ? ents * 8 - 1 : 0;

	if (ents) {
		lo = limit & 0xffff;
		lo |= (va & 0xffffff) << 16;
		lo |= 0x82ULL << 40; /* present, DPL0, LDT */
		lo |= ((limit >> 16) & 0xf) << 48;
		lo |= ((va >> 24) & 0xff) << 56;
	}
	__atomic_store_n(&gdt[SEL_LDT >> 3], lo, __ATOMIC_RELAXED);
	__atomic_store_n(&gdt[(SEL_LDT >> 3) + 1], ents ? va >> 32 : 0, __ATOMIC_RELAXED);
}

void kvm_ldt_changed(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	struct kvm_vcpu *k = kvm_vcpu(v);
	uint64_t first = pv_priv_ldt_l1(d->max_vcpus) + 1 + (uint64_t)v->id * PV_LDT_PAGES;
	uint64_t gdt_page = PV_PRIV_VCPU0 + (uint64_t)v->id * PV_PRIV_PER_VCPU + PV_VCPU_GDT;
	uint64_t *copy = mem_gpa(&d->mem, SV_PRIV_GPA + first * PAGE_SIZE, PV_LDT_PAGES * PAGE_SIZE);
	uint64_t *gdt = mem_gpa(&d->mem, SV_PRIV_GPA + gdt_page * PAGE_SIZE, 16 * PAGE_SIZE);
	unsigned n;

	if (!copy || !gdt || v->id >= SV_MAX_VCPUS)
		return;
	pthread_mutex_lock(&ldt_lock);
	n = pv_ldt_snapshot(v, copy);
	ldt_desc(gdt, kvm_ldt_va(v->id), n);
	if (k) {
		__atomic_store_n(&k->ldt_ents, n, __ATOMIC_RELAXED);
		__atomic_store_n(&k->ldt_pending, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&ldt_lock);
}

struct kvm_segment kvm_ldt_seg(struct hv_vcpu *v)
{
	struct kvm_vcpu *k = kvm_vcpu(v);

	__atomic_store_n(&k->ldt_pending, false, __ATOMIC_RELAXED);
	return ldt_seg(kvm_ldt_va(v->id), __atomic_load_n(&k->ldt_ents, __ATOMIC_ACQUIRE));
}

int kvm_ldt_apply(struct hv_vcpu *v)
{
	struct kvm_vcpu *k = kvm_vcpu(v);
	struct kvm_sregs sr;

	if (!__atomic_load_n(&k->ldt_pending, __ATOMIC_ACQUIRE))
		return 0;
	if (ioctl(k->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	sr.ldt = kvm_ldt_seg(v);
	k->sregs.ldt = sr.ldt;
	if (ioctl(k->fd, KVM_SET_SREGS, &sr) < 0)
		return -errno;
	return 0;
}
