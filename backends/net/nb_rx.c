// SPDX-License-Identifier: MIT
/* netback's host->guest data plane: TAP reads, grant copies into rx buffers, responses. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "nb.h"
#include "nb_csum.h"

/* A packet read from the TAP in this batch. */
struct rx_item {
	size_t off;		    /* vnet header + frame in rx_buf */
	uint32_t len;		    /* frame bytes */
	unsigned nchunks;	    /* data slots */
	unsigned seg0;		    /* its grant copy segments: one per chunk */
	RING_IDX rsp0;		    /* ring index of its first slot */
	uint16_t ids[NB_MAX_SLOTS]; /* request ids, in slot order (extra included) */
	uint16_t flags;		    /* NETRXF_* of the first slot */
	bool gso;
	netif_extra_info_t extra;
};

/* Receive slots the frontend has posted and we have not used: checked against the ring size. */
static int rx_avail(struct nb_queue *q, unsigned *avail)
{
	RING_IDX prod = q->rx.sring->req_prod;

	xen_rmb(); /* the producer index before the requests it covers */
	if (prod - q->rx.rsp_prod_pvt > NB_RX_RING_SIZE)
		return nb_queue_fatal(q, "rx ring overflow: producer %u, responses at %u", prod,
				      q->rx.rsp_prod_pvt);
	*avail = prod - q->rx.req_cons;
	return 0;
}

/* True when the frame's ethertype (past one VLAN tag) is IPv6. */
static bool frame_is_ipv6(const uint8_t *f, size_t len)
{
	unsigned t = len >= 14 ? (unsigned)f[12] << 8 | f[13] : 0;

	if (t == 0x8100 && len >= 18)
		t = (unsigned)f[16] << 8 | f[17];
	return t == 0x86dd;
}

/*
 * Turns the TAP's virtio-net header into the first slot's flags and a GSO
 * extra, finishing checksums in software for a frontend that cannot take
 * them blank.  false: the packet cannot go to this frontend (dropped).
 */
static bool rx_offloads(struct nb_queue *q, struct rx_item *it, uint8_t *frame,
			const struct virtio_net_hdr *h)
{
	uint8_t gt = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	it->flags = 0;
	it->gso = false;
	if (gt != VIRTIO_NET_HDR_GSO_NONE) {
		if ((gt == VIRTIO_NET_HDR_GSO_TCPV4 && !q->feat.gso_tcpv4) ||
		    (gt == VIRTIO_NET_HDR_GSO_TCPV6 && !q->feat.gso_tcpv6) ||
		    (gt != VIRTIO_NET_HDR_GSO_TCPV4 && gt != VIRTIO_NET_HDR_GSO_TCPV6) ||
		    !h->gso_size || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			return false;
		it->gso = true;
		memset(&it->extra, 0, sizeof(it->extra));
		it->extra.type = XEN_NETIF_EXTRA_TYPE_GSO;
		it->extra.u.gso.size = h->gso_size;
		it->extra.u.gso.type = gt == VIRTIO_NET_HDR_GSO_TCPV4 ? XEN_NETIF_GSO_TYPE_TCPV4
								      : XEN_NETIF_GSO_TYPE_TCPV6;
	}
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		bool v6 = frame_is_ipv6(frame, it->len);

		if (!it->gso && (!q->feat.csum || (v6 && !q->feat.ipv6_csum))) {
			if (nb_csum_complete(frame, it->len, h->csum_start, h->csum_offset))
				return false;
			it->flags = NETRXF_data_validated;
		} else {
			it->flags = NETRXF_csum_blank | NETRXF_data_validated;
		}
	} else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		it->flags = NETRXF_data_validated;
	}
	return true;
}

/* Takes the next receive request (copied once) and returns its id and grant. */
static void rx_take(struct nb_queue *q, uint16_t *id, grant_ref_t *gref)
{
	netif_rx_request_t req;

	RING_COPY_REQUEST(&q->rx, q->rx.req_cons, &req);
	q->rx.req_cons++;
	*id = req.id;
	*gref = req.gref;
}

/* Lays a read frame over receive slots and adds its copy segments. */
static void rx_place(struct nb_queue *q, struct rx_item *it, unsigned *nsegs)
{
	const uint8_t *data = q->rx_buf + it->off + NB_VNET_HDR_LEN;
	uint32_t done = 0;
	unsigned slot = 0;

	it->rsp0 = q->rx.req_cons;
	it->seg0 = *nsegs;
	for (unsigned c = 0; c < it->nchunks; c++) {
		xengnttab_grant_copy_segment_t *s = &q->segs[(*nsegs)++];
		uint32_t n = it->len - done < NB_PAGE_SIZE ? it->len - done : NB_PAGE_SIZE;
		grant_ref_t gref;

		rx_take(q, &it->ids[slot++], &gref);
		s->source.virt = (void *)(data + done);
		s->dest.foreign.ref = gref;
		s->dest.foreign.offset = 0;
		s->dest.foreign.domid = (uint16_t)q->domid;
		s->len = (uint16_t)n;
		s->flags = GNTCOPY_dest_gref;
		s->status = GNTST_okay;
		done += n;
		/* The GSO extra takes the slot right after the first. */
		if (c == 0 && it->gso) {
			grant_ref_t unused;

			rx_take(q, &it->ids[slot++], &unused);
		}
	}
}

