// SPDX-License-Identifier: MIT
/* blkback's control plane: vbd devices in xenstore, the xenbus state machine, ring maps and event binds. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include "blk_daemon.h"

/*
 * Keys, as Linux's xen-blkback and libxl use them.
 *
 * Backend directory /local/domain/0/backend/vbd/<domid>/<devid>, written by
 * the toolstack: frontend, frontend-id, params (image path), type
 * (file/phy), mode (w/r), online, removable, bootable, dev, device-type
 * (disk/cdrom), discard-enable (optional), state (1).
 * Written by us when the device is probed (then state 2, InitWait):
 *   feature-flush-cache=1, feature-persistent=1,
 *   feature-max-indirect-segments, max-ring-page-order,
 *   multi-queue-max-queues, and when the image can punch holes and
 *   discard-enable is not 0: feature-discard=1, discard-granularity,
 *   discard-alignment=0, discard-secure=0.
 * Written by us when connecting (then state 4, Connected):
 *   sectors (512-byte units), info (VDISK_* bits), sector-size,
 *   physical-sector-size.
 *
 * Frontend directory (the backend's "frontend" key), read when its state
 * is Initialised (3) or Connected (4): ring-page-order (absent: one page,
 * key ring-ref; else ring-ref0..N-1), event-channel, protocol (absent or
 * "x86_64-abi"), feature-persistent, multi-queue-num-queues (absent: one
 * queue in the frontend directory itself; else queue-<n>/ring-ref... and
 * queue-<n>/event-channel; ring-page-order stays at the top).
 *
 * States (backend): 1 -> 2 when the image is open and features written;
 * 2 -> 4 when the frontend is Initialised/Connected and its rings mapped;
 * frontend Closing -> we disconnect and say Closing; frontend Closed or
 * gone -> Closed; frontend Initialising again after Closed (a reconnect)
 * -> 2.  The toolstack's detach writes online=0 and state 5: a frontend
 * that is not connected then gets Closed at once; a connected one walks
 * Closing/Closed itself.  A restarted blkback finds Connected devices
 * whose frontend is still Connected and reconnects them in place.
 */
#define BLK_BE_ROOT "/local/domain/0/backend/vbd"
#define BLK_TOKEN_BE "be"
#define BLK_TOKEN_FE "fe"
#define BLK_MAX_PORT (1u << 17)

/* ---- xenstore helpers ---- */

static char *blk_xs_read(struct blkback *bb, const char *dir, const char *key)
{
	char path[256];
	unsigned len = 0;
	char *v;

	if (snprintf(path, sizeof(path), "%s/%s", dir, key) >= (int)sizeof(path))
		return NULL;
	v = xs_read(bb->xs, XBT_NULL, path, &len);
	/* A guest may write anything: a value with an embedded NUL is no value. */
	if (v && strlen(v) != len) {
		free(v);
		return NULL;
	}
	return v;
}

/* Strict unsigned decimal below limit.  0, -ENOENT (absent) or -EINVAL. */
static int blk_xs_uint(struct blkback *bb, const char *dir, const char *key, uint64_t limit,
		       uint64_t *out)
{
	char *v = blk_xs_read(bb, dir, key), *end;
	int ret = 0;

	if (!v)
		return -ENOENT;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || *end || errno || v[0] == '-' || v[0] == '+' || v[0] == ' ' || n >= limit)
		ret = -EINVAL;
	else
		*out = n;
	free(v);
	return ret;
}

