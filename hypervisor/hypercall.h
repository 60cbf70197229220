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
long hc_physdev_op(struct hv_vcpu *v, const uint64_t *a);
long hc_physdev_op_compat(struct hv_vcpu *v, const uint64_t *a);

/* The vm_assist types a 64-bit PV guest may enable (hypercall.c, and a vCPU 0 context's). */
#define HV_VMASST_VALID                                                                            \
	((1ULL << VMASST_TYPE_4gb_segments) | (1ULL << VMASST_TYPE_4gb_segments_notify) |          \
	 (1ULL << VMASST_TYPE_pae_extended_cr3) | (1ULL << VMASST_TYPE_architectural_iopl) |       \
	 (1ULL << VMASST_TYPE_runstate_update_flag) | (1ULL << VMASST_TYPE_m2p_strict))

/* A handler's return meaning "registers already set: leave rax alone". */
#define HC_NORETURN (-0x7fffffffL)

#endif
