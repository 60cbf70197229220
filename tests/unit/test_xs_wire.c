// SPDX-License-Identifier: MIT
// Check tests for xenstored wire parsing: headers, string splitting, paths, and hostile byte
// streams.
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "xs_harness.h"

START_TEST(header_limits)
{
	struct xsd_sockmsg h = { .type = XS_READ, .len = 4096 };

	ck_assert_int_eq(xs_wire_check_header(&h), XS_HDR_OK);
	h.len = 4097;
	ck_assert_int_eq(xs_wire_check_header(&h), XS_HDR_TOO_LONG);
	h.len = 0;
	h.type = XS_TYPE_COUNT;
	ck_assert_int_eq(xs_wire_check_header(&h), XS_HDR_BAD_TYPE);
	h.type = XS_WATCH_EVENT;
	ck_assert_int_eq(xs_wire_check_header(&h), XS_HDR_BAD_TYPE);
	h.type = 20; /* the removed XS_RESTRICT */
	ck_assert_int_eq(xs_wire_check_header(&h), XS_HDR_BAD_TYPE);
}
END_TEST

START_TEST(split_strings)
{
	struct xs_args a;

	ck_assert_uint_eq(xs_wire_split("a\0bc\0tail", 9, 8, &a), 2);
	ck_assert_str_eq(a.s[0], "a");
	ck_assert_str_eq(a.s[1], "bc");
	ck_assert_uint_eq(a.tail_len, 4);
	ck_assert_uint_eq(xs_wire_split("abc", 3, 8, &a), 0);
	ck_assert_uint_eq(xs_wire_split("", 0, 8, &a), 0);
}
END_TEST

