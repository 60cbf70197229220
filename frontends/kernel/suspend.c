// SPDX-License-Identifier: MIT
// Suspend as Xen's save asks it, and everything a PV kernel redoes when it wakes up in a
// restored domain.
#include <svk/console.h>
#include <svk/events.h>
#include <svk/gnttab.h>
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/nmi.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/shinfo.h>
#include <svk/smp.h>
#include <svk/suspend.h>
#include <svk/wait.h>
#include <svk/xenbus.h>

/* How long quiescing may take before the suspend is given up. */
#define QUIESCE_NS (5ULL * 1000000000ULL)

/* State owned by this file (boot vCPU only). */
static struct {
	void (*fn)(void *);
	void *arg;
} hooks[SUSPEND_HOOKS];
static unsigned int nr_hooks;
static unsigned long nr_resumes, nr_wakes;

int suspend_register(void (*resume)(void *arg), void *arg)
{
	if (nr_hooks == SUSPEND_HOOKS)
		return -XEN_ENOSPC;
	hooks[nr_hooks].fn = resume;
	hooks[nr_hooks].arg = arg;
	nr_hooks++;
	return 0;
}

unsigned long suspend_resumes(void)
{
	return nr_resumes;
}

unsigned long suspend_wakes(void)
{
	return nr_wakes;
}

/*
 * After a return of 0: is this still the domain that suspended?  A
 * restored domain has no channel but the two fresh ones of start_info
 * (both interdomain), so our VIRQ_TIMER port still bound to VIRQ_TIMER of
 * vCPU 0 means nothing was lost (a toolstack resume without the cancel
 * flag).  Without a timer port we cannot tell and rebuild.
 */
static bool same_domain(void)
{
	evtchn_port_t port = wait_timer_port();
	struct evtchn_status st;

	if (!port || evtchn_status(port, &st))
		return false;
	return st.status == EVTCHNSTAT_virq && st.u.virq == VIRQ_TIMER && st.vcpu == 0;
}

/* What a restored domain lost, redone; printing works again once the console is back. */
static void rebuild(const start_info_t *si)
{
	int ev, nmi, timer, cons, xs;

	/* Time reads the same address, now the new page (the hypervisor keeps it current). */
	ev = events_resume();
	nmi = nmi_init();
	timer = wait_resume();
	cons = console_resume(si, true);
	xs = xenbus_resume(si, true);
	printk("control: resumed in a new domain (store port %u, console port %u)\n",
	       si->store_evtchn, si->console.domU.evtchn);
	if (ev || nmi || timer || cons || xs)
		printk("control: resume: events=%d nmi=%d timer=%d console=%d xenbus=%d\n", ev,
		       nmi, timer, cons, xs);
}

long suspend_run(const start_info_t *si)
{
	int rc, parked, gnt;
	bool fresh;
	long ret;

	/* Quiesce: xenstored answered everything, the secondaries hold still. */
	rc = xenbus_quiesce(QUIESCE_NS);
	if (rc) {
		printk("control: suspend given up: xenstore requests still in flight\n");
		return rc;
	}
	parked = smp_park(QUIESCE_NS);
	if (parked < 0) {
		printk("control: suspend given up: secondary vCPUs did not park (%d)\n", parked);
		return parked;
	}
	console_flush();
	/* From here nothing prints, reads the clock or sends on a port until the console is back. */
	console_suspend();
	events_mask();
	rc = shinfo_suspend();
	gnt = rc ? rc : gnttab_suspend();
	if (rc || gnt) {
		ret = rc ? rc : gnt;
	} else {
		ret = _hypercall3(__HYPERVISOR_sched_op, SCHEDOP_shutdown,
				  &(struct sched_shutdown){ .reason = SHUTDOWN_suspend },
				  virt_to_mfn(si));
	}
	/* start_info was rewritten by a restore: its shared_info is the new domain's. */
	rc = shinfo_map(si);
	if (rc) {
		static const char msg[] = "control: shared_info lost after the suspend\n";

		/* Nothing to run on: no events, no time. */
		(void)HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg);
		sched_shutdown(SHUTDOWN_crash);
	}
	events_mask();
	fresh = ret == 0 && !same_domain();
	gnt = gnttab_resume();
	if (fresh) {
		rebuild(si);
	} else {
		(void)console_resume(si, false);
	}
	smp_unpark(fresh);
	events_unmask();
	if (gnt)
		printk("control: grant table after the suspend: %d\n", gnt);
	if (ret < 0) {
		printk("control: suspend refused: %ld\n", ret);
		return ret;
	}
	nr_wakes++;
	if (ret == 1) {
		printk("control: suspend cancelled, running on\n");
		return ret;
	}
	if (!fresh) {
		printk("control: resumed in the same domain (its channels still bound), running "
		       "on\n");
		return ret;
	}
	nr_resumes++;
	rc = xenbus_rewatch();
	if (rc)
		printk("control: resume: watches: %d\n", rc);
	for (unsigned int i = 0; i < nr_hooks; i++)
		hooks[i].fn(hooks[i].arg);
	printk("control: resume done (%d vcpus parked and back)\n", parked);
	return ret;
}
