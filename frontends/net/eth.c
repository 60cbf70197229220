// SPDX-License-Identifier: MIT
// Ethernet framing of the IPv4 stack: interfaces, received frames by type, headers on sent ones.
#include <svk/lib.h>
#include "wire.h"

const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void net_if_init(struct net_if *nif, const uint8_t mac[ETH_ALEN], uint32_t ip, unsigned int mtu,
		 const struct net_if_ops *ops, void *priv)
{
	memset(nif, 0, sizeof(*nif));
	memcpy(nif->mac, mac, ETH_ALEN);
	nif->ip = ip;
	if (mtu < NET_MTU_MIN)
		mtu = NET_MTU_MIN;
	if (mtu > IP_MAX_LEN)
		mtu = IP_MAX_LEN;
	nif->mtu = mtu;
	nif->ops = ops;
	nif->priv = priv;
	nif->ip_id = 1;
}

/* Frames for us: our MAC or broadcast (no multicast groups are joined). */
static bool for_us(const struct net_if *nif, const uint8_t *dst)
{
	return !memcmp(dst, nif->mac, ETH_ALEN) || !memcmp(dst, eth_broadcast, ETH_ALEN);
}

void net_input(struct net_if *nif, const void *frame, size_t len)
{
	struct eth_hdr eh;
	const uint8_t *p = frame;

	nif->stats.rx_frames++;
	if (len < ETH_HLEN) {
		nif->stats.rx_dropped++;
		return;
	}
	memcpy(&eh, p, sizeof(eh));
	if (!for_us(nif, eh.dst)) {
		nif->stats.rx_dropped++;
		return;
	}
	switch (net_ntohs(eh.type)) {
	case ETH_P_ARP:
		net_arp_input(nif, p + ETH_HLEN, len - ETH_HLEN);
		break;
	case ETH_P_IP:
		net_ip_input(nif, eh.src, p + ETH_HLEN, len - ETH_HLEN);
		break;
	default:
		nif->stats.rx_dropped++;
	}
}

int net_eth_send(struct net_if *nif, const uint8_t dmac[ETH_ALEN], uint16_t type,
		 const struct net_iov *iov, unsigned int n)
{
	struct net_iov all[NET_IOV_MAX + 1];
	struct eth_hdr eh;
	int rc;

	if (n > NET_IOV_MAX)
		return -XEN_EINVAL;
	memcpy(eh.dst, dmac, ETH_ALEN);
	memcpy(eh.src, nif->mac, ETH_ALEN);
	eh.type = net_htons(type);
	all[0].base = &eh;
	all[0].len = ETH_HLEN;
	memcpy(&all[1], iov, n * sizeof(*iov));
	rc = nif->ops->xmit(nif, all, n + 1);
	if (rc)
		nif->stats.tx_dropped++;
	else
		nif->stats.tx_frames++;
	return rc;
}
