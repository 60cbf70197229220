// SPDX-License-Identifier: MIT
// libFuzzer target for blkback's request checks (backends/blk/blk_req.c):
// a hostile frontend's ring request, then its indirect pages.
//
// Input: byte 0 picks the max-indirect-segments limit blkback advertises
// (0: none, 1..255: that many, else BLK_MAX_INDIRECT_SEGS as the daemon
// does); the next sizeof(blkif_request_t) bytes are the request copied off
// the ring (zero-padded); the rest fills the indirect pages.
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../backends/blk/blkback.h"

static struct blk_seg bf_segs[BLK_MAX_INDIRECT_SEGS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	blkif_request_t req;
	struct blk_req_info ri;
	unsigned max_indirect;
	int ret;

	if (size < 1)
		return 0;
	max_indirect = data[0] == 0xff ? BLK_MAX_INDIRECT_SEGS : data[0];
	data++, size--;
	memset(&req, 0, sizeof(req));
	memcpy(&req, data, size < sizeof(req) ? size : sizeof(req));
	data += size < sizeof(req) ? size : sizeof(req);
	size -= size < sizeof(req) ? size : sizeof(req);

	ret = blk_req_parse(&req, max_indirect, &ri, bf_segs);
	if (ret == -EPROTO || ret == -EOPNOTSUPP)
		return 0;
	if (ret != 0)
		abort(); /* documented: 0, -EPROTO or -EOPNOTSUPP */
	if (ri.nr_segs > BLK_MAX_INDIRECT_SEGS)
		abort();
	if (ri.nr_indirect) {
		void *pages[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST] = { 0 };

		if (ri.nr_indirect > BLK_MAX_INDIRECT_PAGES || (ri.nr_segs > max_indirect))
			abort();
		/* Exactly the pages the grants would map: ASan catches reads past them. */
		for (unsigned i = 0; i < ri.nr_indirect; i++) {
			size_t n = size < BLK_PAGE_SIZE ? size : BLK_PAGE_SIZE;

			pages[i] = calloc(1, BLK_PAGE_SIZE);
			if (!pages[i])
				abort();
			memcpy(pages[i], data, n);
			data += n, size -= n;
		}
		blk_req_load_indirect(&ri, pages, bf_segs);
		for (unsigned i = 0; i < ri.nr_indirect; i++)
			free(pages[i]);
	} else if (ri.op == BLKIF_OP_READ || ri.op == BLKIF_OP_WRITE) {
		if (ri.nr_segs == 0 || ri.nr_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST)
			abort();
	}
	if (blk_req_check_segs(&ri, bf_segs) == 0) {
		/* Every segment lies in its page, so the total is bounded. */
		if (ri.op != BLKIF_OP_DISCARD &&
		    ri.nr_sectors > (uint64_t)ri.nr_segs * BLK_SECTORS_PER_PAGE)
			abort();
		for (uint64_t disk = 0; disk < 3; disk++) {
			uint64_t sectors = disk == 0 ? 0 : disk == 1 ? 2048 : UINT64_MAX;

			if (blk_req_in_range(&ri, sectors) &&
			    (ri.sector > sectors || ri.nr_sectors > sectors - ri.sector))
				abort();
		}
	}
	return 0;
}
