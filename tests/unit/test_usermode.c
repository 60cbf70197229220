// SPDX-License-Identifier: MIT
/*
 * Check suite: Xen's x86-64 PV guest user mode (hypervisor/pv_user.c, pv.c) from a hostile
 * guest, with no engine behind the domain: the kernel/user toggle (tables, %gs), iret to user
 * mode and its bad frames, hypercalls refused in user mode, the syscall callback (and what
 * happens without one), the frames exceptions and events from user mode leave on the kernel
 * stack, and a kernel stack that is not there.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/errno.h>
#include <xen/xen.h>
#include <xen/callback.h>
#include <xen/version.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/hypercall.h"
#include "../../hypervisor/mmu.h"
#include "../../hypervisor/kvm/kvm.h"
#include "hv_harness.h"

#define FRAMES 512ULL
/* The kernel's tables: L4 -> L3 -> L2 -> L1, 16 data frames at VA_DATA. */
#define L4 0x1000ULL
#define L3 0x2000ULL
#define L2 0x3000ULL
#define L1 0x4000ULL
/* The process's tables: only its own pages, 4 frames at VA_USER. */
#define UL4 0x5000ULL
#define UL3 0x6000ULL
#define UL2 0x7000ULL
#define UL1 0x8000ULL
#define DATA 0x10000ULL
#define UDATA 0x20000ULL
#define VA_DATA 0x400000ULL  /* L2 entry 2 */
#define VA_USER 0x800000ULL  /* L2 entry 4 */
#define KSTACK (VA_DATA + 0x8000ULL)
#define USTACK (VA_USER + 0x3000ULL)
#define UCODE (VA_USER + 0x100ULL)
#define RW 7ULL

#define KGS 0x401000ULL
#define UGS 0x802000ULL
#define SYSCALL_CB 0x400a00ULL
#define PF_HANDLER 0x400b00ULL
#define UD_HANDLER 0x400c00ULL
#define GP_HANDLER 0x400d00ULL
#define INT80_HANDLER 0x400e00ULL
#define EVENT_CB 0x400f00ULL
#define FAILSAFE_CB 0x400f80ULL

static struct hv_domain *d;
static struct hv_vcpu *v;
static unsigned base_calls;
static uint64_t base_seen;

static int fake_new_baseptr(struct hv_vcpu *x)
{
	base_calls++;
	base_seen = x->cr3;
	return 0;
}

static int fake_ptes_changed(struct hv_vcpu *x, const struct hv_va_range *r, unsigned n)
{
	return 0;
}

static int fake_sync(struct hv_vcpu *x)
{
	return 0;
}

static void *kmem(uint64_t va)
{
	return mem_gpa(&d->mem, DATA + (va - VA_DATA), 1);
}

static void *umem(uint64_t va)
{
	return mem_gpa(&d->mem, UDATA + (va - VA_USER), 1);
}

static struct vcpu_info *vi(void)
{
	return &d->shinfo->vcpu_info[0];
}

static void setup(void)
{
	static const struct hv_engine hooks = {
		.new_baseptr = fake_new_baseptr,
		.ptes_changed = fake_ptes_changed,
		.sync_mappings = fake_sync,
	};

	d = hvh_setup(&(struct hvh_spec){ .domid = 9,
					  .vcpus = 1,
					  .frames = FRAMES,
					  .shinfo_gpa = SV_SHARED_INFO_GPA,
					  .domain_table = true,
					  .hooks = &hooks });
	/* Kernel: its data, and the process's pages too (the kernel's L4 maps both). */
	hvh_pt(L4)[0] = L3 | RW;
	hvh_pt(L3)[0] = L2 | RW;
	hvh_pt(L2)[2] = L1 | RW;
	hvh_pt(L2)[4] = UL1 | RW;
	for (int i = 0; i < 16; i++)
		hvh_pt(L1)[i] = (DATA + i * 4096ULL) | RW;
	/* Process: its pages only. */
	hvh_pt(UL4)[0] = UL3 | RW;
	hvh_pt(UL3)[0] = UL2 | RW;
	hvh_pt(UL2)[4] = UL1 | RW;
	for (int i = 0; i < 4; i++)
		hvh_pt(UL1)[i] = (UDATA + i * 4096ULL) | RW;
	v = d->vcpus[0];
	v->state = VCPU_RUNNABLE;
	v->ran = true;
	v->cr3 = L4;
	ck_assert_int_eq(mmu_vcpu_context(v, L4), 0);
	v->kernel_ss = FLAT_KERNEL_SS;
	v->kernel_sp = KSTACK;
	v->gs_base_kernel = KGS;
	v->gs_base_user = UGS;
	base_calls = 0;
}

