// SPDX-License-Identifier: MIT
/*
 * What Xen emulates for an x86-64 PV guest after a fault: rdmsr/wrmsr of
 * the MSRs a PV kernel may touch, cpuid (Xen's leaves, the host's
 * filtered) through the forced-emulation signature, rdtsc/rdtscp, and
 * loads from the M2P at Xen's fixed MACH2PHYS_VIRT_START where the engine
 * cannot map it.  Anything else is left to the guest's trap table.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/xen-x86_64.h>
#include "hv.h"
#include "mmu.h"
#include "pv_emul.h"

/* ---- decoder: pure, bounded by avail and by PV_INSN_MAX ---- */

static const uint8_t forced_sig[5] = { 0x0f, 0x0b, 'x', 'e', 'n' };

/* 0 when bytes [0, end) may be read, else why not. */
static int need(size_t end, size_t avail)
{
	if (end > PV_INSN_MAX)
		return -EINVAL; /* the CPU would have raised #GP for the length */
	return end > avail ? -EAGAIN : 0;
}

static int decode_modrm(const uint8_t *buf, size_t avail, size_t pos, unsigned rex,
			struct pv_insn *out)
{
	uint8_t modrm, mod, rm;
	unsigned disp_len = 0;
	int ret;

	if ((ret = need(pos + 1, avail)))
		return ret;
	modrm = buf[pos++];
	mod = modrm >> 6;
	rm = modrm & 7;
	out->reg = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
	if (mod == 3)
		return -EINVAL; /* a register operand: nothing to emulate */
	out->scale = 1;
	if (rm == 4) {
		uint8_t sib;
		unsigned idx;

		if ((ret = need(pos + 1, avail)))
			return ret;
		sib = buf[pos++];
		out->scale = 1u << (sib >> 6);
		idx = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);
		out->index = idx == 4 ? -1 : (int)idx;
		if ((sib & 7) == 5 && mod == 0) {
			out->base = -1;
			disp_len = 4;
		} else {
			out->base = (sib & 7) | (rex & 1 ? 8 : 0);
		}
	} else if (rm == 5 && mod == 0) {
		out->base = PV_EA_RIP;
		disp_len = 4;
	} else {
		out->base = rm | (rex & 1 ? 8 : 0);
	}
	if (mod == 1)
		disp_len = 1;
	else if (mod == 2)
		disp_len = 4;
	if ((ret = need(pos + disp_len, avail)))
		return ret;
	if (disp_len == 1) {
		out->disp = (int8_t)buf[pos];
	} else if (disp_len == 4) {
		int32_t d32;
		memcpy(&d32, buf + pos, 4);
		out->disp = d32;
	}
	out->len = (unsigned)(pos + disp_len);
	return 0;
}

/* The immediate of n bytes after the ModRM operand, sign-extended; -EAGAIN if cut. */
static int take_imm(const uint8_t *buf, size_t avail, unsigned n, struct pv_insn *out)
{
	int64_t v = 0;
	int ret;

	if ((ret = need(out->len + n, avail)))
		return ret;
	if (n == 1)
		v = (int8_t)buf[out->len];
	else if (n == 2)
		v = (int16_t)(buf[out->len] | buf[out->len + 1] << 8);
	else
		v = (int32_t)((uint32_t)buf[out->len] | (uint32_t)buf[out->len + 1] << 8 |
			      (uint32_t)buf[out->len + 2] << 16 | (uint32_t)buf[out->len + 3] << 24);
	out->imm = (uint64_t)v;
	out->len += n;
	return 0;
}

