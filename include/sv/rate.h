/* SPDX-License-Identifier: MIT */
/* A token bucket of bytes on a clock the caller passes in: the console limits of the hypervisor and
 * xenconsoled. */
#ifndef SV_RATE_H
#define SV_RATE_H

#include <stdint.h>

#define SV_RATE_NS_PER_S 1000000000ULL

/*
 * Tokens (bytes) come at rate per second up to burst.  Pure: every call
 * takes the time (monotonic ns) from its caller, so tests drive it with a
 * clock of their own.  Not thread-safe: the caller serialises.
 */
struct sv_rate {
	uint64_t rate;	  /* bytes per second (at least 1) */
	uint64_t burst;	  /* most tokens held */
	uint64_t tokens;  /* held now (as of last_ns) */
	uint64_t last_ns; /* time the tokens were counted up to */
};

/* A full bucket at now_ns. */
static inline void sv_rate_init(struct sv_rate *r, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	r->rate = rate ? rate : 1;
	r->burst = burst;
	r->tokens = burst;
	r->last_ns = now_ns;
}

/*
 * Tokens held at now_ns.  Time only advances by what the tokens added
 * stand for, so frequent calls lose no fraction of a token.
 */
static inline uint64_t sv_rate_avail(struct sv_rate *r, uint64_t now_ns)
{
	uint64_t elapsed = now_ns > r->last_ns ? now_ns - r->last_ns : 0;
	unsigned __int128 add = (unsigned __int128)elapsed * r->rate / SV_RATE_NS_PER_S;

	if (add >= r->burst - r->tokens) {
		r->tokens = r->burst;
		r->last_ns = now_ns > r->last_ns ? now_ns : r->last_ns;
	} else {
		r->tokens += (uint64_t)add;
		r->last_ns += (uint64_t)(add * SV_RATE_NS_PER_S / r->rate);
	}
	return r->tokens;
}

/* Spends n tokens (n <= what sv_rate_avail said). */
static inline void sv_rate_take(struct sv_rate *r, uint64_t n)
{
	r->tokens = n < r->tokens ? r->tokens - n : 0;
}

/* Nanoseconds after the last count until n tokens are held (0: they are). */
static inline uint64_t sv_rate_wait_ns(const struct sv_rate *r, uint64_t n)
{
	if (n > r->burst)
		n = r->burst;
	if (r->tokens >= n)
		return 0;
	/* Rounded up: after this long the tokens are surely there. */
	return (uint64_t)(((unsigned __int128)(n - r->tokens) * SV_RATE_NS_PER_S + r->rate - 1) /
			  r->rate);
}

#endif
