// SPDX-License-Identifier: MIT
/* Check suite for blkback's data plane (blk_ring.c, blk_grant.c, blk_io.c, blk_shadow.c) on a real
 * image file, with a fake grant and event library. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../backends/blk/blkback.h"

#include "../fakes/fakexen_libs.h"

#define IMG_SECTORS 2048 /* 1 MiB */
#define GUEST_PAGES 64

static char img_path[64];
/* Mapping limits the next fx_start gives its ring (NULL: none, as before the daemon sets them). */
static struct blk_maps *fx_maps;

/* ---- the frontend's side ---- */

struct fixture {
	struct blk_disk disk;
	struct blk_io io;
	struct blk_ring r;
	blkif_front_ring_t fr;
	void *sring;
	unsigned nr_pages;
};

/* The image of the current test goes when the next one starts, or at exit. */
static void remove_image(void)
{
	if (img_path[0])
		unlink(img_path);
	img_path[0] = '\0';
}

static void setup_guest(void)
{
	static bool registered;

	if (!registered)
		registered = !atexit(remove_image);
	remove_image();
	fx_guest_init(GUEST_PAGES);
	strcpy(img_path, "/tmp/test_blk_ring.XXXXXX");
	int fd = mkstemp(img_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, IMG_SECTORS * 512l), 0);
	close(fd);
}

/* Opens the image and starts a ring of nr_pages (shared, so a forked backend shares it). */
static void fx_start(struct fixture *f, unsigned nr_pages, bool ro, bool persistent,
		     const char *shadow, bool init_ring)
{
	char err[256];
	struct blk_shadow_id id = { .domid = FX_DOMID, .devid = 51712, .nr_pages = nr_pages };

	ck_assert_int_eq(blk_disk_open(&f->disk, img_path, ro, err, sizeof(err)), 0);
	ck_assert_int_eq(blk_io_init(&f->io, 64), 0);
	if (init_ring) {
		f->nr_pages = nr_pages;
		f->sring = mmap(NULL, nr_pages * 4096ul, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		ck_assert_ptr_ne(f->sring, MAP_FAILED);
		SHARED_RING_INIT((blkif_sring_t *)f->sring);
		FRONT_RING_INIT(&f->fr, (blkif_sring_t *)f->sring, nr_pages * 4096ul);
	}
	memset(&f->r, 0, sizeof(f->r));
	strcpy(f->r.name, "test");
	f->r.domid = FX_DOMID;
	f->r.io = &f->io;
	f->r.disk = &f->disk;
	f->r.sring = f->sring;
	f->r.nr_pages = nr_pages;
	f->r.local_port = fx_guest_port();
	f->r.persistent = persistent;
	f->r.maps = fx_maps;
	id.ring_size = __CONST_RING_SIZE(blkif, 4096) * nr_pages;
	ck_assert_int_eq(blk_ring_start(&f->r, shadow, &id), 0);
}

static void fx_stop(struct fixture *f)
{
	blk_ring_stop(&f->r, true);
	blk_io_fini(&f->io);
	blk_disk_close(&f->disk);
}

static blkif_request_t *put(struct fixture *f)
{
	blkif_request_t *req = RING_GET_REQUEST(&f->fr, f->fr.req_prod_pvt);

	f->fr.req_prod_pvt++;
	memset(req, 0, sizeof(*req));
	return req;
}

static void put_rw(struct fixture *f, uint8_t op, uint64_t id, uint64_t sector, uint32_t gref,
		   uint8_t first, uint8_t last)
{
	blkif_request_t *req = put(f);

	req->operation = op;
	req->nr_segments = 1;
	req->id = id;
	req->sector_number = sector;
	req->seg[0].gref = gref;
	req->seg[0].first_sect = first;
	req->seg[0].last_sect = last;
}

/*
 * Push the requests, let the backend run until it answered n (or gave up):
 * each pass is one round of the daemon's loop (kick, submit, push, reap).
 */
static void run(struct fixture *f, unsigned n)
{
	int notify;

	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->fr, notify);
	(void)notify;
	blk_ring_kick(&f->r);
	for (int i = 0; i < 10000; i++) {
		blk_io_submit(&f->io);
		blk_ring_push(&f->r);
		if (RING_HAS_UNCONSUMED_RESPONSES(&f->fr) >= n || f->r.broken)
			return;
		if (blk_ring_wants_kick(&f->r)) {
			blk_ring_kick(&f->r);
			blk_io_submit(&f->io);
		}
		if (f->io.inflight)
			blk_io_reap(&f->io, true);
	}
}

