// SPDX-License-Identifier: MIT
// Check suite for blkfront's data plane (blkfront_ring.c, blkfront_sync.c), hosted, against a fake
// blkback, honest and hostile.
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <svk/blkfront.h>
#include <svk/events.h>
#include <svk/gnttab.h>
#include <svk/time.h>
#include <svk/wait.h>
#include <svk/xenbus.h>

/*
 * ---- harness: what the data plane calls in the kernel ------------------
 * Pages are heap pages; their "mfn" is what virt_to_mfn computes from the
 * address (wrapping arithmetic gives the address back), so the fake grant
 * table can hand the backend the page itself.
 */

/* The hypercall page, executable: every stub is a bare "ret". */
__asm__(".pushsection .text.test_hypercall,\"ax\"\n"
	".globl hypercall_page\n"
	".balign 4096\n"
	"hypercall_page:\n"
	".fill 4096,1,0xc3\n"
	".popsection\n");

void console_write(const char *buf, size_t len);
void console_write(const char *buf, size_t len)
{
	if (getenv("GUEST_BLK_SHOW"))
		fwrite(buf, 1, len, stderr);
}

bool blkfront_shutting_down;

static uint64_t fake_now = 1000;
uint64_t time_now_ns(void)
{
	return fake_now;
}
bool time_available(void)
{
	return true;
}

static unsigned long timer_arms, timer_fired_count;
bool wait_timer_arm(uint64_t deadline)
{
	timer_arms++;
	return true;
}
unsigned long wait_timer_fired(void)
{
	return timer_fired_count;
}
bool wait_timer_available(void)
{
	return true;
}
bool xenbus_watches_pending(void)
{
	return false;
}

unsigned long pfn_to_mfn(unsigned long pfn)
{
	return pfn;
}

static void *page_va(unsigned long mfn)
{
	return pfn_to_virt(mfn);
}

/* Every page handed out, so the fixture frees even those the driver leaked on purpose. */
#define MAX_PAGES 2048
static void *pages[MAX_PAGES];

void *page_alloc(void)
{
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

	ck_assert_ptr_nonnull(p);
	memset(p, 0, PAGE_SIZE);
	for (unsigned int i = 0; i < MAX_PAGES; i++) {
		if (!pages[i]) {
			pages[i] = p;
			return p;
		}
	}
	ck_abort_msg("the driver holds more than %d pages", MAX_PAGES);
	return NULL;
}
void page_free(void *page)
{
	for (unsigned int i = 0; i < MAX_PAGES; i++) {
		if (pages[i] == page) {
			pages[i] = NULL;
			free(page);
			return;
		}
	}
	ck_abort_msg("page_free of a page not allocated");
}

/* The fake grant table: who may see which page, and whether it is mapped. */
#define NR_REFS 2048
static struct {
	bool used, readonly, mapped;
	unsigned long mfn;
} gref[NR_REFS];

int gnttab_grant_access(domid_t domid, unsigned long mfn, bool readonly)
{
	for (int r = GNTTAB_RESERVED_REFS; r < NR_REFS; r++) {
		if (!gref[r].used) {
			gref[r].used = true;
			gref[r].readonly = readonly;
			gref[r].mapped = false;
			gref[r].mfn = mfn;
			return r;
		}
	}
	return -XEN_ENOSPC;
}
int gnttab_end_access(grant_ref_t ref)
{
	if (ref >= NR_REFS || !gref[ref].used)
		return -XEN_EINVAL;
	if (gref[ref].mapped)
		return -XEN_EBUSY;
	gref[ref].used = false;
	return 0;
}
static unsigned int grefs_used(void)
{
	unsigned int n = 0;

	for (int r = 0; r < NR_REFS; r++)
		n += gref[r].used;
	return n;
}

static unsigned long notifies;
int evtchn_notify(evtchn_port_t port)
{
	notifies++;
	return 0;
}

/* ---- the fake blkback --------------------------------------------------- */

enum be_mode {
	BE_HONEST,
	BE_REVERSE,	   /* answers each batch last to first */
	BE_RSP_PROD_AHEAD, /* publishes rsp_prod far ahead */
	BE_BAD_ID,	   /* answers an id never sent */
	BE_DUP_ID,	   /* answers the first request twice */
	BE_WRONG_OP,	   /* answers with another operation */
	BE_ERROR,	   /* answers BLKIF_RSP_ERROR */
	BE_KEEP_MAPPED,	   /* keeps data pages mapped after answering */
	BE_SILENT,	   /* never answers */
};

