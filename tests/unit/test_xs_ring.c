// SPDX-License-Identifier: MIT
// Check tests for xenstored's guest ring transport: framing over xenstore_domain_interface,
// wrap-around, flow control, hostile indexes.
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xs_harness.h"
#include "xs_main.h"
#include "../../xenstore/xs_ring.h"

static struct xs_daemon d;
static struct xenstore_domain_interface *page;
static struct xs_ring *ring;
static struct xs_conn *c;
static int kicks;

static void count_kick(struct xs_ring *r)
{
	kicks++;
}

static void setup(void)
{
	xt_daemon(&d);
	page = calloc(1, 4096);
	ring = calloc(1, sizeof(*ring));
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(ring);
	ring->intf = page;
	ring->notify = count_kick;
	ring->local_port = 3;
	c = xs_conn_new(&d, &xs_ring_ops, ring, -1, 5, false);
	ck_assert_ptr_nonnull(c);
	xs_ring_init_page(ring);
	kicks = 0;
	/* The toolstack's part: the guest's home, owned by it. */
	ck_assert_str_eq(xt_write(xt_conn(&d, 0), 0, "/local/domain/5", ""), "OK");
	ck_assert_str_eq(xt_strs(xt_conn(&d, 0), XS_SET_PERMS, 0, 2, "/local/domain/5", "n5"),
			 "OK");
}

static void teardown(void)
{
	struct sv_list *pos, *tmp;

	/* Ring connections own no harness pipe: free them here. */
	sv_list_for_each_safe(pos, tmp, &d.conns)
	{
		struct xs_conn *x = sv_container_of(pos, struct xs_conn, link);

		if (x->ops == &xs_ring_ops)
			xs_conn_free(x);
	}
	xt_done(&d);
	free(ring);
	free(page);
}

/* The guest's side: put bytes in req[], as much as fits. */
static size_t guest_put(const void *buf, size_t len)
{
	uint32_t prod = page->req_prod, cons = page->req_cons;
	size_t n = XENSTORE_RING_SIZE - (prod - cons), i;

	if (n > len)
		n = len;
	for (i = 0; i < n; i++)
		page->req[MASK_XENSTORE_IDX(prod + i)] = ((const char *)buf)[i];
	page->req_prod = prod + (uint32_t)n;
	return n;
}

static size_t guest_get(void *buf, size_t len)
{
	uint32_t prod = page->rsp_prod, cons = page->rsp_cons;
	size_t n = prod - cons, i;

	if (n > len)
		n = len;
	for (i = 0; i < n; i++)
		((char *)buf)[i] = page->rsp[MASK_XENSTORE_IDX(cons + i)];
	page->rsp_cons = cons + (uint32_t)n;
	return n;
}

/* Daemon work as on an event: requests in, replies out, one kick (as the loop's pass end). */
static void serve(void)
{
	xs_conn_handle_input(c);
	xs_conn_flush(c);
	while (!c->dead && c->throttled && !c->want_out) {
		xs_conn_handle_input(c);
		xs_conn_flush(c);
	}
	if (!c->dead)
		c->ops->end_pass(c);
}

static size_t msg(char *buf, uint32_t type, const char *payload, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = 42, .len = len };

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, len);
	return sizeof(h) + len;
}

/* Reads one whole reply from rsp[]; returns its type. */
static uint32_t reply(char *payload, size_t sz)
{
	struct xsd_sockmsg h;

	ck_assert_uint_eq(guest_get(&h, sizeof(h)), sizeof(h));
	ck_assert_uint_lt(h.len, sz);
	ck_assert_uint_eq(guest_get(payload, h.len), h.len);
	payload[h.len] = '\0';
	return h.type;
}

START_TEST(request_and_reply)
{
	char buf[256], out[256];
	size_t n = msg(buf, XS_WRITE, "data\0hello", 10);

	ck_assert_uint_eq(page->server_features, XENSTORE_SERVER_FEATURE_ERROR);
	ck_assert_uint_eq(guest_put(buf, n), n);
	serve();
	ck_assert_uint_eq(reply(out, sizeof(out)), XS_WRITE);
	ck_assert_str_eq(out, "OK");
	ck_assert_int_gt(kicks, 0);
	/* Relative to the guest's home. */
	ck_assert_ptr_nonnull(xs_map_get(&d.tree.map, "/local/domain/5/data"));
}
END_TEST

