// SPDX-License-Identifier: MIT
/*
 * The privops word: what Xen does for a PV kernel beyond hypercalls, used
 * as a PV kernel would: SSE and x87 from the start, rdmsr/wrmsr of the
 * segment-base MSRs (and a refused one caught by our #GP handler), Xen's
 * cpuid leaves through the forced-emulation signature, set_segment_base
 * then %fs:/%gs: loads, fpu_taskswitch and #NM, every iret flags case,
 * physdev_op and xen_version answers, and the M2P read at Xen's fixed
 * MACH2PHYS_VIRT_START.  Each check prints one line; "privops: ok" ends.
 */
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/shinfo.h>
#include <xen/physdev.h>
#include <xen/version.h>
#include <xen/features.h>
#include <xen/callback.h>

#include <svk/privops.h>

static inline long HYPERVISOR_set_segment_base(int which, unsigned long base)
{
	return _hypercall2(__HYPERVISOR_set_segment_base, which, base);
}

static inline long HYPERVISOR_fpu_taskswitch(int set)
{
	return _hypercall1(__HYPERVISOR_fpu_taskswitch, set);
}

/* What the last exception was (set by the entries below), and where to resume (0: retry). */
volatile unsigned long privops_vec, privops_err, privops_count, privops_resume;

/*
 * Trap entries: Xen left rcx, r11, the error code for #GP, then the iret
 * frame.  Record the vector, move the frame's rip to privops_resume when
 * set, and return with HYPERVISOR_iret (the frame head.S's entries use).
 */
__asm__(".pushsection .text\n"
	".macro PRIVOPS_ENTRY name, vec, err\n"
	".globl \\name\n"
	"\\name:\n"
	"	popq %rcx\n"
	"	popq %r11\n"
	"	.if \\err\n"
	"	popq privops_err(%rip)\n"
	"	.else\n"
	"	movq $0, privops_err(%rip)\n"
	"	.endif\n"
	"	movq $\\vec, privops_vec(%rip)\n"
	"	incq privops_count(%rip)\n"
	"	pushq %rax\n"
	"	movq privops_resume(%rip), %rax\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	movq %rax, 8(%rsp)\n"
	"	movq $0, privops_resume(%rip)\n"
	"1:	popq %rax\n"
	"	pushq $0\n"
	"	cmpb $0, iret_guest_pushes_regs(%rip)\n"
	"	je 2f\n"
	"	pushq %rcx\n"
	"	pushq %r11\n"
	"2:	jmp hypercall_page + 23 * 32\n" /* __HYPERVISOR_iret */
	".endm\n"
	"PRIVOPS_ENTRY privops_ud, 6, 0\n"
	"PRIVOPS_ENTRY privops_nm, 7, 0\n"
	"PRIVOPS_ENTRY privops_gp, 13, 1\n"
	"PRIVOPS_ENTRY privops_pf, 14, 1\n"
	".purgem PRIVOPS_ENTRY\n"
	/*
	 * The failsafe callback: rcx, r11, ds, es, fs, gs, then the frame of
	 * the return that failed.  Note its cs and ss, then go on where that
	 * return was going, on its stack, at privops_failsafe_resume.
	 */
	".globl privops_failsafe\n"
	"privops_failsafe:\n"
	"	movq 56(%rsp), %rax\n"
	"	movq %rax, privops_fs_cs(%rip)\n"
	"	movq 80(%rsp), %rax\n"
	"	movq %rax, privops_fs_ss(%rip)\n"
	"	incq privops_failsafes(%rip)\n"
	"	movq 72(%rsp), %rsp\n"
	"	jmp *privops_failsafe_resume(%rip)\n"
	".popsection\n");
extern char privops_ud[], privops_nm[], privops_gp[], privops_pf[], privops_failsafe[];
volatile unsigned long privops_fs_cs, privops_fs_ss, privops_failsafes, privops_failsafe_resume;
extern char failsafe_callback[]; /* head.S: the kernel's own */

#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_SHADOW_GS_BASE 0xc0000102u

static bool check(bool ok, const char *what)
{
	if (!ok)
		printk("privops: FAIL %s (vector %lu error 0x%lx traps %lu)\n", what, privops_vec,
		       privops_err, privops_count);
	return ok;
}

static unsigned long rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((unsigned long)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, unsigned long val)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			     : "memory");
}

