// SPDX-License-Identifier: MIT
/* xl's block devices: disk= at create, block-attach, block-detach, block-list. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>
#include "devspec.h"
#include "xl.h"
#include "xl_progress.h"
#include "sv/svxs.h"

/*
 * Each disk gets libxl's two directories (see docs/blkback.md):
 *   backend  /local/domain/0/backend/vbd/<domid>/<devid>: frontend,
 *            frontend-id, params, type, mode, online, removable, bootable,
 *            dev, device-type, discard-enable, state=1; dom0 owns it, the
 *            guest reads it;
 *   frontend /local/domain/<domid>/device/vbd/<devid>: backend, backend-id,
 *            virtual-device, device-type, state=1; the guest owns it, dom0
 *            reads it.
 * blkback (watching the backend tree) takes it from there.
 */
#define XL_BLK_BE_ROOT "/local/domain/0/backend/vbd"
#define XL_BLK_DETACH_TIMEOUT_MS 10000

/* Checks what blkback can serve; prints the reason, naming the field, when not. */
static int xl_block_check(const struct sv_disk *d)
{
	struct stat st;

	if (d->format == SV_DISK_FMT_EMPTY || !d->target[0]) {
		xl_err("disk spec 'vdev=%s': an empty drive (no target) is not supported", d->vdev);
		return -EINVAL;
	}
	if (d->format != SV_DISK_FMT_RAW) {
		xl_err("disk spec 'target=%s': format: only raw images are supported", d->target);
		return -EINVAL;
	}
	if (d->devid < 0) {
		xl_err("disk spec 'vdev=%s': cannot map it to a device number", d->vdev);
		return -EINVAL;
	}
	if (d->backend[0] && strcmp(d->backend, "0") && strcmp(d->backend, "Domain-0")) {
		xl_err("disk spec 'backend=%s': only dom0 serves disks", d->backend);
		return -EINVAL;
	}
	if (d->script[0]) {
		xl_err("disk spec 'script=%s': block scripts are not supported", d->script);
		return -EINVAL;
	}
	if (stat(d->target, &st) < 0) {
		xl_err("disk spec 'target=%s': %s: %s", d->target, d->target, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		xl_err("disk spec 'target=%s': %s: not a regular file or block device", d->target,
		       d->target);
		return -EINVAL;
	}
	if (access(d->target, d->readonly ? R_OK : R_OK | W_OK) < 0) {
		xl_err("disk spec 'target=%s': %s: %s", d->target, d->target, strerror(errno));
		return -errno;
	}
	return 0;
}

static bool xl_block_exists(struct xs_handle *xs, const char *path)
{
	char *v = svxs_read(xs, XBT_NULL, path, NULL);

	free(v);
	return v != NULL;
}

struct disk_write {
	uint32_t domid;
	const struct sv_disk *d;
	bool phy;
	char be[128], fe[128];
};

/* One disk's backend and frontend directories, inside the transaction (again on a conflict). */
static int disk_write_tx(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct disk_write *w = arg;
	const struct sv_disk *d = w->d;
	const struct xs_permissions be_perms[2] = { { .id = 0, .perms = XS_PERM_NONE },
						    { .id = w->domid, .perms = XS_PERM_READ } };
	const struct xs_permissions fe_perms[2] = { { .id = w->domid, .perms = XS_PERM_NONE },
						    { .id = 0, .perms = XS_PERM_READ } };
	const char *devtype = d->cdrom ? "cdrom" : "disk", *be = w->be, *fe = w->fe;
	int ret;

	ret = svxs_write_perms(xs, t, be, NULL, "", be_perms, 2);
	ret = ret ?: svxs_write(xs, t, be, "frontend", fe);
	ret = ret ?: svxs_printf(xs, t, be, "frontend-id", "%u", w->domid);
	ret = ret ?: svxs_write(xs, t, be, "params", d->target);
	ret = ret ?: svxs_write(xs, t, be, "type", w->phy ? "phy" : "file");
	ret = ret ?: svxs_write(xs, t, be, "mode", d->readonly ? "r" : "w");
	ret = ret ?: svxs_write(xs, t, be, "online", "1");
	ret = ret ?: svxs_printf(xs, t, be, "removable", "%d", d->cdrom ? 1 : 0);
	ret = ret ?: svxs_write(xs, t, be, "bootable", "1");
	ret = ret ?: svxs_write(xs, t, be, "dev", d->vdev);
	ret = ret ?: svxs_write(xs, t, be, "device-type", devtype);
	ret = ret ?: svxs_printf(xs, t, be, "discard-enable", "%d", d->discard ? 1 : 0);
	ret = ret ?: svxs_printf(xs, t, be, "state", "%d", XenbusStateInitialising);
	ret = ret ?: svxs_write_perms(xs, t, fe, NULL, "", fe_perms, 2);
	ret = ret ?: svxs_write(xs, t, fe, "backend", be);
	ret = ret ?: svxs_write(xs, t, fe, "backend-id", "0");
	ret = ret ?: svxs_printf(xs, t, fe, "virtual-device", "%d", d->devid);
	ret = ret ?: svxs_write(xs, t, fe, "device-type", devtype);
	ret = ret ?: svxs_printf(xs, t, fe, "state", "%d", XenbusStateInitialising);
	return ret;
}

/* Writes one disk's backend and frontend directories in one transaction.  0 or -errno. */
static int xl_block_add(struct xs_handle *xs, uint32_t domid, const struct sv_disk *d, bool fresh)
{
	struct disk_write w = { .domid = domid, .d = d };
	enum svxs_tx_step step;
	struct stat st;
	int ret = xl_block_check(d);

	if (ret)
		return ret;
	w.phy = !stat(d->target, &st) && S_ISBLK(st.st_mode);
	snprintf(w.be, sizeof(w.be), XL_BLK_BE_ROOT "/%u/%d", domid, d->devid);
	snprintf(w.fe, sizeof(w.fe), "/local/domain/%u/device/vbd/%d", domid, d->devid);
	/* A new domain's id may have had a predecessor whose backend entries stayed behind. */
	if (fresh)
		xs_rm(xs, XBT_NULL, w.be);
	if (xl_block_exists(xs, w.be) || xl_block_exists(xs, w.fe)) {
		xl_err("disk spec 'vdev=%s': domain %u already has a disk %s (device %d)", d->vdev,
		       domid, d->vdev, d->devid);
		return -EEXIST;
	}
	ret = svxs_transaction_at(xs, disk_write_tx, &w, &step);
	if (ret)
		xl_err("disk %s: cannot %s its xenstore entries: %s", d->vdev,
		       step == SVXS_TX_COMMIT ? "commit" : "write", strerror(-ret));
	return ret;
}

/* A warning when nothing will serve the disks (blkback not started). */
static void xl_block_warn_no_backend(void)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/blkback.sock", svctl_rundir());
	if (access(path, F_OK) < 0)
		fprintf(stderr,
			"xl: warning: blkback is not running (%s): disks will not connect\n", path);
}

