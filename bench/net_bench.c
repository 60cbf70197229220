// SPDX-License-Identifier: MIT
/* net_bench: UDP rates over a veth pair, or through netback's data plane with a fake guest. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "fakehv.h"
#include "nb.h"
#include "nb_csum.h"
#include "nb_tap.h"

/*
 *   net_bench send IP PORT SIZE SECONDS     blast UDP datagrams of SIZE bytes
 *   net_bench recv PORT SECONDS             count them; prints pps= mbps=
 *   net_bench netback tx|rx SIZE SECONDS    netback's data plane between a
 *       fake guest (the unit tests' fake hypervisor) and a real TAP in a
 *       private network namespace: tx = guest->host, rx = host->guest.
 * Results: one line "pps=N mbs=M" (packets and megabytes of payload a second).
 */

#define PORT 7777
static volatile int stop_flag;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(unsigned long long pkts, size_t size, double secs)
{
	printf("pps=%.0f mbs=%.2f\n", (double)pkts / secs,
	       (double)pkts * (double)size / secs / 1e6);
}

static int udp_sock(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), big = 8 << 20;

	if (s < 0) {
		perror("net_bench: socket");
		exit(1);
	}
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	return s;
}

static int cmd_send(const char *ip, int port, size_t size, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	static uint8_t buf[65536];
	int s = udp_sock();
	double end = now_s() + secs;

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1 || size > sizeof(buf))
		return 2;
	while (now_s() < end)
		for (int i = 0; i < 256; i++)
			if (sendto(s, buf, size, 0, (struct sockaddr *)&a, sizeof(a)) < 0 &&
			    errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED)
				return perror("net_bench: sendto"), 1;
	close(s);
	return 0;
}

/* Counts datagrams for secs from the first one; the size is what arrived. */
static int cmd_recv(int port, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 5, 0 };
	static uint8_t buf[65536];
	unsigned long long n = 0;
	ssize_t size = 0, got;
	int s = udp_sock();
	double t0, end;

	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return perror("net_bench: bind"), 1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	size = recv(s, buf, sizeof(buf), 0);
	if (size < 0)
		return fprintf(stderr, "net_bench: nothing arrived\n"), 1;
	t0 = now_s();
	end = t0 + secs;
	tv.tv_sec = 0;
	tv.tv_usec = 200000;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (now_s() < end) {
		got = recv(s, buf, sizeof(buf), 0);
		if (got > 0)
			n++;
	}
	report(n, (size_t)size, now_s() - t0);
	return 0;
}

/* The fake guest: its memory, rings and a queue wired as netback's control plane would. */
static struct fakehv *hv;
static uint8_t *guest;
static struct nb_queue q;
static netif_tx_front_ring_t txf;
static netif_rx_front_ring_t rxf;
static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };
static uint8_t host_mac[6];

#define PAGE(n) (guest + (size_t)(n)*4096)

static void die(const char *what)
{
	fprintf(stderr, "net_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void ifaddr(struct ifreq *ifr, const char *ip)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr->ifr_addr;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

/* TAP svtnbb0 192.0.2.1/24 in a fresh namespace; the guest 192.0.2.2 in the neighbour table. */
static void setup_tap(void)
{
	struct ifreq ifr = { 0 };
	struct arpreq arp = { 0 };
	int s;

	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET)");
	q.tap_fd = nb_tap_open("svtnbb0");
	if (q.tap_fd < 0) {
		errno = -q.tap_fd;
		die("TAP");
	}
	if (nb_tap_set_offload(q.tap_fd, &q.feat))
		die("TUNSETOFFLOAD");
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strcpy(ifr.ifr_name, "svtnbb0");
	ifaddr(&ifr, "192.0.2.1");
	if (ioctl(s, SIOCSIFADDR, &ifr))
		die("SIOCSIFADDR");
	ifaddr(&ifr, "255.255.255.0");
	if (ioctl(s, SIOCSIFNETMASK, &ifr) || ioctl(s, SIOCGIFFLAGS, &ifr))
		die("SIOCSIFNETMASK");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) || ioctl(s, SIOCGIFHWADDR, &ifr))
		die("SIOCSIFFLAGS");
	memcpy(host_mac, ifr.ifr_hwaddr.sa_data, 6);
	((struct sockaddr_in *)&arp.arp_pa)->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.2", &((struct sockaddr_in *)&arp.arp_pa)->sin_addr);
	arp.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(arp.arp_ha.sa_data, guest_mac, 6);
	arp.arp_flags = ATF_COM | ATF_PERM;
	strcpy(arp.arp_dev, "svtnbb0");
	if (ioctl(s, SIOCSARP, &arp))
		die("SIOCSARP");
	close(s);
}

