// SPDX-License-Identifier: MIT
/* Check suite: Xen hypercalls from hostile dom0 clients (hypervisor/xctl.c): errors, nothing
 * changed, alive. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/version.h>
#include <xen/sysctl.h>
#include <xen/domctl.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/grant_table.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/xctl.h"

/* The real hypervisor sources are linked; these are main.c's and ctl.c's. */
struct hv_host hv_host = { .tsc_khz = 2000000 };
const char *hv_rundir = "/tmp";

/*
 * The client is this very process (the peer of a socketpair), so its
 * memory is what the hypervisor reads and writes: a page of buffers with
 * an unmapped page right after it, where "past the buffer" faults.
 */
static struct xctl_peer peer;
static int sp[2];
static uint8_t *page;  /* one read-write page */
static uint8_t *guard; /* the PROT_NONE page after it */

static void setup(void)
{
	if (!hv_dom0)
		ck_assert_int_eq(domain_table_init(), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	xctl_peer_init(&peer, sp[0]);
	ck_assert_int_eq(peer.pid, getpid());
	ck_assert_int_ge(peer.pidfd, 0);
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(page, MAP_FAILED);
	guard = page + 4096;
	ck_assert_int_eq(mprotect(guard, 4096, PROT_NONE), 0);
}

static void teardown(void)
{
	xctl_peer_fini(&peer);
	close(sp[0]);
	close(sp[1]);
	munmap(page, 8192);
}

static long call(uint64_t op, uint64_t a0, uint64_t a1)
{
	struct sv_ctl_hypercall hc = { .op = op, .arg = { a0, a1 } };

	return xctl_hypercall(&peer, &hc);
}

static uint64_t addr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static struct xen_sysctl *new_sysctl(uint32_t cmd)
{
	struct xen_sysctl *s = (struct xen_sysctl *)page;

	memset(page, 0, 4096);
	s->cmd = cmd;
	s->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
	return s;
}

static struct xen_domctl *new_domctl(uint32_t cmd, domid_t dom)
{
	struct xen_domctl *c = (struct xen_domctl *)page;

	memset(page, 0, 4096);
	c->cmd = cmd;
	c->domain = dom;
	c->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	return c;
}

/* A physinfo call still works: the hypervisor is alive and consistent after each abuse. */
static void assert_alive(void)
{
	struct xen_sysctl *s = new_sysctl(XEN_SYSCTL_physinfo);

	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), 0);
	ck_assert_uint_ge(s->u.physinfo.nr_cpus, 1);
	ck_assert_uint_gt(s->u.physinfo.total_pages, 0);
	ck_assert_int_eq(call(__HYPERVISOR_xen_version, XENVER_version, 0), (4 << 16) | 17);
}

START_TEST(version_and_physinfo)
{
	xen_extraversion_t *x = (xen_extraversion_t *)page;

	ck_assert_int_eq(call(__HYPERVISOR_xen_version, XENVER_extraversion, addr(x)), 0);
	ck_assert_str_eq(*x, HV_XEN_EXTRA);
	ck_assert_int_eq(call(__HYPERVISOR_xen_version, XENVER_pagesize, 0), 4096);
	assert_alive();
}
END_TEST

START_TEST(bad_pointers_are_efault)
{
	/* Unmapped, NULL, kernel-half and wrapping addresses, for each kind of argument. */
	const uint64_t bad[] = { addr(guard), 0, 0xffff800000000000ull, UINT64_MAX - 8 };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(call(__HYPERVISOR_sysctl, bad[i], 0), -XEN_EFAULT);
		ck_assert_int_eq(call(__HYPERVISOR_domctl, bad[i], 0), -XEN_EFAULT);
		ck_assert_int_eq(call(__HYPERVISOR_xen_version, XENVER_extraversion, bad[i]),
				 -XEN_EFAULT);
		ck_assert_int_eq(call(__HYPERVISOR_xen_version, XENVER_get_features, bad[i]),
				 -XEN_EFAULT);
	}
	/* A structure that starts in the page and runs into the guard. */
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(guard - 8), 0), -XEN_EFAULT);
	assert_alive();
}
END_TEST

