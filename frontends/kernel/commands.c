// SPDX-License-Identifier: MIT
// The command words of the guest kernel: a table of names and their actions.
#include <svk/balloon.h>
#include <svk/cmdline.h>
#include <svk/commands.h>
#include <svk/control.h>
#include <svk/driver_words.h>
#include <svk/events.h>
#include <svk/hostile.h>
#include <svk/hypercall.h>
#include <svk/lib.h>
#include <svk/printk.h>
#include <svk/privops.h>
#include <svk/sched.h>
#include <svk/selftests.h>
#include <svk/wait.h>
#include <svk/xenbus.h>
#include <svk/smp.h>
#include <svk/suspend.h>
#include <svk/tscword.h>
#include <svk/time.h>
#include <svk/traps.h>
#include <svk/pagetables.h>
#include <svk/usermode.h>

/* Longest command word we keep; longer ones are reported and skipped. */
#define WORD_MAX 128

struct command {
	const char *name;
	/* Runs the word; @arg is NULL when the word had no '='. */
	void (*run)(const start_info_t *si, const char *arg);
};

static void need_time(const char *what)
{
	if (time_available())
		return;
	printk("%s: no time source (shared_info time unavailable)\n", what);
	sched_shutdown(SHUTDOWN_crash);
}

/* Parse a required numeric argument, or say why not and return false. */
static bool need_number(const char *what, const char *arg, uint64_t *out)
{
	int rc;

	if (!arg) {
		printk("%s: needs a number (%s=N)\n", what, what);
		return false;
	}
	rc = parse_u64(arg, out);
	if (rc) {
		printk("%s: bad number '%s' (%d)\n", what, arg, rc);
		return false;
	}
	return true;
}

static void cmd_halt(const start_info_t *si, const char *arg)
{
	printk("poweroff\n");
	sched_shutdown(SHUTDOWN_poweroff);
}

static void cmd_reboot(const start_info_t *si, const char *arg)
{
	printk("reboot\n");
	sched_shutdown(SHUTDOWN_reboot);
}

static void cmd_crash(const start_info_t *si, const char *arg)
{
	unsigned long addr = 0x10;

	if (arg && !strcmp(arg, "shutdown")) {
		printk("crashing on purpose (SHUTDOWN_crash)\n");
		sched_shutdown(SHUTDOWN_crash);
	}
	if (arg) {
		printk("crash: unknown way '%s'\n", arg);
		return;
	}
	printk("crashing on purpose\n");
	/*
	 * Nothing is mapped at 0x10: the hypervisor sees a fault it cannot
	 * deliver (no trap table) and crashes the domain.  The empty asm
	 * hides the constant address from the compiler's bounds checks.
	 */
	__asm__("" : "+r"(addr));
	*(volatile unsigned long *)addr = 0xdead;
	printk("crash: write to 0x10 did not fault\n");
	sched_shutdown(SHUTDOWN_crash);
}

static void cmd_spin(const start_info_t *si, const char *arg)
{
	uint64_t ms, end;

	if (!need_number("spin", arg, &ms))
		return;
	need_time("spin");
	if (ms > UINT64_MAX / 1000000) {
		printk("spin: %llu ms is too long\n", (unsigned long long)ms);
		return;
	}
	end = time_now_ns() + ms * 1000000;
	while (time_now_ns() < end)
		__asm__ __volatile__("pause");
	printk("spin: %llu ms done\n", (unsigned long long)ms);
}

/* Wake-ups "wait" reports before going quiet. */
#define WAIT_REPORTS 3

static void cmd_wait(const start_info_t *si, const char *arg)
{
	unsigned int wakes = 0;
	int rc;

	if (!events_ready())
		printk("wait: no event callbacks: an event will crash us\n");
	printk("wait: blocking until the domain is shut down from outside\n");
	for (;;) {
		/* control/shutdown and other watch callbacks, NMI lines, run here. */
		control_poll();
		events_mask();
		if (control_poll_pending()) {
			events_unmask();
			continue;
		}
		/* Enables event delivery; returns after an upcall ran. */
		rc = sched_block();
		events_unmask();
		if (rc) {
			printk("wait: SCHEDOP_block failed: %d\n", rc);
			(void)sched_yield();
		} else if (wakes < WAIT_REPORTS) {
			wakes++;
			printk("wait: woke (upcalls=%lu spurious=%lu)\n", events_upcalls(),
			       events_spurious());
		}
	}
}

static bool never(void *arg)
{
	return false;
}