#define DISK_SECTORS 16384 /* 8 MiB */
static uint8_t *disk;
static enum be_mode be_mode;
static blkif_back_ring_t back;
static unsigned long be_reqs, be_indirect, be_flushes, be_discards;
static unsigned int be_max_batch;

static void *be_map(grant_ref_t ref, bool write)
{
	ck_assert_uint_lt(ref, NR_REFS);
	ck_assert_msg(gref[ref].used, "ref %u not granted", ref);
	if (write)
		ck_assert_msg(!gref[ref].readonly, "ref %u is read-only", ref);
	if (be_mode == BE_KEEP_MAPPED)
		gref[ref].mapped = true;
	return page_va(gref[ref].mfn);
}

/* Do one request's I/O on the fake disk; the BLKIF_RSP_* status. */
static int16_t be_do(const blkif_request_t *req, uint8_t *op)
{
	const struct blkif_request_segment *segs = req->seg;
	struct blkif_request_segment ind[BLKFRONT_MAX_SEGS];
	unsigned int n = req->nr_segments;
	uint64_t sector = req->sector_number;

	*op = req->operation;
	switch (req->operation) {
	case BLKIF_OP_FLUSH_DISKCACHE:
		be_flushes++;
		return BLKIF_RSP_OKAY;
	case BLKIF_OP_DISCARD: {
		const blkif_request_discard_t *dr = (const void *)req;

		ck_assert_uint_le(dr->sector_number + dr->nr_sectors, DISK_SECTORS);
		memset(disk + dr->sector_number * 512, 0, dr->nr_sectors * 512);
		be_discards++;
		return BLKIF_RSP_OKAY;
	}
	case BLKIF_OP_INDIRECT: {
		const blkif_request_indirect_t *ir = (const void *)req;

		n = ir->nr_segments;
		ck_assert_uint_gt(n, BLKIF_MAX_SEGMENTS_PER_REQUEST);
		ck_assert_uint_le(n, BLKFRONT_MAX_SEGS);
		memcpy(ind, be_map(ir->indirect_grefs[0], false), n * sizeof(ind[0]));
		segs = ind;
		sector = ir->sector_number;
		*op = ir->indirect_op;
		be_indirect++;
		break;
	}
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		ck_assert_uint_ge(n, 1);
		ck_assert_uint_le(n, BLKIF_MAX_SEGMENTS_PER_REQUEST);
		break;
	default:
		ck_abort_msg("unknown operation %u", req->operation);
	}
	for (unsigned int i = 0; i < n; i++) {
		unsigned int len = (segs[i].last_sect - segs[i].first_sect + 1u) * 512;
		uint8_t *page = be_map(segs[i].gref, *op == BLKIF_OP_READ);

		ck_assert_uint_le(segs[i].last_sect, 7);
		ck_assert_uint_le(sector * 512 + len, (uint64_t)DISK_SECTORS * 512);
		if (*op == BLKIF_OP_READ)
			memcpy(page + segs[i].first_sect * 512, disk + sector * 512, len);
		else
			memcpy(disk + sector * 512, page + segs[i].first_sect * 512, len);
		sector += len / 512;
	}
	return BLKIF_RSP_OKAY;
}

static void be_respond(uint64_t id, uint8_t op, int16_t status)
{
	blkif_response_t *rsp = RING_GET_RESPONSE(&back, back.rsp_prod_pvt);

	rsp->id = id;
	rsp->operation = op;
	rsp->status = status;
	back.rsp_prod_pvt++;
}

/* Take every pushed request and answer per be_mode. */
static void be_run(void)
{
	blkif_request_t batch[BLKFRONT_MAX_RING_SIZE];
	uint8_t ops[BLKFRONT_MAX_RING_SIZE];
	int16_t st[BLKFRONT_MAX_RING_SIZE];
	unsigned int n = 0;
	int notify;

	if (be_mode == BE_SILENT)
		return;
	while (back.req_cons != back.sring->req_prod) {
		RING_COPY_REQUEST(&back, back.req_cons, &batch[n]);
		back.req_cons++;
		st[n] = be_do(&batch[n], &ops[n]);
		be_reqs++;
		n++;
	}
	if (n > be_max_batch)
		be_max_batch = n;
	for (unsigned int k = 0; k < n; k++) {
		unsigned int i = be_mode == BE_REVERSE ? n - 1 - k : k;
		uint8_t op = batch[i].operation == BLKIF_OP_INDIRECT ? ops[i] : batch[i].operation;

		switch (be_mode) {
		case BE_BAD_ID:
			be_respond(1000, op, BLKIF_RSP_OKAY);
			break;
		case BE_DUP_ID:
			be_respond(batch[i].id, op, BLKIF_RSP_OKAY);
			be_respond(batch[i].id, op, BLKIF_RSP_OKAY);
			break;
		case BE_WRONG_OP:
			be_respond(batch[i].id, BLKIF_OP_DISCARD, BLKIF_RSP_OKAY);
			break;
		case BE_ERROR:
			be_respond(batch[i].id, op, BLKIF_RSP_ERROR);
			break;
		default:
			be_respond(batch[i].id, op, st[i]);
		}
	}
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&back, notify);
	if (be_mode == BE_RSP_PROD_AHEAD && n)
		back.sring->rsp_prod += 1000;
	RING_FINAL_CHECK_FOR_REQUESTS(&back, notify);
	(void)notify;
}

