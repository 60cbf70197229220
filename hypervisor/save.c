// SPDX-License-Identifier: MIT
/*
 * The control-socket ops of save and restore (docs/save-restore.md), as
 * Xen's domctls for libxc's save and restore of a PV guest: a vCPU's
 * context (getvcpucontext), page types (getpageframeinfo3), the M2P and
 * shared_info's arch fields of a domain that is paused or shut down; and
 * for a new domain that never ran: table pins (validated exactly as the
 * guest's own MMUEXT_PIN), M2P entries, contexts (as VCPUOP_initialise
 * checks them), shared_info's arch fields, ballooned-out frames.
 *
 * Every request was copied once by ctl.c; each field is checked here
 * before anything changes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <xen/xen.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include "hv.h"
#include "mmu.h"

uint32_t save_req_size(uint32_t op)
{
	switch (op) {
	case SV_CTL_VCPU_GET_CONTEXT:
		return sizeof(struct sv_ctl_vcpu_get);
	case SV_CTL_DOMAIN_SAVE_INFO:
		return sizeof(struct sv_ctl_domid);
	case SV_CTL_PAGE_TYPES:
		return sizeof(struct sv_ctl_page_types);
	case SV_CTL_PIN_TABLE:
		return sizeof(struct sv_ctl_pin_table);
	case SV_CTL_M2P_GET:
	case SV_CTL_M2P_SET:
		return sizeof(struct sv_ctl_m2p);
	case SV_CTL_VCPU_RESTORE_CONTEXT:
		return sizeof(struct sv_ctl_vcpu_restore);
	case SV_CTL_DOMAIN_RESTORE_INFO:
		return sizeof(struct sv_ctl_restore_info);
	case SV_CTL_FRAME_RELEASE:
		return sizeof(struct sv_ctl_frames);
	default:
		return UINT32_MAX;
	}
}

/* A new domain that never ran: what a restore may still write. */
static bool fresh(struct hv_domain *d)
{
	return d->state == DOM_CREATED;
}

/* [first, first + count) within the 52-bit frame space, count in 1..max. */
static bool range_ok(uint64_t first, uint32_t count, uint32_t max)
{
	return count >= 1 && count <= max && first <= (1ULL << 40) - count;
}

static int get_context(struct hv_domain *d, struct sv_ctl_vcpu_get *q, struct sv_ctl_vcpu_context *out)
{
	struct hv_vcpu *v;
	uint32_t vcpu = q->vcpu, domid = q->domid;

	if (vcpu >= d->max_vcpus)
		return -EINVAL;
	v = d->vcpus[vcpu];
	pthread_mutex_lock(&d->lock);
	/* Its thread sleeps (not RUNSTATE_running) and cannot wake while the domain is quiet. */
	bool ok = domain_quiet(d) && v->runstate.state != RUNSTATE_running;
	bool has = v->has_context;
	pthread_mutex_unlock(&d->lock);
	if (!ok)
		return -EBUSY;
	if (!has)
		return -ENODATA; /* never initialised: nothing to save */
	vcpu_get_context(v, &out->ctx);
	out->domid = domid;
	out->vcpu = vcpu;
	return 0;
}

