// SPDX-License-Identifier: MIT
/* Xen hypercalls from dom0 processes (privcmd's role): xen_version, sysctl and domctl with
 * Xen 4.17's ABI. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/version.h>
#include <xen/sysctl.h>
#include <xen/domctl.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include "hv.h"
#include "cgroup.h"
#include "xctl.h"
#include "xctl_priv.h"

/*
 * Xen's libxenctrl passes every structure by pointer into its own memory
 * (hypercall buffers), and some structures hold more pointers (guest
 * handles).  Here the "guest" is the dom0 process at the other end of the
 * control socket: copy_from/copy_to read and write its memory with
 * process_vm_readv/writev, which fail cleanly (EFAULT) on an address it
 * has not mapped.  Each structure is copied in once, checked, served from
 * the copy and copied back whole, as Xen's copy_from_guest/copy_to_guest.
 * Domain facts come from domain_info(), the same source as our own xl.
 */

void xctl_peer_init(struct xctl_peer *p, int sock)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	p->pid = 0;
	p->uid = (uid_t)-1;
	p->pidfd = -1;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) || len != sizeof(cr) ||
	    cr.pid <= 0)
		return;
	p->pid = cr.pid;
	p->uid = cr.uid;
	p->pidfd = (int)syscall(SYS_pidfd_open, cr.pid, 0);
}

void xctl_peer_fini(struct xctl_peer *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

/* The process connected still runs (its pidfd turns readable when it exits). */
static bool peer_alive(const struct xctl_peer *p)
{
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };

	return p->pidfd >= 0 && poll(&pfd, 1, 0) == 0;
}

bool xctl_peer_privileged(const struct xctl_peer *p)
{
	return peer_alive(p) && (p->uid == 0 || p->uid == geteuid());
}

