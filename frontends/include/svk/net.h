// SPDX-License-Identifier: MIT
// The guest's small IPv4 stack: Ethernet, ARP, IPv4 with fragments, ICMP echo, UDP
// (frontends/net/).
#ifndef SVK_NET_H
#define SVK_NET_H

#include <svk/compiler.h>
#include <svk/xen.h>

/*
 * Addresses are kept as on the wire: an IPv4 address is a uint32_t whose
 * bytes in memory are the four octets in order (network byte order), a
 * MAC is six bytes.  Every frame handed to net_input is read-only to the
 * stack; everything it sends leaves through the interface's xmit as a
 * list of pieces (headers it built, then payload where it lies), which the
 * driver copies into its own buffers before returning.
 *
 * Single-threaded: the boot vCPU, outside the upcall.  State owned by
 * frontends/net/: each net_if's ARP cache and counters, the UDP port table,
 * the ICMP reply hook and the reassembly slots (one set for all
 * interfaces).
 */

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define IP_HLEN 20
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define IP_PROTO_ICMP 1
#define IP_PROTO_UDP 17
/* The largest IPv4 datagram, and the largest UDP payload in one. */
#define IP_MAX_LEN 65535
#define UDP_MAX_PAYLOAD (IP_MAX_LEN - IP_HLEN - UDP_HLEN)
/* Ethernet's MTU when the backend names none; the least IPv4 allows. */
#define NET_MTU_DEFAULT 1500
#define NET_MTU_MIN 68

static inline uint16_t net_htons(uint16_t v)
{
	return __builtin_bswap16(v);
}
#define net_ntohs net_htons

/* One piece of an outgoing frame. */
struct net_iov {
	const void *base;
	size_t len;
};

/* Pieces of one frame at most: Ethernet + IP + L4 header, payload. */
#define NET_IOV_MAX 4

struct net_if;

/* What the driver under an interface offers. */
struct net_if_ops {
	/*
	 * xmit: send one Ethernet frame made of @n pieces (their lengths add
	 * up to the frame, at most ETH_HLEN + mtu).  The pieces may be reused
	 * once it returns.  0, or -errno when the frame was dropped.
	 */
	int (*xmit)(struct net_if *nif, const struct net_iov *iov, unsigned int n);
};

#define NET_ARP_ENTRIES 16

struct net_arp_entry {
	uint32_t ip; /* 0: free */
	uint8_t mac[ETH_ALEN];
};

/* Counters of one interface (for net-info and tests). */
struct net_stats {
	unsigned long rx_frames, rx_dropped, tx_frames, tx_dropped;
	unsigned long arp_requests, arp_replies;
	unsigned long icmp_echo_requests, icmp_echo_replies;
	unsigned long udp_in, udp_out, udp_no_port;
	unsigned long frags_in, frags_out, reassembled;
};

/* One interface: its addresses, its driver and what the stack keeps for it. */
struct net_if {
	uint8_t mac[ETH_ALEN];
	uint32_t ip;	  /* ours; 0: none yet (only ARP replies go out) */
	unsigned int mtu; /* largest IP datagram in one frame */
	const struct net_if_ops *ops;
	void *priv;	/* the driver's */
	uint16_t ip_id; /* next IPv4 identification */
	struct net_arp_entry arp[NET_ARP_ENTRIES];
	unsigned int arp_next; /* next entry to replace */
	struct net_stats stats;
};

/* net_if_init: an interface with @mac, @ip, @mtu (clamped to 68..65535), over @ops. */
void net_if_init(struct net_if *nif, const uint8_t mac[ETH_ALEN], uint32_t ip, unsigned int mtu,
		 const struct net_if_ops *ops, void *priv);

/*
 * net_input: one Ethernet frame received on @nif.  Answers ARP requests
 * and ICMP echo requests for its address, reassembles IPv4 fragments and
 * hands UDP datagrams to the handler bound to their port.  Frames that
 * are short, malformed, for another address or fail a checksum are
 * counted in rx_dropped and otherwise ignored.
 */
void net_input(struct net_if *nif, const void *frame, size_t len);

/* ---- addresses (net/addr.c) ---- */

/* net_parse_ip: "a.b.c.d" (all of @s) into *@ip.  0 or -XEN_EINVAL. */
int net_parse_ip(const char *s, uint32_t *ip);
/* net_parse_mac: "xx:xx:xx:xx:xx:xx" into @mac.  0 or -XEN_EINVAL. */
int net_parse_mac(const char *s, uint8_t mac[ETH_ALEN]);
/* Formatting into @buf (at least 16 and 18 bytes); returns @buf. */
#define NET_IP_STR 16
#define NET_MAC_STR 18
char *net_format_ip(uint32_t ip, char *buf);
char *net_format_mac(const uint8_t mac[ETH_ALEN], char *buf);