START_TEST(lengths_past_the_buffer)
{
	struct xen_sysctl *s;
	struct xen_domctl *c;

	/* A domain list whose buffer holds less than one record. */
	s = new_sysctl(XEN_SYSCTL_getdomaininfolist);
	s->u.getdomaininfolist.first_domain = 0;
	s->u.getdomaininfolist.max_domains = 0xffffffffu;
	set_xen_guest_handle(s->u.getdomaininfolist.buffer,
			     (xen_domctl_getdomaininfo_t *)(guard - 16));
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EFAULT);
	ck_assert_uint_eq(s->u.getdomaininfolist.num_domains, 0); /* not copied back */

	/* The log ring asked into 64 bytes before the guard, with a count of 4 GiB. */
	for (int i = 0; i < 20; i++)
		hv_log("test line %d: filling the ring past 64 bytes", i);
	s = new_sysctl(XEN_SYSCTL_readconsole);
	s->u.readconsole.count = 0xffffffffu;
	set_xen_guest_handle(s->u.readconsole.buffer, (char *)(guard - 64));
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EFAULT);
	ck_assert_uint_eq(s->u.readconsole.count, 0xffffffffu);

	/* A CPU bitmap of 2^32 bits: bounded before anything is allocated. */
	c = new_domctl(XEN_DOMCTL_getvcpuaffinity, 0);
	c->u.vcpuaffinity.flags = XEN_VCPUAFFINITY_HARD;
	c->u.vcpuaffinity.cpumap_hard.nr_bits = 0xffffffffu;
	set_xen_guest_handle(c->u.vcpuaffinity.cpumap_hard.bitmap, page + 2048);
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_E2BIG);
	/* ... and one that runs into the guard. */
	c->u.vcpuaffinity.cpumap_hard.nr_bits = 8 * 4096;
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_EFAULT);

	/* Too short a topology array: -ENOBUFS and the count needed, as Xen. */
	s = new_sysctl(XEN_SYSCTL_cputopoinfo);
	s->u.cputopoinfo.num_cpus = 0;
	set_xen_guest_handle(s->u.cputopoinfo.cputopo, (xen_sysctl_cputopo_t *)(page + 2048));
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_ENOBUFS);
	ck_assert_uint_eq(s->u.cputopoinfo.num_cpus, (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));
	assert_alive();
}
END_TEST

START_TEST(wrong_interface_version_is_eacces)
{
	struct xen_sysctl *s = new_sysctl(XEN_SYSCTL_physinfo);
	struct xen_domctl *c;

	s->interface_version = XEN_SYSCTL_INTERFACE_VERSION - 1;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EACCES);
	ck_assert_uint_eq(s->u.physinfo.nr_cpus, 0); /* nothing written back */
	s->interface_version = 0xdeadbeef;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EACCES);

	c = new_domctl(XEN_DOMCTL_getdomaininfo, 0);
	c->interface_version = XEN_DOMCTL_INTERFACE_VERSION + 1;
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_EACCES);
	ck_assert_uint_eq(c->u.getdomaininfo.tot_pages, 0);
	assert_alive();
}
END_TEST

