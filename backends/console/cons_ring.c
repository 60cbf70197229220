// SPDX-License-Identifier: MIT
// The backend's half of a guest's console ring (struct xencons_interface).
#include <errno.h>
#include <string.h>

#include "cons_ring.h"

/*
 * Hosted barriers, expressed as C11 fences on the shared indices:
 * an acquire load of the other side's producer/consumer index orders our
 * later data accesses after it (Xen's rmb); a release store of our own
 * index orders our earlier data accesses before it (Xen's mb/wmb).
 */
static inline uint32_t cons_ring_load(const XENCONS_RING_IDX *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void cons_ring_store(XENCONS_RING_IDX *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void cons_ring_report(uint32_t cons, uint32_t prod, uint32_t *bad_cons, uint32_t *bad_prod)
{
	if (bad_cons)
		*bad_cons = cons;
	if (bad_prod)
		*bad_prod = prod;
}

int cons_ring_read_out(struct xencons_interface *intf, char *dst, size_t cap, size_t *len,
		       uint32_t *bad_cons, uint32_t *bad_prod)
{
	/* out_cons is ours, but lives in guest memory: load it once too. */
	uint32_t cons = __atomic_load_n(&intf->out_cons, __ATOMIC_RELAXED);
	uint32_t prod = cons_ring_load(&intf->out_prod);
	uint32_t avail = prod - cons;
	size_t n = 0;

	*len = 0;
	if (avail > CONS_RING_OUT_SIZE) {
		cons_ring_report(cons, prod, bad_cons, bad_prod);
		return -EPROTO;
	}
	while (n < cap && n < avail) {
		uint32_t off = MASK_XENCONS_IDX(cons + (uint32_t)n, intf->out);
		size_t chunk = CONS_RING_OUT_SIZE - off;

		if (chunk > avail - n)
			chunk = avail - n;
		if (chunk > cap - n)
			chunk = cap - n;
		memcpy(dst + n, intf->out + off, chunk);
		n += chunk;
	}
	/* The guest may reuse the slots once it sees the new out_cons. */
	cons_ring_store(&intf->out_cons, cons + (uint32_t)n);
	*len = n;
	return 0;
}

int cons_ring_out_avail(struct xencons_interface *intf, uint32_t *avail, uint32_t *bad_cons,
			uint32_t *bad_prod)
{
	uint32_t cons = __atomic_load_n(&intf->out_cons, __ATOMIC_RELAXED);
	uint32_t prod = __atomic_load_n(&intf->out_prod, __ATOMIC_RELAXED);

	*avail = 0;
	if (prod - cons > CONS_RING_OUT_SIZE) {
		cons_ring_report(cons, prod, bad_cons, bad_prod);
		return -EPROTO;
	}
	*avail = prod - cons;
	return 0;
}

int cons_ring_write_in(struct xencons_interface *intf, const char *src, size_t len, size_t *done,
		       uint32_t *bad_cons, uint32_t *bad_prod)
{
	uint32_t cons = cons_ring_load(&intf->in_cons);
	uint32_t prod = __atomic_load_n(&intf->in_prod, __ATOMIC_RELAXED);
	uint32_t used = prod - cons;
	size_t space, n = 0;

	*done = 0;
	if (used > CONS_RING_IN_SIZE) {
		cons_ring_report(cons, prod, bad_cons, bad_prod);
		return -EPROTO;
	}
	space = CONS_RING_IN_SIZE - used;
	while (n < len && n < space) {
		uint32_t off = MASK_XENCONS_IDX(prod + (uint32_t)n, intf->in);
		size_t chunk = CONS_RING_IN_SIZE - off;

		if (chunk > space - n)
			chunk = space - n;
		if (chunk > len - n)
			chunk = len - n;
		memcpy(intf->in + off, src + n, chunk);
		n += chunk;
	}
	/* The guest must see the bytes before the new in_prod. */
	if (n)
		cons_ring_store(&intf->in_prod, prod + (uint32_t)n);
	*done = n;
	return 0;
}
