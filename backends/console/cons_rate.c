// SPDX-License-Identifier: MIT
// A token bucket of bytes on a clock the caller passes in (xenconsoled's per-guest output rate).
#include "cons_rate.h"

#define NS_PER_S 1000000000ULL

void cons_rate_init(struct cons_rate *r, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	r->rate = rate ? rate : 1;
	r->burst = burst;
	r->tokens = burst;
	r->last_ns = now_ns;
}

uint64_t cons_rate_avail(struct cons_rate *r, uint64_t now_ns)
{
	uint64_t elapsed = now_ns > r->last_ns ? now_ns - r->last_ns : 0;
	unsigned __int128 add = (unsigned __int128)elapsed * r->rate / NS_PER_S;

	if (add >= r->burst - r->tokens) {
		r->tokens = r->burst;
		r->last_ns = now_ns > r->last_ns ? now_ns : r->last_ns;
	} else {
		r->tokens += (uint64_t)add;
		r->last_ns += (uint64_t)(add * NS_PER_S / r->rate);
	}
	return r->tokens;
}

void cons_rate_take(struct cons_rate *r, uint64_t n)
{
	r->tokens = n < r->tokens ? r->tokens - n : 0;
}

uint64_t cons_rate_wait_ns(const struct cons_rate *r, uint64_t n)
{
	if (n > r->burst)
		n = r->burst;
	if (r->tokens >= n)
		return 0;
	/* Rounded up: after this long the tokens are surely there. */
	return (uint64_t)(((unsigned __int128)(n - r->tokens) * NS_PER_S + r->rate - 1) / r->rate);
}
