// SPDX-License-Identifier: MIT
/* Check suite: netback's data plane between a fake guest and a real TAP in a private netns. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include "net_harness.h"
#include "../../backends/net/nb_csum.h"
#include "../../backends/net/nb_tap.h"

/*
 * Each test runs in its own forked child (Check's default), which moves to
 * a new network namespace: the TAP, its address and the neighbour entry
 * vanish with the child.  The host is 192.0.2.1 on the TAP, the fake
 * guest 192.0.2.2 with MAC 00:16:3e:00:00:02.
 */
#define TAP_NAME "svtnb0"
#define PORT 7777
static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };
static uint8_t host_mac[6];

static void ifreq_addr(struct ifreq *ifr, const char *ip)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr->ifr_addr;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

static void set_offload(void)
{
	ck_assert_int_eq(nb_tap_set_offload(tnh_q->tap_fd, &tnh_q->feat), 0);
}

static void tap_setup(void)
{
	struct ifreq ifr = { 0 };
	struct arpreq arp = { 0 };
	int s, fd;

	if (unshare(CLONE_NEWNET))
		ck_abort_msg("unshare(CLONE_NEWNET): %s (this suite needs root)", strerror(errno));
	tnh_setup();
	fd = nb_tap_open(TAP_NAME);
	ck_assert_int_ge(fd, 0);
	close(tnh_q->tap_fd);
	tnh_q->tap_fd = fd;
	set_offload();
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	strcpy(ifr.ifr_name, TAP_NAME);
	ifreq_addr(&ifr, "192.0.2.1");
	ck_assert_int_eq(ioctl(s, SIOCSIFADDR, &ifr), 0);
	ifreq_addr(&ifr, "255.255.255.0");
	ck_assert_int_eq(ioctl(s, SIOCSIFNETMASK, &ifr), 0);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	ck_assert_int_eq(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
	memcpy(host_mac, ifr.ifr_hwaddr.sa_data, 6);
	((struct sockaddr_in *)&arp.arp_pa)->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.2", &((struct sockaddr_in *)&arp.arp_pa)->sin_addr);
	arp.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(arp.arp_ha.sa_data, guest_mac, 6);
	arp.arp_flags = ATF_COM | ATF_PERM;
	strcpy(arp.arp_dev, TAP_NAME);
	ck_assert_int_eq(ioctl(s, SIOCSARP, &arp), 0);
	close(s);
}

/* A UDP socket of the host, bound to 192.0.2.1:PORT, with a 2 s receive timeout. */
static int host_udp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct timeval tv = { 2, 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), big = 4 << 20;

	ck_assert_int_ge(s, 0);
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return s;
}