/* rdmsr of msr with our #GP handler resuming after it: the trap count it took. */
static unsigned long rdmsr_trapping(uint32_t msr)
{
	unsigned long before = privops_count;

	__asm__ __volatile__("leaq 1f(%%rip), %%rax\n\tmovq %%rax, %0\n\t"
			     "rdmsr\n1:"
			     : "=m"(privops_resume)
			     : "c"(msr)
			     : "rax", "rdx", "memory");
	privops_resume = 0;
	return privops_count - before;
}

static void xen_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ __volatile__("ud2\n\t.ascii \"xen\"\n\tcpuid"
			     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			     : "0"(leaf), "2"(sub));
}

/* SSE and x87 with no set-up at all: Xen's PV vCPUs start with both usable. */
static bool fpu_sse(void)
{
	static const uint32_t a[4] __attribute__((aligned(16))) = { 1, 2, 3, 4 };
	static const uint32_t b[4] __attribute__((aligned(16))) = { 10, 20, 30, 40 };
	static uint32_t out[4] __attribute__((aligned(16)));
	uint16_t x87 = 0;

	__asm__ __volatile__("movdqa %1, %%xmm0\n\tpaddd %2, %%xmm0\n\tmovdqa %%xmm0, %0"
			     : "=m"(out)
			     : "m"(a),
			       "m"(b)); /* no xmm clobber: C here uses none (-mgeneral-regs-only) */
	__asm__ __volatile__("fninit\n\tfld1\n\tfld1\n\tfaddp\n\tfistps %0" : "=m"(x87));
	return out[0] == 11 && out[1] == 22 && out[2] == 33 && out[3] == 44 && x87 == 2;
}

static bool segs(void)
{
	unsigned long *p = page_alloc(), *q = page_alloc(), got;
	bool ok = true;

	if (!check(p && q, "two pages for the segment bases"))
		return false;
	p[2] = 0x1111222233334444UL;
	q[2] = 0x5555666677778888UL;
	p[3] = 0xabcdUL;
	ok &= check(!HYPERVISOR_set_segment_base(SEGBASE_FS, (unsigned long)p), "SEGBASE_FS");
	__asm__ __volatile__("movq %%fs:0x10, %0" : "=r"(got));
	ok &= check(got == p[2], "%fs:0x10 after SEGBASE_FS");
	ok &= check(rdmsr(MSR_FS_BASE) == (unsigned long)p, "rdmsr FS_BASE");
	wrmsr(MSR_FS_BASE, (unsigned long)q);
	__asm__ __volatile__("movq %%fs:0x10, %0" : "=r"(got));
	ok &= check(got == q[2], "%fs:0x10 after wrmsr FS_BASE");
	ok &= check(!HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (unsigned long)p),
		    "SEGBASE_GS_KERNEL");
	__asm__ __volatile__("movq %%gs:0x18, %0" : "=r"(got));
	ok &= check(got == 0xabcd, "%gs:0x18 after SEGBASE_GS_KERNEL");
	ok &= check(rdmsr(MSR_GS_BASE) == (unsigned long)p, "rdmsr GS_BASE");
	ok &= check(!HYPERVISOR_set_segment_base(SEGBASE_GS_USER, (unsigned long)q),
		    "SEGBASE_GS_USER");
	ok &= check(rdmsr(MSR_SHADOW_GS_BASE) == (unsigned long)q, "rdmsr SHADOW_GS_BASE");
	/* The kernel's %gs did not move: the user base is the inactive one. */
	__asm__ __volatile__("movq %%gs:0x18, %0" : "=r"(got));
	ok &= check(got == 0xabcd, "kernel %gs kept under SEGBASE_GS_USER");
	wrmsr(MSR_SHADOW_GS_BASE, (unsigned long)p);
	ok &= check(rdmsr(MSR_SHADOW_GS_BASE) == (unsigned long)p, "wrmsr SHADOW_GS_BASE");
	ok &= check(!HYPERVISOR_set_segment_base(SEGBASE_GS_USER_SEL, 0), "SEGBASE_GS_USER_SEL");
	ok &= check(rdmsr(MSR_SHADOW_GS_BASE) == 0, "user %gs base 0 after a NUL selector");
	ok &= check(HYPERVISOR_set_segment_base(SEGBASE_FS, 0x0000800000000000UL) == -XEN_EINVAL,
		    "a non-canonical base refused");
	ok &= check(HYPERVISOR_set_segment_base(7, 0) == -XEN_EINVAL, "an unknown SEGBASE");
	if (ok)
		printk("privops: set_segment_base and wrmsr FS/GS: %%fs:/%%gs: loads read 0x%lx "
		       "and 0x%lx\n",
		       q[2], p[3]);
	(void)HYPERVISOR_set_segment_base(SEGBASE_FS, 0);
	(void)HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, 0);
	page_free(p);
	page_free(q);
	return ok;
}

