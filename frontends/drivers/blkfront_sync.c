// SPDX-License-Identifier: MIT
// blkfront synchronous helpers: pipelined reads and writes, flush and discard, each waited for.
#include <svk/blkfront.h>
#include <svk/printk.h>

/* Largest request the helpers build: half the pool, so two are in flight. */
#define CHUNK_PAGES (BLKFRONT_POOL_PAGES / 2)

struct rw_state {
	bool write;
	blkfront_page_fn fn;
	void *arg;
	unsigned int outstanding;
	int err;
};

/* Wait for the next answers; a backend silent for BLKFRONT_TIMEOUT_NS kills the device. */
static int wait_answers(struct blkfront_dev *d)
{
	int rc = blkfront_wait(d, BLKFRONT_TIMEOUT_NS);

	if (rc == -XEN_ETIMEDOUT) {
		printk("blkfront: vbd %u: no answer for %llu s with %u requests out; device "
		       "disabled\n",
		       d->devid, (unsigned long long)(BLKFRONT_TIMEOUT_NS / 1000000000ULL),
		       d->in_flight);
		d->broken = true;
	}
	return rc;
}

static void rw_done(void *arg, struct blkfront_dev *d, unsigned int id)
{
	struct rw_state *st = arg;
	struct blkfront_slot *s = &d->slot[id];
	int rc = blkfront_status_errno(s->status);

	st->outstanding--;
	if (rc && !st->err)
		st->err = rc;
	if (!st->write && !st->err) {
		uint64_t left = (uint64_t)s->nr_sectors * BLKFRONT_SECTOR;

		for (unsigned int i = 0; left && !st->err; i++) {
			size_t len = left < PAGE_SIZE ? (size_t)left : PAGE_SIZE;

			st->err = st->fn(st->arg, s->cookie + i * PAGE_SIZE,
					 blkfront_slot_page(d, id, i), len);
			left -= len;
		}
	}
	blkfront_slot_put(d, id);
}

/* Build and queue one request of @len bytes at byte @off.  0 or -errno (-XEN_EAGAIN: later). */
static int rw_queue_one(struct blkfront_dev *d, struct rw_state *st, uint64_t sector, uint64_t off,
			uint64_t len)
{
	unsigned int pages = (unsigned int)((len + PAGE_SIZE - 1) / PAGE_SIZE);
	int id = blkfront_slot_get(d, pages), rc = 0;

	if (id < 0)
		return id;
	for (unsigned int i = 0; st->write && !rc && i < pages; i++) {
		uint64_t left = len - (uint64_t)i * PAGE_SIZE;

		rc = st->fn(st->arg, off + (uint64_t)i * PAGE_SIZE,
			    blkfront_slot_page(d, (unsigned int)id, i),
			    left < PAGE_SIZE ? (size_t)left : PAGE_SIZE);
	}
	d->slot[id].cookie = (uintptr_t)off;
	if (!rc)
		rc = blkfront_queue_rw(d, (unsigned int)id, st->write,
				       sector + off / BLKFRONT_SECTOR,
				       (uint32_t)(len / BLKFRONT_SECTOR));
	if (rc) {
		blkfront_slot_put(d, (unsigned int)id);
		return rc;
	}
	st->outstanding++;
	return 0;
}

int blkfront_rw(struct blkfront_dev *d, bool write, uint64_t sector, uint64_t nbytes,
		blkfront_page_fn fn, void *arg)
{
	struct rw_state st = { .write = write, .fn = fn, .arg = arg };
	uint64_t chunk, off = 0;
	int rc;

	if (nbytes % BLKFRONT_SECTOR)
		return -XEN_EINVAL;
	chunk = (uint64_t)(d->max_segs < CHUNK_PAGES ? d->max_segs : CHUNK_PAGES) * PAGE_SIZE;
	for (;;) {
		bool queued = false;

		while (off < nbytes && !st.err) {
			uint64_t len = nbytes - off < chunk ? nbytes - off : chunk;

			rc = rw_queue_one(d, &st, sector, off, len);
			if (rc == -XEN_EAGAIN && st.outstanding)
				break; /* full: take answers first */
			if (rc) {
				st.err = rc;
				break;
			}
			off += len;
			queued = true;
		}
		if (queued)
			blkfront_kick(d);
		if (!st.outstanding)
			break;
		rc = wait_answers(d);
		if (rc)
			return st.err ? st.err : rc;
		rc = blkfront_reap(d, rw_done, &st);
		if (rc < 0)
			return rc; /* the backend broke the protocol: that first */
	}
	return st.err;
}

static int copy_out(void *arg, uint64_t off, void *page, size_t len)
{
	memcpy((char *)arg + off, page, len);
	return 0;
}

static int copy_in(void *arg, uint64_t off, void *page, size_t len)
{
	memcpy(page, (const char *)arg + off, len);
	return 0;
}

int blkfront_read(struct blkfront_dev *d, uint64_t sector, void *buf, size_t nbytes)
{
	return blkfront_rw(d, false, sector, nbytes, copy_out, buf);
}

int blkfront_write(struct blkfront_dev *d, uint64_t sector, const void *buf, size_t nbytes)
{
	return blkfront_rw(d, true, sector, nbytes, copy_in, (void *)buf);
}

struct one {
	unsigned int id;
	bool done;
	int16_t status;
};

static void one_done(void *arg, struct blkfront_dev *d, unsigned int id)
{
	struct one *o = arg;

	if (id == o->id) {
		o->done = true;
		o->status = d->slot[id].status;
	}
	blkfront_slot_put(d, id);
}

/* Push slot @id's request and wait for its answer.  Its -errno. */
static int one_request(struct blkfront_dev *d, unsigned int id)
{
	struct one o = { .id = id };
	int rc;

	blkfront_kick(d);
	while (!o.done) {
		rc = wait_answers(d);
		if (!rc)
			rc = blkfront_reap(d, one_done, &o);
		if (rc < 0)
			return rc;
	}
	return blkfront_status_errno(o.status);
}

int blkfront_flush(struct blkfront_dev *d)
{
	int id = blkfront_slot_get(d, 0), rc;

	if (id < 0)
		return id;
	rc = blkfront_queue_flush(d, (unsigned int)id);
	if (rc) {
		blkfront_slot_put(d, (unsigned int)id);
		return rc;
	}
	return one_request(d, (unsigned int)id);
}

int blkfront_discard(struct blkfront_dev *d, uint64_t sector, uint64_t nr_sectors)
{
	int id = blkfront_slot_get(d, 0), rc;

	if (id < 0)
		return id;
	rc = blkfront_queue_discard(d, (unsigned int)id, sector, nr_sectors);
	if (rc) {
		blkfront_slot_put(d, (unsigned int)id);
		return rc;
	}
	return one_request(d, (unsigned int)id);
}