START_TEST(one_kick_per_burst)
{
	char buf[512], out[256];
	size_t n = 0;
	int i;

	for (i = 0; i < 3; i++)
		n += msg(buf + n, XS_WRITE, "data\0hello", 10);
	ck_assert_uint_eq(guest_put(buf, n), n);
	serve();
	/* Three requests consumed, three replies produced: one event. */
	ck_assert_int_eq(kicks, 1);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(reply(out, sizeof(out)), XS_WRITE);
}
END_TEST

START_TEST(wraps_around)
{
	char buf[256], out[256];
	int i;

	/* Many small requests walk the indexes around the ring several times. */
	for (i = 0; i < 200; i++) {
		size_t n = msg(buf, XS_READ, "/\0", 2);

		ck_assert_uint_eq(guest_put(buf, n), n);
		serve();
		ck_assert_uint_eq(reply(out, sizeof(out)), XS_ERROR);
		ck_assert_str_eq(out, "EACCES");
	}
	ck_assert_uint_gt(page->req_cons, 3 * XENSTORE_RING_SIZE);
}
END_TEST

/*
 * As Linux writes a request: the header, then the payload, each a separate
 * ring write that notifies only when it finds the ring empty.  The daemon
 * takes the header at once, so the payload write finds an empty ring and
 * notifies; a daemon that left the header there would never hear of it.
 */
START_TEST(partial_message_is_taken)
{
	char buf[256], out[256];
	size_t n = msg(buf, XS_WRITE, "x\0value", 7);
	uint32_t prod;

	ck_assert_uint_eq(guest_put(buf, 16), 16);
	serve();
	ck_assert_uint_eq(page->req_cons, 16);
	ck_assert_uint_eq(page->rsp_prod, 0); /* no reply to half a request */
	prod = page->req_prod;
	ck_assert_uint_eq(guest_put(buf + 16, n - 16), n - 16);
	ck_assert_uint_le(prod, page->req_cons); /* Linux's test: it notifies */
	serve();
	ck_assert_uint_eq(page->req_cons, n);
	ck_assert_uint_eq(reply(out, sizeof(out)), XS_WRITE);
	/* A header cut in two is taken too, and answered once whole. */
	n = msg(buf, XS_WRITE, "y\0v", 3);
	ck_assert_uint_eq(guest_put(buf, 5), 5);
	serve();
	ck_assert_uint_eq(guest_put(buf + 5, n - 5), n - 5);
	serve();
	ck_assert_uint_eq(reply(out, sizeof(out)), XS_WRITE);
	ck_assert_uint_eq(page->rsp_prod, page->rsp_cons);
}
END_TEST

START_TEST(message_larger_than_ring)
{
	static char buf[4200], val[3000], out[256];
	size_t n, sent = 0;

	memset(val, 'v', sizeof(val));
	memcpy(val, "big", 3);
	val[3] = '\0';
	n = msg(buf, XS_WRITE, val, 2000); /* "big\0vvv..." */
	/* The guest can only post it in pieces as the daemon drains them. */
	while (sent < n) {
		sent += guest_put(buf + sent, n - sent);
		serve();
	}
	ck_assert_uint_eq(reply(out, sizeof(out)), XS_WRITE);
	ck_assert_uint_eq(xs_map_get(&d.tree.map, "/local/domain/5/big")->vlen, 1996);
}
END_TEST

START_TEST(replies_wait_for_room)
{
	char buf[64], out[4200];
	int i, got = 0;

	/* 100 requests whose replies overflow rsp[] while the guest sleeps. */
	for (i = 0; i < 100; i++) {
		size_t n = msg(buf, XS_GET_DOMAIN_PATH, "5", 2), sent = 0;

		while ((sent += guest_put(buf + sent, n - sent)) != n) {
			serve();
			while (page->rsp_prod != page->rsp_cons) {
				reply(out, sizeof(out));
				got++;
			}
		}
	}
	serve();
	while (page->rsp_prod != page->rsp_cons || c->want_out) {
		while (page->rsp_prod != page->rsp_cons) {
			ck_assert_uint_eq(reply(out, sizeof(out)), XS_GET_DOMAIN_PATH);
			ck_assert_str_eq(out, "/local/domain/5");
			got++;
		}
		serve();
	}
	ck_assert_int_eq(got, 100);
}
END_TEST

START_TEST(hostile_request_index)
{
	struct xs_conn *other = xt_conn(&d, 0);

	page->req_prod = page->req_cons + XENSTORE_RING_SIZE + 1;
	serve();
	ck_assert(c->dead);
	ck_assert_uint_eq(page->error, XENSTORE_ERROR_RINGIDX);
	ck_assert_str_eq(xt_write(other, 0, "/fine", "1"), "OK");
}
END_TEST

