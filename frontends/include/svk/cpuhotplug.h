// SPDX-License-Identifier: MIT
// vCPU hot-plug: the toolstack's cpu/N/availability keys bring vCPUs online and offline
// (cpuhotplug.c).
#ifndef SVK_CPUHOTPLUG_H
#define SVK_CPUHOTPLUG_H

#include <svk/xen.h>

/*
 * cpuhotplug_init: watch the domain's "cpu" directory, as Linux's Xen
 * cpu_hotplug driver does.  At each event (the first fires on
 * registration) every vCPU but 0 whose cpu/N/availability reads "online"
 * is kept online (smp_cpu_up) and every one that reads "offline" is let
 * go (smp_cpu_down); a missing or unknown value changes nothing.  Each
 * change prints one line, "cpuhotplug: vcpu N online" or
 * "cpuhotplug: vcpu N offline" (or why it failed).  Callbacks run from
 * wait_until's hook.  Nothing to do (returns 0) for a domain of one vCPU.
 * Needs xenbus_init.  Returns 0 or -errno.
 */
int cpuhotplug_init(const start_info_t *si);

#endif
