// SPDX-License-Identifier: MIT
/* Check suite: every hypercall argument from a guest is checked and refused with Xen's errno. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xen/errno.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/callback.h>
#include <xen/memory.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/physdev.h>
#include <xen/features.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/mmu.h"
#include "sv/procabi.h"
#include "hv_harness.h"

#define RAM (1u << 20)
#define VA_DATA 0x400000ULL   /* 16 user pages, read-write */
#define VA_SUPER 0x410000ULL  /* supervisor-only page */
#define VA_RO 0x411000ULL     /* read-only page */
#define VA_BADGPA 0x412000ULL /* not mapped (validated tables map no frame outside memory) */
#define VA_NOTMAPPED 0x413000ULL

static struct hv_domain *d;
static struct hv_vcpu *v;
static unsigned pte_changes;

static int fake_pte_changed(struct hv_vcpu *x, uint64_t va)
{
	pte_changes++;
	return 0;
}

static void setup(void)
{
	static const struct hv_engine hooks = { .pte_changed = fake_pte_changed };

	pte_changes = 0;
	d = hvh_setup(&(struct hvh_spec){ .domid = 7,
					  .name = "t",
					  .vcpus = 2,
					  .frames = RAM / 4096,
					  .shinfo_gpa = SV_SHARED_INFO_GPA,
					  .console = true,
					  .evtchn = true,
					  .gnttab = true,
					  .domain_table = true,
					  .hooks = &hooks });

	/* Page tables: L4 0x1000, L3 0x2000, L2 0x3000, L1 0x4000. */
	hvh_pt(0x1000)[0] = 0x2000 | 7;
	hvh_pt(0x2000)[0] = 0x3000 | 7;
	hvh_pt(0x3000)[2] = 0x4000 | 7; /* VA 0x400000 */
	for (int i = 0; i < 16; i++)
		hvh_pt(0x4000)[i] = (0x10000 + i * 4096ULL) | 7;
	hvh_pt(0x4000)[16] = 0x20000 | 3; /* no user bit */
	hvh_pt(0x4000)[17] = 0x21000 | 5; /* no write bit */
	hvh_pt(0x4000)[18] = 0; /* VA_BADGPA: a validated table maps nothing outside guest memory */

	for (unsigned i = 0; i < 2; i++) {
		struct hv_vcpu *x = d->vcpus[i];
		x->cr3 = 0x1000;
		x->state = i == 0 ? VCPU_RUNNABLE : VCPU_OFFLINE;
		x->runstate.state = RUNSTATE_offline; /* as vcpu_create leaves it */
	}
	v = d->vcpus[0];
}

/* Run hypercall nr with arguments as the guest's registers would hold them. */
static long hc(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	long ret;

	v->regs_dirty = false;
	ret = hvh_hypercall(v, nr, a0, a1, a2, 0);
	ck_assert(v->regs_dirty);
	return ret;
}

static void *guest(uint64_t va)
{
	return mem_gpa(&d->mem, 0x10000 + (va - VA_DATA), 1);
}

START_TEST(unknown_hypercall_is_enosys)
{
	ck_assert_int_eq(hc(200, 0, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(hc(1ULL << 40, 0, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, VA_DATA, 1),
			 -XEN_ENOSYS);
}
END_TEST


/* set_debugreg/get_debugreg as Xen 4.17 (Linux reads and clears them at boot). */
START_TEST(debugregs_as_xen)
{
	ck_assert_int_eq(hc(__HYPERVISOR_get_debugreg, 6, 0, 0), 0xffff0ff0);
	ck_assert_int_eq(hc(__HYPERVISOR_get_debugreg, 7, 0, 0), 0x400);
	ck_assert_int_eq(hc(__HYPERVISOR_get_debugreg, 0, 0, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_set_debugreg, 0, 0x400000, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_get_debugreg, 0, 0, 0), 0x400000);
	/* The hypervisor's hole and non-canonical addresses: -EPERM, kept as it was. */
	ck_assert_int_eq(hc(__HYPERVISOR_set_debugreg, 1, HYPERVISOR_VIRT_START, 0), -XEN_EPERM);
	ck_assert_int_eq(hc(__HYPERVISOR_set_debugreg, 1, 0x0000800000000000ULL, 0), -XEN_EPERM);
	ck_assert_int_eq(hc(__HYPERVISOR_get_debugreg, 1, 0, 0), 0);
	/* DR6/DR7: upper half reserved; fixed bits forced as the CPU has them. */
	ck_assert_int_eq(hc(__HYPERVISOR_set_debugreg, 6, 1ULL << 32, 0), -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_set_debugreg, 6, 0x1001, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_get_debugreg, 6, 0, 0), 0xffff0ff1);
	ck_assert_int_eq(hc(__HYPERVISOR_set_debugreg, 7, 0, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_get_debugreg, 7, 0, 0), 0x400);
	/* An I/O breakpoint needs CR4.DE; DR4/DR5 alias DR6/DR7 without it. */
	ck_assert_int_eq(hc(__HYPERVISOR_set_debugreg, 7, 0x20001, 0), -XEN_EPERM);
	ck_assert_int_eq(hc(__HYPERVISOR_get_debugreg, 5, 0, 0), 0x400);
	v->cr4_guest = 0x8;
	ck_assert_int_eq(hc(__HYPERVISOR_get_debugreg, 5, 0, 0), -XEN_ENODEV);
	ck_assert_int_eq(hc(__HYPERVISOR_set_debugreg, 4, 0, 0), -XEN_ENODEV);
	ck_assert_int_eq(hc(__HYPERVISOR_set_debugreg, 7, 0x20001, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_set_debugreg, 8, 0, 0), -XEN_ENODEV);
	ck_assert_int_eq(hc(__HYPERVISOR_get_debugreg, 8, 0, 0), -XEN_EINVAL);
}
END_TEST

START_TEST(xen_version_checks_pointers)
{
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_version, 0, 0), (4 << 16) | 17);
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_extraversion, VA_DATA, 0), 0);
	ck_assert_str_eq((char *)guest(VA_DATA), ".0-splitvisor");
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_extraversion, 0, 0), -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_extraversion, VA_SUPER, 0),
			 -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_extraversion, VA_RO, 0), -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_extraversion, VA_BADGPA, 0),
			 -XEN_EFAULT);
	ck_assert_int_eq(
	    hc(__HYPERVISOR_xen_version, XENVER_extraversion, 0x0000800000000000ULL, 0),
	    -XEN_EFAULT); /* not canonical */
	/* A 1 KiB structure ending past the mapped pages. */
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_capabilities, VA_RO - 8, 0),
			 -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, 99, VA_DATA, 0), -XEN_ENOSYS);
	/* Denied to a domU as Xen does it: the "<denied>" string, success. */
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_commandline, VA_DATA, 0), 0);
	ck_assert_str_eq((char *)guest(VA_DATA), "<denied>");
}
END_TEST

/* Every XENVER_ sub-op: Xen's answer to a PV domU. */
START_TEST(xen_version_every_subop)
{
	xen_feature_info_t *fi = guest(VA_DATA);
	xen_platform_parameters_t *pp = guest(VA_DATA);
	struct xen_compile_info *ci = guest(VA_DATA);

	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_capabilities, VA_DATA, 0), 0);
	ck_assert_str_eq((char *)guest(VA_DATA), "xen-3.0-x86_64");
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_changeset, VA_DATA, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_compile_info, VA_DATA, 0), 0);
	ck_assert_str_eq(ci->compile_by, "splitvisor");
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_platform_parameters, VA_DATA, 0), 0);
	ck_assert_uint_eq(pp->virt_start, d->eng->virt_start);
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_pagesize, 0, 0), 4096);
	memset(d->handle, 0xab, sizeof(d->handle));
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_guest_handle, VA_DATA, 0), 0);
	ck_assert_int_eq(memcmp(guest(VA_DATA), d->handle, 16), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_build_id, VA_DATA, 0), -XEN_EPERM);
	/* Features: only the bits we honour; pae_pgdir_above_4gb follows the vm_assist. */
	fi->submap_idx = 0;
	fi->submap = 0xffffffff;
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_get_features, VA_DATA, 0), 0);
	/* Xen's PV set (Linux panics without gnttab_map_avail_bits). */
	ck_assert_uint_eq(fi->submap, (1u << XENFEAT_direct_mapped) |
					  (1u << XENFEAT_mmu_pt_update_preserve_ad) |
					  (1u << XENFEAT_highmem_assist) |
					  (1u << XENFEAT_gnttab_map_avail_bits));
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_pae_extended_cr3, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_get_features, VA_DATA, 0), 0);
	ck_assert_uint_eq(fi->submap,
			  (1u << XENFEAT_direct_mapped) | (1u << XENFEAT_mmu_pt_update_preserve_ad) |
				  (1u << XENFEAT_highmem_assist) |
				  (1u << XENFEAT_gnttab_map_avail_bits) |
				  (1u << XENFEAT_pae_pgdir_above_4gb));
	fi->submap_idx = 1;
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_get_features, VA_DATA, 0),
			 -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_get_features, VA_RO, 0), -XEN_EFAULT);
}
END_TEST

/* physdev_op for a domU without devices: each sub-op's Xen error, nothing else changed. */
START_TEST(physdev_op_as_xen_answers_a_domu)
{
	uint32_t *w = guest(VA_DATA);

	w[0] = 3;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, VA_DATA, 0), 0);
	ck_assert_uint_eq(v->iopl, 3);
	w[0] = 4;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, VA_DATA, 0), -XEN_EINVAL);
	ck_assert_uint_eq(v->iopl, 3);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, VA_NOTMAPPED, 0),
			 -XEN_EFAULT);
	w[0] = 1;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_irq_status_query, VA_DATA, 0),
			 -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_eoi, VA_DATA, 0), -XEN_EINVAL);
	/* The vector is the irq: Xen's dummy. */
	w[0] = 9;
	w[1] = 0;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_alloc_irq_vector, VA_DATA, 0), 0);
	ck_assert_uint_eq(w[1], 9);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_get_free_pirq, VA_DATA, 0),
			 -XEN_ENOSPC);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, VA_DATA, 0), -XEN_EPERM);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_apic_read, VA_DATA, 0), -XEN_EPERM);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_pci_device_add, VA_DATA, 0),
			 -XEN_EPERM);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_setup_gsi, VA_DATA, 0), -XEN_EPERM);
	/* The pirq EOI map: a RAM frame of the domain, once. */
	uint64_t *gmfn = guest(VA_DATA);
	*gmfn = RAM / 4096;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_pirq_eoi_gmfn_v2, VA_DATA, 0),
			 -XEN_EINVAL);
	ck_assert_uint_eq(d->pirq_eoi_gmfn, 0);
	*gmfn = 0x10;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_pirq_eoi_gmfn_v2, VA_DATA, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_pirq_eoi_gmfn_v1, VA_DATA, 0),
			 -XEN_EBUSY);
	/* The I/O bitmap: kept when the range is a guest address, refused past 65536 ports. */
	struct physdev_set_iobitmap *bm = guest(VA_DATA);
	bm->bitmap.p = (uint8_t *)(uintptr_t)VA_DATA;
	bm->nr_ports = 65537;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iobitmap, VA_DATA, 0),
			 -XEN_EINVAL);
	bm->nr_ports = 1024;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iobitmap, VA_DATA, 0), 0);
	ck_assert_uint_eq(v->iobmp_ports, 1024);
}
END_TEST

/*
 * physdev_op_compat (19): one struct physdev_op { cmd; union }, decoded as
 * Xen's compat path does and answered as physdev_op answers a domU.
 */
