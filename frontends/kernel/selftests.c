// SPDX-License-Identifier: MIT
// Command words that exercise xenbus, event channels, grant tables and the console ring.
#include <svk/console.h>
#include <svk/control.h>
#include <svk/events.h>
#include <svk/gnttab.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/printk.h>
#include <svk/selftests.h>
#include <svk/shinfo.h>
#include <svk/hypercall.h>
#include <svk/time.h>
#include <svk/wait.h>
#include <svk/xenbus.h>
#include <svk/xenbus_state.h>

#define PATH_MAX_LEN 256
#define MS 1000000ULL
/* How long a self-test waits for dom0 to take each step. */
#define PEER_TIMEOUT_NS (30000ULL * MS)

/* "/local/domain/<id>/data/<rest>" into @buf; false (said) if no domid. */
static bool data_path(const char *who, char *buf, size_t size, const char *rest)
{
	int id = control_domid();

	if (id < 0) {
		printk("%s: FAIL reading domid: %d\n", who, id);
		return false;
	}
	if ((size_t)ksnprintf(buf, size, "/local/domain/%d/data/%s", id, rest) >= size) {
		printk("%s: FAIL path too long\n", who);
		return false;
	}
	return true;
}

static bool need_xenbus(const char *who)
{
	if (xenbus_ready())
		return true;
	printk("%s: FAIL no xenbus\n", who);
	return false;
}

/* ---- xs-selftest --------------------------------------------------------- */

#define XS_CHECK(step, expr)                                                                       \
	do {                                                                                       \
		rc = (expr);                                                                       \
		if (rc < 0) {                                                                      \
			printk("xs-selftest: FAIL %s: %d\n", step, rc);                            \
			goto out_rm;                                                               \
		}                                                                                  \
	} while (0)

/* A key below the self-test's home. */
static const char *xs_key(char *buf, const char *home, const char *leaf)
{
	ksnprintf(buf, PATH_MAX_LEN, "%s/%s", home, leaf);
	return buf;
}

void selftest_xs(const char *arg)
{
	char home[PATH_MAX_LEN], key[PATH_MAX_LEN], val[64], list[256];
	xenbus_transaction_t t;
	int rc, tries;

	if (!need_xenbus("xs-selftest") ||
	    !data_path("xs-selftest", home, sizeof(home), "xs-selftest"))
		return;
	XS_CHECK("write a", xenbus_write(XBT_NIL, xs_key(key, home, "a"), "alpha"));
	XS_CHECK("printf b", xenbus_printf(XBT_NIL, xs_key(key, home, "b"), "%d-%s", 42, "beta"));
	XS_CHECK("read a", xenbus_read(XBT_NIL, xs_key(key, home, "a"), val, sizeof(val)));
	if (strcmp(val, "alpha")) {
		printk("xs-selftest: FAIL read a: '%s'\n", val);
		goto out_rm;
	}
	XS_CHECK("read b", xenbus_read(XBT_NIL, xs_key(key, home, "b"), val, sizeof(val)));
	if (strcmp(val, "42-beta")) {
		printk("xs-selftest: FAIL read b: '%s'\n", val);
		goto out_rm;
	}
	XS_CHECK("mkdir d", xenbus_mkdir(XBT_NIL, xs_key(key, home, "d")));
	XS_CHECK("directory", xenbus_directory(XBT_NIL, home, list, sizeof(list)));
	if (rc != 3) {
		printk("xs-selftest: FAIL directory: %d entries\n", rc);
		goto out_rm;
	}
	/* A transaction, started over while xenstored says EAGAIN. */
	for (tries = 0;; tries++) {
		XS_CHECK("transaction start", xenbus_transaction_start(&t));
		rc = xenbus_write(t, xs_key(key, home, "t"), "in-tx");
		if (rc) {
			(void)xenbus_transaction_end(t, true);
			printk("xs-selftest: FAIL write in transaction: %d\n", rc);
			goto out_rm;
		}
		rc = xenbus_transaction_end(t, false);
		if (rc != -XEN_EAGAIN || tries == 5)
			break;
	}
	XS_CHECK("transaction end", rc);
	XS_CHECK("read t", xenbus_read(XBT_NIL, xs_key(key, home, "t"), val, sizeof(val)));
	if (strcmp(val, "in-tx")) {
		printk("xs-selftest: FAIL read t: '%s'\n", val);
		goto out_rm;
	}
	XS_CHECK("rm", xenbus_rm(XBT_NIL, home));
	rc = xenbus_read(XBT_NIL, xs_key(key, home, "a"), val, sizeof(val));
	if (rc != -XEN_ENOENT) {
		printk("xs-selftest: FAIL read after rm: %d\n", rc);
		return;
	}
	printk("xs-selftest: ok (transaction retries %d)\n", tries);
	return;
out_rm:
	(void)xenbus_rm(XBT_NIL, home);
}

