// SPDX-License-Identifier: MIT
/* The domain table and each domain's life: create, pause, unpause, shutdown, crash, destroy. */
#include <stdint.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu-bp.h>
#include <xen/sched.h>
#include "sv/shutdown.h"
#include "hv.h"
#include "mmu.h"
#include "cgroup.h"

/*
 * The table maps domid to domain.  Lookups, on every grant copy and event
 * bind from dom0, read it under RCU (as Xen reads its domain list) and
 * take a reference unless the count already fell to zero; table_lock only
 * orders writers (create, destroy) and guards the allocation rover.
 * Destroy unpublishes the slot, waits a grace period so that every reader
 * that saw the domain holds its reference, and only then drops the
 * table's: a domain is freed when the table and every in-flight request
 * have let go of it.
 */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hv_domain *table[HV_MAX_DOMAINS]; /* rcu_assign_pointer under table_lock */
static uint32_t rover = 1;
static uint64_t next_gen = 1; /* under table_lock */

/* Also creates dom0's pseudo-domain, which only owns event channels. */
int domain_table_init(void)
{
	memset(table, 0, sizeof(table));
	hv_dom0 = calloc(1, sizeof(*hv_dom0));
	if (!hv_dom0)
		return -ENOMEM;
	strcpy(hv_dom0->name, "Domain-0");
	hv_dom0->state = DOM_ACTIVE;
	atomic_init(&hv_dom0->refs, 1);
	pthread_mutex_init(&hv_dom0->lock, NULL);
	pthread_cond_init(&hv_dom0->changed, NULL);
	return evtchn_init(hv_dom0, EVTCHN_DOM0_PORTS);
}

static bool name_ok(const char *name)
{
	size_t n = strnlen(name, 64);

	if (n == 0 || n == 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.+:@", name[i]))
			return false;
	return true;
}

static void domain_free(struct hv_domain *d)
{
	domain_release_frames(d); /* what the vCPUs and physdev held; the FIFO's: evtchn_fini */
	for (unsigned i = 0; i < d->max_vcpus; i++)
		vcpu_destroy(d->vcpus[i]);
	if (d->ev.ports)
		evtchn_fini(d);
	gnttab_fini(d);
	if (d->timer_started)
		pthread_cond_destroy(&d->timer_cond);
	console_fini(d);
	if (d->eng)
		d->eng->domain_fini(d); /* the address space goes before the memory */
	hv_cgroup_domain_remove(d);	/* its runner is reaped, its vCPU threads joined */
	mmu_domain_fini(d);
	mem_fini(&d->mem);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->changed);
	free(d);
}

void domain_put(struct hv_domain *d)
{
	if (d && d != hv_dom0 && atomic_fetch_sub(&d->refs, 1) == 1)
		domain_free(d);
	else if (d == hv_dom0)
		atomic_fetch_sub(&d->refs, 1);
}

/* A reference to d unless its last one is already gone (it is being freed). */
static bool ref_get_live(struct hv_domain *d)
{
	int r = atomic_load(&d->refs);

	while (r > 0)
		if (atomic_compare_exchange_weak(&d->refs, &r, r + 1))
			return true;
	return false;
}

/*
 * bench/domtable measures lookups both ways in one run: with this set,
 * domain_get reads the table under table_lock, as it did before RCU.
 */
static atomic_bool locked_reads;

void domain_table_locked_reads(bool on)
{
	atomic_store(&locked_reads, on);
}

struct hv_domain *domain_get(uint32_t domid)
{
	struct hv_domain *d;

	if (domid == 0 || domid >= HV_MAX_DOMAINS)
		return NULL;
	if (atomic_load_explicit(&locked_reads, memory_order_relaxed)) {
		pthread_mutex_lock(&table_lock);
		d = table[domid];
		if (d && !ref_get_live(d))
			d = NULL;
		pthread_mutex_unlock(&table_lock);
		return d;
	}
	rcu_read_lock();
	d = rcu_dereference(table[domid]);
	if (d && !ref_get_live(d))
		d = NULL;
	rcu_read_unlock();
	return d;
}

/* Names change under table_lock (domain_rename), so they are compared under it. */
struct hv_domain *domain_find(const char *name)
{
	struct hv_domain *d = NULL;

