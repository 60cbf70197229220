// SPDX-License-Identifier: MIT
// ARP for the IPv4 stack: answering who-has for our address, a small cache, requests.
#include <svk/lib.h>
#include <svk/xen.h>
#include "wire.h"

bool net_arp_lookup(struct net_if *nif, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
		if (ip && nif->arp[i].ip == ip) {
			memcpy(mac, nif->arp[i].mac, ETH_ALEN);
			return true;
		}
	}
	return false;
}

void net_arp_learn(struct net_if *nif, uint32_t ip, const uint8_t mac[ETH_ALEN])
{
	struct net_arp_entry *e = NULL;

	/* Not the unspecified or broadcast address, nor a group MAC. */
	if (!ip || ip == 0xffffffff || (mac[0] & 1))
		return;
	for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
		if (nif->arp[i].ip == ip) {
			e = &nif->arp[i];
			break;
		}
	}
	if (!e) {
		e = &nif->arp[nif->arp_next];
		nif->arp_next = (nif->arp_next + 1) % NET_ARP_ENTRIES;
	}
	e->ip = ip;
	memcpy(e->mac, mac, ETH_ALEN);
}

static int arp_send(struct net_if *nif, uint16_t op, const uint8_t dmac[ETH_ALEN],
		    const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
	struct arp_pkt a = {
		.hrd = net_htons(ARP_HRD_ETHER),
		.pro = net_htons(ETH_P_IP),
		.hln = ETH_ALEN,
		.pln = 4,
		.op = net_htons(op),
		.spa = nif->ip,
		.tpa = tpa,
	};
	/* Padded to Ethernet's 60-byte minimum, as hardware would. */
	static const uint8_t pad[18];
	struct net_iov iov[2] = { { &a, sizeof(a) }, { pad, sizeof(pad) } };

	memcpy(a.sha, nif->mac, ETH_ALEN);
	memcpy(a.tha, tha, ETH_ALEN);
	return net_eth_send(nif, dmac, ETH_P_ARP, iov, 2);
}

int net_arp_request(struct net_if *nif, uint32_t ip)
{
	static const uint8_t zero[ETH_ALEN];

	if (!nif->ip)
		return -XEN_EADDRNOTAVAIL;
	nif->stats.arp_requests++;
	return arp_send(nif, ARP_OP_REQUEST, eth_broadcast, zero, ip);
}

void net_arp_input(struct net_if *nif, const void *pkt, size_t len)
{
	struct arp_pkt a;

	if (len < sizeof(a)) {
		nif->stats.rx_dropped++;
		return;
	}
	memcpy(&a, pkt, sizeof(a));
	if (net_ntohs(a.hrd) != ARP_HRD_ETHER || net_ntohs(a.pro) != ETH_P_IP ||
	    a.hln != ETH_ALEN || a.pln != 4) {
		nif->stats.rx_dropped++;
		return;
	}
	/* Only about our address: learn the asker, answer a request. */
	if (!nif->ip || a.tpa != nif->ip)
		return;
	net_arp_learn(nif, a.spa, a.sha);
	if (net_ntohs(a.op) == ARP_OP_REQUEST) {
		nif->stats.arp_replies++;
		(void)arp_send(nif, ARP_OP_REPLY, a.sha, a.sha, a.spa);
	}
}
