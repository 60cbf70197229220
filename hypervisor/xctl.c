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
#include "mmu.h"

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

static int copy_from(const struct xctl_peer *p, void *dst, uint64_t addr, size_t len)
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

static int copy_to(const struct xctl_peer *p, uint64_t addr, const void *src, size_t len)
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

/* A guest handle's address in the peer (on x86-64 a handle is one pointer). */
#define GH(h) ((uint64_t)(uintptr_t)(h).p)

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
		return copy_to(p, arg, x, sizeof(x));
	}
	case XENVER_compile_info: {
		struct xen_compile_info ci;
		memset(&ci, 0, sizeof(ci));
		snprintf(ci.compiler, sizeof(ci.compiler), "gcc %s", __VERSION__);
		snprintf(ci.compile_by, sizeof(ci.compile_by), "splitvisor");
		snprintf(ci.compile_date, sizeof(ci.compile_date), "%s", __DATE__);
		return copy_to(p, arg, &ci, sizeof(ci));
	}
	case XENVER_capabilities: {
		xen_capabilities_info_t caps;
		memset(caps, 0, sizeof(caps));
		snprintf(caps, sizeof(caps), "%s", HV_XEN_CAPS);
		return copy_to(p, arg, caps, sizeof(caps));
	}
	case XENVER_changeset: {
		xen_changeset_info_t cs;
		memset(cs, 0, sizeof(cs));
		snprintf(cs, sizeof(cs), "splitvisor");
		return copy_to(p, arg, cs, sizeof(cs));
	}
	case XENVER_platform_parameters: {
		/* Xen's own x86-64 PV hole: what a guest of either engine sees is per domain. */
		xen_platform_parameters_t pp = { .virt_start = 0xffff800000000000ull };
		return copy_to(p, arg, &pp, sizeof(pp));
	}
	case XENVER_get_features: {
		xen_feature_info_t fi;
		int r = copy_from(p, &fi, arg, sizeof(fi));
		if (r)
			return r;
		fi.submap = 0;
		return copy_to(p, arg, &fi, sizeof(fi));
	}
	case XENVER_pagesize:
		return PAGE_SIZE;
	case XENVER_guest_handle: {
		xen_domain_handle_t h;
		memset(h, 0, sizeof(h)); /* dom0's */
		return copy_to(p, arg, h, sizeof(h));
	}
	case XENVER_commandline: {
		xen_commandline_t cl;
		memset(cl, 0, sizeof(cl)); /* no boot command line */
		return copy_to(p, arg, cl, sizeof(cl));
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
		int r = copy_to(p, GH(l->buffer) + (uint64_t)n * sizeof(info), &info, sizeof(info));
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
			int r =
			    copy_to(p, GH(ti->cputopo) + (uint64_t)i * sizeof(t), &t, sizeof(t));
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
		r = copy_to(p, GH(gi->info) + (uint64_t)done * sizeof(ci), &ci, sizeof(ci));
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
		int r = GH(ni->meminfo) ? copy_to(p, GH(ni->meminfo), &mi, sizeof(mi)) : 0;
		if (!r && GH(ni->distance))
			r = copy_to(p, GH(ni->distance), &dist, sizeof(dist));
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
	r = copy_to(p, GH(rc->buffer), buf, len);
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
		int r = copy_to(p, GH(op->cpumap.bitmap), map, bytes);
		if (r)
			return r;
	}
	return 0;
}

/* ---- CPU policies (libxc's xc_cpuid_apply_policy) ---- */

/*
 * The policy a PV guest sees, serialised as Xen's x86_cpuid_copy_to_buffer
 * does: the basic leaves up to 0xd (4, 7, 0xb and 0xd by subleaf), the
 * extended ones up to 0x80000008, no MSRs.  It is pv_cpuid's view, which
 * does not change: a policy set later is checked and accepted, and the
 * guest keeps seeing this one.
 */
#define XCTL_CPUID_MAX 128
#define XCTL_CPUID_SERIALISED 160 /* >= Xen 4.17's CPUID_MAX_SERIALISED_LEAVES */
#define XCTL_MSR_SERIALISED 8
static unsigned cpu_policy_leaves(struct hv_vcpu *v, xen_cpuid_leaf_t *out)
{
	unsigned n = 0;
	uint32_t r[4], max_basic, max_ext;

	/*
	 * Every subleaf libxc's x86_cpuid_copy_to_buffer may emit is here
	 * (libxc serialises its edited policy into a buffer of our count), and
	 * leaf 0 and 0x80000000 say no more than what is here.
	 */
#define ADD(l, s)                                                                                  \
	do {                                                                                       \
		pv_cpuid(v, (l), (s) == XEN_CPUID_NO_SUBLEAF ? 0 : (s), r);                        \
		if ((l) == 0)                                                                      \
			r[0] = max_basic;                                                          \
		if ((l) == 7 && (s) == 0 && r[0] > 1)                                              \
			r[0] = 1;                                                                  \
		if ((l) == 0x80000000)                                                             \
			r[0] = max_ext;                                                            \
		if (n < XCTL_CPUID_MAX)                                                            \
			out[n++] = (xen_cpuid_leaf_t){ (l), (s), r[0], r[1], r[2], r[3] };         \
	} while (0)
	pv_cpuid(v, 0, 0, r);
	max_basic = r[0] < 0xd ? r[0] : 0xd;
	pv_cpuid(v, 0x80000000, 0, r);
	max_ext = r[0] >= 0x80000000 && r[0] <= 0x80000008 ? r[0] : 0x80000008;
	for (uint32_t l = 0; l <= max_basic; l++) {
		switch (l) {
		case 4:
			for (uint32_t s = 0; s < 5; s++)
				ADD(4, s);
			break;
		case 7:
			ADD(7, 0);
			ADD(7, 1);
			break;
		case 0xb:
			ADD(0xb, 0);
			ADD(0xb, 1);
			break;
		case 0xd:
			for (uint32_t s = 0; s < 63; s++)
				ADD(0xd, s);
			break;
		default:
			ADD(l, XEN_CPUID_NO_SUBLEAF);
		}
	}
	ADD(0x40000000, XEN_CPUID_NO_SUBLEAF);
	for (uint32_t l = 0x80000000; l <= max_ext; l++)
		ADD(l, XEN_CPUID_NO_SUBLEAF);
#undef ADD
	return n;
}

