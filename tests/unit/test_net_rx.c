// SPDX-License-Identifier: MIT
/* Check suite for netback's host->guest data plane (nb_rx.c), hostile frontend included. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_net.h>
#include "net_harness.h"
#include "../../backends/net/nb_csum.h"

/* The gref posted at each ring index (the response overwrites the request). */
static grant_ref_t posted[NB_RX_RING_SIZE];

/* Posts n receive buffers: grefs first..first+n-1 (wrapping over pages 2..15), ids from 100. */
static void post(unsigned n, grant_ref_t first)
{
	int notify;

	for (unsigned i = 0; i < n; i++) {
		netif_rx_request_t *r = RING_GET_REQUEST(&tnh_rxf, tnh_rxf.req_prod_pvt);

		r->id = (uint16_t)(100 + tnh_rxf.req_prod_pvt);
		r->gref = 2 + (first - 2 + i) % 14;
		posted[tnh_rxf.req_prod_pvt % NB_RX_RING_SIZE] = r->gref;
		tnh_rxf.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tnh_rxf, notify);
	(void)notify;
}

/* The host sends a frame with a virtio-net header into the fake TAP. */
static void host_send(const struct virtio_net_hdr *h, const uint8_t *f, size_t len)
{
	static uint8_t buf[NB_VNET_HDR_LEN + NB_MAX_FRAME];

	memcpy(buf, h, NB_VNET_HDR_LEN);
	memcpy(buf + NB_VNET_HDR_LEN, f, len);
	ck_assert_int_eq(send(tnh_host_fd, buf, NB_VNET_HDR_LEN + len, 0),
			 (ssize_t)(NB_VNET_HDR_LEN + len));
}

static netif_rx_response_t rsp(RING_IDX i)
{
	return *RING_GET_RESPONSE(&tnh_rxf, i);
}

static void pattern(uint8_t *f, size_t len, uint8_t seed)
{
	memset(f, 0, len < 42 ? len : 42);
	if (len >= 42) {
		f[12] = 0x08;
		f[14] = 0x45;
		f[14 + 9] = 17;
	}
	for (size_t i = 42; i < len; i++)
		f[i] = (uint8_t)(seed * 7 + i);
}

START_TEST(small_packet_one_slot)
{
	struct virtio_net_hdr h = { 0 };
	uint8_t f[100];
	unsigned before = tnh_notifies();

	pattern(f, sizeof(f), 1);
	post(4, 2);
	host_send(&h, f, sizeof(f));
	ck_assert_int_eq(nb_rx_run(tnh_q), 0);
	ck_assert_uint_eq(tnh_q->rx.sring->rsp_prod, 1);
	ck_assert_uint_eq(rsp(0).id, 100);
	ck_assert_int_eq(rsp(0).status, 100);
	ck_assert_uint_eq(rsp(0).offset, 0);
	ck_assert_uint_eq(rsp(0).flags, 0);
	ck_assert_mem_eq(TNH_PAGE(2), f, sizeof(f));
	ck_assert(tnh_wait_notifies(before + 1));
	ck_assert(tnh_q->tap_polled);
}
END_TEST

START_TEST(jumbo_packet_spans_slots)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	static uint8_t f[9000];

	pattern(f, sizeof(f), 2);
	post(8, 2);
	host_send(&h, f, sizeof(f));
	ck_assert_int_eq(nb_rx_run(tnh_q), 0);
	ck_assert_uint_eq(tnh_q->rx.sring->rsp_prod, 3);
	ck_assert_int_eq(rsp(0).status, 4096);
	ck_assert_int_eq(rsp(1).status, 4096);
	ck_assert_int_eq(rsp(2).status, 9000 - 8192);
	ck_assert_uint_eq(rsp(0).flags, NETRXF_more_data | NETRXF_data_validated);
	ck_assert_uint_eq(rsp(1).flags, NETRXF_more_data);
	ck_assert_uint_eq(rsp(2).flags, 0);
	ck_assert_mem_eq(TNH_PAGE(2), f, 4096);
	ck_assert_mem_eq(TNH_PAGE(3), f + 4096, 4096);
	ck_assert_mem_eq(TNH_PAGE(4), f + 8192, 9000 - 8192);
}
END_TEST

