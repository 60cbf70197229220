// SPDX-License-Identifier: MIT
/*
 * Check suite: the PV callbacks per vCPU, as Xen 4.17 keeps them (hypervisor/pv_callback.c),
 * from a hostile two-vCPU guest with no engine behind it.  set_callbacks and callback_op change
 * the calling vCPU's only; VCPUOP_initialise gives a new vCPU its own (callbacks,
 * VGCF_*_disables_events, trap table, kernel stack); each vCPU's user-mode `syscall` enters its
 * own callback on its own kernel stack.  Hostile calls get Xen's error and change nothing: a
 * non-canonical callback, an unknown callback type, unregistering what Xen keeps, a context
 * with bad callbacks or a bad trap table or LDT.  A callback at a canonical address the guest
 * does not map is accepted, as Xen does (entering it is the guest's loss, no one else's).
 * vcpu_get_context gives back what a context set.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/xen.h>
#include <xen/callback.h>
#include <xen/vcpu.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/hypercall.h"
#include "../../hypervisor/mmu.h"
#include "hv_harness.h"

#define FRAMES 512ULL
#define L4 0x1000ULL
#define L3 0x2000ULL
#define L2 0x3000ULL
#define L1 0x4000ULL
#define UL4 0x5000ULL
#define UL3 0x6000ULL
#define UL2 0x7000ULL
#define UL1 0x8000ULL
#define DATA 0x10000ULL
#define UDATA 0x20000ULL
#define VA_DATA 0x400000ULL
#define VA_USER 0x800000ULL
#define KSTACK0 (VA_DATA + 0x8000ULL)
#define KSTACK1 (VA_DATA + 0xc000ULL)
#define USTACK (VA_USER + 0x3000ULL)
#define UCODE (VA_USER + 0x100ULL)
#define ARGS (VA_DATA + 0x3000ULL) /* where hypercall arguments go */
#define RW 7ULL
#define CB0 0x400a00ULL
#define CB1 0x400b00ULL
#define EVENT1 0x400c00ULL
#define FAILSAFE1 0x400d00ULL
#define PF1 0x400e00ULL
#define UNMAPPED 0xffff900000000000ULL /* canonical, in no table of the guest's */
#define NONCANON 0x0000800000000000ULL

static struct hv_domain *d;
static struct hv_vcpu *v0, *v1;

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
	};

	d = hvh_setup(&(struct hvh_spec){ .domid = 11,
					  .vcpus = 2,
					  .frames = FRAMES,
					  .shinfo_gpa = SV_SHARED_INFO_GPA,
					  .domain_table = true,
					  .hooks = &hooks });
	hvh_pt(L4)[0] = L3 | RW;
	hvh_pt(L3)[0] = L2 | RW;
	hvh_pt(L2)[2] = L1 | RW;
	hvh_pt(L2)[4] = UL1 | RW;
	for (int i = 0; i < 16; i++)
		hvh_pt(L1)[i] = (DATA + i * 4096ULL) | RW;
	hvh_pt(UL4)[0] = UL3 | RW;
	hvh_pt(UL3)[0] = UL2 | RW;
	hvh_pt(UL2)[4] = UL1 | RW;
	for (int i = 0; i < 4; i++)
		hvh_pt(UL1)[i] = (UDATA + i * 4096ULL) | RW;
	v0 = d->vcpus[0];
	v1 = d->vcpus[1];
	v0->state = VCPU_RUNNABLE;
	v0->ran = true;
	v0->cr3 = L4;
	v0->has_context = true;
	ck_assert_int_eq(mmu_vcpu_context(v0, L4), 0);
	v0->kernel_ss = FLAT_KERNEL_SS;
	v0->kernel_sp = KSTACK0;
}

static long hc(struct hv_vcpu *v, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return hvh_hypercall(v, nr, a0, a1, a2, 0);
}

static long cb_op(struct hv_vcpu *v, unsigned cmd, unsigned type, unsigned flags, uint64_t addr)
{
	struct callback_register cb = { .type = (uint16_t)type,
					.flags = (uint16_t)flags,
					.address = addr };

	memcpy(kmem(ARGS), &cb, sizeof(cb));
	return hc(v, __HYPERVISOR_callback_op, cmd, ARGS, 0);
}