static bool blk_xs_printf(struct blkback *bb, xs_transaction_t t, const char *dir, const char *key,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static bool blk_xs_printf(struct blkback *bb, xs_transaction_t t, const char *dir, const char *key,
			  const char *fmt, ...)
{
	char path[256], val[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (snprintf(path, sizeof(path), "%s/%s", dir, key) >= (int)sizeof(path))
		return false;
	return xs_write(bb->xs, t, path, val, (unsigned)strlen(val));
}

static int blk_vbd_state(struct blk_vbd *v, const char *dir)
{
	uint64_t s = 0;

	return blk_xs_uint(v->bb, dir, "state", 64, &s) ? XenbusStateUnknown : (int)s;
}

static void blk_vbd_switch(struct blk_vbd *v, int state)
{
	if (blk_vbd_state(v, v->be) == state)
		return;
	if (!blk_xs_printf(v->bb, XBT_NULL, v->be, "state", "%d", state))
		blk_log("vbd %u/%u: cannot write state %d: %s", v->domid, v->devid, state,
			strerror(errno));
}

/* ---- devices ---- */

static struct blk_vbd *blk_vbd_find(struct blkback *bb, uint32_t domid, uint32_t devid)
{
	for (struct blk_vbd *v = bb->vbds; v; v = v->next)
		if (v->domid == domid && v->devid == devid)
			return v;
	return NULL;
}

/*
 * Stops every ring (their I/O finishes and is answered first), unbinds and
 * unmaps.  clean: the shadows go too (only a daemon that stops keeps them,
 * for its successor).
 */
static void blk_vbd_disconnect(struct blk_vbd *v, bool clean)
{
	if (!v->connected)
		return;
	for (unsigned q = 0; q < v->nr_rings; q++) {
		struct blk_ring *r = &v->rings[q];

		blk_ring_stop(r, clean);
		if (r->local_port && xenevtchn_unbind(v->bb->xce, r->local_port) < 0)
			blk_log("%s: unbind port %u: %s", r->name, r->local_port, strerror(errno));
		if (r->sring && xengnttab_unmap(v->bb->xgt, r->sring, r->nr_pages) < 0)
			blk_log("%s: unmap ring: %s", r->name, strerror(errno));
		r->sring = NULL;
		r->local_port = 0;
	}
	v->nr_rings = 0;
	v->connected = false;
	blk_log("vbd %u/%u: disconnected", v->domid, v->devid);
}

static void blk_vbd_free(struct blk_vbd *v)
{
	struct blk_vbd **pp;

	blk_vbd_disconnect(v, true);
	if (v->fe_watched)
		xs_unwatch(v->bb->xs, v->fe, BLK_TOKEN_FE);
	if (v->disk_open)
		blk_disk_close(&v->disk);
	for (pp = &v->bb->vbds; *pp != v; pp = &(*pp)->next)
		;
	*pp = v->next;
	free(v);
}

/* Opens the image and advertises what we offer.  0 or -errno (logged). */
static int blk_vbd_probe(struct blk_vbd *v)
{
	struct blkback *bb = v->bb;
	char err[4300], *params, *mode;
	uint64_t discard_enable = 1;
	bool ro;
	int ret;

	params = blk_xs_read(bb, v->be, "params");
	mode = blk_xs_read(bb, v->be, "mode");
	if (!params || !mode) {
		/* The toolstack has not written them yet: the next watch event retries. */
		free(params);
		free(mode);
		return -EAGAIN;
	}
	if (!params[0]) {
		blk_log("vbd %u/%u: empty params in %s (no medium)", v->domid, v->devid, v->be);
		free(params);
		free(mode);
		return -EINVAL;
	}
	/* "r" (and anything but "w") is read-only: writes are refused whatever the guest asks. */
	ro = strcmp(mode, "w") != 0;
	ret = blk_disk_open(&v->disk, params, ro, err, sizeof(err));
	free(mode);
	free(params);
	if (ret) {
		blk_log("vbd %u/%u: %s", v->domid, v->devid, err);
		return ret;
	}
	v->disk_open = true;
	blk_xs_uint(bb, v->be, "discard-enable", 2, &discard_enable);
	if (!discard_enable)
		v->disk.can_discard = false;
	bool ok = blk_xs_printf(bb, XBT_NULL, v->be, "feature-flush-cache", "1") &&
		  blk_xs_printf(bb, XBT_NULL, v->be, "feature-persistent", "1") &&
		  blk_xs_printf(bb, XBT_NULL, v->be, "feature-max-indirect-segments", "%u",
				BLK_MAX_INDIRECT_SEGS) &&
		  blk_xs_printf(bb, XBT_NULL, v->be, "max-ring-page-order", "%u",
				BLK_MAX_RING_ORDER) &&
		  blk_xs_printf(bb, XBT_NULL, v->be, "multi-queue-max-queues", "%u",
				BLK_MAX_QUEUES);
	if (ok && v->disk.can_discard)
		ok = blk_xs_printf(bb, XBT_NULL, v->be, "feature-discard", "1") &&
		     blk_xs_printf(bb, XBT_NULL, v->be, "discard-granularity", "%u",
				   v->disk.discard_granularity) &&
		     blk_xs_printf(bb, XBT_NULL, v->be, "discard-alignment", "0") &&
		     blk_xs_printf(bb, XBT_NULL, v->be, "discard-secure", "0");
	if (!ok) {
		blk_log("vbd %u/%u: cannot write feature keys: %s", v->domid, v->devid,
			strerror(errno));
		return -EIO;
	}
	v->features_written = true;
	blk_log("vbd %u/%u: %s image, %llu sectors%s%s", v->domid, v->devid,
		v->disk.is_bdev ? "block device" : "file", (unsigned long long)v->disk.sectors,
		v->disk.readonly ? ", read-only" : "", v->disk.direct ? ", O_DIRECT" : "");
	return 0;
}

/* Reads one queue's ring refs and port from dir.  0 or -EINVAL (logged by the caller). */
static int blk_vbd_read_queue(struct blk_vbd *v, const char *dir, unsigned nr_pages,
			      struct blk_shadow_id *id)
{
	uint64_t val;

	for (unsigned i = 0; i < nr_pages; i++) {
		char key[24];

		if (nr_pages == 1 && !blk_xs_uint(v->bb, dir, "ring-ref", UINT32_MAX, &val)) {
			id->refs[0] = (uint32_t)val;
			continue;
		}
		snprintf(key, sizeof(key), "ring-ref%u", i);
		if (blk_xs_uint(v->bb, dir, key, UINT32_MAX, &val))
			return -EINVAL;
		id->refs[i] = (uint32_t)val;
	}
	if (blk_xs_uint(v->bb, dir, "event-channel", BLK_MAX_PORT, &val) || !val)
		return -EINVAL;
	id->port = (uint32_t)val;
	return 0;
}

/* Maps one ring, binds its event channel and starts its data plane. */
static int blk_vbd_start_ring(struct blk_vbd *v, unsigned q, struct blk_shadow_id *id,
			      bool persistent)
{
	struct blkback *bb = v->bb;
	struct blk_ring *r = &v->rings[q];
	char shadow[4400];
	int port, ret;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "vbd %u/%u q%u", v->domid, v->devid, q);
	r->domid = v->domid;
	r->queue = q;
	r->xgt = bb->xgt;
	r->xce = bb->xce;
	r->io = &bb->io;
	r->disk = &v->disk;
	r->persistent = persistent;
	r->maps = &bb->maps;
	r->nr_pages = id->nr_pages;
	r->sring = xengnttab_map_domain_grant_refs(bb->xgt, id->nr_pages, v->domid, id->refs,
						   PROT_READ | PROT_WRITE);
	if (!r->sring) {
		ret = -errno;
		blk_log("%s: cannot map the ring (%u pages, ref %u): %s", r->name, id->nr_pages,
			id->refs[0], strerror(errno));
		return ret;
	}
	port = xenevtchn_bind_interdomain(bb->xce, v->domid, id->port);
	if (port < 0) {
		ret = -errno;
		blk_log("%s: cannot bind event channel %u: %s", r->name, id->port,
			strerror(errno));
		goto out_unmap;
	}
	r->local_port = (evtchn_port_t)port;
	snprintf(shadow, sizeof(shadow), "%s/vbd-%u-%u-q%u", bb->state_dir, v->domid, v->devid, q);
	ret = blk_ring_start(r, shadow, id);
	if (ret) {
		blk_log("%s: cannot start: %s", r->name, strerror(-ret));
		goto out_unbind;
	}
	return 0;

out_unbind:
	xenevtchn_unbind(bb->xce, r->local_port);
	r->local_port = 0;
out_unmap:
	xengnttab_unmap(bb->xgt, r->sring, id->nr_pages);
	r->sring = NULL;
	return ret;
}

/* Frontend is Initialised/Connected: read its keys, start every ring, say Connected. */
static int blk_vbd_connect(struct blk_vbd *v)
{
	struct blkback *bb = v->bb;
	uint64_t nq = 1, order = 0, persistent = 0;
	char *proto;
	unsigned info = 0;
	int ret;

	proto = blk_xs_read(bb, v->fe, "protocol");
	if (proto && strcmp(proto, XEN_IO_PROTO_ABI_X86_64) != 0) {
		blk_log("vbd %u/%u: unsupported protocol '%.32s'", v->domid, v->devid, proto);
		free(proto);
		return -EPROTONOSUPPORT;
	}
	free(proto);
	ret = blk_xs_uint(bb, v->fe, "multi-queue-num-queues", BLK_MAX_QUEUES + 1, &nq);
	if ((ret && ret != -ENOENT) || !nq) {
		blk_log("vbd %u/%u: bad multi-queue-num-queues (at most %u)", v->domid, v->devid,
			BLK_MAX_QUEUES);
		return -EINVAL;
	}
	ret = blk_xs_uint(bb, v->fe, "ring-page-order", BLK_MAX_RING_ORDER + 1, &order);
	if (ret && ret != -ENOENT) {
		blk_log("vbd %u/%u: bad ring-page-order (at most %u)", v->domid, v->devid,
			BLK_MAX_RING_ORDER);
		return -EINVAL;
	}
	blk_xs_uint(bb, v->fe, "feature-persistent", 2, &persistent);
	for (unsigned q = 0; q < nq; q++) {
		struct blk_shadow_id id = { .domid = v->domid, .devid = v->devid, .queue = q,
					    .nr_pages = 1u << order };
		char dir[200];

		if (nq == 1)
			snprintf(dir, sizeof(dir), "%s", v->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", v->fe, q);
		if (blk_vbd_read_queue(v, dir, id.nr_pages, &id)) {
			blk_log("vbd %u/%u: queue %u: missing or bad ring-ref/event-channel in %s",
				v->domid, v->devid, q, dir);
			ret = -EINVAL;
			goto out_stop;
		}
		id.ring_size = __CONST_RING_SIZE(blkif, 4096) << order;
		ret = blk_vbd_start_ring(v, q, &id, persistent == 1);
		if (ret)
			goto out_stop;
		v->nr_rings = q + 1;
		v->connected = true;
	}
	char *dt = blk_xs_read(bb, v->be, "device-type");
	if (dt && !strcmp(dt, "cdrom"))
		info |= VDISK_CDROM;
	free(dt);
	if (v->disk.readonly)
		info |= VDISK_READONLY;
	for (int tries = 0;; tries++) {
		xs_transaction_t t = xs_transaction_start(bb->xs);
		bool ok = t != XBT_NULL &&
			  blk_xs_printf(bb, t, v->be, "sectors", "%llu",
					(unsigned long long)v->disk.sectors) &&
			  blk_xs_printf(bb, t, v->be, "info", "%u", info) &&
			  blk_xs_printf(bb, t, v->be, "sector-size", "%u", v->disk.sector_size) &&
			  blk_xs_printf(bb, t, v->be, "physical-sector-size", "%u",
					v->disk.physical_sector_size);
		if (t == XBT_NULL || !ok) {
			ret = -errno;
			if (t != XBT_NULL)
				xs_transaction_end(bb->xs, t, true);
			blk_log("vbd %u/%u: cannot write the disk keys: %s", v->domid, v->devid,
				strerror(errno));
			goto out_stop;
		}
		if (xs_transaction_end(bb->xs, t, false))
			break;
		if (errno != EAGAIN || tries > 10) {
			ret = -errno;
			goto out_stop;
		}
	}
	blk_vbd_switch(v, XenbusStateConnected);
	blk_log("vbd %u/%u: connected: %u queue(s) of %u page(s), persistent grants %s",
		v->domid, v->devid, v->nr_rings, 1u << order, persistent == 1 ? "on" : "off");
	for (unsigned q = 0; q < v->nr_rings; q++) {
		blk_ring_kick(&v->rings[q]);
		blk_ring_push(&v->rings[q]);
	}
	return 0;

out_stop:
	blk_vbd_disconnect(v, true);
	return ret;
}

/* The device failed (bad frontend or image): stop it and say Closing. */
static void blk_vbd_shutdown(struct blk_vbd *v, const char *why)
{
	blk_log("vbd %u/%u: shutting the device down: %s", v->domid, v->devid, why);
	blk_vbd_disconnect(v, true);
	v->failed = true;
	blk_vbd_switch(v, XenbusStateClosing);
}

/* Whether domain domid still has its /local/domain/<domid> directory. */
static bool blk_domain_exists(struct blkback *bb, uint32_t domid)
{
	char path[64];
	unsigned n = 0;
	char **ents;

	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	ents = xs_directory(bb->xs, XBT_NULL, path, &n);
	if (!ents)
		return errno != ENOENT;
	free(ents);
	return true;
}

/* Brings one device in line with the backend's and frontend's states. */
static void blk_vbd_reconcile(struct blk_vbd *v)
{
	struct blkback *bb = v->bb;
	int bstate = blk_vbd_state(v, v->be), fstate;
	uint64_t online = 1;
	bool fresh = v->fresh;

	if (!v->fe[0]) {
		char *fe = blk_xs_read(bb, v->be, "frontend");

		if (!fe)
			return; /* toolstack still writing */
		snprintf(v->fe, sizeof(v->fe), "%s", fe);
		free(fe);
		if (xs_watch(bb->xs, v->fe, BLK_TOKEN_FE))
			v->fe_watched = true;
		else
			blk_log("vbd %u/%u: cannot watch %s: %s", v->domid, v->devid, v->fe,
				strerror(errno));
	}
	/* The first full look at this device since blkback started (restart recovery). */
	v->fresh = false;
	blk_xs_uint(bb, v->be, "online", 2, &online);
	fstate = blk_vbd_state(v, v->fe);

	if (!blk_domain_exists(bb, v->domid)) {
		/* The guest is gone and nobody cleaned up after it. */
		char dom[64];

		blk_vbd_disconnect(v, true);
		blk_log("vbd %u/%u: domain %u is gone: removing %s", v->domid, v->devid, v->domid,
			v->be);
		xs_rm(bb->xs, XBT_NULL, v->be);
		snprintf(dom, sizeof(dom), BLK_BE_ROOT "/%u", v->domid);
		unsigned n = 0;
		char **left = xs_directory(bb->xs, XBT_NULL, dom, &n);
		if (left && !n)
			xs_rm(bb->xs, XBT_NULL, dom);
		free(left);
		return;
	}
	if (!v->disk_open && !v->failed && online &&
	    (bstate <= XenbusStateInitWait || bstate == XenbusStateConnected)) {
		int ret = blk_vbd_probe(v);

		if (ret == -EAGAIN)
			return;
		if (ret) {
			blk_vbd_shutdown(v, "the image cannot be served");
			return;
		}
		if (bstate == XenbusStateInitialising || bstate == XenbusStateUnknown)
			blk_vbd_switch(v, XenbusStateInitWait);
		bstate = blk_vbd_state(v, v->be);
	}

	switch (fstate) {
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (v->connected || v->failed || !online || !v->disk_open)
			break;
		/* New connection, or (fresh) one a previous blkback left Connected. */
		if (bstate == XenbusStateInitWait || (fresh && bstate == XenbusStateConnected)) {
			if (blk_vbd_connect(v))
				blk_vbd_shutdown(v, "the frontend's ring keys are unusable");
		}
		break;
	case XenbusStateClosing:
		blk_vbd_disconnect(v, true);
		if (bstate != XenbusStateClosed)
			blk_vbd_switch(v, XenbusStateClosing);
		break;
	case XenbusStateClosed:
	case XenbusStateUnknown:
		blk_vbd_disconnect(v, true);
		if (bstate != XenbusStateClosed && bstate > XenbusStateInitWait)
			blk_vbd_switch(v, XenbusStateClosed);
		else if (!online && bstate != XenbusStateClosed)
			blk_vbd_switch(v, XenbusStateClosed);
		break;
	case XenbusStateInitialising:
	case XenbusStateInitWait:
		if (v->connected)
			blk_vbd_disconnect(v, true);
		if (!online) {
			if (bstate == XenbusStateClosing)
				blk_vbd_switch(v, XenbusStateClosed);
		} else if (bstate == XenbusStateClosed || bstate == XenbusStateConnected) {
			/* The frontend starts over (reconnect after Closed, or a reset). */
			v->failed = false;
			if (!v->disk_open && blk_vbd_probe(v)) {
				blk_vbd_shutdown(v, "the image cannot be served");
				break;
			}
			blk_vbd_switch(v, XenbusStateInitWait);
		}
		break;
	default:
		break;
	}
}

/* Numeric directory entry: strict decimal, below limit. */
static bool blk_xs_number_ent(const char *s, uint64_t limit, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 10)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v >= limit)
		return false;
	*out = (uint32_t)v;
	return true;
}

