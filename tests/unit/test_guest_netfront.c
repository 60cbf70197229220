// SPDX-License-Identifier: MIT
// Check suite for netfront's data plane (frontends/drivers/netfront_ring.c): the real source
// against a test playing netback, hostile too.
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <svk/gnttab.h>
#include <svk/mm.h>
#include <svk/netfront.h>
#include <svk/wait.h>
#include "../../frontends/net/wire.h"

/* ---- harness: what netfront_ring.c calls in the kernel ---- */

void console_write(const char *buf, size_t len);
uint64_t time_now_ns(void);
int evtchn_notify(evtchn_port_t port);
int gnttab_grant_access(domid_t domid, unsigned long mfn, bool readonly);
int gnttab_end_access(grant_ref_t ref);
void *page_alloc(void);
void page_free(void *page);
unsigned long pfn_to_mfn(unsigned long pfn);
int wait_until(wait_cond_t cond, void *arg, uint64_t timeout_ns);
struct netfront *netfront_of(struct net_if *nif);

static char console[8192];
static size_t console_len;

void console_write(const char *buf, size_t len)
{
	if (console_len + len < sizeof(console)) {
		memcpy(console + console_len, buf, len);
		console_len += len;
		console[console_len] = '\0';
	}
}

uint64_t time_now_ns(void)
{
	return 1;
}

static unsigned notifies;
static evtchn_port_t last_port;

int evtchn_notify(evtchn_port_t port)
{
	notifies++;
	last_port = port;
	return 0;
}

/* The grant table: ref -> page, for the test's backend. */
#define REFS 1024
static struct {
	void *page;
	bool used, readonly, busy;
} grants[REFS];
static unsigned grants_out, pages_out;
static int pages_left = -1; /* page_alloc fails when this reaches 0 */

unsigned long pfn_to_mfn(unsigned long pfn)
{
	return pfn;
}

static void *mfn_page(unsigned long mfn)
{
	return pfn_to_virt(mfn);
}

int gnttab_grant_access(domid_t domid, unsigned long mfn, bool readonly)
{
	for (int r = GNTTAB_RESERVED_REFS; r < REFS; r++) {
		if (!grants[r].used) {
			grants[r].used = true;
			grants[r].page = mfn_page(mfn);
			grants[r].readonly = readonly;
			grants_out++;
			return r;
		}
	}
	return -XEN_ENOSPC;
}

int gnttab_end_access(grant_ref_t ref)
{
	ck_assert_uint_lt(ref, REFS);
	ck_assert(grants[ref].used);
	if (grants[ref].busy)
		return -XEN_EBUSY;
	grants[ref].used = false;
	grants_out--;
	return 0;
}

void *page_alloc(void)
{
	void *p;

	if (pages_left == 0)
		return NULL;
	if (pages_left > 0)
		pages_left--;
	p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, PAGE_SIZE);
	pages_out++;
	return p;
}

void page_free(void *page)
{
	pages_out--;
	free(page);
}

/* The backend's turn while the frontend waits (NULL: it does nothing). */
static void (*backend_turn)(void);

int wait_until(wait_cond_t cond, void *arg, uint64_t timeout_ns)
{
	if (cond(arg))
		return 0;
	if (backend_turn)
		backend_turn();
	return cond(arg) ? 0 : -XEN_ETIMEDOUT;
}

struct netfront *netfront_of(struct net_if *nif)
{
	return nif->priv;
}

/* ---- the vif under test and the test's backend ---- */