START_TEST(gso_packet_gets_extra_slot)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				    .gso_size = 1448,
				    .csum_start = 34,
				    .csum_offset = 16,
				    .hdr_len = 66 };
	static uint8_t f[20000];
	const netif_extra_info_t *ex;

	pattern(f, sizeof(f), 3);
	f[14 + 9] = 6;
	post(10, 2);
	host_send(&h, f, sizeof(f));
	ck_assert_int_eq(nb_rx_run(tnh_q), 0);
	/* 5 data slots and the extra right after the first. */
	ck_assert_uint_eq(tnh_q->rx.sring->rsp_prod, 6);
	ck_assert_uint_eq(rsp(0).flags, NETRXF_more_data | NETRXF_extra_info | NETRXF_csum_blank |
					    NETRXF_data_validated);
	ex = (const netif_extra_info_t *)RING_GET_RESPONSE(&tnh_rxf, 1);
	ck_assert_uint_eq(ex->type, XEN_NETIF_EXTRA_TYPE_GSO);
	ck_assert_uint_eq(ex->u.gso.size, 1448);
	ck_assert_uint_eq(ex->u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	ck_assert_int_eq(rsp(2).status, 4096);
	ck_assert_uint_eq(rsp(2).id, 102);
	/* Slot 1's buffer (page 3) was used by the extra; data goes on in page 4. */
	ck_assert_mem_eq(TNH_PAGE(2), f, 4096);
	ck_assert_mem_eq(TNH_PAGE(4), f + 4096, 4096);
	ck_assert_int_eq(rsp(5).status, 20000 - 4 * 4096);
}
END_TEST

START_TEST(gso_refused_without_feature)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
				    .gso_size = 1400,
				    .csum_start = 54,
				    .csum_offset = 16 };
	static uint8_t f[5000];

	tnh_q->feat.gso_tcpv6 = false;
	post(10, 2);
	host_send(&h, f, sizeof(f));
	ck_assert_int_eq(nb_rx_run(tnh_q), 0);
	ck_assert_uint_eq(tnh_q->rx.sring->rsp_prod, 0);
	ck_assert_uint_eq(tnh_q->st.rx_dropped, 1);
}
END_TEST

START_TEST(no_sg_drops_big_frames)
{
	struct virtio_net_hdr h = { 0 };
	static uint8_t f[5000];

	tnh_q->feat.sg = false;
	pattern(f, sizeof(f), 4);
	post(2, 2);
	host_send(&h, f, sizeof(f));
	host_send(&h, f, 1500);
	ck_assert_int_eq(nb_rx_run(tnh_q), 0);
	ck_assert_uint_eq(tnh_q->rx.sring->rsp_prod, 1);
	ck_assert_int_eq(rsp(0).status, 1500);
	ck_assert_uint_eq(tnh_q->st.rx_dropped, 1);
}
END_TEST

START_TEST(software_checksum_for_frontend_without_offload)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .csum_start = 34,
				    .csum_offset = 6 };
	uint8_t f[300];
	struct nb_l4 l4;
	uint32_t s;

	tnh_q->feat.csum = false;
	pattern(f, sizeof(f), 5);
	memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	f[38] = (uint8_t)((300 - 34) >> 8);
	f[39] = (uint8_t)(300 - 34);
	ck_assert_int_eq(nb_csum_find_l4(f, sizeof(f), &l4), 0);
	ck_assert_int_eq(nb_csum_pseudo(f, sizeof(f), &l4), 0);
	post(1, 2);
	host_send(&h, f, sizeof(f));
	ck_assert_int_eq(nb_rx_run(tnh_q), 0);
	ck_assert_uint_eq(rsp(0).flags, NETRXF_data_validated);
	/* What the guest got verifies: pseudo header + UDP sums to 0xffff. */
	s = nb_csum_add(0, TNH_PAGE(2) + 26, 8) + 17 + (300 - 34);
	s = nb_csum_add(s, TNH_PAGE(2) + 34, 300 - 34);
	ck_assert_uint_eq(nb_csum_fold(s), 0xffff);
}
END_TEST

