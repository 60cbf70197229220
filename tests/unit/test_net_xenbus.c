// SPDX-License-Identifier: MIT
/* Check suite for netback's control plane (nb_xenbus.c on the backend core) on a fake store and
 * fake hypervisor. */
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>
#include "net_harness.h"
#include "../../backends/net/nb_daemon.h"
#include "../../backends/net/nb_link.h"

/*
 * The store: a flat table standing in for libxenstore (this suite links
 * these xs_* instead of -lxenstore).  Watches always "fire": the test calls
 * nb_xenbus_watch_fired() after each change, as the daemon does when the
 * store's fd is readable.  Each test runs in its own child, in a private
 * network namespace, so TAPs and bridges vanish with it.
 *
 * Transactions hold their writes and removals until the commit, which fails
 * with EAGAIN when the test (another client) changed the store meanwhile: a
 * coarser check than xenstored's (which looks only at what the transaction
 * read), enough to show a retry.  Reads in a transaction do not see its
 * held writes (no backend transaction reads after it writes).
 *
 * A race point lets the test act as a toolstack between two steps of the
 * backend, deterministically: after the backend's Nth read or listing of a
 * path, a directory is removed.
 */
#define MAXKEYS 512
static struct {
	char *path, *val;
} keys[MAXKEYS];
static bool pending_watch;
static unsigned state_writes; /* writes of vif 0's backend state */
static bool store_lost;	      /* listings and queries fail as with xenstored gone */
static bool dom_alive = true;
static struct nb_daemon d;
static unsigned store_gen; /* changes made by the test (another client) */
static bool txn_open;
static unsigned txn_gen; /* store_gen when the open transaction started */
static struct {
	char *path, *val; /* val NULL: a removal */
} held[64];
static int nheld;
static char race_at[128], race_rm[128];
static int race_n;     /* accesses of race_at left before race_rm goes (0: disarmed) */
static int fe_watches; /* watches on frontend directories not yet removed */

static int find_key(const char *p)
{
	for (int i = 0; i < MAXKEYS; i++)
		if (keys[i].path && !strcmp(keys[i].path, p))
			return i;
	return -1;
}

static void put(const char *path, const char *val)
{
	int i = find_key(path);

	if (i < 0) {
		for (i = 0; i < MAXKEYS && keys[i].path; i++)
			;
		ck_assert_int_lt(i, MAXKEYS);
		keys[i].path = strdup(path);
	} else {
		free(keys[i].val);
	}
	keys[i].val = strdup(val);
	pending_watch = true;
	store_gen++;
}

static void rm_tree(const char *path)
{
	size_t n = strlen(path);

	for (int i = 0; i < MAXKEYS; i++) {
		if (keys[i].path && !strncmp(keys[i].path, path, n) &&
		    (keys[i].path[n] == '\0' || keys[i].path[n] == '/')) {
			free(keys[i].path);
			free(keys[i].val);
			keys[i].path = keys[i].val = NULL;
		}
	}
	pending_watch = true;
	store_gen++;
}

/* After the next N reads or listings of AT by the backend, the toolstack removes RM. */
static void race_arm(const char *at, int n, const char *rm)
{
	snprintf(race_at, sizeof(race_at), "%s", at);
	snprintf(race_rm, sizeof(race_rm), "%s", rm);
	race_n = n;
}

static void race_point(const char *path)
{
	if (race_n && !strcmp(path, race_at) && --race_n == 0)
		rm_tree(race_rm);
}

/* Keys at or under PATH. */
static int count_keys(const char *path)
{
	size_t n = strlen(path);
	int k = 0;

	for (int i = 0; i < MAXKEYS; i++)
		k += keys[i].path && !strncmp(keys[i].path, path, n) &&
		     (keys[i].path[n] == '\0' || keys[i].path[n] == '/');
	return k;
}