START_TEST(physdev_op_compat_as_physdev_op)
{
	struct physdev_op *op = guest(VA_DATA);
	uint64_t end = VA_DATA + 16 * 4096ULL; /* VA_SUPER follows: not the guest's to pass */

	memset(op, 0, sizeof(*op));
	op->cmd = PHYSDEVOP_set_iopl;
	op->u.set_iopl.iopl = 2;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, VA_DATA, 0, 0), 0);
	ck_assert_uint_eq(v->iopl, 2);
	op->u.set_iopl.iopl = 4;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, VA_DATA, 0, 0), -XEN_EINVAL);
	ck_assert_uint_eq(v->iopl, 2);
	op->cmd = PHYSDEVOP_irq_status_query;
	op->u.irq_status_query.irq = 1;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, VA_DATA, 0, 0), -XEN_EINVAL);
	op->cmd = PHYSDEVOP_alloc_irq_vector;
	op->u.irq_op.irq = 11;
	op->u.irq_op.vector = 0;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, VA_DATA, 0, 0), 0);
	ck_assert_uint_eq(op->u.irq_op.vector, 11); /* written into the union */
	op->cmd = PHYSDEVOP_apic_read;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, VA_DATA, 0, 0), -XEN_EPERM);
	op->cmd = PHYSDEVOP_set_iobitmap;
	op->u.set_iobitmap.bitmap.p = (uint8_t *)(uintptr_t)VA_DATA;
	op->u.set_iobitmap.nr_ports = 512;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, VA_DATA, 0, 0), 0);
	ck_assert_uint_eq(v->iobmp_ports, 512);
	ck_assert_uint_eq(v->iobmp, VA_DATA);
	op->cmd = 9999;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, VA_DATA, 0, 0), -XEN_ENOSYS);
	/* The whole structure must be readable, whatever the sub-op needs. */
	op = guest(end - 8);
	op->cmd = PHYSDEVOP_set_iopl;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, end - 8, 0, 0), -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, 0, 0, 0), -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, VA_NOTMAPPED, 0, 0), -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op_compat, 0x0000800000000000ULL, 0, 0),
			 -XEN_EFAULT);
	ck_assert_uint_eq(v->iopl, 2);
}
END_TEST

/* set_segment_base: canonical bases only; the selector form clears the user base. */
START_TEST(set_segment_base_cases)
{
	v->segs_dirty = false;
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_FS, 0x401000, 0), 0);
	ck_assert_uint_eq(v->fs_base, 0x401000);
	ck_assert(v->segs_dirty);
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_GS_KERNEL, 0x402000, 0), 0);
	ck_assert_uint_eq(v->gs_base_kernel, 0x402000);
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER, 0x403000, 0), 0);
	ck_assert_uint_eq(v->gs_base_user, 0x403000);
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_FS, 0x0000800000000000ULL, 0),
			 -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_FS, 0xffff800000000000ULL, 0),
			 0); /* canonical: the KVM engine takes any */
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, 4, 0, 0), -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER_SEL, 0x1e028, 0), 0);
	ck_assert_uint_eq(v->gs_sel_user, 0xe02b); /* low 16 bits, RPL 3: the flat data segment */
	ck_assert_uint_eq(v->gs_base_user, 0);
	v->gs_base_user = 5;
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER_SEL, 0x28, 0), 0);
	ck_assert_uint_eq(v->gs_sel_user, 0); /* no such descriptor: NUL, as Xen's fixup */
	/* A readable code segment loads into %gs too (Xen's flat ring-3 ones are). */
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER_SEL, 0xe030, 0), 0);
	ck_assert_uint_eq(v->gs_sel_user, 0xe033);
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER_SEL, 0xe023, 0), 0);
	ck_assert_uint_eq(v->gs_sel_user, 0xe023);
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER_SEL, 0xe008, 0), 0);
	ck_assert_uint_eq(v->gs_sel_user, 0); /* the hypervisor's own (DPL 0): NUL */
	ck_assert_uint_eq(v->gs_base_user, 0);
	ck_assert_uint_eq(v->gs_base_kernel, 0x402000);
	/* The process engine loads lower-half bases only. */
	hvh_engine.seg_base_max = hv_proc_engine.seg_base_max;
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_FS, SV_PROC_GUEST_VA_END, 0),
			 -XEN_EINVAL);
	ck_assert_uint_eq(v->fs_base, 0xffff800000000000ULL);
	/* fpu_taskswitch: the virtual TS. */
	ck_assert_int_eq(hc(__HYPERVISOR_fpu_taskswitch, 1, 0, 0), 0);
	ck_assert(v->fpu_ts && v->fpu_ts_dirty);
	ck_assert_int_eq(hc(__HYPERVISOR_fpu_taskswitch, 0, 0, 0), 0);
	ck_assert(!v->fpu_ts);
}
END_TEST

/* HYPERVISOR_iret: every flags case of Xen's do_iret. */
static void iret_frame_sel(uint64_t flags, uint64_t rflags, uint64_t cs, uint64_t ss)
{
	/* rax r11 rcx flags rip cs rflags rsp ss, at VA_DATA + 0x100 */
	uint64_t f[9] = { 0x1111, 0x2222, 0x3333, flags, 0x401234, cs, rflags, 0x405000, ss };
	memcpy(guest(VA_DATA + 0x100), f, sizeof(f));
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rax = __HYPERVISOR_iret;
	v->regs.rsp = VA_DATA + 0x100;
	v->regs.rcx = 0xdead;
	v->regs.r11 = 0xbeef;
	hypercall_dispatch(v);
}

static void iret_frame(uint64_t flags, uint64_t rflags)
{
	/* A kernel-mode frame: CS with RPL 0, as Xen's bounce frames give it (RPL 3: user mode). */
	iret_frame_sel(flags, rflags, 0xe030, 0xe02b);
}

/* An iret the CPU would refuse (bad CS or SS, non-canonical rip): the failsafe callback. */
START_TEST(iret_bad_selectors_go_to_failsafe)
{
	struct vcpu_info *vi = vcpu_info_of(v);
	uint64_t *f;

	v->failsafe_callback = 0x400abc;
	v->failsafe_masks = false;
	vi->evtchn_upcall_mask = 0;
	/* CS 0x10 gets RPL 3: 0x13, not a ring-3 code segment. */
	iret_frame_sel(0, 0x202, 0x10, 0xe02b);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert_uint_eq(v->regs.rip, 0x400abc);
	ck_assert_uint_eq(v->regs.rsp, 0x405000 - 88); /* on the stack the iret meant to use */
	f = guest(0x405000 - 88);
	/* rcx r11 ds es fs gs rip cs rflags rsp ss */
	ck_assert_uint_eq(f[0], 0x3333);
	ck_assert_uint_eq(f[1], 0x2222);
	ck_assert_uint_eq(f[2] | f[3] | f[4] | f[5], 0);
	ck_assert_uint_eq(f[6], 0x401234);
	ck_assert_uint_eq(f[7], 0x13);
	ck_assert_uint_eq(f[9], 0x405000);
	ck_assert_uint_eq(f[10], 0xe02b);
	ck_assert_uint_eq(vi->evtchn_upcall_mask, 0); /* registered without mask_events */
	/* A bad SS, with CALLBACKF_mask_events: events masked. */
	v->failsafe_masks = true;
	iret_frame_sel(0, 0x202, 0xe030, 0);
	ck_assert_uint_eq(v->regs.rip, 0x400abc);
	ck_assert_uint_eq(((uint64_t *)guest(0x405000 - 88))[10], 3); /* NUL SS, RPL 3 */
	ck_assert_uint_eq(vi->evtchn_upcall_mask, 1);
	/* Compat mode cannot run here either. */
	iret_frame_sel(0, 0x202, FLAT_RING3_CS32 & ~3, 0xe02b);
	ck_assert_uint_eq(v->regs.rip, 0x400abc);
	/* No failsafe callback: the domain is crashed. */
	v->failsafe_callback = 0;
	iret_frame_sel(0, 0x202, 0x10, 0xe02b);
	ck_assert_int_ne(d->state, DOM_ACTIVE);
}
END_TEST

START_TEST(iret_flags_cases)
{
	struct vcpu_info *vi = vcpu_info_of(v);

	iret_frame(0, 0x202 | 0x3000 | 0x20000 | 1); /* IF, IOPL 3, VM, CF */
	ck_assert_uint_eq(v->regs.rax, 0x1111);
	ck_assert_uint_eq(v->regs.r11, 0x2222);
	ck_assert_uint_eq(v->regs.rcx, 0x3333);
	ck_assert_uint_eq(v->regs.rip, 0x401234);
	ck_assert_uint_eq(v->regs.rsp, 0x405000);
	ck_assert_uint_eq(v->regs.rflags, 0x203); /* never IOPL or VM from the frame */
	ck_assert_uint_eq(vi->evtchn_upcall_mask, 0);
	ck_assert_uint_eq(v->iopl, 0); /* architectural_iopl off */
	/* In a syscall: sysret semantics, rcx = rip and r11 = rflags; IF clear masks events. */
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_architectural_iopl, 0), 0);
	iret_frame(VGCF_in_syscall, 0x2000 | 0x80);
	ck_assert_uint_eq(v->regs.rcx, 0x401234);
	ck_assert_uint_eq(v->regs.r11, v->regs.rflags);
	ck_assert_uint_eq(v->regs.rflags, 0x282);
	ck_assert_uint_eq(vi->evtchn_upcall_mask, 1);
	ck_assert_uint_eq(v->iopl, 2);
	/* A frame it cannot read crashes the domain. */
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rax = __HYPERVISOR_iret;
	v->regs.rsp = VA_NOTMAPPED;
	hypercall_dispatch(v);
	ck_assert_int_ne(d->state, DOM_ACTIVE);
}
END_TEST

START_TEST(console_io_checks_buffer)
{
	memcpy(guest(VA_DATA), "hello\n", 6);
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 6, VA_DATA), 0);
	ck_assert_uint_eq(d->cons_written, 6);
	ck_assert_int_eq(memcmp(d->cons_buf, "hello\n", 6), 0);
	/* Runs from the last user page into the supervisor-only one. */
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 8192, VA_SUPER - 4096),
			 -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 2u << 20, VA_DATA),
			 -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, 77, 1, VA_DATA), -XEN_ENOSYS);
}
END_TEST

/*
 * A range running off the top of the address space must not go on at VA 0
 * (copy_guest's gva += chunk wrapped): both pages are mapped, user and
 * writable, so only the wrap itself can refuse it.
 */
START_TEST(copy_range_never_wraps)
{
	const uint64_t top = 0xfffffffffffff000ULL;
	uint8_t *hi = mem_gpa(&d->mem, 0x11000, 4096), *lo = mem_gpa(&d->mem, 0x12000, 4096);
	uint64_t written;

	/* The last page: L4[511] -> L3[511] -> L2[511] -> L1[511] -> frame 0x11000. */
	hvh_pt(0x1000)[511] = 0x40000 | 7;
	hvh_pt(0x40000)[511] = 0x41000 | 7;
	hvh_pt(0x41000)[511] = 0x42000 | 7;
	hvh_pt(0x42000)[511] = 0x11000 | 7;
	/* VA 0 -> frame 0x12000. */
	hvh_pt(0x3000)[0] = 0x43000 | 7;
	hvh_pt(0x43000)[0] = 0x12000 | 7;
	memset(hi, 'h', 4096);
	memset(lo, 'l', 4096);
	written = d->cons_written;
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 8192, top), -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 2, top + 4095), -XEN_EFAULT);
	ck_assert_uint_eq(d->cons_written, written);
	/* Writing to the guest: nothing lands at VA 0. */
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_extraversion, top + 4088, 0),
			 -XEN_EFAULT);
	ck_assert_uint_eq(lo[0], 'l');
	/* The last page alone is an ordinary range. */
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 4096, top), 0);
	ck_assert_uint_eq(d->cons_written, written + 4096);
}
END_TEST

