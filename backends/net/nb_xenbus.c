// SPDX-License-Identifier: MIT
/* netback's control plane: what a vif is, on the backend core's xenbus device model. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>

#include "nb_daemon.h"
#include "nb_link.h"
#include "nb_tap.h"

static struct nb_vif *to_vif(struct be_dev *dev)
{
	return (struct nb_vif *)dev;
}

/* Tears the rings and event channels of every queue down; the TAP itself stays. */
static void disconnect(struct be_dev *dev, bool exiting)
{
	struct nb_daemon *d = be_dev_daemon(dev);
	struct nb_vif *v = to_vif(dev);

	(void)exiting; /* a successor starts the vif over: nothing to keep */
	for (unsigned i = 0; i < NB_MAX_QUEUES; i++) {
		struct nb_queue *q = &v->q[i];

		if (q->connected) {
			q->connected = false;
			nb_log("%s: queue %u: guest->host %" PRIu64 " packets %" PRIu64
			       " bytes, host->guest %" PRIu64 " packets %" PRIu64 " bytes",
			       v->ifname, i, q->st.tx_packets, q->st.tx_bytes, q->st.rx_packets,
			       q->st.rx_bytes);
		}
		if (q->tx_port) {
			xenevtchn_unbind(d->xce, q->tx_port);
			if (q->rx_port != q->tx_port && q->rx_port)
				xenevtchn_unbind(d->xce, q->rx_port);
		} else if (q->rx_port) {
			xenevtchn_unbind(d->xce, q->rx_port);
		}
		q->tx_port = q->rx_port = 0;
		if (q->tx_sring)
			xengnttab_unmap(d->gt, q->tx_sring, 1);
		if (q->rx_sring)
			xengnttab_unmap(d->gt, q->rx_sring, 1);
		q->tx_sring = q->rx_sring = NULL;
		nb_queue_buffers_free(q);
		q->rx_pend = 0;
		q->tx_more = q->rx_more = q->tx_throttled = false;
		if (i > 0 && q->tap_fd >= 0) {
			nb_daemon_tap_del(d, q);
			close(q->tap_fd);
			q->tap_fd = -1;
		}
		q->tap_polled = false;
		if (i == 0)
			nb_daemon_tap_sync(d, q);
	}
	v->nqueues = 0;
}

void nb_xenbus_fatal(struct nb_daemon *d, struct nb_vif *v, const char *why)
{
	(void)d;
	be_dev_fatal(&v->dev, "frontend broke the protocol: %s; vif disabled", why);
}

/* Connects one queue: rings, event channels (one or split), TAP queue, buffers. */
static int connect_queue(struct nb_daemon *d, struct nb_vif *v, unsigned i, const char *dir,
			 const struct nb_features *f)
{
	struct nb_queue *q = &v->q[i];
	uint64_t dummy;
	int ret;

	q->vif = v;
	q->id = i;
	q->domid = v->dev.domid;
	q->name = v->ifname;
	q->gt = d->gt;
	q->xce = d->xce;
	q->feat = *f;
	q->tx_sring = be_dev_map_ring(&v->dev, d->gt, dir, "tx-ring-ref", 1, NULL);
	if (!q->tx_sring)
		return -EINVAL;
	q->rx_sring = be_dev_map_ring(&v->dev, d->gt, dir, "rx-ring-ref", 1, NULL);
	if (!q->rx_sring)
		return -EINVAL;
	/* The frontend initialised the shared indexes; our private ones start at 0. */
	BACK_RING_INIT(&q->tx, (netif_tx_sring_t *)q->tx_sring, NB_PAGE_SIZE);
	BACK_RING_INIT(&q->rx, (netif_rx_sring_t *)q->rx_sring, NB_PAGE_SIZE);
	q->tx_copied = 0;
	if (nb_queue_rings_sane(q)) {
		be_dev_error(&v->dev, "frontend broke the protocol: %s", q->err);
		return -EPROTO;
	}
	if (svxs_read_uint(d->xs, XBT_NULL, dir, "event-channel-tx", UINT64_MAX, &dummy) == 0) {
		ret = be_dev_bind(&v->dev, d->xce, dir, "event-channel-tx", &q->tx_port, NULL);
		if (!ret)
			ret = be_dev_bind(&v->dev, d->xce, dir, "event-channel-rx", &q->rx_port,
					  NULL);
	} else {
		ret = be_dev_bind(&v->dev, d->xce, dir, "event-channel", &q->tx_port, NULL);
		q->rx_port = q->tx_port;
	}
	if (ret)
		return ret;
	if (q->tap_fd < 0) {
		q->tap_fd = nb_tap_open(v->ifname);
		if (q->tap_fd < 0) {
			be_dev_error(&v->dev, "cannot open TAP queue %u: %s", i,
				     strerror(-q->tap_fd));
			return q->tap_fd;
		}
		q->tap_ep.kind = NB_EP_TAP;
		q->tap_ep.q = q;
		ret = nb_daemon_tap_add(d, q);
		if (ret)
			return ret;
	}
	ret = nb_tap_set_offload(q->tap_fd, f);
	if (ret) {
		be_dev_error(&v->dev, "TUNSETOFFLOAD: %s", strerror(-ret));
		return ret;
	}
	ret = nb_queue_buffers_alloc(q);
	if (ret)
		return ret;
	memset(&q->st, 0, sizeof(q->st));
	nb_credit_init(&q->credit, v->rate_bytes, v->rate_usecs, 0);
	q->connected = true;
	q->tx_kick = q->rx_kick = true;
	q->tap_polled = true;
	nb_daemon_tap_sync(d, q);
	return 0;
}

