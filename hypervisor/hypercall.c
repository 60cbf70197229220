// SPDX-License-Identifier: MIT
/* Hypercall dispatch and the simple hypercalls: xen_version, console_io, memory_op (reservations in
 * memop.c), vm_assist, update_va_mapping. */
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdarg.h>
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
		 * (mmu.c); mmuext_op has COPY_PAGE and CLEAR_PAGE
		 * (highmem_assist).  gnttab_map_avail_bits as Xen gives every
		 * PV guest: Linux panics at boot without it ("Xen: feature
		 * XENFEAT_gnttab_map_avail_bits not available!"); a guest can
		 * map no grant here at all, so no mapping ever drops the bits.
		 * No other map exists (-EINVAL, as Xen).
		 */
		xen_feature_info_t fi;
		if (vcpu_copy_from_guest(v, &fi, arg, sizeof(fi)))
			return -XEN_EFAULT;
		if (fi.submap_idx != 0)
			return -XEN_EINVAL;
		fi.submap = (1U << XENFEAT_direct_mapped) | (1U << XENFEAT_mmu_pt_update_preserve_ad) |
			    (1U << XENFEAT_highmem_assist) | (1U << XENFEAT_gnttab_map_avail_bits);
		if (__atomic_load_n(&v->dom->vm_assist, __ATOMIC_RELAXED) &
		    (1ULL << VMASST_TYPE_pae_extended_cr3))
			fi.submap |= 1U << XENFEAT_pae_pgdir_above_4gb;
		return vcpu_copy_to_guest(v, arg, &fi, sizeof(fi)) ? -XEN_EFAULT : 0;
	}
	case XENVER_pagesize:
		return arg ? -XEN_EINVAL : (long)PAGE_SIZE; /* Xen: the handle must be NULL */
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

/*
 * The domain a memory_op names, as Xen's rcu_lock_domain_by_any_id and XSM
 * answer a domU: itself (DOMID_SELF or its id) 0, one that exists
 * (Domain-0, another) -EPERM, none -ESRCH.
 */
static long memop_target(struct hv_domain *d, domid_t who)
{
	struct hv_domain *o;

	if (who == DOMID_SELF || who == d->domid)
		return 0;
	if (who == 0)
		return -XEN_EPERM;
	o = who < DOMID_FIRST_RESERVED ? domain_get(who) : NULL;
	if (!o)
		return -XEN_ESRCH;
	domain_put(o);
	return -XEN_EPERM;
}