START_TEST(stalls_until_buffers_are_posted)
{
	struct virtio_net_hdr h = { 0 };
	static uint8_t f[9000];

	pattern(f, sizeof(f), 6);
	/* No buffers at all: the TAP is not even read. */
	host_send(&h, f, sizeof(f));
	ck_assert_int_eq(nb_rx_run(tnh_q), 0);
	ck_assert(!tnh_q->tap_polled);
	ck_assert_uint_eq(tnh_q->rx.sring->req_event, 1);
	/* Two buffers for a three-slot frame: it is kept, and three are asked for. */
	post(2, 2);
	ck_assert_int_eq(nb_rx_run(tnh_q), 0);
	ck_assert_uint_eq(tnh_q->rx.sring->rsp_prod, 0);
	ck_assert(!tnh_q->tap_polled);
	ck_assert_uint_eq(tnh_q->rx.sring->req_event, 3);
	ck_assert_uint_eq(tnh_q->rx_pend, NB_VNET_HDR_LEN + sizeof(f));
	post(3, 4);
	ck_assert_int_eq(nb_rx_run(tnh_q), 0);
	ck_assert_uint_eq(tnh_q->rx.sring->rsp_prod, 3);
	ck_assert(tnh_q->tap_polled);
	ck_assert_mem_eq(TNH_PAGE(4), f + 8192, 9000 - 8192);
}
END_TEST

START_TEST(ungranted_buffer_is_an_error_not_fatal)
{
	struct virtio_net_hdr h = { 0 };
	uint8_t f[100];
	netif_rx_request_t *r;
	int notify;

	pattern(f, sizeof(f), 7);
	r = RING_GET_REQUEST(&tnh_rxf, tnh_rxf.req_prod_pvt++);
	r->id = 5;
	r->gref = TNH_BAD_GREF;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tnh_rxf, notify);
	(void)notify;
	post(NB_MAX_SLOTS, 2);
	host_send(&h, f, sizeof(f));
	host_send(&h, f, sizeof(f));
	ck_assert_int_eq(nb_rx_run(tnh_q), 0);
	ck_assert_int_eq(rsp(0).status, NETIF_RSP_ERROR);
	ck_assert_int_eq(rsp(1).status, 100);
	ck_assert_uint_eq(tnh_q->st.rx_dropped, 1);
	ck_assert_uint_eq(tnh_q->st.rx_packets, 1);
}
END_TEST

START_TEST(producer_beyond_ring_is_fatal)
{
	tnh_q->rx.sring->req_prod = 0x80000000u;
	ck_assert_int_eq(nb_rx_run(tnh_q), -EPROTO);
	ck_assert_ptr_nonnull(strstr(tnh_q->err, "overflow"));
}
END_TEST

START_TEST(every_size_round_trips)
{
	static uint8_t f[NB_MAX_FRAME];
	struct virtio_net_hdr h = { 0 };

	/* Sizes around the page boundaries, up to the largest frame. */
	static const size_t sizes[] = { 14,   15,   60,	  1514,	 4095,	4096,
					4097, 8192, 8193, 32768, 65535, NB_MAX_FRAME };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = sizes[k], got = 0;
		RING_IDX start = tnh_rxf.rsp_cons;

		pattern(f, len, (uint8_t)k);
		post(NB_MAX_SLOTS, 2);
		host_send(&h, f, len);
		ck_assert_int_eq(nb_rx_run(tnh_q), 0);
		/* Read the slots back the way a frontend would. */
		for (RING_IDX i = start; i != tnh_q->rx.sring->rsp_prod; i++) {
			netif_rx_response_t r = rsp(i);
			unsigned page = posted[i % NB_RX_RING_SIZE];

			ck_assert_int_gt(r.status, 0);
			/* Our buffers repeat over 14 pages: check what still holds. */
			if (len <= 14 * 4096)
				ck_assert_mem_eq(TNH_PAGE(page), f + got, (size_t)r.status);
			got += (size_t)r.status;
		}
		ck_assert_uint_eq(got, len);
		tnh_rxf.rsp_cons = tnh_q->rx.sring->rsp_prod;
		/* Give back the unused requests' slots: consume all we posted. */
		tnh_rxf.req_prod_pvt = tnh_q->rx.req_cons;
		tnh_q->rx.sring->req_prod = tnh_q->rx.req_cons;
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_rx");
	TCase *tc = tcase_create("rx");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, tnh_setup, tnh_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, small_packet_one_slot);
	tcase_add_test(tc, jumbo_packet_spans_slots);
	tcase_add_test(tc, gso_packet_gets_extra_slot);
	tcase_add_test(tc, gso_refused_without_feature);
	tcase_add_test(tc, no_sg_drops_big_frames);
	tcase_add_test(tc, software_checksum_for_frontend_without_offload);
	tcase_add_test(tc, stalls_until_buffers_are_posted);
	tcase_add_test(tc, ungranted_buffer_is_an_error_not_fatal);
	tcase_add_test(tc, producer_beyond_ring_is_fatal);
	tcase_add_test(tc, every_size_round_trips);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