static void hold(const char *path, const char *val)
{
	ck_assert_int_lt(nheld, 64);
	held[nheld].path = strdup(path);
	held[nheld].val = val ? strdup(val) : NULL;
	nheld++;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned *len)
{
	int i = find_key(path);

	char *v;

	if (i < 0) {
		errno = ENOENT;
		race_point(path);
		return NULL;
	}
	if (len)
		*len = (unsigned)strlen(keys[i].val);
	v = strdup(keys[i].val);
	race_point(path);
	return v;
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data,
	      unsigned len)
{
	char *v = strndup(data, len);

	if (!strcmp(path, "/local/domain/0/backend/vif/1/0/state"))
		state_writes++;
	if (t != XBT_NULL)
		hold(path, v);
	else
		put(path, v);
	free(v);
	return true;
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	if (t != XBT_NULL)
		hold(path, NULL);
	else
		rm_tree(path);
	return true;
}

/* Direct children of path, in libxenstore's one-allocation form. */
/* The helpers set permissions on what they write; the backend writes none it checks. */
bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t, const char *path,
			struct xs_permissions *perms, unsigned int num_perms)
{
	return true;
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned *num)
{
	char names[64][32];
	size_t n = strlen(path), total = 0;
	unsigned k = 0;
	char **out, *s;

	if (store_lost) {
		errno = EBADF;
		return NULL;
	}
	for (int i = 0; i < MAXKEYS; i++) {
		const char *p = keys[i].path, *rest;
		size_t len;
		bool dup = false;

		if (!p || strncmp(p, path, n) || p[n] != '/')
			continue;
		rest = p + n + 1;
		len = strcspn(rest, "/");
		if (len >= 32)
			continue;
		for (unsigned j = 0; j < k; j++)
			dup |= strlen(names[j]) == len && !strncmp(names[j], rest, len);
		if (dup || k == 64)
			continue;
		memcpy(names[k], rest, len);
		names[k][len] = '\0';
		total += len + 1;
		k++;
	}
	race_point(path);
	if (!k) {
		errno = ENOENT;
		return NULL;
	}
	out = malloc(k * sizeof(char *) + total);
	s = (char *)(out + k);
	for (unsigned j = 0; j < k; j++) {
		out[j] = s;
		strcpy(s, names[j]);
		s += strlen(names[j]) + 1;
	}
	*num = k;
	return out;
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	if (!strncmp(path, "/local/domain/1/device/", 23))
		fe_watches++;
	pending_watch = true;
	return true;
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	if (!strncmp(path, "/local/domain/1/device/", 23))
		fe_watches--;
	return true;
}

char **xs_check_watch(struct xs_handle *h)
{
	char **ev;

	if (!pending_watch) {
		errno = EAGAIN;
		return NULL;
	}
	pending_watch = false;
	ev = calloc(2, sizeof(char *));
	ev[XS_WATCH_PATH] = "";
	ev[XS_WATCH_TOKEN] = "";
	return ev;
}

/* One transaction at a time (the backend's svxs_transaction), described above. */
xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	ck_assert(!txn_open);
	txn_open = true;
	txn_gen = store_gen;
	return 1;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	bool commit = !abort && txn_gen == store_gen;

	ck_assert(txn_open);
	txn_open = false;
	for (int i = 0; i < nheld; i++) {
		if (commit && held[i].val)
			put(held[i].path, held[i].val);
		else if (commit)
			rm_tree(held[i].path);
		free(held[i].path);
		free(held[i].val);
	}
	nheld = 0;
	if (!abort && !commit) {
		errno = EAGAIN;
		return false;
	}
	return true;
}

bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
	if (store_lost) {
		errno = EBADF;
		return false;
	}
	return domid == 0 || dom_alive;
}

/* The main loop's epoll glue, which lives in nb_main.c beside main(). */
int nb_daemon_tap_add(struct nb_daemon *dd, struct nb_queue *q)
{
	return 0;
}

void nb_daemon_tap_del(struct nb_daemon *dd, struct nb_queue *q)
{
}

void nb_daemon_tap_sync(struct nb_daemon *dd, struct nb_queue *q)
{
}

#define BE "/local/domain/0/backend/vif/1"
#define FE "/local/domain/1/device/vif"

static char *get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *get(const char *fmt, ...)
{
	static char buf[256];
	char path[256];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	i = find_key(path);
	snprintf(buf, sizeof(buf), "%s", i < 0 ? "(none)" : keys[i].val);
	return buf;
}

