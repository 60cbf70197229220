/* SPDX-License-Identifier: MIT */
/* netback's shared types: the daemon, its vifs and their queues (rings, TAP, credit). */
#ifndef SV_NB_H
#define SV_NB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <net/if.h>
#include <xenctrl.h> /* xen_mb/xen_rmb/xen_wmb for ring.h: defined once, by Xen */
#include <xen/grant_table.h>
#include <xen/io/netif.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "nb_credit.h"

#define NB_PAGE_SIZE 4096u
/* Both netif rings live in one page each: 256 slots. */
#define NB_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, NB_PAGE_SIZE)
#define NB_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, NB_PAGE_SIZE)
/* Queues a frontend may ask for (multi-queue-max-queues). */
#define NB_MAX_QUEUES 4
/* Packets moved per grant-copy batch, each way. */
#define NB_BATCH 64
/* Largest frame either way: a 64 KiB GSO packet with its Ethernet header. */
#define NB_MAX_FRAME (XEN_NETIF_MAX_TX_SIZE + 14u)
/* Data slots one packet may span (guest->host and host->guest). */
#define NB_MAX_SLOTS XEN_NETIF_NR_SLOTS_MIN
/* Bytes of the virtio-net header in front of every TAP read and write. */
#define NB_VNET_HDR_LEN 10u

/* What the frontend said it can take, negotiated at connect (control plane fills it). */
struct nb_features {
	bool sg;	/* feature-sg: packets over several slots */
	bool gso_tcpv4; /* feature-gso-tcpv4 (needs sg) */
	bool gso_tcpv6; /* feature-gso-tcpv6 (needs sg) */
	bool csum;	/* !feature-no-csum-offload: takes blank IPv4 checksums */
	bool ipv6_csum; /* feature-ipv6-csum-offload */
};

struct nb_stats {
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors; /* guest -> host */
	uint64_t rx_packets, rx_bytes, rx_dropped;	      /* host -> guest */
	uint64_t tx_batches, rx_batches, notifies;
};

/* An epoll endpoint: what a ready fd means to the main loop. */
enum nb_ep_kind { NB_EP_LISTEN, NB_EP_SIGNAL, NB_EP_XS, NB_EP_EVTCHN, NB_EP_TAP, NB_EP_TIMER };
struct nb_ep {
	enum nb_ep_kind kind;
	struct nb_queue *q; /* NB_EP_TAP */
};

struct nb_vif;

/*
 * One queue of a vif: a tx ring (guest -> host), an rx ring (host -> guest),
 * their event channels and one TAP queue fd.  The data plane (nb_tx.c,
 * nb_rx.c) works on it alone; it never touches xenstore.
 */
struct nb_queue {
	struct nb_vif *vif;
	unsigned id;
	uint32_t domid;
	const char *name;      /* the vif's interface name, for logs */
	xengnttab_handle *gt;  /* grant copies and ring maps */
	xenevtchn_handle *xce; /* notifications */
	int tap_fd;	       /* this queue's TAP fd (non-blocking) */
	struct nb_ep tap_ep;
	bool tap_polled;     /* EPOLLIN wanted on tap_fd */
	uint32_t tap_events; /* what epoll has now for tap_fd */
	bool connected;
	bool tx_kick, rx_kick; /* an event or readiness arrived: run that side */

	/* Rings, mapped from the frontend's grants; sring pointers for unmap. */
	netif_tx_back_ring_t tx;
	netif_rx_back_ring_t rx;
	void *tx_sring, *rx_sring;
	evtchn_port_t tx_port, rx_port; /* local ports; equal unless split */
	struct nb_features feat;

	/*
	 * Guest->host: requests copied out of the ring once, indexed by ring
	 * index mod size; tx_copied is the ring index up to which they were.
	 */
	netif_tx_request_t tx_copy[NB_TX_RING_SIZE];
	RING_IDX tx_copied;
	struct nb_credit credit; /* rate= limit on guest->host bytes */
	bool tx_more;		 /* budget ran out with work left */
	bool tx_throttled;	 /* waiting for credit (timer armed) */
	uint64_t tx_retry_us;	 /* when credit comes back */

	/* Host->guest. */
	bool rx_more;
	/*
	 * A frame read from the TAP that did not fit the receive buffers
	 * posted then: kept at the start of rx_buf (rx_pend bytes, virtio-net
	 * header included) until the frontend posts rx_pend_need slots.
	 */
	size_t rx_pend;
	unsigned rx_pend_need;

