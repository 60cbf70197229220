// SPDX-License-Identifier: MIT
// The guest kernel's C entry: set up, say who we are, run the command line.
#include <svk/balloon.h>
#include <svk/commands.h>
#include <svk/console.h>
#include <svk/control.h>
#include <svk/cpuhotplug.h>
#include <svk/gnttab.h>
#include <svk/m2p.h>
#include <svk/wait.h>
#include <svk/xenbus.h>
#include <svk/events.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/nmi.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/shinfo.h>
#include <svk/time.h>

#define SVK_VERSION "0.1"

/* Called from head.S on the boot vCPU; never returns. */
void kernel_main(start_info_t *si, unsigned long boot_sp) __noreturn;

/* NUL-terminated copy of start_info.cmd_line (which need not be). */
static char cmdline[MAX_GUEST_CMDLINE + 1];

/*
 * Before the banner, so that everything after it can go through the
 * console ring (a console attached late sees the ring's history, but may
 * miss console_io lines): shared_info, time, event callbacks, M2P and the
 * console ring (unless the word console=io keeps console_io).  The
 * results are reported after the banner.
 */
struct early {
	int shinfo, time, events, m2p, cons, nmi;
};

static void early_init(const start_info_t *si, struct early *e)
{
	e->time = e->events = e->m2p = e->cons = e->nmi = -XEN_ENODEV;
	e->shinfo = shinfo_map(si);
	if (e->shinfo)
		return;
	e->time = time_init();
	e->events = events_init();
	if (e->events)
		return;
	/* The FIFO ABI when the hypervisor offers it, as Linux; evtchn=2l keeps 2-level. */
	if (!commands_has_word(cmdline, "evtchn=2l"))
		(void)events_fifo_init();
	e->nmi = nmi_init();
	events_enable();
	e->m2p = m2p_init();
	if (!commands_has_word(cmdline, "console=io"))
		e->cons = console_ring_init(si);
}

/*
 * With event callbacks: the timer, grant tables, xenbus and the control/
 * directory.  Each may be missing (a hypervisor without event channels or
 * grant tables, a domain without a store or console page); one line says
 * what came up and what did not, with the -errno.
 */
static void devices_init(const start_info_t *si, const struct early *e)
{
	int timer, gnt, xs, ctl = -XEN_ENODEV;

	timer = wait_init();
	gnt = gnttab_init();
	xs = xenbus_init(si);
	if (!xs)
		ctl = control_init(si);
	if (!ctl) {
		int hp = cpuhotplug_init(si);
		if (hp)
			printk("cpuhotplug: watching cpu/ failed: %d\n", hp);
	}
	if (!ctl)
		(void)balloon_init(si); /* no line of its own: balloon-status tells */
	printk("devices: m2p=%d timer=%d console-ring=%d gnttab=%d xenbus=%d control=%d\n", e->m2p,
	       timer, e->cons, gnt, xs, ctl);
}

void kernel_main(start_info_t *si, unsigned long boot_sp)
{
	const char *cl = (const char *)si->cmd_line;
	struct early e;

	memcpy(cmdline, cl, strnlen(cl, MAX_GUEST_CMDLINE));
	mm_init(si, boot_sp);
	early_init(si, &e);

	printk("Splitvisor PV kernel " SVK_VERSION " (x86_64, Xen PV ABI)\n");
	if (commands_has_word(cmdline, "bench-boot"))
		printk("bench-boot: ready\n");
	printk("cmdline: %s\n", cmdline);
	printk("memory: %lu MiB (%lu pages)\n", si->nr_pages >> (20 - PAGE_SHIFT), si->nr_pages);
	printk("vcpus: %u\n", sched_vcpu_count());

	if (e.shinfo)
		printk(
		    "shared_info: mapping machine address 0x%lx failed: %d; running without time\n",
		    si->shared_info, e.shinfo);
	else if (e.time)
		printk("time: shared_info carries no time; running without time\n");
	if (!e.shinfo && e.events)
		printk("events: registering callbacks failed: %d\n", e.events);
	if (!e.events && e.nmi)
		printk("nmi: registering the NMI callback failed: %d\n", e.nmi);
	if (!e.events)
		devices_init(si, &e);

	commands_run(si, cmdline);
}