static bool cpuid_leaves(void)
{
	uint32_t r[4];
	char sig[13];
	bool ok = true;

	xen_cpuid(0x40000000, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = '\0';
	ok &= check(!strcmp(sig, "XenVMMXenVMM") && r[0] >= 0x40000002, "Xen's signature leaf");
	xen_cpuid(0x40000001, 0, r);
	ok &= check(r[0] == ((4u << 16) | 17), "version leaf");
	uint32_t ver = r[0];
	xen_cpuid(0x40000002, 0, r);
	ok &= check(r[0] == 1 && r[1] == 0x40000000, "hypercall page leaf");
	uint32_t msr = r[1];
	xen_cpuid(1, 0, r);
	ok &= check(r[2] & (1u << 31), "leaf 1 says hypervisor");
	ok &= check(!(r[2] & (1u << 5)), "leaf 1 hides VMX");
	if (ok)
		printk("privops: forced cpuid: %s version %u.%u hypercall MSR 0x%x\n", sig,
		       ver >> 16, ver & 0xffff, msr);
	return ok;
}

static bool msrs(void)
{
	bool ok = true;
	unsigned long t0, t1;

	ok &= check(rdmsr_trapping(0x1b) == 1 && privops_vec == 13 && privops_err == 0,
		    "rdmsr APIC_BASE is #GP to our handler");
	ok &= check(rdmsr_trapping(0xc0000082) == 1, "rdmsr LSTAR is #GP");
	ok &= check(rdmsr_trapping(MSR_FS_BASE) == 0, "rdmsr FS_BASE does not trap");
	t0 = rdmsr(0x10);
	__asm__ __volatile__("rdtsc" : "=a"(t1) : : "rdx");
	(void)t1;
	ok &= check(t0 != 0, "rdmsr TSC");
	if (ok)
		printk("privops: rdmsr of APIC_BASE and LSTAR: #GP error 0 to our handler\n");
	return ok;
}

/* fpu_taskswitch(1), then SSE: #NM to our handler where the engine can trap it. */
static bool fpu_ts(void)
{
	unsigned long before = privops_count;
	bool ok;

	ok = check(!HYPERVISOR_fpu_taskswitch(1), "fpu_taskswitch(1)");
	__asm__ __volatile__("xorps %%xmm1, %%xmm1" ::: "memory");
	if (privops_count == before + 1 && privops_vec == 7)
		printk("privops: fpu_taskswitch: #NM delivered, TS cleared\n");
	else if (privops_count == before)
		printk("privops: fpu_taskswitch: TS kept, no #NM (engine cannot trap FPU use)\n");
	else
		ok = check(false, "fpu_taskswitch's #NM");
	ok &= check(!HYPERVISOR_fpu_taskswitch(0), "fpu_taskswitch(0)");
	return ok;
}

/*
 * HYPERVISOR_iret with a frame of our own, returning to the label after
 * it: with VGCF_in_syscall rcx and r11 come back as rip and rflags
 * (Xen's sysret); without, as the frame had them.
 */
bool iret_case(unsigned long flags, unsigned long cs, unsigned long ss, unsigned long *rcx,
		      unsigned long *r11, unsigned long *rax, unsigned long *label)
{
	unsigned long mask = shared_info->vcpu_info[0].evtchn_upcall_mask;
	unsigned long rflags = 0x3 | (mask ? 0 : 0x200); /* CF; IF = events as they are */

	__asm__ __volatile__("movq %%rsp, %%rdx\n\t"
			     "pushq %[ss]\n\t"
			     "pushq %%rdx\n\t"
			     "pushq %[rflags]\n\t"
			     "pushq %[cs]\n\t"
			     "leaq 1f(%%rip), %%rax\n\t"
			     "movq %%rax, privops_failsafe_resume(%%rip)\n\t"
			     "pushq %%rax\n\t"
			     "pushq %[flags]\n\t"
			     "movq $0x1234, %%rcx\n\t"
			     "movq $0x5678, %%r11\n\t"
			     "movq $0x4242, %%rax\n\t"
			     "cmpb $0, iret_guest_pushes_regs(%%rip)\n\t"
			     "je 2f\n\t"
			     "pushq %%rcx\n\t"
			     "pushq %%r11\n\t"
			     "2: jmp hypercall_page + 23 * 32\n"
			     "1:\tmovq %%r11, %%rsi\n\t"
			     "leaq 1b(%%rip), %%rdx\n\t"
			     : "=&c"(*rcx), "=&S"(*r11), "=&a"(*rax), "=&d"(*label)
			     : [rflags] "r"(rflags), [flags] "r"(flags), [cs] "r"(cs), [ss] "r"(ss)
			     : "r11", "memory", "cc");
	return true;
}

static bool irets(void)
{
	unsigned long rcx, r11, rax, label;
	bool ok = true;

	/* Kernel-mode frames carry CS with RPL 0: RPL 3 would be a return to user mode. */
	iret_case(0, FLAT_KERNEL_CS & ~3, FLAT_KERNEL_SS, &rcx, &r11, &rax, &label);
	ok &= check(rcx == 0x1234 && r11 == 0x5678 && rax == 0x4242,
		    "plain iret restores rcx, r11 and rax");
	iret_case(VGCF_in_syscall, FLAT_KERNEL_CS & ~3, FLAT_KERNEL_SS, &rcx, &r11, &rax, &label);
	ok &= check(rcx == label && r11 == 0x203 && rax == 0x4242,
		    "iret in a syscall: rcx = rip, r11 = rflags (sysret)");
	if (ok)
		printk("privops: iret: plain restores rcx r11 rax; VGCF_in_syscall returns as "
		       "sysret (rcx = rip)\n");

	/* An iret to selectors the CPU would refuse: our failsafe callback, then on. */
	struct callback_register cb = { .type = CALLBACKTYPE_failsafe,
					.address = (unsigned long)privops_failsafe };
	unsigned long before = privops_failsafes;
	bool fok;
	fok = check(!HYPERVISOR_callback_op(CALLBACKOP_register, &cb), "register a failsafe");
	iret_case(0, 0x10, FLAT_KERNEL_SS, &rcx, &r11, &rax, &label);
	fok &= check(privops_failsafes == before + 1 && privops_fs_cs == 0x13 &&
			 privops_fs_ss == FLAT_KERNEL_SS,
		     "iret to cs 0x10: the failsafe callback");
	iret_case(0, FLAT_KERNEL_CS & ~3, 0, &rcx, &r11, &rax, &label);
	fok &= check(privops_failsafes == before + 2 && privops_fs_ss == 3,
		     "iret to a NUL ss: the failsafe callback");
	cb.address = (unsigned long)failsafe_callback;
	fok &= check(!HYPERVISOR_callback_op(CALLBACKOP_register, &cb), "restore the failsafe");
	if (fok)
		printk("privops: iret to cs 0x%lx / ss 0x%lx: failsafe callback entered\n",
		       (unsigned long)0x13, (unsigned long)3);
	return ok && fok;
}

static bool answers(void)
{
	struct physdev_set_iopl iopl = { .iopl = 1 };
	struct physdev_irq_status_query q = { .irq = 1 };
	xen_feature_info_t fi = { .submap_idx = 0 };
	char cmdline[1024];
	bool ok = true;
	long rc;

	ok &= check(_hypercall2(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, &iopl) == 0,
		    "PHYSDEVOP_set_iopl");
	rc = _hypercall2(__HYPERVISOR_physdev_op, PHYSDEVOP_irq_status_query, &q);
	ok &= check(rc == -XEN_EINVAL, "PHYSDEVOP_irq_status_query: no pirq");
	rc = _hypercall2(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, &q);
	ok &= check(rc == -XEN_EPERM, "PHYSDEVOP_map_pirq: not ours");
	ok &= check(!HYPERVISOR_xen_version(XENVER_get_features, &fi) &&
			(fi.submap & (1u << XENFEAT_direct_mapped)) &&
			!(fi.submap & (1u << XENFEAT_auto_translated_physmap)),
		    "XENVER_get_features");
	ok &= check(!HYPERVISOR_xen_version(XENVER_commandline, cmdline) &&
			!strcmp(cmdline, "<denied>"),
		    "XENVER_commandline denied");
	ok &= check(HYPERVISOR_xen_version(XENVER_build_id, cmdline) == -XEN_EPERM,
		    "XENVER_build_id");
	if (ok)
		printk("privops: physdev_op and xen_version answered as Xen answers a domU "
		       "(features 0x%x)\n",
		       fi.submap);
	return ok;
}

/* Read our own M2P entries at Xen's fixed address (emulated where nothing maps it). */
static bool m2p_fixed(void)
{
	void *page = page_alloc();
	unsigned long mfn, got = ~0UL;
	bool ok;

	if (!check(page != NULL, "a page for the M2P read"))
		return false;
	mfn = virt_to_mfn(page);
	__asm__ __volatile__("movq (%1,%2,8), %0"
			     : "=r"(got)
			     : "r"(0xffff800000000000UL), "r"(mfn)
			     : "memory");
	ok = check(got == virt_to_pfn(page), "M2P at MACH2PHYS_VIRT_START");
	if (ok)
		printk("privops: M2P at 0xffff800000000000: mfn 0x%lx -> pfn 0x%lx\n", mfn, got);
	page_free(page);
	return ok;
}

static inline unsigned long tsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((unsigned long)hi << 32) | lo;
}

