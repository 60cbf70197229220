// SPDX-License-Identifier: MIT
// The traps word: a trap table, and the guest handling its own exceptions through it.
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/shinfo.h>
#include <svk/traps.h>

/* The entries in head.S. */
extern char trap_divide_error[], trap_int3[], trap_invalid_op[], trap_general_protection[],
    trap_page_fault[], trap_soft_0x80[];

/* head.S keeps the error code here between the entry's pops and the call. */
unsigned long trap_err_scratch;

/* What the last exception was, and where to resume (0: retry the instruction). */
static volatile unsigned long trap_resume, trap_vector, trap_err, trap_cr2, trap_count;
/* Demand-zero: a fault at this address maps a fresh zeroed page there. */
static volatile unsigned long dz_va;

void trap_do(unsigned long vector, unsigned long err, unsigned long *saved);

/* saved: the 9 registers the entry pushed, then rip, cs, rflags, rsp, ss. */
void trap_do(unsigned long vector, unsigned long err, unsigned long *saved)
{
	trap_count++;
	trap_vector = vector;
	trap_err = err;
	if (vector == 14) {
		trap_cr2 = READ_ONCE(shared_info->vcpu_info[0].arch.cr2);
		if (dz_va && trap_cr2 == dz_va) {
			void *page = page_alloc();

			if (page &&
			    !HYPERVISOR_update_va_mapping(
				dz_va, ((uint64_t)virt_to_mfn(page) << PAGE_SHIFT) | PAGE_KERNEL_RW,
				UVMF_INVLPG | UVMF_LOCAL)) {
				dz_va = 0;
				return; /* the access runs again, on the new page */
			}
		}
	}
	if (trap_resume) {
		saved[9] = trap_resume;
		trap_resume = 0;
		return;
	}
	if (vector == 0x80)
		return; /* a software interrupt returns after its instruction */
	printk("traps: FAIL unexpected vector %lu error 0x%lx at rip 0x%lx\n", vector, err,
	       saved[9]);
	sched_shutdown(SHUTDOWN_crash);
}

/* Run @insn with the handler resuming at the label after it. */
#define EXPECT_TRAP(insn, ...)                                                                     \
	__asm__ __volatile__("leaq 1f(%%rip), %%rax\n\tmovq %%rax, %0\n\t" insn "\n1:"             \
			     : "=m"(trap_resume)                                                   \
			     :                                                                     \
			     : "rax", "memory", ##__VA_ARGS__)

static bool traps_check(bool ok, const char *what)
{
	if (!ok)
		printk("traps: FAIL %s (vector %lu error 0x%lx cr2 0x%lx count %lu)\n", what,
		       trap_vector, trap_err, trap_cr2, trap_count);
	return ok;
}

void traps_selftest(const start_info_t *si, const char *arg)
{
	const struct trap_info table[] = {
		{ .vector = 0,
		  .flags = 0,
		  .cs = FLAT_KERNEL_CS,
		  .address = (unsigned long)trap_divide_error },
		{ .vector = 3,
		  .flags = 3,
		  .cs = FLAT_KERNEL_CS,
		  .address = (unsigned long)trap_int3 },
		{ .vector = 6,
		  .flags = 0,
		  .cs = FLAT_KERNEL_CS,
		  .address = (unsigned long)trap_invalid_op },
		{ .vector = 13,
		  .flags = 0,
		  .cs = FLAT_KERNEL_CS,
		  .address = (unsigned long)trap_general_protection },
		{ .vector = 14,
		  .flags = 4,
		  .cs = FLAT_KERNEL_CS,
		  .address = (unsigned long)trap_page_fault },
		{ .vector = 0x80,
		  .flags = 3,
		  .cs = FLAT_KERNEL_CS,
		  .address = (unsigned long)trap_soft_0x80 },
		{ 0 },
	};
	volatile unsigned long *probe;
	unsigned long before, value;
	bool ok = true;
	long rc;
	void *page;

	rc = HYPERVISOR_set_trap_table(table);
	if (rc) {
		printk("traps: FAIL set_trap_table: %ld\n", rc);
		return;
	}

	before = trap_count;
	EXPECT_TRAP("ud2");
	ok &= traps_check(trap_count == before + 1 && trap_vector == 6, "#UD from ud2");
	EXPECT_TRAP("xorl %%ecx, %%ecx\n\tmovl $1, %%eax\n\txorl %%edx, %%edx\n\tdivl %%ecx", "rcx",
		    "rdx");
	ok &= traps_check(trap_count == before + 2 && trap_vector == 0, "#DE from a division by 0");
	EXPECT_TRAP("int3");
	ok &= traps_check(trap_count == before + 3 && trap_vector == 3, "#BP from int3");
	EXPECT_TRAP("hlt");
	ok &= traps_check(trap_count == before + 4 && trap_vector == 13 && trap_err == 0,
			  "#GP from hlt at CPL3");
	/* int $0x80 with a DPL-3 entry: the software interrupt, resuming after it. */
	trap_resume = 0;
	__asm__ __volatile__("int $0x80" ::: "memory");
	ok &=
	    traps_check(trap_count == before + 5 && trap_vector == 0x80, "int $0x80 to its entry");
	if (ok)
		printk(
		    "traps: #UD #DE #BP #GP and int $0x80 bounced to their entries and returned\n");

	/*
	 * A write to a read-only page (our own top-level page table): #PF,
	 * reported.  It writes back what it read, so a hypervisor that let it
	 * through would change nothing (and the check below would say so).
	 */
	__asm__ __volatile__("leaq 1f(%%rip), %%rax\n\tmovq %%rax, %0\n\t"
			     "movq (%1), %%rcx\n\tmovq %%rcx, (%1)\n1:"
			     : "=m"(trap_resume)
			     : "r"(si->pt_base)
			     : "rax", "rcx", "memory");
	ok &= traps_check(trap_vector == 14 && (trap_err & 3) == 3 && !(trap_err & 4) &&
			      trap_cr2 == si->pt_base,
			  "#PF for a write to a read-only page");
	if (ok)
		printk("traps: write to read-only 0x%lx caught: #PF error 0x%lx cr2 0x%lx\n",
		       (unsigned long)si->pt_base, trap_err, trap_cr2);

	/* Demand-zero: a page taken away, touched, mapped afresh by the handler, read as 0. */
	page = page_alloc();
	if (!traps_check(page != NULL, "a page for demand-zero"))
		goto out;
	probe = page;
	*probe = 0xabcdef;
	rc = HYPERVISOR_update_va_mapping((unsigned long)page, 0, UVMF_INVLPG | UVMF_LOCAL);
	ok &= traps_check(rc == 0, "unmapping the demand-zero page");
	before = trap_count;
	dz_va = (unsigned long)page;
	value = *probe;
	ok &= traps_check(trap_count == before + 1 && value == 0 && dz_va == 0 &&
			      trap_cr2 == (unsigned long)page && !(trap_err & 1),
			  "demand-zero page fault");
	if (ok)
		printk("traps: demand-zero page at 0x%lx mapped on its fault, read %lu\n",
		       (unsigned long)page, value);
out:
	(void)HYPERVISOR_set_trap_table(NULL);
	printk(ok ? "traps: ok\n" : "traps: FAIL\n");
}