int xctl_copy_from(const struct xctl_peer *p, void *dst, uint64_t addr, size_t len)
{
	struct iovec local = { dst, len }, remote = { (void *)(uintptr_t)addr, len };

	if (!len)
		return 0;
	if (len > XCTL_MAX_COPY)
		return -XEN_E2BIG;
	if (!peer_alive(p))
		return -XEN_ESRCH;
	if (process_vm_readv(p->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return -XEN_EFAULT;
	return 0;
}

int xctl_copy_to(const struct xctl_peer *p, uint64_t addr, const void *src, size_t len)
{
	struct iovec local = { (void *)src, len }, remote = { (void *)(uintptr_t)addr, len };

	if (!len)
		return 0;
	if (len > XCTL_MAX_COPY)
		return -XEN_E2BIG;
	if (!peer_alive(p))
		return -XEN_ESRCH;
	if (process_vm_writev(p->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return -XEN_EFAULT;
	return 0;
}

/* ---- host facts ---- */

static uint32_t host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (uint32_t)n : 1;
}

/* dom0's CPU time: the host's user + nice + system time, as our xl counts it. */
static uint64_t dom0_cpu_ns(void)
{
	unsigned long long user, nice, sys;
	uint64_t ns = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu", &user, &nice, &sys) == 3)
			ns = (uint64_t)((double)(user + nice + sys) / (double)sysconf(_SC_CLK_TCK) *
					1e9);
		fclose(f);
	}
	return ns;
}

static void host_pages(uint64_t *total, uint64_t *free_pages)
{
	struct sysinfo si;

	*total = *free_pages = 0;
	if (sysinfo(&si) == 0) {
		*total = (uint64_t)si.totalram * si.mem_unit / PAGE_SIZE;
		*free_pages = (uint64_t)si.freeram * si.mem_unit / PAGE_SIZE;
	}
}

/* ---- domain information ---- */

/* Xen's getdomaininfo record of a guest, from the facts our xl shows. */
static void guest_info(struct hv_domain *d, struct xen_domctl_getdomaininfo *out)
{
	struct sv_dominfo di;

	domain_info(d, &di);
	memset(out, 0, sizeof(*out));
	out->domain = (domid_t)di.domid;
	if (di.flags & SV_DOMF_DYING)
		out->flags |= XEN_DOMINF_dying;
	if (di.flags & SV_DOMF_SHUTDOWN)
		out->flags |= XEN_DOMINF_shutdown | ((di.shutdown_reason & XEN_DOMINF_shutdownmask)
						     << XEN_DOMINF_shutdownshift);
	if (di.flags & SV_DOMF_PAUSED)
		out->flags |= XEN_DOMINF_paused;
	if (di.flags & SV_DOMF_BLOCKED)
		out->flags |= XEN_DOMINF_blocked;
	if (di.flags & SV_DOMF_RUNNING)
		out->flags |= XEN_DOMINF_running;
	out->tot_pages = di.mem_kb / (PAGE_SIZE / 1024);
	out->max_pages = di.max_mem_kb / (PAGE_SIZE / 1024);
	out->cpu_time = di.cpu_time_ns;
	out->nr_online_vcpus = di.online_vcpus;
	out->max_vcpu_id = di.max_vcpus ? di.max_vcpus - 1 : 0;
	out->ssidref = 0;
	memcpy(out->handle, di.handle, sizeof(out->handle));
	out->cpupool = 0;
	out->gpaddr_bits = 52;
	out->shared_info_frame = SV_SHARED_INFO_GPA >> PAGE_SHIFT;
}

/* dom0 as our xl shows it: the host's memory, CPUs and CPU time, always running. */
static void dom0_info(struct xen_domctl_getdomaininfo *out)
{
	uint64_t total, free_pages;

	host_pages(&total, &free_pages);
	memset(out, 0, sizeof(*out));
	out->domain = 0;
	out->flags = XEN_DOMINF_running;
	out->tot_pages = out->max_pages = total;
	out->cpu_time = dom0_cpu_ns();
	out->nr_online_vcpus = host_cpus();
	out->max_vcpu_id = out->nr_online_vcpus - 1;
	out->gpaddr_bits = 52;
}

/* The first domain whose id is >= domid (Xen 4.17's getdomaininfo); false: none. */
static bool info_from(uint32_t domid, struct xen_domctl_getdomaininfo *out)
{
	if (domid == 0) {
		dom0_info(out);
		return true;
	}
	for (uint32_t id = domid; id < HV_MAX_DOMAINS; id++) {
		struct hv_domain *d = domain_get(id);
		if (!d)
			continue;
		guest_info(d, out);
		domain_put(d);
		return true;
	}
	return false;
}

/* ---- xen_version ---- */

static long xen_version(const struct xctl_peer *p, uint64_t cmd, uint64_t arg)
{
	switch (cmd) {
	case XENVER_version:
		return (HV_XEN_MAJOR << 16) | HV_XEN_MINOR;
	case XENVER_extraversion: {
		xen_extraversion_t x;
		memset(x, 0, sizeof(x));
		snprintf(x, sizeof(x), "%s", HV_XEN_EXTRA);
		return xctl_copy_to(p, arg, x, sizeof(x));
	}
	case XENVER_compile_info: {
		struct xen_compile_info ci;
		memset(&ci, 0, sizeof(ci));
		snprintf(ci.compiler, sizeof(ci.compiler), "gcc %s", __VERSION__);
		snprintf(ci.compile_by, sizeof(ci.compile_by), "splitvisor");
		snprintf(ci.compile_date, sizeof(ci.compile_date), "%s", __DATE__);
		return xctl_copy_to(p, arg, &ci, sizeof(ci));
	}
	case XENVER_capabilities: {
		xen_capabilities_info_t caps;
		memset(caps, 0, sizeof(caps));
		snprintf(caps, sizeof(caps), "%s", HV_XEN_CAPS);
		return xctl_copy_to(p, arg, caps, sizeof(caps));
	}
	case XENVER_changeset: {
		xen_changeset_info_t cs;
		memset(cs, 0, sizeof(cs));
		snprintf(cs, sizeof(cs), "splitvisor");
		return xctl_copy_to(p, arg, cs, sizeof(cs));
	}
	case XENVER_platform_parameters: {
		/* Xen's own x86-64 PV hole: what a guest of either engine sees is per domain. */
		xen_platform_parameters_t pp = { .virt_start = 0xffff800000000000ull };
		return xctl_copy_to(p, arg, &pp, sizeof(pp));
	}
	case XENVER_get_features: {
		xen_feature_info_t fi;
		int r = xctl_copy_from(p, &fi, arg, sizeof(fi));
		if (r)
			return r;
		fi.submap = 0;
		return xctl_copy_to(p, arg, &fi, sizeof(fi));
	}
	case XENVER_pagesize:
		return PAGE_SIZE;
	case XENVER_guest_handle: {
		xen_domain_handle_t h;
		memset(h, 0, sizeof(h)); /* dom0's */
		return xctl_copy_to(p, arg, h, sizeof(h));
	}
	case XENVER_commandline: {
		xen_commandline_t cl;
		memset(cl, 0, sizeof(cl)); /* no boot command line */
		return xctl_copy_to(p, arg, cl, sizeof(cl));
	}
	case XENVER_build_id:
		return -XEN_ENODATA; /* as a Xen built without a build id */
	default:
		hv_log("xctl: xen_version %llu not implemented", (unsigned long long)cmd);
		return -XEN_ENOSYS;
	}
}

/* ---- sysctl ---- */

static void physinfo(struct xen_sysctl_physinfo *pi)
{
	uint32_t n = host_cpus();

	memset(pi, 0, sizeof(*pi));
	pi->threads_per_core = 1;
	pi->cores_per_socket = n;
	pi->nr_cpus = n;
	pi->max_cpu_id = n - 1;
	pi->nr_nodes = 1;
	pi->max_node_id = 0;
	pi->cpu_khz = (uint32_t)hv_host.tsc_khz;
	pi->capabilities = XEN_SYSCTL_PHYSCAP_pv;
	host_pages(&pi->total_pages, &pi->free_pages);
	pi->max_mfn = pi->total_pages;
}

static int getdomaininfolist(const struct xctl_peer *p, struct xen_sysctl_getdomaininfolist *l)
{
	struct xen_domctl_getdomaininfo info;
	uint32_t n = 0, max = l->max_domains;
	uint32_t id = l->first_domain;

	if (max > HV_MAX_DOMAINS)
		max = HV_MAX_DOMAINS;
	while (n < max && id < HV_MAX_DOMAINS && info_from(id, &info)) {
		int r = xctl_copy_to(p, GH(l->buffer) + (uint64_t)n * sizeof(info), &info,
				     sizeof(info));
		if (r)
			return r;
		n++;
		id = info.domain + 1u;
	}
	l->num_domains = n;
	return 0;
}

/* Xen's convention: a NULL handle asks only for the count; a short array is -ENOBUFS. */
static int cputopoinfo(const struct xctl_peer *p, struct xen_sysctl_cputopoinfo *ti)
{
	uint32_t n = host_cpus();

	if (GH(ti->cputopo)) {
		if (ti->num_cpus < n) {
			ti->num_cpus = n;
			return -XEN_ENOBUFS;
		}
		for (uint32_t i = 0; i < n; i++) {
			struct xen_sysctl_cputopo t = { .core = i, .socket = 0, .node = 0 };
			int r = xctl_copy_to(p, GH(ti->cputopo) + (uint64_t)i * sizeof(t), &t,
					     sizeof(t));
			if (r)
				return r;
		}
	}
	ti->num_cpus = n;
	return 0;
}

/*
 * XEN_SYSCTL_getcpuinfo: each host CPU's idle time in ns (/proc/stat's idle
 * + iowait), up to max_cpus entries; nr_cpus says how many were written.
 */
static int getcpuinfo(const struct xctl_peer *p, struct xen_sysctl_getcpuinfo *gi)
{
	uint32_t n = host_cpus(), done = 0;
	char line[256];
	FILE *f;
	int r = 0;

	if (!GH(gi->info))
		return -XEN_EINVAL;
	if (n > gi->max_cpus)
		n = gi->max_cpus;
	f = fopen("/proc/stat", "re");
	if (!f)
		return -XEN_EIO;
	while (!r && done < n && fgets(line, sizeof(line), f)) {
		unsigned long long user, nice, sys, idle, iowait;
		unsigned cpu;
		struct xen_sysctl_cpuinfo ci;

		if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu", &cpu, &user, &nice, &sys, &idle,
			   &iowait) != 6 ||
		    cpu != done)
			continue;
		ci.idletime =
		    (uint64_t)((double)(idle + iowait) / (double)sysconf(_SC_CLK_TCK) * 1e9);
		r = xctl_copy_to(p, GH(gi->info) + (uint64_t)done * sizeof(ci), &ci, sizeof(ci));
		done++;
	}
	fclose(f);
	gi->nr_cpus = done;
	return r;
}

