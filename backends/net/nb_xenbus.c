// SPDX-License-Identifier: MIT
/* netback's control plane: discovery, xenbus states, keys, ring maps, event binds. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "nb_daemon.h"
#include "nb_link.h"
#include "nb_tap.h"

#define NB_BE_ROOT "/local/domain/0/backend/vif"
#define NB_TOKEN_BE "be"
#define NB_TOKEN_FE "fe"
#define NB_TOKEN_RELEASE "release"

/* Reads a printf-formatted path; NULL when absent (caller frees). */
static char *rd(struct nb_daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *rd(struct nb_daemon *d, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(d->xs, XBT_NULL, path, NULL);
}

/* Reads a decimal key into *v; false when absent or not a number. */
static bool rd_uint(struct nb_daemon *d, unsigned long *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool rd_uint(struct nb_daemon *d, unsigned long *v, const char *fmt, ...)
{
	char path[256], *s, *end;
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	s = xs_read(d->xs, XBT_NULL, path, NULL);
	if (!s)
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	ok = s[0] >= '0' && s[0] <= '9' && !*end && !errno;
	free(s);
	return ok;
}

/* A boolean feature key of the frontend: absent means def. */
static bool rd_flag(struct nb_daemon *d, struct nb_vif *v, const char *key, bool def)
{
	unsigned long x;

	return rd_uint(d, &x, "%s/%s", v->fe, key) ? x != 0 : def;
}

static bool wr(struct nb_daemon *d, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool wr(struct nb_daemon *d, const char *value, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (xs_write(d->xs, XBT_NULL, path, value, (unsigned)strlen(value)))
		return true;
	nb_log("xenstore: cannot write %s: %s", path, strerror(errno));
	return false;
}

/* Our side of the xenbus handshake: the backend's state key. */
static void set_state(struct nb_daemon *d, struct nb_vif *v, int state)
{
	char s[8];

	if (v->state == state)
		return;
	snprintf(s, sizeof(s), "%d", state);
	if (wr(d, s, "%s/state", v->be))
		v->state = state;
}

/* Frontend state; a missing frontend counts as Closed. */
static int fe_state(struct nb_daemon *d, struct nb_vif *v)
{
	unsigned long s;

	if (!v->fe[0] || !rd_uint(d, &s, "%s/state", v->fe))
		return XenbusStateClosed;
	return (int)s;
}

/* Tears the rings and event channels of every queue down; the TAP itself stays. */
static void disconnect(struct nb_daemon *d, struct nb_vif *v)
{
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

/* Records the failure in the backend's error key and the log. */
static void vif_error(struct nb_daemon *d, struct nb_vif *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void vif_error(struct nb_daemon *d, struct nb_vif *v, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nb_log("%s (domain %u, device %u): %s", v->ifname, v->domid, v->devid, msg);
	wr(d, msg, "%s/error", v->be);
}

void nb_xenbus_fatal(struct nb_daemon *d, struct nb_vif *v, const char *why)
{
	vif_error(d, v, "frontend broke the protocol: %s; vif disabled", why);
	disconnect(d, v);
	v->broken = true;
	set_state(d, v, XenbusStateClosing);
}

/* Maps one ring page of the frontend; NULL with a logged reason. */
static void *map_ring(struct nb_daemon *d, struct nb_vif *v, const char *dir, const char *key)
{
	unsigned long ref;
	void *p;

	if (!rd_uint(d, &ref, "%s/%s", dir, key) || ref > UINT32_MAX) {
		vif_error(d, v, "%s/%s missing or invalid", dir, key);
		return NULL;
	}
	p = xengnttab_map_grant_ref(d->gt, v->domid, (uint32_t)ref, PROT_READ | PROT_WRITE);
	if (!p)
		vif_error(d, v, "cannot map %s grant %lu: %s", key, ref, strerror(errno));
	return p;
}

/* Binds a frontend event channel named by key in dir; 0 with *port set, or -errno. */
static int bind_port(struct nb_daemon *d, struct nb_vif *v, const char *dir, const char *key,
		     evtchn_port_t *port)
{
	unsigned long remote;
	xenevtchn_port_or_error_t p;

	if (!rd_uint(d, &remote, "%s/%s", dir, key) || remote > UINT32_MAX) {
		vif_error(d, v, "%s/%s missing or invalid", dir, key);
		return -EINVAL;
	}
	p = xenevtchn_bind_interdomain(d->xce, v->domid, (evtchn_port_t)remote);
	if (p < 0) {
		vif_error(d, v, "cannot bind event channel %lu: %s", remote, strerror(errno));
		return -errno;
	}
	*port = (evtchn_port_t)p;
	return 0;
}

/* Connects one queue: rings, event channels (one or split), TAP queue, buffers. */
static int connect_queue(struct nb_daemon *d, struct nb_vif *v, unsigned i, const char *dir,
			 const struct nb_features *f)
{
	struct nb_queue *q = &v->q[i];
	unsigned long dummy;
	int ret;

	q->vif = v;
	q->id = i;
	q->domid = v->domid;
	q->name = v->ifname;
	q->gt = d->gt;
	q->xce = d->xce;
	q->feat = *f;
	q->tx_sring = map_ring(d, v, dir, "tx-ring-ref");
	if (!q->tx_sring)
		return -EINVAL;
	q->rx_sring = map_ring(d, v, dir, "rx-ring-ref");
	if (!q->rx_sring)
		return -EINVAL;
	/* The frontend initialised the shared indexes; our private ones start at 0. */
	BACK_RING_INIT(&q->tx, (netif_tx_sring_t *)q->tx_sring, NB_PAGE_SIZE);
	BACK_RING_INIT(&q->rx, (netif_rx_sring_t *)q->rx_sring, NB_PAGE_SIZE);
	q->tx_copied = 0;
	if (nb_queue_rings_sane(q)) {
		vif_error(d, v, "frontend broke the protocol: %s", q->err);
		return -EPROTO;
	}
	if (rd_uint(d, &dummy, "%s/event-channel-tx", dir)) {
		ret = bind_port(d, v, dir, "event-channel-tx", &q->tx_port);
		if (!ret)
			ret = bind_port(d, v, dir, "event-channel-rx", &q->rx_port);
	} else {
		ret = bind_port(d, v, dir, "event-channel", &q->tx_port);
		q->rx_port = q->tx_port;
	}
	if (ret)
		return ret;
	if (q->tap_fd < 0) {
		q->tap_fd = nb_tap_open(v->ifname);
		if (q->tap_fd < 0) {
			vif_error(d, v, "cannot open TAP queue %u: %s", i, strerror(-q->tap_fd));
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
		vif_error(d, v, "TUNSETOFFLOAD: %s", strerror(-ret));
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
static int connect_vif(struct nb_daemon *d, struct nb_vif *v)
{
	struct nb_features f;
	unsigned long nq = 1;
	char dir[160];
	int ret;

	if (!rd_flag(d, v, "request-rx-copy", false)) {
		vif_error(d, v,
			  "frontend does not offer request-rx-copy (rx-flip is not supported)");
		return -EOPNOTSUPP;
	}
	if (!rd_flag(d, v, "feature-rx-notify", false)) {
		vif_error(d, v, "frontend does not offer feature-rx-notify");
		return -EOPNOTSUPP;
	}
	f.sg = rd_flag(d, v, "feature-sg", false);
	f.gso_tcpv4 = f.sg && rd_flag(d, v, "feature-gso-tcpv4", false);
	f.gso_tcpv6 = f.sg && rd_flag(d, v, "feature-gso-tcpv6", false);
	f.csum = !rd_flag(d, v, "feature-no-csum-offload", false);
	f.ipv6_csum = rd_flag(d, v, "feature-ipv6-csum-offload", false);
	if (rd_uint(d, &nq, "%s/multi-queue-num-queues", v->fe) && (nq < 1 || nq > NB_MAX_QUEUES)) {
		vif_error(d, v, "multi-queue-num-queues %lu is not in 1..%u", nq, NB_MAX_QUEUES);
		return -EINVAL;
	}
	for (unsigned i = 0; i < nq; i++) {
		if (nq == 1)
			snprintf(dir, sizeof(dir), "%s", v->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", v->fe, i);
		ret = connect_queue(d, v, i, dir, &f);
		if (ret) {
			disconnect(d, v);
			return ret;
		}
		v->nqueues = i + 1;
	}
	nb_log("%s: connected (%lu queue%s, sg %d, gso4 %d, gso6 %d, csum %d, rate %" PRIu64
	       " bytes / %" PRIu64 " us)",
	       v->ifname, nq, nq == 1 ? "" : "s", f.sg, f.gso_tcpv4, f.gso_tcpv6, f.csum,
	       v->rate_bytes, v->rate_usecs);
	return 0;
}

/* Features we offer, written before InitWait as Linux's netback does. */
static bool write_features(struct nb_daemon *d, struct nb_vif *v)
{
	char n[8];

	snprintf(n, sizeof(n), "%u", NB_MAX_QUEUES);
	return wr(d, "1", "%s/feature-sg", v->be) && wr(d, "1", "%s/feature-gso-tcpv4", v->be) &&
	       wr(d, "1", "%s/feature-gso-tcpv6", v->be) &&
	       wr(d, "1", "%s/feature-ipv6-csum-offload", v->be) &&
	       wr(d, "1", "%s/feature-rx-copy", v->be) && wr(d, "0", "%s/feature-rx-flip", v->be) &&
	       wr(d, "1", "%s/feature-split-event-channels", v->be) &&
	       wr(d, n, "%s/multi-queue-max-queues", v->be);
}

/*
 * A new backend directory: check the toolstack's keys, create the TAP,
 * put it in its bridge, offer our features and wait for the frontend.
 */
static void probe(struct nb_daemon *d, struct nb_vif *v)
{
	char *fe = rd(d, "%s/frontend", v->be), *s, want[128];
	unsigned long feid, mtu;
	int ret;

	snprintf(v->ifname, sizeof(v->ifname), "vif%u.%u", v->domid, v->devid);
	snprintf(want, sizeof(want), "/local/domain/%u/device/vif/%u", v->domid, v->devid);
	if (!fe || strcmp(fe, want) || !rd_uint(d, &feid, "%s/frontend-id", v->be) ||
	    feid != v->domid) {
		vif_error(d, v, "frontend key '%s' or frontend-id does not name %s", fe ? fe : "",
			  want);
		free(fe);
		goto out_failed;
	}
	snprintf(v->fe, sizeof(v->fe), "%s", fe);
	free(fe);
	s = rd(d, "%s/vifname", v->be);
	if (s && s[0]) {
		if (strlen(s) >= IFNAMSIZ || strchr(s, '/') || strchr(s, ' ')) {
			vif_error(d, v, "vifname '%s' is not a valid interface name", s);
			free(s);
			goto out_failed;
		}
		snprintf(v->ifname, sizeof(v->ifname), "%s", s);
	}
	free(s);
	s = rd(d, "%s/bridge", v->be);
	snprintf(v->bridge, sizeof(v->bridge), "%s", s && s[0] ? s : "xenbr0");
	if (s && strlen(s) >= IFNAMSIZ) {
		vif_error(d, v, "bridge '%s' is not a valid interface name", s);
		free(s);
		goto out_failed;
	}
	free(s);
	if (rd_uint(d, &mtu, "%s/mtu", v->be)) {
		if (mtu < 68 || mtu > 65535) {
			vif_error(d, v, "mtu %lu is not in 68..65535", mtu);
			goto out_failed;
		}
		v->mtu = (unsigned)mtu;
	}
	s = rd(d, "%s/rate", v->be);
	if (s && nb_credit_parse(s, &v->rate_bytes, &v->rate_usecs)) {
		vif_error(d, v, "rate '%s' is not BYTES,USECS", s);
		free(s);
		goto out_failed;
	}
	free(s);

	v->q[0].tap_fd = nb_tap_open(v->ifname);
	if (v->q[0].tap_fd < 0) {
		vif_error(d, v, "cannot create TAP %s: %s", v->ifname, strerror(-v->q[0].tap_fd));
		goto out_failed;
	}
	v->q[0].tap_ep.kind = NB_EP_TAP;
	v->q[0].tap_ep.q = &v->q[0];
	ret = nb_daemon_tap_add(d, &v->q[0]);
	if (!ret)
		ret = nb_link_bridge_ensure(d->link, v->bridge);
	if (!ret)
		ret = nb_link_attach(d->link, v->ifname, v->bridge, v->mtu);
	if (ret) {
		vif_error(d, v, "cannot attach %s to bridge %s: %s", v->ifname, v->bridge,
			  strerror(-ret));
		goto out_failed;
	}
	if (!write_features(d, v) || !wr(d, "connected", "%s/hotplug-status", v->be))
		goto out_failed;
	{
		char path[160];

		snprintf(path, sizeof(path), "%s/state", v->fe);
		xs_watch(d->xs, path, NB_TOKEN_FE);
	}
	nb_log("%s: domain %u device %u on bridge %s", v->ifname, v->domid, v->devid, v->bridge);
	set_state(d, v, XenbusStateInitWait);
	return;

out_failed:
	wr(d, "error", "%s/hotplug-status", v->be);
	v->failed = true;
	set_state(d, v, XenbusStateClosed);
}

/* Closes the vif's TAP (the device goes with its last fd) and frees it. */
static void destroy(struct nb_daemon *d, struct nb_vif *v)
{
	char path[160];

	disconnect(d, v);
	if (v->q[0].tap_fd >= 0) {
		nb_daemon_tap_del(d, &v->q[0]);
		close(v->q[0].tap_fd);
		v->q[0].tap_fd = -1;
		nb_log("%s: removed", v->ifname);
	}
	if (v->fe[0]) {
		snprintf(path, sizeof(path), "%s/state", v->fe);
		xs_unwatch(d->xs, path, NB_TOKEN_FE);
	}
	free(v);
}

/*
 * The state machine, run on every change (as Linux's frontend_changed):
 * the frontend's state and the toolstack's online key decide ours.
 */
static void update(struct nb_daemon *d, struct nb_vif *v)
{
	unsigned long online = 1;
	int fe;

	if (v->failed)
		return;
	rd_uint(d, &online, "%s/online", v->be);
	fe = fe_state(d, v);
	if (!online) {
		/* Detach: once the frontend is not using the rings, we are Closed. */
		disconnect(d, v);
		if (fe == XenbusStateConnected || fe == XenbusStateInitialised ||
		    fe == XenbusStateClosing)
			set_state(d, v, XenbusStateClosing);
		else
			set_state(d, v, XenbusStateClosed);
		return;
	}
	switch (fe) {
	case XenbusStateInitialising:
	case XenbusStateInitWait:
		/* A frontend starting over after Closed: offer ourselves again. */
		if (v->state == XenbusStateClosed) {
			v->broken = false;
			set_state(d, v, XenbusStateInitWait);
		}
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (v->state != XenbusStateInitWait || v->broken)
			break;
		if (connect_vif(d, v)) {
			v->broken = true;
			set_state(d, v, XenbusStateClosing);
			break;
		}
		set_state(d, v, XenbusStateConnected);
		break;
	case XenbusStateClosing:
		disconnect(d, v);
		set_state(d, v, XenbusStateClosing);
		break;
	case XenbusStateClosed:
	default:
		disconnect(d, v);
		if (v->state != XenbusStateInitWait || v->broken) {
			set_state(d, v, XenbusStateClosing);
			set_state(d, v, XenbusStateClosed);
		}
		break;
	}
}

static struct nb_vif *find(struct nb_daemon *d, uint32_t domid, uint32_t devid)
{
	for (struct nb_vif *v = d->vifs; v; v = v->next)
		if (v->domid == domid && v->devid == devid)
			return v;
	return NULL;
}

/* A directory name that is a plain decimal number below limit. */
static bool dir_number(const char *s, unsigned long limit, uint32_t *out)
{
	char *end;
	unsigned long x;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	x = strtoul(s, &end, 10);
	if (*end || errno || x >= limit)
		return false;
	*out = (uint32_t)x;
	return true;
}

/* Finds new backend directories and probes them; marks what still exists. */
static void scan(struct nb_daemon *d)
{
	unsigned nd = 0, nv;
	char **doms = xs_directory(d->xs, XBT_NULL, NB_BE_ROOT, &nd), **devs;
	char path[96];

	for (struct nb_vif *v = d->vifs; v; v = v->next)
		v->seen = false;
	for (unsigned i = 0; doms && i < nd; i++) {
		uint32_t domid, devid;

		if (!dir_number(doms[i], DOMID_FIRST_RESERVED, &domid))
			continue;
		snprintf(path, sizeof(path), NB_BE_ROOT "/%u", domid);
		nv = 0;
		devs = xs_directory(d->xs, XBT_NULL, path, &nv);
		for (unsigned j = 0; devs && j < nv; j++) {
			struct nb_vif *v;

			if (!dir_number(devs[j], 1ul << 16, &devid))
				continue;
			v = find(d, domid, devid);
			if (!v) {
				v = calloc(1, sizeof(*v));
				if (!v) {
					nb_log("out of memory for domain %u vif %u", domid, devid);
					continue;
				}
				v->d = d;
				v->domid = domid;
				v->devid = devid;
				v->state = -1;
				for (unsigned k = 0; k < NB_MAX_QUEUES; k++)
					v->q[k].tap_fd = -1;
				snprintf(v->be, sizeof(v->be), NB_BE_ROOT "/%u/%u", domid, devid);
				v->next = d->vifs;
				d->vifs = v;
				probe(d, v);
			}
			v->seen = true;
		}
		free(devs);
	}
	free(doms);
}

/* Drops vifs whose backend directory is gone or whose domain was released. */
static void reap(struct nb_daemon *d)
{
	struct nb_vif **pp = &d->vifs;
	char path[96];

	while (*pp) {
		struct nb_vif *v = *pp;
		bool gone = !v->seen;

		if (!gone && !xs_is_domain_introduced(d->xs, v->domid) && v->domid != 0) {
			/* The domain died: nobody else removes the backend directory. */
			gone = true;
			snprintf(path, sizeof(path), NB_BE_ROOT "/%u", v->domid);
			xs_rm(d->xs, XBT_NULL, path);
		}
		if (gone) {
			*pp = v->next;
			destroy(d, v);
			continue;
		}
		pp = &v->next;
	}
}

int nb_xenbus_watch_fired(struct nb_daemon *d)
{
	char **ev;
	bool any = false;

	while ((ev = xs_check_watch(d->xs)) != NULL) {
		any = true;
		free(ev);
	}
	if (errno != EAGAIN) {
		/* Not "no more events": the connection to xenstored is gone. */
		nb_log("xenstore: %s", strerror(errno));
		return -errno;
	}
	if (!any)
		return 0;
	scan(d);
	reap(d);
	for (struct nb_vif *v = d->vifs; v; v = v->next)
		update(d, v);
	return 0;
}

int nb_xenbus_start(struct nb_daemon *d)
{
	if (!xs_watch(d->xs, NB_BE_ROOT, NB_TOKEN_BE) ||
	    !xs_watch(d->xs, "@releaseDomain", NB_TOKEN_RELEASE))
		return -errno;
	/* Both watches fire once at once: the first pass serves what is there. */
	return 0;
}

void nb_xenbus_stop(struct nb_daemon *d)
{
	while (d->vifs) {
		struct nb_vif *v = d->vifs;

		d->vifs = v->next;
		destroy(d, v);
	}
}
