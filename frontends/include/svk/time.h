// SPDX-License-Identifier: MIT
// Monotonic time from the shared vcpu_time_info and the TSC (time.c).
#ifndef SVK_TIME_H
#define SVK_TIME_H

#include <svk/compiler.h>

/*
 * time_init: use vcpu 0's vcpu_time_info in the mapped shared_info.
 * Returns 0, or -XEN_ENODEV when shared_info is not mapped or carries no
 * time (tsc_to_system_mul still 0).
 */
int time_init(void);

/* Whether time_now_ns works. */
bool time_available(void);

/*
 * time_now_ns: nanoseconds of system time (since the domain started),
 * monotonic, read on the boot vCPU's time record.  0 without time.
 */
uint64_t time_now_ns(void);

/* rdtsc: the raw time-stamp counter (allowed at CPL3). */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#endif
