// SPDX-License-Identifier: MIT
/*
 * A guest domain for the hypervisor's unit suites: the real core sources
 * (hypercall.c, mmu.c, memop.c, evtchn*.c, ...) against a domain with memory,
 * PV private pages, vCPUs and an engine of fakes, torn down whole by
 * hvh_teardown whatever the suite made of it.
 *
 * The engine is tests/fakes/hv_fake_engine.c's (the KVM engine's guest ABI
 * and fakes, never a copy of hv_kvm_engine).  A suite puts its own fakes (to
 * count calls, say) in spec.hooks; they are in place before anything runs.
 */
#ifndef SV_TESTS_HV_HARNESS_H
#define SV_TESTS_HV_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include "../../hypervisor/hv.h"

#define HVH_MAX_VCPUS 2

struct hvh_spec {
	domid_t domid;
	const char *name;    /* d->name; none when NULL */
	unsigned vcpus;	     /* 1..HVH_MAX_VCPUS, ids 0.., each with its wake condition */
	uint64_t frames;     /* RAM in pages, laid out by mem_init, PV private pages after it */
	uint64_t memop_boot; /* memop_domain_init(d, memop_boot) when nonzero */
	uint64_t shinfo_gpa; /* d->shinfo there when nonzero */
	bool evtchn;	     /* evtchn_init(d, EVTCHN_GUEST_PORTS) */
	bool gnttab;	     /* gnttab_init(d) */
	bool console;	     /* console_init in a temporary rundir the teardown removes */
	bool domain_table;   /* domain_table_init() unless there already is one (hv_dom0) */
	const struct hv_engine *hooks; /* non-NULL hooks (and seg_base_max) replace the fakes */
};

extern struct hv_domain *hvh_d;	    /* the domain hvh_setup made */
extern struct hv_engine hvh_engine; /* its engine; a case may change a hook for itself */
extern char hvh_rundir[];	    /* with spec.console: the rundir its log is in */

/* The domain as spec says, in DOM_ACTIVE; page tables and vCPU states are the suite's. */
struct hv_domain *hvh_setup(const struct hvh_spec *spec);
/* The page (a page table, say) at gpa of hvh_d's memory. */
uint64_t *hvh_pt(uint64_t gpa);
/* Hypercall nr from v, its arguments in the registers Xen's ABI says, the rest zero. */
long hvh_hypercall(struct hv_vcpu *v, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
		   uint64_t a3);
/*
 * Everything hvh_setup made and the core hung on the domain since (mmu table
 * included); fails the case if a guest frame the hypervisor held was not
 * released by the domain's end (mmu_held).
 */
void hvh_teardown(void);

#endif