START_TEST(hostile_response_index)
{
	char buf[64];
	size_t n = msg(buf, XS_GET_DOMAIN_PATH, "5", 2);

	page->rsp_cons = page->rsp_prod + 5000; /* the guest lies */
	ck_assert_uint_eq(guest_put(buf, n), n);
	serve();
	ck_assert(c->dead);
}
END_TEST

START_TEST(hostile_length)
{
	struct xsd_sockmsg h = { .type = XS_READ, .len = 100000 };

	guest_put(&h, sizeof(h));
	serve();
	ck_assert(c->dead);
}
END_TEST

/* The kill came after the count was stored, before the index moved: finished on restart. */
START_TEST(interrupted_index_moves_are_finished)
{
	struct xs_cbuf_hdr h;

	memset(&h, 0, sizeof(h));
	page->req_cons = 100, page->req_prod = 130;
	page->rsp_cons = 200, page->rsp_prod = 200;
	h.io_in = (struct xs_cbuf_io){ .pending = 1, .ring_idx = 100 };
	h.io_in.mh.msg_len = 30;
	h.io_out = (struct xs_cbuf_io){ .pending = 1, .ring_idx = 200 };
	h.io_out.mh.msg_len = 16;
	xs_ring_finish_io(ring, &h);
	ck_assert_uint_eq(page->req_cons, 130);
	ck_assert_uint_eq(page->rsp_prod, 216);
	/* Already moved: left alone, not moved twice. */
	xs_ring_finish_io(ring, &h);
	ck_assert_uint_eq(page->req_cons, 130);
	ck_assert_uint_eq(page->rsp_prod, 216);
	/* Killed before the count: nothing was taken or published. */
	h.io_in.ring_idx = 130, h.io_in.mh.msg_len = 0;
	h.io_out.ring_idx = 216, h.io_out.mh.msg_len = 0;
	xs_ring_finish_io(ring, &h);
	ck_assert_uint_eq(page->req_cons, 130);
	ck_assert_uint_eq(page->rsp_prod, 216);
	/* No call in flight: the counts of an old call mean nothing. */
	h.io_in.pending = h.io_out.pending = 0;
	h.io_in.mh.msg_len = h.io_out.mh.msg_len = 5;
	xs_ring_finish_io(ring, &h);
	ck_assert_uint_eq(page->req_cons, 130);
	ck_assert_uint_eq(page->rsp_prod, 216);
}
END_TEST

/*
 * A request the daemon took off the ring when it was killed (count stored,
 * req_cons not yet moved) is answered once by the next daemon, from the
 * buffers the keeper held, and the ring moves past it once.
 */
START_TEST(request_in_flight_survives_a_kill)
{
	struct xs_cbuf cb, rec;
	struct xs_cbuf_io *io;
	struct iovec iov[2];
	struct xs_conn *c2;
	struct xs_cbuf_hdr h;
	char buf[128], out[64];
	uint64_t maxp = 0;
	uint32_t cons;
	size_t n;
	int fd, niov;

	ck_assert_int_eq(xs_cbuf_init_shared(&cb, XS_RING_KEY(5)), 0);
	xs_conn_free(c);
	c = xs_conn_new_cbuf(&d, &xs_ring_ops, ring, -1, 5, false, &cb);
	ck_assert_ptr_nonnull(c);
	n = msg(buf, XS_WRITE, "/local/domain/5/k\0v", 19);
	ck_assert_uint_eq(guest_put(buf, n), n);

	/* The daemon's receive, as xs_conn_read makes it, cut before req_cons moves. */
	cons = page->req_cons;
	io = &c->cb.h->io_in;
	niov = xs_cbuf_in_space(&c->cb, iov);
	memset(&io->mh, 0, sizeof(io->mh));
	io->mh.msg_hdr.msg_iov = iov;
	io->mh.msg_hdr.msg_iovlen = (size_t)niov;
	io->from = c->cb.h->in_tail;
	io->pending = 1;
	ck_assert_int_eq(xs_ring_ops.recvmm(c, io), (ssize_t)n);
	page->req_cons = cons;
	fd = dup(c->cb.memfd);
	ck_assert_int_ge(fd, 0);
	/* The dead daemon's connection is forgotten, not closed (its ring stays). */
	ring->release = NULL;
	sv_list_del(&c->link);
	sv_list_del(&c->dirty_link);
	free(c);
	c = NULL;

	/* The next daemon: finish the move, recover, answer. */
	ck_assert_int_eq(xs_cbuf_peek(fd, &h), 0);
	xs_ring_finish_io(ring, &h);
	ck_assert_uint_eq(page->req_cons, cons + n);
	ck_assert_int_eq(xs_cbuf_recover(&rec, fd, XS_RING_KEY(5), 0, &maxp), 0);
	ck_assert_uint_eq(xs_cbuf_in_avail(&rec), n);
	c2 = xs_conn_new_cbuf(&d, &xs_ring_ops, ring, -1, 5, false, &rec);
	ck_assert_ptr_nonnull(c2);
	c = c2;
	serve();
	/* Shared buffers send a reply only after its journal batch (the loop's pass end). */
	ck_assert_uint_eq(page->rsp_prod, page->rsp_cons);
	xs_persist_flush(&d);
	xs_conn_flush(c);
	ck_assert_uint_eq(reply(out, sizeof(out)), XS_WRITE);
	ck_assert_str_eq(out, "OK");
	ck_assert_uint_eq(page->rsp_prod, page->rsp_cons); /* one reply, not two */
	ck_assert_str_eq(xt_read(xt_conn(&d, 0), 0, "/local/domain/5/k"), "v");
	xs_cbuf_free(&cb);
}
END_TEST

