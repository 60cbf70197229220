// SPDX-License-Identifier: MIT
/* libxengnttab (Xen's xengnttab.h API) for dom0 programs: grant maps over the control socket. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "gnttab_priv.h"

/*
 * Mapping a grant: GNT_MAP checks the grant entries in the hypervisor and
 * returns, per ref, a handle and the frame's offset in the granting
 * domain's memfd; we then mmap those frames of the memfd into one
 * contiguous range reserved beforehand.  Unmapping undoes the mmap first,
 * then tells the hypervisor (GNT_UNMAP), so the guest gets its page back
 * only once dom0 can no longer touch it.
 */

static const char ctx[] = "xengnttab";

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned open_flags)
{
	xengnttab_handle *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return NULL;
	h->logger = logger;
	ret = svxen_handle_init(logger, ctx, &h->lock, &h->ctl);
	if (ret) {
		free(h);
		errno = -ret;
		return NULL;
	}
	return h;
}

/* Closing the connection drops, in the hypervisor, every grant mapping still held. */
int xengnttab_close(xengnttab_handle *h)
{
	struct gnttab_mapping *m, *next;

	if (!h)
		return 0;
	for (m = h->maps; m; m = next) {
		next = m->next;
		munmap(m->addr, (size_t)m->count * SVXEN_PAGE_SIZE);
		free(m->handles);
		free(m->domids);
		free(m->mems);
		free(m);
	}
	svctl_close(h->ctl);
	svxen_dommem_clear(&h->mem);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return 0;
}

/* The control socket: pollable, but only this library may read or write it. */
int xengnttab_fd(xengnttab_handle *h)
{
	return svctl_fd(h->ctl);
}

/* One GNT_MAP round trip for refs[0..count). */
static int map_once(struct xengntdev_handle *h, struct sv_ctl_gnt_map *q,
		    struct sv_ctl_gnt_map_reply *r, uint32_t domid, uint32_t count,
		    const uint32_t *refs, bool readonly)
{
	uint32_t got = 0;
	int ret;

	memset(q, 0, sizeof(*q));
	q->domid = domid;
	q->count = count;
	q->readonly = readonly;
	memcpy(q->refs, refs, count * sizeof(*refs));
	ret = svctl_call(h->ctl, SV_CTL_GNT_MAP, q, sizeof(*q), r, sizeof(*r), &got, NULL);
	if (!ret && (got != sizeof(*r) || r->count != count))
		ret = -EPROTO;
	return ret;
}

#define GNTTAB_EAGAIN_TRIES 8

int svxen_gnttab_map_batch(struct xengntdev_handle *h, struct svxen_dommem *m, uint32_t count,
			   const uint32_t *refs, bool readonly, int32_t *status, uint32_t *handles,
			   uint64_t *offsets)
{
	struct sv_ctl_gnt_map *q;
	struct sv_ctl_gnt_map_reply *r;
	uint32_t *todo = NULL, *todo_refs = NULL, n = count;
	int ret = 0;

	if (!count || count > SV_GNT_MAX_BATCH)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	r = calloc(1, sizeof(*r));
	todo = calloc(count, sizeof(*todo));
	todo_refs = calloc(count, sizeof(*todo_refs));
	if (!q || !r || !todo || !todo_refs) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (uint32_t i = 0; i < count; i++) {
		todo[i] = i;
		todo_refs[i] = refs[i];
		status[i] = GNTST_eagain;
	}
	for (int round = 0; n && round < GNTTAB_EAGAIN_TRIES; round++) {
		uint32_t again = 0;

		ret = map_once(h, q, r, m->domid, n, todo_refs, readonly);
		if (ret)
			goto out_free;
		if (r->gen != m->mem.gen) {
			/*
			 * The domid names another domain than the cached memfd's:
			 * give the mappings back, and let the next get fetch the
			 * new domain's memory.
			 */
			for (uint32_t k = 0; k < n; k++) {
				uint32_t i = todo[k];
				if (r->map[k].status == GNTST_okay)
					svxen_gnttab_unmap_handles(h, 1, &m->domid,
								   &r->map[k].handle);
				status[i] = GNTST_bad_domain;
			}
			m->stale = true;
			ret = -ESTALE;
			goto out_free;
		}
		for (uint32_t k = 0; k < n; k++) {
			uint32_t i = todo[k];

			status[i] = r->map[k].status;
			handles[i] = r->map[k].handle;
			offsets[i] = r->map[k].offset;
			if (status[i] == GNTST_okay && !svxen_dommem_page_ok(m, offsets[i])) {
				/* A mapping at an offset outside the memfd is not used: give it
				 * back. */
				status[i] = GNTST_general_error;
				svxen_gnttab_unmap_handles(h, 1, &m->domid, &handles[i]);
			} else if (status[i] == GNTST_eagain) {
				todo[again] = i;
				todo_refs[again++] = refs[i];
			} else if (status[i] > 0 || status[i] < GNTST_no_space) {
				status[i] = GNTST_general_error;
			}
		}
		n = again;
	}
out_free:
	free(q);
	free(r);
	free(todo);
	free(todo_refs);
	return ret;
}