/* ---- xs-watch=KEY -------------------------------------------------------- */

void selftest_xs_watch(const char *arg)
{
	char path[PATH_MAX_LEN], val[128];
	int id, rc;

	if (!arg || !*arg || strchr(arg, '/')) {
		printk("xs-watch: needs a key (xs-watch=KEY)\n");
		return;
	}
	if (!need_xenbus("xs-watch") || !data_path("xs-watch", path, sizeof(path), arg))
		return;
	id = xenbus_watch(path, NULL, NULL);
	if (id < 0) {
		printk("xs-watch: FAIL watch %s: %d\n", path, id);
		return;
	}
	printk("xs-watch: watching %s\n", path);
	for (;;) {
		rc = xenbus_watch_wait(id, NULL, 0, 0);
		if (rc) {
			printk("xs-watch: FAIL waiting: %d\n", rc);
			break;
		}
		rc = xenbus_read(XBT_NIL, path, val, sizeof(val));
		if (rc == -XEN_ENOENT)
			continue; /* not written yet (the first event) */
		if (rc < 0) {
			printk("xs-watch: FAIL read: %d\n", rc);
			break;
		}
		printk("xs-watch: %s=%s\n", arg, val);
		if (!strcmp(val, "stop"))
			break;
	}
	(void)xenbus_unwatch(id);
}

/* ---- evtchn-pingpong=N[,guest] ------------------------------------------- */

static volatile unsigned long pp_events;

static void pp_handler(evtchn_port_t port, void *data)
{
	pp_events++;
}

static bool pp_more_than(void *arg)
{
	return pp_events > *(unsigned long *)arg;
}

static bool pp_never(void *arg)
{
	return false;
}
/*
 * Until dom0 says it is ready (data/pingpong-ready exists): bound to our
 * port, and done with the notification Xen raises on its side at bind.
 * Then our port must be interdomain.
 */
static int pp_wait_ready(evtchn_port_t port)
{
	char path[PATH_MAX_LEN], val[8];
	struct evtchn_status st;
	int id, rc;

	if (!data_path("evtchn-pingpong", path, sizeof(path), "pingpong-ready"))
		return -XEN_EINVAL;
	id = xenbus_watch(path, NULL, NULL);
	if (id < 0)
		return id;
	do {
		rc = xenbus_watch_wait(id, NULL, 0, PEER_TIMEOUT_NS);
		if (!rc)
			rc = xenbus_read(XBT_NIL, path, val, sizeof(val));
	} while (rc == -XEN_ENOENT);
	(void)xenbus_unwatch(id);
	if (rc < 0)
		return rc;
	rc = evtchn_status(port, &st);
	if (!rc && st.status != EVTCHNSTAT_interdomain)
		rc = -XEN_ENOTCONN;
	return rc;
}

