// SPDX-License-Identifier: MIT
// Check tests for xenstored transactions: isolation, commit, abort, conflicts (EAGAIN), watches on
// commit.
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_harness.h"
#include "xs_main.h"

static struct xs_daemon d;
static struct xs_conn *a, *b;
static char path[4096], token[4096];

static void setup(void)
{
	xt_daemon(&d);
	a = xt_conn(&d, 0);
	b = xt_conn(&d, 0);
}

static void teardown(void)
{
	xt_done(&d);
}

static uint32_t start(struct xs_conn *c)
{
	const char *r = xt_simple(c, XS_TRANSACTION_START, 0, "", NULL);
	uint32_t id = (uint32_t)strtoul(r, NULL, 10);

	ck_assert_uint_ne(id, 0);
	return id;
}

static const char *end(struct xs_conn *c, uint32_t tx, const char *how)
{
	return xt_simple(c, XS_TRANSACTION_END, tx, how, NULL);
}

START_TEST(isolated_until_commit)
{
	uint32_t t = start(a);

	ck_assert_str_eq(xt_write(a, t, "/x/y", "1"), "OK");
	ck_assert_str_eq(xt_read(a, t, "/x/y"), "1");
	ck_assert_str_eq(xt_read(b, 0, "/x/y"), "ENOENT");
	ck_assert_str_eq(end(a, t, "T"), "OK");
	ck_assert_str_eq(xt_read(b, 0, "/x/y"), "1");
}
END_TEST

START_TEST(abort_discards)
{
	uint32_t t = start(a);

	ck_assert_str_eq(xt_write(a, t, "/gone", "1"), "OK");
	ck_assert_str_eq(end(a, t, "F"), "OK");
	ck_assert_str_eq(xt_read(b, 0, "/gone"), "ENOENT");
	ck_assert_str_eq(end(a, t, "T"), "ENOENT");
}
END_TEST

START_TEST(conflict_on_read_node)
{
	uint32_t t;

	ck_assert_str_eq(xt_write(a, 0, "/c", "0"), "OK");
	t = start(a);
	ck_assert_str_eq(xt_read(a, t, "/c"), "0");
	ck_assert_str_eq(xt_write(a, t, "/c", "1"), "OK");
	ck_assert_str_eq(xt_write(b, 0, "/c", "2"), "OK");
	ck_assert_str_eq(end(a, t, "T"), "EAGAIN");
	ck_assert_str_eq(xt_read(b, 0, "/c"), "2");
}
END_TEST

START_TEST(rereads_see_first_value)
{
	uint32_t t;

	ck_assert_str_eq(xt_write(a, 0, "/s", "a"), "OK");
	t = start(a);
	ck_assert_str_eq(xt_read(a, t, "/s"), "a");
	ck_assert_str_eq(xt_write(b, 0, "/s", "b"), "OK");
	ck_assert_str_eq(xt_read(a, t, "/s"), "a"); /* as Xen's test-xenstore wants */
	ck_assert_str_eq(xt_write(a, t, "/s", "c"), "OK");
	ck_assert_str_eq(xt_read(a, t, "/s"), "c");
	ck_assert_str_eq(end(a, t, "T"), "EAGAIN");
	ck_assert_str_eq(xt_read(b, 0, "/s"), "b");
}
END_TEST

START_TEST(no_conflict_on_unrelated_node)
{
	uint32_t t;

	ck_assert_str_eq(xt_write(a, 0, "/c", "0"), "OK");
	t = start(a);
	ck_assert_str_eq(xt_read(a, t, "/c"), "0");
	ck_assert_str_eq(xt_write(b, 0, "/other", "2"), "OK");
	ck_assert_str_eq(end(a, t, "T"), "OK");
}
END_TEST

START_TEST(conflict_on_created_sibling_dir)
{
	uint32_t t;

	ck_assert_str_eq(xt_write(a, 0, "/dir", ""), "OK");
	t = start(a);
	ck_assert_str_eq(xt_write(a, t, "/dir/mine", "1"), "OK");
	ck_assert_str_eq(xt_write(b, 0, "/dir/theirs", "1"), "OK");
	/* Both changed /dir's child list: the second commit must retry. */
	ck_assert_str_eq(end(a, t, "T"), "EAGAIN");
}
END_TEST

START_TEST(conflict_on_missing_node_created)
{
	uint32_t t = start(a);

	ck_assert_str_eq(xt_read(a, t, "/later"), "ENOENT");
	ck_assert_str_eq(xt_write(b, 0, "/later", "x"), "OK");
	ck_assert_str_eq(xt_write(a, t, "/z", "1"), "OK");
	ck_assert_str_eq(end(a, t, "T"), "EAGAIN");
}
END_TEST

