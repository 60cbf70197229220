// SPDX-License-Identifier: MIT
// The guest ring transport: struct xenstore_domain_interface (xen/io/xs_wire.h) behind struct
// xs_transport_ops.
//
// Requests arrive in req[] (the guest produces, we consume), replies and
// watch events leave in rsp[] (we produce, the guest consumes). Indexes
// are free-running 32-bit counters; the guest can write anything to the
// page, so every index pair is checked (at most XENSTORE_RING_SIZE apart)
// and data is copied out once before the core looks at it. A broken ring
// closes this domain's connection only.
//
// Bytes move through the connection's buffers (xs_cbuf.c), which the fd
// keeper holds as for sockets, so requests a crash left unanswered are
// answered by the restarted daemon.
#include <errno.h>
#include <string.h>

#include "xs_ring.h"

/* Barriers between our accesses and the guest's (another CPU). */
#define xs_ring_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xs_ring_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xs_ring_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

static uint32_t xs_ring_load(const XENSTORE_RING_IDX *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void xs_ring_store(XENSTORE_RING_IDX *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* The guest is told once per loop pass (end_pass), not per message. */
static void xs_ring_kick(struct xs_ring *r)
{
	r->kick_due = true;
}

static void xs_ring_end_pass(struct xs_conn *c)
{
	struct xs_ring *r = c->priv;

	if (!r->kick_due)
		return;
	r->kick_due = false;
	if (r->notify)
		r->notify(r);
}

/* Copies @n bytes starting at ring index @idx out of @ring (wrapping). */
static void xs_ring_copy_out(void *dst, const char *ring, uint32_t idx, uint32_t n)
{
	uint32_t off = MASK_XENSTORE_IDX(idx), first = XENSTORE_RING_SIZE - off;

	if (first > n)
		first = n;
	memcpy(dst, ring + off, first);
	memcpy((char *)dst + first, ring, n - first);
}

/* Copies @n bytes into the iovecs of @io, which hold at least that many. */
static void xs_ring_to_iov(struct xs_cbuf_io *io, const char *ring, uint32_t idx, uint32_t n)
{
	const struct msghdr *mh = &io->mh.msg_hdr;

	for (size_t i = 0; i < mh->msg_iovlen && n; i++) {
		uint32_t k = mh->msg_iov[i].iov_len < n ? (uint32_t)mh->msg_iov[i].iov_len : n;

		xs_ring_copy_out(mh->msg_iov[i].iov_base, ring, idx, k);
		idx += k;
		n -= k;
	}
}

static uint32_t xs_ring_iov_len(const struct xs_cbuf_io *io)
{
	const struct msghdr *mh = &io->mh.msg_hdr;
	uint64_t len = 0;

	for (size_t i = 0; i < mh->msg_iovlen; i++)
		len += mh->msg_iov[i].iov_len;
	return len < XENSTORE_RING_SIZE ? (uint32_t)len : XENSTORE_RING_SIZE;
}

/*
 * Requests out of req[] into the connection's buffers. The order makes a
 * kill at any point recoverable (xs_ring_finish_io): the bytes are copied,
 * then the count is stored in the shared io record, then req_cons moves.
 */
static ssize_t xs_ring_recvmm(struct xs_conn *c, struct xs_cbuf_io *io)
{
	struct xs_ring *r = c->priv;
	struct xenstore_domain_interface *intf = r->intf;
	uint32_t cons, prod, avail, n, len = xs_ring_iov_len(io);

	if (r->broken)
		return -EIO;
	cons = xs_ring_load(&intf->req_cons);
	prod = xs_ring_load(&intf->req_prod);
	xs_ring_rmb(); /* see the producer's index before its data */
	avail = prod - cons;
	if (avail > XENSTORE_RING_SIZE) {
		r->broken = true;
		intf->error = XENSTORE_ERROR_RINGIDX;
		return -EIO;
	}
	n = avail < len ? avail : len;
	/*
	 * Whatever is there is taken, a part of a message too, as C xenstored
	 * does: a guest notifies only when its write finds the ring empty
	 * (Linux's xb_write: prod <= req_cons), and Linux writes a request's
	 * header and payload separately, so a daemon that left a lone header
	 * in the ring waited for a payload that came without an event (Debian's
	 * kernel hung at its first XS_WATCH).  The part sits in the
	 * connection's buffer, which the keeper holds across a restart.
	 */
	if (!n)
		return 0;
	io->ring_idx = cons;
	xs_ring_to_iov(io, intf->req, cons, n);
	xs_cbuf_order();
	io->mh.msg_len = n;
	xs_cbuf_order();
	if (r->copied)
		r->copied(r);
	xs_ring_mb(); /* finish reading before the guest may reuse the slots */
	xs_ring_store(&intf->req_cons, cons + n);
	/*
	 * The new consumer index visible before the next call reads req_prod:
	 * a guest write that saw the old one did not notify (quiet_producer).
	 */
	xs_ring_mb();
	xs_ring_kick(r);
	return n;
}

/* Replies into rsp[]: the bytes, then the count in the io record, then rsp_prod. */
static ssize_t xs_ring_sendmm(struct xs_conn *c, struct xs_cbuf_io *io)
{
	struct xs_ring *r = c->priv;
	struct xenstore_domain_interface *intf = r->intf;
	const struct msghdr *mh = &io->mh.msg_hdr;
	uint32_t cons, prod, used, space, n, left, idx;

	if (r->broken)
		return -EIO;
	cons = xs_ring_load(&intf->rsp_cons);
	prod = xs_ring_load(&intf->rsp_prod);
	xs_ring_mb(); /* read the consumer's index before overwriting slots */
	used = prod - cons;
	if (used > XENSTORE_RING_SIZE) {
		r->broken = true;
		intf->error = XENSTORE_ERROR_RINGIDX;
		return -EIO;
	}
	space = XENSTORE_RING_SIZE - used;
	left = n = space < xs_ring_iov_len(io) ? space : xs_ring_iov_len(io);
	if (!n)
		return 0;
	io->ring_idx = prod;
	idx = prod;
	for (size_t i = 0; i < mh->msg_iovlen && left; i++) {
		const char *src = mh->msg_iov[i].iov_base;
		uint32_t k =
		    mh->msg_iov[i].iov_len < left ? (uint32_t)mh->msg_iov[i].iov_len : left;

		for (uint32_t done = 0; done < k;) {
			uint32_t off = MASK_XENSTORE_IDX(idx), m = XENSTORE_RING_SIZE - off;

			if (m > k - done)
				m = k - done;
			memcpy(intf->rsp + off, src + done, m);
			done += m;
			idx += m;
		}
		left -= k;
	}
	xs_cbuf_order();
	io->mh.msg_len = n;
	xs_cbuf_order();
	xs_ring_wmb(); /* data before the index that publishes it */
	xs_ring_store(&intf->rsp_prod, prod + n);
	xs_ring_kick(r);
	return n;
}

void xs_ring_finish_io(struct xs_ring *r, const struct xs_cbuf_hdr *h)
{
	struct xenstore_domain_interface *intf = r->intf;
	const struct xs_cbuf_io *in = &h->io_in, *out = &h->io_out;

	/*
	 * A call the kill cut after it stored its count but before it moved
	 * the index: the bytes are in our buffer (requests) or in the page
	 * (replies), so the move is finished now, as the count says.
	 */
	if (in->pending && in->mh.msg_len && xs_ring_load(&intf->req_cons) == in->ring_idx)
		xs_ring_store(&intf->req_cons, in->ring_idx + in->mh.msg_len);
	if (out->pending && out->mh.msg_len && xs_ring_load(&intf->rsp_prod) == out->ring_idx) {
		xs_ring_wmb();
		xs_ring_store(&intf->rsp_prod, out->ring_idx + out->mh.msg_len);
	}
}

static bool xs_ring_can_read(struct xs_conn *c)
{
	struct xs_ring *r = c->priv;

	return xs_ring_load(&r->intf->req_prod) != xs_ring_load(&r->intf->req_cons);
}

static bool xs_ring_can_write(struct xs_conn *c)
{
	struct xs_ring *r = c->priv;

	return xs_ring_load(&r->intf->rsp_prod) - xs_ring_load(&r->intf->rsp_cons) <
	       XENSTORE_RING_SIZE;
}

static void xs_ring_close(struct xs_conn *c)
{
	struct xs_ring *r = c->priv;

	if (r && r->release)
		r->release(r);
}

void xs_ring_init_page(struct xs_ring *r)
{
	r->intf->server_features = XENSTORE_SERVER_FEATURE_ERROR;
	r->intf->connection = XENSTORE_CONNECTED;
	r->intf->error = XENSTORE_ERROR_NONE;
	xs_ring_wmb();
}

const struct xs_transport_ops xs_ring_ops = {
	.name = "ring",
	.recvmm = xs_ring_recvmm,
	.sendmm = xs_ring_sendmm,
	.can_read = xs_ring_can_read,
	.can_write = xs_ring_can_write,
	.close = xs_ring_close,
	.end_pass = xs_ring_end_pass,
	.quiet_producer = true,
};