static void cmd_sleep(const start_info_t *si, const char *arg)
{
	uint64_t ms;
	int rc;

	if (!need_number("sleep", arg, &ms))
		return;
	need_time("sleep");
	if (ms > UINT64_MAX / 1000000) {
		printk("sleep: %llu ms is too long\n", (unsigned long long)ms);
		return;
	}
	if (ms) {
		rc = wait_until(never, NULL, ms * 1000000);
		if (rc != -XEN_ETIMEDOUT)
			printk("sleep: woke early: %d\n", rc);
	}
	printk("sleep: %llu ms done (%s)\n", (unsigned long long)ms,
	       wait_timer_available() ? "blocked" : "polled");
}

static void cmd_xs_selftest(const start_info_t *si, const char *arg)
{
	selftest_xs(arg);
}

static void cmd_xs_watch(const start_info_t *si, const char *arg)
{
	selftest_xs_watch(arg);
}

static void cmd_peer(const start_info_t *si, const char *arg)
{
	selftest_peer(arg);
}

static void cmd_pingpong(const start_info_t *si, const char *arg)
{
	selftest_pingpong(arg);
}

static void cmd_grant_selftest(const start_info_t *si, const char *arg)
{
	selftest_grant(arg);
}

static void cmd_console_echo(const start_info_t *si, const char *arg)
{
	selftest_console_echo(arg);
}

static void cmd_xs_dev(const start_info_t *si, const char *arg)
{
	selftest_xs_dev(arg);
}

static void cmd_xs_read(const start_info_t *si, const char *arg)
{
	selftest_xs_read(arg);
}

static void cmd_xs_bench(const start_info_t *si, const char *arg)
{
	need_time("xs-bench");
	selftest_xs_bench(arg);
}

static void cmd_watchdog(const start_info_t *si, const char *arg)
{
	selftest_watchdog(arg);
}

static void cmd_pv_abi(const start_info_t *si, const char *arg)
{
	selftest_pv_abi(arg);
}

static void cmd_xs_stress(const start_info_t *si, const char *arg)
{
	selftest_xs_stress(arg);
}

static void cmd_gnttab_exhaust(const start_info_t *si, const char *arg)
{
	selftest_gnttab_exhaust(arg);
}

static void cmd_evtchn_fifo(const start_info_t *si, const char *arg)
{
	selftest_evtchn_abi(arg);
}

static void cmd_smp(const start_info_t *si, const char *arg)
{
	int n = smp_run(si, sched_vcpu_count());

	if (n < 0)
		printk("smp: failed: %d\n", n);
	else
		printk("smp: %d vcpus ran\n", n);
}

static void cmd_bench_hypercall(const start_info_t *si, const char *arg)
{
	uint64_t n, t0, t1;

	if (!need_number("bench-hypercall", arg, &n))
		return;
	if (n == 0) {
		printk("bench-hypercall: needs at least one call\n");
		return;
	}
	need_time("bench-hypercall");
	t0 = time_now_ns();
	for (uint64_t i = 0; i < n; i++)
		(void)HYPERVISOR_xen_version(XENVER_version, NULL);
	t1 = time_now_ns();
	printk("bench-hypercall: calls=%llu ns_per_call=%llu\n", (unsigned long long)n,
	       (unsigned long long)((t1 - t0) / n));
}

/* bench-boot prints its line right after the banner (main.c). */
static void cmd_nop(const start_info_t *si, const char *arg)
{
}

static void cmd_print(const start_info_t *si, const char *arg)
{
	printk("%s\n", arg ? arg : "");
}

static void cmd_memcheck(const start_info_t *si, const char *arg)
{
	balloon_memcheck();
}

/* balloon-wait[=SECONDS]: until the balloon next reaches (or stops short of) a target. */
static void cmd_balloon_wait(const start_info_t *si, const char *arg)
{
	uint64_t s = 120;
	int rc;

	if (arg && !need_number("balloon-wait", arg, &s))
		return;
	if (s > 86400)
		s = 86400;
	rc = balloon_wait(s * 1000000000ULL);
	if (rc)
		printk("balloon-wait: %s (%d)\n", rc == -XEN_ETIMEDOUT ? "timed out" : "no balloon",
		       rc);
}

static void cmd_balloon_status(const start_info_t *si, const char *arg)
{
	unsigned long held, out;
	domid_t self = DOMID_SELF;
	long cur;

	int rc = balloon_status(&held, &out);

	if (rc) {
		printk("balloon: not running (%d)\n", rc);
		return;
	}
	cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
	printk("balloon: holds %lu KiB, %lu KiB given back; reservation %ld KiB\n", held * 4,
	       out * 4, cur < 0 ? cur : cur * 4);
}