/* GNT_UNMAP of n handles of one domain, in batches, each answered. */
static int unmap_dom(struct xengntdev_handle *h, struct sv_ctl_gnt_unmap *q,
		     struct sv_ctl_gnt_unmap_reply *r, uint32_t domid, uint32_t n,
		     const uint32_t *handles)
{
	int bad = 0;

	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done < SV_GNT_MAX_BATCH ? n - done : SV_GNT_MAX_BATCH, got = 0;
		int ret;

		memset(q, 0, sizeof(*q));
		q->count = k;
		q->domid = domid;
		memcpy(q->handles, handles + done, k * sizeof(*handles));
		ret =
		    svctl_call(h->ctl, SV_CTL_GNT_UNMAP, q, sizeof(*q), r, sizeof(*r), &got, NULL);
		if (!ret && (got != sizeof(*r) || r->count != k))
			ret = -EPROTO;
		if (ret)
			return ret;
		for (uint32_t i = 0; i < k; i++)
			bad |= r->status[i] != GNTST_okay;
		done += k;
	}
	return bad ? -EINVAL : 0;
}

int svxen_gnttab_unmap_handles(struct xengntdev_handle *h, uint32_t n, const uint32_t *domids,
			       const uint32_t *handles)
{
	struct sv_ctl_gnt_unmap *q = calloc(1, sizeof(*q));
	struct sv_ctl_gnt_unmap_reply *r = calloc(1, sizeof(*r));
	int ret = 0;

	if (!q || !r) {
		ret = -ENOMEM;
		goto out_free;
	}
	/* Each run of one domain's handles is one batch; the first error is kept, the rest still
	 * go. */
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i + 1;
		int r2;

		while (j < n && domids[j] == domids[i])
			j++;
		r2 = unmap_dom(h, q, r, domids[i], j - i, handles + i);
		if (!ret)
			ret = r2;
		/* Past a transport error the connection is gone, and its mappings with it. */
		if (r2 == -EPIPE || r2 == -ECONNRESET || r2 == -EPROTO)
			break;
		i = j;
	}
out_free:
	free(q);
	free(r);
	return ret;
}

/* mmap each granted frame over its slot of the reserved range, one mmap per adjacent run. */
static int map_frames(void *base, uint32_t count, const uint32_t *domids,
		      struct svxen_dommem *const *mems, const uint64_t *offsets, int prot)
{
	uint32_t i = 0;

	while (i < count) {
		uint32_t j = i + 1;
		void *at = (char *)base + (size_t)i * SVXEN_PAGE_SIZE;

		while (j < count && domids[j] == domids[i] &&
		       offsets[j] == offsets[i] + (uint64_t)(j - i) * SVXEN_PAGE_SIZE)
			j++;
		if (mmap(at, (size_t)(j - i) * SVXEN_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED,
			 mems[i]->memfd, (off_t)offsets[i]) == MAP_FAILED)
			return -errno;
		i = j;
	}
	return 0;
}

/*
 * The common map path: all refs or none.  As Xen's gntdev, one refused ref
 * fails the whole call, and the refs already mapped are unmapped again.
 */
