// SPDX-License-Identifier: MIT
/* Check suite for backends/core/be_store.c: the strict readers guest-written keys go through. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv/svxs.h"

/*
 * A one-key store: xs_read answers VAL (LEN bytes, may hold a NUL) for
 * PATH, or fails with ERR.  The other xs_* the helpers link to are stubs.
 */
static const char *key_path, *key_val;
static unsigned key_len;
static int read_err = ENOENT;
static char written[256];

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned *len)
{
	char *v;

	if (!key_path || strcmp(path, key_path)) {
		errno = read_err;
		return NULL;
	}
	v = malloc(key_len + 1);
	memcpy(v, key_val, key_len);
	v[key_len] = '\0';
	*len = key_len;
	return v;
}

/* Permissions: nothing this suite checks. */
bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t, const char *path,
			struct xs_permissions *perms, unsigned int num_perms)
{
	return true;
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data,
	      unsigned len)
{
	snprintf(written, sizeof(written), "%s=%.*s", path, (int)len, (const char *)data);
	return true;
}

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	return 1;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	return true;
}

char **xs_check_watch(struct xs_handle *h)
{
	errno = EAGAIN;
	return NULL;
}

static void set_key(const char *path, const char *val, unsigned len)
{
	key_path = path;
	key_val = val;
	key_len = len;
}

START_TEST(parse_uint_strict)
{
	uint64_t v = 7;

	ck_assert_int_eq(svxs_parse_uint("42", 2, 100, &v), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(svxs_parse_uint("1", 1, 1, &v), -ERANGE);
	ck_assert_int_eq(svxs_parse_uint("", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(svxs_parse_uint("-1", 2, 100, &v), -EINVAL);
	ck_assert_int_eq(svxs_parse_uint("+1", 2, 100, &v), -EINVAL);
	ck_assert_int_eq(svxs_parse_uint(" 1", 2, 100, &v), -EINVAL);
	ck_assert_int_eq(svxs_parse_uint("1x", 2, 100, &v), -EINVAL);
	ck_assert_int_eq(svxs_parse_uint("0x10", 4, 100, &v), -EINVAL);
	ck_assert_int_eq(svxs_parse_uint("18446744073709551615", 20, UINT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(svxs_parse_uint("99999999999999999999", 20, UINT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(svxs_parse_uint("123456789012345678901", 21, UINT64_MAX, &v), -EINVAL);
	ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(dirent_no_leading_zero)
{
	uint32_t id = 9;

	ck_assert(svxs_parse_dirent("51712", 5, 1ull << 32, &id));
	ck_assert_uint_eq(id, 51712);
	ck_assert(svxs_parse_dirent("0", 1, 10, &id));
	ck_assert_uint_eq(id, 0);
	ck_assert(!svxs_parse_dirent("07", 2, 10, &id));
	ck_assert(!svxs_parse_dirent("65536", 5, 1u << 16, &id));
	ck_assert(!svxs_parse_dirent("4294967296", 10, 1ull << 32, &id));
	ck_assert(!svxs_parse_dirent("1", 1, (1ull << 32) + 1, &id));
}
END_TEST

START_TEST(read_refuses_embedded_nul)
{
	uint64_t v = 0;
	char *s;

	set_key("/a/b",
		"12\0"
		"3",
		4);
	errno = 0;
	ck_assert_ptr_null(svxs_read(NULL, XBT_NULL, "/a", "b"));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(svxs_read_uint(NULL, XBT_NULL, "/a", "b", 100, &v), -EINVAL);
	set_key("/a/b", "12", 2);
	s = svxs_read(NULL, XBT_NULL, "/a", "b");
	ck_assert_str_eq(s, "12");
	free(s);
	ck_assert_int_eq(svxs_read_uint(NULL, XBT_NULL, "/a", "b", 100, &v), 0);
	ck_assert_uint_eq(v, 12);
	ck_assert_int_eq(svxs_read_uint(NULL, XBT_NULL, "/a", "b", 12, &v), -ERANGE);
	/* The directory itself when the node is empty or NULL. */
	set_key("/a", "5", 1);
	ck_assert_int_eq(svxs_read_uint(NULL, XBT_NULL, "/a", NULL, 100, &v), 0);
	ck_assert_uint_eq(v, 5);
}
END_TEST

START_TEST(absent_and_lost_told_apart)
{
	uint64_t v;

	set_key(NULL, NULL, 0);
	read_err = ENOENT;
	ck_assert_int_eq(svxs_read_uint(NULL, XBT_NULL, "/a", "b", 100, &v), -ENOENT);
	ck_assert(!svxs_lost(-ENOENT));
	ck_assert(svxs_read_flag(NULL, XBT_NULL, "/a", "b", true));
	read_err = EBADF;
	ck_assert_int_eq(svxs_read_uint(NULL, XBT_NULL, "/a", "b", 100, &v), -EBADF);
	ck_assert(svxs_lost(-EBADF));
	ck_assert(!svxs_lost(-EINVAL) && !svxs_lost(-ERANGE) && !svxs_lost(-EACCES));
	read_err = ENOENT;
}
END_TEST

START_TEST(printf_and_long_paths)
{
	char dir[600];

	ck_assert_int_eq(svxs_printf(NULL, XBT_NULL, "/be/1/0", "state", "%d", 4), 0);
	ck_assert_str_eq(written, "/be/1/0/state=4");
	memset(dir, 'a', sizeof(dir) - 1);
	dir[sizeof(dir) - 1] = '\0';
	ck_assert_int_eq(svxs_printf(NULL, XBT_NULL, dir, "state", "1"), -ENAMETOOLONG);
	ck_assert_ptr_null(svxs_read(NULL, XBT_NULL, dir, "state"));
	ck_assert_int_eq(errno, ENAMETOOLONG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("be_store");
	TCase *tc = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, parse_uint_strict);
	tcase_add_test(tc, dirent_no_leading_zero);
	tcase_add_test(tc, read_refuses_embedded_nul);
	tcase_add_test(tc, absent_and_lost_told_apart);
	tcase_add_test(tc, printf_and_long_paths);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
