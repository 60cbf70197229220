// SPDX-License-Identifier: MIT
// Check test case of the guest kernel's Xen devices, booted against the fake services of
// tests/fakes/fakexen_guest.c.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/sched.h>

#include "guest_boot.h"

#define XEN_ON .xen = { .on = true, .domid = 7 }

START_TEST(test_xen_devices_come_up)
{
	struct boot_opts o = { .cmdline = "print=hello", XEN_ON };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "devices: m2p=-38 timer=0 console-ring=0 gnttab=0 xenbus=0 control=0");
	ck_line(&r, "[hv] grant table: 4 frames");
	ck_line(&r, "[xs] write /local/domain/7/control/feature-poweroff=1");
	ck_line(&r, "[xs] write /local/domain/7/control/feature-reboot=1");
	ck_line(&r, "[xs] watch control/shutdown");
	/* Through the ring now, every byte, up to the last line. */
	ck_assert_msg(!strncmp(r.out, "Splitvisor PV kernel ", 21), "%s", r.out);
	ck_line(&r, "hello");
	ck_line(&r, "poweroff");
}
END_TEST

START_TEST(test_xen_console_io_word_keeps_console_io)
{
	struct boot_opts o = { .cmdline = "console=io print=hi", XEN_ON };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_assert_ptr_nonnull(strstr(r.out, "console-ring=-19"));
	ck_line(&r, "hi");
}
END_TEST

START_TEST(test_xen_sleep_blocks_on_timer)
{
	struct boot_opts o = { .cmdline = "sleep=200 sleep=0", XEN_ON };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "sleep: 200 ms done (blocked)");
	ck_line(&r, "sleep: 0 ms done (blocked)");
	ck_assert_msg(r.ns >= 200000000ULL, "took %llu ns", (unsigned long long)r.ns);
	ck_assert_ptr_nonnull(strstr(r.out, "[hv] block: mask 1"));
}
END_TEST

START_TEST(test_xen_sleep_without_events_polls)
{
	struct boot_opts o = { .cmdline = "sleep=50" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "sleep: 50 ms done (polled)");
}
END_TEST

START_TEST(test_xen_xs_selftest)
{
	struct boot_opts o = { .cmdline = "xs-selftest", XEN_ON };
	static struct boot_result r;

	o.xen.tx_eagain_once = true;
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "xs-selftest: ok (transaction retries 1)");
	ck_line(&r, "[xs] write /local/domain/7/data/xs-selftest/a=alpha");
	ck_line(&r, "[xs] write /local/domain/7/data/xs-selftest/b=42-beta");
	ck_line(&r, "[xs] rm /local/domain/7/data/xs-selftest");
}
END_TEST

START_TEST(test_xen_xs_selftest_without_xenbus)
{
	struct boot_opts o = { .cmdline =
				   "xs-selftest grant-selftest console-echo evtchn-pingpong=2" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "xs-selftest: FAIL no xenbus");
	ck_line(&r, "grant-selftest: FAIL no xenbus");
	ck_line(&r, "console-echo: FAIL no console ring");
	ck_line(&r, "evtchn-pingpong: FAIL no xenbus");
}
END_TEST

START_TEST(test_xen_hostile_store_breaks_only_xenbus)
{
	struct boot_opts o = { .cmdline = "xs-selftest print=still-here", XEN_ON };
	static struct boot_result r;

	o.xen.hostile_store = true;
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "xenbus: ring broken: response index out of range");
	ck_assert_ptr_nonnull(strstr(r.out, "xs-selftest: FAIL"));
	ck_line(&r, "still-here");
}
END_TEST

START_TEST(test_xen_xs_watch)
{
	static const char *const values[] = { "one", "two", "stop", NULL };
	struct boot_opts o = { .cmdline = "xs-watch=k print=after", XEN_ON };
	static struct boot_result r;
	const char *a, *b, *c;

	o.xen.watch_key = "k";
	o.xen.watch_values = values;
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "xs-watch: watching /local/domain/7/data/k");
	a = strstr(r.out, "xs-watch: k=one\n");
	b = strstr(r.out, "xs-watch: k=two\n");
	c = strstr(r.out, "xs-watch: k=stop\n");
	ck_assert_msg(a && b && c && a < b && b < c, "%s", r.out);
	ck_line(&r, "after");
}
END_TEST