	pthread_mutex_lock(&table_lock);
	for (unsigned i = 1; i < HV_MAX_DOMAINS; i++) {
		struct hv_domain *x = table[i];
		if (x && !strcmp(x->name, name) && ref_get_live(x)) {
			d = x;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return d;
}

/*
 * A live domain's new name, unique among live domains as at create.  The
 * name is written under table_lock (create's and find's comparisons) and
 * dom->lock (domain_info's copy).  Renaming to its own name changes nothing.
 */
int domain_rename(struct hv_domain *d, const char *name)
{
	char old[64];
	int ret = 0;

	if (!name_ok(name) || !strcmp(name, hv_dom0->name))
		return -EINVAL;
	pthread_mutex_lock(&table_lock);
	for (unsigned i = 1; i < HV_MAX_DOMAINS && !ret; i++)
		if (table[i] && table[i] != d && !strcmp(table[i]->name, name))
			ret = -EEXIST;
	if (!ret && table[d->domid] != d)
		ret = -ESRCH; /* destroyed meanwhile */
	if (!ret) {
		pthread_mutex_lock(&d->lock);
		memcpy(old, d->name, sizeof(old));
		memset(d->name, 0, sizeof(d->name));
		memcpy(d->name, name, strnlen(name, sizeof(d->name) - 1));
		pthread_mutex_unlock(&d->lock);
	}
	pthread_mutex_unlock(&table_lock);
	if (!ret && strcmp(old, name))
		hv_log("d%u: renamed '%s' to '%s'", d->domid, old, name);
	return ret;
}

unsigned domain_count(void)
{
	unsigned n = 0;

	rcu_read_lock();
	for (unsigned i = 1; i < HV_MAX_DOMAINS; i++)
		n += rcu_dereference(table[i]) != NULL;
	rcu_read_unlock();
	return n;
}

/* Next free domid after the rover, as Xen hands them out; 0 if full. */
static uint32_t alloc_domid(void)
{
	for (unsigned n = 0; n < HV_MAX_DOMAINS - 1; n++) {
		uint32_t id = rover;
		rover = rover + 1 >= HV_MAX_DOMAINS ? 1 : rover + 1;
		if (!table[id])
			return id;
	}
	return 0;
}

struct hv_domain *domain_create(const struct sv_ctl_create *req, int *err)
{
	struct hv_domain *d;
	char name[64];
	int ret;

	memcpy(name, req->name, sizeof(name));
	name[63] = '\0';
	if (!name_ok(req->name)) {
		*err = -EINVAL;
		return NULL;
	}
	if (req->kind != SV_DOM_PV) {
		hv_log("create '%s': only PV domains are implemented so far", name);
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (req->max_vcpus < 1 || req->max_vcpus > SV_MAX_VCPUS || req->mem_kb < 4096 ||
	    req->mem_kb % 4 || req->mem_kb > (1ULL << 40) / 1024 ||
	    req->engine > SV_ENGINE_PROCESS || (req->flags & ~SV_CTL_CREATE_F_LOW_VA) ||
	    req->tsc_mode > SV_TSC_MODE_NATIVE ||
	    (req->max_kb &&
	     (req->max_kb < req->mem_kb || req->max_kb % 4 || req->max_kb > (1ULL << 40) / 1024))) {
		*err = -EINVAL;
		return NULL;
	}
	const struct hv_engine *eng = req->engine ? hv_engine_by_id(req->engine) : hv_host.engine;
	if (!eng) {
		hv_log("create '%s': engine %s is not available on this host", name,
		       req->engine == SV_ENGINE_KVM ? "kvm" : "process");
		*err = -ENODEV;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(d->name, name, sizeof(name));
	memcpy(d->handle, req->handle, sizeof(d->handle));
	d->kind = req->kind;
	d->low_va = req->flags & SV_CTL_CREATE_F_LOW_VA;
	d->max_vcpus = req->max_vcpus;
	d->mem.memfd = -1;
	d->cons_log_fd = -1;
	d->state = DOM_CREATED;
	d->pause_count = 1; /* domains are born paused, as in Xen */
	d->suspend_vcpu = -1;
	atomic_init(&d->refs, 1);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->changed, NULL);

	uint64_t ram_kb = req->max_kb ? req->max_kb : req->mem_kb;
	ret = mem_init(&d->mem, ram_kb * 1024, pv_priv_size(d->max_vcpus, ram_kb * 1024));
	if (ret)
		goto out_free;
	ret = pv_domain_init(d);
	if (!ret)
		ret = memop_domain_init(d, req->mem_kb * 1024 / PAGE_SIZE);
	if (ret)
		goto out_free;
	ret = tsc_domain_init(d, req->tsc_mode, eng); /* before the engine: it reads d->vtsc */
	if (ret)
		goto out_free;
	d->eng = eng;
	ret = eng->domain_init(d);
	if (ret)
		goto out_free;
	d->shinfo = mem_gpa(&d->mem, SV_SHARED_INFO_GPA, PAGE_SIZE);
	ret = evtchn_init(d, EVTCHN_GUEST_PORTS);
	if (!ret)
		ret = gnttab_init(d);
	if (ret)
		goto out_free;
	for (unsigned i = 0; i < d->max_vcpus; i++) {
		d->vcpus[i] = vcpu_create(d, i, &ret);
		if (!d->vcpus[i])
			goto out_free;
	}

	pthread_mutex_lock(&table_lock);
	for (unsigned i = 1; i < HV_MAX_DOMAINS; i++) {
		if (table[i] && !strcmp(table[i]->name, name)) {
			pthread_mutex_unlock(&table_lock);
			ret = -EEXIST;
			goto out_free;
		}
	}
	d->domid = alloc_domid();
	d->gen = next_gen++;
	if (!d->domid) {
		pthread_mutex_unlock(&table_lock);
		ret = -ENOSPC;
		goto out_free;
	}
	ret = console_init(d, hv_rundir);
	if (ret) {
		pthread_mutex_unlock(&table_lock);
		goto out_free;
	}
	for (unsigned i = 0; i < d->max_vcpus; i++) {
		ret = vcpu_start_thread(d->vcpus[i]);
		if (ret) {
			pthread_mutex_unlock(&table_lock);
			goto out_stop;
		}
	}
	ret = sched_timer_start(d);
	if (ret) {
		pthread_mutex_unlock(&table_lock);
		goto out_stop;
	}
	atomic_fetch_add(&d->refs, 1); /* the caller's */
	rcu_assign_pointer(table[d->domid], d);
	pthread_mutex_unlock(&table_lock);
	hv_cgroup_domain_create(d);
	hv_log("d%u: created '%s', %llu KiB (of %llu), %u vCPU(s), %s engine", d->domid, d->name,
	       (unsigned long long)req->mem_kb, (unsigned long long)ram_kb, d->max_vcpus,
	       eng->name);
	return d;

out_stop:
	pthread_mutex_lock(&d->lock);
	d->state = DOM_DYING;
	pthread_mutex_unlock(&d->lock);
	d->eng->domain_stop(d);
	for (unsigned i = 0; i < d->max_vcpus; i++) {
		if (d->vcpus[i] && d->vcpus[i]->thread_started) {
			vcpu_kick(d->vcpus[i]);
			pthread_join(d->vcpus[i]->thread, NULL);
		}
	}
	sched_timer_stop(d);
out_free:
	domain_free(d);
	*err = ret;
	return NULL;
}

bool domain_quiet(const struct hv_domain *d)
{
	return d->state == DOM_SHUTDOWN || d->state == DOM_CREATED ||
	       (d->state == DOM_ACTIVE && d->pause_count > 0);
}

void domain_kick_vcpus(struct hv_domain *d)
{
	for (unsigned i = 0; i < d->max_vcpus; i++)
		vcpu_kick(d->vcpus[i]);
}

int domain_unpause(struct hv_domain *d)
{
	int ret = 0;

	pthread_mutex_lock(&d->lock);
	if (d->state == DOM_DYING) {
		ret = -ESRCH;
	} else if (d->pause_count == 0) {
		ret = 0; /* unpausing a running domain is a no-op, as in xl */
	} else if (d->state == DOM_CREATED && !d->vcpus[0]->has_context) {
		ret = -EINVAL; /* nothing to run yet */
	} else {
		d->pause_count--;
		if (d->pause_count == 0 && d->state == DOM_CREATED) {
			d->state = DOM_ACTIVE;
			d->vcpus[0]->state = VCPU_RUNNABLE;
			/* A restored domain's other vCPUs that were up when it was saved. */
			for (unsigned i = 1; i < d->max_vcpus; i++)
				if (d->vcpus[i]->has_context && d->vcpus[i]->start_online)
					d->vcpus[i]->state = VCPU_RUNNABLE;
		}
		pthread_cond_broadcast(&d->changed);
		for (unsigned i = 0; i < d->max_vcpus; i++)
			pthread_cond_broadcast(&d->vcpus[i]->wake);
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

int domain_pause(struct hv_domain *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->state == DOM_DYING) {
		pthread_mutex_unlock(&d->lock);
		return -ESRCH;
	}
	if (d->pause_count == 0)
		d->pause_count = 1;
	pthread_cond_broadcast(&d->changed);
	domain_kick_vcpus(d);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/*
 * Stop every vCPU and record why; the toolstack decides what follows.  As
 * Xen, a reason set before by SCHEDOP_shutdown_code wins over this one.
 * Each vCPU's state is kept for domain_resume.
 */
static void shutdown_locked(struct hv_domain *d, uint32_t reason, int suspend_vcpu)
{
	if (d->state == DOM_CREATED || d->state == DOM_ACTIVE) {
		if (d->has_shutdown_code)
			reason = d->shutdown_code;
		d->state = DOM_SHUTDOWN;
		d->shutdown_reason = reason;
		d->suspend_vcpu = reason == SHUTDOWN_suspend ? suspend_vcpu : -1;
		for (unsigned i = 0; i < d->max_vcpus; i++) {
			struct hv_vcpu *v = d->vcpus[i];

			if (v->state != VCPU_STOPPED)
				v->before_shutdown = v->state;
			v->state = VCPU_STOPPED;
		}
		hv_log("d%u: shut down (%s)", d->domid, sv_shutdown_reason_name(reason));
		pthread_cond_broadcast(&d->changed);
		domain_kick_vcpus(d);
		pthread_mutex_unlock(&d->lock);
		evtchn_send_virq(hv_dom0, 0, VIRQ_DOM_EXC); /* tell dom0, as Xen does */
		return;
	}
	pthread_mutex_unlock(&d->lock);
}

void domain_shutdown(struct hv_domain *d, uint32_t reason)
{
	pthread_mutex_lock(&d->lock);
	shutdown_locked(d, reason, -1);
}

void domain_shutdown_from(struct hv_vcpu *v, uint32_t reason)
{
	pthread_mutex_lock(&v->dom->lock);
	shutdown_locked(v->dom, reason, (int)v->id);
}

void domain_set_shutdown_code(struct hv_domain *d, uint32_t code)
{
	pthread_mutex_lock(&d->lock);
	if (!d->has_shutdown_code) {
		d->has_shutdown_code = true;
		d->shutdown_code = (uint8_t)code;
	}
	pthread_mutex_unlock(&d->lock);
}

/*
 * XEN_DOMCTL_resumedomain: every vCPU goes back to the state it had when
 * the domain shut down (one still waiting for its first context stays
 * offline) and the shutdown is forgotten; a domain that is not shut down
 * is left as it is, as Xen does.  HV_RESUME_CANCEL is libxc's "fast"
 * resume of a suspended PV guest: the SCHEDOP_shutdown of the vCPU that
 * suspended returns 1 instead of 0, so the guest knows its devices and
 * memory are still there (the guest asks for that with the
 * SUSPEND_CANCEL ELF note; the toolstack checks).
 */
int domain_resume(struct hv_domain *d, unsigned flags)
{
	int ret = 0;

	if (flags & ~HV_RESUME_CANCEL)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	if (d->state == DOM_DYING) {
		ret = -ESRCH;
	} else if ((flags & HV_RESUME_CANCEL) &&
		   (d->state != DOM_SHUTDOWN || d->shutdown_reason != SHUTDOWN_suspend ||
		    d->suspend_vcpu < 0)) {
		ret = -EINVAL; /* nothing to cancel: no vCPU asked to suspend */
	} else if (d->state == DOM_SHUTDOWN) {
		if (flags & HV_RESUME_CANCEL) {
			struct hv_vcpu *v = d->vcpus[d->suspend_vcpu];

			v->regs.rax = 1; /* its hypercall already returned 0: it has not run since */
			v->regs_dirty = true;
		}
		hv_log("d%u: resumed after %s%s", d->domid,
		       sv_shutdown_reason_name(d->shutdown_reason),
		       flags & HV_RESUME_CANCEL ? " (suspend cancelled)" : "");
		d->state = DOM_ACTIVE;
		d->shutdown_reason = 0;
		d->has_shutdown_code = false;
		d->suspend_vcpu = -1;
		for (unsigned i = 0; i < d->max_vcpus; i++) {
			struct hv_vcpu *v = d->vcpus[i];

			v->state = v->before_shutdown;
			pthread_cond_broadcast(&v->wake);
		}
		pthread_cond_broadcast(&d->changed);
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

void domain_crash(struct hv_domain *d, const char *why)
{
	hv_log("d%u: crashed: %s", d->domid, why);
	domain_shutdown(d, SHUTDOWN_crash);
}

int domain_destroy(uint32_t domid)
{
	struct hv_domain *d;

	if (domid == 0 || domid >= HV_MAX_DOMAINS)
		return domid == 0 ? -EPERM : -ESRCH;
	pthread_mutex_lock(&table_lock);
	d = table[domid];
	rcu_assign_pointer(table[domid], NULL);
	pthread_mutex_unlock(&table_lock);
	if (!d)
		return -ESRCH;
	pthread_mutex_lock(&d->lock);
	d->state = DOM_DYING;
	pthread_cond_broadcast(&d->changed);
	domain_kick_vcpus(d);
	pthread_mutex_unlock(&d->lock);
	d->eng->domain_stop(d);
	for (unsigned i = 0; i < d->max_vcpus; i++)
		if (d->vcpus[i]->thread_started)
			pthread_join(d->vcpus[i]->thread, NULL);
	sched_timer_stop(d);
	evtchn_close_all(d); /* peers' ports fall back to unbound; their references go */
	hypercall_log_stats(d);
	hv_log("d%u: destroyed", domid);
	evtchn_send_virq(hv_dom0, 0, VIRQ_DOM_EXC);
	synchronize_rcu(); /* every lookup that found d has its reference by now */
	domain_put(d);	   /* the table's */
	return 0;
}

void domain_destroy_all(void)
{
	for (uint32_t i = 1; i < HV_MAX_DOMAINS; i++)
		domain_destroy(i);
}

void domain_info(struct hv_domain *d, struct sv_dominfo *out)
{
	unsigned online = 0, blocked = 0, running = 0;
	uint64_t cpu = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&d->lock);
	out->domid = d->domid;
	out->kind = d->kind;
	out->engine = d->eng ? d->eng->id : 0;
	out->tsc_mode = d->tsc_mode;
	out->max_vcpus = d->max_vcpus;
	out->mem_kb = d->mem.cur_pages * (PAGE_SIZE / 1024);
	out->max_mem_kb = d->mem.max_pages * (PAGE_SIZE / 1024);
	out->host_kb = memop_host_bytes(d) / 1024;
	memcpy(out->name, d->name, sizeof(out->name));
	memcpy(out->handle, d->handle, sizeof(out->handle));
	for (unsigned i = 0; i < d->max_vcpus; i++) {
		struct hv_vcpu *v = d->vcpus[i];
		if (v->state == VCPU_RUNNABLE || v->state == VCPU_BLOCKED)
			online++;
		blocked += v->state == VCPU_BLOCKED;
		running += atomic_load(&v->in_guest);
		cpu += v->cpu_ns;
	}
	out->online_vcpus = online;
	out->cpu_time_ns = cpu;
	if (d->pause_count)
		out->flags |= SV_DOMF_PAUSED;
	if (d->state == DOM_SHUTDOWN) {
		out->flags |= SV_DOMF_SHUTDOWN;
		out->shutdown_reason = d->shutdown_reason;
	}
	if (d->state == DOM_DYING)
		out->flags |= SV_DOMF_DYING;
	if (running)
		out->flags |= SV_DOMF_RUNNING;
	else if (online && blocked == online)
		out->flags |= SV_DOMF_BLOCKED;
	pthread_mutex_unlock(&d->lock);
}

int domain_list(uint32_t first, struct sv_dominfo *out, unsigned max)
{
	unsigned n = 0;

	for (uint32_t id = first ? first : 1; id < HV_MAX_DOMAINS && n < max; id++) {
		struct hv_domain *d = domain_get(id);
		if (!d)
			continue;
		domain_info(d, &out[n++]);
		domain_put(d);
	}
	return (int)n;
}

/* Wait until the domain has shut down or is dying (or the timeout passes). */
int domain_wait(struct hv_domain *d, uint32_t timeout_ms)
{
	struct timespec ts;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&d->lock);
	while (d->state != DOM_SHUTDOWN && d->state != DOM_DYING) {
		if (timeout_ms == 0)
			pthread_cond_wait(&d->changed, &d->lock);
		else if (pthread_cond_timedwait(&d->changed, &d->lock, &ts) == ETIMEDOUT) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}
