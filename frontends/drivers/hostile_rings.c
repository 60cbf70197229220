// SPDX-License-Identifier: MIT
// Hostile-guest words: break the blkif, netif, event, console and xenstore protocols from inside.
#include <svk/blkfront.h>
#include <svk/console.h>
#include <svk/driver_words.h>
#include <svk/events.h>
#include <svk/gnttab.h>
#include <svk/hostile_rings.h>
#include <svk/hypercall.h>
#include <svk/m2p.h>
#include <svk/netfront.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/time.h>
#include <svk/wait.h>
#include <svk/xenbus.h>
#include <svk/xenbus_state.h>

/*
 * Each word takes a real, connected device (xvda, vif 0) or the domain's
 * own xenstore and console rings, and does to it what a hostile frontend
 * would: ring indices moved backwards or far ahead, requests past every
 * limit, one grant named everywhere, a grant revoked under the backend,
 * floods.  The backends must answer with errors or disable this guest's
 * device, and nothing else: tests/integration/hostile_guests.sh runs each
 * word beside an honest guest and checks it.  Every word says what it did
 * and what the backend answered, and ends with "WORD: WAY: done".
 *
 * Requests are written straight into the shared rings, never through
 * blkfront's or netfront's checks; the drivers are used only to connect.
 * Pages granted here are never given back: the backend may still map them
 * (this guest is hostile; its memory is its own business).
 */

#define XVDA 51712
#define MS 1000000ULL
#define SEC 1000000000ULL

static bool never(void *arg)
{
	return false;
}

static void pause_ms(uint64_t ms)
{
	(void)wait_until(never, NULL, ms * MS);
}

/* "WAY[,N]": the way in @way (at most @size - 1 bytes), N in *@n if given. */
static bool parse_way(const char *word, const char *arg, char *way, size_t size, uint64_t *n)
{
	const char *comma;
	size_t len;

	if (!arg || !*arg) {
		printk("%s: needs a way (%s=WAY[,N])\n", word, word);
		return false;
	}
	comma = strchr(arg, ',');
	len = comma ? (size_t)(comma - arg) : strlen(arg);
	if (len >= size) {
		printk("%s: unknown way '%s'\n", word, arg);
		return false;
	}
	memcpy(way, arg, len);
	way[len] = '\0';
	if (comma && parse_u64(comma + 1, n)) {
		printk("%s: bad number '%s'\n", word, comma + 1);
		return false;
	}
	return true;
}

/* A fresh page granted to @domid; NULL (said) when none. */
static void *grant_page(const char *who, domid_t domid, bool readonly, grant_ref_t *ref)
{
	void *page = page_alloc();
	int r;

	if (!page) {
		printk("%s: FAIL no memory\n", who);
		return NULL;
	}
	r = gnttab_grant_access(domid, virt_to_mfn(page), readonly);
	if (r < 0) {
		printk("%s: FAIL no grant ref: %d\n", who, r);
		return NULL;
	}
	*ref = (grant_ref_t)r;
	return page;
}

/* ==== blkif =============================================================== */

struct hb_result {
	unsigned long ok, error, other;
};

static unsigned long hb_answered(const struct hb_result *r)
{
	return r->ok + r->error + r->other;
}

/* Put a request on our ring, unchecked: that is the point. */
static void hb_put(struct blkfront_dev *d, const void *req)
{
	memcpy(RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt), req, sizeof(blkif_request_t));
	d->ring.req_prod_pvt++;
}

/* Publish @prod as the request producer (whatever it is) and notify. */
static void hb_publish(struct blkfront_dev *d, RING_IDX prod)
{
	xen_wmb(); /* requests before the index */
	WRITE_ONCE(d->ring.sring->req_prod, prod);
	xen_mb();
	(void)evtchn_notify(d->port);
}

/* Free request slots (the ring's size less what is not answered yet). */
static unsigned int hb_room(const struct blkfront_dev *d)
{
	return RING_SIZE(&d->ring) - (d->ring.req_prod_pvt - d->ring.rsp_cons);
}

/*
 * Take answers off the ring until @want came, the backend left Connected,
 * or @timeout_ns passed; counted by status into @r.
 */
static void hb_collect(struct blkfront_dev *d, unsigned long want, uint64_t timeout_ns,
		       struct hb_result *r)
{
	uint64_t end = time_now_ns() + timeout_ns;

	for (;;) {
		RING_IDX rp = READ_ONCE(d->ring.sring->rsp_prod);
		uint64_t now;

		xen_rmb(); /* answers after the index that covers them */
		if (rp - d->ring.rsp_cons > d->ring.req_prod_pvt - d->ring.rsp_cons) {
			printk("hostile-blk: the backend's rsp_prod %u is out of range\n", rp);
			return;
		}
		while (d->ring.rsp_cons != rp) {
			blkif_response_t rsp;

			RING_COPY_RESPONSE(&d->ring, d->ring.rsp_cons, &rsp);
			d->ring.rsp_cons++;
			if (rsp.status == BLKIF_RSP_OKAY)
				r->ok++;
			else if (rsp.status == BLKIF_RSP_ERROR)
				r->error++;
			else
				r->other++;
		}
		now = time_now_ns();
		if (hb_answered(r) >= want || d->be_state != XenbusStateConnected || now >= end)
			return;
		/* rsp_event is set by blkfront_wait's condition: the next answer wakes us. */
		(void)blkfront_wait(d, end - now);
	}
}

