// SPDX-License-Identifier: MIT
/*
 * The kick-stress word (kick-stress=ROUNDS): no event sent to a vCPU that
 * spins in guest code is ever lost.  vCPU 1 spins on a word with events
 * unmasked and makes no hypercall; vCPU 0 sends it an IPI per round and
 * waits until vCPU 1's handler took it.  The handler stalls a varying
 * while before it returns (and every other round makes a hypercall), so
 * the next IPI's kick lands all along vCPU 1's way back into guest code:
 * the engine's fast iret, its hand-off, its signal return.  A kick lost
 * there leaves the event pending and vCPU 1 spinning with nothing to make
 * it leave the guest: the round never ends (the host's test times out).
 * vCPU 0 waits by the clock without a deadline; after every 5 s without
 * progress it says which round is stuck (a diagnostic, not a verdict).
 */
#include <svk/events.h>
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/smp.h>
#include <svk/time.h>

#define KS_CPU 1
#define KS_UP_NS 10000000000ULL
#define KS_REPORT_NS 5000000000ULL
#define KS_DEFAULT_ROUNDS 20000

static unsigned int ks_want;	/* vCPU 0: the round it sent */
static unsigned int ks_got;	/* vCPU 1's handler: the round it took */
static unsigned int ks_seen;	/* vCPU 1's spin: the last round it saw its handler take */
static unsigned int ks_handled; /* handler runs, to see none is doubled */
static unsigned int ks_stop;
static unsigned int ks_wrong_cpu;
static uint64_t ks_rng = 0x9e3779b97f4a7c15ULL;

static inline void ks_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* xorshift64: the handler's stall, different every round. */
static uint64_t ks_next(void)
{
	ks_rng ^= ks_rng << 13;
	ks_rng ^= ks_rng >> 7;
	ks_rng ^= ks_rng << 17;
	return ks_rng;
}

static void ks_handler(evtchn_port_t port, void *data)
{
	unsigned int want = __atomic_load_n(&ks_want, __ATOMIC_ACQUIRE);
	uint64_t r = ks_next();

	(void)port;
	(void)data;
	if (smp_this_cpu() != KS_CPU)
		__atomic_add_fetch(&ks_wrong_cpu, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ks_handled, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&ks_got, want, __ATOMIC_RELEASE);
	/* vCPU 0 sends the next round now: stall 0..~2000 pauses before the iret. */
	for (unsigned int i = (unsigned int)(r & 2047); i; i--)
		ks_pause();
	if (r & 0x10000) /* the way back through the hypervisor's hand-off */
		(void)HYPERVISOR_xen_version(XENVER_version, NULL);
}

/* vCPU 1: spin, events unmasked, no hypercall, until told to stop. */
static void ks_spin(void *arg)
{
	(void)arg;
	events_unmask();
	while (!__atomic_load_n(&ks_stop, __ATOMIC_ACQUIRE)) {
		unsigned int got = __atomic_load_n(&ks_got, __ATOMIC_ACQUIRE);
		if (got != ks_seen)
			__atomic_store_n(&ks_seen, got, __ATOMIC_RELEASE);
		ks_pause();
	}
	events_mask();
}

void kick_stress_word(const start_info_t *si, const char *arg)
{
	uint64_t rounds = KS_DEFAULT_ROUNDS;
	evtchn_port_t p;
	int rc;

	if (arg && *arg && (parse_u64(arg, &rounds) || !rounds || rounds > 10000000)) {
		printk("kick-stress: FAIL bad round count '%s'\n", arg);
		return;
	}
	if (sched_vcpu_count() < 2 || !time_available()) {
		printk("kick-stress: FAIL needs 2 vcpus and the clock\n");
		return;
	}
	rc = smp_cpu_up(si, KS_CPU, KS_UP_NS);
	if (!rc)
		rc = evtchn_bind_ipi(KS_CPU, &p);
	if (!rc)
		rc = evtchn_bind_on(p, KS_CPU, ks_handler, NULL);
	if (!rc)
		rc = smp_post(KS_CPU, ks_spin, NULL);
	if (rc) {
		printk("kick-stress: FAIL setup %d\n", rc);
		return;
	}
	__atomic_store_n(&ks_stop, 0, __ATOMIC_RELEASE);
	printk("kick-stress: %llu rounds\n", (unsigned long long)rounds);
	for (unsigned int i = 1; i <= rounds; i++) {
		uint64_t last = time_now_ns();
		unsigned int reports = 0;

		__atomic_store_n(&ks_want, i, __ATOMIC_RELEASE);
		(void)evtchn_notify(p);
		while (__atomic_load_n(&ks_got, __ATOMIC_ACQUIRE) != i) {
			ks_pause();
			if (time_now_ns() - last > KS_REPORT_NS) {
				last = time_now_ns();
				printk("kick-stress: round %u still waiting (%u s)\n", i, 5 * ++reports);
			}
		}
		if (i % 5000 == 0)
			printk("kick-stress: %u rounds done\n", i);
	}
	__atomic_store_n(&ks_stop, 1, __ATOMIC_RELEASE);
	rc = smp_post_wait(KS_CPU, KS_UP_NS);
	(void)evtchn_close(p);
	(void)smp_cpu_down(KS_CPU, KS_UP_NS);
	if (rc || __atomic_load_n(&ks_wrong_cpu, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&ks_handled, __ATOMIC_RELAXED) != rounds) {
		printk("kick-stress: FAIL spin end %d, handled %u of %llu, %u on a wrong vcpu\n", rc,
		       ks_handled, (unsigned long long)rounds, ks_wrong_cpu);
		return;
	}
	printk("kick-stress: ok %llu rounds\n", (unsigned long long)rounds);
}
