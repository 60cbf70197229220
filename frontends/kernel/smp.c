// SPDX-License-Identifier: MIT
// Starts the secondary vCPUs with VCPUOP_initialise/VCPUOP_up, waits for their reports, keeps them
// online or lets them go.
#include <svk/events.h>
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

/* How long a kept secondary sleeps before it looks at its flags again. */
#define SMP_IDLE_NS 100000000ULL

/*
 * State shared between vCPUs, owned by this file.  smp_gen is bumped by the
 * boot vCPU for every smp_run; a secondary reports once per generation it
 * sees and then records it in smp_done[its id].  smp_keep (boot vCPU)
 * says a secondary stays online, idle, rather than taking itself down;
 * smp_idling (the secondary) says it saw that and idles.
 */
static unsigned int smp_gen;
static unsigned int smp_done[SCHED_MAX_VCPUS];
static bool smp_started[SCHED_MAX_VCPUS];
static bool smp_keep[SCHED_MAX_VCPUS];
static bool smp_idling[SCHED_MAX_VCPUS];
/* Each secondary's stack (smp_this_cpu), set before it first runs; the highest id given one. */
static char *smp_stack[SCHED_MAX_VCPUS];
static unsigned int smp_top;
/* smp_call: the boot vCPU posts fn/arg and bumps call_seq; the secondary copies call_seq to
 * call_done once fn returned. */
static void (*call_fn[SCHED_MAX_VCPUS])(void *);
static void *call_arg[SCHED_MAX_VCPUS];
static unsigned int call_seq[SCHED_MAX_VCPUS], call_done[SCHED_MAX_VCPUS];

unsigned int smp_this_cpu(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	unsigned int top = __atomic_load_n(&smp_top, __ATOMIC_ACQUIRE);

	for (unsigned int cpu = 1; cpu <= top && cpu < SCHED_MAX_VCPUS; cpu++) {
		uintptr_t base = (uintptr_t)__atomic_load_n(&smp_stack[cpu], __ATOMIC_ACQUIRE);
		if (base && sp - base < SMP_STACK_PAGES * PAGE_SIZE)
			return cpu;
	}
	return 0;
}

/* A secondary, outside any upcall: run what the boot vCPU posted for it. */
static void smp_run_call(unsigned long cpu)
{
	unsigned int seq = __atomic_load_n(&call_seq[cpu], __ATOMIC_ACQUIRE);

	if (seq == __atomic_load_n(&call_done[cpu], __ATOMIC_RELAXED))
		return;
	call_fn[cpu](call_arg[cpu]);
	__atomic_store_n(&call_done[cpu], seq, __ATOMIC_RELEASE);
}

/*
 * Sleep about @ns in SCHEDOP_poll on no port: blocked, with events masked
 * (a secondary registers no callback), woken by the timeout.  Without a
 * clock, one SCHEDOP_yield.
 */
static void smp_nap(uint64_t ns)
{
	struct sched_poll p = { .nr_ports = 0 };

	if (!time_available()) {
		(void)sched_yield();
		return;
	}
	set_xen_guest_handle(p.ports, NULL);
	p.timeout = time_now_ns() + ns;
	(void)HYPERVISOR_sched_op(SCHEDOP_poll, &p);
}

