// SPDX-License-Identifier: MIT
/* The xenbus backend device model shared by the host backends (see be_xenbus.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xen/io/xenbus.h>

#include "be_xenbus.h"
#include "sv/daemon.h"

#define BE_TOKEN_RELEASE "release"

int be_backend_start(struct be_backend *bk, struct xs_handle *xs, const struct be_ops *ops,
		     void *priv)
{
	memset(bk, 0, sizeof(*bk));
	bk->ops = ops;
	bk->xs = xs;
	bk->priv = priv;
	if (svxs_path(bk->root, sizeof(bk->root), "/local/domain/0/backend", ops->type) ||
	    ops->dev_size < sizeof(struct be_dev))
		return -EINVAL;
	errno = 0;
	if (!xs_watch(xs, bk->root, ops->type) || !xs_watch(xs, "@releaseDomain", BE_TOKEN_RELEASE))
		return errno ? -errno : -EIO;
	return 0;
}

struct be_dev *be_backend_find(struct be_backend *bk, uint32_t domid, uint32_t devid)
{
	for (struct be_dev *dev = bk->devs; dev; dev = dev->next)
		if (dev->domid == domid && dev->devid == devid)
			return dev;
	return NULL;
}

static int be_dev_read_state(struct be_dev *dev, const char *dir)
{
	uint64_t s;

	if (!dir[0] || svxs_read_uint(dev->bk->xs, XBT_NULL, dir, "state", 64, &s))
		return XenbusStateUnknown;
	return (int)s;
}

void be_dev_switch(struct be_dev *dev, int state)
{
	int ret;

	if (dev->state == state)
		return;
	ret = svxs_printf(dev->bk->xs, XBT_NULL, dev->be, "state", "%d", state);
	if (ret)
		svd_log("%s: cannot write state %d: %s", dev->name, state, strerror(-ret));
	else
		dev->state = state;
}

static void be_dev_verror(struct be_dev *dev, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	svd_log("%s (domain %u, device %u): %s", dev->name, dev->domid, dev->devid, msg);
	svxs_printf(dev->bk->xs, XBT_NULL, dev->be, "error", "%s", msg);
}

void be_dev_error(struct be_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	be_dev_verror(dev, fmt, ap);
	va_end(ap);
}

static void be_dev_disconnect(struct be_dev *dev, bool exiting)
{
	if (!dev->connected)
		return;
	dev->connected = false;
	dev->bk->ops->disconnect(dev, exiting);
}

void be_dev_fatal(struct be_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	be_dev_verror(dev, fmt, ap);
	va_end(ap);
	be_dev_disconnect(dev, false);
	dev->broken = true;
	be_dev_switch(dev, XenbusStateClosing);
}

void *be_dev_map_refs(struct be_dev *dev, xengnttab_handle *gt, unsigned nr_pages,
		      const uint32_t *refs)
{
	void *p;
	int err;

	if (nr_pages == 1)
		p = xengnttab_map_grant_ref(gt, dev->domid, refs[0], PROT_READ | PROT_WRITE);
	else
		p = xengnttab_map_domain_grant_refs(gt, nr_pages, dev->domid, (uint32_t *)refs,
						    PROT_READ | PROT_WRITE);
	if (!p) {
		err = errno;
		be_dev_error(dev, "cannot map %u ring page(s) from grant %u: %s", nr_pages, refs[0],
			     strerror(err));
		errno = err;
	}
	return p;
}

void *be_dev_map_ring(struct be_dev *dev, xengnttab_handle *gt, const char *dir, const char *key,
		      unsigned nr_pages, uint32_t *refs)
{
	struct xs_handle *xs = dev->bk->xs;
	uint32_t one;
	uint64_t v;
	void *p;

	if (!refs) {
		if (nr_pages != 1) {
			errno = EINVAL;
			return NULL;
		}
		refs = &one;
	}
	for (unsigned i = 0; i < nr_pages; i++) {
		char node[64];

		snprintf(node, sizeof(node), "%s%u", key, i);
		if ((nr_pages == 1 && !svxs_read_uint(xs, XBT_NULL, dir, key, UINT32_MAX, &v)) ||
		    !svxs_read_uint(xs, XBT_NULL, dir, node, UINT32_MAX, &v)) {
			refs[i] = (uint32_t)v;
			continue;
		}
		be_dev_error(dev, "%s/%s missing or invalid", dir, nr_pages == 1 ? key : node);
		errno = EINVAL;
		return NULL;
	}
	if (nr_pages == 1) {
		p = xengnttab_map_grant_ref(gt, dev->domid, refs[0], PROT_READ | PROT_WRITE);
		if (!p) {
			int err = errno;

			be_dev_error(dev, "cannot map %s grant %u: %s", key, refs[0],
				     strerror(err));
			errno = err;
		}
		return p;
	}
	return be_dev_map_refs(dev, gt, nr_pages, refs);
}

int be_dev_bind(struct be_dev *dev, xenevtchn_handle *xce, const char *dir, const char *key,
		evtchn_port_t *local, uint32_t *remote)
{
	xenevtchn_port_or_error_t p;
	uint64_t v;
	int err;

	if (svxs_read_uint(dev->bk->xs, XBT_NULL, dir, key, SVXS_MAX_PORT, &v) || !v) {
		be_dev_error(dev, "%s/%s missing or invalid", dir, key);
		return -EINVAL;
	}
	p = xenevtchn_bind_interdomain(xce, dev->domid, (evtchn_port_t)v);
	if (p < 0) {
		err = errno ? errno : EIO;
		be_dev_error(dev, "cannot bind event channel %u: %s", (unsigned)v, strerror(err));
		return -err;
	}
	*local = (evtchn_port_t)p;
	if (remote)
		*remote = (uint32_t)v;
	return 0;
}

/*
 * The backend's frontend key, once; its directory is watched.  1 when
 * known, 0 when the toolstack has not written it yet, -EINVAL when it is
 * no path.
 */