/* Wait (10 s at most) for the backend to leave Connected; its state. */
static int hb_wait_closed(struct blkfront_dev *d)
{
	uint64_t end = time_now_ns() + 10 * SEC;

	while (d->be_state == XenbusStateConnected && time_now_ns() < end) {
		/* Answers are not taken here: only the state matters now. */
		if (blkfront_wait(d, end - time_now_ns()) == 0)
			pause_ms(20);
	}
	return d->be_state;
}

static void hb_report(const char *way, const char *what, const struct hb_result *r,
		      unsigned long sent, const struct blkfront_dev *d)
{
	printk("hostile-blk: %s: %s: %lu sent, answered %lu (okay %lu, error %lu, other %lu), "
	       "backend state %d%s\n",
	       way, what, sent, hb_answered(r), r->ok, r->error, r->other, d->be_state,
	       d->be_state == XenbusStateConnected ? "" : " (the backend closed the device)");
}

/* A read of @nr segments, each the whole page of @ref. */
static void hb_read_req(blkif_request_t *req, uint64_t id, unsigned int nr, grant_ref_t ref)
{
	memset(req, 0, sizeof(*req));
	req->operation = BLKIF_OP_READ;
	req->nr_segments = (uint8_t)nr;
	req->handle = XVDA;
	req->id = id;
	req->sector_number = 0;
	for (unsigned int i = 0; i < nr && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
		req->seg[i].gref = ref;
		req->seg[i].first_sect = 0;
		req->seg[i].last_sect = 7;
	}
}

