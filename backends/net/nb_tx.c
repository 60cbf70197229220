// SPDX-License-Identifier: MIT
/* netback's guest->host data plane: transmit requests, grant copies into the TAP, responses. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>

#include "nb.h"
#include "nb_csum.h"

#define NB_ETH_HLEN 14u
/* Extra-info slots one packet may carry (one of each type is all that is useful). */
#define NB_MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)

static const netif_tx_request_t *at(const netif_tx_request_t *copy, RING_IDX i)
{
	return &copy[i & (NB_TX_RING_SIZE - 1)];
}

/* Reads the extra-info slots after the first request; returns the next index or -EPROTO/0. */
static int parse_extras(const netif_tx_request_t *copy, RING_IDX *i, RING_IDX end,
			struct nb_txpkt *p, char *why, size_t whylen)
{
	unsigned n = 0;
	netif_extra_info_t ex;

	do {
		if (*i == end)
			return 0;
		/* The extra occupies a request slot; it is read from our copy. */
		memcpy(&ex, at(copy, *i), sizeof(ex));
		(*i)++;
		if (++n > NB_MAX_EXTRAS) {
			snprintf(why, whylen, "more than %u extra-info slots", NB_MAX_EXTRAS);
			return -EPROTO;
		}
		switch (ex.type) {
		case XEN_NETIF_EXTRA_TYPE_GSO:
			if (!ex.u.gso.size) {
				snprintf(why, whylen, "GSO extra with size 0");
				return -EPROTO;
			}
			if (ex.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
			    ex.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6) {
				snprintf(why, whylen, "GSO extra of unknown type %u",
					 ex.u.gso.type);
				return -EPROTO;
			}
			p->has_gso = true;
			p->gso = ex;
			break;
		case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
		case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
		case XEN_NETIF_EXTRA_TYPE_HASH:
			break; /* not negotiated: ignored, as the slot is well-formed */
		default:
			snprintf(why, whylen, "extra-info slot of unknown type %u", ex.type);
			return -EPROTO;
		}
	} while (ex.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	return 1;
}

int nb_tx_parse(const netif_tx_request_t *copy, RING_IDX cons, RING_IDX end, struct nb_txpkt *p,
		char *why, size_t whylen)
{
	const netif_tx_request_t *first = at(copy, cons);
	RING_IDX i = cons + 1;
	uint32_t rest = 0;
	uint16_t flags = first->flags;
	int ret;

	memset(p, 0, sizeof(*p));
	p->first = cons;
	p->len = first->size;
	p->flags = first->flags;
	if (first->flags & NETTXF_extra_info) {
		ret = parse_extras(copy, &i, end, p, why, whylen);
		if (ret <= 0)
			return ret;
	}
	p->data_idx[p->nr_data++] = cons;
	while (flags & NETTXF_more_data) {
		const netif_tx_request_t *r;

		if (i == end)
			return 0;
		if (p->nr_data == NB_MAX_SLOTS) {
			snprintf(why, whylen, "packet spans more than %u slots", NB_MAX_SLOTS);
			return -EPROTO;
		}
		r = at(copy, i);
		if ((uint32_t)r->offset + r->size > NB_PAGE_SIZE) {
			snprintf(why, whylen, "slot %u: offset %u + size %u crosses its page", i,
				 r->offset, r->size);
			return -EPROTO;
		}
		p->data_idx[p->nr_data] = i;
		p->data_len[p->nr_data++] = r->size;
		rest += r->size;
		flags = r->flags;
		i++;
	}
	p->nr_slots = i - cons;
	/* The first slot's size is the whole frame; its own bytes are what the others leave. */
	if (rest > first->size) {
		p->drop = true;
		return 1;
	}
	p->data_len[0] = (uint16_t)(first->size - rest);
	if ((uint32_t)first->offset + p->data_len[0] > NB_PAGE_SIZE) {
		snprintf(why, whylen, "slot %u: offset %u + size %u crosses its page", cons,
			 first->offset, p->data_len[0]);
		return -EPROTO;
	}
	if (first->size < NB_ETH_HLEN)
		p->drop = true;
	return 1;
}

int nb_tx_vnet_hdr(uint8_t *frame, size_t len, const struct nb_txpkt *p, struct virtio_net_hdr *h)
{
	struct nb_l4 l4;

	memset(h, 0, sizeof(*h));
	if (!(p->flags & NETTXF_csum_blank) && !p->has_gso) {
		if (p->flags & NETTXF_data_validated)
			h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return 0;
	}
	if (nb_csum_find_l4(frame, len, &l4))
		return -EINVAL;
	if (p->has_gso) {
		bool v6 = p->gso.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6;

		if (l4.proto != IPPROTO_TCP || l4.ipv6 != v6)
			return -EINVAL;
		/* Some frontends send GSO without a blank checksum: put the pseudo sum in. */
		if (!(p->flags & NETTXF_csum_blank) && nb_csum_pseudo(frame, len, &l4))
			return -EINVAL;
		h->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = p->gso.u.gso.size;
		h->hdr_len = (uint16_t)(l4.l4_off + l4.l4_hdr_len);
	}
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)l4.l4_off;
	h->csum_offset = (uint16_t)nb_csum_field(l4.proto);
	return 0;
}

