// SPDX-License-Identifier: MIT
// Magic SysRq: control/sysrq read and cleared in one transaction, then the key's action.
#include <svk/events.h>
#include <svk/hypercall.h>
#include <svk/mm.h>
#include <svk/nmi.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/sysrq.h>
#include <svk/wait.h>
#include <svk/xenbus.h>

static void sysrq_help(void)
{
	printk("sysrq: HELP : reboot(b) crash(c) help(h) show-memory-usage(m) poweroff(o) "
	       "show-task-states(t)\n");
}

static void sysrq_memory(void)
{
	unsigned long total = mm_nr_pages(), free = mm_free_pages();

	printk("sysrq: Show Memory\n");
	printk("memory: %lu pages (%lu KiB), %lu free for the allocator (%lu KiB)\n", total,
	       total * (PAGE_SIZE / 1024), free, free * (PAGE_SIZE / 1024));
}

/* Each vCPU's state as the hypervisor has it; the boot vCPU is the one running this. */
static void sysrq_vcpus(void)
{
	unsigned int n = sched_vcpu_count();

	printk("sysrq: Show State\n");
	printk("vcpu 0: running (this one; upcalls %lu, timer wake-ups %lu, nmis %lu)\n",
	       events_upcalls(), wait_timer_fired(), nmi_count());
	for (unsigned int i = 1; i < n; i++) {
		long up = HYPERVISOR_vcpu_op(VCPUOP_is_up, i, NULL);

		printk("vcpu %u: %s\n", i, up > 0 ? "up" : up == 0 ? "down" : "unknown");
	}
}

void sysrq_handle(char key)
{
	switch (key) {
	case 'h':
		sysrq_help();
		break;
	case 'b':
		printk("sysrq: Resetting\n");
		sched_shutdown(SHUTDOWN_reboot);
		break;
	case 'o':
		printk("sysrq: Power Off\n");
		sched_shutdown(SHUTDOWN_poweroff);
		break;
	case 'c':
		printk("sysrq: Trigger a crash\n");
		sched_shutdown(SHUTDOWN_crash);
		break;
	case 'm':
		sysrq_memory();
		break;
	case 't':
		sysrq_vcpus();
		break;
	default:
		if (key > ' ' && key < 0x7f)
			printk("sysrq: unknown key '%c' (h for help)\n", key);
		else
			printk("sysrq: unknown key 0x%02x (h for help)\n", (unsigned char)key);
		break;
	}
}

/*
 * Runs from the wait loop (outside the upcall).  The key is read and
 * cleared in one transaction, so a letter written meanwhile is not lost
 * (the transaction then fails and we read again).  Empty: nothing asked,
 * or our own clear firing the watch; that common case (the watch fires
 * once at boot too) costs one plain read, no transaction.
 */
static void sysrq_cb(const char *path, void *data)
{
	xenbus_transaction_t t;
	char key[16];
	int rc;

	if (xenbus_read(XBT_NIL, "control/sysrq", key, sizeof(key)) <= 0)
		return;
	for (int tries = 0; tries < 10; tries++) {
		rc = xenbus_transaction_start(&t);
		if (rc)
			return;
		rc = xenbus_read(t, "control/sysrq", key, sizeof(key));
		if (rc <= 0) {
			(void)xenbus_transaction_end(t, true);
			return;
		}
		rc = xenbus_write(t, "control/sysrq", "");
		if (rc) {
			(void)xenbus_transaction_end(t, true);
			printk("sysrq: clearing control/sysrq failed: %d\n", rc);
			return;
		}
		rc = xenbus_transaction_end(t, false);
		if (rc == -XEN_EAGAIN)
			continue;
		if (rc) {
			printk("sysrq: ending the transaction failed: %d\n", rc);
			return;
		}
		sysrq_handle(key[0]);
		return;
	}
}

int sysrq_init(void)
{
	int rc = xenbus_watch_async("control/sysrq", sysrq_cb, NULL);

	return rc < 0 ? rc : 0;
}
