// SPDX-License-Identifier: MIT
/* Harness for netback's data plane suites: fake hypervisor, guest rings, a socket as TAP. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../fakes/fakehv.h"
#include "net_harness.h"

uint8_t *tnh_guest;
struct nb_queue *tnh_q;
netif_tx_front_ring_t tnh_txf;
netif_rx_front_ring_t tnh_rxf;
int tnh_host_fd = -1;

static char rundir[64];
static struct fakehv *hv;

unsigned tnh_ref_maps(uint32_t ref)
{
	return fakehv_ref_maps(hv, ref);
}

unsigned tnh_notifies(void)
{
	return fakehv_noreply_count(hv);
}

bool tnh_wait_notifies(unsigned n)
{
	return fakehv_wait_noreply(hv, n, 2000);
}

void tnh_setup(void)
{
	struct nb_queue *q;
	int sv[2];
	xenevtchn_port_or_error_t p;

	strcpy(rundir, "/tmp/sv-nettest-XXXXXX");
	hv = fakehv_start_private(rundir);
	ck_assert_ptr_nonnull(hv);
	tnh_guest = mmap(NULL, FAKEHV_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fakehv_memfd(hv), 0);
	ck_assert(tnh_guest != MAP_FAILED);
	memset(tnh_guest, 0, FAKEHV_PAGES * 4096);
	for (uint32_t r = 0; r < FAKEHV_PAGES; r++)
		fakehv_grant(hv, r, r, false);
	SHARED_RING_INIT((netif_tx_sring_t *)TNH_PAGE(0));
	FRONT_RING_INIT(&tnh_txf, (netif_tx_sring_t *)TNH_PAGE(0), 4096);
	SHARED_RING_INIT((netif_rx_sring_t *)TNH_PAGE(1));
	FRONT_RING_INIT(&tnh_rxf, (netif_rx_sring_t *)TNH_PAGE(1), 4096);

	q = tnh_q = calloc(1, sizeof(*q));
	ck_assert_ptr_nonnull(q);
	q->domid = FAKEHV_DOMID;
	q->name = "test";
	q->gt = xengnttab_open(NULL, 0);
	q->xce = xenevtchn_open(NULL, 0);
	ck_assert_ptr_nonnull(q->gt);
	ck_assert_ptr_nonnull(q->xce);
	q->tx_sring = xengnttab_map_grant_ref(q->gt, FAKEHV_DOMID, 0, PROT_READ | PROT_WRITE);
	q->rx_sring = xengnttab_map_grant_ref(q->gt, FAKEHV_DOMID, 1, PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(q->tx_sring);
	ck_assert_ptr_nonnull(q->rx_sring);
	BACK_RING_INIT(&q->tx, (netif_tx_sring_t *)q->tx_sring, 4096);
	BACK_RING_INIT(&q->rx, (netif_rx_sring_t *)q->rx_sring, 4096);
	p = xenevtchn_bind_interdomain(q->xce, FAKEHV_DOMID, 3);
	ck_assert_int_gt(p, 0);
	q->tx_port = q->rx_port = (evtchn_port_t)p;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	/* Room for a batch of 64 KiB packets in the fake TAP. */
	int sz = 8 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	q->tap_fd = sv[0];
	tnh_host_fd = sv[1];
	ck_assert_int_eq(nb_queue_buffers_alloc(q), 0);
	q->feat = (struct nb_features){
		.sg = true, .gso_tcpv4 = true, .gso_tcpv6 = true, .csum = true, .ipv6_csum = true
	};
	nb_credit_init(&q->credit, 0, 0, 0);
	q->connected = true;
}

void tnh_teardown(void)
{
	struct nb_queue *q = tnh_q;

	if (q) {
		nb_queue_buffers_free(q);
		xengnttab_unmap(q->gt, q->tx_sring, 1);
		xengnttab_unmap(q->gt, q->rx_sring, 1);
		xengnttab_close(q->gt);
		xenevtchn_close(q->xce);
		close(q->tap_fd);
		free(q);
		tnh_q = NULL;
	}
	if (tnh_host_fd >= 0)
		close(tnh_host_fd);
	tnh_host_fd = -1;
	if (tnh_guest)
		munmap(tnh_guest, FAKEHV_PAGES * 4096);
	tnh_guest = NULL;
	fakehv_stop_private(hv, rundir);
	hv = NULL;
}
