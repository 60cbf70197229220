// SPDX-License-Identifier: MIT
// The guest kernel's C entry: set up, say who we are, run the command line.
#include <svk/commands.h>
#include <svk/events.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/shinfo.h>
#include <svk/time.h>

#define SVK_VERSION "0.1"

/* Called from head.S on the boot vCPU; never returns. */
void kernel_main(start_info_t *si, unsigned long boot_sp) __noreturn;

/* NUL-terminated copy of start_info.cmd_line (which need not be). */
static char cmdline[MAX_GUEST_CMDLINE + 1];

void kernel_main(start_info_t *si, unsigned long boot_sp)
{
	const char *cl = (const char *)si->cmd_line;
	int rc;

	memcpy(cmdline, cl, strnlen(cl, MAX_GUEST_CMDLINE));
	mm_init(si, boot_sp);

	printk("Splitvisor PV kernel " SVK_VERSION " (x86_64, Xen PV ABI)\n");
	if (commands_has_word(cmdline, "bench-boot"))
		printk("bench-boot: ready\n");
	printk("cmdline: %s\n", cmdline);
	printk("memory: %lu MiB (%lu pages)\n",
	       si->nr_pages >> (20 - PAGE_SHIFT), si->nr_pages);
	printk("vcpus: %u\n", sched_vcpu_count());

	rc = shinfo_map(si);
	if (rc)
		printk("shared_info: mapping machine address 0x%lx failed: %d; running without time\n",
		       si->shared_info, rc);
	else if (time_init())
		printk("time: shared_info carries no time; running without time\n");
	if (!rc) {
		rc = events_init();
		if (rc)
			printk("events: registering callbacks failed: %d\n", rc);
	}

	commands_run(si, cmdline);
}
