// SPDX-License-Identifier: MIT
// Xen's suspend and resume, seen from the guest kernel (suspend.c).
#ifndef SVK_SUSPEND_H
#define SVK_SUSPEND_H

#include <svk/compiler.h>
#include <svk/xen.h>

/*
 * suspend_run: what control.c does for control/shutdown = "suspend", as a
 * Xen PV Linux does (docs/guest-kernel.md, "Suspend and resume"):
 * quiesce (no xenstore request in flight, the kept secondaries parked,
 * the console flushed, shared_info and the grant table unmapped), then
 * SCHEDOP_shutdown(SHUTDOWN_suspend) with start_info's frame.  Then:
 *  - 1 (cancelled): everything as it was; "control: suspend cancelled,
 *    running on".
 *  - 0 in a restored domain: shared_info, callbacks, FIFO blocks, the
 *    timer VIRQ, the grant table, console and xenstore on start_info's
 *    new ports, every watch, then each frontend's resume hook (they
 *    reconnect to the backends the toolstack made); "control: resumed in
 *    a new domain (store port S, console port C)", then one line per
 *    frontend and "control: resume done".
 *  - 0 in the same domain (a toolstack resume that did not cancel: our
 *    channels are still bound, which a restored domain never has): as a
 *    cancel; "control: resumed in the same domain (its channels still
 *    bound), running on".
 *  - -errno: refused; everything as it was.
 * Returns what the hypercall returned.  Boot vCPU, from the wait hook.
 */
long suspend_run(const start_info_t *si);

/*
 * suspend_register: @resume(@arg) runs after every resume in a new domain
 * (frontends: blkfront, netfront), in registration order, with events on
 * and xenbus working.  0 or -XEN_ENOSPC.
 */
#define SUSPEND_HOOKS 8
int suspend_register(void (*resume)(void *arg), void *arg);

/* Resumes in a new domain so far; suspends that came back at all (cancelled, same domain too). */
unsigned long suspend_resumes(void);
unsigned long suspend_wakes(void);

/* The resume-io word (resume_io.c): disk, vifs and vCPUs across saves; docs/guest-kernel.md. */
void resume_io_word(const start_info_t *si, const char *arg);

#endif
