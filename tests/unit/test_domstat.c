// SPDX-License-Identifier: MIT
/* Check suite for dom0/domstat.c: blkback's status lines, bad names and fallbacks. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../dom0/domstat.h"

static int parse(const char *text, struct domstat_vbd *out, int max)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s", text);
	return domstat_parse_vbds(buf, out, max);
}

START_TEST(vbd_lines)
{
	struct domstat_vbd v[4];
	int n = parse("vbd 3/51712 state 4 file /x.img reads 12 writes 7 errors 0\n"
		      "vbd 4/51728 reads 0 writes 18446744073709551615\n",
		      v, 4);

	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(v[0].domid, 3);
	ck_assert_uint_eq(v[0].devid, 51712);
	ck_assert_uint_eq(v[0].reads, 12);
	ck_assert_uint_eq(v[0].writes, 7);
	ck_assert_uint_eq(v[1].domid, 4);
	ck_assert_uint_eq(v[1].devid, 51728);
	ck_assert_uint_eq(v[1].reads, 0);
	ck_assert(v[1].writes == UINT64_MAX);
}
END_TEST

START_TEST(vbd_bad_lines_skipped)
{
	struct domstat_vbd v[8];
	int n = parse("blkback 1 devices\n"
		      "vbd x/1 reads 1 writes 1\n"
		      "vbd 5/1 reads 1\n"			      /* no writes */
		      "vbd 5/2 writes 1\n"			      /* no reads */
		      "vbd 5/3 reads -1 writes 2\n"		      /* negative */
		      "vbd 5/4 reads 99999999999999999999 writes 2\n" /* too big */
		      "vbd 5/5 reads  writes 2\n"		      /* empty */
		      "vbd 5/6 reads 1 writes  -3\n"		      /* spaced negative */
		      "\n\n"
		      "vbd 6/7 reads 8 writes 9",
		      v, 8);

	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(v[0].domid, 6);
	ck_assert_uint_eq(v[0].devid, 7);
	ck_assert_uint_eq(v[0].reads, 8);
	ck_assert_uint_eq(v[0].writes, 9);
}
END_TEST

START_TEST(vbd_max_respected)
{
	struct domstat_vbd v[3];

	memset(v, 0xaa, sizeof(v));
	ck_assert_int_eq(parse("vbd 1/1 reads 1 writes 1\nvbd 1/2 reads 1 writes 1\n"
			       "vbd 1/3 reads 1 writes 1\n",
			       v, 2),
			 2);
	ck_assert_uint_eq(v[1].devid, 2);
	ck_assert_uint_eq(v[2].domid, 0xaaaaaaaau); /* untouched */
	ck_assert_int_eq(parse("", v, 2), 0);
}
END_TEST

START_TEST(no_blkback_no_devices)
{
	struct domstat_vbd v[2];

	ck_assert_int_eq(domstat_read_vbds("/nonexistent/rundir", v, 2), 0);
}
END_TEST

START_TEST(if_names_checked)
{
	ck_assert(domstat_if_counter("", "rx_bytes") == 0);
	ck_assert(domstat_if_counter("..", "rx_bytes") == 0);
	ck_assert(domstat_if_counter("../../../etc", "rx_bytes") == 0);
	ck_assert(domstat_if_counter("sv-no-such-if0", "rx_bytes") == 0);
}
END_TEST

START_TEST(maxmem_fallback)
{
	char name[32];

	ck_assert(domstat_maxmem_kb(NULL, 3, 4096) == 4096);
	domstat_vif_ifname(NULL, 7, "0", name, sizeof(name));
	ck_assert_str_eq(name, "vif7.0");
}
END_TEST

static Suite *domstat_suite(void)
{
	Suite *s = suite_create("domstat");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, vbd_lines);
	tcase_add_test(tc, vbd_bad_lines_skipped);
	tcase_add_test(tc, vbd_max_respected);
	tcase_add_test(tc, no_blkback_no_devices);
	tcase_add_test(tc, if_names_checked);
	tcase_add_test(tc, maxmem_fallback);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(domstat_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