/* An indirect read of @nr segments, their descriptors in the page of @iref. */
static void hb_indirect_req(blkif_request_t *req, uint64_t id, unsigned int nr, grant_ref_t iref)
{
	blkif_request_indirect_t *ir = (blkif_request_indirect_t *)req;

	memset(req, 0, sizeof(*req));
	ir->operation = BLKIF_OP_INDIRECT;
	ir->indirect_op = BLKIF_OP_READ;
	ir->nr_segments = (uint16_t)nr;
	ir->handle = XVDA;
	ir->id = id;
	ir->sector_number = 0;
	for (unsigned int i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
		ir->indirect_grefs[i] = iref;
}

/* Fill an indirect page with descriptors that all name the whole page of @ref. */
static void hb_fill_indirect(void *page, grant_ref_t ref)
{
	struct blkif_request_segment *seg = page;

	for (unsigned int i = 0; i < PAGE_SIZE / sizeof(*seg); i++) {
		seg[i].gref = ref;
		seg[i].first_sect = 0;
		seg[i].last_sect = 7;
	}
}

/* req_prod published behind what the backend has already taken. */
static void hb_prod_back(struct blkfront_dev *d, const char *way)
{
	static uint8_t buf[PAGE_SIZE];
	int rc = blkfront_read(d, 0, buf, sizeof(buf));
	RING_IDX from = d->ring.req_prod_pvt;

	if (rc)
		printk("hostile-blk: %s: note: the honest read first answered %d\n", way, rc);
	hb_publish(d, from - 3);
	printk("hostile-blk: %s: req_prod moved back from %u to %u\n", way, from, from - 3);
	printk("hostile-blk: %s: backend state %d\n", way, hb_wait_closed(d));
}

/* req_prod published one request past a full ring. */
static void hb_prod_ahead(struct blkfront_dev *d, const char *way)
{
	RING_IDX to = d->ring.req_prod_pvt + RING_SIZE(&d->ring) + 1;

	hb_publish(d, to);
	printk("hostile-blk: %s: req_prod pushed to %u, %u past a full ring\n", way, to,
	       RING_SIZE(&d->ring) + 1);
	printk("hostile-blk: %s: backend state %d\n", way, hb_wait_closed(d));
}

/* Limits of a request: segment count, sector spans, indirect segment count. */
static void hb_limits(struct blkfront_dev *d, const char *way, grant_ref_t ref, grant_ref_t iref)
{
	struct hb_result r = { 0 };
	blkif_request_t req;
	unsigned int sent = 0;

	if (!strcmp(way, "nsegs")) {
		hb_read_req(&req, 1, BLKIF_MAX_SEGMENTS_PER_REQUEST, ref);
		req.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
		hb_put(d, &req);
		hb_read_req(&req, 2, BLKIF_MAX_SEGMENTS_PER_REQUEST, ref);
		req.nr_segments = 255;
		hb_put(d, &req);
		sent = 2;
		printk("hostile-blk: %s: reads of %u and 255 segments (the limit is %u)\n", way,
		       BLKIF_MAX_SEGMENTS_PER_REQUEST + 1, BLKIF_MAX_SEGMENTS_PER_REQUEST);
	} else if (!strcmp(way, "sect-range")) {
		hb_read_req(&req, 1, 1, ref);
		req.seg[0].last_sect = 8;
		hb_put(d, &req);
		hb_read_req(&req, 2, 1, ref);
		req.seg[0].first_sect = 5;
		req.seg[0].last_sect = 2;
		hb_put(d, &req);
		hb_read_req(&req, 3, 1, ref);
		req.seg[0].first_sect = 200;
		req.seg[0].last_sect = 255;
		hb_put(d, &req);
		sent = 3;
		printk("hostile-blk: %s: segments with sectors 0-8, 5-2 and 200-255 of a page\n",
		       way);
	} else {
		hb_indirect_req(&req, 1, d->max_segs + 1, iref);
		hb_put(d, &req);
		hb_indirect_req(&req, 2, BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * 512 + 1, iref);
		hb_put(d, &req);
		hb_indirect_req(&req, 3, 0xffff, iref);
		hb_put(d, &req);
		sent = 3;
		printk("hostile-blk: %s: indirect reads of %u, %u and 65535 segments (the backend "
		       "allows %u)\n",
		       way, d->max_segs + 1, BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * 512 + 1,
		       d->max_segs);
	}
	hb_publish(d, d->ring.req_prod_pvt);
	hb_collect(d, sent, 10 * SEC, &r);
	hb_report(way, "bad requests", &r, sent, d);
}

/*
 * Every slot of the ring, @rounds times over: reads whose segments all
 * name the same page (indirect, the most segments the backend allows, all
 * from one indirect page; else 11 direct segments).
 */
static void hb_same_gref(struct blkfront_dev *d, const char *way, grant_ref_t ref, grant_ref_t iref,
			 uint64_t rounds)
{
	struct hb_result r = { 0 };
	unsigned long sent = 0;
	bool indirect = d->max_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST;
	unsigned int segs = indirect ? d->max_segs : BLKIF_MAX_SEGMENTS_PER_REQUEST;

	printk("hostile-blk: %s: %llu rounds of %u reads of %u segments, all on ref %u%s\n", way,
	       (unsigned long long)rounds, RING_SIZE(&d->ring), segs, ref,
	       indirect ? " (one indirect page for all)" : "");
	for (uint64_t k = 0; k < rounds && d->be_state == XenbusStateConnected; k++) {
		unsigned int n = hb_room(d);
		blkif_request_t req;

		for (unsigned int i = 0; i < n; i++) {
			if (indirect)
				hb_indirect_req(&req, i, segs, iref);
			else
				hb_read_req(&req, i, segs, ref);
			hb_put(d, &req);
		}
		sent += n;
		hb_publish(d, d->ring.req_prod_pvt);
		hb_collect(d, sent, 60 * SEC, &r);
		if (hb_answered(&r) < sent) {
			printk("hostile-blk: %s: round %llu: %lu of %lu answered in 60 s\n", way,
			       (unsigned long long)k, hb_answered(&r), sent);
			break;
		}
	}
	hb_report(way, "same grant everywhere", &r, sent, d);
	printk("hostile-blk: %s: ref %u flags now 0x%x\n", way, ref, gnttab_entry_flags(ref));
}

/*
 * Grants revoked under the backend: a persistently mapped page of the
 * driver's pool, a page named by a ring full of reads (cleared right after
 * the kick, while they are in flight), then a read of the revoked ref.
 */
static void hb_revoke(struct blkfront_dev *d, const char *way, grant_ref_t ref)
{
	static uint8_t buf[4 * PAGE_SIZE];
	struct hb_result r = { 0 };
	blkif_request_t req;
	unsigned int n;
	int rc, flags;

	rc = blkfront_read(d, 0, buf, sizeof(buf));
	if (!rc && d->pool[0].ref >= 0) {
		flags = gnttab_revoke_force((grant_ref_t)d->pool[0].ref);
		rc = blkfront_read(d, 0, buf, sizeof(buf));
		printk("hostile-blk: %s: pool ref %d (persistent %d) cleared with flags 0x%x; "
		       "the next read answered %d\n",
		       way, d->pool[0].ref, d->persistent, flags, rc);
	} else {
		printk("hostile-blk: %s: note: first read %d, pool ref %d\n", way, rc,
		       d->pool[0].ref);
	}
	if (!blkfront_usable(d))
		goto out;
	n = hb_room(d);
	for (unsigned int i = 0; i < n; i++) {
		hb_read_req(&req, i, BLKIF_MAX_SEGMENTS_PER_REQUEST, ref);
		hb_put(d, &req);
	}
	hb_publish(d, d->ring.req_prod_pvt);
	flags = gnttab_revoke_force(ref);
	printk("hostile-blk: %s: %u reads in flight on ref %u; cleared it with flags 0x%x%s\n", way,
	       n, ref, flags,
	       flags & (GTF_reading | GTF_writing) ? " (the backend had it mapped)" : "");
	hb_collect(d, n, 30 * SEC, &r);
	hb_report(way, "in flight while revoked", &r, n, d);
	if (d->be_state != XenbusStateConnected)
		goto out;
	memset(&r, 0, sizeof(r));
	hb_read_req(&req, 0, 1, ref);
	hb_put(d, &req);
	hb_publish(d, d->ring.req_prod_pvt);
	hb_collect(d, 1, 10 * SEC, &r);
	hb_report(way, "a read of the revoked ref", &r, 1, d);
out:
	printk("hostile-blk: %s: ref %u flags now 0x%x\n", way, ref, gnttab_entry_flags(ref));
}

static void word_blk(const start_info_t *si, const char *arg)
{
	static const char *const ways[] = { "prod-back",     "prod-ahead", "nsegs", "sect-range",
					    "indirect-segs", "same-gref",  "revoke" };
	struct blkfront_dev *d;
	grant_ref_t ref, iref;
	void *page, *ipage;
	uint64_t n = 16;
	char way[24];
	unsigned int i;
	int rc;

	if (!parse_way("hostile-blk", arg, way, sizeof(way), &n))
		return;
	for (i = 0; i < ARRAY_SIZE(ways) && strcmp(way, ways[i]); i++)
		;
	if (i == ARRAY_SIZE(ways)) {
		printk("hostile-blk: unknown way '%s'\n", way);
		return;
	}
	rc = blkfront_open(XVDA, &d);
	if (rc) {
		printk("hostile-blk: %s: FAIL xvda: %d\n", way, rc);
		return;
	}
	printk("hostile-blk: %s: vbd %u connected (backend %d, %u ring slots, %u segments)\n", way,
	       d->devid, d->backend_id, RING_SIZE(&d->ring), d->max_segs);
	page = grant_page("hostile-blk", d->backend_id, false, &ref);
	ipage = grant_page("hostile-blk", d->backend_id, true, &iref);
	if (!page || !ipage)
		goto out_close;
	hb_fill_indirect(ipage, ref);
	if (!strcmp(way, "prod-back"))
		hb_prod_back(d, way);
	else if (!strcmp(way, "prod-ahead"))
		hb_prod_ahead(d, way);
	else if (!strcmp(way, "same-gref"))
		hb_same_gref(d, way, ref, iref, n);
	else if (!strcmp(way, "revoke"))
		hb_revoke(d, way, ref);
	else
		hb_limits(d, way, ref, iref);
out_close:
	blkfront_close(d);
	printk("hostile-blk: %s: done\n", way);
}

/* ==== netif =============================================================== */

/* Our own tx slot count: requests we put, and answers we took. */
struct hn_result {
	unsigned long ok, error, dropped, null;
};

static void hn_put(struct netfront *nf, grant_ref_t ref, uint16_t offset, uint16_t size,
		   uint16_t flags, uint16_t id)
{
	netif_tx_request_t *req = RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt);

	req->gref = ref;
	req->offset = offset;
	req->flags = flags;
	req->id = id;
	req->size = size;
	nf->tx.req_prod_pvt++;
}