static struct netfront nf;
static netif_tx_back_ring_t btx;
static netif_rx_back_ring_t brx;
static const uint8_t mac_g[6] = { 0x00, 0x16, 0x3e, 0, 0, 2 };
static const uint8_t mac_h[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
static uint32_t ip_g, ip_h;
static const struct net_if_ops ops = { .xmit = netfront_xmit };

/* A peer stack that builds frames for the guest (captured, never sent). */
static struct net_if peer;
static uint8_t pframe[70000];
static size_t plen;

static int peer_xmit(struct net_if *nif, const struct net_iov *iov, unsigned int n)
{
	plen = 0;
	for (unsigned i = 0; i < n; i++) {
		memcpy(pframe + plen, iov[i].base, iov[i].len);
		plen += iov[i].len;
	}
	return 0;
}

static const struct net_if_ops peer_ops = { .xmit = peer_xmit };

static struct {
	unsigned calls;
	size_t len;
	uint8_t data[65536];
} got;

static void udp_rx(struct net_if *nif, uint32_t src, const uint8_t smac[ETH_ALEN], uint16_t sport,
		   uint16_t dport, const uint8_t *data, size_t len, void *arg)
{
	got.calls++;
	got.len = len;
	memcpy(got.data, data, len);
}

static void setup(void)
{
	memset(&nf, 0, sizeof(nf));
	memset(grants, 0, sizeof(grants));
	memset(&got, 0, sizeof(got));
	grants_out = pages_out = notifies = 0;
	pages_left = -1;
	backend_turn = NULL;
	console_len = 0;
	ck_assert_int_eq(net_parse_ip("192.0.2.2", &ip_g), 0);
	ck_assert_int_eq(net_parse_ip("192.0.2.1", &ip_h), 0);
	nf.port = 5;
	nf.be_sg = true;
	ck_assert_int_eq(netfront_ring_setup(&nf), 0);
	net_if_init(&nf.nif, mac_g, ip_g, 1500, &ops, &nf);
	nf.state = NETFRONT_UP;
	netfront_rx_post_all(&nf);
	BACK_RING_INIT(&btx, nf.tx.sring, PAGE_SIZE);
	BACK_RING_INIT(&brx, nf.rx.sring, PAGE_SIZE);
	net_if_init(&peer, mac_h, ip_h, 65521, &peer_ops, NULL);
	net_udp_unbind(7);
	ck_assert_int_eq(net_udp_bind(7, udp_rx, NULL), 0);
}

static void teardown(void)
{
	net_udp_unbind(7);
	netfront_ring_teardown(&nf);
	ck_assert_uint_eq(grants_out, 0);
	ck_assert_uint_eq(pages_out, 0);
}

/* The page an rx request of ours names. */
static uint8_t *rx_page(RING_IDX i)
{
	netif_rx_request_t *req = RING_GET_REQUEST(&brx, i);

	ck_assert(grants[req->gref].used && !grants[req->gref].readonly);
	return grants[req->gref].page;
}

/* Backend: put @len bytes of @frame into rx slots from req_cons (4096 each). */
static unsigned rx_deliver(const uint8_t *frame, size_t len, bool push)
{
	unsigned n = 0;
	size_t off = 0;
	int notify __unused;

	while (off < len) {
		RING_IDX i = brx.req_cons++;
		netif_rx_response_t *rsp = RING_GET_RESPONSE(&brx, brx.rsp_prod_pvt++);
		size_t k = len - off < PAGE_SIZE ? len - off : PAGE_SIZE;

		memcpy(rx_page(i), frame + off, k);
		rsp->id = RING_GET_REQUEST(&brx, i)->id;
		rsp->offset = 0;
		rsp->status = (int16_t)k;
		off += k;
		rsp->flags = off < len ? NETRXF_more_data : 0;
		n++;
	}
	if (push)
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&brx, notify);
	return n;
}

static void rx_push(void)
{
	int notify __unused;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&brx, notify);
}

/* Backend: answer every tx request so far with @status. */
static unsigned tx_answer(int16_t status)
{
	unsigned n = 0;
	int notify __unused;

	while (btx.req_cons != btx.sring->req_prod) {
		netif_tx_request_t req = *RING_GET_REQUEST(&btx, btx.req_cons);
		netif_tx_response_t *rsp = RING_GET_RESPONSE(&btx, btx.rsp_prod_pvt++);

		btx.req_cons++;
		rsp->id = req.id;
		rsp->status = status;
		n++;
	}
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&btx, notify);
	return n;
}

static void answer_all(void)
{
	tx_answer(NETIF_RSP_OKAY);
}

static void udp_frame(size_t len)
{
	static uint8_t data[65507];

	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 3 + 1);
	ck_assert_int_eq(net_udp_send(&peer, ip_g, mac_g, 9, 7, data, len), 0);
}

/* ---- set-up ---- */

