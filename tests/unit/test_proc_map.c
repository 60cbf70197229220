// SPDX-License-Identifier: MIT
/*
 * Check suite: the process engine's address-space walk (hypervisor/proc/proc_map.c) at the
 * bottom of the guest window: page 0 is mapped, remapped and unmapped for a low-window domain
 * (a kernel linked at VA 0), and left alone for any other.  The real walker against page
 * tables in a harness domain, with no runner behind it: the queued operations are the result.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/proc/proc.h"
#include "hv_harness.h"

#define FRAMES 64ULL
#define L4 0x1000ULL
#define L3 0x2000ULL
#define L2 0x3000ULL
#define L1 0x4000ULL
#define DATA 0x10000ULL /* VA 0.. maps DATA.. */
#define RW 7ULL

static struct hv_domain *d;
static struct hv_vcpu *v;
static struct proc_dom pd;
static struct proc_vcpu pv;
static struct proc_map_queue q; /* what the walker queued */
static void *saved_priv, *saved_eng;

/* A domain whose tables map VA 0..4 pages to DATA, as PV GRUB's map its image. */
static void setup_dom(uint64_t va_lo)
{
	d = hvh_setup(&(struct hvh_spec){ .domid = 7, .vcpus = 1, .frames = FRAMES });
	v = d->vcpus[0];
	hvh_pt(L4)[0] = L3 | RW;
	hvh_pt(L3)[0] = L2 | RW;
	hvh_pt(L2)[0] = L1 | RW;
	for (int i = 0; i < 4; i++)
		hvh_pt(L1)[i] = (DATA + i * 4096ULL) | RW;
	memset(&pd, 0, sizeof(pd));
	memset(&pv, 0, sizeof(pv));
	pthread_mutex_init(&pd.map_lock, NULL);
	pd.va_lo = va_lo;
	saved_priv = d->eng_priv;
	saved_eng = v->eng;
	d->eng_priv = &pd;
	v->eng = &pv;
	v->cr3 = L4;
}

static void teardown(void)
{
	proc_map_queue_free(&q);
	pthread_mutex_destroy(&pd.map_lock);
	d->eng_priv = saved_priv;
	v->eng = saved_eng;
	hvh_teardown();
}

/* The queued operation that starts at va with this op, or NULL. */
static const struct sv_proc_map *op_at(unsigned op, uint64_t va)
{
	for (size_t i = 0; i < q.nr; i++)
		if (q.ops[i].op == op && q.ops[i].va == va)
			return &q.ops[i];
	return NULL;
}

static uint64_t lowest(unsigned op)
{
	uint64_t lo = UINT64_MAX;

	for (size_t i = 0; i < q.nr; i++)
		if (q.ops[i].op == op && q.ops[i].va < lo)
			lo = q.ops[i].va;
	return lo;
}

START_TEST(low_window_maps_page_0)
{
	setup_dom(0);
	ck_assert_int_eq(proc_map_rebuild(d, &q, L4), 0);
	const struct sv_proc_map *m = op_at(SV_PROC_OP_MAP, 0);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->len, 4 * 4096); /* one run: VA 0..16 KiB */
	ck_assert_uint_eq(m->offset, (uint64_t)mem_offset(&d->mem, DATA));
	ck_assert_uint_eq(m->prot, PROT_READ | PROT_WRITE | PROT_EXEC);
	/* A second rebuild drops the old space from 0, then maps it again. */
	proc_map_queue_free(&q);
	ck_assert_int_eq(proc_map_rebuild(d, &q, L4), 0);
	ck_assert_uint_eq(lowest(SV_PROC_OP_UNMAP), 0);
	ck_assert_ptr_nonnull(op_at(SV_PROC_OP_MAP, 0));
	/* A changed range at 0 (mmu_update of the first entry): unmapped and walked again from 0. */
	proc_map_queue_free(&q);
	hvh_pt(L1)[0] = 0;
	ck_assert_int_eq(proc_map_range(d, &q, L4, 0, 2 * 4096), 0);
	ck_assert_ptr_nonnull(op_at(SV_PROC_OP_UNMAP, 0));
	ck_assert_ptr_null(op_at(SV_PROC_OP_MAP, 0));
	ck_assert_ptr_nonnull(op_at(SV_PROC_OP_MAP, 4096));
	/* One page: proc_map_page at 0 maps it back. */
	proc_map_queue_free(&q);
	hvh_pt(L1)[0] = DATA | RW;
	ck_assert_int_eq(proc_map_page(d, &q, L4, 0), 0);
	ck_assert_ptr_nonnull(op_at(SV_PROC_OP_MAP, 0));
	teardown();
}
END_TEST

START_TEST(other_domains_leave_page_0_alone)
{
	setup_dom(4096);
	ck_assert_int_eq(proc_map_rebuild(d, &q, L4), 0);
	proc_map_queue_free(&q);
	/* Its unmaps start at 4 KiB, as before; so does the walk of a changed range. */
	ck_assert_int_eq(proc_map_rebuild(d, &q, L4), 0);
	ck_assert_uint_eq(lowest(SV_PROC_OP_UNMAP), 4096);
	proc_map_queue_free(&q);
	ck_assert_int_eq(proc_map_range(d, &q, L4, 0, 2 * 4096), 0);
	ck_assert_uint_eq(lowest(SV_PROC_OP_UNMAP), 4096);
	ck_assert_ptr_null(op_at(SV_PROC_OP_MAP, 0));
	ck_assert_ptr_nonnull(op_at(SV_PROC_OP_MAP, 4096));
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proc_map");
	TCase *tc = tcase_create("va0");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, low_window_maps_page_0);
	tcase_add_test(tc, other_domains_leave_page_0_alone);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
