// SPDX-License-Identifier: MIT
/*
 * One address space, several vCPUs.  The runner is one process: its vCPU
 * threads share the mappings that follow one set of guest page tables
 * (mapped_cr3).  On Xen each vCPU runs on its own tables; here a vCPU may
 * run guest code only while the runner maps its tables (v->cr3: the
 * kernel's, or in user mode its process's), so:
 *
 *  - vCPUs on the mapped tables go in together ("let in", nr_in);
 *  - a vCPU on other tables waits until nobody is in, then the runner is
 *    switched to its tables (proc_map_switch) and it goes in; likewise a
 *    vCPU with another LDT (proc_ldt.c: a process has one);
 *  - changes to the mapped tables (mmu.c's batches) are queued in the
 *    order they were made and applied by a vCPU that goes in while nobody
 *    else is in, alone when others could follow (so no vCPU runs on a
 *    half-applied batch and batches never overtake each other);
 *  - waiters go in the order they came (tickets); a newcomer waits behind
 *    them.  Those in are kicked out once they have had the tables for a
 *    slice, so a process that never enters the kernel cannot starve the
 *    others.  A waiter is RUNSTATE_runnable (guest-visible, in
 *    get_runstate_info and `xl vcpu-list`), as a vCPU Xen has not
 *    scheduled yet.
 *
 * docs/pv-usermode.md, "Several vCPUs", says what this costs.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "proc.h"

#define PTE_ADDR 0x000ffffffffff000ULL
/* What those in get before a waiter on other tables kicks them out. */
#define AS_SLICE_NS 2000000ULL
/* A waiter looks again at least this often (a dead runner wakes nobody). */
#define AS_POLL_NS 10000000ULL

static struct proc_vcpu *pvc(struct hv_domain *d, unsigned i)
{
	return d->vcpus[i] ? proc_vcpu(d->vcpus[i]) : NULL;
}

/* Would v be the next to go: no waiter came before it (or none at all, for a newcomer)? */
static bool first_in_line(struct hv_domain *d, const struct proc_vcpu *me)
{
	for (unsigned i = 0; i < d->max_vcpus; i++) {
		const struct proc_vcpu *o = pvc(d, i);

		if (o && o != me && o->waiting && (!me->waiting || o->ticket < me->ticket))
			return false;
	}
	return true;
}

/* Out of the guest soon (map_lock held): the kick of proc_vcpu_kick without its lock. */
static void kick_in(struct hv_domain *d)
{
	struct proc_dom *pd = proc_dom(d);

	for (unsigned i = 0; i < d->max_vcpus; i++) {
		struct proc_vcpu *o = pvc(d, i);

		if (!o || !o->in || o->kicked)
			continue;
		o->kicked = true;
		__atomic_store_n(&o->blk->kick, 1, __ATOMIC_SEQ_CST);
		if (!atomic_load(&pd->dead))
			syscall(SYS_tgkill, pd->pid, o->tid, SIGUSR1);
	}
}

static void wait_ns(struct proc_dom *pd, uint64_t ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns += (uint64_t)ts.tv_nsec;
	ts.tv_sec += (time_t)(ns / 1000000000ULL);
	ts.tv_nsec = (long)(ns % 1000000000ULL);
	pthread_cond_timedwait(&pd->as_cond, &pd->map_lock, &ts);
}

static void let_in(struct proc_dom *pd, struct proc_vcpu *pv)
{
	pd->nr_in++;
	pv->in = true;
	pv->kicked = false;
}

