// SPDX-License-Identifier: MIT
/*
 * Check suite: which vCPUs may run guest code on the process engine's one address space
 * (hypervisor/proc/proc_as.c), with no runner behind it: the batch a vCPU must apply is the
 * result.  vCPUs on the mapped tables go in together once a batch is applied; a vCPU on other
 * tables waits until nobody is in (those in are kicked after the slice), then gets the switch;
 * a waiter goes before a newcomer; a kick ends a wait; table changes are queued against the
 * mapped tables, in order, and go with the next vCPU let in alone (redone whole when the
 * tables changed hands on the way).  "Does not return" is checked by a vCPU still waiting after
 * others acted: never a bound on how fast anything is.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/proc/proc.h"
#include "hv_harness.h"

#define FRAMES 512ULL
#define RW 7ULL
/* Tables A: data at 0x400000; tables B: other data at the same address and at 0x800000. */
#define A4 0x1000ULL
#define A3 0x2000ULL
#define A2 0x3000ULL
#define A1 0x4000ULL
#define B4 0x5000ULL
#define B3 0x6000ULL
#define B2 0x7000ULL
#define B1 0x8000ULL
#define ADATA 0x10000ULL
#define BDATA 0x20000ULL

static struct hv_domain *d;
static struct hv_vcpu *v0, *v1;
static struct proc_dom *pd;

static void setup(void)
{
	pthread_condattr_t ca;

	d = hvh_setup(&(struct hvh_spec){ .domid = 12, .vcpus = 2, .frames = FRAMES });
	hvh_pt(A4)[0] = A3 | RW;
	hvh_pt(A3)[0] = A2 | RW;
	hvh_pt(A2)[2] = A1 | RW;
	hvh_pt(A1)[0] = ADATA | RW;
	hvh_pt(B4)[0] = B3 | RW;
	hvh_pt(B3)[0] = B2 | RW;
	hvh_pt(B2)[2] = B1 | RW;
	hvh_pt(B2)[4] = B1 | RW;
	hvh_pt(B1)[0] = BDATA | RW;
	pd = calloc(1, sizeof(*pd));
	ck_assert_ptr_nonnull(pd);
	pthread_mutex_init(&pd->map_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pd->as_cond, &ca);
	pthread_condattr_destroy(&ca);
	d->eng_priv = pd;
	v0 = d->vcpus[0];
	v1 = d->vcpus[1];
	for (unsigned i = 0; i < 2; i++) {
		struct proc_vcpu *pv = calloc(1, sizeof(*pv));

		ck_assert_ptr_nonnull(pv);
		pv->blk = calloc(1, sizeof(*pv->blk));
		ck_assert_ptr_nonnull(pv->blk);
		d->vcpus[i]->eng = pv; /* tid 0, pid 0: a kick's signal goes nowhere */
		d->vcpus[i]->cr3 = A4;
	}
}

static void teardown(void)
{
	for (unsigned i = 0; i < 2; i++) {
		struct proc_vcpu *pv = proc_vcpu(d->vcpus[i]);

		free(pv->blk);
		free(pv);
		d->vcpus[i]->eng = NULL;
	}
	proc_map_queue_free(&pd->queue);
	pthread_cond_destroy(&pd->as_cond);
	pthread_mutex_destroy(&pd->map_lock);
	free(pd);
	d->eng_priv = NULL;
	hvh_teardown();
}

/* An enter on a thread of its own. */
struct entry {
	struct hv_vcpu *v;
	pthread_t t;
	struct proc_map_queue batch;
	bool sync;
	int ret;
	atomic_bool done;
};

static void *enter_thread(void *arg)
{
	struct entry *e = arg;

	e->ret = proc_as_enter(e->v, &e->batch, &e->sync);
	atomic_store(&e->done, true);
	return NULL;
}

static void enter_async(struct entry *e, struct hv_vcpu *v)
{
	memset(e, 0, sizeof(*e));
	e->v = v;
	ck_assert_int_eq(pthread_create(&e->t, NULL, enter_thread, e), 0);
}