/*
 * A guest flooding console_io (16 MiB in 64 KiB calls, far past any rate
 * an honest guest prints at) must not have all of it kept: the ring, its
 * log file and the hypervisor log get the burst and the rate, the rest is
 * dropped.  The bound allows over 100 s of wall clock at the default rate.
 */
START_TEST(console_io_flood_is_limited)
{
	char path[256];
	struct stat st;
	uint64_t before = d->cons_written;

	memset(guest(VA_DATA), 0, 16 * 4096); /* NULs: nothing for the hypervisor log's lines */
	for (int i = 0; i < 256; i++)
		ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 16 * 4096, VA_DATA),
				 0);
	ck_assert_uint_le(d->cons_written - before, 8u << 20);
	snprintf(path, sizeof(path), "%s/console/guest-t.log", hvh_rundir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_le(st.st_size, 8 << 20);
}
END_TEST

static uint64_t fake_now_ns;

static uint64_t fake_clock(void)
{
	return fake_now_ns;
}

/* The token bucket, on a clock the test moves: bytes kept and dropped are counted exactly. */
START_TEST(console_io_rate_counts_bytes)
{
	uint64_t w;

	fake_now_ns = 5000000000ULL;
	console_set_limits(d, 1000, 4096, 1u << 20, fake_clock);
	memset(guest(VA_DATA), 'x', 16 * 4096);
	w = d->cons_written;
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 4096, VA_DATA), 0);
	ck_assert_uint_eq(d->cons_written - w, 4096); /* the burst */
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 4096, VA_DATA), 0);
	ck_assert_uint_eq(d->cons_written - w, 4096); /* dropped: still success for the guest */
	ck_assert_uint_eq(d->cons_dropped, 4096);
	fake_now_ns += 1000000000ULL; /* one second: 1000 bytes */
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 4096, VA_DATA), 0);
	ck_assert_uint_eq(d->cons_written - w, 5096);
	ck_assert_uint_eq(d->cons_dropped, 4096 + 3096);
	/* Many small calls lose no fraction of a token: 1000 calls 1 ms apart, 1 byte each. */
	for (int i = 0; i < 1000; i++) {
		fake_now_ns += 1000000ULL;
		ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 1, VA_DATA), 0);
	}
	ck_assert_uint_eq(d->cons_written - w, 6096);
	/* Quiet for longer than a burst takes to fill: the episode ends, all is kept again. */
	fake_now_ns += 10 * 1000000000ULL;
	ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 4096, VA_DATA), 0);
	ck_assert_uint_eq(d->cons_written - w, 6096 + 4096);
	ck_assert_uint_eq(d->cons_dropped, 0);
}
END_TEST

/* The guest log becomes guest-NAME.log.1 at its cap; neither file grows past it. */
START_TEST(console_log_rotates_at_its_cap)
{
	char path[256], old[260];
	struct stat st;

	fake_now_ns = 1;
	console_set_limits(d, 1u << 30, 1u << 30, 10000, fake_clock);
	memset(guest(VA_DATA), 'y', 16 * 4096);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 4096, VA_DATA), 0);
	snprintf(path, sizeof(path), "%s/console/guest-t.log", hvh_rundir);
	snprintf(old, sizeof(old), "%s.1", path);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_le(st.st_size, 10000);
	ck_assert_int_gt(st.st_size, 0);
	ck_assert_int_eq(stat(old, &st), 0);
	ck_assert_int_le(st.st_size, 10000);
	/*
	 * Someone else (xenconsoled) rotated it: our file fills up to the cap
	 * (9 KiB: it gets 1 KiB chunks), then we follow to their new file
	 * rather than rotating it over ours.
	 */
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 2048);
	ck_assert_int_eq(rename(path, old), 0);
	ck_assert_int_eq(close(open(path, O_WRONLY | O_CREAT, 0600)), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(hc(__HYPERVISOR_console_io, CONSOLEIO_write, 4096, VA_DATA), 0);
	ck_assert_int_eq(stat(old, &st), 0);
	ck_assert_int_eq(st.st_size, 9216);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 9216);
}
END_TEST

START_TEST(sched_shutdown_checks_reason)
{
	struct sched_shutdown *s = guest(VA_DATA);

	s->reason = 99;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, VA_DATA, 0), -XEN_EINVAL);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, VA_NOTMAPPED, 0), -XEN_EFAULT);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	s->reason = SHUTDOWN_poweroff;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, VA_DATA, 0), 0);
	ck_assert_int_eq(d->state, DOM_SHUTDOWN);
	ck_assert_int_eq(d->shutdown_reason, SHUTDOWN_poweroff);
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, 99, 0, 0), -XEN_ENOSYS);
}
END_TEST

/* Xen's save path: suspend parks the domain; a resume gives it back, the cancel as 1. */
START_TEST(sched_suspend_then_resume)
{
	struct sched_shutdown *s = guest(VA_DATA);

	ck_assert_int_eq(domain_resume(d, HV_RESUME_CANCEL), -EINVAL); /* nothing suspended */
	ck_assert_int_eq(domain_resume(d, 0x80), -EINVAL);
	ck_assert_int_eq(domain_resume(d, 0), 0); /* running: nothing to do, as Xen */
	ck_assert_int_eq(d->state, DOM_ACTIVE);

	s->reason = SHUTDOWN_suspend;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, VA_DATA, 0x1234), 0);
	ck_assert_int_eq(d->state, DOM_SHUTDOWN);
	ck_assert_uint_eq(d->shutdown_reason, SHUTDOWN_suspend);
	ck_assert_int_eq(v->state, VCPU_STOPPED);
	ck_assert_int_eq(d->vcpus[1]->state, VCPU_STOPPED);
	ck_assert_int_eq(domain_resume(d, HV_RESUME_CANCEL), 0);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert_uint_eq(v->regs.rax, 1);
	ck_assert(v->regs_dirty);
	ck_assert_int_eq(v->state, VCPU_RUNNABLE);
	ck_assert_int_eq(d->vcpus[1]->state, VCPU_OFFLINE); /* it was never up */

	/* A plain resume leaves the call's 0; a cancel of another reason is refused. */
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, VA_DATA, 0), 0);
	ck_assert_int_eq(domain_resume(d, 0), 0);
	ck_assert_uint_eq(v->regs.rax, 0);
	s->reason = SHUTDOWN_poweroff;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, VA_DATA, 0), 0);
	ck_assert_int_eq(domain_resume(d, HV_RESUME_CANCEL), -EINVAL);
	ck_assert_int_eq(d->state, DOM_SHUTDOWN);
	ck_assert_uint_eq(d->shutdown_reason, SHUTDOWN_poweroff);
}
END_TEST

/* SCHEDOP_shutdown_code latches the reason the next shutdown reports; the first one stays. */
START_TEST(sched_shutdown_code_latches)
{
	struct sched_shutdown *s = guest(VA_DATA);

	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown_code, VA_NOTMAPPED, 0),
			 -XEN_EFAULT);
	s->reason = SHUTDOWN_crash;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown_code, VA_DATA, 0), 0);
	s->reason = SHUTDOWN_reboot;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown_code, VA_DATA, 0), 0);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	s->reason = SHUTDOWN_poweroff;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, VA_DATA, 0), 0);
	ck_assert_int_eq(d->state, DOM_SHUTDOWN);
	ck_assert_uint_eq(d->shutdown_reason, SHUTDOWN_crash);
	/* A resume forgets it. */
	ck_assert_int_eq(domain_resume(d, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, VA_DATA, 0), 0);
	ck_assert_uint_eq(d->shutdown_reason, SHUTDOWN_poweroff);
}
END_TEST

START_TEST(sched_poll_limits_ports)
{
	struct sched_poll *p = guest(VA_DATA);

	vcpu_info_of(v)->evtchn_upcall_pending = 0;
	p->nr_ports = 129;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_poll, VA_DATA, 0), -XEN_EINVAL);
	p->nr_ports = 4;
	set_xen_guest_handle(p->ports, (evtchn_port_t *)(uintptr_t)VA_NOTMAPPED);
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_poll, VA_DATA, 0), -XEN_EFAULT);
	ck_assert_int_eq(v->state, VCPU_RUNNABLE);
}
END_TEST

START_TEST(vcpu_op_checks_ids_and_state)
{
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 5, 0), -XEN_ENOENT);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_is_up, ~0ULL, 0), -XEN_ENOENT);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 0, 0), 1);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 1, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_up, 1, 0), -XEN_EINVAL); /* no context */
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, VA_NOTMAPPED), -XEN_EFAULT);
	/* A context naming a page table outside guest RAM. */
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, VA_DATA), -XEN_EINVAL);
	ck_assert(!d->vcpus[1]->has_context);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 1, VA_DATA),
			 -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, 99, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_get_physid, 0, VA_DATA), -XEN_EINVAL);
	/* send_nmi: no argument, then an NMI pending on the vCPU named. */
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 1, VA_DATA), -XEN_EINVAL);
	ck_assert(!atomic_load(&d->vcpus[1]->nmi_pending));
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 1, 0), 0);
	ck_assert(atomic_load(&d->vcpus[1]->nmi_pending));
}
END_TEST

/*
 * register_vcpu_time_memory_area: an address the guest cannot have is
 * -EFAULT; the caller's copy is written at once (version even, the
 * record vcpu_info has), and again with every update; NULL stops it.
 */
START_TEST(vcpu_time_area_follows_the_record)
{
	struct vcpu_register_time_memory_area *ta = guest(VA_DATA);
	struct vcpu_time_info *area = guest(VA_DATA + 4096), *t = &vcpu_info_of(v)->time;

	memset(area, 0xee, sizeof(*area));
	ta->addr.p = 0xffff800000000000ULL;
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0, VA_DATA),
	    -XEN_EFAULT);
	ck_assert_uint_eq(v->time_area, 0);
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0, VA_NOTMAPPED),
	    -XEN_EFAULT);
	ta->addr.p = VA_DATA + 4096;
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0, VA_DATA), 0);
	ck_assert_uint_eq(area->version % 2, 0);
	ck_assert_uint_eq(area->version, t->version);
	ck_assert_uint_eq(area->tsc_to_system_mul, t->tsc_to_system_mul);
	ck_assert_uint_eq(area->system_time, t->system_time);
	time_update(v);
	ck_assert_uint_eq(area->version, t->version);
	ck_assert_uint_eq(area->tsc_timestamp, t->tsc_timestamp);
	ta->addr.p = 0;
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0, VA_DATA), 0);
	time_update(v);
	ck_assert_uint_ne(area->version, t->version);
	/* Another vCPU's: kept for when it runs. */
	ta->addr.p = VA_DATA + 8192;
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 1, VA_DATA), 0);
	ck_assert_uint_eq(d->vcpus[1]->time_area, VA_DATA + 8192);
}
END_TEST

/*
 * VCPUOP_down of the last vCPU that is up powers the domain off (Xen's
 * "Last vcpu going down?"), the vCPU left as it was; any other just goes down.
 */
START_TEST(vcpu_down_of_the_last_powers_off)
{
	d->vcpus[1]->state = VCPU_RUNNABLE;
	d->vcpus[1]->has_context = true;
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_down, 1, 0), 0);
	ck_assert_int_eq(d->vcpus[1]->state, VCPU_OFFLINE);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_down, 1, 0), 0); /* already down */
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_down, 0, 0), 0);
	ck_assert_int_eq(d->state, DOM_SHUTDOWN);
	ck_assert_int_eq(d->shutdown_reason, SHUTDOWN_poweroff);
}
END_TEST

