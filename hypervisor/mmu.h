/* SPDX-License-Identifier: MIT */
/*
 * Xen's page-type and reference accounting for PV guests (mmu.c), and the
 * MMU hypercalls built on it: mmu_update, mmuext_op, update_va_mapping
 * and update_va_mapping_otherdomain.
 */
#ifndef HV_MMU_H
#define HV_MMU_H

#include "hv.h"

/* A frame's type: what its type references say it is used as. */
enum mmu_type {
	MMU_T_NONE = 0,
	MMU_T_L1 = 1, /* L1..L4: a page table of that level */
	MMU_T_L2 = 2,
	MMU_T_L3 = 3,
	MMU_T_L4 = 4,
	MMU_T_WRITABLE = 5, /* mapped writable somewhere */
	MMU_T_SEG_DESC = 6, /* Xen's PGT_seg_desc_page: a GDT frame (pv_desc.c) */
};

#define MMU_F_PINNED 1u
#define MMU_F_VALIDATED 2u

/* One RAM frame (in memfd order, as memop.c's pfn). */
struct mmu_frame {
	uint32_t refs;	     /* general references: mappings, links, pins, base pointers */
	uint32_t type_count; /* references of its current type */
	uint32_t links;	     /* entries of higher tables that reference it as a table */
	uint32_t up_pfn[2];  /* up to two of those tables (UINT32_MAX: none), at up_idx */
	uint16_t up_idx[2];
	uint8_t type;  /* enum mmu_type; NONE whenever type_count is 0 */
	uint8_t flags; /* MMU_F_* */
};

struct hv_mmu {
	pthread_mutex_t lock; /* everything below; taken after d->lock, never before it */
	uint64_t nr;	      /* frames: d->mem.nr_frames */
	struct mmu_frame *f;
	bool started;			  /* the boot table was pinned (first vCPU context) */
	uint64_t base[SV_MAX_VCPUS];	  /* root table each vCPU holds a reference on; 0: none */
	uint64_t user_base[SV_MAX_VCPUS]; /* MMUEXT_NEW_USER_BASEPTR's; 0: none */
	uint64_t ldt_base[SV_MAX_VCPUS], ldt_ents[SV_MAX_VCPUS];
	/* The mappings a batch changed, handed to the engine once at its end. */
	struct hv_va_range pend[32];
	unsigned nr_pend;
	bool pend_all;
	uint64_t pend_root;  /* the batch's addresses are those of this top-level table */
	bool pend_root_set;  /* pend_root decided for the batch (mapped_base, once) */
	uint64_t ldt_logged;
	bool ldt_pending[SV_MAX_VCPUS]; /* a SET_LDT in the batch: resolve after it (pv_ldt.c) */
	/* A writable mapping went since the engine last synced (mmu.c get_type). */
	bool writable_dropped;
	struct hv_vcpu *cur; /* the vCPU whose hypercall holds the lock */
	/* Frames the hypervisor holds (mmu_hold_writable), for the leak check at the end. */
	uint64_t held;
};

/* pv_domain_init: the frame table, every frame untyped; fini frees it. */
int mmu_domain_init(struct hv_domain *d);
void mmu_domain_fini(struct hv_domain *d);
/*
 * vcpu_set_context: v will run on the tables at cr3.  The first context of
 * a domain pins them as its boot L4 (validating every entry, as Xen's
 * builder pins pt_base); each vCPU then holds a root reference on its
 * tables.  -EINVAL (or Xen's error of the entry that failed) and nothing
 * changed when they do not validate.
 */
int mmu_vcpu_context(struct hv_vcpu *v, uint64_t cr3);
/*
 * The same with a user page-table base (ctrlreg[1], 0: none), validated
 * as an L4 as well (Xen's arch_set_info_guest), and the LDT the context
 * names (recorded; the caller then resolves it, pv_ldt_changed).  All or
 * nothing.
 */
int mmu_vcpu_context_full(struct hv_vcpu *v, uint64_t cr3, uint64_t ucr3, uint64_t ldt_base,
			  uint64_t ldt_ents);
