// SPDX-License-Identifier: MIT
/* Check suite for dom0/xl_cpumap.c: CPU lists parsed as Xen's xl does, printed as Xen prints them,
 * vcpu-list rows. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dom0/xl_cpumap.h"

static char err[160];
static uint8_t map[SV_CPUMAP_BYTES];

/* Parses s on a host of nr CPUs, which must succeed, and prints it back. */
static const char *roundtrip(const char *s, unsigned nr)
{
	static char text[256];
	int r = xl_cpulist_parse(s, nr, map, err, sizeof(err));

	ck_assert_msg(r == 0, "'%s' on %u CPUs failed: %s", s, nr, err);
	xl_cpumap_text(map, nr, text, sizeof(text));
	return text;
}

/* Parsing s on nr CPUs must fail with a message holding want. */
static void bad(const char *s, unsigned nr, const char *want)
{
	int r = xl_cpulist_parse(s, nr, map, err, sizeof(err));

	ck_assert_msg(r == -EINVAL, "'%s' gave %d", s, r);
	ck_assert_msg(strstr(err, want), "'%s': message '%s' lacks '%s'", s, err, want);
	ck_assert_msg(!strchr(err, '\n'), "one line: '%s'", err);
}

static bool has(unsigned cpu)
{
	return map[cpu / 8] & (1u << (cpu % 8));
}

START_TEST(single_cpus_and_ranges)
{
	ck_assert_str_eq(roundtrip("0", 4), "0");
	ck_assert_str_eq(roundtrip("3", 4), "3");
	ck_assert_str_eq(roundtrip("1-2", 4), "1-2");
	ck_assert_str_eq(roundtrip("0,2", 4), "0,2");
	ck_assert_str_eq(roundtrip("0-1,3", 4), "0-1,3");
	ck_assert_str_eq(roundtrip("3,0-1", 4), "0-1,3");
	ck_assert_str_eq(roundtrip("1,1,1-1", 4), "1");
	ck_assert_str_eq(roundtrip("0,2,4,6", 8), "0,2,4,6");
	ck_assert_str_eq(roundtrip("5-7,0-2", 8), "0-2,5-7");
	/* Exactly the bits named, nothing beyond. */
	roundtrip("2", 4);
	ck_assert(has(2) && !has(0) && !has(1) && !has(3) && !has(4));
}
END_TEST

START_TEST(all_and_everything_named)
{
	ck_assert_str_eq(roundtrip("all", 4), "all");
	ck_assert_str_eq(roundtrip("0-3", 4), "all");
	ck_assert_str_eq(roundtrip("0,1", 2), "all");
	ck_assert_str_eq(roundtrip("0", 1), "all");
	roundtrip("all", 2);
	ck_assert(has(0) && has(1) && !has(2));
}
END_TEST

START_TEST(exclusions)
{
	ck_assert_str_eq(roundtrip("0-3,^1", 4), "0,2-3");
	ck_assert_str_eq(roundtrip("all,^0", 4), "1-3");
	ck_assert_str_eq(roundtrip("all,^1-2", 8), "0,3-7");
	ck_assert_str_eq(roundtrip("^1,0-2", 4), "0-2"); /* in order: the removal came first */
	bad("^1", 4, "leaves no CPU");
	bad("0,^0", 4, "leaves no CPU");
	bad("^all", 4, "can't combine");
}
END_TEST

START_TEST(malformed)
{
	bad("", 4, "empty");
	bad("x", 4, "invalid CPU range 'x'");
	bad("1-", 4, "invalid CPU range");
	bad("-1", 4, "invalid CPU range");
	bad("2-1", 4, "invalid CPU range '2-1'");
	bad("0,,1", 4, "invalid CPU range");
	bad("0,", 4, "invalid CPU range");
	bad("1 ", 4, "invalid CPU range");
	bad("0x1", 4, "invalid CPU range");
	bad("99999999999999999999999", 4, "invalid CPU range");
	bad("^", 4, "invalid CPU range");
	bad("nodes:0", 4, "invalid CPU range");
}
END_TEST

START_TEST(beyond_the_host)
{
	bad("7", 2, "cpu 7 out of range (host has 2 CPUs)");
	bad("0-2", 2, "cpu 2 out of range (host has 2 CPUs)");
	bad("1", 1, "cpu 1 out of range (host has 1 CPU)");
	bad("1024", 4096, "cpu 1024 out of range"); /* past what a map holds */
}
END_TEST