/*
 * Out to the caller's arrays: a NULL leaves handle asks the counts; a
 * short array is -ENOBUFS, as Xen's.  v: whose view (APIC ids).
 */
static int cpu_policy_out(const struct xctl_peer *p, struct hv_vcpu *v, uint32_t *nr_leaves,
			  uint64_t leaves, uint32_t *nr_msrs)
{
	xen_cpuid_leaf_t *buf = calloc(XCTL_CPUID_MAX, sizeof(*buf));
	unsigned n;
	int r = 0;

	if (!buf)
		return -XEN_ENOMEM;
	n = cpu_policy_leaves(v, buf);
	if (!leaves) {
		/* Xen's maxima: what a policy may serialise to (libxc sizes its buffers so). */
		free(buf);
		*nr_leaves = XCTL_CPUID_SERIALISED;
		*nr_msrs = XCTL_MSR_SERIALISED;
		return 0;
	}
	{
		if (*nr_leaves < n)
			r = -XEN_ENOBUFS;
		else
			r = copy_to(p, leaves, buf, n * sizeof(*buf));
	}
	free(buf);
	if (r)
		return r;
	*nr_leaves = n;
	*nr_msrs = 0;
	return 0;
}

/*
 * XEN_SYSCTL_get_cpu_featureset: Xen's feature words (leaf 1 edx/ecx,
 * 0x80000001 edx/ecx, 0xd:1 eax, 7:0 ebx/ecx, 0x80000007 edx, 0x80000008
 * ebx, 7:0 edx, 7:1 eax; the later words 0) from the PV guest's view, for
 * every index.  A NULL handle asks the count; fewer words than ours get
 * the first ones.
 */
#define XCTL_FEATURE_WORDS 16
static int cpu_featureset(const struct xctl_peer *p, struct xen_sysctl_cpu_featureset *fs)
{
	static const struct {
		uint32_t leaf, sub;
		uint8_t reg; /* 0..3: a b c d */
	} words[] = { { 1, 0, 3 },	    { 1, 0, 2 }, { 0x80000001, 0, 3 }, { 0x80000001, 0, 2 },
		      { 0xd, 1, 0 },	    { 7, 0, 1 }, { 7, 0, 2 },	       { 0x80000007, 0, 3 },
		      { 0x80000008, 0, 1 }, { 7, 0, 3 }, { 7, 1, 0 } };
	struct hv_vcpu v0 = { .id = 0 };
	uint32_t out[XCTL_FEATURE_WORDS] = { 0 }, r[4], n;

	if (fs->index > XEN_SYSCTL_cpu_featureset_hvm_max)
		return -XEN_EINVAL;
	if (!GH(fs->features)) {
		fs->nr_features = XCTL_FEATURE_WORDS;
		return 0;
	}
	for (unsigned i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		pv_cpuid(&v0, words[i].leaf, words[i].sub, r);
		out[i] = r[words[i].reg];
	}
	n = fs->nr_features < XCTL_FEATURE_WORDS ? fs->nr_features : XCTL_FEATURE_WORDS;
	fs->nr_features = n;
	return copy_to(p, GH(fs->features), out, n * sizeof(out[0]));
}

/* XEN_SYSCTL_get_cpu_policy: every index gives the PV guest's view (no HVM here). */
static int sys_cpu_policy(const struct xctl_peer *p, struct xen_sysctl_cpu_policy *cp)
{
	struct hv_vcpu v0 = { .id = 0 };

	if (cp->index > XEN_SYSCTL_cpu_policy_hvm_default || cp->_rsvd)
		return -XEN_EINVAL;
	return cpu_policy_out(p, &v0, &cp->nr_leaves, GH(cp->leaves), &cp->nr_msrs);
}

/*
 * XEN_DOMCTL_set_cpu_policy: the arrays are read and checked as Xen's
 * x86_cpuid_copy_from_buffer does (each leaf one it knows, each MSR one it
 * serialises); the guest's view stays pv_cpuid's.
 */
static int dom_set_cpu_policy(const struct xctl_peer *p, struct hv_domain *d,
			      struct xen_domctl_cpu_policy *cp)
{
	xen_cpuid_leaf_t *lv;
	xen_msr_entry_t ms[XCTL_MSR_SERIALISED];
	int r = 0;

	cp->err_leaf = cp->err_subleaf = XEN_CPUID_NO_SUBLEAF;
	cp->err_msr = ~0u;
	if (cp->nr_leaves > XCTL_CPUID_SERIALISED || cp->nr_msrs > XCTL_MSR_SERIALISED)
		return -XEN_ENOBUFS;
	if (d->state != DOM_CREATED)
		return -XEN_EEXIST; /* as Xen once the domain has run */
	lv = calloc(cp->nr_leaves ? cp->nr_leaves : 1, sizeof(*lv));
	if (!lv)
		return -XEN_ENOMEM;
	r = copy_from(p, lv, GH(cp->leaves), cp->nr_leaves * sizeof(*lv));
	if (!r)
		r = copy_from(p, ms, GH(cp->msrs), cp->nr_msrs * sizeof(*ms));
	for (uint32_t i = 0; !r && i < cp->nr_leaves; i++) {
		uint32_t l = lv[i].leaf, s = lv[i].subleaf;
		bool ok;

		if (l <= 0x1f)
			ok = l == 4	? s < 5
			     : l == 7	? s < 3
			     : l == 0xb ? s < 2
			     : l == 0xd ? s < 63
					: s == XEN_CPUID_NO_SUBLEAF;
		else
			ok = (l == 0x40000000 || l == 0x40000100 ||
			      (l >= 0x80000000 && l <= 0x80000021)) &&
			     s == XEN_CPUID_NO_SUBLEAF;
		if (!ok) {
			cp->err_leaf = l;
			cp->err_subleaf = s;
			r = -XEN_ERANGE;
		}
	}
	for (uint32_t i = 0; !r && i < cp->nr_msrs; i++) {
		if ((ms[i].idx != 0xce && ms[i].idx != 0x10a) || ms[i].flags) {
			cp->err_msr = ms[i].idx;
			r = ms[i].flags ? -XEN_EINVAL : -XEN_ERANGE;
		}
	}
	free(lv);
	return r;
}