START_TEST(rm_inside_transaction)
{
	uint32_t t;

	ck_assert_str_eq(xt_write(a, 0, "/r/s/t", "1"), "OK");
	t = start(a);
	ck_assert_str_eq(xt_simple(a, XS_RM, t, "/r", NULL), "OK");
	ck_assert_str_eq(xt_read(a, t, "/r/s/t"), "ENOENT");
	ck_assert_str_eq(xt_read(b, 0, "/r/s/t"), "1");
	ck_assert_str_eq(xt_write(a, t, "/r/new", "2"), "OK");
	ck_assert_str_eq(end(a, t, "T"), "OK");
	ck_assert_str_eq(xt_read(b, 0, "/r/s"), "ENOENT");
	ck_assert_str_eq(xt_read(b, 0, "/r/new"), "2");
	ck_assert_str_eq(xt_simple(a, XS_CONTROL, 0, "check", NULL), "OK");
}
END_TEST

START_TEST(watches_fire_on_commit_only)
{
	uint32_t t;

	ck_assert_str_eq(xt_simple(b, XS_WATCH, 0, "/w", "tok"), "OK");
	ck_assert_int_eq(xt_event(b, path, token), 1);
	t = start(a);
	ck_assert_str_eq(xt_write(a, t, "/w/1", "1"), "OK");
	ck_assert_int_eq(xt_nevents(b), 0);
	ck_assert_str_eq(end(a, t, "T"), "OK");
	ck_assert_int_eq(xt_event(b, path, token), 1);
	ck_assert_str_eq(path, "/w/1");
	t = start(a);
	ck_assert_str_eq(xt_write(a, t, "/w/2", "1"), "OK");
	ck_assert_str_eq(end(a, t, "F"), "OK");
	ck_assert_int_eq(xt_nevents(b), 0);
}
END_TEST

START_TEST(no_nesting_and_bad_ids)
{
	uint32_t t = start(a);

	ck_assert_str_eq(xt_simple(a, XS_TRANSACTION_START, t, "", NULL), "EBUSY");
	ck_assert_str_eq(xt_read(a, t + 1000, "/"), "ENOENT");
	ck_assert_str_eq(xt_read(b, t, "/"), "ENOENT"); /* other connection's */
	ck_assert_str_eq(end(a, t, "X"), "EINVAL");
	ck_assert_str_eq(end(a, t, "F"), "OK");
}
END_TEST

START_TEST(counter_increments_serialise)
{
	int i, done = 0;

	ck_assert_str_eq(xt_write(a, 0, "/n", "0"), "OK");
	/* Interleave two read-modify-write loops; retries make it exact. */
	for (i = 0; i < 50; i++) {
		struct xs_conn *c = (i & 1) ? a : b;

		for (;;) {
			uint32_t t = start(c);
			char v[32];
			int n = atoi(xt_read(c, t, "/n"));

			if (i % 5 == 0)
				ck_assert_str_eq(xt_write(i & 1 ? b : a, 0, "/bump", "x"), "OK");
			snprintf(v, sizeof(v), "%d", n + 1);
			ck_assert_str_eq(xt_write(c, t, "/n", v), "OK");
			if (strcmp(end(c, t, "T"), "OK") == 0)
				break;
		}
		done++;
	}
	ck_assert_int_eq(atoi(xt_read(a, 0, "/n")), done);
}
END_TEST

START_TEST(release_drops_transactions)
{
	struct xs_conn *g = xt_conn(&d, 9);
	uint32_t t;

	ck_assert_str_eq(xt_strs(a, XS_INTRODUCE, 0, 3, "9", "1", "1"), "OK");
	t = start(g);
	ck_assert_uint_eq(g->ntxns, 1);
	ck_assert_str_eq(xt_simple(a, XS_RELEASE, 0, "9", NULL), "OK");
	ck_assert_uint_eq(g->ntxns, 0);
	ck_assert_str_eq(end(g, t, "T"), "ENOENT");
}
END_TEST

static Suite *xs_suite(void)
{
	Suite *s = suite_create("xs_txn");
	TCase *t = tcase_create("txn");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, isolated_until_commit);
	tcase_add_test(t, abort_discards);
	tcase_add_test(t, conflict_on_read_node);
	tcase_add_test(t, rereads_see_first_value);
	tcase_add_test(t, no_conflict_on_unrelated_node);
	tcase_add_test(t, conflict_on_created_sibling_dir);
	tcase_add_test(t, conflict_on_missing_node_created);
	tcase_add_test(t, rm_inside_transaction);
	tcase_add_test(t, watches_fire_on_commit_only);
	tcase_add_test(t, no_nesting_and_bad_ids);
	tcase_add_test(t, counter_increments_serialise);
	tcase_add_test(t, release_drops_transactions);
	suite_add_tcase(s, t);
	return s;
}
