// SPDX-License-Identifier: MIT
// Check tests for xenstored quotas: defaults, each refusal and its error, run-time changes, dom0
// exemption, flow control.
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_harness.h"
#include "xs_main.h"

static struct xs_daemon d;
static struct xs_conn *dom0, *g;

static void setup(void)
{
	xt_daemon(&d);
	dom0 = xt_conn(&d, 0);
	g = xt_conn(&d, 3);
	ck_assert_str_eq(xt_strs(dom0, XS_INTRODUCE, 0, 3, "3", "1", "1"), "OK");
	ck_assert_str_eq(xt_write(dom0, 0, "/local/domain/3", ""), "OK");
	ck_assert_str_eq(xt_strs(dom0, XS_SET_PERMS, 0, 2, "/local/domain/3", "n3"), "OK");
}

static void teardown(void)
{
	xt_done(&d);
}

START_TEST(defaults_match_c_xenstored)
{
	ck_assert_int_eq(d.quota.val[XS_Q_NODES], 1000);
	ck_assert_int_eq(d.quota.val[XS_Q_WATCHES], 128);
	ck_assert_int_eq(d.quota.val[XS_Q_OUTSTANDING], 20);
	ck_assert_int_eq(d.quota.val[XS_Q_TRANSACTIONS], 10);
	ck_assert_int_eq(d.quota.val[XS_Q_NODE_SIZE], 2048);
	ck_assert_int_eq(d.quota.val[XS_Q_PERMS], 5);
}
END_TEST

START_TEST(node_count)
{
	char p[64];
	int i;

	ck_assert_str_eq(xt_strs(dom0, XS_CONTROL, 0, 4, "quota", "set", "nodes", "10"), "OK");
	/* /local/domain/3 itself is owned by dom3: 9 more fit. */
	for (i = 0; i < 9; i++) {
		snprintf(p, sizeof(p), "n%d", i);
		ck_assert_str_eq(xt_write(g, 0, p, "x"), "OK");
	}
	ck_assert_str_eq(xt_write(g, 0, "one-too-many", "x"), "ENOSPC");
	ck_assert_str_eq(xt_write(g, 0, "n0", "rewrite is fine"), "OK");
	ck_assert_str_eq(xt_simple(g, XS_RM, 0, "n0", NULL), "OK");
	ck_assert_str_eq(xt_write(g, 0, "fits-again", "x"), "OK");
	/* dom0 is exempt. */
	ck_assert_str_eq(xt_write(dom0, 0, "/local/domain/3/by-dom0", "x"), "OK");
}
END_TEST

START_TEST(node_size)
{
	static char big[3000];

	memset(big, 'v', 2049);
	ck_assert_str_eq(xt_write(g, 0, "big", big), "ENOSPC");
	big[2048] = '\0';
	ck_assert_str_eq(xt_write(g, 0, "big", big), "OK");
	memset(big, 'v', 2999);
	ck_assert_str_eq(xt_write(dom0, 0, "/local/domain/3/huge", big), "OK");
}
END_TEST

START_TEST(watches)
{
	char tok[32];
	int i;

	ck_assert_str_eq(xt_strs(dom0, XS_CONTROL, 0, 4, "quota", "set", "watches", "3"), "OK");
	for (i = 0; i < 3; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		ck_assert_str_eq(xt_simple(g, XS_WATCH, 0, "w", tok), "OK");
	}
	ck_assert_str_eq(xt_simple(g, XS_WATCH, 0, "w", "t9"), "E2BIG");
}
END_TEST

START_TEST(transactions)
{
	int i;

	for (i = 0; i < 10; i++)
		ck_assert_str_ne(xt_simple(g, XS_TRANSACTION_START, 0, "", NULL), "ENOSPC");
	ck_assert_str_eq(xt_simple(g, XS_TRANSACTION_START, 0, "", NULL), "ENOSPC");
}
END_TEST

START_TEST(permissions_per_node)
{
	ck_assert_str_eq(xt_write(g, 0, "p", ""), "OK");
	ck_assert_str_eq(
	    xt_strs(g, XS_SET_PERMS, 0, 7, "local/domain/3/p", "n3", "r1", "r2", "r4", "r5", "r6"),
	    "ENOSPC");
	ck_assert_str_eq(
	    xt_strs(g, XS_SET_PERMS, 0, 6, "/local/domain/3/p", "n3", "r1", "r2", "r4", "r5"),
	    "OK");
}
END_TEST

