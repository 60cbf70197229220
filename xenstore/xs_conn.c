// SPDX-License-Identifier: MIT
// Connections: the transport-independent byte streams, request framing, reply queueing and flow control.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "xenstored.h"
#include "xs_keeper.h"

#define XS_IN_CAP 65536u		/* bytes read from a transport at once */
#define XS_OUT_HIGH (256u * 1024)	/* stop reading requests above this */
#define XS_OUT_EVENT_MAX (1024u * 1024)	/* drop watch events above this */

struct xs_conn *xs_conn_new(struct xs_daemon *d,
			    const struct xs_transport_ops *ops, void *priv,
			    int fd, unsigned int domid, bool readonly)
{
	struct xs_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->in = malloc(XS_IN_CAP);
	if (!c->in) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->in_cap = XS_IN_CAP;
	c->d = d;
	c->ops = ops;
	c->priv = priv;
	c->fd = fd;
	c->domid = domid;
	c->readonly = readonly;
	c->key = ++d->next_conn_key;
	xs_list_init(&c->watches);
	xs_list_init(&c->txns);
	xs_list_add_tail(&d->conns, &c->link);
	return c;
}

struct xs_txn *xs_conn_find_txn(struct xs_conn *c, uint32_t id)
{
	struct xs_list *pos, *tmp;

	xs_list_for_each_safe(pos, tmp, &c->txns) {
		struct xs_txn *tx = xs_container_of(pos, struct xs_txn, link);

		if (tx->id == id)
			return tx;
	}
	return NULL;
}

void xs_conn_drop_txns(struct xs_conn *c)
{
	struct xs_list *pos, *tmp;

	xs_list_for_each_safe(pos, tmp, &c->txns) {
		struct xs_txn *tx = xs_container_of(pos, struct xs_txn, link);

		xs_list_del(&tx->link);
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
	xs_list_del(&c->link);
	free(c->in);
	free(c->out);
	free(c);
}

void xs_conn_update_events(struct xs_conn *c)
{
	struct epoll_event ev = { 0 };

	if (c->fd < 0 || c->d->epfd < 0 || c->dead)
		return;
	ev.events = (c->throttled ? 0 : EPOLLIN) | (c->want_out ? EPOLLOUT : 0);
	if (ev.events == c->ep_events)
		return;
	ev.data.ptr = c;
	if (epoll_ctl(c->d->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ep_events = ev.events;
}

static int xs_conn_reserve(struct xs_conn *c, size_t more)
{
	size_t need = c->out_len + more, cap;
	uint8_t *n;

	if (need <= c->out_cap)
		return 0;
	/* Reclaim the sent prefix before growing. */
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		need = c->out_len + more;
		if (need <= c->out_cap)
			return 0;
	}
	cap = c->out_cap ? c->out_cap : 4096;
	while (cap < need)
		cap *= 2;
	n = realloc(c->out, cap);
	if (!n)
		return -ENOMEM;
	c->out = n;
	c->out_cap = cap;
	return 0;
}

int xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id,
		 uint32_t tx_id, const void *a, uint32_t alen, const void *b,
		 uint32_t blen)
{
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = req_id, .tx_id = tx_id, .len = alen + blen,
	};

	if (c->dead)
		return -EPIPE;
	if (hdr.len > XENSTORE_PAYLOAD_MAX) {
		/* A long path plus a long token: logged once per client. */
		if (!c->oversize_logged)
			xs_log(c->d, "connection %llu: %s of %u bytes not sent (over %u)",
			       (unsigned long long)c->key, xs_wire_typename(type),
			       hdr.len, XENSTORE_PAYLOAD_MAX);
		c->oversize_logged = true;
		return -E2BIG;
	}
	if (type == XS_WATCH_EVENT &&
	    c->out_len - c->out_off > XS_OUT_EVENT_MAX) {
		/* A client that never reads loses events, not the daemon's memory. */
		if (!c->events_dropped)
			xs_log(c->d, "connection %llu (domain %u): not reading, watch events dropped",
			       (unsigned long long)c->key, c->domid);
		c->events_dropped = true;
		return -ENOSPC;
	}
	if (xs_conn_reserve(c, sizeof(hdr) + hdr.len))
		return -ENOMEM;
	memcpy(c->out + c->out_len, &hdr, sizeof(hdr));
	c->out_len += sizeof(hdr);
	if (alen)
		memcpy(c->out + c->out_len, a, alen);
	c->out_len += alen;
	if (blen)
		memcpy(c->out + c->out_len, b, blen);
	c->out_len += blen;
	c->out_msgs++;
	c->want_out = true;
	return 0;
}

