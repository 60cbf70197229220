// SPDX-License-Identifier: MIT
// A token bucket of bytes on a clock the caller passes in (xenconsoled's per-guest output rate).
#ifndef SV_CONS_RATE_H
#define SV_CONS_RATE_H

#include <stdint.h>

/*
 * Tokens (bytes) come at rate per second up to burst.  Pure: every call
 * takes the time (monotonic ns) from its caller, so tests drive it with a
 * clock of their own.  Not thread-safe (one daemon thread).
 */
struct cons_rate {
	uint64_t rate;	  /* bytes per second (at least 1) */
	uint64_t burst;	  /* most tokens held */
	uint64_t tokens;  /* held now (as of last_ns) */
	uint64_t last_ns; /* time the tokens were counted up to */
};

/* A full bucket at now_ns. */
void cons_rate_init(struct cons_rate *r, uint64_t rate, uint64_t burst, uint64_t now_ns);
/*
 * Tokens held at now_ns.  Time only advances by what the tokens added
 * stand for, so frequent calls lose no fraction of a token.
 */
uint64_t cons_rate_avail(struct cons_rate *r, uint64_t now_ns);
/* Spends n tokens (n <= what cons_rate_avail said). */
void cons_rate_take(struct cons_rate *r, uint64_t n);
/* Nanoseconds after the last count until n tokens are held (0: they are). */
uint64_t cons_rate_wait_ns(const struct cons_rate *r, uint64_t n);

#endif
