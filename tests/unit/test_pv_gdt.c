// SPDX-License-Identifier: MIT
/*
 * Check suite: a PV guest's GDT as Xen 4.17 keeps it (hypervisor/pv_desc.c,
 * mmu.c's segment-descriptor page type), from a hostile two-vCPU guest with
 * the fake engine behind it.  set_gdt holds its frames with the seg-desc
 * type (fixing each descriptor's DPL up as Xen's check_descriptor) and
 * releases the old ones; update_descriptor checks and writes one entry.
 * Hostile calls (frames outside the domain, a page table, a frame mapped
 * writable, too many entries, an unreadable list, call gates to Xen's
 * selectors, system descriptors, a misaligned or page-table address) get
 * Xen's error with nothing changed and no frame left held (hvh_teardown
 * fails a case that leaves one).  VCPUOP_initialise contexts carry
 * gdt_frames/gdt_ents and vcpu_get_context gives them back (save/restore).
 * The LDT (pv_ldt.c) the same way: MMUEXT_SET_LDT and contexts with Xen's
 * argument checks, its frames resolved through the vCPU's page tables and
 * held as seg-desc pages until the LDT changes or the domain ends; pages
 * Xen would refuse at its fault (writable, a page table, not mapped, a bad
 * descriptor) leave the LDT recorded and nothing held.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/xen.h>
#include <xen/vcpu.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/hypercall.h"
#include "../../hypervisor/mmu.h"
#include "../../hypervisor/kvm/kvm.h"
#include "hv_harness.h"

#define FRAMES 512ULL
#define L4 0x1000ULL
#define L3 0x2000ULL
#define L2 0x3000ULL
#define L1 0x4000ULL
#define DATA 0x10000ULL /* mapped writable at VA_DATA.. (16 pages) */
#define GDT0 0x30000ULL /* not mapped */
#define GDT1 0x31000ULL
#define GDT2 0x32000ULL /* mapped read-only at VA_RO */
#define VA_DATA 0x400000ULL
#define VA_RO (VA_DATA + 0x20000ULL)
#define ARGS (VA_DATA + 0x3000ULL)
#define CTXVA (VA_DATA + 0x4000ULL)
#define RW 7ULL
#define RO 5ULL

/* Descriptors. */
#define CODE64_DPL0 0x00af9a000000ffffULL
#define CODE64_DPL3 0x00affa000000ffffULL
#define DATA_DPL0 0x00cf92000000ffffULL
#define DATA_DPL3 0x00cff2000000ffffULL
#define TSS64 0x0000890000000067ULL	/* available 64-bit TSS: a system descriptor */
#define LDT_DESC 0x0000820000000fffULL	/* an LDT descriptor */
#define INTR_GATE 0x00008e0000e03000ULL /* 64-bit interrupt gate */
#define GATE(sel, dpl) (0x00008c0000001000ULL | ((uint64_t)(sel) << 16) | ((uint64_t)(dpl) << 45))

static struct hv_domain *d;
static struct hv_vcpu *v0, *v1;
static unsigned gdt_changed_calls;

static int nop_baseptr(struct hv_vcpu *x)
{
	return 0;
}

static int nop_ptes(struct hv_vcpu *x, const struct hv_va_range *r, unsigned n)
{
	return 0;
}

static int nop_sync(struct hv_vcpu *x)
{
	return 0;
}

static void count_gdt(struct hv_vcpu *x)
{
	gdt_changed_calls++;
}

static unsigned ldt_changed_calls[2];

static void count_ldt(struct hv_vcpu *x)
{
	ldt_changed_calls[x->id & 1]++;
}

static void *kmem(uint64_t va)
{
	return mem_gpa(&d->mem, DATA + (va - VA_DATA), 1);
}

static void setup(void)
{
	static const struct hv_engine hooks = {
		.new_baseptr = nop_baseptr,
		.ptes_changed = nop_ptes,
		.sync_mappings = nop_sync,
		.gdt_changed = count_gdt,
		.ldt_changed = count_ldt,
		.guest_gdt = true,
		.guest_ldt = true,
	};

	d = hvh_setup(&(struct hvh_spec){ .domid = 12,
					  .vcpus = 2,
					  .frames = FRAMES,
					  .shinfo_gpa = SV_SHARED_INFO_GPA,
					  .domain_table = true,
					  .hooks = &hooks });
	hvh_pt(L4)[0] = L3 | RW;
	hvh_pt(L3)[0] = L2 | RW;
	hvh_pt(L2)[2] = L1 | RW;
	for (int i = 0; i < 16; i++)
		hvh_pt(L1)[i] = (DATA + i * 4096ULL) | RW;
	hvh_pt(L1)[32] = GDT2 | RO;
	v0 = d->vcpus[0];
	v1 = d->vcpus[1];
	v0->state = VCPU_RUNNABLE;
	v0->ran = true;
	v0->cr3 = L4;
	v0->has_context = true;
	ck_assert_int_eq(mmu_vcpu_context(v0, L4), 0);
	gdt_changed_calls = 0;
	memset(ldt_changed_calls, 0, sizeof(ldt_changed_calls));
	/* A GDT as Linux's: null, kernel code and data (DPL 0, as a native kernel writes them). */
	for (uint64_t g = GDT0; g <= GDT2; g += 0x1000) {
		hvh_pt(g)[1] = CODE64_DPL0;
		hvh_pt(g)[2] = DATA_DPL0;
		hvh_pt(g)[6] = CODE64_DPL3;
	}
}

static long hc(struct hv_vcpu *v, uint64_t nr, uint64_t a0, uint64_t a1)
{
	return hvh_hypercall(v, nr, a0, a1, 0, 0);
}

