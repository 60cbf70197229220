// SPDX-License-Identifier: MIT
/*
 * Check suite: the PV instruction emulator (pv_emul.c).  Its decoder with
 * hostile bytes (truncated, prefixes galore, too long), and the emulation
 * of faults from a guest with real page tables: MSRs at the edges, Xen's
 * cpuid leaves behind the forced-emulation signature, M2P loads, and an
 * instruction at a page end or in an unmapped page left to the guest.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/arch-x86/xen-x86_64.h>
#include <xen/arch-x86/cpuid.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/mmu.h"
#include "../../hypervisor/pv_emul.h"
#include "hv_harness.h"

#define RAM (1u << 20)
#define VA_CODE 0x400000ULL /* 16 user pages at frames 0x10000.., then nothing */
#define VA_END (VA_CODE + 16 * 4096)

static struct hv_domain *d;
static struct hv_vcpu *v;

static uint64_t fake_tsc(struct hv_vcpu *x)
{
	return 0x123456789abcULL;
}

static uint8_t *guest(uint64_t va)
{
	return mem_gpa(&d->mem, 0x10000 + (va - VA_CODE), 1);
}

static void setup(void)
{
	static const struct hv_engine hooks = { .vcpu_tsc = fake_tsc };

	d = hvh_setup(&(struct hvh_spec){ .domid = 9,
					  .vcpus = 1,
					  .frames = RAM / 4096,
					  .shinfo_gpa = SV_SHARED_INFO_GPA,
					  .hooks = &hooks });
	ck_assert_uint_ne(d->m2p_l3_gpa, 0);
	hvh_pt(0x1000)[0] = 0x2000 | 7;
	hvh_pt(0x2000)[0] = 0x3000 | 7;
	hvh_pt(0x3000)[2] = 0x4000 | 7;
	for (int i = 0; i < 16; i++)
		hvh_pt(0x4000)[i] = (0x10000 + i * 4096ULL) | 7;
	v = d->vcpus[0];
	v->cr3 = 0x1000;
}

/* ---- the decoder alone ---- */

static int dec(const char *bytes, size_t n, struct pv_insn *in)
{
	return pv_emul_decode((const uint8_t *)bytes, n, in);
}

START_TEST(decode_each_kind)
{
	struct pv_insn in;

	ck_assert_int_eq(dec("\x0f\x32", 2, &in), 0);
	ck_assert(in.kind == PV_INSN_RDMSR && in.len == 2 && !in.forced);
	ck_assert_int_eq(dec("\x0f\x30", 2, &in), 0);
	ck_assert(in.kind == PV_INSN_WRMSR);
	ck_assert_int_eq(dec("\x0f\x31", 2, &in), 0);
	ck_assert(in.kind == PV_INSN_RDTSC);
	ck_assert_int_eq(dec("\x0f\x01\xf9", 3, &in), 0);
	ck_assert(in.kind == PV_INSN_RDTSCP && in.len == 3);
	ck_assert_int_eq(dec("\x0f\x01\xf8", 3, &in), -EINVAL); /* swapgs: not ours */
	ck_assert_int_eq(dec("\x0f\xa2", 2, &in), 0);
	ck_assert(in.kind == PV_INSN_CPUID && !in.forced);
	ck_assert_int_eq(dec("\x0f\x0bxen\x0f\xa2", 7, &in), 0);
	ck_assert(in.kind == PV_INSN_CPUID && in.forced && in.len == 7);
	/* Xen emulates only cpuid behind the signature, and only right behind it. */
	ck_assert_int_eq(dec("\x0f\x0bxen\x0f\x32", 7, &in), -EINVAL);
	ck_assert_int_eq(dec("\x0f\x0bxen\x48\x0f\xa2", 8, &in), -EINVAL);
	ck_assert_int_eq(dec("\x0f\x0bxeN\x0f\xa2", 7, &in), -EINVAL);
	ck_assert_int_eq(dec("\x0f\x0b", 2, &in), -EAGAIN); /* could still be the signature */
	ck_assert_int_eq(dec("\x0f\x0b\x90\x90\x90", 5, &in), -EINVAL); /* plain ud2 */
	ck_assert_int_eq(dec("\xcc", 1, &in), -EINVAL);
}
END_TEST

START_TEST(decode_truncated)
{
	struct pv_insn in;

	ck_assert_int_eq(dec("\x0f", 1, &in), -EAGAIN);
	ck_assert_int_eq(dec("\x0f\x01", 2, &in), -EAGAIN);
	ck_assert_int_eq(dec("\x0f\x0bxen\x0f", 6, &in), -EAGAIN);
	ck_assert_int_eq(dec("\x66\x66\x48", 3, &in), -EAGAIN);
	ck_assert_int_eq(dec("\x48\x8b", 2, &in), -EAGAIN);		/* no ModRM */
	ck_assert_int_eq(dec("\x48\x8b\x04", 3, &in), -EAGAIN);		/* no SIB */
	ck_assert_int_eq(dec("\x48\x8b\x05\x00\x10", 5, &in), -EAGAIN); /* half a disp32 */
	ck_assert_int_eq(dec("", 0, &in), -EAGAIN);
}
END_TEST

