// SPDX-License-Identifier: MIT
// control/shutdown: the toolstack asks, the kernel acknowledges and shuts down; control/sysrq
// beside it.
#include <svk/control.h>
#include <svk/lib.h>
#include <svk/nmi.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/suspend.h>
#include <svk/sysrq.h>
#include <svk/wait.h>
#include <svk/xenbus.h>

static const start_info_t *control_si;
/* A suspend asked for while xenstore was busy: run at the next wait where it is not. */
static bool suspend_pending;

/* A restored domain's store has none of what we wrote: announce the features again. */
static void control_resume(void *arg)
{
	int rc = xenbus_write(XBT_NIL, "control/feature-poweroff", "1");

	if (!rc)
		rc = xenbus_write(XBT_NIL, "control/feature-reboot", "1");
	if (rc)
		printk("control: announcing features again: %d\n", rc);
}

/* Runs from wait_until's hook: outside the upcall, may use xenbus. */
static void control_shutdown_cb(const char *path, void *data)
{
	char req[32];
	unsigned int reason;
	int rc;

	rc = xenbus_read(XBT_NIL, "control/shutdown", req, sizeof(req));
	if (rc <= 0)
		return; /* absent or empty: nothing asked (or our own clear) */
	if (!strcmp(req, "poweroff") || !strcmp(req, "halt"))
		reason = SHUTDOWN_poweroff;
	else if (!strcmp(req, "reboot"))
		reason = SHUTDOWN_reboot;
	else if (!strcmp(req, "suspend"))
		reason = SHUTDOWN_suspend;
	else {
		printk("control: ignoring shutdown request '%s'\n", req);
		return;
	}
	/* Clearing the key tells the toolstack we took the request. */
	rc = xenbus_write(XBT_NIL, "control/shutdown", "");
	if (rc)
		printk("control: clearing control/shutdown failed: %d\n", rc);
	printk("control: %s requested\n", req);
	if (reason != SHUTDOWN_suspend)
		sched_shutdown(reason);
	if (xenbus_busy()) {
		printk("control: suspend deferred until xenstore is idle\n");
		suspend_pending = true;
	} else {
		(void)suspend_run(control_si);
	}
}

int control_init(const start_info_t *si)
{
	int rc;

	control_si = si;
	rc = xenbus_write_async("control/feature-poweroff", "1");
	if (!rc)
		rc = xenbus_write_async("control/feature-reboot", "1");
	if (!rc) {
		rc = xenbus_watch_async("control/shutdown", control_shutdown_cb, NULL);
		rc = rc < 0 ? rc : 0;
	}
	if (!rc)
		rc = sysrq_init();
	if (!rc)
		rc = suspend_register(control_resume, NULL);
	if (!rc)
		wait_set_hook(control_poll);
	return rc;
}

void control_poll(void)
{
	xenbus_run_watches();
	nmi_report();
	if (suspend_pending && !xenbus_busy()) {
		suspend_pending = false;
		(void)suspend_run(control_si);
	}
}

bool control_poll_pending(void)
{
	return xenbus_watches_pending() || nmi_report_pending() ||
	       (suspend_pending && !xenbus_busy());
}

int control_domid(void)
{
	uint64_t id;
	int rc = xenbus_read_u64(XBT_NIL, "domid", &id);

	if (rc)
		return rc;
	return id < DOMID_FIRST_RESERVED ? (int)id : -XEN_ERANGE;
}