static void setf(const char *val, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void setf(const char *val, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	put(path, val);
}

static void fire(void)
{
	pending_watch = true;
	nb_xenbus_watch_fired(&d);
}

/* What xl writes for vif devid of domain 1. */
static void toolstack_add(int devid, const char *extra_key, const char *extra_val)
{
	char v[64];

	snprintf(v, sizeof(v), FE "/%d", devid);
	setf(v, BE "/%d/frontend", devid);
	setf("1", BE "/%d/frontend-id", devid);
	setf("1", BE "/%d/online", devid);
	setf("1", BE "/%d/state", devid);
	setf("00:16:3e:00:00:01", BE "/%d/mac", devid);
	setf("svtxbr0", BE "/%d/bridge", devid);
	snprintf(v, sizeof(v), "%d", devid);
	setf(v, BE "/%d/handle", devid);
	if (extra_key)
		setf(extra_val, BE "/%d/%s", devid, extra_key);
	setf(BE, FE "/%d/backend", devid);
	setf("1", FE "/%d/state", devid);
}

/* What netfront writes to connect one queue of devid (rings at refs tx, rx). */
static void frontend_keys(int devid, const char *sub, int tx, int rx, bool split)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", tx);
	setf(v, FE "/%d%s/tx-ring-ref", devid, sub);
	snprintf(v, sizeof(v), "%d", rx);
	setf(v, FE "/%d%s/rx-ring-ref", devid, sub);
	if (split) {
		setf("5", FE "/%d%s/event-channel-tx", devid, sub);
		setf("6", FE "/%d%s/event-channel-rx", devid, sub);
	} else {
		setf("5", FE "/%d%s/event-channel", devid, sub);
	}
	setf("1", FE "/%d/request-rx-copy", devid);
	setf("1", FE "/%d/feature-rx-notify", devid);
	setf("1", FE "/%d/feature-sg", devid);
	setf("1", FE "/%d/feature-gso-tcpv4", devid);
}

static struct nb_vif *vif(uint32_t devid)
{
	return (struct nb_vif *)be_backend_find(&d.vifs, 1, devid);
}

static void xb_setup(void)
{
	if (unshare(CLONE_NEWNET))
		ck_abort_msg("unshare(CLONE_NEWNET): %s (this suite needs root)", strerror(errno));
	tnh_setup();
	memset(&d, 0, sizeof(d));
	d.xs = (struct xs_handle *)&d; /* never dereferenced by the fakes */
	d.gt = tnh_q->gt;
	d.xce = tnh_q->xce;
	d.link = nb_link_open();
	ck_assert_ptr_nonnull(d.link);
	ck_assert_int_eq(nb_xenbus_start(&d), 0);
}

static void xb_teardown(void)
{
	nb_xenbus_stop(&d);
	nb_link_close(d.link);
	tnh_teardown();
}

START_TEST(probe_creates_tap_and_offers_features)
{
	toolstack_add(0, NULL, NULL);
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "2");
	ck_assert_str_eq(get(BE "/0/hotplug-status"), "connected");
	ck_assert_str_eq(get(BE "/0/feature-rx-copy"), "1");
	ck_assert_str_eq(get(BE "/0/feature-sg"), "1");
	ck_assert_str_eq(get(BE "/0/feature-split-event-channels"), "1");
	ck_assert_str_eq(get(BE "/0/multi-queue-max-queues"), "4");
	ck_assert_uint_ne(if_nametoindex("vif1.0"), 0);
	ck_assert(nb_link_exists(d.link, "svtxbr0"));
}
END_TEST

START_TEST(vifname_honoured_and_checked)
{
	toolstack_add(0, "vifname", "svtguest0");
	toolstack_add(1, "vifname", "bad/name");
	fire();
	ck_assert_uint_ne(if_nametoindex("svtguest0"), 0);
	ck_assert_str_eq(get(BE "/1/state"), "6");
	ck_assert_str_eq(get(BE "/1/hotplug-status"), "error");
	ck_assert_ptr_nonnull(strstr(get(BE "/1/error"), "vifname"));
}
END_TEST

