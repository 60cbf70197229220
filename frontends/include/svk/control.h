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
 * "control: suspend requested" and suspends (suspend_run, svk/suspend.h):
 * after a cancelled suspend it runs on with every device as it was; in a
 * restored domain it rebuilds what the domain lost and its frontends
 * reconnect (then control/feature-* are written again).
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
