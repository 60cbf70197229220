// SPDX-License-Identifier: MIT
/* Check suite for netback's guest->host data plane (nb_tx.c), hostile frontend included. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/virtio_net.h>
#include "net_harness.h"

/* Queues one transmit slot on the frontend's ring (not pushed). */
static void put(grant_ref_t gref, uint16_t off, uint16_t size, uint16_t flags, uint16_t id)
{
	netif_tx_request_t *r = RING_GET_REQUEST(&tnh_txf, tnh_txf.req_prod_pvt++);

	r->gref = gref;
	r->offset = off;
	r->size = size;
	r->flags = flags;
	r->id = id;
}

static void put_extra(const netif_extra_info_t *ex)
{
	memcpy(RING_GET_REQUEST(&tnh_txf, tnh_txf.req_prod_pvt++), ex, sizeof(*ex));
}

static void push(void)
{
	int notify;

	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tnh_txf, notify);
	(void)notify;
}

/* Reads one frame from the fake TAP; returns its length (the header goes to h). */
static ssize_t host_read(struct virtio_net_hdr *h, uint8_t *buf, size_t cap)
{
	uint8_t tmp[NB_VNET_HDR_LEN + NB_MAX_FRAME];
	ssize_t n = recv(tnh_host_fd, tmp, sizeof(tmp), MSG_DONTWAIT);

	if (n < (ssize_t)NB_VNET_HDR_LEN)
		return -1;
	memcpy(h, tmp, NB_VNET_HDR_LEN);
	ck_assert_uint_le((size_t)n - NB_VNET_HDR_LEN, cap);
	memcpy(buf, tmp + NB_VNET_HDR_LEN, (size_t)n - NB_VNET_HDR_LEN);
	return n - (ssize_t)NB_VNET_HDR_LEN;
}

static netif_tx_response_t rsp(RING_IDX i)
{
	return *RING_GET_RESPONSE(&tnh_txf, i);
}

