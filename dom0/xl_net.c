// SPDX-License-Identifier: MIT
/* xl's network devices: vif= at create, network-attach, network-detach, network-list. */
#include <errno.h>
#include <inttypes.h>
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
#include "sv/svxs.h"
#include "xl_domnodes.h"

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

static bool xl_net_exists(struct xs_handle *xs, uint32_t domid, int devid)
{
	char be[96], fe[96], *s, *f;
	bool yes;

	snprintf(be, sizeof(be), XL_NET_BE "/%u/%d", domid, devid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%d", domid, devid);
	s = svxs_read(xs, XBT_NULL, be, NULL);
	f = s ? NULL : svxs_read(xs, XBT_NULL, fe, NULL);
	yes = s || f;

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

struct vif_write {
	uint32_t domid;
	const struct sv_vif *vif;
	const char *macs;
	int want, devid; /* the index asked for (-1: the next free one), the one taken */
	char be[96], fe[96];
	char *err;
	size_t errlen;
	bool said; /* err holds the message */
};

/* One vif's backend and frontend directories, inside the transaction (again on a conflict). */
static int vif_write_tx(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	struct vif_write *w = arg;
	const struct sv_vif *vif = w->vif;
	/* Backend: dom0 owns, the guest reads.  Frontend: the guest owns, dom0 reads. */
	const struct xs_permissions be_perm[2] = { { .id = 0, .perms = XS_PERM_NONE },
						   { .id = w->domid, .perms = XS_PERM_READ } };
	const struct xs_permissions fe_perm[2] = { { .id = w->domid, .perms = XS_PERM_NONE },
						   { .id = 0, .perms = XS_PERM_READ } };
	const char *be = w->be, *fe = w->fe;
	char dir[96];
	int devid = w->want, ret;

	if (devid < 0)
		devid = xl_net_next_devid(xs, w->domid);
	else if (xl_net_exists(xs, w->domid, devid)) {
		snprintf(w->err, w->errlen, "vif devid %d already exists in domain %u", devid,
			 w->domid);
		w->said = true;
		return -EEXIST;
	}
	if (devid < 0) {
		snprintf(w->err, w->errlen, "domain %u has no free vif index", w->domid);
		w->said = true;
		return devid;
	}
	w->devid = devid;
	snprintf(w->be, sizeof(w->be), XL_NET_BE "/%u/%d", w->domid, devid);
	snprintf(w->fe, sizeof(w->fe), "/local/domain/%u/device/vif/%d", w->domid, devid);
	snprintf(dir, sizeof(dir), XL_NET_BE "/%u", w->domid);
	ret = svxs_write_perms(xs, t, dir, NULL, "", be_perm, 2);
	ret = ret ?: svxs_write_perms(xs, t, be, NULL, "", be_perm, 2);
	ret = ret ?: svxs_write_perms(xs, t, be, "frontend", fe, be_perm, 2);
	ret = ret ?: svxs_printf_perms(xs, t, be, "frontend-id", be_perm, 2, "%u", w->domid);
	ret = ret ?: svxs_write_perms(xs, t, be, "online", "1", be_perm, 2);
	ret = ret ?: svxs_write_perms(xs, t, be, "state", "1", be_perm, 2);
	ret = ret ?: svxs_write_perms(xs, t, be, "mac", w->macs, be_perm, 2);
	ret = ret
		  ?: svxs_write_perms(xs, t, be, "bridge", vif->bridge[0] ? vif->bridge : "xenbr0",
				      be_perm, 2);
	ret = ret
		  ?: svxs_write_perms(xs, t, be, "script",
				      vif->script[0] ? vif->script : "vif-bridge", be_perm, 2);
	ret = ret ?: svxs_write_perms(xs, t, be, "type", "vif", be_perm, 2);
	ret = ret ?: svxs_printf_perms(xs, t, be, "handle", be_perm, 2, "%d", devid);
	if (!ret && vif->ip[0])
		ret = svxs_write_perms(xs, t, be, "ip", vif->ip, be_perm, 2);
	if (!ret && vif->vifname[0])
		ret = svxs_write_perms(xs, t, be, "vifname", vif->vifname, be_perm, 2);
	if (!ret && vif->rate_bytes_per_interval)
		ret = svxs_printf_perms(xs, t, be, "rate", be_perm, 2, "%" PRIu64 ",%" PRIu64,
					vif->rate_bytes_per_interval, vif->rate_interval_usecs);
	if (!ret && vif->mtu)
		ret = svxs_printf_perms(xs, t, be, "mtu", be_perm, 2, "%u", vif->mtu);
	snprintf(dir, sizeof(dir), "/local/domain/%u/device/vif", w->domid);
	ret = ret ?: svxs_write_perms(xs, t, dir, NULL, "", be_perm, 2);
	ret = ret ?: svxs_write_perms(xs, t, fe, NULL, "", fe_perm, 2);
	ret = ret ?: svxs_write_perms(xs, t, fe, "backend", be, fe_perm, 2);
	ret = ret ?: svxs_write_perms(xs, t, fe, "backend-id", "0", fe_perm, 2);
	ret = ret ?: svxs_write_perms(xs, t, fe, "mac", w->macs, fe_perm, 2);
	ret = ret ?: svxs_write_perms(xs, t, fe, "state", "1", fe_perm, 2);
	ret = ret ?: svxs_printf_perms(xs, t, fe, "handle", fe_perm, 2, "%d", devid);
	return ret;
}

/*
 * Writes one vif's backend and frontend directories (libxl's keys) in one
 * transaction.  The caller has checked the spec; *devid_io is the index
 * (-1: the next free one), set to the one used.  0 or -errno with err.
 */
static int xl_net_write(struct xs_handle *xs, uint32_t domid, const struct sv_vif *vif,
			const uint8_t mac[6], int *devid_io, char *err, size_t errlen)
{
	char macs[18];
	struct vif_write w = { .domid = domid,
			       .vif = vif,
			       .macs = macs,
			       .want = *devid_io,
			       .err = err,
			       .errlen = errlen };
	enum svxs_tx_step step;
	int ret;

	snprintf(macs, sizeof(macs), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	ret = svxs_transaction_at(xs, vif_write_tx, &w, &step);
	if (ret && !w.said)
		xl_domnodes_tx_error(err, errlen, step, w.be, ret);
	if (!ret)
		*devid_io = w.devid;
	return ret;
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
	*xs = svxs_open();
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
		char be[96];

		snprintf(be, sizeof(be), XL_NET_BE "/%u/%d", domid, devid);
		char *s = svxs_read(xs, XBT_NULL, be, "hotplug-status");
		bool connected = s && !strcmp(s, "connected"), failed = s && !strcmp(s, "error");

		free(s);
		if (connected)
			return 0;
		if (failed) {
			char *why = svxs_read(xs, XBT_NULL, be, "error");

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
	svxs_close(xs);
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
		char dev[128], *m;
		uint8_t have[6];

		snprintf(dev, sizeof(dev), "%s/%s", path, devs[i]);
		m = svxs_read(xs, XBT_NULL, dev, "mac");
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
	int err = svxs_write(xs, XBT_NULL, be, "online", "0");
	err = err ?: svxs_write(xs, XBT_NULL, be, "state", "5");
	if (err) {
		xl_err("cannot ask vif %d of domain '%s' to close: %s", devid, argv[1],
		       strerror(-err));
		goto out;
	}
	for (unsigned waited = 0; waited < XL_NET_WAIT_MS; waited += 50) {
		state = svxs_read_num(xs, XBT_NULL, be, "state", -1);
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
	svxs_close(xs);
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
		char fe[128];

		snprintf(fe, sizeof(fe), "%s/%s", path, devs[i]);
		char *mac = svxs_read(xs, XBT_NULL, fe, "mac");
		char *be = svxs_read(xs, XBT_NULL, fe, "backend");
		long beid = (long)svxs_read_num(xs, XBT_NULL, fe, "backend-id", -1);
		long state = (long)svxs_read_num(xs, XBT_NULL, fe, "state", -1);
		long evt = (long)svxs_read_num(xs, XBT_NULL, fe, "event-channel", -1);
		long tx = (long)svxs_read_num(xs, XBT_NULL, fe, "tx-ring-ref", -1);
		long rx = (long)svxs_read_num(xs, XBT_NULL, fe, "rx-ring-ref", -1);

		if (evt < 0)
			evt = (long)svxs_read_num(xs, XBT_NULL, fe, "event-channel-tx", -1);
		if (tx < 0)
			tx = (long)svxs_read_num(xs, XBT_NULL, fe, "queue-0/tx-ring-ref", -1);
		if (rx < 0)
			rx = (long)svxs_read_num(xs, XBT_NULL, fe, "queue-0/rx-ring-ref", -1);
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
	xs = svxs_open();
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
	svxs_close(xs);
	svctl_close(c);
	return ret;
}
