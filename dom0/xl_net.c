// SPDX-License-Identifier: MIT
/* xl's network devices: vif= at create, network-attach, network-detach, network-list. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>
#include "devspec.h"
#include "xl.h"
#include "xl_xs.h"

/* libxl's layout: the backend in dom0's tree, the frontend in the guest's. */
#define XL_NET_BE "/local/domain/0/backend/vif"
#define XL_NET_MAX_DEVID 1024
/* How long attach waits for netback to set the vif up, and detach for it to close. */
#define XL_NET_WAIT_MS 10000

static void xl_net_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Reads path (printf-formatted); NULL when absent.  Caller frees. */
static char *xl_net_read(struct xs_handle *xs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *xl_net_read(struct xs_handle *xs, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(xs, XBT_NULL, path, NULL);
}

/* A decimal key, or def when absent or malformed. */
static long xl_net_read_long(struct xs_handle *xs, long def, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static long xl_net_read_long(struct xs_handle *xs, long def, const char *fmt, ...)
{
	char path[256], *s, *end;
	va_list ap;
	long v;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	s = xs_read(xs, XBT_NULL, path, NULL);
	if (!s)
		return def;
	v = strtol(s, &end, 10);
	if (!s[0] || *end)
		v = def;
	free(s);
	return v;
}

static bool xl_net_exists(struct xs_handle *xs, uint32_t domid, int devid)
{
	char *s = xl_net_read(xs, XL_NET_BE "/%u/%d", domid, devid);
	char *f = s ? NULL : xl_net_read(xs, "/local/domain/%u/device/vif/%d", domid, devid);
	bool yes = s || f;

	free(s);
	free(f);
	return yes;
}

/* The lowest free device index of the domain, as libxl picks it. */
static int xl_net_next_devid(struct xs_handle *xs, uint32_t domid)
{
	for (int d = 0; d < XL_NET_MAX_DEVID; d++)
		if (!xl_net_exists(xs, domid, d))
			return d;
	return -ENOSPC;
}

/* 00:16:3e (Xen's OUI) and three random bytes, the locally-relevant top bit clear as libxl. */
static void xl_net_random_mac(uint8_t mac[6])
{
	uint8_t r[3] = { 0 };

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)clock();

		r[0] = (uint8_t)t;
		r[1] = (uint8_t)(t >> 8);
		r[2] = (uint8_t)(t >> 16);
	}
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = r[0] & 0x7f;
	mac[4] = r[1];
	mac[5] = r[2];
}