/* One node holding all of the host's memory, at distance 10 from itself. */
static int numainfo(const struct xctl_peer *p, struct xen_sysctl_numainfo *ni)
{
	if (GH(ni->meminfo) || GH(ni->distance)) {
		if (ni->num_nodes < 1) {
			ni->num_nodes = 1;
			return -XEN_ENOBUFS;
		}
		uint64_t total, free_pages;
		host_pages(&total, &free_pages);
		struct xen_sysctl_meminfo mi = { .memsize = total * PAGE_SIZE,
						 .memfree = free_pages * PAGE_SIZE };
		uint32_t dist = 10;
		int r = GH(ni->meminfo) ? xctl_copy_to(p, GH(ni->meminfo), &mi, sizeof(mi)) : 0;
		if (!r && GH(ni->distance))
			r = xctl_copy_to(p, GH(ni->distance), &dist, sizeof(dist));
		if (r)
			return r;
	}
	ni->num_nodes = 1;
	return 0;
}

/* The hypervisor's log ring, as Xen's console ring (xl dmesg). */
static int readconsole(const struct xctl_peer *p, struct xen_sysctl_readconsole *rc)
{
	uint32_t max = rc->count < SV_HVLOG_BUF ? rc->count : SV_HVLOG_BUF;
	uint64_t off = rc->incremental ? rc->index : 0, next = 0;
	char *buf = malloc(max ? max : 1);
	uint32_t len;
	int r;

	if (!buf)
		return -XEN_ENOMEM;
	len = hv_logring_read(&hv_log_ring, &off, &next, buf, max, rc->clear);
	r = xctl_copy_to(p, GH(rc->buffer), buf, len);
	free(buf);
	if (r)
		return r;
	rc->count = len;
	rc->index = (uint32_t)next;
	return 0;
}

/* The one pool, 0, under the credit scheduler, holding every CPU (xl info's free_cpus: none). */
static int cpupool_op(const struct xctl_peer *p, struct xen_sysctl_cpupool_op *op)
{
	uint32_t n = host_cpus(), bytes = (n + 7) / 8;
	uint8_t map[SV_CPUMAP_BYTES];

	memset(map, 0, sizeof(map));
	switch (op->op) {
	case XEN_SYSCTL_CPUPOOL_OP_INFO:
		if (op->cpupool_id != 0 && op->cpupool_id != XEN_SYSCTL_CPUPOOL_PAR_ANY)
			return -XEN_ENOENT;
		op->cpupool_id = 0;
		op->sched_id = XEN_SCHEDULER_CREDIT;
		op->n_dom = domain_count() + 1;
		for (uint32_t i = 0; i < n && i < SV_CPUMAP_BYTES * 8; i++)
			map[i / 8] |= (uint8_t)(1u << (i % 8));
		break;
	case XEN_SYSCTL_CPUPOOL_OP_FREEINFO:
		break;
	default:
		return -XEN_EOPNOTSUPP;
	}
	if (bytes > SV_CPUMAP_BYTES)
		bytes = SV_CPUMAP_BYTES;
	if (op->cpumap.nr_bits / 8 < bytes)
		bytes = op->cpumap.nr_bits / 8;
	if (GH(op->cpumap.bitmap)) {
		int r = xctl_copy_to(p, GH(op->cpumap.bitmap), map, bytes);
		if (r)
			return r;
	}
	return 0;
}