START_TEST(test_xen_grant_selftest)
{
	struct boot_opts o = { .cmdline = "grant-selftest", XEN_ON };
	static struct boot_result r;

	o.xen.grant_peer = true;
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "grant-selftest: ref 8 in /local/domain/7/data/grant-ref");
	ck_line(&r, "[dom0] grant ref 8 checked and written");
	ck_line(&r, "grant-selftest: ok");
}
END_TEST

START_TEST(test_xen_grant_selftest_dom0_complains)
{
	struct boot_opts o = { .cmdline = "grant-selftest", XEN_ON };
	static struct boot_result r;

	o.xen.grant_peer = true;
	o.xen.grant_peer_says = "bad-pattern";
	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "grant-selftest: FAIL dom0 says 'bad-pattern'");
	ck_assert_ptr_null(strstr(r.out, "grant-selftest: ok"));
}
END_TEST

START_TEST(test_xen_grant_end_access_refused_while_mapped)
{
	struct boot_opts o = { .cmdline = "grant-selftest", XEN_ON };
	static struct boot_result r;

	o.xen.grant_peer = true;
	o.xen.grant_peer_keeps_mapping = true;
	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "grant-selftest: FAIL dom0 kept ref 8 mapped");
	ck_assert_ptr_null(strstr(r.out, "grant-selftest: ok"));
}
END_TEST

START_TEST(test_xen_pingpong_dom0_pings)
{
	struct boot_opts o = { .cmdline = "evtchn-pingpong=5", XEN_ON };
	static struct boot_result r;

	o.xen.pingpong = 5;
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "evtchn-pingpong: answered 5");
	ck_line(&r, "[xs] write /local/domain/7/data/pingpong-done=5");
	ck_assert_ptr_nonnull(strstr(r.out, "[dom0] bound pingpong port "));
}
END_TEST

START_TEST(test_xen_pingpong_guest_pings)
{
	struct boot_opts o = { .cmdline = "evtchn-pingpong=7,guest", XEN_ON };
	static struct boot_result r;
	unsigned long long n, mn, avg, mx;
	const char *l;

	o.xen.pingpong_echo = true;
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	l = strstr(r.out, "evtchn-pingpong: rounds=");
	ck_assert_msg(l != NULL, "%s", r.out);
	ck_assert_int_eq(sscanf(l,
				"evtchn-pingpong: rounds=%llu min_ns=%llu avg_ns=%llu max_ns=%llu",
				&n, &mn, &avg, &mx),
			 4);
	ck_assert_uint_eq(n, 7);
	ck_assert(mn <= avg && avg <= mx);
}
END_TEST

START_TEST(test_xen_pingpong_bad_argument)
{
	struct boot_opts o = { .cmdline =
				   "evtchn-pingpong=3,dom1 evtchn-pingpong=0 evtchn-pingpong",
			       XEN_ON };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "evtchn-pingpong: bad argument '3,dom1'");
	ck_line(&r, "evtchn-pingpong: bad number '0'");
	ck_line(&r, "evtchn-pingpong: needs a number (evtchn-pingpong=N)");
}
END_TEST

START_TEST(test_xen_console_echo)
{
	struct boot_opts o = { .cmdline = "console-echo print=after", XEN_ON };
	static struct boot_result r;

	o.xen.console_input = "hello\r\nworld\n\nquit\n";
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "echo: hello");
	ck_line(&r, "echo: world");
	ck_line(&r, "echo: ");
	ck_line(&r, "console-echo: quit");
	ck_line(&r, "after");
	ck_assert(!has_line(&r, "echo: quit"));
}
END_TEST

START_TEST(test_xen_console_hostile_input_ignored)
{
	struct boot_opts o = { .cmdline = "console-echo", XEN_ON };
	static struct boot_result r;

	o.xen.console_input = "fine\nquit\n";
	o.xen.hostile_console = true;
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "[cons] hostile in_prod");
	ck_line(&r, "[cons] in_cons after hostile: 0");
	ck_line(&r, "echo: fine");
	ck_line(&r, "console-echo: quit");
}
END_TEST

