// SPDX-License-Identifier: MIT
/* Check suite for backends/console/cons_proto.c: the "attach <domid>" request line of
 * xenconsoled.sock. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../backends/console/cons_proto.h"

static int parse(const char *s, size_t len, struct cons_proto_req *req, size_t *used,
		 const char **err)
{
	*used = 0;
	*err = NULL;
	return cons_proto_parse(s, len, req, used, err);
}

START_TEST(attach_ok)
{
	struct cons_proto_req req;
	const char *err;
	size_t used;

	ck_assert_int_eq(parse("attach 7\n", 9, &req, &used, &err), 1);
	ck_assert_int_eq(req.cmd, CONS_PROTO_ATTACH);
	ck_assert_uint_eq(req.domid, 7);
	ck_assert_uint_eq(used, 9);
	ck_assert_int_eq(parse("attach 32751\r\n", 14, &req, &used, &err), 1);
	ck_assert_uint_eq(req.domid, 32751);
	ck_assert_uint_eq(used, 14);
}
END_TEST

START_TEST(input_after_line_left)
{
	struct cons_proto_req req;
	const char *err;
	size_t used;
	const char msg[] = "attach 3\nls -l\n";

	ck_assert_int_eq(parse(msg, sizeof(msg) - 1, &req, &used, &err), 1);
	ck_assert_uint_eq(used, 9);
	ck_assert_str_eq(msg + used, "ls -l\n");
}
END_TEST

START_TEST(partial_needs_more)
{
	struct cons_proto_req req;
	const char *err;
	size_t used;

	ck_assert_int_eq(parse("", 0, &req, &used, &err), 0);
	ck_assert_int_eq(parse("att", 3, &req, &used, &err), 0);
	ck_assert_int_eq(parse("attach 12", 9, &req, &used, &err), 0);
}
END_TEST

static void bad(const char *s, int want)
{
	struct cons_proto_req req;
	const char *err;
	size_t used;

	ck_assert_msg(parse(s, strlen(s), &req, &used, &err) == want, "'%s' did not give %d", s,
		      want);
	ck_assert_ptr_nonnull(err);
	ck_assert_uint_gt(strlen(err), 0);
}

START_TEST(malformed_refused)
{
	bad("\n", -EINVAL);
	bad("attach\n", -EINVAL);
	bad("attach \n", -EINVAL);
	bad("ATTACH 1\n", -EINVAL);
	bad("attach  1\n", -EINVAL);
	bad("attach -1\n", -EINVAL);
	bad("attach +1\n", -EINVAL);
	bad("attach 01\n", -EINVAL);
	bad("attach 1 \n", -EINVAL);
	bad("attach 0x10\n", -EINVAL);
	bad("detach 1\n", -EINVAL);
	bad("attach 99999999999\n", -EINVAL);
}
END_TEST

START_TEST(domid_range)
{
	bad("attach 0\n", -ERANGE);
	bad("attach 32752\n", -ERANGE);
	bad("attach 4294967295\n", -ERANGE);
}
END_TEST

START_TEST(embedded_nul_refused)
{
	struct cons_proto_req req;
	const char *err;
	size_t used;

	ck_assert_int_eq(parse("attach 1\0\n", 10, &req, &used, &err), -EINVAL);
}
END_TEST

START_TEST(long_line_refused)
{
	char line[200];

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	bad(line, -E2BIG);
	/* Exactly the limit with no newline yet is already too long. */
	line[CONS_PROTO_MAX_LINE] = '\0';
	bad(line, -E2BIG);
	/* A newline past the limit is not looked for. */
	memcpy(line, "attach 1", 8);
	memset(line + 8, ' ', sizeof(line) - 8);
	line[150] = '\n';
	line[151] = '\0';
	bad(line, -E2BIG);
}
END_TEST

/* Random bytes: any result is fine, as long as it is one of the four. */
START_TEST(random_bytes_never_crash)
{
	unsigned int seed = 99;
	char buf[CONS_PROTO_MAX_LINE];

	for (int i = 0; i < 100000; i++) {
		struct cons_proto_req req;
		const char *err;
		size_t used, len = (size_t)(rand_r(&seed) % (int)sizeof(buf)) + 1;
		int ret;

		for (size_t j = 0; j < len; j++)
			buf[j] = (rand_r(&seed) % 4) ? "attch 0123456789\n\r "[rand_r(&seed) % 19]
						     : (char)rand_r(&seed);
		ret = parse(buf, len, &req, &used, &err);
		ck_assert(ret == 0 || ret == 1 || ret == -EINVAL || ret == -ERANGE ||
			  ret == -E2BIG);
		if (ret == 1) {
			ck_assert_uint_le(used, len);
			ck_assert_uint_gt(req.domid, 0);
			ck_assert_uint_lt(req.domid, 32752);
		}
	}
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("consoled_proto");
	TCase *tc = tcase_create("proto");

	tcase_add_test(tc, attach_ok);
	tcase_add_test(tc, input_after_line_left);
	tcase_add_test(tc, partial_needs_more);
	tcase_add_test(tc, malformed_refused);
	tcase_add_test(tc, domid_range);
	tcase_add_test(tc, embedded_nul_refused);
	tcase_add_test(tc, long_line_refused);
	tcase_add_test(tc, random_bytes_never_crash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