static long sysctl(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_sysctl s;
	int r = xctl_copy_from(p, &s, arg, sizeof(s));

	if (r)
		return r;
	if (s.interface_version != XEN_SYSCTL_INTERFACE_VERSION)
		return -XEN_EACCES;
	switch (s.cmd) {
	case XEN_SYSCTL_physinfo:
		physinfo(&s.u.physinfo);
		break;
	case XEN_SYSCTL_sched_id:
		s.u.sched_id.sched_id = XEN_SCHEDULER_CREDIT;
		break;
	case XEN_SYSCTL_getdomaininfolist:
		r = getdomaininfolist(p, &s.u.getdomaininfolist);
		break;
	case XEN_SYSCTL_cputopoinfo:
		/* The count goes back on success and on -ENOBUFS alike (a NULL array asks it). */
		r = cputopoinfo(p, &s.u.cputopoinfo);
		if ((!r || r == -XEN_ENOBUFS) && xctl_copy_to(p, arg, &s, sizeof(s)))
			r = -XEN_EFAULT;
		return r;
	case XEN_SYSCTL_numainfo:
		/* The count goes back on success and on -ENOBUFS alike (a NULL array asks it). */
		r = numainfo(p, &s.u.numainfo);
		if ((!r || r == -XEN_ENOBUFS) && xctl_copy_to(p, arg, &s, sizeof(s)))
			r = -XEN_EFAULT;
		return r;
	case XEN_SYSCTL_readconsole:
		r = readconsole(p, &s.u.readconsole);
		break;
	case XEN_SYSCTL_getcpuinfo:
		r = getcpuinfo(p, &s.u.getcpuinfo);
		break;
	case XEN_SYSCTL_cpupool_op:
		r = cpupool_op(p, &s.u.cpupool_op);
		break;
	case XEN_SYSCTL_get_cpu_featureset:
		r = xctl_cpu_featureset(p, &s.u.cpu_featureset);
		break;
	case XEN_SYSCTL_get_cpu_policy:
		r = xctl_sys_cpu_policy(p, &s.u.cpu_policy);
		if ((!r || r == -XEN_ENOBUFS) && xctl_copy_to(p, arg, &s, sizeof(s)))
			r = -XEN_EFAULT;
		return r;
	case XEN_SYSCTL_scheduler_op: {
		/* The pool's credit parameters, as `xl sched-credit` prints them; fixed here. */
		struct xen_sysctl_scheduler_op *so = &s.u.scheduler_op;

		if (so->cpupool_id != 0 || so->sched_id != XEN_SCHEDULER_CREDIT ||
		    so->cmd != XEN_SYSCTL_SCHEDOP_getinfo)
			return -XEN_EINVAL;
		so->u.sched_credit.tslice_ms = 30;
		so->u.sched_credit.ratelimit_us = 1000;
		so->u.sched_credit.vcpu_migr_delay_us = 0;
		break;
	}
	default:
		hv_log("xctl: sysctl %u not implemented", s.cmd);
		return -XEN_ENOSYS;
	}
	if (r)
		return r;
	return xctl_copy_to(p, arg, &s, sizeof(s));
}

/* ---- domctl ---- */

/* dom0's vCPU i is host CPU i, busy for its user + nice + system time (as our xl shows). */
static int dom0_vcpuinfo(struct xen_domctl_getvcpuinfo *vi)
{
	char line[256];
	FILE *f;

	if (vi->vcpu >= host_cpus())
		return -XEN_EINVAL;
	vi->online = vi->running = 1;
	vi->blocked = 0;
	vi->cpu = vi->vcpu;
	vi->cpu_time = 0;
	f = fopen("/proc/stat", "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long user, nice, sys;
		unsigned cpu;

		if (sscanf(line, "cpu%u %llu %llu %llu", &cpu, &user, &nice, &sys) == 4 &&
		    cpu == vi->vcpu)
			vi->cpu_time = (uint64_t)((double)(user + nice + sys) /
						  (double)sysconf(_SC_CLK_TCK) * 1e9);
	}
	if (f)
		fclose(f);
	return 0;
}

/*
 * One xenctl_bitmap out: our map (SV_CPUMAP_BYTES, bit i = host CPU i)
 * into the caller's nr_bits, the bytes past ours zeroed, as Xen's
 * cpumask_to_xenctl_bitmap.
 */