/* Writes path = value with perms (printf-formatted path) inside transaction t. */
static bool xl_net_put(struct xs_handle *xs, xs_transaction_t t, struct xs_permissions *perms,
		       const char *value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static bool xl_net_put(struct xs_handle *xs, xs_transaction_t t, struct xs_permissions *perms,
		       const char *value, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_write(xs, t, path, value, (unsigned)strlen(value)) &&
	       xs_set_permissions(xs, t, path, perms, 2);
}

/*
 * Writes one vif's backend and frontend directories (libxl's keys) in one
 * transaction.  The caller has checked the spec; *devid_io is the index
 * (-1: the next free one), set to the one used.  0 or -errno with err.
 */
static int xl_net_write(struct xs_handle *xs, uint32_t domid, const struct sv_vif *vif,
			const uint8_t mac[6], int *devid_io, char *err, size_t errlen)
{
	/* Backend: dom0 owns, the guest reads.  Frontend: the guest owns, dom0 reads. */
	struct xs_permissions be_perm[2] = { { .id = 0, .perms = XS_PERM_NONE },
					     { .id = domid, .perms = XS_PERM_READ } };
	struct xs_permissions fe_perm[2] = { { .id = domid, .perms = XS_PERM_NONE },
					     { .id = 0, .perms = XS_PERM_READ } };
	char be[96], fe[96], macs[18], v[64];
	int devid = *devid_io, tries = 0;

	snprintf(macs, sizeof(macs), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
again:
	if (devid < 0)
		devid = xl_net_next_devid(xs, domid);
	else if (*devid_io >= 0 && xl_net_exists(xs, domid, devid)) {
		snprintf(err, errlen, "vif devid %d already exists in domain %u", devid, domid);
		return -EEXIST;
	}
	if (devid < 0) {
		snprintf(err, errlen, "domain %u has no free vif index", domid);
		return devid;
	}
	snprintf(be, sizeof(be), XL_NET_BE "/%u/%d", domid, devid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%d", domid, devid);
	xs_transaction_t t = xs_transaction_start(xs);
	if (t == XBT_NULL) {
		snprintf(err, errlen, "xenstore: cannot start a transaction: %s", strerror(errno));
		return -errno;
	}
	snprintf(v, sizeof(v), "%u", domid);
	bool ok =
	    xl_net_put(xs, t, be_perm, "", XL_NET_BE "/%u", domid) &&
	    xl_net_put(xs, t, be_perm, "", "%s", be) &&
	    xl_net_put(xs, t, be_perm, fe, "%s/frontend", be) &&
	    xl_net_put(xs, t, be_perm, v, "%s/frontend-id", be) &&
	    xl_net_put(xs, t, be_perm, "1", "%s/online", be) &&
	    xl_net_put(xs, t, be_perm, "1", "%s/state", be) &&
	    xl_net_put(xs, t, be_perm, macs, "%s/mac", be) &&
	    xl_net_put(xs, t, be_perm, vif->bridge[0] ? vif->bridge : "xenbr0", "%s/bridge", be) &&
	    xl_net_put(xs, t, be_perm, vif->script[0] ? vif->script : "vif-bridge", "%s/script",
		       be) &&
	    xl_net_put(xs, t, be_perm, "vif", "%s/type", be);
	snprintf(v, sizeof(v), "%d", devid);
	ok = ok && xl_net_put(xs, t, be_perm, v, "%s/handle", be);
	if (ok && vif->ip[0])
		ok = xl_net_put(xs, t, be_perm, vif->ip, "%s/ip", be);
	if (ok && vif->vifname[0])
		ok = xl_net_put(xs, t, be_perm, vif->vifname, "%s/vifname", be);
	if (ok && vif->rate_bytes_per_interval) {
		snprintf(v, sizeof(v), "%" PRIu64 ",%" PRIu64, vif->rate_bytes_per_interval,
			 vif->rate_interval_usecs);
		ok = xl_net_put(xs, t, be_perm, v, "%s/rate", be);
	}
	if (ok && vif->mtu) {
		snprintf(v, sizeof(v), "%u", vif->mtu);
		ok = xl_net_put(xs, t, be_perm, v, "%s/mtu", be);
	}
	ok = ok && xl_net_put(xs, t, be_perm, "", "/local/domain/%u/device/vif", domid) &&
	     xl_net_put(xs, t, fe_perm, "", "%s", fe) &&
	     xl_net_put(xs, t, fe_perm, be, "%s/backend", fe) &&
	     xl_net_put(xs, t, fe_perm, "0", "%s/backend-id", fe) &&
	     xl_net_put(xs, t, fe_perm, macs, "%s/mac", fe) &&
	     xl_net_put(xs, t, fe_perm, "1", "%s/state", fe);
	snprintf(v, sizeof(v), "%d", devid);
	ok = ok && xl_net_put(xs, t, fe_perm, v, "%s/handle", fe);
	if (!ok) {
		int e = errno;

		xs_transaction_end(xs, t, true);
		snprintf(err, errlen, "xenstore: cannot write %s: %s", be, strerror(e));
		return -e;
	}
	if (!xs_transaction_end(xs, t, false)) {
		if (errno == EAGAIN && ++tries < 10) {
			devid = *devid_io;
			goto again;
		}
		snprintf(err, errlen, "xenstore: cannot commit %s: %s", be, strerror(errno));
		return -errno;
	}
	*devid_io = devid;
	return 0;
}

/* Checks what the parser cannot: only dom0 backends and the vif/ioemu types exist here. */
static int xl_net_check(const struct sv_vif *vif, char *err, size_t errlen)
{
	if (vif->backend[0] && strcmp(vif->backend, "0") && strcmp(vif->backend, "Domain-0")) {
		snprintf(err, errlen, "vif: backend=%s: only dom0 (Domain-0) serves vifs here",
			 vif->backend);
		return -EINVAL;
	}
	if (vif->type[0] && strcmp(vif->type, "vif") && strcmp(vif->type, "ioemu")) {
		snprintf(err, errlen, "vif: type=%s: expected vif or ioemu", vif->type);
		return -EINVAL;
	}
	return 0;
}

/* Adds one vif; prints its own errors.  *devid_out gets the index used. */
static int xl_net_add(struct xs_handle *xs, uint32_t domid, const struct sv_vif *vif,
		      int *devid_out)
{
	uint8_t mac[6];
	char err[512];
	int devid = vif->devid, ret;

	ret = xl_net_check(vif, err, sizeof(err));
	if (!ret) {
		if (vif->mac_set)
			memcpy(mac, vif->mac, sizeof(mac));
		else
			xl_net_random_mac(mac);
		ret = xl_net_write(xs, domid, vif, mac, &devid, err, sizeof(err));
	}
	if (ret) {
		xl_err("%s", err);
		return ret;
	}
	*devid_out = devid;
	return 0;
}

static int xl_net_wait_hotplug(struct xs_handle *xs, uint32_t domid, int devid);

/* Whether netback's socket is in the run directory (it is running, or was). */
static bool xl_net_backend_present(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/netback.sock", svctl_rundir());
	return access(path, F_OK) == 0;
}

/*
 * Writes every vif of the config, then (as libxl waits for its hotplug
 * scripts) waits for netback to have set each one up, so that a bridge or
 * name it refuses fails the create with its reason.
 */
int xl_net_create_all(struct xs_handle *xs, uint32_t domid, const struct sv_config *cfg)
{
	int devids[cfg->nr_vifs ? cfg->nr_vifs : 1];

	for (size_t i = 0; i < cfg->nr_vifs; i++) {
		int ret = xl_net_add(xs, domid, &cfg->vifs[i], &devids[i]);

		if (ret)
			return ret;
	}
	if (!cfg->nr_vifs)
		return 0;
	if (!xl_net_backend_present()) {
		fprintf(stderr, "xl: warning: netback is not running: %zu vif%s wait%s for it\n",
			cfg->nr_vifs, cfg->nr_vifs == 1 ? "" : "s", cfg->nr_vifs == 1 ? "s" : "");
		return 0;
	}
	for (size_t i = 0; i < cfg->nr_vifs; i++) {
		int ret = xl_net_wait_hotplug(xs, domid, devids[i]);

		if (ret)
			return ret;
	}
	return 0;
}

/* Opens the hypervisor and store and resolves a domain; prints its own errors. */
static int xl_net_open(const char *dom, struct svctl **c, struct xs_handle **xs, uint32_t *domid)
{
	*c = xl_connect();
	if (!*c)
		return -ENOTCONN;
	if (xl_domid(*c, dom, domid))
		return -ESRCH;
	*xs = xl_xs_open();
	if (!*xs) {
		xl_err("cannot reach xenstored: %s", strerror(errno));
		return -ENOTCONN;
	}
	return 0;
}

/* Waits for netback to set the new vif up: hotplug-status connected or error. */
static int xl_net_wait_hotplug(struct xs_handle *xs, uint32_t domid, int devid)
{
	for (unsigned waited = 0; waited < XL_NET_WAIT_MS; waited += 50) {
		char *s = xl_net_read(xs, XL_NET_BE "/%u/%d/hotplug-status", domid, devid);
		bool connected = s && !strcmp(s, "connected"), failed = s && !strcmp(s, "error");

		free(s);
		if (connected)
			return 0;
		if (failed) {
			char *why = xl_net_read(xs, XL_NET_BE "/%u/%d/error", domid, devid);

			xl_err("vif %d of domain %u: netback: %s", devid, domid,
			       why ? why : "setting the interface up failed");
			free(why);
			return -EIO;
		}
		xl_net_sleep_ms(50);
	}
	fprintf(stderr, "xl: warning: netback has not set vif %d up yet (is it running?)\n", devid);
	return 0;
}

int xl_cmd_network_attach(int argc, char **argv)
{
	struct svctl *c = NULL;
	struct xs_handle *xs = NULL;
	struct sv_vif vif;
	char spec[4096] = "", err[512];
	uint32_t domid;
	int devid, ret = 1;

	if (argc < 2) {
		xl_err("usage: xl network-attach <Domain> [mac=..] [bridge=..] [ip=..] ...");
		return 2;
	}
	/* xl takes the spec as separate words or one comma-separated word. */
	for (int i = 2; i < argc; i++) {
		if (strlen(spec) + strlen(argv[i]) + 2 > sizeof(spec)) {
			xl_err("vif spec is too long");
			return 2;
		}
		if (i > 2)
			strcat(spec, ",");
		strcat(spec, argv[i]);
	}
	if (sv_vif_parse(&vif, spec, err, sizeof(err))) {
		xl_err("%s", err);
		return 1;
	}
	if (xl_net_open(argv[1], &c, &xs, &domid))
		goto out;
	if (xl_net_add(xs, domid, &vif, &devid))
		goto out;
	ret = xl_net_wait_hotplug(xs, domid, devid) ? 1 : 0;
out:
	xl_xs_close(xs);
	svctl_close(c);
	return ret;
}

/* The devid named by arg: a number, or the MAC of one of the domain's vifs. */
static int xl_net_find(struct xs_handle *xs, uint32_t domid, const char *arg)
{
	char path[96], *end, **devs;
	unsigned n = 0;
	uint8_t want[6];
	long v;
	int found = -ENOENT;

	v = strtol(arg, &end, 10);
	if (arg[0] && !*end)
		return v >= 0 && v < XL_NET_MAX_DEVID && xl_net_exists(xs, domid, (int)v) ? (int)v
											  : -ENOENT;
	if (sv_mac_parse(want, arg))
		return -EINVAL;
	snprintf(path, sizeof(path), XL_NET_BE "/%u", domid);
	devs = xs_directory(xs, XBT_NULL, path, &n);
	for (unsigned i = 0; devs && i < n && found < 0; i++) {
		char *m = xl_net_read(xs, "%s/%s/mac", path, devs[i]);
		uint8_t have[6];

		if (m && !sv_mac_parse(have, m) && !memcmp(have, want, 6))
			found = atoi(devs[i]);
		free(m);
	}
	free(devs);
	return found;
}

int xl_cmd_network_detach(int argc, char **argv)
{
	struct svctl *c = NULL;
	struct xs_handle *xs = NULL;
	char be[96], fe[96];
	uint32_t domid;
	int devid, ret = 1;
	long state = -1;

	if (argc != 3) {
		xl_err("usage: xl network-detach <Domain> <DevId|mac>");
		return 2;
	}
	if (xl_net_open(argv[1], &c, &xs, &domid))
		goto out;
	devid = xl_net_find(xs, domid, argv[2]);
	if (devid == -EINVAL) {
		xl_err("'%s' is neither a vif index nor a MAC address", argv[2]);
		goto out;
	}
	if (devid < 0) {
		xl_err("domain '%s' has no vif '%s'", argv[1], argv[2]);
		goto out;
	}
	snprintf(be, sizeof(be), XL_NET_BE "/%u/%d", domid, devid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%d", domid, devid);
	/* Ask the backend to close: online=0 and Closing, as libxl does. */
	char key[128];
	snprintf(key, sizeof(key), "%s/online", be);
	bool ok = xs_write(xs, XBT_NULL, key, "0", 1);
	snprintf(key, sizeof(key), "%s/state", be);
	ok = ok && xs_write(xs, XBT_NULL, key, "5", 1);
	if (!ok) {
		xl_err("cannot ask vif %d of domain '%s' to close: %s", devid, argv[1],
		       strerror(errno));
		goto out;
	}
	for (unsigned waited = 0; waited < XL_NET_WAIT_MS; waited += 50) {
		state = xl_net_read_long(xs, -1, "%s/state", be);
		if (state == XenbusStateClosed || state < 0)
			break;
		xl_net_sleep_ms(50);
	}
	if (state != XenbusStateClosed && state >= 0)
		fprintf(stderr, "xl: warning: vif %d did not close in %d s; removing it anyway\n",
			devid, XL_NET_WAIT_MS / 1000);
	xs_rm(xs, XBT_NULL, fe);
	xs_rm(xs, XBT_NULL, be);
	ret = 0;
out:
	xl_xs_close(xs);
	svctl_close(c);
	return ret;
}

static int xl_net_cmp(const void *a, const void *b)
{
	return atoi(*(char *const *)a) - atoi(*(char *const *)b);
}

/* One domain's vifs in Xen's columns. */
static void xl_net_list_one(struct xs_handle *xs, uint32_t domid)
{
	char path[96], **devs;
	unsigned n = 0;

	snprintf(path, sizeof(path), "/local/domain/%u/device/vif", domid);
	devs = xs_directory(xs, XBT_NULL, path, &n);
	if (!devs)
		return;
	qsort(devs, n, sizeof(*devs), xl_net_cmp);
	for (unsigned i = 0; i < n; i++) {
		char *mac = xl_net_read(xs, "%s/%s/mac", path, devs[i]);
		char *be = xl_net_read(xs, "%s/%s/backend", path, devs[i]);
		long beid = xl_net_read_long(xs, -1, "%s/%s/backend-id", path, devs[i]);
		long state = xl_net_read_long(xs, -1, "%s/%s/state", path, devs[i]);
		long evt = xl_net_read_long(xs, -1, "%s/%s/event-channel", path, devs[i]);
		long tx = xl_net_read_long(xs, -1, "%s/%s/tx-ring-ref", path, devs[i]);
		long rx = xl_net_read_long(xs, -1, "%s/%s/rx-ring-ref", path, devs[i]);

		if (evt < 0)
			evt = xl_net_read_long(xs, -1, "%s/%s/event-channel-tx", path, devs[i]);
		if (tx < 0)
			tx = xl_net_read_long(xs, -1, "%s/%s/queue-0/tx-ring-ref", path, devs[i]);
		if (rx < 0)
			rx = xl_net_read_long(xs, -1, "%s/%s/queue-0/rx-ring-ref", path, devs[i]);
		printf("%-3d %-2ld %-17s %6d %5ld %6ld %5ld/%-11ld %-30s\n", atoi(devs[i]), beid,
		       mac ? mac : "-", atoi(devs[i]), state, evt, tx, rx, be ? be : "-");
		free(mac);
		free(be);
	}
	free(devs);
}

int xl_cmd_network_list(int argc, char **argv)
{
	struct svctl *c = NULL;
	struct xs_handle *xs = NULL;
	uint32_t domid;
	int ret = 0;

	if (argc < 2) {
		xl_err("usage: xl network-list <Domain> [<Domain> ...]");
		return 2;
	}
	c = xl_connect();
	if (!c)
		return 1;
	xs = xl_xs_open();
	if (!xs) {
		xl_err("cannot reach xenstored: %s", strerror(errno));
		svctl_close(c);
		return 1;
	}
	printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE", "Mac Addr.",
	       "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path");
	for (int i = 1; i < argc; i++) {
		if (xl_domid(c, argv[i], &domid)) {
			ret = 1;
			continue;
		}
		xl_net_list_one(xs, domid);
	}
	xl_xs_close(xs);
	svctl_close(c);
	return ret;
}
