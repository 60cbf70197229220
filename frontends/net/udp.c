// SPDX-License-Identifier: MIT
// UDP of the guest's stack: a small table of bound ports, checksummed sends of up to 65507 bytes.
#include <svk/lib.h>
#include "wire.h"

/* The bound ports, owned by this file (port 0: free). */
static struct {
	uint16_t port;
	net_udp_fn fn;
	void *arg;
} ports[NET_UDP_PORTS];

int net_udp_bind(uint16_t port, net_udp_fn fn, void *arg)
{
	int free_slot = -1;

	if (!port || !fn)
		return -XEN_EINVAL;
	for (int i = 0; i < NET_UDP_PORTS; i++) {
		if (ports[i].port == port)
			return -XEN_EBUSY;
		if (!ports[i].port && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -XEN_ENOSPC;
	ports[free_slot].fn = fn;
	ports[free_slot].arg = arg;
	ports[free_slot].port = port;
	return 0;
}

void net_udp_unbind(uint16_t port)
{
	for (int i = 0; i < NET_UDP_PORTS; i++)
		if (ports[i].port == port)
			ports[i].port = 0;
}

/* The sum of the pseudo-header (addresses, protocol, UDP length). */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, size_t ulen)
{
	uint8_t ph[12];

	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = IP_PROTO_UDP;
	ph[10] = (uint8_t)(ulen >> 8);
	ph[11] = (uint8_t)ulen;
	return net_csum_add(0, ph, sizeof(ph));
}

void net_udp_input(struct net_if *nif, uint32_t src, uint32_t dst, const uint8_t smac[ETH_ALEN],
		   const void *seg, size_t len)
{
	const uint8_t *p = seg;
	struct udp_hdr uh;
	size_t ulen;
	uint16_t dport;

	if (len < UDP_HLEN)
		goto drop;
	memcpy(&uh, p, sizeof(uh));
	ulen = net_ntohs(uh.len);
	if (ulen < UDP_HLEN || ulen > len)
		goto drop;
	/* A zero checksum means the sender computed none. */
	if (uh.csum && net_csum_fold(net_csum_add(pseudo_sum(src, dst, ulen), p, ulen)) != 0)
		goto drop;
	nif->stats.udp_in++;
	dport = net_ntohs(uh.dport);
	for (int i = 0; i < NET_UDP_PORTS; i++) {
		if (ports[i].port == dport) {
			ports[i].fn(nif, src, smac, net_ntohs(uh.sport), dport, p + UDP_HLEN,
				    ulen - UDP_HLEN, ports[i].arg);
			return;
		}
	}
	nif->stats.udp_no_port++;
	return;
drop:
	nif->stats.rx_dropped++;
}

int net_udp_send(struct net_if *nif, uint32_t dst, const uint8_t dmac[ETH_ALEN], uint16_t sport,
		 uint16_t dport, const void *data, size_t len)
{
	size_t ulen = UDP_HLEN + len;
	struct udp_hdr uh;
	uint32_t sum;
	uint16_t csum;

	if (len > UDP_MAX_PAYLOAD)
		return -XEN_EMSGSIZE;
	uh.sport = net_htons(sport);
	uh.dport = net_htons(dport);
	uh.len = net_htons((uint16_t)ulen);
	uh.csum = 0;
	sum = net_csum_add(pseudo_sum(nif->ip, dst, ulen), &uh, sizeof(uh));
	csum = net_csum_fold(net_csum_add(sum, data, len));
	/* 0 means "no checksum": a computed 0 is sent as all ones. */
	uh.csum = csum ? csum : 0xffff;
	nif->stats.udp_out++;
	return net_ip_send(nif, dst, dmac, IP_PROTO_UDP, &uh, sizeof(uh), data, len);
}
