// SPDX-License-Identifier: MIT
/* Check suite for backends/console/cons_buf.c: the bounded byte FIFO behind history, client output
 * and input queues. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../backends/console/cons_buf.h"

/* Everything held, oldest first, as a NUL-terminated string. */
static char *contents(const struct cons_buf *b)
{
	char *s = calloc(1, cons_buf_len(b) + 1);

	ck_assert_ptr_nonnull(s);
	cons_buf_copy_out(b, s);
	return s;
}

START_TEST(init_zero_refused)
{
	struct cons_buf b;

	ck_assert_int_eq(cons_buf_init(&b, 0), -EINVAL);
	cons_buf_fini(&b);
}
END_TEST

START_TEST(push_stops_when_full)
{
	struct cons_buf b;
	char *s;

	ck_assert_int_eq(cons_buf_init(&b, 8), 0);
	ck_assert_uint_eq(cons_buf_push(&b, "abcde", 5), 5);
	ck_assert_uint_eq(cons_buf_push(&b, "fghij", 5), 3);
	ck_assert_uint_eq(cons_buf_space(&b), 0);
	ck_assert_uint_eq(cons_buf_push(&b, "k", 1), 0);
	s = contents(&b);
	ck_assert_str_eq(s, "abcdefgh");
	free(s);
	cons_buf_fini(&b);
}
END_TEST

START_TEST(peek_consume_wrap)
{
	struct cons_buf b;
	size_t contig;
	const char *p;
	char *s;

	ck_assert_int_eq(cons_buf_init(&b, 8), 0);
	cons_buf_push(&b, "abcdef", 6);
	cons_buf_consume(&b, 4);
	cons_buf_push(&b, "ghijk", 5); /* wraps: "efghijk" */
	p = cons_buf_peek(&b, &contig);
	ck_assert_uint_eq(contig, 4);
	ck_assert_mem_eq(p, "efgh", 4);
	s = contents(&b);
	ck_assert_str_eq(s, "efghijk");
	free(s);
	cons_buf_consume(&b, 4);
	p = cons_buf_peek(&b, &contig);
	ck_assert_uint_eq(contig, 3);
	ck_assert_mem_eq(p, "ijk", 3);
	cons_buf_consume(&b, 100); /* more than held: empties */
	ck_assert(cons_buf_empty(&b));
	p = cons_buf_peek(&b, &contig);
	ck_assert_uint_eq(contig, 0);
	cons_buf_fini(&b);
}
END_TEST

START_TEST(overwrite_keeps_newest)
{
	struct cons_buf b;
	char *s;

	ck_assert_int_eq(cons_buf_init(&b, 8), 0);
	cons_buf_push_overwrite(&b, "abcdef", 6);
	cons_buf_push_overwrite(&b, "ghij", 4);
	s = contents(&b);
	ck_assert_str_eq(s, "cdefghij");
	free(s);
	cons_buf_push_overwrite(&b, "0123456789XY", 12); /* longer than cap */
	s = contents(&b);
	ck_assert_str_eq(s, "456789XY");
	free(s);
	cons_buf_fini(&b);
}
END_TEST

/* Random operations against a simple model string. */
START_TEST(random_against_model)
{
	struct cons_buf b;
	char model[4096] = "", chunk[100];
	size_t mlen = 0;
	unsigned int seed = 7;

	ck_assert_int_eq(cons_buf_init(&b, 97), 0);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand_r(&seed) % 60);
		int op = rand_r(&seed) % 3;

		for (size_t j = 0; j < n; j++)
			chunk[j] = (char)('a' + rand_r(&seed) % 26);
		if (op == 0) {
			size_t took = cons_buf_push(&b, chunk, n);
			size_t want = n < 97 - mlen ? n : 97 - mlen;

			ck_assert_uint_eq(took, want);
			memcpy(model + mlen, chunk, took);
			mlen += took;
		} else if (op == 1) {
			cons_buf_push_overwrite(&b, chunk, n);
			memcpy(model + mlen, chunk, n);
			mlen += n;
			if (mlen > 97) {
				memmove(model, model + mlen - 97, 97);
				mlen = 97;
			}
		} else {
			size_t c = n < mlen ? n : mlen;

			cons_buf_consume(&b, n);
			memmove(model, model + c, mlen - c);
			mlen -= c;
		}
		model[mlen] = '\0';
		ck_assert_uint_eq(cons_buf_len(&b), mlen);
		{
			char *s = contents(&b);

			ck_assert_str_eq(s, model);
			free(s);
		}
	}
	cons_buf_fini(&b);
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("consoled_buf");
	TCase *tc = tcase_create("buf");

	tcase_add_test(tc, init_zero_refused);
	tcase_add_test(tc, push_stops_when_full);
	tcase_add_test(tc, peek_consume_wrap);
	tcase_add_test(tc, overwrite_keeps_newest);
	tcase_add_test(tc, random_against_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(buf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