/* blkfront.c's wait (the data plane's only way to sleep): the backend runs, time passes. */
static unsigned long waits;
int blkfront_wait_until(wait_cond_t cond, void *arg, uint64_t timeout_ns)
{
	for (int round = 0; round < 3; round++) {
		waits++;
		be_run();
		if (cond(arg))
			return 0;
		/* Nothing came: the armed timer fires. */
		fake_now += BLKFRONT_TIMEOUT_NS / 2;
		timer_fired_count++;
	}
	return -XEN_ETIMEDOUT;
}

/* ---- fixtures ------------------------------------------------------------ */

static struct blkfront_dev dev;
static uint8_t *ring_pages;

static void dev_release(void)
{
	for (unsigned int i = 0; i < MAX_PAGES; i++) {
		free(pages[i]);
		pages[i] = NULL;
	}
	free(ring_pages);
	free(disk);
	ring_pages = NULL;
	disk = NULL;
}

/* A device as blkfront_open leaves it Connected: ring of 2^order pages, given features. */
static void dev_setup(unsigned int order, bool persistent, unsigned int max_segs)
{
	struct blkfront_dev *d = &dev;
	blkif_sring_t *sring;

	dev_release();

	memset(d, 0, sizeof(*d));
	memset(gref, 0, sizeof(gref));
	be_mode = BE_HONEST;
	be_reqs = be_indirect = be_flushes = be_discards = be_max_batch = 0;
	notifies = 0;
	d->used = d->connected = true;
	d->devid = 51712;
	d->be_state = XenbusStateConnected;
	d->sectors = DISK_SECTORS;
	d->sector_size = 512;
	d->flush = true;
	d->persistent = persistent;
	d->max_segs = max_segs;
	d->port = 5;
	d->ring_order = order;
	for (unsigned int i = 0; i < BLKFRONT_MAX_RING_SIZE; i++)
		d->slot[i].ind_ref = d->slot[i].ind_tmp_ref = -1;
	for (unsigned int i = 0; i < BLKFRONT_POOL_PAGES; i++)
		d->pool[i].ref = -1;
	ring_pages = aligned_alloc(PAGE_SIZE, PAGE_SIZE << order);
	sring = (blkif_sring_t *)ring_pages;
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&d->ring, sring, PAGE_SIZE << order);
	BACK_RING_INIT(&back, sring, PAGE_SIZE << order);
	d->nr_free_slots = RING_SIZE(&d->ring);
	for (unsigned int i = 0; i < d->nr_free_slots; i++)
		d->free_slot[i] = (uint16_t)(d->nr_free_slots - 1 - i);
	disk = calloc(DISK_SECTORS, 512);
}

static void setup(void)
{
	dev_setup(1, true, 256);
}

static void teardown(void)
{
	dev_release();
}

static uint8_t pat(uint64_t off)
{
	return (uint8_t)((off * 7 + (off >> 9)) ^ 0x3c);
}

static int fill(void *arg, uint64_t off, void *page, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)page)[i] = pat(off + i);
	return 0;
}

static int check(void *arg, uint64_t off, void *page, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (((uint8_t *)page)[i] != pat(off + i))
			return -XEN_EILSEQ;
	return 0;
}

static void disk_has_pattern(uint64_t sector, uint64_t bytes)
{
	for (uint64_t i = 0; i < bytes; i++)
		ck_assert_msg(disk[sector * 512 + i] == pat(i), "disk byte %llu",
			      (unsigned long long)i);
}

/* ---- tests --------------------------------------------------------------- */

