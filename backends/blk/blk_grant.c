// SPDX-License-Identifier: MIT
/* Grant mappings of one ring: the persistent-grant cache and per-request mappings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "blkback.h"

/*
 * With feature-persistent the frontend reuses a fixed set of granted pages
 * (granted read-write), so each is mapped once, on first use, and kept
 * until the ring closes: no map or unmap on the I/O path (each costs a
 * round trip to the hypervisor here).  Up to BLK_MAX_PERSISTENT refs per
 * ring are kept, as Linux's max_persistent_grants; beyond that, and
 * without the feature, pages are mapped for one request only, read-only
 * when the disk only reads them (a guest write).
 */
#define BLK_GCACHE_EMPTY UINT32_MAX

int blk_gcache_init(struct blk_gcache *c, unsigned max)
{
	memset(c, 0, sizeof(*c));
	c->max = max;
	c->cap = 1;
	while (c->cap < max * 2)
		c->cap <<= 1;
	c->keys = malloc(c->cap * sizeof(*c->keys));
	c->pages = calloc(c->cap, sizeof(*c->pages));
	if (!c->keys || !c->pages) {
		free(c->keys);
		free(c->pages);
		c->keys = NULL;
		c->pages = NULL;
		return -ENOMEM;
	}
	memset(c->keys, 0xff, c->cap * sizeof(*c->keys));
	return 0;
}

void blk_gcache_fini(struct blk_ring *r)
{
	struct blk_gcache *c = &r->gc;
	struct blk_gregion *g, *next;

	for (g = c->regions; g; g = next) {
		next = g->next;
		if (xengnttab_unmap(r->xgt, g->addr, g->count) < 0)
			blk_log("unmapping %u persistent grants: %m", g->count);
		blk_maps_put(r, g->count);
		free(g);
	}
	free(c->keys);
	free(c->pages);
	memset(c, 0, sizeof(*c));
}

static unsigned blk_gcache_slot(const struct blk_gcache *c, uint32_t gref)
{
	unsigned i = (gref * 2654435761u) & (c->cap - 1);

	while (c->keys[i] != BLK_GCACHE_EMPTY && c->keys[i] != gref)
		i = (i + 1) & (c->cap - 1);
	return i;
}

/* gref's page, or NULL. (gref UINT32_MAX is never cached: it is the empty mark.) */
static void *blk_gcache_find(const struct blk_gcache *c, uint32_t gref)
{
	if (!c->keys || gref == BLK_GCACHE_EMPTY)
		return NULL;
	unsigned i = blk_gcache_slot(c, gref);
	return c->keys[i] == gref ? c->pages[i] : NULL;
}

static void blk_gcache_add(struct blk_gcache *c, uint32_t gref, void *page)
{
	unsigned i = blk_gcache_slot(c, gref);

	if (c->keys[i] == gref)
		return;
	c->keys[i] = gref;
	c->pages[i] = page;
	c->n++;
}

/* Map the persistent misses miss[0..n) read-write as one region and cache them.  0 or -errno. */
static int blk_grant_map_persistent(struct blk_ring *r, const uint32_t *miss, unsigned n)
{
	struct blk_gregion *g = malloc(sizeof(*g));
	void *addr;

	if (!g)
		return -ENOMEM;
	addr = xengnttab_map_domain_grant_refs(r->xgt, n, r->domid, (uint32_t *)miss,
					       PROT_READ | PROT_WRITE);
	if (!addr) {
		int e = errno;
		free(g);
		return -e;
	}
	g->addr = addr;
	g->count = n;
	g->next = r->gc.regions;
	r->gc.regions = g;
	for (unsigned i = 0; i < n; i++)
		blk_gcache_add(&r->gc, miss[i], (char *)addr + (size_t)i * BLK_PAGE_SIZE);
	return 0;
}

/*
 * The distinct refs of grefs[0..n) into uniq (first seen first), and for
 * each segment the index of its ref there: a frontend naming one grant in
 * every segment gets one mapping, not n.  n <= BLK_MAX_INDIRECT_SEGS.
 */
