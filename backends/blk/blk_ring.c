// SPDX-License-Identifier: MIT
/* blkback's data plane: requests off a blkif ring, checked, done on io_uring, answered in batches.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "blkback.h"

/*
 * One ring (one queue of one virtual block device).  Requests are copied
 * once off the shared ring (RING_COPY_REQUEST) into the shadow entry of a
 * free pending slot and checked on that copy only.  Reads and writes
 * become one readv/writev each on the daemon's io_uring, straight into or
 * out of the mapped guest pages; a flush is an fdatasync; a discard punches
 * a hole.  Responses are written as completions arrive and pushed once per
 * batch of completions (blk_ring_push), notifying the frontend only when
 * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY says it is waiting.
 *
 * A frontend that breaks the protocol (ring indices out of range, an
 * unknown operation, a bad segment count or sector span in a page) gets
 * its ring stopped (broken); the control plane then closes the device.
 * Requests that are well formed but cannot be served (outside the disk,
 * a write to a read-only disk, a ref not granted to us) are answered
 * BLKIF_RSP_ERROR, as a real disk answers I/O errors.
 */

static void blk_ring_fail(struct blk_ring *r, const char *why, unsigned long long id)
{
	if (!r->broken)
		blk_log("%s: frontend broke the protocol (%s, request id %llu): ring stopped",
			r->name, why, id);
	r->broken = true;
}

/* Log the first few refusals of a ring, then every 1000th (a guest must not flood the log). */
static void blk_ring_refuse_log(struct blk_ring *r, const char *why, const struct blk_req_info *ri)
{
	r->st.errors++;
	if (r->st.errors <= 5 || r->st.errors % 1000 == 0)
		blk_log(
		    "%s: request %llu (op %u, sector %llu, %llu sectors) refused: %s [%llu so far]",
		    r->name, (unsigned long long)ri->id, ri->op, (unsigned long long)ri->sector,
		    (unsigned long long)ri->nr_sectors, why, (unsigned long long)r->st.errors);
}

/* Write the response of p and free its slot; pushed later by blk_ring_push. */
static void blk_ring_respond(struct blk_pending *p, int16_t status)
{
	struct blk_ring *r = p->ring;
	struct blk_shadow_ent *e = r->shadow.hdr ? &r->shadow.ent[p->slot] : NULL;
	blkif_response_t *rsp;

	if (p->tmp) {
		blk_grant_put(r, p->tmp, p->tmp_count);
		p->tmp = NULL;
		p->tmp_count = 0;
	}
	if (e) {
		/* Record where the answer goes before it overwrites a request slot. */
		e->rsp_idx = r->br.rsp_prod_pvt;
		__atomic_store_n(&e->state, BLK_SH_ANSWERED, __ATOMIC_RELEASE);
	}
	rsp = RING_GET_RESPONSE(&r->br, r->br.rsp_prod_pvt);
	rsp->id = p->info.id;
	/* As Linux's blkback: an indirect request is answered with its indirect_op. */
	rsp->operation = p->info.ring_op == BLKIF_OP_INDIRECT ? p->info.op : p->info.ring_op;
	rsp->status = status;
	r->br.rsp_prod_pvt++;
	r->need_push = true;
	r->inflight--;
	/* The slot (and its shadow entry) is reused only once the answer is pushed. */
	p->next_free = r->done;
	r->done = p;
}

void blk_ring_push(struct blk_ring *r)
{
	int notify = 0;

	if (!r->need_push)
		return;
	r->need_push = false;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->br, notify);
	/* Every answered request is now visible to the frontend: its slot is free. */
	while (r->done) {
		struct blk_pending *p = r->done;

		r->done = p->next_free;
		if (r->shadow.hdr)
			__atomic_store_n(&r->shadow.ent[p->slot].state, BLK_SH_FREE,
					 __ATOMIC_RELEASE);
		p->next_free = r->free;
		r->free = p;
	}
	if (notify && xenevtchn_notify(r->xce, r->local_port) < 0)
		blk_log("%s: notify: %m", r->name);
	if (r->stalled) {
		/* Slots came free: the ring is taken up again in the next round. */
		r->stalled = false;
		r->more = true;
	}
}

/* A request that broke the protocol: never answered, its slot given back. */
static void blk_ring_drop(struct blk_pending *p)
{
	struct blk_ring *r = p->ring;

	if (r->shadow.hdr)
		__atomic_store_n(&r->shadow.ent[p->slot].state, BLK_SH_FREE, __ATOMIC_RELEASE);
	r->inflight--;
	p->next_free = r->free;
	r->free = p;
}