static int be_dev_find_frontend(struct be_dev *dev)
{
	struct xs_handle *xs = dev->bk->xs;
	char *fe;

	if (dev->fe[0])
		return 1;
	fe = svxs_read(xs, XBT_NULL, dev->be, "frontend");
	if (!fe)
		return 0;
	if (strlen(fe) >= sizeof(dev->fe) || fe[0] != '/') {
		be_dev_error(dev, "frontend key '%.64s' is not a path", fe);
		free(fe);
		return -EINVAL;
	}
	snprintf(dev->fe, sizeof(dev->fe), "%s", fe);
	free(fe);
	if (xs_watch(xs, dev->fe, dev->bk->ops->type))
		dev->fe_watched = true;
	else
		svd_log("%s: cannot watch %s: %m", dev->name, dev->fe);
	return 1;
}

static void be_dev_probe(struct be_dev *dev, int bstate)
{
	int ret = be_dev_find_frontend(dev);

	if (ret == 0)
		return; /* the toolstack is still writing */
	if (ret > 0)
		ret = dev->bk->ops->probe(dev);
	if (ret == -EAGAIN)
		return;
	if (ret) {
		dev->failed = true;
		be_dev_switch(dev, XenbusStateClosed);
		return;
	}
	dev->probed = true;
	/* A device a previous daemon left Connected stays so until its frontend says otherwise. */
	if (!(dev->fresh && bstate == XenbusStateConnected))
		be_dev_switch(dev, XenbusStateInitWait);
}

/*
 * The state machine, run on every change (as Linux's frontend_changed):
 * the frontend's state and the toolstack's online key decide ours.
 */
static void be_dev_update(struct be_dev *dev)
{
	struct xs_handle *xs = dev->bk->xs;
	uint64_t online = 1;
	bool fresh;
	int fe;

	if (dev->failed)
		return;
	dev->state = be_dev_read_state(dev, dev->be);
	svxs_read_uint(xs, XBT_NULL, dev->be, "online", 2, &online);
	if (!dev->probed) {
		if (!online)
			return;
		be_dev_probe(dev, dev->state);
		if (!dev->probed)
			return;
	}
	/* The first full look at this device since the daemon started. */
	fresh = dev->fresh;
	dev->fresh = false;
	fe = be_dev_read_state(dev, dev->fe);
	if (!online) {
		/* Detach: once the frontend is not using the rings, we are Closed. */
		be_dev_disconnect(dev, false);
		if (fe == XenbusStateConnected || fe == XenbusStateInitialised ||
		    fe == XenbusStateClosing)
			be_dev_switch(dev, XenbusStateClosing);
		else
			be_dev_switch(dev, XenbusStateClosed);
		return;
	}
	switch (fe) {
	case XenbusStateInitialising:
	case XenbusStateInitWait:
		/* A frontend starting over (after Closed, or a reset while connected). */
		be_dev_disconnect(dev, false);
		if (dev->state == XenbusStateClosed || dev->state == XenbusStateConnected) {
			dev->broken = false;
			if (dev->bk->ops->reconnect && dev->bk->ops->reconnect(dev)) {
				dev->broken = true;
				be_dev_switch(dev, XenbusStateClosing);
				break;
			}
			be_dev_switch(dev, XenbusStateInitWait);
		}
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (dev->connected || dev->broken)
			break;
		if (dev->state != XenbusStateInitWait &&
		    !(fresh && dev->state == XenbusStateConnected))
			break;
		if (dev->bk->ops->connect(dev)) {
			dev->broken = true;
			be_dev_switch(dev, XenbusStateClosing);
			break;
		}
		dev->connected = true;
		be_dev_switch(dev, XenbusStateConnected);
		break;
	case XenbusStateClosing:
		be_dev_disconnect(dev, false);
		if (dev->state != XenbusStateClosed)
			be_dev_switch(dev, XenbusStateClosing);
		break;
	case XenbusStateClosed:
	default:
		/*
		 * Closed, or no frontend at all.  Once Closed we stay so: our own
		 * writes fire our watches, and going through Closing again would
		 * never end.
		 */
		be_dev_disconnect(dev, false);
		if (dev->state != XenbusStateClosed &&
		    (dev->state != XenbusStateInitWait || dev->broken)) {
			be_dev_switch(dev, XenbusStateClosing);
			be_dev_switch(dev, XenbusStateClosed);
		}
		break;
	}
}

