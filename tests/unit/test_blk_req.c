// SPDX-License-Identifier: MIT
/* Check suite for backends/blk/blk_req.c: blkif request checks against honest and hostile
 * frontends. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../../backends/blk/blkback.h"

static struct blk_seg segs[BLK_MAX_INDIRECT_SEGS];

static blkif_request_t rw(uint8_t op, uint8_t nsegs)
{
	blkif_request_t r;

	memset(&r, 0, sizeof(r));
	r.operation = op;
	r.nr_segments = nsegs;
	r.id = 0x1234;
	r.sector_number = 8;
	for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
		r.seg[i].gref = 100 + i;
		r.seg[i].first_sect = 0;
		r.seg[i].last_sect = 7;
	}
	return r;
}

START_TEST(read_write_parse)
{
	struct blk_req_info ri;
	blkif_request_t r = rw(BLKIF_OP_WRITE, 3);

	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), 0);
	ck_assert_uint_eq(ri.op, BLKIF_OP_WRITE);
	ck_assert_uint_eq(ri.id, 0x1234);
	ck_assert_uint_eq(ri.nr_segs, 3);
	ck_assert_uint_eq(segs[2].gref, 102);
	ck_assert_int_eq(blk_req_check_segs(&ri, segs), 0);
	ck_assert_uint_eq(ri.nr_sectors, 24);
}
END_TEST

START_TEST(segment_counts)
{
	struct blk_req_info ri;
	blkif_request_t r = rw(BLKIF_OP_READ, 0);

	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), -EPROTO);
	r.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), -EPROTO);
	r.nr_segments = 255;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), -EPROTO);
	r.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), 0);
	/* A flush may be empty. */
	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 0);
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), 0);
	ck_assert_int_eq(blk_req_check_segs(&ri, segs), 0);
	ck_assert_uint_eq(ri.nr_sectors, 0);
}
END_TEST

START_TEST(bad_operations)
{
	struct blk_req_info ri;
	blkif_request_t r = rw(BLKIF_OP_RESERVED_1, 1);

	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), -EPROTO);
	r.operation = 200;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), -EPROTO);
	r.operation = BLKIF_OP_WRITE_BARRIER;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), -EOPNOTSUPP);
}
END_TEST

START_TEST(sector_spans)
{
	struct blk_req_info ri;
	blkif_request_t r = rw(BLKIF_OP_READ, 2);

	r.seg[1].first_sect = 5;
	r.seg[1].last_sect = 4;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), 0);
	ck_assert_int_eq(blk_req_check_segs(&ri, segs), -EPROTO);
	r.seg[1].first_sect = 0;
	r.seg[1].last_sect = 8; /* past a 4 KiB page */
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), 0);
	ck_assert_int_eq(blk_req_check_segs(&ri, segs), -EPROTO);
	r.seg[1].first_sect = 7;
	r.seg[1].last_sect = 7;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), 0);
	ck_assert_int_eq(blk_req_check_segs(&ri, segs), 0);
	ck_assert_uint_eq(ri.nr_sectors, 9);
}
END_TEST

START_TEST(ranges_never_wrap)
{
	struct blk_req_info ri = { .sector = 0, .nr_sectors = 100 };

	ck_assert(blk_req_in_range(&ri, 100));
	ri.sector = 1;
	ck_assert(!blk_req_in_range(&ri, 100));
	ri.sector = UINT64_MAX - 10;
	ri.nr_sectors = 20;
	ck_assert(!blk_req_in_range(&ri, 100));
	ri.sector = 50;
	ri.nr_sectors = UINT64_MAX;
	ck_assert(!blk_req_in_range(&ri, 100));
	ri.sector = 100;
	ri.nr_sectors = 0;
	ck_assert(blk_req_in_range(&ri, 100));
}
END_TEST

START_TEST(indirect_parse)
{
	struct blk_req_info ri;
	blkif_request_t r;
	blkif_request_indirect_t *ir = (void *)&r;

	memset(&r, 0, sizeof(r));
	ir->operation = BLKIF_OP_INDIRECT;
	ir->indirect_op = BLKIF_OP_WRITE;
	ir->nr_segments = 100;
	ir->id = 7;
	ir->sector_number = 16;
	ir->indirect_grefs[0] = 55;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), 0);
	ck_assert_uint_eq(ri.op, BLKIF_OP_WRITE);
	ck_assert_uint_eq(ri.ring_op, BLKIF_OP_INDIRECT);
	ck_assert_uint_eq(ri.nr_indirect, 1);
	ck_assert_uint_eq(ri.indirect_grefs[0], 55);
	ck_assert_uint_eq(ri.sector, 16);
	/* More than advertised, none, or a flush/discard inside: protocol errors. */
	ir->nr_segments = 257;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), -EPROTO);
	ir->nr_segments = 0;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), -EPROTO);
	ir->nr_segments = 8;
	ir->indirect_op = BLKIF_OP_FLUSH_DISKCACHE;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), -EPROTO);
	ir->indirect_op = BLKIF_OP_INDIRECT;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), -EPROTO);
	ir->indirect_op = BLKIF_OP_READ;
	ir->nr_segments = 20;
	ck_assert_int_eq(blk_req_parse(&r, 16, &ri, segs), -EPROTO);
}
END_TEST

START_TEST(indirect_load)
{
	static struct blkif_request_segment page[BLK_SEGS_PER_INDIRECT_PAGE];
	void *pages[1] = { page };
	struct blk_req_info ri = { .op = BLKIF_OP_READ, .nr_segs = 3, .nr_indirect = 1 };

	for (unsigned i = 0; i < 3; i++) {
		page[i].gref = 900 + i;
		page[i].first_sect = (uint8_t)i;
		page[i].last_sect = 7;
	}
	blk_req_load_indirect(&ri, pages, segs);
	ck_assert_uint_eq(segs[2].gref, 902);
	ck_assert_uint_eq(segs[2].first, 2);
	ck_assert_int_eq(blk_req_check_segs(&ri, segs), 0);
	ck_assert_uint_eq(ri.nr_sectors, 8 + 7 + 6);
}
END_TEST

START_TEST(discard_parse)
{
	struct blk_req_info ri;
	blkif_request_t r;
	blkif_request_discard_t *dr = (void *)&r;

	memset(&r, 0, sizeof(r));
	dr->operation = BLKIF_OP_DISCARD;
	dr->flag = BLKIF_DISCARD_SECURE;
	dr->id = 3;
	dr->sector_number = 1000;
	dr->nr_sectors = 2048;
	ck_assert_int_eq(blk_req_parse(&r, 256, &ri, segs), 0);
	ck_assert_uint_eq(ri.op, BLKIF_OP_DISCARD);
	ck_assert(ri.secure);
	ck_assert_int_eq(blk_req_check_segs(&ri, segs), 0);
	ck_assert_uint_eq(ri.nr_sectors, 2048);
	ck_assert(!blk_req_in_range(&ri, 3000));
	ck_assert(blk_req_in_range(&ri, 3048));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blk_req");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, read_write_parse);
	tcase_add_test(tc, segment_counts);
	tcase_add_test(tc, bad_operations);
	tcase_add_test(tc, sector_spans);
	tcase_add_test(tc, ranges_never_wrap);
	tcase_add_test(tc, indirect_parse);
	tcase_add_test(tc, indirect_load);
	tcase_add_test(tc, discard_parse);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