static void hn_publish(struct netfront *nf, RING_IDX prod)
{
	xen_wmb(); /* requests before the index */
	WRITE_ONCE(nf->tx.sring->req_prod, prod);
	xen_mb();
	(void)evtchn_notify(nf->port);
}

static unsigned int hn_room(const struct netfront *nf)
{
	return RING_SIZE(&nf->tx) - (nf->tx.req_prod_pvt - nf->tx.rsp_cons);
}

/* Take tx answers; true once every request we put is answered. */
static bool hn_reap(struct netfront *nf, struct hn_result *r)
{
	RING_IDX rp = READ_ONCE(nf->tx.sring->rsp_prod);

	xen_rmb();
	if (rp - nf->tx.rsp_cons > nf->tx.req_prod_pvt - nf->tx.rsp_cons)
		return true; /* nonsense from the backend: stop looking */
	for (; nf->tx.rsp_cons != rp; nf->tx.rsp_cons++) {
		netif_tx_response_t rsp;

		memcpy(&rsp, RING_GET_RESPONSE(&nf->tx, nf->tx.rsp_cons), sizeof(rsp));
		if (rsp.status == NETIF_RSP_OKAY)
			r->ok++;
		else if (rsp.status == NETIF_RSP_DROPPED)
			r->dropped++;
		else if (rsp.status == NETIF_RSP_NULL)
			r->null++;
		else
			r->error++;
	}
	nf->tx.sring->rsp_event = nf->tx.rsp_cons + 1;
	xen_mb(); /* rsp_event before looking again */
	return nf->tx.rsp_cons == nf->tx.req_prod_pvt &&
	       READ_ONCE(nf->tx.sring->rsp_prod) == nf->tx.rsp_cons;
}

struct hn_wait {
	struct netfront *nf;
	struct hn_result *r;
};

static bool hn_all_answered(void *arg)
{
	struct hn_wait *w = arg;

	return hn_reap(w->nf, w->r);
}

/* The backend's state after waiting up to @secs for it to leave Connected. */
static int hn_state_after(struct netfront *nf, uint64_t secs)
{
	int st = xenbus_wait_state(nf->be, XenbusStateClosing, secs * SEC);

	return st < 0 ? xenbus_read_state(nf->be) : st;
}

static void hn_report(struct netfront *nf, const char *way, const char *what, unsigned long sent,
		      const struct hn_result *r, int st)
{
	printk("hostile-net: %s: %s: %lu slots sent, answered okay %lu, error %lu, dropped %lu, "
	       "null %lu; backend state %d%s\n",
	       way, what, sent, r->ok, r->error, r->dropped, r->null, st,
	       st == XenbusStateConnected ? "" : " (the backend disabled the vif)");
}

/*
 * A frame that goes nowhere: from our MAC to our MAC (the bridge does not
 * send it back out of the port it came in by), a local experimental type.
 */
static void hn_fill_frame(struct netfront *nf, uint8_t *page)
{
	memcpy(page, nf->nif.mac, ETH_ALEN);
	memcpy(page + ETH_ALEN, nf->nif.mac, ETH_ALEN);
	page[12] = 0x88;
	page[13] = 0xb5;
	for (unsigned int i = 14; i < PAGE_SIZE; i++)
		page[i] = (uint8_t)i;
}

/* A chain of @n slots on @ref: first claims @first_size, the rest @size each. */
static void hn_chain(struct netfront *nf, grant_ref_t ref, unsigned int n, uint16_t first_size,
		     uint16_t size, bool end)
{
	for (unsigned int i = 0; i < n; i++) {
		bool last = end && i + 1 == n;

		hn_put(nf, ref, 0, i ? size : first_size, last ? 0 : NETTXF_more_data,
		       (uint16_t)(nf->tx.req_prod_pvt % RING_SIZE(&nf->tx)));
	}
}

