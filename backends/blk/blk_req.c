// SPDX-License-Identifier: MIT
/* Checks of a blkif request copied off the ring: operation, segments, sector ranges. */
#include <errno.h>
#include <string.h>
#include "blkback.h"

/*
 * Everything here works on the private copy the data plane took with
 * RING_COPY_REQUEST (or on segments copied out of indirect pages), so a
 * frontend changing the ring meanwhile changes nothing we already checked.
 */

static void blk_req_copy_segs(const struct blkif_request_segment *in, unsigned n,
			      struct blk_seg *out)
{
	for (unsigned i = 0; i < n; i++) {
		out[i].gref = in[i].gref;
		out[i].first = in[i].first_sect;
		out[i].last = in[i].last_sect;
	}
}

int blk_req_parse(const blkif_request_t *req, unsigned max_indirect, struct blk_req_info *ri,
		  struct blk_seg *segs)
{
	memset(ri, 0, sizeof(*ri));
	ri->id = req->id;
	ri->ring_op = req->operation;
	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
	case BLKIF_OP_FLUSH_DISKCACHE:
		ri->op = req->operation;
		ri->sector = req->sector_number;
		ri->nr_segs = req->nr_segments;
		/* A flush may carry data (a write with a preflush) or none. */
		if (ri->nr_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST ||
		    (ri->nr_segs == 0 && req->operation != BLKIF_OP_FLUSH_DISKCACHE))
			return -EPROTO;
		blk_req_copy_segs(req->seg, ri->nr_segs, segs);
		return 0;
	case BLKIF_OP_DISCARD: {
		const blkif_request_discard_t *dr = (const void *)req;

		ri->op = BLKIF_OP_DISCARD;
		ri->sector = dr->sector_number;
		ri->nr_sectors = dr->nr_sectors;
		ri->secure = dr->flag & BLKIF_DISCARD_SECURE;
		return 0;
	}
	case BLKIF_OP_INDIRECT: {
		const blkif_request_indirect_t *ir = (const void *)req;

		ri->op = ir->indirect_op;
		ri->sector = ir->sector_number;
		ri->nr_segs = ir->nr_segments;
		/* As Linux's blkback: indirect requests are reads and writes only. */
		if ((ri->op != BLKIF_OP_READ && ri->op != BLKIF_OP_WRITE) || ri->nr_segs == 0 ||
		    ri->nr_segs > max_indirect || ri->nr_segs > BLK_MAX_INDIRECT_SEGS)
			return -EPROTO;
		ri->nr_indirect = (unsigned)((ri->nr_segs + BLK_SEGS_PER_INDIRECT_PAGE - 1) /
					     BLK_SEGS_PER_INDIRECT_PAGE);
		memcpy(ri->indirect_grefs, ir->indirect_grefs,
		       ri->nr_indirect * sizeof(ri->indirect_grefs[0]));
		return 0;
	}
	case BLKIF_OP_WRITE_BARRIER:
		/* Not advertised (feature-barrier): answered, not fatal. */
		ri->op = req->operation;
		return -EOPNOTSUPP;
	default:
		return -EPROTO;
	}
}

void blk_req_load_indirect(struct blk_req_info *ri, void *const *pages, struct blk_seg *segs)
{
	for (unsigned i = 0; i < ri->nr_segs; i++) {
		const struct blkif_request_segment *s =
		    (const struct blkif_request_segment *)pages[i / BLK_SEGS_PER_INDIRECT_PAGE] +
		    i % BLK_SEGS_PER_INDIRECT_PAGE;
		struct blkif_request_segment copy;

		/* One read of the shared entry, then only the copy is used. */
		memcpy(&copy, (const void *)s, sizeof(copy));
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		segs[i].gref = copy.gref;
		segs[i].first = copy.first_sect;
		segs[i].last = copy.last_sect;
	}
}

int blk_req_check_segs(struct blk_req_info *ri, const struct blk_seg *segs)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < ri->nr_segs; i++) {
		if (segs[i].first > segs[i].last || segs[i].last >= BLK_SECTORS_PER_PAGE)
			return -EPROTO;
		n += (uint64_t)(segs[i].last - segs[i].first + 1);
	}
	if (ri->op != BLKIF_OP_DISCARD)
		ri->nr_sectors = n;
	return 0;
}

bool blk_req_in_range(const struct blk_req_info *ri, uint64_t disk_sectors)
{
	/* Written so that no sum can wrap. */
	return ri->sector <= disk_sectors && ri->nr_sectors <= disk_sectors - ri->sector;
}
