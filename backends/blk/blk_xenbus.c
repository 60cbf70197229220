// SPDX-License-Identifier: MIT
/* blkback's control plane: what a vbd is, on the backend core's xenbus device model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include "blk_daemon.h"

/*
 * Keys, as Linux's xen-blkback and libxl use them (the core reads
 * frontend, online and the states; see docs/backend-core.md).
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
 * A restarted blkback finds Connected devices whose frontend is still
 * Connected and reconnects them in place (the rings' shadows in
 * RUNDIR/blkback carry the requests in flight).
 */

static struct blk_vbd *to_vbd(struct be_dev *dev)
{
	return (struct blk_vbd *)dev;
}

/*
 * Stops every ring (their I/O finishes and is answered first), unbinds and
 * unmaps.  exiting: the shadows stay, for a successor.
 */
static void blk_vbd_disconnect(struct be_dev *dev, bool exiting)
{
	struct blk_vbd *v = to_vbd(dev);
	struct blkback *bb = be_dev_daemon(dev);

	for (unsigned q = 0; q < v->nr_rings; q++) {
		struct blk_ring *r = &v->rings[q];

		blk_ring_stop(r, !exiting);
		if (r->local_port && xenevtchn_unbind(bb->xce, r->local_port) < 0)
			blk_log("%s: unbind port %u: %m", r->name, r->local_port);
		if (r->sring && xengnttab_unmap(bb->xgt, r->sring, r->nr_pages) < 0)
			blk_log("%s: unmap ring: %m", r->name);
		r->sring = NULL;
		r->local_port = 0;
	}
	v->nr_rings = 0;
	if (!exiting)
		blk_log("vbd %u/%u: disconnected", dev->domid, dev->devid);
}

/* What we offer, in the backend directory while it is there (be_dev_transaction). */
static int blk_vbd_write_features(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	struct blk_vbd *v = arg;
	const char *be = v->dev.be;
	int ret;

	ret = svxs_printf(xs, t, be, "feature-flush-cache", "1");
	if (!ret)
		ret = svxs_printf(xs, t, be, "feature-persistent", "1");
	if (!ret)
		ret = svxs_printf(xs, t, be, "feature-max-indirect-segments", "%u",
				  BLK_MAX_INDIRECT_SEGS);
	if (!ret)
		ret = svxs_printf(xs, t, be, "max-ring-page-order", "%u", BLK_MAX_RING_ORDER);
	if (!ret)
		ret = svxs_printf(xs, t, be, "multi-queue-max-queues", "%u", BLK_MAX_QUEUES);
	if (!ret && v->disk.can_discard) {
		ret = svxs_printf(xs, t, be, "feature-discard", "1");
		if (!ret)
			ret = svxs_printf(xs, t, be, "discard-granularity", "%u",
					  v->disk.discard_granularity);
		if (!ret)
			ret = svxs_printf(xs, t, be, "discard-alignment", "0");
		if (!ret)
			ret = svxs_printf(xs, t, be, "discard-secure", "0");
	}
	return ret;
}

/* Opens the image and advertises what we offer.  0, -EAGAIN or -errno (logged). */
static int blk_vbd_probe(struct be_dev *dev)
{
	struct blk_vbd *v = to_vbd(dev);
	struct xs_handle *xs = dev->bk->xs;
	char err[4300], *params, *mode;
	uint64_t discard_enable = 1;
	bool ro;
	int ret;

	params = svxs_read(xs, XBT_NULL, dev->be, "params");
	mode = svxs_read(xs, XBT_NULL, dev->be, "mode");
	if (!params || !mode) {
		/* The toolstack has not written them yet: the next watch event retries. */
		free(params);
		free(mode);
		return -EAGAIN;
	}
	if (!params[0]) {
		be_dev_error(dev, "empty params in %s (no medium)", dev->be);
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
		be_dev_error(dev, "%s", err);
		return ret;
	}
	v->disk_open = true;
	svxs_read_uint(xs, XBT_NULL, dev->be, "discard-enable", 2, &discard_enable);
	if (!discard_enable)
		v->disk.can_discard = false;
	ret = be_dev_transaction(dev, blk_vbd_write_features, v);
	if (ret) {
		if (!dev->gone)
			be_dev_error(dev, "cannot write feature keys: %s", strerror(-ret));
		return ret;
	}
	blk_log("vbd %u/%u: %s image, %llu sectors%s%s", dev->domid, dev->devid,
		v->disk.is_bdev ? "block device" : "file", (unsigned long long)v->disk.sectors,
		v->disk.readonly ? ", read-only" : "", v->disk.direct ? ", O_DIRECT" : "");
	return 0;
}

