// SPDX-License-Identifier: MIT
// The control/ directory: shutdown requests from the toolstack, the features we announce
// (control.c).
#ifndef SVK_CONTROL_H
#define SVK_CONTROL_H

#include <svk/compiler.h>
#include <xen/xen.h>

/*
 * control_init: announce control/feature-poweroff = 1 and
 * control/feature-reboot = 1, watch control/shutdown, and make wait_until
 * run watch callbacks (its hook).  Sent without waiting for replies, so a
 * store ring nobody serves does not hold up boot.  Needs xenbus_init.
 * Returns 0 or -errno.
 *
 * When control/shutdown reads "poweroff" or "halt" (SHUTDOWN_poweroff) or
 * "reboot" (SHUTDOWN_reboot), the kernel clears the key (the toolstack's
 * acknowledgement), prints "control: <request> requested" and shuts down.
 * Requests are acted on at the next wait (wait_until, the wait word).
 * It also starts sysrq (sysrq.h).
 *
 * "suspend" is Xen's save request: the kernel acknowledges it, prints
 * "control: suspend requested" and suspends (SCHEDOP_shutdown with
 * SHUTDOWN_suspend and start_info's frame in the third argument, as Xen's
 * save code expects).  Our ELF note SUSPEND_CANCEL says it can take a
 * cancelled suspend: when the call returns 1 (the toolstack resumed the
 * domain where it was) it prints "control: suspend cancelled, running on"
 * and carries on with every device as it was; a return of 0 would be a
 * resume in a restored domain, whose devices we cannot yet rebuild: the
 * kernel says so and crashes.
 */
int control_init(const start_info_t *si);

/*
 * control_poll: what the wait loop runs outside the upcall (wait_until's
 * hook once control_init succeeded): watch callbacks, then the line for
 * NMIs that came (nmi.h).  control_poll_pending: whether it has work
 * (check with events masked before blocking).
 */
void control_poll(void);
bool control_poll_pending(void);

/* The domain id the toolstack wrote to "domid", or -errno. */
int control_domid(void);

#endif