/* A packet taken off the ring in this batch. */
struct tx_item {
	struct nb_txpkt pkt;
	size_t off;	     /* vnet header + frame in tx_buf */
	unsigned seg0, nseg; /* its grant copy segments */
};

/* Answers every slot of a packet: status on data slots, NULL on extras. */
static void tx_respond(struct nb_queue *q, const struct nb_txpkt *p, int16_t status)
{
	unsigned d = 0;

	for (RING_IDX i = p->first; i != p->first + p->nr_slots; i++) {
		netif_tx_response_t *rsp = RING_GET_RESPONSE(&q->tx, q->tx.rsp_prod_pvt);

		if (d < p->nr_data && p->data_idx[d] == i) {
			rsp->id = q->tx_copy[i & (NB_TX_RING_SIZE - 1)].id;
			rsp->status = status;
			d++;
		} else {
			/* Extra slots carry no id of their own: keep the ring in step. */
			rsp->id = q->tx_copy[i & (NB_TX_RING_SIZE - 1)].id;
			rsp->status = NETIF_RSP_NULL;
		}
		q->tx.rsp_prod_pvt++;
	}
}

/*
 * Copies the requests the frontend produced since the last call, once
 * each.  The producer index is read once and must lie in
 * [tx_copied, rsp_prod_pvt + ring size]: beyond is an overflow, and below
 * tx_copied it moved backwards, which would make the loop below count
 * round the 32-bit index (an honest frontend never takes requests back).
 */
static int tx_copy_new(struct nb_queue *q, RING_IDX *prod_out)
{
	RING_IDX prod = q->tx.sring->req_prod;

	xen_rmb(); /* the producer index before the requests it covers */
	if (prod - q->tx.rsp_prod_pvt > NB_TX_RING_SIZE)
		return nb_queue_fatal(q, "tx ring overflow: producer %u, responses at %u", prod,
				      q->tx.rsp_prod_pvt);
	/* Both differences are within a ring: prod behind tx_copied is the larger. */
	if (prod - q->tx_copied > prod - q->tx.rsp_prod_pvt)
		return nb_queue_fatal(q, "tx producer moved backwards: %u, requests copied to %u",
				      prod, q->tx_copied);
	for (; q->tx_copied != prod; q->tx_copied++)
		RING_COPY_REQUEST(&q->tx, q->tx_copied,
				  &q->tx_copy[q->tx_copied & (NB_TX_RING_SIZE - 1)]);
	*prod_out = prod;
	return 0;
}

