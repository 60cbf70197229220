// SPDX-License-Identifier: MIT
// Check suite for the guest's IPv4 stack (frontends/net/): the real sources, hosted, between two
// fake interfaces.
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <svk/net.h>
#include "../../frontends/net/wire.h"

/* ---- harness: the console and clock the stack's sources call ---- */

void console_write(const char *buf, size_t len);
uint64_t time_now_ns(void);

void console_write(const char *buf, size_t len)
{
}

static uint64_t fake_now = 1000;

uint64_t time_now_ns(void)
{
	return fake_now;
}

/* Frames an interface sent, each flattened from its pieces. */
#define CAP_MAX 128
struct capture {
	unsigned int n;
	size_t len[CAP_MAX];
	uint8_t frame[CAP_MAX][ETH_HLEN + IP_MAX_LEN];
	int fail; /* xmit returns this when nonzero */
};

static struct capture cap_a, cap_b;

static int cap_xmit(struct net_if *nif, const struct net_iov *iov, unsigned int n)
{
	struct capture *c = nif->priv;
	size_t off = 0;

	ck_assert_uint_le(n, NET_IOV_MAX + 1);
	if (c->fail)
		return c->fail;
	ck_assert_uint_lt(c->n, CAP_MAX);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_le(off + iov[i].len, sizeof(c->frame[0]));
		memcpy(c->frame[c->n] + off, iov[i].base, iov[i].len);
		off += iov[i].len;
	}
	/* Never more than one MTU's worth of IP in a frame. */
	ck_assert_uint_le(off, ETH_HLEN + nif->mtu > 60 ? ETH_HLEN + nif->mtu : 60);
	c->len[c->n++] = off;
	return 0;
}

static const struct net_if_ops cap_ops = { .xmit = cap_xmit };
static struct net_if a, b;
static const uint8_t mac_a[6] = { 0x00, 0x16, 0x3e, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 0x00, 0x16, 0x3e, 0, 0, 0xb };
static uint32_t ip_a, ip_b;

/* What a bound port received last. */
static struct {
	unsigned int calls;
	uint32_t src;
	uint16_t sport, dport;
	size_t len;
	uint8_t data[IP_MAX_LEN];
} got;

static void udp_rx(struct net_if *nif, uint32_t src, const uint8_t smac[ETH_ALEN], uint16_t sport,
		   uint16_t dport, const uint8_t *data, size_t len, void *arg)
{
	got.calls++;
	got.src = src;
	got.sport = sport;
	got.dport = dport;
	got.len = len;
	memcpy(got.data, data, len);
}

static void setup(void)
{
	memset(&cap_a, 0, sizeof(cap_a));
	memset(&cap_b, 0, sizeof(cap_b));
	memset(&got, 0, sizeof(got));
	ck_assert_int_eq(net_parse_ip("192.0.2.1", &ip_a), 0);
	ck_assert_int_eq(net_parse_ip("192.0.2.2", &ip_b), 0);
	net_if_init(&a, mac_a, ip_a, 1500, &cap_ops, &cap_a);
	net_if_init(&b, mac_b, ip_b, 1500, &cap_ops, &cap_b);
	net_reasm_reset();
	net_udp_unbind(7);
	ck_assert_int_eq(net_udp_bind(7, udp_rx, NULL), 0);
}

static void teardown(void)
{
	net_udp_unbind(7);
	net_icmp_set_reply_hook(NULL, NULL);
}