void selftest_pingpong(const char *arg)
{
	char path[PATH_MAX_LEN], num[24];
	uint64_t n, t0, dt, min = UINT64_MAX, max = 0, sum = 0;
	unsigned long seen = 0, i;
	evtchn_port_t port;
	const char *comma = arg ? strchr(arg, ',') : NULL;
	bool initiator = false;
	size_t len;
	int rc;

	if (!arg) {
		printk("evtchn-pingpong: needs a number (evtchn-pingpong=N)\n");
		return;
	}
	len = comma ? (size_t)(comma - arg) : strlen(arg);
	if (len >= sizeof(num) || (comma && strcmp(comma + 1, "guest"))) {
		printk("evtchn-pingpong: bad argument '%s'\n", arg);
		return;
	}
	memcpy(num, arg, len);
	num[len] = '\0';
	initiator = comma != NULL;
	if (parse_u64(num, &n) || n == 0) {
		printk("evtchn-pingpong: bad number '%s'\n", num);
		return;
	}
	if (!need_xenbus("evtchn-pingpong") ||
	    !data_path("evtchn-pingpong", path, sizeof(path), "pingpong-port"))
		return;
	rc = evtchn_alloc_unbound(0, &port);
	if (rc) {
		printk("evtchn-pingpong: FAIL alloc_unbound: %d\n", rc);
		return;
	}
	pp_events = 0;
	rc = evtchn_bind(port, pp_handler, NULL);
	if (rc) {
		printk("evtchn-pingpong: FAIL bind: %d\n", rc);
		(void)evtchn_close(port);
		return;
	}
	rc = xenbus_printf(XBT_NIL, path, "%u", port);
	if (rc) {
		printk("evtchn-pingpong: FAIL writing %s: %d\n", path, rc);
		goto out_close;
	}
	printk("evtchn-pingpong: port %u in %s, %s\n", port, path,
	       initiator ? "guest pings" : "dom0 pings");
	if (initiator) {
		rc = pp_wait_ready(port);
		if (rc) {
			printk("evtchn-pingpong: FAIL dom0 did not connect: %d\n", rc);
			goto out_close;
		}
	}
	for (i = 0; i < n; i++) {
		t0 = time_now_ns();
		if (initiator && (rc = evtchn_notify(port)) != 0)
			break;
		rc = wait_until(pp_more_than, &seen,
				i == 0 && !initiator ? PEER_TIMEOUT_NS : 5000 * MS);
		if (rc)
			break;
		seen++;
		if (!initiator && (rc = evtchn_notify(port)) != 0)
			break;
		dt = time_now_ns() - t0;
		sum += dt;
		min = dt < min ? dt : min;
		max = dt > max ? dt : max;
	}
	if (rc) {
		printk("evtchn-pingpong: FAIL after %lu of %llu: %d\n", i, (unsigned long long)n,
		       rc);
		goto out_close;
	}
	if (initiator)
		printk("evtchn-pingpong: rounds=%llu min_ns=%llu avg_ns=%llu max_ns=%llu\n",
		       (unsigned long long)n, (unsigned long long)min,
		       (unsigned long long)(sum / n), (unsigned long long)max);
	else
		printk("evtchn-pingpong: answered %llu\n", (unsigned long long)n);
	if (data_path("evtchn-pingpong", path, sizeof(path), "pingpong-done"))
		(void)xenbus_printf(XBT_NIL, path, "%llu", (unsigned long long)n);
out_close:
	(void)evtchn_close(port);
}

/* ---- evtchn-peer=N: an event channel between two guests --------------- */

/* data/<key> as a number, watching for it up to the peer timeout. */
static int wait_data_number(const char *key, uint64_t *out)
{
	char path[PATH_MAX_LEN], val[32];
	int id, rc;

	if (!data_path("evtchn-peer", path, sizeof(path), key))
		return -XEN_EINVAL;
	id = xenbus_watch(path, NULL, NULL);
	if (id < 0)
		return id;
	for (;;) {
		rc = xenbus_read(XBT_NIL, path, val, sizeof(val));
		if (rc >= 0 && !parse_u64(val, out)) {
			rc = 0;
			break;
		}
		rc = xenbus_watch_wait(id, NULL, 0, PEER_TIMEOUT_NS);
		if (rc)
			break;
	}
	(void)xenbus_unwatch(id);
	return rc;
}

/*
 * Two guests, wired by dom0 through their data/ directories: dom0 writes
 * peer-dom (the other guest's id) and peer-role ("1": serve, "2": ping)
 * into each.  The server offers a port to its peer and writes it to its
 * own data/my-port; dom0 copies it into the pinger's data/peer-port; the
 * pinger binds and sends N notifies, each answered by the server.
 */