static void nap(void)
{
	struct timespec ts = { 0, 1000000 };

	nanosleep(&ts, NULL);
}

/* Wait (generously) for e to return; false if it never did. */
static bool returned(struct entry *e)
{
	for (int i = 0; i < 60000 && !atomic_load(&e->done); i++)
		nap();
	return atomic_load(&e->done);
}

static void join(struct entry *e)
{
	ck_assert(returned(e));
	pthread_join(e->t, NULL);
}

/* Is v waiting (under the lock)? */
static bool waiting(struct hv_vcpu *v)
{
	bool w;

	pthread_mutex_lock(&pd->map_lock);
	w = proc_vcpu(v)->waiting;
	pthread_mutex_unlock(&pd->map_lock);
	return w;
}

static void until_waiting(struct hv_vcpu *v)
{
	for (int i = 0; i < 60000 && !waiting(v); i++)
		nap();
	ck_assert(waiting(v));
}

/* The queued operation that maps va, or NULL. */
static const struct sv_proc_map *map_at(const struct proc_map_queue *q, uint64_t va)
{
	for (size_t i = 0; i < q->nr; i++)
		if (q->ops[i].op == SV_PROC_OP_MAP && q->ops[i].va == va)
			return &q->ops[i];
	return NULL;
}

/* v goes in alone on its tables: the batch maps them, applied alone (two vCPUs). */
static void first_in(struct hv_vcpu *v)
{
	struct proc_map_queue q;
	bool sync;

	ck_assert_int_eq(proc_as_enter(v, &q, &sync), 0);
	ck_assert_uint_gt(q.nr, 0);
	ck_assert(sync);
	proc_map_queue_free(&q);
	proc_as_applied(v);
}

START_TEST(same_tables_go_in_together_after_the_batch)
{
	struct proc_map_queue q;
	struct entry e;
	bool sync;

	/* The first one maps everything (A's data at 0x400000), alone. */
	ck_assert_int_eq(proc_as_enter(v0, &q, &sync), 0);
	ck_assert(sync);
	ck_assert_ptr_nonnull(map_at(&q, 0x400000));
	ck_assert_uint_eq(map_at(&q, 0x400000)->offset, (uint64_t)mem_offset(&d->mem, ADATA));
	ck_assert_uint_eq(pd->mapped_cr3, A4);
	proc_map_queue_free(&q);
	/* vCPU 1 on the same tables waits while the batch is applied, then goes in with nothing. */
	enter_async(&e, v1);
	until_waiting(v1);
	ck_assert(!atomic_load(&e.done));
	proc_as_applied(v0);
	join(&e);
	ck_assert_int_eq(e.ret, 0);
	ck_assert_uint_eq(e.batch.nr, 0);
	ck_assert(!e.sync);
	ck_assert_uint_eq(pd->nr_in, 2);
	proc_as_leave(v0);
	proc_as_leave(v1);
	ck_assert_uint_eq(pd->nr_in, 0);
}
END_TEST

