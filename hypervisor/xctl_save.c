// SPDX-License-Identifier: MIT
/* libxc's save of a PV domain (xg_sr_save_x86_pv.c) from dom0 processes: page types, vCPU
 * contexts, shadow ops, the M2P and memory_op reads, served from hypervisor/save.c's reads. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/domctl.h>
#include <xen/memory.h>
#include "hv.h"
#include "xctl_priv.h"

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
	r = arr && q ? xctl_copy_from(p, arr, GH(pi->array), n * sizeof(*arr)) : -XEN_ENOMEM;
	for (uint64_t i = 0; !r && i < n;) {
		uint64_t j = i + 1;
		const void *out;
		uint32_t out_len;

		if (arr[i] >= (1ULL << 40)) {
			arr[i++] =
			    XEN_DOMCTL_PFINFO_XTAB; /* past the frame space: not the domain's */
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
		r = xctl_copy_to(p, GH(pi->array), arr, n * sizeof(*arr));
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
	*(struct sv_ctl_vcpu_get *)o =
	    (struct sv_ctl_vcpu_get){ .domid = d->domid, .vcpu = vc->vcpu };
	r = save_op(d, SV_CTL_VCPU_GET_CONTEXT, o, &out, &out_len);
	if (r == -ENODATA) {
		memset(o, 0, sizeof(*o));
		r = 0;
	}
	if (!r)
		r = xctl_copy_to(p, GH(vc->ctxt), &o->ctx, sizeof(o->ctx));
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

/* The save's domctls on an existing guest (xctl.c's domctl_guest hands them here). */
int xctl_save_domctl(const struct xctl_peer *p, struct hv_domain *d, struct xen_domctl *c,
		     bool *copyback)
{
	switch (c->cmd) {
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
		return -XEN_ENOSYS;
	}
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

uint64_t xctl_max_ram_page(void)
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
long xctl_machphys_mfn_list(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_machphys_mfn_list ml;
	uint64_t entries, chunks;
	int r = xctl_copy_from(p, &ml, arg, sizeof(ml));

	if (r)
		return r;
	entries = xctl_max_ram_page();
	chunks = (entries + XCTL_M2P_PER_PAGE * XCTL_M2P_CHUNK_FRAMES - 1) /
		 (XCTL_M2P_PER_PAGE * XCTL_M2P_CHUNK_FRAMES);
	if (ml.max_extents < chunks)
		chunks = ml.max_extents;
	for (uint64_t i = 0; i < chunks; i++) {
		xen_pfn_t mfn = i * XCTL_M2P_CHUNK_FRAMES;
		r = xctl_copy_to(p, GH(ml.extent_start) + i * sizeof(mfn), &mfn, sizeof(mfn));
		if (r)
			return r;
	}
	ml.nr_extents = (unsigned)chunks;
	return xctl_copy_to(p, arg, &ml, sizeof(ml));
}

/* XENMEM_get_vnumainfo: no domain has a virtual NUMA topology (libxl's save asks). */
long xctl_get_vnumainfo(const struct xctl_peer *p, uint64_t arg)
{
	struct xen_vnuma_topology_info ti;
	struct hv_domain *d;
	int r = xctl_copy_from(p, &ti, arg, sizeof(ti));

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
long xctl_maximum_gpfn(const struct xctl_peer *p, uint64_t arg)
{
	struct hv_domain *d;
	domid_t domid;
	uint64_t max_pfn;
	int r = xctl_copy_from(p, &domid, arg, sizeof(domid));

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