static long set_gdt(struct hv_vcpu *v, const uint64_t *frames, unsigned n, unsigned entries)
{
	memcpy(kmem(ARGS), frames, n * sizeof(frames[0]));
	return hc(v, __HYPERVISOR_set_gdt, ARGS, entries);
}

static struct mmu_frame info(uint64_t gpa)
{
	struct mmu_frame f;

	ck_assert(mmu_frame_info(d, gpa, &f));
	return f;
}

static void assert_free(uint64_t gpa)
{
	struct mmu_frame f = info(gpa);

	ck_assert_uint_eq(f.refs, 0);
	ck_assert_uint_eq(f.type_count, 0);
}

START_TEST(set_gdt_holds_fixes_up_and_releases)
{
	uint64_t fr[2] = { GDT0 >> 12, GDT1 >> 12 };
	struct mmu_frame f;

	ck_assert_int_eq(set_gdt(v0, fr, 1, 16), 0);
	ck_assert_uint_eq(v0->gdt_ents, 16);
	ck_assert_uint_eq(v0->gdt_frames[0], GDT0 >> 12);
	f = info(GDT0);
	ck_assert_uint_eq(f.type, MMU_T_SEG_DESC);
	ck_assert_uint_eq(f.refs, 1);
	ck_assert_uint_eq(f.type_count, 1);
	ck_assert_uint_eq(mmu_held(d), 1);
	/* DPL 0 becomes 3 (the guest kernel is in ring 3), as Xen's check_descriptor. */
	ck_assert_uint_eq(hvh_pt(GDT0)[1], CODE64_DPL3);
	ck_assert_uint_eq(hvh_pt(GDT0)[2], DATA_DPL3);
	ck_assert_uint_eq(gdt_changed_calls, 1);
	/* Two frames (entries past 512); the old GDT's frame goes back. */
	ck_assert_int_eq(set_gdt(v0, fr + 1, 1, 500), 0);
	ck_assert_uint_eq(v0->gdt_ents, 500);
	ck_assert_uint_eq(v0->gdt_frames[0], GDT1 >> 12);
	assert_free(GDT0);
	/* A GDT frame mapped read-only is fine (Linux maps its GDT so). */
	fr[0] = GDT2 >> 12;
	ck_assert_int_eq(set_gdt(v0, fr, 1, 512), 0);
	ck_assert_uint_eq(info(GDT2).refs, 2); /* the mapping's and the GDT's */
	assert_free(GDT1);
	/* No entries: no frames. */
	ck_assert_int_eq(set_gdt(v0, fr, 0, 0), 0);
	ck_assert_uint_eq(v0->gdt_ents, 0);
	ck_assert_uint_eq(info(GDT2).refs, 1);
	ck_assert_uint_eq(mmu_held(d), 0);
}
END_TEST

START_TEST(set_gdt_two_frames_and_the_same_twice)
{
	uint64_t fr[2] = { GDT0 >> 12, GDT1 >> 12 };

	ck_assert_int_eq(set_gdt(v0, fr, 2, 1024), 0);
	ck_assert_uint_eq(mmu_held(d), 2);
	ck_assert_uint_eq(info(GDT1).type, MMU_T_SEG_DESC);
	/* The same frame twice: Xen takes it twice (two references), so do we. */
	fr[1] = GDT0 >> 12;
	ck_assert_int_eq(set_gdt(v0, fr, 2, 1000), 0);
	ck_assert_uint_eq(info(GDT0).refs, 2);
	ck_assert_uint_eq(info(GDT0).type_count, 2);
	assert_free(GDT1);
	/* The domain's end releases the vCPU's GDT (hvh_teardown checks none is held). */
}
END_TEST

START_TEST(set_gdt_hostile_frames)
{
	uint64_t good = GDT0 >> 12, fr[2];

	ck_assert_int_eq(set_gdt(v0, &good, 1, 16), 0);
	uint64_t bad[] = {
		(FRAMES + 64) * 4096ULL >> 12, /* past the domain's RAM */
		0xfffffffffffULL,	       /* no memory there */
		~0ULL,			       /* no frame at all */
		L1 >> 12,		       /* a page table */
		L4 >> 12,		       /* the vCPU's root table */
		DATA >> 12,		       /* mapped writable */
		SV_SHARED_INFO_GPA >> 12,      /* not the guest's RAM */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fr[0] = bad[i];
		ck_assert_msg(set_gdt(v0, fr, 1, 16) == -XEN_EINVAL, "frame %u", i);
		/* Second of two: the first one taken goes back. */
		fr[0] = GDT1 >> 12;
		fr[1] = bad[i];
		ck_assert_msg(set_gdt(v0, fr, 2, 1024) == -XEN_EINVAL, "frame %u second", i);
		assert_free(GDT1);
		ck_assert_uint_eq(v0->gdt_ents, 16);
		ck_assert_uint_eq(v0->gdt_frames[0], GDT0 >> 12);
		ck_assert_uint_eq(info(GDT0).refs, 1);
	}
	/* Too many entries (Xen's reserved area starts at FIRST_RESERVED_GDT_ENTRY). */
	ck_assert_int_eq(set_gdt(v0, &good, 1, FIRST_RESERVED_GDT_ENTRY + 1), -XEN_EINVAL);
	ck_assert_int_eq(set_gdt(v0, &good, 1, 0xffffffffu), -XEN_EINVAL);
	/* A list the guest cannot read. */
	ck_assert_int_eq(hc(v0, __HYPERVISOR_set_gdt, 0xffff900000000000ULL, 16), -XEN_EFAULT);
	ck_assert_int_eq(hc(v0, __HYPERVISOR_set_gdt, VA_DATA + 16 * 4096 - 8, 1024), -XEN_EFAULT);
	ck_assert_uint_eq(v0->gdt_ents, 16);
	ck_assert_uint_eq(mmu_held(d), 1);
}
END_TEST

