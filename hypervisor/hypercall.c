// SPDX-License-Identifier: MIT
/* Hypercall dispatch and the simple hypercalls: xen_version, console_io, memory_op (reservations in memop.c), vm_assist, update_va_mapping. */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/version.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "hv.h"
#include "hypercall.h"

#define XEN_MAJOR HV_XEN_MAJOR
#define XEN_MINOR HV_XEN_MINOR
#define XEN_EXTRA HV_XEN_EXTRA

static long hc_xen_version(struct hv_vcpu *v, const uint64_t *a)
{
	uint64_t arg = a[1];

	switch (a[0]) {
	case XENVER_version:
		return (XEN_MAJOR << 16) | XEN_MINOR;
	case XENVER_extraversion: {
		xen_extraversion_t x = XEN_EXTRA;
		return vcpu_copy_to_guest(v, arg, x, sizeof(x)) ? -XEN_EFAULT : 0;
	}
	case XENVER_compile_info: {
		struct xen_compile_info ci;
		memset(&ci, 0, sizeof(ci));
		snprintf(ci.compiler, sizeof(ci.compiler), "gcc %s", __VERSION__);
		snprintf(ci.compile_by, sizeof(ci.compile_by), "splitvisor");
		snprintf(ci.compile_date, sizeof(ci.compile_date), "%s", __DATE__);
		return vcpu_copy_to_guest(v, arg, &ci, sizeof(ci)) ? -XEN_EFAULT : 0;
	}
	case XENVER_capabilities: {
		xen_capabilities_info_t caps;
		memset(caps, 0, sizeof(caps));
		snprintf(caps, sizeof(caps), "xen-3.0-x86_64");
		return vcpu_copy_to_guest(v, arg, caps, sizeof(caps)) ? -XEN_EFAULT : 0;
	}
	case XENVER_changeset: {
		xen_changeset_info_t cs;
		memset(cs, 0, sizeof(cs));
		snprintf(cs, sizeof(cs), "splitvisor");
		return vcpu_copy_to_guest(v, arg, cs, sizeof(cs)) ? -XEN_EFAULT : 0;
	}
	case XENVER_platform_parameters: {
		xen_platform_parameters_t pp = { .virt_start = v->dom->eng->virt_start };
		return vcpu_copy_to_guest(v, arg, &pp, sizeof(pp)) ? -XEN_EFAULT : 0;
	}
	case XENVER_get_features: {
		xen_feature_info_t fi;
		if (vcpu_copy_from_guest(v, &fi, arg, sizeof(fi)))
			return -XEN_EFAULT;
		fi.submap = 0; /* no optional features yet */
		return vcpu_copy_to_guest(v, arg, &fi, sizeof(fi)) ? -XEN_EFAULT : 0;
	}
	case XENVER_pagesize:
		return PAGE_SIZE;
	case XENVER_guest_handle:
		return vcpu_copy_to_guest(v, arg, v->dom->handle, sizeof(xen_domain_handle_t))
			       ? -XEN_EFAULT : 0;
	case XENVER_commandline:
	case XENVER_build_id:
		return -XEN_EPERM; /* the hypervisor's own details, as Xen hides them from guests */
	default:
		return -XEN_ENOSYS;
	}
}