/* Builds guest->host Ethernet/IPv4/UDP with n payload bytes; blank: pseudo sum only. */
static size_t guest_frame(uint8_t *f, size_t n, bool blank)
{
	struct nb_l4 l4;
	size_t len = 42 + n;
	uint32_t s;

	memcpy(f, host_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(f + 14, 0, 28);
	f[14] = 0x45;
	f[16] = (uint8_t)((len - 14) >> 8);
	f[17] = (uint8_t)(len - 14);
	f[22] = 64;
	f[23] = IPPROTO_UDP;
	inet_pton(AF_INET, "192.0.2.2", f + 26);
	inet_pton(AF_INET, "192.0.2.1", f + 30);
	s = nb_csum_add(0, f + 14, 20);
	f[24] = (uint8_t)(~nb_csum_fold(s) >> 8);
	f[25] = (uint8_t)~nb_csum_fold(s);
	f[34] = PORT >> 8;
	f[35] = PORT & 0xff; /* source port */
	f[36] = PORT >> 8;
	f[37] = PORT & 0xff;
	f[38] = (uint8_t)((n + 8) >> 8);
	f[39] = (uint8_t)(n + 8);
	for (size_t i = 0; i < n; i++)
		f[42 + i] = (uint8_t)(i * 13 + n);
	ck_assert_int_eq(nb_csum_find_l4(f, len, &l4), 0);
	ck_assert_int_eq(nb_csum_pseudo(f, len, &l4), 0);
	if (!blank)
		ck_assert_int_eq(nb_csum_complete(f, len, 34, 6), 0);
	return len;
}

/* Sends one frame through the tx ring, spread over as many slots as it needs. */
static void guest_send(const uint8_t *f, size_t len, uint16_t flags)
{
	size_t done = 0;
	unsigned page = 2;
	int notify;

	while (done < len) {
		size_t n = len - done < 4096 ? len - done : 4096;
		netif_tx_request_t *r = RING_GET_REQUEST(&tnh_txf, tnh_txf.req_prod_pvt++);

		memcpy(TNH_PAGE(page), f + done, n);
		r->gref = page;
		r->offset = 0;
		r->size = (uint16_t)(done ? n : len);
		r->flags = (uint16_t)((done ? 0 : flags) | (done + n < len ? NETTXF_more_data : 0));
		r->id = (uint16_t)page;
		done += n;
		page++;
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tnh_txf, notify);
	(void)notify;
	ck_assert_int_eq(nb_tx_run(tnh_q, 0), 0);
}

static void check_guest_to_host(size_t n, bool blank)
{
	static uint8_t f[NB_MAX_FRAME], got[NB_MAX_FRAME];
	int s = host_udp();
	size_t len = guest_frame(f, n, blank);

	guest_send(f, len, blank ? NETTXF_csum_blank | NETTXF_data_validated : 0);
	ck_assert_int_eq(recv(s, got, sizeof(got), 0), (ssize_t)n);
	ck_assert_mem_eq(got, f + 42, n);
	close(s);
}

START_TEST(guest_to_host_udp)
{
	check_guest_to_host(100, false);
}
END_TEST

START_TEST(guest_to_host_udp_blank_checksum)
{
	check_guest_to_host(1000, true);
}
END_TEST

START_TEST(guest_to_host_udp_over_several_slots)
{
	check_guest_to_host(9000, true);
}
END_TEST

/*
 * The fake frontend's receive buffers: pages 2..15, ring index i always in
 * page 2 + i % RX_PAGES (its id is i).  Like a real netfront it never has
 * more requests outstanding than it has buffers: the backend copies each
 * packet into the page its request names, so two outstanding requests for
 * one page would let a later packet of the same batch overwrite an earlier
 * one before the guest has looked at it.
 */
#define RX_PAGES 14u

static const uint8_t *rx_page(RING_IDX i)
{
	return TNH_PAGE(2 + i % RX_PAGES);
}

/* Posts receive buffers until every page is named by one outstanding request. */
static void post_all(void)
{
	int notify;

	while (tnh_rxf.req_prod_pvt - tnh_rxf.rsp_cons < RX_PAGES) {
		netif_rx_request_t *r = RING_GET_REQUEST(&tnh_rxf, tnh_rxf.req_prod_pvt);

		r->id = (uint16_t)tnh_rxf.req_prod_pvt;
		r->gref = (grant_ref_t)(2 + tnh_rxf.req_prod_pvt % RX_PAGES);
		tnh_rxf.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tnh_rxf, notify);
	(void)notify;
}

/* The n bytes host_send() sends. */
static uint8_t host_byte(size_t i, size_t n)
{
	return (uint8_t)(i * 7 + n);
}

static void host_send(size_t n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	static uint8_t buf[65536];
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	for (size_t i = 0; i < n; i++)
		buf[i] = host_byte(i, n);
	inet_pton(AF_INET, "192.0.2.2", &a.sin_addr);
	ck_assert_int_eq(sendto(s, buf, n, 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)n);
	close(s);
}

/*
 * Puts one len-byte frame of ethertype type on the TAP's wire towards the
 * guest, as the host's own IPv6/ARP chatter would be: netback reads it from
 * the TAP in the same batch as whatever the host sent around it.
 */
static void host_send_raw(uint16_t type, size_t len)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint8_t f[256] = { 0 };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	ck_assert_uint_le(len, sizeof(f));
	a.sll_ifindex = (int)if_nametoindex(TAP_NAME);
	ck_assert_int_gt(a.sll_ifindex, 0);
	memcpy(a.sll_addr, guest_mac, 6);
	memcpy(f, guest_mac, 6);
	memcpy(f + 6, host_mac, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	if (type == 0x0800) { /* IPv4, not UDP: ICMP */
		f[14] = 0x45;
		f[16] = (uint8_t)((len - 14) >> 8);
		f[17] = (uint8_t)(len - 14);
		f[22] = 64;
		f[23] = IPPROTO_ICMP;
	}
	ck_assert_int_eq(sendto(s, f, len, 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)len);
	close(s);
}

/* What the guest saw of our UDP traffic. */
struct guest_rx {
	size_t bytes;	     /* UDP/IP payload bytes of all fragments */
	unsigned frames;     /* IPv4/UDP frames */
	uint16_t flags;	     /* the first one's NETRXF_* */
	uint8_t first[1514]; /* the first one */
	size_t first_len;
	uint8_t dgram[65536]; /* IP payloads laid out by fragment offset: the UDP datagram */
};

/*
 * Runs the rx side until the guest saw want UDP/IP payload bytes (IPv4/UDP
 * frames only: the kernel sends its own chatter too).  Each response's page
 * is read before its buffer is posted again, as a frontend must.
 */
static void guest_collect(size_t want, struct guest_rx *g)
{
	memset(g, 0, sizeof(*g));
	for (int tries = 0; tries < 200 && g->bytes < want; tries++) {
		RING_IDX prod;

		ck_assert_int_eq(nb_rx_run(tnh_q), 0);
		prod = tnh_rxf.sring->rsp_prod;
		while (tnh_rxf.rsp_cons != prod) {
			netif_rx_response_t r = *RING_GET_RESPONSE(&tnh_rxf, tnh_rxf.rsp_cons);
			const uint8_t *f = rx_page(tnh_rxf.rsp_cons);
			size_t len = (size_t)r.status, off;

			ck_assert_uint_eq(r.id, (uint16_t)tnh_rxf.rsp_cons);
			tnh_rxf.rsp_cons++;
			ck_assert_int_gt(r.status, 0);
			ck_assert(!(r.flags & NETRXF_more_data)); /* MTU-sized frames */
			if (len < 34 || f[12] != 0x08 || f[13] != 0x00 || f[23] != IPPROTO_UDP)
				continue;
			/* The page holds this response's frame, not a later one's. */
			ck_assert_uint_eq((size_t)f[16] << 8 | f[17], len - 14);
			if (!g->frames++) {
				g->flags = r.flags;
				memcpy(g->first, f, len);
				g->first_len = len;
			}
			g->bytes += len - 34;
			off = ((size_t)(f[20] & 0x1f) << 8 | f[21]) * 8;
			ck_assert_uint_le(off + len - 34, sizeof(g->dgram));
			memcpy(g->dgram + off, f + 34, len - 34);
		}
		post_all();
		usleep(5000);
	}
}

static struct guest_rx grx;

START_TEST(host_to_guest_udp_blank_checksum)
{
	post_all();
	host_send(100);
	guest_collect(108, &grx);
	ck_assert_uint_eq(grx.bytes, 108);
	ck_assert_uint_eq(grx.frames, 1);
	/* Our host stack leaves the UDP checksum to the "device": the guest gets it blank. */
	ck_assert_uint_eq(grx.flags & NETRXF_data_validated, NETRXF_data_validated);
}
END_TEST

START_TEST(host_to_guest_udp_checksummed_for_frontend_without_offload)
{
	struct nb_l4 l4;
	uint32_t s;
	const uint8_t *f = grx.first;

	tnh_q->feat.csum = false;
	set_offload();
	post_all();
	host_send(300);
	guest_collect(308, &grx);
	ck_assert_uint_eq(grx.bytes, 308);
	ck_assert_uint_eq(grx.flags & NETRXF_csum_blank, 0);
	/* The frame in the guest's page carries a valid UDP checksum. */
	ck_assert_uint_eq(grx.first_len, 342);
	ck_assert_int_eq(nb_csum_find_l4(f, 342, &l4), 0);
	s = nb_csum_add(0, f + 26, 8) + IPPROTO_UDP + 308;
	s = nb_csum_add(s, f + 34, 308);
	ck_assert_uint_eq(nb_csum_fold(s), 0xffff);
}
END_TEST

/* 60000 bytes of UDP: 60008 of IP payload in 41 fragments of at most 1480, all the guest's. */
static void check_fragmented(void)
{
	guest_collect(60008, &grx);
	ck_assert_uint_eq(grx.bytes, 60008);
	ck_assert_uint_eq(grx.frames, (60008 + 1479) / 1480);
	ck_assert_uint_eq((unsigned)grx.dgram[4] << 8 | grx.dgram[5], 60008); /* UDP length */
	for (size_t i = 0; i < 60000; i++)
		if (grx.dgram[8 + i] != host_byte(i, 60000))
			ck_abort_msg("UDP byte %zu: got %u, sent %u", i, grx.dgram[8 + i],
				     host_byte(i, 60000));
}

START_TEST(host_to_guest_udp_fragmented)
{
	post_all();
	host_send(60000);
	check_fragmented();
}
END_TEST

/*
 * Other frames around the fragments, in the same batch (what the host's
 * IPv6 MLD/DAD chatter does at random): each frame the guest sees must be
 * its own, never another one's copied into a buffer still in use.
 */
START_TEST(host_to_guest_udp_fragmented_among_other_frames)
{
	post_all();
	host_send_raw(0x0800, 90);
	host_send_raw(0x88b5, 90);
	host_send(60000);
	host_send_raw(0x86dd, 86);
	check_fragmented();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_tap");
	TCase *tc = tcase_create("tap");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, tap_setup, tnh_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, guest_to_host_udp);
	tcase_add_test(tc, guest_to_host_udp_blank_checksum);
	tcase_add_test(tc, guest_to_host_udp_over_several_slots);
	tcase_add_test(tc, host_to_guest_udp_blank_checksum);
	tcase_add_test(tc, host_to_guest_udp_checksummed_for_frontend_without_offload);
	tcase_add_test(tc, host_to_guest_udp_fragmented);
	tcase_add_test(tc, host_to_guest_udp_fragmented_among_other_frames);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