/* A hypercall as the engine reports it: number and arguments in registers. */
static long hc(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct hv_regs *r = &v->regs;

	r->rax = nr;
	r->rdi = a0;
	r->rsi = a1;
	r->rdx = a2;
	hypercall_dispatch(v);
	return (long)r->rax;
}

static long user_base(uint64_t l4)
{
	struct mmuext_op op = { .cmd = MMUEXT_NEW_USER_BASEPTR, .arg1.mfn = l4 >> 12 };

	memcpy(kmem(VA_DATA + 0x3000), &op, sizeof(op));
	v->regs.r10 = DOMID_SELF;
	return hc(__HYPERVISOR_mmuext_op, VA_DATA + 0x3000, 1, 0);
}

/* HYPERVISOR_iret from the kernel stack with this frame (rax r11 rcx flags rip cs rflags rsp ss). */
static void iret(uint64_t rip, uint64_t cs, uint64_t rflags, uint64_t rsp, uint64_t ss)
{
	uint64_t f[9] = { 0x1111, 0x2222, 0x3333, 0, rip, cs, rflags, rsp, ss };

	memcpy(kmem(KSTACK - 0x200), f, sizeof(f));
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rsp = KSTACK - 0x200;
	hc(__HYPERVISOR_iret, 0, 0, 0);
}

/* The kernel makes a process: user tables, then iret to its code (events on). */
static void enter_user(void)
{
	ck_assert_int_eq(user_base(UL4), 0);
	vi()->evtchn_upcall_mask = 1;
	iret(UCODE, FLAT_USER_CS64, 0x202, USTACK, FLAT_USER_SS64);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert(v->user_mode);
}

static void set_trap(unsigned vec, uint64_t addr, unsigned flags)
{
	v->trap_addr[vec] = addr;
	v->trap_flags[vec] = (uint8_t)flags;
}

/* An exception the engine caught at rip in the current mode. */
static void fault(unsigned vec, uint64_t err, uint64_t cr2)
{
	struct hv_exit e = { .kind = HV_EXIT_FAULT, .vector = vec, .error_code = err, .cr2 = cr2 };

	e.frame[0] = v->regs.rip;
	e.frame[1] = v->user_mode ? FLAT_USER_CS64 : FLAT_KERNEL_CS;
	e.frame[2] = v->regs.rflags;
	e.frame[3] = v->regs.rsp;
	e.frame[4] = FLAT_KERNEL_SS;
	pv_fault(v, &e);
}

/* The process engine's report of a host system call: rip after the instruction. */
static void host_syscall(const char *abi)
{
	struct hv_exit e = { .kind = HV_EXIT_SYSCALL, .sys_nr = v->regs.rax, .sys_abi = abi };

	pv_syscall_exit(v, &e);
}

START_TEST(iret_to_user_toggles_tables_and_gs)
{
	enter_user();
	ck_assert_uint_eq(v->cr3, UL4);
	ck_assert_uint_eq(base_calls, 1); /* the toggle (NEW_USER_BASEPTR only stores the table) */
	ck_assert_uint_eq(base_seen, UL4);
	ck_assert_uint_eq(pv_gs_active(v), UGS);
	ck_assert_uint_eq(pv_gs_inactive(v), KGS);
	ck_assert(v->segs_dirty);
	ck_assert_uint_eq(v->regs.rip, UCODE);
	ck_assert_uint_eq(v->regs.rsp, USTACK);
	ck_assert_uint_eq(v->regs.rax, 0x1111);
	ck_assert_uint_eq(vi()->evtchn_upcall_mask, 0); /* IF in the frame */
	/* Guest memory is now the process's: the kernel's data is not there. */
	uint64_t word;
	ck_assert_int_ne(vcpu_copy_from_guest(v, &word, VA_DATA, 8), 0);
	ck_assert_int_eq(vcpu_copy_from_guest(v, &word, VA_USER, 8), 0);
	/* Straight back (an exception): kernel tables, kernel %gs. */
	set_trap(3, 0x400900, 3);
	fault(3, 0, 0);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->cr3, L4);
	ck_assert_uint_eq(base_seen, L4);
	ck_assert_uint_eq(pv_gs_active(v), KGS);
	ck_assert_uint_eq(pv_gs_inactive(v), UGS);
	/* A kernel-mode iret (RPL 0) stays in kernel mode. */
	unsigned calls = base_calls;
	iret(0x400123, FLAT_KERNEL_CS & ~3, 0x202, KSTACK, FLAT_KERNEL_SS);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(base_calls, calls);
	ck_assert_uint_eq(v->regs.rip, 0x400123);
}
END_TEST