/*
 * The timers, as Xen: set_timer_op's 0 stops, a time hugely ahead (or
 * negative) fires in 100 ms; the singleshot timer's 0 is a past time, so it
 * fires now rather than stopping.
 */
START_TEST(timer_edges)
{
	struct vcpu_set_singleshot_timer *st = guest(VA_DATA);
	uint64_t start = hv_host.start_ns, now;

	ck_assert_int_eq(hc(__HYPERVISOR_set_timer_op, 1ULL << 63, 0, 0), 0);
	now = hv_now_ns();
	ck_assert_uint_gt(v->timer_deadline_ns, start);
	ck_assert_uint_le(v->timer_deadline_ns, now + 100000000ULL);
	ck_assert_int_eq(hc(__HYPERVISOR_set_timer_op, (hv_now_ns() - start) + (1ULL << 51), 0, 0),
			 0);
	ck_assert_uint_le(v->timer_deadline_ns, hv_now_ns() + 100000000ULL);
	ck_assert_int_eq(hc(__HYPERVISOR_set_timer_op, 0, 0, 0), 0);
	ck_assert_uint_eq(v->timer_deadline_ns, 0);
	*st = (struct vcpu_set_singleshot_timer){ .timeout_abs_ns = 0 };
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, VA_DATA), 0);
	ck_assert_uint_ne(v->timer_deadline_ns, 0);
	ck_assert_uint_le(v->timer_deadline_ns, hv_now_ns());
}
END_TEST

/*
 * SCHEDOP_poll in Xen's order: pending events for the vCPU return at once;
 * then port by port (port 0 is a port), a bad one -EINVAL, a pending one 0
 * with what follows unread; a list where the guest has no addresses -EFAULT.
 */
START_TEST(sched_poll_order)
{
	struct sched_poll *p = guest(VA_DATA);
	evtchn_port_t *ports = guest(VA_DATA + 256);
	struct evtchn_alloc_unbound *au = guest(VA_DATA + 512);
	struct vcpu_info *vi = vcpu_info_of(v);

	set_xen_guest_handle(p->ports, (evtchn_port_t *)(uintptr_t)(VA_DATA + 256));
	p->nr_ports = 2;
	p->timeout = 0;
	ports[0] = 0;
	ports[1] = 1u << 30;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_poll, VA_DATA, 0), -XEN_EINVAL);
	/* Events to deliver: 0 before any port is read. */
	vi->evtchn_upcall_pending = 1;
	vi->evtchn_upcall_mask = 0;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_poll, VA_DATA, 0), 0);
	vi->evtchn_upcall_mask = 1; /* masked: no longer */
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_poll, VA_DATA, 0), -XEN_EINVAL);
	vi->evtchn_upcall_pending = 0;
	/* A pending port before the bad one: 0, the bad one unread. */
	*au = (struct evtchn_alloc_unbound){ .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	ck_assert_int_eq(
	    hc(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, VA_DATA + 512, 0), 0);
	struct evtchn_bind_interdomain *bi = guest(VA_DATA + 768);
	struct evtchn_send *snd = guest(VA_DATA + 640);
	*bi = (struct evtchn_bind_interdomain){ .remote_dom = DOMID_SELF, .remote_port = au->port };
	ck_assert_int_eq(
	    hc(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, VA_DATA + 768, 0), 0);
	snd->port = bi->local_port;
	ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_send, VA_DATA + 640, 0), 0);
	vi->evtchn_upcall_pending = 0;
	ports[0] = au->port;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_poll, VA_DATA, 0), 0);
	set_xen_guest_handle(p->ports, (evtchn_port_t *)0xffff800000000000ULL);
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_poll, VA_DATA, 0), -XEN_EFAULT);
	ck_assert_int_eq(v->state, VCPU_RUNNABLE);
}
END_TEST

/*
 * register_runstate_memory_area: an address the guest cannot have is
 * -EFAULT and registers nothing; another vCPU's area is written at once too.
 */
START_TEST(runstate_area_checks_and_writes)
{
	struct vcpu_register_runstate_memory_area *ra = guest(VA_DATA);
	struct vcpu_runstate_info *area = guest(VA_DATA + 4096);

	memset(area, 0xff, sizeof(*area));
	ra->addr.v = (void *)0xffff800000000000ULL;
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 1, VA_DATA),
			 -XEN_EFAULT);
	ck_assert_uint_eq(d->vcpus[1]->runstate_area, 0);
	ra->addr.v = (void *)(uintptr_t)(VA_DATA + 4096);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 1, VA_DATA),
			 0);
	ck_assert_uint_eq(d->vcpus[1]->runstate_area, VA_DATA + 4096);
	ck_assert_int_eq(area->state, RUNSTATE_offline);
}
END_TEST

START_TEST(update_va_mapping_checks_frame_and_va)
{
	uint64_t *l1 = hvh_pt(0x4000);
	uint64_t before = l1[0];

	/* A frame outside the domain's memory: Xen's -EPERM (no I/O memory for it). */
	ck_assert_int_eq(hc(__HYPERVISOR_update_va_mapping, VA_DATA, 0x7f000000 | 7, 0),
			 -XEN_EPERM);
	/* Another private page than shared_info (the IDT, say): not the domain's, -EBUSY. */
	ck_assert_int_eq(
	    hc(__HYPERVISOR_update_va_mapping, VA_DATA, (SV_PRIV_GPA + 4 * 4096) | 7, 0),
	    -XEN_EBUSY);
	/* Xen's own range and an address with no level-1 table. */
	ck_assert_int_eq(hc(__HYPERVISOR_update_va_mapping, 0xffff800000000000ULL, 0x10000 | 7, 0),
			 -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_update_va_mapping, 0x40000000ULL, 0x10000 | 7, 0),
			 -XEN_EINVAL);
	/* Caching bits Xen refuses to a domain without devices. */
	ck_assert_int_eq(hc(__HYPERVISOR_update_va_mapping, VA_DATA, 0x10000 | 7 | 0x10, 0),
			 -XEN_EINVAL);
	/* Unchanged, but for the _PAGE_GLOBAL Xen's validation of the tables adds to a user page. */
	ck_assert_uint_eq(l1[0], before | 0x100);
	ck_assert_uint_eq(pte_changes, 0);
	/* A good one is written and handed to the engine. */
	ck_assert_int_eq(hc(__HYPERVISOR_update_va_mapping, VA_DATA, 0x11000 | 7, 0), 0);
	ck_assert_uint_eq(l1[0], 0x11000 | 7 | 0x100); /* a user page: Xen adds _PAGE_GLOBAL */
	ck_assert_uint_eq(pte_changes, 1);
	/* The process engine owns everything above its guest window. */
	d->eng = &hv_proc_engine;
	ck_assert_int_eq(hc(__HYPERVISOR_update_va_mapping, SV_PROC_GUEST_VA_END, 0x10000 | 7, 0),
			 -XEN_EINVAL);
	d->eng = &hvh_engine;
}
END_TEST

START_TEST(memory_op_only_for_self)
{
	domid_t *who = guest(VA_DATA);

	*who = DOMID_SELF;
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_current_reservation, VA_DATA, 0),
			 RAM / 4096);
	*who = 7; /* its own id */
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_maximum_reservation, VA_DATA, 0),
			 (long)d->mem.max_pages);
	*who = 3; /* no such domain: Xen's -ESRCH; Domain-0: XSM's -EPERM */
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_current_reservation, VA_DATA, 0),
			 -XEN_ESRCH);
	*who = 0;
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_current_reservation, VA_DATA, 0),
			 -XEN_EPERM);
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_current_reservation, 0, 0), -XEN_EFAULT);
	/* No continuation for these: a start extent is -EINVAL before anything is read. */
	ck_assert_int_eq(
	    hc(__HYPERVISOR_memory_op, XENMEM_current_reservation | (1u << 6), VA_NOTMAPPED, 0),
	    -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_maximum_gpfn | (1u << 6), VA_DATA, 0),
			 -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_maximum_ram_page | (1u << 6), 0, 0),
			 -XEN_EINVAL);
	/* max_page, as Xen: one past the highest frame. */
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_maximum_ram_page, 0, 0), RAM / 4096);
	/* memory_map reads its argument first: -EFAULT, then (no map for PV) -ENOSYS. */
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_memory_map, VA_NOTMAPPED, 0),
			 -XEN_EFAULT);
	/* xen_version's pagesize wants a NULL handle. */
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, XENVER_pagesize, VA_DATA, 0), -XEN_EINVAL);
}
END_TEST

START_TEST(callback_op_checks_type)
{
	struct callback_register *cb = guest(VA_DATA);

	cb->type = 42; /* no such type: Xen's -ENOSYS */
	ck_assert_int_eq(hc(__HYPERVISOR_callback_op, CALLBACKOP_register, VA_DATA, 0),
			 -XEN_ENOSYS);
	cb->type = CALLBACKTYPE_event;
	cb->address = 0xffffffff80001000ULL;
	ck_assert_int_eq(hc(__HYPERVISOR_callback_op, CALLBACKOP_register, VA_DATA, 0), 0);
	ck_assert_uint_eq(v->event_callback, 0xffffffff80001000ULL);
}
END_TEST

START_TEST(hypercall_page_stubs)
{
	ck_assert_int_eq(pv_write_hypercall_page(d, 0x30000), 0);
	uint8_t *p = mem_gpa(&d->mem, 0x30000 + 17 * 32, 8);
	const uint8_t want[8] = { 0xb8, 17, 0, 0, 0, 0xe6, SV_PORT_HYPERCALL, 0xc3 };
	ck_assert_int_eq(memcmp(p, want, 8), 0);
	ck_assert_int_eq(pv_write_hypercall_page(d, 0x30001), -EINVAL);
	ck_assert_int_eq(pv_write_hypercall_page(d, SV_PRIV_GPA), -EINVAL);
	ck_assert_int_eq(pv_write_hypercall_page(d, RAM), -EINVAL);
}
END_TEST

/* The process engine's stubs jump to sv-runner's entry with the return address in rcx. */
START_TEST(process_hypercall_page_stubs)
{
	d->eng = &hv_proc_engine;
	ck_assert_int_eq(pv_write_hypercall_page(d, 0x30000), 0);
	d->eng = &hvh_engine;
	uint8_t *p = mem_gpa(&d->mem, 0x30000 + 17 * 32, 32);
	uint64_t entry = SV_PROC_RUNNER_VA;
	ck_assert_int_eq(p[0], 0xb8);
	ck_assert_int_eq(p[1], 17);
	const uint8_t lea[] = { 0x48, 0x8d, 0x0d, 13, 0, 0, 0, 0x49, 0xbb };
	ck_assert_int_eq(memcmp(p + 5, lea, sizeof(lea)), 0);
	ck_assert_int_eq(memcmp(p + 14, &entry, 8), 0);
	const uint8_t jmp_ret[] = { 0x41, 0xff, 0xe3, 0xc3 };
	ck_assert_int_eq(memcmp(p + 22, jmp_ret, sizeof(jmp_ret)), 0);
	uint8_t *iret = mem_gpa(&d->mem, 0x30000 + __HYPERVISOR_iret * 32, 32);
	const uint8_t pushes[] = { 0x51, 0x41, 0x53, 0x50, 0xb8, __HYPERVISOR_iret };
	ck_assert_int_eq(memcmp(iret, pushes, sizeof(pushes)), 0);
	ck_assert_int_eq(iret[29], 0x0f);
	ck_assert_int_eq(iret[30], 0x0b);
}
END_TEST

/* ---- event channels ---- */

