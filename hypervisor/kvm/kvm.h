/* SPDX-License-Identifier: MIT */
/* The KVM engine's private state: /dev/kvm, VMs, vCPU fds, and PV at CPL3 on KVM. */
#ifndef KVM_ENGINE_H
#define KVM_ENGINE_H

#include <linux/kvm.h>
#include "../hv.h"

struct kvm_host_state {
	int kvm_fd;
	int vcpu_mmap_size;
	struct kvm_cpuid2 *cpuid; /* supported leaves plus Xen's */
};
extern struct kvm_host_state kvm_host; /* kvm_host.c: set once by kvm_engine_probe */

/* The memslots of a VM (kvm_mem.c, kvm_sync.c). */
enum { KVM_SLOT_RAM_LOW, KVM_SLOT_RAM_HIGH, KVM_SLOT_PRIV, KVM_SLOT_FLUSH, KVM_SLOT_SYNC };

/* Places in the guest's page tables queued for the sync vCPU (kvm_sync.c), at most: */
#define KVM_SYNC_MAX 256
#define KVM_SYNC_PAGE 1ULL /* in a queued gpa: the whole frame, not the entry there */

struct kvm_sync {
	int fd; /* the sync vCPU; -1: none, the memslot toggle does it all */
	struct kvm_run *run;
	uint8_t *mem; /* its memslot: its own tables and code */
	uint64_t q[KVM_SYNC_MAX];
	unsigned nr;
	bool all;     /* more than the queue holds: a memslot toggle */
	bool pending; /* something queued: read without the lock before an entry */
	bool fail;    /* it could not be made or failed once (logged) */
	uint64_t runs, toggles;
};

struct kvm_dom {
	int vm_fd;
	pthread_mutex_t flush_lock; /* the sync queue and vCPU, the flush memslot */
	struct kvm_sync sync;
};

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
	struct kvm_sregs sregs; /* the CPL3 start state, cr3 and bases filled at load */
	/* PV private area of this vCPU: GDT, TSS, fault stack (kvm_pv.c). */
	uint64_t gdt_va, tss_va, ist_top_va;
	uint8_t *ist_top; /* host pointer to the top of the fault stack */
	bool in_cgroup;	  /* its thread joined the domain's cgroup (first run) */
	bool in_stub;	  /* stopped in a CPL0 fault stub: CPL3's CS and SS back before it runs */
	bool cut_short;	  /* the last KVM_RUN ended on a kick, perhaps mid-delivery (kvm_pv_mid_stub) */
	bool cr3_pending; /* MMUEXT_NEW_BASEPTR: load v->cr3 before the next KVM_RUN */
	/* The LDT copy's entries (kvm_ldt.c); LDTR to be set before the next KVM_RUN. */
	unsigned ldt_ents;
	bool ldt_pending;
};

static inline struct kvm_dom *kvm_dom(struct hv_domain *d)
{
	return d->eng_priv;
}

static inline struct kvm_vcpu *kvm_vcpu(struct hv_vcpu *v)
{
	return v->eng;
}

/* kvm_mem.c */
int kvm_mem_slots(struct hv_domain *d);
/* A memslot create+delete: makes KVM drop every shadow page table.  flush_lock held. */
int kvm_mem_toggle(struct hv_domain *d);

/* kvm_sync.c: KVM's shadow told of the hypervisor's page-table writes. */
void kvm_sync_init(struct hv_domain *d);
void kvm_sync_fini(struct hv_domain *d);
void kvm_sync_free(struct hv_domain *d);
/* The entry at gpa was written (page: anything in its frame may have been). */
void kvm_sync_note(struct hv_domain *d, uint64_t gpa, bool page);
/* Everything noted so far reaches KVM's shadow, on every vCPU, before this returns. */
int kvm_sync_flush(struct hv_domain *d);
/* The sync vCPU's code for n queued places; its length, 0 if it does not fit in size. */
size_t kvm_sync_code(uint8_t *code, size_t size, const uint64_t *q, unsigned n);

/* kvm_pv.c */
int kvm_pv_domain_init(struct hv_domain *d);
int kvm_pv_vcpu_init(struct hv_vcpu *v);
/*
 * The guest part of a vCPU's GDT (entries below FIRST_RESERVED_GDT_ENTRY):
 * the first ents descriptors of the guest's frames, the rest zero; the
 * reserved entries (the hypervisor's, Xen's FLAT_RING3_*) are left alone.
 */
void kvm_pv_gdt_fill(uint64_t *gdt, const struct hv_mem *mem, const uint64_t *frames,
		     unsigned ents);
void kvm_pv_gdt_changed(struct hv_vcpu *v);
int kvm_pv_install_l4(struct hv_domain *d, uint64_t l4_gpa);
void kvm_pv_hypercall_page(struct hv_domain *d, uint8_t *page);
/* The CPL0 stub reported a fault: decode it into e (HV_EXIT_FAULT or HV_EXIT_CRASH). */
void kvm_pv_fault(struct hv_vcpu *v, struct hv_exit *e);
void kvm_pv_syscall(struct hv_vcpu *v, struct hv_exit *e);
bool kvm_pv_va_reserved(uint64_t va);
bool kvm_pv_mid_stub(struct hv_vcpu *v);

/* kvm_ldt.c: each vCPU's LDT copy, PV_LDT_PAGES pages from KVM_LDT_VA on. */
#define KVM_LDT_VA (SV_PRIV_VA + (1ULL << 21)) /* the private slot's second 2 MiB */
uint64_t kvm_ldt_va(unsigned vcpu);
void kvm_ldt_changed(struct hv_vcpu *v); /* the engine's ldt_changed */
/* LDTR as the copy stands (and no LDTR change pending any more). */
struct kvm_segment kvm_ldt_seg(struct hv_vcpu *v);
/* On v's thread before a run: LDTR with KVM_SET_SREGS if it changed. */
int kvm_ldt_apply(struct hv_vcpu *v);

#endif