START_TEST(unknown_ops_are_enosys)
{
	struct xen_sysctl *s = new_sysctl(XEN_SYSCTL_perfc_op);
	struct xen_domctl *c;

	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_ENOSYS);
	s->cmd = 0xffffffffu;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_ENOSYS);
	/* (An op on a missing guest is -ESRCH first, as Xen looks the domain up first.) */
	c = new_domctl(XEN_DOMCTL_gdbsx_guestmemio, 0);
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_ENOSYS);
	c = new_domctl(XEN_DOMCTL_setvcpucontext, 0);
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_ENOSYS);
	ck_assert_int_eq(call(__HYPERVISOR_mmu_update, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(call(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, 0), -XEN_ENOSYS);
	ck_assert_int_eq(call(UINT64_MAX, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(call(__HYPERVISOR_xen_version, 0x7fffffff, 0), -XEN_ENOSYS);
	assert_alive();
}
END_TEST

START_TEST(domains_checked)
{
	struct xen_domctl *c;
	struct xen_sysctl *s;

	/* getdomaininfo: dom0 as our xl shows it; 4.17's "next domain"; reserved ids. */
	c = new_domctl(XEN_DOMCTL_getdomaininfo, 0);
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), 0);
	ck_assert_uint_eq(c->u.getdomaininfo.domain, 0);
	ck_assert(c->u.getdomaininfo.flags & XEN_DOMINF_running);
	ck_assert_uint_gt(c->u.getdomaininfo.tot_pages, 0);
	c = new_domctl(XEN_DOMCTL_getdomaininfo, 1);
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_ESRCH);
	c = new_domctl(XEN_DOMCTL_getdomaininfo, DOMID_SELF);
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_EINVAL);

	/* dom0 is the host: not paused, destroyed or resized; missing guests are -ESRCH. */
	c = new_domctl(XEN_DOMCTL_pausedomain, 0);
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_EINVAL);
	c = new_domctl(XEN_DOMCTL_destroydomain, 0);
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_EINVAL);
	c = new_domctl(XEN_DOMCTL_unpausedomain, 5);
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_ESRCH);
	c = new_domctl(XEN_DOMCTL_destroydomain, 0xffff);
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_ESRCH);
	c = new_domctl(XEN_DOMCTL_getvcpuinfo, 0);
	c->u.getvcpuinfo.vcpu = 0xffffffffu;
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_EINVAL);

	/* The list holds dom0 alone, however many are asked for and from where. */
	s = new_sysctl(XEN_SYSCTL_getdomaininfolist);
	s->u.getdomaininfolist.max_domains = 0xffffffffu;
	set_xen_guest_handle(s->u.getdomaininfolist.buffer,
			     (xen_domctl_getdomaininfo_t *)(page + 1024));
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), 0);
	ck_assert_uint_eq(s->u.getdomaininfolist.num_domains, 1);
	s->u.getdomaininfolist.first_domain = 0xffff;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), 0);
	ck_assert_uint_eq(s->u.getdomaininfolist.num_domains, 0);
	assert_alive();
}
END_TEST

static long call4(uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct sv_ctl_hypercall hc = { .op = op, .arg = { a0, a1, a2, a3 } };

	return xctl_hypercall(&peer, &hc);
}

/* Only dom0 is listed: nothing a refused call asked for was made. */
static void assert_only_dom0(void)
{
	struct xen_sysctl *s = new_sysctl(XEN_SYSCTL_getdomaininfolist);

	s->u.getdomaininfolist.max_domains = 4;
	set_xen_guest_handle(s->u.getdomaininfolist.buffer,
			     (xen_domctl_getdomaininfo_t *)(page + 1024));
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), 0);
	ck_assert_uint_eq(s->u.getdomaininfolist.num_domains, 1);
}

static long createdomain_with(void (*edit)(struct xen_domctl_createdomain *cd), domid_t dom)
{
	struct xen_domctl *c = new_domctl(XEN_DOMCTL_createdomain, dom);

	c->u.createdomain.max_vcpus = 1;
	c->u.createdomain.max_grant_frames = -1;
	c->u.createdomain.max_maptrack_frames = -1;
	c->u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
	if (edit)
		edit(&c->u.createdomain);
	return call(__HYPERVISOR_domctl, addr(c), 0);
}

static void cd_hvm(struct xen_domctl_createdomain *cd)
{
	cd->flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
}
static void cd_unknown(struct xen_domctl_createdomain *cd)
{
	cd->flags = 1u << 20;
}
static void cd_iommu(struct xen_domctl_createdomain *cd)
{
	cd->flags = XEN_DOMCTL_CDF_iommu;
}
static void cd_iommu_opts(struct xen_domctl_createdomain *cd)
{
	cd->iommu_opts = 1;
}
static void cd_no_vcpus(struct xen_domctl_createdomain *cd)
{
	cd->max_vcpus = 0;
}
static void cd_many_vcpus(struct xen_domctl_createdomain *cd)
{
	cd->max_vcpus = 0x10000;
}
static void cd_grant_v3(struct xen_domctl_createdomain *cd)
{
	cd->grant_opts = 3;
}
static void cd_grant_frames(struct xen_domctl_createdomain *cd)
{
	cd->max_grant_frames = -5;
}
static void cd_vmtrace(struct xen_domctl_createdomain *cd)
{
	cd->vmtrace_size = 4096;
}
static void cd_pool(struct xen_domctl_createdomain *cd)
{
	cd->cpupool_id = 3;
}
static void cd_emu(struct xen_domctl_createdomain *cd)
{
	cd->arch.emulation_flags = XEN_X86_EMU_LAPIC;
}
static void cd_misc(struct xen_domctl_createdomain *cd)
{
	cd->arch.misc_flags = 2;
}

