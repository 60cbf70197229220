// SPDX-License-Identifier: MIT
// The blk-bench=SECONDS word: random 4 KiB and sequential 1 MiB jobs on xvda, batched per notify.
#include <svk/blkfront.h>
#include <svk/printk.h>
#include <svk/time.h>

#define XVDA 51712
#define NS 1000000000ULL

struct bench_job {
	const char *name;
	bool write, random;
	unsigned int kib, depth;
};

/* docs/blkback.md: the jobs bench/blk.sh parses, in its order. */
static const struct bench_job jobs[] = {
	{ "randread-4k-qd1", false, true, 4, 1 },    { "randread-4k-qd32", false, true, 4, 32 },
	{ "randwrite-4k-qd1", true, true, 4, 1 },    { "randwrite-4k-qd32", true, true, 4, 32 },
	{ "seqread-1m-qd1", false, false, 1024, 1 }, { "seqwrite-1m-qd1", true, false, 1024, 1 },
};

struct bench_run {
	uint64_t rng;
	uint64_t done_bytes;
	int err;
};

/* xorshift64: good enough to scatter 4 KiB requests over the disk. */
static uint64_t bench_rand(struct bench_run *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

static void bench_done(void *arg, struct blkfront_dev *d, unsigned int id)
{
	struct bench_run *r = arg;
	int rc = blkfront_status_errno(d->slot[id].status);

	if (rc && !r->err)
		r->err = rc;
	r->done_bytes += (uint64_t)d->slot[id].nr_sectors * BLKFRONT_SECTOR;
	blkfront_slot_put(d, id);
}

/*
 * One job: keep @depth I/Os of @kib KiB in flight for @seconds (an I/O
 * larger than a request is several requests in flight together), one
 * push and at most one notification per batch, blocking between batches.
 */
static int bench_job(struct blkfront_dev *d, const struct bench_job *j, uint64_t seconds)
{
	unsigned int io_pages = j->kib / 4;
	unsigned int req_pages = io_pages < d->max_segs ? io_pages : d->max_segs;
	unsigned int depth = j->depth * ((io_pages + req_pages - 1) / req_pages);
	uint64_t req_sectors = (uint64_t)req_pages * (PAGE_SIZE / BLKFRONT_SECTOR);
	uint64_t slots = d->sectors / req_sectors, seq = 0;
	struct bench_run r = { .rng = 0x9e3779b97f4a7c15ULL ^ d->sectors };
	uint64_t t0, t1, end, ios, mib10;
	int rc = 0;

	if (!slots)
		return -XEN_ENOSPC;
	t0 = time_now_ns();
	end = t0 + seconds * NS;
	for (;;) {
		unsigned int queued = 0;

		while (!r.err && d->in_flight < depth && time_now_ns() < end) {
			uint64_t sector;
			int id = blkfront_slot_get(d, req_pages);

			if (id == -XEN_EAGAIN)
				break;
			if (id < 0) {
				r.err = id;
				break;
			}
			if (j->random) {
				sector = (bench_rand(&r) % slots) * req_sectors;
			} else {
				sector = seq * req_sectors;
				seq = (seq + 1) % slots;
			}
			rc = blkfront_queue_rw(d, (unsigned int)id, j->write, sector,
					       (uint32_t)req_sectors);
			if (rc) {
				blkfront_slot_put(d, (unsigned int)id);
				r.err = rc;
				break;
			}
			queued++;
		}
		if (queued)
			blkfront_kick(d);
		if (!d->in_flight)
			break;
		rc = blkfront_wait(d, BLKFRONT_TIMEOUT_NS);
		if (!rc)
			rc = blkfront_reap(d, bench_done, &r);
		if (rc < 0) {
			r.err = rc;
			break;
		}
	}
	t1 = time_now_ns();
	if (r.err)
		return r.err;
	if (t1 <= t0)
		t1 = t0 + 1;
	ios = r.done_bytes / ((uint64_t)io_pages * PAGE_SIZE);
	/* Tenths of MiB/s, in KiB and µs so nothing overflows below ~1 EB. */
	mib10 = (r.done_bytes / 1024) * 10 * 1000000 / ((t1 - t0) / 1000 + 1) / 1024;
	printk("blk-bench: %s iops=%llu mib_s=%llu.%llu\n", j->name,
	       (unsigned long long)(ios * NS / (t1 - t0)), (unsigned long long)(mib10 / 10),
	       (unsigned long long)(mib10 % 10));
	return 0;
}

void blk_word_bench(const start_info_t *si, const char *arg)
{
	struct blkfront_dev *d;
	uint64_t seconds;
	int rc;

	if (!arg || parse_u64(arg, &seconds) || seconds == 0 || seconds > 3600) {
		printk("blk-bench: needs seconds per job (blk-bench=SECONDS, 1..3600)\n");
		return;
	}
	if (!time_available()) {
		printk("blk-bench: FAIL no time source\n");
		return;
	}
	rc = blkfront_open(XVDA, &d);
	if (rc) {
		printk("blk-bench: FAIL opening xvda: %d\n", rc);
		return;
	}
	printk("blk-bench (xvda: %llu sectors, %u ring pages, persistent %d, %u segments per "
	       "request)\n",
	       (unsigned long long)d->sectors, 1u << d->ring_order, d->persistent, d->max_segs);
	for (unsigned int i = 0; i < ARRAY_SIZE(jobs); i++) {
		if (jobs[i].write && d->readonly)
			continue;
		rc = bench_job(d, &jobs[i], seconds);
		if (rc) {
			printk("blk-bench: FAIL %s: %d\n", jobs[i].name, rc);
			break;
		}
	}
	printk("blk-bench (%lu requests, %lu notifications)\n", d->reqs, d->notifies);
	blkfront_close(d);
}
