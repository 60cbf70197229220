// SPDX-License-Identifier: MIT
// Blocking until a condition or a deadline: SCHEDOP_block with a one-shot timer (wait.c).
#ifndef SVK_WAIT_H
#define SVK_WAIT_H

#include <svk/compiler.h>
#include <svk/xen.h>

/*
 * wait_init: bind VIRQ_TIMER of vCPU 0 so a VCPUOP_set_singleshot_timer
 * wakes a blocked vCPU.  Needs events_init.  Returns 0 or -errno; without
 * it, waits with a deadline poll with SCHEDOP_yield instead of blocking.
 */
int wait_init(void);

/*
 * wait_timer_port: the VIRQ_TIMER port wait_init bound (0: none).
 * wait_resume: in a restored domain (no binding survives), bind VIRQ_TIMER
 * of vCPU 0 again, as Linux restores each CPU's VIRQs; the one-shot timer
 * itself is re-armed by the next wait.  0 or -errno (no timer then).
 */
evtchn_port_t wait_timer_port(void);
int wait_resume(void);

/* Whether the one-shot timer wakes us (wait_init succeeded). */
bool wait_timer_available(void);

/* A condition checked with events masked: no upcall runs while it does. */
typedef bool (*wait_cond_t)(void *arg);

/*
 * wait_until: sleep in SCHEDOP_block until @cond(@arg) holds (checked
 * after every wake-up, with events masked so a wake-up between the check
 * and the block is never lost) or @timeout_ns has passed (0: no limit).
 * Returns 0 when @cond held, -XEN_ETIMEDOUT when time ran out.  Boot vCPU
 * only.  Before each check it runs the hook set by wait_set_hook (the
 * control/shutdown handler), never nested.
 */
int wait_until(wait_cond_t cond, void *arg, uint64_t timeout_ns);

/* wait_set_hook: @fn runs at each wake-up of wait_until (NULL: none). */
void wait_set_hook(void (*fn)(void));

/*
 * wait_timer_arm: make VIRQ_TIMER wake vCPU 0 at @deadline (system time),
 * for a caller that blocks on its own.  False without the timer.
 */
bool wait_timer_arm(uint64_t deadline);

/* Timer wake-ups seen (VIRQ_TIMER upcalls). */
unsigned long wait_timer_fired(void);

#endif