static char rundir[] = "/tmp/sv-netbench-XXXXXX";

static void setup_guest(void)
{
	char *dir = rundir;
	xenevtchn_port_or_error_t p;

	if (!mkdtemp(dir))
		die("mkdtemp");
	setenv("SPLITVISOR_RUNDIR", dir, 1);
	hv = fakehv_start(dir);
	if (!hv)
		die("fake hypervisor");
	guest = mmap(NULL, FAKEHV_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		     fakehv_memfd(hv), 0);
	if (guest == MAP_FAILED)
		die("mmap");
	for (uint32_t r = 0; r < FAKEHV_PAGES; r++)
		fakehv_grant(hv, r, r, false);
	SHARED_RING_INIT((netif_tx_sring_t *)PAGE(0));
	FRONT_RING_INIT(&txf, (netif_tx_sring_t *)PAGE(0), 4096);
	SHARED_RING_INIT((netif_rx_sring_t *)PAGE(1));
	FRONT_RING_INIT(&rxf, (netif_rx_sring_t *)PAGE(1), 4096);
	q.domid = FAKEHV_DOMID;
	q.name = "bench";
	q.gt = xengnttab_open(NULL, 0);
	q.xce = xenevtchn_open(NULL, 0);
	if (!q.gt || !q.xce)
		die("xengnttab/xenevtchn");
	q.tx_sring = xengnttab_map_grant_ref(q.gt, FAKEHV_DOMID, 0, PROT_READ | PROT_WRITE);
	q.rx_sring = xengnttab_map_grant_ref(q.gt, FAKEHV_DOMID, 1, PROT_READ | PROT_WRITE);
	if (!q.tx_sring || !q.rx_sring)
		die("ring map");
	BACK_RING_INIT(&q.tx, (netif_tx_sring_t *)q.tx_sring, 4096);
	BACK_RING_INIT(&q.rx, (netif_rx_sring_t *)q.rx_sring, 4096);
	p = xenevtchn_bind_interdomain(q.xce, FAKEHV_DOMID, 3);
	if (p < 0)
		die("bind");
	q.tx_port = q.rx_port = (evtchn_port_t)p;
	if (nb_queue_buffers_alloc(&q))
		die("buffers");
	q.feat = (struct nb_features){ .sg = true, .csum = true, .ipv6_csum = true };
	nb_credit_init(&q.credit, 0, 0, 0);
	q.connected = true;
}

/* One UDP datagram of size payload bytes to 192.0.2.1:PORT, as a frame in page 2. */
static size_t guest_frame(size_t size)
{
	uint8_t *f = PAGE(2);
	size_t len = 42 + size;
	uint32_t s;

	memset(f, 0, len);
	memcpy(f, host_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)((len - 14) >> 8);
	f[17] = (uint8_t)(len - 14);
	f[22] = 64;
	f[23] = IPPROTO_UDP;
	inet_pton(AF_INET, "192.0.2.2", f + 26);
	inet_pton(AF_INET, "192.0.2.1", f + 30);
	s = nb_csum_add(0, f + 14, 20);
	f[24] = (uint8_t)(~nb_csum_fold(s) >> 8);
	f[25] = (uint8_t)~nb_csum_fold(s);
	f[34] = PORT >> 8;
	f[35] = PORT & 0xff;
	f[36] = PORT >> 8;
	f[37] = PORT & 0xff;
	f[38] = (uint8_t)((size + 8) >> 8);
	f[39] = (uint8_t)(size + 8);
	return len;
}

static unsigned long long host_count;

