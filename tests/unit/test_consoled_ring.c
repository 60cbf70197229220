// SPDX-License-Identifier: MIT
/* Check suite for backends/console/cons_ring.c: the backend's half of the console ring, against
 * honest and hostile guests. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../backends/console/cons_ring.h"

/* Exactly one interface on the heap, so ASan sees any stray access. */
static struct xencons_interface *ring_new(void)
{
	struct xencons_interface *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	return r;
}

/* The guest's side of out[]: append LEN bytes and publish them. */
static void guest_put(struct xencons_interface *r, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		r->out[MASK_XENCONS_IDX(r->out_prod + i, r->out)] = s[i];
	__atomic_store_n(&r->out_prod, r->out_prod + (uint32_t)len, __ATOMIC_RELEASE);
}

START_TEST(read_empty)
{
	struct xencons_interface *r = ring_new();
	char buf[16];
	size_t len = 99;

	ck_assert_int_eq(cons_ring_read_out(r, buf, sizeof(buf), &len, NULL, NULL), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(r->out_cons, 0);
	free(r);
}
END_TEST

START_TEST(read_simple)
{
	struct xencons_interface *r = ring_new();
	char buf[64];
	size_t len;

	guest_put(r, "hello\n", 6);
	ck_assert_int_eq(cons_ring_read_out(r, buf, sizeof(buf), &len, NULL, NULL), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(buf, "hello\n", 6);
	ck_assert_uint_eq(r->out_cons, 6);
	free(r);
}
END_TEST

START_TEST(read_wraps_around_the_page)
{
	struct xencons_interface *r = ring_new();
	char buf[64];
	size_t len;

	r->out_cons = r->out_prod = CONS_RING_OUT_SIZE - 3;
	guest_put(r, "abcdefgh", 8);
	ck_assert_int_eq(cons_ring_read_out(r, buf, sizeof(buf), &len, NULL, NULL), 0);
	ck_assert_uint_eq(len, 8);
	ck_assert_mem_eq(buf, "abcdefgh", 8);
	ck_assert_mem_eq(r->out, "defgh", 5);
	free(r);
}
END_TEST

START_TEST(read_wraps_the_32bit_index)
{
	struct xencons_interface *r = ring_new();
	char buf[64];
	size_t len;

	r->out_cons = r->out_prod = 0xfffffffcu;
	guest_put(r, "0123456789", 10);
	ck_assert_uint_eq(r->out_prod, 6);
	ck_assert_int_eq(cons_ring_read_out(r, buf, sizeof(buf), &len, NULL, NULL), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_mem_eq(buf, "0123456789", 10);
	ck_assert_uint_eq(r->out_cons, 6);
	free(r);
}
END_TEST

START_TEST(read_partial_when_buffer_small)
{
	struct xencons_interface *r = ring_new();
	char buf[4];
	size_t len;

	guest_put(r, "abcdef", 6);
	ck_assert_int_eq(cons_ring_read_out(r, buf, sizeof(buf), &len, NULL, NULL), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(buf, "abcd", 4);
	ck_assert_uint_eq(r->out_cons, 4);
	ck_assert_int_eq(cons_ring_read_out(r, buf, sizeof(buf), &len, NULL, NULL), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(buf, "ef", 2);
	free(r);
}
END_TEST

START_TEST(read_full_ring)
{
	struct xencons_interface *r = ring_new();
	static char want[CONS_RING_OUT_SIZE], buf[CONS_RING_OUT_SIZE];
	size_t len;

	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (char)('a' + i % 26);
	r->out_cons = r->out_prod = 1000;
	guest_put(r, want, sizeof(want));
	ck_assert_int_eq(cons_ring_read_out(r, buf, sizeof(buf), &len, NULL, NULL), 0);
	ck_assert_uint_eq(len, CONS_RING_OUT_SIZE);
	ck_assert_mem_eq(buf, want, sizeof(want));
	free(r);
}
END_TEST

START_TEST(read_rogue_distance_refused)
{
	struct xencons_interface *r = ring_new();
	char buf[64];
	size_t len = 7;
	uint32_t bc = 0, bp = 0;

	r->out_cons = 10;
	r->out_prod = 10 + CONS_RING_OUT_SIZE + 1;
	ck_assert_int_eq(cons_ring_read_out(r, buf, sizeof(buf), &len, &bc, &bp), -EPROTO);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(bc, 10);
	ck_assert_uint_eq(bp, 10 + CONS_RING_OUT_SIZE + 1);
	ck_assert_uint_eq(r->out_cons, 10); /* untouched */
	free(r);
}
END_TEST

START_TEST(read_rogue_prod_behind_cons)
{
	struct xencons_interface *r = ring_new();
	char buf[64];
	size_t len;

	r->out_cons = 100;
	r->out_prod = 99;
	ck_assert_int_eq(cons_ring_read_out(r, buf, sizeof(buf), &len, NULL, NULL), -EPROTO);
	ck_assert_uint_eq(r->out_cons, 100);
	free(r);
}
END_TEST

START_TEST(write_in_simple)
{
	struct xencons_interface *r = ring_new();
	size_t done;

	ck_assert_int_eq(cons_ring_write_in(r, "ls\n", 3, &done, NULL, NULL), 0);
	ck_assert_uint_eq(done, 3);
	ck_assert_uint_eq(r->in_prod, 3);
	ck_assert_mem_eq(r->in, "ls\n", 3);
	free(r);
}
END_TEST

START_TEST(write_in_respects_space)
{
	struct xencons_interface *r = ring_new();
	static char data[CONS_RING_IN_SIZE + 100];
	size_t done;

	memset(data, 'x', sizeof(data));
	r->in_cons = r->in_prod = CONS_RING_IN_SIZE - 5;
	ck_assert_int_eq(cons_ring_write_in(r, data, sizeof(data), &done, NULL, NULL), 0);
	ck_assert_uint_eq(done, CONS_RING_IN_SIZE);
	ck_assert_uint_eq(r->in_prod, 2 * CONS_RING_IN_SIZE - 5);
	/* Full: nothing more, in_prod unchanged. */
	ck_assert_int_eq(cons_ring_write_in(r, data, 10, &done, NULL, NULL), 0);
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(r->in_prod, 2 * CONS_RING_IN_SIZE - 5);
	/* The guest takes 10: exactly 10 more fit, wrapping. */
	r->in_cons += 10;
	ck_assert_int_eq(cons_ring_write_in(r, "0123456789abc", 13, &done, NULL, NULL), 0);
	ck_assert_uint_eq(done, 10);
	ck_assert_mem_eq(r->in + CONS_RING_IN_SIZE - 5, "01234", 5);
	ck_assert_mem_eq(r->in, "56789", 5);
	free(r);
}
END_TEST

START_TEST(write_in_rogue_cons_refused)
{
	struct xencons_interface *r = ring_new();
	size_t done = 9;
	uint32_t bc = 0, bp = 0;

	r->in_prod = 0;
	r->in_cons = 0x80000000u;
	ck_assert_int_eq(cons_ring_write_in(r, "a", 1, &done, &bc, &bp), -EPROTO);
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(bc, 0x80000000u);
	ck_assert_uint_eq(bp, 0);
	ck_assert_uint_eq(r->in_prod, 0);
	free(r);
}
END_TEST

/* Random indices from a hostile guest: refused or bounded, never out of the page. */
START_TEST(hostile_random_indices)
{
	struct xencons_interface *r = ring_new();
	char buf[CONS_RING_OUT_SIZE];
	unsigned int seed = 12345;
	int refused = 0, served = 0;

	for (int i = 0; i < 200000; i++) {
		size_t len, done;
		uint32_t a = (uint32_t)rand_r(&seed) * 2654435761u ^ (uint32_t)rand_r(&seed);
		uint32_t b = (uint32_t)rand_r(&seed);
		size_t cap = (size_t)(rand_r(&seed) % (int)sizeof(buf)) + 1;
		int ret;

		r->out_cons = a;
		r->out_prod = (i & 1) ? a + b % 4200 : b;
		ret = cons_ring_read_out(r, buf, cap, &len, NULL, NULL);
		ck_assert(ret == 0 || ret == -EPROTO);
		if (ret == 0) {
			ck_assert_uint_le(len, cap);
			ck_assert_uint_le(len, CONS_RING_OUT_SIZE);
			served++;
		} else {
			refused++;
		}
		r->in_prod = a;
		r->in_cons = (i & 2) ? a - b % 2100 : b;
		ret = cons_ring_write_in(r, buf, cap, &done, NULL, NULL);
		ck_assert(ret == 0 || ret == -EPROTO);
		if (ret == 0)
			ck_assert_uint_le(done, CONS_RING_IN_SIZE);
	}
	ck_assert_int_gt(refused, 0);
	ck_assert_int_gt(served, 0);
	free(r);
}
END_TEST

/* A guest thread streams a numbered pattern; the backend sees it in order. */
#define STREAM_BYTES (4u << 20)

static void *stream_guest(void *arg)
{
	struct xencons_interface *r = arg;
	uint32_t sent = 0;

	while (sent < STREAM_BYTES) {
		uint32_t cons = __atomic_load_n(&r->out_cons, __ATOMIC_ACQUIRE);
		uint32_t prod = r->out_prod;
		uint32_t space = (uint32_t)CONS_RING_OUT_SIZE - (prod - cons);

		while (space-- && sent < STREAM_BYTES) {
			r->out[MASK_XENCONS_IDX(prod, r->out)] = (char)(sent * 7 + 3);
			prod++;
			sent++;
		}
		__atomic_store_n(&r->out_prod, prod, __ATOMIC_RELEASE);
	}
	return NULL;
}

START_TEST(stream_in_order_across_threads)
{
	struct xencons_interface *r = ring_new();
	char buf[CONS_RING_OUT_SIZE];
	uint32_t got = 0;
	pthread_t t;

	r->out_cons = r->out_prod = 0xfffff000u;
	ck_assert_int_eq(pthread_create(&t, NULL, stream_guest, r), 0);
	while (got < STREAM_BYTES) {
		size_t len;

		ck_assert_int_eq(cons_ring_read_out(r, buf, 333, &len, NULL, NULL), 0);
		for (size_t i = 0; i < len; i++, got++)
			ck_assert_int_eq(buf[i], (char)(got * 7 + 3));
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	free(r);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("consoled_ring");
	TCase *tc = tcase_create("ring");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, read_empty);
	tcase_add_test(tc, read_simple);
	tcase_add_test(tc, read_wraps_around_the_page);
	tcase_add_test(tc, read_wraps_the_32bit_index);
	tcase_add_test(tc, read_partial_when_buffer_small);
	tcase_add_test(tc, read_full_ring);
	tcase_add_test(tc, read_rogue_distance_refused);
	tcase_add_test(tc, read_rogue_prod_behind_cons);
	tcase_add_test(tc, write_in_simple);
	tcase_add_test(tc, write_in_respects_space);
	tcase_add_test(tc, write_in_rogue_cons_refused);
	tcase_add_test(tc, hostile_random_indices);
	tcase_add_test(tc, stream_in_order_across_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