int proc_as_enter(struct hv_vcpu *v, struct proc_map_queue *batch, bool *sync)
{
	struct hv_domain *d = v->dom;
	struct proc_dom *pd = proc_dom(d);
	struct proc_vcpu *pv = proc_vcpu(v);
	uint64_t cr3 = v->cr3 & PTE_ADDR;
	bool marked = false;
	int ret = 1;

	memset(batch, 0, sizeof(*batch));
	*sync = false;
	pthread_mutex_lock(&pd->map_lock);
	for (;;) {
		if (atomic_load(&pd->dead) || atomic_load(&pd->stopping) ||
		    __atomic_load_n(&pv->blk->kick, __ATOMIC_SEQ_CST)) {
			ret = 1;
			break;
		}
		if (first_in_line(d, pv) && !pd->applying) {
			bool other = pd->mapped_cr3 != cr3, ldt = !proc_ldt_same(pd, pv);

			if (!other && !ldt && !pd->queue.nr) {
				let_in(pd, pv); /* the tables and LDT it runs on, nothing pending */
				ret = 0;
				break;
			}
			if (!pd->nr_in) {
				/* Alone: the queued changes, then (if need be) its own tables. */
				*batch = pd->queue;
				memset(&pd->queue, 0, sizeof(pd->queue));
				ret = other ? proc_map_switch(d, batch, cr3) : 0;
				if (!ret && ldt)
					ret = proc_ldt_load(d, pv, batch);
				if (ret) {
					/* The runner's state is unknown now: rebuilt at the next
					 * try. */
					pd->mapped_cr3 = 0;
					break;
				}
				pd->epoch_ns = hv_now_ns();
				*sync = batch->nr && d->max_vcpus > 1;
				pd->applying = *sync;
				let_in(pd, pv);
				break;
			}
		}
		if (!pv->waiting) {
			pv->waiting = true;
			pv->ticket = ++pd->tickets;
			/*
			 * Runnable, not running, while it waits its turn; the
			 * runstate is under d->lock, which may be held by whoever
			 * takes map_lock (a kick), so not with map_lock held.  Its
			 * place in line is kept: it looks again after.
			 */
			pthread_mutex_unlock(&pd->map_lock);
			runstate_wait_turn(v, true);
			pthread_mutex_lock(&pd->map_lock);
			marked = true;
			continue;
		}
		uint64_t now = hv_now_ns(), wait = AS_POLL_NS;
		if (pd->nr_in && !pd->applying) {
			if (now >= pd->epoch_ns + AS_SLICE_NS)
				kick_in(d);
			else if (pd->epoch_ns + AS_SLICE_NS - now < wait)
				wait = pd->epoch_ns + AS_SLICE_NS - now;
		}
		wait_ns(pd, wait);
	}
	if (pv->waiting) {
		pv->waiting = false;
		pthread_cond_broadcast(&pd->as_cond); /* the next in line may go */
	}
	pthread_mutex_unlock(&pd->map_lock);
	if (marked)
		runstate_wait_turn(v, false); /* in, or back to the core, which says what it is */
	return ret;
}

void proc_as_applied(struct hv_vcpu *v)
{
	struct proc_dom *pd = proc_dom(v->dom);

	pthread_mutex_lock(&pd->map_lock);
	pd->applying = false;
	pthread_cond_broadcast(&pd->as_cond);
	pthread_mutex_unlock(&pd->map_lock);
}

void proc_as_leave(struct hv_vcpu *v)
{
	struct proc_dom *pd = proc_dom(v->dom);
	struct proc_vcpu *pv = proc_vcpu(v);

	pthread_mutex_lock(&pd->map_lock);
	if (pv->in) {
		pv->in = false;
		if (!--pd->nr_in)
			pthread_cond_broadcast(&pd->as_cond);
	}
	pthread_mutex_unlock(&pd->map_lock);
}

void proc_as_kicked(struct hv_vcpu *v)
{
	struct proc_dom *pd = proc_dom(v->dom);

	pthread_mutex_lock(&pd->map_lock);
	pthread_cond_broadcast(&pd->as_cond);
	pthread_mutex_unlock(&pd->map_lock);
}

/*
 * mmu.c asks which top-level table its batch's addresses are relative
 * to: the one the runner follows, whatever tables the calling vCPU is on
 * (a change in tables the runner does not follow is picked up when they
 * are switched to).  Remembered, so that the batch is redone whole if the
 * runner changed tables in between.
 */
uint64_t proc_as_mapped_base(struct hv_vcpu *v)
{
	struct proc_dom *pd = proc_dom(v->dom);
	uint64_t base;

	pthread_mutex_lock(&pd->map_lock);
	base = pd->mapped_cr3;
	pthread_mutex_unlock(&pd->map_lock);
	proc_vcpu(v)->pend_root = base;
	return base ? base : (v->cr3 & PTE_ADDR);
}

/* A queue that cannot grow: start again from the whole address space. */
static int requeue_all(struct hv_domain *d)
{
	struct proc_dom *pd = proc_dom(d);

	proc_map_queue_free(&pd->queue);
	return proc_map_rebuild(d, &pd->queue, pd->mapped_cr3);
}

int proc_as_ptes_changed(struct hv_vcpu *v, const struct hv_va_range *r, unsigned n)
{
	struct hv_domain *d = v->dom;
	struct proc_dom *pd = proc_dom(d);
	uint64_t m;
	int ret = 0;

	pthread_mutex_lock(&pd->map_lock);
	m = pd->mapped_cr3;
	if (!m) {
		pthread_mutex_unlock(&pd->map_lock); /* nothing mapped: the first run maps all */
		return 0;
	}
	if (!n || proc_vcpu(v)->pend_root != m) {
		ret = proc_map_rebuild(d, &pd->queue, m);
	} else {
		for (unsigned i = 0; i < n && !ret; i++)
			if (r[i].va < SV_PROC_GUEST_VA_END)
				ret = r[i].len == PAGE_SIZE
					  ? proc_map_page(d, &pd->queue, m, r[i].va)
					  : proc_map_range(d, &pd->queue, m, r[i].va, r[i].len);
	}
	if (ret)
		ret = requeue_all(d);
	pthread_mutex_unlock(&pd->map_lock);
	return ret;
}

int proc_as_pte_changed(struct hv_vcpu *v, uint64_t va)
{
	struct hv_va_range r = { va & ~(PAGE_SIZE - 1), PAGE_SIZE };

	return proc_as_ptes_changed(v, &r, 1);
}