/*
 * Queue the I/O of a checked read/write (or flush carrying data).  Returns
 * true, having changed nothing, when the mapping limits leave no room for
 * its pages now (the request waits, parked).
 */
static bool blk_ring_rw(struct blk_ring *r, struct blk_pending *p)
{
	struct blk_req_info *ri = &p->info;
	bool to_guest = ri->op == BLKIF_OP_READ;
	uint32_t grefs[BLK_MAX_INDIRECT_SEGS];
	void *pages[BLK_MAX_INDIRECT_SEGS];
	struct io_uring_sqe *sqe;
	int ret;

	if (!to_guest && r->disk->readonly) {
		blk_ring_refuse_log(r, "the disk is read-only", ri);
		blk_ring_respond(p, BLKIF_RSP_ERROR);
		return false;
	}
	if (!blk_req_in_range(ri, r->disk->sectors)) {
		blk_ring_refuse_log(r, "beyond the end of the disk", ri);
		blk_ring_respond(p, BLKIF_RSP_ERROR);
		return false;
	}
	for (unsigned i = 0; i < ri->nr_segs; i++)
		grefs[i] = p->segs[i].gref;
	ret = blk_grant_get(r, grefs, ri->nr_segs, to_guest, pages, &p->tmp, &p->tmp_count);
	if (ret == -EAGAIN)
		return true;
	if (ret) {
		blk_ring_refuse_log(r, "a grant ref could not be mapped", ri);
		blk_ring_respond(p, BLKIF_RSP_ERROR);
		return false;
	}
	for (unsigned i = 0; i < ri->nr_segs; i++) {
		p->iov[i].iov_base =
		    (char *)pages[i] + ((size_t)p->segs[i].first << BLK_SECTOR_SHIFT);
		p->iov[i].iov_len = (size_t)(p->segs[i].last - p->segs[i].first + 1)
				    << BLK_SECTOR_SHIFT;
	}
	sqe = blk_io_sqe(r->io);
	if (!sqe) {
		blk_ring_respond(p, BLKIF_RSP_ERROR);
		return false;
	}
	if (to_guest) {
		io_uring_prep_readv(sqe, r->disk->fd, p->iov, ri->nr_segs,
				    ri->sector << BLK_SECTOR_SHIFT);
		r->st.reads++;
	} else {
		io_uring_prep_writev(sqe, r->disk->fd, p->iov, ri->nr_segs,
				     ri->sector << BLK_SECTOR_SHIFT);
		r->st.writes++;
	}
	io_uring_sqe_set_data(sqe, p);
	p->stage = 0;
	return false;
}

/* Queue an fdatasync for p: an acknowledged flush means the data is on stable storage. */
static void blk_ring_fsync(struct blk_ring *r, struct blk_pending *p)
{
	struct io_uring_sqe *sqe = blk_io_sqe(r->io);

	if (!sqe) {
		blk_ring_respond(p, BLKIF_RSP_ERROR);
		return;
	}
	io_uring_prep_fsync(sqe, r->disk->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, p);
	p->stage = 1;
	r->st.flushes++;
}

static void blk_ring_discard(struct blk_ring *r, struct blk_pending *p)
{
	struct blk_req_info *ri = &p->info;
	struct io_uring_sqe *sqe;

	if (r->disk->readonly) {
		blk_ring_refuse_log(r, "discard on a read-only disk", ri);
		blk_ring_respond(p, BLKIF_RSP_ERROR);
		return;
	}
	if (!r->disk->can_discard) {
		blk_ring_respond(p, BLKIF_RSP_EOPNOTSUPP);
		return;
	}
	if (!blk_req_in_range(ri, r->disk->sectors)) {
		blk_ring_refuse_log(r, "discard beyond the end of the disk", ri);
		blk_ring_respond(p, BLKIF_RSP_ERROR);
		return;
	}
	if (!ri->nr_sectors) {
		blk_ring_respond(p, BLKIF_RSP_OKAY);
		return;
	}
	sqe = blk_io_sqe(r->io);
	if (!sqe) {
		blk_ring_respond(p, BLKIF_RSP_ERROR);
		return;
	}
	/* The file keeps its size; the range reads back as zeroes and frees its blocks. */
	io_uring_prep_fallocate(sqe, r->disk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				ri->sector << BLK_SECTOR_SHIFT, ri->nr_sectors << BLK_SECTOR_SHIFT);
	io_uring_sqe_set_data(sqe, p);
	p->stage = 2;
	r->st.discards++;
}

