// SPDX-License-Identifier: MIT
// The balloon driver: memory/target followed with XENMEM reservations (balloon.c).
#ifndef SVK_BALLOON_H
#define SVK_BALLOON_H

#include <svk/compiler.h>
#include <svk/xen.h>

/*
 * balloon_init: learn the pfn space (start_info's nr_pages, or up to
 * XENMEM_maximum_reservation when maxmem laid out more), announce
 * control/feature-balloon = 1 and watch memory/target.  From then on, at
 * each wait, the kernel gives pages back or takes them again until its
 * reservation is the target, and prints
 *   "balloon: reached target <KiB> KiB (holds <pages> pages, <n> given back)"
 * or, when it can go no further,
 *   "balloon: stopped at <KiB> KiB, target <KiB> KiB (<why>)".
 * Needs xenbus (control_init's wait hook runs the watch).  0 or -errno.
 */
int balloon_init(const start_info_t *si);

/*
 * balloon_wait: block (running watches) until the balloon next reaches a
 * target or stops short of one after moving pages.  0, -XEN_ETIMEDOUT, or
 * -XEN_ENODEV without a balloon.
 */
int balloon_wait(uint64_t timeout_ns);

/* Pages the kernel holds by its own count, and pages it gave back; balloon_init's result. */
int balloon_status(unsigned long *held, unsigned long *given_back);

/*
 * balloon_memcheck: take every free page, write a pattern, read it back,
 * free them again; prints "memcheck: <n> pages (<KiB> KiB) ok" or
 * "memcheck: <bad> of <n> pages bad (first pfn <pfn>)".
 */
void balloon_memcheck(void);

#endif
