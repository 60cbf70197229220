// SPDX-License-Identifier: MIT
/* How many guest pages blkback has mapped: per ring, per domain and in all, each under a limit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "blkback.h"

/*
 * Every mapped grant is one mapping (VMA) of this process at worst, and the
 * kernel refuses every mmap past vm.max_map_count (65530 by default), the
 * I/O of every guest with it.  So blkback counts the pages it maps and
 * keeps the total to half of vm.max_map_count (the rest is for the
 * process's own mappings), one domain to BLK_MAPS_DOM_MAX of that and one
 * ring to BLK_MAPS_RING_MAX.  A request that would go past a limit waits
 * (blk_ring.c parks it) until requests in flight release theirs.
 * Persistent grants, which stay mapped until the ring closes, may take
 * only half of each limit, so that a request always finds room once the
 * I/O in flight is done.
 */
#define BLK_MAPS_RING_MAX 4096u
#define BLK_MAPS_DOM_MAX 8192u
/* A limit must hold two of the largest requests (one persistent half, one free half). */
#define BLK_MAPS_MIN (2u * (BLK_MAX_INDIRECT_SEGS + BLK_MAX_INDIRECT_PAGES))
#define BLK_MAPS_DEFAULT_MAX_MAP_COUNT 65530u

static unsigned clamp_min(unsigned v)
{
	return v < BLK_MAPS_MIN ? BLK_MAPS_MIN : v;
}

void blk_maps_init(struct blk_maps *m, unsigned ring_max, unsigned dom_max, unsigned total_max)
{
	m->ring_max = clamp_min(ring_max);
	m->dom_max = clamp_min(dom_max);
	m->total_max = clamp_min(total_max);
	m->total = 0;
	m->doms = NULL;
}

unsigned blk_maps_max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	unsigned v = 0;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v ? v : BLK_MAPS_DEFAULT_MAX_MAP_COUNT;
}

void blk_maps_init_default(struct blk_maps *m, unsigned max_map_count)
{
	unsigned total = max_map_count / 2;
	unsigned dom = total / 2 < BLK_MAPS_DOM_MAX ? total / 2 : BLK_MAPS_DOM_MAX;
	unsigned ring = dom < BLK_MAPS_RING_MAX ? dom : BLK_MAPS_RING_MAX;

	blk_maps_init(m, ring, dom, total);
}

int blk_maps_attach(struct blk_maps *m, struct blk_ring *r)
{
	struct blk_maps_dom *dm;

	r->maps = m;
	r->mapped = 0;
	for (dm = m->doms; dm; dm = dm->next)
		if (dm->domid == r->domid)
			break;
	if (!dm) {
		dm = calloc(1, sizeof(*dm));
		if (!dm) {
			r->maps = NULL;
			return -ENOMEM;
		}
		dm->domid = r->domid;
		dm->next = m->doms;
		m->doms = dm;
	}
	dm->rings++;
	r->mdom = dm;
	return 0;
}

void blk_maps_detach(struct blk_ring *r)
{
	struct blk_maps *m = r->maps;
	struct blk_maps_dom **pp;

	if (!m)
		return;
	/* Whatever the ring still counts goes with it (its mappings are gone). */
	blk_maps_put(r, r->mapped);
	if (--r->mdom->rings == 0) {
		for (pp = &m->doms; *pp != r->mdom; pp = &(*pp)->next)
			;
		*pp = r->mdom->next;
		free(r->mdom);
	}
	r->maps = NULL;
	r->mdom = NULL;
}

bool blk_maps_take(struct blk_ring *r, unsigned n, bool keep)
{
	struct blk_maps *m = r->maps;
	unsigned div = keep ? 2 : 1;

	if (!m) {
		r->mapped += n;
		return true;
	}
	if (r->mapped + n > m->ring_max / div || r->mdom->mapped + n > m->dom_max / div ||
	    m->total + n > m->total_max / div)
		return false;
	r->mapped += n;
	r->mdom->mapped += n;
	m->total += n;
	return true;
}

void blk_maps_put(struct blk_ring *r, unsigned n)
{
	r->mapped -= n;
	if (r->maps) {
		r->mdom->mapped -= n;
		r->maps->total -= n;
	}
}
