// SPDX-License-Identifier: MIT
/* xengnttab_grant_copy: GNTTABOP_copy for dom0 programs, to and from guests' grants. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gnttab_priv.h"

/*
 * Three kinds of segment:
 *  - grant to grant: handed to the hypervisor in SV_CTL_GNT_COPY batches;
 *  - local memory to or from a grant: the grants are mapped in batches
 *    (read-only when the guest's page is the source), the bytes move with
 *    pread/pwrite on the domain's memfd at the frame's offset (no mmap), and
 *    the batch is unmapped again before the call returns;
 *  - local to local: memcpy.
 * Each segment gets its own GNTST_* status; the call fails (-1) only when
 * the hypervisor cannot be asked at all, and then unfinished segments say
 * GNTST_general_error.
 */

typedef xengnttab_grant_copy_segment_t seg_t;

static bool src_is_gref(const seg_t *s)
{
	return s->flags & GNTCOPY_source_gref;
}

static bool dst_is_gref(const seg_t *s)
{
	return s->flags & GNTCOPY_dest_gref;
}

/* A granted side must stay inside its page, as Xen checks. */
static bool seg_fits(const seg_t *s)
{
	if (src_is_gref(s) && (uint32_t)s->source.foreign.offset + s->len > SVXEN_PAGE_SIZE)
		return false;
	if (dst_is_gref(s) && (uint32_t)s->dest.foreign.offset + s->len > SVXEN_PAGE_SIZE)
		return false;
	return true;
}

static void fill_ptr(struct sv_gnt_copy_ptr *p, const union xengnttab_copy_ptr *from)
{
	p->domid = from->foreign.domid;
	p->ref = from->foreign.ref;
	p->offset = from->foreign.offset;
	p->flags = 0;
}

/* Grant-to-grant segments listed in idx[0..n): one GNT_COPY per SV_GNT_MAX_COPY. */
static int copy_g2g(xengnttab_handle *h, seg_t *segs, const uint32_t *idx, uint32_t n)
{
	struct sv_ctl_gnt_copy *q = calloc(1, sizeof(*q));
	struct sv_ctl_gnt_copy *r = calloc(1, sizeof(*r));
	int ret = 0;

	if (!q || !r) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done < SV_GNT_MAX_COPY ? n - done : SV_GNT_MAX_COPY, got = 0;

		memset(q, 0, sizeof(*q));
		q->count = k;
		for (uint32_t i = 0; i < k; i++) {
			seg_t *s = &segs[idx[done + i]];

			fill_ptr(&q->seg[i].source, &s->source);
			fill_ptr(&q->seg[i].dest, &s->dest);
			q->seg[i].len = s->len;
		}
		ret = svctl_call(h->ctl, SV_CTL_GNT_COPY, q, sizeof(*q), r, sizeof(*r), &got, NULL);
		if (!ret && (got != sizeof(*r) || r->count != k))
			ret = -EPROTO;
		if (ret)
			goto out_free;
		for (uint32_t i = 0; i < k; i++) {
			int32_t st = r->seg[i].status;

			segs[idx[done + i]].status =
			    (int16_t)(st > 0 || st < GNTST_no_space ? GNTST_general_error : st);
		}
		done += k;
	}
out_free:
	free(q);
	free(r);
	return ret;
}

/* Move one segment's bytes between local memory and the mapped frame at memfd offset off. */
static int16_t copy_local(const struct svxen_dommem *m, seg_t *s, uint64_t off)
{
	ssize_t n;

	if (src_is_gref(s))
		n = pread(m->memfd, s->dest.virt, s->len, (off_t)(off + s->source.foreign.offset));
	else
		n = pwrite(m->memfd, s->source.virt, s->len, (off_t)(off + s->dest.foreign.offset));
	return n == (ssize_t)s->len ? GNTST_okay : GNTST_general_error;
}

/*
 * Segments with one granted side, listed in idx[0..n): batched by (domain,
 * direction) so a batch is one GNT_MAP and one GNT_UNMAP.
 */
