/* SPDX-License-Identifier: MIT */
/*
 * The in-process fake of dom0's Xen libraries (libxengnttab, libxenevtchn,
 * libxenforeignmemory): link it instead of libsvxen.a and the backend code under
 * test calls it directly, with no socket.  It is a front door of the fake
 * hypervisor (fakexen_core.h), whose grant and event channel semantics it uses.  It serves
 * blkback's data-plane suite and benchmark and xenconsoled's data-plane suite.  (To test libsvxen
 * itself, or a backend through it, use fakehv.h: the hypervisor behind the control socket.)
 */
#ifndef SV_TESTS_FAKEXEN_LIBS_H
#define SV_TESTS_FAKEXEN_LIBS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The suite plays the guest.  Guest memory is the core's memfd of
 * fx_guest_init's pages; grant ref g names page fx_grants[g].page.
 * xengnttab_map_domain_grant_refs maps those pages over a reserved range,
 * as libsvxen does, holding one of the core's grant maps per page;
 * xengnttab_unmap gives them back; xenevtchn_notify counts and notifies
 * through the core.  Not thread-safe (one data-plane thread).
 */
#define FX_DOMID 7
#define FX_NR_GREFS 2048

struct fx_grant {
	bool valid, readonly;
	unsigned page;
};

extern struct fx_grant fx_grants[FX_NR_GREFS];
extern uint8_t *fx_guest; /* the guest's view of its memory */
extern int fx_live_maps;  /* pages the backend has mapped now */
extern int fx_peak_maps;  /* the most it ever had at once (fx_guest_init resets it) */
extern int fx_notifies;	  /* xenevtchn_notify calls */

/*
 * A new guest of pages pages (the old one's ports and maps go); refs
 * 0..pages-1 grant pages 0..pages-1 read-write.
 */
void fx_guest_init(unsigned pages);
/* An event channel from the guest to dom0, as the toolstack would bind it: dom0's port. */
int fx_guest_port(void);
void fx_grant(uint32_t ref, unsigned page, bool readonly);

/*
 * Foreign maps and event-channel binds (xenconsoled): xenforeignmemory_map
 * returns fx_fmem_page whatever the domain and frame (or fails with ESRCH when
 * fx_fmem_fails); xenevtchn_bind_interdomain binds local port 40 + domid (when free);
 * xenevtchn_pending returns fx_pending_port once (then EAGAIN).  The counters
 * are the test's to reset.
 */
extern void *fx_fmem_page;
extern bool fx_fmem_fails;
extern int fx_fmem_maps, fx_fmem_unmaps, fx_binds, fx_unbinds;
extern int fx_pending_port;

#endif