/* A request waits for room under the mapping limits: logged for the first, then every 1000th. */
static void blk_ring_park(struct blk_ring *r, struct blk_pending *p)
{
	const struct blk_maps *m = r->maps;

	p->next_free = NULL;
	if (r->parked_tail)
		r->parked_tail->next_free = p;
	else
		r->parked = p;
	r->parked_tail = p;
	r->st.map_waits++;
	if (m && (r->st.map_waits == 1 || r->st.map_waits % 1000 == 0))
		blk_log("%s: grant mapping limit reached (ring %u/%u, domain %u/%u, blkback %u/%u "
			"pages): requests wait for mappings to be released [%llu so far]",
			r->name, r->mapped, m->ring_max, r->mdom->mapped, m->dom_max, m->total,
			m->total_max, (unsigned long long)r->st.map_waits);
}

/*
 * Loads (indirect) and checks p's segments once, then starts its work.
 * Returns true when it must wait for room under the mapping limits; it is
 * then tried again from where it stopped.
 */
static bool blk_ring_start_req(struct blk_ring *r, struct blk_pending *p)
{
	struct blk_req_info *ri = &p->info;
	int ret;

	if (!p->checked) {
		if (ri->nr_indirect) {
			void *pages[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST], *tmp;
			uint32_t tmp_count;

			ret = blk_grant_get(r, ri->indirect_grefs, ri->nr_indirect, false, pages,
					    &tmp, &tmp_count);
			if (ret == -EAGAIN)
				return true;
			if (ret) {
				blk_ring_refuse_log(r, "an indirect page could not be mapped", ri);
				blk_ring_respond(p, BLKIF_RSP_ERROR);
				return false;
			}
			blk_req_load_indirect(ri, pages, p->segs);
			blk_grant_put(r, tmp, tmp_count);
		}
		if (blk_req_check_segs(ri, p->segs)) {
			blk_ring_fail(r, "segment sectors outside their page",
				      (unsigned long long)ri->id);
			blk_ring_drop(p);
			return false;
		}
		p->checked = true;
	}
	switch (ri->op) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		return blk_ring_rw(r, p);
	case BLKIF_OP_FLUSH_DISKCACHE:
		if (ri->nr_segs)
			return blk_ring_rw(
			    r, p); /* the write, then the fdatasync (blk_ring_io_done) */
		blk_ring_fsync(r, p);
		return false;
	case BLKIF_OP_DISCARD:
		blk_ring_discard(r, p);
		return false;
	}
	return false;
}

/* Check the copy in p's shadow entry (or req) and start its work; true when it waits (parked). */
static bool blk_ring_dispatch(struct blk_ring *r, struct blk_pending *p, const blkif_request_t *req)
{
	struct blk_req_info *ri = &p->info;
	int ret;

	r->inflight++;
	r->st.reqs++;
	p->checked = false;
	ret = blk_req_parse(req, BLK_MAX_INDIRECT_SEGS, ri, p->segs);
	if (ret == -EOPNOTSUPP) {
		blk_ring_respond(p, BLKIF_RSP_EOPNOTSUPP);
		return false;
	}
	if (ret) {
		blk_ring_fail(r, "bad operation or segment count", (unsigned long long)req->id);
		blk_ring_drop(p);
		return false;
	}
	if (ri->nr_indirect)
		r->st.indirect++;
	/* Behind a waiting request, a request waits too: the ring's order is kept. */
	if (!r->parked && !blk_ring_start_req(r, p))
		return false;
	blk_ring_park(r, p);
	return true;
}

void blk_ring_io_done(struct blk_pending *p, int res)
{
	struct blk_ring *r = p->ring;
	struct blk_req_info *ri = &p->info;
	int16_t status = BLKIF_RSP_OKAY;

	if (p->stage == 0) {
		/* A short transfer is an error too: the guest asked for all of it. */
		if (res < 0 || (uint64_t)res != ri->nr_sectors << BLK_SECTOR_SHIFT) {
			blk_log("%s: %s of %llu sectors at %llu: %s", r->name,
				ri->op == BLKIF_OP_READ ? "read" : "write",
				(unsigned long long)ri->nr_sectors, (unsigned long long)ri->sector,
				res < 0 ? strerror(-res) : "short transfer");
			status = BLKIF_RSP_ERROR;
		} else if (ri->op == BLKIF_OP_FLUSH_DISKCACHE) {
			if (p->tmp) {
				blk_grant_put(r, p->tmp, p->tmp_count);
				p->tmp = NULL;
				p->tmp_count = 0;
			}
			blk_ring_fsync(r, p);
			return;
		}
	} else if (res < 0) {
		blk_log("%s: %s: %s", r->name, p->stage == 1 ? "fdatasync" : "punching a hole",
			strerror(-res));
		status = res == -EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
	}
	blk_ring_respond(p, status);
}