START_TEST(test_rw_indirect_persistent)
{
	ck_assert_int_eq(blkfront_rw(&dev, true, 100, 1 << 20, fill, NULL), 0);
	disk_has_pattern(100, 1 << 20);
	ck_assert_int_eq(blkfront_rw(&dev, false, 100, 1 << 20, check, NULL), 0);
	/* 1 MiB in requests of 128 pages: indirect, several in flight at once. */
	ck_assert_uint_eq(be_indirect, 4);
	ck_assert_uint_ge(be_max_batch, 2);
	ck_assert_uint_eq(dev.in_flight, 0);
	ck_assert_uint_eq(dev.nr_free_slots, RING_SIZE(&dev.ring));
	/* Persistent: 256 data pages and the indirect pages stay granted, writable. */
	ck_assert_uint_eq(grefs_used(), 256 + 2);
}
END_TEST

START_TEST(test_rw_segments_per_request_grants)
{
	dev_setup(0, false, BLKIF_MAX_SEGMENTS_PER_REQUEST);
	ck_assert_int_eq(blkfront_rw(&dev, true, 8, 300 * 512, fill, NULL), 0);
	disk_has_pattern(8, 300 * 512);
	ck_assert_int_eq(blkfront_rw(&dev, false, 8, 300 * 512, check, NULL), 0);
	ck_assert_uint_eq(be_indirect, 0);
	/* 38 pages: 4 requests of up to 11 segments each way, all out together. */
	ck_assert_uint_eq(be_reqs, 8);
	ck_assert_uint_eq(be_max_batch, 4);
	/* Per-request grants are all ended once answered. */
	ck_assert_uint_eq(grefs_used(), 0);
}
END_TEST