void selftest_peer(const char *arg)
{
	uint64_t n, peer, role, rport, t0, dt, min = UINT64_MAX, max = 0, sum = 0;
	char path[PATH_MAX_LEN];
	unsigned long seen = 0, i;
	evtchn_port_t port;
	int rc;

	if (!arg || parse_u64(arg, &n) || n == 0) {
		printk("evtchn-peer: needs a number of rounds (evtchn-peer=N)\n");
		return;
	}
	if (!need_xenbus("evtchn-peer"))
		return;
	rc = wait_data_number("peer-dom", &peer);
	if (!rc)
		rc = wait_data_number("peer-role", &role);
	if (rc || peer >= DOMID_FIRST_RESERVED || (role != 1 && role != 2)) {
		printk("evtchn-peer: FAIL no peer-dom/peer-role from dom0: %d\n", rc);
		return;
	}
	pp_events = 0;
	if (role == 1) {
		rc = evtchn_alloc_unbound((domid_t)peer, &port);
		if (!rc)
			rc = evtchn_bind(port, pp_handler, NULL);
		if (rc) {
			printk("evtchn-peer: FAIL offering a port: %d\n", rc);
			return;
		}
		if (!data_path("evtchn-peer", path, sizeof(path), "my-port") ||
		    xenbus_printf(XBT_NIL, path, "%u", port)) {
			printk("evtchn-peer: FAIL publishing the port\n");
			goto out_close;
		}
		for (i = 0; i < n; i++) {
			rc = wait_until(pp_more_than, &seen, PEER_TIMEOUT_NS);
			if (rc)
				break;
			seen++;
			rc = evtchn_notify(port);
			if (rc)
				break;
		}
		if (rc)
			printk("evtchn-peer: FAIL after %lu of %llu: %d\n", i,
			       (unsigned long long)n, rc);
		else
			printk("evtchn-peer: answered %llu\n", (unsigned long long)n);
		goto out_close;
	}
	rc = wait_data_number("peer-port", &rport);
	if (!rc)
		rc = evtchn_bind_interdomain((domid_t)peer, (evtchn_port_t)rport, &port);
	if (!rc)
		rc = evtchn_bind(port, pp_handler, NULL);
	if (rc) {
		printk("evtchn-peer: FAIL binding to %llu:%llu: %d\n", (unsigned long long)peer,
		       (unsigned long long)rport, rc);
		return;
	}
	/* A port starts pending when bound (Xen's rule): let that one pass. */
	(void)wait_until(pp_more_than, &seen, 100 * MS);
	seen = pp_events;
	for (i = 0; i < n; i++) {
		t0 = time_now_ns();
		rc = evtchn_notify(port);
		if (!rc)
			rc = wait_until(pp_more_than, &seen, 5000 * MS);
		if (rc)
			break;
		seen++;
		dt = time_now_ns() - t0;
		sum += dt;
		min = dt < min ? dt : min;
		max = dt > max ? dt : max;
	}
	if (rc)
		printk("evtchn-peer: FAIL after %lu of %llu: %d\n", i, (unsigned long long)n, rc);
	else
		printk("evtchn-peer: rounds=%llu min_ns=%llu avg_ns=%llu max_ns=%llu\n",
		       (unsigned long long)n, (unsigned long long)min,
		       (unsigned long long)(sum / n), (unsigned long long)max);
out_close:
	(void)evtchn_close(port);
}

/* ---- grant-selftest ------------------------------------------------------ */

/* The byte the guest puts at @i, and the one dom0 writes back. */
#define GUEST_BYTE(i) ((uint8_t)((i) ^ 0x5a))
#define DOM0_BYTE(i) ((uint8_t)((i) ^ 0xa5))

