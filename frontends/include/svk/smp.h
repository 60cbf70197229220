// SPDX-License-Identifier: MIT
// Bringing up the secondary vCPUs with VCPUOP_initialise/up (smp.c).
#ifndef SVK_SMP_H
#define SVK_SMP_H

#include <svk/xen.h>

/*
 * smp_run: start every vCPU but 0 at smp_secondary_entry; each prints
 * "vcpu N: online" and takes itself down.  Waits for them (1 s per vCPU
 * by the clock, or a spin count without time) and returns how many vCPUs
 * ran, the boot vCPU included, or -errno when none could be started.
 * Running it again wakes the same vCPUs once more.
 */
int smp_run(const start_info_t *si, unsigned int nr_vcpus);

#endif
