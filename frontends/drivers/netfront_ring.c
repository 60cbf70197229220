// SPDX-License-Identifier: MIT
// netfront's data plane: the tx and rx rings, their granted buffers, responses copied once and
// checked.
#include <svk/events.h>
#include <svk/gnttab.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/netfront.h>
#include <svk/printk.h>
#include <svk/wait.h>

/* A frame of several rx slots is put together here (boot vCPU only). */
static uint8_t rx_frame[NETFRONT_MAX_SLOTS * PAGE_SIZE];

void netfront_broken(struct netfront *nf, const char *why)
{
	if (nf->state != NETFRONT_UP)
		return;
	printk("netfront: vif%u: backend broke the protocol: %s; vif disabled\n", nf->devid, why);
	nf->state = NETFRONT_BROKEN;
}

/* Grant a fresh page to the backend; its ref in *@ref.  0 or -errno. */
static int grant_page(struct netfront *nf, void **page, grant_ref_t *ref, bool readonly)
{
	int r;

	*page = page_alloc();
	if (!*page)
		return -XEN_ENOMEM;
	r = gnttab_grant_access(nf->be_id, virt_to_mfn(*page), readonly);
	if (r < 0) {
		page_free(*page);
		*page = NULL;
		return r;
	}
	*ref = (grant_ref_t)r;
	return 0;
}

/*
 * Let a page go: end the grant, then free it.  A grant the backend still
 * holds cannot be ended: the page is then left to it (never reused).
 */
static void ungrant_page(struct netfront *nf, void **page, grant_ref_t *ref)
{
	int rc;

	if (!*page)
		return;
	rc = gnttab_end_access(*ref);
	if (rc)
		printk("netfront: vif%u: ref %u still in use (%d); page leaked\n", nf->devid, *ref,
		       rc);
	else
		page_free(*page);
	*page = NULL;
	*ref = 0;
}

int netfront_ring_setup(struct netfront *nf)
{
	void *page;
	int rc;

	rc = grant_page(nf, &page, &nf->tx_ring_ref, false);
	if (rc)
		goto out_teardown;
	SHARED_RING_INIT((netif_tx_sring_t *)page);
	FRONT_RING_INIT(&nf->tx, (netif_tx_sring_t *)page, PAGE_SIZE);
	rc = grant_page(nf, &page, &nf->rx_ring_ref, false);
	if (rc)
		goto out_teardown;
	SHARED_RING_INIT((netif_rx_sring_t *)page);
	FRONT_RING_INIT(&nf->rx, (netif_rx_sring_t *)page, PAGE_SIZE);
	nf->rx_seen = 0;
	for (unsigned i = 0; i < NETFRONT_RX_BUFS; i++) {
		rc = grant_page(nf, &nf->rx_buf[i], &nf->rx_ref[i], false);
		if (rc)
			goto out_teardown;
	}
	nf->tx_nfree = 0;
	for (unsigned i = NETFRONT_TX_BUFS; i-- > 0;) {
		rc = grant_page(nf, &nf->tx_buf[i], &nf->tx_ref[i], true);
		if (rc)
			goto out_teardown;
		nf->tx_busy[i] = false;
		nf->tx_free[nf->tx_nfree++] = (uint16_t)i;
	}
	return 0;
out_teardown:
	netfront_ring_teardown(nf);
	return rc;
}

void netfront_ring_teardown(struct netfront *nf)
{
	void *page;

	for (unsigned i = 0; i < NETFRONT_RX_BUFS; i++)
		ungrant_page(nf, &nf->rx_buf[i], &nf->rx_ref[i]);
	for (unsigned i = 0; i < NETFRONT_TX_BUFS; i++)
		ungrant_page(nf, &nf->tx_buf[i], &nf->tx_ref[i]);
	nf->tx_nfree = 0;
	page = nf->tx.sring;
	ungrant_page(nf, &page, &nf->tx_ring_ref);
	nf->tx.sring = NULL;
	page = nf->rx.sring;
	ungrant_page(nf, &page, &nf->rx_ring_ref);
	nf->rx.sring = NULL;
}

