// SPDX-License-Identifier: MIT
// netfront's control plane: finding vifs, the xenbus handshake with netback, closing, hot attach.
#include <svk/events.h>
#include <svk/gnttab.h>
#include <svk/lib.h>
#include <svk/netfront.h>
#include <svk/printk.h>
#include <svk/suspend.h>
#include <svk/time.h>
#include <svk/xenbus.h>
#include <svk/xenbus_state.h>

#define XS_PATH 256

/* The vifs and the watch on device/vif, owned by this file (boot vCPU only). */
static struct netfront devs[NETFRONT_MAX];
static int vif_watch = -1;
static volatile bool vif_changed;

static const struct net_if_ops netfront_ops = { .xmit = netfront_xmit };

/* The port's upcall: waking the waiter is the point; netfront_poll does the work. */
static void netfront_event(evtchn_port_t port, void *data)
{
	struct netfront *nf = data;

	nf->events++;
}

static void be_state_changed(const char *path, void *data)
{
	struct netfront *nf = data;

	nf->be_changed = true;
}

static void vifs_changed(const char *path, void *data)
{
	vif_changed = true;
}

/* "<dir>/<key>" into @buf; its length or -errno (-XEN_E2BIG: no room). */
static int read_key(const char *dir, const char *key, char *buf, size_t size)
{
	char path[XS_PATH];

	if ((size_t)ksnprintf(path, sizeof(path), "%s/%s", dir, key) >= sizeof(path))
		return -XEN_E2BIG;
	return xenbus_read(XBT_NIL, path, buf, size);
}

/* A 0/1 feature key; absent is 0. */
static bool read_flag(const char *dir, const char *key)
{
	char v[16];

	return read_key(dir, key, v, sizeof(v)) > 0 && !strcmp(v, "1");
}

static int read_num(const char *dir, const char *key, uint64_t *out)
{
	char v[24];
	int rc = read_key(dir, key, v, sizeof(v));

	return rc < 0 ? rc : parse_u64(v, out);
}

/* The backend's address (the first of a list in its ip key), or 0. */
static uint32_t read_ip(const struct netfront *nf)
{
	char v[128], *sp;
	uint32_t ip;

	if (read_key(nf->be, "ip", v, sizeof(v)) <= 0)
		return 0;
	sp = strchr(v, ' ');
	if (sp)
		*sp = '\0';
	return net_parse_ip(v, &ip) ? 0 : ip;
}

#define WRITE_KEY(t, fmt, ...)                                                                     \
	do {                                                                                       \
		if ((size_t)ksnprintf(path, sizeof(path), "%s/%s", nf->fe, key = (fmt)) >=         \
		    sizeof(path))                                                                  \
			rc = -XEN_E2BIG;                                                           \
		else                                                                               \
			rc = xenbus_printf(t, path, __VA_ARGS__);                                  \
		if (rc)                                                                            \
			goto out_abort;                                                            \
	} while (0)

/* Our half of the keys, in one transaction (started over on EAGAIN). */
static int write_keys(struct netfront *nf)
{
	char path[XS_PATH];
	const char *key = NULL;
	xenbus_transaction_t t;
	int rc;

	for (int tries = 0; tries < 5; tries++) {
		rc = xenbus_transaction_start(&t);
		if (rc)
			return rc;
		WRITE_KEY(t, "tx-ring-ref", "%u", nf->tx_ring_ref);
		WRITE_KEY(t, "rx-ring-ref", "%u", nf->rx_ring_ref);
		if (nf->rx_port) {
			WRITE_KEY(t, "event-channel-tx", "%u", nf->port);
			WRITE_KEY(t, "event-channel-rx", "%u", nf->rx_port);
		} else {
			WRITE_KEY(t, "event-channel", "%u", nf->port);
		}
		WRITE_KEY(t, "request-rx-copy", "%d", 1);
		WRITE_KEY(t, "feature-rx-notify", "%d", 1);
		WRITE_KEY(t, "feature-sg", "%d", 1);
		/* We check every checksum and cannot take blank ones. */
		WRITE_KEY(t, "feature-no-csum-offload", "%d", 1);
		WRITE_KEY(t, "feature-gso-tcpv4", "%d", 0);
		WRITE_KEY(t, "feature-gso-tcpv6", "%d", 0);
		WRITE_KEY(t, "feature-ipv6-csum-offload", "%d", 0);
		rc = xenbus_transaction_end(t, false);
		if (rc != -XEN_EAGAIN)
			return rc;
	}
	return -XEN_EAGAIN;
out_abort:
	printk("netfront: vif%u: writing %s: %d\n", nf->devid, key, rc);
	(void)xenbus_transaction_end(t, true);
	return rc;
}