static void hn_same_gref(struct netfront *nf, const char *way, grant_ref_t ref, uint64_t rounds)
{
	/* 16 slots of one page: 4095 + 15 * 4096 = 65535 bytes, the most a frame may be. */
	const unsigned int slots = 16;
	struct hn_result r = { 0 };
	struct hn_wait w = { nf, &r };
	unsigned long sent = 0;
	int st = XenbusStateConnected;

	printk("hostile-net: %s: %llu rounds of a full ring of 65535-byte frames, each %u slots "
	       "of ref %u\n",
	       way, (unsigned long long)rounds, slots, ref);
	for (uint64_t k = 0; k < rounds; k++) {
		unsigned int frames = hn_room(nf) / slots;

		for (unsigned int f = 0; f < frames; f++) {
			hn_put(nf, ref, 0, 65535, NETTXF_more_data, (uint16_t)f);
			for (unsigned int i = 1; i < slots; i++)
				hn_put(nf, ref, 0, PAGE_SIZE, i + 1 == slots ? 0 : NETTXF_more_data,
				       (uint16_t)f);
			sent += slots;
		}
		hn_publish(nf, nf->tx.req_prod_pvt);
		if (wait_until(hn_all_answered, &w, 60 * SEC)) {
			printk("hostile-net: %s: round %llu not answered in 60 s\n", way,
			       (unsigned long long)k);
			break;
		}
		st = xenbus_read_state(nf->be);
		if (st != XenbusStateConnected)
			break;
	}
	/* The first slot of each frame says 65535 while it holds 4096: errors are fine. */
	hn_report(nf, way, "same grant in every slot", sent, &r, st);
}

/*
 * The rx ring's req_prod past a full ring ahead of what netback answered,
 * or one behind it; then an ARP request to the .1 of our /24 (sent while
 * the vif is still up), whose answer makes netback look at the rx ring if
 * the notification did not.  "Ahead" is two rings and one past the
 * responses we read, not one: netback may still push responses to
 * requests posted earlier (the bridge's IPv6 chatter) between our read of
 * rsp_prod and its check, and each one it pushes brings a producer only
 * one ring ahead back into range.  It can push at most a ring's worth.
 */
static void hn_rx_prod(struct netfront *nf, const char *way)
{
	struct hn_result r = { 0 };
	RING_IDX rsp = READ_ONCE(nf->rx.sring->rsp_prod), to;
	uint32_t gw = (nf->nif.ip & 0x00ffffffu) | 0x01000000u; /* a.b.c.1, network order */

	to = strcmp(way, "rx-prod-back") ? rsp + 2 * RING_SIZE(&nf->rx) + 1 : rsp - 1;
	xen_wmb();
	WRITE_ONCE(nf->rx.sring->req_prod, to);
	xen_mb();
	(void)evtchn_notify(nf->rx_port ? nf->rx_port : nf->port);
	printk("hostile-net: %s: rx req_prod set to %u, the backend's rx responses at %u\n", way,
	       to, rsp);
	if (nf->nif.ip)
		(void)net_arp_request(&nf->nif, gw);
	/* Nothing of ours reads the rings from now on. */
	nf->state = NETFRONT_BROKEN;
	hn_report(nf, way, "rx producer out of range", 0, &r, hn_state_after(nf, 10));
}