void selftest_grant(const char *arg)
{
	char ref_path[PATH_MAX_LEN], done_path[PATH_MAX_LEN], val[32];
	uint8_t *page;
	bool passed = false;
	int ref, rc, id;
	size_t i;

	if (!need_xenbus("grant-selftest"))
		return;
	if (!gnttab_ready()) {
		printk("grant-selftest: FAIL no grant table\n");
		return;
	}
	if (!data_path("grant-selftest", ref_path, sizeof(ref_path), "grant-ref") ||
	    !data_path("grant-selftest", done_path, sizeof(done_path), "grant-done"))
		return;
	page = page_alloc();
	if (!page) {
		printk("grant-selftest: FAIL no memory\n");
		return;
	}
	for (i = 0; i < PAGE_SIZE; i++)
		page[i] = GUEST_BYTE(i);
	ref = gnttab_grant_access(0, virt_to_mfn(page), false);
	if (ref < 0) {
		printk("grant-selftest: FAIL grant: %d\n", ref);
		page_free(page);
		return;
	}
	(void)xenbus_rm(XBT_NIL, done_path);
	id = xenbus_watch(done_path, NULL, NULL);
	if (id < 0) {
		printk("grant-selftest: FAIL watch: %d\n", id);
		goto out_end;
	}
	rc = xenbus_printf(XBT_NIL, ref_path, "%d", ref);
	if (rc) {
		printk("grant-selftest: FAIL writing %s: %d\n", ref_path, rc);
		goto out_unwatch;
	}
	printk("grant-selftest: ref %d in %s\n", ref, ref_path);
	for (;;) {
		rc = xenbus_watch_wait(id, NULL, 0, PEER_TIMEOUT_NS);
		if (rc) {
			printk("grant-selftest: FAIL waiting for %s: %d\n", done_path, rc);
			goto out_unwatch;
		}
		rc = xenbus_read(XBT_NIL, done_path, val, sizeof(val));
		if (rc >= 0)
			break;
	}
	if (strcmp(val, "ok")) {
		printk("grant-selftest: FAIL dom0 says '%s'\n", val);
		goto out_unwatch;
	}
	for (i = 0; i < PAGE_SIZE && page[i] == DOM0_BYTE(i); i++)
		;
	if (i < PAGE_SIZE) {
		printk("grant-selftest: FAIL byte %zu is %#x, not %#x\n", i, page[i], DOM0_BYTE(i));
		goto out_unwatch;
	}
	passed = true;
out_unwatch:
	(void)xenbus_unwatch(id);
out_end:
	(void)xenbus_rm(XBT_NIL, ref_path);
	/* dom0 may still be unmapping: give it a second. */
	for (i = 0; i < 100; i++) {
		int end = gnttab_end_access((grant_ref_t)ref);

		if (end != -XEN_EBUSY) {
			if (end)
				printk("grant-selftest: FAIL end_access: %d\n", end);
			else
				page_free(page);
			if (!end && passed)
				printk("grant-selftest: ok\n");
			return;
		}
		(void)wait_until(pp_never, NULL, 10 * MS);
	}
	printk("grant-selftest: FAIL dom0 kept ref %d mapped\n", ref);
}

/* ---- console-echo -------------------------------------------------------- */

void selftest_console_echo(const char *arg)
{
	char line[CONSOLE_LINE_MAX];
	int n;

	if (!console_ring_active()) {
		printk("console-echo: FAIL no console ring\n");
		return;
	}
	printk("console-echo: type lines, 'quit' ends\n");
	for (;;) {
		n = console_read_line(line, sizeof(line), 0);
		if (n < 0) {
			printk("console-echo: FAIL reading: %d\n", n);
			return;
		}
		if (!strcmp(line, "quit"))
			break;
		printk("echo: %s\n", line);
	}
	printk("console-echo: quit\n");
}

/* ---- xs-dev=TYPE/ID ------------------------------------------------------ */

void selftest_xs_dev(const char *arg)
{
	char type[32], backend[PATH_MAX_LEN], front[PATH_MAX_LEN];
	const char *slash = arg ? strchr(arg, '/') : NULL;
	uint64_t id;
	int rc, bstate, fstate;

	if (!slash || slash == arg || (size_t)(slash - arg) >= sizeof(type) ||
	    parse_u64(slash + 1, &id) || id > UINT32_MAX) {
		printk("xs-dev: needs TYPE/ID (xs-dev=vbd/51712)\n");
		return;
	}
	if (!need_xenbus("xs-dev"))
		return;
	memcpy(type, arg, (size_t)(slash - arg));
	type[slash - arg] = '\0';
	rc = xenbus_read_backend(type, (unsigned int)id, backend, sizeof(backend));
	if (rc < 0) {
		printk("xs-dev: %s: no backend: %d\n", arg, rc);
		return;
	}
	ksnprintf(front, sizeof(front), "device/%s/%llu", type, (unsigned long long)id);
	bstate = xenbus_read_state(backend);
	fstate = xenbus_read_state(front);
	printk("xs-dev: %s backend=%s backend-state=%d frontend-state=%d\n", arg, backend, bstate,
	       fstate);
}

/* ---- xs-read=PATH -------------------------------------------------------- */