/* Kick the backend about the tx ring (@rx false) or the rx ring. */
static void notify(struct netfront *nf, bool rx)
{
	nf->notifies++;
	(void)evtchn_notify(rx && nf->rx_port ? nf->rx_port : nf->port);
}

/* Post the rx request of ring index @i: it always names buffer i % RX_BUFS. */
static void rx_post(struct netfront *nf)
{
	RING_IDX i = nf->rx.req_prod_pvt++;
	netif_rx_request_t *req = RING_GET_REQUEST(&nf->rx, i);
	unsigned int b = i % NETFRONT_RX_BUFS;

	req->id = (uint16_t)b;
	req->gref = nf->rx_ref[b];
}

static void rx_push(struct netfront *nf)
{
	int more;

	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, more);
	if (more)
		notify(nf, true);
}

void netfront_rx_post_all(struct netfront *nf)
{
	for (unsigned i = 0; i < NETFRONT_RX_BUFS; i++)
		rx_post(nf);
	rx_push(nf);
}

/* The producer index of @sring, read once and checked against what we asked for. */
#define RSP_PROD_CHECKED(nf, ring, prod)                                                           \
	({                                                                                         \
		(prod) = READ_ONCE((ring)->sring->rsp_prod);                                       \
		xen_rmb(); /* responses after the index that covers them */                        \
		(prod) - (ring)->rsp_cons <= (ring)->req_prod_pvt - (ring)->rsp_cons;              \
	})

/* One rx slot as copied from the ring; extras carry nothing of ours. */
struct rx_slot {
	netif_rx_response_t r;
	bool extra;
};

/* Extra-info slots after a packet's first at most. */
#define RX_MAX_EXTRAS 4
#define RX_MAX_SLOTS (NETFRONT_MAX_SLOTS + RX_MAX_EXTRAS)

/*
 * One received packet starting at rsp_cons: its slots copied into @s (the
 * first, its extras, then the slots that more_data announces).  Returns
 * how many slots it takes, 0 when they are not all there yet, -1 when it
 * breaks the protocol (@why says how).
 */
static int rx_gather(struct netfront *nf, RING_IDX prod, struct rx_slot *s, const char **why)
{
	RING_IDX cons = nf->rx.rsp_cons;
	unsigned int n = 1;
	bool more;

	memcpy(&s[0].r, RING_GET_RESPONSE(&nf->rx, cons), sizeof(s[0].r));
	s[0].extra = false;
	more = s[0].r.flags & NETRXF_extra_info;
	while (more) {
		netif_extra_info_t ex;

		if (cons + n == prod)
			return 0;
		if (n > RX_MAX_EXTRAS) {
			*why = "too many extra-info slots";
			return -1;
		}
		memcpy(&ex, RING_GET_RESPONSE(&nf->rx, cons + n), sizeof(ex));
		s[n++].extra = true;
		more = ex.flags & XEN_NETIF_EXTRA_FLAG_MORE;
	}
	more = s[0].r.flags & NETRXF_more_data;
	while (more) {
		if (cons + n == prod)
			return 0;
		if (n == RX_MAX_SLOTS) {
			*why = "a packet over too many slots";
			return -1;
		}
		memcpy(&s[n].r, RING_GET_RESPONSE(&nf->rx, cons + n), sizeof(s[n].r));
		s[n].extra = false;
		more = s[n++].r.flags & NETRXF_more_data;
	}
	return (int)n;
}

/*
 * Take the packet in s[0..n) (slots from rsp_cons): check every data
 * slot (its buffer, its length within the page), then hand the frame to
 * the stack, in place when it is one slot.  A bad slot drops the packet.
 */