static blkif_response_t get(struct fixture *f)
{
	ck_assert(RING_HAS_UNCONSUMED_RESPONSES(&f->fr));
	blkif_response_t rsp = *RING_GET_RESPONSE(&f->fr, f->fr.rsp_cons);
	f->fr.rsp_cons++;
	return rsp;
}

static void img_read(void *buf, size_t len, off_t off)
{
	int fd = open(img_path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

/* ---- tests ---- */

START_TEST(write_lands_in_the_image_byte_for_byte)
{
	struct fixture f;
	uint8_t buf[4096];

	setup_guest();
	fx_start(&f, 1, false, false, NULL, true);
	for (unsigned i = 0; i < 4096; i++)
		fx_guest[5 * 4096 + i] = (uint8_t)(i * 7 + 1);
	put_rw(&f, BLKIF_OP_WRITE, 42, 16, 5, 0, 7);
	run(&f, 1);
	blkif_response_t rsp = get(&f);
	ck_assert_uint_eq(rsp.id, 42);
	ck_assert_int_eq(rsp.operation, BLKIF_OP_WRITE);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
	img_read(buf, 4096, 16 * 512);
	ck_assert_mem_eq(buf, fx_guest + 5 * 4096, 4096);
	/* Read it back into another page, sectors 2..5 of the page only. */
	memset(fx_guest + 6 * 4096, 0xee, 4096);
	put_rw(&f, BLKIF_OP_READ, 43, 16, 6, 2, 5);
	run(&f, 1);
	rsp = get(&f);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
	ck_assert_mem_eq(fx_guest + 6 * 4096 + 1024, fx_guest + 5 * 4096, 2048);
	ck_assert_uint_eq(fx_guest[6 * 4096 + 1023], 0xee);
	ck_assert_uint_eq(fx_guest[6 * 4096 + 3072], 0xee);
	ck_assert_int_gt(fx_notifies, 0);
	fx_stop(&f);
	ck_assert_int_eq(fx_live_maps, 0);
}
END_TEST

START_TEST(multi_segment_and_indirect)
{
	struct fixture f;
	static uint8_t buf[40 * 4096];

	setup_guest();
	fx_start(&f, 4, false, false, NULL, true);
	for (unsigned p = 10; p < 50; p++)
		memset(fx_guest + p * 4096ul, (int)p, 4096);
	/* Indirect: 40 pages from page 10, segments in page 9. */
	blkif_request_t *req = put(&f);
	blkif_request_indirect_t *ir = (void *)req;
	struct blkif_request_segment *seg = (void *)(fx_guest + 9 * 4096);

	ir->operation = BLKIF_OP_INDIRECT;
	ir->indirect_op = BLKIF_OP_WRITE;
	ir->nr_segments = 40;
	ir->id = 9;
	ir->sector_number = 64;
	ir->indirect_grefs[0] = 9;
	for (unsigned i = 0; i < 40; i++) {
		seg[i].gref = 10 + i;
		seg[i].first_sect = 0;
		seg[i].last_sect = 7;
	}
	run(&f, 1);
	blkif_response_t rsp = get(&f);
	ck_assert_uint_eq(rsp.id, 9);
	/* As Linux's blkback: answered with the indirect operation. */
	ck_assert_int_eq(rsp.operation, BLKIF_OP_WRITE);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
	img_read(buf, sizeof(buf), 64 * 512);
	ck_assert_mem_eq(buf, fx_guest + 10 * 4096, sizeof(buf));
	ck_assert_uint_eq(f.r.st.indirect, 1);
	fx_stop(&f);
	ck_assert_int_eq(fx_live_maps, 0);
}
END_TEST

START_TEST(read_only_disk_refuses_writes)
{
	struct fixture f;
	uint8_t buf[4096], zero[4096] = { 0 };

	setup_guest();
	fx_start(&f, 1, true, false, NULL, true);
	memset(fx_guest + 4096, 0xab, 4096);
	put_rw(&f, BLKIF_OP_WRITE, 1, 0, 1, 0, 7);
	put(&f)->operation = BLKIF_OP_DISCARD;
	put_rw(&f, BLKIF_OP_READ, 3, 0, 2, 0, 7);
	run(&f, 3);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_ERROR);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_ERROR);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_OKAY);
	img_read(buf, 4096, 0);
	ck_assert_mem_eq(buf, zero, 4096);
	ck_assert(!f.r.broken);
	fx_stop(&f);
}
END_TEST

