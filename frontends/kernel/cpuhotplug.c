// SPDX-License-Identifier: MIT
// vCPU hot-plug: follow cpu/N/availability, bringing vCPUs up and letting them go down.
#include <svk/cpuhotplug.h>
#include <svk/lib.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/smp.h>
#include <svk/xenbus.h>

/* How long the boot vCPU waits for a vCPU to come up or go down. */
#define HOTPLUG_TIMEOUT_NS (5ULL * 1000000000ULL)

/* Set once by cpuhotplug_init; owned by this file. */
static const start_info_t *hp_si;
static unsigned int hp_nr_vcpus;

/* What cpu/@cpu/availability asks: 1 online, 0 offline, -errno when absent or unknown. */
static int availability(unsigned int cpu)
{
	char path[48], val[16];
	int rc;

	ksnprintf(path, sizeof(path), "cpu/%u/availability", cpu);
	rc = xenbus_read(XBT_NIL, path, val, sizeof(val));
	if (rc < 0)
		return rc;
	if (!strcmp(val, "online"))
		return 1;
	if (!strcmp(val, "offline"))
		return 0;
	printk("cpuhotplug: vcpu %u: unknown availability '%s'\n", cpu, val);
	return -XEN_EINVAL;
}

/* Runs from wait_until's hook: look at every vCPU's key, act on the ones that changed. */
static void cpuhotplug_cb(const char *path, void *data)
{
	for (unsigned int cpu = 1; cpu < hp_nr_vcpus; cpu++) {
		int want = availability(cpu), rc;

		if (want < 0 || want == (int)smp_cpu_kept(cpu))
			continue;
		if (want) {
			rc = smp_cpu_up(hp_si, cpu, HOTPLUG_TIMEOUT_NS);
			if (rc)
				printk("cpuhotplug: vcpu %u: cannot bring online: %d\n", cpu, rc);
			else
				printk("cpuhotplug: vcpu %u online\n", cpu);
		} else {
			rc = smp_cpu_down(cpu, HOTPLUG_TIMEOUT_NS);
			if (rc)
				printk("cpuhotplug: vcpu %u: cannot take offline: %d\n", cpu, rc);
			else
				printk("cpuhotplug: vcpu %u offline\n", cpu);
		}
	}
}

int cpuhotplug_init(const start_info_t *si)
{
	int rc;

	hp_si = si;
	hp_nr_vcpus = sched_vcpu_count();
	if (hp_nr_vcpus <= 1)
		return 0;
	rc = xenbus_watch_async("cpu", cpuhotplug_cb, NULL);
	return rc < 0 ? rc : 0;
}