START_TEST(wrong_frontend_path_refused)
{
	toolstack_add(0, NULL, NULL);
	setf("/local/domain/2/device/vif/0", BE "/0/frontend");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "6");
	ck_assert_str_eq(get(BE "/0/hotplug-status"), "error");
	ck_assert_uint_eq(if_nametoindex("vif1.0"), 0);
}
END_TEST

START_TEST(bad_rate_refused)
{
	toolstack_add(0, "rate", "lots");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "6");
}
END_TEST

START_TEST(mtu_applied_and_checked)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	toolstack_add(0, "mtu", "9000");
	toolstack_add(1, "mtu", "20");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "2");
	strcpy(ifr.ifr_name, "vif1.0");
	ck_assert_int_eq(ioctl(s, SIOCGIFMTU, &ifr), 0);
	ck_assert_int_eq(ifr.ifr_mtu, 9000);
	ck_assert_str_eq(get(BE "/1/state"), "6");
	close(s);
}
END_TEST

START_TEST(connects_with_split_channels)
{
	struct nb_queue *q;

	toolstack_add(0, "rate", "10000,20000");
	fire();
	frontend_keys(0, "", 0, 1, true);
	setf("4", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "4");
	q = &vif(0)->q[0];
	ck_assert_uint_eq(vif(0)->nqueues, 1);
	ck_assert(q->connected);
	ck_assert_uint_ne(q->tx_port, q->rx_port);
	ck_assert(q->feat.sg && q->feat.gso_tcpv4 && !q->feat.gso_tcpv6 && q->feat.csum);
	ck_assert_uint_eq(q->credit.bytes, 10000);
	ck_assert_uint_eq(q->credit.usecs, 20000);
}
END_TEST

START_TEST(connects_two_queues)
{
	toolstack_add(0, NULL, NULL);
	fire();
	setf("2", FE "/0/multi-queue-num-queues");
	frontend_keys(0, "/queue-0", 4, 5, false);
	frontend_keys(0, "/queue-1", 6, 7, true);
	setf("1", FE "/0/feature-no-csum-offload");
	setf("4", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "4");
	ck_assert_uint_eq(vif(0)->nqueues, 2);
	ck_assert(vif(0)->q[1].connected);
	ck_assert_int_ge(vif(0)->q[1].tap_fd, 0);
	ck_assert_int_ne(vif(0)->q[1].tap_fd, vif(0)->q[0].tap_fd);
	ck_assert_uint_eq(vif(0)->q[0].tx_port, vif(0)->q[0].rx_port);
	ck_assert(!vif(0)->q[1].feat.csum);
}
END_TEST

START_TEST(hostile_keys_close_only_that_vif)
{
	toolstack_add(0, NULL, NULL);
	toolstack_add(1, NULL, NULL);
	toolstack_add(2, NULL, NULL);
	toolstack_add(3, NULL, NULL);
	fire();
	/* 0: too many queues; 1: no rx-copy; 2: a ring ref that is not a number; 3: honest. */
	frontend_keys(0, "", 0, 1, false);
	setf("9", FE "/0/multi-queue-num-queues");
	frontend_keys(1, "", 0, 1, false);
	setf("0", FE "/1/request-rx-copy");
	frontend_keys(2, "", 0, 1, false);
	setf("1x", FE "/2/tx-ring-ref");
	frontend_keys(3, "", 0, 1, false);
	for (int i = 0; i < 4; i++)
		setf("4", FE "/%d/state", i);
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "5");
	ck_assert_ptr_nonnull(strstr(get(BE "/0/error"), "multi-queue-num-queues"));
	ck_assert_str_eq(get(BE "/1/state"), "5");
	ck_assert_ptr_nonnull(strstr(get(BE "/1/error"), "request-rx-copy"));
	ck_assert_str_eq(get(BE "/2/state"), "5");
	ck_assert_str_eq(get(BE "/3/state"), "4");
	ck_assert(vif(3)->q[0].connected);
	ck_assert_uint_eq(vif(0)->nqueues, 0);
}
END_TEST