START_TEST(out_of_range_and_bad_grants_are_errors)
{
	struct fixture f;

	setup_guest();
	fx_start(&f, 1, false, false, NULL, true);
	put_rw(&f, BLKIF_OP_WRITE, 1, IMG_SECTORS - 4, 1, 0, 7); /* runs off the end */
	put_rw(&f, BLKIF_OP_READ, 2, UINT64_MAX - 2, 1, 0, 7);	 /* wraps */
	put_rw(&f, BLKIF_OP_READ, 3, 0, 100, 0, 7);		 /* not granted */
	fx_grant(101, 3, true);
	put_rw(&f, BLKIF_OP_READ, 4, 0, 101, 0, 7);		/* read-only grant */
	put_rw(&f, BLKIF_OP_WRITE, 5, 0, 101, 0, 7);		/* fine to read from */
	put_rw(&f, BLKIF_OP_READ, 6, IMG_SECTORS - 8, 1, 0, 7); /* the last page */
	run(&f, 6);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_ERROR);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_ERROR);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_ERROR);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_ERROR);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_OKAY);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_OKAY);
	ck_assert(!f.r.broken);
	fx_stop(&f);
	ck_assert_int_eq(fx_live_maps, 0);
}
END_TEST

START_TEST(protocol_breakers_stop_the_ring)
{
	struct fixture f;

	setup_guest();
	fx_start(&f, 1, false, false, NULL, true);
	put_rw(&f, BLKIF_OP_READ, 1, 0, 1, 6, 2); /* first > last */
	run(&f, 1);
	ck_assert(f.r.broken);
	ck_assert(!RING_HAS_UNCONSUMED_RESPONSES(&f.fr));
	fx_stop(&f);

	setup_guest();
	fx_start(&f, 1, false, false, NULL, true);
	put_rw(&f, 77, 1, 0, 1, 0, 7); /* unknown op */
	run(&f, 1);
	ck_assert(f.r.broken);
	fx_stop(&f);

	setup_guest();
	fx_start(&f, 1, false, false, NULL, true);
	f.fr.req_prod_pvt += 1000; /* req_prod far ahead */
	run(&f, 1);
	ck_assert(f.r.broken);
	fx_stop(&f);
	ck_assert_int_eq(fx_live_maps, 0);
}
END_TEST

START_TEST(barrier_is_not_supported)
{
	struct fixture f;

	setup_guest();
	fx_start(&f, 1, false, false, NULL, true);
	put_rw(&f, BLKIF_OP_WRITE_BARRIER, 1, 0, 1, 0, 7);
	run(&f, 1);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_EOPNOTSUPP);
	ck_assert(!f.r.broken);
	fx_stop(&f);
}
END_TEST

START_TEST(flush_and_flush_with_data)
{
	struct fixture f;
	uint8_t buf[4096];

	setup_guest();
	fx_start(&f, 1, false, false, NULL, true);
	put(&f)->operation = BLKIF_OP_FLUSH_DISKCACHE;
	memset(fx_guest + 2 * 4096, 0x5a, 4096);
	put_rw(&f, BLKIF_OP_FLUSH_DISKCACHE, 2, 8, 2, 0, 7);
	run(&f, 2);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_OKAY);
	blkif_response_t rsp = get(&f);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
	ck_assert_int_eq(rsp.operation, BLKIF_OP_FLUSH_DISKCACHE);
	ck_assert_uint_eq(f.r.st.flushes, 2);
	img_read(buf, 4096, 8 * 512);
	ck_assert_mem_eq(buf, fx_guest + 2 * 4096, 4096);
	fx_stop(&f);
	ck_assert_int_eq(fx_live_maps, 0);
}
END_TEST

