// SPDX-License-Identifier: MIT
// Wire formats of the IPv4 stack's headers (Ethernet, ARP, IPv4, ICMP, UDP), private to
// frontends/net/.
#ifndef SVK_NET_WIRE_H
#define SVK_NET_WIRE_H

#include <svk/net.h>

/* Every multi-byte field is in network byte order, as on the wire. */
struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;
} __attribute__((packed));

#define ARP_HRD_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_pkt {
	uint16_t hrd, pro;
	uint8_t hln, pln;
	uint16_t op;
	uint8_t sha[ETH_ALEN];
	uint32_t spa;
	uint8_t tha[ETH_ALEN];
	uint32_t tpa;
} __attribute__((packed));

#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_FRAG_MASK 0x1fff

struct ip_hdr {
	uint8_t ver_ihl; /* 4 << 4 | header words */
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag; /* flags and offset in 8-byte units */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t src, dst;
} __attribute__((packed));

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

struct icmp_echo {
	uint8_t type, code;
	uint16_t csum;
	uint16_t id, seq;
} __attribute__((packed));

struct udp_hdr {
	uint16_t sport, dport;
	uint16_t len;
	uint16_t csum;
} __attribute__((packed));

#define IP_TTL_DEFAULT 64

/* ff:ff:ff:ff:ff:ff (eth.c). */
extern const uint8_t eth_broadcast[ETH_ALEN];

/* net_eth_send: one frame of @n pieces behind an Ethernet header to @dmac. */
int net_eth_send(struct net_if *nif, const uint8_t dmac[ETH_ALEN], uint16_t type,
		 const struct net_iov *iov, unsigned int n);

/* Called by net_input for ARP frames. */
void net_arp_input(struct net_if *nif, const void *pkt, size_t len);

#endif