START_TEST(iret_to_user_without_user_tables_crashes)
{
	iret(UCODE, FLAT_USER_CS64, 0x202, USTACK, FLAT_USER_SS64);
	ck_assert_int_ne(d->state, DOM_ACTIVE);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->cr3, L4);
}
END_TEST

START_TEST(iret_to_user_bad_frames)
{
	uint64_t *f;

	ck_assert_int_eq(user_base(UL4), 0);
	v->failsafe_callback = FAILSAFE_CB;
	/* Compat code (RPL 3): user mode cannot load it: failsafe, on the kernel stack, kernel mode. */
	iret(UCODE, FLAT_USER_CS32, 0x202, USTACK, FLAT_USER_SS64);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->cr3, L4);
	ck_assert_uint_eq(v->regs.rip, FAILSAFE_CB);
	ck_assert_uint_eq(v->regs.rsp, KSTACK - 88);
	f = kmem(KSTACK - 88); /* rcx r11 ds es fs gs rip cs rflags rsp ss */
	ck_assert_uint_eq(f[6], UCODE);
	ck_assert_uint_eq(f[7] & 0xffff, FLAT_USER_CS32);
	ck_assert_uint_eq(f[9], USTACK);
	/* A non-canonical rip: the same. */
	iret(0x0000800000000000ULL, FLAT_USER_CS64, 0x202, USTACK, FLAT_USER_SS64);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->regs.rip, FAILSAFE_CB);
	/* A NUL ss, no failsafe callback: the domain is crashed. */
	v->failsafe_callback = 0;
	iret(UCODE, FLAT_USER_CS64, 0x202, USTACK, 0);
	ck_assert_int_ne(d->state, DOM_ACTIVE);
}
END_TEST

START_TEST(hypercalls_from_user_mode_refused)
{
	enter_user();
	/* Every hypercall, the stub page's or a direct one: -EPERM, nothing changes. */
	ck_assert_int_eq(hc(__HYPERVISOR_xen_version, 0, 0, 0), -XEN_EPERM);
	ck_assert_int_eq(hc(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, USTACK, 0), -XEN_EPERM);
	ck_assert_uint_eq(v->kernel_sp, KSTACK);
	ck_assert_int_eq(hc(__HYPERVISOR_set_segment_base, SEGBASE_GS_KERNEL, 0, 0), -XEN_EPERM);
	ck_assert_uint_eq(v->gs_base_kernel, KGS);
	/* iret from user mode would be a way back into the kernel's tables. */
	uint64_t f[9] = { 0, 0, 0, 0, 0x400123, FLAT_KERNEL_CS & ~3, 0x202, KSTACK, 0xe02b };
	memcpy(umem(USTACK - 0x100), f, sizeof(f));
	v->regs.rsp = USTACK - 0x100;
	ck_assert_int_eq(hc(__HYPERVISOR_iret, 0, 0, 0), -XEN_EPERM);
	ck_assert(v->user_mode);
	ck_assert_uint_eq(v->cr3, UL4);
	ck_assert_int_eq(hc(__HYPERVISOR_multicall, USTACK - 0x100, 1, 0), -XEN_EPERM);
	ck_assert_int_eq(hc(100, 0, 0, 0), -XEN_EPERM);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
}
END_TEST