/* Undo a connect: the channel, the rings and buffers, the backend watch. */
static void release(struct netfront *nf)
{
	if (nf->be_watch >= 0) {
		(void)xenbus_unwatch(nf->be_watch);
		nf->be_watch = -1;
	}
	if (nf->rx_port) {
		(void)evtchn_close(nf->rx_port);
		nf->rx_port = 0;
	}
	if (nf->port) {
		(void)evtchn_close(nf->port);
		nf->port = 0;
	}
	netfront_ring_teardown(nf);
}

/* Tell the backend we give up, then let go of everything. */
static void fail(struct netfront *nf, const char *step, int rc)
{
	char be[sizeof(nf->be)];

	printk("netfront: vif%u: %s failed: %d\n", nf->devid, step, rc);
	/* Never write into a directory the toolstack removed (detached). */
	if (read_key(nf->fe, "backend", be, sizeof(be)) >= 0)
		(void)xenbus_switch_state(nf->fe, XenbusStateClosed);
	release(nf);
	nf->state = NETFRONT_GONE;
}

/*
 * Wait (NETFRONT_TIMEOUT_NS at most) until the backend's state is one of
 * the bits of @want (1 << XenbusState...), whatever it passes through on
 * the way.  The state seen last, or -errno.
 */
static int wait_be_state(struct netfront *nf, unsigned int want)
{
	uint64_t end = time_now_ns() + NETFRONT_TIMEOUT_NS, now;
	char path[XS_PATH];
	int id, st, rc;

	if ((size_t)ksnprintf(path, sizeof(path), "%s/state", nf->be) >= sizeof(path))
		return -XEN_E2BIG;
	id = xenbus_watch(path, NULL, NULL);
	if (id < 0)
		return id;
	for (;;) {
		now = time_now_ns();
		rc = now < end ? xenbus_watch_wait(id, NULL, 0, end - now) : -XEN_ETIMEDOUT;
		if (rc) {
			st = rc;
			break;
		}
		st = xenbus_read_state(nf->be);
		if (st < 0 || (want & (1U << st)))
			break;
	}
	(void)xenbus_unwatch(id);
	return st;
}

/* A fresh channel to the backend into *@port, bound to our upcall.  0 or -errno. */
static int bind_channel(struct netfront *nf, evtchn_port_t *port)
{
	int rc = evtchn_alloc_unbound(nf->be_id, port);

	if (rc)
		return rc;
	rc = evtchn_bind(*port, netfront_event, nf);
	if (rc) {
		(void)evtchn_close(*port);
		*port = 0;
	}
	return rc;
}

