// SPDX-License-Identifier: MIT
/* Xen's domain builder from dom0 processes (libxl's, libxc's xc_dom_*): createdomain, a new
 * domain's vCPU contexts, hypercall page, TSC mode, address size, memory, pins and grant frames. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/domctl.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include "hv.h"
#include "xctl_priv.h"

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
 * XEN_DOMCTL_setvcpucontext: vcpu_tools_set_context, Xen's rule for any
 * vCPU of a domain that runs no guest code (a new domain's, a paused or
 * suspended one's: libxc's xc_domain_resume sets the suspended vCPU's rax
 * so).  A NULL context would reset the vCPU on Xen: not offered (-EINVAL).
 */
static int setvcpucontext(const struct xctl_peer *p, struct hv_domain *d,
			  const struct xen_domctl_vcpucontext *vc)
{
	struct vcpu_guest_context *ctx;
	struct hv_vcpu *v;
	int r;

	if (vc->vcpu >= d->max_vcpus || !GH(vc->ctxt))
		return -XEN_EINVAL;
	v = d->vcpus[vc->vcpu];
	ctx = malloc(sizeof(*ctx));
	if (!ctx)
		return -XEN_ENOMEM;
	r = xctl_copy_from(p, ctx, GH(vc->ctxt), sizeof(*ctx));
	if (!r) {
		pthread_mutex_lock(&d->lock);
		/* A new domain's first context: checked before its tables are looked at. */
		if (d->state == DOM_CREATED && !v->has_context && !d->low_va &&
		    !vcpu_context_check(v, ctx) &&
		    uses_low_va(d, xen_cr3_to_pfn(ctx->ctrlreg[3]) << PAGE_SHIFT,
				ctx->user_regs.rip))
			r = low_va_late(d); /* failed: the domain cannot run */
		/* The MMU's validation gives the builder's entries _PAGE_USER, as Xen's. */
		if (!r)
			r = vcpu_tools_set_context(v, ctx);
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

/* The builder's domctls on an existing guest (xctl.c's domctl_guest hands them here). */
int xctl_build_domctl(const struct xctl_peer *p, struct hv_domain *d, struct xen_domctl *c,
		      bool *copyback)
{
	switch (c->cmd) {
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
	default:
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
#define XCTL_CDF_KNOWN                                                                             \
	(XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap | XEN_DOMCTL_CDF_s3_integrity |                   \
	 XEN_DOMCTL_CDF_oos_off | XEN_DOMCTL_CDF_xs_domain | XEN_DOMCTL_CDF_iommu |                \
	 XEN_DOMCTL_CDF_nested_virt | XEN_DOMCTL_CDF_vpmu)

int xctl_createdomain(struct xen_domctl *c)
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

/*
 * XENMEM_populate_physmap for another domain (libxc's PV builder): each
 * extent's pseudo-physical frame in, its machine frame written back, as
 * Xen's for a PV guest.  As Xen: a request it cannot read is -EFAULT, a
 * bad extent ends the batch and the count done is the result.  Only
 * domains made by createdomain that have not run yet.
 */
long xctl_populate_physmap(const struct xctl_peer *p, unsigned start, uint64_t arg)
{
	struct xen_memory_reservation res;
	struct hv_domain *d;
	uint64_t i;
	int r = xctl_copy_from(p, &res, arg, sizeof(res));

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

		if (xctl_copy_from(p, &pfn, at, sizeof(pfn)) ||
		    memop_populate(d, pfn, res.extent_order, &mfn))
			break;
		pfn = mfn;
		if (xctl_copy_to(p, at, &pfn, sizeof(pfn)))
			break;
	}
	domain_put(d);
	return (long)i;
}

/* XENMEM_set_memory_map: read and checked (E820MAX entries); PV guests here see their RAM. */
long xctl_set_memory_map(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_foreign_memory_map fm;
	struct hv_domain *d;
	int r = xctl_copy_from(p, &fm, arg, sizeof(fm));

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
long xctl_claim_pages(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_memory_reservation res;
	struct hv_domain *d;
	int r = xctl_copy_from(p, &res, arg, sizeof(res));

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
 * mmuext_op from dom0 on a domain being built (libxc's PV builder pins
 * the boot L4 with foreigndom = the domain).  Here the first vCPU context
 * pins the table its cr3 names (mmu_vcpu_context, validating every entry),
 * so MMUEXT_PIN_L4_TABLE only checks that the frame is the domain's
 * present RAM and that the domain has not run; other commands, and dom0's
 * own (foreigndom DOMID_SELF), are not offered.
 */
long xctl_mmuext_op(const struct xctl_peer *p, const uint64_t *a)
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

		r = xctl_copy_from(p, &op, ops + i * sizeof(op), sizeof(op));
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
		int w = xctl_copy_to(p, pdone, &done, sizeof(done));
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
long xctl_grant_table_op(const struct xctl_peer *p, const uint64_t *a)
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
	r = xctl_copy_from(p, &op, a[1], sizeof(op));
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
			r = xctl_copy_to(p, GH(op.frame_list) + (uint64_t)i * sizeof(f), &f,
					 sizeof(f));
		}
	}
	if (d)
		domain_put(d);
	return r ? r : xctl_copy_to(p, a[1], &op, sizeof(op));
}