START_TEST(discard_punches_holes)
{
	struct fixture f;
	struct stat before, after;
	uint8_t buf[65536], zero[65536] = { 0 };

	setup_guest();
	fx_start(&f, 1, false, false, NULL, true);
	int fd = open(img_path, O_WRONLY);
	memset(buf, 0x77, sizeof(buf));
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(pwrite(fd, buf, sizeof(buf), i * 65536l), 65536);
	fsync(fd);
	close(fd);
	ck_assert_int_eq(stat(img_path, &before), 0);
	blkif_request_discard_t *dr = (void *)put(&f);
	dr->operation = BLKIF_OP_DISCARD;
	dr->id = 11;
	dr->sector_number = 128; /* 64 KiB */
	dr->nr_sectors = 512;	 /* 256 KiB */
	run(&f, 1);
	blkif_response_t rsp = get(&f);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
	ck_assert_int_eq(rsp.operation, BLKIF_OP_DISCARD);
	ck_assert_int_eq(stat(img_path, &after), 0);
	ck_assert_int_eq(after.st_size, before.st_size);
	ck_assert_int_lt(after.st_blocks, before.st_blocks);
	img_read(buf, sizeof(buf), 65536);
	ck_assert_mem_eq(buf, zero, sizeof(buf));
	img_read(buf, 512, 65536 - 512);
	ck_assert_uint_eq(buf[0], 0x77);
	fx_stop(&f);
}
END_TEST

START_TEST(persistent_grants_map_once)
{
	struct fixture f;

	setup_guest();
	fx_start(&f, 1, false, true, NULL, true);
	for (int i = 0; i < 5; i++) {
		put_rw(&f, BLKIF_OP_WRITE, (uint64_t)i, (uint64_t)i * 8, 4, 0, 7);
		run(&f, 1);
		ck_assert_int_eq(get(&f).status, BLKIF_RSP_OKAY);
		ck_assert_int_eq(fx_live_maps, 1);
	}
	ck_assert_uint_eq(f.r.st.pgrant_hits, 4);
	/* A ref granted read-only cannot be kept read-write: mapped per request. */
	fx_grant(120, 8, true);
	put_rw(&f, BLKIF_OP_WRITE, 9, 0, 120, 0, 7);
	run(&f, 1);
	ck_assert_int_eq(get(&f).status, BLKIF_RSP_OKAY);
	ck_assert_int_eq(fx_live_maps, 1);
	fx_stop(&f);
	ck_assert_int_eq(fx_live_maps, 0);
}
END_TEST

START_TEST(notifications_are_batched)
{
	struct fixture f;

	setup_guest();
	fx_start(&f, 1, false, false, NULL, true);
	for (int i = 0; i < 16; i++)
		put_rw(&f, BLKIF_OP_READ, (uint64_t)i, (uint64_t)i * 8, (uint32_t)(1 + i), 0, 7);
	int before = fx_notifies;
	run(&f, 16);
	ck_assert_uint_eq(RING_HAS_UNCONSUMED_RESPONSES(&f.fr), 16);
	/* Far fewer notifications than responses (the frontend asked once). */
	ck_assert_int_le(fx_notifies - before, 4);
	ck_assert_int_ge(fx_notifies - before, 1);
	/* A frontend that does not ask (rsp_event behind) gets no notification. */
	f.fr.rsp_cons += 16;
	f.fr.sring->rsp_event = f.fr.rsp_cons + 1000;
	before = fx_notifies;
	put_rw(&f, BLKIF_OP_READ, 99, 0, 1, 0, 7);
	run(&f, 1);
	ck_assert_int_eq(fx_notifies, before);
	fx_stop(&f);
}
END_TEST

START_TEST(full_ring_of_requests)
{
	struct fixture f;

	setup_guest();
	fx_start(&f, 1, false, false, NULL, true);
	unsigned n = RING_SIZE(&f.fr);
	for (unsigned i = 0; i < n; i++)
		put_rw(&f, BLKIF_OP_WRITE, i, i * 8, 1 + i % 60, 0, 7);
	run(&f, n);
	ck_assert_uint_eq(RING_HAS_UNCONSUMED_RESPONSES(&f.fr), n);
	bool seen[64] = { false };
	for (unsigned i = 0; i < n; i++) {
		blkif_response_t rsp = get(&f);
		ck_assert_uint_lt(rsp.id, n);
		ck_assert(!seen[rsp.id]);
		seen[rsp.id] = true;
		ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
	}
	fx_stop(&f);
}
END_TEST