/* An Ethernet + IPv4 + UDP frame of len bytes in page pg at off (payload pattern seed). */
static void frame_udp(uint8_t *f, size_t len, uint8_t seed)
{
	memset(f, 0, 42);
	f[12] = 0x08;
	f[14] = 0x45;
	f[14 + 9] = 17;
	for (size_t i = 42; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

START_TEST(one_slot_packet)
{
	struct virtio_net_hdr h;
	uint8_t out[2048];
	unsigned before = tnh_notifies();

	frame_udp(TNH_PAGE(2) + 100, 60, 1);
	put(2, 100, 60, 0, 7);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert_int_eq(host_read(&h, out, sizeof(out)), 60);
	ck_assert_mem_eq(out, TNH_PAGE(2) + 100, 60);
	ck_assert_uint_eq(h.flags, 0);
	ck_assert_uint_eq(h.gso_type, 0);
	ck_assert_uint_eq(tnh_q->tx.sring->rsp_prod, 1);
	ck_assert_uint_eq(rsp(0).id, 7);
	ck_assert_int_eq(rsp(0).status, NETIF_RSP_OKAY);
	ck_assert_uint_eq(tnh_q->st.tx_packets, 1);
	ck_assert(!tnh_q->tx_more);
	/* rsp_event was 1: the frontend asked to hear of the first response. */
	ck_assert(tnh_wait_notifies(before + 1));
}
END_TEST

START_TEST(several_slots_gathered)
{
	struct virtio_net_hdr h;
	uint8_t out[16384], want[16384];

	/* 10000 bytes: 4000 in page 2 (at 96), 4096 in page 3, 1904 in page 4. */
	frame_udp(want, 10000, 3);
	memcpy(TNH_PAGE(2) + 96, want, 4000);
	memcpy(TNH_PAGE(3), want + 4000, 4096);
	memcpy(TNH_PAGE(4), want + 8096, 1904);
	put(2, 96, 10000, NETTXF_more_data, 1);
	put(3, 0, 4096, NETTXF_more_data, 2);
	put(4, 0, 1904, 0, 3);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert_int_eq(host_read(&h, out, sizeof(out)), 10000);
	ck_assert_mem_eq(out, want, 10000);
	for (RING_IDX i = 0; i < 3; i++) {
		ck_assert_uint_eq(rsp(i).id, i + 1);
		ck_assert_int_eq(rsp(i).status, NETIF_RSP_OKAY);
	}
}
END_TEST

START_TEST(blank_checksum_becomes_needs_csum)
{
	struct virtio_net_hdr h;
	uint8_t out[2048];

	frame_udp(TNH_PAGE(2), 200, 5);
	put(2, 0, 200, NETTXF_csum_blank | NETTXF_data_validated, 1);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert_int_eq(host_read(&h, out, sizeof(out)), 200);
	ck_assert_uint_eq(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.csum_start, 34);
	ck_assert_uint_eq(h.csum_offset, 6);
}
END_TEST

START_TEST(gso_extra_sets_tso)
{
	struct virtio_net_hdr h;
	netif_extra_info_t ex = { .type = XEN_NETIF_EXTRA_TYPE_GSO };
	uint8_t *f = TNH_PAGE(2), out[8192];

	memset(f, 0, 4096);
	f[12] = 0x08;
	f[14] = 0x45;
	f[14 + 9] = 6;	     /* TCP */
	f[34 + 12] = 8 << 4; /* 32-byte TCP header */
	memset(TNH_PAGE(3), 0xab, 4096);
	ex.u.gso.size = 1448;
	ex.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	put(2, 0, 4096 + 3000, NETTXF_csum_blank | NETTXF_extra_info | NETTXF_more_data, 1);
	put_extra(&ex);
	put(3, 0, 3000, 0, 2);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert_int_eq(host_read(&h, out, sizeof(out)), 7096);
	ck_assert_uint_eq(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	ck_assert_uint_eq(h.gso_size, 1448);
	ck_assert_uint_eq(h.hdr_len, 14 + 20 + 32);
	ck_assert_uint_eq(h.csum_offset, 16);
	ck_assert_int_eq(rsp(0).status, NETIF_RSP_OKAY);
	ck_assert_int_eq(rsp(1).status, NETIF_RSP_NULL);
	ck_assert_int_eq(rsp(2).status, NETIF_RSP_OKAY);
	ck_assert_uint_eq(rsp(2).id, 2);
}
END_TEST

START_TEST(ungranted_ref_is_an_error_not_fatal)
{
	struct virtio_net_hdr h;
	uint8_t out[2048];

	put(TNH_BAD_GREF, 0, 60, 0, 9);
	frame_udp(TNH_PAGE(2), 60, 1);
	put(2, 0, 60, 0, 10);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert_int_eq(rsp(0).status, NETIF_RSP_ERROR);
	ck_assert_int_eq(rsp(1).status, NETIF_RSP_OKAY);
	/* Only the good packet reached the host. */
	ck_assert_int_eq(host_read(&h, out, sizeof(out)), 60);
	ck_assert_int_eq(host_read(&h, out, sizeof(out)), -1);
	ck_assert_uint_eq(tnh_q->st.tx_errors, 1);
}
END_TEST

START_TEST(inconsistent_sizes_dropped)
{
	struct virtio_net_hdr h;
	uint8_t out[2048];

	/* The first slot says 100 bytes in all, the second alone carries 200. */
	put(2, 0, 100, NETTXF_more_data, 1);
	put(3, 0, 200, 0, 2);
	put(2, 0, 10, 0, 3); /* shorter than an Ethernet header */
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert_int_eq(rsp(0).status, NETIF_RSP_ERROR);
	ck_assert_int_eq(rsp(1).status, NETIF_RSP_ERROR);
	ck_assert_int_eq(rsp(2).status, NETIF_RSP_ERROR);
	ck_assert_int_eq(host_read(&h, out, sizeof(out)), -1);
}
END_TEST

START_TEST(slot_crossing_page_is_fatal)
{
	put(2, 4000, 200, 0, 1);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), -EPROTO);
	ck_assert_ptr_nonnull(strstr(tnh_q->err, "crosses its page"));
}
END_TEST

START_TEST(later_slot_crossing_page_is_fatal)
{
	put(2, 0, 5000, NETTXF_more_data, 1);
	put(3, 100, 4000, 0, 2);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), -EPROTO);
}
END_TEST

