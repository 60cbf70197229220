/* SPDX-License-Identifier: MIT */
/* A fake grant-table and event-channel library for blkback's data plane: guest memory is a memfd. */
#ifndef TEST_BLK_FAKEXEN_H
#define TEST_BLK_FAKEXEN_H

#include <stdbool.h>
#include <stdint.h>

/*
 * It plays the hypervisor and the guest.  Guest memory is a memfd of
 * fx_pages pages; grant ref g names page fx_grants[g].page.
 * xengnttab_map_domain_grant_refs maps those pages over a reserved range,
 * as libsvxen does; xengnttab_unmap undoes it; xenevtchn_notify counts.
 * Not thread-safe (one data-plane thread).
 */
#define FX_DOMID 7
#define FX_NR_GREFS 2048

struct fx_grant {
	bool valid, readonly;
	unsigned page;
};

extern struct fx_grant fx_grants[FX_NR_GREFS];
extern uint8_t *fx_guest;	/* the guest's view of its memory */
extern int fx_live_maps;	/* pages the backend has mapped now */
extern int fx_peak_maps;	/* the most it ever had at once (fx_guest_init resets it) */
extern int fx_notifies;

/* New guest memory of pages pages; refs 0..pages-1 grant pages 0..pages-1 read-write. */
void fx_guest_init(unsigned pages);
void fx_grant(uint32_t ref, unsigned page, bool readonly);

#endif
