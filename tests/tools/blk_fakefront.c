// SPDX-License-Identifier: MIT
/* Test tool: a blkif frontend played from dom0 in a live guest's memory, to drive blkback end to
 * end without blkfront. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>
#include "sv/svctl.h"
#include "sv/ctl.h"
#include "blkback.h"

/*
 * What it does, with the real hypervisor, xenstored and blkback:
 *  - maps the guest's memory (DOMAIN_MEMORY memfd) and uses its top
 *    FF_PAGES pages of RAM (an idle guest's bump allocator never gets
 *    there) as the ring and data pages;
 *  - writes grant entries for them into the guest's grant table (where
 *    DOMAIN_MEMORY says it is; the guest kernel sets up 4 frames at
 *    boot), refs FF_REF0 and up (the guest hands out
 *    refs from 8 upward);
 *  - allocates the guest's event-channel port offered to dom0, as a
 *    frontend would with EVTCHNOP_alloc_unbound;
 *  - writes a backend directory whose "frontend" key names a private
 *    frontend directory (device/svfake/<devid>), so a real blkfront in
 *    the guest leaves the device alone.
 * It cannot send events as the guest, so blkback looks at the ring when
 * it connects: each round puts requests on the ring, then (re)connects
 * (Initialised), and waits for the answers in the ring.
 */
#define FF_PAGES 96
#define FF_REF0 1900
#define FF_RING_PAGES_MAX 4
#define FF_TIMEOUT_MS 10000

