// SPDX-License-Identifier: MIT
// IPv4 reassembly: a few datagrams at once, each a 64 KiB buffer and a bitmap of its 8-byte blocks.
#include <svk/lib.h>
#include <svk/time.h>
#include "wire.h"

#define BLOCKS ((IP_MAX_LEN + 1) / 8)
#define WORD_BITS 64

/*
 * One datagram being put together.  Fragments may come in any order,
 * twice or overlapping (later bytes win); it is whole when the last
 * fragment gave its end and every block up to there has arrived.
 * State owned by this file, shared by every interface.
 */
struct reasm {
	bool used;
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	uint64_t started;  /* time_now_ns of the first fragment */
	size_t end;	   /* bytes, once the last fragment came; else 0 */
	size_t high;	   /* highest byte seen + 1 */
	unsigned int have; /* blocks received */
	uint64_t map[BLOCKS / WORD_BITS];
	uint8_t data[IP_MAX_LEN + 1];
};

static struct reasm slots[NET_REASM_SLOTS];

static void drop(struct reasm *r)
{
	r->used = false;
}

/* The slot of this datagram, or a fresh one (the oldest goes if all are busy). */
static struct reasm *find(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto, uint64_t now)
{
	struct reasm *r, *free_slot = NULL, *oldest = &slots[0];

	for (unsigned i = 0; i < NET_REASM_SLOTS; i++) {
		r = &slots[i];
		if (r->used && now - r->started > NET_REASM_TIMEOUT_NS)
			drop(r);
		if (!r->used) {
			if (!free_slot)
				free_slot = r;
			continue;
		}
		if (r->src == src && r->dst == dst && r->id == id && r->proto == proto)
			return r;
		if (r->started < oldest->started)
			oldest = r;
	}
	r = free_slot ? free_slot : oldest;
	r->used = true;
	r->src = src;
	r->dst = dst;
	r->id = id;
	r->proto = proto;
	r->started = now;
	r->end = 0;
	r->high = 0;
	r->have = 0;
	memset(r->map, 0, sizeof(r->map));
	return r;
}

const uint8_t *net_reasm_add(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto, uint32_t off,
			     const void *data, size_t len, bool more, size_t *total)
{
	uint64_t now = time_now_ns();
	struct reasm *r = find(src, dst, id, proto, now);
	size_t end = (size_t)off + len;
	unsigned int b;

	/* Past the largest datagram, empty, or a middle piece not in blocks. */
	if (end > IP_MAX_LEN - IP_HLEN || len == 0 || (more && (len & 7)))
		goto out_drop;
	if (!more) {
		if ((r->end && r->end != end) || r->high > end)
			goto out_drop;
		r->end = end;
	} else if (r->end && end > r->end) {
		goto out_drop;
	}
	memcpy(r->data + off, data, len);
	if (end > r->high)
		r->high = end;
	for (b = off / 8; b < (end + 7) / 8; b++) {
		uint64_t bit = 1ULL << (b % WORD_BITS);

		if (!(r->map[b / WORD_BITS] & bit)) {
			r->map[b / WORD_BITS] |= bit;
			r->have++;
		}
	}
	if (!r->end || r->have != (r->end + 7) / 8)
		return NULL;
	drop(r); /* the data stays until the slot is taken again */
	*total = r->end;
	return r->data;
out_drop:
	drop(r);
	return NULL;
}

unsigned int net_reasm_pending(void)
{
	unsigned int n = 0;

	for (unsigned i = 0; i < NET_REASM_SLOTS; i++)
		n += slots[i].used;
	return n;
}

void net_reasm_reset(void)
{
	for (unsigned i = 0; i < NET_REASM_SLOTS; i++)
		drop(&slots[i]);
}