static int save_info(struct hv_domain *d, struct sv_ctl_save_info *o)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_lock(&d->lock);
	if (!domain_quiet(d)) {
		pthread_mutex_unlock(&d->lock);
		return -EBUSY;
	}
	if (d->state == DOM_SHUTDOWN && d->shutdown_reason == SHUTDOWN_suspend &&
	    d->suspend_vcpu >= 0)
		o->flags |= SV_SAVE_F_SUSPENDED;
	o->suspend_vcpu = d->suspend_vcpu;
	o->cur_pages = d->mem.cur_pages;
	o->max_pages = d->mem.max_pages;
	pthread_mutex_unlock(&d->lock);
	if (d->low_va)
		o->flags |= SV_SAVE_F_LOW_VA;
	o->max_vcpus = d->max_vcpus;
	o->tsc_mode = d->tsc_mode;
	o->engine = d->eng->id;
	o->gnttab_frames = gnttab_nr_frames(d);
	o->ram_kb = d->mem.ram_size / 1024;
	o->hcall_page_gpa = d->hcall_page_gpa;
	o->vm_assist = __atomic_load_n(&d->vm_assist, __ATOMIC_RELAXED);
	if (d->shinfo) {
		const volatile struct arch_shared_info *a = &d->shinfo->arch;
		o->max_pfn = a->max_pfn;
		o->pfn_to_mfn_frame_list_list = a->pfn_to_mfn_frame_list_list;
		o->p2m_cr3 = a->p2m_cr3;
		o->p2m_vaddr = a->p2m_vaddr;
		o->p2m_generation = a->p2m_generation;
	}
	o->m2p_entries = d->m2p_l3_gpa ? d->m2p_entries : 0;
	return 0;
}

static int page_types(struct hv_domain *d, struct sv_ctl_page_types *q)
{
	uint64_t first = q->first;
	uint32_t count = q->count;

	if (!range_ok(first, count, SV_PFINFO_MAX))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	bool ok = domain_quiet(d);
	pthread_mutex_unlock(&d->lock);
	if (!ok)
		return -EBUSY;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t gpa = (first + i) << PAGE_SHIFT;
		struct mmu_frame f;
		uint32_t t = SV_PFINFO_XTAB;

		if (mem_is_ram(&d->mem, gpa, PAGE_SIZE) && mem_frame_present(&d->mem, gpa)) {
			t = SV_PFINFO_NOTAB;
			if (mmu_frame_info(d, gpa, &f) && f.type >= MMU_T_L1 && f.type <= MMU_T_L4 &&
			    f.type_count) {
				t = (uint32_t)f.type << 28;
				if (f.flags & MMU_F_PINNED)
					t |= SV_PFINFO_LPINTAB;
			}
		}
		q->type[i] = t;
	}
	return 0;
}

static int m2p(struct hv_domain *d, struct sv_ctl_m2p *q, bool set)
{
	uint64_t first = q->first;
	uint32_t count = q->count;

	if (!range_ok(first, count, SV_M2P_MAX))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	bool ok = set ? fresh(d) : domain_quiet(d);
	pthread_mutex_unlock(&d->lock);
	if (!ok)
		return -EBUSY;
	if (set) {
		/* Only the domain's own RAM frames: checked all before one is written. */
		for (uint32_t i = 0; i < count; i++)
			if (!mem_is_ram(&d->mem, (first + i) << PAGE_SHIFT, PAGE_SIZE))
				return -EINVAL;
		for (uint32_t i = 0; i < count; i++)
			pv_m2p_set(d, (first + i) << PAGE_SHIFT, q->entry[i]);
		return 0;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t gpa = (first + i) << PAGE_SHIFT;
		q->entry[i] = mem_is_ram(&d->mem, gpa, PAGE_SIZE) ? pv_m2p_get(d, gpa)
								  : HV_M2P_INVALID;
	}
	return 0;
}