static void be_dev_free(struct be_dev *dev, bool exiting)
{
	struct be_backend *bk = dev->bk;
	struct be_dev **pp;

	be_dev_disconnect(dev, exiting);
	if (bk->ops->remove)
		bk->ops->remove(dev);
	if (dev->fe_watched)
		xs_unwatch(bk->xs, dev->fe, bk->ops->type);
	for (pp = &bk->devs; *pp && *pp != dev; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = dev->next;
	free(dev);
}

static struct be_dev *be_dev_new(struct be_backend *bk, uint32_t domid, uint32_t devid)
{
	struct be_dev *dev = calloc(1, bk->ops->dev_size);

	if (!dev) {
		svd_log("out of memory for %s %u/%u", bk->ops->type, domid, devid);
		return NULL;
	}
	dev->bk = bk;
	dev->domid = domid;
	dev->devid = devid;
	dev->state = XenbusStateUnknown;
	dev->fresh = true;
	snprintf(dev->name, sizeof(dev->name), "%s %u/%u", bk->ops->type, domid, devid);
	snprintf(dev->be, sizeof(dev->be), "%s/%u/%u", bk->root, domid, devid);
	dev->next = bk->devs;
	bk->devs = dev;
	return dev;
}

/* A domain died with nobody removing its backend directory: we do. */
static void be_dev_domain_gone(struct be_dev *dev)
{
	struct be_backend *bk = dev->bk;
	char dom[96];
	unsigned n = 0;
	char **left;

	svd_log("%s: domain %u is gone: removing %s", dev->name, dev->domid, dev->be);
	xs_rm(bk->xs, XBT_NULL, dev->be);
	snprintf(dom, sizeof(dom), "%s/%u", bk->root, dev->domid);
	left = xs_directory(bk->xs, XBT_NULL, dom, &n);
	if (left && !n)
		xs_rm(bk->xs, XBT_NULL, dom);
	free(left);
	be_dev_free(dev, false);
}

/* xenstored says the domain is not (or no longer) introduced; not when it cannot be asked. */
static bool be_domain_gone(struct be_backend *bk, uint32_t domid)
{
	errno = 0;
	return !xs_is_domain_introduced(bk->xs, domid) && errno == 0;
}

void be_backend_scan(struct be_backend *bk)
{
	uint64_t limit = bk->ops->devid_limit ? bk->ops->devid_limit : (uint64_t)UINT32_MAX + 1;
	unsigned nd = 0;
	char **doms = xs_directory(bk->xs, XBT_NULL, bk->root, &nd);
	struct be_dev *dev, *next;
	bool partial = false; /* a listing failed: what we did not read may still be there */

	if (!doms && errno != ENOENT) {
		svd_log("listing %s: %m", bk->root);
		return;
	}
	for (dev = bk->devs; dev; dev = dev->next)
		dev->seen = false;
	for (unsigned i = 0; doms && i < nd; i++) {
		uint32_t domid;
		char dir[96];
		unsigned nv = 0;
		char **devs;

		if (!svxs_parse_dirent(doms[i], strlen(doms[i]), DOMID_FIRST_RESERVED, &domid) ||
		    !domid)
			continue;
		snprintf(dir, sizeof(dir), "%s/%u", bk->root, domid);
		devs = xs_directory(bk->xs, XBT_NULL, dir, &nv);
		if (!devs && errno != ENOENT)
			partial = true;
		for (unsigned j = 0; devs && j < nv; j++) {
			uint32_t devid;

			if (!svxs_parse_dirent(devs[j], strlen(devs[j]), limit, &devid))
				continue;
			dev = be_backend_find(bk, domid, devid);
			if (!dev)
				dev = be_dev_new(bk, domid, devid);
			if (dev)
				dev->seen = true;
		}
		free(devs);
	}
	free(doms);
	for (dev = bk->devs; dev; dev = next) {
		next = dev->next;
		if (!dev->seen && partial) {
			continue;
		} else if (!dev->seen) {
			svd_log("%s: backend directory removed", dev->name);
			be_dev_free(dev, false);
		} else if (be_domain_gone(bk, dev->domid)) {
			be_dev_domain_gone(dev);
		} else {
			be_dev_update(dev);
		}
	}
}

int be_backend_handle(struct be_backend *bk)
{
	/* Every event is coalesced into one scan: a toolstack writing many keys costs one. */
	int n = svxs_watch_drain(bk->xs, NULL, NULL);

	if (n < 0) {
		svd_log("xenstore connection failed: %s", strerror(-n));
		return n;
	}
	if (n)
		be_backend_scan(bk);
	return 0;
}

void be_backend_stop(struct be_backend *bk)
{
	while (bk->devs)
		be_dev_free(bk->devs, true);
}