/* A good first context for vCPU 1: its own callbacks, stack and #PF entry. */
static void good_context(struct vcpu_guest_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->flags = VGCF_in_kernel | VGCF_online | VGCF_syscall_disables_events;
	ctx->user_regs.rip = 0x400100;
	ctx->user_regs.rsp = KSTACK1 - 0x2000;
	ctx->user_regs.cs = FLAT_KERNEL_CS;
	ctx->user_regs.ss = FLAT_KERNEL_SS;
	ctx->kernel_ss = FLAT_KERNEL_SS;
	ctx->kernel_sp = KSTACK1;
	ctx->ctrlreg[3] = xen_pfn_to_cr3(L4 >> 12);
	ctx->event_callback_eip = EVENT1;
	ctx->failsafe_callback_eip = FAILSAFE1;
	ctx->syscall_callback_eip = CB1;
	ctx->trap_ctxt[14] =
	    (struct trap_info){ .vector = 14, .flags = 4, .cs = FLAT_KERNEL_CS, .address = PF1 };
}

static long initialise(const struct vcpu_guest_context *ctx)
{
	memcpy(kmem(VA_DATA + 0x4000), ctx, sizeof(*ctx));
	return hc(v0, __HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, VA_DATA + 0x4000);
}

/* v's kernel irets to the process on the user tables. */
static void to_user(struct hv_vcpu *v, uint64_t kstack)
{
	struct mmuext_op op = { .cmd = MMUEXT_NEW_USER_BASEPTR, .arg1.mfn = UL4 >> 12 };
	uint64_t f[9] = { 0, 0, 0, 0, UCODE, FLAT_USER_CS64, 0x202, USTACK, FLAT_USER_SS64 };

	memcpy(kmem(ARGS + 0x100), &op, sizeof(op));
	ck_assert_int_eq(hvh_hypercall(v, __HYPERVISOR_mmuext_op, ARGS + 0x100, 1, 0, DOMID_SELF),
			 0);
	memcpy(kmem(kstack - 0x400), f, sizeof(f));
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rsp = kstack - 0x400;
	v->regs.rax = __HYPERVISOR_iret;
	hypercall_dispatch(v);
	ck_assert(v->user_mode);
}

/* ... and the process makes a `syscall`. */
static void user_syscall(struct hv_vcpu *v, uint64_t kstack)
{
	struct hv_exit e = { .kind = HV_EXIT_SYSCALL, .sys_abi = "x86_64" };

	to_user(v, kstack);
	v->regs.rip = UCODE + 2;
	pv_syscall_exit(v, &e);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert(!v->user_mode);
}

START_TEST(each_vcpu_its_own_syscall_callback)
{
	struct vcpu_guest_context ctx;

	ck_assert_int_eq(cb_op(v0, CALLBACKOP_register, CALLBACKTYPE_syscall, 0, CB0), 0);
	good_context(&ctx);
	ck_assert_int_eq(initialise(&ctx), 0);
	ck_assert(v1->has_context);
	/* vCPU 1's from its context; vCPU 0's untouched by it. */
	ck_assert_uint_eq(v1->syscall_callback, CB1);
	ck_assert(v1->syscall_masks);
	ck_assert_uint_eq(v1->event_callback, EVENT1);
	ck_assert_uint_eq(v1->failsafe_callback, FAILSAFE1);
	ck_assert(!v1->failsafe_masks);
	ck_assert_uint_eq(v1->trap_addr[14], PF1);
	ck_assert_uint_eq(v1->trap_flags[14], 4);
	ck_assert_uint_eq(v1->kernel_sp, KSTACK1);
	ck_assert_uint_eq(v0->syscall_callback, CB0);
	ck_assert(!v0->syscall_masks);
	ck_assert_uint_eq(v0->event_callback, 0);
	ck_assert_uint_eq(v0->trap_addr[14], 0);
	/* Each process's syscall: its own vCPU's callback, on that vCPU's kernel stack. */
	v1->state = VCPU_RUNNABLE;
	v1->ran = true;
	user_syscall(v1, KSTACK1);
	ck_assert_uint_eq(v1->regs.rip, CB1);
	ck_assert_uint_eq(v1->regs.rsp, KSTACK1 - 7 * 8);
	ck_assert_uint_eq(vcpu_info_of(v1)->evtchn_upcall_mask, 1); /* disables_events */
	user_syscall(v0, KSTACK0);
	ck_assert_uint_eq(v0->regs.rip, CB0);
	ck_assert_uint_eq(v0->regs.rsp, KSTACK0 - 7 * 8);
	/* set_callbacks on vCPU 1 changes vCPU 1's three only, flags 0. */
	ck_assert_int_eq(hc(v1, __HYPERVISOR_set_callbacks, 0x401000, 0x402000, 0x403000), 0);
	ck_assert_uint_eq(v1->syscall_callback, 0x403000);
	ck_assert(!v1->syscall_masks);
	ck_assert_uint_eq(v1->event_callback, 0x401000);
	ck_assert_uint_eq(v0->syscall_callback, CB0);
	ck_assert_uint_eq(v0->event_callback, 0);
}
END_TEST

