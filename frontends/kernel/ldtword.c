// SPDX-License-Identifier: MIT
/*
 * The ldt word: MMUEXT_SET_LDT with entries as a Xen PV kernel uses it
 * (Linux maps its LDT pages read-only, then sets the LDT; update_descriptor
 * writes its entries), with good and hostile arguments and Xen's answers.
 * Prints "ldt: FAIL what (rc)" per wrong answer and "ldt: ok" or "ldt: FAIL".
 * With "ldt=keep" the last LDT stays set (the domain's end releases it).
 * With "ldt=load" it also uses the LDT as Xen loads it: LDT selectors in
 * %ds/%es/%fs/%gs (a read through %fs with the descriptor's base), a far
 * return to an LDT code segment, update_descriptor seen by the next load,
 * and a bad LDT selector or none set giving our own #GP.  With
 * "ldt=data" (the process engine: its host's modify_ldt makes no 64-bit
 * code segment) the same, but an LDT code selector must give our #GP.
 * With "ldt=noload" (an engine that loads no LDT) every LDT selector must
 * give our #GP and nothing else.  "ldt=smp": two vCPUs at once, each on
 * an LDT of its own (ldt_smp).
 */
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/privops.h>
#include <svk/pvmmu.h>
#include <svk/sched.h>
#include <svk/segload.h>
#include <svk/smp.h>
#include <svk/suspend.h>
#include <svk/time.h>
#include <svk/wait.h>
#include <xen/callback.h>

#define PAGE_KERNEL_RO (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)
#define CODE64_DPL0 0x00af9a000000ffffUL
#define CODE64_DPL3 0x00affa000000ffffUL
#define DATA_DPL0 0x00cf92000000ffffUL
#define DATA_DPL3 0x00cff2000000ffffUL

static bool ok_all;

static void expect(long rc, long want, const char *what)
{
	if (rc != want) {
		printk("ldt: FAIL %s (rc %ld, want %ld)\n", what, rc, want);
		ok_all = false;
	}
}

