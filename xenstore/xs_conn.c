// SPDX-License-Identifier: MIT
// Connections: the transport-independent byte streams, request framing, reply queueing and flow
// control.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "xenstored.h"
#include "xs_keeper.h"
#include "xs_uring.h"

/* Watch events are dropped while more than this is unsent. */
#define XS_OUT_EVENT_MAX (1024u * 1024)
/* A client with more unsent replies than this does not read: dropped. */
#define XS_OUT_DROP (2u * 1024 * 1024)

static void xs_conn_dirty(struct xs_conn *c)
{
	if (c->cb.dirty)
		return;
	c->cb.dirty = true;
	sv_list_add_tail(&c->d->dirty, &c->dirty_link);
}

struct xs_conn *xs_conn_new_cbuf(struct xs_daemon *d, const struct xs_transport_ops *ops,
				 void *priv, int fd, unsigned int domid, bool readonly,
				 const struct xs_cbuf *cb)
{
	struct xs_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->d = d;
	c->ops = ops;
	c->priv = priv;
	c->fd = fd;
	c->domid = domid;
	c->readonly = readonly;
	c->key = ++d->next_conn_key;
	c->cb = *cb;
	sv_list_init(&c->watches);
	sv_list_init(&c->txns);
	sv_list_init(&c->dirty_link);
	sv_list_add_tail(&d->conns, &c->link);
	if (c->cb.dirty) {
		c->cb.dirty = false;
		xs_conn_dirty(c);
	}
	/* Recovered output waits to be sent. */
	c->want_out = xs_conn_unsent(c) != 0;
	return c;
}

struct xs_conn *xs_conn_new(struct xs_daemon *d, const struct xs_transport_ops *ops, void *priv,
			    int fd, unsigned int domid, bool readonly)
{
	struct xs_cbuf cb;
	struct xs_conn *c;

	if (xs_cbuf_init_heap(&cb)) {
		errno = ENOMEM;
		return NULL;
	}
	c = xs_conn_new_cbuf(d, ops, priv, fd, domid, readonly, &cb);
	if (!c)
		xs_cbuf_free(&cb);
	return c;
}

struct xs_txn *xs_conn_find_txn(struct xs_conn *c, uint32_t id)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &c->txns)
	{
		struct xs_txn *tx = sv_container_of(pos, struct xs_txn, link);

		if (tx->id == id)
			return tx;
	}
	return NULL;
}

void xs_conn_drop_txns(struct xs_conn *c)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &c->txns)
	{
		struct xs_txn *tx = sv_container_of(pos, struct xs_txn, link);

		sv_list_del(&tx->link);
		xs_txn_free(tx);
	}
	c->ntxns = 0;
}

void xs_conn_kill(struct xs_conn *c, const char *why)
{
	struct xs_domain *dom;

	if (c->dead)
		return;
	if (why)
		xs_log(c->d, "connection %llu (domain %u, %s): closed: %s",
		       (unsigned long long)c->key, c->domid, c->ops->name, why);
	c->dead = true;
	xs_watch_del_all(c->d, c);
	xs_conn_drop_txns(c);
	if (c->persistent) {
		xs_persist_conn_gone(c->d, c);
		if (c->d->keeper)
			xs_keeper_del(c->d->keeper, c->key);
	}
	dom = xs_domain_get(c->d, c->domid);
	if (dom && dom->conn == c)
		dom->conn = NULL;
	if (c->ops->close)
		c->ops->close(c);
	c->fd = -1;
}

void xs_conn_free(struct xs_conn *c)
{
	if (!c->dead)
		xs_conn_kill(c, NULL);
	sv_list_del(&c->link);
	sv_list_del(&c->dirty_link);
	xs_cbuf_free(&c->cb);
	free(c);
}

/*
 * Read interest unless throttled; write interest only while the transport
 * refused part of the output. A request answered at once never changes it.
 */
