// SPDX-License-Identifier: MIT
// Check tests for xenstored's state file: nodes, permissions, domains and quotas survive a restart;
// damage is contained.
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xs_harness.h"
#include "xs_main.h"

static char dir[64], state[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_xs_restart.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/xenstored.state", dir);
}

static void teardown(void)
{
	char tmp[160];

	unlink(state);
	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	unlink(tmp);
	rmdir(dir);
}

/* A daemon context loaded from the state file, as after a restart. */
static struct xs_conn *boot(struct xs_daemon *d)
{
	ck_assert_int_eq(xs_daemon_init(d), 0);
	if (!getenv("XT_LOG"))
		d->log = fopen("/dev/null", "w");
	ck_assert_int_eq(xs_persist_open(d, state), 0);
	return xt_conn(d, 0);
}

static void crash(struct xs_daemon *d)
{
	/* Whatever was acknowledged was flushed at the end of its pass. */
	xs_persist_flush(d);
	xs_persist_close(d);
	xt_done(d);
}

START_TEST(nodes_and_perms_survive)
{
	struct xs_daemon d;
	struct xs_conn *c = boot(&d);

	ck_assert_str_eq(xt_write(c, 0, "/a/b", "v1"), "OK");
	ck_assert_str_eq(xt_write(c, 0, "/a/c", "v2"), "OK");
	ck_assert_str_eq(xt_strs(c, XS_SET_PERMS, 0, 3, "/a/b", "n4", "r5"), "OK");
	ck_assert_str_eq(xt_write(c, 0, "/gone", "x"), "OK");
	ck_assert_str_eq(xt_simple(c, XS_RM, 0, "/gone", NULL), "OK");
	crash(&d);

	c = boot(&d);
	ck_assert_str_eq(xt_read(c, 0, "/a/b"), "v1");
	ck_assert_str_eq(xt_read(c, 0, "/a/c"), "v2");
	ck_assert_str_eq(xt_read(c, 0, "/gone"), "ENOENT");
	ck_assert_str_eq(xt_simple(c, XS_GET_PERMS, 0, "/a/b", NULL), "n4");
	ck_assert_uint_eq(d.tree.owned[4], 1);
	ck_assert_str_eq(xt_simple(c, XS_CONTROL, 0, "check", NULL), "OK");
	crash(&d);
}
END_TEST

START_TEST(child_order_survives)
{
	struct xs_daemon d;
	struct xs_conn *c = boot(&d);
	char out[128];
	uint32_t tx;

	ck_assert_str_eq(xt_write(c, 0, "/o/zz", ""), "OK");
	ck_assert_str_eq(xt_write(c, 0, "/o/aa", ""), "OK");
	tx = (uint32_t)atoi(xt_simple(c, XS_TRANSACTION_START, 0, "", NULL));
	ck_assert_str_eq(xt_write(c, tx, "/o/mm", ""), "OK");
	ck_assert_str_eq(xt_write(c, tx, "/o/bb", ""), "OK");
	ck_assert_str_eq(xt_simple(c, XS_TRANSACTION_END, tx, "T", NULL), "OK");
	crash(&d);
	c = boot(&d);
	ck_assert_uint_eq(xt_req(c, XS_DIRECTORY, 0, "/o", 3, out, sizeof(out)), XS_DIRECTORY);
	ck_assert_int_eq(memcmp(out, "zz\0aa\0mm\0bb\0", 12), 0);
	crash(&d);
}
END_TEST

START_TEST(domains_and_quotas_survive)
{
	struct xs_daemon d;
	struct xs_conn *c = boot(&d);

	ck_assert_str_eq(xt_strs(c, XS_INTRODUCE, 0, 3, "4", "77", "8"), "OK");
	ck_assert_str_eq(xt_strs(c, XS_INTRODUCE, 0, 3, "5", "78", "9"), "OK");
	ck_assert_str_eq(xt_strs(c, XS_SET_TARGET, 0, 2, "5", "4"), "OK");
	ck_assert_str_eq(xt_strs(c, XS_CONTROL, 0, 4, "quota", "set", "nodes", "77"), "OK");
	crash(&d);
	c = boot(&d);
	ck_assert_str_eq(xt_simple(c, XS_IS_DOMAIN_INTRODUCED, 0, "4", NULL), "T");
	ck_assert_int_eq(xs_domain_get(&d, 5)->target, 4);
	ck_assert_int_eq(d.quota.val[XS_Q_NODES], 77);
	ck_assert_str_eq(xt_simple(c, XS_RELEASE, 0, "4", NULL), "OK");
	crash(&d);
	c = boot(&d);
	ck_assert_str_eq(xt_simple(c, XS_IS_DOMAIN_INTRODUCED, 0, "4", NULL), "F");
	crash(&d);
}
END_TEST

START_TEST(torn_tail_is_ignored)
{
	struct xs_daemon d;
	struct xs_conn *c = boot(&d);
	int fd;

	ck_assert_str_eq(xt_write(c, 0, "/kept", "1"), "OK");
	crash(&d);
	/* A half-written record, as if the daemon died inside write(). */
	fd = open(state, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "N\0\0\0\xff\0\0\0abc", 11), 11);
	close(fd);
	c = boot(&d);
	ck_assert_str_eq(xt_read(c, 0, "/kept"), "1");
	ck_assert_str_eq(xt_write(c, 0, "/after", "2"), "OK");
	crash(&d);
	c = boot(&d);
	ck_assert_str_eq(xt_read(c, 0, "/after"), "2");
	crash(&d);
}
END_TEST