static int restore_context(struct hv_domain *d, const struct sv_ctl_vcpu_restore *q)
{
	uint32_t vcpu = q->vcpu, online = q->online;
	struct hv_vcpu *v;
	int ret;

	if (vcpu >= d->max_vcpus || online > 1)
		return -EINVAL;
	v = d->vcpus[vcpu];
	pthread_mutex_lock(&d->lock);
	if (!fresh(d))
		ret = -EBUSY;
	else if (v->has_context)
		ret = -EEXIST; /* as VCPUOP_initialise: once */
	else
		ret = vcpu_set_context(v, &q->ctx); /* copied by ctl.c; checked there */
	if (!ret)
		v->start_online = online;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static int restore_info(struct hv_domain *d, const struct sv_ctl_restore_info *q)
{
	pthread_mutex_lock(&d->lock);
	bool ok = fresh(d);
	pthread_mutex_unlock(&d->lock);
	if (!ok)
		return -EBUSY;
	if (!d->shinfo || q->gnttab_frames > SV_GNT_MAX_FRAMES)
		return -EINVAL;
	int ret = gnttab_restore_frames(d, q->gnttab_frames);
	if (ret)
		return ret;
	/* The guest's own words about its p2m: nothing here trusts them. */
	d->shinfo->arch.max_pfn = q->max_pfn;
	d->shinfo->arch.pfn_to_mfn_frame_list_list = q->pfn_to_mfn_frame_list_list;
	d->shinfo->arch.p2m_cr3 = q->p2m_cr3;
	d->shinfo->arch.p2m_vaddr = q->p2m_vaddr;
	d->shinfo->arch.p2m_generation = q->p2m_generation;
	return 0;
}

int save_op(struct hv_domain *d, uint32_t op, void *p, const void **out, uint32_t *out_len)
{
	int ret;

	*out = NULL;
	*out_len = 0;
	switch (op) {
	case SV_CTL_VCPU_GET_CONTEXT: {
		/* The reply (a larger structure) is built in the same buffer, after the request. */
		struct sv_ctl_vcpu_get q = *(struct sv_ctl_vcpu_get *)p;
		struct sv_ctl_vcpu_context *o = p;
		ret = get_context(d, &q, o);
		if (!ret) {
			*out = o;
			*out_len = sizeof(*o);
		}
		return ret;
	}
	case SV_CTL_DOMAIN_SAVE_INFO: {
		struct sv_ctl_save_info *o = p; /* SV_CTL_MAX_PAYLOAD bytes: room enough */
		ret = save_info(d, o);
		if (!ret) {
			*out = o;
			*out_len = sizeof(*o);
		}
		return ret;
	}
	case SV_CTL_PAGE_TYPES:
		ret = page_types(d, p);
		if (!ret) {
			*out = p;
			*out_len = sizeof(struct sv_ctl_page_types);
		}
		return ret;
	case SV_CTL_PIN_TABLE: {
		const struct sv_ctl_pin_table *q = p;
		uint32_t level = q->level;
		uint64_t mfn = q->mfn;
		pthread_mutex_lock(&d->lock);
		bool ok = fresh(d);
		pthread_mutex_unlock(&d->lock);
		if (!ok)
			return -EBUSY;
		if (level < 1 || level > 4 || mfn > (0x000ffffffffff000ULL >> PAGE_SHIFT))
			return -EINVAL;
		ret = mmu_pin_table(d, level, mfn);
		if (ret)
			hv_log("d%u: restore: the L%u table at frame %#llx does not validate (%d)",
			       d->domid, level, (unsigned long long)mfn, ret);
		return ret < 0 ? -EINVAL : ret; /* Xen's code in the log; one errno here */
	}
	case SV_CTL_M2P_GET:
		ret = m2p(d, p, false);
		if (!ret) {
			*out = p;
			*out_len = sizeof(struct sv_ctl_m2p);
		}
		return ret;
	case SV_CTL_M2P_SET:
		return m2p(d, p, true);
	case SV_CTL_VCPU_RESTORE_CONTEXT:
		return restore_context(d, p);
	case SV_CTL_DOMAIN_RESTORE_INFO:
		return restore_info(d, p);
	case SV_CTL_FRAME_RELEASE: {
		const struct sv_ctl_frames *q = p;
		uint32_t count = q->count;
		pthread_mutex_lock(&d->lock);
		bool ok = fresh(d);
		pthread_mutex_unlock(&d->lock);
		if (!ok)
			return -EBUSY;
		if (count < 1 || count > SV_FRAMES_MAX)
			return -EINVAL;
		return memop_release_frames(d, q->gfn, count);
	}
	default:
		return -ENOSYS;
	}
}
