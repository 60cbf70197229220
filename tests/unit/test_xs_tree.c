// SPDX-License-Identifier: MIT
// Check tests for the xenstored node tree: read/write/mkdir/rm, implicit parents, directories,
// sizes.
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "xs_harness.h"
#include "xs_main.h"

static struct xs_daemon d;
static struct xs_conn *c;

static void setup(void)
{
	xt_daemon(&d);
	c = xt_conn(&d, 0);
}

static void teardown(void)
{
	xt_done(&d);
}

START_TEST(write_then_read)
{
	ck_assert_str_eq(xt_write(c, 0, "/a", "hello"), "OK");
	ck_assert_str_eq(xt_read(c, 0, "/a"), "hello");
	ck_assert_str_eq(xt_write(c, 0, "/a", ""), "OK");
	ck_assert_str_eq(xt_read(c, 0, "/a"), "");
}
END_TEST

START_TEST(read_missing_is_enoent)
{
	ck_assert_str_eq(xt_read(c, 0, "/nope"), "ENOENT");
	ck_assert_str_eq(xt_read(c, 0, "/nope/deeper"), "ENOENT");
}
END_TEST

START_TEST(write_creates_parents)
{
	ck_assert_str_eq(xt_write(c, 0, "/x/y/z", "v"), "OK");
	ck_assert_str_eq(xt_read(c, 0, "/x"), "");
	ck_assert_str_eq(xt_read(c, 0, "/x/y"), "");
	ck_assert_str_eq(xt_simple(c, XS_DIRECTORY, 0, "/x", NULL), "y");
}
END_TEST

START_TEST(binary_values)
{
	char out[64];

	ck_assert_uint_eq(xt_req(c, XS_WRITE, 0, "/b\0a\0b", 6, out, sizeof(out)), XS_WRITE);
	ck_assert_uint_eq(xt_req(c, XS_READ, 0, "/b", 3, out, sizeof(out)), XS_READ);
	ck_assert_int_eq(memcmp(out, "a\0b", 3), 0);
}
END_TEST

START_TEST(mkdir_keeps_value)
{
	ck_assert_str_eq(xt_write(c, 0, "/m", "keep"), "OK");
	ck_assert_str_eq(xt_simple(c, XS_MKDIR, 0, "/m", NULL), "OK");
	ck_assert_str_eq(xt_read(c, 0, "/m"), "keep");
	ck_assert_str_eq(xt_simple(c, XS_MKDIR, 0, "/m/n/o", NULL), "OK");
	ck_assert_str_eq(xt_read(c, 0, "/m/n/o"), "");
}
END_TEST

START_TEST(rm_subtree)
{
	ck_assert_str_eq(xt_write(c, 0, "/r/a/b", "1"), "OK");
	ck_assert_str_eq(xt_write(c, 0, "/r/c", "2"), "OK");
	ck_assert_str_eq(xt_simple(c, XS_RM, 0, "/r/a", NULL), "OK");
	ck_assert_str_eq(xt_read(c, 0, "/r/a/b"), "ENOENT");
	ck_assert_str_eq(xt_read(c, 0, "/r/a"), "ENOENT");
	ck_assert_str_eq(xt_read(c, 0, "/r/c"), "2");
	ck_assert_uint_eq(d.tree.map.count, 4); /* /, /tool, /r, /r/c */
}
END_TEST

START_TEST(rm_missing_rules)
{
	ck_assert_str_eq(xt_write(c, 0, "/p", ""), "OK");
	ck_assert_str_eq(xt_simple(c, XS_RM, 0, "/p/q", NULL), "OK");
	ck_assert_str_eq(xt_simple(c, XS_RM, 0, "/p/q/r", NULL), "ENOENT");
	ck_assert_str_eq(xt_simple(c, XS_RM, 0, "/", NULL), "EINVAL");
}
END_TEST

START_TEST(directory_order)
{
	char out[256];
	uint32_t t;

	ck_assert_str_eq(xt_write(c, 0, "/d/one", ""), "OK");
	ck_assert_str_eq(xt_write(c, 0, "/d/two", ""), "OK");
	ck_assert_str_eq(xt_write(c, 0, "/d/three", ""), "OK");
	t = xt_req(c, XS_DIRECTORY, 0, "/d", 3, out, sizeof(out));
	ck_assert_uint_eq(t, XS_DIRECTORY);
	ck_assert_int_eq(memcmp(out, "one\0two\0three\0", 14), 0);
}
END_TEST

START_TEST(directory_part_large)
{
	char name[64], out[8192];
	char off[16];
	unsigned int i, seen = 0, pos = 0;
	const char *p;

	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "/big/child-with-a-long-name-%04u", i);
		ck_assert_str_eq(xt_write(c, 0, name, ""), "OK");
	}
	ck_assert_str_eq(xt_simple(c, XS_DIRECTORY, 0, "/big", NULL), "E2BIG");
	for (;;) {
		char req[64];
		size_t l;
		uint32_t t;

		snprintf(off, sizeof(off), "%u", pos);
		l = (size_t)snprintf(req, sizeof(req), "/big%c%s", 0, off) + 1;
		t = xt_req(c, XS_DIRECTORY_PART, 0, req, l, out, sizeof(out));
		ck_assert_uint_eq(t, XS_DIRECTORY_PART);
		p = out + strlen(out) + 1; /* skip generation */
		if (!*p)
			break;
		while (*p) {
			pos += (unsigned int)strlen(p) + 1;
			p += strlen(p) + 1;
			seen++;
		}
	}
	ck_assert_uint_eq(seen, 300);
}
END_TEST

