// SPDX-License-Identifier: MIT
/* Benchmark of blkback's data plane alone: a zero-cost frontend keeps N requests in flight on one
 * ring over the real io_uring path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "blkback.h"
#include "fakexen_libs.h"

/*
 * Jobs as bench/blk.sh runs them under fio on the host: 4 KiB random reads
 * and writes at depth 1 and 32, 1 MiB sequential reads and writes (one
 * indirect request of 256 segments each) at depth 1.  Grants come from the
 * fake library (a memfd, persistent grants as Linux's blkfront uses them),
 * so this measures blkback's own overhead over the same io_uring I/O.
 * Output: one line per job, "JOB iops=N mib_s=M".
 */
#define BB_RING_ORDER 2
#define BB_GUEST_PAGES 600

struct bb_job {
	const char *name;
	uint8_t op;
	unsigned segs; /* 4 KiB pages per request */
	unsigned depth;
	bool random;
};

static double bb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t bb_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Puts request `slot` (its own pages) on the ring at the next position. */
static void bb_put(blkif_front_ring_t *fr, const struct bb_job *j, unsigned slot, uint64_t sector)
{
	blkif_request_t *r = RING_GET_REQUEST(fr, fr->req_prod_pvt);
	unsigned page0 = 1 + slot * j->segs;

	fr->req_prod_pvt++;
	memset(r, 0, sizeof(*r));
	r->id = slot;
	if (j->segs <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		r->operation = j->op;
		r->nr_segments = (uint8_t)j->segs;
		r->sector_number = sector;
		for (unsigned i = 0; i < j->segs; i++) {
			r->seg[i].gref = page0 + i;
			r->seg[i].last_sect = 7;
		}
		return;
	}
	blkif_request_indirect_t *ir = (void *)r;
	/* Segment lists live at the top of guest memory, one page per slot. */
	unsigned ind = BB_GUEST_PAGES - 1 - slot;
	struct blkif_request_segment *seg = (void *)(fx_guest + ind * 4096ul);

	ir->operation = BLKIF_OP_INDIRECT;
	ir->indirect_op = j->op;
	ir->nr_segments = (uint16_t)j->segs;
	ir->sector_number = sector;
	ir->indirect_grefs[0] = ind;
	for (unsigned i = 0; i < j->segs; i++) {
		seg[i].gref = page0 + i;
		seg[i].first_sect = 0;
		seg[i].last_sect = 7;
	}
}

static int bb_run(const char *img, const struct bb_job *j, double seconds)
{
	struct blk_shadow_id id = { .domid = FX_DOMID, .nr_pages = 1u << BB_RING_ORDER };
	struct blk_disk disk;
	struct blk_io io;
	struct blk_ring r;
	blkif_front_ring_t fr;
	char err[256];
	uint64_t seed = 88172645463325252ull, done = 0, next_seq = 0, span;
	unsigned bytes = j->segs * 4096;
	int notify, ret;

	if (1 + j->depth * j->segs >= BB_GUEST_PAGES - j->depth) {
		fprintf(stderr, "blk_bench: %s does not fit in guest memory\n", j->name);
		return -EINVAL;
	}
	ret = blk_disk_open(&disk, img, false, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "blk_bench: %s\n", err);
		return ret;
	}
	span = (disk.sectors << 9) / bytes;
	ret = blk_io_init(&io, 256);
	if (ret)
		goto out_disk;
	void *sring = mmap(NULL, id.nr_pages * 4096ul, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sring == MAP_FAILED) {
		ret = -errno;
		goto out_io;
	}
	SHARED_RING_INIT((blkif_sring_t *)sring);
	FRONT_RING_INIT(&fr, (blkif_sring_t *)sring, id.nr_pages * 4096ul);
	memset(&r, 0, sizeof(r));
	strcpy(r.name, "bench");
	r.domid = FX_DOMID;
	r.io = &io;
	r.disk = &disk;
	r.sring = sring;
	r.nr_pages = id.nr_pages;
	r.local_port = fx_guest_port();
	r.persistent = true;
	id.ring_size = __CONST_RING_SIZE(blkif, 4096) << BB_RING_ORDER;
	ret = blk_ring_start(&r, NULL, &id);
	if (ret)
		goto out_ring;

	double t0 = bb_now(), end = t0 + seconds, t1;
	for (unsigned s = 0; s < j->depth; s++)
		bb_put(&fr, j, s,
		       (j->random ? bb_rand(&seed) % span : next_seq++ % span) * (bytes >> 9));
	for (;;) {
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fr, notify);
		(void)notify; /* the backend is driven directly */
		blk_ring_kick(&r);
		blk_io_submit(&io);
		blk_io_reap(&io, true);
		blk_ring_push(&r);
		t1 = bb_now();
		while (RING_HAS_UNCONSUMED_RESPONSES(&fr)) {
			blkif_response_t rsp = *RING_GET_RESPONSE(&fr, fr.rsp_cons);

			fr.rsp_cons++;
			if (rsp.status != BLKIF_RSP_OKAY) {
				fprintf(stderr, "blk_bench: %s: request failed (%d)\n", j->name,
					rsp.status);
				ret = -EIO;
				goto out_stop;
			}
			done++;
			if (t1 < end)
				bb_put(&fr, j, (unsigned)rsp.id,
				       (j->random ? bb_rand(&seed) % span : next_seq++ % span) *
					   (bytes >> 9));
		}
		fr.sring->rsp_event = fr.rsp_cons + 1;
		if (t1 >= end && !r.inflight && fr.req_prod_pvt == fr.rsp_cons)
			break;
	}
	t1 = bb_now() - t0;
	printf("%s iops=%.0f mib_s=%.1f\n", j->name, (double)done / t1,
	       (double)done * bytes / t1 / 1048576.0);
	fflush(stdout);
out_stop:
	blk_ring_stop(&r, true);
out_ring:
	munmap(sring, id.nr_pages * 4096ul);
out_io:
	blk_io_fini(&io);
out_disk:
	blk_disk_close(&disk);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct bb_job jobs[] = {
		{ "randread-4k-qd1", BLKIF_OP_READ, 1, 1, true },
		{ "randread-4k-qd32", BLKIF_OP_READ, 1, 32, true },
		{ "randwrite-4k-qd1", BLKIF_OP_WRITE, 1, 1, true },
		{ "randwrite-4k-qd32", BLKIF_OP_WRITE, 1, 32, true },
		{ "seqread-1m-qd1", BLKIF_OP_READ, 256, 1, false },
		{ "seqwrite-1m-qd1", BLKIF_OP_WRITE, 256, 1, false },
	};
	double seconds;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: blk_bench IMAGE SECONDS [JOB...]\n");
		return 2;
	}
	seconds = atof(argv[2]);
	fx_guest_init(BB_GUEST_PAGES);
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		bool want = argc == 3;

		for (int a = 3; a < argc; a++)
			want |= !strcmp(argv[a], jobs[i].name);
		if (want && bb_run(argv[1], &jobs[i], seconds))
			rc = 1;
	}
	return rc;
}