START_TEST(seg_desc_frames_and_other_types_exclude_each_other)
{
	uint64_t fr = GDT0 >> 12;
	struct mmu_update u;
	struct mmuext_op op = { .cmd = MMUEXT_PIN_L1_TABLE, .arg1.mfn = GDT0 >> 12 };

	ck_assert_int_eq(set_gdt(v0, &fr, 1, 16), 0);
	/* A GDT frame cannot be mapped writable, nor pinned as a page table. */
	u.ptr = L1 + 40 * 8;
	u.val = GDT0 | RW;
	memcpy(kmem(ARGS), &u, sizeof(u));
	ck_assert_int_ne(hvh_hypercall(v0, __HYPERVISOR_mmu_update, ARGS, 1, 0, DOMID_SELF), 0);
	ck_assert_uint_eq(hvh_pt(L1)[40], 0);
	memcpy(kmem(ARGS), &op, sizeof(op));
	ck_assert_int_eq(hvh_hypercall(v0, __HYPERVISOR_mmuext_op, ARGS, 1, 0, DOMID_SELF),
			 -XEN_EINVAL);
	/* Read-only is fine. */
	u.val = GDT0 | RO;
	memcpy(kmem(ARGS), &u, sizeof(u));
	ck_assert_int_eq(hvh_hypercall(v0, __HYPERVISOR_mmu_update, ARGS, 1, 0, DOMID_SELF), 0);
	ck_assert_uint_eq(info(GDT0).type, MMU_T_SEG_DESC);
	/* Released, the frame may be writable again. */
	ck_assert_int_eq(set_gdt(v0, &fr, 0, 0), 0);
	u.val = GDT0 | RW;
	memcpy(kmem(ARGS), &u, sizeof(u));
	ck_assert_int_eq(hvh_hypercall(v0, __HYPERVISOR_mmu_update, ARGS, 1, 0, DOMID_SELF), 0);
	ck_assert_uint_eq(info(GDT0).type, MMU_T_WRITABLE);
	ck_assert_int_eq(set_gdt(v0, &fr, 1, 16), -XEN_EINVAL);
	ck_assert_uint_eq(v0->gdt_ents, 0);
}
END_TEST

START_TEST(set_gdt_bad_descriptors)
{
	uint64_t fr = GDT0 >> 12;
	const uint64_t bad[] = {
		GATE(0xe008, 3), /* call gate to Xen's ring-0 code */
		GATE(0xe010, 0), /* to a reserved data selector */
		TSS64,		 /* system descriptors */
		LDT_DESC,
		INTR_GATE,
		GATE(FLAT_KERNEL_CS, 3) | 0x1ULL << 32, /* reserved bits of a gate */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hvh_pt(GDT0)[1] = CODE64_DPL0;
		hvh_pt(GDT0)[9] = bad[i];
		ck_assert_msg(set_gdt(v0, &fr, 1, 16) == -XEN_EINVAL, "descriptor %u", i);
		assert_free(GDT0);
		ck_assert_uint_eq(v0->gdt_ents, 0);
		/* Nothing in the frame changed (no DPL fixed up either). */
		ck_assert_uint_eq(hvh_pt(GDT0)[1], CODE64_DPL0);
		ck_assert_uint_eq(hvh_pt(GDT0)[9], bad[i]);
	}
	/* Not present: anything goes; a gate to the guest's own code: DPL 0, RPL the old DPL. */
	hvh_pt(GDT0)[9] = TSS64 & ~(1ULL << 47);
	hvh_pt(GDT0)[10] = GATE(FLAT_KERNEL_CS, 3);
	hvh_pt(GDT0)[11] = 0; /* its upper half */
	hvh_pt(GDT0)[12] = GATE(0x10, 0);
	hvh_pt(GDT0)[14] = GATE(0x0c, 3); /* an LDT selector */
	ck_assert_int_eq(set_gdt(v0, &fr, 1, 16), 0);
	ck_assert_uint_eq(hvh_pt(GDT0)[10], GATE(FLAT_KERNEL_CS, 0));
	ck_assert_uint_eq(hvh_pt(GDT0)[12], GATE(0x13, 0));
	ck_assert_uint_eq(hvh_pt(GDT0)[14], GATE(0x0f, 0));
	ck_assert_uint_eq(hvh_pt(GDT0)[9], TSS64 & ~(1ULL << 47));
}
END_TEST