/* Console output through the hypervisor, as Xen's debug console; there is no input. */
static long hc_console_io(struct hv_vcpu *v, const uint64_t *a)
{
	uint64_t count = a[1], buf = a[2];
	char chunk[1024];

	switch (a[0]) {
	case CONSOLEIO_write:
		if (count > (1u << 20))
			return -XEN_EINVAL;
		/* Copied a chunk at a time: a buffer off the top must not go on at VA 0. */
		if (count && buf + (count - 1) < buf)
			return -XEN_EFAULT;
		while (count) {
			size_t n = count < sizeof(chunk) ? count : sizeof(chunk);
			if (vcpu_copy_from_guest(v, chunk, buf, n))
				return -XEN_EFAULT;
			console_write(v->dom, chunk, n);
			buf += n;
			count -= n;
		}
		return 0;
	case CONSOLEIO_read:
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}

static long hc_memory_op(struct hv_vcpu *v, const uint64_t *a)
{
	struct hv_domain *d = v->dom;
	domid_t who;

	switch (a[0] & 0x3f) { /* low 6 bits: the command; the rest: a continuation */
	case XENMEM_increase_reservation:
	case XENMEM_decrease_reservation:
	case XENMEM_populate_physmap:
		return memop_reservation(v, (unsigned)(a[0] & 0x3f), (unsigned)(a[0] >> 6), a[1]);
	case XENMEM_current_reservation:
	case XENMEM_maximum_reservation:
		if (vcpu_copy_from_guest(v, &who, a[1], sizeof(who)))
			return -XEN_EFAULT;
		if (who != DOMID_SELF && who != d->domid)
			return -XEN_EPERM;
		return (long)((a[0] & 0x3f) == XENMEM_current_reservation ? memop_current(d)
									 : memop_maximum(d));
	case XENMEM_maximum_ram_page: {
		const struct sv_mem_range *top = &d->mem.ram[d->mem.nr_ram - 1];
		return (long)((top->gpa + top->size) / PAGE_SIZE - 1);
	}
	case XENMEM_machphys_mapping: {
		struct xen_machphys_mapping mm = {
			.v_start = d->eng->m2p_va,
			.v_end = d->eng->m2p_va + d->m2p_entries * 8,
			.max_mfn = d->m2p_entries - 1,
		};
		if (!d->m2p_l3_gpa)
			return -XEN_ENOSYS;
		return vcpu_copy_to_guest(v, a[1], &mm, sizeof(mm)) ? -XEN_EFAULT : 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}

/* No VM assists are implemented: say so rather than pretend. */
static long hc_vm_assist(struct hv_vcpu *v, const uint64_t *a)
{
	return -XEN_EINVAL;
}

#define PTE_P (1ULL << 0)
#define PTE_US (1ULL << 2)
#define PTE_ADDR 0x000ffffffffff000ULL

/*
 * Set one level-1 entry of the caller's address space.  The frame must be
 * the domain's RAM or its shared_info; guest kernel mappings always get
 * the user bit, as the kernel runs at CPL3.
 */
static long hc_update_va_mapping(struct hv_vcpu *v, const uint64_t *a)
{
	struct hv_domain *d = v->dom;
	uint64_t va = a[0], val = a[1], flags = a[2], pte_gpa;
	uint64_t *pte;
	int ret;

	if ((flags & UVMF_FLUSHTYPE_MASK) == UVMF_FLUSHTYPE_MASK)
		return -XEN_EINVAL;
	if (d->eng->va_reserved(va))
		return -XEN_EINVAL;
	if (val & PTE_P) {
		uint64_t frame = val & PTE_ADDR;
		if (!mem_is_ram(&d->mem, frame, PAGE_SIZE) && frame != SV_SHARED_INFO_GPA &&
		    !gnttab_is_frame(d, frame))
			return -XEN_EINVAL;
		if (mem_is_ram(&d->mem, frame, PAGE_SIZE) && !mem_frame_present(&d->mem, frame))
			return -XEN_EINVAL; /* given back (memop.c): not the guest's to map */
		val |= PTE_US;
	}
	ret = vcpu_walk_l1(v, va, &pte_gpa);
	if (ret)
		return -XEN_EINVAL;
	pte = mem_gpa(&d->mem, pte_gpa, 8);
	if (!pte)
		return -XEN_EINVAL;
	__atomic_store_n(pte, val, __ATOMIC_RELEASE);
	ret = d->eng->pte_changed(v, va);
	if (ret) {
		domain_crash(d, "cannot apply update_va_mapping to the address space");
		return -XEN_EFAULT;
	}
	return 0;
}

static long hc_iret(struct hv_vcpu *v, const uint64_t *a)
{
	pv_iret(v);
	return HC_NORETURN;
}

static const hypercall_fn table[] = {
	[__HYPERVISOR_set_callbacks] = hc_set_callbacks,
	[__HYPERVISOR_sched_op_compat] = hc_sched_op_compat,
	[__HYPERVISOR_memory_op] = hc_memory_op,
	[__HYPERVISOR_update_va_mapping] = hc_update_va_mapping,
	[__HYPERVISOR_set_timer_op] = hc_set_timer_op,
	[__HYPERVISOR_xen_version] = hc_xen_version,
	[__HYPERVISOR_console_io] = hc_console_io,
	[__HYPERVISOR_vm_assist] = hc_vm_assist,
	[__HYPERVISOR_vcpu_op] = hc_vcpu_op,
	[__HYPERVISOR_sched_op] = hc_sched_op,
	[__HYPERVISOR_callback_op] = hc_callback_op,
	[__HYPERVISOR_event_channel_op_compat] = hc_event_channel_op_compat,
	[__HYPERVISOR_event_channel_op] = hc_event_channel_op,
	[__HYPERVISOR_grant_table_op] = hc_grant_table_op,
	[__HYPERVISOR_iret] = hc_iret,
};

/*
 * The guest executed a hypercall stub: number in rax, arguments in rdi,
 * rsi, rdx, r10, r8, result back in rax.
 */
void hypercall_dispatch(struct hv_vcpu *v)
{
	struct hv_regs *r = &v->regs;
	const uint64_t args[5] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8 };
	uint64_t nr = r->rax;
	long ret = -XEN_ENOSYS;

	if (nr < sizeof(table) / sizeof(table[0]) && table[nr])
		ret = table[nr](v, args);
	if (ret == HC_NORETURN)
		return;
	r->rax = (uint64_t)ret;
	v->regs_dirty = true;
}