void smp_secondary_main(unsigned long cpu)
{
	unsigned int reported = 0, gen;
	int rc;

	/* Its own callbacks, then its events (its FIFO block was made by the boot vCPU). */
	rc = events_vcpu_start();
	if (rc && rc != -XEN_ENODEV)
		printk("vcpu %lu: events: %d\n", cpu, rc);
	for (;;) {
		smp_run_call(cpu);
		gen = __atomic_load_n(&smp_gen, __ATOMIC_SEQ_CST);
		if (gen != reported) {
			printk("vcpu %lu: online\n", cpu);
			reported = gen;
			__atomic_store_n(&smp_done[cpu], gen, __ATOMIC_SEQ_CST);
			continue;
		}
		if (__atomic_load_n(&smp_keep[cpu], __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&smp_idling[cpu], true, __ATOMIC_SEQ_CST);
			smp_nap(SMP_IDLE_NS);
			continue;
		}
		__atomic_store_n(&smp_idling[cpu], false, __ATOMIC_SEQ_CST);
		/*
		 * VCPUOP_down on ourselves takes effect when the hypervisor
		 * next schedules; we come back here after a later VCPUOP_up,
		 * and report again only for a new run.
		 */
		(void)HYPERVISOR_vcpu_op(VCPUOP_down, (unsigned int)cpu, NULL);
		(void)sched_yield();
	}
}

/*
 * SMP_STACK_PAGES contiguous pages for a secondary's stack, or NULL.
 * page_alloc hands out fresh frames in order, so consecutive calls are
 * normally adjacent; if not (pages came back from the free list), give
 * them back and fail rather than hand out a broken stack.
 */
static char *smp_stack_alloc(void)
{
	char *pages[SMP_STACK_PAGES];
	unsigned int i, n;

	for (n = 0; n < SMP_STACK_PAGES; n++) {
		pages[n] = page_alloc();
		if (!pages[n] || (n && pages[n] != pages[0] + n * PAGE_SIZE))
			goto out_free_pages;
	}
	return pages[0];

out_free_pages:
	/* Highest first: the free list then hands them back in order. */
	for (i = n < SMP_STACK_PAGES ? n + 1 : n; i-- > 0;)
		page_free(pages[i]);
	return NULL;
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
	char *stack;
	long rc;

	if (l4_mfn == ~0UL)
		return -XEN_EINVAL;
	stack = smp_stack_alloc();
	if (!stack)
		return -XEN_ENOMEM;
	/* Its FIFO control block before it runs, as Linux prepares a CPU. */
	rc = events_vcpu_prepare(cpu);
	if (rc)
		printk("smp: vcpu %u: evtchn fifo control block: %ld\n", cpu, rc);
	__atomic_store_n(&smp_stack[cpu], stack, __ATOMIC_RELEASE);
	if (cpu > smp_top)
		__atomic_store_n(&smp_top, cpu, __ATOMIC_RELEASE);

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
	if (rc)
		goto out_free_stack;
	return 0;

out_free_stack:
	__atomic_store_n(&smp_stack[cpu], NULL, __ATOMIC_RELEASE);
	/* Highest first: the free list then hands them back in order. */
	for (unsigned int i = SMP_STACK_PAGES; i-- > 0;)
		page_free(stack + i * PAGE_SIZE);
	return (int)rc;
}

/*
 * smp_kick: bring @cpu up if it is down.  A secondary that had not yet
 * taken itself down when the run started may do so after our VCPUOP_up
 * (the up is then lost), so the waiting loop calls this again until the
 * vCPU reports.  Returns 0 or the hypercall's -errno.
 */
static int smp_kick(unsigned int cpu)
{
	long rc = HYPERVISOR_vcpu_op(VCPUOP_is_up, cpu, NULL);

	if (rc < 0)
		return (int)rc;
	if (rc > 0)
		return 0; /* running: it will see the new generation */
	return (int)HYPERVISOR_vcpu_op(VCPUOP_up, cpu, NULL);
}

