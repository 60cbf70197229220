/* SPDX-License-Identifier: MIT */
/* Hypercall handlers shared between hypercall.c (dispatch) and the files that implement them. */
#ifndef HYPERCALL_H
#define HYPERCALL_H

#include "hv.h"

/* A handler gets the five argument registers and returns a Xen errno or result. */
typedef long (*hypercall_fn)(struct hv_vcpu *v, const uint64_t *args);

/* sched.c */
long hc_sched_op(struct hv_vcpu *v, const uint64_t *a);
long hc_sched_op_compat(struct hv_vcpu *v, const uint64_t *a);
long hc_vcpu_op(struct hv_vcpu *v, const uint64_t *a);
long hc_set_timer_op(struct hv_vcpu *v, const uint64_t *a);
long hc_set_callbacks(struct hv_vcpu *v, const uint64_t *a);
long hc_callback_op(struct hv_vcpu *v, const uint64_t *a);

/* evtchn.c, gnttab.c */
long hc_event_channel_op(struct hv_vcpu *v, const uint64_t *a);
long hc_event_channel_op_compat(struct hv_vcpu *v, const uint64_t *a);
long hc_grant_table_op(struct hv_vcpu *v, const uint64_t *a);

/* pv_priv.c, physdev.c */
long hc_set_segment_base(struct hv_vcpu *v, const uint64_t *a);
long hc_fpu_taskswitch(struct hv_vcpu *v, const uint64_t *a);
/* pv_debugreg.c */
long hc_set_debugreg(struct hv_vcpu *v, const uint64_t *a);
long hc_get_debugreg(struct hv_vcpu *v, const uint64_t *a);
long hc_physdev_op(struct hv_vcpu *v, const uint64_t *a);
long hc_physdev_op_compat(struct hv_vcpu *v, const uint64_t *a);

/* pv_desc.c: the guest's GDT (set_gdt, update_descriptor, a context's gdt_frames). */
long hc_set_gdt(struct hv_vcpu *v, const uint64_t *a);
long hc_update_descriptor(struct hv_vcpu *v, const uint64_t *a);
/*
 * Xen lets the CPU judge the selectors an iret to ring 3 loads; our vCPUs
 * run on the flat ring-3 selectors whatever the guest names, so a selector
 * of v's own GDT (RPL 3) is taken when the CPU would load it as the same
 * thing: a present DPL-3 64-bit code segment for CS (code), a present
 * DPL-3 writable data segment for SS (Linux's __USER_CS 0x33 and
 * __USER_DS 0x2b).
 */
bool pv_gdt_user_seg(struct hv_vcpu *v, uint16_t sel, bool code);
/* Xen's check_descriptor for a 64-bit guest: false to refuse; fixed up in place. */
bool pv_desc_check(uint64_t *desc);
/* Under d->lock, before/after the rest of a context is set: hold its GDT frames (Xen's errors). */
int pv_gdt_context_take(struct hv_vcpu *v, const struct vcpu_guest_context *ctx);
void pv_gdt_context_undo(struct hv_vcpu *v, const struct vcpu_guest_context *ctx);
void pv_gdt_context_install(struct hv_vcpu *v, const struct vcpu_guest_context *ctx);
void pv_gdt_context_get(struct hv_vcpu *v, struct vcpu_guest_context *ctx);
/* The domain ends: v's GDT frames go back (domain_release_frames). */
void pv_gdt_release(struct hv_vcpu *v);
/*
 * pv_ldt.c: v's LDT (MMUEXT_SET_LDT, a context's ldt_base/ldt_ents, as
 * recorded by mmu.c) changed: the frames of the old one go back and the
 * new one's are resolved (pv_ldt_resolve).  `locked`: the caller holds
 * d->lock (a context); else it is taken.
 */
void pv_ldt_changed(struct hv_vcpu *v, bool locked);
/*
 * Walk v's page tables over its LDT (ldt_base .. + ldt_ents * 8) and hold
 * each frame as a segment-descriptor page (validated), as Xen's
 * pv_map_ldt_shadow_page; all or none.  0; -XEN_EFAULT a page not mapped;
 * -XEN_EINVAL a frame not the domain's RAM or of another type (a page
 * table, mapped writable) or with a descriptor Xen refuses.  The frames
 * held before are released first.  `locked` as above.
 */
int pv_ldt_resolve(struct hv_vcpu *v, bool locked);
/* v's LDT frames go back (the LDT changes, the vCPU or domain ends). */
void pv_ldt_release(struct hv_vcpu *v, bool locked);
/*
 * v's own descriptor for sel: its GDT's (below Xen's reserved entries) or,
 * TI set, its LDT's while the LDT's frames are held.  False: none there.
 */
bool pv_seg_desc(struct hv_vcpu *v, uint16_t sel, uint64_t *desc);
/*
 * What v's LDT holds, for an engine that loads it (its ldt_changed hook):
 * copy (PV_LDT_ENTS entries) gets the first ldt_ents descriptors of its
 * held frames when all of them are held, the rest zero.  Returns the
 * entries loaded (0: none).  Any thread.
 */
unsigned pv_ldt_snapshot(struct hv_vcpu *v, uint64_t *copy);

/* The vm_assist types a 64-bit PV guest may enable (hypercall.c, and a vCPU 0 context's). */
#define HV_VMASST_VALID                                                                            \
	((1ULL << VMASST_TYPE_4gb_segments) | (1ULL << VMASST_TYPE_4gb_segments_notify) |          \
	 (1ULL << VMASST_TYPE_pae_extended_cr3) | (1ULL << VMASST_TYPE_architectural_iopl) |       \
	 (1ULL << VMASST_TYPE_runstate_update_flag) | (1ULL << VMASST_TYPE_m2p_strict) |          \
	 (1ULL << VMASST_TYPE_writable_pagetables))

/* A handler's return meaning "registers already set: leave rax alone". */
#define HC_NORETURN (-0x7fffffffL)

#endif