void blk_xenbus_scan(struct blkback *bb)
{
	unsigned nd = 0;
	char **doms = xs_directory(bb->xs, XBT_NULL, BLK_BE_ROOT, &nd);
	struct blk_vbd *v, *next;

	for (unsigned i = 0; doms && i < nd; i++) {
		uint32_t domid;
		char dir[96];
		unsigned nv = 0;
		char **devs;

		if (!blk_xs_number_ent(doms[i], DOMID_FIRST_RESERVED, &domid) || !domid)
			continue;
		snprintf(dir, sizeof(dir), BLK_BE_ROOT "/%u", domid);
		devs = xs_directory(bb->xs, XBT_NULL, dir, &nv);
		for (unsigned j = 0; devs && j < nv; j++) {
			uint32_t devid;

			if (!blk_xs_number_ent(devs[j], UINT32_MAX, &devid))
				continue;
			v = blk_vbd_find(bb, domid, devid);
			if (!v) {
				v = calloc(1, sizeof(*v));
				if (!v) {
					blk_log("out of memory for vbd %u/%u", domid, devid);
					continue;
				}
				v->bb = bb;
				v->domid = domid;
				v->devid = devid;
				v->fresh = true;
				snprintf(v->be, sizeof(v->be), BLK_BE_ROOT "/%u/%u", domid, devid);
				v->next = bb->vbds;
				bb->vbds = v;
			}
		}
		free(devs);
	}
	free(doms);
	for (v = bb->vbds; v; v = next) {
		next = v->next;
		unsigned n = 0;
		char **e = xs_directory(bb->xs, XBT_NULL, v->be, &n);

		if (!e && errno == ENOENT) {
			blk_log("vbd %u/%u: backend directory removed", v->domid, v->devid);
			blk_vbd_free(v);
			continue;
		}
		free(e);
		blk_vbd_reconcile(v);
	}
}