START_TEST(test_xen_xs_dev)
{
	static const char *const nodes[] = { "/local/domain/7/device/vbd/51712/backend",
					     "/local/domain/0/backend/vbd/7/51712",
					     "/local/domain/7/device/vbd/51712/state",
					     "1",
					     "/local/domain/0/backend/vbd/7/51712/state",
					     "2",
					     "/local/domain/7/device/vif/0/backend",
					     "/nowhere",
					     NULL };
	struct boot_opts o = { .cmdline = "xs-dev=vbd/51712 xs-dev=vif/0 xs-dev=vif/1 xs-dev=junk",
			       XEN_ON };
	static struct boot_result r;

	o.xen.nodes = nodes;
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "xs-dev: vbd/51712 backend=/local/domain/0/backend/vbd/7/51712 backend-state=2 "
		    "frontend-state=1");
	ck_line(&r, "xs-dev: vif/0 backend=/nowhere backend-state=0 frontend-state=0");
	ck_line(&r, "xs-dev: vif/1: no backend: -2");
	ck_line(&r, "xs-dev: needs TYPE/ID (xs-dev=vbd/51712)");
}
END_TEST

START_TEST(test_xen_xs_read_long_value)
{
	static char big[4001];
	static const char *nodes[] = { "/big", big, "/empty", "", NULL };
	struct boot_opts o = { .cmdline = "xs-read=/big xs-read=/empty xs-read=/none xs-read=/big",
			       XEN_ON };
	static struct boot_result r;

	/* Longer than the 1 KiB ring: the reply arrives in pieces. */
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[0] = 'S';
	big[sizeof(big) - 2] = 'E';
	o.xen.nodes = nodes;
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_assert_int_eq(
	    count_lines(
		&r,
		"xs-read: /big (4000 bytes)=Sbcdefghijklmnopqrstuvwxyzabcdef...ghijklmnopqrstuE"),
	    2);
	ck_line(&r, "xs-read: /empty (0 bytes)=");
	ck_line(&r, "xs-read: /none: -2");
}
END_TEST

START_TEST(test_xen_smp_prints_through_the_ring)
{
	struct boot_opts o = { .cmdline = "smp smp", .vcpus = MAX_VCPUS, XEN_ON };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_assert_int_eq(count_lines(&r, "smp: 8 vcpus ran"), 2);
	for (int cpu = 1; cpu < MAX_VCPUS; cpu++) {
		char line[32];

		snprintf(line, sizeof(line), "vcpu %d: online", cpu);
		ck_assert_int_eq(count_lines(&r, line), 2);
	}
}
END_TEST

START_TEST(test_xen_console_stall_falls_back)
{
	static char cl[1024];
	struct boot_opts o = { .cmdline = cl, XEN_ON };
	static struct boot_result r;
	size_t n = 0;

	/* Unknown words: more than the 2 KiB ring of output. */
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(cl + n, sizeof(cl) - n, "w%02d-abcdefghijklmnopqrstuvwxyz ",
				      i);
	snprintf(cl + n, sizeof(cl) - n, "print=last");
	o.xen.console_stalls = true;
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "console: ring stalled or broken; back to console_io");
	ck_line(&r, "last");
	ck_line(&r, "poweroff");
}
END_TEST

START_TEST(test_xen_control_shutdown_poweroff)
{
	struct boot_opts o = { .cmdline = "wait print=never", XEN_ON };
	static struct boot_result r;

	o.xen.shutdown = "poweroff";
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "control: poweroff requested");
	ck_line(&r, "[xs] write /local/domain/7/control/shutdown=");
	ck_assert(!has_line(&r, "never"));
}
END_TEST

START_TEST(test_xen_control_shutdown_reboot_while_sleeping)
{
	struct boot_opts o = { .cmdline = "sleep=100000 print=never", XEN_ON };
	static struct boot_result r;

	o.xen.shutdown = "reboot";
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_reboot), "status %#x:\n%s", r.status,
		      r.out);
	ck_line(&r, "control: reboot requested");
	ck_assert(!has_line(&r, "never"));
}
END_TEST

START_TEST(test_xen_control_shutdown_unknown_ignored)
{
	struct boot_opts o = { .cmdline = "sleep=300", XEN_ON };
	static struct boot_result r;

	o.xen.shutdown = "hibernate";
	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "control: ignoring shutdown request 'hibernate'");
	ck_line(&r, "sleep: 300 ms done (blocked)");
}
END_TEST