static void rx_packet(struct netfront *nf, const struct rx_slot *s, unsigned int n)
{
	RING_IDX cons = nf->rx.rsp_cons;
	const uint8_t *data = NULL;
	size_t len = 0;
	unsigned int data_slots = 0;

	for (unsigned k = 0; k < n; k++) {
		unsigned int b = (cons + k) % NETFRONT_RX_BUFS;
		const netif_rx_response_t *r = &s[k].r;

		if (s[k].extra)
			continue;
		if (r->id != b || r->status <= 0 || r->offset + (unsigned)r->status > PAGE_SIZE ||
		    len + (size_t)r->status > sizeof(rx_frame)) {
			nf->rx_errors++;
			return;
		}
		data = (const uint8_t *)nf->rx_buf[b] + r->offset;
		if (n - k > 1 || data_slots)
			memcpy(rx_frame + len, data, (size_t)r->status);
		len += (size_t)r->status;
		data_slots++;
	}
	nf->rx_packets++;
	nf->rx_bytes += len;
	net_input(&nf->nif, data_slots == 1 ? data : rx_frame, len);
}

static void rx_poll(struct netfront *nf)
{
	struct rx_slot rsp[RX_MAX_SLOTS];
	const char *why = NULL;
	bool partial;
	RING_IDX prod;
	int n, more;

	do {
		if (!RSP_PROD_CHECKED(nf, &nf->rx, prod)) {
			netfront_broken(nf, "rx response producer beyond our requests");
			return;
		}
		nf->rx_seen = prod;
		partial = false;
		while (nf->rx.rsp_cons != prod) {
			n = rx_gather(nf, prod, rsp, &why);
			if (n < 0) {
				netfront_broken(nf, why);
				return;
			}
			if (n == 0) {
				partial = true; /* the rest comes later */
				break;
			}
			rx_packet(nf, rsp, (unsigned)n);
			if (nf->state != NETFRONT_UP)
				return;
			nf->rx.rsp_cons += (RING_IDX)n;
			/* The same buffers, posted again. */
			for (int k = 0; k < n; k++)
				rx_post(nf);
		}
		rx_push(nf);
		if (partial) {
			/*
			 * Part of a packet is there: an event when more comes,
			 * and no spinning on what we already looked at.
			 */
			nf->rx.sring->rsp_event = prod + 1;
			xen_mb(); /* rsp_event before reading rsp_prod again */
			more = READ_ONCE(nf->rx.sring->rsp_prod) != prod;
		} else {
			RING_FINAL_CHECK_FOR_RESPONSES(&nf->rx, more);
		}
	} while (more);
}

/*
 * Reclaim the buffers of answered tx requests.  No event is asked for
 * (rsp_event is left behind): completions are reaped at the next poll,
 * and only a sender out of buffers asks to be woken (tx_wait_room).
 */
static void tx_reap(struct netfront *nf)
{
	netif_tx_response_t r;
	RING_IDX prod;

	do {
		if (!RSP_PROD_CHECKED(nf, &nf->tx, prod)) {
			netfront_broken(nf, "tx response producer beyond our requests");
			return;
		}
		for (; nf->tx.rsp_cons != prod; nf->tx.rsp_cons++) {
			memcpy(&r, RING_GET_RESPONSE(&nf->tx, nf->tx.rsp_cons), sizeof(r));
			if (r.status == NETIF_RSP_NULL)
				continue; /* an extra slot's (we send none) */
			if (r.id >= NETFRONT_TX_BUFS || !nf->tx_busy[r.id]) {
				netfront_broken(nf, "tx response for no request of ours");
				return;
			}
			if (r.status != NETIF_RSP_OKAY)
				nf->tx_errors++;
			nf->tx_busy[r.id] = false;
			nf->tx_free[nf->tx_nfree++] = r.id;
		}
	} while (READ_ONCE(nf->tx.sring->rsp_prod) != prod);
}

void netfront_ring_poll(struct netfront *nf)
{
	if (nf->state != NETFRONT_UP)
		return;
	tx_reap(nf);
	if (nf->state == NETFRONT_UP)
		rx_poll(nf);
}

bool netfront_ring_has_work(const struct netfront *nf)
{
	if (nf->state != NETFRONT_UP)
		return false;
	/* Rx: responses not looked at yet (a partial packet waits for more). */
	return READ_ONCE(nf->rx.sring->rsp_prod) != nf->rx_seen ||
	       RING_HAS_UNCONSUMED_RESPONSES(&nf->tx);
}

