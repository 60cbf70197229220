// SPDX-License-Identifier: MIT
/* The credit scheduler behind a vif's rate= limit (guest->host bytes per interval). */
#include <errno.h>
#include "nb_credit.h"

void nb_credit_init(struct nb_credit *c, uint64_t bytes, uint64_t usecs, uint64_t now)
{
	c->bytes = usecs ? bytes : 0;
	c->usecs = usecs;
	c->remaining = c->bytes;
	c->window_start = now;
}

static uint64_t burst_cap(const struct nb_credit *c)
{
	return c->bytes > NB_CREDIT_MIN_BURST ? c->bytes : NB_CREDIT_MIN_BURST;
}

/* Adds the credit of every whole interval since window_start, up to the burst cap. */
static void replenish(struct nb_credit *c, uint64_t now)
{
	uint64_t k, add, cap = burst_cap(c);

	if (now < c->window_start + c->usecs)
		return;
	k = (now - c->window_start) / c->usecs;
	c->window_start += k * c->usecs;
	/* Saturate instead of wrapping: k * bytes may not fit. */
	add = k > cap / c->bytes ? cap : k * c->bytes;
	c->remaining = cap - c->remaining < add ? cap : c->remaining + add;
}

bool nb_credit_take(struct nb_credit *c, uint64_t now, uint32_t size, uint64_t *retry)
{
	if (!c->bytes)
		return true;
	replenish(c, now);
	if (size <= c->remaining) {
		c->remaining -= size;
		return true;
	}
	*retry = c->window_start + c->usecs;
	return false;
}

/* A decimal number of at most 19 digits at *s; advances *s.  false if none. */
static bool parse_u64(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int n = 0;

	while (*p >= '0' && *p <= '9' && n < 19) {
		x = x * 10 + (uint64_t)(*p++ - '0');
		n++;
	}
	if (!n || (*p >= '0' && *p <= '9'))
		return false;
	*s = p;
	*v = x;
	return true;
}

int nb_credit_parse(const char *s, uint64_t *bytes, uint64_t *usecs)
{
	uint64_t b, u;

	if (!parse_u64(&s, &b) || *s++ != ',' || !parse_u64(&s, &u) || *s || !u)
		return -EINVAL;
	*bytes = b;
	*usecs = u;
	return 0;
}
