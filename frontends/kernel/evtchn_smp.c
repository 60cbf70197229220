// SPDX-License-Identifier: MIT
// The evtchn-smp word: events delivered on every vCPU (FIFO or 2-level), proved port by port.
#include <svk/events.h>
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/smp.h>
#include <svk/time.h>
#include <svk/wait.h>

/* vCPUs the word exercises (the rest of a bigger guest is left alone). */
#define SMPEV_MAX_VCPUS 8
#define SMPEV_UP_NS 10000000000ULL
#define SMPEV_WAIT_NS 10000000000ULL

/* What a handler saw: how often it ran, and on which vCPU last (any vCPU writes it). */
struct hits {
	unsigned int count;
	unsigned int cpu;
};

static void hit_handler(evtchn_port_t port, void *data)
{
	struct hits *h = data;

	__atomic_store_n(&h->cpu, smp_this_cpu(), __ATOMIC_RELAXED);
	__atomic_add_fetch(&h->count, 1, __ATOMIC_RELEASE);
}

struct want {
	struct hits *h;
	unsigned int n;
};

static bool reached(void *arg)
{
	const struct want *w = arg;

	return __atomic_load_n(&w->h->count, __ATOMIC_ACQUIRE) >= w->n;
}

/*
 * Wait until @h counted @n, in short waits: a handler on another vCPU does
 * not wake the boot vCPU, the timer does.  Then, to see no extra delivery,
 * a little longer.  Returns the count.
 */
static unsigned int wait_hits(struct hits *h, unsigned int n)
{
	struct want w = { h, n };
	uint64_t end = time_now_ns() + SMPEV_WAIT_NS;

	while (!reached(&w) && time_now_ns() < end)
		(void)wait_until(reached, &w, 10000000ULL);
	w.n = n + 1;
	(void)wait_until(reached, &w, 50000000ULL);
	return __atomic_load_n(&h->count, __ATOMIC_ACQUIRE);
}

/* On the secondary (smp_call): its one-shot timer 1 ms from now, which raises its VIRQ_TIMER. */
static void arm_timer(void *arg)
{
	struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = time_now_ns() + 1000000ULL };
	int *rc = arg;

	*rc = (int)HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, smp_this_cpu(), &t);
}

static int fails;

static void fail(unsigned int cpu, const char *what, long v)
{
	printk("evtchn-smp: FAIL vcpu %u: %s (%ld)\n", cpu, what, v);
	fails++;
}

/* An IPI to @cpu runs its handler there, once per send. */
static void test_ipi(unsigned int cpu)
{
	static struct hits h;
	evtchn_port_t p;
	int rc;

	h = (struct hits){ 0, ~0U };
	rc = evtchn_bind_ipi(cpu, &p);
	if (!rc)
		rc = evtchn_bind_on(p, cpu, hit_handler, &h);
	if (rc) {
		fail(cpu, "bind ipi", rc);
		return;
	}
	(void)evtchn_notify(p);
	if (wait_hits(&h, 1) != 1 || h.cpu != cpu)
		fail(cpu, "ipi delivered on vcpu", (long)h.cpu);
	(void)evtchn_notify(p);
	if (wait_hits(&h, 2) != 2 || h.cpu != cpu)
		fail(cpu, "second ipi count", (long)h.count);
	(void)evtchn_close(p);
}

/* The secondary's own VIRQ_TIMER, raised by its one-shot timer. */
static void test_timer(unsigned int cpu)
{
	static struct hits h;
	static int arm_rc;
	evtchn_port_t p;
	int rc;

	h = (struct hits){ 0, ~0U };
	rc = evtchn_bind_virq(VIRQ_TIMER, cpu, &p);
	if (!rc)
		rc = evtchn_bind_on(p, cpu, hit_handler, &h);
	if (rc) {
		fail(cpu, "bind virq timer", rc);
		return;
	}
	arm_rc = -1;
	rc = smp_call(cpu, arm_timer, &arm_rc, SMPEV_WAIT_NS);
	if (rc || arm_rc)
		fail(cpu, "arm its timer", rc ? rc : arm_rc);
	else if (wait_hits(&h, 1) != 1 || h.cpu != cpu)
		fail(cpu, "virq timer delivered on vcpu", (long)h.cpu);
	(void)evtchn_close(p);
}