static long set_ldt(unsigned long va, unsigned int ents)
{
	struct mmuext_op op = { .cmd = MMUEXT_SET_LDT };

	op.arg1.linear_addr = va;
	op.arg2.nr_ents = ents;
	return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

static long update_descriptor(uint64_t ma, uint64_t desc)
{
	return _hypercall2(__HYPERVISOR_update_descriptor, ma, desc);
}

/* LDT selectors (TI=1, RPL 3) of the entries ldt_use writes. */
#define SEL_CODE 0x07  /* entry 0: 64-bit code */
#define SEL_DATA 0x0f  /* entry 1: flat data */
#define SEL_BASED 0x1f /* entry 3: data based at 0x1000, then 0x2000 */
#define SEL_EMPTY 0x2f /* entry 5: nothing there */
#define SEL_PAST 0x87  /* entry 16: past the LDT's 16 entries */

static void must_load(enum seg_reg reg, uint16_t sel, uint64_t off, const char *what)
{
	ok_all &= seg_must_load("ldt", reg, sel, off, what);
}

static void must_gp(struct seg_try t, uint16_t sel, const char *what)
{
	ok_all &= seg_must_gp("ldt", t, sel, what);
}

/*
 * The LDT g (16 entries, set) in use.  load: the engine loads it, as Xen
 * (code: its code segments too, else those are #GP); else each LDT
 * selector is #GP.
 */
static void ldt_use(uint64_t *g, bool load, bool code)
{
	uint64_t *data = page_alloc(), ma = pv_ma(g);
	uint64_t at = (uint64_t)data;

	if (!data || !seg_traps_on()) {
		printk("ldt: FAIL no page or #GP entry for the LDT loads\n");
		ok_all = false;
		return;
	}
	*data = SEG_MAGIC;
	expect(update_descriptor(ma + 3 * 8, SEG_DATA_BASE(0x1000)), 0, "a based data descriptor");
	if (load) {
		must_load(SEG_DS, SEL_DATA, at, "LDT selector into %ds, read through it");
		must_load(SEG_ES, SEL_DATA, 0, "LDT selector into %es");
		must_load(SEG_GS, SEL_DATA, 0, "LDT selector into %gs");
		must_load(SEG_FS, SEL_BASED, at - 0x1000, "LDT selector into %fs, its base 0x1000");
		struct seg_try t = seg_lret(SEL_CODE);
		if (code)
			expect((long)t.traps, 0, "lret to an LDT code segment");
		else
			must_gp(t, SEL_CODE, "lret to an LDT code segment (data segments only)");
		/* update_descriptor into the LDT: the next load sees the new base. */
		expect(update_descriptor(ma + 3 * 8, SEG_DATA_BASE(0x2000)), 0, "rebase the descriptor");
		must_load(SEG_FS, SEL_BASED, at - 0x2000, "the rebased LDT selector into %fs");
		must_gp(seg_load(SEG_FS, SEL_EMPTY, 0), SEL_EMPTY, "an empty LDT entry into %fs");
		must_gp(seg_load(SEG_DS, SEL_PAST, 0), SEL_PAST, "past the LDT's limit into %ds");
		must_gp(seg_lret(SEL_EMPTY), SEL_EMPTY, "lret to an empty LDT entry");
		if (ok_all && code)
			printk("ldt: loaded: %%ds %%es %%gs %%fs (read 0x%lx through base 0x2000), "
			       "lret to 0x%x, bad selectors #GP\n",
			       SEG_MAGIC, SEL_CODE);
		else if (ok_all)
			printk("ldt: loaded: %%ds %%es %%gs %%fs (read 0x%lx through base 0x2000), "
			       "code segments #GP, bad selectors #GP\n",
			       SEG_MAGIC);
	} else {
		must_gp(seg_load(SEG_DS, SEL_DATA, at), SEL_DATA, "LDT selector into %ds (no LDT)");
		must_gp(seg_load(SEG_FS, SEL_BASED, 0), SEL_BASED, "LDT selector into %fs (no LDT)");
		must_gp(seg_lret(SEL_CODE), SEL_CODE, "lret to an LDT code segment (no LDT)");
		if (ok_all)
			printk("ldt: not loaded by this engine: LDT selectors #GP\n");
	}
	/* HYPERVISOR_iret to an LDT code segment and stack (kernel-mode frames: RPL 0). */
	struct callback_register cb = { .type = CALLBACKTYPE_failsafe,
					.address = (unsigned long)privops_failsafe };
	unsigned long before = privops_failsafes, rcx, r11, rax, label;
	extern char failsafe_callback[];

	expect(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), 0, "register a failsafe");
	iret_case(0, SEL_CODE & ~3, FLAT_KERNEL_SS, &rcx, &r11, &rax, &label);
	iret_case(0, FLAT_KERNEL_CS & ~3, SEL_DATA & ~3, &rcx, &r11, &rax, &label);
	expect((long)(privops_failsafes - before), load ? 0 : 2,
	       load ? "iret to LDT cs / ss (failsafe entered)" : "iret to LDT cs / ss (no failsafe)");
	iret_case(0, SEL_EMPTY & ~3, FLAT_KERNEL_SS, &rcx, &r11, &rax, &label);
	expect((long)(privops_failsafes - before), load ? 1 : 3, "iret to an empty LDT entry");
	cb.address = (unsigned long)failsafe_callback;
	expect(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), 0, "restore the failsafe");
	if (ok_all)
		printk("ldt: iret to LDT cs 0x%x / ss 0x%x: %s\n", SEL_CODE, SEL_DATA,
		       load ? "returned" : "failsafe callback");

	/* No LDT at all: any LDT selector is #GP. */
	expect(set_ldt(0, 0), 0, "SET_LDT 0/0 before loading");
	must_gp(seg_load(SEG_FS, SEL_DATA, 0), SEL_DATA, "an LDT selector with no LDT");
	expect(set_ldt((unsigned long)g, 16), 0, "SET_LDT again");
	if (load)
		must_load(SEG_FS, SEL_BASED, at - 0x2000, "the LDT set again, into %fs");
	seg_traps_off();
	page_free(data);
}

/*
 * ldt=smp: vCPU 0 and vCPU 1 at once, each on an LDT of its own whose
 * entry 3 is based at 0 and at 8: both load it into %fs and read the same
 * address, LDT_SMP_ROUNDS times, yielding between (each time the vCPU
 * leaves and goes in again).  Each must read through its own base every
 * time (an engine whose vCPUs share one LDT, as the process engine's
 * runner is one process, must not let one run on the other's).
 */