/* The handshake (see svk/netfront.h).  0 or -errno; the vif is up on 0. */
static int connect(struct netfront *nf, bool reopen)
{
	char v[64], path[XS_PATH];
	uint8_t mac[ETH_ALEN];
	uint64_t num;
	unsigned int mtu = NET_MTU_DEFAULT;
	int rc;

	nf->be_watch = -1;
	nf->port = nf->rx_port = 0;
	ksnprintf(nf->fe, sizeof(nf->fe), "device/vif/%u", nf->devid);
	rc = xenbus_read_backend("vif", nf->devid, nf->be, sizeof(nf->be));
	if (rc < 0)
		return fail(nf, "reading backend", rc), rc;
	rc = read_num(nf->fe, "backend-id", &num);
	if (rc || num >= DOMID_FIRST_RESERVED)
		return fail(nf, "reading backend-id", rc ? rc : -XEN_ERANGE), -XEN_EINVAL;
	nf->be_id = (domid_t)num;
	rc = read_key(nf->fe, "mac", v, sizeof(v));
	if (rc < 0 || net_parse_mac(v, mac))
		return fail(nf, "reading mac", rc < 0 ? rc : -XEN_EINVAL), -XEN_EINVAL;
	/* Reopening, the backend passes through Closed on its way back. */
	rc = reopen ? wait_be_state(nf, 1U << XenbusStateInitWait)
		    : xenbus_wait_state(nf->be, XenbusStateInitWait, NETFRONT_TIMEOUT_NS);
	if (rc != XenbusStateInitWait)
		return fail(nf, "waiting for backend InitWait", rc < 0 ? rc : -XEN_EIO), -XEN_EIO;
	if (!read_flag(nf->be, "feature-rx-copy"))
		return fail(nf, "backend without feature-rx-copy", -XEN_EOPNOTSUPP),
		       -XEN_EOPNOTSUPP;
	nf->be_sg = read_flag(nf->be, "feature-sg");
	/* A frame (its first slot's size) is at most XEN_NETIF_MAX_TX_SIZE. */
	if (!read_num(nf->be, "mtu", &num) && num >= NET_MTU_MIN && num <= IP_MAX_LEN)
		mtu = (unsigned int)num;
	if (mtu > XEN_NETIF_MAX_TX_SIZE - ETH_HLEN)
		mtu = XEN_NETIF_MAX_TX_SIZE - ETH_HLEN;
	rc = netfront_ring_setup(nf);
	if (rc)
		return fail(nf, "granting rings and buffers", rc), rc;
	rc = bind_channel(nf, &nf->port);
	/* Split channels when netback offers them, as Linux takes them. */
	if (!rc && read_flag(nf->be, "feature-split-event-channels"))
		rc = bind_channel(nf, &nf->rx_port);
	if (rc)
		return fail(nf, "event channel", rc), rc;
	rc = write_keys(nf);
	if (rc)
		return fail(nf, "writing keys", rc), rc;
	net_if_init(&nf->nif, mac, read_ip(nf), mtu, &netfront_ops, nf);
	nf->rx_packets = nf->rx_bytes = nf->rx_errors = 0;
	nf->tx_packets = nf->tx_bytes = nf->tx_errors = nf->tx_full = 0;
	nf->state = NETFRONT_UP;
	netfront_rx_post_all(nf);
	rc = xenbus_switch_state(nf->fe, XenbusStateConnected);
	if (rc)
		return fail(nf, "switching to Connected", rc), rc;
	rc = xenbus_wait_state(nf->be, XenbusStateConnected, NETFRONT_TIMEOUT_NS);
	if (rc != XenbusStateConnected) {
		/* netback says why in its error key. */
		if (read_key(nf->be, "error", path, sizeof(path)) > 0)
			printk("netfront: vif%u: backend error: %s\n", nf->devid, path);
		return fail(nf, "waiting for backend Connected", rc < 0 ? rc : -XEN_EIO), -XEN_EIO;
	}
	if ((size_t)ksnprintf(path, sizeof(path), "%s/state", nf->be) < sizeof(path))
		nf->be_watch = xenbus_watch(path, be_state_changed, nf);
	printk("netfront: vif%u up: mac %s ip %s mtu %u backend %s (domain %u)\n", nf->devid,
	       net_format_mac(mac, v), net_format_ip(nf->nif.ip, v + 20), nf->nif.mtu, nf->be,
	       nf->be_id);
	return 0;
}

static struct netfront *find(unsigned int devid)
{
	for (unsigned i = 0; i < NETFRONT_MAX; i++)
		if (devs[i].state != NETFRONT_FREE && devs[i].devid == devid)
			return &devs[i];
	return NULL;
}

/*
 * Whether vif @devid's backend is online and waiting for us (Initialising
 * or InitWait): a vif being detached or already refused is left alone.
 */
static bool backend_waiting(unsigned int devid)
{
	char be[128];
	int st;

	if (xenbus_read_backend("vif", devid, be, sizeof(be)) < 0 || !read_flag(be, "online"))
		return false;
	st = xenbus_read_state(be);
	return st == XenbusStateInitialising || st == XenbusStateInitWait;
}

/* Whether @devid is among the @n NUL-separated names of @list. */
static bool listed(const char *list, int n, unsigned int devid)
{
	for (int i = 0; i < n; i++, list += strlen(list) + 1) {
		uint64_t id;

		if (!parse_u64(list, &id) && id == devid)
			return true;
	}
	return false;
}

/*
 * In a restored domain: every vif that was up lost its rings, grants and
 * channels, and its backend is a new one (xl made it afresh, our node
 * Initialising).  Let go of what is left (the grants are void: they end at
 * once and the pages come back), then connect as at boot.  Frames in
 * flight are lost, as on a real wire (Linux's netfront drops them too).
 */
static void netfront_resume(void *arg)
{
	for (unsigned i = 0; i < NETFRONT_MAX; i++) {
		struct netfront *nf = &devs[i];

		if (nf->state != NETFRONT_UP && nf->state != NETFRONT_BROKEN)
			continue;
		nf->port = nf->rx_port = 0; /* no such channels now: never close them */
		release(nf);
		nf->state = NETFRONT_GONE;
		if (connect(nf, false))
			printk("netfront: vif%u: reconnecting after the restore failed\n",
			       nf->devid);
	}
}