/*
 * A crash of blkback: a child process takes requests off the ring, starts
 * or even answers some without pushing, then dies (_exit, as kill -9).  A
 * new backend with the same shadow finishes every request exactly once.
 */
START_TEST(restart_finishes_requests_exactly_once)
{
	struct fixture f;
	char shadow[64];
	uint8_t buf[4096];
	pid_t pid;
	int st;

	setup_guest();
	strcpy(shadow, "/tmp/test_blk_shadow.XXXXXX");
	close(mkstemp(shadow));
	unlink(shadow);
	fx_start(&f, 1, false, false, shadow, true);
	/* Two requests answered and pushed before the crash. */
	memset(fx_guest + 1 * 4096, 0x11, 4096);
	put_rw(&f, BLKIF_OP_WRITE, 100, 0, 1, 0, 7);
	put_rw(&f, BLKIF_OP_WRITE, 101, 8, 1, 0, 7);
	run(&f, 2);
	ck_assert_uint_eq(RING_HAS_UNCONSUMED_RESPONSES(&f.fr), 2);
	/* Six more: the child consumes them; answers some without a push; dies. */
	for (unsigned i = 0; i < 6; i++) {
		memset(fx_guest + (10 + i) * 4096ul, 0x20 + (int)i, 4096);
		put_rw(&f, BLKIF_OP_WRITE, 200 + i, 64 + i * 8, 10 + i, 0, 7);
	}
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f.fr, notify);
	(void)notify;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		blk_ring_kick(&f.r);
		blk_io_submit(&f.io);
		blk_io_reap(&f.io, true); /* at least one answered, never pushed */
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(!RING_HAS_UNCONSUMED_RESPONSES(&f.fr) || f.fr.sring->rsp_prod == 2);
	/* The restarted backend: same ring, same shadow, new process state. */
	blk_shadow_close(&f.r.shadow, false);
	free(f.r.pend[0].segs);
	free(f.r.pend[0].iov);
	free(f.r.pend);
	blk_io_fini(&f.io);
	blk_disk_close(&f.disk);
	fx_start(&f, 1, false, false, shadow, false);
	run(&f, 8);
	ck_assert_uint_eq(RING_HAS_UNCONSUMED_RESPONSES(&f.fr), 8);
	bool seen[6] = { false };
	ck_assert_uint_eq(get(&f).id, 100);
	ck_assert_uint_eq(get(&f).id, 101);
	for (unsigned i = 0; i < 6; i++) {
		blkif_response_t rsp = get(&f);
		ck_assert_uint_ge(rsp.id, 200);
		ck_assert_uint_lt(rsp.id, 206);
		ck_assert(!seen[rsp.id - 200]);
		seen[rsp.id - 200] = true;
		ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
	}
	for (unsigned i = 0; i < 6; i++) {
		img_read(buf, 4096, (64 + i * 8) * 512l);
		ck_assert_mem_eq(buf, fx_guest + (10 + i) * 4096ul, 4096);
	}
	/* And new requests still flow. */
	put_rw(&f, BLKIF_OP_READ, 300, 0, 20, 0, 7);
	run(&f, 1);
	ck_assert_uint_eq(get(&f).id, 300);
	ck_assert_uint_eq(fx_guest[20 * 4096], 0x11);
	fx_stop(&f);
	ck_assert_int_eq(access(shadow, F_OK), -1);
}
END_TEST

/* A frontend writing random bytes into its ring: every request is answered or the ring stops. */
START_TEST(random_garbage_is_contained)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	setup_guest();
	for (int round = 0; round < 300; round++) {
		struct fixture f;
		unsigned n = 1 + round % 8;

		fx_start(&f, 1, round % 3 == 0, round % 2 == 0, NULL, true);
		for (unsigned k = 0; k < n; k++) {
			uint8_t *p = (uint8_t *)put(&f);

			for (unsigned b = 0; b < sizeof(blkif_request_t); b++) {
				seed ^= seed << 13;
				seed ^= seed >> 7;
				seed ^= seed << 17;
				p[b] = (uint8_t)seed;
			}
			/* Half the time a plausible operation, so the deeper checks run too. */
			if (seed & 1)
				p[0] = (uint8_t)((seed >> 8) % 7);
			if (seed & 2)
				((blkif_request_t *)p)->sector_number %= IMG_SECTORS;
		}
		run(&f, n);
		ck_assert(f.r.broken || RING_HAS_UNCONSUMED_RESPONSES(&f.fr) == n);
		fx_stop(&f);
		ck_assert_int_eq(fx_live_maps, 0);
	}
}
END_TEST