/* Takes up to NB_BATCH packets off the ring into items[], with their copy segments. */
static int tx_gather(struct nb_queue *q, uint64_t now_us, struct tx_item *items, unsigned *nitems,
		     unsigned *nsegs, bool *partial, RING_IDX *prod_out)
{
	size_t pos = 0;
	unsigned n = 0, ns = 0;
	RING_IDX prod = 0;
	char why[128];
	int ret;

	ret = tx_copy_new(q, &prod);
	if (ret)
		return ret;
	*prod_out = prod;
	while (n < NB_BATCH && q->tx.req_cons != prod) {
		struct tx_item *it = &items[n];
		struct nb_txpkt *p = &it->pkt;
		uint64_t retry;

		ret = nb_tx_parse(q->tx_copy, q->tx.req_cons, prod, p, why, sizeof(why));
		if (ret < 0)
			return nb_queue_fatal(q, "%s", why);
		if (!ret) {
			*partial = true; /* the rest of the packet is not produced yet */
			break;
		}
		if (pos + NB_VNET_HDR_LEN + p->len > NB_ARENA_SIZE) {
			q->tx_more = true;
			break;
		}
		if (!p->drop && !nb_credit_take(&q->credit, now_us, p->len, &retry)) {
			q->tx_throttled = true;
			q->tx_retry_us = retry;
			break;
		}
		q->tx.req_cons += p->nr_slots;
		it->off = pos;
		it->seg0 = ns;
		it->nseg = 0;
		if (!p->drop) {
			size_t dst = pos + NB_VNET_HDR_LEN;

			for (unsigned d = 0; d < p->nr_data; d++) {
				const netif_tx_request_t *r =
				    &q->tx_copy[p->data_idx[d] & (NB_TX_RING_SIZE - 1)];
				xengnttab_grant_copy_segment_t *s = &q->segs[ns];

				if (!p->data_len[d])
					continue;
				s->source.foreign.ref = r->gref;
				s->source.foreign.offset = r->offset;
				s->source.foreign.domid = (uint16_t)q->domid;
				s->dest.virt = q->tx_buf + dst;
				s->len = p->data_len[d];
				s->flags = GNTCOPY_source_gref;
				s->status = GNTST_okay;
				dst += p->data_len[d];
				ns++;
				it->nseg++;
			}
			pos = dst;
		}
		n++;
	}
	*nitems = n;
	*nsegs = ns;
	return 0;
}

/* Hands one copied frame to the TAP with its virtio-net header; returns the response status. */
static int16_t tx_deliver(struct nb_queue *q, struct tx_item *it)
{
	struct nb_txpkt *p = &it->pkt;
	uint8_t *buf = q->tx_buf + it->off;
	struct virtio_net_hdr h;

	for (unsigned s = it->seg0; s < it->seg0 + it->nseg; s++) {
		if (q->segs[s].status != GNTST_okay) {
			q->st.tx_errors++;
			return NETIF_RSP_ERROR;
		}
	}
	if (nb_tx_vnet_hdr(buf + NB_VNET_HDR_LEN, p->len, p, &h)) {
		q->st.tx_errors++;
		return NETIF_RSP_ERROR;
	}
	memcpy(buf, &h, NB_VNET_HDR_LEN);
	if (write(q->tap_fd, buf, NB_VNET_HDR_LEN + p->len) < 0) {
		/* The host side is down or full: the guest's packet is dropped, as a NIC would. */
		q->st.tx_dropped++;
		return NETIF_RSP_OKAY;
	}
	q->st.tx_packets++;
	q->st.tx_bytes += p->len;
	return NETIF_RSP_OKAY;
}

int nb_tx_run(struct nb_queue *q, uint64_t now_us)
{
	struct tx_item items[NB_BATCH];
	unsigned n = 0, nsegs = 0;
	RING_IDX prod = 0;
	bool partial = false;
	int notify = 0, more = 0, ret;

	q->tx_more = false;
	q->tx_throttled = false;
	if (!q->connected)
		return 0;
	ret = tx_gather(q, now_us, items, &n, &nsegs, &partial, &prod);
	if (ret)
		return ret;
	if (nsegs && xengnttab_grant_copy(q->gt, nsegs, q->segs)) {
		/* The hypervisor could not be asked: every segment says general error. */
		nb_log("%s: grant copy failed: %m", q->name);
	}
	for (unsigned i = 0; i < n; i++) {
		int16_t st = NETIF_RSP_ERROR;

		if (items[i].pkt.drop)
			q->st.tx_errors++;
		else
			st = tx_deliver(q, &items[i]);
		tx_respond(q, &items[i].pkt, st);
	}
	if (n) {
		q->st.tx_batches++;
		/* Responses visible before the index; notify only past the frontend's rsp_event. */
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify);
		if (notify)
			nb_queue_notify(q, q->tx_port);
	}
	if (q->tx_throttled || q->tx_more)
		return 0;
	if (partial) {
		/* Half a packet: wait for a request past what is there, not for the next one. */
		q->tx.sring->req_event = prod + 1;
		xen_mb(); /* req_event visible before req_prod is read again */
		q->tx_more = q->tx.sring->req_prod != prod;
		return 0;
	}
	/* Ask for an event on the next request, then look once more (no lost wake-up). */
	RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, more);
	if (more)
		q->tx_more = true;
	return 0;
}