/* XEN_DOMCTL_createdomain from a hostile client: Xen's error, no domain made. */
START_TEST(createdomain_checked)
{
	static void (*const bad[])(struct xen_domctl_createdomain *) = {
		cd_hvm,	     cd_unknown,      cd_iommu,	  cd_iommu_opts, cd_no_vcpus, cd_many_vcpus,
		cd_grant_v3, cd_grant_frames, cd_vmtrace, cd_emu,	 cd_misc,
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(createdomain_with(bad[i], DOMID_INVALID), -XEN_EINVAL);
	ck_assert_int_eq(createdomain_with(cd_pool, DOMID_INVALID), -XEN_ENOENT);
	/* A chosen domid is not offered (libxl passes DOMID_INVALID). */
	ck_assert_int_eq(createdomain_with(NULL, 5), -XEN_EOPNOTSUPP);
	/* The structure itself past the buffer. */
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(guard - 8), 0), -XEN_EFAULT);
	assert_only_dom0();
	assert_alive();
}
END_TEST

/* The builder's domctls on a missing domain are -ESRCH, on dom0 -EINVAL or -ENOSYS. */
START_TEST(build_domctls_checked)
{
	static const uint32_t ops[] = { XEN_DOMCTL_max_vcpus,	    XEN_DOMCTL_setvcpucontext,
					XEN_DOMCTL_hypercall_init,  XEN_DOMCTL_settscinfo,
					XEN_DOMCTL_gettscinfo,	    XEN_DOMCTL_set_address_size,
					XEN_DOMCTL_get_cpu_policy,  XEN_DOMCTL_set_cpu_policy,
					XEN_DOMCTL_setvcpuaffinity, XEN_DOMCTL_setnodeaffinity };
	struct xen_domctl *c;

	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		c = new_domctl(ops[i], 7);
		ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_ESRCH);
		c = new_domctl(ops[i], 0);
		ck_assert_int_lt(call(__HYPERVISOR_domctl, addr(c), 0), 0);
	}
	assert_only_dom0();
	assert_alive();
}
END_TEST