START_TEST(test_setup_posts_every_rx_buffer)
{
	ck_assert_uint_eq(nf.rx.sring->req_prod, NETFRONT_RX_BUFS);
	for (unsigned i = 0; i < NETFRONT_RX_BUFS; i++) {
		netif_rx_request_t *req = RING_GET_REQUEST(&brx, i);

		ck_assert_uint_eq(req->id, i);
		ck_assert_uint_eq(req->gref, nf.rx_ref[i]);
		ck_assert_ptr_eq(grants[req->gref].page, nf.rx_buf[i]);
	}
	for (unsigned i = 0; i < NETFRONT_TX_BUFS; i++)
		ck_assert(grants[nf.tx_ref[i]].readonly);
	ck_assert_uint_eq(nf.tx_nfree, NETFRONT_TX_BUFS);
	/* 2 rings + every buffer granted; one notification for the posts. */
	ck_assert_uint_eq(grants_out, 2 + NETFRONT_RX_BUFS + NETFRONT_TX_BUFS);
	ck_assert_uint_eq(notifies, 1);
}
END_TEST

START_TEST(test_setup_failure_frees_everything)
{
	struct netfront x;

	memset(&x, 0, sizeof(x));
	pages_left = 50;
	ck_assert_int_eq(netfront_ring_setup(&x), -XEN_ENOMEM);
	pages_left = -1;
	/* Only the fixture's vif is left. */
	ck_assert_uint_eq(grants_out, 2 + NETFRONT_RX_BUFS + NETFRONT_TX_BUFS);
	ck_assert_uint_eq(pages_out, 2 + NETFRONT_RX_BUFS + NETFRONT_TX_BUFS);
}
END_TEST

START_TEST(test_teardown_leaves_a_busy_page_to_the_backend)
{
	grant_ref_t ref = nf.rx_ref[3];
	void *page = nf.rx_buf[3];

	grants[ref].busy = true;
	netfront_ring_teardown(&nf);
	ck_assert_ptr_nonnull(strstr(console, "still in use"));
	ck_assert_uint_eq(grants_out, 1);
	grants[ref].busy = false;
	ck_assert_int_eq(gnttab_end_access(ref), 0);
	page_free(page);
}
END_TEST

/* ---- receive ---- */

START_TEST(test_rx_one_slot_arp_answered)
{
	ck_assert_int_eq(net_arp_request(&peer, ip_g), 0);
	rx_deliver(pframe, plen, true);
	ck_assert(netfront_ring_has_work(&nf));
	netfront_ring_poll(&nf);
	ck_assert(!netfront_ring_has_work(&nf));
	ck_assert_uint_eq(nf.rx_packets, 1);
	/* The buffer went back, and the reply went out in one slot. */
	ck_assert_uint_eq(nf.rx.sring->req_prod, NETFRONT_RX_BUFS + 1);
	ck_assert_uint_eq(nf.tx.sring->req_prod, 1);
	{
		netif_tx_request_t *req = RING_GET_REQUEST(&btx, 0);
		const uint8_t *page = grants[req->gref].page;

		ck_assert_uint_eq(req->size, 60);
		ck_assert_uint_eq(req->flags, 0);
		ck_assert_uint_eq(req->offset, 0);
		ck_assert_mem_eq(page, mac_h, 6);
		ck_assert_uint_eq(page[12], 0x08);
		ck_assert_uint_eq(page[13], 0x06);
	}
	answer_all();
	netfront_ring_poll(&nf);
	ck_assert_uint_eq(nf.tx_nfree, NETFRONT_TX_BUFS);
}
END_TEST

START_TEST(test_rx_frame_over_three_slots)
{
	udp_frame(10000);
	ck_assert_uint_eq(rx_deliver(pframe, plen, true), 3);
	netfront_ring_poll(&nf);
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_uint_eq(got.len, 10000);
	ck_assert_uint_eq(got.data[9999], (uint8_t)(9999 * 3 + 1));
	ck_assert_uint_eq(nf.rx.sring->req_prod, NETFRONT_RX_BUFS + 3);
}
END_TEST

