// SPDX-License-Identifier: MIT
// The Internet checksum (RFC 1071) over pieces, for IPv4, ICMP and UDP.
#include <svk/net.h>

uint32_t net_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	/* Big-endian 16-bit words, whatever the host's order. */
	while (len >= 2) {
		acc += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	/* Stored in network order: the folded value's bytes, high first. */
	return net_htons((uint16_t)~sum);
}
