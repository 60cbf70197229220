// SPDX-License-Identifier: MIT
// netfront's command words: net-info, udp-echo, ping, udp-send, udp-sink, net-hostile.
#include <svk/driver_words.h>
#include <svk/lib.h>
#include <svk/mm.h>
#include <svk/netfront.h>
#include <svk/printk.h>
#include <svk/time.h>
#include <svk/wait.h>
#include <svk/xenbus_state.h>

#define MS 1000000ULL
#define SEC 1000000000ULL

/* Bring every vif up; false (said) when none is. */
static bool net_up(const char *who)
{
	int n = netfront_scan();

	if (n < 0) {
		printk("%s: FAIL no network (%d)\n", who, n);
		return false;
	}
	if (n == 0) {
		printk("%s: FAIL no vif\n", who);
		return false;
	}
	return true;
}

/* A stop condition of net_run, checked after each round of netfront_poll. */
typedef bool (*net_done_fn)(void *arg);

struct run_cond {
	net_done_fn done;
	void *arg;
};

static bool run_wake(void *arg)
{
	const struct run_cond *c = arg;

	return netfront_has_work() || (c->done && c->done(c->arg));
}

/*
 * net_run: serve the vifs (ARP, ping, bound UDP ports) until @done(@arg)
 * holds or @timeout_ns passes (0: no limit), sleeping in wait_until
 * between events.  Returns 0 when done, -XEN_ETIMEDOUT.
 */
static int net_run(net_done_fn done, void *arg, uint64_t timeout_ns)
{
	struct run_cond c = { done, arg };
	uint64_t end = timeout_ns ? time_now_ns() + timeout_ns : 0;

	for (;;) {
		uint64_t left = 0;

		netfront_poll();
		if (done && done(arg))
			return 0;
		if (end) {
			uint64_t now = time_now_ns();

			if (now >= end)
				return -XEN_ETIMEDOUT;
			left = end - now;
		}
		(void)wait_until(run_wake, &c, left);
	}
}

/* Parse "a.b.c.d" or say why not. */
static bool need_ip(const char *who, const char *s, uint32_t *ip)
{
	if (s && !net_parse_ip(s, ip))
		return true;
	printk("%s: bad address '%s'\n", who, s ? s : "");
	return false;
}