static long evop(unsigned cmd, void *op, size_t len)
{
	memcpy(guest(VA_DATA), op, len);
	long r = hc(__HYPERVISOR_event_channel_op, cmd, VA_DATA, 0);
	memcpy(op, guest(VA_DATA), len);
	return r;
}

START_TEST(evtchn_bad_ports_refused)
{
	struct evtchn_send snd = { .port = 0 };
	struct evtchn_close cl = { .port = 5 };
	struct evtchn_unmask um = { .port = EVTCHN_GUEST_PORTS };

	ck_assert_int_eq(evop(EVTCHNOP_send, &snd, sizeof(snd)), -XEN_EINVAL);
	snd.port = 99999;
	ck_assert_int_eq(evop(EVTCHNOP_send, &snd, sizeof(snd)), -XEN_EINVAL);
	ck_assert_int_eq(evop(EVTCHNOP_close, &cl, sizeof(cl)), -XEN_EINVAL); /* never bound */
	ck_assert_int_eq(evop(EVTCHNOP_unmask, &um, sizeof(um)), -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_send, VA_NOTMAPPED, 0),
			 -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, 99, VA_DATA, 0), -XEN_ENOSYS);
}
END_TEST

START_TEST(evtchn_bind_checks)
{
	struct evtchn_bind_interdomain bi = { .remote_dom = 999, .remote_port = 1 };
	struct evtchn_bind_virq bv = { .virq = NR_VIRQS, .vcpu = 0 };
	struct evtchn_alloc_unbound au = { .dom = 3, .remote_dom = 0 };

	ck_assert_int_eq(evop(EVTCHNOP_bind_interdomain, &bi, sizeof(bi)), -XEN_ESRCH);
	ck_assert_int_eq(evop(EVTCHNOP_bind_virq, &bv, sizeof(bv)), -XEN_EINVAL);
	bv.virq = VIRQ_DOM_EXC;
	ck_assert_int_eq(evop(EVTCHNOP_bind_virq, &bv, sizeof(bv)), -XEN_EPERM);
	bv.virq = VIRQ_TIMER;
	bv.vcpu = 7;
	ck_assert_int_eq(evop(EVTCHNOP_bind_virq, &bv, sizeof(bv)), -XEN_EINVAL);
	bv.vcpu = 0;
	ck_assert_int_eq(evop(EVTCHNOP_bind_virq, &bv, sizeof(bv)), 0);
	ck_assert_int_eq(evop(EVTCHNOP_bind_virq, &bv, sizeof(bv)), -XEN_EEXIST);
	ck_assert_int_eq(evop(EVTCHNOP_alloc_unbound, &au, sizeof(au)),
			 -XEN_EPERM); /* not itself */
	/* A port offered to dom0 cannot be bound by the domain itself. */
	au.dom = DOMID_SELF;
	ck_assert_int_eq(evop(EVTCHNOP_alloc_unbound, &au, sizeof(au)), 0);
	bi.remote_dom = DOMID_SELF;
	bi.remote_port = au.port;
	ck_assert_int_eq(evop(EVTCHNOP_bind_interdomain, &bi, sizeof(bi)), -XEN_EINVAL);
}
END_TEST

/*
 * Issue 15, hole 6: a global VIRQ moved with bind_vcpu left its slot
 * naming the port after close, so it could never be bound again.
 */
START_TEST(evtchn_bind_vcpu_moves_global_virqs_only)
{
	struct evtchn_bind_virq bv = { .virq = VIRQ_ENOMEM, .vcpu = 0 };
	struct evtchn_bind_vcpu bc = { .vcpu = 1 };
	struct evtchn_close cl;

	ck_assert_int_eq(evop(EVTCHNOP_bind_virq, &bv, sizeof(bv)), 0);
	bc.port = bv.port;
	ck_assert_int_eq(evop(EVTCHNOP_bind_vcpu, &bc, sizeof(bc)), 0);
	cl.port = bv.port;
	ck_assert_int_eq(evop(EVTCHNOP_close, &cl, sizeof(cl)), 0);
	ck_assert_int_eq(evop(EVTCHNOP_bind_virq, &bv, sizeof(bv)), 0);
	ck_assert_int_eq(evop(EVTCHNOP_bind_virq, &bv, sizeof(bv)), -XEN_EEXIST);
	/* A per-vCPU VIRQ stays where it was bound, as in Xen. */
	struct evtchn_bind_virq dbg = { .virq = VIRQ_DEBUG, .vcpu = 0 };
	ck_assert_int_eq(evop(EVTCHNOP_bind_virq, &dbg, sizeof(dbg)), 0);
	bc.port = dbg.port;
	ck_assert_int_eq(evop(EVTCHNOP_bind_vcpu, &bc, sizeof(bc)), -XEN_EINVAL);
}
END_TEST

START_TEST(evtchn_loopback_delivers)
{
	struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	struct evtchn_bind_interdomain bi = { .remote_dom = DOMID_SELF };
	struct vcpu_info *vi = &d->shinfo->vcpu_info[0];

	ck_assert_int_eq(evop(EVTCHNOP_alloc_unbound, &au, sizeof(au)), 0);
	bi.remote_port = au.port;
	ck_assert_int_eq(evop(EVTCHNOP_bind_interdomain, &bi, sizeof(bi)), 0);
	/* The new port starts pending, as in Xen. */
	ck_assert(d->shinfo->evtchn_pending[0] & (1UL << bi.local_port));
	ck_assert_int_eq(vi->evtchn_upcall_pending, 1);
	d->shinfo->evtchn_pending[0] = 0;
	vi->evtchn_upcall_pending = 0;
	vi->evtchn_pending_sel = 0;
	/* Masked: pending is set but no upcall. */
	d->shinfo->evtchn_mask[0] = 1UL << au.port;
	struct evtchn_send snd = { .port = bi.local_port };
	ck_assert_int_eq(evop(EVTCHNOP_send, &snd, sizeof(snd)), 0);
	ck_assert(d->shinfo->evtchn_pending[0] & (1UL << au.port));
	ck_assert_int_eq(vi->evtchn_upcall_pending, 0);
	/* Unmask delivers it. */
	struct evtchn_unmask um = { .port = au.port };
	ck_assert_int_eq(evop(EVTCHNOP_unmask, &um, sizeof(um)), 0);
	ck_assert_int_eq(vi->evtchn_upcall_pending, 1);
	/* Closing one end leaves the other unbound. */
	struct evtchn_close cl = { .port = bi.local_port };
	ck_assert_int_eq(evop(EVTCHNOP_close, &cl, sizeof(cl)), 0);
	struct evtchn_status st = { .dom = DOMID_SELF, .port = au.port };
	ck_assert_int_eq(evop(EVTCHNOP_status, &st, sizeof(st)), 0);
	ck_assert_int_eq(st.status, EVTCHNSTAT_unbound);
	ck_assert_int_eq(atomic_load(&d->refs), 1); /* the loopback's references are gone */
}
END_TEST

/* ---- grant tables ---- */

static grant_entry_v1_t *entries(void)
{
	return mem_gpa(&d->mem, pv_gnttab_gpa(d), 4096);
}

START_TEST(gnttab_setup_checks)
{
	struct gnttab_setup_table *st = guest(VA_DATA);

	st->dom = DOMID_SELF;
	st->nr_frames = SV_GNT_MAX_FRAMES + 1;
	set_xen_guest_handle(st->frame_list, (xen_pfn_t *)(uintptr_t)(VA_DATA + 64));
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, VA_DATA, 1), 0);
	ck_assert_int_eq(st->status, GNTST_general_error);
	st->nr_frames = 2;
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, VA_DATA, 1), 0);
	ck_assert_int_eq(st->status, GNTST_okay);
	xen_pfn_t *fl = guest(VA_DATA + 64);
	ck_assert_uint_eq(fl[0] << 12, pv_gnttab_gpa(d));
	ck_assert_uint_eq(fl[1], fl[0] + 1);
	/* Its frames may now be mapped by the guest, the IDT still may not. */
	ck_assert(gnttab_is_frame(d, pv_gnttab_gpa(d) + 4096));
	ck_assert(!gnttab_is_frame(d, pv_gnttab_gpa(d) + 2 * 4096));
	st->dom = 5;
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, VA_DATA, 1), 0);
	ck_assert_int_eq(st->status, GNTST_permission_denied);
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, VA_DATA, 513),
			 -XEN_EINVAL);
	struct gnttab_set_version *sv = guest(VA_DATA);
	sv->version = 2;
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, VA_DATA, 1),
			 -XEN_EINVAL);
	/* dump_table (PV GRUB's framebuffer setup): its own table only, one at a time. */
	struct gnttab_dump_table *dt = guest(VA_DATA);
	dt->dom = DOMID_SELF;
	dt->status = 99;
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_dump_table, VA_DATA, 1), 0);
	ck_assert_int_eq(dt->status, GNTST_okay);
	dt->dom = 5;
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_dump_table, VA_DATA, 1), 0);
	ck_assert_int_eq(dt->status, GNTST_permission_denied);
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_dump_table, VA_DATA, 2),
			 -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_dump_table, 0, 1), -XEN_EFAULT);
}
END_TEST

START_TEST(gnttab_dom0_map_checks_entries)
{
	struct gnttab_setup_table *st = guest(VA_DATA);
	grant_entry_v1_t *e;
	uint32_t h;
	uint64_t off;

	st->dom = DOMID_SELF;
	st->nr_frames = 1;
	set_xen_guest_handle(st->frame_list, (xen_pfn_t *)(uintptr_t)(VA_DATA + 64));
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, VA_DATA, 1), 0);
	e = entries();
	e[1] = (grant_entry_v1_t){ .flags = GTF_permit_access, .domid = 0, .frame = 0x10 };
	e[2] = (grant_entry_v1_t){ .flags = GTF_permit_access, .domid = 4, .frame = 0x10 };
	e[3] = (grant_entry_v1_t){ .flags = GTF_permit_access | GTF_readonly,
				   .domid = 0,
				   .frame = 0x11 };
	e[4] = (grant_entry_v1_t){ .flags = GTF_permit_access, .domid = 0, .frame = 0x7f000 };
	e[5] = (grant_entry_v1_t){ .flags = GTF_invalid, .domid = 0, .frame = 0x10 };

	ck_assert_int_eq(gnttab_map_dom0(d, 2, true, NULL, &h, &off), GNTST_permission_denied);
	ck_assert_int_eq(gnttab_map_dom0(d, 3, false, NULL, &h, &off), GNTST_permission_denied);
	ck_assert_int_eq(gnttab_map_dom0(d, 4, true, NULL, &h, &off), GNTST_bad_page);
	ck_assert_int_eq(gnttab_map_dom0(d, 5, true, NULL, &h, &off), GNTST_permission_denied);
	ck_assert_int_eq(gnttab_map_dom0(d, 512, true, NULL, &h, &off), GNTST_bad_gntref);
	ck_assert_int_eq(e[3].flags & (GTF_reading | GTF_writing), 0);

	/* A writable map pins reading and writing; the flags go with the last unmap. */
	ck_assert_int_eq(gnttab_map_dom0(d, 1, false, d, &h, &off), GNTST_okay);
	ck_assert_uint_eq(off, 0x10000);
	uint32_t h2;
	ck_assert_int_eq(gnttab_map_dom0(d, 1, true, d, &h2, &off), GNTST_okay);
	ck_assert_int_eq(e[1].flags, GTF_permit_access | GTF_reading | GTF_writing);
	ck_assert_int_eq(gnttab_unmap_dom0(d, h, NULL), GNTST_bad_handle); /* not the owner */
	ck_assert_int_eq(gnttab_unmap_dom0(d, h, d), GNTST_okay);
	ck_assert_int_eq(e[1].flags, GTF_permit_access | GTF_reading);
	ck_assert_int_eq(gnttab_unmap_dom0(d, h, d), GNTST_bad_handle); /* twice */
	gnttab_release_owner(d, d);
	ck_assert_int_eq(e[1].flags, GTF_permit_access);
}
END_TEST