START_TEST(decode_prefixes)
{
	struct pv_insn in;
	char buf[32];

	/* 13 prefixes and a 2-byte opcode: 15 bytes, the most there may be. */
	memset(buf, 0x66, 13);
	memcpy(buf + 13, "\x0f\x32", 2);
	ck_assert_int_eq(dec(buf, 15, &in), 0);
	ck_assert_uint_eq(in.len, 15);
	/* One more is 16 bytes: the CPU's #GP, never emulated, however much is readable. */
	memset(buf, 0x2e, 14);
	memcpy(buf + 14, "\x0f\x32", 2);
	ck_assert_int_eq(dec(buf, 16, &in), -EINVAL);
	memset(buf, 0x40, 20);
	ck_assert_int_eq(dec(buf, 20, &in), -EINVAL);
	/* lock and rep are not for these. */
	ck_assert_int_eq(dec("\xf0\x0f\x32", 3, &in), -EINVAL);
	ck_assert_int_eq(dec("\xf3\x0f\x31", 3, &in), -EINVAL);
	ck_assert_int_eq(dec("\xf2\x48\x8b\x00", 4, &in), -EINVAL);
	/* A REX counts only right before the opcode. */
	ck_assert_int_eq(dec("\x48\x66\x8b\x00", 4, &in), 0);
	ck_assert_uint_eq(in.size, 2);
	ck_assert_int_eq(dec("\x66\x48\x8b\x00", 4, &in), 0);
	ck_assert_uint_eq(in.size, 8);
	ck_assert_int_eq(dec("\x4c\x41\x8b\x00", 4, &in), 0); /* the last REX: B, not R or W */
	ck_assert_uint_eq(in.reg, 0);
	ck_assert_int_eq(in.base, 8);
	ck_assert_uint_eq(in.size, 4);
	/* Segment overrides: the last one; the old four mean nothing in 64-bit mode. */
	ck_assert_int_eq(dec("\x64\x48\x8b\x00", 4, &in), 0);
	ck_assert_uint_eq(in.seg, 4);
	ck_assert_int_eq(dec("\x64\x2e\x65\x48\x8b\x00", 6, &in), 0);
	ck_assert_uint_eq(in.seg, 5);
	ck_assert_int_eq(dec("\x65\x3e\x48\x8b\x00", 5, &in), 0);
	ck_assert_uint_eq(in.seg, 0);
	/* 32-bit addressing never reaches the M2P: not emulated. */
	ck_assert_int_eq(dec("\x67\x48\x8b\x00", 4, &in), -EINVAL);
}
END_TEST

START_TEST(decode_modrm_forms)
{
	struct pv_insn in;

	/* mov (%rax,%rdx,8), %rcx */
	ck_assert_int_eq(dec("\x48\x8b\x0c\xd0", 4, &in), 0);
	ck_assert(in.kind == PV_INSN_MOV_LOAD && in.len == 4 && in.size == 8);
	ck_assert(in.reg == 1 && in.base == 0 && in.index == 2 && in.scale == 8 && in.disp == 0);
	/* mov 0x10(%rip), %r9d */
	ck_assert_int_eq(dec("\x44\x8b\x0d\x10\x00\x00\x00", 7, &in), 0);
	ck_assert(in.reg == 9 && in.base == PV_EA_RIP && in.disp == 0x10 && in.size == 4);
	/* mov -8(%rbp), %rax: disp8, sign-extended */
	ck_assert_int_eq(dec("\x48\x8b\x45\xf8", 4, &in), 0);
	ck_assert(in.base == 5 && in.disp == -8 && in.index == -1);
	/* SIB with no base (disp32) and no index (4 without REX.X) */
	ck_assert_int_eq(dec("\x48\x8b\x04\x25\x00\x00\x80\xff", 8, &in), 0);
	ck_assert(in.base == -1 && in.index == -1 && in.disp == (int32_t)0xff800000);
	/* REX.X: index 12 is r12, not "none" */
	ck_assert_int_eq(dec("\x4a\x8b\x04\xe0", 4, &in), 0);
	ck_assert(in.index == 12 && in.base == 0 && in.scale == 8);
	/* rsp as base needs a SIB: (%rsp) */
	ck_assert_int_eq(dec("\x48\x8b\x04\x24", 4, &in), 0);
	ck_assert(in.base == 4 && in.index == -1);
	/* a register operand: nothing to emulate */
	ck_assert_int_eq(dec("\x48\x8b\xc1", 3, &in), -EINVAL);
	/* Stores to a page-table entry (ptwr): mov, xchg, lock cmpxchg. */
	ck_assert_int_eq(dec("\x48\x89\x10", 3, &in), 0);
	ck_assert(in.kind == PV_INSN_MOV_STORE && in.size == 8 && in.reg == 2 && in.base == 0);
	ck_assert_int_eq(dec("\x48\x87\x10", 3, &in), 0);
	ck_assert(in.kind == PV_INSN_XCHG && in.size == 8);
	ck_assert_int_eq(dec("\xf0\x48\x0f\xb1\x16", 5, &in), 0);
	ck_assert(in.kind == PV_INSN_CMPXCHG && in.size == 8 && in.reg == 2 && in.base == 6);
	ck_assert_int_eq(dec("\xf0\x48\x89\x10", 4, &in), -EINVAL); /* lock mov */
	ck_assert_int_eq(dec("\xf3\x48\x0f\xb1\x16", 5, &in), -EINVAL);
	ck_assert_int_eq(dec("\x48\x87\xd0", 3, &in), -EINVAL); /* register xchg */
	/* Read-modify-writes of an entry: and/or/xor with an immediate, bts/btr/btc. */
	ck_assert_int_eq(dec("\x3e\x80\x23\xfd", 4, &in), 0); /* ds andb $0xfd,(%rbx) */
	ck_assert(in.kind == PV_INSN_RMW_IMM && in.op == 4 && in.size == 1 && in.imm == ~2ULL &&
		  in.len == 4);
	ck_assert_int_eq(dec("\xf0\x48\x81\x0b\x00\x01\x00\x00", 8, &in), 0);
	ck_assert(in.op == 1 && in.size == 8 && in.imm == 0x100 && in.len == 8);
	ck_assert_int_eq(dec("\x48\x83\x33\x80", 4, &in), 0); /* xor $-128 */
	ck_assert(in.op == 6 && in.imm == (uint64_t)-128);
	ck_assert_int_eq(dec("\xf0\x48\x0f\xba\x33\x05", 6, &in), 0); /* lock btr $5 */
	ck_assert(in.op == 0x16 && in.imm == 5 && in.len == 6);
	ck_assert_int_eq(dec("\x48\x0f\xba\x23\x05", 5, &in), -EINVAL); /* bt: a read */
	ck_assert_int_eq(dec("\x48\x83\x03\x01", 4, &in), -EINVAL);     /* add */
	ck_assert_int_eq(dec("\x48\x81\x0b\x00\x01", 5, &in), -EAGAIN); /* cut imm32 */
	ck_assert_int_eq(dec("\xf3\x80\x23\xfd", 4, &in), -EINVAL);     /* rep */
	/* any other opcode: not ours */
	ck_assert_int_eq(dec("\x48\x01\x00", 3, &in), -EINVAL);
}
END_TEST