/* Maps one ring, binds its event channel and starts its data plane. */
static int blk_vbd_start_ring(struct blk_vbd *v, unsigned q, const char *dir,
			      struct blk_shadow_id *id, bool persistent)
{
	struct blkback *bb = be_dev_daemon(&v->dev);
	struct blk_ring *r = &v->rings[q];
	char shadow[4400];
	int ret;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "vbd %u/%u q%u", v->dev.domid, v->dev.devid, q);
	r->domid = v->dev.domid;
	r->queue = q;
	r->xgt = bb->xgt;
	r->xce = bb->xce;
	r->io = &bb->io;
	r->disk = &v->disk;
	r->persistent = persistent;
	r->maps = &bb->maps;
	r->nr_pages = id->nr_pages;
	r->sring = be_dev_map_ring(&v->dev, bb->xgt, dir, "ring-ref", id->nr_pages, id->refs);
	if (!r->sring)
		return errno ? -errno : -EINVAL;
	ret = be_dev_bind(&v->dev, bb->xce, dir, "event-channel", &r->local_port, &id->port);
	if (ret)
		goto out_unmap;
	snprintf(shadow, sizeof(shadow), "%s/vbd-%u-%u-q%u", bb->state_dir, v->dev.domid,
		 v->dev.devid, q);
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

/* The disk keys the frontend reads once we are Connected (in be_dev_transaction). */
static int blk_vbd_write_disk(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	struct blk_vbd *v = arg;
	const char *be = v->dev.be;
	unsigned info = 0;
	char *dt = svxs_read(xs, t, be, "device-type");
	int ret;

	if (dt && !strcmp(dt, "cdrom"))
		info |= VDISK_CDROM;
	free(dt);
	if (v->disk.readonly)
		info |= VDISK_READONLY;
	ret = svxs_printf(xs, t, be, "sectors", "%llu", (unsigned long long)v->disk.sectors);
	if (!ret)
		ret = svxs_printf(xs, t, be, "info", "%u", info);
	if (!ret)
		ret = svxs_printf(xs, t, be, "sector-size", "%u", v->disk.sector_size);
	if (!ret)
		ret = svxs_printf(xs, t, be, "physical-sector-size", "%u",
				  v->disk.physical_sector_size);
	return ret;
}

