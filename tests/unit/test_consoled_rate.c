// SPDX-License-Identifier: MIT
/* Check suite for include/sv/rate.h: the token bucket behind xenconsoled's output rate.
 */
#include <check.h>
#include <stdlib.h>

#include "sv/rate.h"

#define S 1000000000ULL

START_TEST(starts_full_and_refills_at_the_rate)
{
	struct sv_rate r;

	sv_rate_init(&r, 1000, 4000, 7 * S);
	ck_assert_uint_eq(sv_rate_avail(&r, 7 * S), 4000);
	sv_rate_take(&r, 4000);
	ck_assert_uint_eq(sv_rate_avail(&r, 7 * S), 0);
	ck_assert_uint_eq(sv_rate_avail(&r, 8 * S), 1000);
	ck_assert_uint_eq(sv_rate_avail(&r, 100 * S), 4000); /* never past the burst */
}
END_TEST

START_TEST(small_steps_lose_nothing)
{
	struct sv_rate r;
	uint64_t got = 0, t = 0;

	sv_rate_init(&r, 1000, 1000, 0);
	sv_rate_take(&r, 1000);
	/* 10000 steps of 100 us: 1 s, 1000 tokens, though each step alone is 0.1 of one. */
	for (int i = 0; i < 10000; i++) {
		t += 100000;
		uint64_t a = sv_rate_avail(&r, t);

		got += a;
		sv_rate_take(&r, a);
	}
	ck_assert_uint_eq(got, 1000);
}
END_TEST

START_TEST(wait_says_when)
{
	struct sv_rate r;

	sv_rate_init(&r, 4096, 8192, 0);
	ck_assert_uint_eq(sv_rate_wait_ns(&r, 1024), 0);
	sv_rate_take(&r, 8192);
	ck_assert_uint_eq(sv_rate_wait_ns(&r, 1024), S / 4);
	ck_assert_uint_eq(sv_rate_wait_ns(&r, 1 << 20), 2 * S); /* capped at the burst */
	/* A clock that goes backwards adds nothing and takes nothing. */
	ck_assert_uint_eq(sv_rate_avail(&r, 0), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("consoled_rate");
	TCase *tc = tcase_create("rate");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, starts_full_and_refills_at_the_rate);
	tcase_add_test(tc, small_steps_lose_nothing);
	tcase_add_test(tc, wait_says_when);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