/*
 * Issue 15, hole 5: one ref mapped writable 65,536 times wrapped a 16-bit
 * pin count, and the failing map after it cleared GTF_writing while every
 * mapping was still live.  Filling the maptrack was quadratic too.
 */
START_TEST(gnttab_dom0_map_limit_keeps_flags)
{
	struct gnttab_setup_table *st = guest(VA_DATA);
	grant_entry_v1_t *e;
	uint32_t h, first = 0, last = 0;
	uint64_t off;
	unsigned ok = 0;
	int r = GNTST_okay;

	st->dom = DOMID_SELF;
	st->nr_frames = 1;
	set_xen_guest_handle(st->frame_list, (xen_pfn_t *)(uintptr_t)(VA_DATA + 64));
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, VA_DATA, 1), 0);
	e = entries();
	e[1] = (grant_entry_v1_t){ .flags = GTF_permit_access, .domid = 0, .frame = 0x10 };
	while (ok < 70000 && (r = gnttab_map_dom0(d, 1, false, d, &h, &off)) == GNTST_okay) {
		if (!ok)
			first = h;
		last = h;
		ok++;
	}
	ck_assert_int_eq(r, GNTST_no_space);
	ck_assert_uint_ge(ok, 1024);
	ck_assert_uint_lt(ok, 70000);
	/* Every mapping is live: the entry still says so. */
	ck_assert_int_eq(e[1].flags, GTF_permit_access | GTF_reading | GTF_writing);
	/* A freed handle is used again at once. */
	ck_assert_int_eq(gnttab_unmap_dom0(d, last, d), GNTST_okay);
	ck_assert_int_eq(gnttab_map_dom0(d, 1, false, d, &h, &off), GNTST_okay);
	ck_assert_uint_eq(h, last);
	ck_assert_int_eq(gnttab_unmap_dom0(d, first, d), GNTST_okay);
	ck_assert_int_eq(e[1].flags, GTF_permit_access | GTF_reading | GTF_writing);
	gnttab_release_owner(d, d);
	ck_assert_int_eq(e[1].flags, GTF_permit_access);
}
END_TEST

START_TEST(gnttab_copy_checks)
{
	struct gnttab_setup_table *st = guest(VA_DATA);

	st->dom = DOMID_SELF;
	st->nr_frames = 1;
	set_xen_guest_handle(st->frame_list, (xen_pfn_t *)(uintptr_t)(VA_DATA + 64));
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, VA_DATA, 1), 0);

	/* Guest copies between its own frames (gmfn on both sides); hv_dom0 lookups need a real
	 * domain. */
	struct gnttab_copy *c = guest(VA_DATA + 2048);
	memset(c, 0, sizeof(*c));
	c->source.domid = DOMID_SELF;
	c->source.u.gmfn = 0x11;
	c->dest.domid = DOMID_SELF;
	c->dest.u.gmfn = 0x12;
	c->len = 4096;
	c->dest.offset = 1; /* crosses the page */
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_copy, VA_DATA + 2048, 1), 0);
	ck_assert_int_eq(c->status, GNTST_bad_copy_arg);
	c->dest.offset = 0;
	c->flags = GNTCOPY_source_gref;
	c->source.u.ref = 9999;
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_copy, VA_DATA + 2048, 1), 0);
	ck_assert_int_eq(c->status, GNTST_bad_gntref);
	/* A guest may not name another domain's frames. */
	c->flags = 0;
	c->source.u.gmfn = 0x11;
	c->source.domid = 3;
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_copy, VA_DATA + 2048, 1), 0);
	ck_assert_int_eq(c->status, GNTST_permission_denied);
	/* Its own frames: copied. */
	c->source.domid = DOMID_SELF;
	memset(mem_gpa(&d->mem, 0x11000, 4096), 0x5a, 4096);
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_copy, VA_DATA + 2048, 1), 0);
	ck_assert_int_eq(c->status, GNTST_okay);
	ck_assert_int_eq(*(uint8_t *)mem_gpa(&d->mem, 0x12fff, 1), 0x5a);
	ck_assert_int_eq(hc(__HYPERVISOR_grant_table_op, GNTTABOP_copy, VA_NOTMAPPED, 1),
			 -XEN_EFAULT);
}
END_TEST

/* Fills multicall entry i at VA_DATA + i * 64. */
static void mc_entry(unsigned i, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct multicall_entry *e = guest(VA_DATA + i * sizeof(*e));

	memset(e, 0, sizeof(*e));
	e->op = op;
	e->result = 0x1234;
	e->args[0] = a0, e->args[1] = a1, e->args[2] = a2;
}

static long mc_result(unsigned i)
{
	return (long)((struct multicall_entry *)guest(VA_DATA + i * sizeof(struct multicall_entry)))
	    ->result;
}

START_TEST(multicall_writes_every_result)
{
	mc_entry(0, __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	mc_entry(1, 99, 0, 0, 0); /* no such call */
	mc_entry(2, __HYPERVISOR_xen_version, XENVER_extraversion, VA_NOTMAPPED, 0);
	mc_entry(3, __HYPERVISOR_multicall, VA_DATA, 1, 0); /* nested */
	/* Xen's int cmd: the upper half of the register is not part of it. */
	mc_entry(4, __HYPERVISOR_xen_version, (1ULL << 32) | XENVER_version, 0, 0);
	mc_entry(5, __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
	ck_assert_int_eq(hc(__HYPERVISOR_multicall, VA_DATA, 6, 0), 0);
	ck_assert_int_eq(mc_result(0), (4 << 16) | 17);
	ck_assert_int_eq(mc_result(1), -XEN_ENOSYS);
	ck_assert_int_eq(mc_result(2), -XEN_EFAULT);
	ck_assert_int_eq(mc_result(3), -XEN_EINVAL);
	ck_assert_int_eq(mc_result(4), (4 << 16) | 17);
	ck_assert_int_eq(mc_result(5), 4096);	/* failures before it did not stop it */
	ck_assert_uint_eq(d->enosys_logged, 0); /* 99 is past what is logged; nothing else marked */

	/* The list runs off the user pages (VA_SUPER next): -EFAULT, the entries before it done. */
	mc_entry(1023, __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	ck_assert_int_eq(hc(__HYPERVISOR_multicall, VA_DATA + 1023 * 64, 2, 0), -XEN_EFAULT);
	ck_assert_int_eq(mc_result(1023), (4 << 16) | 17);
	ck_assert_int_eq(hc(__HYPERVISOR_multicall, VA_NOTMAPPED, 1, 0), -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_multicall, VA_DATA, 0, 0), 0);
	/* A list whose end wraps the address space is refused, not walked from 0. */
	ck_assert_int_eq(hc(__HYPERVISOR_multicall, ~0ULL - 63, 3, 0), -XEN_EFAULT);
}
END_TEST

/*
 * An iret in a multicall is made, as Xen's mc_exit: the frame on the stack
 * the multicall was made with is returned to, its rax the entry's result
 * and the call's, and the entries after it are not run.
 */
START_TEST(multicall_iret_returns_and_stops)
{
	struct iret_context *ic = guest(VA_DATA + 8192);
	struct hv_regs *r = &v->regs;

	mc_entry(0, __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
	mc_entry(1, __HYPERVISOR_iret, 0, 0, 0);
	mc_entry(2, __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
	*ic = (struct iret_context){ .rax = 0x5a5a, .rip = 0x400800, .cs = 0xe030,
				     .rflags = 0x202, .rsp = VA_DATA + 12288, .ss = 0xe02b };
	memset(r, 0, sizeof(*r));
	r->rax = __HYPERVISOR_multicall;
	r->rdi = VA_DATA;
	r->rsi = 3;
	r->rsp = VA_DATA + 8192;
	hypercall_dispatch(v);
	ck_assert_uint_eq(r->rax, 0x5a5a);
	ck_assert_uint_eq(r->rip, 0x400800);
	ck_assert_uint_eq(r->rsp, VA_DATA + 12288);
	ck_assert_int_eq(mc_result(0), 4096);
	ck_assert_int_eq(mc_result(1), 0x5a5a);
	ck_assert_int_eq(mc_result(2), 0x1234); /* not run */
	ck_assert_int_eq(d->state, DOM_ACTIVE);
}
END_TEST

/* Arguments Xen declares 32 bits wide are truncated as Xen's C calls do. */
START_TEST(narrow_arguments_truncated)
{
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, (1ULL << 32) | XENVER_pagesize, 0, 0), 4096);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 1ULL << 32, 0), 1); /* vCPU 0 */
	ck_assert_int_eq(hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable,
			    (1ULL << 32) | VMASST_TYPE_runstate_update_flag, 0),
			 0);
	ck_assert_int_eq(hc(__HYPERVISOR_fpu_taskswitch, 1, 0, 0), 0);
	ck_assert(v->fpu_ts);
	ck_assert_int_eq(hc(__HYPERVISOR_fpu_taskswitch, 1ULL << 32, 0, 0), 0); /* int 0: clear */
	ck_assert(!v->fpu_ts);
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, (1ULL << 32) | 99, 0, 0), -XEN_ENOSYS);
}
END_TEST

START_TEST(unimplemented_calls_are_logged_once)
{
	d->enosys_logged = 0;
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, 0, 0, 0), -XEN_ENOSYS);
	ck_assert_uint_eq(d->enosys_logged, 1ULL << __HYPERVISOR_physdev_op);
	ck_assert_int_eq(hc(__HYPERVISOR_physdev_op, 0, 0, 0), -XEN_ENOSYS);
	ck_assert_uint_eq(d->enosys_logged, 1ULL << __HYPERVISOR_physdev_op);
	ck_assert_int_eq(hc(1ULL << 40, 0, 0, 0), -XEN_ENOSYS); /* not loggable, still refused */
	ck_assert_uint_eq(d->enosys_logged, 1ULL << __HYPERVISOR_physdev_op);
}
END_TEST

START_TEST(periodic_timer_checks_period_and_vcpu)
{
	uint64_t *period = guest(VA_DATA);

	*period = 999999; /* under Xen's 1 ms floor */
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, VA_DATA),
			 -XEN_EINVAL);
	ck_assert_uint_eq(v->period_ns, 0);
	*period = 1ULL << 63; /* past Xen's STIME_DELTA_MAX */
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, VA_DATA),
			 -XEN_EINVAL);
	*period = 10000000;
	/* Any vCPU of the domain, as Xen: vCPU 1's own timer. */
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 1, VA_DATA), 0);
	ck_assert_uint_eq(d->vcpus[1]->period_ns, 10000000);
	ck_assert_uint_eq(v->period_ns, 0);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 1, 0), 0);
	ck_assert_uint_eq(d->vcpus[1]->period_ns, 0);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, VA_NOTMAPPED),
			 -XEN_EFAULT);
	ck_assert_uint_eq(v->period_ns, 0);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, VA_DATA), 0);
	ck_assert_uint_eq(v->period_ns, 10000000);
	ck_assert_uint_gt(v->period_next_ns, 0);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 1, 0), 0);
	ck_assert_uint_eq(v->period_ns, 10000000);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0), 0);
	ck_assert_uint_eq(v->period_ns, 0);
}
END_TEST