static int bitmap_out(const struct xctl_peer *p, const struct xenctl_bitmap *b,
		      const uint8_t map[SV_CPUMAP_BYTES])
{
	uint64_t bytes = ((uint64_t)b->nr_bits + 7) / 8;
	uint8_t *out;
	int r;

	if (!GH(b->bitmap) || !bytes)
		return -XEN_EINVAL;
	if (bytes > XCTL_MAX_COPY)
		return -XEN_E2BIG;
	out = calloc(1, bytes);
	if (!out)
		return -XEN_ENOMEM;
	memcpy(out, map, bytes < SV_CPUMAP_BYTES ? (size_t)bytes : SV_CPUMAP_BYTES);
	if (b->nr_bits % 8)
		out[bytes - 1] &= (uint8_t)((1u << (b->nr_bits % 8)) - 1);
	r = xctl_copy_to(p, GH(b->bitmap), out, bytes);
	free(out);
	return r;
}

/* Hard affinity as vcpu_pin keeps it; soft affinity is every CPU (we have none). */
static int getvcpuaffinity(const struct xctl_peer *p, struct hv_domain *d,
			   struct xen_domctl_vcpuaffinity *va)
{
	uint8_t all[SV_CPUMAP_BYTES];
	struct sv_ctl_vcpu_info *info;
	int r = 0;

	memset(all, 0, sizeof(all));
	for (uint32_t i = 0; i < host_cpus() && i < SV_CPUMAP_BYTES * 8; i++)
		all[i / 8] |= (uint8_t)(1u << (i % 8));
	if (!(va->flags & (XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT)))
		return -XEN_EINVAL;
	info = malloc(sizeof(*info));
	if (!info)
		return -XEN_ENOMEM;
	if (d) {
		r = vcpu_pin_info(d, info);
		if (!r && va->vcpu >= info->nr)
			r = -XEN_EINVAL;
	} else if (va->vcpu >= host_cpus()) {
		r = -XEN_EINVAL;
	}
	if (!r && (va->flags & XEN_VCPUAFFINITY_HARD))
		r = bitmap_out(p, &va->cpumap_hard, d ? info->vcpu[va->vcpu].hard : all);
	if (!r && (va->flags & XEN_VCPUAFFINITY_SOFT))
		r = bitmap_out(p, &va->cpumap_soft, all);
	free(info);
	return r;
}

static int getvcpuinfo(struct hv_domain *d, struct xen_domctl_getvcpuinfo *vi)
{
	struct sv_ctl_vcpu_info *info = malloc(sizeof(*info));
	int r;

	if (!info)
		return -XEN_ENOMEM;
	r = vcpu_pin_info(d, info);
	if (!r && vi->vcpu >= info->nr)
		r = -XEN_EINVAL;
	if (!r) {
		const struct sv_vcpu_info *v = &info->vcpu[vi->vcpu];
		vi->online = !!(v->flags & SV_VCPUF_ONLINE);
		/* A shut-down (suspended) domain's vCPUs stay up as they were, as in Xen: libxc's
		 * save writes the state of the online ones. */
		pthread_mutex_lock(&d->lock);
		struct hv_vcpu *hv = d->vcpus[vi->vcpu];
		if (hv->state == VCPU_STOPPED)
			vi->online = hv->before_shutdown == VCPU_RUNNABLE ||
				     hv->before_shutdown == VCPU_BLOCKED;
		pthread_mutex_unlock(&d->lock);
		vi->blocked = !!(v->flags & SV_VCPUF_BLOCKED);
		vi->running = !!(v->flags & SV_VCPUF_RUNNING);
		vi->cpu_time = v->cpu_time_ns;
		vi->cpu = v->cpu < 0 ? 0 : (uint32_t)v->cpu;
	}
	free(info);
	return r;
}

/*
 * XEN_DOMCTL_scheduler_op for the credit scheduler (libxl reads it for
 * every domain it lists): weight and cap as `xl sched-credit` keeps them.
 * putinfo as Xen's credit: weight 0 and cap 0xffff leave that one as it
 * is.  dom0 reads 256/0 and cannot be changed here (-EINVAL, as our xl).
 */
static int sched_credit(uint32_t domid, struct xen_domctl_scheduler_op *op, bool *copyback)
{
	struct sv_ctl_sched now, want;
	int r;

	if (op->sched_id != XEN_SCHEDULER_CREDIT)
		return -XEN_EINVAL;
	if (domid == 0) {
		if (op->cmd != XEN_DOMCTL_SCHEDOP_getinfo)
			return -XEN_EINVAL;
		op->u.credit.weight = SV_SCHED_WEIGHT_DEFAULT;
		op->u.credit.cap = 0;
		*copyback = true;
		return 0;
	}
	r = hv_sched_get(domid, &now);
	if (r)
		return r == -ESRCH ? -XEN_ESRCH : -XEN_EINVAL;
	switch (op->cmd) {
	case XEN_DOMCTL_SCHEDOP_getinfo:
		op->u.credit.weight = (uint16_t)now.weight;
		op->u.credit.cap = (uint16_t)now.cap;
		*copyback = true;
		return 0;
	case XEN_DOMCTL_SCHEDOP_putinfo:
		want = now;
		if (op->u.credit.weight)
			want.weight = op->u.credit.weight;
		if (op->u.credit.cap != (uint16_t)~0U)
			want.cap = op->u.credit.cap;
		want.flags = 0;
		r = hv_sched_set(&want, &now);
		return r == -ESRCH ? -XEN_ESRCH : r ? -XEN_EINVAL : 0;
	default:
		return -XEN_EINVAL;
	}
}