START_TEST(watch_events_reach_the_guest)
{
	struct xs_conn *dom0 = xt_conn(&d, 0);
	char buf[128], out[256];
	size_t n = msg(buf, XS_WATCH, "/local/domain/5/w\0tok", 22);

	ck_assert_str_eq(xt_write(dom0, 0, "/local/domain/5/w", "0"), "OK");
	guest_put(buf, n);
	serve();
	ck_assert_uint_eq(reply(out, sizeof(out)), XS_WATCH);
	ck_assert_uint_eq(reply(out, sizeof(out)), XS_WATCH_EVENT);
	ck_assert_str_eq(xt_write(dom0, 0, "/local/domain/5/w/x", "1"), "OK");
	serve();
	ck_assert_uint_eq(reply(out, sizeof(out)), XS_WATCH_EVENT);
	ck_assert_str_eq(out, "/local/domain/5/w/x");
}
END_TEST

/*
 * Linux's xb_write notifies only when its write finds the ring empty
 * (prod <= req_cons after it).  A write that lands while the daemon copies
 * the bytes before it finds req_cons not yet moved and stays quiet: the
 * daemon must look again after moving req_cons, or that request waits
 * forever (Debian's kernel hung so at boot, one time in a few).  Here the
 * payload lands exactly there, and one event's serving must answer it.
 */
static const char *late_bytes;
static uint32_t late_len;
static bool late_notified;

static void guest_writes_late(struct xs_ring *r)
{
	uint32_t prod = page->req_prod;

	r->copied = NULL; /* once */
	ck_assert_uint_eq(guest_put(late_bytes, late_len), late_len);
	late_notified = prod <= page->req_cons;
}

START_TEST(write_during_copy_is_not_lost)
{
	char buf[64], out[64];
	size_t n = msg(buf, XS_WRITE, "k\0v", 3);

	ck_assert_uint_eq(guest_put(buf, 16), 16); /* the header: found the ring empty, notified */
	late_bytes = buf + 16;
	late_len = (uint32_t)n - 16;
	ring->copied = guest_writes_late;
	serve();
	ck_assert(!late_notified); /* the guest said nothing of its payload */
	ck_assert_uint_eq(page->req_cons, n);
	ck_assert_uint_eq(reply(out, sizeof(out)), XS_WRITE);
	ck_assert_str_eq(out, "OK");
}
END_TEST

static Suite *xs_suite(void)
{
	Suite *s = suite_create("xs_ring");
	TCase *t = tcase_create("ring");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, request_and_reply);
	tcase_add_test(t, wraps_around);
	tcase_add_test(t, partial_message_is_taken);
	tcase_add_test(t, message_larger_than_ring);
	tcase_add_test(t, replies_wait_for_room);
	tcase_add_test(t, hostile_request_index);
	tcase_add_test(t, hostile_response_index);
	tcase_add_test(t, hostile_length);
	tcase_add_test(t, watch_events_reach_the_guest);
	tcase_add_test(t, one_kick_per_burst);
	tcase_add_test(t, interrupted_index_moves_are_finished);
	tcase_add_test(t, request_in_flight_survives_a_kill);
	tcase_add_test(t, write_during_copy_is_not_lost);
	suite_add_tcase(s, t);
	return s;
}