/* Hostile callback_op: Xen's errors, nothing changes. */
START_TEST(callback_op_hostile)
{
	struct vcpu_guest_context ctx;

	good_context(&ctx);
	ck_assert_int_eq(initialise(&ctx), 0);
	ck_assert_int_eq(
	    cb_op(v0, CALLBACKOP_register, CALLBACKTYPE_syscall, CALLBACKF_mask_events, CB0), 0);
	ck_assert_int_eq(cb_op(v0, CALLBACKOP_register, CALLBACKTYPE_nmi, 0, 0x400f00), 0);
	/* Not canonical: -EINVAL, whatever the type. */
	ck_assert_int_eq(cb_op(v0, CALLBACKOP_register, CALLBACKTYPE_syscall, 0, NONCANON),
			 -XEN_EINVAL);
	ck_assert_int_eq(cb_op(v0, CALLBACKOP_register, 99, 0, NONCANON), -XEN_EINVAL);
	/* No such type: -ENOSYS, to register or unregister. */
	ck_assert_int_eq(cb_op(v0, CALLBACKOP_register, 99, 0, CB1), -XEN_ENOSYS);
	ck_assert_int_eq(cb_op(v0, CALLBACKOP_unregister, 99, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(cb_op(v0, CALLBACKOP_unregister, 3 /* sysenter_deprecated */, 0, 0),
			 -XEN_ENOSYS);
	/* Xen keeps these: -EINVAL, they stay. */
	for (unsigned t = 0; t < 8; t++)
		if (t == CALLBACKTYPE_event || t == CALLBACKTYPE_failsafe ||
		    t == CALLBACKTYPE_syscall || t == CALLBACKTYPE_syscall32 ||
		    t == CALLBACKTYPE_sysenter)
			ck_assert_int_eq(cb_op(v0, CALLBACKOP_unregister, t, 0, 0), -XEN_EINVAL);
	ck_assert_uint_eq(v0->syscall_callback, CB0);
	ck_assert(v0->syscall_masks);
	/* Other commands: -ENOSYS; an argument it cannot read: -EFAULT. */
	ck_assert_int_eq(hc(v0, __HYPERVISOR_callback_op, 7, ARGS, 0), -XEN_ENOSYS);
	ck_assert_int_eq(hc(v0, __HYPERVISOR_callback_op, CALLBACKOP_register, 0x7000000, 0),
			 -XEN_EFAULT);
	ck_assert_uint_eq(v0->syscall_callback, CB0);
	/* The NMI callback can go, and only the caller's. */
	ck_assert_uint_eq(v0->nmi_callback, 0x400f00);
	ck_assert_int_eq(cb_op(v1, CALLBACKOP_unregister, CALLBACKTYPE_nmi, 0, 0), 0);
	ck_assert_uint_eq(v0->nmi_callback, 0x400f00);
	ck_assert_int_eq(cb_op(v0, CALLBACKOP_unregister, CALLBACKTYPE_nmi, 0, 0), 0);
	ck_assert_uint_eq(v0->nmi_callback, 0);
	/* set_callbacks skips a non-canonical address (Xen ignores the error): the others change.
	 */
	ck_assert_int_eq(hc(v0, __HYPERVISOR_set_callbacks, NONCANON, 0x402000, NONCANON), 0);
	ck_assert_uint_eq(v0->event_callback, 0);
	ck_assert_uint_eq(v0->failsafe_callback, 0x402000);
	ck_assert_uint_eq(v0->syscall_callback, CB0);
	/* syscall32 and sysenter are kept, with their flag, for the caller. */
	ck_assert_int_eq(
	    cb_op(v0, CALLBACKOP_register, CALLBACKTYPE_syscall32, CALLBACKF_mask_events, 0x404000),
	    0);
	ck_assert_uint_eq(v0->syscall32_callback, 0x404000);
	ck_assert(v0->syscall32_masks);
	ck_assert_uint_eq(v1->syscall32_callback, 0);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
}
END_TEST

/*
 * A callback at a canonical kernel address the guest does not map: Xen takes
 * it (it checks canonical only).  The next syscall enters it with the frame on
 * the vCPU's kernel stack; the fetch there is the guest's own fault.  The other
 * vCPU's callback is untouched.
 */
START_TEST(callback_at_unmapped_address)
{
	struct vcpu_guest_context ctx;

	good_context(&ctx);
	ck_assert_int_eq(initialise(&ctx), 0);
	ck_assert_int_eq(cb_op(v0, CALLBACKOP_register, CALLBACKTYPE_syscall, 0, UNMAPPED), 0);
	ck_assert_uint_eq(v0->syscall_callback, UNMAPPED);
	ck_assert_uint_eq(v1->syscall_callback, CB1);
	user_syscall(v0, KSTACK0);
	ck_assert_uint_eq(v0->regs.rip, UNMAPPED);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK0 - 56))[2], UCODE + 2); /* the frame's rip */
	ck_assert_int_eq(d->state, DOM_ACTIVE);
}
END_TEST