/* Queues an indirect request of nsegs segments listed in page ind_page. */
static void put_indirect(struct fixture *f, uint8_t op, uint64_t id, uint64_t sector,
			 uint32_t ind_gref, unsigned nsegs)
{
	blkif_request_indirect_t *ir = (void *)put(f);

	ir->operation = BLKIF_OP_INDIRECT;
	ir->indirect_op = op;
	ir->nr_segments = (uint16_t)nsegs;
	ir->id = id;
	ir->sector_number = sector;
	ir->indirect_grefs[0] = ind_gref;
}

/*
 * A 16-page ring full of indirect requests whose 256 segments all name the
 * same grant: each once became its own mapping (131072 in all, past
 * vm.max_map_count), so mmap failed for everyone.  Each distinct ref of a
 * request is mapped once now.
 */
START_TEST(same_grant_in_every_segment_is_mapped_once)
{
	struct fixture f;
	struct blkif_request_segment *seg = (void *)(fx_guest + 9 * 4096);
	unsigned n;

	setup_guest();
	seg = (void *)(fx_guest + 9 * 4096);
	fx_start(&f, 16, false, false, NULL, true);
	n = RING_SIZE(&f.fr);
	ck_assert_uint_eq(n, 512);
	for (unsigned i = 0; i < 256; i++)
		seg[i] =
		    (struct blkif_request_segment){ .gref = 10, .first_sect = 0, .last_sect = 7 };
	for (unsigned k = 0; k < n; k++)
		put_indirect(&f, BLKIF_OP_READ, k, 0, 9, 256);
	run(&f, n);
	ck_assert_uint_eq(RING_HAS_UNCONSUMED_RESPONSES(&f.fr), n);
	for (unsigned k = 0; k < n; k++)
		ck_assert_int_eq(get(&f).status, BLKIF_RSP_OKAY);
	/* One page per request in flight, and its indirect page for a moment. */
	ck_assert_int_le(fx_peak_maps, 2 * (int)n);
	ck_assert(!f.r.broken);
	fx_stop(&f);
	ck_assert_int_eq(fx_live_maps, 0);
}
END_TEST

/* Fairness: one kick takes at most one budget of requests, however many the ring holds. */
START_TEST(one_kick_is_one_budget)
{
	struct fixture f;
	unsigned n;

	setup_guest();
	fx_start(&f, 16, false, false, NULL, true);
	n = RING_SIZE(&f.fr);
	for (unsigned k = 0; k < n; k++)
		put_rw(&f, BLKIF_OP_WRITE, k, (k % 256) * 8, 1 + k % 60, 0, 7);
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f.fr, notify);
	(void)notify;
	blk_ring_kick(&f.r);
	ck_assert_uint_le(f.r.br.req_cons, BLK_RING_BUDGET);
	ck_assert(f.r.more);
	ck_assert_uint_gt(f.r.br.req_cons, 0);
	/* Later rounds take the rest. */
	run(&f, n);
	ck_assert_uint_eq(RING_HAS_UNCONSUMED_RESPONSES(&f.fr), n);
	for (unsigned k = 0; k < n; k++)
		ck_assert_int_eq(get(&f).status, BLKIF_RSP_OKAY);
	fx_stop(&f);
}
END_TEST

/*
 * Distinct grants past the ring's mapping limit: the requests that do not
 * fit wait (parked) until those in flight give their pages back, and all
 * are answered OKAY; blkback never holds more than the limit.
 */