void xs_conn_update_events(struct xs_conn *c)
{
	struct epoll_event ev = { 0 };

	if (c->fd < 0 || c->d->epfd < 0 || c->dead || c->uring)
		return;
	ev.events = (c->throttled ? 0 : EPOLLIN) | (c->out_blocked ? EPOLLOUT : 0);
	if (ev.events == c->ep_events)
		return;
	ev.data.ptr = c;
	if (epoll_ctl(c->d->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ep_events = ev.events;
}

int xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id, const void *a,
		 uint32_t alen, const void *b, uint32_t blen)
{
	struct xsd_sockmsg hdr = {
		.type = type,
		.req_id = req_id,
		.tx_id = tx_id,
		.len = alen + blen,
	};
	struct xs_cbuf_hdr *h = c->cb.h;

	if (c->dead)
		return -EPIPE;
	if (hdr.len > XENSTORE_PAYLOAD_MAX) {
		/* A long path plus a long token: logged once per client. */
		if (!c->oversize_logged)
			xs_log(c->d, "connection %llu: %s of %u bytes not sent (over %u)",
			       (unsigned long long)c->key, xs_wire_typename(type), hdr.len,
			       XENSTORE_PAYLOAD_MAX);
		c->oversize_logged = true;
		return -E2BIG;
	}
	if (type == XS_WATCH_EVENT && xs_conn_unsent(c) > XS_OUT_EVENT_MAX) {
		/* A client that never reads loses events, not the daemon's memory. */
		if (!c->events_dropped)
			xs_log(c->d,
			       "connection %llu (domain %u): not reading, watch events dropped",
			       (unsigned long long)c->key, c->domid);
		c->events_dropped = true;
		return -ENOSPC;
	}
	/* Never more than XS_OUT_DROP + a few messages: this always fits. */
	if (sizeof(hdr) + hdr.len > h->out_size - xs_conn_unsent(c))
		return -ENOMEM;
	xs_cbuf_out_put(&c->cb, &hdr, sizeof(hdr));
	if (alen)
		xs_cbuf_out_put(&c->cb, a, alen);
	if (blen)
		xs_cbuf_out_put(&c->cb, b, blen);
	c->out_msgs++;
	c->want_out = true;
	xs_conn_dirty(c);
	return 0;
}

int xs_conn_send_error(struct xs_conn *c, const struct xsd_sockmsg *req, int err)
{
	const char *name = xs_wire_errname(err);

	return xs_conn_send(c, XS_ERROR, req->req_id, req->tx_id, name, (uint32_t)strlen(name) + 1,
			    NULL, 0);
}

/* Whether this connection must wait for its replies to drain. */
static bool xs_conn_should_throttle(struct xs_conn *c)
{
	/* Unprivileged domains: at most "outstanding" unanswered requests. */
	if ((c->domid != 0 || c->restricted) &&
	    c->out_msgs >= (uint32_t)c->d->quota.val[XS_Q_OUTSTANDING]) {
		if (!c->quota_logged)
			xs_log(
			    c->d,
			    "quota: domain %u refused: outstanding quota %d reached, requests wait",
			    c->domid, c->d->quota.val[XS_Q_OUTSTANDING]);
		c->quota_logged = true;
		return true;
	}
	return false;
}

/* Handles every complete request in the input buffer, in order. */
static void xs_conn_process(struct xs_conn *c)
{
	char payload[XENSTORE_PAYLOAD_MAX + 1];
	struct xs_cbuf_hdr *h = c->cb.h;

	while (!c->dead && xs_cbuf_in_avail(&c->cb) >= XS_HDR_SIZE) {
		struct xsd_sockmsg hdr;
		enum xs_hdr_verdict v;

		if (xs_conn_should_throttle(c)) {
			c->throttled = true;
			return;
		}
		xs_cbuf_in_copy(&c->cb, h->in_head, &hdr, sizeof(hdr));
		v = xs_wire_check_header(&hdr);
		if (v == XS_HDR_TOO_LONG) {
			xs_conn_kill(c, "request payload over 4096 bytes");
			return;
		}
		if (xs_cbuf_in_avail(&c->cb) < XS_HDR_SIZE + hdr.len)
			break;
		/* Copy once, NUL-terminated, so parsing can never run off. */
		xs_cbuf_in_copy(&c->cb, h->in_head + XS_HDR_SIZE, payload, hdr.len);
		payload[hdr.len] = '\0';
		h->in_head += XS_HDR_SIZE + hdr.len;
		xs_conn_dirty(c);
		if (v == XS_HDR_BAD_TYPE)
			xs_conn_send_error(c, &hdr, EINVAL);
		else
			xs_ops_handle(c, &hdr, payload);
		if (!c->dead && xs_conn_unsent(c) > XS_OUT_DROP) {
			xs_conn_kill(c, "not reading its replies");
			return;
		}
	}
	c->throttled = false;
	/* Without a journal nothing is replayed: the bytes are free now. */
	if (c->cb.memfd < 0)
		c->cb.in_floor = h->in_head;
}

/*
 * One receive into the free part of in[]. With recvmm the kernel stores
 * the count in shared memory, so a kill after the call loses no request.
 */
static ssize_t xs_conn_read(struct xs_conn *c, struct iovec *iov, int niov)
{
	struct xs_cbuf_hdr *h = c->cb.h;
	struct xs_cbuf_io *io = &h->io_in;
	ssize_t n, total = 0;
	int i;

	if (c->ops->recvmm) {
		memset(&io->mh, 0, sizeof(io->mh));
		io->mh.msg_hdr.msg_iov = iov;
		io->mh.msg_hdr.msg_iovlen = (size_t)niov;
		io->from = h->in_tail;
		xs_cbuf_order();
		io->pending = 1;
		xs_cbuf_order();
		n = c->ops->recvmm(c, io);
		xs_cbuf_order();
		if (n > 0)
			h->in_tail = io->from + (uint64_t)n;
		xs_cbuf_order();
		io->pending = 0;
		return n;
	}
	for (i = 0; i < niov; i++) {
		n = c->ops->read(c, iov[i].iov_base, iov[i].iov_len);
		if (n < 0)
			return total ? total : n;
		h->in_tail += (uint64_t)n;
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	return total;
}

void xs_conn_handle_input(struct xs_conn *c)
{
	for (;;) {
		struct iovec iov[2];
		size_t space;
		ssize_t n;
		int niov;

		xs_conn_process(c);
		/* The ring receives for io_uring connections (xs_uring.c). */
		if (c->dead || c->throttled || c->uring)
			break;
		xs_cbuf_rebase(&c->cb);
		/* Handled but uncommitted requests keep their bytes: maybe full. */
		niov = xs_cbuf_in_space(&c->cb, iov);
		if (!niov)
			break;
		space = iov[0].iov_len + (niov > 1 ? iov[1].iov_len : 0);
		n = xs_conn_read(c, iov, niov);
		if (n < 0) {
			xs_conn_kill(c, n == -EPIPE ? NULL : "read error");
			return;
		}
		if (n == 0)
			break;
		/* A short read drained a socket: no extra empty read (a ring may have grown). */
		if ((size_t)n < space && !c->ops->quiet_producer) {
			xs_conn_process(c);
			break;
		}
	}
	xs_conn_update_events(c);
}

/* One gathered send of up to two segments; updates out_sent. */
static ssize_t xs_conn_write(struct xs_conn *c, struct iovec *iov, int niov)
{
	struct xs_cbuf_hdr *h = c->cb.h;
	struct xs_cbuf_io *io = &h->io_out;
	ssize_t n, total = 0;
	int i;

	if (c->ops->sendmm) {
		memset(&io->mh, 0, sizeof(io->mh));
		io->mh.msg_hdr.msg_iov = iov;
		io->mh.msg_hdr.msg_iovlen = (size_t)niov;
		io->from = h->out_sent;
		xs_cbuf_order();
		io->pending = 1;
		xs_cbuf_order();
		n = c->ops->sendmm(c, io);
		xs_cbuf_order();
		if (n > 0)
			h->out_sent = io->from + (uint64_t)n;
		xs_cbuf_order();
		io->pending = 0;
		return n;
	}
	for (i = 0; i < niov; i++) {
		n = c->ops->write(c, iov[i].iov_base, iov[i].iov_len);
		if (n < 0)
			return total ? total : n;
		h->out_sent += (uint64_t)n;
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	return total;
}

/*
 * Sends queued output. With shared buffers only what a written journal
 * batch covers leaves (done.out): a reply never overtakes its journal.
 */
void xs_conn_flush(struct xs_conn *c)
{
	struct xs_cbuf_hdr *h = c->cb.h;
	uint64_t limit = c->cb.memfd >= 0 ? h->done.out : h->out_head;

	if (c->uring && xs_conn_unsent(c)) {
		/* One send in flight; its completion moves out_sent. */
		xs_uring_send(c, limit);
		return;
	}
	c->out_blocked = false;
	while (!c->dead && h->out_sent < limit) {
		struct iovec iov[2];
		int niov = xs_cbuf_out_data(&c->cb, iov);
		size_t want = (size_t)(limit - h->out_sent);
		ssize_t n;

		if (iov[0].iov_len >= want) {
			iov[0].iov_len = want;
			niov = 1;
		} else if (niov > 1) {
			iov[1].iov_len = want - iov[0].iov_len;
		}
		n = xs_conn_write(c, iov, niov);
		if (n < 0) {
			xs_conn_kill(c, n == -EPIPE ? NULL : "write error");
			return;
		}
		if ((size_t)n < want) {
			c->out_blocked = true;
			break;
		}
	}
	if (!xs_conn_unsent(c)) {
		c->out_msgs = 0;
		c->want_out = false;
		c->events_dropped = false;
		c->quota_logged = false;
		if (!c->ur_recv)
			xs_cbuf_rebase(&c->cb);
	}
	xs_conn_update_events(c);
}

void xs_conn_mark_pending(struct xs_daemon *d, uint64_t pass)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->dirty)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, dirty_link);

		xs_cbuf_mark_pending(&c->cb, pass);
	}
}

void xs_conn_mark_committed(struct xs_daemon *d, uint64_t pass)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->dirty)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, dirty_link);

		xs_cbuf_mark_committed(&c->cb, pass);
		c->cb.dirty = false;
		sv_list_del(&c->dirty_link);
	}
}