static const struct command commands[] = {
	{ .name = "halt", .run = cmd_halt },
	{ .name = "reboot", .run = cmd_reboot },
	{ .name = "crash", .run = cmd_crash },
	{ .name = "spin", .run = cmd_spin },
	{ .name = "wait", .run = cmd_wait },
	{ .name = "smp", .run = cmd_smp },
	{ .name = "bench-hypercall", .run = cmd_bench_hypercall },
	{ .name = "bench-boot", .run = cmd_nop },
	{ .name = "print", .run = cmd_print },
	{ .name = "sleep", .run = cmd_sleep },
	{ .name = "xs-selftest", .run = cmd_xs_selftest },
	{ .name = "xs-watch", .run = cmd_xs_watch },
	{ .name = "evtchn-pingpong", .run = cmd_pingpong },
	{ .name = "evtchn-peer", .run = cmd_peer },
	{ .name = "grant-selftest", .run = cmd_grant_selftest },
	{ .name = "console-echo", .run = cmd_console_echo },
	{ .name = "console", .run = cmd_nop },
	{ .name = "xs-dev", .run = cmd_xs_dev },
	{ .name = "xs-read", .run = cmd_xs_read },
	{ .name = "xs-bench", .run = cmd_xs_bench },
	{ .name = "xs-stress", .run = cmd_xs_stress },
	{ .name = "pv-abi", .run = cmd_pv_abi },
	{ .name = "watchdog", .run = cmd_watchdog },
	{ .name = "traps", .run = traps_selftest },
	{ .name = "privops", .run = privops_selftest },
	{ .name = "gdt", .run = gdt_word },
	{ .name = "ldt", .run = ldt_word },
	{ .name = "mmu", .run = mmu_selftest },
	{ .name = "mmu-bench", .run = mmu_bench },
	{ .name = "usermode", .run = usermode_word },
	{ .name = "usermode-smp", .run = usermode_smp_word },
	{ .name = "gnttab-exhaust", .run = cmd_gnttab_exhaust },
	{ .name = "evtchn-fifo", .run = cmd_evtchn_fifo },
	{ .name = "evtchn-smp", .run = evtchn_smp_word },
	{ .name = "kick-stress", .run = kick_stress_word },
	{ .name = "tsc", .run = tsc_word },
	{ .name = "evtchn", .run = cmd_nop }, /* evtchn=2l: read at boot (main.c) */
	{ .name = "memcheck", .run = cmd_memcheck },
	{ .name = "balloon-wait", .run = cmd_balloon_wait },
	{ .name = "balloon-status", .run = cmd_balloon_status },
	{ .name = "resume-io", .run = resume_io_word },
};

/* A word from a driver's table (blkfront, netfront, hostile_rings) or hostile.c's, if one has it.
 */
static bool driver_word_run(const start_info_t *si, const char *name, const char *arg)
{
	const struct driver_word *tables[] = { blk_words, net_words, hostile_words,
					       hostile_ring_words };
	unsigned counts[] = { &blk_nwords ? blk_nwords : 0, &net_nwords ? net_nwords : 0,
			      hostile_nwords, &hostile_ring_nwords ? hostile_ring_nwords : 0 };

	for (unsigned t = 0; t < ARRAY_SIZE(tables); t++) {
		if (!tables[t])
			continue;
		for (unsigned i = 0; i < counts[t]; i++) {
			if (!strcmp(name, tables[t][i].name)) {
				tables[t][i].run(si, arg);
				return true;
			}
		}
	}
	return false;
}

bool commands_has_word(const char *cmdline, const char *word)
{
	char buf[WORD_MAX];
	const char *pos = cmdline;
	int n;

	while ((n = cmdline_next(&pos, buf, sizeof(buf))) != 0) {
		if (n > 0 && !strcmp(buf, word))
			return true;
	}
	return false;
}

void commands_run(const start_info_t *si, const char *cmdline)
{
	char buf[WORD_MAX];
	char shown[WORD_MAX];
	const char *pos = cmdline;
	struct cmd_word w;
	size_t i;
	int n;

	while ((n = cmdline_next(&pos, buf, sizeof(buf))) != 0) {
		memcpy(shown, buf, sizeof(shown));
		if (n < 0) {
			printk("unknown command '%s...'\n", shown);
			continue;
		}
		cmdline_split(buf, &w);
		for (i = 0; i < ARRAY_SIZE(commands); i++) {
			if (!strcmp(w.name, commands[i].name))
				break;
		}
		if (i == ARRAY_SIZE(commands)) {
			if (!driver_word_run(si, w.name, w.arg))
				printk("unknown command '%s'\n", shown);
			continue;
		}
		commands[i].run(si, w.arg);
	}
	printk("poweroff\n");
	sched_shutdown(SHUTDOWN_poweroff);
}