START_TEST(syscall_enters_the_callback)
{
	struct callback_register cb = { .type = CALLBACKTYPE_syscall,
					.flags = CALLBACKF_mask_events,
					.address = SYSCALL_CB };
	uint64_t *f;

	memcpy(kmem(VA_DATA + 0x3100), &cb, sizeof(cb));
	ck_assert_int_eq(hc(__HYPERVISOR_callback_op, CALLBACKOP_register, VA_DATA + 0x3100, 0), 0);
	enter_user();
	v->regs.rip = UCODE + 2; /* after the syscall instruction */
	v->regs.rax = 1;
	v->regs.rdi = 0x42;
	v->regs.rflags = 0x246;
	v->regs.rsp = USTACK - 8;
	host_syscall("x86_64");
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->cr3, L4);
	ck_assert_uint_eq(v->regs.rip, SYSCALL_CB);
	ck_assert_uint_eq(v->regs.rsp, KSTACK - 56);
	ck_assert_uint_eq(v->regs.rax, 1); /* the process's registers, untouched */
	ck_assert_uint_eq(v->regs.rdi, 0x42);
	ck_assert_uint_eq(vi()->evtchn_upcall_mask, 1); /* CALLBACKF_mask_events */
	f = kmem(KSTACK - 56); /* rcx r11 rip cs rflags rsp ss */
	ck_assert_uint_eq(f[0], UCODE + 2);  /* rcx: the return rip, as the CPU sets it */
	ck_assert_uint_eq(f[1], 0x246);	     /* r11: rflags */
	ck_assert_uint_eq(f[2], UCODE + 2);
	ck_assert_uint_eq(f[3], FLAT_USER_CS64); /* RPL 3: from user mode; events were on */
	ck_assert_uint_eq(f[4], 0x246);
	ck_assert_uint_eq(f[5], USTACK - 8);
	ck_assert_uint_eq(f[6], FLAT_USER_SS64);
	/* sysret-style return: iret with VGCF_in_syscall to user mode. */
	uint64_t r[9] = { 7, 0, 0, VGCF_in_syscall, f[2], f[3], f[4], f[5], f[6] };
	memcpy(kmem(KSTACK - 0x200), r, sizeof(r));
	v->regs.rsp = KSTACK - 0x200;
	hc(__HYPERVISOR_iret, 0, 0, 0);
	ck_assert(v->user_mode);
	ck_assert_uint_eq(v->regs.rax, 7);
	ck_assert_uint_eq(v->regs.rip, UCODE + 2);
	ck_assert_uint_eq(v->regs.rcx, UCODE + 2);
	ck_assert_uint_eq(vi()->evtchn_upcall_mask, 0);
	/* The process cannot re-register the callback. */
	ck_assert_int_eq(hc(__HYPERVISOR_callback_op, CALLBACKOP_register, VA_DATA + 0x3100, 0),
			 -XEN_EPERM);
	v->regs.rip = UCODE + 4;
	host_syscall("x86_64");
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->regs.rip, SYSCALL_CB);
	/* Without mask_events: events stay as they were. */
	v->syscall_masks = false;
	vi()->evtchn_upcall_mask = 0;
	iret(UCODE, FLAT_USER_CS64, 0x202, USTACK, FLAT_USER_SS64);
	v->regs.rip = UCODE + 2;
	host_syscall("x86_64");
	ck_assert_uint_eq(v->regs.rip, SYSCALL_CB);
	ck_assert_uint_eq(vi()->evtchn_upcall_mask, 0);
}
END_TEST

START_TEST(syscall_without_callback)
{
	enter_user();
	/* A #UD handler: the syscall becomes a #UD at the instruction, as Xen's switch_to_kernel. */
	set_trap(6, UD_HANDLER, 0);
	v->regs.rip = UCODE + 2;
	host_syscall("x86_64");
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->regs.rip, UD_HANDLER);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 56))[2], UCODE);
	/* Neither: the domain is crashed. */
	set_trap(6, 0, 0);
	iret(UCODE, FLAT_USER_CS64, 0x202, USTACK, FLAT_USER_SS64);
	v->regs.rip = UCODE + 2;
	host_syscall("x86_64");
	ck_assert_int_ne(d->state, DOM_ACTIVE);
}
END_TEST