/* Frontend is Initialised/Connected: read its keys, start every ring. */
static int blk_vbd_connect(struct be_dev *dev)
{
	struct blk_vbd *v = to_vbd(dev);
	struct xs_handle *xs = dev->bk->xs;
	uint64_t nq = 1, order = 0, persistent = 0;
	char *proto;
	int ret;

	proto = svxs_read(xs, XBT_NULL, dev->fe, "protocol");
	if (proto && strcmp(proto, XEN_IO_PROTO_ABI_X86_64) != 0) {
		be_dev_error(dev, "unsupported protocol '%.32s'", proto);
		free(proto);
		return -EPROTONOSUPPORT;
	}
	free(proto);
	ret = svxs_read_uint(xs, XBT_NULL, dev->fe, "multi-queue-num-queues", BLK_MAX_QUEUES + 1,
			     &nq);
	if ((ret && ret != -ENOENT) || !nq) {
		be_dev_error(dev, "bad multi-queue-num-queues (at most %u)", BLK_MAX_QUEUES);
		return -EINVAL;
	}
	ret = svxs_read_uint(xs, XBT_NULL, dev->fe, "ring-page-order", BLK_MAX_RING_ORDER + 1,
			     &order);
	if (ret && ret != -ENOENT) {
		be_dev_error(dev, "bad ring-page-order (at most %u)", BLK_MAX_RING_ORDER);
		return -EINVAL;
	}
	svxs_read_uint(xs, XBT_NULL, dev->fe, "feature-persistent", 2, &persistent);
	for (unsigned q = 0; q < nq; q++) {
		struct blk_shadow_id id = { .domid = dev->domid,
					    .devid = dev->devid,
					    .queue = q,
					    .nr_pages = 1u << order };
		char dir[200];

		if (nq == 1)
			snprintf(dir, sizeof(dir), "%s", dev->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", dev->fe, q);
		id.ring_size = __CONST_RING_SIZE(blkif, 4096) << order;
		ret = blk_vbd_start_ring(v, q, dir, &id, persistent == 1);
		if (ret)
			goto out_stop;
		v->nr_rings = q + 1;
	}
	ret = be_dev_transaction(dev, blk_vbd_write_disk, v);
	if (ret) {
		if (!dev->gone)
			be_dev_error(dev, "cannot write the disk keys: %s", strerror(-ret));
		goto out_stop;
	}
	blk_log("vbd %u/%u: connected: %u queue(s) of %u page(s), persistent grants %s", dev->domid,
		dev->devid, v->nr_rings, 1u << order, persistent == 1 ? "on" : "off");
	for (unsigned q = 0; q < v->nr_rings; q++) {
		blk_ring_kick(&v->rings[q]);
		blk_ring_push(&v->rings[q]);
	}
	return 0;

out_stop:
	blk_vbd_disconnect(dev, false);
	return ret;
}

static void blk_vbd_remove(struct be_dev *dev)
{
	struct blk_vbd *v = to_vbd(dev);

	if (v->disk_open)
		blk_disk_close(&v->disk);
	v->disk_open = false;
}

static const struct be_ops blk_vbd_ops = {
	.type = "vbd",
	.dev_size = sizeof(struct blk_vbd),
	.probe = blk_vbd_probe,
	.connect = blk_vbd_connect,
	.disconnect = blk_vbd_disconnect,
	.remove = blk_vbd_remove,
};

void blk_xenbus_scan(struct blkback *bb)
{
	be_backend_scan(&bb->vbds);
}

int blk_xenbus_init(struct blkback *bb)
{
	int ret = be_backend_start(&bb->vbds, bb->xs, &blk_vbd_ops, bb);

	if (!ret)
		blk_xenbus_scan(bb);
	return ret;
}

int blk_xenbus_handle(struct blkback *bb)
{
	return be_backend_handle(&bb->vbds);
}

void blk_xenbus_reap_broken(struct blkback *bb)
{
	blk_for_each_vbd(bb, v)
	{
		bool broken = false;

		for (unsigned q = 0; q < v->nr_rings; q++)
			broken |= v->rings[q].broken;
		if (broken && v->dev.connected)
			be_dev_fatal(&v->dev, "its frontend broke the blkif protocol");
	}
}

struct blk_ring *blk_xenbus_ring_by_port(struct blkback *bb, evtchn_port_t port)
{
	blk_for_each_vbd(bb, v) for (unsigned q = 0; q < v->nr_rings;
				     q++) if (v->rings[q].local_port == port &&
					      v->rings[q].started) return &v->rings[q];
	return NULL;
}

void blk_xenbus_fini(struct blkback *bb)
{
	/* Keep states and shadows: a successor reconnects these devices. */
	be_backend_stop(&bb->vbds);
}

void blk_xenbus_status(struct blkback *bb, int fd)
{
	char line[512];

	blk_for_each_vbd(bb, v)
	{
		struct blk_ring_stats s = { 0 };
		uint64_t state = 0;

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
		svxs_read_uint(bb->xs, XBT_NULL, v->dev.be, "state", 64, &state);
		int n =
		    snprintf(line, sizeof(line),
			     "vbd %u/%u state %d %s queues %u reqs %llu reads %llu writes %llu "
			     "flushes %llu discards %llu errors %llu indirect %llu "
			     "pgrant-hits %llu direct %d ro %d\n",
			     v->dev.domid, v->dev.devid, (int)state,
			     v->dev.connected		      ? "connected"
			     : v->dev.failed || v->dev.broken ? "failed"
							      : "idle",
			     v->nr_rings, (unsigned long long)s.reqs, (unsigned long long)s.reads,
			     (unsigned long long)s.writes, (unsigned long long)s.flushes,
			     (unsigned long long)s.discards, (unsigned long long)s.errors,
			     (unsigned long long)s.indirect, (unsigned long long)s.pgrant_hits,
			     v->disk.direct, v->disk.readonly);
		if (n > 0 && write(fd, line, (size_t)n) < 0)
			return;
	}
}