static int copy_local_grant(xengnttab_handle *h, seg_t *segs, const uint32_t *idx, uint32_t n)
{
	uint32_t *batch = calloc(SV_GNT_MAX_BATCH, sizeof(*batch));
	uint32_t *refs = calloc(SV_GNT_MAX_BATCH, sizeof(*refs));
	uint32_t *handles = calloc(SV_GNT_MAX_BATCH, sizeof(*handles));
	uint32_t *held = calloc(SV_GNT_MAX_BATCH, sizeof(*held));
	uint32_t *held_doms = calloc(SV_GNT_MAX_BATCH, sizeof(*held_doms));
	uint64_t *offsets = calloc(SV_GNT_MAX_BATCH, sizeof(*offsets));
	int32_t *status = calloc(SV_GNT_MAX_BATCH, sizeof(*status));
	bool *done = calloc(n ? n : 1, sizeof(*done));
	int ret = 0;

	if (!batch || !refs || !handles || !held || !held_doms || !offsets || !status || !done) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (uint32_t first = 0; first < n; first++) {
		struct svxen_dommem *m;
		uint32_t domid, k = 0, nr_held = 0;
		bool readonly;

		if (done[first])
			continue;
		readonly = src_is_gref(&segs[idx[first]]);
		domid = readonly ? segs[idx[first]].source.foreign.domid
				 : segs[idx[first]].dest.foreign.domid;
		for (uint32_t i = first; i < n && k < SV_GNT_MAX_BATCH; i++) {
			const seg_t *s = &segs[idx[i]];

			if (done[i] || src_is_gref(s) != readonly ||
			    (readonly ? s->source.foreign.domid : s->dest.foreign.domid) != domid)
				continue;
			done[i] = true;
			batch[k] = idx[i];
			refs[k++] = readonly ? s->source.foreign.ref : s->dest.foreign.ref;
		}
		ret = svxen_dommem_get(&h->mem, h->ctl, domid, &m);
		if (ret == -ESRCH) {
			for (uint32_t i = 0; i < k; i++)
				segs[batch[i]].status = GNTST_bad_domain;
			ret = 0;
			continue;
		}
		if (ret)
			goto out_free;
		ret = svxen_gnttab_map_batch(h, m, k, refs, readonly, status, handles, offsets);
		if (ret == -ESTALE) {
			ret = 0; /* statuses say bad_domain; the next call fetches the new memfd */
			continue;
		}
		if (ret)
			goto out_free;
		for (uint32_t i = 0; i < k; i++) {
			seg_t *s = &segs[batch[i]];

			if (status[i] != GNTST_okay) {
				s->status = (int16_t)status[i];
				continue;
			}
			held[nr_held++] = handles[i];
			s->status = copy_local(m, s, offsets[i]);
		}
		if (nr_held) {
			for (uint32_t i = 0; i < nr_held; i++)
				held_doms[i] = domid;
			/*
			 * Waited for, as Xen's GNTTABOP_copy releases its grants before it
			 * returns: the caller answers the guest next, and a guest that ends
			 * its access then (Linux's netfront, after XSA-396) must find the
			 * entry no longer in use, or it takes the backend for a rogue one
			 * and disables the device (a one-way unmap raced it).
			 */
			ret = svxen_gnttab_unmap_handles(h, nr_held, held_doms, held);
			if (ret && ret != -EINVAL)
				goto out_free;
			ret = 0;
		}
	}
out_free:
	free(batch);
	free(refs);
	free(handles);
	free(held);
	free(held_doms);
	free(offsets);
	free(status);
	free(done);
	return ret;
}

int xengnttab_grant_copy(xengnttab_handle *xgt, uint32_t count, seg_t *segs)
{
	uint32_t *g2g = calloc(count ? count : 1, sizeof(*g2g));
	uint32_t *l2g = calloc(count ? count : 1, sizeof(*l2g));
	uint32_t n_g2g = 0, n_l2g = 0;
	int ret = 0;

	if (!g2g || !l2g) {
		ret = -ENOMEM;
		goto out_free;
	}
	/* Mark every segment unfinished, so a transport failure leaves it saying so. */
	for (uint32_t i = 0; i < count; i++) {
		seg_t *s = &segs[i];

		s->status = GNTST_general_error;
		if (!seg_fits(s))
			s->status = GNTST_bad_copy_arg;
		else if (src_is_gref(s) && dst_is_gref(s))
			g2g[n_g2g++] = i;
		else if (src_is_gref(s) || dst_is_gref(s))
			l2g[n_l2g++] = i;
		else {
			memmove(s->dest.virt, s->source.virt, s->len);
			s->status = GNTST_okay;
		}
	}
	pthread_mutex_lock(&xgt->lock);
	if (n_g2g)
		ret = copy_g2g(xgt, segs, g2g, n_g2g);
	if (!ret && n_l2g)
		ret = copy_local_grant(xgt, segs, l2g, n_l2g);
	svxen_dommem_trim(&xgt->mem);
	pthread_mutex_unlock(&xgt->lock);
out_free:
	free(g2g);
	free(l2g);
	return ret ? svxen_fail(ret) : 0;
}
