// SPDX-License-Identifier: MIT
/* Check suite for netback's credit scheduler (nb_credit.c): rate= limits on guest->host bytes. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include "../../backends/net/nb_credit.h"

START_TEST(unlimited_always_passes)
{
	struct nb_credit c;
	uint64_t retry = 0;

	nb_credit_init(&c, 0, 0, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert(nb_credit_take(&c, 0, 65535, &retry));
}
END_TEST

START_TEST(credit_runs_out_then_returns)
{
	struct nb_credit c;
	uint64_t retry = 0;

	/* 10000 bytes every 1000 us: 10 packets of 1000 pass, the 11th waits. */
	nb_credit_init(&c, 10000, 1000, 0);
	for (int i = 0; i < 10; i++)
		ck_assert(nb_credit_take(&c, 10, 1000, &retry));
	ck_assert(!nb_credit_take(&c, 10, 1000, &retry));
	ck_assert_uint_eq(retry, 1000);
	ck_assert(!nb_credit_take(&c, 999, 1000, &retry));
	ck_assert(nb_credit_take(&c, 1000, 1000, &retry));
}
END_TEST

START_TEST(big_packet_passes_after_saving_up)
{
	struct nb_credit c;
	uint64_t retry = 0, now = 0;
	int waits = 0;

	/* 1000 bytes per ms: a 64 KiB packet must wait about 65 intervals, not forever. */
	nb_credit_init(&c, 1000, 1000, 0);
	while (!nb_credit_take(&c, now, 65535, &retry)) {
		ck_assert_uint_gt(retry, now);
		now = retry;
		ck_assert_int_lt(++waits, 100);
	}
	ck_assert_int_ge(waits, 60);
}
END_TEST

START_TEST(saved_credit_is_capped)
{
	struct nb_credit c;
	uint64_t retry = 0, sent = 0;

	/* After a long idle time only the burst cap is available. */
	nb_credit_init(&c, 1000, 1000, 0);
	while (nb_credit_take(&c, 10000000, 1000, &retry))
		sent += 1000;
	ck_assert_uint_le(sent, NB_CREDIT_MIN_BURST);
	ck_assert_uint_ge(sent, NB_CREDIT_MIN_BURST - 1000);
}
END_TEST

START_TEST(rate_over_time_matches)
{
	struct nb_credit c;
	uint64_t retry = 0, now = 0, sent = 0;

	/* 1 MB/s in 50 ms intervals for 2 s: 2 MB, give or take the first burst. */
	nb_credit_init(&c, 50000, 50000, 0);
	while (now < 2000000) {
		if (nb_credit_take(&c, now, 1500, &retry))
			sent += 1500;
		else
			now = retry;
	}
	ck_assert_uint_ge(sent, 1950000);
	ck_assert_uint_le(sent, 2100000);
}
END_TEST

START_TEST(parse_rate_key)
{
	uint64_t b = 0, u = 0;

	ck_assert_int_eq(nb_credit_parse("20000,20000", &b, &u), 0);
	ck_assert_uint_eq(b, 20000);
	ck_assert_uint_eq(u, 20000);
	ck_assert_int_eq(nb_credit_parse("1,0", &b, &u), -EINVAL);
	ck_assert_int_eq(nb_credit_parse("-1,5", &b, &u), -EINVAL);
	ck_assert_int_eq(nb_credit_parse("5,-1", &b, &u), -EINVAL);
	ck_assert_int_eq(nb_credit_parse("5", &b, &u), -EINVAL);
	ck_assert_int_eq(nb_credit_parse("5,5x", &b, &u), -EINVAL);
	ck_assert_int_eq(nb_credit_parse("", &b, &u), -EINVAL);
	ck_assert_int_eq(nb_credit_parse("99999999999999999999,1", &b, &u), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_credit");
	TCase *tc = tcase_create("credit");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, unlimited_always_passes);
	tcase_add_test(tc, credit_runs_out_then_returns);
	tcase_add_test(tc, big_packet_passes_after_saving_up);
	tcase_add_test(tc, saved_credit_is_capped);
	tcase_add_test(tc, rate_over_time_matches);
	tcase_add_test(tc, parse_rate_key);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
