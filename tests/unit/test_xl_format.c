// SPDX-License-Identifier: MIT
/* Check suite for dom0/xl_format.c: xl uptime's times and xentop's table, column by column. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xen/sched.h>

#include "../../dom0/xl_format.h"

static const char *up(uint64_t secs, bool short_form)
{
	static char buf[64];

	xl_uptime_text(secs, short_form, buf, sizeof(buf));
	return buf;
}

START_TEST(uptime_long_form)
{
	ck_assert_str_eq(up(0, false), " 0:00:00");
	ck_assert_str_eq(up(59, false), " 0:00:59");
	ck_assert_str_eq(up(3600 + 2 * 60 + 3, false), " 1:02:03");
	ck_assert_str_eq(up(12 * 3600 + 5, false), "12:00:05");
	ck_assert_str_eq(up(86400 - 1, false), "23:59:59");
	ck_assert_str_eq(up(86400 + 2 * 3600 + 3 * 60 + 4, false), "1 day,  2:03:04");
	ck_assert_str_eq(up(3 * 86400 + 10 * 3600, false), "3 days, 10:00:00");
}
END_TEST

START_TEST(uptime_short_form)
{
	ck_assert_str_eq(up(59, true), " 0:00");
	ck_assert_str_eq(up(3600 + 2 * 60 + 3, true), " 1:02");
	ck_assert_str_eq(up(86400 + 2 * 3600 + 3 * 60, true), "1 day,  2:03");
	ck_assert_str_eq(up(400 * 86400 + 23 * 3600 + 59 * 60 + 59, true), "400 days, 23:59");
}
END_TEST

START_TEST(uptime_truncates_safely)
{
	char small[6];

	xl_uptime_text(3 * 86400, false, small, sizeof(small));
	ck_assert_str_eq(small, "3 day");
}
END_TEST

START_TEST(start_time_values)
{
	uint64_t s = 0;

	ck_assert_int_eq(xl_start_time_parse("1733400000.25", &s), 0);
	ck_assert_uint_eq(s, 1733400000);
	ck_assert_int_eq(xl_start_time_parse("42", &s), 0);
	ck_assert_uint_eq(s, 42);
	ck_assert_int_ne(xl_start_time_parse("", &s), 0);
	ck_assert_int_ne(xl_start_time_parse("-5", &s), 0);
	ck_assert_int_ne(xl_start_time_parse("12x", &s), 0);
	ck_assert_int_ne(xl_start_time_parse(NULL, &s), 0);
	ck_assert_int_ne(xl_start_time_parse("99999999999999999999999", &s), 0);
}
END_TEST

static const char header[] =
    "      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS "
    "NETTX(k) NETRX(k) VBDS   VBD_OO   VBD_RD   VBD_WR  VBD_RSECT  VBD_WSECT SSID\n";

START_TEST(top_header_is_xentops)
{
	char buf[512];

	xl_top_header(buf, sizeof(buf));
	ck_assert_str_eq(buf, header);
}
END_TEST

/* Each row field ends where its header does: right-aligned columns, as xentop prints them. */
static void assert_aligned(const char *row)
{
	size_t n = strlen(header);

	ck_assert_uint_eq(strlen(row), n);
	for (size_t i = 0; i + 1 < n; i++) {
		bool head_end = header[i] != ' ' && (header[i + 1] == ' ' || header[i + 1] == '\n');
		bool row_end = row[i] != ' ' && (row[i + 1] == ' ' || row[i + 1] == '\n');

		if (head_end)
			ck_assert_msg(row_end, "column ending at %zu: '%s'", i, row);
	}
}

START_TEST(top_row_columns)
{
	struct xl_top_row r = {
		.name = "guest-with-a-long-name",
		.state = "--b---",
		.cpu_ns = 12500000000ULL,
		.cpu_pct = 3.14159,
		.mem_kb = 65536,
		.maxmem_kb = 131072,
		.host_kb = 1048576,
		.vcpus = 2,
		.nets = 1,
		.net_tx_bytes = 10 * 1024 + 5,
		.net_rx_bytes = 2048,
		.vbds = 1,
		.vbd_rd = 17,
		.vbd_wr = 4,
	};
	char buf[512];

	xl_top_row_text(&r, false, buf, sizeof(buf));
	ck_assert_str_eq(
	    buf, "guest-with --b---         12    3.1      65536    6.2     131072      12.5"
		 "     2    1       10        2    1        0       17        4          0"
		 "          0    0\n");
	assert_aligned(buf);
}
END_TEST

START_TEST(top_row_no_limit)
{
	struct xl_top_row r = { .name = "Domain-0",
				.state = "-----r",
				.mem_kb = 1024,
				.maxmem_kb = UINT64_MAX,
				.host_kb = 1024,
				.vcpus = 4 };
	char buf[512];

	xl_top_row_text(&r, false, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "  100.0   no limit       n/a     4 "));
	assert_aligned(buf);
}
END_TEST

START_TEST(top_row_full_name)
{
	struct xl_top_row r = { .name = "guest-with-a-long-name", .state = "--b---" };
	char buf[512];

	xl_top_row_text(&r, true, buf, sizeof(buf));
	ck_assert_int_eq(strncmp(buf, "guest-with-a-long-name --b--- ", 30), 0);
}
END_TEST

START_TEST(top_state_letters)
{
	struct sv_dominfo d = { .flags = SV_DOMF_BLOCKED };
	char st[7];

	xl_top_state(&d, st);
	ck_assert_str_eq(st, "--b---");
	d.flags = SV_DOMF_RUNNING | SV_DOMF_PAUSED;
	xl_top_state(&d, st);
	ck_assert_str_eq(st, "----pr");
	d.flags = SV_DOMF_SHUTDOWN;
	d.shutdown_reason = SHUTDOWN_poweroff;
	xl_top_state(&d, st);
	ck_assert_str_eq(st, "-s----");
	d.shutdown_reason = SHUTDOWN_crash;
	xl_top_state(&d, st);
	ck_assert_str_eq(st, "---c--");
	d.flags = SV_DOMF_DYING;
	xl_top_state(&d, st);
	ck_assert_str_eq(st, "d-----");
}
END_TEST

START_TEST(top_cpu_percent)
{
	ck_assert_double_eq_tol(xl_top_cpu_pct(0, 500000000, 1000000000), 50.0, 1e-9);
	ck_assert_double_eq_tol(xl_top_cpu_pct(1000, 2001000, 1000000000), 0.2, 1e-9);
	/* Two vCPUs busy: more than one CPU's worth, as xentop shows. */
	ck_assert_double_eq_tol(xl_top_cpu_pct(0, 2000000000, 1000000000), 200.0, 1e-9);
	ck_assert_double_eq_tol(xl_top_cpu_pct(5, 10, 0), 0.0, 1e-9);
	ck_assert_double_eq_tol(xl_top_cpu_pct(10, 5, 1000), 0.0,
				1e-9); /* a new domain with the old id */
}
END_TEST

static Suite *format_suite(void)
{
	Suite *s = suite_create("xl_format");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, uptime_long_form);
	tcase_add_test(tc, uptime_short_form);
	tcase_add_test(tc, uptime_truncates_safely);
	tcase_add_test(tc, start_time_values);
	tcase_add_test(tc, top_header_is_xentops);
	tcase_add_test(tc, top_row_columns);
	tcase_add_test(tc, top_row_no_limit);
	tcase_add_test(tc, top_row_full_name);
	tcase_add_test(tc, top_state_letters);
	tcase_add_test(tc, top_cpu_percent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(format_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