bool blk_ring_wants_kick(const struct blk_ring *r)
{
	return r->started && !r->broken && (r->more || r->parked);
}

void blk_ring_kick(struct blk_ring *r)
{
	unsigned budget = BLK_RING_BUDGET;

	r->more = false;
	if (!r->started || r->broken)
		return;
	/* Waiting requests first, oldest first: nothing new is taken while one waits. */
	while (r->parked) {
		struct blk_pending *p = r->parked;

		/* Unlinked first: answering or dropping it reuses next_free. */
		r->parked = p->next_free;
		if (!r->parked)
			r->parked_tail = NULL;
		if (blk_ring_start_req(r, p)) {
			p->next_free = r->parked;
			r->parked = p;
			if (!r->parked_tail)
				r->parked_tail = p;
			return;
		}
		if (r->broken)
			return;
	}
	for (;;) {
		RING_IDX rc = r->br.req_cons;
		RING_IDX rp = r->br.sring->req_prod;
		int more;

		xen_rmb(); /* see the requests the producer index covers */
		if (rp - rc > r->ring_size) {
			blk_ring_fail(r, "req_prod beyond the ring", 0);
			return;
		}
		while (rc != rp) {
			struct blk_pending *p;
			blkif_request_t req;

			/* Every slot holds an unanswered request: wait for completions. */
			if (RING_REQUEST_CONS_OVERFLOW(&r->br, rc) || !r->free) {
				r->stalled = true;
				return;
			}
			/* This round's share is taken: the other rings go first. */
			if (!budget) {
				r->more = true;
				return;
			}
			budget--;
			p = r->free;
			r->free = p->next_free;
			RING_COPY_REQUEST(&r->br, rc, &req);
			if (r->shadow.hdr) {
				struct blk_shadow_ent *e = &r->shadow.ent[p->slot];

				e->req = req;
				e->req_idx = rc;
				__atomic_store_n(&e->state, BLK_SH_INFLIGHT, __ATOMIC_RELEASE);
				__atomic_store_n(&r->shadow.hdr->req_cons, rc + 1,
						 __ATOMIC_RELEASE);
			}
			r->br.req_cons = ++rc;
			if (blk_ring_dispatch(r, p, &req) || r->broken)
				return;
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&r->br, more);
		if (!more)
			break;
	}
}

/* Allocates the pending slots (their segment and iovec arrays in one block each). */
static int blk_ring_alloc(struct blk_ring *r)
{
	r->pend = calloc(r->ring_size, sizeof(*r->pend));
	struct blk_seg *segs = calloc((size_t)r->ring_size * BLK_MAX_INDIRECT_SEGS, sizeof(*segs));
	struct iovec *iov = calloc((size_t)r->ring_size * BLK_MAX_INDIRECT_SEGS, sizeof(*iov));

	if (!r->pend || !segs || !iov) {
		free(r->pend);
		free(segs);
		free(iov);
		r->pend = NULL;
		return -ENOMEM;
	}
	for (unsigned i = 0; i < r->ring_size; i++) {
		r->pend[i].ring = r;
		r->pend[i].slot = i;
		r->pend[i].segs = segs + (size_t)i * BLK_MAX_INDIRECT_SEGS;
		r->pend[i].iov = iov + (size_t)i * BLK_MAX_INDIRECT_SEGS;
	}
	return 0;
}

