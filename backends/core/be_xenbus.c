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

/* Whether DEV's backend directory is gone (seen in T), not merely unreadable. */
static bool be_dev_dir_gone(struct be_dev *dev, xs_transaction_t t)
{
	unsigned n = 0;
	char **l;

	errno = 0;
	l = xs_directory(dev->bk->xs, t, dev->be, &n);
	if (l) {
		free(l);
		return false;
	}
	return errno == ENOENT;
}

struct be_dev_tx {
	struct be_dev *dev;
	svxs_tx_fn *fn;
	void *arg;
	bool gone; /* the last try found the directory gone */
};

/*
 * The guard of every write to a backend directory: the state key is read in
 * the transaction, so a toolstack removing the directory before our commit
 * makes the commit fail (EAGAIN) and the retry sees it gone.
 */
static int be_dev_tx_guarded(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	struct be_dev_tx *tx = arg;
	char *s = svxs_read(xs, t, tx->dev->be, "state");

	tx->gone = false;
	if (!s && errno == ENOENT) {
		/* The directory is gone (detach), or the toolstack is still writing it. */
		tx->gone = be_dev_dir_gone(tx->dev, t);
		return -ENOENT;
	}
	if (!s && errno != EINVAL)
		return -errno; /* EINVAL: there, malformed; anything else: the store failed */
	free(s);
	return tx->fn(xs, t, tx->arg);
}

int be_dev_transaction(struct be_dev *dev, svxs_tx_fn *fn, void *arg)
{
	struct be_dev_tx tx = { .dev = dev, .fn = fn, .arg = arg };
	int ret;

	if (dev->gone)
		return -ENOENT;
	ret = svxs_transaction(dev->bk->xs, be_dev_tx_guarded, &tx);
	if (ret == -ENOENT && tx.gone)
		dev->gone = true;
	return ret;
}

struct be_dev_kv {
	const char *dir, *node, *val;
};

static int be_dev_tx_write(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct be_dev_kv *kv = arg;

	return svxs_write(xs, t, kv->dir, kv->node, kv->val);
}

static int be_dev_vprintf(struct be_dev *dev, const char *node, const char *fmt, va_list ap)
{
	char val[SVXS_VALUE_MAX + 1];
	struct be_dev_kv kv = { .dir = dev->be, .node = node, .val = val };
	int len = svxs_vformat(val, fmt, ap);

	if (len < 0)
		return len;
	return be_dev_transaction(dev, be_dev_tx_write, &kv);
}

int be_dev_printf(struct be_dev *dev, const char *node, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = be_dev_vprintf(dev, node, fmt, ap);
	va_end(ap);
	return ret;
}

void be_dev_switch(struct be_dev *dev, int state)
{
	int ret;

	if (dev->state == state || dev->gone)
		return;
	ret = be_dev_printf(dev, "state", "%d", state);
	if (ret == -ENOENT)
		svd_log("%s: no backend state key (directory removed?): state %d not written",
			dev->name, state);
	else if (ret)
		svd_log("%s: cannot write state %d: %s", dev->name, state, strerror(-ret));
	else
		dev->state = state;
}

static void be_dev_verror(struct be_dev *dev, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	svd_log("%s (domain %u, device %u): %s", dev->name, dev->domid, dev->devid, msg);
	be_dev_printf(dev, "error", "%s", msg);
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
	uint64_t online = 1, s;
	bool fresh;
	int fe, ret;

	if (dev->failed)
		return;
	ret = svxs_read_uint(xs, XBT_NULL, dev->be, "state", 64, &s);
	if (ret == -ENOENT) {
		/*
		 * Removed since the scan listed it (the scan frees it now), or
		 * the toolstack is still writing it: either way nothing to do.
		 */
		dev->gone = be_dev_dir_gone(dev, XBT_NULL);
		return;
	}
	dev->state = ret ? XenbusStateUnknown : (int)s;
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

/* The domain's directory DOM, when it holds no device: listed and removed in one transaction. */
static int be_dom_rm_empty(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const char *dom = arg;
	unsigned n = 0;
	char **left;

	errno = 0;
	left = xs_directory(xs, t, dom, &n);
	if (!left)
		return errno == ENOENT ? 0 : errno ? -errno : -EIO;
	free(left);
	if (n)
		return 0;
	errno = 0;
	return xs_rm(xs, t, dom) ? 0 : errno ? -errno : -EIO;
}

/* A domain died with nobody removing its backend directory: we do. */
static void be_dev_domain_gone(struct be_dev *dev)
{
	struct be_backend *bk = dev->bk;
	char dom[96];
	int ret;

	svd_log("%s: domain %u is gone: removing %s", dev->name, dev->domid, dev->be);
	xs_rm(bk->xs, XBT_NULL, dev->be);
	snprintf(dom, sizeof(dom), "%s/%u", bk->root, dev->domid);
	ret = svxs_transaction(bk->xs, be_dom_rm_empty, dom);
	if (ret)
		svd_log("%s: cannot remove %s: %s", dev->name, dom, strerror(-ret));
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
			if (dev && dev->gone) {
				/* Found gone earlier (by the data plane), made again since. */
				be_dev_free(dev, false);
				dev = NULL;
			}
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
			if (dev->gone) {
				/* Removed after the listing: freed now, not re-created. */
				svd_log("%s: backend directory removed", dev->name);
				be_dev_free(dev, false);
			}
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