/* VCPUOP_initialise with a bad context: -EINVAL, the vCPU stays without one. */
START_TEST(initialise_bad_contexts)
{
	struct vcpu_guest_context ctx;

	ck_assert_int_eq(cb_op(v0, CALLBACKOP_register, CALLBACKTYPE_syscall, 0, CB0), 0);
	for (int k = 0; k < 18; k++) {
		good_context(&ctx);
		switch (k) {
		case 0:
			ctx.syscall_callback_eip = NONCANON;
			break;
		case 1:
			ctx.event_callback_eip = NONCANON;
			break;
		case 2:
			ctx.failsafe_callback_eip = 0xdead000000000000ULL;
			break;
		case 3:
			ctx.trap_ctxt[6].address = NONCANON;
			break;
		case 4:
			ctx.user_regs.rip = NONCANON;
			break;
		case 5:
			ctx.user_regs.rsp = NONCANON;
			break;
		case 6:
			ctx.kernel_sp = NONCANON;
			break;
		case 7:
			ctx.fs_base = NONCANON;
			break;
		case 8:
			ctx.gs_base_user = NONCANON;
			break;
		case 9:
			ctx.ldt_base = 0x400008;
			break; /* not page aligned */
		case 10:
			ctx.ldt_ents = 8193;
			break;
		case 11:
			ctx.ctrlreg[3] = xen_pfn_to_cr3(0x7f000);
			break; /* no memory there */
		case 12:
			ctx.flags &= ~VGCF_in_kernel;
			break;
		case 13:
			ctx.ctrlreg[1] = xen_pfn_to_cr3(DATA >> 12);
			break; /* a user base mapped writable: not a table */
		case 14:
			ctx.ctrlreg[1] = xen_pfn_to_cr3(0x7f000);
			break; /* a user base where there is no memory */
		case 15:
			ctx.ctrlreg[1] = ~0ULL;
			break; /* a frame no entry can name */
		case 16:
			ctx.ldt_base = 0xffff800000000000ULL;
			ctx.ldt_ents = 1;
			break; /* in the hypervisor's range */
		case 17:
			ctx.ldt_base = NONCANON & ~0xfffULL;
			break;
		}
		ck_assert_msg(initialise(&ctx) == -XEN_EINVAL, "bad context %d", k);
		ck_assert_msg(!v1->has_context, "bad context %d left a context", k);
		ck_assert_uint_eq(v1->syscall_callback, 0);
		ck_assert_uint_eq(v1->event_callback, 0);
		ck_assert_uint_eq(v1->trap_addr[14], 0);
		ck_assert_uint_eq(v1->kernel_sp, 0);
		ck_assert_uint_eq(d->mmu->user_base[1], 0);
	}
	/* An argument it cannot read: -EFAULT. */
	ck_assert_int_eq(hc(v0, __HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, 0x7000000),
			 -XEN_EFAULT);
	ck_assert(!v1->has_context);
	ck_assert_uint_eq(v0->syscall_callback, CB0);
	/* Nothing changed: the good one is still the first (not -EEXIST), then a second is. */
	good_context(&ctx);
	ck_assert_int_eq(initialise(&ctx), 0);
	ck_assert_uint_eq(v1->syscall_callback, CB1);
	ck_assert_int_eq(initialise(&ctx), -XEN_EEXIST);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
}
END_TEST