int blk_ring_start(struct blk_ring *r, const char *shadow_path, const struct blk_shadow_id *id)
{
	blkif_sring_t *sring = r->sring;
	bool recovered = false;
	RING_IDX rsp_prod, req_prod, req_cons;
	unsigned redo = 0, redo_slot[__CONST_RING_SIZE(blkif, BLK_MAX_RING_PAGES * BLK_PAGE_SIZE)];
	int ret;

	if (!r->nr_pages || r->nr_pages > BLK_MAX_RING_PAGES)
		return -EINVAL;
	r->ring_size = __RING_SIZE(sring, (size_t)r->nr_pages * BLK_PAGE_SIZE);
	r->mapped = 0;
	r->parked = r->parked_tail = NULL;
	r->more = false;
	ret = blk_ring_alloc(r);
	if (ret)
		return ret;
	if (r->persistent) {
		ret = blk_gcache_init(&r->gc, BLK_MAX_PERSISTENT);
		if (ret)
			goto out_free;
	}
	if (r->maps) {
		ret = blk_maps_attach(r->maps, r);
		if (ret)
			goto out_gcache;
	}
	if (shadow_path) {
		ret = blk_shadow_open(&r->shadow, shadow_path, id, &recovered);
		if (ret)
			blk_log("%s: no crash-recovery shadow (%s): %s", r->name, shadow_path,
				strerror(-ret));
	}
	rsp_prod = sring->rsp_prod;
	req_prod = sring->req_prod;
	xen_rmb();
	req_cons = rsp_prod;
	if (recovered) {
		RING_IDX c = r->shadow.hdr->req_cons;

		/* Our own file, but the ring is the guest's: both must agree with it. */
		if (req_prod - c <= r->ring_size && c - rsp_prod <= r->ring_size)
			req_cons = c;
		else
			recovered = false;
	}
	BACK_RING_ATTACH(&r->br, sring, rsp_prod, (size_t)r->nr_pages * BLK_PAGE_SIZE);
	r->br.req_cons = req_cons;
	r->free = NULL;
	r->done = NULL;
	for (unsigned i = r->ring_size; i-- > 0;) {
		struct blk_shadow_ent *e = r->shadow.hdr ? &r->shadow.ent[i] : NULL;
		bool again = false;

		if (e && recovered && e->state != BLK_SH_FREE) {
			/* Consumed before the crash and not yet seen answered by the frontend. */
			again = (RING_IDX)(req_cons - e->req_idx - 1) < r->ring_size &&
				(e->state == BLK_SH_INFLIGHT ||
				 (RING_IDX)(e->rsp_idx - rsp_prod) < r->ring_size);
		}
		if (again) {
			redo_slot[redo++] = i;
			continue;
		}
		if (e)
			e->state = BLK_SH_FREE;
		r->pend[i].next_free = r->free;
		r->free = &r->pend[i];
	}
	r->started = true;
	if (recovered) {
		/* Redo in ring order (writes to one sector keep their order). */
		for (unsigned a = 1; a < redo; a++) {
			for (unsigned b = a; b > 0; b--) {
				RING_IDX x = r->shadow.ent[redo_slot[b - 1]].req_idx;
				RING_IDX y = r->shadow.ent[redo_slot[b]].req_idx;
				unsigned t;

				if ((int32_t)(y - x) >= 0)
					break;
				t = redo_slot[b];
				redo_slot[b] = redo_slot[b - 1];
				redo_slot[b - 1] = t;
			}
		}
		for (unsigned k = 0; k < redo; k++) {
			struct blk_shadow_ent *e = &r->shadow.ent[redo_slot[k]];
			blkif_request_t req = e->req;

			__atomic_store_n(&e->state, BLK_SH_INFLIGHT, __ATOMIC_RELEASE);
			blk_ring_dispatch(r, &r->pend[redo_slot[k]], &req);
		}
		blk_log("%s: resumed after a restart at request %u, response %u; %u request(s) "
			"done again",
			r->name, req_cons, rsp_prod, redo);
	}
	return 0;

out_gcache:
	if (r->persistent)
		blk_gcache_fini(r);
out_free:
	free(r->pend[0].segs);
	free(r->pend[0].iov);
	free(r->pend);
	r->pend = NULL;
	return ret;
}

void blk_ring_stop(struct blk_ring *r, bool remove_shadow)
{
	if (!r->pend)
		return;
	/* The I/O writes into guest pages we are about to unmap: let it finish. */
	while (r->inflight && r->io->inflight + r->io->queued) {
		blk_io_submit(r->io);
		blk_io_reap(r->io, true);
	}
	blk_ring_push(r);
	/*
	 * Requests still waiting for mappings: a frontend that is gone has no
	 * use for them; otherwise they stay in flight in the shadow, for the
	 * blkback that takes over to do.
	 */
	while (remove_shadow && r->parked) {
		struct blk_pending *p = r->parked;

		r->parked = p->next_free;
		blk_ring_drop(p);
	}
	r->parked = r->parked_tail = NULL;
	for (unsigned i = 0; i < r->ring_size; i++) {
		struct blk_pending *p = &r->pend[i];

		if (p->tmp)
			blk_grant_put(r, p->tmp, p->tmp_count);
		p->tmp = NULL;
	}
	if (r->persistent)
		blk_gcache_fini(r);
	blk_maps_detach(r);
	blk_shadow_close(&r->shadow, remove_shadow && !r->inflight);
	free(r->pend[0].segs);
	free(r->pend[0].iov);
	free(r->pend);
	r->pend = NULL;
	r->free = NULL;
	r->started = false;
}
