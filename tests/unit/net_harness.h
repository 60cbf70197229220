/* SPDX-License-Identifier: MIT */
/* Harness for netback's data plane suites: fake hypervisor, guest rings, a fake TAP. */
#ifndef SV_TEST_NET_HARNESS_H
#define SV_TEST_NET_HARNESS_H

#include <stdint.h>
#include "../../backends/net/nb.h"

/*
 * Guest (FAKEHV_DOMID) memory: page 0 the tx ring (gref 0), page 1 the rx
 * ring (gref 1), pages 2..15 data (gref N = page N).  The queue under test
 * is connected to both rings; its TAP is one end of a SOCK_SEQPACKET pair,
 * the test holds the other (tnh_host_fd).
 */
#define TNH_PAGE(n) (tnh_guest + (size_t)(n)*4096)
#define TNH_BAD_GREF 30 /* never granted */

extern uint8_t *tnh_guest; /* the guest's 16 pages, mapped */
extern struct nb_queue *tnh_q;
extern netif_tx_front_ring_t tnh_txf; /* the frontend's view of the rings */
extern netif_rx_front_ring_t tnh_rxf;
extern int tnh_host_fd;

/* Check fixtures. */
void tnh_setup(void);
void tnh_teardown(void);

/* Mappings of grant REF (page REF) held now: the harness's queue holds refs 0 and 1 once each. */
unsigned tnh_ref_maps(uint32_t ref);

/* NOTIFY requests the fake hypervisor has seen (the queue's notifications). */
unsigned tnh_notifies(void);
/* Waits (up to 2 s) until n NOTIFY requests have arrived. */
bool tnh_wait_notifies(unsigned n);

#endif
