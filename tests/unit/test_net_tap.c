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
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

/* Posts n receive buffers over pages 2..15. */
static void post(unsigned n)
{
	int notify;

	for (unsigned i = 0; i < n; i++) {
		netif_rx_request_t *r = RING_GET_REQUEST(&tnh_rxf, tnh_rxf.req_prod_pvt);

		r->id = (uint16_t)tnh_rxf.req_prod_pvt;
		r->gref = 2 + tnh_rxf.req_prod_pvt % 14;
		tnh_rxf.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tnh_rxf, notify);
	(void)notify;
}

static void host_send(size_t n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	static uint8_t buf[65536];
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 7 + n);
	inet_pton(AF_INET, "192.0.2.2", &a.sin_addr);
	ck_assert_int_eq(sendto(s, buf, n, 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)n);
	close(s);
}

/*
 * Runs the rx side until the guest saw UDP bytes of our port (IPv4 frames
 * only: the kernel sends its own chatter too).  Returns the UDP/IP payload
 * bytes seen in all fragments, and the first fragment's flags in *flags.
 */
static size_t guest_collect(size_t want, uint16_t *flags, unsigned *frames)
{
	size_t total = 0;

	*frames = 0;
	for (int tries = 0; tries < 200 && total < want; tries++) {
		RING_IDX prod;

		ck_assert_int_eq(nb_rx_run(tnh_q), 0);
		prod = tnh_rxf.sring->rsp_prod;
		while (tnh_rxf.rsp_cons != prod) {
			netif_rx_response_t r = *RING_GET_RESPONSE(&tnh_rxf, tnh_rxf.rsp_cons);
			const uint8_t *f = TNH_PAGE(r.id % 14 + 2);

			tnh_rxf.rsp_cons++;
			ck_assert_int_gt(r.status, 0);
			ck_assert(!(r.flags & NETRXF_more_data)); /* MTU-sized frames */
			if (r.status < 34 || f[12] != 0x08 || f[13] != 0x00 || f[23] != IPPROTO_UDP)
				continue;
			if (!*frames)
				*flags = r.flags;
			(*frames)++;
			total += (size_t)r.status - 34;
		}
		post(tnh_rxf.rsp_cons + NB_RX_RING_SIZE - tnh_rxf.req_prod_pvt);
		usleep(5000);
	}
	return total;
}

START_TEST(host_to_guest_udp_blank_checksum)
{
	uint16_t flags = 0;
	unsigned frames;

	post(64);
	host_send(100);
	ck_assert_uint_eq(guest_collect(108, &flags, &frames), 108);
	ck_assert_uint_eq(frames, 1);
	/* Our host stack leaves the UDP checksum to the "device": the guest gets it blank. */
	ck_assert_uint_eq(flags & NETRXF_data_validated, NETRXF_data_validated);
}
END_TEST

START_TEST(host_to_guest_udp_checksummed_for_frontend_without_offload)
{
	uint16_t flags = 0;
	unsigned frames;
	struct nb_l4 l4;
	uint32_t s;
	const uint8_t *f;

	tnh_q->feat.csum = false;
	set_offload();
	post(64);
	host_send(300);
	ck_assert_uint_eq(guest_collect(308, &flags, &frames), 308);
	ck_assert_uint_eq(flags & NETRXF_csum_blank, 0);
	/* The frame in the guest's page carries a valid UDP checksum. */
	f = TNH_PAGE((tnh_rxf.rsp_cons - 1) % 14 + 2);
	ck_assert_int_eq(nb_csum_find_l4(f, 342, &l4), 0);
	s = nb_csum_add(0, f + 26, 8) + IPPROTO_UDP + 308;
	s = nb_csum_add(s, f + 34, 308);
	ck_assert_uint_eq(nb_csum_fold(s), 0xffff);
}
END_TEST

START_TEST(host_to_guest_udp_fragmented)
{
	uint16_t flags = 0;
	unsigned frames;

	post(NB_RX_RING_SIZE);
	host_send(60000);
	/* 60008 bytes of UDP in 1480-byte IP fragments. */
	ck_assert_uint_eq(guest_collect(60008, &flags, &frames), 60008);
	ck_assert_uint_eq(frames, (60008 + 1479) / 1480);
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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