START_TEST(decode_linux_boot_insns)
{
	struct pv_insn in;

	ck_assert_int_eq(dec("\xfa", 1, &in), 0);
	ck_assert(in.kind == PV_INSN_CLI && in.len == 1);
	ck_assert_int_eq(dec("\xfb", 1, &in), 0);
	ck_assert(in.kind == PV_INSN_STI);
	ck_assert_int_eq(dec("\xf0\xfa", 2, &in), -EINVAL); /* lock cli */
	/* mov %cr4,%rax; mov %rdi,%cr4 (REX.R: cr8+, REX.B: r8+) */
	ck_assert_int_eq(dec("\x0f\x20\xe0", 3, &in), 0);
	ck_assert(in.kind == PV_INSN_MOV_FROM_CR && in.ctrl == 4 && in.reg == 0 && in.len == 3);
	ck_assert_int_eq(dec("\x0f\x22\xe7", 3, &in), 0);
	ck_assert(in.kind == PV_INSN_MOV_TO_CR && in.ctrl == 4 && in.reg == 7);
	ck_assert_int_eq(dec("\x45\x0f\x20\xc1", 4, &in), 0);
	ck_assert(in.ctrl == 8 && in.reg == 9 && in.len == 4);
	ck_assert_int_eq(dec("\x0f\x20", 2, &in), -EAGAIN);
	ck_assert_int_eq(dec("\x0f\x06", 2, &in), 0);
	ck_assert(in.kind == PV_INSN_CLTS);
	ck_assert_int_eq(dec("\x0f\x09", 2, &in), 0);
	ck_assert(in.kind == PV_INSN_WBINVD);
	/* Port I/O: imm8 and %dx forms, each size. */
	ck_assert_int_eq(dec("\xef", 1, &in), 0);
	ck_assert(in.kind == PV_INSN_OUT && in.size == 4 && in.port == -1 && in.len == 1);
	ck_assert_int_eq(dec("\x66\xed", 2, &in), 0);
	ck_assert(in.kind == PV_INSN_IN && in.size == 2 && in.port == -1 && in.len == 2);
	ck_assert_int_eq(dec("\xe4\x61", 2, &in), 0);
	ck_assert(in.kind == PV_INSN_IN && in.size == 1 && in.port == 0x61 && in.len == 2);
	ck_assert_int_eq(dec("\xe6", 1, &in), -EAGAIN); /* no port byte */
	ck_assert_int_eq(dec("\xf3\xee", 2, &in), -EINVAL);
}
END_TEST

/* ---- emulation of faults ---- */

static bool fault_at(uint64_t rip, unsigned vec, uint64_t err, uint64_t cr2)
{
	struct hv_exit e = { .kind = HV_EXIT_FAULT, .vector = vec, .error_code = err, .cr2 = cr2 };

	e.frame[0] = rip;
	e.frame[1] = FLAT_KERNEL_CS;
	e.frame[2] = 0x202;
	e.frame[3] = VA_CODE + 0x8000;
	e.frame[4] = FLAT_KERNEL_SS;
	v->regs.rip = rip;
	v->regs_dirty = false;
	return pv_emul_fault(v, &e);
}

static void put(uint64_t va, const char *bytes, size_t n)
{
	memcpy(guest(va), bytes, n);
}