int xs_conn_send_error(struct xs_conn *c, const struct xsd_sockmsg *req,
		       int err)
{
	const char *name = xs_wire_errname(err);

	return xs_conn_send(c, XS_ERROR, req->req_id, req->tx_id, name,
			    (uint32_t)strlen(name) + 1, NULL, 0);
}

/* Whether this connection must wait for its replies to drain. */
static bool xs_conn_should_throttle(struct xs_conn *c)
{
	if (c->out_len - c->out_off > XS_OUT_HIGH)
		return true;
	/* Unprivileged domains: at most "outstanding" unanswered requests. */
	if ((c->domid != 0 || c->restricted) &&
	    c->out_msgs >= (uint32_t)c->d->quota.val[XS_Q_OUTSTANDING]) {
		if (!c->quota_logged)
			xs_log(c->d, "quota: domain %u refused: outstanding quota %d reached, requests wait",
			       c->domid, c->d->quota.val[XS_Q_OUTSTANDING]);
		c->quota_logged = true;
		return true;
	}
	return false;
}

/* Handles every complete request in the input buffer. */
static void xs_conn_process(struct xs_conn *c)
{
	char payload[XENSTORE_PAYLOAD_MAX + 1];

	while (!c->dead && c->in_end - c->in_start >= XS_HDR_SIZE) {
		struct xsd_sockmsg hdr;
		enum xs_hdr_verdict v;

		if (xs_conn_should_throttle(c)) {
			c->throttled = true;
			return;
		}
		memcpy(&hdr, c->in + c->in_start, sizeof(hdr));
		v = xs_wire_check_header(&hdr);
		if (v == XS_HDR_TOO_LONG) {
			xs_conn_kill(c, "request payload over 4096 bytes");
			return;
		}
		if (c->in_end - c->in_start < XS_HDR_SIZE + hdr.len)
			break;
		/* Copy once, NUL-terminated, so parsing can never run off. */
		memcpy(payload, c->in + c->in_start + XS_HDR_SIZE, hdr.len);
		payload[hdr.len] = '\0';
		c->in_start += XS_HDR_SIZE + hdr.len;
		if (v == XS_HDR_BAD_TYPE) {
			xs_conn_send_error(c, &hdr, EINVAL);
			continue;
		}
		xs_ops_handle(c, &hdr, payload);
	}
	c->throttled = false;
	if (c->in_start == c->in_end)
		c->in_start = c->in_end = 0;
}

void xs_conn_handle_input(struct xs_conn *c)
{
	for (;;) {
		size_t space;
		ssize_t n;

		xs_conn_process(c);
		if (c->dead || c->throttled)
			break;
		if (c->in_start && c->in_cap - c->in_end < XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX) {
			memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
			c->in_end -= c->in_start;
			c->in_start = 0;
		}
		space = c->in_cap - c->in_end;
		n = c->ops->read(c, c->in + c->in_end, space);
		if (n < 0) {
			xs_conn_kill(c, n == -EPIPE ? NULL : "read error");
			return;
		}
		if (n == 0)
			break;
		c->in_end += (size_t)n;
		/* A short read drained the transport: no extra empty read. */
		if ((size_t)n < space) {
			xs_conn_process(c);
			break;
		}
	}
	xs_conn_update_events(c);
}

void xs_conn_flush(struct xs_conn *c)
{
	while (!c->dead && c->out_off < c->out_len) {
		ssize_t n = c->ops->write(c, c->out + c->out_off,
					  c->out_len - c->out_off);

		if (n < 0) {
			xs_conn_kill(c, n == -EPIPE ? NULL : "write error");
			return;
		}
		if (n == 0)
			break;
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		c->out_msgs = 0;
		c->want_out = false;
		c->events_dropped = false;
		c->quota_logged = false;
	}
	xs_conn_update_events(c);
}