	/* Batch buffers, allocated at connect. */
	uint8_t *tx_buf, *rx_buf;
	xengnttab_grant_copy_segment_t *segs;

	struct nb_stats st;
	char err[160]; /* why the frontend lost its vif */
};

/* Grant copy segments in one batch (both directions share the array). */
#define NB_MAX_SEGS (NB_BATCH * (NB_MAX_SLOTS + 1))
/* Arena per direction: room for a full batch of full-size packets would be
 * 4 MiB; batches stop when less than one maximal frame is left. */
#define NB_ARENA_SIZE (1024u * 1024u)

/* Data plane, guest -> host (nb_tx.c). */

/* One guest packet as its transmit slots describe it (nb_tx_parse fills it). */
struct nb_txpkt {
	RING_IDX first;			 /* ring index of its first slot */
	unsigned nr_slots;		 /* ring slots it takes: data and extra */
	unsigned nr_data;		 /* data slots */
	RING_IDX data_idx[NB_MAX_SLOTS]; /* ring index of each data slot */
	uint16_t data_len[NB_MAX_SLOTS]; /* bytes of each data slot */
	uint32_t len;			 /* frame length (the first slot's size) */
	uint16_t flags;			 /* the first slot's NETTXF_* */
	bool has_gso;
	netif_extra_info_t gso;
	bool drop; /* well-formed but unusable: answered with an error */
};

/*
 * Reads the packet starting at ring index cons from the copied requests
 * copy[] (ring-size array, index mod size), using only indexes below end.
 * Returns 1 with *p filled (p->drop for a packet to refuse), 0 when its
 * slots are not all there yet, or -EPROTO with the reason in why for a
 * packet no honest frontend sends (too many slots, a slot crossing its
 * page, a bad extra).  Pure: no I/O, no global state.
 */
int nb_tx_parse(const netif_tx_request_t *copy, RING_IDX cons, RING_IDX end, struct nb_txpkt *p,
		char *why, size_t whylen);

/*
 * Builds the virtio-net header of a guest frame from its flags and GSO
 * extra (fixing up the pseudo-header sum when GSO came without a blank
 * checksum).  0, or -EINVAL when the offload cannot be applied to this frame.
 */
struct virtio_net_hdr;
int nb_tx_vnet_hdr(uint8_t *frame, size_t len, const struct nb_txpkt *p, struct virtio_net_hdr *h);

/*
 * Takes the frontend's transmit requests, copies each packet from its
 * grants into the TAP, answers every slot and notifies when the frontend
 * asked.  At most NB_BATCH packets per call: tx_more says work is left;
 * tx_throttled that the rate limit stopped it until tx_retry_us.
 * Returns 0, or -EPROTO when the frontend broke the protocol (q->err
 * says how; the caller disables the vif), or another -errno.
 */
int nb_tx_run(struct nb_queue *q, uint64_t now_us);

/* Data plane, host -> guest (nb_rx.c). */

/*
 * Reads packets from the TAP while the frontend has posted enough receive
 * buffers, copies them into those buffers and answers.  When buffers run
 * short it asks for an event and clears tap_polled.  rx_more says the
 * batch filled up with the TAP still readable.  0, -EPROTO (q->err) or -errno.
 */
int nb_rx_run(struct nb_queue *q);

/* Allocates and frees the batch buffers.  0 or -ENOMEM. */
int nb_queue_buffers_alloc(struct nb_queue *q);
void nb_queue_buffers_free(struct nb_queue *q);

/*
 * Checks freshly mapped rings before anything is bound to them: a producer
 * more than a ring ahead means the frontend never initialised them.
 * 0 or -EPROTO (q->err says which).
 */
int nb_queue_rings_sane(struct nb_queue *q);

/* Records why the frontend broke the protocol; returns -EPROTO. */
int nb_queue_fatal(struct nb_queue *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Notifies the frontend on port (counts it); a failure is logged, not fatal. */
void nb_queue_notify(struct nb_queue *q, evtchn_port_t port);

/* Logging: "netback: message" on stderr with a time stamp (common/svd.c). */
#include "sv/daemon.h"
#define nb_log svd_log

#endif /* SV_NB_H */