/*
 * A `syscall` in kernel mode is a hypercall, as on Xen: rax the number,
 * rdi.. the arguments, the result in rax, rcx and r11 the CPU's (return
 * rip, rflags), rip past the instruction.  The process engine reports it
 * as a denied host system call.
 */
START_TEST(kernel_mode_syscall_is_a_hypercall)
{
	struct hv_regs *r = &v->regs;

	v->syscall_callback = SYSCALL_CB;
	memset(r, 0, sizeof(*r));
	r->rip = VA_DATA + 0x102; /* past the 0f 05 */
	r->rflags = 0x246;
	r->rsp = KSTACK;
	r->rax = __HYPERVISOR_xen_version;
	r->rdi = XENVER_version;
	r->rbx = 0x5a5a;
	host_syscall("x86_64");
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(r->rax, (HV_XEN_MAJOR << 16) | HV_XEN_MINOR);
	ck_assert_uint_eq(r->rip, VA_DATA + 0x102);
	ck_assert_uint_eq(r->rcx, VA_DATA + 0x102);
	ck_assert_uint_eq(r->r11, 0x246);
	ck_assert_uint_eq(r->rsp, KSTACK);
	ck_assert_uint_eq(r->rbx, 0x5a5a);
	/* A hypercall with arguments through memory: the guest's own. */
	strcpy(kmem(VA_DATA + 0x3000), "from a raw syscall");
	r->rax = __HYPERVISOR_console_io;
	r->rdi = CONSOLEIO_write;
	r->rsi = 18;
	r->rdx = VA_DATA + 0x3000;
	host_syscall("x86_64");
	ck_assert_int_eq((long)r->rax, 0);
}
END_TEST

/* Hostile numbers: -ENOSYS for each, and the domain lives on. */
START_TEST(kernel_mode_syscall_bogus_numbers)
{
	static const uint64_t bad[] = { 59 /* Linux's execve */, 101 /* ptrace */, 64, 4096,
					0x40000002 /* x32 open */, ~0ULL, 1ULL << 63 };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v->regs.rip = VA_DATA + 0x102;
		v->regs.rax = bad[i];
		host_syscall(bad[i] == 0x40000002 ? "x32" : "x86_64");
		ck_assert_int_eq(d->state, DOM_ACTIVE);
		ck_assert_int_eq((long)v->regs.rax, -XEN_ENOSYS);
	}
	/* int $0x80 in kernel mode is no hypercall: #GP(0x80 << 3 | 2), with no trap table a crash. */
	v->regs.rax = 5;
	host_syscall("i386");
	ck_assert_int_ne(d->state, DOM_ACTIVE);
}
END_TEST

/* KVM's form: EFER.SCE is clear, so the kernel's `syscall` is a #UD at 0f 05. */
START_TEST(kvm_ud_kernel_syscall_is_a_hypercall)
{
	struct hv_regs *r = &v->regs;

	memcpy(kmem(VA_DATA + 0x100), "\x0f\x05", 2);
	memset(r, 0, sizeof(*r));
	r->rip = VA_DATA + 0x100;
	r->rflags = 0x202;
	r->rsp = KSTACK;
	r->rax = __HYPERVISOR_xen_version;
	r->rdi = XENVER_version;
	fault(6, 0, 0);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(r->rax, (HV_XEN_MAJOR << 16) | HV_XEN_MINOR);
	ck_assert_uint_eq(r->rip, VA_DATA + 0x102);
	ck_assert_uint_eq(r->rcx, VA_DATA + 0x102);
	ck_assert_uint_eq(r->r11, 0x202);
	r->rip = VA_DATA + 0x100;
	r->rax = 4096;
	fault(6, 0, 0);
	ck_assert_int_eq((long)r->rax, -XEN_ENOSYS);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
	/* Other bytes in kernel mode: an ordinary #UD, to the trap table. */
	set_trap(6, UD_HANDLER, 0);
	memcpy(kmem(VA_DATA + 0x100), "\x0f\x0b", 2);
	r->rip = VA_DATA + 0x100;
	fault(6, 0, 0);
	ck_assert_uint_eq(r->rip, UD_HANDLER);
}
END_TEST