int netfront_scan(void)
{
	static bool hooked;
	char list[256];
	const char *name;
	int n;

	if (!xenbus_ready() || !gnttab_ready())
		return -XEN_ENODEV;
	if (!hooked)
		hooked = !suspend_register(netfront_resume, NULL);
	if (vif_watch < 0) {
		vif_watch = xenbus_watch("device/vif", vifs_changed, NULL);
		if (vif_watch < 0)
			printk("netfront: watching device/vif: %d (no hot attach)\n", vif_watch);
	}
	n = xenbus_directory(XBT_NIL, "device/vif", list, sizeof(list));
	if (n == -XEN_ENOENT)
		n = 0;
	if (n < 0)
		return n;
	/* Slots of vifs that failed and are gone from the store are free again. */
	for (unsigned k = 0; k < NETFRONT_MAX; k++)
		if (devs[k].state == NETFRONT_GONE && !listed(list, n, devs[k].devid))
			devs[k].state = NETFRONT_FREE;
	name = list;
	for (int i = 0; i < n; i++, name += strlen(name) + 1) {
		struct netfront *nf;
		uint64_t id;

		if (parse_u64(name, &id) || id > 0xffff)
			continue;
		/* New, or one that failed before and whose backend waits again. */
		nf = find((unsigned)id);
		if (nf && nf->state != NETFRONT_GONE)
			continue;
		for (unsigned k = 0; k < NETFRONT_MAX && !nf; k++)
			if (devs[k].state == NETFRONT_FREE)
				nf = &devs[k];
		if (!nf) {
			printk("netfront: vif%s: more than %d vifs\n", name, NETFRONT_MAX);
			break;
		}
		if (!backend_waiting((unsigned int)id))
			continue;
		memset(nf, 0, sizeof(*nf));
		nf->devid = (unsigned int)id;
		nf->state = NETFRONT_GONE; /* until it connects */
		(void)connect(nf, false);
	}
	return (int)netfront_count();
}

unsigned int netfront_count(void)
{
	unsigned int n = 0;

	for (unsigned i = 0; i < NETFRONT_MAX; i++)
		n += devs[i].state == NETFRONT_UP;
	return n;
}

struct netfront *netfront_get(unsigned int i)
{
	for (unsigned k = 0; k < NETFRONT_MAX; k++)
		if (devs[k].state == NETFRONT_UP && i-- == 0)
			return &devs[k];
	return NULL;
}

struct netfront *netfront_of(struct net_if *nif)
{
	return nif ? nif->priv : NULL;
}

void netfront_close(struct netfront *nf)
{
	int st;

	if (nf->state == NETFRONT_FREE || nf->state == NETFRONT_GONE)
		return;
	(void)xenbus_switch_state(nf->fe, XenbusStateClosing);
	st = xenbus_wait_state(nf->be, XenbusStateClosing, NETFRONT_TIMEOUT_NS);
	if (st != XenbusStateClosing && st != XenbusStateClosed && st != XenbusStateUnknown)
		printk("netfront: vif%u: backend did not close (%d)\n", nf->devid, st);
	release(nf);
	(void)xenbus_switch_state(nf->fe, XenbusStateClosed);
	nf->state = NETFRONT_GONE;
	printk("netfront: vif%u closed\n", nf->devid);
}

int netfront_reconnect(struct netfront *nf)
{
	if (nf->state == NETFRONT_UP || nf->state == NETFRONT_BROKEN)
		return -XEN_EBUSY;
	nf->state = NETFRONT_GONE; /* until it connects */
	/* netback reopens a vif only once it has seen us Closed. */
	(void)wait_be_state(nf, 1U << XenbusStateClosed | 1U << XenbusStateUnknown);
	(void)xenbus_switch_state(nf->fe, XenbusStateInitialising);
	return connect(nf, true);
}

/* The backend changed state: closing (detach, or it disabled us) takes the vif down. */
static void backend_changed(struct netfront *nf)
{
	int st = xenbus_read_state(nf->be);

	if (st == XenbusStateClosing || st == XenbusStateClosed || st == XenbusStateUnknown) {
		printk("netfront: vif%u: backend state %d; closing\n", nf->devid, st);
		netfront_close(nf);
		/*
		 * Still online (netback restarted, or it disabled us): connect
		 * again, as netback reopens a vif whose frontend went Closed.
		 * Detached (offline or gone): the slot is free again.
		 */
		if (st != XenbusStateUnknown && read_flag(nf->be, "online")) {
			printk("netfront: vif%u: backend online; reconnecting\n", nf->devid);
			if (!netfront_reconnect(nf))
				return;
		}
		nf->state = NETFRONT_FREE;
	}
}

void netfront_poll(void)
{
	if (vif_changed) {
		vif_changed = false;
		(void)netfront_scan();
	}
	for (unsigned i = 0; i < NETFRONT_MAX; i++) {
		struct netfront *nf = &devs[i];

		if (nf->be_changed) {
			nf->be_changed = false;
			backend_changed(nf);
		}
		netfront_ring_poll(nf);
	}
}

bool netfront_has_work(void)
{
	if (vif_changed)
		return true;
	for (unsigned i = 0; i < NETFRONT_MAX; i++)
		if (devs[i].be_changed || netfront_ring_has_work(&devs[i]))
			return true;
	return false;
}
