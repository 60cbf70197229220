// SPDX-License-Identifier: MIT
/* Scheduling hypercalls (sched_op, vcpu_op, timers, callbacks) and Xen system time for guests. */
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xen/callback.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include "hv.h"
#include "mmu.h"
#include "hypercall.h"

/* Xen system time: nanoseconds since the hypervisor started. */
static uint64_t system_time_ns(void)
{
	return hv_now_ns() - hv_host.start_ns;
}

/*
 * Publish vcpu_time_info for v in shared_info: the guest computes system
 * time as system_time + ((tsc - tsc_timestamp) << shift) * mul >> 32.
 * The version is odd while the record changes.
 */
void time_update(struct hv_vcpu *v)
{
	struct shared_info *si = mem_gpa(&v->dom->mem, SV_SHARED_INFO_GPA, PAGE_SIZE);
	struct vcpu_info *vi = vcpu_info_of(v);
	struct vcpu_time_info *t;
	uint64_t mul = (1000000ULL << 32) / hv_host.tsc_khz;
	int shift = 0;

	if (!si || !vi)
		return;
	/* Under vtsc the stamp is the emulated TSC at the same system time (Xen's gtime_to_gtsc).
	 */
	uint64_t stime = system_time_ns();
	uint64_t tsc = v->dom->vtsc ? tsc_guest_at(v->dom, stime) : v->dom->eng->vcpu_tsc(v);
	if (!tsc && !v->dom->vtsc)
		return;
	while (mul >= (1ULL << 32)) {
		mul >>= 1;
		shift++;
	}
	while (mul < (1ULL << 31)) {
		mul <<= 1;
		shift--;
	}
	t = &vi->time;
	__atomic_store_n(&t->version, t->version + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE); /* version odd before the fields change */
	t->tsc_timestamp = tsc;
	t->system_time = v->dom->vtsc ? stime : system_time_ns();
	t->tsc_to_system_mul = (uint32_t)mul;
	t->tsc_shift = (int8_t)shift;
	t->flags = XEN_PVCLOCK_TSC_STABLE_BIT;
	__atomic_thread_fence(__ATOMIC_RELEASE); /* fields written before version is even */
	__atomic_store_n(&t->version, t->version + 1, __ATOMIC_RELAXED);

	/*
	 * The copy registered with VCPUOP_register_vcpu_time_memory_area (for
	 * a vDSO), as Xen's update_secondary_system_time: an odd version,
	 * the record, the even version; an address that does not take the
	 * first write is skipped.
	 */
	uint64_t area = __atomic_load_n(&v->time_area, __ATOMIC_RELAXED);
	if (area) {
		struct vcpu_time_info c = *t;
		uint32_t even = c.version;
		size_t at = offsetof(struct vcpu_time_info, version);

		c.version = even - 1;
		if (!vcpu_copy_to_guest(v, area + at, &c.version, sizeof(c.version))) {
			__atomic_thread_fence(__ATOMIC_RELEASE);
			(void)vcpu_copy_to_guest(v, area, &c, sizeof(c));
			__atomic_thread_fence(__ATOMIC_RELEASE);
			(void)vcpu_copy_to_guest(v, area + at, &even, sizeof(even));
		}
	}

	/* Wall clock at system time 0. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t wall =
	    (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec - system_time_ns();
	__atomic_store_n(&si->wc_version, si->wc_version + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	si->wc_sec = (uint32_t)(wall / 1000000000ULL);
	si->xen_wc_sec_hi = (uint32_t)((wall / 1000000000ULL) >> 32);
	si->wc_nsec = (uint32_t)(wall % 1000000000ULL);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&si->wc_version, si->wc_version + 1, __ATOMIC_RELAXED);
}

/*
 * SCHEDOP_block: enable event delivery and sleep until an upcall is
 * pending.  The check and the state change happen under d->lock, and a
 * sender flags the upcall before it takes that lock, so no wake-up is lost.
 */
static void block(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	struct vcpu_info *vi = vcpu_info_of(v);

	pthread_mutex_lock(&d->lock);
	if (vi)
		__atomic_store_n(&vi->evtchn_upcall_mask, 0, __ATOMIC_SEQ_CST);
	if (v->state == VCPU_RUNNABLE &&
	    !(vi && __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST)) &&
	    !(atomic_load(&v->nmi_pending) && !v->nmi_masked))
		v->state = VCPU_BLOCKED;
	pthread_mutex_unlock(&d->lock);
}