START_TEST(kvm_ud_syscall_is_a_syscall)
{
	v->syscall_callback = SYSCALL_CB;
	memcpy(umem(UCODE), "\x0f\x05", 2);
	enter_user();
	fault(6, 0, 0); /* EFER.SCE clear: the CPU raised #UD at the syscall */
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->regs.rip, SYSCALL_CB);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 56))[0], UCODE + 2);
	/* Other bytes: an ordinary #UD, to the handler, with the mode switch. */
	set_trap(6, UD_HANDLER, 0);
	memcpy(umem(UCODE), "\x0f\x0b", 2);
	iret(UCODE, FLAT_USER_CS64, 0x202, USTACK, FLAT_USER_SS64);
	fault(6, 0, 0);
	ck_assert_uint_eq(v->regs.rip, UD_HANDLER);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 56))[2], UCODE);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 56))[3], FLAT_USER_CS64);
}
END_TEST

START_TEST(user_exception_frames)
{
	uint64_t *f;

	set_trap(14, PF_HANDLER, 4); /* TI_GET_IF */
	set_trap(13, GP_HANDLER, 0);
	enter_user();
	v->regs.rip = UCODE + 0x10;
	v->regs.rflags = 0x203;
	v->regs.rcx = 0xc;
	v->regs.r11 = 0xb;
	v->regs.rsp = USTACK - 16;
	fault(14, 6, VA_USER + 0x5000); /* write, user: not present */
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->regs.rip, PF_HANDLER);
	ck_assert_uint_eq(v->regs.rsp, KSTACK - 64);
	ck_assert_uint_eq(vi()->arch.cr2, VA_USER + 0x5000);
	ck_assert_uint_eq(vi()->evtchn_upcall_mask, 1);
	f = kmem(KSTACK - 64); /* rcx r11 err rip cs rflags rsp ss */
	ck_assert_uint_eq(f[0], 0xc);
	ck_assert_uint_eq(f[1], 0xb);
	ck_assert_uint_eq(f[2], 6); /* the user bit stays: it was the process */
	ck_assert_uint_eq(f[3], UCODE + 0x10);
	ck_assert_uint_eq(f[4], FLAT_USER_CS64);
	ck_assert_uint_eq(f[5], 0x203);
	ck_assert_uint_eq(f[6], USTACK - 16);
	ck_assert_uint_eq(f[7], FLAT_USER_SS64);
	/* The same fault in kernel mode: on the current stack, CS RPL 0, no user bit. */
	v->regs.rsp = KSTACK - 0x400;
	v->regs.rip = 0x400200;
	fault(14, 6, VA_DATA + 0x20000);
	f = kmem(KSTACK - 0x400 - 64);
	ck_assert_uint_eq(f[2], 2);
	ck_assert_uint_eq(f[4] & 0xffff, FLAT_KERNEL_CS & ~3);
	ck_assert_uint_eq(f[4] >> 32, 1); /* the saved upcall mask: events were masked */
	/* A privileged instruction in user mode is the process's #GP, not emulated. */
	memcpy(umem(UCODE), "\x0f\x30", 2); /* wrmsr */
	iret(UCODE, FLAT_USER_CS64, 0x202, USTACK, FLAT_USER_SS64);
	fault(13, 0, 0);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->regs.rip, GP_HANDLER);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 64))[3], UCODE);
	/* No handler for a user exception: the domain is crashed, as in kernel mode. */
	iret(UCODE, FLAT_USER_CS64, 0x202, USTACK, FLAT_USER_SS64);
	fault(0, 0, 0);
	ck_assert_int_ne(d->state, DOM_ACTIVE);
}
END_TEST

START_TEST(int80_from_user_mode)
{
	/* The process engine reports `int $0x80` as an i386 host system call, rip after it. */
	set_trap(0x80, INT80_HANDLER, 3);
	set_trap(13, GP_HANDLER, 0);
	enter_user();
	v->regs.rip = UCODE + 2;
	host_syscall("i386");
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->regs.rip, INT80_HANDLER);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 56))[2], UCODE + 2);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 56))[3], FLAT_USER_CS64);
	/* A gate the process may not use (DPL 0): #GP with the vector's error code. */
	set_trap(0x80, INT80_HANDLER, 0);
	iret(UCODE, FLAT_USER_CS64, 0x202, USTACK, FLAT_USER_SS64);
	v->regs.rip = UCODE + 2;
	host_syscall("i386");
	ck_assert_uint_eq(v->regs.rip, GP_HANDLER);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 64))[2], 0x80 << 3 | 2);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 64))[3], UCODE);
	ck_assert_int_eq(d->state, DOM_ACTIVE);
}
END_TEST

