// SPDX-License-Identifier: MIT
// ICMP of the guest's stack: answering echo requests, sending them, passing replies to a hook.
#include <svk/lib.h>
#include "wire.h"

/* The reply hook (ping), owned by this file. */
static net_echo_reply_fn reply_fn;
static void *reply_arg;

void net_icmp_set_reply_hook(net_echo_reply_fn fn, void *arg)
{
	reply_fn = fn;
	reply_arg = arg;
}

void net_icmp_input(struct net_if *nif, uint32_t src, const uint8_t smac[ETH_ALEN], const void *msg,
		    size_t len)
{
	struct icmp_echo e;
	const uint8_t *p = msg;

	if (len < ICMP_HLEN || net_csum_fold(net_csum_add(0, p, len)) != 0) {
		nif->stats.rx_dropped++;
		return;
	}
	memcpy(&e, p, sizeof(e));
	if (e.type == ICMP_ECHO_REQUEST && e.code == 0) {
		uint32_t sum;

		nif->stats.icmp_echo_requests++;
		/* The same message back, type 0: the data is sent from where it lies. */
		e.type = ICMP_ECHO_REPLY;
		e.csum = 0;
		sum = net_csum_add(0, &e, sizeof(e));
		sum = net_csum_add(sum, p + ICMP_HLEN, len - ICMP_HLEN);
		e.csum = net_csum_fold(sum);
		(void)net_ip_send(nif, src, smac, IP_PROTO_ICMP, &e, sizeof(e), p + ICMP_HLEN,
				  len - ICMP_HLEN);
	} else if (e.type == ICMP_ECHO_REPLY && e.code == 0) {
		nif->stats.icmp_echo_replies++;
		if (reply_fn)
			reply_fn(nif, src, net_ntohs(e.id), net_ntohs(e.seq), len - ICMP_HLEN,
				 reply_arg);
	}
}

int net_icmp_echo(struct net_if *nif, uint32_t dst, const uint8_t dmac[ETH_ALEN], uint16_t id,
		  uint16_t seq, size_t len)
{
	static uint8_t data[IP_MAX_LEN - IP_HLEN - ICMP_HLEN];
	struct icmp_echo e = {
		.type = ICMP_ECHO_REQUEST,
		.id = net_htons(id),
		.seq = net_htons(seq),
	};
	uint32_t sum;

	if (len > sizeof(data))
		return -XEN_EMSGSIZE;
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i + seq);
	sum = net_csum_add(0, &e, sizeof(e));
	e.csum = net_csum_fold(net_csum_add(sum, data, len));
	return net_ip_send(nif, dst, dmac, IP_PROTO_ICMP, &e, sizeof(e), data, len);
}