#define BLK_DEDUP_SLOTS (2 * BLK_MAX_INDIRECT_SEGS)

static unsigned blk_grant_dedup(const uint32_t *grefs, unsigned n, uint32_t *uniq, uint16_t *idx)
{
	uint16_t slot[BLK_DEDUP_SLOTS]; /* index + 1 into uniq; 0 = empty */
	unsigned nu = 0;

	memset(slot, 0, sizeof(slot));
	for (unsigned i = 0; i < n; i++) {
		unsigned h = (grefs[i] * 2654435761u) % BLK_DEDUP_SLOTS;

		while (slot[h] && uniq[slot[h] - 1] != grefs[i])
			h = (h + 1) % BLK_DEDUP_SLOTS;
		if (!slot[h]) {
			uniq[nu] = grefs[i];
			slot[h] = (uint16_t)++nu;
		}
		idx[i] = (uint16_t)(slot[h] - 1);
	}
	return nu;
}

int blk_grant_get(struct blk_ring *r, const uint32_t *grefs, unsigned n, bool want_write,
		  void **pages, void **tmp, uint32_t *tmp_count)
{
	uint32_t uniq[BLK_MAX_INDIRECT_SEGS], miss[BLK_MAX_INDIRECT_SEGS];
	void *upages[BLK_MAX_INDIRECT_SEGS];
	uint16_t idx[BLK_MAX_INDIRECT_SEGS];
	unsigned nu, nmiss = 0;
	void *addr;

	*tmp = NULL;
	*tmp_count = 0;
	if (!n || n > BLK_MAX_INDIRECT_SEGS)
		return -EINVAL;
	nu = blk_grant_dedup(grefs, n, uniq, idx);
	if (r->persistent) {
		bool all = true;

		for (unsigned u = 0; u < nu; u++) {
			upages[u] = blk_gcache_find(&r->gc, uniq[u]);
			if (upages[u])
				r->st.pgrant_hits++;
			else if (uniq[u] != BLK_GCACHE_EMPTY)
				miss[nmiss++] = uniq[u];
		}
		if (nmiss && r->gc.n + nmiss <= r->gc.max && blk_maps_take(r, nmiss, true)) {
			if (blk_grant_map_persistent(r, miss, nmiss))
				blk_maps_put(r, nmiss);
			else
				for (unsigned u = 0; u < nu; u++)
					if (!upages[u])
						upages[u] = blk_gcache_find(&r->gc, uniq[u]);
		}
		for (unsigned u = 0; u < nu; u++)
			all &= upages[u] != NULL;
		if (all) {
			for (unsigned i = 0; i < n; i++)
				pages[i] = upages[idx[i]];
			return 0;
		}
		/* Cache full, a ref granted read-only, or a bad ref: this request maps its own. */
	}
	if (!blk_maps_take(r, nu, false))
		return -EAGAIN;
	addr = xengnttab_map_domain_grant_refs(r->xgt, nu, r->domid, uniq,
					       want_write ? PROT_READ | PROT_WRITE : PROT_READ);
	if (!addr) {
		int e = errno ? errno : EFAULT;

		blk_maps_put(r, nu);
		/* -EAGAIN means "wait for the limits" here: a refused map is answered instead. */
		return e == EAGAIN ? -EFAULT : -e;
	}
	for (unsigned i = 0; i < n; i++)
		pages[i] = (char *)addr + (size_t)idx[i] * BLK_PAGE_SIZE;
	*tmp = addr;
	*tmp_count = nu;
	return 0;
}

void blk_grant_put(struct blk_ring *r, void *tmp, uint32_t tmp_count)
{
	if (!tmp)
		return;
	if (xengnttab_unmap(r->xgt, tmp, tmp_count) < 0)
		blk_log("%s: unmapping %u grants: %m", r->name, tmp_count);
	blk_maps_put(r, tmp_count);
}
