// SPDX-License-Identifier: MIT
/* Hypercall dispatch and the simple hypercalls: xen_version, console_io, memory_op (reservations in
 * memop.c), vm_assist, update_va_mapping. */
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/version.h>
#include <xen/features.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "hv.h"
#include "hypercall.h"
#include "mmu.h"

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
		/*
		 * Only what we honour: pae_pgdir_above_4gb follows the
		 * vm_assist as in Xen; a PV domain is direct-mapped (not
		 * translated); mmu_update takes MMU_PT_UPDATE_PRESERVE_AD
		 * (mmu.c).  No other map exists (-EINVAL, as Xen).
		 */
		xen_feature_info_t fi;
		if (vcpu_copy_from_guest(v, &fi, arg, sizeof(fi)))
			return -XEN_EFAULT;
		if (fi.submap_idx != 0)
			return -XEN_EINVAL;
		fi.submap = (1U << XENFEAT_direct_mapped) | (1U << XENFEAT_mmu_pt_update_preserve_ad);
		if (__atomic_load_n(&v->dom->vm_assist, __ATOMIC_RELAXED) &
		    (1ULL << VMASST_TYPE_pae_extended_cr3))
			fi.submap |= 1U << XENFEAT_pae_pgdir_above_4gb;
		return vcpu_copy_to_guest(v, arg, &fi, sizeof(fi)) ? -XEN_EFAULT : 0;
	}
	case XENVER_pagesize:
		return PAGE_SIZE;
	case XENVER_guest_handle:
		return vcpu_copy_to_guest(v, arg, v->dom->handle, sizeof(xen_domain_handle_t))
			   ? -XEN_EFAULT
			   : 0;
	case XENVER_commandline: {
		/* XSM denies it to a domU: Xen copies its "<denied>" string and succeeds. */
		static const char denied[] = "<denied>";
		return vcpu_copy_to_guest(v, arg, denied, sizeof(denied)) ? -XEN_EFAULT : 0;
	}
	case XENVER_build_id:
		return -XEN_EPERM; /* denied to a domU, as Xen's XSM default */
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
	case XENMEM_maximum_gpfn: {
		/* As Xen for PV: from the max_pfn the guest keeps in shared_info. */
		uint64_t max_pfn;

		if (vcpu_copy_from_guest(v, &who, a[1], sizeof(who)))
			return -XEN_EFAULT;
		if (who != DOMID_SELF && who != d->domid)
			return -XEN_EPERM;
		max_pfn =
		    d->shinfo ? __atomic_load_n(&d->shinfo->arch.max_pfn, __ATOMIC_RELAXED) : 0;
		return (long)((max_pfn ? max_pfn : 1) - 1);
	}
	case XENMEM_memory_map:
		/* No map set by the toolstack (no e820_host for PV): Xen says -ENOSYS too. */
		return -XEN_ENOSYS;
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

/*
 * vm_assist, for the types Xen allows x86-64 PV guests.  The 32-bit ones
 * (4gb_segments*, pae_extended_cr3) change nothing for a 64-bit guest;
 * runstate_update_flag is honoured (runstate_publish); m2p_strict and
 * architectural_iopl are kept (the M2P is never guest-writable and there
 * is no port I/O to grant).  writable_pagetables is refused: guest page
 * tables are never writable here, and saying yes would be a lie.
 */