START_TEST(test_rx_largest_frame_and_wraparound)
{
	/* Enough 17-slot frames to go round the ring twice. */
	for (int k = 0; k < 40; k++) {
		udp_frame(65000 - (size_t)k);
		ck_assert_uint_eq(rx_deliver(pframe, plen, true), 16);
		netfront_ring_poll(&nf);
		ck_assert_uint_eq(got.calls, (unsigned)k + 1);
		ck_assert_uint_eq(got.len, 65000 - (size_t)k);
	}
	ck_assert_uint_eq(nf.rx_errors, 0);
	ck_assert_int_eq(nf.state, NETFRONT_UP);
}
END_TEST

START_TEST(test_rx_extra_info_slot_skipped)
{
	netif_rx_response_t *rsp;
	netif_extra_info_t *ex;
	int notify __unused;

	udp_frame(100);
	/* First slot with extra_info, then the extra, which uses a request too. */
	rx_deliver(pframe, plen, false);
	RING_GET_RESPONSE(&brx, 0)->flags |= NETRXF_extra_info;
	brx.req_cons++;
	ex = (netif_extra_info_t *)RING_GET_RESPONSE(&brx, brx.rsp_prod_pvt++);
	memset(ex, 0, sizeof(*ex));
	ex->type = XEN_NETIF_EXTRA_TYPE_GSO;
	ex->u.gso.size = 1400;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&brx, notify);
	(void)rsp;
	netfront_ring_poll(&nf);
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_uint_eq(got.len, 100);
	ck_assert_uint_eq(nf.rx.sring->req_prod, NETFRONT_RX_BUFS + 2);
}
END_TEST

START_TEST(test_rx_packet_waits_for_its_last_slot)
{
	udp_frame(9000);
	rx_deliver(pframe, plen, false);
	/* Publish two of the three slots only. */
	nf.rx.sring->rsp_prod = 2;
	netfront_ring_poll(&nf);
	ck_assert_uint_eq(got.calls, 0);
	ck_assert_uint_eq(nf.rx.rsp_cons, 0);
	/* Nothing to do until more comes, and an event asked for it. */
	ck_assert(!netfront_ring_has_work(&nf));
	ck_assert_uint_eq(nf.rx.sring->rsp_event, 3);
	rx_push();
	ck_assert(netfront_ring_has_work(&nf));
	netfront_ring_poll(&nf);
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_uint_eq(got.len, 9000);
}
END_TEST

START_TEST(test_rx_bad_slots_dropped_vif_stays)
{
	static const struct {
		uint16_t id, offset;
		int16_t status;
	} bad[] = {
		{ 0, 0, 0 },	  /* empty */
		{ 1, 0, -1 },	  /* an error */
		{ 2, 100, 4000 }, /* crosses the page */
		{ 7, 0, 60 },	  /* another slot's buffer */
	};

	for (unsigned k = 0; k < 4; k++) {
		netif_rx_response_t *rsp = RING_GET_RESPONSE(&brx, brx.rsp_prod_pvt++);

		brx.req_cons++;
		rsp->id = bad[k].id;
		rsp->offset = bad[k].offset;
		rsp->status = bad[k].status;
		rsp->flags = 0;
	}
	rx_push();
	netfront_ring_poll(&nf);
	ck_assert_uint_eq(nf.rx_errors, 4);
	ck_assert_uint_eq(nf.rx_packets, 0);
	ck_assert_int_eq(nf.state, NETFRONT_UP);
	ck_assert_uint_eq(nf.rx.sring->req_prod, NETFRONT_RX_BUFS + 4);
	/* Still works. */
	udp_frame(10);
	rx_deliver(pframe, plen, true);
	netfront_ring_poll(&nf);
	ck_assert_uint_eq(got.calls, 1);
}
END_TEST

START_TEST(test_rx_hostile_producer_disables)
{
	nf.rx.sring->rsp_prod = NETFRONT_RX_BUFS + 1;
	netfront_ring_poll(&nf);
	ck_assert_int_eq(nf.state, NETFRONT_BROKEN);
	ck_assert_ptr_nonnull(strstr(console, "backend broke the protocol"));
	/* A broken vif neither polls nor sends. */
	ck_assert(!netfront_ring_has_work(&nf));
	ck_assert_int_eq(net_udp_send(&nf.nif, ip_h, mac_h, 7, 9, "x", 1), -XEN_ENOTCONN);
}
END_TEST