START_TEST(msrs_as_xen_allows)
{
	put(VA_CODE, "\x0f\x32", 2);
	put(VA_CODE + 16, "\x0f\x30", 2);
	v->fs_base = 0x1234567890ULL;
	v->regs.rcx = 0xc0000100;
	ck_assert(fault_at(VA_CODE, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 0x34567890);
	ck_assert_uint_eq(v->regs.rdx, 0x12);
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 2);
	ck_assert(v->regs_dirty);
	/* Only ECX names the MSR: the upper half of rcx is ignored. */
	v->regs.rcx = 0xffffffff00000000ULL | 0xc0000100;
	ck_assert(fault_at(VA_CODE, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 0x34567890);
	/* Write the kernel %gs base, read the user one. */
	v->regs.rcx = 0xc0000101;
	v->regs.rax = 0xffffffff00005000ULL; /* only EAX counts */
	v->regs.rdx = 0x7;
	v->segs_dirty = false;
	ck_assert(fault_at(VA_CODE + 16, 13, 0, 0));
	ck_assert_uint_eq(v->gs_base_kernel, 0x700005000ULL);
	ck_assert(v->segs_dirty);
	v->gs_base_user = 42;
	v->regs.rcx = 0xc0000102;
	ck_assert(fault_at(VA_CODE, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 42);
	/* A non-canonical base: #GP left to the guest, nothing changed. */
	v->regs.rcx = 0xc0000100;
	v->regs.rdx = 0x8000;
	v->regs.rax = 0;
	ck_assert(!fault_at(VA_CODE + 16, 13, 0, 0));
	ck_assert_uint_eq(v->fs_base, 0x1234567890ULL);
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 16);
	ck_assert(!v->regs_dirty);
	/* MSRs at the edges and ones a PV guest may not see. */
	static const uint32_t refused[] = { 0,		0x1b,	    0x3a,	0x174,
					    0xc0000081, 0xc0000082, 0x40000000, 0x40000001,
					    0xffffffff, 0xc0000103 };
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		v->regs.rcx = refused[i];
		v->regs.rax = 0x5555;
		ck_assert_msg(!fault_at(VA_CODE, 13, 0, 0), "rdmsr %#x", refused[i]);
		ck_assert_uint_eq(v->regs.rax, 0x5555);
	}
	/* What Xen shows: the TSC (the engine's), EFER, MISC_ENABLE. */
	v->regs.rcx = 0x10;
	ck_assert(fault_at(VA_CODE, 13, 0, 0));
	ck_assert_uint_eq((v->regs.rdx << 32) | v->regs.rax, 0x123456789abcULL);
	v->regs.rcx = 0xc0000080;
	ck_assert(fault_at(VA_CODE, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax & 0x500, 0x500); /* LME, LMA */
	/* Writing EFER back as read is nothing; changing it is #GP. */
	ck_assert(fault_at(VA_CODE + 16, 13, 0, 0));
	v->regs.rax ^= 0x800; /* NXE off */
	ck_assert(!fault_at(VA_CODE + 16, 13, 0, 0));
	/* A #GP with an error code is a selector fault: never an MSR access. */
	v->regs.rcx = 0xc0000100;
	ck_assert(!fault_at(VA_CODE, 13, 0x18, 0));
	/* The hypercall-page MSR: page index 0 of a RAM frame only. */
	v->regs.rcx = 0x40000000;
	v->regs.rdx = 0;
	v->regs.rax = 0x30000;
	ck_assert(fault_at(VA_CODE + 16, 13, 0, 0));
	ck_assert_uint_eq(d->hcall_page_gpa, 0x30000);
	v->regs.rax = 0x31001;
	ck_assert(!fault_at(VA_CODE + 16, 13, 0, 0));
	v->regs.rax = 0;
	v->regs.rdx = 0x7f;
	ck_assert(!fault_at(VA_CODE + 16, 13, 0, 0));
	ck_assert_uint_eq(d->hcall_page_gpa, 0x30000);
}
END_TEST

static void cpuid_forced(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	put(VA_CODE + 32, "\x0f\x0bxen\x0f\xa2", 7);
	v->regs.rax = 0xdead00000000ULL | leaf;
	v->regs.rcx = sub;
	ck_assert(fault_at(VA_CODE + 32, 6, 0, 0));
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 39);
	r[0] = (uint32_t)v->regs.rax;
	r[1] = (uint32_t)v->regs.rbx;
	r[2] = (uint32_t)v->regs.rcx;
	r[3] = (uint32_t)v->regs.rdx;
	ck_assert_uint_eq(v->regs.rax >> 32, 0); /* 32-bit results, zero-extended */
}

START_TEST(forced_cpuid_xen_leaves)
{
	uint32_t r[4];
	char sig[13] = { 0 };

	cpuid_forced(0x40000000, 0, r);
	ck_assert_uint_eq(r[0], 0x40000005);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	ck_assert_str_eq(sig, "XenVMMXenVMM");
	cpuid_forced(0x40000001, 0, r);
	ck_assert_uint_eq(r[0], (4u << 16) | 17);
	cpuid_forced(0x40000002, 0, r);
	ck_assert_uint_eq(r[0], 1);
	ck_assert_uint_eq(r[1], 0x40000000);
	ck_assert_uint_eq(r[2], XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD);
	cpuid_forced(0x40000003, 2, r);
	ck_assert_uint_eq(r[0], 2000000);
	cpuid_forced(0x40000004, 0, r); /* HVM only */
	ck_assert(!r[0] && !r[1] && !r[2] && !r[3]);
	cpuid_forced(0x40000005, 0, r);
	ck_assert_uint_eq(r[1], 20); /* 1 MiB of RAM: machine addresses of 20 bits */
	cpuid_forced(0x40000006, 0, r);
	ck_assert(!r[0] && !r[1] && !r[2] && !r[3]);
	cpuid_forced(0x400000ff, 0, r);
	ck_assert(!r[0] && !r[1] && !r[2] && !r[3]);
	/* The host's leaves, filtered: a hypervisor, no VMX, no MONITOR, no FSGSBASE. */
	cpuid_forced(1, 0, r);
	ck_assert(r[2] & (1u << 31));
	ck_assert(!(r[2] & ((1u << 5) | (1u << 3))));
	cpuid_forced(7, 0, r);
	ck_assert(!(r[1] & 1));
	cpuid_forced(0x80000001, 0, r);
	ck_assert(!(r[2] & (1u << 2)));
}
END_TEST

