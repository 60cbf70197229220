// SPDX-License-Identifier: MIT
// Blocking waits of the boot vCPU: SCHEDOP_block, woken by events or a VIRQ_TIMER one-shot.
#include <svk/events.h>
#include <svk/hypercall.h>
#include <svk/sched.h>
#include <svk/time.h>
#include <svk/wait.h>

/* State owned by this file (boot vCPU only). */
static bool timer_on;
static evtchn_port_t timer_port;
static unsigned long timer_fired;
static void (*wait_hook)(void);
static bool in_hook;

/* Arm the one-shot timer at @deadline (system time, ns). */
static bool timer_arm(uint64_t deadline)
{
	struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline, .flags = 0 };

	return HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t) == 0;
}

/* The wake-up is the point; the count is for reports. */
static void timer_handler(evtchn_port_t port, void *data)
{
	timer_fired++;
}

int wait_init(void)
{
	evtchn_port_t port;
	int rc;

	if (!events_ready())
		return -XEN_ENODEV;
	rc = evtchn_bind_virq(VIRQ_TIMER, 0, &port);
	if (rc)
		return rc;
	rc = evtchn_bind(port, timer_handler, NULL);
	if (rc) {
		(void)evtchn_close(port);
		return rc;
	}
	timer_port = port;
	timer_on = true;
	return 0;
}

evtchn_port_t wait_timer_port(void)
{
	return timer_on ? timer_port : 0;
}

/* A restored domain has no VIRQ binding: bind it again (a new port). */
int wait_resume(void)
{
	if (!timer_on)
		return 0;
	timer_on = false;
	return wait_init();
}

bool wait_timer_available(void)
{
	return timer_on;
}

unsigned long wait_timer_fired(void)
{
	return timer_fired;
}

void wait_set_hook(void (*fn)(void))
{
	wait_hook = fn;
}

bool wait_timer_arm(uint64_t deadline)
{
	return timer_on && timer_arm(deadline);
}

/*
 * Without a clock a deadline is counted in loop rounds instead, each one
 * SCHEDOP_yield (about a microsecond or more).
 */
#define WAIT_NS_PER_ROUND 1000ULL

int wait_until(wait_cond_t cond, void *arg, uint64_t timeout_ns)
{
	bool clock = time_available();
	uint64_t deadline = 0, rounds = 0;

	if (timeout_ns)
		deadline = clock ? time_now_ns() + timeout_ns : timeout_ns / WAIT_NS_PER_ROUND + 1;
	for (;;) {
		if (wait_hook && !in_hook) {
			in_hook = true;
			wait_hook();
			in_hook = false;
		}
		events_mask();
		if (cond(arg)) {
			events_unmask();
			return 0;
		}
		if (deadline && (clock ? time_now_ns() >= deadline : ++rounds >= deadline)) {
			events_unmask();
			return -XEN_ETIMEDOUT;
		}
		/*
		 * Block only when something is sure to wake us: events on,
		 * and for a deadline the timer.  Otherwise poll politely.
		 */
		if (!events_ready() || (deadline && !(clock && timer_on && timer_arm(deadline)))) {
			events_unmask();
			(void)sched_yield();
			continue;
		}
		/* Unmasks atomically; an event already pending returns at once. */
		if (sched_block()) {
			events_unmask();
			(void)sched_yield();
		}
		events_unmask();
	}
}