bool sched_poll_ready(struct hv_vcpu *v)
{
	for (unsigned i = 0; i < v->nr_poll_ports; i++)
		if (evtchn_port_pending(v->dom, v->poll_ports[i]))
			return true;
	return false;
}

/* An address a guest may name (Xen's guest_handle_okay: canonical, not the hypervisor's). */
static bool guest_va_ok(struct hv_domain *d, uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va && !d->eng->va_reserved(va);
}

/*
 * SCHEDOP_poll: sleep until one of the ports is pending (masked or not) or
 * the timeout.  In Xen's order: events waiting to be delivered to the vCPU
 * return at once (the ports unread); then port by port, a port past the
 * domain's is -EINVAL and a pending one returns 0 (the rest unread).
 * Port 0 is a port (never pending).
 */
static long poll_ports(struct hv_vcpu *v, const uint32_t *ports, unsigned n, uint64_t timeout)
{
	struct hv_domain *d = v->dom;

	pthread_mutex_lock(&d->lock);
	memcpy(v->poll_ports, ports, n * sizeof(ports[0]));
	v->nr_poll_ports = n;
	if (v->state == VCPU_RUNNABLE && !sched_poll_ready(v)) {
		v->polling = true;
		atomic_fetch_add(&d->ev.nr_polling, 1);
		v->poll_deadline_ns = timeout ? hv_host.start_ns + timeout : 0;
		v->state = VCPU_BLOCKED;
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/*
 * The call's 0 is in rax before the domain shuts down, so a resume that
 * cancels the suspend (rax = 1) cannot be overwritten by it.
 */
static long do_shutdown(struct hv_vcpu *v, uint64_t reason)
{
	if (reason > SHUTDOWN_MAX)
		return -XEN_EINVAL;
	v->regs.rax = 0;
	v->regs_dirty = true;
	domain_shutdown_from(v, (uint32_t)reason);
	return HC_NORETURN;
}

/*
 * SCHEDOP_watchdog, as Xen: id 0 takes a free watchdog (of 2) and returns
 * its id; id N with a timeout (seconds) rearms it, with 0 frees it.  One
 * that runs out shuts the domain down with SHUTDOWN_watchdog.
 */
static long watchdog(struct hv_domain *d, uint32_t id, uint32_t timeout)
{
	const unsigned nr = sizeof(d->watchdog_ns) / sizeof(d->watchdog_ns[0]);
	long ret = 0;

	if (id > nr)
		return -XEN_EINVAL;
	pthread_mutex_lock(&d->lock);
	if (id == 0) {
		ret = -XEN_ENOSPC; /* Xen 4.17: every watchdog in use */
		for (unsigned i = 0; i < nr; i++)
			if (!d->watchdog_ns[i]) {
				id = i + 1;
				ret = id;
				break;
			}
	} else if (!d->watchdog_ns[id - 1]) {
		ret = -XEN_EINVAL;
	}
	if (ret >= 0) {
		/* A timeout of 0 on a new one arms it "now", as Xen's does. */
		d->watchdog_ns[id - 1] =
		    timeout || ret > 0 ? hv_now_ns() + timeout * 1000000000ULL : 0;
		pthread_cond_signal(&d->timer_cond);
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

long hc_sched_op(struct hv_vcpu *v, const uint64_t *a)
{
	switch (a[0]) {
	case SCHEDOP_yield:
		sched_yield();
		return 0;
	case SCHEDOP_block:
		block(v);
		return 0;
	case SCHEDOP_shutdown: {
		struct sched_shutdown s;
		if (vcpu_copy_from_guest(v, &s, a[1], sizeof(s)))
			return -XEN_EFAULT;
		return do_shutdown(v, s.reason);
	}
	case SCHEDOP_poll: {
		struct sched_poll p;
		struct vcpu_info *vi = vcpu_info_of(v);
		evtchn_port_t ports[128];
		uint64_t at;
		if (vcpu_copy_from_guest(v, &p, a[1], sizeof(p)))
			return -XEN_EFAULT;
		if (p.nr_ports > 128)
			return -XEN_EINVAL;
		at = (uint64_t)(uintptr_t)p.ports.p;
		if (!guest_va_ok(v->dom, at))
			return -XEN_EFAULT;
		if (vi && __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST) &&
		    !__atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_SEQ_CST))
			return 0; /* Xen's local_events_need_delivery */
		for (unsigned i = 0; i < p.nr_ports; i++) {
			if (vcpu_copy_from_guest(v, &ports[i], at + i * sizeof(ports[0]),
						 sizeof(ports[0])))
				return -XEN_EFAULT;
			if (ports[i] >= v->dom->ev.nr)
				return -XEN_EINVAL;
			if (evtchn_port_pending(v->dom, ports[i]))
				return 0;
		}
		if (p.timeout && p.timeout <= system_time_ns())
			return 0;
		return poll_ports(v, ports, p.nr_ports, p.timeout);
	}
	case SCHEDOP_shutdown_code: {
		struct sched_shutdown s;
		if (vcpu_copy_from_guest(v, &s, a[1], sizeof(s)))
			return -XEN_EFAULT;
		/* As Xen: not checked against SHUTDOWN_MAX; the first one set stays. */
		domain_set_shutdown_code(v->dom, (uint8_t)s.reason);
		return 0;
	}
	case SCHEDOP_remote_shutdown: {
		struct sched_remote_shutdown rs;
		struct hv_domain *t;

		if (vcpu_copy_from_guest(v, &rs, a[1], sizeof(rs)))
			return -XEN_EFAULT;
		/*
		 * Xen looks the id up as it is (DOMID_SELF names no domain:
		 * -ESRCH); one that exists (itself, Domain-0, another) is for a
		 * privileged domain or a device model only: -EPERM here.
		 */
		if (rs.domain_id != v->dom->domid && rs.domain_id != 0) {
			t = rs.domain_id < DOMID_FIRST_RESERVED ? domain_get(rs.domain_id) : NULL;
			if (!t)
				return -XEN_ESRCH;
			domain_put(t);
		}
		return -XEN_EPERM;
	}
	case SCHEDOP_watchdog: {
		struct sched_watchdog w;

		if (vcpu_copy_from_guest(v, &w, a[1], sizeof(w)))
			return -XEN_EFAULT;
		return watchdog(v->dom, w.id, w.timeout);
	}
	default:
		return -XEN_ENOSYS;
	}
}

/* The pre-3.0.2 form: the argument is the value itself. */
long hc_sched_op_compat(struct hv_vcpu *v, const uint64_t *a)
{
	switch (a[0]) {
	case SCHEDOP_yield:
	case SCHEDOP_block:
		return hc_sched_op(v, a);
	case SCHEDOP_shutdown:
		return do_shutdown(v, a[1]);
	default:
		return -XEN_ENOSYS;
	}
}

/* Arm (or with 0 cancel) v's singleshot timer; it fires VIRQ_TIMER on v. */
static long set_timer(struct hv_vcpu *v, uint64_t abs_ns)
{
	struct hv_domain *d = v->dom;

	pthread_mutex_lock(&d->lock);
	v->timer_deadline_ns = abs_ns ? hv_host.start_ns + abs_ns : 0;
	pthread_cond_signal(&d->timer_cond);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/*
 * VCPUOP_register_vcpu_info, as Xen: once per vCPU, for itself or a vCPU
 * that is down, in a frame of the guest's own RAM, the structure within
 * the page.  What was in the old place is carried over, and the upcall
 * and every selector bit are set so the guest rescans for events that
 * landed in the old place meanwhile.  The frame is held as Xen's
 * map_vcpu_info holds it (a reference and a writable type: -EINVAL for a
 * page table), until the domain ends (domain_release_frames).
 */
static long register_vcpu_info(struct hv_vcpu *v, struct hv_vcpu *t,
			       const struct vcpu_register_vcpu_info *ri)
{
	struct hv_domain *d = v->dom;
	uint64_t gpa = ri->mfn << PAGE_SHIFT;
	struct vcpu_info *old, *to;
	long ret = 0;

	/* Xen's order: the place in the page (-ENXIO), then the vCPU, then the frame. */
	if (ri->offset > PAGE_SIZE - sizeof(struct vcpu_info) ||
	    (ri->offset & (_Alignof(struct vcpu_info) - 1)))
		return -XEN_ENXIO;
	if (t->vinfo || (t != v && t->state != VCPU_OFFLINE))
		return -XEN_EINVAL;
	if (ri->mfn >= (1ULL << (64 - PAGE_SHIFT)) || !mem_frame_present(&d->mem, gpa))
		return -XEN_EINVAL;
	to = mem_gpa(&d->mem, gpa + ri->offset, sizeof(*to));
	if (!to)
		return -XEN_EINVAL;
	pthread_mutex_lock(&d->lock);
	if (t->vinfo || (t != v && t->state != VCPU_OFFLINE) || mmu_hold_writable(d, gpa)) {
		ret = -XEN_EINVAL;
	} else {
		t->vinfo_gpa = gpa;
		old = vcpu_info_of(t);
		if (old)
			memmove(to, old, sizeof(*to));
		__atomic_store_n(&t->vinfo, to, __ATOMIC_RELEASE);
		__atomic_store_n(&to->evtchn_pending_sel, ~(xen_ulong_t)0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&to->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&d->lock);
	if (!ret && t == v)
		time_update(v); /* a vCPU that is down gets it when it next runs */
	return ret;
}

void domain_release_frames(struct hv_domain *d)
{
	uint64_t eoi = __atomic_exchange_n(&d->pirq_eoi_gmfn, 0, __ATOMIC_SEQ_CST);

	for (unsigned i = 0; i < d->max_vcpus; i++) {
		struct hv_vcpu *v = d->vcpus[i];
		if (v) {
			pv_gdt_release(v);
			pv_ldt_release(v, true); /* as pv_gdt_release: the domain ends */
		}
		if (v && v->vinfo) {
			__atomic_store_n(&v->vinfo, NULL, __ATOMIC_RELEASE);
			mmu_release_writable(d, v->vinfo_gpa);
		}
	}
	if (eoi)
		mmu_release_writable(d, (eoi - 1) << PAGE_SHIFT);
}

/* Start (period > 0) or stop v's periodic timer; it too fires VIRQ_TIMER on v. */
static long set_period(struct hv_vcpu *v, uint64_t period_ns)
{
	struct hv_domain *d = v->dom;

	pthread_mutex_lock(&d->lock);
	v->period_ns = period_ns;
	v->period_next_ns = period_ns ? hv_now_ns() + period_ns : 0;
	pthread_cond_signal(&d->timer_cond);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* v's runstate with the time in its current state counted up to now (d->lock held). */
static struct vcpu_runstate_info runstate_now(struct hv_vcpu *v)
{
	struct vcpu_runstate_info ri = v->runstate;
	uint64_t now = system_time_ns();

	if (ri.state >= 0 && ri.state < 4 && ri.state_entry_time && now > ri.state_entry_time)
		ri.time[ri.state] += now - ri.state_entry_time;
	ri.state_entry_time = now;
	return ri;
}

void runstate_set(struct hv_vcpu *v, int state)
{
	if (v->runstate.state == state)
		return;
	v->runstate = runstate_now(v);
	v->runstate.state = state;
}

/*
 * The vCPU's thread is about to wait for its engine to let it run (the
 * process engine's one address space, proc_as.c), or got its turn: as
 * Xen's scheduler sees a vCPU queued behind another, it is
 * RUNSTATE_runnable meanwhile, not running (the guest's steal time).  Not
 * with d->lock held; only from the vCPU's own thread, which alone moves
 * its runstate between running and the rest.
 */
void runstate_wait_turn(struct hv_vcpu *v, bool waiting)
{
	int from = waiting ? RUNSTATE_running : RUNSTATE_runnable;
	bool changed = false;

	pthread_mutex_lock(&v->dom->lock);
	if (v->runstate.state == from) {
		uint64_t since = v->runstate.state_entry_time;
		runstate_set(v, waiting ? RUNSTATE_runnable : RUNSTATE_running);
		if (!waiting && since && v->runstate.state_entry_time > since)
			v->turn_wait_ns += v->runstate.state_entry_time - since;
		changed = true;
	}
	pthread_mutex_unlock(&v->dom->lock);
	if (changed)
		runstate_publish(v);
}

void runstate_publish(struct hv_vcpu *v)
{
	struct vcpu_runstate_info ri;
	uint64_t area;

	pthread_mutex_lock(&v->dom->lock);
	area = v->runstate_area;
	ri = v->runstate;
	pthread_mutex_unlock(&v->dom->lock);
	if (!area)
		return;
	if (__atomic_load_n(&v->dom->vm_assist, __ATOMIC_RELAXED) &
	    (1ULL << VMASST_TYPE_runstate_update_flag)) {
		/* The guest sees XEN_RUNSTATE_UPDATE in state_entry_time while the copy changes. */
		uint64_t busy = ri.state_entry_time | XEN_RUNSTATE_UPDATE;
		size_t at = offsetof(struct vcpu_runstate_info, state_entry_time);

		if (vcpu_copy_to_guest(v, area + at, &busy, sizeof(busy)))
			return;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		(void)vcpu_copy_to_guest(v, area, &ri.state, sizeof(ri.state));
		(void)vcpu_copy_to_guest(v, area + offsetof(struct vcpu_runstate_info, time),
					 ri.time, sizeof(ri.time));
		__atomic_thread_fence(__ATOMIC_RELEASE);
		/* Last, the time without the flag: the copy is whole again. */
		(void)vcpu_copy_to_guest(v, area + at, &ri.state_entry_time,
					 sizeof(ri.state_entry_time));
		return;
	}
	(void)vcpu_copy_to_guest(v, area, &ri, sizeof(ri));
}

/* One thread per domain fires its vCPUs' timers as VIRQ_TIMER events. */
static void *timer_thread(void *arg)
{
	struct hv_domain *d = arg;

	pthread_mutex_lock(&d->lock);
	while (d->state != DOM_DYING) {
		uint64_t now = hv_now_ns(), next = 0;
		int fire = -1;

		bool wd_fired = false;

		for (unsigned i = 0; i < sizeof(d->watchdog_ns) / sizeof(d->watchdog_ns[0]); i++) {
			uint64_t t = d->watchdog_ns[i];
			if (!t)
				continue;
			if (t <= now) {
				d->watchdog_ns[i] = 0;
				wd_fired = true;
			} else if (!next || t < next) {
				next = t;
			}
		}
		if (wd_fired) {
			pthread_mutex_unlock(&d->lock);
			hv_log("d%u: watchdog timer fired", d->domid);
			domain_shutdown(d, SHUTDOWN_watchdog);
			pthread_mutex_lock(&d->lock);
			continue;
		}
		for (unsigned i = 0; i < d->max_vcpus && fire < 0; i++) {
			struct hv_vcpu *x = d->vcpus[i];
			uint64_t t = x->timer_deadline_ns;

			if (x->period_ns && x->period_next_ns <= now) {
				/* Ticks missed while the host was busy are not made up. */
				x->period_next_ns += x->period_ns;
				if (x->period_next_ns <= now)
					x->period_next_ns = now + x->period_ns;
				fire = (int)i;
				break;
			}
			if (x->period_ns && (!next || x->period_next_ns < next))
				next = x->period_next_ns;
			if (!t)
				continue;
			if (t <= now)
				fire = (int)i;
			else if (!next || t < next)
				next = t;
		}
		if (fire >= 0) {
			if (d->vcpus[fire]->timer_deadline_ns &&
			    d->vcpus[fire]->timer_deadline_ns <= now)
				d->vcpus[fire]->timer_deadline_ns = 0;
			pthread_mutex_unlock(&d->lock); /* evtchn locks come before d->lock */
			evtchn_send_virq(d, (unsigned)fire, VIRQ_TIMER);
			pthread_mutex_lock(&d->lock);
			continue;
		}
		if (!next) {
			pthread_cond_wait(&d->timer_cond, &d->lock);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t ns = (uint64_t)ts.tv_nsec + (next - now);
			ts.tv_sec += (time_t)(ns / 1000000000ULL);
			ts.tv_nsec = (long)(ns % 1000000000ULL);
			pthread_cond_timedwait(&d->timer_cond, &d->lock, &ts);
		}
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int sched_timer_start(struct hv_domain *d)
{
	pthread_condattr_t ca;
	int ret;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->timer_cond, &ca);
	pthread_condattr_destroy(&ca);
	ret = pthread_create(&d->timer_thread, NULL, timer_thread, d);
	if (ret)
		return -ret;
	d->timer_started = true;
	return 0;
}

/* The domain is DYING: wake the timer thread and wait for it. */
void sched_timer_stop(struct hv_domain *d)
{
	if (!d->timer_started)
		return;
	pthread_mutex_lock(&d->lock);
	pthread_cond_signal(&d->timer_cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->timer_thread, NULL);
	d->timer_started = false;
}

/*
 * set_timer_op(timeout): 0 stops the timer.  As Xen's Linux workaround, a
 * timeout that is negative or more than 2^50 ns (13 days) ahead fires in
 * 100 ms instead.
 */
long hc_set_timer_op(struct hv_vcpu *v, const uint64_t *a)
{
	int64_t timeout = (int64_t)a[0], offset;

	if (timeout < 0)
		return set_timer(v, system_time_ns() + 100000000ULL);
	/* Both in [0, 2^63): the difference cannot overflow. */
	offset = timeout - (int64_t)system_time_ns();
	if (timeout && offset > 0 && (uint32_t)(offset >> 50) != 0)
		return set_timer(v, system_time_ns() + 100000000ULL);
	return set_timer(v, a[0]);
}

long hc_vcpu_op(struct hv_vcpu *v, const uint64_t *a)
{
	struct hv_domain *d = v->dom;
	uint64_t cmd = a[0], id = a[1];
	struct hv_vcpu *t;
	long ret = 0;

	if (id >= d->max_vcpus)
		return -XEN_ENOENT;
	t = d->vcpus[id];
	switch (cmd) {
	case VCPUOP_initialise: {
		struct vcpu_guest_context *ctx = malloc(sizeof(*ctx));
		if (!ctx)
			return -XEN_ENOMEM;
		if (vcpu_copy_from_guest(v, ctx, a[2], sizeof(*ctx))) {
			free(ctx);
			return -XEN_EFAULT;
		}
		pthread_mutex_lock(&d->lock);
		if (t->has_context)
			ret = -XEN_EEXIST;
		else if (vcpu_set_context(t, ctx))
			ret = -XEN_EINVAL;
		pthread_mutex_unlock(&d->lock);
		free(ctx);
		return ret;
	}
	case VCPUOP_up:
		pthread_mutex_lock(&d->lock);
		if (!t->has_context)
			ret = -XEN_EINVAL;
		else if (t->state == VCPU_OFFLINE)
			t->state = VCPU_RUNNABLE;
		pthread_cond_broadcast(&t->wake);
		pthread_mutex_unlock(&d->lock);
		return ret;
	case VCPUOP_down: {
		bool others = false;

		pthread_mutex_lock(&d->lock);
		for (unsigned i = 0; i < d->max_vcpus; i++)
			if (i != id && (d->vcpus[i]->state == VCPU_RUNNABLE ||
					d->vcpus[i]->state == VCPU_BLOCKED))
				others = true;
		if (!others) {
			/* Xen: the last vCPU up going down powers the domain off. */
			pthread_mutex_unlock(&d->lock);
			return do_shutdown(v, SHUTDOWN_poweroff);
		}
		if (t->state == VCPU_RUNNABLE || t->state == VCPU_BLOCKED)
			t->state = VCPU_OFFLINE;
		if (t != v)
			vcpu_kick(t);
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	case VCPUOP_is_up:
		pthread_mutex_lock(&d->lock);
		ret = t->state == VCPU_RUNNABLE || t->state == VCPU_BLOCKED;
		pthread_mutex_unlock(&d->lock);
		return ret;
	case VCPUOP_set_singleshot_timer: {
		struct vcpu_set_singleshot_timer st;
		if (t != v)
			return -XEN_EINVAL;
		if (vcpu_copy_from_guest(v, &st, a[2], sizeof(st)))
			return -XEN_EFAULT;
		if ((st.flags & VCPU_SSHOTTMR_future) && st.timeout_abs_ns < system_time_ns())
			return -XEN_ETIME;
		/* A time of 0 is long past: it fires now (Xen sets it; only set_timer_op's 0 stops). */
		return set_timer(v, st.timeout_abs_ns ? st.timeout_abs_ns : 1);
	}
	case VCPUOP_stop_singleshot_timer:
		if (t != v)
			return -XEN_EINVAL;
		return set_timer(v, 0);
	case VCPUOP_set_periodic_timer: {
		/* Any vCPU of the domain, as Xen (only the singleshot timer is the caller's). */
		struct vcpu_set_periodic_timer pt;
		if (vcpu_copy_from_guest(v, &pt, a[2], sizeof(pt)))
			return -XEN_EFAULT;
		if (pt.period_ns < 1000000ULL || pt.period_ns > (uint64_t)INT64_MAX)
			return -XEN_EINVAL; /* Xen's floor (1 ms) and STIME_DELTA_MAX */
		return set_period(t, pt.period_ns);
	}
	case VCPUOP_stop_periodic_timer:
		return set_period(t, 0);
	case VCPUOP_send_nmi:
		/* x86 Xen: no argument; the NMI goes to the vCPU's callback (nmi.c). */
		if (a[2])
			return -XEN_EINVAL;
		return nmi_send(d, (uint32_t)id) ? -XEN_ESRCH : 0;
	case VCPUOP_get_physid:
		return -XEN_EINVAL; /* Xen: only a hardware domain's pinned vCPUs */
	case VCPUOP_register_vcpu_time_memory_area: {
		/*
		 * As x86 Xen: an address the guest cannot have is -EFAULT; the
		 * copy is written now for the caller, for another vCPU when it
		 * next runs (time_update), and whenever the record changes.
		 */
		struct vcpu_register_time_memory_area ta;
		if (vcpu_copy_from_guest(v, &ta, a[2], sizeof(ta)))
			return -XEN_EFAULT;
		if (!guest_va_ok(d, ta.addr.p))
			return -XEN_EFAULT;
		__atomic_store_n(&t->time_area, ta.addr.p, __ATOMIC_RELAXED);
		if (t == v)
			time_update(v);
		return 0;
	}
	case VCPUOP_register_vcpu_info: {
		struct vcpu_register_vcpu_info ri;
		if (vcpu_copy_from_guest(v, &ri, a[2], sizeof(ri)))
			return -XEN_EFAULT;
		return register_vcpu_info(v, t, &ri);
	}
	case VCPUOP_get_runstate_info: {
		struct vcpu_runstate_info ri;
		pthread_mutex_lock(&d->lock);
		ri = runstate_now(t);
		pthread_mutex_unlock(&d->lock);
		return vcpu_copy_to_guest(v, a[2], &ri, sizeof(ri)) ? -XEN_EFAULT : 0;
	}
	case VCPUOP_register_runstate_memory_area: {
		struct vcpu_register_runstate_memory_area ra;
		struct vcpu_runstate_info ri;
		uint64_t area;
		if (vcpu_copy_from_guest(v, &ra, a[2], sizeof(ra)))
			return -XEN_EFAULT;
		area = (uint64_t)(uintptr_t)ra.addr.v;
		if (!guest_va_ok(d, area))
			return -XEN_EFAULT; /* Xen's guest_handle_okay: nothing registered */
		pthread_mutex_lock(&d->lock);
		t->runstate_area = area;
		ri = runstate_now(t);
		pthread_mutex_unlock(&d->lock);
		/*
		 * Xen writes the area at once, through the caller's tables, for
		 * any vCPU (a bad address is the guest's loss, not an error).
		 */
		if (area)
			(void)vcpu_copy_to_guest(v, area, &ri, sizeof(ri));
		return 0;
	}
	default:
		/* Said once in the log. */
		if (!__atomic_exchange_n(&d->vcpu_op_logged, true, __ATOMIC_RELAXED))
			hv_log("d%u: vcpu_op %llu not implemented: -ENOSYS", d->domid,
			       (unsigned long long)cmd);
		return -XEN_ENOSYS;
	}
}