int pv_emul_decode(const uint8_t *buf, size_t avail, struct pv_insn *out)
{
	bool lockrep = false, lock = false, opsize16 = false, addr32 = false;
	unsigned rex = 0, seg = 0;
	size_t i = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	out->base = out->index = -1;
	/* Xen's forced-emulation signature; Xen emulates only a plain cpuid behind it. */
	if (!memcmp(buf, forced_sig, avail < 5 ? avail : 5)) {
		if (avail < 7)
			return -EAGAIN;
		if (buf[5] != 0x0f || buf[6] != 0xa2)
			return -EINVAL;
		out->kind = PV_INSN_CPUID;
		out->forced = true;
		out->len = 7;
		return 0;
	}
	/* Prefixes: a REX counts only right before the opcode. */
	for (;; i++) {
		uint8_t b;

		if ((ret = need(i + 1, avail)))
			return ret;
		b = buf[i];
		if ((b & 0xf0) == 0x40) {
			rex = b;
			continue;
		}
		if (b == 0xf0 || b == 0xf2 || b == 0xf3) {
			lockrep = true;
			lock |= b == 0xf0;
		}
		else if (b == 0x66)
			opsize16 = true;
		else if (b == 0x67)
			addr32 = true;
		else if (b == 0x64 || b == 0x65)
			seg = b == 0x64 ? 4 : 5;
		else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e)
			seg = 0; /* no effect in 64-bit mode */
		else
			break;
		rex = 0;
	}
	if (buf[i] == 0x0f) {
		if ((ret = need(i + 2, avail)))
			return ret;
		if (buf[i + 1] == 0xba && !(lockrep && !lock) && !addr32) {
			out->kind = PV_INSN_RMW_IMM;
			out->size = rex & 8 ? 8 : opsize16 ? 2 : 4;
			out->seg = seg;
			if ((ret = decode_modrm(buf, avail, i + 2, rex, out)))
				return ret;
			out->op = 0x10 | (out->reg & 7);
			if (out->op < 0x15)
				return -EINVAL; /* bt: a read, never a page-table write */
			if ((ret = take_imm(buf, avail, 1, out)))
				return ret;
			out->imm &= 0xff;
			return 0;
		}
		if (buf[i + 1] == 0xb1 && !(lockrep && !lock) && !addr32) {
			out->kind = PV_INSN_CMPXCHG;
			out->size = rex & 8 ? 8 : opsize16 ? 2 : 4;
			out->seg = seg;
			return decode_modrm(buf, avail, i + 2, rex, out);
		}
		if (lockrep)
			return -EINVAL;
		switch (buf[i + 1]) {
		case 0x32:
			out->kind = PV_INSN_RDMSR;
			break;
		case 0x30:
			out->kind = PV_INSN_WRMSR;
			break;
		case 0xa2:
			out->kind = PV_INSN_CPUID;
			break;
		case 0x31:
			out->kind = PV_INSN_RDTSC;
			break;
		case 0x06:
			out->kind = PV_INSN_CLTS;
			break;
		case 0x09:
			out->kind = PV_INSN_WBINVD;
			break;
		case 0x20:
		case 0x22:
			/* The mod field is ignored: always register operands. */
			if ((ret = need(i + 3, avail)))
				return ret;
			out->kind = buf[i + 1] == 0x20 ? PV_INSN_MOV_FROM_CR : PV_INSN_MOV_TO_CR;
			out->reg = (buf[i + 2] & 7) | (rex & 1 ? 8 : 0);
			out->ctrl = ((buf[i + 2] >> 3) & 7) | (rex & 4 ? 8 : 0);
			out->len = (unsigned)(i + 3);
			return 0;
		case 0x01:
			if ((ret = need(i + 3, avail)))
				return ret;
			if (buf[i + 2] != 0xf9)
				return -EINVAL;
			out->kind = PV_INSN_RDTSCP;
			out->len = (unsigned)(i + 3);
			return 0;
		default:
			return -EINVAL;
		}
		out->len = (unsigned)(i + 2);
		return 0;
	}
	if ((buf[i] & 0xf4) == 0xe4) { /* e4-e7, ec-ef */
		bool imm = !(buf[i] & 8);

		if (lockrep)
			return -EINVAL;
		if (imm && (ret = need(i + 2, avail)))
			return ret;
		out->kind = buf[i] & 2 ? PV_INSN_OUT : PV_INSN_IN;
		out->size = buf[i] & 1 ? (opsize16 ? 2 : 4) : 1;
		out->port = imm ? buf[i + 1] : -1;
		out->len = (unsigned)(i + 1 + imm);
		return 0;
	}
	if (buf[i] == 0xfa || buf[i] == 0xfb) {
		if (lockrep)
			return -EINVAL;
		out->kind = buf[i] == 0xfa ? PV_INSN_CLI : PV_INSN_STI;
		out->len = (unsigned)(i + 1);
		return 0;
	}
	if ((buf[i] == 0x80 || buf[i] == 0x81 || buf[i] == 0x83) && !(lockrep && !lock) && !addr32) {
		out->kind = PV_INSN_RMW_IMM;
		out->size = buf[i] == 0x80 ? 1 : rex & 8 ? 8 : opsize16 ? 2 : 4;
		out->seg = seg;
		if ((ret = decode_modrm(buf, avail, i + 1, rex, out)))
			return ret;
		out->op = out->reg & 7;
		if (out->op != 1 && out->op != 4 && out->op != 6)
			return -EINVAL; /* add, adc, sbb, sub, cmp: not what a kernel does to an entry */
		return take_imm(buf, avail, buf[i] == 0x81 ? (out->size == 2 ? 2 : 4) : 1, out);
	}
	if (buf[i] == 0x89 || buf[i] == 0x87) {
		if ((buf[i] == 0x89 && lockrep) || (lockrep && !lock) || addr32)
			return -EINVAL;
		out->kind = buf[i] == 0x89 ? PV_INSN_MOV_STORE : PV_INSN_XCHG;
		out->size = rex & 8 ? 8 : opsize16 ? 2 : 4;
		out->seg = seg;
		return decode_modrm(buf, avail, i + 1, rex, out);
	}
	if (buf[i] == 0x8b) {
		if (lockrep || addr32)
			return -EINVAL;
		out->kind = PV_INSN_MOV_LOAD;
		out->size = rex & 8 ? 8 : opsize16 ? 2 : 4;
		out->seg = seg;
		return decode_modrm(buf, avail, i + 1, rex, out);
	}
	return -EINVAL;
}