START_TEST(event_in_user_mode)
{
	v->event_callback = EVENT_CB;
	enter_user();
	v->regs.rip = UCODE + 0x20;
	v->regs.rsp = USTACK - 24;
	vi()->evtchn_upcall_pending = 1;
	pv_deliver_upcall(v);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->cr3, L4);
	ck_assert_uint_eq(v->regs.rip, EVENT_CB);
	ck_assert_uint_eq(v->regs.rsp, KSTACK - 56);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 56))[2], UCODE + 0x20);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 56))[3], FLAT_USER_CS64);
	ck_assert_uint_eq(((uint64_t *)kmem(KSTACK - 56))[5], USTACK - 24);
	ck_assert_uint_eq(vi()->evtchn_upcall_mask, 1);
}
END_TEST

START_TEST(kernel_stack_not_set)
{
	set_trap(14, PF_HANDLER, 0);
	v->kernel_sp = 0; /* no stack_switch */
	enter_user();
	fault(14, 4, VA_USER + 0x5000);
	ck_assert_int_ne(d->state, DOM_ACTIVE);
}
END_TEST

START_TEST(kernel_stack_not_mapped)
{
	v->syscall_callback = SYSCALL_CB;
	ck_assert_int_eq(hc(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, 0x900000, 0), 0);
	ck_assert_uint_eq(v->kernel_sp, 0x900000);
	enter_user();
	v->regs.rip = UCODE + 2;
	host_syscall("x86_64");
	ck_assert_int_ne(d->state, DOM_ACTIVE);
}
END_TEST

/* A new context (VCPUOP_initialise, the builder's) starts in kernel mode with its kernel stack. */
START_TEST(new_context_starts_in_kernel_mode)
{
	struct vcpu_guest_context ctx;

	enter_user();
	memset(&ctx, 0, sizeof(ctx));
	ctx.flags = VGCF_in_kernel;
	ctx.ctrlreg[3] = xen_pfn_to_cr3(L4 >> 12);
	ctx.kernel_ss = FLAT_KERNEL_SS;
	ctx.kernel_sp = KSTACK - 0x1000;
	ck_assert_int_eq(vcpu_set_context(v, &ctx), 0);
	ck_assert(!v->user_mode);
	ck_assert_uint_eq(v->cr3, L4);
	ck_assert_uint_eq(v->kernel_sp, KSTACK - 0x1000);
	ck_assert_uint_eq(v->kernel_ss, FLAT_KERNEL_SS);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("usermode");
	TCase *tc = tcase_create("usermode");

	tcase_add_checked_fixture(tc, setup, hvh_teardown);
	tcase_add_test(tc, iret_to_user_toggles_tables_and_gs);
	tcase_add_test(tc, iret_to_user_without_user_tables_crashes);
	tcase_add_test(tc, iret_to_user_bad_frames);
	tcase_add_test(tc, hypercalls_from_user_mode_refused);
	tcase_add_test(tc, syscall_enters_the_callback);
	tcase_add_test(tc, syscall_without_callback);
	tcase_add_test(tc, kernel_mode_syscall_is_a_hypercall);
	tcase_add_test(tc, kernel_mode_syscall_bogus_numbers);
	tcase_add_test(tc, kvm_ud_kernel_syscall_is_a_hypercall);
	tcase_add_test(tc, kvm_ud_syscall_is_a_syscall);
	tcase_add_test(tc, user_exception_frames);
	tcase_add_test(tc, int80_from_user_mode);
	tcase_add_test(tc, event_in_user_mode);
	tcase_add_test(tc, kernel_stack_not_set);
	tcase_add_test(tc, kernel_stack_not_mapped);
	tcase_add_test(tc, new_context_starts_in_kernel_mode);
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