static void *map_refs(xengnttab_handle *h, uint32_t count, const uint32_t *domids,
		      const uint32_t *refs, int prot, uint32_t notify_offset, int64_t notify_port)
{
	bool readonly = !(prot & PROT_WRITE);
	struct gnttab_mapping *mp = NULL;
	struct svxen_dommem **mems = NULL;
	uint32_t *handles = NULL, *held_doms = NULL, nr_held = 0;
	uint64_t *offsets = NULL;
	int32_t *status = NULL;
	void *base = MAP_FAILED;
	int ret = 0;

	/* count is 32-bit: count pages always fit in a 64-bit size_t. */
	if (!count || (notify_offset != UINT32_MAX && readonly))
		return errno = EINVAL, NULL;
	mp = calloc(1, sizeof(*mp));
	mems = calloc(count, sizeof(*mems));
	handles = calloc(count, sizeof(*handles));
	held_doms = calloc(count, sizeof(*held_doms));
	offsets = calloc(count, sizeof(*offsets));
	status = calloc(count, sizeof(*status));
	if (!mp || !mems || !handles || !held_doms || !offsets || !status) {
		ret = -ENOMEM;
		goto out_free;
	}

	pthread_mutex_lock(&h->lock);
	for (uint32_t i = 0; i < count && !ret;) {
		uint32_t k = 1;
		struct svxen_dommem *m;

		while (i + k < count && k < SV_GNT_MAX_BATCH && domids[i + k] == domids[i])
			k++;
		ret = svxen_dommem_get(&h->mem, h->ctl, domids[i], &m);
		if (ret)
			break;
		ret = svxen_gnttab_map_batch(h, m, k, refs + i, readonly, status + i, handles + i,
					     offsets + i);
		if (ret == -ESTALE) {
			/* The domid was reused since the memfd was fetched: once more with the new
			 * one. */
			ret = svxen_dommem_get(&h->mem, h->ctl, domids[i], &m);
			if (!ret)
				ret = svxen_gnttab_map_batch(h, m, k, refs + i, readonly,
							     status + i, handles + i, offsets + i);
		}
		if (ret)
			break;
		for (uint32_t j = i; j < i + k; j++) {
			mems[j] = m;
			if (status[j] == GNTST_okay) {
				/* Kept in order so the first nr_held handles are what to give back.
				 */
				held_doms[nr_held] = domids[j];
				handles[nr_held++] = handles[j];
			} else if (!ret) {
				ret = -svxen_gntst_errno(status[j]);
			}
		}
		i += k;
	}
	if (ret)
		goto out_unmap_handles;

	base = mmap(NULL, (size_t)count * SVXEN_PAGE_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		ret = -errno;
		goto out_unmap_handles;
	}
	ret = map_frames(base, count, domids, mems, offsets, prot & (PROT_READ | PROT_WRITE));
	if (ret)
		goto out_munmap;

	mp->addr = base;
	mp->count = count;
	mp->writable = !readonly;
	mp->notify_offset = notify_offset;
	mp->notify_port = notify_port;
	mp->handles = handles;
	mp->domids = held_doms;
	mp->mems = mems;
	for (uint32_t i = 0; i < count; i++)
		svxen_dommem_hold(mems[i]);
	mp->next = h->maps;
	h->maps = mp;
	pthread_mutex_unlock(&h->lock);
	free(offsets);
	free(status);
	return base;

out_munmap:
	munmap(base, (size_t)count * SVXEN_PAGE_SIZE);
out_unmap_handles:
	if (nr_held)
		svxen_gnttab_unmap_handles(h, nr_held, held_doms, handles);
	svxen_dommem_trim(&h->mem);
	pthread_mutex_unlock(&h->lock);
out_free:
	free(mp);
	free(mems);
	free(handles);
	free(held_doms);
	free(offsets);
	free(status);
	errno = -ret;
	return NULL;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot)
{
	return map_refs(xgt, 1, &domid, &ref, prot, UINT32_MAX, -1);
}

void *xengnttab_map_grant_refs(xengnttab_handle *xgt, uint32_t count, uint32_t *domids,
			       uint32_t *refs, int prot)
{
	return map_refs(xgt, count, domids, refs, prot, UINT32_MAX, -1);
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count, uint32_t domid,
				      uint32_t *refs, int prot)
{
	uint32_t *domids;
	void *p;
	int e;

	if (!count || count > UINT32_MAX / sizeof(*domids))
		return errno = EINVAL, NULL;
	domids = malloc(count * sizeof(*domids));
	if (!domids)
		return NULL;
	for (uint32_t i = 0; i < count; i++)
		domids[i] = domid;
	p = map_refs(xgt, count, domids, refs, prot, UINT32_MAX, -1);
	e = errno;
	free(domids);
	errno = e;
	return p;
}

