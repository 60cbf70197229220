// SPDX-License-Identifier: MIT
// Check tests for xenstored permissions: owner and ACL, dom0 privilege, inheritance, SET_TARGET,
// restrict.
#include <check.h>
#include <string.h>

#include "xs_harness.h"
#include "xs_main.h"

static struct xs_daemon d;
static struct xs_conn *dom0, *dom5, *dom6;

static void setup(void)
{
	xt_daemon(&d);
	dom0 = xt_conn(&d, 0);
	dom5 = xt_conn(&d, 5);
	dom6 = xt_conn(&d, 6);
	ck_assert_str_eq(xt_strs(dom0, XS_INTRODUCE, 0, 3, "5", "1", "1"), "OK");
	ck_assert_str_eq(xt_strs(dom0, XS_INTRODUCE, 0, 3, "6", "2", "2"), "OK");
}

static void teardown(void)
{
	xt_done(&d);
}

START_TEST(parse_and_format)
{
	struct xs_perm p[2];
	char buf[32];

	ck_assert_int_eq(xs_perms_parse("b0", &p[0]), 0);
	ck_assert_int_eq(xs_perms_parse("r12", &p[1]), 0);
	ck_assert_uint_eq(p[1].id, 12);
	ck_assert_uint_eq(p[1].perm, XS_PERM_READ);
	ck_assert_int_eq(xs_perms_format(p, 2, buf, sizeof(buf)), 7);
	ck_assert_int_eq(memcmp(buf, "b0\0r12\0", 7), 0);
	ck_assert_int_eq(xs_perms_parse("x1", &p[0]), -EINVAL);
	ck_assert_int_eq(xs_perms_parse("r", &p[0]), -EINVAL);
	ck_assert_int_eq(xs_perms_parse("r99999", &p[0]), -EINVAL);
}
END_TEST

START_TEST(default_denies_guests)
{
	ck_assert_str_eq(xt_write(dom0, 0, "/secret", "x"), "OK");
	ck_assert_str_eq(xt_read(dom5, 0, "/secret"), "EACCES");
	ck_assert_str_eq(xt_write(dom5, 0, "/secret", "y"), "EACCES");
	ck_assert_str_eq(xt_write(dom5, 0, "/new", "y"), "EACCES");
	/* Missing below an unreadable parent: EACCES, not ENOENT. */
	ck_assert_str_eq(xt_read(dom5, 0, "/secret/missing"), "EACCES");
}
END_TEST

START_TEST(acl_entries)
{
	ck_assert_str_eq(xt_write(dom0, 0, "/n", "v"), "OK");
	ck_assert_str_eq(xt_strs(dom0, XS_SET_PERMS, 0, 3, "/n", "n0", "r5"), "OK");
	ck_assert_str_eq(xt_read(dom5, 0, "/n"), "v");
	ck_assert_str_eq(xt_write(dom5, 0, "/n", "w"), "EACCES");
	ck_assert_str_eq(xt_read(dom6, 0, "/n"), "EACCES");
	ck_assert_str_eq(xt_strs(dom0, XS_SET_PERMS, 0, 2, "/n", "r0"), "OK");
	ck_assert_str_eq(xt_read(dom6, 0, "/n"), "v"); /* default for others */
	ck_assert_str_eq(xt_simple(dom0, XS_GET_PERMS, 0, "/n", NULL), "r0");
}
END_TEST

START_TEST(owner_has_everything)
{
	ck_assert_str_eq(xt_write(dom0, 0, "/local/domain/5/x", ""), "OK");
	ck_assert_str_eq(xt_strs(dom0, XS_SET_PERMS, 0, 2, "/local/domain/5", "n5"), "OK");
	ck_assert_str_eq(xt_write(dom5, 0, "/local/domain/5/mine", "1"), "OK");
	ck_assert_str_eq(xt_write(dom5, 0, "data", "2"), "OK"); /* relative */
	ck_assert_str_eq(xt_read(dom0, 0, "/local/domain/5/data"), "2");
	ck_assert_str_eq(xt_read(dom6, 0, "/local/domain/5/data"), "EACCES");
}
END_TEST

START_TEST(new_nodes_inherit_and_owned_by_creator)
{
	ck_assert_str_eq(xt_write(dom0, 0, "/shared", ""), "OK");
	ck_assert_str_eq(xt_strs(dom0, XS_SET_PERMS, 0, 3, "/shared", "n0", "b5"), "OK");
	ck_assert_str_eq(xt_write(dom5, 0, "/shared/k", "1"), "OK");
	ck_assert_str_eq(xt_simple(dom0, XS_GET_PERMS, 0, "/shared/k", NULL), "n5");
	ck_assert_uint_eq(d.tree.owned[5], 1);
}
END_TEST