START_TEST(runstate_counts_and_publishes)
{
	struct vcpu_runstate_info *ri = guest(VA_DATA), *area = guest(VA_DATA + 4096);
	struct vcpu_register_runstate_memory_area *ra = guest(VA_DATA + 2048);
	uint64_t sum = 0;

	/* vCPU 1 never ran: offline, and nothing counted yet. */
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 1, VA_DATA), 0);
	ck_assert_int_eq(ri->state, RUNSTATE_offline);
	ck_assert_uint_eq(ri->time[RUNSTATE_running] + ri->time[RUNSTATE_blocked], 0);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 2, VA_DATA),
			 -XEN_ENOENT);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 0, VA_RO), -XEN_EFAULT);

	pthread_mutex_lock(&d->lock);
	runstate_set(v, RUNSTATE_running);
	pthread_mutex_unlock(&d->lock);
	usleep(2000);
	pthread_mutex_lock(&d->lock);
	runstate_set(v, RUNSTATE_blocked);
	pthread_mutex_unlock(&d->lock);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 0, VA_DATA), 0);
	ck_assert_int_eq(ri->state, RUNSTATE_blocked);
	ck_assert_uint_ge(ri->time[RUNSTATE_running], 2000000);
	for (int i = 0; i < 4; i++)
		sum += ri->time[i];
	ck_assert_uint_le(sum, ri->state_entry_time); /* no more time than has passed */

	/* A registered copy is written at once and whenever the vCPU is about to run. */
	ra->addr.v = (void *)(uintptr_t)(VA_DATA + 4096);
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, VA_DATA + 2048), 0);
	ck_assert_int_eq(area->state, RUNSTATE_blocked);
	pthread_mutex_lock(&d->lock);
	runstate_set(v, RUNSTATE_running);
	pthread_mutex_unlock(&d->lock);
	runstate_publish(v);
	ck_assert_int_eq(area->state, RUNSTATE_running);
	/* An unmapped area is the guest's loss: accepted, nothing written anywhere. */
	ra->addr.v = (void *)(uintptr_t)VA_NOTMAPPED;
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, VA_DATA + 2048), 0);
	runstate_publish(v);
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, VA_NOTMAPPED),
	    -XEN_EFAULT);
}
END_TEST

START_TEST(watchdog_slots_and_ids)
{
	struct sched_watchdog *w = guest(VA_DATA);

	*w = (struct sched_watchdog){ .id = 0, .timeout = 100 };
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_watchdog, VA_DATA, 0), 1);
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_watchdog, VA_DATA, 0), 2);
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_watchdog, VA_DATA, 0), -XEN_ENOSPC);
	*w = (struct sched_watchdog){ .id = 3, .timeout = 100 };
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_watchdog, VA_DATA, 0), -XEN_EINVAL);
	*w = (struct sched_watchdog){ .id = 1, .timeout = 0 }; /* freed */
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_watchdog, VA_DATA, 0), 0);
	ck_assert_uint_eq(d->watchdog_ns[0], 0);
	ck_assert_uint_ne(d->watchdog_ns[1], 0);
	*w = (struct sched_watchdog){ .id = 1, .timeout = 5 }; /* not in use now */
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_watchdog, VA_DATA, 0), -XEN_EINVAL);
	*w = (struct sched_watchdog){ .id = 2, .timeout = 5 }; /* rearmed */
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_watchdog, VA_DATA, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_watchdog, VA_NOTMAPPED, 0), -XEN_EFAULT);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
}
END_TEST

START_TEST(remote_shutdown_is_refused_to_guests)
{
	struct sched_remote_shutdown *rs = guest(VA_DATA);

	*rs = (struct sched_remote_shutdown){ .domain_id = 7, .reason = SHUTDOWN_poweroff };
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, VA_DATA, 0),
			 -XEN_EPERM);
	rs->domain_id = 0; /* Domain-0 exists */
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, VA_DATA, 0),
			 -XEN_EPERM);
	rs->domain_id = DOMID_SELF; /* Xen looks it up as an id: no such domain */
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, VA_DATA, 0),
			 -XEN_ESRCH);
	rs->domain_id = 999;
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, VA_DATA, 0),
			 -XEN_ESRCH);
	ck_assert_int_eq(hc(__HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, VA_NOTMAPPED, 0),
			 -XEN_EFAULT);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
}
END_TEST

START_TEST(maximum_gpfn_from_shared_info)
{
	domid_t *who = guest(VA_DATA);

	*who = DOMID_SELF;
	d->shinfo->arch.max_pfn = 256;
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_maximum_gpfn, VA_DATA, 0), 255);
	d->shinfo->arch.max_pfn = 0;
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_maximum_gpfn, VA_DATA, 0), 0);
	*who = 3;
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_maximum_gpfn, VA_DATA, 0), -XEN_ESRCH);
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_maximum_gpfn, VA_NOTMAPPED, 0),
			 -XEN_EFAULT);
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_memory_map, VA_DATA, 0), -XEN_ENOSYS);
}
END_TEST

START_TEST(register_vcpu_info_moves_it)
{
	struct vcpu_register_vcpu_info *ri = guest(VA_DATA);
	struct vcpu_info *to = guest(VA_DATA + 4096 + 64);
	struct evtchn_alloc_unbound *au = guest(VA_DATA + 512);
	struct evtchn_send *snd = guest(VA_DATA + 640);

	d->shinfo->vcpu_info[0].arch.cr2 = 0xc2c2; /* carried over */
	/* Xen's -ENXIO: past the page's end, or not aligned as the structure is. */
	*ri = (struct vcpu_register_vcpu_info){ .mfn = 0x11, .offset = 4096 - 56 };
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, VA_DATA),
			 -XEN_ENXIO);
	*ri = (struct vcpu_register_vcpu_info){ .mfn = 0x7f000, .offset = 68 };
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, VA_DATA),
			 -XEN_ENXIO); /* before the frame is looked at */
	*ri = (struct vcpu_register_vcpu_info){ .mfn = 0x7f000, .offset = 64 }; /* not its RAM */
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, VA_DATA),
			 -XEN_EINVAL);
	*ri = (struct vcpu_register_vcpu_info){ .mfn = SV_SHARED_INFO_GPA >> 12, .offset = 64 };
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, VA_DATA),
			 -XEN_EINVAL);
	*ri = (struct vcpu_register_vcpu_info){ .mfn = ~0ULL, .offset = 64 };
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, VA_DATA),
			 -XEN_EINVAL);
	ck_assert_ptr_null(v->vinfo);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, VA_NOTMAPPED),
			 -XEN_EFAULT);

	/* Frame 0x11 is VA_DATA + 4096; rsvd is not looked at (Xen does not). */
	*ri = (struct vcpu_register_vcpu_info){ .mfn = 0x11, .offset = 64, .rsvd = 1 };
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, VA_DATA), 0);
	ck_assert_ptr_eq(vcpu_info_of(v), to);
	ck_assert_uint_eq(to->arch.cr2, 0xc2c2);
	ck_assert_uint_eq(to->evtchn_upcall_pending, 1);
	ck_assert_uint_eq(to->evtchn_pending_sel, ~0UL);
	/* Once only. */
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, VA_DATA),
			 -XEN_EINVAL);

	/* Events now land in the new place. */
	to->evtchn_pending_sel = 0;
	to->evtchn_upcall_pending = 0;
	d->shinfo->vcpu_info[0].evtchn_pending_sel = 0;
	*au = (struct evtchn_alloc_unbound){ .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	ck_assert_int_eq(
	    hc(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, VA_DATA + 512, 0), 0);
	struct evtchn_bind_interdomain *bi = guest(VA_DATA + 768);
	*bi = (struct evtchn_bind_interdomain){ .remote_dom = DOMID_SELF, .remote_port = au->port };
	snd->port = au->port;
	/* An unbound port is not delivered; a loopback bind is (as evtchn_loopback_delivers). */
	(void)hc(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, VA_DATA + 768, 0);
	snd->port = bi->local_port;
	ck_assert_int_eq(hc(__HYPERVISOR_event_channel_op, EVTCHNOP_send, VA_DATA + 640, 0), 0);
	ck_assert_uint_ne(to->evtchn_pending_sel, 0);
	ck_assert_uint_eq(to->evtchn_upcall_pending, 1);
	ck_assert_uint_eq(d->shinfo->vcpu_info[0].evtchn_pending_sel, 0);

	/* Another vCPU: only while it is down. */
	*ri = (struct vcpu_register_vcpu_info){ .mfn = 0x11, .offset = 256 };
	d->vcpus[1]->state = VCPU_RUNNABLE;
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 1, VA_DATA),
			 -XEN_EINVAL);
	d->vcpus[1]->state = VCPU_OFFLINE;
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 1, VA_DATA), 0);
	ck_assert_ptr_eq(vcpu_info_of(d->vcpus[1]), guest(VA_DATA + 4096 + 256));
}
END_TEST

START_TEST(set_trap_table_reads_whole_list)
{
	struct trap_info *ti = guest(VA_DATA);

	ti[0] = (struct trap_info){ .vector = 14, .flags = 4, .address = 0x401000 };
	ti[1] = (struct trap_info){ .vector = 0x80, .flags = 3, .address = 0x402000 };
	ti[2] = (struct trap_info){ 0 };
	ck_assert_int_eq(hc(__HYPERVISOR_set_trap_table, VA_DATA, 0, 0), 0);
	ck_assert_uint_eq(v->trap_addr[14], 0x401000);
	ck_assert_uint_eq(v->trap_flags[0x80], 3);
	/*
	 * As Xen, one entry at a time: no end before the pages do is -EFAULT
	 * with the entries read so far in place; a non-canonical entry is
	 * -EINVAL with those before it in place.
	 */
	for (unsigned i = 0; i < 16 * 4096 / sizeof(*ti); i++)
		ti[i] = (struct trap_info){ .vector = 6, .address = 0x403000 };
	ck_assert_int_eq(
	    hc(__HYPERVISOR_set_trap_table, VA_DATA + 16 * 4096 - 2 * sizeof(*ti), 0, 0),
	    -XEN_EFAULT);
	ck_assert_uint_eq(v->trap_addr[6], 0x403000);
	ti[0] = (struct trap_info){ .vector = 3, .address = 0x404000 };
	ti[1] = (struct trap_info){ .vector = 4, .address = 0x0000800000000000ULL };
	ti[2] = (struct trap_info){ .vector = 5, .address = 0x405000 };
	ti[3] = (struct trap_info){ 0 };
	ck_assert_int_eq(hc(__HYPERVISOR_set_trap_table, VA_DATA, 0, 0), -XEN_EINVAL);
	ck_assert_uint_eq(v->trap_addr[3], 0x404000);
	ck_assert_uint_eq(v->trap_addr[4], 0);
	ck_assert_uint_eq(v->trap_addr[5], 0);
	ck_assert_int_eq(hc(__HYPERVISOR_set_trap_table, ~0ULL - 8, 0, 0), -XEN_EFAULT);
	/* NULL clears the table. */
	ck_assert_int_eq(hc(__HYPERVISOR_set_trap_table, 0, 0, 0), 0);
	ck_assert_uint_eq(v->trap_addr[14], 0);
	ck_assert_uint_eq(v->trap_addr[6], 0);
	/* stack_switch: the selector's RPL raised to 3, as Xen's fixup. */
	ck_assert_int_eq(hc(__HYPERVISOR_stack_switch, 0x10, 0x408000, 0), 0);
	ck_assert_uint_eq(v->kernel_ss, 0x13);
	ck_assert_uint_eq(v->kernel_sp, 0x408000);
	ck_assert_int_eq(hc(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, 0x408000, 0), 0);
	ck_assert_uint_eq(v->kernel_ss, FLAT_KERNEL_SS);
}
END_TEST