static long hc_memory_op(struct hv_vcpu *v, const uint64_t *a)
{
	struct hv_domain *d = v->dom;
	unsigned start = (unsigned)(a[0] >> 6);
	domid_t who;
	long ret;

	switch (a[0] & 0x3f) { /* low 6 bits: the command; the rest: a continuation */
	case XENMEM_increase_reservation:
	case XENMEM_decrease_reservation:
	case XENMEM_populate_physmap:
		return memop_reservation(v, (unsigned)(a[0] & 0x3f), start, a[1]);
	case XENMEM_current_reservation:
	case XENMEM_maximum_reservation:
	case XENMEM_maximum_gpfn:
		if (start)
			return -XEN_EINVAL; /* Xen: no continuation for these */
		if (vcpu_copy_from_guest(v, &who, a[1], sizeof(who)))
			return -XEN_EFAULT;
		ret = memop_target(d, who);
		if (ret)
			return ret;
		if ((a[0] & 0x3f) == XENMEM_maximum_gpfn) {
			/* As Xen for PV: from the max_pfn the guest keeps in shared_info. */
			uint64_t max_pfn =
			    d->shinfo ? __atomic_load_n(&d->shinfo->arch.max_pfn, __ATOMIC_RELAXED)
				      : 0;
			return (long)((max_pfn ? max_pfn : 1) - 1);
		}
		return (long)((a[0] & 0x3f) == XENMEM_current_reservation ? memop_current(d)
									  : memop_maximum(d));
	case XENMEM_memory_map: {
		/* No map set by the toolstack (no e820_host for PV): Xen reads it, then -ENOSYS. */
		struct xen_memory_map map;
		if (vcpu_copy_from_guest(v, &map, a[1], sizeof(map)))
			return -XEN_EFAULT;
		return -XEN_ENOSYS;
	}
	case XENMEM_maximum_ram_page: {
		/* Xen's max_page: one past the highest machine frame (here, of the domain's). */
		const struct sv_mem_range *top = &d->mem.ram[d->mem.nr_ram - 1];
		if (start)
			return -XEN_EINVAL;
		return (long)((top->gpa + top->size) / PAGE_SIZE);
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
 * is no port I/O to grant).  writable_pagetables turns on Xen's emulation
 * of the guest kernel's writes to its own L1 tables (pv_emul.c, mmu_ptwr):
 * Linux clears entries with a plain xchg.
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
 * calling vCPU's (a NULL list clears them all), as Xen: one at a time, so
 * an entry it cannot read (-EFAULT) or that is not canonical (-EINVAL)
 * ends the call with the entries before it already in place.  Xen goes on
 * through a continuation as long as the list does; a list longer than any
 * guest needs (TRAP_LIST_MAX, 256 vectors over and over) is cut there with
 * -E2BIG, so one call cannot keep the hypervisor for ever.
 */
#define TRAP_LIST_MAX 65536

static long hc_set_trap_table(struct hv_vcpu *v, const uint64_t *a)
{
	struct trap_info ti;

	if (!a[0]) {
		memset(v->trap_addr, 0, sizeof(v->trap_addr));
		memset(v->trap_flags, 0, sizeof(v->trap_flags));
		return 0;
	}
	for (uint64_t n = 0;; n++) {
		uint64_t at = a[0] + n * sizeof(ti);

		if (n == TRAP_LIST_MAX)
			return -XEN_E2BIG;
		if (at < a[0] || vcpu_copy_from_guest(v, &ti, at, sizeof(ti)))
			return -XEN_EFAULT;
		if (!ti.address)
			return 0;
		if ((uint64_t)((int64_t)(ti.address << 16) >> 16) != ti.address)
			return -XEN_EINVAL;
		v->trap_addr[ti.vector] = ti.address;
		v->trap_flags[ti.vector] = ti.flags;
	}
}

/*
 * stack_switch: the kernel stack entries from guest user mode start on
 * (pv_bounce_frame).  Xen raises the selector's RPL to the 64-bit guest
 * kernel's, 3 (fixup_guest_stack_selector).
 */
static long hc_stack_switch(struct hv_vcpu *v, const uint64_t *a)
{
	v->kernel_ss = (a[0] & 3) == 3 ? a[0] : (a[0] & ~3ULL) | 3;
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

/*
 * The handler and the name (for hypercall_log_stats) of each hypercall,
 * by number; a hole is -ENOSYS.  One entry holds both, so they cannot
 * drift apart: HYPERCALL(x) enters hc_x under the name "x", as Xen's
 * hypercall table enters do_x.
 */
struct hypercall {
	hypercall_fn fn;
	const char *name;
};

#define HYPERCALL(x) [__HYPERVISOR_##x] = { hc_##x, #x }

static const struct hypercall table[] = {
	HYPERCALL(multicall),
	HYPERCALL(set_trap_table),
	HYPERCALL(stack_switch),
	HYPERCALL(set_callbacks),
	HYPERCALL(sched_op_compat),
	HYPERCALL(memory_op),
	HYPERCALL(update_va_mapping),
	HYPERCALL(mmu_update),
	HYPERCALL(mmuext_op),
	HYPERCALL(update_va_mapping_otherdomain),
	HYPERCALL(set_timer_op),
	HYPERCALL(xen_version),
	HYPERCALL(console_io),
	HYPERCALL(vm_assist),
	HYPERCALL(vcpu_op),
	HYPERCALL(sched_op),
	HYPERCALL(callback_op),
	HYPERCALL(event_channel_op_compat),
	HYPERCALL(event_channel_op),
	HYPERCALL(grant_table_op),
	HYPERCALL(iret),
	HYPERCALL(set_segment_base),
	HYPERCALL(fpu_taskswitch),
	HYPERCALL(set_debugreg),
	HYPERCALL(get_debugreg),
	HYPERCALL(physdev_op),
	HYPERCALL(physdev_op_compat),
	HYPERCALL(set_gdt),
	HYPERCALL(update_descriptor),
};

#undef HYPERCALL

#define NR_TABLE (sizeof(table) / sizeof(table[0]))

_Static_assert(NR_TABLE <= HV_STAT_HC, "every hypercall has its own counter");

static void count(struct hv_vcpu *v, uint64_t nr)
{
	atomic_fetch_add_explicit(&v->dom->stats.hc[nr < HV_STAT_HC ? nr : HV_STAT_HC - 1], 1,
				  memory_order_relaxed);
}

/* Appends to a fixed line; what does not fit is cut. */
static void __attribute__((format(printf, 4, 5)))
put(char *line, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n >= size - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(line + *n, size - *n, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n = *n + (size_t)k < size ? *n + (size_t)k : size - 1;
}

/*
 * One line for the log: exits and wakes, every hypercall made (commonest
 * first), emulated instructions and bounced exceptions (by vector).
 */
void hypercall_log_stats(struct hv_domain *d)
{
	struct hv_dom_stats *s = &d->stats;
	bool taken[HV_STAT_HC] = { false }, any = false;
	char line[1024];
	size_t n = 0;

	put(line, sizeof(line), &n, "d%u: %llu exits, %llu after sleeping; hypercalls:", d->domid,
	    atomic_load(&s->exits), atomic_load(&s->wakes));
	for (;;) {
		unsigned best = 0;
		unsigned long long most = 0;

		for (unsigned i = 0; i < HV_STAT_HC; i++) {
			unsigned long long c = atomic_load(&s->hc[i]);

			if (!taken[i] && c > most) {
				most = c;
				best = i;
			}
		}
		if (!most)
			break;
		taken[best] = true;
		if (best < NR_TABLE && table[best].name)
			put(line, sizeof(line), &n, " %s %llu", table[best].name, most);
		else
			put(line, sizeof(line), &n, " #%u %llu", best, most);
	}
	put(line, sizeof(line), &n, "; emulated %llu; bounced", atomic_load(&s->emulated));
	for (unsigned i = 0; i < 32; i++) {
		unsigned long long c = atomic_load(&s->bounced[i]);

		if (c) {
			put(line, sizeof(line), &n, " vector %u: %llu", i, c);
			any = true;
		}
	}
	if (!any)
		put(line, sizeof(line), &n, " none");
	hv_log("%s", line);
}

/*
 * The arguments Xen declares 32 bits wide (int, unsigned int, domid_t
 * kept as unsigned int here): bit n for argument n.  Xen's handlers see
 * them truncated, so a guest's stray upper half changes nothing there;
 * nor here.
 */
static const uint8_t narrow_args[] = {
	[__HYPERVISOR_mmu_update] = 0x0a,	    /* reqs, count, pdone, foreigndom */
	[__HYPERVISOR_fpu_taskswitch] = 0x01,	    /* int set */
	[__HYPERVISOR_set_debugreg] = 0x01,	    /* int reg */
	[__HYPERVISOR_get_debugreg] = 0x01,	    /* int reg */
	[__HYPERVISOR_sched_op_compat] = 0x01,	    /* int cmd */
	[__HYPERVISOR_multicall] = 0x02,	    /* list, unsigned nr */
	[__HYPERVISOR_xen_version] = 0x01,	    /* int cmd */
	[__HYPERVISOR_console_io] = 0x03,	    /* unsigned cmd, unsigned count */
	[__HYPERVISOR_grant_table_op] = 0x05,	    /* unsigned cmd, uop, unsigned count */
	[__HYPERVISOR_vm_assist] = 0x03,	    /* unsigned cmd, unsigned type */
	[__HYPERVISOR_update_va_mapping_otherdomain] = 0x08,
	[__HYPERVISOR_vcpu_op] = 0x03,		    /* int cmd, unsigned vcpuid */
	[__HYPERVISOR_set_segment_base] = 0x01,	    /* unsigned which */
	[__HYPERVISOR_mmuext_op] = 0x0a,	    /* ops, count, pdone, foreigndom */
	[__HYPERVISOR_sched_op] = 0x01,		    /* int cmd */
	[__HYPERVISOR_callback_op] = 0x01,	    /* int cmd */
	[__HYPERVISOR_event_channel_op] = 0x01,	    /* int cmd */
	[__HYPERVISOR_physdev_op] = 0x01,	    /* int cmd */
};

/* Call hypercall nr with its arguments as wide as Xen declares them. */
static long call(struct hv_vcpu *v, uint64_t nr, const uint64_t *in)
{
	uint64_t args[5];

	memcpy(args, in, sizeof(args));
	if (nr < sizeof(narrow_args))
		for (unsigned i = 0; i < 5; i++)
			if (narrow_args[nr] & (1u << i))
				args[i] &= 0xffffffffu;
	return table[nr].fn(v, args);
}

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
 * re-entry.  An iret is made, as Xen's mc_exit: the frame on the stack the
 * multicall was made with is returned to, its rax the entry's result
 * (written back best effort) and the multicall's, and no entry after it runs.
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
		count(v, e.op);
		if (e.op == __HYPERVISOR_iret) {
			pv_iret(v);
			e.result = v->regs.rax;
			(void)vcpu_copy_to_guest(v, at + offsetof(struct multicall_entry, result),
						 &e.result, sizeof(e.result));
			return HC_NORETURN;
		}
		if (e.op == __HYPERVISOR_multicall)
			ret = -XEN_EINVAL;
		else if (e.op < NR_TABLE && table[e.op].fn)
			ret = call(v, e.op, e.args);
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
	count(v, nr);
	if (v->user_mode)
		ret = -XEN_EPERM;
	else if (nr < NR_TABLE && table[nr].fn)
		ret = call(v, nr, args);
	else
		ret = hc_not_implemented(v, nr);
	if (ret == HC_NORETURN)
		return;
	r->rax = (uint64_t)ret;
	v->regs_dirty = true;
}