START_TEST(other_tables_wait_for_nobody_in)
{
	struct entry e1, e0;

	first_in(v0);
	/* vCPU 1 on tables B waits while vCPU 0 runs on A; after the slice vCPU 0 is kicked. */
	v1->cr3 = B4;
	enter_async(&e1, v1);
	until_waiting(v1);
	for (int i = 0; i < 60000 && !__atomic_load_n(&proc_vcpu(v0)->blk->kick, __ATOMIC_SEQ_CST);
	     i++)
		nap();
	ck_assert_uint_eq(proc_vcpu(v0)->blk->kick, 1);
	ck_assert(!atomic_load(&e1.done));
	ck_assert_uint_eq(pd->mapped_cr3, A4);
	/* vCPU 0 leaves and comes back at once: vCPU 1 waited first and goes first. */
	proc_as_leave(v0);
	proc_vcpu(v0)->blk->kick = 0; /* the core's unkick */
	enter_async(&e0, v0);
	join(&e1);
	ck_assert_int_eq(e1.ret, 0);
	ck_assert_uint_eq(pd->mapped_cr3, B4);
	/* Its batch: slot 0 again from B (B's data where A's was, and at 0x800000). */
	ck_assert_ptr_nonnull(map_at(&e1.batch, 0x400000));
	ck_assert_uint_eq(map_at(&e1.batch, 0x400000)->offset,
			  (uint64_t)mem_offset(&d->mem, BDATA));
	ck_assert_ptr_nonnull(map_at(&e1.batch, 0x800000));
	ck_assert(e1.sync);
	proc_as_applied(v1);
	/* vCPU 0 (tables A) waits while vCPU 1 runs on B. */
	until_waiting(v0);
	ck_assert(!atomic_load(&e0.done));
	proc_as_leave(v1);
	join(&e0);
	ck_assert_int_eq(e0.ret, 0);
	ck_assert_uint_eq(pd->mapped_cr3, A4);
	ck_assert_uint_eq(map_at(&e0.batch, 0x400000)->offset,
			  (uint64_t)mem_offset(&d->mem, ADATA));
	ck_assert_ptr_null(map_at(&e0.batch, 0x800000));
	proc_as_applied(v0);
	proc_as_leave(v0);
	proc_map_queue_free(&e0.batch);
	proc_map_queue_free(&e1.batch);
}
END_TEST

/* v's runstate (under the domain's lock). */
static int runstate_of(struct hv_vcpu *v)
{
	int st;

	pthread_mutex_lock(&d->lock);
	st = v->runstate.state;
	pthread_mutex_unlock(&d->lock);
	return st;
}

/*
 * A vCPU waiting for its turn on the address space is runnable, not
 * running: in its runstate (get_runstate_info, the registered area) and in
 * `xl vcpu-list` (no 'r', as Xen shows a vCPU it has not scheduled).  Once
 * in, it is running again, and the wait counts as runnable time.
 */
START_TEST(a_waiter_is_runnable_not_running)
{
	struct sv_ctl_vcpu_info info;
	struct vcpu_runstate_info ri;
	struct entry e;

	first_in(v0);
	pthread_mutex_lock(&d->lock);
	v1->state = VCPU_RUNNABLE;
	runstate_set(v0, RUNSTATE_running);
	runstate_set(v1, RUNSTATE_running); /* as vcpu_thread leaves it before vcpu_run */
	pthread_mutex_unlock(&d->lock);
	atomic_store(&v1->in_guest, true);
	v1->cr3 = B4;
	enter_async(&e, v1);
	until_waiting(v1);
	for (int i = 0; i < 60000 && runstate_of(v1) != RUNSTATE_runnable; i++)
		nap();
	ck_assert_int_eq(runstate_of(v1), RUNSTATE_runnable);
	ck_assert_int_eq(runstate_of(v0), RUNSTATE_running);
	ck_assert_int_eq(vcpu_pin_info(d, &info), 0);
	ck_assert_uint_eq(info.vcpu[1].flags & SV_VCPUF_RUNNING, 0);
	ck_assert_uint_eq(info.vcpu[1].flags & SV_VCPUF_BLOCKED, 0);
	ck_assert_uint_ne(info.vcpu[1].flags & SV_VCPUF_ONLINE, 0);
	/* As the guest asks for it. */
	ck_assert_int_eq(hvh_hypercall(v0, __HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 1,
				       0x400000, 0),
			 0);
	memcpy(&ri, (char *)d->mem.base + mem_offset(&d->mem, ADATA), sizeof(ri));
	ck_assert_int_eq(ri.state, RUNSTATE_runnable);
	proc_as_leave(v0);
	join(&e);
	ck_assert_int_eq(e.ret, 0);
	ck_assert_int_eq(runstate_of(v1), RUNSTATE_running);
	pthread_mutex_lock(&d->lock);
	ck_assert_uint_gt(v1->runstate.time[RUNSTATE_runnable], 0);
	/* The wait is not CPU time (vcpu.c takes turn_wait_ns off what vcpu_run took). */
	ck_assert_uint_eq(v1->turn_wait_ns, v1->runstate.time[RUNSTATE_runnable]);
	pthread_mutex_unlock(&d->lock);
	ck_assert_int_eq(vcpu_pin_info(d, &info), 0);
	ck_assert_uint_ne(info.vcpu[1].flags & SV_VCPUF_RUNNING, 0);
	atomic_store(&v1->in_guest, false);
	proc_as_applied(v1);
	proc_as_leave(v1);
	proc_map_queue_free(&e.batch);
}
END_TEST