/* Everything @from sent, delivered to @to (in order, or reversed). */
static void deliver(struct capture *from, struct net_if *to, bool reverse)
{
	for (unsigned i = 0; i < from->n; i++) {
		unsigned k = reverse ? from->n - 1 - i : i;

		net_input(to, from->frame[k], from->len[k]);
	}
	from->n = 0;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/* ---- checksums and addresses ---- */

START_TEST(test_csum_rfc1071)
{
	/* RFC 1071's example: the words sum to 0xddf2 (folded). */
	static const uint8_t w[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t c = net_csum_fold(net_csum_add(0, w, sizeof(w)));
	const uint8_t *cb = (const uint8_t *)&c;

	ck_assert_uint_eq(cb[0], 0x22);
	ck_assert_uint_eq(cb[1], 0x0d);
	/* Split in two pieces (the first even), the same sum. */
	ck_assert_uint_eq(net_csum_fold(net_csum_add(net_csum_add(0, w, 2), w + 2, 6)), c);
	/* An odd tail counts as its high byte. */
	ck_assert_uint_eq(net_csum_add(0, "\x01", 1), 0x100);
}
END_TEST

START_TEST(test_addresses)
{
	char buf[NET_MAC_STR];
	uint8_t mac[6];
	uint32_t ip;

	ck_assert_int_eq(net_parse_ip("10.1.255.0", &ip), 0);
	ck_assert_str_eq(net_format_ip(ip, buf), "10.1.255.0");
	ck_assert_int_ne(net_parse_ip("10.1.256.0", &ip), 0);
	ck_assert_int_ne(net_parse_ip("10.1.2", &ip), 0);
	ck_assert_int_ne(net_parse_ip("10.1.2.3.4", &ip), 0);
	ck_assert_int_ne(net_parse_ip("", &ip), 0);
	ck_assert_int_ne(net_parse_ip("1..2.3", &ip), 0);
	ck_assert_int_ne(net_parse_ip("0001.2.3.4", &ip), 0);
	ck_assert_int_eq(net_parse_mac("00:16:3E:aa:02:ff", mac), 0);
	ck_assert_str_eq(net_format_mac(mac, buf), "00:16:3e:aa:02:ff");
	ck_assert_int_ne(net_parse_mac("00:16:3e:aa:02", mac), 0);
	ck_assert_int_ne(net_parse_mac("00:16:3e:aa:02:ff:", mac), 0);
	ck_assert_int_ne(net_parse_mac("0:16:3e:aa:02:ff", mac), 0);
}
END_TEST

START_TEST(test_mtu_clamped)
{
	struct net_if x;

	net_if_init(&x, mac_a, ip_a, 10, &cap_ops, &cap_a);
	ck_assert_uint_eq(x.mtu, NET_MTU_MIN);
	net_if_init(&x, mac_a, ip_a, 1000000, &cap_ops, &cap_a);
	ck_assert_uint_eq(x.mtu, IP_MAX_LEN);
}
END_TEST

/* ---- ARP ---- */

START_TEST(test_arp_request_answered)
{
	uint8_t mac[6];
	struct arp_pkt rep;

	ck_assert_int_eq(net_arp_request(&a, ip_b), 0);
	ck_assert_uint_eq(cap_a.n, 1);
	ck_assert_uint_ge(cap_a.len[0], 60);
	deliver(&cap_a, &b, false);
	/* b learned a, and answered it directly. */
	ck_assert(net_arp_lookup(&b, ip_a, mac));
	ck_assert_mem_eq(mac, mac_a, 6);
	ck_assert_uint_eq(cap_b.n, 1);
	ck_assert_mem_eq(cap_b.frame[0], mac_a, 6);
	memcpy(&rep, cap_b.frame[0] + ETH_HLEN, sizeof(rep));
	ck_assert_uint_eq(net_ntohs(rep.op), ARP_OP_REPLY);
	ck_assert_uint_eq(rep.spa, ip_b);
	ck_assert_mem_eq(rep.sha, mac_b, 6);
	deliver(&cap_b, &a, false);
	ck_assert(net_arp_lookup(&a, ip_b, mac));
	ck_assert_mem_eq(mac, mac_b, 6);
	ck_assert_uint_eq(cap_a.n, 0); /* a reply is not answered */
}
END_TEST

START_TEST(test_arp_other_address_ignored)
{
	uint32_t other;
	uint8_t mac[6];

	ck_assert_int_eq(net_parse_ip("192.0.2.99", &other), 0);
	ck_assert_int_eq(net_arp_request(&a, other), 0);
	deliver(&cap_a, &b, false);
	ck_assert_uint_eq(cap_b.n, 0);
	ck_assert(!net_arp_lookup(&b, ip_a, mac));
}
END_TEST

START_TEST(test_arp_cache_replaces_oldest)
{
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0 };

	for (uint32_t i = 1; i <= NET_ARP_ENTRIES + 1; i++) {
		mac[5] = (uint8_t)i;
		net_arp_learn(&a, i << 24 | 10, mac);
	}
	ck_assert(!net_arp_lookup(&a, 1u << 24 | 10, mac));
	ck_assert(net_arp_lookup(&a, 2u << 24 | 10, mac));
	ck_assert_uint_eq(mac[5], 2);
	/* Group MACs and the broadcast address are never learned. */
	mac[0] = 1;
	net_arp_learn(&a, 99, mac);
	ck_assert(!net_arp_lookup(&a, 99, mac));
}
END_TEST

/* ---- ICMP ---- */

static struct {
	unsigned int calls;
	uint16_t id, seq;
	size_t len;
} reply;

static void on_reply(struct net_if *nif, uint32_t src, uint16_t id, uint16_t seq, size_t len,
		     void *arg)
{
	reply.calls++;
	reply.id = id;
	reply.seq = seq;
	reply.len = len;
}

static void ping_size(size_t len)
{
	memset(&reply, 0, sizeof(reply));
	net_icmp_set_reply_hook(on_reply, NULL);
	ck_assert_int_eq(net_icmp_echo(&a, ip_b, mac_b, 0x1234, 7, len), 0);
	deliver(&cap_a, &b, false);
	ck_assert_uint_eq(b.stats.icmp_echo_requests, 1);
	deliver(&cap_b, &a, false);
	ck_assert_uint_eq(reply.calls, 1);
	ck_assert_uint_eq(reply.id, 0x1234);
	ck_assert_uint_eq(reply.seq, 7);
	ck_assert_uint_eq(reply.len, len);
}

START_TEST(test_ping_answered)
{
	ping_size(56);
}
END_TEST

START_TEST(test_ping_fragmented)
{
	ping_size(5000);
	ck_assert_uint_eq(b.stats.reassembled, 1);
	ck_assert_uint_eq(a.stats.reassembled, 1);
}
END_TEST

START_TEST(test_ping_bad_checksum_dropped)
{
	ck_assert_int_eq(net_icmp_echo(&a, ip_b, mac_b, 1, 1, 56), 0);
	cap_a.frame[0][ETH_HLEN + IP_HLEN + 20] ^= 0x40;
	deliver(&cap_a, &b, false);
	ck_assert_uint_eq(cap_b.n, 0);
	ck_assert_uint_eq(b.stats.rx_dropped, 1);
}
END_TEST

/* ---- UDP ---- */

START_TEST(test_udp_delivered)
{
	uint8_t data[100];

	fill(data, sizeof(data), 3);
	ck_assert_int_eq(net_udp_send(&a, ip_b, mac_b, 5555, 7, data, sizeof(data)), 0);
	ck_assert_uint_eq(cap_a.n, 1);
	ck_assert_mem_eq(cap_a.frame[0], mac_b, 6);
	ck_assert_mem_eq(cap_a.frame[0] + 6, mac_a, 6);
	deliver(&cap_a, &b, false);
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_uint_eq(got.src, ip_a);
	ck_assert_uint_eq(got.sport, 5555);
	ck_assert_uint_eq(got.dport, 7);
	ck_assert_uint_eq(got.len, sizeof(data));
	ck_assert_mem_eq(got.data, data, sizeof(data));
}
END_TEST

START_TEST(test_udp_empty_and_unbound)
{
	ck_assert_int_eq(net_udp_send(&a, ip_b, mac_b, 1, 7, NULL, 0), 0);
	ck_assert_int_eq(net_udp_send(&a, ip_b, mac_b, 1, 8, "x", 1), 0);
	deliver(&cap_a, &b, false);
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_uint_eq(got.len, 0);
	ck_assert_uint_eq(b.stats.udp_no_port, 1);
}
END_TEST

START_TEST(test_udp_checksum)
{
	uint8_t *u;

	/* Corrupted payload: dropped. */
	ck_assert_int_eq(net_udp_send(&a, ip_b, mac_b, 1, 7, "hello", 5), 0);
	cap_a.frame[0][ETH_HLEN + IP_HLEN + UDP_HLEN] ^= 1;
	deliver(&cap_a, &b, false);
	ck_assert_uint_eq(got.calls, 0);
	ck_assert_uint_eq(b.stats.rx_dropped, 1);
	/* No checksum at all (0): taken. */
	ck_assert_int_eq(net_udp_send(&a, ip_b, mac_b, 1, 7, "hello", 5), 0);
	u = cap_a.frame[0] + ETH_HLEN + IP_HLEN;
	u[6] = u[7] = 0;
	deliver(&cap_a, &b, false);
	ck_assert_uint_eq(got.calls, 1);
}
END_TEST

START_TEST(test_udp_bind_table)
{
	ck_assert_int_eq(net_udp_bind(7, udp_rx, NULL), -XEN_EBUSY);
	ck_assert_int_eq(net_udp_bind(0, udp_rx, NULL), -XEN_EINVAL);
	for (int i = 1; i < NET_UDP_PORTS; i++)
		ck_assert_int_eq(net_udp_bind((uint16_t)(100 + i), udp_rx, NULL), 0);
	ck_assert_int_eq(net_udp_bind(200, udp_rx, NULL), -XEN_ENOSPC);
	for (int i = 1; i < NET_UDP_PORTS; i++)
		net_udp_unbind((uint16_t)(100 + i));
	ck_assert_int_eq(net_udp_bind(200, udp_rx, NULL), 0);
	net_udp_unbind(200);
}
END_TEST

/* Fragments of the largest datagram, in order, reversed and shuffled. */
static uint8_t big[UDP_MAX_PAYLOAD + 1];

static void send_big(size_t len, unsigned seed)
{
	fill(big, len, seed);
	ck_assert_int_eq(net_udp_send(&a, ip_b, mac_b, 9, 7, big, len), 0);
}

static void check_fragments(const struct capture *c, size_t len)
{
	size_t next = 0;

	for (unsigned i = 0; i < c->n; i++) {
		struct ip_hdr ih;
		uint16_t frag;

		memcpy(&ih, c->frame[i] + ETH_HLEN, sizeof(ih));
		frag = net_ntohs(ih.frag);
		ck_assert_uint_eq((size_t)(frag & IP_FRAG_MASK) * 8, next);
		ck_assert_uint_le(net_ntohs(ih.tot_len), 1500);
		ck_assert_int_eq(net_csum_fold(net_csum_add(0, &ih, IP_HLEN)), 0);
		next += net_ntohs(ih.tot_len) - IP_HLEN;
		ck_assert_int_eq(!!(frag & IP_FLAG_MF), i + 1 < c->n);
	}
	ck_assert_uint_eq(next, len + UDP_HLEN);
}

START_TEST(test_udp_largest_fragmented_in_order)
{
	send_big(UDP_MAX_PAYLOAD, 1);
	ck_assert_uint_eq(cap_a.n, 45);
	check_fragments(&cap_a, UDP_MAX_PAYLOAD);
	deliver(&cap_a, &b, false);
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_uint_eq(got.len, UDP_MAX_PAYLOAD);
	ck_assert_mem_eq(got.data, big, UDP_MAX_PAYLOAD);
	ck_assert_uint_eq(net_reasm_pending(), 0);
}
END_TEST

START_TEST(test_udp_fragments_reversed)
{
	send_big(4000, 2);
	deliver(&cap_a, &b, true);
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_uint_eq(got.len, 4000);
	ck_assert_mem_eq(got.data, big, 4000);
}
END_TEST

START_TEST(test_udp_fragments_shuffled_and_repeated)
{
	unsigned order[CAP_MAX];
	unsigned n;

	send_big(30000, 3);
	n = cap_a.n;
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	srand(7);
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	/* Every fragment but the last, then all of them again (repeats). */
	for (unsigned i = 0; i < n; i++)
		if (order[i] != n - 1)
			net_input(&b, cap_a.frame[order[i]], cap_a.len[order[i]]);
	ck_assert_uint_eq(got.calls, 0);
	for (unsigned i = 0; i < n; i++)
		net_input(&b, cap_a.frame[order[i]], cap_a.len[order[i]]);
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_mem_eq(got.data, big, 30000);
}
END_TEST

START_TEST(test_udp_too_large_refused)
{
	ck_assert_int_eq(net_udp_send(&a, ip_b, mac_b, 9, 7, big, UDP_MAX_PAYLOAD + 1),
			 -XEN_EMSGSIZE);
	ck_assert_uint_eq(cap_a.n, 0);
}
END_TEST

START_TEST(test_xmit_failure_reported)
{
	cap_a.fail = -XEN_ENOSPC;
	ck_assert_int_eq(net_udp_send(&a, ip_b, mac_b, 9, 7, "x", 1), -XEN_ENOSPC);
	ck_assert_uint_eq(a.stats.tx_dropped, 1);
}
END_TEST

/* ---- reassembly against hostile fragments ---- */

START_TEST(test_reasm_beyond_64k_dropped)
{
	static uint8_t d[1480];
	size_t total;

	ck_assert_ptr_null(net_reasm_add(1, 2, 3, 17, 0, d, 1480, true, &total));
	ck_assert_uint_eq(net_reasm_pending(), 1);
	ck_assert_ptr_null(net_reasm_add(1, 2, 3, 17, 65000, d, 1000, false, &total));
	ck_assert_uint_eq(net_reasm_pending(), 0);
}
END_TEST

START_TEST(test_reasm_conflicting_ends_dropped)
{
	static uint8_t d[800];
	size_t total;

	ck_assert_ptr_null(net_reasm_add(1, 2, 3, 17, 800, d, 100, false, &total));
	/* Another "last" fragment with a different end. */
	ck_assert_ptr_null(net_reasm_add(1, 2, 3, 17, 800, d, 200, false, &total));
	ck_assert_uint_eq(net_reasm_pending(), 0);
	/* A middle fragment past the known end. */
	ck_assert_ptr_null(net_reasm_add(1, 2, 4, 17, 800, d, 100, false, &total));
	ck_assert_ptr_null(net_reasm_add(1, 2, 4, 17, 800, d, 800, true, &total));
	ck_assert_uint_eq(net_reasm_pending(), 0);
	/* A middle fragment not a multiple of 8. */
	ck_assert_ptr_null(net_reasm_add(1, 2, 5, 17, 0, d, 13, true, &total));
	ck_assert_uint_eq(net_reasm_pending(), 0);
}
END_TEST

START_TEST(test_reasm_overlap_completes)
{
	static uint8_t d[64];
	const uint8_t *whole;
	size_t total = 0;

	memset(d, 0xaa, sizeof(d));
	ck_assert_ptr_null(net_reasm_add(1, 2, 3, 17, 0, d, 32, true, &total));
	ck_assert_ptr_null(net_reasm_add(1, 2, 3, 17, 16, d, 32, true, &total));
	whole = net_reasm_add(1, 2, 3, 17, 48, d, 5, false, &total);
	ck_assert_ptr_nonnull(whole);
	ck_assert_uint_eq(total, 53);
}
END_TEST

START_TEST(test_reasm_timeout_and_eviction)
{
	static uint8_t d[8];
	size_t total;

	for (uint16_t id = 0; id < NET_REASM_SLOTS + 2; id++) {
		fake_now += 1000;
		ck_assert_ptr_null(net_reasm_add(1, 2, id, 17, 0, d, 8, true, &total));
	}
	ck_assert_uint_eq(net_reasm_pending(), NET_REASM_SLOTS);
	/* The oldest two went: their last fragments start new ones. */
	ck_assert_ptr_null(net_reasm_add(1, 2, 0, 17, 8, d, 8, false, &total));
	fake_now += NET_REASM_TIMEOUT_NS + 1;
	ck_assert_ptr_null(net_reasm_add(9, 9, 9, 17, 0, d, 8, true, &total));
	ck_assert_uint_eq(net_reasm_pending(), 1);
}
END_TEST

/* ---- malformed frames ---- */

START_TEST(test_malformed_frames_dropped)
{
	uint8_t f[128] = { 0 };
	struct ip_hdr ih;

	net_input(&b, f, 5); /* shorter than Ethernet */
	ck_assert_int_eq(net_udp_send(&a, ip_b, mac_b, 1, 7, "hello", 5), 0);
	memcpy(f, cap_a.frame[0], cap_a.len[0]);
	net_input(&b, f, ETH_HLEN + 10);    /* cut IP header */
	net_input(&b, f, cap_a.len[0] - 1); /* cut datagram */
	memcpy(&ih, f + ETH_HLEN, sizeof(ih));
	ih.ver_ihl = 0x44; /* header shorter than 20 */
	memcpy(f + ETH_HLEN, &ih, sizeof(ih));
	net_input(&b, f, cap_a.len[0]);
	ih.ver_ihl = 0x65; /* IPv6 in an IPv4 frame */
	memcpy(f + ETH_HLEN, &ih, sizeof(ih));
	net_input(&b, f, cap_a.len[0]);
	ck_assert_uint_eq(got.calls, 0);
	ck_assert_uint_eq(b.stats.rx_dropped, 5);
	ck_assert_uint_eq(cap_b.n, 0);
}
END_TEST

START_TEST(test_random_frames_survive)
{
	static uint8_t f[2048];

	srand(42);
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)rand() % sizeof(f);

		for (size_t k = 0; k < len; k++)
			f[k] = (uint8_t)rand();
		/* Aim most at b, as IPv4 or ARP, so the parsers run. */
		if (len >= ETH_HLEN + IP_HLEN && (i & 3)) {
			memcpy(f, mac_b, 6);
			f[12] = 0x08;
			f[13] = (i & 4) ? 0x06 : 0x00;
			f[14] = (uint8_t)(0x45 + (i & 8 ? 0x10 : 0));
		}
		net_input(&b, f, len);
		cap_b.n = 0;
	}
}
END_TEST