START_TEST(outstanding_requests_throttle)
{
	struct xsd_sockmsg h = { .type = XS_READ, .len = 2 };
	uint8_t buf[100 * 18];
	int i;

	ck_assert_str_eq(xt_strs(dom0, XS_CONTROL, 0, 4, "quota", "set", "outstanding", "4"), "OK");
	for (i = 0; i < 100; i++) {
		h.req_id = (uint32_t)i;
		memcpy(buf + i * 18, &h, sizeof(h));
		memcpy(buf + i * 18 + 16, "a", 2);
	}
	/* A pipelined flood from a client that does not read its replies. */
	xt_block_output(g, 1);
	xt_feed(g, buf, sizeof(buf));
	ck_assert(!xt_is_dead(g));
	ck_assert(g->throttled);
	ck_assert(g->quota_logged);
	ck_assert_uint_eq(g->out_msgs, 4);
	ck_assert_int_eq(xt_nreplies(g), 0);
	/* Once it reads, the rest is served. */
	xt_block_output(g, 0);
	xt_feed(g, NULL, 0);
	ck_assert_int_eq(xt_nreplies(g), 100);
	ck_assert(!g->throttled);
}
END_TEST

START_TEST(dom0_not_throttled_by_outstanding)
{
	struct xsd_sockmsg h = { .type = XS_READ, .len = 2 };
	uint8_t buf[100 * 18];
	int i;

	for (i = 0; i < 100; i++) {
		h.req_id = (uint32_t)i;
		memcpy(buf + i * 18, &h, sizeof(h));
		memcpy(buf + i * 18 + 16, "/", 2);
	}
	xt_block_output(dom0, 1);
	xt_feed(dom0, buf, sizeof(buf));
	ck_assert_uint_eq(dom0->out_msgs, 100);
	xt_block_output(dom0, 0);
	xt_feed(dom0, NULL, 0);
	ck_assert_int_eq(xt_nreplies(dom0), 100);
}
END_TEST

START_TEST(refusals_are_logged)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(mem);
	if (d.log)
		fclose(d.log);
	d.log = mem;
	ck_assert_str_eq(xt_strs(dom0, XS_CONTROL, 0, 4, "quota", "set", "watches", "1"), "OK");
	ck_assert_str_eq(xt_simple(g, XS_WATCH, 0, "a", "1"), "OK");
	ck_assert_str_eq(xt_simple(g, XS_WATCH, 0, "b", "2"), "E2BIG");
	ck_assert_str_eq(xt_write(g, 0, "big", "0123456789"), "OK");
	ck_assert_str_eq(xt_strs(dom0, XS_CONTROL, 0, 4, "quota", "set", "node-size", "4"), "OK");
	ck_assert_str_eq(xt_write(g, 0, "big", "0123456789"), "ENOSPC");
	fflush(mem);
	ck_assert_ptr_nonnull(strstr(text, "domain 3 refused: watches quota 1"));
	ck_assert_ptr_nonnull(strstr(text, "domain 3 refused: node-size quota 4"));
	fclose(mem);
	d.log = NULL;
	free(text);
}
END_TEST

START_TEST(quota_per_domain_report)
{
	const char *r;

	ck_assert_str_eq(xt_write(g, 0, "x", "1"), "OK");
	r = xt_simple(dom0, XS_CONTROL, 0, "quota", "3");
	ck_assert_ptr_nonnull(strstr(r, "Domain 3:"));
	ck_assert_ptr_nonnull(strstr(r, "nodes            :        2"));
	ck_assert_str_eq(xt_simple(dom0, XS_CONTROL, 0, "quota", "44"), "ENOENT");
}
END_TEST

static Suite *xs_suite(void)
{
	Suite *s = suite_create("xs_quota");
	TCase *t = tcase_create("quota");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, defaults_match_c_xenstored);
	tcase_add_test(t, node_count);
	tcase_add_test(t, node_size);
	tcase_add_test(t, watches);
	tcase_add_test(t, transactions);
	tcase_add_test(t, permissions_per_node);
	tcase_add_test(t, outstanding_requests_throttle);
	tcase_add_test(t, dom0_not_throttled_by_outstanding);
	tcase_add_test(t, refusals_are_logged);
	tcase_add_test(t, quota_per_domain_report);
	suite_add_tcase(s, t);
	return s;
}