/* One xenctl_bitmap in, as Xen's xenctl_bitmap_to_cpumask: bits past ours must be clear. */
static int bitmap_in(const struct xctl_peer *p, const struct xenctl_bitmap *b,
		     uint8_t map[SV_CPUMAP_BYTES])
{
	uint64_t bytes = ((uint64_t)b->nr_bits + 7) / 8;
	uint8_t *in;
	int r;

	memset(map, 0, SV_CPUMAP_BYTES);
	if (!GH(b->bitmap) || !bytes)
		return -XEN_EINVAL;
	if (bytes > XCTL_MAX_COPY)
		return -XEN_E2BIG;
	in = calloc(1, bytes);
	if (!in)
		return -XEN_ENOMEM;
	r = xctl_copy_from(p, in, GH(b->bitmap), bytes);
	if (!r) {
		if (b->nr_bits % 8)
			in[bytes - 1] &= (uint8_t)((1u << (b->nr_bits % 8)) - 1);
		memcpy(map, in, bytes < SV_CPUMAP_BYTES ? (size_t)bytes : SV_CPUMAP_BYTES);
	}
	free(in);
	return r;
}

/*
 * XEN_DOMCTL_setvcpuaffinity: hard affinity is vcpu_pin_set's (the host
 * CPUs it may not use are dropped; none left is -EINVAL, as Xen's);
 * soft affinity is accepted and has no effect (no soft scheduling here).
 * The effective maps are written back, as Xen's.
 */
static int setvcpuaffinity(const struct xctl_peer *p, struct hv_domain *d,
			   struct xen_domctl_vcpuaffinity *va)
{
	uint8_t hard[SV_CPUMAP_BYTES], soft[SV_CPUMAP_BYTES], online[SV_CPUMAP_BYTES];
	bool any = false;
	int r = 0;

	if (va->vcpu >= d->max_vcpus ||
	    !(va->flags & (XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT)) ||
	    (va->flags & ~(XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT | XEN_VCPUAFFINITY_FORCE)))
		return -XEN_EINVAL;
	memset(online, 0, sizeof(online));
	for (uint32_t i = 0; i < host_cpus() && i < SV_CPUMAP_BYTES * 8; i++)
		online[i / 8] |= (uint8_t)(1u << (i % 8));
	if (va->flags & XEN_VCPUAFFINITY_HARD) {
		r = bitmap_in(p, &va->cpumap_hard, hard);
		for (unsigned i = 0; !r && i < SV_CPUMAP_BYTES; i++) {
			hard[i] &= online[i];
			any |= hard[i] != 0;
		}
		if (!r && !any)
			r = -XEN_EINVAL;
	}
	if (!r && (va->flags & XEN_VCPUAFFINITY_SOFT))
		r = bitmap_in(p, &va->cpumap_soft, soft);
	if (!r && (va->flags & XEN_VCPUAFFINITY_HARD))
		r = vcpu_pin_set(d, va->vcpu, hard) ? -XEN_EINVAL : 0;
	if (!r && (va->flags & XEN_VCPUAFFINITY_HARD))
		r = bitmap_out(p, &va->cpumap_hard, hard);
	if (!r && (va->flags & XEN_VCPUAFFINITY_SOFT))
		r = bitmap_out(p, &va->cpumap_soft, online);
	return r;
}

/* XEN_DOMCTL_setnodeaffinity: one node, 0; a map without it is -EINVAL. */
static int setnodeaffinity(const struct xctl_peer *p, const struct xen_domctl_nodeaffinity *na)
{
	uint8_t map[SV_CPUMAP_BYTES];
	int r = bitmap_in(p, &na->nodemap, map);

	return r ? r : (map[0] & 1) ? 0 : -XEN_EINVAL;
}

/* The ops on one existing guest; the builder's and the save's go to xctl_build.c, xctl_save.c. */
static int domctl_guest(const struct xctl_peer *p, struct hv_domain *d, struct xen_domctl *c,
			bool *copyback)
{
	switch (c->cmd) {
	case XEN_DOMCTL_pausedomain:
		return domain_pause(d);
	case XEN_DOMCTL_unpausedomain:
		return domain_unpause(d);
	case XEN_DOMCTL_resumedomain:
		return domain_resume(d, 0); /* libxc sets rax itself for a fast resume */
	case XEN_DOMCTL_getvcpuinfo:
		*copyback = true;
		return getvcpuinfo(d, &c->u.getvcpuinfo);
	case XEN_DOMCTL_max_mem:
		return memop_set_max(d, c->u.max_mem.max_memkb);
	case XEN_DOMCTL_getvcpuaffinity:
		return getvcpuaffinity(p, d, &c->u.vcpuaffinity);
	case XEN_DOMCTL_scheduler_op:
		return sched_credit(d->domid, &c->u.scheduler_op, copyback);
	case XEN_DOMCTL_setvcpuaffinity:
		return setvcpuaffinity(p, d, &c->u.vcpuaffinity);
	case XEN_DOMCTL_setnodeaffinity:
		return setnodeaffinity(p, &c->u.nodeaffinity);
	case XEN_DOMCTL_get_cpu_policy:
		*copyback = true;
		return xctl_cpu_policy_out(p, d->vcpus[0], &c->u.cpu_policy.nr_leaves,
					   GH(c->u.cpu_policy.leaves), &c->u.cpu_policy.nr_msrs);
	case XEN_DOMCTL_set_cpu_policy:
		*copyback = true;
		return xctl_set_cpu_policy(p, d, &c->u.cpu_policy);
	case XEN_DOMCTL_max_vcpus:
	case XEN_DOMCTL_setvcpucontext:
	case XEN_DOMCTL_hypercall_init:
	case XEN_DOMCTL_settscinfo:
	case XEN_DOMCTL_gettscinfo:
	case XEN_DOMCTL_set_address_size:
	case XEN_DOMCTL_get_address_size:
		return xctl_build_domctl(p, d, c, copyback);
	case XEN_DOMCTL_getpageframeinfo3:
	case XEN_DOMCTL_getvcpucontext:
	case XEN_DOMCTL_shadow_op:
	case XEN_DOMCTL_get_ext_vcpucontext:
	case XEN_DOMCTL_getvcpuextstate:
	case XEN_DOMCTL_get_vcpu_msrs:
		return xctl_save_domctl(p, d, c, copyback);
	default:
		hv_log("xctl: domctl %u not implemented", c->cmd);
		return -XEN_ENOSYS;
	}
}