START_TEST(forced_cpuid_only_from_ud)
{
	put(VA_CODE + 32, "\x0f\x0bxen\x0f\xa2", 7);
	ck_assert(!fault_at(VA_CODE + 32, 13, 0, 0));
	put(VA_CODE + 32, "\x0f\x0b\x90", 3);
	ck_assert(!fault_at(VA_CODE + 32, 6, 0, 0)); /* a plain ud2 is the guest's */
	put(VA_CODE, "\x0f\x32", 2);
	ck_assert(!fault_at(VA_CODE, 6, 0, 0)); /* rdmsr with a #UD: not an emulation case */
	ck_assert(!fault_at(VA_CODE, 0, 0, 0));
	ck_assert(!fault_at(VA_CODE, 14, 0, VA_CODE));
	/* From guest user mode too, as Xen (no CPUID faulting): the forced cpuid only. */
	put(VA_CODE + 32, "\x0f\x0bxen\x0f\xa2", 7);
	v->user_mode = true;
	v->regs.rax = 0x40000000;
	ck_assert(fault_at(VA_CODE + 32, 6, 0, 0));
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 39);
	ck_assert_uint_eq(v->regs.rbx, XEN_CPUID_SIGNATURE_EBX);
	put(VA_CODE, "\x0f\x32", 2);
	ck_assert(!fault_at(VA_CODE, 13, 0, 0)); /* rdmsr: the user's #GP */
	v->user_mode = false;
}
END_TEST