void selftest_xs_read(const char *arg)
{
	static char val[XENSTORE_PAYLOAD_MAX + 1];
	int rc;

	if (!arg || !*arg) {
		printk("xs-read: needs a path (xs-read=PATH)\n");
		return;
	}
	if (!need_xenbus("xs-read"))
		return;
	rc = xenbus_read(XBT_NIL, arg, val, sizeof(val));
	if (rc < 0) {
		printk("xs-read: %s: %d\n", arg, rc);
		return;
	}
	/* Long values: the length, and the start and end of the value. */
	if (rc > 64)
		printk("xs-read: %s (%d bytes)=%.32s...%s\n", arg, rc, val, val + rc - 16);
	else
		printk("xs-read: %s (%d bytes)=%s\n", arg, rc, val);
}

/* ---- xs-bench=N ---------------------------------------------------------- */

void selftest_xs_bench(const char *arg)
{
	char val[32];
	uint64_t n, t0, t1;
	int rc;

	if (!arg || parse_u64(arg, &n) || n == 0) {
		printk("xs-bench: needs a number (xs-bench=N)\n");
		return;
	}
	if (!need_xenbus("xs-bench"))
		return;
	t0 = time_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		rc = xenbus_read(XBT_NIL, "domid", val, sizeof(val));
		if (rc < 0) {
			printk("xs-bench: FAIL read %llu: %d\n", (unsigned long long)i, rc);
			return;
		}
	}
	t1 = time_now_ns();
	printk("xs-bench: reads=%llu ns_per_read=%llu\n", (unsigned long long)n,
	       (unsigned long long)((t1 - t0) / n));
}

/* ---- xs-stress ----------------------------------------------------------- */

/*
 * N writes of data/stress, each read back and compared, with a line every
 * 1000: a request xenstored loses (say, in a crash) leaves this waiting
 * forever, and one answered twice puts the replies out of step.
 */
void selftest_xs_stress(const char *arg)
{
	char want[24], got[24];
	uint64_t n;
	int rc;

	if (!arg || parse_u64(arg, &n) || n == 0) {
		printk("xs-stress: needs a number (xs-stress=N)\n");
		return;
	}
	if (!need_xenbus("xs-stress"))
		return;
	for (uint64_t i = 1; i <= n; i++) {
		char *p = want + sizeof(want) - 1;
		uint64_t v = i;

		*p = '\0';
		do
			*--p = (char)('0' + v % 10);
		while (v /= 10);
		rc = xenbus_write(XBT_NIL, "data/stress", p);
		if (rc) {
			printk("xs-stress: FAIL write %llu: %d\n", (unsigned long long)i, rc);
			return;
		}
		rc = xenbus_read(XBT_NIL, "data/stress", got, sizeof(got));
		if (rc < 0 || strcmp(got, p)) {
			printk("xs-stress: FAIL read %llu: %d '%s'\n", (unsigned long long)i, rc,
			       rc < 0 ? "" : got);
			return;
		}
		if (i % 1000 == 0)
			printk("xs-stress: %llu\n", (unsigned long long)i);
	}
	printk("xs-stress: ok %llu\n", (unsigned long long)n);
}

/* ---- pv-abi -------------------------------------------------------------- */

static unsigned long pv_abi_ticks_from;

static bool pv_abi_five_ticks(void *arg)
{
	return wait_timer_fired() >= pv_abi_ticks_from + 5;
}

static bool pv_abi_never(void *arg)
{
	return false;
}

/* One line per family; returns false after printing why on a failure. */
static bool pv_abi_check(bool ok, const char *what, long got)
{
	if (!ok)
		printk("pv-abi: FAIL %s (got %ld)\n", what, got);
	return ok;
}

/*
 * The hypercall families beyond what the kernel needs to boot, from a
 * real guest: multicall, the periodic timer, runstate, watchdogs,
 * remote_shutdown and maximum_gpfn.  "pv-abi: ok" when every one behaved.
 */