/* populate_physmap, claims, memory maps, ports, pins and grant setup for others: checked. */
START_TEST(build_memory_ops_checked)
{
	struct xen_memory_reservation *r = (struct xen_memory_reservation *)page;
	struct xen_foreign_memory_map *fm = (struct xen_foreign_memory_map *)page;
	struct evtchn_alloc_unbound *au = (struct evtchn_alloc_unbound *)page;
	struct gnttab_setup_table *st = (struct gnttab_setup_table *)page;
	struct mmuext_op *op = (struct mmuext_op *)(page + 512);
	xen_pfn_t *pfns = (xen_pfn_t *)(page + 1024);

	memset(page, 0, 4096);
	r->domid = 0;
	r->nr_extents = 1;
	set_xen_guest_handle(r->extent_start, pfns);
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_populate_physmap, addr(r)),
			 -XEN_EINVAL);
	r->domid = 7;
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_populate_physmap, addr(r)),
			 -XEN_ESRCH);
	r->extent_order = 10; /* past Xen's: nothing done, the start extent back */
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_populate_physmap, addr(r)), 0);
	r->extent_order = 0;
	r->mem_flags = XENMEMF_populate_on_demand;
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_populate_physmap, addr(r)),
			 -XEN_EINVAL);
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_populate_physmap, addr(guard - 8)),
			 -XEN_EFAULT);
	/* claim_pages: order 0 and no flags only; a missing domain. */
	memset(r, 0, sizeof(*r));
	r->domid = 7;
	r->extent_order = 1;
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_claim_pages, addr(r)), -XEN_EINVAL);
	r->extent_order = 0;
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_claim_pages, addr(r)), -XEN_ESRCH);
	/* set_memory_map: at most E820MAX entries. */
	memset(page, 0, 4096);
	fm->domid = 7;
	fm->map.nr_entries = 129;
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_set_memory_map, addr(fm)),
			 -XEN_EINVAL);
	fm->map.nr_entries = 1;
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_set_memory_map, addr(fm)), -XEN_ESRCH);
	/* alloc_unbound for another domain: not dom0's own, not a missing one. */
	memset(page, 0, 4096);
	au->dom = DOMID_SELF;
	ck_assert_int_eq(call(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, addr(au)),
			 -XEN_EINVAL);
	au->dom = 7;
	ck_assert_int_eq(call(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, addr(au)),
			 -XEN_ESRCH);
	/* mmuext_op: only on another domain, bounded, the domain must exist. */
	memset(page, 0, 4096);
	op->cmd = MMUEXT_PIN_L4_TABLE;
	ck_assert_int_eq(call4(__HYPERVISOR_mmuext_op, addr(op), 1, 0, DOMID_SELF), -XEN_ENOSYS);
	ck_assert_int_eq(call4(__HYPERVISOR_mmuext_op, addr(op), 65, 0, 7), -XEN_EINVAL);
	ck_assert_int_eq(call4(__HYPERVISOR_mmuext_op, addr(op), 1, 0, 7), -XEN_ESRCH);
	/* GNTTABOP_setup_table: one at a time; a missing domain is a status, as Xen's. */
	memset(page, 0, 4096);
	st->dom = 7;
	st->nr_frames = 1;
	set_xen_guest_handle(st->frame_list, pfns);
	ck_assert_int_eq(call4(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, addr(st), 2, 0),
			 -XEN_EINVAL);
	ck_assert_int_eq(call4(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, addr(st), 1, 0),
			 0);
	ck_assert_int_eq(st->status, GNTST_bad_domain);
	assert_only_dom0();
	assert_alive();
}
END_TEST

/* What libxc's save and restore ask, from a hostile client: Xen's error, nothing written. */
START_TEST(save_ops_checked)
{
	static const uint32_t ops[] = { XEN_DOMCTL_getpageframeinfo3, XEN_DOMCTL_getvcpucontext,
					XEN_DOMCTL_shadow_op,	       XEN_DOMCTL_get_ext_vcpucontext,
					XEN_DOMCTL_getvcpuextstate,    XEN_DOMCTL_get_vcpu_msrs };
	struct xen_vnuma_topology_info *vn = (struct xen_vnuma_topology_info *)page;
	struct xen_machphys_mfn_list *ml = (struct xen_machphys_mfn_list *)page;
	xen_pfn_t *ext = (xen_pfn_t *)(page + 1024);
	domid_t *dom = (domid_t *)page;
	struct xen_domctl *c;
	long max;

	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		c = new_domctl(ops[i], 7);
		ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_ESRCH);
		c = new_domctl(ops[i], 0);
		ck_assert_int_lt(call(__HYPERVISOR_domctl, addr(c), 0), 0);
	}
	/* No vNUMA anywhere (libxl's save refuses a guest that has one); a missing domain. */
	memset(page, 0, 4096);
	vn->domid = 7;
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_get_vnumainfo, addr(vn)), -XEN_ESRCH);
	vn->domid = 0;
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_get_vnumainfo, addr(vn)),
			 -XEN_EOPNOTSUPP);
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_get_vnumainfo, addr(guard - 2)),
			 -XEN_EFAULT);
	/* maximum_gpfn: of another domain only. */
	*dom = 0;
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_maximum_gpfn, addr(dom)), -XEN_EINVAL);
	*dom = 7;
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_maximum_gpfn, addr(dom)), -XEN_ESRCH);
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_maximum_gpfn, addr(guard - 1)),
			 -XEN_EFAULT);
	/* The M2P: at least createdomain's 2 GiB of frames, in 2 MiB extents of 512 frames. */
	max = call(__HYPERVISOR_memory_op, XENMEM_maximum_ram_page, 0);
	ck_assert_int_ge(max, 0x80000);
	memset(page, 0, 4096);
	memset(ext, 0xaa, 3 * sizeof(*ext));
	ml->max_extents = 2;
	set_xen_guest_handle(ml->extent_start, ext);
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_machphys_mfn_list, addr(ml)), 0);
	ck_assert_uint_eq(ml->nr_extents, 2);
	ck_assert_uint_eq(ext[0], 0);
	ck_assert_uint_eq(ext[1], 512);
	ck_assert_uint_eq(ext[2], 0xaaaaaaaaaaaaaaaaULL); /* past max_extents: untouched */
	ml->max_extents = 1000;
	set_xen_guest_handle(ml->extent_start, (xen_pfn_t *)(guard - 8));
	ck_assert_int_eq(call(__HYPERVISOR_memory_op, XENMEM_machphys_mfn_list, addr(ml)),
			 -XEN_EFAULT);
	assert_only_dom0();
	assert_alive();
}
END_TEST