START_TEST(a_kick_ends_the_wait)
{
	struct entry e;

	first_in(v0);
	v1->cr3 = B4;
	enter_async(&e, v1);
	until_waiting(v1);
	__atomic_store_n(&proc_vcpu(v1)->blk->kick, 1, __ATOMIC_SEQ_CST);
	proc_as_kicked(v1);
	join(&e);
	ck_assert_int_eq(e.ret, 1); /* not in: back to the core */
	ck_assert(!waiting(v1));
	ck_assert_uint_eq(pd->nr_in, 1);
	ck_assert_uint_eq(pd->mapped_cr3, A4);
	proc_as_leave(v0);
}
END_TEST

START_TEST(changes_queue_in_order_against_the_mapped_tables)
{
	struct hv_va_range r = { 0x400000, 4096 };
	struct proc_map_queue q;
	bool sync;

	first_in(v0);
	proc_as_leave(v0);
	/* vCPU 1 is on B, the runner on A: the batch is relative to A, whatever vCPU 1 runs on. */
	v1->cr3 = B4;
	ck_assert_uint_eq(proc_as_mapped_base(v1), A4);
	hvh_pt(A1)[0] = 0; /* unmapped */
	ck_assert_int_eq(proc_as_ptes_changed(v1, &r, 1), 0);
	hvh_pt(A1)[0] = (ADATA + 4096) | RW; /* mapped elsewhere */
	ck_assert_uint_eq(proc_as_mapped_base(v1), A4);
	ck_assert_int_eq(proc_as_ptes_changed(v1, &r, 1), 0);
	ck_assert_uint_eq(pd->queue.nr, 2); /* unmap, then the new map, in that order */
	ck_assert_uint_eq(pd->queue.ops[0].op, SV_PROC_OP_UNMAP);
	ck_assert_uint_eq(pd->queue.ops[1].op, SV_PROC_OP_MAP);
	ck_assert_uint_eq(pd->queue.ops[1].offset, (uint64_t)mem_offset(&d->mem, ADATA + 4096));
	/* vCPU 0 on A goes in with them, alone; the queue is empty after. */
	ck_assert_int_eq(proc_as_enter(v0, &q, &sync), 0);
	ck_assert_uint_eq(q.nr, 2);
	ck_assert(sync);
	ck_assert_uint_eq(pd->queue.nr, 0);
	proc_map_queue_free(&q);
	proc_as_applied(v0);
	proc_as_leave(v0);
	/* A batch computed against other tables than the mapped ones is redone whole. */
	proc_vcpu(v1)->pend_root = B4;
	ck_assert_int_eq(proc_as_ptes_changed(v1, &r, 1), 0);
	ck_assert_uint_gt(pd->queue.nr, 2);
	ck_assert_ptr_nonnull(map_at(&pd->queue, 0x400000));
	ck_assert_uint_eq(pd->mapped_cr3, A4);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("proc_as");
	TCase *tc = tcase_create("proc_as");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, same_tables_go_in_together_after_the_batch);
	tcase_add_test(tc, other_tables_wait_for_nobody_in);
	tcase_add_test(tc, a_kick_ends_the_wait);
	tcase_add_test(tc, a_waiter_is_runnable_not_running);
	tcase_add_test(tc, changes_queue_in_order_against_the_mapped_tables);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
