// SPDX-License-Identifier: MIT
// The fixed CPU-bound integer loop of the bench-cpu word, shared with host benchmarks.
#ifndef SVK_CPULOOP_H
#define SVK_CPULOOP_H

/*
 * Only <stdint.h> and inline asm: this header builds freestanding (the
 * guest kernel, frontends/kernel/hostile.c) and hosted (a benchmark on the
 * host runs the very same loop and compares cycles).  No libc, no builtins.
 */
#include <stdint.h>

/*
 * svk_cpuloop: @iterations rounds of xorshift64 feeding a multiply-add
 * accumulator.  Each round depends on the one before (no vectorising, no
 * closed form), touches no memory and makes no call, so its cost is the
 * same integer pipeline work wherever it runs.  Returns the accumulator,
 * which the caller must use (or hide with an empty asm) so the loop is kept.
 */
static inline uint64_t svk_cpuloop(uint64_t iterations)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < iterations; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc += x * 0x2545f4914f6cdd1dULL + (acc >> 3);
	}
	return acc ^ x;
}

/* svk_rdtsc: the time-stamp counter; "memory" keeps it in program order. */
static inline uint64_t svk_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

#endif