START_TEST(too_many_slots_is_fatal)
{
	for (int i = 0; i < NB_MAX_SLOTS + 1; i++)
		put(2, 0, i ? 10 : 2000, i < NB_MAX_SLOTS ? NETTXF_more_data : 0, (uint16_t)i);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), -EPROTO);
	ck_assert_ptr_nonnull(strstr(tnh_q->err, "slots"));
}
END_TEST

START_TEST(bad_extra_is_fatal)
{
	netif_extra_info_t ex = { .type = 9 };

	put(2, 0, 60, NETTXF_extra_info, 1);
	put_extra(&ex);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), -EPROTO);
}
END_TEST

START_TEST(gso_size_zero_is_fatal)
{
	netif_extra_info_t ex = { .type = XEN_NETIF_EXTRA_TYPE_GSO };

	ex.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	put(2, 0, 60, NETTXF_extra_info, 1);
	put_extra(&ex);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), -EPROTO);
}
END_TEST

START_TEST(producer_beyond_ring_is_fatal)
{
	tnh_q->tx.sring->req_prod = 5000;
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), -EPROTO);
	ck_assert_ptr_nonnull(strstr(tnh_q->err, "overflow"));
}
END_TEST

START_TEST(requests_copied_once)
{
	struct virtio_net_hdr h;
	uint8_t out[2048];

	/* A packet whose last slot is not produced yet is left alone... */
	frame_udp(TNH_PAGE(2), 100, 1);
	put(2, 0, 160, NETTXF_more_data, 1);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert(!tnh_q->tx_more);
	ck_assert_uint_eq(tnh_q->tx.req_cons, 0);
	/* ... and rewriting the consumed-but-copied slot later changes nothing. */
	RING_GET_REQUEST(&tnh_txf, 0)->offset = 4090;
	put(3, 0, 60, 0, 2);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert_int_eq(host_read(&h, out, sizeof(out)), 160);
	ck_assert_mem_eq(out, TNH_PAGE(2), 100);
}
END_TEST

START_TEST(batches_of_64)
{
	struct virtio_net_hdr h;
	uint8_t out[2048];
	int got = 0;

	for (int i = 0; i < 100; i++) {
		frame_udp(TNH_PAGE(2) + (i % 20) * 200, 64, (uint8_t)i);
		put(2, (uint16_t)((i % 20) * 200), 64, 0, (uint16_t)i);
		if (i == 49)
			push(); /* two pushes: the second without a notification needed */
	}
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert(tnh_q->tx_more);
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert(!tnh_q->tx_more);
	while (host_read(&h, out, sizeof(out)) == 64)
		got++;
	ck_assert_int_eq(got, 100);
	ck_assert_uint_eq(tnh_q->tx.sring->rsp_prod, 100);
	ck_assert_uint_eq(tnh_q->st.tx_batches, 2);
}
END_TEST

START_TEST(rate_limit_defers)
{
	struct virtio_net_hdr h;
	uint8_t out[2048];
	int got = 0;

	/* 1000 bytes per 10 ms: ten 100-byte packets, then a wait. */
	nb_credit_init(&tnh_q->credit, 1000, 10000, 0);
	for (int i = 0; i < 15; i++) {
		frame_udp(TNH_PAGE(2), 100, 0);
		put(2, 0, 100, 0, (uint16_t)i);
	}
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert(tnh_q->tx_throttled);
	ck_assert_uint_eq(tnh_q->tx_retry_us, 10000);
	while (host_read(&h, out, sizeof(out)) == 100)
		got++;
	ck_assert_int_eq(got, 10);
	ck_assert_int_eq(nb_tx_run(tnh_q, 10000), 0);
	while (host_read(&h, out, sizeof(out)) == 100)
		got++;
	ck_assert_int_eq(got, 15);
	ck_assert(!tnh_q->tx_throttled);
}
END_TEST