void netfront_tx_push(struct netfront *nf)
{
	int more;

	if (nf->state != NETFRONT_UP)
		return;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, more);
	if (more)
		notify(nf, false);
}

static bool tx_room(void *arg)
{
	struct netfront *nf = arg;

	return nf->state != NETFRONT_UP || RING_HAS_UNCONSUMED_RESPONSES(&nf->tx);
}

/* Wait (1 s at most per round) until @slots tx buffers are free. */
static int tx_wait_room(struct netfront *nf, unsigned int slots)
{
	int more;

	for (int tries = 0; nf->tx_nfree < slots; tries++) {
		if (tries == 5) {
			nf->tx_full++;
			return -XEN_EAGAIN;
		}
		/* Whatever was queued must reach the backend first. */
		netfront_tx_push(nf);
		/* An event with the next response (rsp_event), unless one is there. */
		RING_FINAL_CHECK_FOR_RESPONSES(&nf->tx, more);
		if (!more)
			(void)wait_until(tx_room, nf, 1000000000ULL);
		tx_reap(nf);
		if (nf->state != NETFRONT_UP)
			return -XEN_EIO;
	}
	return 0;
}

int netfront_xmit(struct net_if *nif, const struct net_iov *iov, unsigned int n)
{
	struct netfront *nf = netfront_of(nif);
	size_t total = 0, done = 0, room = 0;
	unsigned int slots, i = 0, id = 0;
	netif_tx_request_t *req = NULL, *first = NULL;
	size_t ioff = 0;
	int rc;

	if (!nf || nf->state != NETFRONT_UP)
		return -XEN_ENOTCONN;
	for (unsigned j = 0; j < n; j++)
		total += iov[j].len;
	if (total < ETH_HLEN || total > XEN_NETIF_MAX_TX_SIZE)
		return -XEN_EINVAL;
	slots = (unsigned int)((total + PAGE_SIZE - 1) / PAGE_SIZE);
	if (slots > 1 && !nf->be_sg)
		return -XEN_EMSGSIZE;
	if (nf->tx_nfree < slots)
		tx_reap(nf);
	rc = tx_wait_room(nf, slots);
	if (rc)
		return rc;
	if (nf->state != NETFRONT_UP) /* a reap found the backend hostile */
		return -XEN_ENOTCONN;
	/* Copy the pieces into whole pages, one slot each, at offset 0. */
	while (done < total) {
		size_t take;

		if (room == 0) {
			if (req) /* the previous slot continues in this one */
				req->flags |= NETTXF_more_data;
			id = nf->tx_free[--nf->tx_nfree];
			nf->tx_busy[id] = true;
			req = RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt++);
			req->gref = nf->tx_ref[id];
			req->offset = 0;
			req->flags = 0;
			req->id = (uint16_t)id;
			req->size = 0;
			if (!first)
				first = req;
			room = PAGE_SIZE;
		}
		take = iov[i].len - ioff < room ? iov[i].len - ioff : room;
		memcpy((uint8_t *)nf->tx_buf[id] + (PAGE_SIZE - room),
		       (const uint8_t *)iov[i].base + ioff, take);
		req->size = (uint16_t)(req->size + take);
		room -= take;
		done += take;
		ioff += take;
		if (ioff == iov[i].len) {
			i++;
			ioff = 0;
		}
	}
	/* The first slot's size is the whole frame's. */
	first->size = (uint16_t)total;
	nf->tx_packets++;
	nf->tx_bytes += total;
	if (!nf->tx_defer)
		netfront_tx_push(nf);
	return 0;
}

void netfront_hostile(struct netfront *nf)
{
	if (nf->state != NETFRONT_UP)
		return;
	/* A producer two rings ahead of anything answered: never honest. */
	nf->tx.sring->req_prod = nf->tx.rsp_cons + 2 * RING_SIZE(&nf->tx) + 5;
	xen_mb();
	notify(nf, false);
	nf->state = NETFRONT_BROKEN;
}