/* Split @arg at commas into up to @max fields (in @buf); how many. */
static unsigned int split(const char *arg, char *buf, size_t size, char **fields, unsigned int max)
{
	unsigned int n = 0;
	char *p = buf;

	if (!arg)
		return 0;
	ksnprintf(buf, size, "%s", arg);
	while (n < max) {
		fields[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

/*
 * The vif to reach @dst by: the first whose address shares @dst's first
 * three octets (a /24 guess, as there is no netmask), else the first.
 */
static struct netfront *route(uint32_t dst)
{
	for (unsigned i = 0; i < netfront_count(); i++) {
		struct netfront *nf = netfront_get(i);

		if (nf->nif.ip && !memcmp(&nf->nif.ip, &dst, 3))
			return nf;
	}
	return netfront_get(0);
}

/* ---- ARP resolution, for what the guest starts itself ---- */

struct arp_wait {
	struct net_if *nif;
	uint32_t ip;
	uint8_t mac[ETH_ALEN];
};

static bool arp_known(void *arg)
{
	struct arp_wait *w = arg;

	return net_arp_lookup(w->nif, w->ip, w->mac);
}

/* The MAC of @ip on @nif: three requests, a second each. */
static int resolve(struct net_if *nif, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	struct arp_wait w = { .nif = nif, .ip = ip };

	for (int i = 0; i < 3; i++) {
		if (net_arp_lookup(nif, ip, mac))
			return 0;
		(void)net_arp_request(nif, ip);
		if (!net_run(arp_known, &w, SEC)) {
			memcpy(mac, w.mac, ETH_ALEN);
			return 0;
		}
	}
	return -XEN_ETIMEDOUT;
}

/* One line of @nf's ring counters (events: upcalls on its port; notifies: ours to netback). */
static void counters(const char *who, const struct netfront *nf)
{
	printk("%s: vif%u rx packets=%lu bytes=%lu errors=%lu tx packets=%lu bytes=%lu errors=%lu "
	       "full=%lu events=%lu notifies=%lu\n",
	       who, nf->devid, nf->rx_packets, nf->rx_bytes, nf->rx_errors, nf->tx_packets,
	       nf->tx_bytes, nf->tx_errors, nf->tx_full, nf->events, nf->notifies);
}

/* ---- net-info ---- */

static void cmd_net_info(const start_info_t *si, const char *arg)
{
	char mac[NET_MAC_STR], ip[NET_IP_STR];
	unsigned int n;

	if (!net_up("net-info"))
		return;
	n = netfront_count();
	for (unsigned i = 0; i < n; i++) {
		struct netfront *nf = netfront_get(i);

		printk("net-info: vif%u mac=%s ip=%s mtu=%u backend=%s features: rx-copy=1 "
		       "rx-notify=1 sg=%d(backend %d) csum-offload=0 split-event-channels=%d "
		       "rx-bufs=%d tx-bufs=%d\n",
		       nf->devid, net_format_mac(nf->nif.mac, mac), net_format_ip(nf->nif.ip, ip),
		       nf->nif.mtu, nf->be, 1, nf->be_sg, nf->rx_port != 0, NETFRONT_RX_BUFS,
		       NETFRONT_TX_BUFS);
		counters("net-info", nf);
	}
	printk("net-info: %u vif%s, %lu free pages\n", n, n == 1 ? "" : "s", mm_free_pages());
}

/* ---- udp-echo=PORT ---- */

struct echo_state {
	uint16_t port;
	unsigned long echoed;
	bool quit;
};

static void echo_rx(struct net_if *nif, uint32_t src, const uint8_t smac[ETH_ALEN], uint16_t sport,
		    uint16_t dport, const uint8_t *data, size_t len, void *arg)
{
	struct echo_state *e = arg;

	if ((len == 4 || (len == 5 && data[4] == '\n')) && !memcmp(data, "quit", 4)) {
		e->quit = true;
		return;
	}
	if (!net_udp_send(nif, src, smac, dport, sport, data, len))
		e->echoed++;
}

static bool echo_quit(void *arg)
{
	return ((struct echo_state *)arg)->quit;
}

static void cmd_udp_echo(const start_info_t *si, const char *arg)
{
	static struct echo_state e;
	uint64_t port;
	int rc;

	if (!arg || parse_u64(arg, &port) || port == 0 || port > 0xffff) {
		printk("udp-echo: needs a port (udp-echo=PORT)\n");
		return;
	}
	if (!net_up("udp-echo"))
		return;
	memset(&e, 0, sizeof(e));
	e.port = (uint16_t)port;
	rc = net_udp_bind(e.port, echo_rx, &e);
	if (rc) {
		printk("udp-echo: FAIL binding port %u: %d\n", e.port, rc);
		return;
	}
	printk("udp-echo: echoing UDP port %u on %u vif(s) until 'quit'\n", e.port,
	       netfront_count());
	(void)net_run(echo_quit, &e, 0);
	net_udp_unbind(e.port);
	printk("udp-echo: quit after %lu datagrams\n", e.echoed);
}

/* ---- ping=ADDR[,COUNT[,SIZE]] ---- */

struct ping_state {
	uint32_t dst;
	uint16_t id, seq;
	size_t len;
	bool got;
};

static void ping_reply(struct net_if *nif, uint32_t src, uint16_t id, uint16_t seq, size_t len,
		       void *arg)
{
	struct ping_state *p = arg;

	if (src == p->dst && id == p->id && seq == p->seq && len == p->len)
		p->got = true;
}

static bool ping_got(void *arg)
{
	return ((struct ping_state *)arg)->got;
}

static void cmd_ping(const start_info_t *si, const char *arg)
{
	static struct ping_state p;
	char buf[64], *f[3], ipbuf[NET_IP_STR];
	uint8_t mac[ETH_ALEN];
	uint64_t count = 3, size = 56;
	unsigned int nf_fields = split(arg, buf, sizeof(buf), f, 3), received = 0;
	struct netfront *nf;
	int rc;

	if (!nf_fields || !need_ip("ping", f[0], &p.dst))
		return;
	if ((nf_fields > 1 && (parse_u64(f[1], &count) || !count)) ||
	    (nf_fields > 2 && parse_u64(f[2], &size)) || size > IP_MAX_LEN - IP_HLEN - ICMP_HLEN) {
		printk("ping: usage ping=ADDR[,COUNT[,SIZE]]\n");
		return;
	}
	if (!net_up("ping"))
		return;
	nf = route(p.dst);
	net_format_ip(p.dst, ipbuf);
	rc = resolve(&nf->nif, p.dst, mac);
	if (rc) {
		printk("ping: %s: no ARP reply (%d)\n", ipbuf, rc);
		return;
	}
	p.id = (uint16_t)(0x5300 | nf->devid);
	p.len = (size_t)size;
	net_icmp_set_reply_hook(ping_reply, &p);
	for (uint64_t i = 1; i <= count; i++) {
		uint64_t t0 = time_now_ns();

		p.seq = (uint16_t)i;
		p.got = false;
		rc = net_icmp_echo(&nf->nif, p.dst, mac, p.id, p.seq, p.len);
		if (rc) {
			printk("ping: sending to %s: %d\n", ipbuf, rc);
			continue;
		}
		if (net_run(ping_got, &p, SEC)) {
			printk("ping: no reply from %s seq=%u\n", ipbuf, p.seq);
			continue;
		}
		received++;
		printk("ping: reply from %s seq=%u bytes=%zu time_us=%llu\n", ipbuf, p.seq, p.len,
		       (unsigned long long)((time_now_ns() - t0) / 1000));
	}
	net_icmp_set_reply_hook(NULL, NULL);
	printk("ping: %s: %llu sent, %u received\n", ipbuf, (unsigned long long)count, received);
}

/* ---- benchmarks: udp-send=ADDR,PORT,SIZE,SECONDS and udp-sink=PORT,SECONDS ---- */

static void report(const char *who, unsigned long pkts, uint64_t bytes, uint64_t ns)
{
	if (!ns)
		ns = 1;
	printk("%s: packets=%lu bytes=%llu ns=%llu pps=%llu mbs=%llu.%02llu\n", who, pkts,
	       (unsigned long long)bytes, (unsigned long long)ns,
	       (unsigned long long)(pkts * SEC / ns), (unsigned long long)(bytes * 1000 / ns),
	       (unsigned long long)(bytes * 100000 / ns % 100));
}

static void cmd_udp_send(const start_info_t *si, const char *arg)
{
	static uint8_t payload[UDP_MAX_PAYLOAD];
	char buf[64], *f[4];
	uint64_t port, size, secs, t0, end, now, bytes = 0;
	unsigned long pkts = 0, errs = 0;
	uint8_t mac[ETH_ALEN];
	struct netfront *nf;
	uint32_t dst;
	int rc;

	if (split(arg, buf, sizeof(buf), f, 4) != 4 || !need_ip("udp-send", f[0], &dst) ||
	    parse_u64(f[1], &port) || !port || port > 0xffff || parse_u64(f[2], &size) ||
	    size > UDP_MAX_PAYLOAD || parse_u64(f[3], &secs) || !secs) {
		printk("udp-send: usage udp-send=ADDR,PORT,SIZE,SECONDS\n");
		return;
	}
	if (!time_available()) {
		printk("udp-send: FAIL no time source\n");
		return;
	}
	if (!net_up("udp-send"))
		return;
	nf = route(dst);
	rc = resolve(&nf->nif, dst, mac);
	if (rc) {
		printk("udp-send: FAIL no ARP reply (%d)\n", rc);
		return;
	}
	for (size_t i = 0; i < size; i++)
		payload[i] = (uint8_t)i;
	/* Requests are pushed in batches: one notification for many. */
	nf->tx_defer = 1;
	t0 = time_now_ns();
	end = t0 + secs * SEC;
	do {
		for (int i = 0; i < 32; i++) {
			if (net_udp_send(&nf->nif, dst, mac, 9, (uint16_t)port, payload,
					 (size_t)size))
				errs++;
			else {
				pkts++;
				bytes += size;
			}
		}
		netfront_tx_push(nf);
		netfront_poll();
		now = time_now_ns();
	} while (now < end && nf->state == NETFRONT_UP);
	nf->tx_defer = 0;
	netfront_tx_push(nf);
	report("udp-send", pkts, bytes, now - t0);
	counters("udp-send", nf);
	if (errs)
		printk("udp-send: %lu not sent\n", errs);
}

struct sink_state {
	unsigned long pkts;
	uint64_t bytes, first, last;
};

static void sink_rx(struct net_if *nif, uint32_t src, const uint8_t smac[ETH_ALEN], uint16_t sport,
		    uint16_t dport, const uint8_t *data, size_t len, void *arg)
{
	struct sink_state *s = arg;

	s->last = time_now_ns();
	if (!s->pkts++)
		s->first = s->last;
	s->bytes += len;
}

static bool sink_started(void *arg)
{
	return ((struct sink_state *)arg)->pkts != 0;
}

static void cmd_udp_sink(const start_info_t *si, const char *arg)
{
	static struct sink_state s;
	char buf[64], *f[2];
	uint64_t port, secs;
	int rc;

	if (split(arg, buf, sizeof(buf), f, 2) != 2 || parse_u64(f[0], &port) || !port ||
	    port > 0xffff || parse_u64(f[1], &secs) || !secs) {
		printk("udp-sink: usage udp-sink=PORT,SECONDS\n");
		return;
	}
	if (!time_available()) {
		printk("udp-sink: FAIL no time source\n");
		return;
	}
	if (!net_up("udp-sink"))
		return;
	memset(&s, 0, sizeof(s));
	rc = net_udp_bind((uint16_t)port, sink_rx, &s);
	if (rc) {
		printk("udp-sink: FAIL binding port %llu: %d\n", (unsigned long long)port, rc);
		return;
	}
	printk("udp-sink: counting datagrams to port %llu for %llu s from the first\n",
	       (unsigned long long)port, (unsigned long long)secs);
	if (net_run(sink_started, &s, 60 * SEC))
		printk("udp-sink: FAIL nothing arrived in 60 s\n");
	else
		(void)net_run(NULL, NULL, secs * SEC);
	net_udp_unbind((uint16_t)port);
	report("udp-sink", s.pkts, s.bytes, s.last - s.first);
	for (unsigned i = 0; i < netfront_count(); i++)
		counters("udp-sink", netfront_get(i));
}

/* ---- net-hostile ---- */

static void cmd_net_hostile(const start_info_t *si, const char *arg)
{
	struct netfront *nf;
	int st;

	if (!net_up("net-hostile"))
		return;
	nf = netfront_get(0);
	printk("net-hostile: vif%u: corrupting our tx ring\n", nf->devid);
	netfront_hostile(nf);
	st = xenbus_wait_state(nf->be, XenbusStateClosing, NETFRONT_TIMEOUT_NS);
	if (st != XenbusStateClosing) {
		printk("net-hostile: FAIL backend state %d, not Closing\n", st);
		return;
	}
	printk("net-hostile: backend disabled the vif (state %d)\n", st);
	netfront_close(nf);
	st = netfront_reconnect(nf);
	if (st)
		printk("net-hostile: FAIL reconnecting: %d\n", st);
	else
		printk("net-hostile: reconnected\n");
}

const struct driver_word net_words[] = {
	{ .name = "net-info", .run = cmd_net_info },
	{ .name = "udp-echo", .run = cmd_udp_echo },
	{ .name = "ping", .run = cmd_ping },
	{ .name = "udp-send", .run = cmd_udp_send },
	{ .name = "udp-sink", .run = cmd_udp_sink },
	{ .name = "net-hostile", .run = cmd_net_hostile },
};
const unsigned net_nwords = ARRAY_SIZE(net_words);