/* Xen's save request: acknowledged, then SHUTDOWN_suspend (the fake ends the guest there). */
START_TEST(test_xen_control_suspend)
{
	struct boot_opts o = { .cmdline = "sleep=100000 print=never", XEN_ON };
	static struct boot_result r;

	o.xen.shutdown = "suspend";
	boot(&o, &r);
	ck_assert_msg(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_suspend), "status %#x:\n%s",
		      r.status, r.out);
	ck_line(&r, "control: suspend requested");
	ck_assert(!has_line(&r, "never"));
}
END_TEST

START_TEST(test_xen_xs_bench)
{
	struct boot_opts o = { .cmdline = "xs-bench=100 xs-bench=x", XEN_ON };
	static struct boot_result r;
	unsigned long long n, ns;
	const char *l;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	l = strstr(r.out, "xs-bench: reads=");
	ck_assert_msg(l != NULL, "%s", r.out);
	ck_assert_int_eq(sscanf(l, "xs-bench: reads=%llu ns_per_read=%llu", &n, &ns), 2);
	ck_assert_uint_eq(n, 100);
	ck_line(&r, "xs-bench: needs a number (xs-bench=N)");
}
END_TEST

START_TEST(test_xen_gnttab_exhaust)
{
	struct boot_opts o = { .cmdline = "gnttab-exhaust gnttab-exhaust", XEN_ON };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	/* 4 frames of 512 entries, less the 8 reserved refs; twice. */
	ck_assert_int_eq(count_lines(&r, "gnttab-exhaust: ok (2040 refs)"), 2);
}
END_TEST

START_TEST(test_xen_gnttab_exhaust_without_table)
{
	struct boot_opts o = { .cmdline = "gnttab-exhaust" };
	static struct boot_result r;

	boot(&o, &r);
	ck_assert(exited_with(&r, EXIT_SHUTDOWN + SHUTDOWN_poweroff));
	ck_line(&r, "gnttab-exhaust: FAIL no grant table");
}
END_TEST

TCase *guest_xen_tcase(void)
{
	TCase *tc = tcase_create("xen");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_xen_devices_come_up);
	tcase_add_test(tc, test_xen_console_io_word_keeps_console_io);
	tcase_add_test(tc, test_xen_sleep_blocks_on_timer);
	tcase_add_test(tc, test_xen_sleep_without_events_polls);
	tcase_add_test(tc, test_xen_xs_selftest);
	tcase_add_test(tc, test_xen_xs_selftest_without_xenbus);
	tcase_add_test(tc, test_xen_hostile_store_breaks_only_xenbus);
	tcase_add_test(tc, test_xen_xs_watch);
	tcase_add_test(tc, test_xen_grant_selftest);
	tcase_add_test(tc, test_xen_grant_selftest_dom0_complains);
	tcase_add_test(tc, test_xen_grant_end_access_refused_while_mapped);
	tcase_add_test(tc, test_xen_pingpong_dom0_pings);
	tcase_add_test(tc, test_xen_pingpong_guest_pings);
	tcase_add_test(tc, test_xen_pingpong_bad_argument);
	tcase_add_test(tc, test_xen_console_echo);
	tcase_add_test(tc, test_xen_console_stall_falls_back);
	tcase_add_test(tc, test_xen_console_hostile_input_ignored);
	tcase_add_test(tc, test_xen_xs_dev);
	tcase_add_test(tc, test_xen_xs_bench);
	tcase_add_test(tc, test_xen_gnttab_exhaust);
	tcase_add_test(tc, test_xen_gnttab_exhaust_without_table);
	tcase_add_test(tc, test_xen_xs_read_long_value);
	tcase_add_test(tc, test_xen_smp_prints_through_the_ring);
	tcase_add_test(tc, test_xen_control_shutdown_poweroff);
	tcase_add_test(tc, test_xen_control_shutdown_reboot_while_sleeping);
	tcase_add_test(tc, test_xen_control_shutdown_unknown_ignored);
	tcase_add_test(tc, test_xen_control_suspend);
	return tc;
}
