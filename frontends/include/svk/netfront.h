// SPDX-License-Identifier: MIT
// netfront: the guest's Xen network frontend (netif rings to dom0's netback), one net_if per vif.
#ifndef SVK_NETFRONT_H
#define SVK_NETFRONT_H

#include <svk/compiler.h>
#include <svk/net.h>
#include <svk/xen.h>
#include <xen/io/ring.h>
#include <xen/io/netif.h>

/* vifs at once, and buffers per vif (each a whole granted page). */
#define NETFRONT_MAX 4
#define NETFRONT_RX_BUFS 256 /* a power of two, at most the ring's 256 */
#define NETFRONT_TX_BUFS 128
/* Slots of one packet at most (data, and on rx the extras after the first). */
#define NETFRONT_MAX_SLOTS XEN_NETIF_NR_SLOTS_MIN
/* How long the handshake waits for each backend step. */
#define NETFRONT_TIMEOUT_NS (10ULL * 1000000000ULL)

enum netfront_state {
	NETFRONT_FREE,
	NETFRONT_UP,	 /* connected: rings live */
	NETFRONT_BROKEN, /* the backend broke the protocol: rings left alone */
	NETFRONT_GONE,	 /* closed, or never came up; the slot is kept for its id */
};

/*
 * One vif.  The rings are shared with the backend; everything else is
 * ours.  Rx: request i always names buffer i % NETFRONT_RX_BUFS, and
 * exactly NETFRONT_RX_BUFS requests are outstanding, so a response's slot
 * says which buffer holds it.  Tx: buffers are taken from a free stack
 * and the request id is the buffer index.
 */
struct netfront {
	enum netfront_state state;
	unsigned int devid;
	char fe[64];  /* device/vif/<devid> (relative to our home) */
	char be[128]; /* the backend directory */
	domid_t be_id;
	bool be_sg;		  /* feature-sg: frames over several tx slots */
	int be_watch;		  /* watch id on <be>/state, or -1 */
	volatile bool be_changed; /* set by that watch */
	struct net_if nif;

	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	RING_IDX rx_seen; /* rx rsp_prod when last looked at */
	grant_ref_t tx_ring_ref, rx_ring_ref;
	evtchn_port_t port;    /* both rings, or tx with split channels */
	evtchn_port_t rx_port; /* rx with split channels, else 0 */
	unsigned long events;  /* upcalls on our ports */

	void *rx_buf[NETFRONT_RX_BUFS];
	grant_ref_t rx_ref[NETFRONT_RX_BUFS];
	void *tx_buf[NETFRONT_TX_BUFS];
	grant_ref_t tx_ref[NETFRONT_TX_BUFS];
	bool tx_busy[NETFRONT_TX_BUFS];
	uint16_t tx_free[NETFRONT_TX_BUFS];
	unsigned int tx_nfree;
	unsigned int tx_defer; /* >0: xmit leaves pushing to netfront_tx_push */

	/* Counters: frames, slots answered with errors, frames we dropped. */
	unsigned long rx_packets, rx_bytes, rx_errors;
	unsigned long tx_packets, tx_bytes, tx_errors, tx_full;
	unsigned long notifies;
};

/*
 * netfront_scan: bring up every device/vif/<id> of our home not yet known
 * (the handshake below), and watch device/vif so that vifs attached later
 * come up at the next netfront_poll.  Returns how many vifs are up, or
 * -errno (-XEN_ENODEV without xenbus or grant tables).
 *
 * The handshake, as Linux's xen-netfront: read backend and backend-id, our
 * mac, wait for the backend's InitWait, read its feature-sg and mtu, its ip
 * (our address); grant a tx and an rx ring page, allocate one event
 * channel; write tx-ring-ref, rx-ring-ref, event-channel,
 * request-rx-copy=1, feature-rx-notify=1, feature-sg=1,
 * feature-no-csum-offload=1 in one transaction; post every rx buffer;
 * go Connected and wait for the backend's Connected.
 */
int netfront_scan(void);

/* The vifs that are up: netfront_count of them, by index. */
unsigned int netfront_count(void);
struct netfront *netfront_get(unsigned int i);
/* The vif holding @nif. */
struct netfront *netfront_of(struct net_if *nif);

/*
 * netfront_poll: for every vif, take received frames into net_input,
 * reclaim sent buffers and repost rx buffers; act on backend state
 * changes (the backend closing takes the vif down) and on new vifs.
 */
void netfront_poll(void);

/*
 * netfront_has_work: whether netfront_poll has something to do (responses
 * waiting, a watch fired).  For wait_until conditions (events masked).
 * netfront_poll left each ring's rsp_event so that the next response
 * raises an event.
 */
bool netfront_has_work(void);

/* netfront_xmit: net_if_ops.xmit of every vif. */
int netfront_xmit(struct net_if *nif, const struct net_iov *iov, unsigned int n);

/* netfront_tx_push: push queued tx requests (when tx_defer was set), notifying if asked. */
void netfront_tx_push(struct netfront *nf);

/* netfront_close: take the vif down (Closing, Closed, grants ended). */
void netfront_close(struct netfront *nf);

/*
 * netfront_reconnect: a vif closed with netfront_close (or freed after its
 * backend closed) goes Initialising and through the handshake again.
 * 0 or -errno (-XEN_EBUSY while it is up).
 */
int netfront_reconnect(struct netfront *nf);

/*
 * netfront_hostile: corrupt our own tx ring (a producer far beyond a
 * ring's worth of requests) and notify: the backend must disable the vif
 * and nothing else.  The vif is marked broken.
 */
void netfront_hostile(struct netfront *nf);

/* Data plane (netfront_ring.c), for netfront.c. */
int netfront_ring_setup(struct netfront *nf);
void netfront_ring_teardown(struct netfront *nf);
void netfront_rx_post_all(struct netfront *nf);
void netfront_ring_poll(struct netfront *nf);
bool netfront_ring_has_work(const struct netfront *nf);
void netfront_broken(struct netfront *nf, const char *why);

#endif
