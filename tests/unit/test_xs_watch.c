// SPDX-License-Identifier: MIT
// Check tests for xenstored watches: first firing, children, rm, relative paths, special events,
// permissions.
#include <check.h>
#include <string.h>

#include "xs_harness.h"
#include "xs_main.h"

static struct xs_daemon d;
static struct xs_conn *w, *c;
static char path[4096], token[4096];

static void setup(void)
{
	xt_daemon(&d);
	w = xt_conn(&d, 0);
	c = xt_conn(&d, 0);
}

static void teardown(void)
{
	xt_done(&d);
}

START_TEST(fires_on_registration)
{
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "/a", "tok"), "OK");
	ck_assert_int_eq(xt_event(w, path, token), 1);
	ck_assert_str_eq(path, "/a");
	ck_assert_str_eq(token, "tok");
	ck_assert_int_eq(xt_nevents(w), 0);
}
END_TEST

START_TEST(fires_for_self_and_children)
{
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "/a", "t"), "OK");
	xt_event(w, path, token);
	ck_assert_str_eq(xt_write(c, 0, "/a/b/c", "1"), "OK");
	ck_assert_int_eq(xt_event(w, path, token), 1);
	ck_assert_str_eq(path, "/a/b/c");
	ck_assert_str_eq(xt_write(c, 0, "/ab", "1"), "OK"); /* not a child */
	ck_assert_str_eq(xt_write(c, 0, "/a", "2"), "OK");
	ck_assert_int_eq(xt_event(w, path, token), 1);
	ck_assert_str_eq(path, "/a");
	ck_assert_int_eq(xt_nevents(w), 0);
}
END_TEST

START_TEST(rm_of_parent_fires_with_watch_path)
{
	ck_assert_str_eq(xt_write(c, 0, "/p/q/r", "1"), "OK");
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "/p/q/r", "t"), "OK");
	xt_event(w, path, token);
	ck_assert_str_eq(xt_simple(c, XS_RM, 0, "/p", NULL), "OK");
	ck_assert_int_eq(xt_event(w, path, token), 1);
	ck_assert_str_eq(path, "/p/q/r");
}
END_TEST

START_TEST(relative_watch_gets_relative_paths)
{
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "dev", "rel"), "OK");
	ck_assert_int_eq(xt_event(w, path, token), 1);
	ck_assert_str_eq(path, "dev");
	ck_assert_str_eq(xt_write(c, 0, "/local/domain/0/dev/x", "1"), "OK");
	ck_assert_int_eq(xt_event(w, path, token), 1);
	ck_assert_str_eq(path, "dev/x");
}
END_TEST

START_TEST(duplicate_and_unwatch)
{
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "/a", "t"), "OK");
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "/a", "t"), "EEXIST");
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "/a", "t2"), "OK");
	ck_assert_str_eq(xt_simple(w, XS_UNWATCH, 0, "/a", "t"), "OK");
	ck_assert_str_eq(xt_simple(w, XS_UNWATCH, 0, "/a", "t"), "ENOENT");
	while (xt_event(w, path, token))
		;
	ck_assert_str_eq(xt_write(c, 0, "/a", "1"), "OK");
	ck_assert_int_eq(xt_event(w, path, token), 1);
	ck_assert_str_eq(token, "t2");
	ck_assert_int_eq(xt_nevents(w), 0);
}
END_TEST

START_TEST(special_domain_events)
{
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "@introduceDomain", "i"), "OK");
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "@releaseDomain", "r"), "OK");
	while (xt_event(w, path, token))
		;
	ck_assert_str_eq(xt_write(c, 0, "/x", "1"), "OK");
	ck_assert_int_eq(xt_nevents(w), 0);
	ck_assert_str_eq(xt_strs(c, XS_INTRODUCE, 0, 3, "3", "10", "4"), "OK");
	ck_assert_int_eq(xt_event(w, path, token), 1);
	ck_assert_str_eq(path, "@introduceDomain");
	ck_assert_str_eq(xt_simple(c, XS_RELEASE, 0, "3", NULL), "OK");
	ck_assert_int_eq(xt_event(w, path, token), 1);
	ck_assert_str_eq(path, "@releaseDomain");
}
END_TEST

START_TEST(unreadable_changes_not_sent)
{
	struct xs_conn *g = xt_conn(&d, 4);

	ck_assert_str_eq(xt_write(c, 0, "/pub", ""), "OK");
	ck_assert_str_eq(xt_strs(c, XS_SET_PERMS, 0, 2, "/pub", "r0"), "OK");
	ck_assert_str_eq(xt_simple(g, XS_WATCH, 0, "/pub", "g"), "OK");
	ck_assert_int_eq(xt_event(g, path, token), 1);
	ck_assert_str_eq(xt_write(c, 0, "/pub/open", "1"), "OK"); /* inherits r0 */
	ck_assert_int_eq(xt_event(g, path, token), 1);
	ck_assert_str_eq(xt_write(c, 0, "/pub/hidden", "1"), "OK");
	ck_assert_int_eq(xt_event(g, path, token), 1); /* creation: still r0 */
	ck_assert_str_eq(xt_strs(c, XS_SET_PERMS, 0, 2, "/pub/hidden", "n0"), "OK");
	ck_assert_str_eq(xt_write(c, 0, "/pub/hidden", "2"), "OK");
	ck_assert_int_eq(xt_nevents(g), 0);
}
END_TEST

START_TEST(reset_watches)
{
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "/a", "t"), "OK");
	ck_assert_str_eq(xt_simple(w, XS_RESET_WATCHES, 0, NULL, NULL), "OK");
	while (xt_event(w, path, token))
		;
	ck_assert_str_eq(xt_write(c, 0, "/a", "1"), "OK");
	ck_assert_int_eq(xt_nevents(w), 0);
	ck_assert_uint_eq(w->nwatches, 0);
}
END_TEST

START_TEST(dead_watcher_is_dropped)
{
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "/a", "t"), "OK");
	xs_conn_kill(w, "test");
	ck_assert(sv_list_empty(&d.watches));
	ck_assert_str_eq(xt_write(c, 0, "/a", "1"), "OK");
}
END_TEST

static Suite *xs_suite(void)
{
	Suite *s = suite_create("xs_watch");
	TCase *t = tcase_create("watch");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, fires_on_registration);
	tcase_add_test(t, fires_for_self_and_children);
	tcase_add_test(t, rm_of_parent_fires_with_watch_path);
	tcase_add_test(t, relative_watch_gets_relative_paths);
	tcase_add_test(t, duplicate_and_unwatch);
	tcase_add_test(t, special_domain_events);
	tcase_add_test(t, unreadable_changes_not_sent);
	tcase_add_test(t, reset_watches);
	tcase_add_test(t, dead_watcher_is_dropped);
	suite_add_tcase(s, t);
	return s;
}