START_TEST(mapping_limit_makes_requests_wait)
{
	struct fixture f;
	struct blk_maps m;
	struct blkif_request_segment *seg;
	unsigned n = 16;

	setup_guest();
	blk_maps_init(&m, 514, 514, 514);
	ck_assert_uint_eq(m.ring_max, 514);
	fx_maps = &m;
	fx_start(&f, 1, false, false, NULL, true);
	fx_maps = NULL;
	seg = (void *)(fx_guest + 9 * 4096);
	for (unsigned i = 0; i < 256; i++) {
		fx_grant(100 + i, 10 + i % 40, false);
		seg[i] = (struct blkif_request_segment){ .gref = 100 + i, .last_sect = 7 };
	}
	for (unsigned k = 0; k < n; k++)
		put_indirect(&f, BLKIF_OP_WRITE, k, 0, 9, 256);
	run(&f, n);
	ck_assert_uint_eq(RING_HAS_UNCONSUMED_RESPONSES(&f.fr), n);
	for (unsigned k = 0; k < n; k++)
		ck_assert_int_eq(get(&f).status, BLKIF_RSP_OKAY);
	ck_assert_int_le(fx_peak_maps, 514);
	ck_assert_uint_gt(f.r.st.map_waits, 0);
	ck_assert(!f.r.broken);
	fx_stop(&f);
	ck_assert_int_eq(fx_live_maps, 0);
	ck_assert_uint_eq(m.total, 0);
	ck_assert_ptr_null(m.doms);
}
END_TEST

/* The counting alone: per ring, per domain, in all, and half of each for persistent maps. */
START_TEST(mapping_limits_count_per_ring_domain_and_total)
{
	struct blk_ring r1 = { .domid = 1 }, r2 = { .domid = 1 }, r3 = { .domid = 2 };
	struct blk_maps m;

	blk_maps_init(&m, 600, 800, 1000);
	ck_assert_int_eq(blk_maps_attach(&m, &r1), 0);
	ck_assert_int_eq(blk_maps_attach(&m, &r2), 0);
	ck_assert_int_eq(blk_maps_attach(&m, &r3), 0);
	ck_assert(blk_maps_take(&r1, 600, false));
	ck_assert(!blk_maps_take(&r1, 1, false)); /* the ring's limit */
	ck_assert(blk_maps_take(&r2, 200, false));
	ck_assert(!blk_maps_take(&r2, 1, false)); /* domain 1's */
	ck_assert(blk_maps_take(&r3, 200, false));
	ck_assert(!blk_maps_take(&r3, 1, false)); /* blkback's */
	ck_assert_uint_eq(m.total, 1000);
	blk_maps_put(&r1, 600);
	ck_assert(!blk_maps_take(&r3, 101, true)); /* kept maps: half of each limit */
	ck_assert(blk_maps_take(&r3, 100, true));
	ck_assert_uint_eq(r3.mapped, 300);
	blk_maps_detach(&r1);
	blk_maps_detach(&r2);
	ck_assert_uint_eq(m.total, 300);
	blk_maps_detach(&r3);
	ck_assert_uint_eq(m.total, 0);
	ck_assert_ptr_null(m.doms);
	/* Defaults: half of vm.max_map_count in all, never below two whole requests. */
	blk_maps_init_default(&m, 65530);
	ck_assert_uint_eq(m.total_max, 32765);
	ck_assert_uint_eq(m.dom_max, 8192);
	ck_assert_uint_eq(m.ring_max, 4096);
	blk_maps_init_default(&m, 100);
	ck_assert_uint_ge(m.ring_max, 2 * (BLK_MAX_INDIRECT_SEGS + 1));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blk_ring");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, write_lands_in_the_image_byte_for_byte);
	tcase_add_test(tc, multi_segment_and_indirect);
	tcase_add_test(tc, read_only_disk_refuses_writes);
	tcase_add_test(tc, out_of_range_and_bad_grants_are_errors);
	tcase_add_test(tc, protocol_breakers_stop_the_ring);
	tcase_add_test(tc, barrier_is_not_supported);
	tcase_add_test(tc, flush_and_flush_with_data);
	tcase_add_test(tc, discard_punches_holes);
	tcase_add_test(tc, persistent_grants_map_once);
	tcase_add_test(tc, notifications_are_batched);
	tcase_add_test(tc, full_ring_of_requests);
	tcase_add_test(tc, restart_finishes_requests_exactly_once);
	tcase_add_test(tc, random_garbage_is_contained);
	tcase_add_test(tc, same_grant_in_every_segment_is_mapped_once);
	tcase_add_test(tc, one_kick_is_one_budget);
	tcase_add_test(tc, mapping_limit_makes_requests_wait);
	tcase_add_test(tc, mapping_limits_count_per_ring_domain_and_total);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