static long domctl(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_domctl c;
	struct hv_domain *d;
	bool copyback = false;
	int r = xctl_copy_from(p, &c, arg, sizeof(c));

	if (r)
		return r;
	if (c.interface_version != XEN_DOMCTL_INTERFACE_VERSION)
		return -XEN_EACCES;
	if (c.cmd == XEN_DOMCTL_getdomaininfo) {
		if (c.domain >= DOMID_FIRST_RESERVED)
			return -XEN_EINVAL;
		if (!info_from(c.domain, &c.u.getdomaininfo))
			return -XEN_ESRCH;
		c.domain = c.u.getdomaininfo.domain;
		return xctl_copy_to(p, arg, &c, sizeof(c));
	}
	if (c.cmd == XEN_DOMCTL_createdomain) {
		r = xctl_createdomain(&c);
		return r ? r : xctl_copy_to(p, arg, &c, sizeof(c));
	}
	if (c.cmd == XEN_DOMCTL_destroydomain && c.domain != 0)
		return domain_destroy(c.domain);
	if (c.domain == 0) {
		/* dom0 is the host: it cannot be paused, destroyed or resized from here. */
		switch (c.cmd) {
		case XEN_DOMCTL_pausedomain:
		case XEN_DOMCTL_unpausedomain:
		case XEN_DOMCTL_resumedomain:
		case XEN_DOMCTL_destroydomain:
		case XEN_DOMCTL_max_mem:
			return -XEN_EINVAL;
		case XEN_DOMCTL_getvcpuinfo:
			r = dom0_vcpuinfo(&c.u.getvcpuinfo);
			return r ? r : xctl_copy_to(p, arg, &c, sizeof(c));
		case XEN_DOMCTL_getvcpuaffinity:
			return getvcpuaffinity(p, NULL, &c.u.vcpuaffinity);
		case XEN_DOMCTL_scheduler_op:
			r = sched_credit(0, &c.u.scheduler_op, &copyback);
			return r ? r : xctl_copy_to(p, arg, &c, sizeof(c));
		default:
			hv_log("xctl: domctl %u not implemented", c.cmd);
			return -XEN_ENOSYS;
		}
	}
	d = domain_get(c.domain);
	if (!d)
		return -XEN_ESRCH;
	r = domctl_guest(p, d, &c, &copyback);
	domain_put(d);
	/* Counts and the failing leaf go back with -ENOBUFS and -ERANGE too, as Xen's. */
	if (!copyback || (r && r != -XEN_ENOBUFS && r != -XEN_ERANGE))
		return r;
	return xctl_copy_to(p, arg, &c, sizeof(c)) ?: r;
}

/* ---- event_channel_op: what libxenctrl asks by hypercall (lsevtchn's status) ---- */

/*
 * EVTCHNOP_alloc_unbound for another domain (libxl's store and console
 * ports): a port of dom that remote_dom may bind, as our xl's
 * SV_CTL_EVTCHN_ALLOC_UNBOUND.
 */
static long alloc_unbound(const struct xctl_peer *p, uint64_t arg)
{
	struct evtchn_alloc_unbound au;
	struct hv_domain *d;
	uint32_t port = 0;
	int r = xctl_copy_from(p, &au, arg, sizeof(au));

	if (r)
		return r;
	if (au.dom == DOMID_SELF || au.dom == 0)
		return -XEN_EINVAL; /* dom0's own ports are the event-channel library's */
	if (au.remote_dom == DOMID_SELF)
		au.remote_dom = 0;
	d = domain_get(au.dom);
	if (!d)
		return -XEN_ESRCH;
	r = evtchn_alloc_unbound(d, au.remote_dom, &port, NULL);
	domain_put(d);
	if (r)
		return r;
	au.port = port;
	return xctl_copy_to(p, arg, &au, sizeof(au));
}

