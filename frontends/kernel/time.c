// SPDX-License-Identifier: MIT
// Monotonic system time from vcpu_time_info in shared_info and the TSC.
#include <svk/shinfo.h>
#include <svk/time.h>

/* The boot vCPU's time record, or NULL without time; owned by this file. */
static volatile struct vcpu_time_info *time_info;

int time_init(void)
{
	if (!shared_info)
		return -XEN_ENODEV;
	time_info = &shared_info->vcpu_info[0].time;
	if (READ_ONCE(time_info->tsc_to_system_mul) == 0) {
		time_info = NULL;
		return -XEN_ENODEV;
	}
	return 0;
}

bool time_available(void)
{
	return time_info != NULL;
}

/*
 * Xen's formula: system_time + (((tsc - tsc_timestamp) << shift) * mul >> 32),
 * with a negative shift meaning a right shift.  The record is rewritten
 * under a version that is odd while an update is in progress: read until
 * the same even version brackets the copy.
 */
uint64_t time_now_ns(void)
{
	uint32_t version, mul;
	uint64_t tsc_ts, sys, delta;
	int8_t shift;

	if (!time_info)
		return 0;
	do {
		version = time_info->version;
		xen_rmb();
		tsc_ts = time_info->tsc_timestamp;
		sys = time_info->system_time;
		mul = time_info->tsc_to_system_mul;
		shift = time_info->tsc_shift;
		delta = rdtsc() - tsc_ts;
		xen_rmb();
	} while ((version & 1) || version != time_info->version);

	if ((int64_t)delta < 0)
		delta = 0; /* TSC read before the update: never go back */
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return sys + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}
