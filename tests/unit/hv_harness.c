// SPDX-License-Identifier: MIT
/* A guest domain for the hypervisor's unit suites; see hv_harness.h. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hv_harness.h"
#include "../fakes/hv_fake_engine.h"
#include "../../hypervisor/mmu.h"

/* The real hypervisor sources are linked; these are main.c's and ctl.c's. */
struct hv_host hv_host = { .tsc_khz = 2000000 };
const char *hv_rundir = "/tmp";

struct hv_domain *hvh_d;
struct hv_engine hvh_engine;

static struct hvh_spec spec;
char hvh_rundir[64];

/* The fake engine, the suite's own hooks over its fakes. */
static void engine_reset(const struct hv_engine *hooks)
{
	hv_fake_engine(&hvh_engine);
	if (!hooks)
		return;
#define HOOK(f)                                                                                    \
	do {                                                                                       \
		if (hooks->f)                                                                      \
			hvh_engine.f = hooks->f;                                                   \
	} while (0)
	HOOK(seg_base_max);
	HOOK(no_xsave);
	HOOK(domain_init);
	HOOK(domain_stop);
	HOOK(domain_fini);
	HOOK(vcpu_init);
	HOOK(vcpu_fini);
	HOOK(vcpu_load);
	HOOK(vcpu_run);
	HOOK(vcpu_kick);
	HOOK(vcpu_unkick);
	HOOK(vcpu_tsc);
	HOOK(install_l4);
	HOOK(pte_changed);
	HOOK(ptes_changed);
	HOOK(new_baseptr);
	HOOK(sync_mappings);
	HOOK(vcpu_host_tid);
	HOOK(gdt_changed);
	HOOK(ldt_changed);
	HOOK(guest_gdt);
	HOOK(guest_ldt);
#undef HOOK
}

struct hv_domain *hvh_setup(const struct hvh_spec *s)
{
	struct hv_domain *d;
	uint64_t ram = s->frames * 4096ULL;

	ck_assert_uint_ge(s->vcpus, 1);
	ck_assert_uint_le(s->vcpus, HVH_MAX_VCPUS);
	spec = *s;
	engine_reset(s->hooks);
	hvh_d = d = calloc(1, sizeof(*d));
	ck_assert_ptr_nonnull(d);
	d->domid = s->domid;
	if (s->name)
		snprintf(d->name, sizeof(d->name), "%s", s->name);
	d->eng = &hvh_engine;
	d->max_vcpus = s->vcpus;
	d->state = DOM_ACTIVE;
	atomic_init(&d->refs, 1);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->changed, NULL);
	ck_assert_int_eq(mem_init(&d->mem, ram, pv_priv_size(s->vcpus, ram)), 0);
	ck_assert_int_eq(pv_domain_init(d), 0);
	if (s->memop_boot)
		ck_assert_int_eq(memop_domain_init(d, s->memop_boot), 0);
	if (s->console) {
		snprintf(hvh_rundir, sizeof(hvh_rundir), "/tmp/sv-hv-test.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(hvh_rundir));
		ck_assert_int_eq(console_init(d, hvh_rundir), 0);
	}
	if (s->shinfo_gpa)
		d->shinfo = mem_gpa(&d->mem, s->shinfo_gpa, 4096);
	if (s->evtchn)
		ck_assert_int_eq(evtchn_init(d, EVTCHN_GUEST_PORTS), 0);
	if (s->gnttab)
		ck_assert_int_eq(gnttab_init(d), 0);
	if (s->domain_table && !hv_dom0)
		ck_assert_int_eq(domain_table_init(), 0);
	for (unsigned i = 0; i < s->vcpus; i++) {
		struct hv_vcpu *v = calloc(1, sizeof(*v));

		ck_assert_ptr_nonnull(v);
		v->dom = d;
		v->id = i;
		pthread_cond_init(&v->wake, NULL);
		d->vcpus[i] = v;
	}
	return d;
}

uint64_t *hvh_pt(uint64_t gpa)
{
	return mem_gpa(&hvh_d->mem, gpa, 4096);
}

long hvh_hypercall(struct hv_vcpu *v, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
		   uint64_t a3)
{
	struct hv_regs *r = &v->regs;

	memset(r, 0, sizeof(*r));
	r->rax = nr;
	r->rdi = a0;
	r->rsi = a1;
	r->rdx = a2;
	r->r10 = a3;
	hypercall_dispatch(v);
	return (long)r->rax;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void hvh_teardown(void)
{
	struct hv_domain *d = hvh_d;

	if (!d)
		return;
	domain_release_frames(d); /* as domain_free: vcpu_info and pirq EOI frames */
	if (spec.evtchn) {
		evtchn_close_all(d);
		evtchn_fini(d); /* the FIFO's frames */
	}
	/* Every guest frame the hypervisor held went back: nothing leaked. */
	ck_assert_uint_eq(mmu_held(d), 0);
	if (spec.gnttab)
		gnttab_fini(d);
	if (spec.console) {
		console_fini(d);
		ck_assert_int_eq(nftw(hvh_rundir, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
	}
	for (unsigned i = 0; i < spec.vcpus; i++) {
		pthread_cond_destroy(&d->vcpus[i]->wake);
		free(d->vcpus[i]);
	}
	mmu_domain_fini(d); /* the page-type table pv_domain_init and every context made */
	mem_fini(&d->mem);
	pthread_cond_destroy(&d->changed);
	pthread_mutex_destroy(&d->lock);
	free(d);
	hvh_d = NULL;
}