void selftest_pv_abi(const char *arg)
{
	static struct multicall_entry mc[3];
	static struct vcpu_runstate_info rs;
	struct vcpu_register_runstate_memory_area ra = { .addr.v = &rs };
	struct vcpu_set_periodic_timer pt = { .period_ns = 10000000ULL };
	struct sched_watchdog wd = { .id = 0, .timeout = 600 };
	struct sched_remote_shutdown rsd = { .domain_id = DOMID_SELF, .reason = SHUTDOWN_poweroff };
	domid_t self = DOMID_SELF;
	uint64_t max_pfn;
	long rc, id;
	bool ok = true;

	mc[0] =
	    (struct multicall_entry){ .op = __HYPERVISOR_xen_version, .args = { XENVER_version } };
	mc[1] = (struct multicall_entry){ .op = 99 };
	mc[2] =
	    (struct multicall_entry){ .op = __HYPERVISOR_xen_version, .args = { XENVER_pagesize } };
	rc = HYPERVISOR_multicall(mc, 3);
	ok &= pv_abi_check(rc == 0, "multicall", rc);
	ok &= pv_abi_check((long)mc[0].result == ((4 << 16) | 17), "multicall entry 0",
			   (long)mc[0].result);
	ok &= pv_abi_check((long)mc[1].result == -XEN_ENOSYS, "multicall entry 1",
			   (long)mc[1].result);
	ok &= pv_abi_check((long)mc[2].result == 4096, "multicall entry 2", (long)mc[2].result);
	if (ok)
		printk("pv-abi: multicall: 3 entries, each result written back\n");

	if (wait_timer_available() && time_available()) {
		pv_abi_ticks_from = wait_timer_fired();
		rc = HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt);
		ok &= pv_abi_check(rc == 0, "set_periodic_timer", rc);
		/* Five ticks of 10 ms, or the 30 s one-shot backstop fires once: failure. */
		rc = wait_until(pv_abi_five_ticks, NULL, 30000000000ULL);
		ok &= pv_abi_check(rc == 0, "periodic timer ticks", rc);
		rc = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
		ok &= pv_abi_check(rc == 0, "stop_periodic_timer", rc);
		if (ok)
			printk("pv-abi: periodic timer: %lu ticks\n",
			       wait_timer_fired() - pv_abi_ticks_from);
		pt.period_ns = 1000; /* under the 1 ms floor */
		rc = HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt);
		ok &= pv_abi_check(rc == -XEN_EINVAL, "period under 1 ms refused", rc);

		rc = HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &ra);
		ok &= pv_abi_check(rc == 0, "register_runstate_memory_area", rc);
		(void)wait_until(pv_abi_never, NULL, 20000000ULL); /* blocks 20 ms */
		ok &= pv_abi_check(rs.state == RUNSTATE_running, "runstate state", rs.state);
		ok &= pv_abi_check(rs.time[RUNSTATE_blocked] > 0, "runstate blocked time",
				   (long)rs.time[RUNSTATE_blocked]);
		ok &= pv_abi_check(rs.time[RUNSTATE_running] > 0, "runstate running time",
				   (long)rs.time[RUNSTATE_running]);
		if (ok)
			printk("pv-abi: runstate: running %llu ns, blocked %llu ns\n",
			       (unsigned long long)rs.time[RUNSTATE_running],
			       (unsigned long long)rs.time[RUNSTATE_blocked]);
		ra.addr.v = NULL;
		(void)HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &ra);
	}

	id = HYPERVISOR_sched_op(SCHEDOP_watchdog, &wd);
	ok &= pv_abi_check(id == 1 || id == 2, "watchdog taken", id);
	wd = (struct sched_watchdog){ .id = (uint32_t)id, .timeout = 0 };
	rc = HYPERVISOR_sched_op(SCHEDOP_watchdog, &wd);
	ok &= pv_abi_check(rc == 0, "watchdog freed", rc);
	rc = HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rsd);
	ok &= pv_abi_check(rc == -XEN_ESRCH, "remote_shutdown of DOMID_SELF (no such id)", rc);
	rsd.domain_id = 0;
	rc = HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rsd);
	ok &= pv_abi_check(rc == -XEN_EPERM, "remote_shutdown refused to a guest", rc);
	/* Every watchdog taken: Xen's -ENOSPC. */
	{
		struct sched_watchdog w1 = { .id = 0, .timeout = 600 }, w2 = w1, w3 = w1;
		long a = HYPERVISOR_sched_op(SCHEDOP_watchdog, &w1);
		long b = HYPERVISOR_sched_op(SCHEDOP_watchdog, &w2);
		rc = HYPERVISOR_sched_op(SCHEDOP_watchdog, &w3);
		ok &= pv_abi_check(rc == -XEN_ENOSPC, "a third watchdog", rc);
		w1 = (struct sched_watchdog){ .id = (uint32_t)a, .timeout = 0 };
		w2 = (struct sched_watchdog){ .id = (uint32_t)b, .timeout = 0 };
		ok &= pv_abi_check(HYPERVISOR_sched_op(SCHEDOP_watchdog, &w1) == 0 &&
					   HYPERVISOR_sched_op(SCHEDOP_watchdog, &w2) == 0,
				   "watchdogs freed", 0);
	}
	/* Not implemented here: -ENOSYS each time (the hypervisor logs it once). */
	for (int i = 0; i < 2; i++) {
		rc = _hypercall2(__HYPERVISOR_physdev_op, 0, NULL);
		ok &= pv_abi_check(rc == -XEN_ENOSYS, "physdev_op not implemented", rc);
	}
	max_pfn = shared_info ? shared_info->arch.max_pfn : 0;
	rc = HYPERVISOR_memory_op(XENMEM_maximum_gpfn, &self);
	ok &= pv_abi_check(rc == (long)((max_pfn ? max_pfn : 1) - 1), "maximum_gpfn", rc);
	printk(ok ? "pv-abi: ok\n" : "pv-abi: FAIL\n");
}