static Suite *guest_net_suite(void)
{
	Suite *s = suite_create("guest_net");
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_csum_rfc1071);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_mtu_clamped);
	suite_add_tcase(s, tc);

	tc = tcase_create("arp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_arp_request_answered);
	tcase_add_test(tc, test_arp_other_address_ignored);
	tcase_add_test(tc, test_arp_cache_replaces_oldest);
	suite_add_tcase(s, tc);

	tc = tcase_create("icmp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ping_answered);
	tcase_add_test(tc, test_ping_fragmented);
	tcase_add_test(tc, test_ping_bad_checksum_dropped);
	suite_add_tcase(s, tc);

	tc = tcase_create("udp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_udp_delivered);
	tcase_add_test(tc, test_udp_empty_and_unbound);
	tcase_add_test(tc, test_udp_checksum);
	tcase_add_test(tc, test_udp_bind_table);
	tcase_add_test(tc, test_udp_largest_fragmented_in_order);
	tcase_add_test(tc, test_udp_fragments_reversed);
	tcase_add_test(tc, test_udp_fragments_shuffled_and_repeated);
	tcase_add_test(tc, test_udp_too_large_refused);
	tcase_add_test(tc, test_xmit_failure_reported);
	suite_add_tcase(s, tc);

	tc = tcase_create("reassembly");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reasm_beyond_64k_dropped);
	tcase_add_test(tc, test_reasm_conflicting_ends_dropped);
	tcase_add_test(tc, test_reasm_overlap_completes);
	tcase_add_test(tc, test_reasm_timeout_and_eviction);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_malformed_frames_dropped);
	tcase_add_test(tc, test_random_frames_survive);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(guest_net_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
