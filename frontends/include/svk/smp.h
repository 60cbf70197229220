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

/*
 * smp_cpu_up: keep vCPU @cpu (not 0) online: start it the first time,
 * VCPUOP_up it, and wait until it idles (SCHEDOP_poll, woken every
 * 100 ms) or @timeout_ns passed.  smp_cpu_down: let it go; it takes
 * itself down (VCPUOP_down) within 100 ms; wait until VCPUOP_is_up says
 * so or @timeout_ns passed.  Both: 0, -XEN_ETIMEDOUT, or a hypercall's
 * -errno.  Boot vCPU only.  smp_cpu_kept: whether @cpu is kept online.
 */
int smp_cpu_up(const start_info_t *si, unsigned int cpu, uint64_t timeout_ns);
int smp_cpu_down(unsigned int cpu, uint64_t timeout_ns);
bool smp_cpu_kept(unsigned int cpu);
/*
 * smp_this_cpu: the vCPU running the caller, found from the stack it runs
 * on (each secondary has its own; anything else is the boot vCPU's).
 * smp_call: run @fn(@arg) on kept secondary @cpu (smp_cpu_up) in its idle
 * loop, outside any upcall, and wait until it returned or @timeout_ns
 * passed.  0, -XEN_EINVAL (not kept), -XEN_ETIMEDOUT.  Boot vCPU only.
 */
unsigned int smp_this_cpu(void);
int smp_call(unsigned int cpu, void (*fn)(void *), void *arg, uint64_t timeout_ns);
/*
 * smp_call in two halves: smp_post hands @fn(@arg) to kept secondary @cpu
 * and returns at once (0 or -XEN_EINVAL); smp_post_wait waits as smp_call
 * does until the last posted call returned.  Boot vCPU only.
 */
int smp_post(unsigned int cpu, void (*fn)(void *), void *arg);
int smp_post_wait(unsigned int cpu, uint64_t timeout_ns);

/*
 * smp_park: before a suspend, every kept secondary masks its events and
 * waits, touching no shared page nor port, until smp_unpark; waits until
 * all are parked (@timeout_ns at most; on timeout all are released and
 * -XEN_ETIMEDOUT returned).  How many were parked.  smp_unpark: release
 * them, each registering its callbacks again when @new_domain (a restored
 * domain), else just unmasking; waits until each is back in its idle
 * loop.  Boot vCPU only.
 */
int smp_park(uint64_t timeout_ns);
void smp_unpark(bool new_domain);

/* The kick-stress word (kickstress.c). */
void kick_stress_word(const start_info_t *si, const char *arg);

#endif