/* watchdog=S: arm a watchdog of S seconds and never feed it (the domain is shut down). */
void selftest_watchdog(const char *arg)
{
	struct sched_watchdog wd = { .id = 0 };
	uint64_t secs;
	long id;

	if (!arg || parse_u64(arg, &secs) || secs == 0 || secs > 3600) {
		printk("watchdog: needs seconds, 1 to 3600 (watchdog=S)\n");
		return;
	}
	wd.timeout = (uint32_t)secs;
	id = HYPERVISOR_sched_op(SCHEDOP_watchdog, &wd);
	if (id <= 0)
		printk("watchdog: FAIL %ld\n", id);
	else
		printk("watchdog: %ld armed for %llu s, never fed\n", id, (unsigned long long)secs);
}

/* ---- gnttab-exhaust ------------------------------------------------------ */

/*
 * Grant one page to dom0 under every free ref until the table says
 * -ENOSPC, check each ref came once, revoke them all, and grant once more
 * (a freed ref must come back).  Touches no other domain: dom0 never maps.
 */
void selftest_gnttab_exhaust(const char *arg)
{
	static uint8_t seen[GNTTAB_MAX_FRAMES * 512];
	unsigned long mfn;
	unsigned int n = 0, i;
	uint8_t *page;
	int ref, rc = 0;

	if (!gnttab_ready()) {
		printk("gnttab-exhaust: FAIL no grant table\n");
		return;
	}
	page = page_alloc();
	if (!page) {
		printk("gnttab-exhaust: FAIL no memory\n");
		return;
	}
	mfn = virt_to_mfn(page);
	memset(seen, 0, sizeof(seen));
	while ((ref = gnttab_grant_access(0, mfn, true)) >= 0) {
		if ((unsigned int)ref >= gnttab_nr_refs() || seen[ref]++) {
			printk("gnttab-exhaust: FAIL ref %d handed out twice or out of range\n",
			       ref);
			rc = -1;
			break;
		}
		n++;
	}
	if (!rc && ref != -XEN_ENOSPC) {
		printk("gnttab-exhaust: FAIL grant: %d\n", ref);
		rc = -1;
	}
	for (i = GNTTAB_RESERVED_REFS; i < gnttab_nr_refs(); i++) {
		if (seen[i] && gnttab_end_access(i)) {
			printk("gnttab-exhaust: FAIL end_access %u\n", i);
			rc = -1;
		}
	}
	if (!rc && n != gnttab_nr_refs() - GNTTAB_RESERVED_REFS) {
		printk("gnttab-exhaust: FAIL %u refs of %u\n", n,
		       gnttab_nr_refs() - GNTTAB_RESERVED_REFS);
		rc = -1;
	}
	ref = gnttab_grant_access(0, mfn, true);
	if (ref < 0 || gnttab_end_access((grant_ref_t)ref)) {
		printk("gnttab-exhaust: FAIL no ref after freeing: %d\n", ref);
		rc = -1;
	}
	if (!rc && gnttab_end_access((grant_ref_t)ref) != -XEN_EINVAL) {
		printk("gnttab-exhaust: FAIL ending a free ref\n");
		rc = -1;
	}
	page_free(page);
	if (!rc)
		printk("gnttab-exhaust: ok (%u refs)\n", n);
}