/* What a save copies (Xen's arch_get_info_guest) sets the same vCPU state again. */
START_TEST(get_context_round_trip)
{
	struct vcpu_guest_context ctx, got, again;

	good_context(&ctx);
	ctx.flags |= VGCF_failsafe_disables_events;
	ctx.fs_base = 0x500000;
	ctx.gs_base_kernel = 0x501000;
	ctx.gs_base_user = 0x502000;
	ctx.user_regs.rflags |= 0x1000; /* IOPL 1, as Linux starts a secondary vCPU */
	ck_assert_int_eq(initialise(&ctx), 0);
	ck_assert_uint_eq(v1->iopl, 1); /* the virtual I/O privilege, as Xen takes it */
	vcpu_get_context(v1, &got);
	ck_assert_uint_eq(got.user_regs.rflags & 0x3000, 0x1000);
	ck_assert(got.flags & VGCF_in_kernel);
	ck_assert(got.flags & VGCF_syscall_disables_events);
	ck_assert(got.flags & VGCF_failsafe_disables_events);
	ck_assert(!(got.flags & VGCF_online)); /* initialised, not up */
	ck_assert_uint_eq(got.syscall_callback_eip, CB1);
	ck_assert_uint_eq(got.event_callback_eip, EVENT1);
	ck_assert_uint_eq(got.failsafe_callback_eip, FAILSAFE1);
	ck_assert_uint_eq(got.trap_ctxt[14].address, PF1);
	ck_assert_uint_eq(got.trap_ctxt[14].flags, 4);
	ck_assert_uint_eq(got.kernel_sp, KSTACK1);
	ck_assert_uint_eq(got.ctrlreg[3], xen_pfn_to_cr3(L4 >> 12));
	ck_assert_uint_eq(got.user_regs.rip, 0x400100);
	ck_assert_uint_eq(got.fs_base, 0x500000);
	ck_assert_uint_eq(got.gs_base_user, 0x502000);
	/* Onto a vCPU of its own again: the same state back. */
	v1->has_context = false;
	memset(v1->trap_addr, 0, sizeof(v1->trap_addr));
	v1->syscall_callback = v1->event_callback = v1->failsafe_callback = 0;
	ck_assert_int_eq(vcpu_set_context(v1, &got), 0);
	vcpu_get_context(v1, &again);
	ck_assert_int_eq(memcmp(&got, &again, sizeof(got)), 0);
	/* A vCPU in user mode reports its kernel tables in ctrlreg[3], the user ones in [1]. */
	v1->state = VCPU_RUNNABLE;
	v1->ran = true;
	to_user(v1, KSTACK1);
	vcpu_get_context(v1, &got);
	ck_assert(!(got.flags & VGCF_in_kernel));
	ck_assert(got.flags & VGCF_online);
	ck_assert_uint_eq(got.ctrlreg[3], xen_pfn_to_cr3(L4 >> 12));
	ck_assert_uint_eq(got.ctrlreg[1], xen_pfn_to_cr3(UL4 >> 12));
	ck_assert_uint_eq(got.user_regs.cs, FLAT_USER_CS64);
	ck_assert_uint_eq(got.user_regs.rip, UCODE);
}
END_TEST

/* A context carries the user tables (validated and held as an L4) and an LDT base. */
START_TEST(initialise_user_base_and_ldt)
{
	struct vcpu_guest_context ctx, got;
	struct mmu_frame f;

	good_context(&ctx);
	ctx.ctrlreg[1] = xen_pfn_to_cr3(UL4 >> 12);
	ctx.ldt_base = 0x600000;
	ck_assert_int_eq(initialise(&ctx), 0);
	ck_assert_uint_eq(d->mmu->user_base[1], UL4);
	ck_assert(mmu_frame_info(d, UL4, &f));
	ck_assert_uint_eq(f.type, MMU_T_L4);
	vcpu_get_context(v1, &got);
	ck_assert_uint_eq(got.ctrlreg[1], xen_pfn_to_cr3(UL4 >> 12));
	ck_assert_uint_eq(got.ldt_base, 0x600000);
	ck_assert_uint_eq(got.ldt_ents, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pv_callbacks");
	TCase *tc = tcase_create("pv_callbacks");

	tcase_add_checked_fixture(tc, setup, hvh_teardown);
	tcase_add_test(tc, each_vcpu_its_own_syscall_callback);
	tcase_add_test(tc, callback_op_hostile);
	tcase_add_test(tc, callback_at_unmapped_address);
	tcase_add_test(tc, initialise_user_base_and_ldt);
	tcase_add_test(tc, initialise_bad_contexts);
	tcase_add_test(tc, get_context_round_trip);
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