START_TEST(test_rx_endless_packet_disables)
{
	for (unsigned k = 0; k < 30; k++) {
		netif_rx_response_t *rsp = RING_GET_RESPONSE(&brx, brx.rsp_prod_pvt++);

		brx.req_cons++;
		rsp->id = (uint16_t)k;
		rsp->offset = 0;
		rsp->status = 100;
		rsp->flags = NETRXF_more_data;
	}
	rx_push();
	netfront_ring_poll(&nf);
	ck_assert_int_eq(nf.state, NETFRONT_BROKEN);
}
END_TEST

/* ---- transmit ---- */

START_TEST(test_tx_scatter_gather)
{
	static uint8_t a[5000], b[5000];
	struct net_iov iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	netif_tx_request_t *r;

	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	ck_assert_int_eq(netfront_xmit(&nf.nif, iov, 2), 0);
	ck_assert_uint_eq(nf.tx.sring->req_prod, 3);
	r = RING_GET_REQUEST(&btx, 0);
	ck_assert_uint_eq(r->size, 10000);
	ck_assert_uint_eq(r->flags, NETTXF_more_data);
	ck_assert_uint_eq(((uint8_t *)grants[r->gref].page)[4095], 0xa1);
	r = RING_GET_REQUEST(&btx, 1);
	ck_assert_uint_eq(r->size, 4096);
	ck_assert_uint_eq(r->flags, NETTXF_more_data);
	ck_assert_uint_eq(((uint8_t *)grants[r->gref].page)[903], 0xa1);
	ck_assert_uint_eq(((uint8_t *)grants[r->gref].page)[904], 0xb2);
	r = RING_GET_REQUEST(&btx, 2);
	ck_assert_uint_eq(r->size, 10000 - 8192);
	ck_assert_uint_eq(r->flags, 0);
	ck_assert_uint_eq(r->offset, 0);
	ck_assert_uint_eq(nf.tx_nfree, NETFRONT_TX_BUFS - 3);
	ck_assert_uint_eq(tx_answer(NETIF_RSP_ERROR), 3);
	netfront_ring_poll(&nf);
	ck_assert_uint_eq(nf.tx_nfree, NETFRONT_TX_BUFS);
	ck_assert_uint_eq(nf.tx_errors, 3);
}
END_TEST

START_TEST(test_tx_largest_frame_17_slots)
{
	static uint8_t f[XEN_NETIF_MAX_TX_SIZE];
	struct net_iov iov = { f, sizeof(f) };

	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), 0);
	ck_assert_uint_eq(nf.tx.sring->req_prod, 16);
	iov.len = sizeof(f) + 1;
	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), -XEN_EINVAL);
	iov.len = ETH_HLEN - 1;
	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), -XEN_EINVAL);
}
END_TEST

START_TEST(test_tx_without_sg_one_page_only)
{
	static uint8_t f[5000];
	struct net_iov iov = { f, sizeof(f) };

	nf.be_sg = false;
	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), -XEN_EMSGSIZE);
	iov.len = PAGE_SIZE;
	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), 0);
}
END_TEST

START_TEST(test_tx_full_waits_for_the_backend)
{
	static uint8_t f[100];
	struct net_iov iov = { f, sizeof(f) };

	for (int i = 0; i < NETFRONT_TX_BUFS; i++)
		ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), 0);
	/* A backend that never answers: dropped after five rounds. */
	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), -XEN_EAGAIN);
	ck_assert_uint_eq(nf.tx_full, 1);
	/* One that answers while we wait: sent. */
	backend_turn = answer_all;
	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), 0);
	ck_assert_uint_eq(nf.tx_packets, NETFRONT_TX_BUFS + 1);
}
END_TEST

START_TEST(test_tx_notifies_only_when_asked)
{
	static uint8_t f[100];
	struct net_iov iov = { f, sizeof(f) };
	unsigned before = notifies;

	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), 0);
	ck_assert_uint_eq(notifies, before + 1); /* req_event was 1 */
	/* The backend is busy: it will look again at request 10. */
	nf.tx.sring->req_event = 10;
	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), 0);
	ck_assert_uint_eq(notifies, before + 1);
	/* Deferred pushes: one push, one notification for many. */
	nf.tx.sring->req_event = nf.tx.req_prod_pvt + 1;
	nf.tx_defer = 1;
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), 0);
	ck_assert_uint_eq(notifies, before + 1);
	netfront_tx_push(&nf);
	ck_assert_uint_eq(notifies, before + 2);
	ck_assert_uint_eq(nf.tx.sring->req_prod, 10);
}
END_TEST