START_TEST(print_as_xen)
{
	uint8_t m[SV_CPUMAP_BYTES] = { 0 };
	char text[16];

	xl_cpumap_text(m, 4, text, sizeof(text));
	ck_assert_str_eq(text, "none");
	m[0] = 0x0b; /* 0, 1, 3 */
	xl_cpumap_text(m, 4, text, sizeof(text));
	ck_assert_str_eq(text, "0-1,3");
	/* Bits past the host's CPUs mean nothing. */
	memset(m, 0xff, sizeof(m));
	xl_cpumap_text(m, 2, text, sizeof(text));
	ck_assert_str_eq(text, "all");
	m[0] = 0xfe;
	xl_cpumap_text(m, 2, text, sizeof(text));
	ck_assert_str_eq(text, "1");
	/* Truncated, never overrun. */
	memset(m, 0x55, sizeof(m));
	xl_cpumap_text(m, 64, text, 8);
	ck_assert_str_eq(text, "0,2,4,6");
}
END_TEST

/* The header is Xen 4.17's printf("%-32s %5s %5s %5s %5s %9s %s") of its titles. */
START_TEST(header_columns)
{
	char want[256];

	snprintf(want, sizeof(want), "%-32s %5s %5s %5s %5s %9s %s", "Name", "ID", "VCPU", "CPU",
		 "State", "Time(s)", "Affinity (Hard / Soft)");
	ck_assert_str_eq(xl_vcpu_header, want);
}
END_TEST

START_TEST(rows)
{
	struct sv_vcpu_info vi = { .vcpu = 1,
				   .flags = SV_VCPUF_ONLINE | SV_VCPUF_RUNNING,
				   .cpu = 1,
				   .cpu_time_ns = 12345000000ULL };
	char row[256];

	memset(vi.hard, 0xff, sizeof(vi.hard));
	xl_vcpu_row(row, sizeof(row), "guest", 3, &vi, 2);
	ck_assert_str_eq(
	    row, "guest                                3     1    1   r--      12.3  all / all");

	vi.flags = SV_VCPUF_ONLINE | SV_VCPUF_BLOCKED;
	vi.cpu = 0;
	memset(vi.hard, 0, sizeof(vi.hard));
	vi.hard[0] = 0x0d; /* 0, 2, 3 */
	xl_vcpu_row(row, sizeof(row), "guest", 3, &vi, 4);
	ck_assert_str_eq(
	    row, "guest                                3     1    0   -b-      12.3  0,2-3 / all");

	/* Offline: no CPU, "--p", whatever else the flags say. */
	vi.flags = SV_VCPUF_RUNNING;
	vi.cpu_time_ns = 0;
	xl_vcpu_row(row, sizeof(row), "guest", 3, &vi, 4);
	ck_assert_str_eq(
	    row, "guest                                3     1    -   --p       0.0  0,2-3 / all");

	/* Online but not running nor blocked (paused): "---"; an unknown CPU is "-". */
	vi.flags = SV_VCPUF_ONLINE;
	vi.cpu = -1;
	xl_vcpu_row(row, sizeof(row), "guest", 3, &vi, 4);
	ck_assert_str_eq(
	    row, "guest                                3     1    -   ---       0.0  0,2-3 / all");

	/* A long name pushes the columns, as Xen's %-32s does. */
	vi.cpu = 2;
	xl_vcpu_row(row, sizeof(row), "a-name-that-is-longer-than-32-chars", 12, &vi, 4);
	ck_assert_str_eq(
	    row,
	    "a-name-that-is-longer-than-32-chars    12     1    2   ---       0.0  0,2-3 / all");
}
END_TEST

static Suite *cpumap_suite(void)
{
	Suite *s = suite_create("xl_cpumap");
	TCase *tc = tcase_create("cpumap");

	tcase_add_test(tc, single_cpus_and_ranges);
	tcase_add_test(tc, all_and_everything_named);
	tcase_add_test(tc, exclusions);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, beyond_the_host);
	tcase_add_test(tc, print_as_xen);
	tcase_add_test(tc, header_columns);
	tcase_add_test(tc, rows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cpumap_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