/* ---- checksums (net/csum.c) ---- */

/*
 * net_csum_add: add @len bytes at @data to the ones'-complement sum @sum
 * (start at 0).  Only the last piece of a sum may have an odd length.
 * net_csum_fold: the 16-bit checksum (complemented) of a sum, as stored.
 */
uint32_t net_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t net_csum_fold(uint32_t sum);

/* ---- ARP (net/arp.c) ---- */

/* net_arp_lookup: the MAC of @ip from the cache into @mac; false on a miss. */
bool net_arp_lookup(struct net_if *nif, uint32_t ip, uint8_t mac[ETH_ALEN]);
/* net_arp_request: broadcast who-has @ip.  0 or the xmit -errno. */
int net_arp_request(struct net_if *nif, uint32_t ip);
/* net_arp_learn: remember @ip at @mac (replacing its entry, or the oldest). */
void net_arp_learn(struct net_if *nif, uint32_t ip, const uint8_t mac[ETH_ALEN]);

/* ---- IPv4 (net/ipv4.c) ---- */

/*
 * net_ip_send: send an IPv4 datagram of protocol @proto to @dst at @dmac:
 * the L4 header @l4 (@l4len bytes) followed by @len bytes of @payload,
 * fragmented to the interface's MTU when it does not fit one frame.
 * 0, -XEN_EMSGSIZE over IP_MAX_LEN, or the first xmit -errno.
 */
int net_ip_send(struct net_if *nif, uint32_t dst, const uint8_t dmac[ETH_ALEN], uint8_t proto,
		const void *l4, size_t l4len, const void *payload, size_t len);

/* Called by net_input for each whole datagram (after reassembly). */
void net_ip_input(struct net_if *nif, const uint8_t smac[ETH_ALEN], const void *pkt, size_t len);

/* ---- reassembly (net/ip_reasm.c) ---- */

/* Datagrams reassembled at once, and how long a partial one is kept. */
#define NET_REASM_SLOTS 4
#define NET_REASM_TIMEOUT_NS (30ULL * 1000000000ULL)

/*
 * net_reasm_add: one fragment of the datagram (@src, @dst, @id, @proto):
 * @data (@len bytes of its payload) at byte @off, @more unless it is the
 * last.  Returns the whole payload (its length in *@total) when this
 * fragment completed it, valid until the next call; else NULL.  Fragments
 * beyond IP_MAX_LEN, or contradicting the known end, drop the datagram.
 */
const uint8_t *net_reasm_add(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto, uint32_t off,
			     const void *data, size_t len, bool more, size_t *total);

/* Partial datagrams held now (for tests), and drop them all. */
unsigned int net_reasm_pending(void);
void net_reasm_reset(void);

/* ---- ICMP (net/icmp.c) ---- */

void net_icmp_input(struct net_if *nif, uint32_t src, const uint8_t smac[ETH_ALEN], const void *msg,
		    size_t len);

/*
 * net_icmp_echo: send an echo request to @dst (at @dmac) with @id, @seq
 * and @len bytes of pattern data.  0 or -errno.
 */
int net_icmp_echo(struct net_if *nif, uint32_t dst, const uint8_t dmac[ETH_ALEN], uint16_t id,
		  uint16_t seq, size_t len);

/* Echo replies go to this hook (NULL: counted only). */
typedef void (*net_echo_reply_fn)(struct net_if *nif, uint32_t src, uint16_t id, uint16_t seq,
				  size_t len, void *arg);
void net_icmp_set_reply_hook(net_echo_reply_fn fn, void *arg);

/* ---- UDP (net/udp.c) ---- */

/* A datagram for a bound port: source, ports and the payload. */
typedef void (*net_udp_fn)(struct net_if *nif, uint32_t src, const uint8_t smac[ETH_ALEN],
			   uint16_t sport, uint16_t dport, const uint8_t *data, size_t len,
			   void *arg);

#define NET_UDP_PORTS 4

/* net_udp_bind: @fn gets datagrams to @port.  0, -XEN_EBUSY, -XEN_ENOSPC. */
int net_udp_bind(uint16_t port, net_udp_fn fn, void *arg);
void net_udp_unbind(uint16_t port);

/*
 * net_udp_send: @len bytes (at most UDP_MAX_PAYLOAD) from @sport to
 * @dst:@dport at @dmac, checksummed, fragmented as needed.  0 or -errno.
 */
int net_udp_send(struct net_if *nif, uint32_t dst, const uint8_t dmac[ETH_ALEN], uint16_t sport,
		 uint16_t dport, const void *data, size_t len);

void net_udp_input(struct net_if *nif, uint32_t src, uint32_t dst, const uint8_t smac[ETH_ALEN],
		   const void *seg, size_t len);

#endif