/* CPU policies and featuresets: counts, short arrays, bad indexes. */
START_TEST(cpu_policy_checked)
{
	struct xen_sysctl *s = new_sysctl(XEN_SYSCTL_get_cpu_policy);
	xen_cpuid_leaf_t *lv = (xen_cpuid_leaf_t *)(page + 1024);
	uint32_t max;

	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), 0);
	max = s->u.cpu_policy.nr_leaves;
	ck_assert_uint_gt(max, 20);
	/* A short array: -ENOBUFS and nothing written. */
	s->u.cpu_policy.nr_leaves = 2;
	set_xen_guest_handle(s->u.cpu_policy.leaves, lv);
	memset(lv, 0xa5, 64);
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_ENOBUFS);
	ck_assert_uint_eq(lv[0].leaf, 0xa5a5a5a5u);
	/* The array running into the guard page. */
	s = new_sysctl(XEN_SYSCTL_get_cpu_policy);
	s->u.cpu_policy.nr_leaves = max;
	set_xen_guest_handle(s->u.cpu_policy.leaves, (xen_cpuid_leaf_t *)(guard - 48));
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EFAULT);
	/* Unknown index, reserved field. */
	s = new_sysctl(XEN_SYSCTL_get_cpu_policy);
	s->u.cpu_policy.index = 99;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EINVAL);
	s = new_sysctl(XEN_SYSCTL_get_cpu_policy);
	s->u.cpu_policy._rsvd = 1;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EINVAL);
	/* Featureset: the count, then a short read of the first words. */
	s = new_sysctl(XEN_SYSCTL_get_cpu_featureset);
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), 0);
	ck_assert_uint_eq(s->u.cpu_featureset.nr_features, 16);
	s->u.cpu_featureset.nr_features = 2;
	set_xen_guest_handle(s->u.cpu_featureset.features, (uint32_t *)(guard - 8));
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), 0);
	s->u.cpu_featureset.index = 77;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EINVAL);
	assert_alive();
}
END_TEST

