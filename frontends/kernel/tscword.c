// SPDX-License-Identifier: MIT
// The tsc word: what the hypervisor says of the TSC (Xen's time leaf) and whether rdtsc and the
// PV clock built on it agree, whichever tsc_mode the domain has.
#include <svk/lib.h>
#include <svk/printk.h>
#include <svk/time.h>
#include <svk/tscword.h>
#include <svk/wait.h>

/* Xen's leaves through the forced-emulation signature (ud2; "xen"; cpuid). */
static void tsc_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ __volatile__("ud2\n\t.ascii \"xen\"\n\tcpuid"
			     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			     : "0"(leaf), "2"(sub));
}

static inline uint64_t tsc_read(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

#define TSC_READS 1000
#define TSC_NAP_NS 20000000ULL

/*
 * Leaf 0x40000003: subleaf 0 (flags: bit 0 emulated; tsc_mode; kHz;
 * incarnation) and 1 (offset, and the scale the PV clock uses).  Then
 * rdtsc never goes back over TSC_READS reads, and a 20 ms timer wait
 * measured with the PV clock (rdtsc and vcpu_time_info) takes at least
 * 20 ms and less than 10 s: the clock's stamps are in the same units as
 * the rdtsc the guest sees, emulated or not.
 */
void tsc_word(const start_info_t *si, const char *arg)
{
	uint32_t r[4], s1[4];
	uint64_t prev, t, t0, t1;
	bool mono = true;

	(void)si;
	(void)arg;
	tsc_cpuid(0x40000003, 0, r);
	tsc_cpuid(0x40000003, 1, s1);
	printk("tsc: mode %u emulated %u khz %u incarnation %u\n", r[1], r[0] & 1, r[2], r[3]);
	printk("tsc: offset %llu mul %u shift %d\n",
	       (unsigned long long)(((uint64_t)s1[1] << 32) | s1[0]), s1[2], (int)s1[3]);
	prev = tsc_read();
	for (int i = 0; i < TSC_READS; i++) {
		t = tsc_read();
		if (t < prev)
			mono = false;
		prev = t;
	}
	if (!time_available() || !wait_timer_available()) {
		printk("tsc: FAIL no clock or timer\n");
		return;
	}
	t0 = time_now_ns();
	(void)wait_until(never, NULL, TSC_NAP_NS);
	t1 = time_now_ns();
	printk("tsc: rdtsc %s, %llu ms waited by the clock\n", mono ? "monotonic" : "WENT BACK",
	       (unsigned long long)((t1 - t0) / 1000000ULL));
	if (mono && t1 - t0 >= TSC_NAP_NS && t1 - t0 < 10000000000ULL)
		printk("tsc: ok\n");
	else
		printk("tsc: FAIL\n");
}
