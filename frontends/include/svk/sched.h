// SPDX-License-Identifier: MIT
// Scheduling hypercalls: shutdown, block, yield, vCPU queries (sched.c).
#ifndef SVK_SCHED_H
#define SVK_SCHED_H

#include <svk/compiler.h>

/*
 * sched_shutdown: SCHEDOP_shutdown with @reason (SHUTDOWN_poweroff,
 * _reboot, _crash).  Does not return; if the hypervisor refuses, it says
 * why and keeps yielding.
 */
void sched_shutdown(unsigned int reason) __noreturn;

/* sched_block: SCHEDOP_block (sleep until an event).  Returns 0 or -errno. */
int sched_block(void);

/* sched_yield: SCHEDOP_yield.  Returns 0 or -errno. */
int sched_yield(void);

/*
 * sched_vcpu_count: vCPUs of this domain, counted with VCPUOP_is_up on ids
 * 0, 1, ... until -XEN_ENOENT (at most SCHED_MAX_VCPUS).
 */
#define SCHED_MAX_VCPUS 64
unsigned int sched_vcpu_count(void);

#endif
