// SPDX-License-Identifier: MIT
/*
 * Loads of the guest's own descriptors, for the gdt and ldt words: a
 * selector into %ds/%es/%fs/%gs (and a read through it), and a far return
 * to a code selector.  A #GP is caught by privops.c's entry, which
 * resumes after the instruction; the stack is put back from
 * seg_saved_rsp, since a faulting lretq leaves its two words pushed.
 */
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/printk.h>
#include <svk/segload.h>

extern char privops_gp[];
extern volatile unsigned long privops_vec, privops_err, privops_count, privops_resume;
unsigned long seg_saved_rsp;

bool seg_traps_on(void)
{
	const struct trap_info table[] = {
		{ .vector = 13, .cs = FLAT_KERNEL_CS, .address = (unsigned long)privops_gp },
		{ 0 },
	};

	return HYPERVISOR_set_trap_table(table) == 0;
}

void seg_traps_off(void)
{
	(void)HYPERVISOR_set_trap_table(NULL);
}

static struct seg_try done(unsigned long before, uint64_t got)
{
	struct seg_try t = { .traps = privops_count - before, .got = got };

	t.err = t.traps ? privops_err : 0;
	privops_resume = 0;
	return t;
}

/* The resume point is label 1; rax holds it. */
#define TRY(body, ...)                                                                             \
	__asm__ __volatile__("leaq 1f(%%rip), %%rax\n\tmovq %%rax, privops_resume(%%rip)\n\t" body  \
			     "\n1:" __VA_ARGS__)

struct seg_try seg_load(enum seg_reg reg, uint16_t sel, uint64_t off)
{
	unsigned long before = privops_count;
	uint64_t got = 0;

	switch (reg) {
	case SEG_DS:
		TRY("movw %w1, %%ds\n\tmovq %%ds:(%2), %0", : "+r"(got) : "r"(sel), "r"(off)
		    : "rax", "memory");
		break;
	case SEG_ES:
		TRY("movw %w0, %%es", : : "r"(sel) : "rax", "memory");
		break;
	case SEG_FS:
		TRY("movw %w1, %%fs\n\tmovq %%fs:(%2), %0", : "+r"(got) : "r"(sel), "r"(off)
		    : "rax", "memory");
		break;
	case SEG_GS:
		TRY("movw %w0, %%gs", : : "r"(sel) : "rax", "memory");
		break;
	}
	return done(before, got);
}

struct seg_try seg_lret(uint16_t sel)
{
	unsigned long before = privops_count;

	TRY("movq %%rsp, seg_saved_rsp(%%rip)\n\tpushq %q0\n\tpushq %%rax\n\tlretq",
	    "\n\tmovq seg_saved_rsp(%%rip), %%rsp" : : "r"((unsigned long)sel) : "rax", "memory");
	return done(before, 0);
}

void seg_reset(void)
{
	__asm__ __volatile__("movw %w0, %%ds\n\tmovw %w0, %%es\n\tmovw %w0, %%fs\n\tmovw %w0, %%gs"
			     :
			     : "r"(0)
			     : "memory");
	(void)_hypercall2(__HYPERVISOR_set_segment_base, SEGBASE_FS, 0);
	(void)_hypercall2(__HYPERVISOR_set_segment_base, SEGBASE_GS_KERNEL, 0);
}

bool seg_must_load(const char *word, enum seg_reg reg, uint16_t sel, uint64_t off,
		   const char *what)
{
	struct seg_try t = seg_load(reg, sel, off);
	bool ok = !t.traps && ((reg != SEG_FS && reg != SEG_DS) || t.got == SEG_MAGIC);

	if (!ok)
		printk("%s: FAIL %s (selector 0x%x: %lu #GP error 0x%lx, read 0x%lx)\n", word, what,
		       (unsigned)sel, t.traps, t.err, (unsigned long)t.got);
	seg_reset();
	return ok;
}

bool seg_must_gp(const char *word, struct seg_try t, uint16_t sel, const char *what)
{
	bool ok = t.traps == 1 && t.err == (sel & ~3u);

	if (!ok)
		printk("%s: FAIL %s (selector 0x%x: %lu #GP, error 0x%lx, want one with 0x%x)\n",
		       word, what, (unsigned)sel, t.traps, t.err, (unsigned)(sel & ~3u));
	seg_reset();
	return ok;
}