/* A fault as an engine reports it, at rip 0x400500 with the stack in the data pages. */
static struct hv_exit fault_at(unsigned vector, uint64_t err, uint64_t cr2)
{
	struct hv_exit e = {
		.kind = HV_EXIT_FAULT, .vector = vector, .error_code = err, .cr2 = cr2
	};

	e.frame[0] = 0x400500;
	e.frame[1] = FLAT_KERNEL_CS;
	e.frame[2] = 0x246;
	e.frame[3] = VA_DATA + 8192;
	e.frame[4] = FLAT_KERNEL_SS;
	v->regs.rcx = 0xc0c0, v->regs.r11 = 0x1111;
	return e;
}

START_TEST(exceptions_bounce_to_the_trap_table)
{
	const uint64_t *fr = guest(VA_DATA + 8192 - 64);
	struct hv_exit e;

	v->trap_addr[14] = 0x401000, v->trap_flags[14] = 4;
	e = fault_at(14, 0x7, 0xdead000);
	pv_fault(v, &e);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert_uint_eq(v->regs.rip, 0x401000);
	ck_assert_uint_eq(v->regs.rsp, VA_DATA + 8192 - 64);
	ck_assert_uint_eq(fr[0], 0xc0c0);
	ck_assert_uint_eq(fr[1], 0x1111);
	ck_assert_uint_eq(fr[2], 0x3); /* the user bit cleared: the guest kernel faulted */
	ck_assert_uint_eq(fr[3], 0x400500);
	ck_assert_uint_eq(fr[5] & 0x200, 0x200);
	ck_assert_uint_eq(fr[6], VA_DATA + 8192);
	ck_assert_uint_eq(d->shinfo->vcpu_info[0].arch.cr2, 0xdead000);
	ck_assert_uint_eq(d->shinfo->vcpu_info[0].evtchn_upcall_mask, 1); /* TI_GET_IF */

	/* int $0x80 (a #GP naming IDT entry 0x80) with a DPL-3 entry: after the instruction. */
	v->trap_addr[0x80] = 0x402000, v->trap_flags[0x80] = 3;
	d->shinfo->vcpu_info[0].evtchn_upcall_mask = 0;
	e = fault_at(13, (0x80 << 3) | 2, 0);
	pv_fault(v, &e);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert_uint_eq(v->regs.rip, 0x402000);
	fr = guest(VA_DATA + 8192 - 56); /* no error code */
	ck_assert_uint_eq(fr[2], 0x400502);
	ck_assert_uint_eq(d->shinfo->vcpu_info[0].evtchn_upcall_mask, 0);
	/* The same as the #UD a PVM host raises for it: the instruction decides. */
	memcpy(guest(0x400500), "\xcd\x80", 2);
	e = fault_at(6, 0, 0);
	pv_fault(v, &e);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert_uint_eq(v->regs.rip, 0x402000);
	ck_assert_uint_eq(fr[2], 0x400502);

	/* A stack it cannot write: the domain is crashed, nothing else. */
	e = fault_at(14, 0x4, 0x10);
	e.frame[3] = VA_RO + 64;
	pv_fault(v, &e);
	ck_assert_int_eq(d->state, DOM_SHUTDOWN);
	ck_assert_uint_eq(d->shutdown_reason, SHUTDOWN_crash);
}
END_TEST

START_TEST(unhandled_exceptions_still_crash)
{
	struct hv_exit e;

	/* int $0x80 whose entry only the kernel may raise (DPL 0) is a #GP: none handles it. */
	v->trap_addr[0x80] = 0x402000, v->trap_flags[0x80] = 0;
	e = fault_at(13, (0x80 << 3) | 2, 0);
	pv_fault(v, &e);
	ck_assert_int_eq(d->state, DOM_SHUTDOWN);
	ck_assert_uint_eq(d->shutdown_reason, SHUTDOWN_crash);
}
END_TEST

/* A vm_assist change that takes the engine's fast iret away kicks every vCPU in guest code. */
static unsigned kicks[2];

static void count_kick(struct hv_vcpu *x)
{
	kicks[x->id]++;
}

START_TEST(vm_assist_iopl_kicks_running_vcpus)
{
	struct hv_vcpu *w = d->vcpus[1];

	hvh_engine.vcpu_kick = count_kick;
	kicks[0] = kicks[1] = 0;
	v->thread_started = w->thread_started = true;
	w->state = VCPU_RUNNABLE;
	atomic_store(&w->in_guest, true); /* vCPU 1 runs guest code, granted the fast iret */
	ck_assert(pv_iret_engine_may(w));
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_architectural_iopl, 0), 0);
	ck_assert(!pv_iret_engine_may(w));
	ck_assert_uint_eq(kicks[1], 1); /* kicked out before the hypercall returned */
	ck_assert_uint_eq(kicks[0], 0); /* the caller is not in guest code */
	/* No change to that bit, or another bit: nobody is kicked. */
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_architectural_iopl, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_m2p_strict, 0),
			 0);
	ck_assert_uint_eq(kicks[1], 1);
	/* Disabled: the fast path may come back; the change is seen at the next run. */
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vm_assist, VMASST_CMD_disable, VMASST_TYPE_architectural_iopl, 0), 0);
	ck_assert_uint_eq(kicks[1], 2);
	ck_assert(pv_iret_engine_may(w));
	/* A vCPU not in guest code reads the value when it goes in: not kicked. */
	atomic_store(&w->in_guest, false);
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_architectural_iopl, 0), 0);
	ck_assert_uint_eq(kicks[1], 2);
	ck_assert_uint_eq(d->vm_assist, (1ULL << VMASST_TYPE_architectural_iopl) |
					    (1ULL << VMASST_TYPE_m2p_strict));
	v->thread_started = w->thread_started = false;
}
END_TEST

START_TEST(vm_assist_types)
{
	struct vcpu_runstate_info *area = guest(VA_DATA + 4096);
	struct vcpu_register_runstate_memory_area *ra = guest(VA_DATA);

	/* writable_pagetables: Xen's ptwr emulation (pv_emul.c), as Linux asks for it. */
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_writable_pagetables, 0), 0);
	ck_assert_uint_eq(d->vm_assist, 1ULL << VMASST_TYPE_writable_pagetables);
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vm_assist, VMASST_CMD_disable, VMASST_TYPE_writable_pagetables, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 31, 0), -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 64, 0), -XEN_EINVAL);
	ck_assert_int_eq(hc(__HYPERVISOR_vm_assist, 7, VMASST_TYPE_m2p_strict, 0), -XEN_ENOSYS);
	ck_assert_uint_eq(d->vm_assist, 0);
	ck_assert_int_eq(hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_m2p_strict, 0),
			 0);
	ck_assert_int_eq(
	    hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag, 0), 0);
	ck_assert_uint_eq(d->vm_assist, (1ULL << VMASST_TYPE_m2p_strict) |
					    (1ULL << VMASST_TYPE_runstate_update_flag));
	ck_assert_int_eq(hc(__HYPERVISOR_vm_assist, VMASST_CMD_disable, VMASST_TYPE_m2p_strict, 0),
			 0);
	ck_assert_uint_eq(d->vm_assist, 1ULL << VMASST_TYPE_runstate_update_flag);

	/* With the flag: the published copy ends whole, the flag off. */
	ra->addr.v = (void *)(uintptr_t)(VA_DATA + 4096);
	ck_assert_int_eq(hc(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, VA_DATA),
			 0);
	pthread_mutex_lock(&d->lock);
	runstate_set(v, RUNSTATE_running);
	pthread_mutex_unlock(&d->lock);
	runstate_publish(v);
	ck_assert_int_eq(area->state, RUNSTATE_running);
	ck_assert_uint_eq(area->state_entry_time & XEN_RUNSTATE_UPDATE, 0);
	ck_assert_uint_ne(area->state_entry_time, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hypercall");
	TCase *tc = tcase_create("args");

	tcase_add_checked_fixture(tc, setup, hvh_teardown);
	tcase_add_test(tc, unknown_hypercall_is_enosys);
	tcase_add_test(tc, xen_version_checks_pointers);
	tcase_add_test(tc, debugregs_as_xen);
	tcase_add_test(tc, console_io_checks_buffer);
	tcase_add_test(tc, copy_range_never_wraps);
	tcase_add_test(tc, console_io_flood_is_limited);
	tcase_add_test(tc, console_io_rate_counts_bytes);
	tcase_add_test(tc, console_log_rotates_at_its_cap);
	tcase_add_test(tc, sched_shutdown_checks_reason);
	tcase_add_test(tc, sched_poll_limits_ports);
	tcase_add_test(tc, vcpu_op_checks_ids_and_state);
	tcase_add_test(tc, multicall_iret_returns_and_stops);
	tcase_add_test(tc, narrow_arguments_truncated);
	tcase_add_test(tc, vcpu_down_of_the_last_powers_off);
	tcase_add_test(tc, vcpu_time_area_follows_the_record);
	tcase_add_test(tc, timer_edges);
	tcase_add_test(tc, sched_poll_order);
	tcase_add_test(tc, runstate_area_checks_and_writes);
	tcase_add_test(tc, update_va_mapping_checks_frame_and_va);
	tcase_add_test(tc, memory_op_only_for_self);
	tcase_add_test(tc, callback_op_checks_type);
	tcase_add_test(tc, hypercall_page_stubs);
	tcase_add_test(tc, process_hypercall_page_stubs);
	tcase_add_test(tc, multicall_writes_every_result);
	tcase_add_test(tc, unimplemented_calls_are_logged_once);
	tcase_add_test(tc, periodic_timer_checks_period_and_vcpu);
	tcase_add_test(tc, runstate_counts_and_publishes);
	tcase_add_test(tc, watchdog_slots_and_ids);
	tcase_add_test(tc, remote_shutdown_is_refused_to_guests);
	tcase_add_test(tc, sched_suspend_then_resume);
	tcase_add_test(tc, sched_shutdown_code_latches);
	tcase_add_test(tc, maximum_gpfn_from_shared_info);
	tcase_add_test(tc, register_vcpu_info_moves_it);
	tcase_add_test(tc, set_trap_table_reads_whole_list);
	tcase_add_test(tc, exceptions_bounce_to_the_trap_table);
	tcase_add_test(tc, unhandled_exceptions_still_crash);
	tcase_add_test(tc, vm_assist_types);
	tcase_add_test(tc, vm_assist_iopl_kicks_running_vcpus);
	tcase_add_test(tc, xen_version_every_subop);
	tcase_add_test(tc, physdev_op_as_xen_answers_a_domu);
	tcase_add_test(tc, physdev_op_compat_as_physdev_op);
	tcase_add_test(tc, set_segment_base_cases);
	tcase_add_test(tc, iret_flags_cases);
	tcase_add_test(tc, iret_bad_selectors_go_to_failsafe);
	suite_add_tcase(s, tc);

	TCase *ev = tcase_create("evtchn");
	tcase_add_checked_fixture(ev, setup, hvh_teardown);
	tcase_add_test(ev, evtchn_bad_ports_refused);
	tcase_add_test(ev, evtchn_bind_checks);
	tcase_add_test(ev, evtchn_bind_vcpu_moves_global_virqs_only);
	tcase_add_test(ev, evtchn_loopback_delivers);
	suite_add_tcase(s, ev);

	TCase *gt = tcase_create("gnttab");
	tcase_add_checked_fixture(gt, setup, hvh_teardown);
	tcase_add_test(gt, gnttab_setup_checks);
	tcase_add_test(gt, gnttab_dom0_map_checks_entries);
	tcase_add_test(gt, gnttab_dom0_map_limit_keeps_flags);
	tcase_add_test(gt, gnttab_copy_checks);
	suite_add_tcase(s, gt);
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
