// SPDX-License-Identifier: MIT
/*
 * Where vCPUs run on the host: what `xl vcpu-list` shows (state, host CPU,
 * run time, hard affinity) and what `xl vcpu-pin` sets.  A vCPU runs on
 * host threads: the core's vCPU thread (vcpu.c), and where the engine
 * runs guest code elsewhere (the process engine's runner thread) that one
 * too.  A pin binds both with sched_setaffinity and is remembered, so a
 * thread that starts later gets it as well.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "hv.h"

_Static_assert(sizeof(cpu_set_t) == SV_CPUMAP_BYTES, "a CPU map is a cpu_set_t");

/* Host CPUs, numbered as sv_host_info's nr_cpus counts them. */
static unsigned host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > SV_CPUMAP_BYTES * 8 ? SV_CPUMAP_BYTES * 8 : (unsigned)n;
}

static void map_to_set(const uint8_t *map, cpu_set_t *set)
{
	CPU_ZERO(set);
	for (unsigned i = 0; i < SV_CPUMAP_BYTES * 8; i++)
		if (map[i / 8] & (1u << (i % 8)))
			CPU_SET(i, set);
}

static void set_to_map(const cpu_set_t *set, uint8_t *map)
{
	memset(map, 0, SV_CPUMAP_BYTES);
	for (unsigned i = 0; i < SV_CPUMAP_BYTES * 8; i++)
		if (CPU_ISSET(i, set))
			map[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* Whether tid is a thread of pid right now (so a stale tid never touches another process). */
static bool thread_of(pid_t pid, pid_t tid)
{
	char path[64];

	if (pid <= 0 || tid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
	return access(path, F_OK) == 0;
}

int vcpu_pin_thread_cpu(pid_t pid, pid_t tid)
{
	char path[64], buf[1024];
	FILE *f;
	size_t n;
	int cpu = -1;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name (field 2) may hold spaces and parentheses: count from the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	for (unsigned field = 3; field <= 39 && *p; field++) {
		while (*p == ' ')
			p++;
		if (field == 39) {
			char *end;
			long v = strtol(p, &end, 10);
			if (end != p && v >= 0 && v < SV_CPUMAP_BYTES * 8)
				cpu = (int)v;
			break;
		}
		while (*p && *p != ' ')
			p++;
	}
	return cpu;
}

/* The threads that run v (at most two: the core's and the engine's); d->lock held. */
static unsigned threads_of(struct hv_vcpu *v, pid_t pids[2], pid_t tids[2])
{
	unsigned n = 0;
	pid_t pid = 0, tid = v->dom->eng->vcpu_host_tid(v, &pid);

	if (thread_of(pid, tid)) {
		pids[n] = pid;
		tids[n++] = tid;
	}
	if (v->host_tid && v->host_tid != tid) {
		pids[n] = getpid();
		tids[n++] = v->host_tid;
	}
	return n;
}

int vcpu_pin_info(struct hv_domain *d, struct sv_ctl_vcpu_info *out)
{
	unsigned nr_cpus = host_cpus();
	pid_t pid[SV_CTL_VCPU_MAX], tid[SV_CTL_VCPU_MAX];

	memset(out, 0, sizeof(*out));
	out->nr_cpus = nr_cpus;
	pthread_mutex_lock(&d->lock);
	out->nr = d->max_vcpus < SV_CTL_VCPU_MAX ? d->max_vcpus : SV_CTL_VCPU_MAX;
	for (unsigned i = 0; i < out->nr; i++) {
		struct hv_vcpu *v = d->vcpus[i];
		struct sv_vcpu_info *vi = &out->vcpu[i];
		pid_t p[2], t[2];

		vi->vcpu = i;
		if (v->state == VCPU_RUNNABLE || v->state == VCPU_BLOCKED)
			vi->flags |= SV_VCPUF_ONLINE;
		/*
		 * Xen's getvcpuinfo "running": on a CPU now.  A vCPU that is
		 * runnable but waits for its turn (RUNSTATE_runnable: the process
		 * engine's address space, proc_as.c) shows '-', as in Xen.
		 */
		if ((atomic_load(&v->in_guest) ||
		     (v->state == VCPU_RUNNABLE && d->state == DOM_ACTIVE && !d->pause_count)) &&
		    v->runstate.state != RUNSTATE_runnable)
			vi->flags |= SV_VCPUF_RUNNING;
		if (v->state == VCPU_BLOCKED)
			vi->flags |= SV_VCPUF_BLOCKED;
		vi->cpu_time_ns = v->cpu_ns;
		if (threads_of(v, p, t)) {
			pid[i] = p[0];
			tid[i] = t[0];
		} else {
			pid[i] = tid[i] = 0;
		}
		if (v->pinned)
			memcpy(vi->hard, v->hard, sizeof(vi->hard));
		else
			memset(vi->hard, 0xff, sizeof(vi->hard));
	}
	pthread_mutex_unlock(&d->lock);

	/* What the host says, outside the lock: the thread that runs guest code. */
	for (unsigned i = 0; i < out->nr; i++) {
		struct sv_vcpu_info *vi = &out->vcpu[i];
		cpu_set_t set;

		vi->cpu = -1;
		if (!tid[i])
			continue;
		vi->cpu = vcpu_pin_thread_cpu(pid[i], tid[i]);
		if (sched_getaffinity(tid[i], sizeof(set), &set) == 0)
			set_to_map(&set, vi->hard);
		else
			map_to_set(vi->hard, &set);
		/*
		 * A thread asleep since a pin moved it away still names its old
		 * CPU; it wakes on one it may use: say the first of those.
		 */
		if (vi->cpu >= 0 && !CPU_ISSET((unsigned)vi->cpu, &set)) {
			vi->cpu = -1;
			for (unsigned c = 0; c < nr_cpus && vi->cpu < 0; c++)
				if (CPU_ISSET(c, &set))
					vi->cpu = (int32_t)c;
		}
	}
	return 0;
}

/* Bind n threads to set; on a failure put back the ones done.  0 or -errno. */
static int bind_threads(unsigned n, const pid_t *tids, const cpu_set_t *set, cpu_set_t *old)
{
	for (unsigned i = 0; i < n; i++) {
		if (sched_getaffinity(tids[i], sizeof(old[i]), &old[i]) < 0 ||
		    sched_setaffinity(tids[i], sizeof(*set), set) < 0) {
			int e = -errno;
			while (i-- > 0)
				sched_setaffinity(tids[i], sizeof(old[i]), &old[i]);
			return e;
		}
	}
	return 0;
}

int vcpu_pin_set(struct hv_domain *d, uint32_t vcpu, const uint8_t hard[SV_CPUMAP_BYTES])
{
	unsigned nr_cpus = host_cpus(), first, last, done = 0;
	pid_t tids[2 * SV_MAX_VCPUS], pids[2];
	cpu_set_t set, old[2 * SV_MAX_VCPUS];
	bool any = false;
	int ret = 0;

	for (unsigned i = 0; i < SV_CPUMAP_BYTES * 8; i++) {
		if (!(hard[i / 8] & (1u << (i % 8))))
			continue;
		if (i >= nr_cpus)
			return -EINVAL;
		any = true;
	}
	if (!any)
		return -EINVAL;
	map_to_set(hard, &set);

	pthread_mutex_lock(&d->lock);
	if (vcpu == SV_VCPU_ALL) {
		first = 0;
		last = d->max_vcpus;
	} else if (vcpu < d->max_vcpus) {
		first = vcpu;
		last = vcpu + 1;
	} else {
		pthread_mutex_unlock(&d->lock);
		return -EINVAL;
	}
	for (unsigned i = first; i < last; i++)
		done += threads_of(d->vcpus[i], pids, tids + done);
	ret = bind_threads(done, tids, &set, old);
	if (!ret) {
		for (unsigned i = first; i < last; i++) {
			memcpy(d->vcpus[i]->hard, hard, SV_CPUMAP_BYTES);
			d->vcpus[i]->pinned = true;
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (ret)
		hv_log("d%u: cannot pin vCPU %d: %s", d->domid,
		       vcpu == SV_VCPU_ALL ? -1 : (int)vcpu, strerror(-ret));
	return ret;
}

void vcpu_pin_thread_start(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	pthread_mutex_lock(&d->lock);
	v->host_tid = tid;
	if (v->pinned) {
		cpu_set_t set;
		map_to_set(v->hard, &set);
		if (sched_setaffinity(tid, sizeof(set), &set) < 0)
			hv_log("d%u v%u: cannot apply its pin: %m", d->domid, v->id);
	}
	pthread_mutex_unlock(&d->lock);
}