START_TEST(parse_is_pure)
{
	netif_tx_request_t copy[NB_TX_RING_SIZE] = { 0 };
	struct nb_txpkt p;
	char why[128];

	/* Wrapping around the ring: slots 255 and 0 make one packet. */
	copy[255] = (netif_tx_request_t){ .gref = 2, .size = 100, .flags = NETTXF_more_data };
	copy[0] = (netif_tx_request_t){ .gref = 3, .size = 40 };
	ck_assert_int_eq(nb_tx_parse(copy, 255, 257, &p, why, sizeof(why)), 1);
	ck_assert_uint_eq(p.nr_slots, 2);
	ck_assert_uint_eq(p.data_len[0], 60);
	ck_assert_uint_eq(p.data_len[1], 40);
	ck_assert_int_eq(nb_tx_parse(copy, 255, 256, &p, why, sizeof(why)), 0);
}
END_TEST

/*
 * A frontend posts the first slot of a packet (more_data), netback copies
 * it, then the frontend moves req_prod back below what was copied: the
 * copy loop must not count round the 32-bit index (it once did, for
 * seconds, on the thread every vif shares).  The vif is disabled instead.
 */
START_TEST(producer_moved_backwards_is_fatal)
{
	put(2, 0, 160, NETTXF_more_data, 1);
	push();
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
	ck_assert_uint_eq(tnh_q->tx_copied, 1);
	tnh_q->tx.sring->req_prod = 0;
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), -EPROTO);
	ck_assert_ptr_nonnull(strstr(tnh_q->err, "backwards"));
	ck_assert_uint_eq(tnh_q->tx_copied, 1);
	ck_assert_uint_eq(tnh_q->tx.sring->rsp_prod, 0);
}
END_TEST

/* Fairness: whatever a frontend queues, one call does at most one batch and says more is left. */
START_TEST(one_call_is_one_batch)
{
	unsigned answered = 0;

	for (int round = 0; round < 8; round++) {
		RING_IDX before = tnh_q->tx.rsp_prod_pvt;

		/* Keep the ring full: a frontend that never lets netback go idle. */
		while (tnh_txf.req_prod_pvt - tnh_txf.rsp_cons < NB_TX_RING_SIZE)
			put(2, 0, 60, 0, 0);
		push();
		ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
		ck_assert_uint_le(tnh_q->tx.rsp_prod_pvt - before, NB_BATCH);
		ck_assert(tnh_q->tx_more);
		answered += tnh_q->tx.rsp_prod_pvt - before;
		tnh_txf.rsp_cons = tnh_q->tx.rsp_prod_pvt;
		/* The host side drains the fake TAP. */
		while (recv(tnh_host_fd, TNH_PAGE(15), 4096, MSG_DONTWAIT) > 0)
			;
	}
	ck_assert_uint_eq(answered, 8 * NB_BATCH);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_tx");
	TCase *tc = tcase_create("tx");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, tnh_setup, tnh_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, one_slot_packet);
	tcase_add_test(tc, several_slots_gathered);
	tcase_add_test(tc, blank_checksum_becomes_needs_csum);
	tcase_add_test(tc, gso_extra_sets_tso);
	tcase_add_test(tc, ungranted_ref_is_an_error_not_fatal);
	tcase_add_test(tc, inconsistent_sizes_dropped);
	tcase_add_test(tc, slot_crossing_page_is_fatal);
	tcase_add_test(tc, later_slot_crossing_page_is_fatal);
	tcase_add_test(tc, too_many_slots_is_fatal);
	tcase_add_test(tc, bad_extra_is_fatal);
	tcase_add_test(tc, gso_size_zero_is_fatal);
	tcase_add_test(tc, producer_beyond_ring_is_fatal);
	tcase_add_test(tc, requests_copied_once);
	tcase_add_test(tc, batches_of_64);
	tcase_add_test(tc, rate_limit_defers);
	tcase_add_test(tc, parse_is_pure);
	tcase_add_test(tc, producer_moved_backwards_is_fatal);
	tcase_add_test(tc, one_call_is_one_batch);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