static void word_net(const start_info_t *si, const char *arg)
{
	static const char *const ways[] = { "prod-back",     "prod-ahead",  "chain-endless",
					    "chain-long",    "size-big",    "same-gref",
					    "rx-prod-ahead", "rx-prod-back" };
	struct hn_result r = { 0 };
	struct netfront *nf;
	grant_ref_t ref;
	uint64_t n = 20;
	unsigned int i, room;
	char way[24];
	uint8_t *page;
	int rc;

	if (!parse_way("hostile-net", arg, way, sizeof(way), &n))
		return;
	for (i = 0; i < ARRAY_SIZE(ways) && strcmp(way, ways[i]); i++)
		;
	if (i == ARRAY_SIZE(ways)) {
		printk("hostile-net: unknown way '%s'\n", way);
		return;
	}
	rc = netfront_scan();
	if (rc <= 0) {
		printk("hostile-net: %s: FAIL no vif (%d)\n", way, rc);
		return;
	}
	nf = netfront_get(0);
	if (!strncmp(way, "rx-", 3)) {
		hn_rx_prod(nf, way);
		goto out;
	}
	/* The tx ring is ours from now on: netfront leaves a broken vif alone. */
	nf->state = NETFRONT_BROKEN;
	printk("hostile-net: %s: vif%u connected (backend %d, %u tx slots)\n", way, nf->devid,
	       nf->be_id, RING_SIZE(&nf->tx));
	page = grant_page("hostile-net", nf->be_id, true, &ref);
	if (!page)
		goto out;
	hn_fill_frame(nf, page);
	if (!strcmp(way, "prod-back")) {
		RING_IDX from;

		/* The first slot of a frame that goes on, then the producer behind it. */
		hn_put(nf, ref, 0, 3000, NETTXF_more_data, 0);
		hn_publish(nf, nf->tx.req_prod_pvt);
		pause_ms(300);
		from = nf->tx.req_prod_pvt;
		hn_publish(nf, from - 5);
		printk("hostile-net: %s: one slot with more_data, then req_prod moved back from %u "
		       "to %u\n",
		       way, from, from - 5);
		hn_report(nf, way, "producer backwards", 1, &r, hn_state_after(nf, 10));
	} else if (!strcmp(way, "prod-ahead")) {
		RING_IDX to = nf->tx.req_prod_pvt + RING_SIZE(&nf->tx) + 1;

		hn_publish(nf, to);
		printk("hostile-net: %s: req_prod pushed to %u, %u past a full ring\n", way, to,
		       RING_SIZE(&nf->tx) + 1);
		hn_report(nf, way, "producer ahead", 0, &r, hn_state_after(nf, 10));
	} else if (!strcmp(way, "chain-endless")) {
		/* A few slots that promise more; netback may wait for the rest... */
		hn_chain(nf, ref, 8, 60000, 1000, false);
		hn_publish(nf, nf->tx.req_prod_pvt);
		pause_ms(2000);
		printk("hostile-net: %s: 8 slots with more_data and no end: backend state %d after "
		       "2 s\n",
		       way, xenbus_read_state(nf->be));
		/* ...but not for more than a frame's worth: the whole ring, still no end. */
		room = hn_room(nf);
		hn_chain(nf, ref, room, 1000, 1000, false);
		hn_publish(nf, nf->tx.req_prod_pvt);
		printk("hostile-net: %s: then %u more, the ring full of one unfinished frame\n",
		       way, room);
		(void)hn_reap(nf, &r);
		hn_report(nf, way, "a chain that never ends", 8 + room, &r, hn_state_after(nf, 10));
	} else if (!strcmp(way, "chain-long")) {
		const unsigned int slots = 2 * XEN_NETIF_NR_SLOTS_MIN + 4;

		hn_chain(nf, ref, slots, (uint16_t)(slots * 1000), 1000, true);
		hn_publish(nf, nf->tx.req_prod_pvt);
		printk("hostile-net: %s: one frame over %u slots (netback takes %u)\n", way, slots,
		       XEN_NETIF_NR_SLOTS_MIN);
		(void)wait_until(never, NULL, 2 * SEC);
		(void)hn_reap(nf, &r);
		hn_report(nf, way, "a chain too long", slots, &r, hn_state_after(nf, 10));
	} else if (!strcmp(way, "size-big")) {
		/* 17 full pages (69632 bytes) under a first slot that says 65535. */
		hn_chain(nf, ref, 17, 65535, PAGE_SIZE, true);
		/* A slot running off its page. */
		hn_put(nf, ref, 100, PAGE_SIZE, 0, 1);
		hn_publish(nf, nf->tx.req_prod_pvt);
		printk("hostile-net: %s: a frame of 17 full pages (69632 bytes, first slot says "
		       "65535), then a slot of 4096 bytes at offset 100\n",
		       way);
		(void)wait_until(never, NULL, 2 * SEC);
		(void)hn_reap(nf, &r);
		hn_report(nf, way, "sizes past the limits", 18, &r, hn_state_after(nf, 10));
	} else {
		hn_same_gref(nf, way, ref, n);
	}
out:
	printk("hostile-net: %s: done\n", way);
}

/* ==== event channels ====================================================== */

/* EVTCHNOP_send as fast as we can for N seconds on every port we have. */
static void word_evtchn(const start_info_t *si, const char *arg)
{
	evtchn_port_t ports[8];
	unsigned int nports = 0;
	unsigned long sends = 0, errors = 0;
	struct blkfront_dev *d = NULL;
	uint64_t secs = 5, end;
	int last = 0;

	if (arg && (parse_u64(arg, &secs) || secs == 0 || secs > 3600)) {
		printk("hostile-evtchn: needs seconds (hostile-evtchn=SECONDS)\n");
		return;
	}
	if (si->store_evtchn)
		ports[nports++] = si->store_evtchn;
	if (si->console.domU.evtchn)
		ports[nports++] = si->console.domU.evtchn;
	if (!blkfront_open(XVDA, &d))
		ports[nports++] = d->port;
	if (netfront_scan() > 0) {
		struct netfront *nf = netfront_get(0);

		ports[nports++] = nf->port;
		if (nf->rx_port)
			ports[nports++] = nf->rx_port;
	}
	printk("hostile-evtchn: sending on %u ports for %llu s\n", nports,
	       (unsigned long long)secs);
	end = time_now_ns() + secs * SEC;
	while (nports && time_now_ns() < end) {
		for (unsigned int k = 0; k < 256; k++) {
			struct evtchn_send send = { .port = ports[k % nports] };
			int rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);

			sends++;
			if (rc) {
				errors++;
				last = rc;
			}
		}
	}
	printk("hostile-evtchn: %lu sends, %lu refused (last %d)\n", sends, errors, last);
	if (d)
		blkfront_close(d);
	printk("hostile-evtchn: done\n");
}

/* ==== console ============================================================= */

/* Bytes of one CONSOLEIO_write: the most the hypervisor takes in one call. */
#define HC_CHUNK (64 * 1024)

static void hc_fill(char *buf, size_t len)
{
	static const char line[] = "hostile console flood: the quick brown fox jumps over\n";

	for (size_t i = 0; i < len; i++)
		buf[i] = line[i % (sizeof(line) - 1)];
}