int xl_block_create_all(struct xs_handle *xs, uint32_t domid, const struct sv_config *cfg)
{
	for (size_t i = 0; i < cfg->nr_disks; i++) {
		int ret = xl_block_add(xs, domid, &cfg->disks[i], true);

		if (ret)
			return ret;
	}
	if (cfg->nr_disks)
		xl_block_warn_no_backend();
	return 0;
}

/* Opens the hypervisor and store connections and resolves the domain of a block command. */
static int xl_block_open(const char *dom, struct svctl **c, struct xs_handle **xs, uint32_t *domid)
{
	*c = xl_connect();
	if (!*c)
		return -ENOTCONN;
	if (xl_domid(*c, dom, domid)) {
		svctl_close(*c);
		return -ESRCH;
	}
	*xs = svxs_open();
	if (!*xs) {
		xl_err("cannot reach xenstored: %s", strerror(errno));
		svctl_close(*c);
		return -ENOTCONN;
	}
	return 0;
}

int xl_cmd_block_attach(int argc, char **argv)
{
	struct svctl *c;
	struct xs_handle *xs;
	struct sv_disk d;
	char spec[8192] = "", err[512];
	uint32_t domid;
	int ret;

	if (argc < 3) {
		xl_err("usage: xl block-attach <Domain> <disk-spec-component(s)>...");
		return 2;
	}
	/* As xl: the components after the domain make one spec, joined by commas. */
	for (int i = 2; i < argc; i++) {
		size_t len = strlen(spec);

		if (snprintf(spec + len, sizeof(spec) - len, "%s%s", len ? "," : "", argv[i]) >=
		    (int)(sizeof(spec) - len)) {
			xl_err("disk spec too long");
			return 2;
		}
	}
	if (sv_disk_parse(&d, spec, err, sizeof(err))) {
		xl_err("%s", err);
		return 1;
	}
	if (xl_block_open(argv[1], &c, &xs, &domid))
		return 1;
	ret = xl_block_add(xs, domid, &d, false);
	if (!ret)
		xl_block_warn_no_backend();
	svxs_close(xs);
	svctl_close(c);
	return ret ? 1 : 0;
}

/* DIR/KEY as a number, or dflt when absent or malformed. */
static int xl_block_read_int(struct xs_handle *xs, const char *dir, const char *key, int dflt)
{
	return (int)svxs_read_num(xs, XBT_NULL, dir, key, dflt);
}

