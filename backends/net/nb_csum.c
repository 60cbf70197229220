// SPDX-License-Identifier: MIT
/* Finds TCP/UDP headers in Ethernet frames and fills or completes their checksums. */
#include <errno.h>
#include <netinet/in.h>
#include "nb_csum.h"

#define ETH_HLEN_ 14u
#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86dd
#define ETH_P_8021Q_ 0x8100

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Walks the IPv6 header chain to the transport header. */
static int find_l4_v6(const uint8_t *f, size_t len, struct nb_l4 *l4)
{
	unsigned off = l4->l3_off;
	uint8_t next;

	if (len < off + 40u || f[off] >> 4 != 6)
		return -EINVAL;
	next = f[off + 6];
	off += 40;
	for (int hops = 0; hops < 8; hops++) {
		switch (next) {
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (len < off + 8u)
				return -EINVAL;
			next = f[off];
			off += 8u + 8u * f[off + 1];
			continue;
		case 51: /* authentication header */
			if (len < off + 8u)
				return -EINVAL;
			next = f[off];
			off += 4u * (f[off + 1] + 2u);
			continue;
		default:
			l4->proto = next;
			l4->l4_off = off;
			return 0;
		}
	}
	return -EINVAL;
}

int nb_csum_find_l4(const uint8_t *f, size_t len, struct nb_l4 *l4)
{
	unsigned off = ETH_HLEN_, type;
	int ret;

	if (len < ETH_HLEN_)
		return -EINVAL;
	type = be16(f + 12);
	if (type == ETH_P_8021Q_) {
		if (len < ETH_HLEN_ + 4u)
			return -EINVAL;
		type = be16(f + 16);
		off += 4;
	}
	l4->l3_off = off;
	if (type == ETH_P_IP_) {
		unsigned ihl;

		if (len < off + 20u || f[off] >> 4 != 4)
			return -EINVAL;
		ihl = (f[off] & 15u) * 4u;
		/* A fragment (MF set or an offset) has no whole transport header. */
		if (ihl < 20 || (be16(f + off + 6) & 0x3fff))
			return -EINVAL;
		l4->ipv6 = false;
		l4->proto = f[off + 9];
		l4->l4_off = off + ihl;
	} else if (type == ETH_P_IPV6_) {
		l4->ipv6 = true;
		ret = find_l4_v6(f, len, l4);
		if (ret)
			return ret;
	} else {
		return -EINVAL;
	}
	if (l4->proto == IPPROTO_TCP) {
		if (len < l4->l4_off + 20u)
			return -EINVAL;
		l4->l4_hdr_len = (f[l4->l4_off + 12] >> 4) * 4u;
		if (l4->l4_hdr_len < 20 || len < l4->l4_off + l4->l4_hdr_len)
			return -EINVAL;
	} else if (l4->proto == IPPROTO_UDP) {
		l4->l4_hdr_len = 8;
		if (len < l4->l4_off + 8u)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return 0;
}

unsigned nb_csum_field(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : 6;
}

uint32_t nb_csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (len & 1)
		s += (uint32_t)buf[len - 1] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t nb_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

int nb_csum_pseudo(uint8_t *f, size_t len, const struct nb_l4 *l4)
{
	unsigned field = l4->l4_off + nb_csum_field(l4->proto);
	uint32_t sum, l4len;
	uint16_t v;

	if (len < field + 2u || len < l4->l4_off)
		return -EINVAL;
	l4len = (uint32_t)(len - l4->l4_off);
	if (l4->ipv6)
		sum = nb_csum_add(0, f + l4->l3_off + 8, 32);
	else
		sum = nb_csum_add(0, f + l4->l3_off + 12, 8);
	sum += l4->proto + (l4len & 0xffff) + (l4len >> 16);
	v = nb_csum_fold(sum);
	f[field] = (uint8_t)(v >> 8);
	f[field + 1] = (uint8_t)v;
	return 0;
}

int nb_csum_complete(uint8_t *f, size_t len, unsigned start, unsigned offset)
{
	uint16_t v;

	if ((size_t)start + offset + 2u > len)
		return -EINVAL;
	v = (uint16_t)~nb_csum_fold(nb_csum_add(0, f + start, len - start));
	/* UDP says "no checksum" with 0: a real zero is sent as 0xffff. */
	if (!v)
		v = 0xffff;
	f[start + offset] = (uint8_t)(v >> 8);
	f[start + offset + 1] = (uint8_t)v;
	return 0;
}