/* The console ring written without waiting for room: whatever fits, notify, again. */
static unsigned long hc_ring(const start_info_t *si, uint64_t end, const char *chunk)
{
	struct xencons_interface *c = mfn_to_virt(si->console.domU.mfn);
	unsigned long bytes = 0;

	if (!c || !si->console.domU.evtchn)
		return 0;
	while (time_now_ns() < end) {
		XENCONS_RING_IDX cons = READ_ONCE(c->out_cons), prod = c->out_prod;
		uint32_t space = sizeof(c->out) - (prod - cons);

		if (prod - cons > sizeof(c->out))
			break; /* the backend broke it: nothing more to do */
		xen_mb();      /* the space seen before we write over it */
		for (uint32_t i = 0; i < space; i++)
			c->out[MASK_XENCONS_IDX(prod + i, c->out)] = chunk[(bytes + i) % HC_CHUNK];
		xen_wmb(); /* bytes before the index */
		WRITE_ONCE(c->out_prod, prod + space);
		bytes += space;
		(void)evtchn_notify(si->console.domU.evtchn);
		if (!space)
			(void)sched_yield();
	}
	return bytes;
}

/*
 * out_prod published three rings ahead of out_cons: xenconsoled must stop
 * serving this console alone.  Our own console driver sees the index out
 * of range too and goes back to console_io, which the hypervisor logs in
 * the same file, so the lines after it are still seen.
 */
static void hc_ring_prod(const start_info_t *si)
{
	struct xencons_interface *c = mfn_to_virt(si->console.domU.mfn);
	XENCONS_RING_IDX to;

	if (!c || !si->console.domU.evtchn) {
		printk("hostile-console: ring-prod: FAIL no console ring\n");
		return;
	}
	printk("hostile-console: ring-prod: pushing out_prod three rings ahead\n");
	console_flush();
	to = READ_ONCE(c->out_cons) + 3 * (XENCONS_RING_IDX)sizeof(c->out);
	xen_wmb();
	WRITE_ONCE(c->out_prod, to);
	(void)evtchn_notify(si->console.domU.evtchn);
	pause_ms(2000);
	printk("hostile-console: ring-prod: out_prod %u, out_cons %u\n", to,
	       READ_ONCE(c->out_cons));
	printk("hostile-console: ring-prod: done\n");
}

static void word_console(const start_info_t *si, const char *arg)
{
	static char chunk[HC_CHUNK];
	unsigned long bytes = 0, calls = 0;
	uint64_t secs = 5, end;
	char way[16];

	if (!parse_way("hostile-console", arg, way, sizeof(way), &secs))
		return;
	if ((strcmp(way, "io") && strcmp(way, "ring") && strcmp(way, "ring-prod")) || secs == 0 ||
	    secs > 3600) {
		printk("hostile-console: usage hostile-console=io|ring|ring-prod[,SECONDS]\n");
		return;
	}
	if (!strcmp(way, "ring-prod")) {
		hc_ring_prod(si);
		return;
	}
	hc_fill(chunk, sizeof(chunk));
	printk("hostile-console: %s: flooding for %llu s\n", way, (unsigned long long)secs);
	console_flush();
	end = time_now_ns() + secs * SEC;
	if (!strcmp(way, "io")) {
		while (time_now_ns() < end) {
			(void)HYPERVISOR_console_io(CONSOLEIO_write, sizeof(chunk), chunk);
			bytes += sizeof(chunk);
			calls++;
		}
	} else {
		bytes = hc_ring(si, end, chunk);
	}
	/* The rate limit lets a line through again after a pause. */
	pause_ms(2000);
	printk("\nhostile-console: %s: %lu bytes written (%lu calls)\n", way, bytes, calls);
	printk("hostile-console: %s: done\n", way);
}

/* ==== xenstore ============================================================ */

/* Request ids of ours: far from the xenbus client's, whose replies it drops as strays. */
#define HX_REQ_ID 0x7f000000u

static struct xenstore_domain_interface *hx_intf;
static evtchn_port_t hx_port;

/*
 * One request: "@a\0" then @b (with its nul unless the request is a
 * write, whose value has none), straight into the ring, announced with an
 * event unless @quiet.  False when it did not fit before @end or the ring
 * is broken.
 */
static bool hx_put(uint32_t type, uint32_t tx, const char *a, const char *b, uint64_t end,
		   bool quiet)
{
	static uint32_t id = HX_REQ_ID;
	struct xsd_sockmsg h = { .type = type, .req_id = id++, .tx_id = tx };
	char body[160];
	size_t len = strlen(a) + 1, total;
	XENSTORE_RING_IDX prod;

	if (len + (b ? strlen(b) + 1 : 0) > sizeof(body))
		return false;
	memcpy(body, a, len);
	if (b) {
		memcpy(body + len, b, strlen(b) + 1);
		len += strlen(b) + (type == XS_WRITE ? 0 : 1);
	}
	h.len = (uint32_t)len;
	total = sizeof(h) + len;
	for (;;) {
		XENSTORE_RING_IDX cons = READ_ONCE(hx_intf->req_cons);

		prod = hx_intf->req_prod;
		if (prod - cons > XENSTORE_RING_SIZE)
			return false;
		if (XENSTORE_RING_SIZE - (prod - cons) >= total)
			break;
		(void)evtchn_notify(hx_port);
		if (time_now_ns() >= end)
			return false;
		(void)sched_yield();
	}
	xen_mb(); /* the space seen before we write over it */
	for (size_t i = 0; i < sizeof(h); i++)
		hx_intf->req[MASK_XENSTORE_IDX(prod++)] = ((const char *)&h)[i];
	for (size_t i = 0; i < len; i++)
		hx_intf->req[MASK_XENSTORE_IDX(prod++)] = body[i];
	xen_wmb(); /* the request before the index */
	WRITE_ONCE(hx_intf->req_prod, prod);
	if (!quiet)
		(void)evtchn_notify(hx_port);
	return true;
}