/* Reads what the frontend negotiated and connects every queue it asked for. */
static int connect_vif(struct be_dev *dev)
{
	struct nb_daemon *d = be_dev_daemon(dev);
	struct nb_vif *v = to_vif(dev);
	struct xs_handle *xs = d->xs;
	struct nb_features f;
	uint64_t nq = 1;
	char dir[200];
	int ret;

	if (!svxs_read_flag(xs, XBT_NULL, dev->fe, "request-rx-copy", false)) {
		be_dev_error(dev,
			     "frontend does not offer request-rx-copy (rx-flip is not supported)");
		return -EOPNOTSUPP;
	}
	if (!svxs_read_flag(xs, XBT_NULL, dev->fe, "feature-rx-notify", false)) {
		be_dev_error(dev, "frontend does not offer feature-rx-notify");
		return -EOPNOTSUPP;
	}
	f.sg = svxs_read_flag(xs, XBT_NULL, dev->fe, "feature-sg", false);
	f.gso_tcpv4 = f.sg && svxs_read_flag(xs, XBT_NULL, dev->fe, "feature-gso-tcpv4", false);
	f.gso_tcpv6 = f.sg && svxs_read_flag(xs, XBT_NULL, dev->fe, "feature-gso-tcpv6", false);
	f.csum = !svxs_read_flag(xs, XBT_NULL, dev->fe, "feature-no-csum-offload", false);
	f.ipv6_csum = svxs_read_flag(xs, XBT_NULL, dev->fe, "feature-ipv6-csum-offload", false);
	ret = svxs_read_uint(xs, XBT_NULL, dev->fe, "multi-queue-num-queues", UINT64_MAX, &nq);
	if ((ret && ret != -ENOENT) || nq < 1 || nq > NB_MAX_QUEUES) {
		be_dev_error(dev, "multi-queue-num-queues is not in 1..%u", NB_MAX_QUEUES);
		return -EINVAL;
	}
	for (unsigned i = 0; i < nq; i++) {
		if (nq == 1)
			snprintf(dir, sizeof(dir), "%s", dev->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", dev->fe, i);
		ret = connect_queue(d, v, i, dir, &f);
		if (ret) {
			disconnect(dev, false);
			return ret;
		}
		v->nqueues = i + 1;
	}
	nb_log("%s: connected (%" PRIu64 " queue%s, sg %d, gso4 %d, gso6 %d, csum %d, rate %" PRIu64
	       " bytes / %" PRIu64 " us)",
	       v->ifname, nq, nq == 1 ? "" : "s", f.sg, f.gso_tcpv4, f.gso_tcpv6, f.csum,
	       v->rate_bytes, v->rate_usecs);
	return 0;
}

/* Features we offer, written before InitWait as Linux's netback does (be_dev_transaction). */
static int write_features(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	static const char *const on[] = { "feature-sg",	       "feature-gso-tcpv4",
					  "feature-gso-tcpv6", "feature-ipv6-csum-offload",
					  "feature-rx-copy",   "feature-split-event-channels" };
	const char *be = arg;
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(on) / sizeof(on[0]); i++)
		ret = svxs_printf(xs, t, be, on[i], "1");
	if (!ret)
		ret = svxs_printf(xs, t, be, "feature-rx-flip", "0");
	if (!ret)
		ret = svxs_printf(xs, t, be, "multi-queue-max-queues", "%u", NB_MAX_QUEUES);
	if (!ret)
		ret = svxs_printf(xs, t, be, "hotplug-status", "connected");
	return ret;
}

/* An interface name from the toolstack; false when it is not one. */
static bool ifname_key(struct nb_daemon *d, struct be_dev *dev, const char *key, char *out,
		       const char *def)
{
	char *s = svxs_read(d->xs, XBT_NULL, dev->be, key);
	bool ok = !s || strlen(s) < IFNAMSIZ;

	if (ok && s && s[0] && (strchr(s, '/') || strchr(s, ' ')))
		ok = false;
	if (!ok)
		be_dev_error(dev, "%s '%s' is not a valid interface name", key, s);
	else
		snprintf(out, IFNAMSIZ, "%s", s && s[0] ? s : def);
	free(s);
	return ok;
}