int blk_xenbus_init(struct blkback *bb)
{
	if (!xs_watch(bb->xs, BLK_BE_ROOT, BLK_TOKEN_BE))
		return errno ? -errno : -EIO;
	blk_xenbus_scan(bb);
	return 0;
}

int blk_xenbus_handle(struct blkback *bb)
{
	bool any = false;
	char **ev;

	/* Drain every queued event, then one scan: a toolstack writing many keys costs one. */
	while ((ev = xs_check_watch(bb->xs)) != NULL) {
		any = true;
		free(ev);
	}
	if (errno != EAGAIN) {
		blk_log("xenstore connection failed: %s", strerror(errno));
		return errno ? -errno : -EIO;
	}
	if (any)
		blk_xenbus_scan(bb);
	return 0;
}

void blk_xenbus_reap_broken(struct blkback *bb)
{
	for (struct blk_vbd *v = bb->vbds; v; v = v->next) {
		bool broken = false;

		for (unsigned q = 0; q < v->nr_rings; q++)
			broken |= v->rings[q].broken;
		if (broken && v->connected)
			blk_vbd_shutdown(v, "its frontend broke the blkif protocol");
	}
}

struct blk_ring *blk_xenbus_ring_by_port(struct blkback *bb, evtchn_port_t port)
{
	for (struct blk_vbd *v = bb->vbds; v; v = v->next)
		for (unsigned q = 0; q < v->nr_rings; q++)
			if (v->rings[q].local_port == port && v->rings[q].started)
				return &v->rings[q];
	return NULL;
}