/* ---- the emulation ---- */

#define MSR_TSC 0x00000010u
#define MSR_PLATFORM_INFO 0x000000ceu
#define MSR_MISC_FEATURES 0x00000140u
#define MSR_MISC_ENABLE 0x000001a0u
#define MSR_PERF_CAPS 0x00000345u
#define MSR_EFER 0xc0000080u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_SHADOW_GS_BASE 0xc0000102u
#define MSR_XEN_HYPERCALL 0x40000000u /* XEN_CPUID leaf 2's EBX: the hypercall-page MSR */

/* What the guest reads in EFER: long mode active, syscall and NX on (SVME never shown). */
#define PV_EFER 0xd01ULL
/* MISC_ENABLE as Xen shows it: fast strings; BTS and PEBS unavailable; no MONITOR. */
#define PV_MISC_ENABLE ((1ULL << 0) | (1ULL << 11) | (1ULL << 12))

static uint64_t *gpr(struct hv_regs *r, unsigned n)
{
	static const size_t off[8] = {
		offsetof(struct hv_regs, rax), offsetof(struct hv_regs, rcx),
		offsetof(struct hv_regs, rdx), offsetof(struct hv_regs, rbx),
		offsetof(struct hv_regs, rsp), offsetof(struct hv_regs, rbp),
		offsetof(struct hv_regs, rsi), offsetof(struct hv_regs, rdi),
	};

	if (n < 8)
		return (uint64_t *)((char *)r + off[n]);
	return &r->r8 + (n - 8);
}

static void log_refused(struct hv_vcpu *v, const char *what, uint32_t msr, uint64_t val)
{
	if (v->msr_logged)
		return;
	v->msr_logged = true;
	hv_log("d%u v%u: %s of MSR %#x (value %#llx) refused: #GP to the guest (logged once)",
	       v->dom->domid, v->id, what, msr, (unsigned long long)val);
}

/* rdmsr as Xen 4.17 answers a 64-bit PV kernel; false: #GP. */
static bool msr_read(struct hv_vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_FS_BASE:
		*val = v->fs_base;
		return true;
	case MSR_GS_BASE:
		*val = v->gs_base_kernel;
		return true;
	case MSR_SHADOW_GS_BASE:
		*val = v->gs_base_user;
		return true;
	case MSR_TSC:
		*val = tsc_guest_now(v); /* emulated under vtsc, as Xen's guest_rdmsr */
		return true;
	case MSR_EFER:
		*val = PV_EFER;
		return true;
	case MSR_MISC_ENABLE:
		*val = PV_MISC_ENABLE;
		return true;
	case MSR_PERF_CAPS:	/* no extra capabilities */
	case MSR_PLATFORM_INFO: /* no CPUID faulting offered */
	case MSR_MISC_FEATURES: /* CPUID faulting off */
		*val = 0;
		return true;
	default: /* the hypercall MSR is write-only; the rest is not the guest's to see */
		log_refused(v, "rdmsr", msr, 0);
		return false;
	}
}

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/* wrmsr as Xen 4.17 takes it from a 64-bit PV kernel; false: #GP. */
static bool msr_write(struct hv_vcpu *v, uint32_t msr, uint64_t val)
{
	switch (msr) {
	case MSR_FS_BASE:
		if (pv_set_segment_base(v, SEGBASE_FS, val))
			break;
		return true;
	case MSR_GS_BASE:
		if (pv_set_segment_base(v, SEGBASE_GS_KERNEL, val))
			break;
		return true;
	case MSR_SHADOW_GS_BASE:
		if (pv_set_segment_base(v, SEGBASE_GS_USER, val))
			break;
		return true;
	case MSR_XEN_HYPERCALL:
		/* Page index 0 only; the frame must be the guest's RAM. */
		if ((val & (PAGE_SIZE - 1)) || !canonical(val) ||
		    pv_write_hypercall_page(v->dom, val))
			break;
		return true;
	case MSR_EFER:
		if (val != PV_EFER)
			break;
		return true; /* writing back what it reads changes nothing */
	case MSR_MISC_ENABLE:
		if (val != PV_MISC_ENABLE)
			break;
		return true;
	case MSR_MISC_FEATURES:
		if (val)
			break; /* CPUID faulting is not offered */
		return true;
	default:
		break;
	}
	log_refused(v, "wrmsr", msr, val);
	return false;
}

static void host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

/* Bits of the host's leaves a PV guest must not see (what Xen's PV policy leaves out). */
#define L1_ECX_HIDE                                                                                \
	((1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) |       \
	 (1u << 10) | (1u << 14) | (1u << 15) | (1u << 17) | (1u << 18) | (1u << 21) | (1u << 24))
