/* SPDX-License-Identifier: MIT */
/* Header parsing and checksums for offloads: where a frame's TCP/UDP header and checksum are. */
#ifndef SV_NB_CSUM_H
#define SV_NB_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the transport header of an Ethernet frame is. */
struct nb_l4 {
	unsigned l3_off;     /* IP header */
	unsigned l4_off;     /* TCP or UDP header */
	unsigned l4_hdr_len; /* TCP header with options, or 8 for UDP */
	uint8_t proto;	     /* IPPROTO_TCP or IPPROTO_UDP */
	bool ipv6;
};

/*
 * Finds the TCP or UDP header of an Ethernet frame carrying IPv4 or IPv6
 * (one 802.1Q tag allowed; IPv6 extension headers skipped).  Everything
 * is bounds-checked against len.  0, or -EINVAL for anything else (not
 * IP, a fragment, truncated, another protocol).
 */
int nb_csum_find_l4(const uint8_t *f, size_t len, struct nb_l4 *l4);

/* Offset of the checksum field inside the transport header: 16 TCP, 6 UDP. */
unsigned nb_csum_field(uint8_t proto);

/*
 * Writes the folded pseudo-header sum into the transport checksum field,
 * as a partially checksummed packet carries it.  0 or -EINVAL.
 */
int nb_csum_pseudo(uint8_t *f, size_t len, const struct nb_l4 *l4);

/*
 * Completes a partial checksum in software: sums f[start..len) (the field
 * at start + offset holding the pseudo-header sum) and stores the result.
 * 0, or -EINVAL when start/offset do not fit in len.
 */
int nb_csum_complete(uint8_t *f, size_t len, unsigned start, unsigned offset);

/* The Internet checksum's ones' complement sum of buf, added to sum (not folded). */
uint32_t nb_csum_add(uint32_t sum, const uint8_t *buf, size_t len);
/* Folds a sum to 16 bits (not complemented). */
uint16_t nb_csum_fold(uint32_t sum);

#endif /* SV_NB_CSUM_H */