/* Writes the responses of one packet in slot order. */
static void rx_respond(struct nb_queue *q, const struct rx_item *it)
{
	bool failed = false;
	unsigned slot = 0;

	for (unsigned c = 0; c < it->nchunks; c++)
		if (q->segs[it->seg0 + c].status != GNTST_okay)
			failed = true;
	for (unsigned c = 0; c < it->nchunks; c++) {
		const xengnttab_grant_copy_segment_t *s = &q->segs[it->seg0 + c];
		netif_rx_response_t *rsp = RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt);

		rsp->id = it->ids[slot++];
		rsp->offset = 0;
		rsp->status = failed ? NETIF_RSP_ERROR : (int16_t)s->len;
		rsp->flags = c == 0 ? it->flags : 0;
		if (c + 1 < it->nchunks)
			rsp->flags |= NETRXF_more_data;
		if (c == 0 && it->gso)
			rsp->flags |= NETRXF_extra_info;
		q->rx.rsp_prod_pvt++;
		if (c == 0 && it->gso) {
			netif_extra_info_t *ex =
			    (netif_extra_info_t *)RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt);

			*ex = it->extra;
			slot++;
			q->rx.rsp_prod_pvt++;
		}
	}
	if (failed) {
		q->st.rx_dropped++;
	} else {
		q->st.rx_packets++;
		q->st.rx_bytes += it->len;
	}
}

/*
 * Not enough receive slots for the next packet: ask the frontend for an
 * event once it has posted them, and stop reading the TAP until then.
 */
static void rx_stall(struct nb_queue *q, unsigned need)
{
	unsigned avail = 0;

	q->rx.sring->req_event = q->rx.req_cons + need;
	xen_mb(); /* req_event visible before req_prod is read again */
	if (!rx_avail(q, &avail) && avail >= need)
		q->rx_more = true;
	else
		q->tap_polled = false;
}

/* The next frame: the one kept from last time, or a fresh TAP read.  Bytes, or -1 when none. */
static ssize_t rx_next(struct nb_queue *q, size_t pos)
{
	ssize_t got;

	if (q->rx_pend) {
		got = (ssize_t)q->rx_pend; /* it sits at offset 0, and pos is 0 */
		q->rx_pend = 0;
		return got;
	}
	return read(q->tap_fd, q->rx_buf + pos, NB_VNET_HDR_LEN + NB_MAX_FRAME);
}

int nb_rx_run(struct nb_queue *q)
{
	struct rx_item items[NB_BATCH];
	unsigned n = 0, nsegs = 0, avail = 0, need = 1;
	size_t pos = 0, pend_off = 0, pend_len = 0;
	int notify = 0, ret;
	bool stalled = false;

	q->rx_more = false;
	if (!q->connected)
		return 0;
	q->tap_polled = true;
	ret = rx_avail(q, &avail);
	if (ret)
		return ret;
	while (n < NB_BATCH) {
		struct rx_item *it = &items[n];
		struct virtio_net_hdr h;
		ssize_t got;

		if (!avail) {
			stalled = true;
			break;
		}
		if (pos + NB_VNET_HDR_LEN + NB_MAX_FRAME > NB_ARENA_SIZE) {
			q->rx_more = true;
			break;
		}
		got = rx_next(q, pos);
		if (got < 0)
			break; /* EAGAIN: the TAP is empty */
		if ((size_t)got < NB_VNET_HDR_LEN + 14u) {
			q->st.rx_dropped++;
			continue;
		}
		memcpy(&h, q->rx_buf + pos, NB_VNET_HDR_LEN);
		it->off = pos;
		it->len = (uint32_t)got - NB_VNET_HDR_LEN;
		it->nchunks = (it->len + NB_PAGE_SIZE - 1) / NB_PAGE_SIZE;
		need = it->nchunks + (h.gso_type != VIRTIO_NET_HDR_GSO_NONE);
		if ((!q->feat.sg && it->nchunks > 1) || need > NB_MAX_SLOTS) {
			q->st.rx_dropped++;
			continue;
		}
		if (need > avail) {
			/* Kept for later, untouched: it moves to offset 0 after this batch. */
			pend_off = pos;
			pend_len = (size_t)got;
			stalled = true;
			break;
		}
		if (!rx_offloads(q, it, q->rx_buf + pos + NB_VNET_HDR_LEN, &h)) {
			q->st.rx_dropped++;
			continue;
		}
		rx_place(q, it, &nsegs);
		avail -= it->nchunks + it->gso;
		pos += NB_VNET_HDR_LEN + it->len;
		n++;
		if (n == NB_BATCH)
			q->rx_more = true;
	}
	if (nsegs && xengnttab_grant_copy(q->gt, nsegs, q->segs))
		nb_log("%s: grant copy failed: %m", q->name);
	for (unsigned i = 0; i < n; i++)
		rx_respond(q, &items[i]);
	if (n) {
		q->st.rx_batches++;
		/* Responses visible before the index; notify only past the frontend's rsp_event. */
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
		if (notify)
			nb_queue_notify(q, q->rx_port);
	}
	if (pend_len) {
		/* The batch's copies are done: the kept frame may move over their sources. */
		memmove(q->rx_buf, q->rx_buf + pend_off, pend_len);
		q->rx_pend = pend_len;
		q->rx_pend_need = need;
	}
	if (stalled)
		rx_stall(q, pend_len ? need : 1);
	return 0;
}