int smp_run(const start_info_t *si, unsigned int nr_vcpus)
{
	bool want[SCHED_MAX_VCPUS] = { false };
	unsigned int cpu, gen, nr_want = 0, got = 0;
	uint64_t deadline = 0, spins = 0;
	long rc;

	if (nr_vcpus > SCHED_MAX_VCPUS)
		nr_vcpus = SCHED_MAX_VCPUS;
	gen = __atomic_add_fetch(&smp_gen, 1, __ATOMIC_SEQ_CST);
	for (cpu = 1; cpu < nr_vcpus; cpu++) {
		if (!smp_started[cpu]) {
			rc = smp_initialise(si, cpu);
			if (rc) {
				printk("smp: vcpu %u: initialise failed: %ld\n", cpu, rc);
				continue;
			}
			smp_started[cpu] = true;
		}
		want[cpu] = true;
		nr_want++;
	}
	if (nr_vcpus > 1 && nr_want == 0)
		return -XEN_ENODEV;

	if (time_available())
		deadline = time_now_ns() + SMP_WAIT_NS_PER_VCPU * (nr_want + 1);
	for (;;) {
		got = 0;
		for (cpu = 1; cpu < nr_vcpus; cpu++) {
			if (!want[cpu])
				continue;
			if (__atomic_load_n(&smp_done[cpu], __ATOMIC_SEQ_CST) == gen) {
				got++;
				continue;
			}
			rc = smp_kick(cpu);
			if (rc) {
				printk("smp: vcpu %u: up failed: %ld\n", cpu, rc);
				want[cpu] = false;
				nr_want--;
			}
		}
		if (got >= nr_want)
			break;
		if (time_available() ? time_now_ns() > deadline
				     : ++spins > SMP_WAIT_SPINS_PER_VCPU / 1000 * nr_want)
			break;
		/* Let the secondaries run before asking the hypervisor again. */
		for (unsigned int i = 0; i < 1000; i++)
			__asm__ __volatile__("pause");
	}
	if (got < nr_want)
		printk("smp: only %u of %u vcpus reported\n", got, nr_want);
	return (int)got + 1;
}

bool smp_cpu_kept(unsigned int cpu)
{
	return cpu < SCHED_MAX_VCPUS && __atomic_load_n(&smp_keep[cpu], __ATOMIC_SEQ_CST);
}

int smp_cpu_up(const start_info_t *si, unsigned int cpu, uint64_t timeout_ns)
{
	uint64_t deadline;
	long rc;

	if (cpu == 0 || cpu >= SCHED_MAX_VCPUS)
		return -XEN_EINVAL;
	if (!smp_started[cpu]) {
		rc = smp_initialise(si, cpu);
		if (rc)
			return (int)rc;
		smp_started[cpu] = true;
	}
	__atomic_store_n(&smp_keep[cpu], true, __ATOMIC_SEQ_CST);
	deadline = time_available() ? time_now_ns() + timeout_ns : 0;
	/* An up can be lost to a secondary on its way down: ask until it idles. */
	while (!__atomic_load_n(&smp_idling[cpu], __ATOMIC_SEQ_CST)) {
		rc = smp_kick(cpu);
		if (rc)
			return (int)rc;
		if (deadline && time_now_ns() > deadline)
			return -XEN_ETIMEDOUT;
		smp_nap(1000000);
	}
	return 0;
}

int smp_cpu_down(unsigned int cpu, uint64_t timeout_ns)
{
	uint64_t deadline;
	long rc;

	if (cpu == 0 || cpu >= SCHED_MAX_VCPUS)
		return -XEN_EINVAL;
	__atomic_store_n(&smp_keep[cpu], false, __ATOMIC_SEQ_CST);
	if (!smp_started[cpu])
		return 0;
	deadline = time_available() ? time_now_ns() + timeout_ns : 0;
	/* It notices within SMP_IDLE_NS and takes itself down, as Linux's play_dead. */
	while ((rc = HYPERVISOR_vcpu_op(VCPUOP_is_up, cpu, NULL)) > 0) {
		if (deadline && time_now_ns() > deadline)
			return -XEN_ETIMEDOUT;
		smp_nap(1000000);
	}
	return rc < 0 ? (int)rc : 0;
}

int smp_post(unsigned int cpu, void (*fn)(void *), void *arg)
{
	if (cpu == 0 || cpu >= SCHED_MAX_VCPUS || !smp_cpu_kept(cpu) || !fn)
		return -XEN_EINVAL;
	call_fn[cpu] = fn;
	call_arg[cpu] = arg;
	__atomic_add_fetch(&call_seq[cpu], 1, __ATOMIC_RELEASE);
	return 0;
}