START_TEST(scheduler_ops_checked)
{
	struct xen_domctl *c;
	struct xen_sysctl *s;

	/* dom0's credit parameters: read 256/0, never set. */
	c = new_domctl(XEN_DOMCTL_scheduler_op, 0);
	c->u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
	c->u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_getinfo;
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), 0);
	ck_assert_uint_eq(c->u.scheduler_op.u.credit.weight, 256);
	ck_assert_uint_eq(c->u.scheduler_op.u.credit.cap, 0);
	c->u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_putinfo;
	c->u.scheduler_op.u.credit.weight = 1;
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_EINVAL);
	/* Another scheduler, a bad command, a domain that is not there. */
	c = new_domctl(XEN_DOMCTL_scheduler_op, 0);
	c->u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT2;
	c->u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_getinfo;
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_EINVAL);
	c = new_domctl(XEN_DOMCTL_scheduler_op, 0);
	c->u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
	c->u.scheduler_op.cmd = 77;
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_EINVAL);
	c = new_domctl(XEN_DOMCTL_scheduler_op, 9);
	c->u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
	c->u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_getinfo;
	ck_assert_int_eq(call(__HYPERVISOR_domctl, addr(c), 0), -XEN_ESRCH);

	/* Idle time per host CPU; a NULL list or one off the caller's memory is refused. */
	s = new_sysctl(XEN_SYSCTL_getcpuinfo);
	s->u.getcpuinfo.max_cpus = 1;
	set_xen_guest_handle(s->u.getcpuinfo.info, (xen_sysctl_cpuinfo_t *)(page + 2048));
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), 0);
	ck_assert_uint_eq(s->u.getcpuinfo.nr_cpus, 1);
	ck_assert_uint_gt(((xen_sysctl_cpuinfo_t *)(page + 2048))->idletime, 0);
	s = new_sysctl(XEN_SYSCTL_getcpuinfo);
	s->u.getcpuinfo.max_cpus = 4;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EINVAL);
	set_xen_guest_handle(s->u.getcpuinfo.info, (xen_sysctl_cpuinfo_t *)8);
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EFAULT);

	/* The pool's parameters: read only, pool 0 only. */
	s = new_sysctl(XEN_SYSCTL_scheduler_op);
	s->u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
	s->u.scheduler_op.cmd = XEN_SYSCTL_SCHEDOP_getinfo;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), 0);
	ck_assert_uint_eq(s->u.scheduler_op.u.sched_credit.tslice_ms, 30);
	ck_assert_uint_eq(s->u.scheduler_op.u.sched_credit.ratelimit_us, 1000);
	s = new_sysctl(XEN_SYSCTL_scheduler_op);
	s->u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
	s->u.scheduler_op.cmd = XEN_SYSCTL_SCHEDOP_putinfo;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EINVAL);
	s = new_sysctl(XEN_SYSCTL_scheduler_op);
	s->u.scheduler_op.cpupool_id = 3;
	s->u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
	ck_assert_int_eq(call(__HYPERVISOR_sysctl, addr(s), 0), -XEN_EINVAL);
	assert_alive();
}
END_TEST

START_TEST(evtchn_status_checked)
{
	struct evtchn_status *st = (struct evtchn_status *)page;

	memset(page, 0, 4096);
	st->dom = DOMID_SELF;
	st->port = 0xffffffffu;
	ck_assert_int_eq(call(__HYPERVISOR_event_channel_op, EVTCHNOP_status, addr(st)),
			 -XEN_EINVAL);
	st->dom = 5;
	st->port = 1;
	ck_assert_int_eq(call(__HYPERVISOR_event_channel_op, EVTCHNOP_status, addr(st)),
			 -XEN_ESRCH);
	ck_assert_int_eq(call(__HYPERVISOR_event_channel_op, EVTCHNOP_status, addr(guard)),
			 -XEN_EFAULT);
	ck_assert_int_eq(call(__HYPERVISOR_event_channel_op, EVTCHNOP_send, addr(st)), -XEN_ENOSYS);
	st->dom = 0;
	st->port = 1;
	st->status = 0xff;
	ck_assert_int_eq(call(__HYPERVISOR_event_channel_op, EVTCHNOP_status, addr(st)), 0);
	ck_assert_uint_eq(st->status, EVTCHNSTAT_closed);
	assert_alive();
}
END_TEST