START_TEST(test_split_channels_kick_their_ring)
{
	static uint8_t f[100];
	struct net_iov iov = { f, sizeof(f) };

	nf.rx_port = 6;
	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), 0);
	ck_assert_uint_eq(last_port, 5);
	/* The backend wants to hear about the next rx post. */
	nf.rx.sring->req_event = nf.rx.req_prod_pvt + 1;
	udp_frame(10);
	rx_deliver(pframe, plen, true);
	netfront_ring_poll(&nf);
	ck_assert_uint_eq(last_port, 6);
	nf.rx_port = 0;
}
END_TEST

START_TEST(test_tx_hostile_responses_disable)
{
	static uint8_t f[100];
	struct net_iov iov = { f, sizeof(f) };
	netif_tx_response_t *rsp;
	int notify __unused;

	ck_assert_int_eq(netfront_xmit(&nf.nif, &iov, 1), 0);
	/* A response for a buffer not in flight. */
	btx.req_cons++;
	rsp = RING_GET_RESPONSE(&btx, btx.rsp_prod_pvt++);
	rsp->id = (uint16_t)(RING_GET_REQUEST(&btx, 0)->id ^ 1);
	rsp->status = NETIF_RSP_OKAY;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&btx, notify);
	netfront_ring_poll(&nf);
	ck_assert_int_eq(nf.state, NETFRONT_BROKEN);
}
END_TEST

START_TEST(test_tx_hostile_producer_disables)
{
	nf.tx.sring->rsp_prod = 5;
	netfront_ring_poll(&nf);
	ck_assert_int_eq(nf.state, NETFRONT_BROKEN);
}
END_TEST

START_TEST(test_hostile_word_corrupts_own_ring)
{
	unsigned before = notifies;

	netfront_hostile(&nf);
	ck_assert_int_eq(nf.state, NETFRONT_BROKEN);
	ck_assert_uint_gt(nf.tx.sring->req_prod - nf.tx.rsp_cons, RING_SIZE(&nf.tx));
	ck_assert_uint_eq(notifies, before + 1);
}
END_TEST

static Suite *guest_netfront_suite(void)
{
	Suite *s = suite_create("guest_netfront");
	TCase *tc;

	tc = tcase_create("setup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_setup_posts_every_rx_buffer);
	tcase_add_test(tc, test_setup_failure_frees_everything);
	tcase_add_test(tc, test_teardown_leaves_a_busy_page_to_the_backend);
	suite_add_tcase(s, tc);

	tc = tcase_create("rx");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rx_one_slot_arp_answered);
	tcase_add_test(tc, test_rx_frame_over_three_slots);
	tcase_add_test(tc, test_rx_largest_frame_and_wraparound);
	tcase_add_test(tc, test_rx_extra_info_slot_skipped);
	tcase_add_test(tc, test_rx_packet_waits_for_its_last_slot);
	tcase_add_test(tc, test_rx_bad_slots_dropped_vif_stays);
	tcase_add_test(tc, test_rx_hostile_producer_disables);
	tcase_add_test(tc, test_rx_endless_packet_disables);
	suite_add_tcase(s, tc);

	tc = tcase_create("tx");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tx_scatter_gather);
	tcase_add_test(tc, test_tx_largest_frame_17_slots);
	tcase_add_test(tc, test_tx_without_sg_one_page_only);
	tcase_add_test(tc, test_tx_full_waits_for_the_backend);
	tcase_add_test(tc, test_tx_notifies_only_when_asked);
	tcase_add_test(tc, test_split_channels_kick_their_ring);
	tcase_add_test(tc, test_tx_hostile_responses_disable);
	tcase_add_test(tc, test_tx_hostile_producer_disables);
	tcase_add_test(tc, test_hostile_word_corrupts_own_ring);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(guest_netfront_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