START_TEST(uninitialised_ring_refused_before_binding)
{
	memset(TNH_PAGE(4), 0x5a, 4096); /* req_prod 0x5a5a5a5a */
	toolstack_add(0, NULL, NULL);
	fire();
	frontend_keys(0, "", 4, 1, false);
	setf("4", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "5");
	ck_assert_ptr_nonnull(strstr(get(BE "/0/error"), "tx ring not initialised"));
	ck_assert_uint_eq(vif(0)->q[0].tx_port, 0);
	ck_assert_ptr_null(vif(0)->q[0].tx_sring);
}
END_TEST

START_TEST(data_plane_fatal_disables_vif)
{
	toolstack_add(0, NULL, NULL);
	fire();
	frontend_keys(0, "", 0, 1, false);
	setf("4", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "4");
	nb_xenbus_fatal(&d, vif(0), "tx ring overflow");
	ck_assert_str_eq(get(BE "/0/state"), "5");
	ck_assert_ptr_nonnull(strstr(get(BE "/0/error"), "tx ring overflow"));
	ck_assert(!vif(0)->q[0].connected);
	/* Still Connected in the frontend's eyes: no reconnect until it closes. */
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "5");
	setf("6", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "6");
	setf("1", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "2");
	setf("4", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "4");
}
END_TEST

START_TEST(frontend_closing_then_closed)
{
	toolstack_add(0, NULL, NULL);
	fire();
	frontend_keys(0, "", 0, 1, false);
	setf("4", FE "/0/state");
	fire();
	setf("5", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "5");
	ck_assert(!vif(0)->q[0].connected);
	setf("6", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "6");
	/* The TAP stays while the vif exists. */
	ck_assert_uint_ne(if_nametoindex("vif1.0"), 0);
}
END_TEST

START_TEST(closed_stays_closed)
{
	toolstack_add(0, NULL, NULL);
	fire();
	frontend_keys(0, "", 0, 1, false);
	setf("4", FE "/0/state");
	fire();
	setf("6", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "6");
	/* Our own state write fires our watch: the next passes must write nothing. */
	state_writes = 0;
	fire();
	fire();
	ck_assert_uint_eq(state_writes, 0);
	ck_assert_str_eq(get(BE "/0/state"), "6");
}
END_TEST

START_TEST(lost_store_removes_nothing)
{
	toolstack_add(0, NULL, NULL);
	fire();
	ck_assert_uint_ne(if_nametoindex("vif1.0"), 0);
	/* A failed listing is no removed directory, a failed query no dead domain. */
	store_lost = true;
	fire();
	store_lost = false;
	ck_assert_ptr_nonnull(vif(0));
	ck_assert_uint_ne(if_nametoindex("vif1.0"), 0);
	ck_assert_str_eq(get(BE "/0/state"), "2");
}
END_TEST