static void *host_reader(void *arg)
{
	int s = *(int *)arg;
	static uint8_t buf[65536];

	while (!stop_flag)
		if (recv(s, buf, sizeof(buf), 0) > 0)
			__atomic_add_fetch(&host_count, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Guest->host: the fake guest keeps the tx ring full of one datagram; the host counts. */
static int bench_tx(size_t size, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct timeval tv = { 0, 100000 };
	size_t len = guest_frame(size);
	int s = udp_sock();
	pthread_t th;
	double t0, end;

	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)))
		die("bind");
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (pthread_create(&th, NULL, host_reader, &s))
		die("pthread_create");
	t0 = now_s();
	end = t0 + secs;
	while (now_s() < end) {
		int notify;

		/* Refill every free slot (responses consumed at once), then let netback run. */
		txf.rsp_cons = txf.sring->rsp_prod;
		while (txf.req_prod_pvt - txf.rsp_cons < NB_TX_RING_SIZE) {
			netif_tx_request_t *r = RING_GET_REQUEST(&txf, txf.req_prod_pvt);

			r->gref = 2;
			r->offset = 0;
			r->size = (uint16_t)len;
			r->flags = 0;
			r->id = (uint16_t)(txf.req_prod_pvt & 0xffff);
			txf.req_prod_pvt++;
		}
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&txf, notify);
		(void)notify;
		if (nb_tx_run(&q, 0))
			die(q.err);
	}
	t0 = now_s() - t0;
	usleep(200000);
	stop_flag = 1;
	pthread_join(th, NULL);
	report(host_count, size, t0);
	return 0;
}

static void *host_writer(void *arg)
{
	size_t size = *(size_t *)arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	static uint8_t buf[65536];
	int s = udp_sock();

	inet_pton(AF_INET, "192.0.2.2", &a.sin_addr);
	while (!stop_flag)
		sendto(s, buf, size, 0, (struct sockaddr *)&a, sizeof(a));
	close(s);
	return NULL;
}

/* Host->guest: the host blasts datagrams at the guest; the fake guest counts what lands. */
static int bench_rx(size_t size, double secs)
{
	unsigned long long n = 0;
	pthread_t th;
	double t0, end;

	if (pthread_create(&th, NULL, host_writer, &size))
		die("pthread_create");
	t0 = now_s();
	end = t0 + secs;
	while (now_s() < end) {
		int notify;

		while (rxf.rsp_cons != rxf.sring->rsp_prod) {
			netif_rx_response_t *r = RING_GET_RESPONSE(&rxf, rxf.rsp_cons);

			if (r->status == (int16_t)(size + 42))
				n++;
			rxf.rsp_cons++;
		}
		while (rxf.req_prod_pvt - rxf.rsp_cons < NB_RX_RING_SIZE) {
			netif_rx_request_t *r = RING_GET_REQUEST(&rxf, rxf.req_prod_pvt);

			r->id = (uint16_t)rxf.req_prod_pvt;
			r->gref = 2 + rxf.req_prod_pvt % 14;
			rxf.req_prod_pvt++;
		}
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&rxf, notify);
		(void)notify;
		if (nb_rx_run(&q))
			die(q.err);
	}
	t0 = now_s() - t0;
	stop_flag = 1;
	pthread_join(th, NULL);
	report(n, size, t0);
	return 0;
}

static int cmd_netback(const char *dir, size_t size, double secs)
{
	char path[128];
	int ret;

	setup_guest();
	setup_tap();
	ret = !strcmp(dir, "tx") ? bench_tx(size, secs) : bench_rx(size, secs);
	fakehv_stop(hv);
	snprintf(path, sizeof(path), "%s/hypervisor.sock", rundir);
	unlink(path);
	rmdir(rundir);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "send"))
		return cmd_send(argv[2], atoi(argv[3]), (size_t)atol(argv[4]), atof(argv[5]));
	if (argc == 4 && !strcmp(argv[1], "recv"))
		return cmd_recv(atoi(argv[2]), atof(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "netback") &&
	    (!strcmp(argv[2], "tx") || !strcmp(argv[2], "rx")) && atol(argv[3]) > 0 &&
	    atol(argv[3]) <= 1472)
		return cmd_netback(argv[2], (size_t)atol(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: net_bench send IP PORT SIZE SECONDS | recv PORT SECONDS |"
			" netback tx|rx SIZE(1..1472) SECONDS\n");
	return 2;
}