START_TEST(garbage_file_starts_empty)
{
	struct xs_daemon d;
	struct xs_conn *c;
	int fd = open(state, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not a state file at all", 23), 23);
	close(fd);
	c = boot(&d);
	ck_assert_str_eq(xt_read(c, 0, "/tool"), "");
	ck_assert_str_eq(xt_write(c, 0, "/x", "1"), "OK");
	crash(&d);
}
END_TEST

START_TEST(bad_record_contents_rejected)
{
	struct xs_daemon d;
	struct xs_conn *c = boot(&d);
	/* A node record whose path is not a valid path. */
	struct {
		uint32_t type, len;
		uint64_t gen;
		uint32_t nperms, vlen, plen;
		uint16_t id;
		uint8_t perm, pad;
		char path[4];
	} __attribute__((packed)) rec = { 'N', 24 + 4 + 4, 1, 1, 0, 4, 0, 0, 0, "//xx" };
	int fd;

	ck_assert_str_eq(xt_write(c, 0, "/good", "1"), "OK");
	crash(&d);
	fd = open(state, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, &rec, sizeof(rec)), (int)sizeof(rec));
	close(fd);
	c = boot(&d);
	ck_assert_str_eq(xt_read(c, 0, "/good"), "1");
	ck_assert_ptr_null(xs_map_get(&d.tree.map, "//xx"));
	crash(&d);
}
END_TEST

START_TEST(socket_connections_and_watches_survive)
{
	struct xs_daemon d;
	struct xs_conn *c = boot(&d), *w, *gone;
	uint64_t key, gone_key;
	char path[256], token[256];

	/* What xs_sock_accept does for a client the keeper holds. */
	w = xt_conn(&d, 0);
	w->persistent = true;
	xs_persist_conn(&d, w);
	gone = xt_conn(&d, 0);
	gone->persistent = true;
	xs_persist_conn(&d, gone);
	gone_key = gone->key;
	ck_assert_str_eq(xt_strs(c, XS_INTRODUCE, 0, 3, "3", "1", "1"), "OK");
	ck_assert_str_eq(xt_simple(w, XS_CONTROL, 0, "restrict", "3"), "OK");
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "/keep", "k"), "OK");
	ck_assert_str_eq(xt_simple(w, XS_WATCH, 0, "/drop", "d"), "OK");
	ck_assert_str_eq(xt_simple(w, XS_UNWATCH, 0, "/drop", "d"), "OK");
	ck_assert_str_eq(xt_simple(gone, XS_WATCH, 0, "/x", "x"), "OK");
	xs_conn_kill(gone, NULL);
	key = w->key;
	crash(&d);

	c = boot(&d);
	w = xt_conn(&d, 0);
	w->key = key;
	w->persistent = true;
	ck_assert_int_eq(xs_persist_restore_conn(&d, w), 0);
	ck_assert_uint_eq(w->domid, 3);
	ck_assert(w->restricted);
	ck_assert_uint_eq(w->nwatches, 1);
	/* One event at once: changes during the outage were not seen. */
	ck_assert_int_eq(xt_event(w, path, token), 1);
	ck_assert_str_eq(path, "/keep");
	ck_assert_str_eq(token, "k");
	gone = xt_conn(&d, 0);
	gone->key = gone_key;
	ck_assert_int_eq(xs_persist_restore_conn(&d, gone), -ENOENT);
	ck_assert_uint_gt(d.next_conn_key, key);
	crash(&d);
}
END_TEST

START_TEST(deep_paths_survive)
{
	struct xs_daemon d;
	struct xs_conn *c = boot(&d);
	static char path[3100];
	size_t i;

	/* 1500 levels: the longest chain a 3072-byte path allows. */
	for (i = 0; i < 1500; i++) {
		path[2 * i] = '/';
		path[2 * i + 1] = 'a';
	}
	path[3000] = '\0';
	ck_assert_str_eq(xt_write(c, 0, path, "deep"), "OK");
	crash(&d);
	c = boot(&d); /* compaction walks the whole chain */
	ck_assert_str_eq(xt_read(c, 0, path), "deep");
	ck_assert_str_eq(xt_simple(c, XS_RM, 0, "/a", NULL), "OK");
	ck_assert_uint_eq(d.tree.map.count, 2);
	crash(&d);
}
END_TEST

static Suite *xs_suite(void)
{
	Suite *s = suite_create("xs_restart");
	TCase *t = tcase_create("restart");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, nodes_and_perms_survive);
	tcase_add_test(t, child_order_survives);
	tcase_add_test(t, domains_and_quotas_survive);
	tcase_add_test(t, torn_tail_is_ignored);
	tcase_add_test(t, garbage_file_starts_empty);
	tcase_add_test(t, bad_record_contents_rejected);
	tcase_add_test(t, socket_connections_and_watches_survive);
	tcase_add_test(t, deep_paths_survive);
	suite_add_tcase(s, t);
	return s;
}