START_TEST(multicall_checked)
{
	struct multicall_entry *e = (struct multicall_entry *)page;

	memset(page, 0, 4096);
	e[0].op = __HYPERVISOR_xen_version;
	e[0].args[0] = XENVER_pagesize;
	e[1].op = __HYPERVISOR_multicall; /* nested: refused for this entry alone */
	e[1].args[0] = addr(e);
	e[1].args[1] = 2;
	e[2].op = __HYPERVISOR_memory_op;
	e[2].args[0] = XENMEM_get_sharing_freed_pages;
	e[2].result = 12345;
	ck_assert_int_eq(call(__HYPERVISOR_multicall, addr(e), 3), 0);
	ck_assert_uint_eq(e[0].result, 4096);
	ck_assert_int_eq((long)e[1].result, -XEN_EINVAL);
	ck_assert_uint_eq(e[2].result, 0);
	/* Too many entries, and a list that runs into the guard page. */
	ck_assert_int_eq(call(__HYPERVISOR_multicall, addr(e), 65), -XEN_EINVAL);
	ck_assert_int_eq(call(__HYPERVISOR_multicall, addr(guard) - sizeof(*e), 2), -XEN_EFAULT);
	ck_assert_int_eq(call(__HYPERVISOR_multicall, UINT64_MAX - 16, 1), -XEN_EFAULT);
	assert_alive();
}
END_TEST

/* A client of another user, over a real socket: refused before anything is read. */
START_TEST(unprivileged_client_is_eperm)
{
	char dir[] = "/tmp/sv-xctl.XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xctl_peer other;
	int lfd, cfd, status;
	pid_t child;

	if (geteuid() != 0)
		return; /* needs root to become another user */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0777), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(chmod(sa.sun_path, 0777), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char c;
		int fd;
		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(3);
		(void)!read(fd, &c, 1); /* stay until the parent is done */
		_exit(0);
	}
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	xctl_peer_init(&other, cfd);
	ck_assert_int_eq(other.pid, child);
	ck_assert_uint_eq(other.uid, 65534);
	ck_assert(!xctl_peer_privileged(&other));
	struct sv_ctl_hypercall hc = { .op = __HYPERVISOR_xen_version, .arg = { XENVER_version } };
	ck_assert_int_eq(xctl_hypercall(&other, &hc), -XEN_EPERM);
	hc.op = __HYPERVISOR_domctl;
	ck_assert_int_eq(xctl_hypercall(&other, &hc), -XEN_EPERM);
	close(cfd);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The child is gone: its pid may be anyone's now, its pidfd says so. */
	ck_assert(!xctl_peer_privileged(&other));
	ck_assert_int_eq(xctl_hypercall(&other, &hc), -XEN_EPERM);
	xctl_peer_fini(&other);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
	assert_alive();
}
END_TEST

/* A peer that cannot be identified gets nothing. */
START_TEST(unknown_peer_is_eperm)
{
	struct xctl_peer none = { .pid = getpid(), .uid = 0, .pidfd = -1 };
	struct sv_ctl_hypercall hc = { .op = __HYPERVISOR_xen_version, .arg = { XENVER_version } };
	struct xctl_peer pipe_peer;
	int p[2];

	ck_assert_int_eq(xctl_hypercall(&none, &hc), -XEN_EPERM);
	/* Not a socket: SO_PEERCRED fails, the peer stays unknown. */
	ck_assert_int_eq(pipe(p), 0);
	xctl_peer_init(&pipe_peer, p[0]);
	ck_assert_int_eq(pipe_peer.pidfd, -1);
	ck_assert_int_eq(xctl_hypercall(&pipe_peer, &hc), -XEN_EPERM);
	xctl_peer_fini(&pipe_peer);
	close(p[0]);
	close(p[1]);
	assert_alive();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("xctl");
	TCase *tc = tcase_create("hostile dom0 clients");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, version_and_physinfo);
	tcase_add_test(tc, bad_pointers_are_efault);
	tcase_add_test(tc, lengths_past_the_buffer);
	tcase_add_test(tc, wrong_interface_version_is_eacces);
	tcase_add_test(tc, unknown_ops_are_enosys);
	tcase_add_test(tc, domains_checked);
	tcase_add_test(tc, scheduler_ops_checked);
	tcase_add_test(tc, createdomain_checked);
	tcase_add_test(tc, build_domctls_checked);
	tcase_add_test(tc, build_memory_ops_checked);
	tcase_add_test(tc, cpu_policy_checked);
	tcase_add_test(tc, save_ops_checked);
	tcase_add_test(tc, evtchn_status_checked);
	tcase_add_test(tc, multicall_checked);
	tcase_add_test(tc, unprivileged_client_is_eperm);
	tcase_add_test(tc, unknown_peer_is_eperm);
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
