// SPDX-License-Identifier: MIT
// libFuzzer target for xenstored's request path: arbitrary bytes from a client, through framing,
// parsing and every handler.
//
// Input: byte 0 picks the client (bit 0: a guest (domid 5) instead of
// dom0, bit 1: read-only socket, bit 2: also open a second watcher
// client, bit 3: the guest ring transport instead of a socket-like
// stream, with the guest also scribbling on the ring indexes); the rest is
// the byte stream the client sends. One daemon lives
// across inputs, so state built by one input is attacked by the next; it
// is rebuilt when it grows large.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../xenstore/xenstored.h"
#include "../xenstore/xs_ring.h"

struct xf_pipe {
	const uint8_t *in;
	size_t len, off;
};

static ssize_t xf_read(struct xs_conn *c, void *buf, size_t len)
{
	struct xf_pipe *p = c->priv;
	size_t n = p->len - p->off;

	/* Deliver in uneven pieces to exercise partial framing. */
	if (n > 61)
		n = 61;
	if (n > len)
		n = len;
	memcpy(buf, p->in + p->off, n);
	p->off += n;
	return (ssize_t)n;
}

static ssize_t xf_write(struct xs_conn *c, const void *buf, size_t len)
{
	return (ssize_t)len; /* the client swallows everything */
}

static bool xf_ready(struct xs_conn *c)
{
	return true;
}

static void xf_close(struct xs_conn *c)
{
}

static const struct xs_transport_ops xf_ops = {
	.name = "fuzz",
	.read = xf_read,
	.write = xf_write,
	.can_read = xf_ready,
	.can_write = xf_ready,
	.close = xf_close,
};

static struct xs_daemon xf_d;
static bool xf_up;

static void xf_reset(void)
{
	if (xf_up) {
		xs_daemon_fini(&xf_d);
		fclose(xf_d.log);
	}
	if (xs_daemon_init(&xf_d) || xs_daemon_base_nodes(&xf_d))
		abort();
	xf_d.log = fopen("/dev/null", "w");
	/* A domain to act as, with a home it owns. */
	xs_domain_introduce(&xf_d, 5, 1, 1);
	xf_up = true;
}

/*
 * A hostile guest: feeds the input through req[] in pieces, swallows
 * replies, and now and then corrupts an index with the next input byte.
 */
static void xf_ring(const uint8_t *data, size_t size, unsigned int domid)
{
	static struct xenstore_domain_interface page;
	struct xs_ring r = { .intf = &page, .domid = domid, .local_port = -1 };
	struct xs_conn *c;
	size_t off = 0;
	int rounds = 0;

	memset(&page, 0, sizeof(page));
	c = xs_conn_new(&xf_d, &xs_ring_ops, &r, -1, domid, false);
	if (!c)
		return;
	while (!c->dead && off < size && rounds++ < 10000) {
		uint32_t prod = page.req_prod, space = XENSTORE_RING_SIZE - (prod - page.req_cons);
		uint32_t n = (uint32_t)(size - off), i;

		if (data[off] == 0xa5 && off + 2 < size) {
			/* Scribble: a corrupt index, then carry on. */
			if (data[off + 1] & 1)
				page.req_prod += data[off + 2] * 37u;
			else
				page.rsp_cons += data[off + 2] * 41u;
			off += 3;
		} else {
			if (space > XENSTORE_RING_SIZE)
				space = 0;
			if (n > space)
				n = space;
			if (n > 97)
				n = 97;
			for (i = 0; i < n; i++)
				page.req[MASK_XENSTORE_IDX(prod + i)] = (char)data[off + i];
			page.req_prod = prod + n;
			off += n;
		}
		xs_conn_handle_input(c);
		xs_conn_flush(c);
		page.rsp_cons = page.rsp_prod; /* the guest read everything */
		if (!n && !c->want_out && page.req_prod == page.req_cons)
			break;
	}
	xs_conn_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xf_pipe p = { 0 }, wp = { 0 };
	struct xs_conn *c, *w = NULL;
	struct sv_list *pos, *tmp;
	int rounds = 0;

	if (size < 1)
		return 0;
	if (!xf_up || xf_d.tree.map.count > 20000)
		xf_reset();
	if (data[0] & 8) {
		xf_ring(data + 1, size - 1, (data[0] & 1) ? 5 : 0);
		return 0;
	}
	p.in = data + 1;
	p.len = size - 1;
	c = xs_conn_new(&xf_d, &xf_ops, &p, -1, (data[0] & 1) ? 5 : 0, (data[0] & 2) != 0);
	if (!c)
		return 0;
	if (data[0] & 4) {
		w = xs_conn_new(&xf_d, &xf_ops, &wp, -1, 0, false);
		if (w)
			xs_watch_add(&xf_d, w, "/", "all", 0);
	}
	while (!c->dead && p.off < p.len && rounds++ < 100000) {
		xs_conn_handle_input(c);
		xs_conn_flush(c);
		if (w)
			xs_conn_flush(w);
	}
	xs_conn_handle_input(c);
	xs_conn_flush(c);
	/* Connections end with the input, as a socket client's would. */
	sv_list_for_each_safe(pos, tmp, &xf_d.conns)
	    xs_conn_free(sv_container_of(pos, struct xs_conn, link));
	return 0;
}