START_TEST(only_owner_sets_perms)
{
	ck_assert_str_eq(xt_write(dom0, 0, "/o", ""), "OK");
	ck_assert_str_eq(xt_strs(dom0, XS_SET_PERMS, 0, 2, "/o", "b5"), "OK");
	/* dom5 owns it now: may change the ACL, may not give it away. */
	ck_assert_str_eq(xt_strs(dom5, XS_SET_PERMS, 0, 3, "/o", "n5", "r6"), "OK");
	ck_assert_str_eq(xt_strs(dom5, XS_SET_PERMS, 0, 2, "/o", "n6"), "EPERM");
	ck_assert_str_eq(xt_strs(dom6, XS_SET_PERMS, 0, 2, "/o", "b6"), "EACCES");
	ck_assert_str_eq(xt_strs(dom0, XS_SET_PERMS, 0, 2, "/o", "x6"), "EINVAL");
}
END_TEST

START_TEST(set_target_grants_access)
{
	ck_assert_str_eq(xt_write(dom0, 0, "/local/domain/6/dev", "x"), "OK");
	ck_assert_str_eq(xt_strs(dom0, XS_SET_PERMS, 0, 2, "/local/domain/6/dev", "n6"), "OK");
	ck_assert_str_eq(xt_read(dom5, 0, "/local/domain/6/dev"), "EACCES");
	ck_assert_str_eq(xt_strs(dom0, XS_SET_TARGET, 0, 2, "5", "6"), "OK");
	ck_assert_str_eq(xt_read(dom5, 0, "/local/domain/6/dev"), "x");
	ck_assert_str_eq(xt_write(dom5, 0, "/local/domain/6/dev", "y"), "OK");
	ck_assert_str_eq(xt_strs(dom0, XS_SET_TARGET, 0, 2, "5", "9"), "ENOENT");
}
END_TEST

START_TEST(guests_cannot_manage_domains)
{
	ck_assert_str_eq(xt_strs(dom5, XS_INTRODUCE, 0, 3, "9", "1", "1"), "EACCES");
	ck_assert_str_eq(xt_simple(dom5, XS_RELEASE, 0, "6", NULL), "EACCES");
	ck_assert_str_eq(xt_strs(dom5, XS_SET_TARGET, 0, 2, "5", "6"), "EACCES");
	ck_assert_str_eq(xt_simple(dom5, XS_CONTROL, 0, "quota", NULL), "EACCES");
}
END_TEST

START_TEST(restrict_drops_privilege)
{
	struct xs_conn *c = xt_conn(&d, 0);

	ck_assert_str_eq(xt_write(dom0, 0, "/priv", "x"), "OK");
	ck_assert_str_eq(xt_simple(c, XS_CONTROL, 0, "restrict", "5"), "OK");
	ck_assert_str_eq(xt_read(c, 0, "/priv"), "EACCES");
	ck_assert_str_eq(xt_simple(c, XS_CONTROL, 0, "restrict", "0"), "EACCES");
}
END_TEST

START_TEST(readonly_socket_refuses_writes)
{
	struct xs_conn *c = xt_conn(&d, 0);

	c->readonly = true;
	ck_assert_str_eq(xt_write(dom0, 0, "/ro", "x"), "OK");
	ck_assert_str_eq(xt_read(c, 0, "/ro"), "x");
	ck_assert_str_eq(xt_write(c, 0, "/ro", "y"), "EROFS");
	ck_assert_str_eq(xt_simple(c, XS_RM, 0, "/ro", NULL), "EROFS");
}
END_TEST

static Suite *xs_suite(void)
{
	Suite *s = suite_create("xs_perms");
	TCase *t = tcase_create("perms");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, parse_and_format);
	tcase_add_test(t, default_denies_guests);
	tcase_add_test(t, acl_entries);
	tcase_add_test(t, owner_has_everything);
	tcase_add_test(t, new_nodes_inherit_and_owned_by_creator);
	tcase_add_test(t, only_owner_sets_perms);
	tcase_add_test(t, set_target_grants_access);
	tcase_add_test(t, guests_cannot_manage_domains);
	tcase_add_test(t, restrict_drops_privilege);
	tcase_add_test(t, readonly_socket_refuses_writes);
	suite_add_tcase(s, t);
	return s;
}