#define L1_EDX_HIDE                                                                                \
	((1u << 1) | (1u << 3) | (1u << 9) | (1u << 12) | (1u << 13) | (1u << 17) | (1u << 18) |   \
	 (1u << 21) | (1u << 29) | (1u << 31))
#define L7_EBX_HIDE                                                                                \
	((1u << 0) | (1u << 1) | (1u << 2) | (1u << 7) | (1u << 10) | (1u << 12) | (1u << 14) |    \
	 (1u << 15) | (1u << 20) | (1u << 25))
#define L7_ECX_HIDE ((1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 16) | (1u << 30))

/*
 * What an engine without CR4.OSXSAVE hides (no_xsave): XSAVE, OSXSAVE and
 * the extensions that need the YMM/ZMM state (leaf 1: FMA AVX F16C; leaf 7:
 * AVX2, AVX-512, AMX, AVX-VNNI; 0x80000001: XOP FMA4), and leaf 0xd.
 */
#define L1_ECX_XSAVE ((1u << 12) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 29))
#define L7_EBX_XSAVE                                                                               \
	((1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | \
	 (1u << 30) | (1u << 31))
#define L7_ECX_XSAVE ((1u << 1) | (1u << 6) | (1u << 9) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 14))
#define L7_EDX_XSAVE ((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25))
#define L7S1_EAX_XSAVE ((1u << 4) | (1u << 5))
#define E1_ECX_XSAVE ((1u << 11) | (1u << 16))

/*
 * The speculation controls behind MSR_SPEC_CTRL (0x48) and MSR_PRED_CMD
 * (0x49): IBRS/IBPB, STIBP, SSBD (Intel leaf 7 EDX; AMD 0x80000008 EBX).
 * Xen writes those MSRs for a PV guest; neither engine can (the guest's
 * wrmsr reaches a host process), so they are not offered and the guest
 * does not rely on a barrier it would not get (Linux then reports its
 * mitigations as it finds them, rather than issuing IBPB at each switch
 * into a #GP).
 */
#define L7_EDX_SPEC_CTRL ((1u << 26) | (1u << 27) | (1u << 31))
#define E8_EBX_SPEC_CTRL ((1u << 12) | (1u << 14) | (1u << 15) | (1u << 24) | (1u << 25))

/* Xen's own leaves at XEN_CPUID_FIRST_LEAF, as 4.17 fills them for a PV domain. */
static void xen_leaf(struct hv_vcpu *v, uint32_t idx, uint32_t sub, uint32_t r[4])
{
	struct hv_domain *d = v->dom;
	uint32_t h[4];

	memset(r, 0, 4 * sizeof(r[0]));
	switch (idx) {
	case 0:
		r[0] = XEN_CPUID_FIRST_LEAF + XEN_CPUID_MAX_NUM_LEAVES;
		r[1] = XEN_CPUID_SIGNATURE_EBX;
		r[2] = XEN_CPUID_SIGNATURE_ECX;
		r[3] = XEN_CPUID_SIGNATURE_EDX;
		break;
	case 1:
		r[0] = (HV_XEN_MAJOR << 16) | HV_XEN_MINOR;
		break;
	case 2:
		r[0] = 1; /* one hypercall page */
		r[1] = MSR_XEN_HYPERCALL;
		r[2] = XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD; /* mmu.c honours it */
		break;
	case 3: /* time */
		if (sub == 0) {
			host_cpuid(0x80000000, 0, h);
			uint32_t ext = h[0];
			if (ext >= 0x80000007) {
				host_cpuid(0x80000007, 0, h);
				if (h[3] & (1u << 8))
					r[0] |= 2; /* invariant TSC: reliable */
			}
			if (ext >= 0x80000001) {
				host_cpuid(0x80000001, 0, h);
				if (h[3] & (1u << 27))
					r[0] |= 4; /* rdtscp */
			}
			r[0] |= d->vtsc; /* bit 0: rdtsc emulated */
			r[1] = d->tsc_mode;
			r[2] = (uint32_t)hv_host.tsc_khz; /* the guest's rate: the host's */
			r[3] = 1; /* incarnation: Xen's starts at 1 and counts migrations */
		} else if (sub == 1) {
			struct vcpu_info *vi = vcpu_info_of(v);
			/* Xen's offset: vtsc_offset without emulation in default mode, else 0. */
			uint64_t off =
			    !d->vtsc && d->tsc_mode == SV_TSC_MODE_DEFAULT ? d->vtsc_offset_ns : 0;
			r[0] = (uint32_t)off;
			r[1] = (uint32_t)(off >> 32);
			if (vi) {
				r[2] =
				    __atomic_load_n(&vi->time.tsc_to_system_mul, __ATOMIC_RELAXED);
				r[3] = (uint32_t)(int32_t)__atomic_load_n(&vi->time.tsc_shift,
									  __ATOMIC_RELAXED);
			}
		} else if (sub == 2) {
			r[0] = (uint32_t)hv_host.tsc_khz;
		}
		break;
	case 5: /* PV parameters: the machine address width */
		if (sub == 0 && d->mem.nr_ram) {
			const struct sv_mem_range *top = &d->mem.ram[d->mem.nr_ram - 1];
			uint64_t last = top->gpa + top->size - 1;
			unsigned bits = 64 - (unsigned)__builtin_clzll(last | 1);
			r[1] = bits;
		}
		break;
	default: /* 4: HVM only; nothing beyond the last */
		break;
	}
}

void pv_cpuid(struct hv_vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	if (leaf >= XEN_CPUID_FIRST_LEAF && leaf < XEN_CPUID_FIRST_LEAF + 0x10000) {
		/* The host's own hypervisor leaves never show through. */
		if (leaf - XEN_CPUID_FIRST_LEAF <= XEN_CPUID_MAX_NUM_LEAVES)
			xen_leaf(v, leaf - XEN_CPUID_FIRST_LEAF, sub, r);
		else
			memset(r, 0, 4 * sizeof(r[0]));
		return;
	}
	host_cpuid(leaf, sub, r);
	if (v->dom && v->dom->eng && v->dom->eng->no_xsave) {
		if (leaf == 1)
			r[2] &= ~L1_ECX_XSAVE;
		else if (leaf == 7 && sub == 0) {
			r[1] &= ~L7_EBX_XSAVE;
			r[2] &= ~L7_ECX_XSAVE;
			r[3] &= ~L7_EDX_XSAVE;
		} else if (leaf == 7 && sub == 1)
			r[0] &= ~L7S1_EAX_XSAVE;
		else if (leaf == 0xd)
			memset(r, 0, 4 * sizeof(r[0]));
		else if (leaf == 0x80000001)
			r[2] &= ~E1_ECX_XSAVE;
	}
	switch (leaf) {
	case 1:
		r[1] = (r[1] & 0x00ffffffu) | ((v->id * 2) << 24); /* APIC id as Xen gives it */
		r[2] = (r[2] & ~L1_ECX_HIDE) | (1u << 31); /* and "running on a hypervisor" */
		r[3] &= ~L1_EDX_HIDE;
		break;
	case 5:	  /* MONITOR/MWAIT: hidden */
	case 6:	  /* power management */
	case 0xa: /* no vPMU */
		memset(r, 0, 4 * sizeof(r[0]));
		break;
	case 7:
		if (sub == 0) {
			r[1] &= ~L7_EBX_HIDE;
			r[2] &= ~L7_ECX_HIDE;
			r[3] &= ~L7_EDX_SPEC_CTRL;
		}
		break;
	case 0x80000001:
		r[2] &= ~(1u << 2);  /* SVM */
		r[3] &= ~(1u << 26); /* 1 GiB pages */
		break;
	case 0x80000008:
		r[1] &= ~E8_EBX_SPEC_CTRL;
		break;
	default:
		break;
	}
}

/*
 * Control registers as Xen's PV read_cr/write_cr show them.  CR0: the
 * host's fixed bits (PE MP ET NE WP PG) with the virtual TS; a write may
 * change TS alone.  CR2: the last #PF address bounced (vcpu_info).  CR3:
 * the current base.  CR4: the host bits a guest sees (PAE PGE OSFXSR
 * OSXMMEXCPT) and the guest's own (DE, OSXSAVE when XSAVE is offered),
 * as pv_fixup_guest_cr4; other bits written are dropped.
 */
#define PV_CR0 0x80050033ULL
#define CR0_TS 0x8ULL
#define CR4_DE 0x8ULL
#define CR4_OSXSAVE (1ULL << 18)
#define PV_CR4_VISIBLE (0x20ULL | 0x80ULL | 0x200ULL | 0x400ULL)

static uint64_t cr4_guest_mask(struct hv_vcpu *v)
{
	uint32_t r[4];

	pv_cpuid(v, 1, 0, r);
	return CR4_DE | (r[2] & (1u << 26) ? CR4_OSXSAVE : 0);
}

static bool cr_read(struct hv_vcpu *v, unsigned cr, uint64_t *val)
{
	struct vcpu_info *vi = vcpu_info_of(v);

	switch (cr) {
	case 0:
		*val = PV_CR0 | (v->fpu_ts ? CR0_TS : 0);
		return true;
	case 2:
		*val = vi ? __atomic_load_n(&vi->arch.cr2, __ATOMIC_ACQUIRE) : 0;
		return true;
	case 3:
		*val = v->cr3;
		return true;
	case 4:
		*val = PV_CR4_VISIBLE | (v->cr4_guest & cr4_guest_mask(v));
		return true;
	default:
		return false;
	}
}

static bool cr_write(struct hv_vcpu *v, unsigned cr, uint64_t val)
{
	struct vcpu_info *vi = vcpu_info_of(v);

	switch (cr) {
	case 0:
		if ((val ^ PV_CR0) & ~CR0_TS)
			return false; /* Xen: "Attempt to change unmodifiable CR0 flags" */
		if (v->fpu_ts != !!(val & CR0_TS)) {
			v->fpu_ts = !!(val & CR0_TS);
			v->fpu_ts_dirty = true;
		}
		return true;
	case 2:
		if (vi)
			__atomic_store_n(&vi->arch.cr2, val, __ATOMIC_RELEASE);
		return true;
	case 4:
		v->cr4_guest = val & cr4_guest_mask(v);
		return true;
	default: /* CR3: the guest asks with MMUEXT_NEW_BASEPTR */
		return false;
	}
}

/* Read an instruction at rip: up to PV_INSN_MAX bytes, stopping at a page it cannot read. */
static size_t fetch(struct hv_vcpu *v, uint64_t rip, uint8_t *buf)
{
	size_t first = PAGE_SIZE - (rip & (PAGE_SIZE - 1));

	if (first > PV_INSN_MAX)
		first = PV_INSN_MAX;
	if (vcpu_copy_from_guest(v, buf, rip, first))
		return 0;
	if (first == PV_INSN_MAX || rip + first < rip)
		return first;
	if (vcpu_copy_from_guest(v, buf + first, rip + first, PV_INSN_MAX - first))
		return first;
	return PV_INSN_MAX;
}

/* A load from [ea, ea+size) of the M2P at MACH2PHYS_VIRT_START: the value, or false. */
static bool m2p_load(struct hv_domain *d, uint64_t ea, unsigned size, uint64_t *val)
{
	uint64_t off = ea - MACH2PHYS_VIRT_START, end = d->m2p_entries * 8;
	const uint8_t *p;

	if (!d->m2p_l3_gpa || ea < MACH2PHYS_VIRT_START || off >= end || size > end - off)
		return false;
	p = mem_gpa(&d->mem, d->m2p_tab_gpa + off, size);
	if (!p)
		return false;
	*val = 0;
	memcpy(val, p, size);
	return true;
}

#define PTE_P (1ULL << 0)
#define PTE_ADDR 0x000ffffffffff000ULL
#define PFEC_PRESENT 1ULL
#define PFEC_WRITE 2ULL
#define PFEC_USER 4ULL
#define PFEC_FETCH 16ULL

/* The memory operand's linear address (rip-relative from the end of the instruction). */
static uint64_t operand_ea(struct hv_vcpu *v, const struct pv_insn *in)
{
	struct hv_regs *r = &v->regs;
	uint64_t ea = (uint64_t)in->disp;

	if (in->base == PV_EA_RIP)
		ea += r->rip + in->len;
	else if (in->base >= 0)
		ea += *gpr(r, (unsigned)in->base);
	if (in->index >= 0)
		ea += *gpr(r, (unsigned)in->index) * in->scale;
	if (in->seg == 4)
		ea += v->fs_base;
	else if (in->seg == 5)
		ea += v->gs_base_kernel;
	return ea;
}

#define RF_CF 0x1ULL
#define RF_PF 0x4ULL
#define RF_ZF 0x40ULL
#define RF_SF 0x80ULL
#define RF_OF 0x800ULL

/*
 * Xen's ptwr: a kernel-mode mov, xchg or cmpxchg of a whole entry (8
 * bytes, aligned) to a page its tables map read-only, which is one of its
 * L1 tables.  The entry goes through mmu_update's checks (mmu_ptwr); the
 * registers and flags change as the instruction would have changed them.
 */
static bool emulate_ptwr(struct hv_vcpu *v, const struct pv_insn *in, uint64_t cr2)
{
	struct hv_regs *r = &v->regs;
	uint64_t ea = operand_ea(v, in), pte_gpa, *pte, target, src, old = 0;
	bool cmp = in->kind == PV_INSN_CMPXCHG;

	if (!(__atomic_load_n(&v->dom->vm_assist, __ATOMIC_RELAXED) &
	      (1ULL << VMASST_TYPE_writable_pagetables)))
		return false;
	if (in->size != 8 || ea != cr2 || (ea & 7) || vcpu_walk_l1(v, cr2, &pte_gpa))
		return false;
	pte = mem_gpa(&v->dom->mem, pte_gpa, 8);
	if (!pte || !(*pte & PTE_P))
		return false;
	target = (*pte & PTE_ADDR) | (cr2 & (PAGE_SIZE - 1));
	src = *gpr(r, in->reg);
	if (mmu_ptwr(v, target, cmp, r->rax, src, &old))
		return false;
	if (in->kind == PV_INSN_XCHG) {
		*gpr(r, in->reg) = old;
	} else if (cmp) {
		/* The flags of cmp %rax, old; rax gets old when they differ. */
		uint64_t res = r->rax - old;

		r->rflags &= ~(RF_CF | RF_PF | RF_ZF | RF_SF | RF_OF);
		if (r->rax < old)
			r->rflags |= RF_CF;
		if (!res)
			r->rflags |= RF_ZF;
		if (res >> 63)
			r->rflags |= RF_SF;
		if (((r->rax ^ old) & (r->rax ^ res)) >> 63)
			r->rflags |= RF_OF;
		if (!(__builtin_popcount((unsigned)(res & 0xff)) & 1))
			r->rflags |= RF_PF;
		if (res)
			r->rax = old;
	}
	return true;
}

/*
 * ptwr of a read-modify-write (or/and/xor with an immediate, bts/btr/btc)
 * of 1 to 8 bytes inside one entry: the whole new entry goes through
 * mmu_ptwr, retried if the entry changed meanwhile.  Flags as the
 * instruction sets them (logic ops: CF OF clear, ZF SF PF of the result;
 * bit ops: CF the old bit).
 */
static bool emulate_ptwr_rmw(struct hv_vcpu *v, const struct pv_insn *in, uint64_t cr2)
{
	struct hv_regs *r = &v->regs;
	uint64_t ea = operand_ea(v, in), pte_gpa, *pte, target, old, cur, neu, mask, val, res;
	unsigned shift, bits = in->size * 8;

	if (!(__atomic_load_n(&v->dom->vm_assist, __ATOMIC_RELAXED) &
	      (1ULL << VMASST_TYPE_writable_pagetables)))
		return false;
	if (cr2 < ea || cr2 - ea >= in->size || (ea & 7) + in->size > 8 ||
	    vcpu_walk_l1(v, ea, &pte_gpa))
		return false;
	pte = mem_gpa(&v->dom->mem, pte_gpa, 8);
	if (!pte || !(*pte & PTE_P))
		return false;
	target = (*pte & PTE_ADDR) | (ea & (PAGE_SIZE - 8));
	shift = (unsigned)(ea & 7) * 8;
	mask = bits == 64 ? ~0ULL : ((1ULL << bits) - 1) << shift;
	pte = mem_gpa(&v->dom->mem, target, 8);
	if (!pte)
		return false;
	for (int tries = 0; tries < 16; tries++) {
		/* The entry as it is; mmu_ptwr checks the frame is an L1 and that it is unchanged. */
		cur = __atomic_load_n(pte, __ATOMIC_RELAXED);
		val = (cur & mask) >> shift;
		switch (in->op) {
		case 1:
			res = val | in->imm;
			break;
		case 4:
			res = val & in->imm;
			break;
		case 6:
			res = val ^ in->imm;
			break;
		default: { /* bts btr btc */
			uint64_t bit = 1ULL << (in->imm % bits);
			res = in->op == 0x15 ? val | bit : in->op == 0x16 ? val & ~bit : val ^ bit;
			break;
		}
		}
		if (bits < 64)
			res &= (1ULL << bits) - 1;
		neu = (cur & ~mask) | (res << shift);
		old = 0;
		if (mmu_ptwr(v, target, true, cur, neu, &old))
			return false;
		if (old != cur)
			continue; /* it changed under us: again */
		if (in->op >= 0x15) {
			r->rflags &= ~RF_CF;
			if (val & (1ULL << (in->imm % bits)))
				r->rflags |= RF_CF;
		} else {
			r->rflags &= ~(RF_CF | RF_PF | RF_ZF | RF_SF | RF_OF);
			if (!res)
				r->rflags |= RF_ZF;
			if ((res >> (bits - 1)) & 1)
				r->rflags |= RF_SF;
			if (!(__builtin_popcount((unsigned)(res & 0xff)) & 1))
				r->rflags |= RF_PF;
		}
		return true;
	}
	return false;
}

static bool emulate_load(struct hv_vcpu *v, const struct pv_insn *in, uint64_t cr2)
{
	struct hv_regs *r = &v->regs;
	uint64_t ea = operand_ea(v, in), val, *dst;

	/* The faulting address must be the operand's: the fault was this load's. */
	if (cr2 < ea || cr2 - ea >= in->size || !m2p_load(v->dom, ea, in->size, &val))
		return false;
	dst = gpr(r, in->reg);
	if (in->size == 8)
		*dst = val;
	else if (in->size == 4)
		*dst = (uint32_t)val; /* 32-bit writes clear the upper half */
	else
		*dst = (*dst & ~0xffffULL) | (val & 0xffff);
	return true;
}

/*
 * A #GP(0), #UD or #PF the engine caught: emulate the instruction as Xen
 * does and return true (registers updated, rip past it), or return false
 * and leave the fault to the guest's trap table (or the crash).
 */
bool pv_emul_fault(struct hv_vcpu *v, const struct hv_exit *e)
{
	struct hv_regs *r = &v->regs;
	struct hv_regs saved = *r;
	uint8_t buf[PV_INSN_MAX];
	struct pv_insn in;
	uint64_t val;
	uint32_t res[4];
	size_t avail;

	switch (e->vector) {
	case 13:
		if (e->error_code)
			return false;
		break;
	case 6:
		break;
	case 14:
		/* A read of the M2P, or a kernel write to a present read-only page (ptwr). */
		if ((e->error_code & (PFEC_WRITE | PFEC_FETCH)) == 0) {
			if (e->cr2 < MACH2PHYS_VIRT_START || e->cr2 >= MACH2PHYS_VIRT_END)
				return false;
		} else if ((e->error_code & ~PFEC_USER) != (PFEC_PRESENT | PFEC_WRITE) ||
			   v->user_mode) {
			return false;
		}
		break;
	default:
		return false;
	}
	avail = fetch(v, e->frame[0], buf);
	if (!avail || pv_emul_decode(buf, avail, &in))
		return false;
	/*
	 * Guest user mode: rdtsc/rdtscp of a vtsc domain, and the forced
	 * cpuid (Xen's emulate_forced_invalid_op takes it from any mode while
	 * CPUID faulting is off, which it always is here).
	 */
	if (v->user_mode && !in.forced &&
	    (!v->dom->vtsc || (in.kind != PV_INSN_RDTSC && in.kind != PV_INSN_RDTSCP)))
		return false;
	/* Which fault each can come with: #UD only for the forced form. */
	if ((e->vector == 6) != in.forced)
		return false;
	if ((e->vector == 14) !=
	    (in.kind == PV_INSN_MOV_LOAD || in.kind == PV_INSN_MOV_STORE ||
	     in.kind == PV_INSN_XCHG || in.kind == PV_INSN_CMPXCHG || in.kind == PV_INSN_RMW_IMM))
		return false;
	if (e->vector == 14 && (in.kind == PV_INSN_MOV_LOAD) != !(e->error_code & PFEC_WRITE))
		return false;
	r->rip = e->frame[0];
	r->rflags = e->frame[2];
	r->rsp = e->frame[3];
	switch (in.kind) {
	case PV_INSN_RDMSR:
		if (!msr_read(v, (uint32_t)r->rcx, &val))
			goto refuse;
		r->rax = (uint32_t)val;
		r->rdx = val >> 32;
		break;
	case PV_INSN_WRMSR:
		if (!msr_write(v, (uint32_t)r->rcx, (r->rdx << 32) | (uint32_t)r->rax))
			goto refuse;
		break;
	case PV_INSN_CPUID:
		pv_cpuid(v, (uint32_t)r->rax, (uint32_t)r->rcx, res);
		r->rax = res[0];
		r->rbx = res[1];
		r->rcx = res[2];
		r->rdx = res[3];
		break;
	case PV_INSN_RDTSC:
	case PV_INSN_RDTSCP:
		val = tsc_guest_now(v);
		r->rax = (uint32_t)val;
		r->rdx = val >> 32;
		if (in.kind == PV_INSN_RDTSCP)
			r->rcx = 0; /* TSC_AUX: no guest can set it */
		break;
	case PV_INSN_MOV_LOAD:
		if (!emulate_load(v, &in, e->cr2))
			goto refuse;
		break;
	case PV_INSN_MOV_STORE:
	case PV_INSN_XCHG:
	case PV_INSN_CMPXCHG:
		if (!emulate_ptwr(v, &in, e->cr2))
			goto refuse;
		break;
	case PV_INSN_RMW_IMM:
		if (!emulate_ptwr_rmw(v, &in, e->cr2))
			goto refuse;
		break;
	case PV_INSN_CLI:
	case PV_INSN_STI:
		/*
		 * As Xen's emulator: with the I/O privilege for kernel mode
		 * (PHYSDEVOP_set_iopl 1 or more) cli and sti are skipped and
		 * change nothing ("fast & loose": the event mask is the
		 * guest's to set in its vcpu_info); without it, #GP.
		 */
		if (v->iopl < 1)
			goto refuse;
		break;
	case PV_INSN_MOV_FROM_CR:
		if (!cr_read(v, in.ctrl, &val))
			goto refuse;
		*gpr(r, in.reg) = val;
		break;
	case PV_INSN_MOV_TO_CR:
		if (!cr_write(v, in.ctrl, *gpr(r, in.reg)))
			goto refuse;
		break;
	case PV_INSN_CLTS: /* Xen: do_fpu_taskswitch(0) */
		if (v->fpu_ts) {
			v->fpu_ts = false;
			v->fpu_ts_dirty = true;
		}
		break;
	case PV_INSN_WBINVD: /* Xen ignores it from a domain without cache control */
		break;
	case PV_INSN_IN:
	case PV_INSN_OUT:
		/*
		 * With the I/O privilege (set_iopl), as Xen for a domain that
		 * holds no I/O port: reads give all ones, writes are dropped
		 * (Linux probes PCI config space at 0xcf8 so, and finds none).
		 */
		if (v->iopl < 1)
			goto refuse;
		if (in.kind == PV_INSN_IN) {
			if (in.size == 4)
				r->rax = 0xffffffffu;
			else
				r->rax |= in.size == 2 ? 0xffffu : 0xffu;
		}
		break;
	}
	r->rip += in.len;
	r->rflags &= ~(1ULL << 16); /* RF */
	v->regs_dirty = true;
	return true;
refuse:
	*r = saved;
	return false;
}