/* Nothing of the kernel's is mapped in L4 slot 48 (24 TiB): a read there is a #PF. */
#define BENCH_PF_VA 0x180000000000UL

/* A read of BENCH_PF_VA that our #PF entry resumes after: the traps it took. */
static unsigned long pf_bounce(void)
{
	unsigned long before = privops_count;

	__asm__ __volatile__("leaq 1f(%%rip), %%rax\n\tmovq %%rax, %0\n\t"
			     "movq (%1), %%rax\n1:"
			     : "=m"(privops_resume)
			     : "r"(BENCH_PF_VA)
			     : "rax", "memory");
	privops_resume = 0;
	return privops_count - before;
}

/* The middle of n values (n odd), sorted in place. */
static unsigned long median(unsigned long *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			unsigned long t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

/*
 * privops=bench: TSC cycles per emulated rdmsr, forced cpuid, plain
 * hypercall and bounced page fault (our trap table's #PF entry entered and
 * returned from with HYPERVISOR_iret) (bench/privops.sh).  Seven rounds
 * of 400 each, the four kinds in turn within a round, and the median
 * round of each kind: a host that stalls one round (a preempted vCPU
 * thread, another job) moves the middle round little, where one long
 * pass of each kind would carry the stall into one kind alone.
 */
#define BENCH_ROUNDS 7
static void privops_bench(void)
{
	const struct trap_info table[] = {
		{ .vector = 14, .cs = FLAT_KERNEL_CS, .address = (unsigned long)privops_pf },
		{ 0 },
	};
	const unsigned n = 400;
	unsigned long t0, rd[BENCH_ROUNDS], cp[BENCH_ROUNDS], hc[BENCH_ROUNDS], pf[BENCH_ROUNDS];
	unsigned long pf_traps = 0;
	bool traps = !HYPERVISOR_set_trap_table(table);
	uint32_t r[4];

	for (unsigned k = 0; k < BENCH_ROUNDS; k++) {
		t0 = tsc();
		for (unsigned i = 0; i < n; i++)
			(void)rdmsr(MSR_FS_BASE);
		rd[k] = tsc() - t0;
		t0 = tsc();
		for (unsigned i = 0; i < n; i++)
			xen_cpuid(0x40000001, 0, r);
		cp[k] = tsc() - t0;
		t0 = tsc();
		for (unsigned i = 0; i < n; i++)
			(void)HYPERVISOR_xen_version(XENVER_version, NULL);
		hc[k] = tsc() - t0;
		pf[k] = 0;
		if (traps) {
			t0 = tsc();
			for (unsigned i = 0; i < n; i++)
				pf_traps += pf_bounce();
			pf[k] = tsc() - t0;
		}
	}
	if (traps)
		(void)HYPERVISOR_set_trap_table(NULL);
	if (pf_traps != (unsigned long)n * BENCH_ROUNDS || privops_vec != 14)
		printk("privops-bench: FAIL %lu of %u reads at 0x%lx bounced to the #PF entry\n",
		       pf_traps, n * BENCH_ROUNDS, BENCH_PF_VA);
	printk("privops-bench: %u each: rdmsr %lu cpuid %lu hypercall %lu pfbounce %lu cycles/op\n",
	       n * BENCH_ROUNDS, median(rd, BENCH_ROUNDS) / n, median(cp, BENCH_ROUNDS) / n,
	       median(hc, BENCH_ROUNDS) / n, median(pf, BENCH_ROUNDS) / n);
}

/*
 * privops=badframe: HYPERVISOR_iret whose frame runs off the end of a
 * mapped page into one that is not (its rflags, rsp and ss).  Xen cannot
 * read it and crashes the domain; so must we, through the hypervisor's
 * iret (the process engine's runner reads the frame first and must leave
 * it to the hypervisor, not fault itself).
 */
static void iret_bad_frame(void)
{
	unsigned long prev = 0, page = 0;

	/* Two neighbouring pages of ours (the allocator hands out fresh pages in order). */
	for (unsigned i = 0; i < 64; i++, prev = page) {
		page = (unsigned long)page_alloc();
		if (page && prev && page == prev + PAGE_SIZE)
			break;
		page = page ? page : prev;
	}
	if (!prev || page != prev + PAGE_SIZE ||
	    HYPERVISOR_update_va_mapping(page, 0, UVMF_INVLPG | UVMF_LOCAL)) {
		printk("privops: FAIL no page to unmap after a mapped one\n");
		return;
	}
	printk("privops: iret with a frame reaching unmapped 0x%lx\n", page);
	/* flags at page-24; the stub's rax, r11, rcx below; rip, cs, then page: unmapped. */
	__asm__ __volatile__("movq %0, %%rsp\n\t"
			     "pushq $0\n\t"
			     "xorl %%ecx, %%ecx\n\t"
			     "xorl %%r11d, %%r11d\n\t"
			     "cmpb $0, iret_guest_pushes_regs(%%rip)\n\t"
			     "je 2f\n\t"
			     "pushq %%rcx\n\t"
			     "pushq %%r11\n\t"
			     "2: jmp hypercall_page + 23 * 32\n"
			     :
			     : "r"(page - 16)
			     : "rcx", "r11", "memory");
}

void privops_selftest(const start_info_t *si, const char *arg)
{
	const struct trap_info table[] = {
		{ .vector = 6, .cs = FLAT_KERNEL_CS, .address = (unsigned long)privops_ud },
		{ .vector = 7, .cs = FLAT_KERNEL_CS, .address = (unsigned long)privops_nm },
		{ .vector = 13, .cs = FLAT_KERNEL_CS, .address = (unsigned long)privops_gp },
		{ 0 },
	};
	bool ok = true;

	if (arg && !strcmp(arg, "bench")) {
		privops_bench();
		return;
	}
	if (arg && !strcmp(arg, "badframe")) {
		iret_bad_frame();
		printk("privops: FAIL iret with an unreadable frame returned\n");
		return;
	}
	if (arg && !strcmp(arg, "bare")) {
		/* No trap table: the refused MSR's #GP has nowhere to go but the crash. */
		(void)HYPERVISOR_set_trap_table(NULL);
		printk("privops: rdmsr of APIC_BASE with no #GP handler\n");
		(void)rdmsr(0x1b);
		printk("privops: FAIL survived a #GP with no handler\n");
		return;
	}
	if (!fpu_sse()) {
		printk("privops: FAIL SSE/x87 at start\n");
		ok = false;
	} else {
		printk("privops: SSE and x87 usable without set-up\n");
	}
	if (HYPERVISOR_set_trap_table(table)) {
		printk("privops: FAIL set_trap_table\n");
		return;
	}
	ok &= msrs();
	ok &= cpuid_leaves();
	ok &= segs();
	ok &= irets();
	ok &= answers();
	ok &= fpu_ts();
	ok &= fpu_sse();
	ok &= m2p_fixed();
	(void)HYPERVISOR_set_trap_table(NULL);
	printk(ok ? "privops: ok\n" : "privops: FAIL\n");
}