START_TEST(test_partial_page_and_reverse_order)
{
	uint8_t buf[3 * 512];

	be_mode = BE_REVERSE;
	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	ck_assert_int_eq(blkfront_write(&dev, 7, buf, sizeof(buf)), 0);
	ck_assert_mem_eq(disk + 7 * 512, buf, sizeof(buf));
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(blkfront_read(&dev, 7, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(buf[1000], (uint8_t)1000);
	ck_assert_int_eq(blkfront_rw(&dev, true, 0, 4 << 20, fill, NULL), 0);
	ck_assert_int_eq(blkfront_rw(&dev, false, 0, 4 << 20, check, NULL), 0);
}
END_TEST

START_TEST(test_out_of_range_refused_locally)
{
	uint8_t buf[512];

	ck_assert_int_eq(blkfront_read(&dev, DISK_SECTORS, buf, sizeof(buf)), -XEN_EINVAL);
	ck_assert_int_eq(blkfront_rw(&dev, false, 0, 100, check, NULL), -XEN_EINVAL);
	ck_assert_uint_eq(be_reqs, 0);
	ck_assert_uint_eq(dev.nr_free_slots, RING_SIZE(&dev.ring));
}
END_TEST

START_TEST(test_flush_and_discard)
{
	ck_assert_int_eq(blkfront_flush(&dev), 0);
	ck_assert_uint_eq(be_flushes, 1);
	/* Not offered: refused without a request. */
	ck_assert_int_eq(blkfront_discard(&dev, 0, 8), -XEN_EOPNOTSUPP);
	ck_assert_uint_eq(be_discards, 0);
	dev.discard = true;
	memset(disk, 0xff, 4096);
	ck_assert_int_eq(blkfront_discard(&dev, 0, 8), 0);
	ck_assert_uint_eq(disk[100], 0);
	dev.flush = false;
	ck_assert_int_eq(blkfront_flush(&dev), -XEN_EOPNOTSUPP);
}
END_TEST

START_TEST(test_error_answer_keeps_device)
{
	uint8_t buf[4096] = { 0 };

	be_mode = BE_ERROR;
	ck_assert_int_eq(blkfront_write(&dev, 0, buf, sizeof(buf)), -XEN_EIO);
	ck_assert(blkfront_usable(&dev));
	be_mode = BE_HONEST;
	ck_assert_int_eq(blkfront_read(&dev, 0, buf, sizeof(buf)), 0);
}
END_TEST

/* A hostile backend: the device dies, its slots are answered, nothing crashes. */
static void hostile(enum be_mode mode)
{
	be_mode = mode;
	ck_assert_int_eq(blkfront_rw(&dev, true, 0, 64 * 4096, fill, NULL), -XEN_EBADMSG);
	ck_assert(dev.broken);
	ck_assert(!blkfront_usable(&dev));
	ck_assert_uint_eq(dev.in_flight, 0);
	ck_assert_int_eq(blkfront_slot_get(&dev, 1), -XEN_EBADMSG);
	ck_assert_int_eq(blkfront_reap(&dev, NULL, NULL), -XEN_EBADMSG);
}

START_TEST(test_hostile_rsp_prod_ahead)
{
	hostile(BE_RSP_PROD_AHEAD);
}
END_TEST

START_TEST(test_hostile_bad_id)
{
	hostile(BE_BAD_ID);
}
END_TEST

START_TEST(test_hostile_duplicate_id)
{
	hostile(BE_DUP_ID);
}
END_TEST

START_TEST(test_hostile_wrong_operation)
{
	hostile(BE_WRONG_OP);
}
END_TEST

START_TEST(test_silent_backend_times_out)
{
	uint8_t buf[4096] = { 0 };

	be_mode = BE_SILENT;
	ck_assert_int_eq(blkfront_read(&dev, 0, buf, sizeof(buf)), -XEN_ETIMEDOUT);
	ck_assert(dev.broken);
}
END_TEST

START_TEST(test_mapped_grant_page_never_reused)
{
	uint8_t buf[4096] = { 0 };

	dev_setup(0, false, BLKIF_MAX_SEGMENTS_PER_REQUEST);
	be_mode = BE_KEEP_MAPPED;
	ck_assert_int_eq(blkfront_read(&dev, 0, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(dev.leaked_grants, 1);
	ck_assert_ptr_null(dev.pool[0].va);
	be_mode = BE_HONEST;
	ck_assert_int_eq(blkfront_read(&dev, 0, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(dev.pool[0].va);
}
END_TEST

START_TEST(test_slots_and_pool_run_out)
{
	unsigned int n = RING_SIZE(&dev.ring);
	int id;

	/* Every slot: then EAGAIN. */
	for (unsigned int i = 0; i < n; i++)
		ck_assert_int_ge(blkfront_slot_get(&dev, 0), 0);
	ck_assert_int_eq(blkfront_slot_get(&dev, 0), -XEN_EAGAIN);
	for (unsigned int i = 0; i < n; i++)
		blkfront_slot_put(&dev, i);
	/* The pool: 256 pages in one slot, then nothing more. */
	id = blkfront_slot_get(&dev, 256);
	ck_assert_int_ge(id, 0);
	ck_assert_int_eq(blkfront_slot_get(&dev, 1), -XEN_EAGAIN);
	ck_assert_int_eq(blkfront_slot_get(&dev, 257), -XEN_E2BIG);
	blkfront_slot_put(&dev, (unsigned int)id);
	ck_assert_int_ge(blkfront_slot_get(&dev, 1), 0);
}
END_TEST

START_TEST(test_batch_one_notify)
{
	unsigned long before = notifies;

	for (unsigned int i = 0; i < 32; i++) {
		int id = blkfront_slot_get(&dev, 1);

		ck_assert_int_ge(id, 0);
		ck_assert_int_eq(blkfront_queue_rw(&dev, (unsigned int)id, false, i * 8, 8), 0);
	}
	blkfront_kick(&dev);
	ck_assert_uint_eq(notifies - before, 1);
	ck_assert_int_eq(blkfront_wait(&dev, BLKFRONT_TIMEOUT_NS), 0);
	ck_assert_int_eq(blkfront_reap(&dev, NULL, NULL), 32);
	ck_assert_uint_eq(dev.in_flight, 0);
}
END_TEST

START_TEST(test_backend_leaves_connected)
{
	uint8_t buf[4096] = { 0 };

	dev.be_state = XenbusStateClosing;
	ck_assert_int_eq(blkfront_read(&dev, 0, buf, sizeof(buf)), -XEN_ENOTCONN);
	ck_assert_int_eq(blkfront_wait(&dev, 1000), -XEN_ENOTCONN);
}
END_TEST

static Suite *guest_blk_suite(void)
{
	Suite *s = suite_create("guest_blk");
	TCase *tc = tcase_create("blkfront");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rw_indirect_persistent);
	tcase_add_test(tc, test_rw_segments_per_request_grants);
	tcase_add_test(tc, test_partial_page_and_reverse_order);
	tcase_add_test(tc, test_out_of_range_refused_locally);
	tcase_add_test(tc, test_flush_and_discard);
	tcase_add_test(tc, test_error_answer_keeps_device);
	tcase_add_test(tc, test_hostile_rsp_prod_ahead);
	tcase_add_test(tc, test_hostile_bad_id);
	tcase_add_test(tc, test_hostile_duplicate_id);
	tcase_add_test(tc, test_hostile_wrong_operation);
	tcase_add_test(tc, test_silent_backend_times_out);
	tcase_add_test(tc, test_mapped_grant_page_never_reused);
	tcase_add_test(tc, test_slots_and_pool_run_out);
	tcase_add_test(tc, test_batch_one_notify);
	tcase_add_test(tc, test_backend_leaves_connected);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(guest_blk_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