/*
 * As Xen: at unmap, the byte at notify_offset is cleared (only for a
 * writable map; an offset beyond the page means none) and notify_port
 * (-1: none) is signalled, so a frontend learns its backend went away.
 */
void *xengnttab_map_grant_ref_notify(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot,
				     uint32_t notify_offset, evtchn_port_t notify_port)
{
	uint32_t off = notify_offset < SVXEN_PAGE_SIZE ? notify_offset : UINT32_MAX;
	int64_t port = notify_port == (evtchn_port_t)-1 ? -1 : (int64_t)notify_port;

	return map_refs(xgt, 1, &domid, &ref, prot, off, port);
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	struct gnttab_mapping **pp, *m;
	int ret;

	pthread_mutex_lock(&xgt->lock);
	for (pp = &xgt->maps; *pp && (*pp)->addr != start_address; pp = &(*pp)->next)
		;
	m = *pp;
	if (!m || m->count != count) {
		pthread_mutex_unlock(&xgt->lock);
		return svxen_fail(-EINVAL);
	}
	*pp = m->next;
	if (m->notify_offset != UINT32_MAX && m->writable)
		((volatile uint8_t *)m->addr)[m->notify_offset] = 0;
	munmap(m->addr, (size_t)m->count * SVXEN_PAGE_SIZE);
	ret = svxen_gnttab_unmap_handles(xgt, m->count, m->domids, m->handles);
	for (uint32_t i = 0; i < m->count; i++)
		svxen_dommem_put(&xgt->mem, m->mems[i]);
	svxen_dommem_trim(&xgt->mem);
	if (m->notify_port >= 0) {
		struct sv_ctl_evtchn_port q = { .port = (uint32_t)m->notify_port };
		int r2 = svctl_send_noreply(xgt->ctl, SV_CTL_EVTCHN_NOTIFY, &q, sizeof(q));

		if (!ret)
			ret = r2;
	}
	pthread_mutex_unlock(&xgt->lock);
	free(m->handles);
	free(m->domids);
	free(m->mems);
	free(m);
	return ret ? svxen_fail(ret) : 0;
}

/* Xen limits a gntdev handle's mappings with this; the hypervisor's own limits apply here. */
int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	pthread_mutex_lock(&xgt->lock);
	xgt->max_grants = nr_grants;
	pthread_mutex_unlock(&xgt->lock);
	return 0;
}

/* dma-buf export/import has no analogue here. */
int xengnttab_dmabuf_exp_from_refs(xengnttab_handle *xgt, uint32_t domid, uint32_t flags,
				   uint32_t count, const uint32_t *refs, uint32_t *fd)
{
	return svxen_fail(-EOPNOTSUPP);
}

int xengnttab_dmabuf_exp_wait_released(xengnttab_handle *xgt, uint32_t fd, uint32_t wait_to_ms)
{
	return svxen_fail(-EOPNOTSUPP);
}

int xengnttab_dmabuf_imp_to_refs(xengnttab_handle *xgt, uint32_t domid, uint32_t fd, uint32_t count,
				 uint32_t *refs)
{
	return svxen_fail(-EOPNOTSUPP);
}

int xengnttab_dmabuf_imp_release(xengnttab_handle *xgt, uint32_t fd)
{
	return svxen_fail(-EOPNOTSUPP);
}

/* Granting dom0's own pages (gntshr) is not offered: backends only map guests' grants. */
xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger, unsigned open_flags)
{
	svxen_log(logger, EOPNOTSUPP, "xengntshr", "sharing dom0 pages is not supported");
	errno = EOPNOTSUPP;
	return NULL;
}

int xengntshr_close(xengntshr_handle *xgs)
{
	return 0;
}

int xengntshr_fd(xengntshr_handle *xgs)
{
	return svxen_fail(-EOPNOTSUPP);
}

void *xengntshr_share_pages(xengntshr_handle *xgs, uint32_t domid, int count, uint32_t *refs,
			    int writable)
{
	errno = EOPNOTSUPP;
	return NULL;
}

void *xengntshr_share_page_notify(xengntshr_handle *xgs, uint32_t domid, uint32_t *ref,
				  int writable, uint32_t notify_offset, evtchn_port_t notify_port)
{
	errno = EOPNOTSUPP;
	return NULL;
}

int xengntshr_unshare(xengntshr_handle *xgs, void *start_address, uint32_t count)
{
	return svxen_fail(-EOPNOTSUPP);
}