START_TEST(update_descriptor_rules)
{
	uint64_t fr = GDT0 >> 12;

	ck_assert_int_eq(set_gdt(v0, &fr, 1, 16), 0);
	gdt_changed_calls = 0;
	/* Into the GDT: checked, fixed up, written. */
	ck_assert_int_eq(hc(v0, __HYPERVISOR_update_descriptor, GDT0 + 3 * 8, DATA_DPL0), 0);
	ck_assert_uint_eq(hvh_pt(GDT0)[3], DATA_DPL3);
	ck_assert_uint_eq(gdt_changed_calls, 1);
	/* Into a frame that may be writable (Linux's LDT pages before SET_LDT). */
	ck_assert_int_eq(hc(v0, __HYPERVISOR_update_descriptor, DATA + 0x800, CODE64_DPL0), 0);
	ck_assert_uint_eq(*(uint64_t *)kmem(VA_DATA + 0x800), CODE64_DPL3);
	ck_assert_int_eq(hc(v0, __HYPERVISOR_update_descriptor, GDT1 + 8, CODE64_DPL3), 0);
	assert_free(GDT1);
	ck_assert_uint_eq(gdt_changed_calls, 1); /* neither is a GDT frame of a vCPU */
	/* Hostile: misaligned, bad descriptors, a page table, not the guest's RAM. */
	const struct {
		uint64_t ma, desc;
	} bad[] = {
		{ GDT0 + 4, DATA_DPL3 },
		{ GDT0 + 3 * 8 + 1, DATA_DPL3 },
		{ GDT0 + 3 * 8, GATE(0xe008, 3) },
		{ GDT0 + 3 * 8, TSS64 },
		{ GDT0 + 3 * 8, INTR_GATE },
		{ L1 + 8, DATA_DPL3 },
		{ L4 + 8, DATA_DPL3 },
		{ (FRAMES + 64) * 4096ULL, DATA_DPL3 },
		{ SV_SHARED_INFO_GPA, DATA_DPL3 },
		{ ~7ULL, DATA_DPL3 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t l1 = hvh_pt(L1)[1], l4 = hvh_pt(L4)[1];
		ck_assert_msg(hc(v0, __HYPERVISOR_update_descriptor, bad[i].ma, bad[i].desc) ==
				  -XEN_EINVAL,
			      "case %u", i);
		ck_assert_uint_eq(hvh_pt(GDT0)[3], DATA_DPL3);
		ck_assert_uint_eq(hvh_pt(L1)[1], l1);
		ck_assert_uint_eq(hvh_pt(L4)[1], l4);
	}
	ck_assert_uint_eq(info(GDT0).refs, 1);
	ck_assert_uint_eq(info(GDT0).type_count, 1);
	ck_assert_uint_eq(info(L1).type, MMU_T_L1);
	ck_assert_uint_eq(gdt_changed_calls, 1);
}
END_TEST

START_TEST(in_a_multicall)
{
	uint64_t fr = GDT0 >> 12;
	struct multicall_entry mc[2] = {
		{ .op = __HYPERVISOR_update_descriptor, .args = { GDT0 + 8 * 5, DATA_DPL3 } },
		{ .op = __HYPERVISOR_update_descriptor, .args = { L1, DATA_DPL3 } },
	};

	ck_assert_int_eq(set_gdt(v0, &fr, 1, 16), 0);
	memcpy(kmem(ARGS + 0x100), mc, sizeof(mc));
	ck_assert_int_eq(hc(v0, __HYPERVISOR_multicall, ARGS + 0x100, 2), 0);
	memcpy(mc, kmem(ARGS + 0x100), sizeof(mc));
	ck_assert_int_eq((long)mc[0].result, 0);
	ck_assert_int_eq((long)mc[1].result, -XEN_EINVAL);
	ck_assert_uint_eq(hvh_pt(GDT0)[5], DATA_DPL3);
}
END_TEST

static void context(struct vcpu_guest_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->flags = VGCF_in_kernel | VGCF_online;
	ctx->user_regs.rip = 0x400100;
	ctx->user_regs.rsp = VA_DATA + 0x8000;
	ctx->user_regs.cs = FLAT_KERNEL_CS;
	ctx->user_regs.ss = FLAT_KERNEL_SS;
	ctx->kernel_ss = FLAT_KERNEL_SS;
	ctx->kernel_sp = VA_DATA + 0x8000;
	ctx->ctrlreg[3] = xen_pfn_to_cr3(L4 >> 12);
	ctx->gdt_frames[0] = GDT1 >> 12;
	ctx->gdt_ents = 14;
}

static long vcpu_init(const struct vcpu_guest_context *ctx)
{
	memcpy(kmem(CTXVA), ctx, sizeof(*ctx));
	return hvh_hypercall(v0, __HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, CTXVA, 0);
}

START_TEST(contexts_carry_the_gdt)
{
	struct vcpu_guest_context ctx, got;

	/* Hostile contexts first: nothing held, no context. */
	context(&ctx);
	ctx.gdt_ents = FIRST_RESERVED_GDT_ENTRY + 1;
	ck_assert_int_eq(vcpu_init(&ctx), -XEN_EINVAL);
	context(&ctx);
	ctx.gdt_frames[0] = L1 >> 12;
	ck_assert_int_eq(vcpu_init(&ctx), -XEN_EINVAL);
	context(&ctx);
	ctx.gdt_ents = 600;
	ctx.gdt_frames[1] = DATA >> 12; /* writable: the first frame goes back */
	ck_assert_int_eq(vcpu_init(&ctx), -XEN_EINVAL);
	context(&ctx);
	ctx.ctrlreg[3] = xen_pfn_to_cr3(DATA >> 12); /* tables that do not validate */
	ck_assert_int_eq(vcpu_init(&ctx), -XEN_EINVAL);
	ck_assert(!v1->has_context);
	assert_free(GDT1);
	ck_assert_uint_eq(mmu_held(d), 0);
	/* A good one: vCPU 1 holds its GDT, and gives it back in its context. */
	context(&ctx);
	ck_assert_int_eq(vcpu_init(&ctx), 0);
	ck_assert_uint_eq(v1->gdt_ents, 14);
	ck_assert_uint_eq(info(GDT1).type, MMU_T_SEG_DESC);
	ck_assert_uint_eq(hvh_pt(GDT1)[1], CODE64_DPL3);
	vcpu_get_context(v1, &got);
	ck_assert_uint_eq(got.gdt_ents, 14);
	ck_assert_uint_eq(got.gdt_frames[0], GDT1 >> 12);
	ck_assert_uint_eq(got.gdt_frames[1], 0);
	/* vCPU 0's set_gdt leaves vCPU 1's alone; both are released at the end. */
	uint64_t fr = GDT1 >> 12;
	ck_assert_int_eq(set_gdt(v0, &fr, 1, 16), 0);
	ck_assert_uint_eq(info(GDT1).type_count, 2);
	vcpu_get_context(v0, &got);
	ck_assert_uint_eq(got.gdt_ents, 16);
	ck_assert_uint_eq(mmu_held(d), 2);
}
END_TEST

/*
 * The KVM engine's per-vCPU GDT (no /dev/kvm here: its fill is checked on its own): the
 * guest's descriptors below FIRST_RESERVED_GDT_ENTRY, zero past gdt_ents, the reserved
 * entries (the hypervisor's CS/DS/TSS and Xen's FLAT_RING3_*) left as they are.
 */
START_TEST(kvm_gdt_takes_the_guests_descriptors)
{
	uint64_t fr[2] = { GDT0 >> 12, GDT1 >> 12 };
	uint64_t *gdt = malloc(16 * 4096);
	const unsigned rsv[] = { 0xe008 >> 3, 0xe010 >> 3, 0xe040 >> 3, FLAT_RING3_CS64 >> 3 };

	ck_assert_ptr_nonnull(gdt);
	memset(gdt, 0xa5, 16 * 4096);
	for (unsigned i = 0; i < 4; i++)
		gdt[rsv[i]] = 0x1111ULL * (i + 1);
	hvh_pt(GDT1)[2] = DATA_DPL3;
	hvh_pt(GDT0)[600 - 512] = CODE64_DPL3; /* past ents in GDT1: not copied */
	hvh_pt(GDT1)[600 - 512] = CODE64_DPL3;
	ck_assert_int_eq(set_gdt(v0, fr, 2, 600), 0);
	kvm_pv_gdt_fill(gdt, &d->mem, v0->gdt_frames, v0->gdt_ents);
	ck_assert_uint_eq(gdt[0], 0);
	ck_assert_uint_eq(gdt[1], CODE64_DPL3); /* fixed up in the frame, then copied */
	ck_assert_uint_eq(gdt[6], CODE64_DPL3);
	ck_assert_uint_eq(gdt[512 + 2], DATA_DPL3);
	ck_assert_uint_eq(gdt[600], 0);
	ck_assert_uint_eq(gdt[FIRST_RESERVED_GDT_ENTRY - 1], 0);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(gdt[rsv[i]], 0x1111ULL * (i + 1));
	/* An update_descriptor reaches the engine (gdt_changed) and the next fill. */
	gdt_changed_calls = 0;
	ck_assert_int_eq(hc(v0, __HYPERVISOR_update_descriptor, GDT1 + 8 * 3, DATA_DPL0), 0);
	ck_assert_uint_eq(gdt_changed_calls, 1);
	kvm_pv_gdt_fill(gdt, &d->mem, v0->gdt_frames, v0->gdt_ents);
	ck_assert_uint_eq(gdt[512 + 3], DATA_DPL3);
	/* No GDT: the guest part is empty again. */
	ck_assert_int_eq(set_gdt(v0, fr, 0, 0), 0);
	kvm_pv_gdt_fill(gdt, &d->mem, v0->gdt_frames, v0->gdt_ents);
	ck_assert_uint_eq(gdt[1], 0);
	ck_assert_uint_eq(gdt[rsv[0]], 0x1111ULL);
	free(gdt);
}
END_TEST

/*
 * The LDT (pv_ldt.c): MMUEXT_SET_LDT records it per vCPU with Xen's checks and its
 * frames are resolved at once (no engine faults on an LDT): each held as a seg-desc
 * page, validated and fixed up as a GDT frame, until the LDT changes or the domain ends.
 */
static long set_ldt(struct hv_vcpu *v, uint64_t va, uint64_t ents)
{
	struct mmuext_op op = { .cmd = MMUEXT_SET_LDT };

	op.arg1.linear_addr = va;
	op.arg2.nr_ents = (unsigned)ents;
	memcpy(kmem(ARGS + 0x200), &op, sizeof(op));
	return hvh_hypercall(v, __HYPERVISOR_mmuext_op, ARGS + 0x200, 1, 0, DOMID_SELF);
}

/* Map gpa at L1 slot `slot` (VA_DATA + slot * 4 KiB) with flags, through mmu_update. */
static void map(unsigned slot, uint64_t gpa, uint64_t flags)
{
	struct mmu_update u = { .ptr = L1 + slot * 8ULL, .val = gpa | flags };

	memcpy(kmem(ARGS + 0x300), &u, sizeof(u));
	ck_assert_int_eq(hvh_hypercall(v0, __HYPERVISOR_mmu_update, ARGS + 0x300, 1, 0, DOMID_SELF),
			 0);
}

static uint64_t ldt_ents(struct hv_vcpu *v)
{
	uint64_t base, ents;

	mmu_vcpu_ldt(d, v->id, &base, &ents);
	return ents;
}

START_TEST(set_ldt_records_resolves_and_releases)
{
	/* One page, mapped read-only (as Linux maps its LDT): held as a seg-desc page. */
	ck_assert_int_eq(set_ldt(v0, VA_RO, 3), 0);
	ck_assert_uint_eq(ldt_ents(v0), 3);
	ck_assert_uint_eq(v0->ldt_nframes, 1);
	ck_assert_uint_eq(v0->ldt_frames[0], GDT2 >> 12);
	ck_assert_uint_eq(info(GDT2).type, MMU_T_SEG_DESC);
	ck_assert_uint_eq(info(GDT2).refs, 2);		 /* the mapping's and the LDT's */
	ck_assert_uint_eq(hvh_pt(GDT2)[1], CODE64_DPL3); /* fixed up, as a GDT frame */
	ck_assert_uint_eq(mmu_held(d), 1);
	/* While it is the LDT, the frame cannot be mapped writable. */
	struct mmu_update u = { .ptr = L1 + 40 * 8ULL, .val = GDT2 | RW };
	memcpy(kmem(ARGS + 0x300), &u, sizeof(u));
	ck_assert_int_lt(hvh_hypercall(v0, __HYPERVISOR_mmu_update, ARGS + 0x300, 1, 0, DOMID_SELF),
			 0); /* mmu.c's error for a frame of another type */
	ck_assert_uint_eq(hvh_pt(L1)[40], 0);
	/* Two pages: 513 entries reach into the second (GDT0, mapped just after). */
	map(33, GDT0, RO);
	ck_assert_int_eq(set_ldt(v0, VA_RO, 513), 0);
	ck_assert_uint_eq(v0->ldt_nframes, 2);
	ck_assert_uint_eq(v0->ldt_frames[1], GDT0 >> 12);
	ck_assert_uint_eq(info(GDT0).type, MMU_T_SEG_DESC);
	ck_assert_uint_eq(info(GDT2).type_count, 1); /* the old LDT's reference went */
	ck_assert_uint_eq(mmu_held(d), 2);
	/* vCPU 1's LDT is its own. */
	v1->cr3 = L4;
	ck_assert_int_eq(set_ldt(v1, VA_RO, 1), 0);
	ck_assert_uint_eq(info(GDT2).type_count, 2);
	ck_assert_uint_eq(ldt_ents(v0), 513);
	ck_assert_uint_eq(mmu_held(d), 3);
	/* No entries: no LDT, every frame back. */
	ck_assert_int_eq(set_ldt(v0, 0, 0), 0);
	ck_assert_uint_eq(ldt_ents(v0), 0);
	ck_assert_uint_eq(v0->ldt_nframes, 0);
	ck_assert_uint_eq(info(GDT0).type_count, 0);
	ck_assert_uint_eq(mmu_held(d), 1);
	/* vCPU 1's goes back at the domain's end (hvh_teardown checks nothing is held). */
}
END_TEST

START_TEST(set_ldt_bad_args)
{
	ck_assert_int_eq(set_ldt(v0, VA_RO, 1), 0);
	ck_assert_int_eq(set_ldt(v0, VA_RO + 8, 1), -XEN_EINVAL);	      /* misaligned */
	ck_assert_int_eq(set_ldt(v0, 0x0000800000000000ULL, 1), -XEN_EINVAL); /* not canonical */
	ck_assert_int_eq(set_ldt(v0, VA_RO, 8193), -XEN_EINVAL);	      /* > 8192 */
	ck_assert_int_eq(set_ldt(v0, 0xffff800000000000ULL, 1), -XEN_EINVAL); /* Xen's range */
	/* Nothing changed: the LDT is the one before, still held. */
	ck_assert_uint_eq(ldt_ents(v0), 1);
	ck_assert_uint_eq(v0->ldt_nframes, 1);
	ck_assert_uint_eq(mmu_held(d), 1);
	/* 8192 entries is Xen's limit: accepted (16 pages, not all mapped: nothing held). */
	ck_assert_int_eq(set_ldt(v0, VA_RO, 8192), 0);
	ck_assert_uint_eq(ldt_ents(v0), 8192);
	ck_assert_uint_eq(v0->ldt_nframes, 0);
	ck_assert_uint_eq(mmu_held(d), 0);
}
END_TEST

/*
 * Pages Xen would refuse when it takes them (at the fault): SET_LDT itself succeeds, as
 * on Xen, the LDT is recorded, nothing is held and the frames keep their types; the
 * guest's LDT selectors then fault (#GP on our engines, which load no guest LDT).
 */
START_TEST(set_ldt_pages_that_do_not_resolve)
{
	/* Mapped writable (VA_DATA): the frame stays writable, not a descriptor page. */
	ck_assert_int_eq(set_ldt(v0, VA_DATA, 16), 0);
	ck_assert_uint_eq(ldt_ents(v0), 16);
	ck_assert_uint_eq(v0->ldt_nframes, 0);
	ck_assert_uint_eq(info(DATA).type, MMU_T_WRITABLE);
	ck_assert_int_eq(pv_ldt_resolve(v0, false), -XEN_EINVAL);
	/* A page table mapped read-only. */
	map(34, L1, RO);
	ck_assert_int_eq(set_ldt(v0, VA_DATA + 34 * 4096ULL, 16), 0);
	ck_assert_uint_eq(v0->ldt_nframes, 0);
	ck_assert_uint_eq(info(L1).type, MMU_T_L1);
	ck_assert_int_eq(pv_ldt_resolve(v0, false), -XEN_EINVAL);
	/* Not mapped. */
	ck_assert_int_eq(set_ldt(v0, VA_DATA + 48 * 4096ULL, 16), 0);
	ck_assert_int_eq(pv_ldt_resolve(v0, false), -XEN_EFAULT);
	/* A descriptor Xen refuses (a TSS): the page does not take the type. */
	hvh_pt(GDT0)[3] = TSS64;
	map(35, GDT0, RO);
	ck_assert_int_eq(set_ldt(v0, VA_DATA + 35 * 4096ULL, 4), 0);
	ck_assert_uint_eq(info(GDT0).type_count, 0);
	ck_assert_int_eq(pv_ldt_resolve(v0, false), -XEN_EINVAL);
	/* A good first page and a bad second one: all or none, the first goes back. */
	ck_assert_int_eq(set_ldt(v0, VA_RO, 600), 0); /* VA_RO + 4 KiB is not mapped */
	ck_assert_uint_eq(v0->ldt_nframes, 0);
	ck_assert_uint_eq(info(GDT2).type_count, 0);
	ck_assert_uint_eq(mmu_held(d), 0);
	/* Once the guest fixes its mapping, a resolve (Xen: the next fault) takes it. */
	map(33, GDT1, RO);
	ck_assert_int_eq(pv_ldt_resolve(v0, false), 0);
	ck_assert_uint_eq(v0->ldt_nframes, 2);
	ck_assert_uint_eq(mmu_held(d), 2);
}
END_TEST

/* In a batch: the SET_LDT holds even when a later op fails (Xen stops at the failure). */
START_TEST(set_ldt_in_a_failing_batch)
{
	struct mmuext_op ops[2] = { { .cmd = MMUEXT_SET_LDT }, { .cmd = MMUEXT_PIN_L4_TABLE } };

	ops[0].arg1.linear_addr = VA_RO;
	ops[0].arg2.nr_ents = 100;
	ops[1].arg1.mfn = DATA >> 12; /* writable: not a table */
	memcpy(kmem(ARGS + 0x200), ops, sizeof(ops));
	ck_assert_int_eq(hvh_hypercall(v0, __HYPERVISOR_mmuext_op, ARGS + 0x200, 2, 0, DOMID_SELF),
			 -XEN_EINVAL);
	ck_assert_uint_eq(ldt_ents(v0), 100);
	ck_assert_uint_eq(v0->ldt_nframes, 1);
	ck_assert_uint_eq(info(GDT2).type, MMU_T_SEG_DESC);
}
END_TEST

START_TEST(contexts_carry_the_ldt)
{
	struct vcpu_guest_context ctx, got;
	const struct {
		uint64_t base, ents;
	} bad[] = {
		{ VA_RO + 8, 1 },			  /* misaligned */
		{ VA_RO, 8193 },			  /* too many */
		{ 0x0000800000000000ULL, 1 },		  /* not canonical */
		{ 0xffff800000000000ULL, 1 },		  /* Xen's range */
		{ 0xffff800000000000ULL, 0 },		  /* Xen's range, even without entries */
		{ 0xffffffffffffffffULL, 0xffffffffULL }, /* nonsense */
	};

	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		context(&ctx);
		ctx.ldt_base = bad[k].base;
		ctx.ldt_ents = bad[k].ents;
		ck_assert_msg(vcpu_init(&ctx) == -XEN_EINVAL, "bad LDT %u", k);
		ck_assert(!v1->has_context);
		ck_assert_uint_eq(mmu_held(d), 0);
	}
	/* A good one: held, and given back by the context (save/restore carries it). */
	context(&ctx);
	ctx.ldt_base = VA_RO;
	ctx.ldt_ents = 512;
	ck_assert_int_eq(vcpu_init(&ctx), 0);
	ck_assert_uint_eq(v1->ldt_nframes, 1);
	ck_assert_uint_eq(info(GDT2).type, MMU_T_SEG_DESC);
	vcpu_get_context(v1, &got);
	ck_assert_uint_eq(got.ldt_base, VA_RO);
	ck_assert_uint_eq(got.ldt_ents, 512);
	ck_assert_uint_eq(mmu_held(d), 2); /* its GDT frame and its LDT frame */
	/* A context whose LDT is not mapped is set all the same, as on Xen. */
	v0->has_context = true;
	context(&ctx);
	ctx.ldt_base = VA_DATA + 48 * 4096ULL;
	ctx.ldt_ents = 1;
	ck_assert_int_eq(vcpu_set_context(v1, &ctx), 0);
	ck_assert_uint_eq(v1->ldt_nframes, 0);
	ck_assert_uint_eq(info(GDT2).type_count, 0);
	vcpu_get_context(v1, &got);
	ck_assert_uint_eq(got.ldt_ents, 1);
}
END_TEST