/*
 * A loopback pair, its receiving port moved to @cpu with EVTCHNOP_bind_vcpu;
 * then moved back to vCPU 0 and, while pending on vCPU 0 (linked on its
 * queue under FIFO), moved to @cpu again.  Under FIFO that event is still
 * vCPU 0's to take (Xen leaves a linked event on its queue; a send while it
 * is linked queues nothing more), the next one is @cpu's; under 2-level
 * the unmask after the move raises it on @cpu.
 * Every event is delivered exactly once.
 */
static void test_move(unsigned int cpu, bool fifo)
{
	static struct hits h;
	evtchn_port_t rx, tx;
	unsigned int first = fifo ? 0 : cpu;
	int rc;

	h = (struct hits){ 0, ~0U };
	rc = evtchn_alloc_unbound(DOMID_SELF, &rx);
	if (!rc)
		rc = evtchn_bind_interdomain(DOMID_SELF, rx, &tx);
	if (!rc)
		rc = evtchn_move(rx, cpu);
	if (!rc)
		rc = evtchn_bind(rx, hit_handler, &h);
	if (rc) {
		fail(cpu, "loopback pair", rc);
		return;
	}
	(void)evtchn_notify(tx);
	if (wait_hits(&h, 1) != 1 || h.cpu != cpu)
		fail(cpu, "moved port delivered on vcpu", (long)h.cpu);
	rc = evtchn_move(rx, 0);
	if (rc) {
		fail(cpu, "move back to vcpu 0", rc);
		goto out;
	}
	events_mask();
	(void)evtchn_notify(tx); /* pending (linked) on vCPU 0, not taken: masked */
	rc = evtchn_move(rx, cpu);
	if (fifo) /* still linked on vCPU 0's queue: sent again, nothing more is queued */
		(void)evtchn_notify(tx);
	events_unmask();
	if (rc)
		fail(cpu, "move while pending", rc);
	else if (wait_hits(&h, 2) != 2 || h.cpu != first)
		fail(cpu, "event pending at the move: count, vcpu",
		     (long)__atomic_load_n(&h.count, __ATOMIC_ACQUIRE) * 1000 + h.cpu);
	(void)evtchn_notify(tx);
	if (wait_hits(&h, 3) != 3 || h.cpu != cpu)
		fail(cpu, "next event after the move delivered on vcpu", (long)h.cpu);
out:
	(void)evtchn_close(rx);
	(void)evtchn_close(tx);
}

void evtchn_smp_word(const start_info_t *si, const char *arg)
{
	unsigned int n = sched_vcpu_count(), up = 1;
	bool fifo = events_fifo();
	int rc;

	(void)arg;
	if (n > SMPEV_MAX_VCPUS)
		n = SMPEV_MAX_VCPUS;
	fails = 0;
	printk("evtchn-smp: abi %s, %u vcpus\n", fifo ? "fifo" : "2-level", n);
	if (!time_available() || !wait_timer_available()) {
		printk("evtchn-smp: FAIL needs the clock and the timer\n");
		return;
	}
	for (unsigned int cpu = 1; cpu < n; cpu++, up++) {
		rc = smp_cpu_up(si, cpu, SMPEV_UP_NS);
		if (rc) {
			fail(cpu, "up", rc);
			break;
		}
		if (fifo && !events_vcpu_fifo(cpu))
			fail(cpu, "no fifo control block", 0);
	}
	for (unsigned int cpu = 0; cpu < up; cpu++) {
		int before = fails;
		test_ipi(cpu);
		if (cpu) /* vCPU 0's VIRQ_TIMER is the wait loop's (wait.c) */
			test_timer(cpu);
		if (cpu)
			test_move(cpu, fifo);
		if (fails == before)
			printk("evtchn-smp: vcpu %u ok%s\n", cpu,
			       cpu ? " (ipi, virq timer, bind_vcpu while pending)" : " (ipi)");
	}
	for (unsigned int cpu = 1; cpu < up; cpu++)
		(void)smp_cpu_down(cpu, SMPEV_UP_NS);
	if (fails)
		printk("evtchn-smp: FAIL %d\n", fails);
	else
		printk("evtchn-smp: ok\n");
}