static long sysctl(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_sysctl s;
	int r = copy_from(p, &s, arg, sizeof(s));

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
		if ((!r || r == -XEN_ENOBUFS) && copy_to(p, arg, &s, sizeof(s)))
			r = -XEN_EFAULT;
		return r;
	case XEN_SYSCTL_numainfo:
		/* The count goes back on success and on -ENOBUFS alike (a NULL array asks it). */
		r = numainfo(p, &s.u.numainfo);
		if ((!r || r == -XEN_ENOBUFS) && copy_to(p, arg, &s, sizeof(s)))
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
		r = cpu_featureset(p, &s.u.cpu_featureset);
		break;
	case XEN_SYSCTL_get_cpu_policy:
		r = sys_cpu_policy(p, &s.u.cpu_policy);
		if ((!r || r == -XEN_ENOBUFS) && copy_to(p, arg, &s, sizeof(s)))
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
	return copy_to(p, arg, &s, sizeof(s));
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
	r = copy_to(p, GH(b->bitmap), out, bytes);
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

#define PTE_PRESENT 0x1ULL
#define PTE_PSE 0x80ULL
#define PTE_ADDR 0x000ffffffffff000ULL

/* The entry of va at level (4..1) of the table at gpa, or 0 (not present, not RAM). */
static uint64_t table_entry(struct hv_domain *d, uint64_t gpa, int level, uint64_t va)
{
	const uint64_t *t;

	if (!mem_is_ram(&d->mem, gpa, PAGE_SIZE) || !mem_frame_present(&d->mem, gpa))
		return 0;
	t = mem_gpa(&d->mem, gpa, PAGE_SIZE);
	return t ? __atomic_load_n(&t[(va >> (12 + 9 * (level - 1))) & 511], __ATOMIC_RELAXED) : 0;
}

/*
 * Does a kernel about to start on cr3 at rip use VAs below SV_LOW_VA_END
 * (Mini-OS-style kernels such as PV GRUB are linked at 0)?  The process
 * engine starts such a domain's runner with the low window; our xl says
 * so at create (SV_CTL_CREATE_F_LOW_VA, from the ELF), createdomain
 * cannot, so the first context tells it (low_va_late).
 */
static bool uses_low_va(struct hv_domain *d, uint64_t cr3, uint64_t rip)
{
	uint64_t e = cr3;

	if (rip < SV_LOW_VA_END)
		return true;
	for (int level = 4; level > 1; level--) {
		e = table_entry(d, e & PTE_ADDR, level, 0);
		if (!(e & PTE_PRESENT))
			return false;
		if (level == 2 && (e & PTE_PSE))
			return true;
	}
	for (uint64_t va = 0; va < SV_LOW_VA_END; va += PAGE_SIZE)
		if (table_entry(d, e & PTE_ADDR, 1, va) & PTE_PRESENT)
			return true;
	return false;
}

/*
 * d, which has never run, is about to start on tables that map VAs below
 * SV_LOW_VA_END: what createdomain could not tell (our xl passes
 * SV_CTL_CREATE_F_LOW_VA from the ELF).  As Xen, which needs nothing for
 * it, the toolstack is not bothered: d becomes a low-VA domain and its
 * engine instance is made again as one (the process engine relaunches its
 * runner with the low window, under the same checks as at create; KVM
 * needs nothing).  d->lock held.
 */
static int low_va_late(struct hv_domain *d)
{
	char why[200] = "";
	int ret;

	d->low_va = true;
	if (!d->eng->low_va_late)
		return 0;
	ret = d->eng->low_va_late(d, why, sizeof(why));
	if (ret) {
		hv_log("d%u: xctl: its kernel maps VAs below %#llx and its engine cannot follow: "
		       "%s",
		       d->domid, (unsigned long long)SV_LOW_VA_END, why);
		return -XEN_EIO;
	}
	return 0;
}

/*
 * XEN_DOMCTL_setvcpucontext: what SV_CTL_VCPU_SET_CONTEXT does (Xen's
 * arch_set_info_guest), only before the domain first runs.  A NULL
 * context would reset the vCPU on Xen: not offered (-EINVAL).
 */
static int suspended_returncode(struct hv_domain *d, uint32_t vcpu,
				const struct vcpu_guest_context *ctx);

static int setvcpucontext(const struct xctl_peer *p, struct hv_domain *d,
			  const struct xen_domctl_vcpucontext *vc)
{
	struct vcpu_guest_context *ctx;
	int r;

	if (vc->vcpu >= d->max_vcpus || !GH(vc->ctxt))
		return -XEN_EINVAL;
	ctx = malloc(sizeof(*ctx));
	if (!ctx)
		return -XEN_ENOMEM;
	r = copy_from(p, ctx, GH(vc->ctxt), sizeof(*ctx));
	if (!r) {
		r = suspended_returncode(d, vc->vcpu, ctx); /* xc_domain_resume; 1: not that */
		if (r != 1) {
			free(ctx);
			return r;
		}
		r = 0;
	}
	if (!r) {
		pthread_mutex_lock(&d->lock);
		if (d->state != DOM_CREATED) {
			r = -XEN_EBUSY;
		} else if (vcpu_context_check(d->vcpus[vc->vcpu], ctx)) {
			r = -XEN_EINVAL; /* refused before the tables are touched */
		} else {
			if (!d->low_va &&
			    uses_low_va(d, xen_cr3_to_pfn(ctx->ctrlreg[3]) << PAGE_SHIFT,
					ctx->user_regs.rip))
				r = low_va_late(d); /* failed: the domain cannot run */
			/* The MMU's validation gives the builder's entries _PAGE_USER, as Xen's. */
			if (!r)
				r = vcpu_set_context(d->vcpus[vc->vcpu], ctx);
		}
		pthread_mutex_unlock(&d->lock);
	}
	free(ctx);
	return r;
}

/* XEN_DOMCTL_hypercall_init: the page must be the domain's RAM, present. */
static int hypercall_init(struct hv_domain *d, uint64_t gmfn)
{
	uint64_t gpa = gmfn << PAGE_SHIFT;

	if (gmfn > (UINT64_MAX >> PAGE_SHIFT) || !mem_is_ram(&d->mem, gpa, PAGE_SIZE) ||
	    !mem_frame_present(&d->mem, gpa))
		return -XEN_EINVAL;
	return pv_write_hypercall_page(d, gpa) ? -XEN_EINVAL : 0;
}

/*
 * XEN_DOMCTL_settscinfo: the mode is fixed when the domain is made (the
 * engine reads it then), so only the one it has is accepted; another
 * valid one is -EOPNOTSUPP (and logged), an unknown one -EINVAL.
 */
static int settscinfo(struct hv_domain *d, const struct xen_domctl_tsc_info *ti)
{
	if (ti->tsc_mode > SV_TSC_MODE_NATIVE_PARAVIRT)
		return -XEN_EINVAL;
	if (ti->tsc_mode == d->tsc_mode)
		return 0;
	hv_log("d%u: xctl: settscinfo: tsc_mode %s cannot be set after create", d->domid,
	       tsc_mode_name(ti->tsc_mode));
	return -XEN_EOPNOTSUPP;
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
	r = copy_from(p, in, GH(b->bitmap), bytes);
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

/* ---- libxc's save of a PV domain (xg_sr_save_x86_pv.c): hypervisor/save.c's reads ---- */

/*
 * XEN_DOMCTL_getpageframeinfo3: each of up to 1024 frames in, its
 * XEN_DOMCTL_PFINFO_* type out (the table level, LPINTAB when pinned, XTAB
 * for a frame that is not the domain's present RAM), from save.c's
 * SV_CTL_PAGE_TYPES, one request per run of adjacent frames.  The domain
 * must be paused or shut down (-EBUSY), as the types of a running guest's
 * pages change under the caller.
 */
#define XCTL_PFINFO_MAX 1024

static int getpageframeinfo3(const struct xctl_peer *p, struct hv_domain *d,
			     const struct xen_domctl_getpageframeinfo3 *pi)
{
	struct sv_ctl_page_types *q;
	xen_pfn_t *arr;
	uint64_t n = pi->num;
	int r;

	if (n > XCTL_PFINFO_MAX)
		return -XEN_E2BIG;
	if (!n)
		return 0;
	arr = calloc(n, sizeof(*arr));
	q = malloc(sizeof(*q));
	r = arr && q ? copy_from(p, arr, GH(pi->array), n * sizeof(*arr)) : -XEN_ENOMEM;
	for (uint64_t i = 0; !r && i < n;) {
		uint64_t j = i + 1;
		const void *out;
		uint32_t out_len;

		if (arr[i] >= (1ULL << 40)) {
			arr[i++] = XEN_DOMCTL_PFINFO_XTAB; /* past the frame space: not the domain's */
			continue;
		}
		while (j < n && arr[j] == arr[i] + (j - i) && arr[j] < (1ULL << 40))
			j++;
		q->domid = d->domid;
		q->first = arr[i];
		q->count = (uint32_t)(j - i);
		r = save_op(d, SV_CTL_PAGE_TYPES, q, &out, &out_len);
		for (uint64_t k = i; !r && k < j; k++)
			arr[k] = q->type[k - i];
		i = j;
	}
	if (!r)
		r = copy_to(p, GH(pi->array), arr, n * sizeof(*arr));
	free(q);
	free(arr);
	return r;
}

/*
 * XEN_DOMCTL_getvcpucontext: save.c's SV_CTL_VCPU_GET_CONTEXT (the domain
 * paused or shut down, else -EBUSY); a vCPU that was never initialised
 * gives a zeroed context, as Xen's.
 */
static int getvcpucontext(const struct xctl_peer *p, struct hv_domain *d,
			  const struct xen_domctl_vcpucontext *vc)
{
	struct sv_ctl_vcpu_context *o;
	const void *out;
	uint32_t out_len;
	int r;

	if (vc->vcpu >= d->max_vcpus)
		return -XEN_EINVAL;
	if (!GH(vc->ctxt))
		return 0; /* Xen: nothing asked, nothing copied */
	o = calloc(1, sizeof(*o) > sizeof(struct sv_ctl_vcpu_get) ? sizeof(*o)
								   : sizeof(struct sv_ctl_vcpu_get));
	if (!o)
		return -XEN_ENOMEM;
	*(struct sv_ctl_vcpu_get *)o = (struct sv_ctl_vcpu_get){ .domid = d->domid, .vcpu = vc->vcpu };
	r = save_op(d, SV_CTL_VCPU_GET_CONTEXT, o, &out, &out_len);
	if (r == -ENODATA) {
		memset(o, 0, sizeof(*o));
		r = 0;
	}
	if (!r)
		r = copy_to(p, GH(vc->ctxt), &o->ctx, sizeof(o->ctx));
	free(o);
	return r;
}

/*
 * XEN_DOMCTL_shadow_op: no shadow paging and no log-dirty mode here (no
 * live migration): OFF succeeds (libxc's save turns it off when it ends),
 * the allocation is 0 MiB; enabling anything is -EOPNOTSUPP, logged.
 */
static int shadow_op(struct hv_domain *d, struct xen_domctl_shadow_op *so, bool *copyback)
{
	switch (so->op) {
	case XEN_DOMCTL_SHADOW_OP_OFF:
		return 0;
	case XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION:
		so->mb = 0;
		*copyback = true;
		return 0;
	case XEN_DOMCTL_SHADOW_OP_ENABLE:
	case XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY:
	case XEN_DOMCTL_SHADOW_OP_CLEAN:
	case XEN_DOMCTL_SHADOW_OP_PEEK:
	case XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION:
		hv_log("d%u: xctl: shadow_op %u: no log-dirty mode (no live migration)", d->domid,
		       so->op);
		return -XEN_EOPNOTSUPP;
	default:
		return -XEN_EINVAL;
	}
}

/*
 * libxc's xc_domain_resume (Debian's `xl save -c`, a save that failed):
 * the suspended vCPU's context, read by getvcpucontext, comes back with
 * only rax changed (1: "the suspend was cancelled", as Xen's
 * modify_returncode).  Only that: the domain shut down to suspend, the
 * vCPU the one that suspended, every other byte as vcpu_get_context gives
 * it (else -EBUSY, as for any context of a domain that has run).  Returns
 * 1 when the domain is not suspended (the caller goes on as before).
 */
static int suspended_returncode(struct hv_domain *d, uint32_t vcpu,
				const struct vcpu_guest_context *ctx)
{
	struct vcpu_guest_context *cur;
	struct hv_vcpu *v;
	bool ok;
	int r;

	if (vcpu >= d->max_vcpus)
		return 1;
	v = d->vcpus[vcpu];
	pthread_mutex_lock(&d->lock);
	ok = d->state == DOM_SHUTDOWN && d->shutdown_reason == SHUTDOWN_suspend &&
	     d->suspend_vcpu == (int)vcpu && v->has_context;
	pthread_mutex_unlock(&d->lock);
	if (!ok)
		return 1;
	cur = malloc(sizeof(*cur));
	if (!cur)
		return -XEN_ENOMEM;
	vcpu_get_context(v, cur);
	cur->user_regs.rax = ctx->user_regs.rax;
	r = memcmp(cur, ctx, sizeof(*cur)) ? -XEN_EBUSY : 0;
	free(cur);
	if (r) {
		hv_log("d%u: xctl: setvcpucontext of suspended vCPU %u: only rax may change", d->domid,
		       vcpu);
		return r;
	}
	pthread_mutex_lock(&d->lock);
	if (d->state == DOM_SHUTDOWN && d->suspend_vcpu == (int)vcpu) {
		v->regs.rax = ctx->user_regs.rax;
		v->regs_dirty = true;
	} else {
		r = -XEN_EBUSY; /* resumed or destroyed meanwhile */
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* The ops that act on one existing guest. */
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
		return cpu_policy_out(p, d->vcpus[0], &c->u.cpu_policy.nr_leaves,
				      GH(c->u.cpu_policy.leaves), &c->u.cpu_policy.nr_msrs);
	case XEN_DOMCTL_set_cpu_policy:
		*copyback = true;
		return dom_set_cpu_policy(p, d, &c->u.cpu_policy);
	case XEN_DOMCTL_max_vcpus:
		/* The vCPUs exist from createdomain on: only its own count is accepted. */
		return c->u.max_vcpus.max == d->max_vcpus ? 0 : -XEN_EINVAL;
	case XEN_DOMCTL_setvcpucontext:
		return setvcpucontext(p, d, &c->u.vcpucontext);
	case XEN_DOMCTL_hypercall_init:
		return hypercall_init(d, c->u.hypercall_init.gmfn);
	case XEN_DOMCTL_settscinfo:
		return settscinfo(d, &c->u.tsc_info);
	case XEN_DOMCTL_gettscinfo:
		memset(&c->u.tsc_info, 0, sizeof(c->u.tsc_info));
		c->u.tsc_info.tsc_mode = d->tsc_mode;
		c->u.tsc_info.gtsc_khz = (uint32_t)hv_host.tsc_khz;
		*copyback = true;
		return 0;
	case XEN_DOMCTL_set_address_size:
		/* 64-bit PV only: no compat (32-bit) guests. */
		return c->u.address_size.size == 64 ? 0 : -XEN_EINVAL;
	case XEN_DOMCTL_get_address_size:
		c->u.address_size.size = 64;
		*copyback = true;
		return 0;
	case XEN_DOMCTL_getpageframeinfo3:
		return getpageframeinfo3(p, d, &c->u.getpageframeinfo3);
	case XEN_DOMCTL_getvcpucontext:
		return getvcpucontext(p, d, &c->u.vcpucontext);
	case XEN_DOMCTL_shadow_op:
		return shadow_op(d, &c->u.shadow_op, copyback);
	case XEN_DOMCTL_get_ext_vcpucontext:
		/* Nothing beyond the basic context for a 64-bit PV vCPU here (no vMCE): size 0. */
		if (c->u.ext_vcpucontext.vcpu >= d->max_vcpus)
			return -XEN_EINVAL;
		memset((char *)&c->u.ext_vcpucontext + sizeof(uint32_t), 0,
		       sizeof(c->u.ext_vcpucontext) - sizeof(uint32_t));
		*copyback = true;
		return 0;
	case XEN_DOMCTL_getvcpuextstate:
		/* No xsave state kept beyond the context's FXSAVE area: mask 0, size 0. */
		if (c->u.vcpuextstate.vcpu >= d->max_vcpus)
			return -XEN_EINVAL;
		c->u.vcpuextstate.xfeature_mask = 0;
		c->u.vcpuextstate.size = 0;
		*copyback = true;
		return 0;
	case XEN_DOMCTL_get_vcpu_msrs:
		/* No per-vCPU MSRs kept for PV guests: count 0. */
		if (c->u.vcpu_msrs.vcpu >= d->max_vcpus)
			return -XEN_EINVAL;
		c->u.vcpu_msrs.msr_count = 0;
		*copyback = true;
		return 0;
	default:
		hv_log("xctl: domctl %u not implemented", c->cmd);
		return -XEN_ENOSYS;
	}
}

/*
 * XEN_DOMCTL_createdomain: a PV domain for Xen's own tools (libxl's
 * domain builder).  As on Xen it has no memory yet: its RAM is laid out
 * up to XCTL_XEN_RAM_KB, every frame absent, maximum 0, until
 * XEN_DOMCTL_max_mem and XENMEM_populate_physmap bring it in.  Its name
 * in the hypervisor (our xl's, the console log's) is "xen-N"; libxl keeps
 * the real one in xenstore.  Xen's checks and errors for what we cannot
 * offer: HVM, an IOMMU, vmtrace, another CPU pool.
 */
#define XCTL_XEN_RAM_KB (2ULL << 20) /* 2 GiB: below the PCI hole, so mfn == pfn */
#define XCTL_CDF_KNOWN                                                                             \
	(XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap | XEN_DOMCTL_CDF_s3_integrity |                   \
	 XEN_DOMCTL_CDF_oos_off | XEN_DOMCTL_CDF_xs_domain | XEN_DOMCTL_CDF_iommu |                \
	 XEN_DOMCTL_CDF_nested_virt | XEN_DOMCTL_CDF_vpmu)

static int createdomain(struct xen_domctl *c)
{
	static unsigned serial;
	const struct xen_domctl_createdomain *cd = &c->u.createdomain;
	struct sv_ctl_create req = { .kind = SV_DOM_PV };
	struct hv_domain *d = NULL;
	int err = 0;

	if (cd->flags & ~XCTL_CDF_KNOWN)
		return -XEN_EINVAL;
	if (cd->flags & (XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap | XEN_DOMCTL_CDF_nested_virt)) {
		hv_log("xctl: createdomain: only PV domains (flags %#x)", cd->flags);
		return -XEN_EINVAL; /* as a Xen without HVM support */
	}
	if (cd->flags & XEN_DOMCTL_CDF_iommu || cd->iommu_opts)
		return -XEN_EINVAL; /* no IOMMU */
	if (cd->max_vcpus < 1 || cd->max_vcpus > SV_MAX_VCPUS)
		return -XEN_EINVAL;
	if (cd->max_grant_frames < -1 || cd->max_maptrack_frames < -1)
		return -XEN_EINVAL;
	if (cd->grant_opts & ~XEN_DOMCTL_GRANT_version_mask ||
	    XEN_DOMCTL_GRANT_version(cd->grant_opts) > 2)
		return -XEN_EINVAL;
	if (cd->vmtrace_size)
		return -XEN_EINVAL;
	if (cd->cpupool_id != 0)
		return -XEN_ENOENT;
	if (cd->arch.emulation_flags & ~XEN_X86_EMU_PIT ||
	    cd->arch.misc_flags & ~XEN_X86_MSR_RELAXED)
		return -XEN_EINVAL;
	if (c->domain != 0 && c->domain < DOMID_FIRST_RESERVED) {
		/* A chosen domid (libxl's restore, or domid= in xl.cfg): not ours to choose. */
		struct hv_domain *o = domain_get(c->domain);
		if (o) {
			domain_put(o);
			return -XEN_EEXIST;
		}
		hv_log("xctl: createdomain: a chosen domid (%u) is not supported", c->domain);
		return -XEN_EOPNOTSUPP;
	}
	req.max_vcpus = cd->max_vcpus;
	req.mem_kb = 4096;
	req.max_kb = XCTL_XEN_RAM_KB;
	memcpy(req.handle, cd->handle, sizeof(req.handle));
	for (int tries = 0; !d && tries < 16; tries++) {
		snprintf(req.name, sizeof(req.name), "xen-%u",
			 __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED));
		d = domain_create(&req, &err);
		if (!d && err != -EEXIST)
			break;
	}
	if (!d)
		return err == -ENOMEM || err == -ENOSPC ? -XEN_ENOMEM : -XEN_EINVAL;
	memop_domain_empty(d);
	c->domain = (domid_t)d->domid;
	hv_log("d%u: created by a dom0 process's XEN_DOMCTL_createdomain", d->domid);
	domain_put(d);
	return 0;
}

static long domctl(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_domctl c;
	struct hv_domain *d;
	bool copyback = false;
	int r = copy_from(p, &c, arg, sizeof(c));

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
		return copy_to(p, arg, &c, sizeof(c));
	}
	if (c.cmd == XEN_DOMCTL_createdomain) {
		r = createdomain(&c);
		return r ? r : copy_to(p, arg, &c, sizeof(c));
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
			return r ? r : copy_to(p, arg, &c, sizeof(c));
		case XEN_DOMCTL_getvcpuaffinity:
			return getvcpuaffinity(p, NULL, &c.u.vcpuaffinity);
		case XEN_DOMCTL_scheduler_op:
			r = sched_credit(0, &c.u.scheduler_op, &copyback);
			return r ? r : copy_to(p, arg, &c, sizeof(c));
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
	return copy_to(p, arg, &c, sizeof(c)) ?: r;
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
	int r = copy_from(p, &au, arg, sizeof(au));

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
	return copy_to(p, arg, &au, sizeof(au));
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
	r = copy_from(p, &st, arg, sizeof(st));
	if (r)
		return r;
	/* dom0 may ask about any domain's ports, as Xen's privileged domain. */
	if (st.dom == DOMID_SELF || st.dom == 0)
		return (r = evtchn_status(hv_dom0, &st)) ? r : copy_to(p, arg, &st, sizeof(st));
	d = domain_get(st.dom);
	if (!d)
		return -XEN_ESRCH;
	r = evtchn_status(d, &st);
	domain_put(d);
	return r ? r : copy_to(p, arg, &st, sizeof(st));
}

/* ---- memory_op: the counters libxl reads for xl info ---- */

/*
 * XENMEM_populate_physmap for another domain (libxc's PV builder): each
 * extent's pseudo-physical frame in, its machine frame written back, as
 * Xen's for a PV guest.  As Xen: a request it cannot read is -EFAULT, a
 * bad extent ends the batch and the count done is the result.  Only
 * domains made by createdomain that have not run yet.
 */
static long populate_physmap(const struct xctl_peer *p, unsigned start, uint64_t arg)
{
	struct xen_memory_reservation res;
	struct hv_domain *d;
	uint64_t i;
	int r = copy_from(p, &res, arg, sizeof(res));

	if (r)
		return r;
	if (res.domid == DOMID_SELF || res.domid == 0)
		return -XEN_EINVAL; /* dom0 is the host: no reservation to grow */
	if (res.extent_order > 9 || res.nr_extents > (UINT32_MAX >> 6) || start >= res.nr_extents)
		return start;
	if (res.mem_flags & XENMEMF_populate_on_demand)
		return -XEN_EINVAL;
	if (GH(res.extent_start) + res.nr_extents * sizeof(xen_pfn_t) < GH(res.extent_start))
		return start;
	d = domain_get(res.domid);
	if (!d)
		return -XEN_ESRCH;
	for (i = start; i < res.nr_extents; i++) {
		uint64_t at = GH(res.extent_start) + i * sizeof(xen_pfn_t), mfn;
		xen_pfn_t pfn;

		if (copy_from(p, &pfn, at, sizeof(pfn)) ||
		    memop_populate(d, pfn, res.extent_order, &mfn))
			break;
		pfn = mfn;
		if (copy_to(p, at, &pfn, sizeof(pfn)))
			break;
	}
	domain_put(d);
	return (long)i;
}

/* XENMEM_set_memory_map: read and checked (E820MAX entries); PV guests here see their RAM. */
static long set_memory_map(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_foreign_memory_map fm;
	struct hv_domain *d;
	int r = copy_from(p, &fm, arg, sizeof(fm));

	if (r)
		return r;
	if (fm.map.nr_entries > 128)
		return -XEN_EINVAL;
	d = domain_get(fm.domid);
	if (!d)
		return -XEN_ESRCH;
	domain_put(d);
	return 0;
}

/*
 * XENMEM_claim_pages: a claim on the host's memory for a domain being
 * built.  Our domains' memory comes from the host as it is touched, so a
 * claim reserves nothing; Xen's checks are kept (order 0, no flags, an
 * existing domain other than dom0).
 */
static long claim_pages(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_memory_reservation res;
	struct hv_domain *d;
	int r = copy_from(p, &res, arg, sizeof(res));

	if (r)
		return r;
	if (res.extent_order || res.mem_flags)
		return -XEN_EINVAL;
	if (res.domid == DOMID_SELF || res.domid == 0)
		return -XEN_EINVAL;
	d = domain_get(res.domid);
	if (!d)
		return -XEN_ESRCH;
	domain_put(d);
	return 0;
}

/*
 * The machine-to-phys table (libxc's save and restore map it, as
 * DOMID_XEN's frames, to turn a PV guest's machine frames into its
 * pseudo-physical ones).  Every domain here has gfn == mfn, so the table
 * Xen would hold is the identity over every domain's RAM; the foreign-memory
 * library serves DOMID_XEN's frames as that (dom0/lib/foreignmemory.c):
 * frame F holds the entries of machine frames F * 512 .. F * 512 + 511.
 * XENMEM_maximum_ram_page is one past the highest RAM frame of any domain
 * (at least the 2 GiB that createdomain lays out).
 */
#define XCTL_M2P_PER_PAGE (PAGE_SIZE / sizeof(xen_pfn_t))
#define XCTL_M2P_CHUNK_FRAMES 512 /* 2 MiB of table per extent, as Xen's */

static uint64_t max_ram_page(void)
{
	uint64_t end = (XCTL_XEN_RAM_KB << 10) >> PAGE_SHIFT;
	struct sv_dominfo *list = calloc(SV_CTL_LIST_MAX, sizeof(*list));
	uint32_t first = 1;
	int n;

	if (!list)
		return end;
	while ((n = domain_list(first, list, SV_CTL_LIST_MAX)) > 0) {
		for (int i = 0; i < n; i++) {
			struct hv_domain *d = list[i].domid ? domain_get(list[i].domid) : NULL;
			if (!d)
				continue;
			for (unsigned r = 0; r < d->mem.nr_ram && r < 2; r++) {
				uint64_t e = (d->mem.ram[r].gpa + d->mem.ram[r].size) >> PAGE_SHIFT;
				end = e > end ? e : end;
			}
			domain_put(d);
		}
		first = list[n - 1].domid + 1;
		if (n < SV_CTL_LIST_MAX)
			break;
	}
	free(list);
	return end;
}

/* XENMEM_machphys_mfn_list: the table's extents, each 2 MiB (512 DOMID_XEN frames). */
static long machphys_mfn_list(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_machphys_mfn_list ml;
	uint64_t entries, chunks;
	int r = copy_from(p, &ml, arg, sizeof(ml));

	if (r)
		return r;
	entries = max_ram_page();
	chunks = (entries + XCTL_M2P_PER_PAGE * XCTL_M2P_CHUNK_FRAMES - 1) /
		 (XCTL_M2P_PER_PAGE * XCTL_M2P_CHUNK_FRAMES);
	if (ml.max_extents < chunks)
		chunks = ml.max_extents;
	for (uint64_t i = 0; i < chunks; i++) {
		xen_pfn_t mfn = i * XCTL_M2P_CHUNK_FRAMES;
		r = copy_to(p, GH(ml.extent_start) + i * sizeof(mfn), &mfn, sizeof(mfn));
		if (r)
			return r;
	}
	ml.nr_extents = (unsigned)chunks;
	return copy_to(p, arg, &ml, sizeof(ml));
}

/* XENMEM_get_vnumainfo: no domain has a virtual NUMA topology (libxl's save asks). */
static long get_vnumainfo(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_vnuma_topology_info ti;
	struct hv_domain *d;
	int r = copy_from(p, &ti, arg, sizeof(ti));

	if (r)
		return r;
	if (ti.domid == DOMID_SELF || ti.domid == 0)
		return -XEN_EOPNOTSUPP;
	d = domain_get(ti.domid);
	if (!d)
		return -XEN_ESRCH;
	domain_put(d);
	return -XEN_EOPNOTSUPP;
}

/*
 * XENMEM_maximum_gpfn of another domain (libxc's restore sizes its p2m by
 * it): as Xen for PV, from the max_pfn the guest keeps in shared_info,
 * (max_pfn ?: 1) - 1.
 */
static long maximum_gpfn(const struct xctl_peer *p, uint64_t arg)
{
	struct hv_domain *d;
	domid_t domid;
	uint64_t max_pfn;
	int r = copy_from(p, &domid, arg, sizeof(domid));

	if (r)
		return r;
	if (domid == DOMID_SELF || domid == 0)
		return -XEN_EINVAL; /* dom0 is the host */
	d = domain_get(domid);
	if (!d)
		return -XEN_ESRCH;
	max_pfn = d->shinfo ? __atomic_load_n(&d->shinfo->arch.max_pfn, __ATOMIC_RELAXED) : 0;
	domain_put(d);
	if (max_pfn > (1ULL << 40))
		max_pfn = 1ULL << 40; /* the guest's word: bounded to the frame space */
	return (long)((max_pfn ? max_pfn : 1) - 1);
}

static long memory_op(const struct xctl_peer *p, uint64_t cmd, uint64_t arg)
{
	switch (cmd & ((1u << 6) - 1)) {
	case XENMEM_claim_pages:
		return claim_pages(p, arg);
	case XENMEM_populate_physmap:
		return populate_physmap(p, (unsigned)(cmd >> 6), arg);
	case XENMEM_set_memory_map:
		return set_memory_map(p, arg);
	}
	switch (cmd) {
	case XENMEM_get_sharing_freed_pages:
	case XENMEM_get_sharing_shared_pages:
		return 0; /* no page sharing */
	case XENMEM_maximum_ram_page:
		return (long)max_ram_page();
	case XENMEM_machphys_mfn_list:
		return machphys_mfn_list(p, arg);
	case XENMEM_get_vnumainfo:
		return get_vnumainfo(p, arg);
	case XENMEM_maximum_gpfn:
		return maximum_gpfn(p, arg);
	default:
		hv_log("xctl: memory_op %llu not implemented", (unsigned long long)cmd);
		return -XEN_ENOSYS;
	}
}

/*
 * mmuext_op from dom0 on a domain being built (libxc's PV builder pins
 * the boot L4 with foreigndom = the domain).  Here the first vCPU context
 * pins the table its cr3 names (mmu_vcpu_context, validating every entry),
 * so MMUEXT_PIN_L4_TABLE only checks that the frame is the domain's
 * present RAM and that the domain has not run; other commands, and dom0's
 * own (foreigndom DOMID_SELF), are not offered.
 */
static long mmuext_op(const struct xctl_peer *p, const uint64_t *a)
{
	uint64_t ops = a[0], count = a[1], pdone = a[2];
	uint32_t foreign = (uint32_t)a[3];
	struct hv_domain *d;
	uint64_t i;
	int r = 0;

	if (count > 64)
		return -XEN_EINVAL;
	if (foreign == DOMID_SELF || foreign == 0 || foreign >= DOMID_FIRST_RESERVED) {
		hv_log("xctl: mmuext_op for domain %u not implemented", foreign);
		return -XEN_ENOSYS;
	}
	d = domain_get(foreign);
	if (!d)
		return -XEN_ESRCH;
	for (i = 0; i < count; i++) {
		struct mmuext_op op;

		r = copy_from(p, &op, ops + i * sizeof(op), sizeof(op));
		if (r)
			break;
		if (op.cmd != MMUEXT_PIN_L4_TABLE) {
			hv_log("xctl: mmuext_op %u for domain %u not implemented", op.cmd, foreign);
			r = -XEN_ENOSYS;
			break;
		}
		if (op.arg1.mfn > (UINT64_MAX >> PAGE_SHIFT) ||
		    !mem_is_ram(&d->mem, op.arg1.mfn << PAGE_SHIFT, PAGE_SIZE) ||
		    !mem_frame_present(&d->mem, op.arg1.mfn << PAGE_SHIFT) ||
		    d->state != DOM_CREATED) {
			r = -XEN_EINVAL;
			break;
		}
	}
	domain_put(d);
	if (pdone) {
		uint32_t done = (uint32_t)i;
		int w = copy_to(p, pdone, &done, sizeof(done));
		if (!r)
			r = w;
	}
	return r;
}

/*
 * grant_table_op from dom0: GNTTABOP_setup_table for another domain
 * (libxc's PV builder seeds its console and xenstore entries before it
 * runs), as the guest's own: the frames' gfns, status GNTST_*.
 */
static long grant_table_op(const struct xctl_peer *p, const uint64_t *a)
{
	struct gnttab_setup_table op;
	struct hv_domain *d;
	uint64_t first;
	int r;

	if (a[0] != GNTTABOP_setup_table) {
		hv_log("xctl: grant_table_op %llu not implemented", (unsigned long long)a[0]);
		return -XEN_ENOSYS;
	}
	if (a[2] != 1)
		return -XEN_EINVAL;
	r = copy_from(p, &op, a[1], sizeof(op));
	if (r)
		return r;
	d = op.dom == DOMID_SELF || op.dom == 0 ? NULL : domain_get(op.dom);
	if (!d) {
		op.status = GNTST_bad_domain;
	} else if (gnttab_setup_dom0(d, op.nr_frames, &first)) {
		op.status = GNTST_general_error;
	} else {
		op.status = GNTST_okay;
		for (uint32_t i = 0; !r && i < op.nr_frames; i++) {
			xen_pfn_t f = first + i;
			r = copy_to(p, GH(op.frame_list) + (uint64_t)i * sizeof(f), &f, sizeof(f));
		}
	}
	if (d)
		domain_put(d);
	return r ? r : copy_to(p, a[1], &op, sizeof(op));
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
		int r = copy_from(p, &e, at, sizeof(e));
		if (r)
			return r;
		if (e.op == __HYPERVISOR_multicall) {
			e.result = (xen_ulong_t)-XEN_EINVAL;
		} else {
			struct sv_ctl_hypercall one = { .op = e.op };
			memcpy(one.arg, e.args, sizeof(one.arg));
			e.result = (xen_ulong_t)xctl_one(p, &one);
		}
		r = copy_to(p, at + offsetof(struct multicall_entry, result), &e.result,
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
		return grant_table_op(p, hc->arg);
	case __HYPERVISOR_mmuext_op:
		return mmuext_op(p, hc->arg);
	case __HYPERVISOR_xsm_op:
		return -XEN_ENOSYS; /* no XSM/FLASK, as Xen's default build: libxl asks every time
				     */
	default:
		hv_log("xctl: hypercall %llu (sub-op %llu) from dom0 process %d not implemented",
		       (unsigned long long)hc->op, (unsigned long long)hc->arg[0], (int)p->pid);
		return -XEN_ENOSYS;
	}
}