/* Checks the toolstack's keys, creates the TAP and puts it in its bridge. */
static int probe_vif(struct nb_daemon *d, struct nb_vif *v)
{
	struct be_dev *dev = &v->dev;
	char want[128], def[IFNAMSIZ], *s;
	uint64_t feid, mtu;
	int ret;

	snprintf(def, sizeof(def), "vif%u.%u", dev->domid, dev->devid);
	snprintf(v->ifname, sizeof(v->ifname), "%s", def);
	snprintf(want, sizeof(want), "/local/domain/%u/device/vif/%u", dev->domid, dev->devid);
	if (strcmp(dev->fe, want) ||
	    svxs_read_uint(d->xs, XBT_NULL, dev->be, "frontend-id", UINT64_MAX, &feid) ||
	    feid != dev->domid) {
		be_dev_error(dev, "frontend key '%s' or frontend-id does not name %s", dev->fe,
			     want);
		return -EINVAL;
	}
	if (!ifname_key(d, dev, "vifname", v->ifname, def) ||
	    !ifname_key(d, dev, "bridge", v->bridge, "xenbr0"))
		return -EINVAL;
	snprintf(dev->name, sizeof(dev->name), "%s", v->ifname);
	ret = svxs_read_uint(d->xs, XBT_NULL, dev->be, "mtu", UINT64_MAX, &mtu);
	if (ret != -ENOENT) {
		if (ret || mtu < 68 || mtu > 65535) {
			be_dev_error(dev, "mtu is not in 68..65535");
			return -EINVAL;
		}
		v->mtu = (unsigned)mtu;
	}
	s = svxs_read(d->xs, XBT_NULL, dev->be, "rate");
	if (s && nb_credit_parse(s, &v->rate_bytes, &v->rate_usecs)) {
		be_dev_error(dev, "rate '%s' is not BYTES,USECS", s);
		free(s);
		return -EINVAL;
	}
	free(s);

	v->q[0].tap_fd = nb_tap_open(v->ifname);
	if (v->q[0].tap_fd < 0) {
		be_dev_error(dev, "cannot create TAP %s: %s", v->ifname, strerror(-v->q[0].tap_fd));
		return v->q[0].tap_fd;
	}
	v->q[0].tap_ep.kind = NB_EP_TAP;
	v->q[0].tap_ep.q = &v->q[0];
	ret = nb_daemon_tap_add(d, &v->q[0]);
	if (!ret)
		ret = nb_link_bridge_ensure(d->link, v->bridge);
	if (!ret)
		ret = nb_link_attach(d->link, v->ifname, v->bridge, v->mtu);
	if (ret) {
		be_dev_error(dev, "cannot attach %s to bridge %s: %s", v->ifname, v->bridge,
			     strerror(-ret));
		return ret;
	}
	ret = be_dev_transaction(dev, write_features, dev->be);
	if (ret) {
		if (!dev->gone)
			be_dev_error(dev, "cannot write feature keys: %s", strerror(-ret));
		return ret;
	}
	nb_log("%s: domain %u device %u on bridge %s", v->ifname, dev->domid, dev->devid,
	       v->bridge);
	return 0;
}

static int probe(struct be_dev *dev)
{
	struct nb_daemon *d = be_dev_daemon(dev);
	struct nb_vif *v = to_vif(dev);
	int ret;

	for (unsigned k = 0; k < NB_MAX_QUEUES; k++)
		v->q[k].tap_fd = -1;
	ret = probe_vif(d, v);
	if (ret)
		be_dev_printf(dev, "hotplug-status", "error");
	return ret;
}

/* Closes the vif's TAP (the device goes with its last fd). */
static void remove_vif(struct be_dev *dev)
{
	struct nb_daemon *d = be_dev_daemon(dev);
	struct nb_vif *v = to_vif(dev);

	if (!dev->probed && !dev->failed)
		return; /* never probed: no TAP */
	if (v->q[0].tap_fd >= 0) {
		nb_daemon_tap_del(d, &v->q[0]);
		close(v->q[0].tap_fd);
		v->q[0].tap_fd = -1;
		nb_log("%s: removed", v->ifname);
	}
}

static const struct be_ops nb_vif_ops = {
	.type = "vif",
	.dev_size = sizeof(struct nb_vif),
	.devid_limit = 1u << 16,
	.probe = probe,
	.connect = connect_vif,
	.disconnect = disconnect,
	.remove = remove_vif,
};

int nb_xenbus_watch_fired(struct nb_daemon *d)
{
	return be_backend_handle(&d->vifs);
}

int nb_xenbus_start(struct nb_daemon *d)
{
	/* The watches fire once at once: the first pass serves what is there. */
	return be_backend_start(&d->vifs, d->xs, &nb_vif_ops, d);
}

void nb_xenbus_stop(struct nb_daemon *d)
{
	be_backend_stop(&d->vifs);
}
