// SPDX-License-Identifier: MIT
// The guest ring transport: struct xenstore_domain_interface (xen/io/xs_wire.h) behind struct
// xs_transport_ops.
#ifndef XS_RING_H
#define XS_RING_H

#include "xenstored.h"

struct xs_ring {
	struct xenstore_domain_interface *intf; /* the guest's page, mapped */
	/* Kicks the guest's event channel; NULL in tests. */
	void (*notify)(struct xs_ring *r);
	void (*release)(struct xs_ring *r); /* unmap and unbind, on close */
	void *ctx;			    /* for notify/release */
	/*
	 * Tests only (NULL otherwise): called after requests were copied out and
	 * before req_cons moves, where a real guest's write may land unheard.
	 */
	void (*copied)(struct xs_ring *r);
	unsigned int domid;
	int local_port; /* our end of the event channel */
	bool broken;	/* the guest corrupted the indexes */
	bool kick_due;	/* indexes moved since the last kick */
	/* xs_xen_poll_rings: req_prod over unread requests at the last tick, and whether it was. */
	uint32_t tick_prod;
	bool tick_seen;
	bool unheard_logged; /* requests read with no event for a whole tick: logged once */
};

extern const struct xs_transport_ops xs_ring_ops;

/* Ring connections' keys (for the fd keeper) lie above every socket's. */
#define XS_RING_KEY(domid) ((1ULL << 62) + (domid))
#define XS_IS_RING_KEY(key) ((key) >= (1ULL << 62) && (key) < (1ULL << 63))

/*
 * After a crash, before the ring is used: completes an index move that
 * the kill cut short, from the buffers' header as the dead daemon left it.
 */
void xs_ring_finish_io(struct xs_ring *r, const struct xs_cbuf_hdr *h);

/* Announces what the daemon supports in the page (server_features). */
void xs_ring_init_page(struct xs_ring *r);

#endif