START_TEST(fetch_stops_at_unmapped)
{
	/* The signature's first bytes at the end of the last mapped page. */
	put(VA_END - 3, "\x0f\x0bx", 3);
	v->regs.rax = 0x40000000;
	ck_assert(!fault_at(VA_END - 3, 6, 0, 0));
	ck_assert_uint_eq(v->regs.rip, VA_END - 3);
	ck_assert(!v->regs_dirty);
	put(VA_END - 1, "\x0f", 1);
	ck_assert(!fault_at(VA_END - 1, 13, 0, 0));
	/* rip in an unmapped page, in a supervisor page, non-canonical, at the top. */
	ck_assert(!fault_at(VA_END, 13, 0, 0));
	hvh_pt(0x4000)[3] &= ~4ULL;
	put(VA_CODE + 0x3000, "\x0f\x32", 2);
	ck_assert(!fault_at(VA_CODE + 0x3000, 13, 0, 0));
	ck_assert(!fault_at(0x0000800000000000ULL, 13, 0, 0));
	ck_assert(!fault_at(~0ULL, 13, 0, 0));
	/* A short instruction at a page end still runs: rdtsc in its last two bytes. */
	put(VA_END - 2, "\x0f\x31", 2);
	ck_assert(fault_at(VA_END - 2, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rip, VA_END);
	ck_assert_uint_eq(v->regs.rax, 0x56789abc);
}
END_TEST

static bool cannot_trap(char *why, size_t len)
{
	snprintf(why, len, "this test engine cannot trap rdtsc");
	return false;
}

/* rdtsc / rdtscp / rdmsr TSC as the guest reads them after a #GP(0): rdx:rax. */
static uint64_t read_tsc(const char *insn, size_t n, bool user)
{
	put(VA_CODE + 64, insn, n);
	v->user_mode = user;
	v->regs.rcx = 0x10; /* MSR_IA32_TSC for rdmsr; rdtscp overwrites it */
	ck_assert(fault_at(VA_CODE + 64, 13, 0, 0));
	v->user_mode = false;
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 64 + n);
	return (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
}

/* The PV clock's time at tsc, from vcpu_time_info as a guest computes it. */
static uint64_t pvclock_at(const struct vcpu_time_info *t, uint64_t tsc)
{
	uint64_t delta = tsc - t->tsc_timestamp;

	delta = t->tsc_shift >= 0 ? delta << t->tsc_shift : delta >> -t->tsc_shift;
	return t->system_time + (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
}

/*
 * tsc_mode: native reads the engine's TSC; always_emulate counts from 0 at
 * create, never goes back, is what rdtsc, rdtscp and rdmsr TSC read (from
 * guest user mode too), and vcpu_time_info's stamp is in its units; Xen's
 * time leaf says which.  An engine that cannot trap refuses always_emulate.
 */
START_TEST(tsc_mode_native_and_emulated)
{
	struct vcpu_time_info *t = &d->shinfo->vcpu_info[0].time;
	uint32_t r[4];
	uint64_t a, b, c, m, sys0;
	struct hv_engine no_trap = *d->eng;

	ck_assert_int_eq(tsc_domain_init(d, SV_TSC_MODE_NATIVE, d->eng), 0);
	ck_assert(!d->vtsc);
	cpuid_forced(0x40000003, 0, r);
	ck_assert_uint_eq(r[0] & 1, 0);
	ck_assert_uint_eq(r[1], SV_TSC_MODE_NATIVE);
	ck_assert_uint_eq(r[2], 2000000);
	ck_assert_uint_eq(r[3], 1); /* Xen's incarnation of a new domain */
	cpuid_forced(0x40000003, 1, r);
	ck_assert(r[0] == 0 && r[1] == 0); /* no offset outside default mode */
	ck_assert_uint_eq(read_tsc("\x0f\x31", 2, false), 0x123456789abcULL);
	put(VA_CODE + 64, "\x0f\x31", 2);
	v->user_mode = true;
	ck_assert(!fault_at(VA_CODE + 64, 13, 0, 0)); /* native: a user #GP is the guest's */
	v->user_mode = false;

	sys0 = hv_now_ns() - hv_host.start_ns;
	ck_assert_int_eq(tsc_domain_init(d, SV_TSC_MODE_ALWAYS_EMULATE, d->eng), 0);
	ck_assert(d->vtsc);
	cpuid_forced(0x40000003, 0, r);
	ck_assert_uint_eq(r[0] & 1, 1);
	ck_assert_uint_eq(r[1], SV_TSC_MODE_ALWAYS_EMULATE);
	a = read_tsc("\x0f\x31", 2, false);
	b = read_tsc("\x0f\x31", 2, false);
	c = read_tsc("\x0f\x01\xf9", 3, false); /* rdtscp */
	ck_assert_uint_eq(v->regs.rcx, 0);
	m = read_tsc("\x0f\x32", 2, false); /* rdmsr TSC */
	ck_assert(a < b && b < c && c < m);
	/* From 0 at create, at 2 GHz: far below the engine's value, and the elapsed time's. */
	ck_assert_uint_lt(a, (hv_now_ns() - hv_host.start_ns - sys0 + 1) * 2 + 2);
	ck_assert_uint_ne(a, 0x123456789abcULL);
	/* Guest user mode gets rdtsc emulated too, not rdmsr. */
	ck_assert_uint_gt(read_tsc("\x0f\x31", 2, true), m);
	put(VA_CODE + 64, "\x0f\x32", 2);
	v->user_mode = true;
	ck_assert(!fault_at(VA_CODE + 64, 13, 0, 0));
	v->user_mode = false;
	ck_assert_uint_ge(d->rdtsc_emulated, 5);
	/* The PV clock: its stamp is the emulated TSC at its system time. */
	time_update(v);
	ck_assert_uint_eq(t->tsc_timestamp, tsc_guest_at(d, t->system_time));
	a = read_tsc("\x0f\x31", 2, false);
	b = pvclock_at(t, a);
	ck_assert_uint_ge(b + 2, t->system_time);
	ck_assert_uint_le(b, hv_now_ns() - hv_host.start_ns + 1000000);

	/* default: native exactly when the host TSC is invariant (Xen's host_tsc_is_safe). */
	ck_assert_int_eq(tsc_domain_init(d, SV_TSC_MODE_DEFAULT, d->eng), 0);
	ck_assert(d->vtsc == !tsc_host_safe());
	/* An engine that cannot make rdtsc trap: always_emulate refused, default native. */
	no_trap.tsc_trap_ok = cannot_trap;
	ck_assert_int_eq(tsc_domain_init(d, SV_TSC_MODE_ALWAYS_EMULATE, &no_trap), -EOPNOTSUPP);
	ck_assert_int_eq(tsc_domain_init(d, SV_TSC_MODE_DEFAULT, &no_trap), 0);
	ck_assert(!d->vtsc);
	ck_assert_int_eq(tsc_domain_init(d, SV_TSC_MODE_NATIVE_PARAVIRT, d->eng), -EINVAL);
	ck_assert_int_eq(tsc_domain_init(d, 77, d->eng), -EINVAL);
}
END_TEST

START_TEST(m2p_loads_at_the_fixed_address)
{
	const uint64_t *m2p = mem_gpa(&d->mem, d->m2p_tab_gpa, 8 * 0x20);

	/* mov (%rax,%rdx,8), %rcx */
	put(VA_CODE, "\x48\x8b\x0c\xd0", 4);
	v->regs.rax = MACH2PHYS_VIRT_START;
	v->regs.rdx = 0x12;
	ck_assert(fault_at(VA_CODE, 14, 5, MACH2PHYS_VIRT_START + 0x90));
	ck_assert_uint_eq(v->regs.rcx, m2p[0x12]);
	ck_assert_uint_eq(v->regs.rcx, 0x12); /* frame 0x12 is pfn 0x12 */
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 4);
	/* 32-bit load: zero-extended; 16-bit: merged. */
	put(VA_CODE, "\x8b\x0c\xd0", 3);
	v->regs.rcx = ~0ULL;
	ck_assert(fault_at(VA_CODE, 14, 5, MACH2PHYS_VIRT_START + 0x90));
	ck_assert_uint_eq(v->regs.rcx, 0x12);
	put(VA_CODE, "\x66\x8b\x0c\xd0", 4);
	v->regs.rcx = ~0ULL;
	ck_assert(fault_at(VA_CODE, 14, 5, MACH2PHYS_VIRT_START + 0x90));
	ck_assert_uint_eq(v->regs.rcx, 0xffffffffffff0012ULL);
	/* Past the end of the table, a write, a fetch, a cr2 that is not the operand: left. */
	put(VA_CODE, "\x48\x8b\x0c\xd0", 4);
	v->regs.rdx = d->m2p_entries;
	ck_assert(!fault_at(VA_CODE, 14, 5, MACH2PHYS_VIRT_START + 8 * d->m2p_entries));
	v->regs.rdx = 0x12;
	ck_assert(!fault_at(VA_CODE, 14, 7, MACH2PHYS_VIRT_START + 0x90));
	ck_assert(!fault_at(VA_CODE, 14, 0x15, MACH2PHYS_VIRT_START + 0x90));
	ck_assert(!fault_at(VA_CODE, 14, 5, MACH2PHYS_VIRT_START + 0x98));
	/* An 8-byte load straddling the end of the table. */
	v->regs.rdx = 0;
	put(VA_CODE, "\x48\x8b\x88\x00\x00\x00\x00", 7); /* mov disp32(%rax), %rcx */
	memcpy(guest(VA_CODE + 3), &(int32_t){ (int32_t)(8 * d->m2p_entries - 4) }, 4);
	ck_assert(!fault_at(VA_CODE, 14, 5, MACH2PHYS_VIRT_START + 8 * d->m2p_entries - 4));
	/* Without an M2P nothing is emulated. */
	put(VA_CODE, "\x48\x8b\x0c\xd0", 4);
	d->m2p_l3_gpa = 0;
	ck_assert(!fault_at(VA_CODE, 14, 5, MACH2PHYS_VIRT_START + 0x90));
}
END_TEST


/* What Linux's early boot does at CPL3 (Debian's 6.1 as a domU): each as Xen answers it. */
START_TEST(cli_sti_need_the_io_privilege)
{
	struct vcpu_info *vi = vcpu_info_of(v);

	put(VA_CODE, "\xfa", 1);
	vi->evtchn_upcall_mask = 0;
	v->iopl = 0;
	ck_assert(!fault_at(VA_CODE, 13, 0, 0)); /* #GP to the guest, as Xen */
	ck_assert_uint_eq(v->regs.rip, VA_CODE);
	v->iopl = 1;
	ck_assert(fault_at(VA_CODE, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 1);
	/* Skipped, not obeyed: Xen leaves the event mask alone ("fast & loose"). */
	ck_assert_uint_eq(vi->evtchn_upcall_mask, 0);
	/* Never from user mode below IOPL 3. */
	v->user_mode = true;
	ck_assert(!fault_at(VA_CODE, 13, 0, 0));
	v->user_mode = false;
}
END_TEST

START_TEST(control_registers_as_xen_shows_them)
{
	uint32_t r[4];

	put(VA_CODE, "\x0f\x20\xc0", 3);      /* mov %cr0,%rax */
	put(VA_CODE + 8, "\x0f\x22\xc3", 3);  /* mov %rbx,%cr0 */
	put(VA_CODE + 16, "\x0f\x20\xe0", 3); /* mov %cr4,%rax */
	put(VA_CODE + 24, "\x0f\x22\xe3", 3); /* mov %rbx,%cr4 */
	put(VA_CODE + 32, "\x0f\x20\xd9", 3); /* mov %cr3,%rcx */
	put(VA_CODE + 40, "\x0f\x22\xdb", 3); /* mov %rbx,%cr3 */
	put(VA_CODE + 48, "\x0f\x06", 2);     /* clts */
	put(VA_CODE + 56, "\x44\x0f\x20\xc2", 4); /* mov %cr8,%rdx: none */
	ck_assert(fault_at(VA_CODE, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 0x80050033);
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 3);
	/* CR0: TS may change, nothing else. */
	v->regs.rbx = 0x80050033 | 8;
	ck_assert(fault_at(VA_CODE + 8, 13, 0, 0));
	ck_assert(v->fpu_ts && v->fpu_ts_dirty);
	ck_assert(fault_at(VA_CODE, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 0x80050033 | 8);
	ck_assert(fault_at(VA_CODE + 48, 13, 0, 0));
	ck_assert(!v->fpu_ts);
	v->regs.rbx = 0x80050033 & ~0x10000ULL; /* WP off */
	ck_assert(!fault_at(VA_CODE + 8, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 8);
	/* CR4: the host bits a guest sees; DE is the guest's; VMXE, SMEP... are dropped. */
	ck_assert(fault_at(VA_CODE + 16, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 0x6a0);
	v->regs.rbx = 0x6a0 | 0x8 | 0x2000 | 0x100000;
	ck_assert(fault_at(VA_CODE + 24, 13, 0, 0));
	ck_assert(fault_at(VA_CODE + 16, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 0x6a8);
	/* OSXSAVE only where cpuid offers XSAVE: never on an engine without it. */
	hvh_engine.no_xsave = true;
	pv_cpuid(v, 1, 0, r);
	ck_assert_uint_eq(r[2] & ((1u << 26) | (1u << 27) | (1u << 28)), 0);
	pv_cpuid(v, 0xd, 0, r);
	ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
	v->regs.rbx = 0x6a0 | (1u << 18);
	ck_assert(fault_at(VA_CODE + 24, 13, 0, 0));
	ck_assert(fault_at(VA_CODE + 16, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 0x6a0);
	hvh_engine.no_xsave = false;
	/* No IBRS/IBPB, STIBP or SSBD: their MSRs are not writable here. */
	pv_cpuid(v, 7, 0, r);
	ck_assert_uint_eq(r[3] & ((1u << 26) | (1u << 27) | (1u << 31)), 0);
	pv_cpuid(v, 0x80000008, 0, r);
	ck_assert_uint_eq(r[1] & ((1u << 12) | (1u << 14) | (1u << 15) | (1u << 24) | (1u << 25)), 0);
	/* CR3 reads the base; writing it is the guest's hypercall's job. */
	ck_assert(fault_at(VA_CODE + 32, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rcx, 0x1000);
	v->regs.rbx = 0x2000;
	ck_assert(!fault_at(VA_CODE + 40, 13, 0, 0));
	ck_assert_uint_eq(v->cr3, 0x1000);
	ck_assert(!fault_at(VA_CODE + 56, 13, 0, 0));
	/* None of it from user mode. */
	v->user_mode = true;
	ck_assert(!fault_at(VA_CODE, 13, 0, 0));
	v->user_mode = false;
}
END_TEST

START_TEST(port_io_reads_ones_writes_nothing)
{
	put(VA_CODE, "\xef", 1);	 /* out %eax,(%dx) */
	put(VA_CODE + 8, "\xed", 1);	 /* in (%dx),%eax */
	put(VA_CODE + 16, "\xe4\x61", 2); /* in $0x61,%al */
	put(VA_CODE + 24, "\x66\xed", 2); /* in (%dx),%ax */
	v->regs.rdx = 0xcf8;
	v->regs.rax = 0x80000000;
	v->iopl = 0;
	ck_assert(!fault_at(VA_CODE, 13, 0, 0));
	v->iopl = 1;
	ck_assert(fault_at(VA_CODE, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 1);
	v->regs.rax = 0x1234567800000000ULL;
	ck_assert(fault_at(VA_CODE + 8, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 0xffffffffULL); /* 32-bit: zero-extended */
	v->regs.rax = 0x1234567800000000ULL;
	ck_assert(fault_at(VA_CODE + 16, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 0x12345678000000ffULL);
	ck_assert_uint_eq(v->regs.rip, VA_CODE + 18);
	v->regs.rax = 0;
	ck_assert(fault_at(VA_CODE + 24, 13, 0, 0));
	ck_assert_uint_eq(v->regs.rax, 0xffff);
}
END_TEST

/* A kernel store to a read-only page: ptwr only with VMASST_TYPE_writable_pagetables and an L1 target. */
START_TEST(ptwr_needs_the_vm_assist_and_an_l1)
{
	put(VA_CODE, "\x48\x87\x10", 3); /* xchg %rdx,(%rax) */
	v->regs.rax = VA_CODE + 0x1000;
	v->regs.rdx = 0x5555;
	d->vm_assist &= ~(1ULL << VMASST_TYPE_writable_pagetables);
	ck_assert(!fault_at(VA_CODE, 14, 7, VA_CODE + 0x1000));
	d->vm_assist |= 1ULL << VMASST_TYPE_writable_pagetables;
	/* The target is a plain data page here, no L1: the fault stays the guest's. */
	ck_assert(!fault_at(VA_CODE, 14, 7, VA_CODE + 0x1000));
	ck_assert_uint_eq(v->regs.rdx, 0x5555);
	ck_assert_uint_eq(v->regs.rip, VA_CODE);
	/* Not the operand's address, not a write, from user mode, a 4-byte store: never. */
	ck_assert(!fault_at(VA_CODE, 14, 7, VA_CODE + 0x1008));
	v->user_mode = true;
	ck_assert(!fault_at(VA_CODE, 14, 7, VA_CODE + 0x1000));
	v->user_mode = false;
	put(VA_CODE, "\x87\x10", 2);
	ck_assert(!fault_at(VA_CODE, 14, 7, VA_CODE + 0x1000));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pv_emul");
	TCase *dc = tcase_create("decode");
	TCase *tc = tcase_create("emulate");
	SRunner *sr;
	int failed;

	tcase_add_test(dc, decode_each_kind);
	tcase_add_test(dc, decode_truncated);
	tcase_add_test(dc, decode_prefixes);
	tcase_add_test(dc, decode_modrm_forms);
	tcase_add_test(dc, decode_linux_boot_insns);
	suite_add_tcase(s, dc);
	tcase_add_checked_fixture(tc, setup, hvh_teardown);
	tcase_add_test(tc, msrs_as_xen_allows);
	tcase_add_test(tc, forced_cpuid_xen_leaves);
	tcase_add_test(tc, forced_cpuid_only_from_ud);
	tcase_add_test(tc, fetch_stops_at_unmapped);
	tcase_add_test(tc, m2p_loads_at_the_fixed_address);
	tcase_add_test(tc, tsc_mode_native_and_emulated);
	tcase_add_test(tc, cli_sti_need_the_io_privilege);
	tcase_add_test(tc, control_registers_as_xen_shows_them);
	tcase_add_test(tc, port_io_reads_ones_writes_nothing);
	tcase_add_test(tc, ptwr_needs_the_vm_assist_and_an_l1);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