START_TEST(detach_waits_for_connected_frontend)
{
	toolstack_add(0, NULL, NULL);
	toolstack_add(1, NULL, NULL);
	fire();
	frontend_keys(0, "", 0, 1, false);
	setf("4", FE "/0/state");
	fire();
	/* vif 0 is in use: Closing until the frontend closes; vif 1 never connected: Closed. */
	setf("0", BE "/0/online");
	setf("5", BE "/0/state");
	setf("0", BE "/1/online");
	setf("5", BE "/1/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "5");
	ck_assert_str_eq(get(BE "/1/state"), "6");
	setf("6", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "6");
	/* The toolstack removes the directories: the TAPs go. */
	rm_tree(BE "/0");
	rm_tree(BE "/1");
	fire();
	ck_assert_ptr_null(vif(0));
	ck_assert_uint_eq(if_nametoindex("vif1.0"), 0);
	ck_assert_uint_eq(if_nametoindex("vif1.1"), 0);
}
END_TEST

START_TEST(released_domain_cleaned_up)
{
	toolstack_add(0, NULL, NULL);
	fire();
	ck_assert_uint_ne(if_nametoindex("vif1.0"), 0);
	dom_alive = false;
	fire();
	ck_assert_ptr_null(d.vifs.devs);
	ck_assert_uint_eq(if_nametoindex("vif1.0"), 0);
	ck_assert_str_eq(get(BE "/0/state"), "(none)");
}
END_TEST

/* vif 0 connected on rings at grant refs 4 and 5. */
static void connect_vif0(void)
{
	toolstack_add(0, NULL, NULL);
	fire();
	frontend_keys(0, "", 4, 5, false);
	setf("4", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "4");
	ck_assert_uint_eq(tnh_ref_maps(4), 1);
	ck_assert_uint_eq(tnh_ref_maps(5), 1);
	ck_assert_int_eq(fe_watches, 1);
}

/* vif 0 is freed (rings, TAP, watch) and nothing re-created its removed directory. */
static void assert_vif0_freed(void)
{
	ck_assert_int_eq(count_keys(BE "/0"), 0);
	ck_assert_ptr_null(vif(0));
	ck_assert_uint_eq(if_nametoindex("vif1.0"), 0);
	ck_assert_uint_eq(tnh_ref_maps(4), 0);
	ck_assert_uint_eq(tnh_ref_maps(5), 0);
	ck_assert_int_eq(fe_watches, 0);
}

START_TEST(detach_removed_after_listing)
{
	/* xl network-detach: Closed, then the toolstack removes the directory ... */
	connect_vif0();
	setf("0", BE "/0/online");
	setf("5", BE "/0/state");
	fire();
	setf("6", FE "/0/state");
	fire();
	ck_assert_str_eq(get(BE "/0/state"), "6");
	/* ... just after a scan listed it: that scan finds no state, writes none, frees the vif. */
	race_arm(BE, 1, BE "/0");
	fire();
	assert_vif0_freed();
}
END_TEST

START_TEST(removed_between_read_and_switch)
{
	/* The frontend closes; the directory goes after our read of the state, before our write. */
	connect_vif0();
	setf("6", FE "/0/state");
	race_arm(BE "/0/state", 1, BE "/0");
	fire();
	assert_vif0_freed();
}
END_TEST

START_TEST(removed_during_switch_transaction_retried)
{
	/* Removed after the switch read the state: its commit fails, the retry writes nothing. */
	connect_vif0();
	setf("6", FE "/0/state");
	race_arm(BE "/0/state", 2, BE "/0");
	fire();
	ck_assert_int_eq(race_n, 0);
	assert_vif0_freed();
}
END_TEST

START_TEST(removed_during_probe_writes_no_features)
{
	/* Removed while probe reads the toolstack's keys: no feature key re-creates it. */
	toolstack_add(0, NULL, NULL);
	race_arm(BE "/0/rate", 1, BE "/0");
	fire();
	ck_assert_int_eq(race_n, 0);
	ck_assert_int_eq(count_keys(BE "/0"), 0);
	ck_assert_ptr_null(vif(0));
	ck_assert_uint_eq(if_nametoindex("vif1.0"), 0);
	ck_assert_int_eq(fe_watches, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_xenbus");
	TCase *tc = tcase_create("xenbus");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, xb_setup, xb_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, probe_creates_tap_and_offers_features);
	tcase_add_test(tc, vifname_honoured_and_checked);
	tcase_add_test(tc, wrong_frontend_path_refused);
	tcase_add_test(tc, bad_rate_refused);
	tcase_add_test(tc, mtu_applied_and_checked);
	tcase_add_test(tc, connects_with_split_channels);
	tcase_add_test(tc, connects_two_queues);
	tcase_add_test(tc, hostile_keys_close_only_that_vif);
	tcase_add_test(tc, uninitialised_ring_refused_before_binding);
	tcase_add_test(tc, data_plane_fatal_disables_vif);
	tcase_add_test(tc, frontend_closing_then_closed);
	tcase_add_test(tc, closed_stays_closed);
	tcase_add_test(tc, lost_store_removes_nothing);
	tcase_add_test(tc, detach_waits_for_connected_frontend);
	tcase_add_test(tc, released_domain_cleaned_up);
	tcase_add_test(tc, detach_removed_after_listing);
	tcase_add_test(tc, removed_between_read_and_switch);
	tcase_add_test(tc, removed_during_switch_transaction_retried);
	tcase_add_test(tc, removed_during_probe_writes_no_features);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