void blk_xenbus_fini(struct blkback *bb)
{
	while (bb->vbds) {
		struct blk_vbd *v = bb->vbds;

		/* Keep states and shadows: a successor reconnects these devices. */
		for (unsigned q = 0; q < v->nr_rings; q++) {
			blk_ring_stop(&v->rings[q], false);
			if (v->rings[q].local_port)
				xenevtchn_unbind(bb->xce, v->rings[q].local_port);
			if (v->rings[q].sring)
				xengnttab_unmap(bb->xgt, v->rings[q].sring, v->rings[q].nr_pages);
		}
		v->connected = false;
		v->nr_rings = 0;
		blk_vbd_free(v);
	}
}

void blk_xenbus_status(struct blkback *bb, int fd)
{
	char line[512];

	for (struct blk_vbd *v = bb->vbds; v; v = v->next) {
		struct blk_ring_stats s = { 0 };

		for (unsigned q = 0; q < v->nr_rings; q++) {
			const struct blk_ring_stats *r = &v->rings[q].st;

			s.reqs += r->reqs;
			s.reads += r->reads;
			s.writes += r->writes;
			s.flushes += r->flushes;
			s.discards += r->discards;
			s.errors += r->errors;
			s.indirect += r->indirect;
			s.pgrant_hits += r->pgrant_hits;
		}
		int n = snprintf(line, sizeof(line),
				 "vbd %u/%u state %d %s queues %u reqs %llu reads %llu writes %llu "
				 "flushes %llu discards %llu errors %llu indirect %llu "
				 "pgrant-hits %llu direct %d ro %d\n",
				 v->domid, v->devid, blk_vbd_state(v, v->be),
				 v->connected ? "connected" : v->failed ? "failed" : "idle",
				 v->nr_rings, (unsigned long long)s.reqs,
				 (unsigned long long)s.reads, (unsigned long long)s.writes,
				 (unsigned long long)s.flushes, (unsigned long long)s.discards,
				 (unsigned long long)s.errors, (unsigned long long)s.indirect,
				 (unsigned long long)s.pgrant_hits, v->disk.direct,
				 v->disk.readonly);
		if (n > 0 && write(fd, line, (size_t)n) < 0)
			return;
	}
}