/* A restore's MMUEXT_PIN_Ln_TABLE (level 1..4) of mfn, validated as the guest's own; Xen's errors. */
int mmu_pin_table(struct hv_domain *d, unsigned level, uint64_t mfn);
/* The LDT a vCPU's context names (MMUEXT_SET_LDT). */
void mmu_vcpu_ldt(struct hv_domain *d, unsigned vcpu, uint64_t *base, uint64_t *ents);
/*
 * memop.c, under d->lock: may frames [pfn, pfn + n) be given back (no
 * type, no reference)?  Returns with the MMU locked when true: the caller
 * removes them and then calls mmu_unlock.
 */
bool mmu_frames_free_lock(struct hv_domain *d, uint64_t pfn, uint64_t n);
void mmu_unlock(struct hv_domain *d);
/*
 * A guest frame the hypervisor keeps mapped and writes (a FIFO control
 * block or event-array page, a registered vcpu_info, the pirq EOI map):
 * Xen's get_page_and_type(PGT_writable_page).  A reference and a writable
 * type reference, so the guest can neither make it a page table (pin or
 * link: -EINVAL) nor give it back (decrease_reservation refuses it) until
 * mmu_release_writable.  gpa is any address in the frame.  0, or -EINVAL
 * (as Xen's map_guest_page / map_vcpu_info) when it is not the domain's
 * present RAM or is a page table.  Takes the MMU lock: callers may hold
 * d->lock or d->ev.lock, never the MMU lock.  Without a frame table (no
 * PV accounting) both are no-ops.
 */
int mmu_hold_writable(struct hv_domain *d, uint64_t gpa);
void mmu_release_writable(struct hv_domain *d, uint64_t gpa);
/*
 * A GDT frame (set_gdt, a context's gdt_frames): Xen's
 * get_page_and_type(PGT_seg_desc_page).  A reference and a segment-
 * descriptor type reference; the first validates the frame's 512
 * descriptors (pv_desc_check_page, fixing them up as Xen does), and while
 * it holds the frame can be neither mapped writable nor a page table.
 * -EINVAL when gpa is not the domain's present RAM, has another type or
 * does not validate.  Released by mmu_release_writable (any held frame).
 */
int mmu_hold_desc(struct hv_domain *d, uint64_t gpa);
/* pv_desc.c: Xen's alloc_segdesc_page, all 512 descriptors checked and fixed up in place. */
bool pv_desc_check_page(struct hv_domain *d, uint64_t *page);
/*
 * update_descriptor's write of the (checked) descriptor val at gpa, an
 * 8-byte aligned address: the frame must be the domain's RAM and take a
 * segment-descriptor type reference if it has that type, else a writable
 * one (Xen's do_update_descriptor).  0 or -EINVAL, nothing written.
 */
int mmu_write_desc(struct hv_domain *d, uint64_t gpa, uint64_t val);
/* Frames held by mmu_hold_writable and not yet released (0 when all went back). */
uint64_t mmu_held(struct hv_domain *d);
/* A frame's accounting, for tests and the log (false: not a RAM frame). */
bool mmu_frame_info(struct hv_domain *d, uint64_t gpa, struct mmu_frame *out);

/*
 * Xen's writable page tables (ptwr, VMASST_TYPE_writable_pagetables): the
 * guest kernel wrote the 8-byte entry at gpa through a read-only mapping
 * of one of its L1 tables (pv_emul.c decoded the store).  *old gets the
 * entry as it was; unless use_cmp and it differs from cmp, val is written
 * as one MMU_NORMAL_PT_UPDATE (Xen's checks and adjustments, the engine
 * told).  0, or Xen's error (-EINVAL: not an L1 table of the domain, or
 * the new entry does not validate): nothing written, the fault is the
 * guest's.
 */
long mmu_ptwr(struct hv_vcpu *v, uint64_t gpa, bool use_cmp, uint64_t cmp, uint64_t val,
	      uint64_t *old);

long hc_mmu_update(struct hv_vcpu *v, const uint64_t *a);
long hc_mmuext_op(struct hv_vcpu *v, const uint64_t *a);
long hc_update_va_mapping(struct hv_vcpu *v, const uint64_t *a);
long hc_update_va_mapping_otherdomain(struct hv_vcpu *v, const uint64_t *a);

#endif