/*
 * The LDT copy both engines load (pv_ldt_snapshot; no /dev/kvm needed): the
 * engine hears of every change (SET_LDT, update_descriptor into an LDT frame, a context),
 * copies the guest's held descriptors up to the LDT's entries and nothing past them, and
 * loads nothing for an LDT that did not resolve or one that claims more than is held.
 */
START_TEST(engines_copy_the_guests_ldt)
{
	uint64_t *copy = malloc(PV_LDT_PAGES * 4096), desc;
	unsigned calls;

	ck_assert_ptr_nonnull(copy);
	memset(copy, 0xa5, PV_LDT_PAGES * 4096);
	ck_assert_int_eq(set_ldt(v0, VA_RO, 3), 0);
	ck_assert_uint_ge(ldt_changed_calls[0], 1);
	ck_assert_uint_eq(pv_ldt_snapshot(v0, copy), 3);
	ck_assert_uint_eq(copy[0], 0);
	ck_assert_uint_eq(copy[1], CODE64_DPL3); /* fixed up in the frame, then copied */
	ck_assert_uint_eq(copy[2], DATA_DPL3);
	ck_assert_uint_eq(copy[6], 0); /* in the frame, past the LDT's 3 entries */
	ck_assert_uint_eq(copy[8191], 0);
	/* update_descriptor into the LDT's frame: the engine hears of it (v0's, not v1's). */
	calls = ldt_changed_calls[0];
	ck_assert_int_eq(hc(v0, __HYPERVISOR_update_descriptor, GDT2 + 2 * 8, CODE64_DPL0), 0);
	ck_assert_uint_eq(ldt_changed_calls[0], calls + 1);
	ck_assert_uint_eq(ldt_changed_calls[1], 0);
	ck_assert_uint_eq(pv_ldt_snapshot(v0, copy), 3);
	ck_assert_uint_eq(copy[2], CODE64_DPL3);
	/* The core's view of the same descriptors (HYPERVISOR_iret's check). */
	ck_assert(pv_seg_desc(v0, 0x0f, &desc) && desc == CODE64_DPL3);
	ck_assert(!pv_seg_desc(v0, 0x1f, &desc)); /* entry 3: past the LDT */
	/* Two frames: entry 512 comes from the second. */
	map(33, GDT0, RO);
	ck_assert_int_eq(set_ldt(v0, VA_RO, 514), 0);
	ck_assert_uint_eq(pv_ldt_snapshot(v0, copy), 514);
	ck_assert_uint_eq(copy[512 + 1], CODE64_DPL3);
	ck_assert_uint_eq(copy[514], 0);
	/* Counts that do not add up (read while another thread changes them): nothing loaded. */
	v0->ldt_nframes = 1; /* 514 entries, one frame held */
	ck_assert_uint_eq(pv_ldt_snapshot(v0, copy), 0);
	ck_assert_uint_eq(copy[1], 0);
	v0->ldt_nframes = PV_GDT_FRAMES + 1;
	ck_assert_uint_eq(pv_ldt_snapshot(v0, copy), 0);
	v0->ldt_nframes = 2;
	/* An LDT that does not resolve (not mapped): set, but nothing loaded. */
	calls = ldt_changed_calls[0];
	ck_assert_int_eq(set_ldt(v0, VA_DATA + 48 * 4096ULL, 1), 0);
	ck_assert_uint_gt(ldt_changed_calls[0], calls);
	ck_assert_uint_eq(pv_ldt_snapshot(v0, copy), 0);
	ck_assert_uint_eq(copy[512 + 1], 0);
	ck_assert(!pv_seg_desc(v0, 0x07, &desc));
	/* A context's LDT reaches vCPU 1's copy; no LDT loads nothing. */
	struct vcpu_guest_context ctx;
	v1->cr3 = L4;
	context(&ctx);
	ctx.ldt_base = VA_RO;
	ctx.ldt_ents = 2;
	ck_assert_int_eq(vcpu_set_context(v1, &ctx), 0);
	ck_assert_uint_ge(ldt_changed_calls[1], 1);
	ck_assert_uint_eq(pv_ldt_snapshot(v1, copy), 2);
	ck_assert_uint_eq(copy[1], CODE64_DPL3);
	ck_assert_int_eq(set_ldt(v0, 0, 0), 0);
	ck_assert_uint_eq(pv_ldt_snapshot(v0, copy), 0);
	ck_assert_uint_eq(copy[1], 0);
	free(copy);
}
END_TEST