int smp_post_wait(unsigned int cpu, uint64_t timeout_ns)
{
	unsigned int seq;
	uint64_t deadline;

	if (cpu == 0 || cpu >= SCHED_MAX_VCPUS)
		return -XEN_EINVAL;
	seq = __atomic_load_n(&call_seq[cpu], __ATOMIC_ACQUIRE);
	deadline = time_available() ? time_now_ns() + timeout_ns : 0;
	/* It looks at least every SMP_IDLE_NS. */
	while (__atomic_load_n(&call_done[cpu], __ATOMIC_ACQUIRE) != seq) {
		if (deadline && time_now_ns() > deadline)
			return -XEN_ETIMEDOUT;
		smp_nap(1000000);
	}
	return 0;
}

int smp_call(unsigned int cpu, void (*fn)(void *), void *arg, uint64_t timeout_ns)
{
	int rc = smp_post(cpu, fn, arg);

	return rc ? rc : smp_post_wait(cpu, timeout_ns);
}

/*
 * Parking for a suspend (suspend.c).  Each kept secondary runs smp_park_fn
 * from its idle loop: it masks its events (its vcpu_info is still the
 * real one), says so, then only yields until released, touching neither
 * shared_info nor any port while the boot vCPU suspends; released, it
 * registers its callbacks again in a restored domain (they are per vCPU)
 * or just unmasks, and returns to its idle loop.
 */
static bool park_release, park_new_domain;
static bool park_posted[SCHED_MAX_VCPUS], parked[SCHED_MAX_VCPUS];

static void smp_park_fn(void *arg)
{
	unsigned int cpu = smp_this_cpu();
	int rc;

	events_mask();
	__atomic_store_n(&parked[cpu], true, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&park_release, __ATOMIC_SEQ_CST))
		(void)sched_yield();
	if (__atomic_load_n(&park_new_domain, __ATOMIC_SEQ_CST)) {
		rc = events_vcpu_start();
		if (rc && rc != -XEN_ENODEV)
			printk("vcpu %u: events after the restore: %d\n", cpu, rc);
	} else {
		events_unmask();
	}
	__atomic_store_n(&parked[cpu], false, __ATOMIC_SEQ_CST);
}

int smp_park(uint64_t timeout_ns)
{
	uint64_t deadline = time_available() ? time_now_ns() + timeout_ns : 0;
	unsigned int cpu, n = 0;

	__atomic_store_n(&park_release, false, __ATOMIC_SEQ_CST);
	for (cpu = 1; cpu < SCHED_MAX_VCPUS; cpu++) {
		park_posted[cpu] = smp_cpu_kept(cpu) && !smp_post(cpu, smp_park_fn, NULL);
		n += park_posted[cpu];
	}
	for (cpu = 1; cpu < SCHED_MAX_VCPUS; cpu++) {
		while (park_posted[cpu] && !__atomic_load_n(&parked[cpu], __ATOMIC_SEQ_CST)) {
			if (deadline && time_now_ns() > deadline) {
				smp_unpark(false);
				return -XEN_ETIMEDOUT;
			}
			smp_nap(1000000);
		}
	}
	return (int)n;
}

void smp_unpark(bool new_domain)
{
	__atomic_store_n(&park_new_domain, new_domain, __ATOMIC_SEQ_CST);
	__atomic_store_n(&park_release, true, __ATOMIC_SEQ_CST);
	for (unsigned int cpu = 1; cpu < SCHED_MAX_VCPUS; cpu++) {
		if (!park_posted[cpu])
			continue;
		if (smp_post_wait(cpu, 10ULL * 1000000000ULL))
			printk("smp: vcpu %u did not come back from parking\n", cpu);
		park_posted[cpu] = false;
	}
}
