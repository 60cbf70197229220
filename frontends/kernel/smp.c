// SPDX-License-Identifier: MIT
// Starts the secondary vCPUs with VCPUOP_initialise/VCPUOP_up and waits for their reports.
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/smp.h>
#include <svk/time.h>

/* head.S: secondary entry, with rdi = vCPU id and rsp = its stack top. */
extern char smp_secondary_entry[];

/* Called from head.S on each secondary vCPU. */
void smp_secondary_main(unsigned long cpu) __noreturn;

/* Pages of each secondary's stack. */
#define SMP_STACK_PAGES 2
/* How long the boot vCPU waits for each secondary, by clock or by spins. */
#define SMP_WAIT_NS_PER_VCPU 1000000000ULL
#define SMP_WAIT_SPINS_PER_VCPU 200000000ULL

/*
 * State shared between vCPUs, owned by this file.  smp_gen is bumped by the
 * boot vCPU for every smp_run; a secondary reports once per generation it
 * sees and bumps smp_reported.
 */
static unsigned int smp_gen;
static unsigned int smp_reported;
static bool smp_started[SCHED_MAX_VCPUS];

void smp_secondary_main(unsigned long cpu)
{
	unsigned int seen;

	for (;;) {
		seen = READ_ONCE(smp_gen);
		printk("vcpu %lu: online\n", cpu);
		__atomic_fetch_add(&smp_reported, 1, __ATOMIC_SEQ_CST);
		/*
		 * VCPUOP_down on ourselves takes effect when the hypervisor
		 * next schedules; until then (and after a later VCPUOP_up)
		 * we come back here, and report again only for a new run.
		 */
		while (READ_ONCE(smp_gen) == seen) {
			(void)HYPERVISOR_vcpu_op(VCPUOP_down, (unsigned int)cpu,
						 NULL);
			(void)sched_yield();
		}
	}
}

/*
 * The first context of a secondary: kernel mode (VGCF_in_kernel) on the
 * flat 64-bit selectors, the same page tables as vCPU 0 (cr3 holds the
 * machine frame of the L4 at pt_base), its own stack, events masked until
 * it registers callbacks (it never does today).
 */
static int smp_initialise(const start_info_t *si, unsigned int cpu)
{
	static struct vcpu_guest_context ctx;
	unsigned long l4_mfn = virt_to_mfn((const void *)si->pt_base);
	char *stack = NULL;
	long rc;

	for (unsigned int i = 0; i < SMP_STACK_PAGES; i++) {
		/* page_alloc hands out consecutive fresh frames. */
		char *p = page_alloc();

		if (!p || (stack && p != stack + i * PAGE_SIZE))
			return -XEN_ENOMEM;
		if (!stack)
			stack = p;
	}
	if (l4_mfn == ~0UL)
		return -XEN_EINVAL;

	memset(&ctx, 0, sizeof(ctx));
	ctx.flags = VGCF_in_kernel | VGCF_online;
	ctx.user_regs.rip = (unsigned long)smp_secondary_entry;
	ctx.user_regs.rsp = (unsigned long)stack + SMP_STACK_PAGES * PAGE_SIZE;
	ctx.user_regs.rdi = cpu;
	ctx.user_regs.cs = FLAT_KERNEL_CS;
	ctx.user_regs.ss = FLAT_KERNEL_SS;
	ctx.user_regs.ds = FLAT_KERNEL_DS;
	ctx.user_regs.es = FLAT_KERNEL_DS;
	ctx.user_regs.rflags = 0x202; /* IF (Xen sets it anyway) and bit 1 */
	ctx.kernel_ss = FLAT_KERNEL_SS;
	ctx.kernel_sp = ctx.user_regs.rsp;
	ctx.ctrlreg[3] = xen_pfn_to_cr3(l4_mfn);

	rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, cpu, &ctx);
	return (int)rc;
}

int smp_run(const start_info_t *si, unsigned int nr_vcpus)
{
	unsigned int cpu, want = 0, got;
	uint64_t deadline = 0, spins = 0;
	long rc;

	__atomic_store_n(&smp_reported, 0, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&smp_gen, 1, __ATOMIC_SEQ_CST);
	for (cpu = 1; cpu < nr_vcpus && cpu < SCHED_MAX_VCPUS; cpu++) {
		if (!smp_started[cpu]) {
			rc = smp_initialise(si, cpu);
			if (rc) {
				printk("smp: vcpu %u: initialise failed: %ld\n",
				       cpu, rc);
				continue;
			}
			smp_started[cpu] = true;
		}
		rc = HYPERVISOR_vcpu_op(VCPUOP_up, cpu, NULL);
		if (rc) {
			printk("smp: vcpu %u: up failed: %ld\n", cpu, rc);
			continue;
		}
		want++;
	}
	if (nr_vcpus > 1 && want == 0)
		return -XEN_ENODEV;

	if (time_available())
		deadline = time_now_ns() + SMP_WAIT_NS_PER_VCPU * (want + 1);
	for (;;) {
		got = __atomic_load_n(&smp_reported, __ATOMIC_SEQ_CST);
		if (got >= want)
			break;
		if (time_available() ? time_now_ns() > deadline :
				       ++spins > SMP_WAIT_SPINS_PER_VCPU * want)
			break;
		__asm__ __volatile__("pause");
	}
	if (got < want)
		printk("smp: only %u of %u vcpus reported\n", got, want);
	return (int)got + 1;
}