/* Linux returns to user mode on its own GDT's __USER_CS/__USER_DS: taken when flat 64-bit ring 3. */
START_TEST(iret_selectors_from_the_guest_gdt)
{
	uint64_t fr = GDT0 >> 12;

	hvh_pt(GDT0)[5] = DATA_DPL0;
	hvh_pt(GDT0)[4] = 0x00cffb000000ffffULL; /* 32-bit code, DPL 3 */
	hvh_pt(GDT0)[7] = 0x00af7b000000ffffULL; /* 64-bit code, not present */
	ck_assert(!pv_gdt_user_seg(v0, 0x33, true)); /* no GDT yet */
	ck_assert_int_eq(set_gdt(v0, &fr, 1, 16), 0);
	ck_assert(pv_gdt_user_seg(v0, 0x33, true));   /* Linux's __USER_CS */
	ck_assert(pv_gdt_user_seg(v0, 0x2b, false));  /* __USER_DS */
	ck_assert(pv_gdt_user_seg(v0, 0x0b, true));   /* kernel code, DPL raised to 3 */
	ck_assert(!pv_gdt_user_seg(v0, 0x33, false)); /* code as SS */
	ck_assert(!pv_gdt_user_seg(v0, 0x2b, true));  /* data as CS */
	ck_assert(!pv_gdt_user_seg(v0, 0x23, true));  /* compat mode */
	ck_assert(!pv_gdt_user_seg(v0, 0x3b, true));  /* not present */
	ck_assert(!pv_gdt_user_seg(v0, 0x30, true));  /* RPL 0 */
	ck_assert(!pv_gdt_user_seg(v0, 0x37, true));  /* LDT */
	ck_assert(!pv_gdt_user_seg(v0, 0x83, true));  /* past gdt_ents */
	ck_assert(!pv_gdt_user_seg(v0, 0x03, false)); /* the null descriptor */
	ck_assert(!pv_gdt_user_seg(v1, 0x33, true));  /* another vCPU's GDT */
	ck_assert_int_eq(set_gdt(v0, &fr, 0, 0), 0);
}
END_TEST