#define LDT_SMP_ROUNDS 3000
#define LDT_SMP_NS 60000000000ULL

struct ldt_smp {
	uint64_t *ldt;		/* its LDT page, read-only once set */
	const uint64_t *data;	/* read through %fs at this address */
	uint64_t want;		/* what its own base gives */
	long set;		/* SET_LDT's answer */
	unsigned long wrong;	/* reads that gave the other vCPU's word */
};

static void ldt_smp_run(void *arg)
{
	struct ldt_smp *s = arg;

	s->set = set_ldt((unsigned long)s->ldt, 16);
	for (unsigned i = 0; i < LDT_SMP_ROUNDS && !s->set; i++) {
		uint64_t got;

		__asm__ __volatile__("movw %w1, %%fs\n\tmovq %%fs:(%2), %0\n\tmovw %w3, %%fs"
				     : "=&r"(got)
				     : "r"(SEL_BASED), "r"(s->data), "r"(0)
				     : "memory");
		s->wrong += got != s->want;
		(void)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	}
	(void)set_ldt(0, 0);
}

static void ldt_smp(const start_info_t *si)
{
	uint64_t *data = page_alloc(), *l1 = page_alloc();
	struct ldt_smp s[2] = { { .ldt = page_alloc() }, { .ldt = l1 } };
	int up = -1, rc = -1;

	if (!data || !l1 || !s[0].ldt || sched_vcpu_count() < 2) {
		printk("ldt: FAIL ldt=smp needs 2 vcpus and pages\n");
		ok_all = false;
		return;
	}
	data[0] = SEG_MAGIC;
	data[1] = ~SEG_MAGIC;
	for (unsigned i = 0; i < 2; i++) {
		memset(s[i].ldt, 0, PAGE_SIZE);
		s[i].ldt[3] = SEG_DATA_BASE(8 * i);
		s[i].data = data;
		s[i].want = data[i];
		expect(pv_remap(s[i].ldt, PAGE_KERNEL_RO), 0, "map an smp LDT read-only");
	}
	up = smp_cpu_up(si, 1, LDT_SMP_NS);
	if (!up)
		rc = smp_post(1, ldt_smp_run, &s[1]);
	if (!rc) {
		ldt_smp_run(&s[0]);
		rc = smp_post_wait(1, LDT_SMP_NS);
	}
	if (!up)
		(void)smp_cpu_down(1, LDT_SMP_NS);
	if (up || rc || s[0].set || s[1].set || s[0].wrong || s[1].wrong) {
		printk("ldt: FAIL smp: up %d, run %d, SET_LDT %ld/%ld, wrong reads %lu/%lu of %u\n",
		       up, rc, s[0].set, s[1].set, s[0].wrong, s[1].wrong, LDT_SMP_ROUNDS);
		ok_all = false;
	} else {
		printk("ldt: smp: 2 vCPUs, each read through its own LDT %u times\n",
		       LDT_SMP_ROUNDS);
	}
	for (unsigned i = 0; i < 2; i++) {
		expect(pv_remap(s[i].ldt, PAGE_KERNEL_RW), 0, "an smp LDT page writable again");
		page_free(s[i].ldt);
	}
	page_free(data);
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

/*
 * ldt=resume-load / resume-noload: the LDT g (16 entries, set) stays set
 * across save/restore; every 200 ms an LDT selector is loaded into %fs
 * and read through, and after each resume one line says how that went
 * (the context carries ldt_base/ldt_ents; the engine reloads it).
 */
static void ldt_resume(uint64_t *g, bool load)
{
	uint64_t *data = page_alloc(), end;
	unsigned long seen = suspend_wakes(), fails = 0;

	if (!data || !seg_traps_on() || !time_available()) {
		printk("ldt: FAIL no page, #GP entry or time for ldt=resume\n");
		return;
	}
	*data = SEG_MAGIC;
	expect(update_descriptor(pv_ma(g) + 3 * 8, SEG_DATA_BASE(0x1000)), 0,
	       "a based data descriptor");
	printk("ldt: resume-ready (LDT of 16 entries set, selector 0x%x)\n", SEL_BASED);
	end = time_now_ns() + 300 * 1000000000ULL;
	while (time_now_ns() < end) {
		struct seg_try t = seg_load(SEG_FS, SEL_BASED, (uint64_t)data - 0x1000);
		bool ok = load ? !t.traps && t.got == SEG_MAGIC
			       : t.traps == 1 && t.err == (SEL_BASED & ~3u);

		seg_reset();
		fails += !ok;
		if (suspend_wakes() != seen) {
			seen = suspend_wakes();
			printk("ldt: resumed %lu: LDT selector %s (%lu bad so far)\n", seen,
			       ok ? (load ? "loaded" : "#GP as before") : "FAIL", fails);
		}
		(void)wait_until(never, NULL, 200 * 1000000ULL);
	}
	seg_traps_off();
}

void ldt_word(const start_info_t *si, const char *arg)
{
	uint64_t *g = page_alloc();
	unsigned long va = (unsigned long)g;

	ok_all = true;
	if (!g) {
		printk("ldt: FAIL no pages\n");
		return;
	}
	memset(g, 0, PAGE_SIZE);
	g[0] = CODE64_DPL0; /* as a native kernel writes them: Xen raises DPL 0 to 3 */
	g[1] = DATA_DPL0;

	/* Xen's checks first: refused, nothing changed. */
	expect(set_ldt(va + 8, 1), -XEN_EINVAL, "SET_LDT misaligned");
	expect(set_ldt(va, 8193), -XEN_EINVAL, "SET_LDT of 8193 entries");
	expect(set_ldt(0x0000800000000000UL, 1), -XEN_EINVAL, "SET_LDT not canonical");
	expect(set_ldt(0xffff800000000000UL, 1), -XEN_EINVAL, "SET_LDT in Xen's range");

	/* Still mapped writable: accepted as on Xen, but the page is not taken. */
	expect(set_ldt(va, 16), 0, "SET_LDT of a writable-mapped page");
	expect(g[0] == CODE64_DPL0, 1, "a writable-mapped LDT page left alone");
	expect(set_ldt(0, 0), 0, "SET_LDT 0/0");

	/* As Linux: read-only first.  Then it is a descriptor page, checked and fixed up. */
	expect(pv_remap(g, PAGE_KERNEL_RO), 0, "map read-only");
	expect(set_ldt(va, 16), 0, "SET_LDT");
	expect(g[0] == CODE64_DPL3 && g[1] == DATA_DPL3, 1, "DPL fixed up to 3");
	expect(pv_remap(g, PAGE_KERNEL_RW) != 0, 1, "mapping an LDT page writable");
	expect(update_descriptor(pv_ma(g) + 2 * 8, DATA_DPL0), 0, "update_descriptor in the LDT");
	expect(g[2] == DATA_DPL3, 1, "update_descriptor's DPL fixed up");
	expect(set_ldt(va + 8, 1), -XEN_EINVAL, "a bad SET_LDT with an LDT set");
	expect(pv_remap(g, PAGE_KERNEL_RW) != 0, 1, "the LDT in place after a bad SET_LDT");
	if (arg && (!strcmp(arg, "load") || !strcmp(arg, "data") || !strcmp(arg, "noload")))
		ldt_use(g, strcmp(arg, "noload"), !strcmp(arg, "load"));
	if (arg && !strcmp(arg, "smp"))
		ldt_smp(si);
	if (arg && (!strcmp(arg, "resume-load") || !strcmp(arg, "resume-noload"))) {
		ldt_resume(g, !strcmp(arg, "resume-load"));
		return;
	}
	if (arg && !strcmp(arg, "keep")) {
		/* Leave the LDT in place: the domain's end must release its frame. */
		printk("ldt: %s (LDT kept)\n", ok_all ? "ok" : "FAIL");
		return;
	}
	/* No LDT: its page goes back and may be writable again. */
	expect(set_ldt(0, 0), 0, "SET_LDT 0/0 after");
	expect(pv_remap(g, PAGE_KERNEL_RW), 0, "the LDT page writable again");
	page_free(g);
	printk("ldt: %s\n", ok_all ? "ok" : "FAIL");
}
