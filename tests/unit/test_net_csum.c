// SPDX-License-Identifier: MIT
/* Check suite for netback's header parsing and checksums (nb_csum.c). */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "../../backends/net/nb_csum.h"

/* Builds Ethernet + IPv4 + UDP with payload n bytes of i; returns the frame length. */
static size_t udp4(uint8_t *f, size_t n, bool vlan)
{
	size_t o = 12, ip;

	memset(f, 0, 2048);
	if (vlan) {
		f[o++] = 0x81;
		f[o++] = 0x00;
		o += 2;
	}
	f[o++] = 0x08;
	f[o++] = 0x00;
	ip = o;
	f[ip] = 0x45;
	f[ip + 2] = (uint8_t)((20 + 8 + n) >> 8);
	f[ip + 3] = (uint8_t)(20 + 8 + n);
	f[ip + 8] = 64;
	f[ip + 9] = IPPROTO_UDP;
	memcpy(f + ip + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
	f[ip + 20] = 0x30;
	f[ip + 21] = 0x39; /* ports */
	f[ip + 22] = 0x00;
	f[ip + 23] = 0x07;
	f[ip + 24] = (uint8_t)((8 + n) >> 8);
	f[ip + 25] = (uint8_t)(8 + n);
	for (size_t i = 0; i < n; i++)
		f[ip + 28 + i] = (uint8_t)i;
	return ip + 28 + n;
}

/* A valid UDP/IPv4 checksum sums (with the pseudo header) to 0xffff. */
static bool udp4_ok(const uint8_t *f, size_t len, unsigned ip)
{
	uint32_t s = nb_csum_add(0, f + ip + 12, 8);

	s += IPPROTO_UDP + (uint32_t)(len - ip - 20);
	s = nb_csum_add(s, f + ip + 20, len - ip - 20);
	return nb_csum_fold(s) == 0xffff;
}

START_TEST(finds_udp_in_ipv4)
{
	uint8_t f[2048];
	struct nb_l4 l4;
	size_t len = udp4(f, 100, false);

	ck_assert_int_eq(nb_csum_find_l4(f, len, &l4), 0);
	ck_assert_uint_eq(l4.l3_off, 14);
	ck_assert_uint_eq(l4.l4_off, 34);
	ck_assert_uint_eq(l4.proto, IPPROTO_UDP);
	ck_assert(!l4.ipv6);
	len = udp4(f, 100, true);
	ck_assert_int_eq(nb_csum_find_l4(f, len, &l4), 0);
	ck_assert_uint_eq(l4.l4_off, 38);
}
END_TEST

START_TEST(refuses_truncated_fragments_and_others)
{
	uint8_t f[2048];
	struct nb_l4 l4;
	size_t len = udp4(f, 100, false);

	for (size_t cut = 0; cut < 42; cut++)
		ck_assert_int_eq(nb_csum_find_l4(f, cut, &l4), -EINVAL);
	f[14 + 6] = 0x20; /* more fragments */
	ck_assert_int_eq(nb_csum_find_l4(f, len, &l4), -EINVAL);
	f[14 + 6] = 0;
	f[14 + 9] = 1; /* ICMP */
	ck_assert_int_eq(nb_csum_find_l4(f, len, &l4), -EINVAL);
	f[14 + 9] = IPPROTO_UDP;
	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	ck_assert_int_eq(nb_csum_find_l4(f, len, &l4), -EINVAL);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x43; /* IHL 3 */
	ck_assert_int_eq(nb_csum_find_l4(f, len, &l4), -EINVAL);
}
END_TEST

START_TEST(ipv6_with_extension_header)
{
	uint8_t f[256] = { 0 };
	struct nb_l4 l4;

	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	f[14 + 6] = 0;	     /* hop-by-hop first */
	f[54] = IPPROTO_TCP; /* its next header */
	f[55] = 0;	     /* 8 bytes long */
	f[62 + 12] = 5 << 4; /* TCP data offset 20 */
	ck_assert_int_eq(nb_csum_find_l4(f, 62 + 20, &l4), 0);
	ck_assert(l4.ipv6);
	ck_assert_uint_eq(l4.l4_off, 62);
	ck_assert_uint_eq(l4.l4_hdr_len, 20);
	ck_assert_uint_eq(nb_csum_field(l4.proto), 16);
	ck_assert_int_eq(nb_csum_find_l4(f, 62 + 19, &l4), -EINVAL);
}
END_TEST

START_TEST(partial_then_complete_gives_valid_sum)
{
	uint8_t f[2048];

	for (size_t n = 0; n < 1400; n += 7) {
		size_t len = udp4(f, n, false);
		struct nb_l4 l4;

		ck_assert_int_eq(nb_csum_find_l4(f, len, &l4), 0);
		ck_assert_int_eq(nb_csum_pseudo(f, len, &l4), 0);
		ck_assert_int_eq(nb_csum_complete(f, len, l4.l4_off, 6), 0);
		ck_assert(udp4_ok(f, len, 14));
	}
}
END_TEST

START_TEST(complete_checks_bounds)
{
	uint8_t f[64] = { 0 };

	ck_assert_int_eq(nb_csum_complete(f, 64, 60, 6), -EINVAL);
	ck_assert_int_eq(nb_csum_complete(f, 64, 0xffff, 0xffff), -EINVAL);
	ck_assert_int_eq(nb_csum_complete(f, 64, 56, 6), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_csum");
	TCase *tc = tcase_create("csum");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, finds_udp_in_ipv4);
	tcase_add_test(tc, refuses_truncated_fragments_and_others);
	tcase_add_test(tc, ipv6_with_extension_header);
	tcase_add_test(tc, partial_then_complete_gives_valid_sum);
	tcase_add_test(tc, complete_checks_bounds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