static Suite *suite(void)
{
	Suite *s = suite_create("pv_gdt");
	TCase *tc = tcase_create("pv_gdt");

	tcase_add_checked_fixture(tc, setup, hvh_teardown);
	tcase_add_test(tc, set_gdt_holds_fixes_up_and_releases);
	tcase_add_test(tc, set_gdt_two_frames_and_the_same_twice);
	tcase_add_test(tc, set_gdt_hostile_frames);
	tcase_add_test(tc, seg_desc_frames_and_other_types_exclude_each_other);
	tcase_add_test(tc, set_gdt_bad_descriptors);
	tcase_add_test(tc, update_descriptor_rules);
	tcase_add_test(tc, in_a_multicall);
	tcase_add_test(tc, contexts_carry_the_gdt);
	tcase_add_test(tc, kvm_gdt_takes_the_guests_descriptors);
	tcase_add_test(tc, set_ldt_records_resolves_and_releases);
	tcase_add_test(tc, set_ldt_bad_args);
	tcase_add_test(tc, set_ldt_pages_that_do_not_resolve);
	tcase_add_test(tc, set_ldt_in_a_failing_batch);
	tcase_add_test(tc, contexts_carry_the_ldt);
	tcase_add_test(tc, engines_copy_the_guests_ldt);
	tcase_add_test(tc, iret_selectors_from_the_guest_gdt);
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