static long hc_vm_assist(struct hv_vcpu *v, const uint64_t *a)
{
	uint64_t cmd = a[0], type = a[1];

	if (type >= 64 || !(HV_VMASST_VALID & (1ULL << type)))
		return -XEN_EINVAL;
	switch (cmd) {
	case VMASST_CMD_enable:
		pv_vm_assist_update(v->dom, 1ULL << type, 0);
		return 0;
	case VMASST_CMD_disable:
		pv_vm_assist_update(v->dom, 0, 1ULL << type);
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}

/*
 * set_trap_table: entries up to the one whose address is 0 replace the
 * calling vCPU's (a NULL list clears them all), as Xen.  The list is read whole
 * before anything changes, at most one entry per vector and then some.
 */
static long hc_set_trap_table(struct hv_vcpu *v, const uint64_t *a)
{
	struct trap_info ti[512];
	unsigned n = 0;

	if (!a[0]) {
		memset(v->trap_addr, 0, sizeof(v->trap_addr));
		memset(v->trap_flags, 0, sizeof(v->trap_flags));
		return 0;
	}
	for (;; n++) {
		if (n == sizeof(ti) / sizeof(ti[0]))
			return -XEN_E2BIG;
		if (a[0] + (n + 1) * sizeof(ti[0]) < a[0] ||
		    vcpu_copy_from_guest(v, &ti[n], a[0] + n * sizeof(ti[0]), sizeof(ti[0])))
			return -XEN_EFAULT;
		if (!ti[n].address)
			break;
	}
	/* Xen: a non-canonical entry is -EINVAL (here before any entry changes). */
	for (unsigned i = 0; i < n; i++)
		if ((uint64_t)((int64_t)(ti[i].address << 16) >> 16) != ti[i].address)
			return -XEN_EINVAL;
	for (unsigned i = 0; i < n; i++) {
		v->trap_addr[ti[i].vector] = ti[i].address;
		v->trap_flags[ti[i].vector] = ti[i].flags;
	}
	return 0;
}

/* stack_switch: the kernel stack entries from guest user mode start on (pv_bounce_frame). */
static long hc_stack_switch(struct hv_vcpu *v, const uint64_t *a)
{
	v->kernel_ss = a[0];
	v->kernel_sp = a[1];
	return 0;
}

static long hc_iret(struct hv_vcpu *v, const uint64_t *a)
{
	pv_iret(v);
	return HC_NORETURN;
}

static long hc_multicall(struct hv_vcpu *v, const uint64_t *a);
static long hc_not_implemented(struct hv_vcpu *v, uint64_t nr);

static const hypercall_fn table[] = {
	[__HYPERVISOR_multicall] = hc_multicall,
	[__HYPERVISOR_set_trap_table] = hc_set_trap_table,
	[__HYPERVISOR_stack_switch] = hc_stack_switch,
	[__HYPERVISOR_set_callbacks] = hc_set_callbacks,
	[__HYPERVISOR_sched_op_compat] = hc_sched_op_compat,
	[__HYPERVISOR_memory_op] = hc_memory_op,
	[__HYPERVISOR_update_va_mapping] = hc_update_va_mapping,
	[__HYPERVISOR_mmu_update] = hc_mmu_update,
	[__HYPERVISOR_mmuext_op] = hc_mmuext_op,
	[__HYPERVISOR_update_va_mapping_otherdomain] = hc_update_va_mapping_otherdomain,
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
	[__HYPERVISOR_set_segment_base] = hc_set_segment_base,
	[__HYPERVISOR_fpu_taskswitch] = hc_fpu_taskswitch,
	[__HYPERVISOR_physdev_op] = hc_physdev_op,
	[__HYPERVISOR_physdev_op_compat] = hc_physdev_op_compat,
	[__HYPERVISOR_set_gdt] = hc_set_gdt,
	[__HYPERVISOR_update_descriptor] = hc_update_descriptor,
};

#define NR_TABLE (sizeof(table) / sizeof(table[0]))

/* What we do not implement is -ENOSYS, said once per domain and number in the log. */
static long hc_not_implemented(struct hv_vcpu *v, uint64_t nr)
{
	struct hv_domain *d = v->dom;

	if (nr < 64 &&
	    !(__atomic_fetch_or(&d->enosys_logged, 1ULL << nr, __ATOMIC_RELAXED) & (1ULL << nr)))
		hv_log("d%u: hypercall %llu not implemented: -ENOSYS", d->domid,
		       (unsigned long long)nr);
	return -XEN_ENOSYS;
}

/*
 * __HYPERVISOR_multicall: each entry's call is made and its result written
 * back into the entry; a failing call does not stop the rest, as in Xen.
 * A multicall inside a multicall is refused (-EINVAL), as Xen refuses
 * re-entry, and so is iret (it does not return to the caller).
 */
static long hc_multicall(struct hv_vcpu *v, const uint64_t *a)
{
	uint64_t list = a[0], nr = a[1] & 0xffffffffu;
	struct multicall_entry e;

	for (uint64_t i = 0; i < nr; i++) {
		uint64_t at = list + i * sizeof(e);
		long ret;

		if (at < list || vcpu_copy_from_guest(v, &e, at, sizeof(e)))
			return -XEN_EFAULT;
		if (e.op == __HYPERVISOR_multicall || e.op == __HYPERVISOR_iret)
			ret = -XEN_EINVAL;
		else if (e.op < NR_TABLE && table[e.op])
			ret = table[e.op](v, e.args);
		else
			ret = hc_not_implemented(v, e.op);
		e.result = (xen_ulong_t)ret;
		if (vcpu_copy_to_guest(v, at + offsetof(struct multicall_entry, result), &e.result,
				       sizeof(e.result)))
			return -XEN_EFAULT;
		if (v->dom->state != DOM_ACTIVE)
			break; /* a call shut the domain down: the rest would run on a dead guest */
	}
	return 0;
}

/*
 * The guest executed a hypercall stub: number in rax, arguments in rdi,
 * rsi, rdx, r10, r8, result back in rax.
 */
void hypercall_dispatch(struct hv_vcpu *v)
{
	struct hv_regs *r = &v->regs;
	const uint64_t args[5] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8 };
	uint64_t nr = r->rax;
	long ret;

	/*
	 * Hypercalls are the guest kernel's.  On Xen a user process cannot
	 * make one at all (its `syscall` goes to the kernel's callback); here
	 * an engine's stub is reachable from user mode (the process engine's
	 * runner entry, KVM's port), so the call is refused with -EPERM.
	 */
	if (v->user_mode)
		ret = -XEN_EPERM;
	else if (nr < NR_TABLE && table[nr])
		ret = table[nr](v, args);
	else
		ret = hc_not_implemented(v, nr);
	if (ret == HC_NORETURN)
		return;
	r->rax = (uint64_t)ret;
	v->regs_dirty = true;
}
