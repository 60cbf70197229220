// SPDX-License-Identifier: MIT
// The hostile-guest words (hostile_rings.c) and the honest guest's word (honest.c).
#ifndef SVK_HOSTILE_RINGS_H
#define SVK_HOSTILE_RINGS_H

#include <svk/driver_words.h>

/*
 * hostile-blk=WAY[,N], hostile-net=WAY[,N], hostile-evtchn[=SECONDS],
 * hostile-console=io|ring[,SECONDS], hostile-xs=WAY[,SECONDS] and
 * honest=SECONDS (docs/guest-kernel.md).  commands.c looks words up here.
 */
extern const struct driver_word hostile_ring_words[];
extern const unsigned hostile_ring_nwords;

/*
 * honest=SECONDS: for SECONDS, round after round, write a 4 KiB block of
 * xvda and read it back, read "domid" from xenstore, and serve the vifs
 * (ARP, ping) for 100 ms; a line a second says how far it got.
 */
void honest_word(const start_info_t *si, const char *arg);

#endif