START_TEST(bad_paths)
{
	ck_assert_str_eq(xt_write(c, 0, "/a//b", "x"), "EINVAL");
	ck_assert_str_eq(xt_write(c, 0, "/a/", "x"), "EINVAL");
	ck_assert_str_eq(xt_write(c, 0, "/a b", "x"), "EINVAL");
	ck_assert_str_eq(xt_write(c, 0, "@special", "x"), "EINVAL");
}
END_TEST

START_TEST(relative_paths)
{
	ck_assert_str_eq(xt_write(c, 0, "rel/x", "1"), "OK");
	ck_assert_str_eq(xt_read(c, 0, "/local/domain/0/rel/x"), "1");
}
END_TEST

START_TEST(domain_paths)
{
	ck_assert_str_eq(xt_simple(c, XS_GET_DOMAIN_PATH, 0, "7", NULL), "/local/domain/7");
	ck_assert_str_eq(xt_simple(c, XS_IS_DOMAIN_INTRODUCED, 0, "7", NULL), "F");
	ck_assert_str_eq(xt_strs(c, XS_INTRODUCE, 0, 3, "7", "1234", "5"), "OK");
	ck_assert_str_eq(xt_simple(c, XS_IS_DOMAIN_INTRODUCED, 0, "7", NULL), "T");
	ck_assert_str_eq(xt_simple(c, XS_RESUME, 0, "7", NULL), "OK");
	ck_assert_str_eq(xt_simple(c, XS_RELEASE, 0, "7", NULL), "OK");
	ck_assert_str_eq(xt_simple(c, XS_IS_DOMAIN_INTRODUCED, 0, "7", NULL), "F");
	ck_assert_str_eq(xt_simple(c, XS_RELEASE, 0, "7", NULL), "ENOENT");
	ck_assert_str_eq(xt_strs(c, XS_INTRODUCE, 0, 3, "0", "1", "1"), "EINVAL");
}
END_TEST

START_TEST(release_removes_owned_nodes)
{
	struct xs_conn *g = xt_conn(&d, 8);

	ck_assert_str_eq(xt_strs(c, XS_INTRODUCE, 0, 3, "8", "1", "1"), "OK");
	ck_assert_str_eq(xt_write(c, 0, "/local/domain/8/name", "g"), "OK");
	ck_assert_str_eq(xt_simple(c, XS_MKDIR, 0, "/local/domain/8/device", NULL), "OK");
	ck_assert_str_eq(xt_strs(c, XS_SET_PERMS, 0, 2, "/local/domain/8/device", "n8"), "OK");
	ck_assert_str_eq(xt_write(g, 0, "device/vbd/1", "x"), "OK");
	ck_assert_uint_eq(d.tree.owned[8], 3);
	ck_assert_str_eq(xt_simple(c, XS_RELEASE, 0, "8", NULL), "OK");
	ck_assert_uint_eq(d.tree.owned[8], 0);
	ck_assert_str_eq(xt_read(c, 0, "/local/domain/8/device"), "ENOENT");
	ck_assert_str_eq(xt_read(c, 0, "/local/domain/8/name"), "g"); /* dom0's */
	ck_assert_str_eq(xt_simple(c, XS_CONTROL, 0, "check", NULL), "OK");
}
END_TEST

START_TEST(control_commands)
{
	const char *r;

	r = xt_simple(c, XS_CONTROL, 0, "quota", NULL);
	ck_assert_ptr_nonnull(strstr(r, "nodes            :     1000"));
	ck_assert_str_eq(xt_strs(c, XS_CONTROL, 0, 4, "quota", "set", "nodes", "50"), "OK");
	ck_assert_int_eq(d.quota.val[XS_Q_NODES], 50);
	ck_assert_str_eq(xt_strs(c, XS_CONTROL, 0, 4, "quota", "set", "bogus", "5"), "EINVAL");
	ck_assert_str_eq(xt_simple(c, XS_CONTROL, 0, "check", NULL), "OK");
	ck_assert_str_eq(xt_simple(c, XS_CONTROL, 0, "print", "hi"), "OK");
	ck_assert_str_eq(xt_simple(c, XS_CONTROL, 0, "log", "on"), "OK");
	ck_assert_str_eq(xt_simple(c, XS_CONTROL, 0, "nonsense", NULL), "EINVAL");
	ck_assert_ptr_nonnull(strstr(xt_simple(c, XS_CONTROL, 0, "help", NULL), "quota\t"));
}
END_TEST

START_TEST(node_generation_changes)
{
	struct xs_node *n;
	uint64_t g;

	ck_assert_str_eq(xt_write(c, 0, "/g", "1"), "OK");
	n = xs_map_get(&d.tree.map, "/g");
	g = n->gen;
	ck_assert_str_eq(xt_write(c, 0, "/g/kid", "1"), "OK");
	ck_assert_uint_gt(xs_map_get(&d.tree.map, "/g")->gen, g);
}
END_TEST

static Suite *xs_suite(void)
{
	Suite *s = suite_create("xs_tree");
	TCase *t = tcase_create("tree");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, write_then_read);
	tcase_add_test(t, read_missing_is_enoent);
	tcase_add_test(t, write_creates_parents);
	tcase_add_test(t, binary_values);
	tcase_add_test(t, mkdir_keeps_value);
	tcase_add_test(t, rm_subtree);
	tcase_add_test(t, rm_missing_rules);
	tcase_add_test(t, directory_order);
	tcase_add_test(t, directory_part_large);
	tcase_add_test(t, bad_paths);
	tcase_add_test(t, relative_paths);
	tcase_add_test(t, domain_paths);
	tcase_add_test(t, release_removes_owned_nodes);
	tcase_add_test(t, control_commands);
	tcase_add_test(t, node_generation_changes);
	suite_add_tcase(s, t);
	return s;
}
