/* SPDX-License-Identifier: MIT */
/* The per-vif credit scheduler that enforces rate= on guest->host traffic. */
#ifndef SV_NB_CREDIT_H
#define SV_NB_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * As Linux's netback: each interval of usecs gives bytes of credit; credit
 * saved up is capped at a burst of max(bytes, 128 KiB) so that one maximal
 * packet can always pass eventually.  A packet goes when its size is
 * covered; otherwise it waits (never dropped) for the next interval.
 * Times are microseconds of a monotonic clock.  No global state.
 */
struct nb_credit {
	uint64_t bytes;	       /* credit per interval; 0 = unlimited */
	uint64_t usecs;	       /* interval length */
	uint64_t remaining;    /* credit left now */
	uint64_t window_start; /* start of the current interval */
};

#define NB_CREDIT_MIN_BURST (128u * 1024u)

/* Starts with a full interval's credit.  bytes == 0 or usecs == 0: unlimited. */
void nb_credit_init(struct nb_credit *c, uint64_t bytes, uint64_t usecs, uint64_t now);

/*
 * True when size bytes may be sent now (the credit is taken); false with
 * *retry set to when credit next arrives.
 */
bool nb_credit_take(struct nb_credit *c, uint64_t now, uint32_t size, uint64_t *retry);

/* Parses the backend's rate key "BYTES,USECS" (as libxl writes it).  0 or -EINVAL. */
int nb_credit_parse(const char *s, uint64_t *bytes, uint64_t *usecs);

#endif /* SV_NB_CREDIT_H */