struct ff {
	uint32_t domid, devid;
	struct svctl *c;
	struct xs_handle *xs;
	uint8_t *mem;
	size_t memlen;
	struct sv_ctl_memory layout;
	grant_entry_v1_t *gt;
	uint64_t top_gfn;      /* first of our FF_PAGES frames */
	unsigned order;	       /* ring-page-order */
	unsigned nq;	       /* queues (multi-queue-num-queues; 0 = key absent) */
	blkif_front_ring_t fr; /* queue 0 */
	blkif_front_ring_t qr[FF_RING_PAGES_MAX]; /* every queue's ring (qr[0] is fr's twin) */
	char be[128], fe[128];
	const char *image;
	bool ro, persistent;
	int img_fd;
	uint64_t next_id;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "blk_fakefront: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Page i of ours (0 = the first ring page), as the guest sees it. */
static uint8_t *ff_page(struct ff *f, unsigned i)
{
	uint64_t gpa = (f->top_gfn + i) << 12;

	for (unsigned r = 0; r < f->layout.nr_ranges; r++) {
		const struct sv_mem_range *m = &f->layout.ram[r];

		if (gpa >= m->gpa && gpa + 4096 <= m->gpa + m->size)
			return f->mem + m->offset + (gpa - m->gpa);
	}
	die("frame %#llx is not guest RAM", (unsigned long long)(f->top_gfn + i));
}

/* Grant our page i to dom0 as ref FF_REF0 + i. */
static uint32_t ff_grant(struct ff *f, unsigned i, bool ro)
{
	grant_entry_v1_t *e = &f->gt[FF_REF0 + i];

	e->frame = (uint32_t)(f->top_gfn + i);
	e->domid = 0;
	__atomic_store_n(&e->flags, (uint16_t)(GTF_permit_access | (ro ? GTF_readonly : 0)),
			 __ATOMIC_RELEASE);
	return FF_REF0 + i;
}

static xs_transaction_t ff_t = XBT_NULL; /* the toolstack's transaction while setting up */

static void ff_put(struct ff *f, const char *dir, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void ff_put(struct ff *f, const char *dir, const char *key, const char *fmt, ...)
{
	char path[256], val[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (!xs_write(f->xs, ff_t, path, val, (unsigned)strlen(val)))
		die("write %s: %s", path, strerror(errno));
}

static int ff_state(struct ff *f, const char *dir)
{
	char path[256], *v;
	int s;

	snprintf(path, sizeof(path), "%s/state", dir);
	v = xs_read(f->xs, XBT_NULL, path, NULL);
	if (!v)
		return -1;
	s = atoi(v);
	free(v);
	return s;
}

/* Waits for the backend to reach one of two states; dies on timeout. */
static void ff_wait_be(struct ff *f, int s1, int s2)
{
	uint64_t end = now_ms() + FF_TIMEOUT_MS;
	int s;

	while ((s = ff_state(f, f->be)) != s1 && s != s2) {
		if (now_ms() > end)
			die("backend %s stays in state %d (waiting for %d)", f->be, s, s1);
		usleep(10000);
	}
}

static void ff_setup(struct ff *f)
{
	struct xs_permissions bp[2] = { { .id = 0, .perms = XS_PERM_NONE },
					{ .id = f->domid, .perms = XS_PERM_READ } };
	struct xs_permissions fp[2] = { { .id = f->domid, .perms = XS_PERM_NONE },
					{ .id = 0, .perms = XS_PERM_READ } };
	struct sv_ctl_evtchn_alloc q_alloc = { .dom = f->domid, .remote_dom = 0 };
	struct sv_ctl_evtchn_port port;
	uint32_t got = 0;
	int memfd, ret;

	f->c = svctl_open(svctl_rundir());
	if (!f->c)
		die("hypervisor: %s", strerror(errno));
	f->xs = xs_open(0);
	if (!f->xs)
		die("xenstored: %s", strerror(errno));
	ret = svctl_domain_memory(f->c, f->domid, &f->layout, &memfd);
	if (ret)
		die("domain %u memory: %s", f->domid, strerror(-ret));
	f->memlen = f->layout.memfd_size;
	f->mem = mmap(NULL, f->memlen, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	close(memfd);
	if (f->mem == MAP_FAILED)
		die("mmap guest memory: %s", strerror(errno));
	if (f->layout.gnttab_gpa < f->layout.priv.gpa ||
	    f->layout.gnttab_gpa - f->layout.priv.gpa >= f->layout.priv.size)
		die("domain %u: the hypervisor gives no grant-table location", f->domid);
	f->gt = (grant_entry_v1_t *)(f->mem + f->layout.priv.offset +
				     (f->layout.gnttab_gpa - f->layout.priv.gpa));
	const struct sv_mem_range *last = &f->layout.ram[f->layout.nr_ranges - 1];
	f->top_gfn = ((last->gpa + last->size) >> 12) - FF_PAGES;
	/* Refs still mapped by a device that did not go away (a failed earlier run). */
	for (unsigned i = 0; i < FF_PAGES; i++)
		if (f->gt[FF_REF0 + i].flags & (GTF_reading | GTF_writing))
			die("grant ref %u is still mapped by someone", FF_REF0 + i);
	/* The rings: queue q on pages q << order .. of ours. */
	unsigned np = 1u << f->order, nq = f->nq ? f->nq : 1;
	if (np * nq > FF_RING_PAGES_MAX)
		die("%u queues of %u pages do not fit in %u pages", nq, np, FF_RING_PAGES_MAX);
	snprintf(f->be, sizeof(f->be), "/local/domain/0/backend/vbd/%u/%u", f->domid, f->devid);
	snprintf(f->fe, sizeof(f->fe), "/local/domain/%u/device/svfake/%u", f->domid, f->devid);
	xs_rm(f->xs, XBT_NULL, f->be);
	xs_rm(f->xs, XBT_NULL, f->fe);
	if (!xs_mkdir(f->xs, XBT_NULL, f->fe) || !xs_set_permissions(f->xs, XBT_NULL, f->fe, fp, 2))
		die("mkdir %s: %s", f->fe, strerror(errno));
	ff_put(f, f->fe, "backend", "%s", f->be);
	ff_put(f, f->fe, "backend-id", "0");
	ff_put(f, f->fe, "virtual-device", "%u", f->devid);
	ff_put(f, f->fe, "device-type", "disk");
	if (np > 1)
		ff_put(f, f->fe, "ring-page-order", "%u", f->order);
	if (f->nq)
		ff_put(f, f->fe, "multi-queue-num-queues", "%u", f->nq);
	for (unsigned q = 0; q < nq; q++) {
		char dir[160];
		unsigned p0 = q * np;

		ret = svctl_call(f->c, SV_CTL_EVTCHN_ALLOC_UNBOUND, &q_alloc, sizeof(q_alloc),
				 &port, sizeof(port), &got, NULL);
		if (ret || got != sizeof(port))
			die("event channel: %s", strerror(ret ? -ret : EPROTO));
		for (unsigned i = 0; i < np; i++)
			memset(ff_page(f, p0 + i), 0, 4096);
		/* A multi-page ring's frames are adjacent in one RAM range: contiguous here too. */
		SHARED_RING_INIT((blkif_sring_t *)ff_page(f, p0));
		FRONT_RING_INIT(&f->qr[q], (blkif_sring_t *)ff_page(f, p0), np * 4096ul);
		if (f->nq)
			snprintf(dir, sizeof(dir), "%s/queue-%u", f->fe, q);
		else
			snprintf(dir, sizeof(dir), "%s", f->fe);
		if (np == 1) {
			ff_put(f, dir, "ring-ref", "%u", ff_grant(f, p0, false));
		} else {
			for (unsigned i = 0; i < np; i++) {
				char key[24];

				snprintf(key, sizeof(key), "ring-ref%u", i);
				ff_put(f, dir, key, "%u", ff_grant(f, p0 + i, false));
			}
		}
		ff_put(f, dir, "event-channel", "%u", port.port);
	}
	f->fr = f->qr[0];
	ff_put(f, f->fe, "protocol", "x86_64-abi");
	ff_put(f, f->fe, "feature-persistent", "%d", f->persistent ? 1 : 0);
	ff_put(f, f->fe, "state", "%d", XenbusStateInitialising);
	ff_t = xs_transaction_start(f->xs);
	if (ff_t == XBT_NULL || !xs_mkdir(f->xs, ff_t, f->be) ||
	    !xs_set_permissions(f->xs, ff_t, f->be, bp, 2))
		die("mkdir %s: %s", f->be, strerror(errno));
	ff_put(f, f->be, "frontend", "%s", f->fe);
	ff_put(f, f->be, "frontend-id", "%u", f->domid);
	ff_put(f, f->be, "params", "%s", f->image);
	ff_put(f, f->be, "type", "file");
	ff_put(f, f->be, "mode", "%s", f->ro ? "r" : "w");
	ff_put(f, f->be, "online", "1");
	ff_put(f, f->be, "dev", "xvdz");
	ff_put(f, f->be, "device-type", "disk");
	ff_put(f, f->be, "state", "%d", XenbusStateInitialising);
	if (!xs_transaction_end(f->xs, ff_t, false))
		die("commit %s: %s", f->be, strerror(errno));
	ff_t = XBT_NULL;
	ff_wait_be(f, XenbusStateInitWait, XenbusStateInitWait);
	f->img_fd = open(f->image, O_RDONLY);
	if (f->img_fd < 0)
		die("%s: %s", f->image, strerror(errno));
}

/* Data pages start after the ring pages. */
#define FF_DATA0 FF_RING_PAGES_MAX

static blkif_request_t *ff_req(struct ff *f)
{
	blkif_request_t *r = RING_GET_REQUEST(&f->fr, f->fr.req_prod_pvt);

	f->fr.req_prod_pvt++;
	memset(r, 0, sizeof(*r));
	r->id = f->next_id++;
	return r;
}

/* A request of nsegs whole pages from data page p0 at sector (indirect above 11). */
static uint64_t ff_rw(struct ff *f, uint8_t op, uint64_t sector, unsigned p0, unsigned nsegs)
{
	blkif_request_t *r = ff_req(f);

	if (nsegs <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		r->operation = op;
		r->nr_segments = (uint8_t)nsegs;
		r->sector_number = sector;
		for (unsigned i = 0; i < nsegs; i++) {
			r->seg[i].gref = ff_grant(f, FF_DATA0 + p0 + i, false);
			r->seg[i].last_sect = 7;
		}
		return r->id;
	}
	blkif_request_indirect_t *ir = (void *)r;
	unsigned ind = FF_PAGES - 1; /* the last page holds the segments */
	struct blkif_request_segment *seg = (void *)ff_page(f, ind);

	ir->operation = BLKIF_OP_INDIRECT;
	ir->indirect_op = op;
	ir->nr_segments = (uint16_t)nsegs;
	ir->sector_number = sector;
	ir->indirect_grefs[0] = ff_grant(f, ind, true);
	for (unsigned i = 0; i < nsegs; i++) {
		seg[i].gref = ff_grant(f, FF_DATA0 + p0 + i, false);
		seg[i].first_sect = 0;
		seg[i].last_sect = 7;
	}
	return r->id;
}

static void ff_push(struct ff *f)
{
	int notify;

	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->fr, notify);
	(void)notify; /* we cannot send it: blkback looks when it connects */
}

/* Brings the backend to look at the ring: connect, or reconnect when connected. */
static void ff_kick(struct ff *f)
{
	if (ff_state(f, f->be) == XenbusStateConnected) {
		ff_put(f, f->fe, "state", "%d", XenbusStateClosing);
		ff_wait_be(f, XenbusStateClosing, XenbusStateClosed);
		ff_put(f, f->fe, "state", "%d", XenbusStateClosed);
		ff_wait_be(f, XenbusStateClosed, XenbusStateClosed);
		ff_put(f, f->fe, "state", "%d", XenbusStateInitialising);
		ff_wait_be(f, XenbusStateInitWait, XenbusStateInitWait);
	}
	ff_put(f, f->fe, "state", "%d", XenbusStateInitialised);
}

/* Waits until n responses are unconsumed; returns how many arrived. */
static unsigned ff_wait_rsp(struct ff *f, unsigned n, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	unsigned have;

	while ((have = RING_HAS_UNCONSUMED_RESPONSES(&f->fr)) < n && now_ms() < end)
		usleep(5000);
	return have;
}

static blkif_response_t ff_rsp(struct ff *f)
{
	blkif_response_t r = *RING_GET_RESPONSE(&f->fr, f->fr.rsp_cons);

	f->fr.rsp_cons++;
	f->fr.sring->rsp_event = f->fr.rsp_cons + 1;
	return r;
}

static void ff_fill(struct ff *f, unsigned p0, unsigned n, uint32_t seed)
{
	for (unsigned p = p0; p < p0 + n; p++) {
		uint32_t *w = (uint32_t *)ff_page(f, FF_DATA0 + p);

		for (unsigned i = 0; i < 1024; i++)
			w[i] = seed ^ (p * 2654435761u) ^ (i * 40503u);
	}
}

/* The image holds our pages p0.. at sector, byte for byte. */
static bool ff_image_has(struct ff *f, uint64_t sector, unsigned p0, unsigned n)
{
	uint8_t buf[4096];

	for (unsigned i = 0; i < n; i++) {
		if (pread(f->img_fd, buf, 4096, (off_t)((sector << 9) + i * 4096ul)) != 4096)
			return false;
		if (memcmp(buf, ff_page(f, FF_DATA0 + p0 + i), 4096))
			return false;
	}
	return true;
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			printf("ok: " __VA_ARGS__);                                                \
			putchar('\n');                                                             \
		} else {                                                                           \
			printf("FAILED: " __VA_ARGS__);                                            \
			putchar('\n');                                                             \
			failures++;                                                                \
		}                                                                                  \
		fflush(stdout);                                                                    \
	} while (0)

static int failures;

/* Writes (direct and indirect), flush, read back: byte for byte in both directions. */
static void sc_data(struct ff *f)
{
	unsigned n = 3;
	bool ok = true;

	ff_fill(f, 0, 11, 0x1111);
	ff_fill(f, 11, 40, 0x2222);
	ff_rw(f, BLKIF_OP_WRITE, 0, 0, 11);
	ff_rw(f, BLKIF_OP_WRITE, 88, 11, 40);
	ff_req(f)->operation = BLKIF_OP_FLUSH_DISKCACHE;
	ff_push(f);
	ff_kick(f);
	CHECK(ff_wait_rsp(f, n, FF_TIMEOUT_MS) == n, "%u requests answered", n);
	for (unsigned i = 0; i < n && RING_HAS_UNCONSUMED_RESPONSES(&f->fr); i++)
		ok &= ff_rsp(f).status == BLKIF_RSP_OKAY;
	CHECK(ok, "every answer is OKAY");
	CHECK(ff_image_has(f, 0, 0, 11), "direct write is in the image byte for byte");
	CHECK(ff_image_has(f, 88, 11, 40), "indirect write (40 segments) is in the image");
	/* In-flight requests have no order: the read back is a round of its own. */
	memset(ff_page(f, FF_DATA0 + 60), 0, 20 * 4096);
	ff_rw(f, BLKIF_OP_READ, 88, 60, 20);
	ff_push(f);
	ff_kick(f);
	CHECK(ff_wait_rsp(f, 1, FF_TIMEOUT_MS) == 1 && ff_rsp(f).status == BLKIF_RSP_OKAY,
	      "indirect read answered");
	CHECK(!memcmp(ff_page(f, FF_DATA0 + 60), ff_page(f, FF_DATA0 + 11), 20 * 4096),
	      "read returns what was written");
}

static void sc_discard(struct ff *f)
{
	struct stat a, b;

	ff_fill(f, 0, 32, 0x3333);
	ff_rw(f, BLKIF_OP_WRITE, 2048, 0, 32);
	ff_req(f)->operation = BLKIF_OP_FLUSH_DISKCACHE;
	ff_push(f);
	ff_kick(f);
	CHECK(ff_wait_rsp(f, 2, FF_TIMEOUT_MS) == 2, "write and flush answered");
	ff_rsp(f);
	ff_rsp(f);
	fstat(f->img_fd, &a);
	blkif_request_discard_t *d = (void *)ff_req(f);
	d->operation = BLKIF_OP_DISCARD;
	d->sector_number = 2048;
	d->nr_sectors = 256;
	ff_push(f);
	ff_kick(f);
	CHECK(ff_wait_rsp(f, 1, FF_TIMEOUT_MS) == 1 && ff_rsp(f).status == BLKIF_RSP_OKAY,
	      "discard answered OKAY");
	fstat(f->img_fd, &b);
	memset(ff_page(f, FF_DATA0), 0, 4096);
	CHECK(b.st_blocks < a.st_blocks && b.st_size == a.st_size,
	      "discard punched a hole (%lld -> %lld blocks, size kept)", (long long)a.st_blocks,
	      (long long)b.st_blocks);
	CHECK(ff_image_has(f, 2048, 0, 1), "the discarded range reads back as zeroes");
}

static void sc_readonly(struct ff *f)
{
	ff_fill(f, 0, 2, 0x4444);
	ff_rw(f, BLKIF_OP_WRITE, 0, 0, 2);
	blkif_request_discard_t *d = (void *)ff_req(f);
	d->operation = BLKIF_OP_DISCARD;
	d->nr_sectors = 8;
	ff_rw(f, BLKIF_OP_READ, 0, 10, 1);
	ff_push(f);
	ff_kick(f);
	CHECK(ff_wait_rsp(f, 3, FF_TIMEOUT_MS) == 3, "3 requests answered");
	CHECK(ff_rsp(f).status == BLKIF_RSP_ERROR, "write to a read-only disk refused");
	CHECK(ff_rsp(f).status == BLKIF_RSP_ERROR, "discard on a read-only disk refused");
	CHECK(ff_rsp(f).status == BLKIF_RSP_OKAY, "read from a read-only disk works");
	CHECK(!ff_image_has(f, 0, 0, 1), "the image did not change");
}

/* A request with last_sect past the page: the device goes Closing, blkback lives on. */
static void sc_hostile(struct ff *f)
{
	blkif_request_t *r = ff_req(f);

	r->operation = BLKIF_OP_READ;
	r->nr_segments = 1;
	r->seg[0].gref = ff_grant(f, FF_DATA0, false);
	r->seg[0].first_sect = 3;
	r->seg[0].last_sect = 9;
	ff_push(f);
	ff_kick(f);
	ff_wait_be(f, XenbusStateClosing, XenbusStateClosed);
	CHECK(ff_state(f, f->be) >= XenbusStateClosing,
	      "the hostile frontend's device is shut down");
	CHECK(!RING_HAS_UNCONSUMED_RESPONSES(&f->fr), "the bad request got no answer");
}

/*
 * kill -9 of blkback with requests in flight, then after a flush: the
 * supervisor restarts it, it reconnects from the ring and the shadow, and
 * every request is answered exactly once; every acknowledged write stays.
 */
static void sc_crash(struct ff *f, pid_t victim)
{
	unsigned n = 24;

	if (victim <= 0)
		die("crash needs --kill PID");
	for (unsigned i = 0; i < n; i++) {
		ff_fill(f, i * 2, 2, 0x5500 + i);
		ff_rw(f, BLKIF_OP_WRITE, 4096 + i * 16, i * 2, 2);
	}
	ff_req(f)->operation = BLKIF_OP_FLUSH_DISKCACHE;
	ff_push(f);
	ff_kick(f);
	/* As soon as blkback has taken the ring: before, during or after the I/O. */
	uint64_t end = now_ms() + FF_TIMEOUT_MS;
	while (ff_state(f, f->be) != XenbusStateConnected && !f->fr.sring->rsp_prod &&
	       now_ms() < end)
		;
	unsigned before = f->fr.sring->rsp_prod;
	if (kill(victim, SIGKILL) < 0)
		die("kill %d: %s", (int)victim, strerror(errno));
	CHECK(ff_wait_rsp(f, n + 1, 30000) == n + 1,
	      "all %u requests answered after kill -9 (%u before it)", n + 1, before);
	usleep(300000);
	CHECK(f->fr.sring->rsp_prod == n + 1, "no request answered twice (rsp_prod %u)",
	      f->fr.sring->rsp_prod);
	bool seen[64] = { false }, ok = true;
	for (unsigned i = 0; i < n + 1; i++) {
		blkif_response_t r = ff_rsp(f);

		ok &= r.id < n + 1 && !seen[r.id] && r.status == BLKIF_RSP_OKAY;
		if (r.id < n + 1)
			seen[r.id] = true;
	}
	CHECK(ok, "every id answered once, OKAY");
	ok = true;
	for (unsigned i = 0; i < n; i++)
		ok &= ff_image_has(f, 4096 + i * 16, i * 2, 2);
	CHECK(ok, "every acknowledged write is in the image");
}

/* One write on each queue's ring: every queue is served, into the same image. */
static void sc_multiqueue(struct ff *f)
{
	unsigned nq = f->nq ? f->nq : 1;

	f->qr[0] = f->fr;
	for (unsigned q = 0; q < nq; q++) {
		blkif_front_ring_t *fr = &f->qr[q];
		blkif_request_t *r = RING_GET_REQUEST(fr, fr->req_prod_pvt);
		int notify;

		fr->req_prod_pvt++;
		memset(r, 0, sizeof(*r));
		ff_fill(f, 80 + q, 1, 0x8800 + q);
		r->operation = BLKIF_OP_WRITE;
		r->nr_segments = 1;
		r->id = 1000 + q;
		r->sector_number = 12000 + q * 8;
		r->seg[0].gref = ff_grant(f, FF_DATA0 + 80 + q, false);
		r->seg[0].last_sect = 7;
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(fr, notify);
		(void)notify;
	}
	ff_kick(f);
	for (unsigned q = 0; q < nq; q++) {
		blkif_front_ring_t *fr = &f->qr[q];
		uint64_t end = now_ms() + FF_TIMEOUT_MS;

		while (!RING_HAS_UNCONSUMED_RESPONSES(fr) && now_ms() < end)
			usleep(5000);
		blkif_response_t rsp = *RING_GET_RESPONSE(fr, fr->rsp_cons);
		CHECK(RING_HAS_UNCONSUMED_RESPONSES(fr) && rsp.id == 1000 + q &&
			  rsp.status == BLKIF_RSP_OKAY && ff_image_has(f, 12000 + q * 8, 80 + q, 1),
		      "queue %u: write answered on its own ring and in the image", q);
		fr->rsp_cons++;
	}
	f->fr = f->qr[0];
}

static void sc_after_crash(struct ff *f)
{
	/* A new round on the same ring: blkback reconnected, keeps serving. */
	ff_fill(f, 70, 1, 0x7777);
	ff_rw(f, BLKIF_OP_WRITE, 9000, 70, 1);
	ff_push(f);
	ff_kick(f);
	CHECK(ff_wait_rsp(f, 1, FF_TIMEOUT_MS) == 1 && ff_rsp(f).status == BLKIF_RSP_OKAY,
	      "a write after the restart is answered");
	CHECK(ff_image_has(f, 9000, 70, 1), "and lands in the image");
}

/* Detaches as a frontend does (Closing, Closed), removes both directories, revokes our grants. */
static void ff_teardown(struct ff *f)
{
	if (ff_state(f, f->be) == XenbusStateConnected) {
		ff_put(f, f->fe, "state", "%d", XenbusStateClosing);
		ff_wait_be(f, XenbusStateClosing, XenbusStateClosed);
	}
	ff_put(f, f->fe, "state", "%d", XenbusStateClosed);
	ff_wait_be(f, XenbusStateClosed, XenbusStateClosed);
	xs_rm(f->xs, XBT_NULL, f->fe);
	xs_rm(f->xs, XBT_NULL, f->be);
	for (unsigned i = 0; i < FF_PAGES; i++)
		__atomic_store_n(&f->gt[FF_REF0 + i].flags, 0, __ATOMIC_RELEASE);
}

/* Lets go of our handles (the device stays as it is). */
static void ff_release(struct ff *f)
{
	close(f->img_fd);
	munmap(f->mem, f->memlen);
	xs_close(f->xs);
	svctl_close(f->c);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domid", required_argument, NULL, 'd' },
		{ "devid", required_argument, NULL, 'n' },
		{ "image", required_argument, NULL, 'i' },
		{ "ro", no_argument, NULL, 'r' },
		{ "persistent", no_argument, NULL, 'p' },
		{ "order", required_argument, NULL, 'o' },
		{ "kill", required_argument, NULL, 'k' },
		{ "queues", required_argument, NULL, 'q' },
		{ "keep", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	struct ff f = { .devid = 202 };
	pid_t victim = 0;
	bool keep = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			f.domid = (uint32_t)atoi(optarg);
			break;
		case 'n':
			f.devid = (uint32_t)atoi(optarg);
			break;
		case 'i':
			f.image = optarg;
			break;
		case 'r':
			f.ro = true;
			break;
		case 'p':
			f.persistent = true;
			break;
		case 'o':
			f.order = (unsigned)atoi(optarg);
			break;
		case 'k':
			victim = atoi(optarg);
			break;
		case 'q':
			f.nq = (unsigned)atoi(optarg);
			break;
		case 'K':
			keep = true;
			break;
		default:
			return 2;
		}
	}
	if (!f.domid || !f.image || optind >= argc || f.order > 2 || f.nq > FF_RING_PAGES_MAX) {
		fprintf(stderr, "usage: blk_fakefront --domid D --image IMG [--devid N] [--ro] "
				"[--persistent] [--order 0-2] [--queues 1-4] [--kill PID] [--keep] "
				"data|discard|readonly|hostile|multiqueue|crash|after-crash...\n");
		return 2;
	}
	ff_setup(&f);
	for (int i = optind; i < argc; i++) {
		if (!strcmp(argv[i], "data"))
			sc_data(&f);
		else if (!strcmp(argv[i], "discard"))
			sc_discard(&f);
		else if (!strcmp(argv[i], "readonly"))
			sc_readonly(&f);
		else if (!strcmp(argv[i], "hostile"))
			sc_hostile(&f);
		else if (!strcmp(argv[i], "crash"))
			sc_crash(&f, victim);
		else if (!strcmp(argv[i], "multiqueue"))
			sc_multiqueue(&f);
		else if (!strcmp(argv[i], "after-crash"))
			sc_after_crash(&f);
		else
			die("unknown scenario '%s'", argv[i]);
	}
	/* --keep: leave the device connected (to test blkback stopping or restarting under it). */
	if (!keep)
		ff_teardown(&f);
	ff_release(&f);
	return failures ? 1 : 0;
}