/* Xenbus state names for block-detach's progress line ("gone" when the key is). */
static const char *xl_block_state_name(int state)
{
	static const char *const names[] = { "Unknown",	    "Initialising",  "InitWait",
					     "Initialised", "Connected",     "Closing",
					     "Closed",	    "Reconfiguring", "Reconfigured" };

	if (state < 0)
		return "gone";
	if ((size_t)state >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[state];
}

/* As libxl: the backend goes offline and Closing, in one transaction. */
static int close_tx(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const char *be = arg;
	int ret = svxs_write(xs, t, be, "online", "0");

	return ret ?: svxs_printf(xs, t, be, "state", "%d", XenbusStateClosing);
}

int xl_cmd_block_detach(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { NULL, 0, NULL, 0 } };
	struct svctl *c;
	struct xs_handle *xs;
	char be[128], fe[128];
	bool force = false;
	uint32_t domid;
	int opt, devid, state = -1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (opt != 'f') {
			xl_err("usage: xl block-detach [-f] <Domain> <DevId>");
			return 2;
		}
		force = true;
	}
	if (argc - optind != 2) {
		xl_err("usage: xl block-detach [-f] <Domain> <DevId>");
		return 2;
	}
	devid = sv_vdev_to_devid(argv[optind + 1]);
	if (devid < 0) {
		xl_err("block-detach: '%s' is not a virtual device name or number",
		       argv[optind + 1]);
		return 1;
	}
	if (xl_block_open(argv[optind], &c, &xs, &domid))
		return 1;
	snprintf(be, sizeof(be), XL_BLK_BE_ROOT "/%u/%d", domid, devid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%d", domid, devid);
	if (!xl_block_exists(xs, be)) {
		xl_err("block-detach: domain %u has no disk %s", domid, argv[optind + 1]);
		svxs_close(xs);
		svctl_close(c);
		return 1;
	}
	/* As libxl: the backend goes offline and Closing; the two ends walk to Closed. */
	if (!force) {
		int err = svxs_transaction(xs, close_tx, be);
		bool ok = !err;

		if (!ok)
			fprintf(stderr, "xl: warning: cannot ask %s to close: %s\n", be,
				strerror(-err));
		if (ok)
			xl_progress_start("Waiting for disk %s of domain %u to close",
					  argv[optind + 1], domid);
		for (int waited = 0; ok && waited < XL_BLK_DETACH_TIMEOUT_MS; waited += 50) {
			state = xl_block_read_int(xs, be, "state", XenbusStateClosed);
			if (state == XenbusStateClosed)
				break;
			xl_progress_tick(
			    "backend %s, frontend %s", xl_block_state_name(state),
			    xl_block_state_name(xl_block_read_int(xs, fe, "state", -1)));
			usleep(50 * 1000);
		}
		xl_progress_done();
		if (state != XenbusStateClosed)
			fprintf(stderr,
				"xl: warning: disk %s of domain %u did not close within %d s "
				"(state %d): removing it anyway\n",
				argv[optind + 1], domid, XL_BLK_DETACH_TIMEOUT_MS / 1000, state);
	}
	if (!xs_rm(xs, XBT_NULL, fe) && errno != ENOENT)
		fprintf(stderr, "xl: warning: cannot remove %s: %s\n", fe, strerror(errno));
	if (!xs_rm(xs, XBT_NULL, be) && errno != ENOENT) {
		xl_err("block-detach: cannot remove %s: %s", be, strerror(errno));
		svxs_close(xs);
		svctl_close(c);
		return 1;
	}
	svxs_close(xs);
	svctl_close(c);
	return 0;
}

/* Xen's columns: Vdev  BE  handle state evt-ch ring-ref BE-path. */
static void xl_block_list_one(struct xs_handle *xs, uint32_t domid)
{
	char dir[128];
	unsigned n = 0;
	char **devs;

	snprintf(dir, sizeof(dir), "/local/domain/%u/device/vbd", domid);
	devs = xs_directory(xs, XBT_NULL, dir, &n);
	for (unsigned i = 0; devs && i < n; i++) {
		char fe[256], *be;
		int ring_ref, evtch;

		snprintf(fe, sizeof(fe), "%s/%s", dir, devs[i]);
		be = svxs_read(xs, XBT_NULL, fe, "backend");
		evtch = xl_block_read_int(xs, fe, "event-channel", -1);
		ring_ref = xl_block_read_int(xs, fe, "ring-ref", -1);
		if (ring_ref < 0)
			ring_ref = xl_block_read_int(xs, fe, "ring-ref0", -1);
		if (ring_ref < 0)
			ring_ref = xl_block_read_int(xs, fe, "queue-0/ring-ref", -1);
		if (ring_ref < 0)
			ring_ref = xl_block_read_int(xs, fe, "queue-0/ring-ref0", -1);
		if (evtch < 0)
			evtch = xl_block_read_int(xs, fe, "queue-0/event-channel", -1);
		printf("%-5s %-3d %-6u %-5d %-6d %-8d %-30s\n", devs[i],
		       xl_block_read_int(xs, fe, "backend-id", 0), domid,
		       xl_block_read_int(xs, fe, "state", 0), evtch, ring_ref, be ? be : "");
		free(be);
	}
	free(devs);
}

int xl_cmd_block_list(int argc, char **argv)
{
	struct svctl *c;
	struct xs_handle *xs;
	int ret = 0;

	if (argc < 2) {
		xl_err("usage: xl block-list <Domain(s)>");
		return 2;
	}
	printf("%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle", "state", "evt-ch",
	       "ring-ref", "BE-path");
	for (int i = 1; i < argc; i++) {
		uint32_t domid;

		if (xl_block_open(argv[i], &c, &xs, &domid)) {
			ret = 1;
			continue;
		}
		xl_block_list_one(xs, domid);
		svxs_close(xs);
		svctl_close(c);
	}
	return ret;
}