START_TEST(path_rules)
{
	char out[4096];

	ck_assert(xs_wire_path_valid("/", false));
	ck_assert(xs_wire_path_valid("/a/b-c_d@e", false));
	ck_assert(!xs_wire_path_valid("/a/", false));
	ck_assert(!xs_wire_path_valid("/a//b", false));
	ck_assert(!xs_wire_path_valid("/a b", false));
	ck_assert(!xs_wire_path_valid("", false));
	ck_assert(!xs_wire_path_valid("@releaseDomain", false));
	ck_assert(xs_wire_path_valid("@releaseDomain", true));
	ck_assert_int_eq(xs_wire_canonical("x/y", 7, false, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/local/domain/7/x/y");
	ck_assert_int_eq(xs_wire_canonical("/ok", 7, false, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/ok");
	ck_assert_int_eq(xs_wire_canonical("x/", 7, false, out, sizeof(out)), -EINVAL);
}
END_TEST

START_TEST(path_length)
{
	static char p[4000], out[4096];

	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	p[3072] = '\0';
	ck_assert(xs_wire_path_valid(p, false));
	p[3072] = 'a';
	p[3073] = '\0';
	ck_assert(!xs_wire_path_valid(p, false));
	memset(p, 'a', 2049);
	p[2049] = '\0';
	ck_assert_int_eq(xs_wire_canonical(p, 1, false, out, sizeof(out)), -EINVAL);
}
END_TEST

START_TEST(child_relation)
{
	ck_assert(xs_wire_is_child("/a/b", "/a"));
	ck_assert(xs_wire_is_child("/a", "/a"));
	ck_assert(!xs_wire_is_child("/ab", "/a"));
	ck_assert(xs_wire_is_child("/x", "/"));
	ck_assert(!xs_wire_is_child("@x", "/"));
}
END_TEST

START_TEST(domid_parse)
{
	unsigned int d;

	ck_assert_int_eq(xs_wire_parse_domid("65535", &d), 0);
	ck_assert_uint_eq(d, 65535);
	ck_assert_int_eq(xs_wire_parse_domid("65536", &d), -EINVAL);
	ck_assert_int_eq(xs_wire_parse_domid("-1", &d), -EINVAL);
	ck_assert_int_eq(xs_wire_parse_domid("1x", &d), -EINVAL);
	ck_assert_int_eq(xs_wire_parse_domid("", &d), -EINVAL);
}
END_TEST

START_TEST(errnames)
{
	ck_assert_str_eq(xs_wire_errname(ENOENT), "ENOENT");
	ck_assert_str_eq(xs_wire_errname(-EAGAIN), "EAGAIN");
	ck_assert_str_eq(xs_wire_errname(E2BIG), "E2BIG");
	ck_assert_str_eq(xs_wire_errname(ENOTTY), "EIO");
}
END_TEST

START_TEST(unknown_type_is_einval)
{
	struct xs_daemon d;
	struct xs_conn *c;
	char out[64];

	xt_daemon(&d);
	c = xt_conn(&d, 0);
	ck_assert_uint_eq(xt_req(c, 999, 0, "", 0, out, sizeof(out)), XS_ERROR);
	ck_assert_str_eq(out, "EINVAL");
	ck_assert_str_eq(xt_write(c, 0, "/still", "ok"), "OK");
	xt_done(&d);
}
END_TEST

START_TEST(oversized_payload_disconnects)
{
	struct xs_daemon d;
	struct xs_conn *bad, *good;
	struct xsd_sockmsg h = { .type = XS_READ, .len = 5000 };

	xt_daemon(&d);
	bad = xt_conn(&d, 0);
	good = xt_conn(&d, 0);
	xt_feed(bad, &h, sizeof(h));
	ck_assert(xt_is_dead(bad));
	ck_assert_str_eq(xt_write(good, 0, "/x", "1"), "OK");
	xt_done(&d);
}
END_TEST

START_TEST(missing_nul_is_einval)
{
	struct xs_daemon d;
	struct xs_conn *c;
	char out[64];

	xt_daemon(&d);
	c = xt_conn(&d, 0);
	ck_assert_uint_eq(xt_req(c, XS_READ, 0, "/tool", 5, out, sizeof(out)), XS_ERROR);
	ck_assert_str_eq(out, "EINVAL");
	ck_assert_uint_eq(xt_req(c, XS_WRITE, 0, "/novalue", 8, out, sizeof(out)), XS_ERROR);
	xt_done(&d);
}
END_TEST

START_TEST(split_delivery)
{
	struct xs_daemon d;
	struct xs_conn *c;
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 77, .len = 5 };
	uint8_t buf[64];
	size_t i, n;

	xt_daemon(&d);
	c = xt_conn(&d, 0);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), "/q\0hi", 5);
	n = sizeof(h) + 5;
	/* One byte at a time: framing must hold across partial reads. */
	for (i = 0; i < n; i++)
		xt_feed(c, buf + i, 1);
	{
		char out[64];

		ck_assert_uint_eq(xt_req(c, XS_READ, 0, "/q", 3, out, sizeof(out)),
				  XS_WRITE); /* the queued WRITE reply comes first */
		ck_assert_str_eq(out, "OK");
	}
	ck_assert_str_eq(xt_read(c, 0, "/q"), "hi");
	xt_done(&d);
}
END_TEST

START_TEST(random_garbage_never_crashes)
{
	struct xs_daemon d;
	struct xs_conn *c, *good;
	uint8_t buf[8192];
	int round;
	size_t off;

	xt_daemon(&d);
	good = xt_conn(&d, 0);
	srand(42);
	for (round = 0; round < 300; round++) {
		c = xt_conn(&d, round % 3 ? 0 : 5);
		/* Well-framed messages of random types and random payloads. */
		for (off = 0; off + 16 + 64 <= sizeof(buf);) {
			struct xsd_sockmsg h = {
				.type = (uint32_t)(rand() % 26),
				.tx_id = (uint32_t)(rand() % 3),
				.len = (uint32_t)(rand() % 64),
			};
			size_t i;

			memcpy(buf + off, &h, sizeof(h));
			for (i = 0; i < h.len; i++) {
				static const char alpha[] = "/ab@\0-_1T";

				buf[off + 16 + i] = (uint8_t)alpha[rand() % 10];
			}
			off += 16 + h.len;
		}
		xt_feed(c, buf, off);
		/* And raw noise, which mostly ends in a disconnect. */
		for (off = 0; off < 256; off++)
			buf[off] = (uint8_t)rand();
		xt_feed(c, buf, 256);
	}
	ck_assert_str_eq(xt_write(good, 0, "/alive", "yes"), "OK");
	ck_assert_str_eq(xt_read(good, 0, "/alive"), "yes");
	xt_done(&d);
}
END_TEST

static Suite *xs_wire_suite(void)
{
	Suite *s = suite_create("xs_wire");
	TCase *t = tcase_create("wire");

	tcase_add_test(t, header_limits);
	tcase_add_test(t, split_strings);
	tcase_add_test(t, path_rules);
	tcase_add_test(t, path_length);
	tcase_add_test(t, child_relation);
	tcase_add_test(t, domid_parse);
	tcase_add_test(t, errnames);
	tcase_add_test(t, unknown_type_is_einval);
	tcase_add_test(t, oversized_payload_disconnects);
	tcase_add_test(t, missing_nul_is_einval);
	tcase_add_test(t, split_delivery);
	tcase_add_test(t, random_garbage_never_crashes);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(xs_wire_suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
