// SPDX-License-Identifier: MIT
// IPv4 of the guest's stack: checking received datagrams, sending with fragmentation to the MTU.
#include <svk/lib.h>
#include <svk/xen.h>
#include "wire.h"

static void deliver(struct net_if *nif, const struct ip_hdr *ih, const uint8_t smac[ETH_ALEN],
		    const void *data, size_t len)
{
	switch (ih->proto) {
	case IP_PROTO_ICMP:
		net_icmp_input(nif, ih->src, smac, data, len);
		break;
	case IP_PROTO_UDP:
		net_udp_input(nif, ih->src, ih->dst, smac, data, len);
		break;
	default:
		nif->stats.rx_dropped++;
	}
}

void net_ip_input(struct net_if *nif, const uint8_t smac[ETH_ALEN], const void *pkt, size_t len)
{
	const uint8_t *p = pkt;
	struct ip_hdr ih;
	size_t hlen, tot;
	uint16_t frag;
	uint32_t off;

	if (len < IP_HLEN)
		goto drop;
	memcpy(&ih, p, sizeof(ih));
	hlen = (size_t)(ih.ver_ihl & 0xf) * 4;
	tot = net_ntohs(ih.tot_len);
	/* The frame may carry padding after the datagram, never less. */
	if ((ih.ver_ihl >> 4) != 4 || hlen < IP_HLEN || tot < hlen || tot > len)
		goto drop;
	if (net_csum_fold(net_csum_add(0, p, hlen)) != 0)
		goto drop;
	if (!nif->ip || (ih.dst != nif->ip && ih.dst != 0xffffffff))
		goto drop;
	/* Replies go back where requests came from, without asking. */
	net_arp_learn(nif, ih.src, smac);
	frag = net_ntohs(ih.frag);
	off = (uint32_t)(frag & IP_FRAG_MASK) * 8;
	if (off || (frag & IP_FLAG_MF)) {
		const uint8_t *whole;
		size_t total;

		nif->stats.frags_in++;
		whole = net_reasm_add(ih.src, ih.dst, ih.id, ih.proto, off, p + hlen, tot - hlen,
				      (frag & IP_FLAG_MF) != 0, &total);
		if (!whole)
			return;
		nif->stats.reassembled++;
		deliver(nif, &ih, smac, whole, total);
		return;
	}
	deliver(nif, &ih, smac, p + hlen, tot - hlen);
	return;
drop:
	nif->stats.rx_dropped++;
}

/*
 * The pieces covering bytes [off, off + len) of the L4 data, which is
 * @l4 (@l4len bytes) then @payload.  At most two.
 */
static unsigned int slice(struct net_iov *iov, const uint8_t *l4, size_t l4len,
			  const uint8_t *payload, size_t off, size_t len)
{
	unsigned int n = 0;

	if (off < l4len) {
		size_t k = l4len - off < len ? l4len - off : len;

		iov[n].base = l4 + off;
		iov[n++].len = k;
		off += k;
		len -= k;
	}
	if (len) {
		iov[n].base = payload + (off - l4len);
		iov[n++].len = len;
	}
	return n;
}

int net_ip_send(struct net_if *nif, uint32_t dst, const uint8_t dmac[ETH_ALEN], uint8_t proto,
		const void *l4, size_t l4len, const void *payload, size_t len)
{
	size_t total = l4len + len, maxdata, off, chunk;
	struct net_iov iov[3];
	struct ip_hdr ih;
	unsigned int n;
	int rc;

	if (total > IP_MAX_LEN - IP_HLEN)
		return -XEN_EMSGSIZE;
	if (!nif->ip)
		return -XEN_EADDRNOTAVAIL;
	ih.ver_ihl = 4 << 4 | IP_HLEN / 4;
	ih.tos = 0;
	ih.id = net_htons(nif->ip_id++);
	ih.ttl = IP_TTL_DEFAULT;
	ih.proto = proto;
	ih.src = nif->ip;
	ih.dst = dst;
	/* Every fragment but the last carries a multiple of 8 bytes. */
	maxdata = IP_HLEN + total <= nif->mtu ? total : ((nif->mtu - IP_HLEN) & ~7UL);
	for (off = 0; off < total || off == 0; off += chunk) {
		bool last;

		chunk = total - off < maxdata ? total - off : maxdata;
		last = off + chunk == total;
		ih.tot_len = net_htons((uint16_t)(IP_HLEN + chunk));
		ih.frag = net_htons((uint16_t)((off / 8) | (last ? 0 : IP_FLAG_MF)));
		ih.csum = 0;
		ih.csum = net_csum_fold(net_csum_add(0, &ih, IP_HLEN));
		iov[0].base = &ih;
		iov[0].len = IP_HLEN;
		n = 1 + slice(&iov[1], l4, l4len, payload, off, chunk);
		rc = net_eth_send(nif, dmac, ETH_P_IP, iov, n);
		if (rc)
			return rc;
		if (maxdata < total)
			nif->stats.frags_out++;
		if (total == 0)
			break;
	}
	return 0;
}