static bool hx_send(uint32_t type, uint32_t tx, const char *a, const char *b, uint64_t end)
{
	return hx_put(type, tx, a, b, end, false);
}

/*
 * A request left in the ring with no event, as a guest whose index check
 * raced xenstored's leaves one: xenstored must still read it.
 */
static unsigned long hx_quiet(uint64_t end)
{
	XENSTORE_RING_IDX want;
	uint64_t t0;

	/* Nothing of the client's in flight, so that no event of its reads ours. */
	pause_ms(500);
	if (READ_ONCE(hx_intf->req_cons) != READ_ONCE(hx_intf->req_prod)) {
		printk("hostile-xs: quiet: FAIL the ring never went idle\n");
		return 0;
	}
	t0 = time_now_ns();
	if (!hx_put(XS_WRITE, 0, "data/hostile/quiet", "q", end, true)) {
		printk("hostile-xs: quiet: FAIL the request did not fit\n");
		return 0;
	}
	want = READ_ONCE(hx_intf->req_prod);
	while ((int32_t)(READ_ONCE(hx_intf->req_cons) - want) < 0 && time_now_ns() < end)
		(void)sched_yield();
	if ((int32_t)(READ_ONCE(hx_intf->req_cons) - want) < 0)
		printk("hostile-xs: quiet: FAIL never read (req_cons %u, req_prod %u)\n",
		       READ_ONCE(hx_intf->req_cons), want);
	else
		printk("hostile-xs: quiet: read without an event after %llu ms\n",
		       (unsigned long long)((time_now_ns() - t0) / 1000000));
	return 1;
}

static void word_xs(const start_info_t *si, const char *arg)
{
	char way[16], path[64], val[80];
	uint64_t secs = 5, end;
	unsigned long sent = 0;
	int rc;

	if (!parse_way("hostile-xs", arg, way, sizeof(way), &secs))
		return;
	if ((strcmp(way, "requests") && strcmp(way, "watches") && strcmp(way, "transactions") &&
	     strcmp(way, "noread") && strcmp(way, "quiet")) ||
	    secs == 0 || secs > 3600) {
		printk("hostile-xs: usage "
		       "hostile-xs=requests|watches|transactions|noread|quiet[,SECONDS]\n");
		return;
	}
	if (!xenbus_ready() || !si->store_mfn) {
		printk("hostile-xs: %s: FAIL no xenbus\n", way);
		return;
	}
	hx_intf = mfn_to_virt(si->store_mfn);
	hx_port = si->store_evtchn;
	if (!hx_intf) {
		printk("hostile-xs: %s: FAIL store page not mapped\n", way);
		return;
	}
	memset(val, 'v', 64);
	val[64] = '\0';
	end = time_now_ns() + secs * SEC;
	printk("hostile-xs: %s: for %llu s\n", way, (unsigned long long)secs);
	if (!strcmp(way, "requests")) {
		/* Writes of new nodes, pipelined: past the node quota they fail. */
		for (;;) {
			ksnprintf(path, sizeof(path), "data/hostile/n%lu", sent % 4096);
			if (!hx_send(XS_WRITE, 0, path, val, end))
				break;
			sent++;
		}
	} else if (!strcmp(way, "watches")) {
		/* Watches under one token each until refused, then writes that fire them all. */
		for (unsigned int k = 0; k < 2048 && time_now_ns() < end; k++) {
			char tok[16];

			ksnprintf(tok, sizeof(tok), "hw%u", k);
			if (!hx_send(XS_WATCH, 0, "data/hostile", tok, end))
				break;
			sent++;
		}
		while (hx_send(XS_WRITE, 0, "data/hostile/fire", val, end))
			sent++;
	} else if (!strcmp(way, "transactions")) {
		/* Transactions started and never ended, then writes in made-up ones. */
		for (unsigned int k = 0; k < 1024 && time_now_ns() < end; k++) {
			if (!hx_send(XS_TRANSACTION_START, 0, "", NULL, end))
				break;
			sent++;
		}
		for (uint32_t t = 1; hx_send(XS_WRITE, t, "data/hostile/t", val, end); t++)
			sent++;
	} else if (!strcmp(way, "quiet")) {
		sent = hx_quiet(end);
	} else {
		/* Requests whose replies we never take (events masked: no upcall reads them). */
		events_mask();
		while (hx_send(XS_DIRECTORY, 0, "/local/domain", NULL, end))
			sent++;
		events_unmask();
	}
	printk("hostile-xs: %s: %lu requests sent\n", way, sent);
	/* The xenbus client must still work for us: replies to the flood are strays to it. */
	pause_ms(1000);
	rc = xenbus_rm(XBT_NIL, "data/hostile");
	printk("hostile-xs: %s: removing data/hostile answered %d; %lu stray replies, %lu "
	       "dropped events\n",
	       way, rc, xenbus_stray_replies(), xenbus_dropped_events());
	printk("hostile-xs: %s: done\n", way);
}

const struct driver_word hostile_ring_words[] = {
	{ .name = "hostile-blk", .run = word_blk },
	{ .name = "hostile-net", .run = word_net },
	{ .name = "hostile-evtchn", .run = word_evtchn },
	{ .name = "hostile-console", .run = word_console },
	{ .name = "hostile-xs", .run = word_xs },
	{ .name = "honest", .run = honest_word },
};
const unsigned hostile_ring_nwords = ARRAY_SIZE(hostile_ring_words);
