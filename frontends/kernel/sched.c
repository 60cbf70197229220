// SPDX-License-Identifier: MIT
// Scheduling hypercalls of the guest kernel: shutdown, block, yield, vCPU count.
#include <svk/console.h>
#include <svk/hypercall.h>
#include <svk/printk.h>
#include <svk/sched.h>

void sched_shutdown(unsigned int reason)
{
	struct sched_shutdown arg = { .reason = reason };
	long rc;

	console_flush();
	rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &arg);
	printk("shutdown(%u) failed: %ld\n", reason, rc);
	/* Nothing better to do than to stay out of the way. */
	for (;;) {
		(void)HYPERVISOR_sched_op(SCHEDOP_shutdown, &arg);
		(void)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	}
}

int sched_block(void)
{
	return (int)HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}

int sched_yield(void)
{
	return (int)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

unsigned int sched_vcpu_count(void)
{
	unsigned int n;

	for (n = 0; n < SCHED_MAX_VCPUS; n++) {
		if (HYPERVISOR_vcpu_op(VCPUOP_is_up, n, NULL) == -XEN_ENOENT)
			break;
	}
	return n;
}