static long event_channel_op(const struct xctl_peer *p, uint64_t cmd, uint64_t arg)
{
	struct evtchn_status st;
	struct hv_domain *d;
	int r;

	if (cmd == EVTCHNOP_alloc_unbound)
		return alloc_unbound(p, arg);
	if (cmd != EVTCHNOP_status) {
		hv_log("xctl: event_channel_op %llu not implemented", (unsigned long long)cmd);
		return -XEN_ENOSYS;
	}
	r = xctl_copy_from(p, &st, arg, sizeof(st));
	if (r)
		return r;
	/* dom0 may ask about any domain's ports, as Xen's privileged domain. */
	if (st.dom == DOMID_SELF || st.dom == 0)
		return (r = evtchn_status(hv_dom0, &st)) ? r
							 : xctl_copy_to(p, arg, &st, sizeof(st));
	d = domain_get(st.dom);
	if (!d)
		return -XEN_ESRCH;
	r = evtchn_status(d, &st);
	domain_put(d);
	return r ? r : xctl_copy_to(p, arg, &st, sizeof(st));
}

/* ---- memory_op: the counters libxl reads for xl info, the builder's and the save's ops ---- */

static long memory_op(const struct xctl_peer *p, uint64_t cmd, uint64_t arg)
{
	switch (cmd & ((1u << 6) - 1)) {
	case XENMEM_claim_pages:
		return xctl_claim_pages(p, arg);
	case XENMEM_populate_physmap:
		return xctl_populate_physmap(p, (unsigned)(cmd >> 6), arg);
	case XENMEM_set_memory_map:
		return xctl_set_memory_map(p, arg);
	}
	switch (cmd) {
	case XENMEM_get_sharing_freed_pages:
	case XENMEM_get_sharing_shared_pages:
		return 0; /* no page sharing */
	case XENMEM_maximum_ram_page:
		return (long)xctl_max_ram_page();
	case XENMEM_machphys_mfn_list:
		return xctl_machphys_mfn_list(p, arg);
	case XENMEM_get_vnumainfo:
		return xctl_get_vnumainfo(p, arg);
	case XENMEM_maximum_gpfn:
		return xctl_maximum_gpfn(p, arg);
	default:
		hv_log("xctl: memory_op %llu not implemented", (unsigned long long)cmd);
		return -XEN_ENOSYS;
	}
}

/*
 * multicall: each entry is served as its own hypercall and its result
 * written back (libxenctrl batches a few calls this way).  At most
 * XCTL_MAX_MULTICALL entries; a multicall inside one is -EINVAL for that
 * entry, as Xen refuses nesting.
 */
#define XCTL_MAX_MULTICALL 64
static long xctl_one(const struct xctl_peer *p, const struct sv_ctl_hypercall *hc);

static long multicall(const struct xctl_peer *p, uint64_t list, uint64_t nr)
{
	struct multicall_entry e;

	if (nr > XCTL_MAX_MULTICALL)
		return -XEN_EINVAL;
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t at = list + i * sizeof(e);
		int r = xctl_copy_from(p, &e, at, sizeof(e));
		if (r)
			return r;
		if (e.op == __HYPERVISOR_multicall) {
			e.result = (xen_ulong_t)-XEN_EINVAL;
		} else {
			struct sv_ctl_hypercall one = { .op = e.op };
			memcpy(one.arg, e.args, sizeof(one.arg));
			e.result = (xen_ulong_t)xctl_one(p, &one);
		}
		r = xctl_copy_to(p, at + offsetof(struct multicall_entry, result), &e.result,
				 sizeof(e.result));
		if (r)
			return r;
	}
	return 0;
}

long xctl_hypercall(const struct xctl_peer *p, const struct sv_ctl_hypercall *hc)
{
	if (!xctl_peer_privileged(p))
		return -XEN_EPERM;
	return xctl_one(p, hc);
}

static long xctl_one(const struct xctl_peer *p, const struct sv_ctl_hypercall *hc)
{
	switch (hc->op) {
	case __HYPERVISOR_xen_version:
		return xen_version(p, hc->arg[0], hc->arg[1]);
	case __HYPERVISOR_sysctl:
		return sysctl(p, hc->arg[0]);
	case __HYPERVISOR_domctl:
		return domctl(p, hc->arg[0]);
	case __HYPERVISOR_event_channel_op:
		return event_channel_op(p, hc->arg[0], hc->arg[1]);
	case __HYPERVISOR_memory_op:
		return memory_op(p, hc->arg[0], hc->arg[1]);
	case __HYPERVISOR_multicall:
		return multicall(p, hc->arg[0], hc->arg[1]);
	case __HYPERVISOR_grant_table_op:
		return xctl_grant_table_op(p, hc->arg);
	case __HYPERVISOR_mmuext_op:
		return xctl_mmuext_op(p, hc->arg);
	case __HYPERVISOR_xsm_op:
		return -XEN_ENOSYS; /* no XSM/FLASK, as Xen's default build: libxl asks every time
				     */
	default:
		hv_log("xctl: hypercall %llu (sub-op %llu) from dom0 process %d not implemented",
		       (unsigned long long)hc->op, (unsigned long long)hc->arg[0], (int)p->pid);
		return -XEN_ENOSYS;
	}
}
