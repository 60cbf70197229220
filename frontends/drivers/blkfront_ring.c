// SPDX-License-Identifier: MIT
// blkfront data plane: request slots, the data page pool and its grants, the blkif ring.
#include <svk/blkfront.h>
#include <svk/events.h>
#include <svk/gnttab.h>
#include <svk/hypercall.h>
#include <svk/printk.h>
#include <svk/time.h>
#include <svk/wait.h>
#include <svk/xenbus.h>

#define SECTORS_PER_PAGE (PAGE_SIZE / BLKFRONT_SECTOR)
#define SEGS_PER_INDIRECT_PAGE (PAGE_SIZE / sizeof(struct blkif_request_segment))

bool blkfront_usable(const struct blkfront_dev *d)
{
	return d->connected && !d->broken && d->be_state == XenbusStateConnected;
}

int blkfront_status_errno(int16_t status)
{
	switch (status) {
	case BLKIF_RSP_OKAY:
		return 0;
	case BLKIF_RSP_EOPNOTSUPP:
		return -XEN_EOPNOTSUPP;
	default:
		return -XEN_EIO;
	}
}

/* First fit of @n free pool pages in a row; the first index or -1. */
static int pool_find(struct blkfront_dev *d, unsigned int n)
{
	unsigned int i, run = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < BLKFRONT_POOL_PAGES; i++) {
		run = d->pool_used[i] ? 0 : run + 1;
		if (run == n)
			return (int)(i + 1 - n);
	}
	return -1;
}

/* Allocate (and in persistent mode grant, writable) pool pages on first use. */
static int pool_fill(struct blkfront_dev *d, unsigned int first, unsigned int n)
{
	for (unsigned int i = first; i < first + n; i++) {
		struct blkfront_page *p = &d->pool[i];

		if (!p->va) {
			p->va = page_alloc();
			if (!p->va)
				return -XEN_ENOMEM;
		}
		if (d->persistent && p->ref < 0) {
			int ref = gnttab_grant_access(d->backend_id, virt_to_mfn(p->va), false);

			if (ref < 0)
				return ref;
			p->ref = ref;
		}
	}
	return 0;
}

int blkfront_slot_get(struct blkfront_dev *d, unsigned int nr_pages)
{
	struct blkfront_slot *s;
	unsigned int id;
	int first, rc;

	if (d->broken)
		return -XEN_EBADMSG;
	if (!blkfront_usable(d))
		return -XEN_ENOTCONN;
	if (nr_pages > d->max_segs)
		return -XEN_E2BIG;
	if (!d->nr_free_slots)
		return -XEN_EAGAIN;
	first = pool_find(d, nr_pages);
	if (first < 0)
		return -XEN_EAGAIN;
	rc = pool_fill(d, (unsigned int)first, nr_pages);
	if (rc)
		return rc;
	id = d->free_slot[--d->nr_free_slots];
	s = &d->slot[id];
	s->busy = true;
	s->queued = false;
	s->first = (uint16_t)first;
	s->nr = (uint16_t)nr_pages;
	s->status = BLKIF_RSP_ERROR;
	s->cookie = 0;
	memset(&d->pool_used[first], 1, nr_pages);
	return (int)id;
}

void *blkfront_slot_page(struct blkfront_dev *d, unsigned int id, unsigned int i)
{
	return d->pool[d->slot[id].first + i].va;
}

void blkfront_slot_put(struct blkfront_dev *d, unsigned int id)
{
	struct blkfront_slot *s = &d->slot[id];

	if (!s->busy || s->queued)
		return;
	memset(&d->pool_used[s->first], 0, s->nr);
	s->busy = false;
	d->free_slot[d->nr_free_slots++] = (uint16_t)id;
}

/* End a per-request grant; a page the backend still maps is leaked, never reused. */
static void end_tmp_grant(struct blkfront_dev *d, int *ref, void **page)
{
	if (*ref < 0)
		return;
	if (gnttab_end_access((grant_ref_t)*ref)) {
		d->leaked_grants++;
		*page = NULL; /* forgotten: the backend may still write it */
	}
	*ref = -1;
}

/* Per-request grants of slot @s (not persistent mode): end them. */
static void slot_ungrant(struct blkfront_dev *d, struct blkfront_slot *s)
{
	if (d->persistent)
		return;
	for (unsigned int i = s->first; i < s->first + s->nr; i++)
		end_tmp_grant(d, &d->pool[i].ref, &d->pool[i].va);
	end_tmp_grant(d, &s->ind_tmp_ref, &s->ind_page);
}

/* The grant of data page @i for this request (persistent: the kept one). */
static int page_ref(struct blkfront_dev *d, unsigned int i, bool write)
{
	struct blkfront_page *p = &d->pool[i];
	int ref;

	if (d->persistent)
		return p->ref;
	/* The backend only reads what we write: read-only is enough. */
	ref = gnttab_grant_access(d->backend_id, virt_to_mfn(p->va), write);
	if (ref >= 0)
		p->ref = ref;
	return ref;
}

/* The indirect page of slot @s and its grant for this request. */
static int indirect_ref(struct blkfront_dev *d, struct blkfront_slot *s)
{
	int ref;

	if (!s->ind_page) {
		s->ind_page = page_alloc();
		if (!s->ind_page)
			return -XEN_ENOMEM;
	}
	if (d->persistent) {
		if (s->ind_ref < 0) {
			ref = gnttab_grant_access(d->backend_id, virt_to_mfn(s->ind_page), false);
			if (ref < 0)
				return ref;
			s->ind_ref = ref;
		}
		return s->ind_ref;
	}
	ref = gnttab_grant_access(d->backend_id, virt_to_mfn(s->ind_page), true);
	if (ref >= 0)
		s->ind_tmp_ref = ref;
	return ref;
}

/* Put a built request on the ring (ours until pushed), copied in one go. */
static void ring_put(struct blkfront_dev *d, unsigned int id, const blkif_request_t *req)
{
	memcpy(RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt), req, sizeof(*req));
	d->ring.req_prod_pvt++;
	d->slot[id].queued = true;
	d->in_flight++;
	d->reqs++;
}

static int check_slot(struct blkfront_dev *d, unsigned int id)
{
	if (id >= RING_SIZE(&d->ring) || !d->slot[id].busy || d->slot[id].queued)
		return -XEN_EINVAL;
	if (d->broken)
		return -XEN_EBADMSG;
	if (!blkfront_usable(d))
		return -XEN_ENOTCONN;
	if (RING_FULL(&d->ring))
		return -XEN_EAGAIN;
	return 0;
}

int blkfront_queue_rw(struct blkfront_dev *d, unsigned int id, bool write, uint64_t sector,
		      uint32_t nr_sectors)
{
	struct blkfront_slot *s = &d->slot[id];
	struct blkif_request_segment *segs;
	blkif_request_t req;
	unsigned int i, n;
	int rc = check_slot(d, id), ref;

	if (rc)
		return rc;
	n = (nr_sectors + SECTORS_PER_PAGE - 1) / SECTORS_PER_PAGE;
	if (nr_sectors == 0 || n > s->nr || sector > d->sectors || nr_sectors > d->sectors - sector)
		return -XEN_EINVAL;
	memset(&req, 0, sizeof(req));
	if (n <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		req.operation = write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
		req.nr_segments = (uint8_t)n;
		req.handle = (blkif_vdev_t)d->devid;
		segs = req.seg;
	} else {
		blkif_request_indirect_t *ir = (blkif_request_indirect_t *)&req;

		ref = indirect_ref(d, s);
		if (ref < 0)
			return ref;
		ir->operation = BLKIF_OP_INDIRECT;
		ir->indirect_op = write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
		ir->nr_segments = (uint16_t)n;
		ir->handle = (blkif_vdev_t)d->devid;
		ir->indirect_grefs[0] = (grant_ref_t)ref;
		segs = s->ind_page;
	}
	for (i = 0; i < n; i++) {
		uint32_t left = nr_sectors - i * SECTORS_PER_PAGE;

		ref = page_ref(d, s->first + i, write);
		if (ref < 0) {
			uint16_t nr = s->nr;

			s->nr = (uint16_t)i; /* end the grants taken so far */
			slot_ungrant(d, s);
			s->nr = nr;
			return ref;
		}
		segs[i].gref = (grant_ref_t)ref;
		segs[i].first_sect = 0;
		segs[i].last_sect =
		    (uint8_t)((left < SECTORS_PER_PAGE ? left : SECTORS_PER_PAGE) - 1);
	}
	s->op = write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
	s->indirect = n > BLKIF_MAX_SEGMENTS_PER_REQUEST;
	s->sector = sector;
	s->nr_sectors = nr_sectors;
	if (s->indirect) {
		((blkif_request_indirect_t *)&req)->id = id;
		((blkif_request_indirect_t *)&req)->sector_number = sector;
	} else {
		req.id = id;
		req.sector_number = sector;
	}
	ring_put(d, id, &req);
	return 0;
}

int blkfront_queue_flush(struct blkfront_dev *d, unsigned int id)
{
	blkif_request_t req;
	int rc = check_slot(d, id);

	if (rc)
		return rc;
	if (!d->flush)
		return -XEN_EOPNOTSUPP;
	memset(&req, 0, sizeof(req));
	req.operation = BLKIF_OP_FLUSH_DISKCACHE;
	req.handle = (blkif_vdev_t)d->devid;
	req.id = id;
	d->slot[id].op = BLKIF_OP_FLUSH_DISKCACHE;
	d->slot[id].indirect = false;
	ring_put(d, id, &req);
	return 0;
}

int blkfront_queue_discard(struct blkfront_dev *d, unsigned int id, uint64_t sector,
			   uint64_t nr_sectors)
{
	blkif_request_t req;
	blkif_request_discard_t *dr = (blkif_request_discard_t *)&req;
	int rc = check_slot(d, id);

	if (rc)
		return rc;
	if (!d->discard)
		return -XEN_EOPNOTSUPP;
	if (sector > d->sectors || nr_sectors > d->sectors - sector)
		return -XEN_EINVAL;
	memset(&req, 0, sizeof(req));
	dr->operation = BLKIF_OP_DISCARD;
	dr->handle = (blkif_vdev_t)d->devid;
	dr->id = id;
	dr->sector_number = sector;
	dr->nr_sectors = nr_sectors;
	d->slot[id].op = BLKIF_OP_DISCARD;
	d->slot[id].indirect = false;
	d->slot[id].sector = sector;
	d->slot[id].discard_len = nr_sectors;
	ring_put(d, id, &req);
	return 0;
}

void blkfront_kick(struct blkfront_dev *d)
{
	bool notify;

	if (d->ring.req_prod_pvt == d->ring.sring->req_prod)
		return;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&d->ring, notify);
	if (notify && d->port) {
		(void)evtchn_notify(d->port);
		d->notifies++;
	}
}

void blkfront_corrupt_ring(struct blkfront_dev *d, unsigned int ahead)
{
	xen_wmb();
	WRITE_ONCE(d->ring.sring->req_prod, d->ring.req_prod_pvt + ahead);
	xen_mb();
	(void)evtchn_notify(d->port);
}

/*
 * The backend broke the protocol: the device is dead.  Queued slots are
 * answered with an error for their owners; their pages stay granted (the
 * backend may still write them) until blkfront_close decides.
 */
static int ring_broken(struct blkfront_dev *d, blkfront_done_t done, void *arg, const char *why,
		       unsigned long a, unsigned long b)
{
	printk("blkfront: vbd %u: the backend broke the blkif protocol: %s (%lu, %lu); device "
	       "disabled\n",
	       d->devid, why, a, b);
	d->broken = true;
	for (unsigned int id = 0; id < RING_SIZE(&d->ring); id++) {
		struct blkfront_slot *s = &d->slot[id];

		if (!s->queued)
			continue;
		s->queued = false;
		s->status = BLKIF_RSP_ERROR;
		d->in_flight--;
		if (done)
			done(arg, d, id);
	}
	return -XEN_EBADMSG;
}

/* The operation a response must carry for the request in slot @s. */
static bool rsp_op_ok(const struct blkfront_slot *s, uint8_t op, bool indirect)
{
	return op == s->op || (indirect && op == BLKIF_OP_INDIRECT);
}

int blkfront_reap(struct blkfront_dev *d, blkfront_done_t done, void *arg)
{
	blkif_response_t rsp;
	RING_IDX rp;
	int n = 0, more;

	if (d->broken)
		return -XEN_EBADMSG;
	/* Requests a restore could not send again: answered here, as errors. */
	for (unsigned int id = 0; d->nr_failed && id < BLKFRONT_MAX_RING_SIZE; id++) {
		if (!d->slot[id].failed)
			continue;
		d->slot[id].failed = false;
		d->slot[id].status = BLKIF_RSP_ERROR;
		d->nr_failed--;
		n++;
		if (done)
			done(arg, d, id);
	}
	do {
		rp = READ_ONCE(d->ring.sring->rsp_prod);
		xen_rmb(); /* the responses before we read them */
		/* No more answers than requests we pushed. */
		if ((RING_IDX)(rp - d->ring.rsp_cons) >
		    (RING_IDX)(d->ring.req_prod_pvt - d->ring.rsp_cons))
			return ring_broken(d, done, arg, "rsp_prod beyond our requests", rp,
					   d->ring.rsp_cons);
		while (d->ring.rsp_cons != rp) {
			struct blkfront_slot *s;
			uint64_t id;

			RING_COPY_RESPONSE(&d->ring, d->ring.rsp_cons, &rsp);
			d->ring.rsp_cons++;
			id = rsp.id;
			if (id >= RING_SIZE(&d->ring) || !d->slot[id].queued)
				return ring_broken(d, done, arg, "answer for an id not in flight",
						   (unsigned long)id, rsp.operation);
			s = &d->slot[id];
			if (!rsp_op_ok(s, rsp.operation, s->indirect))
				return ring_broken(d, done, arg, "answer with the wrong operation",
						   (unsigned long)id, rsp.operation);
			s->queued = false;
			s->status = rsp.status;
			d->in_flight--;
			n++;
			if (done)
				done(arg, d, (unsigned int)id);
			/*
			 * After @done took the data: a page whose grant the
			 * backend still maps is forgotten, never reused.
			 */
			slot_ungrant(d, s);
		}
		/* Ask for an event at the next answer, then look once more. */
		RING_FINAL_CHECK_FOR_RESPONSES(&d->ring, more);
	} while (more);
	return n;
}

/*
 * The wake-up timer of blkfront_wait, owned by this file.  Arming the
 * one-shot timer is a hypercall, so it is armed once for a deadline and
 * kept while that lies ahead: a wait for one answer usually costs no
 * timer hypercall at all.  Another waiter may re-arm the timer for its
 * own deadline meanwhile; its timer fires (every wait_until deadline
 * does) and the VIRQ_TIMER count tells us to arm ours again.
 */
static struct {
	bool armed;
	uint64_t at;
	unsigned long fired;
} wake;

/* Make sure the timer wakes us by @end at the latest (or sooner). */
static void wake_arm(uint64_t end, uint64_t now)
{
	if (wake.armed && wake.fired == wait_timer_fired() && wake.at > now && wake.at <= end)
		return;
	wake.armed = wait_timer_arm(end);
	wake.at = end;
	wake.fired = wait_timer_fired();
}

void blkfront_wake_cancel(void)
{
	struct vcpu_set_singleshot_timer t = { 0 };

	if (!wake.armed)
		return;
	/* A zero deadline in the past would fire at once: stop it instead. */
	(void)HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, &t);
	wake.armed = false;
}

struct ring_wait {
	struct blkfront_dev *d;
	uint64_t end;
};

/* Runs with events masked: anything to reap, a reason to stop, or the deadline. */
static bool ring_ready(void *arg)
{
	struct ring_wait *w = arg;
	struct blkfront_dev *d = w->d;
	uint64_t now;
	int more;

	/* Watch callbacks wait for the hook (but not while shutting down). */
	if (d->broken || d->nr_failed || d->be_state != XenbusStateConnected ||
	    (xenbus_watches_pending() && !blkfront_shutting_down))
		return true;
	RING_FINAL_CHECK_FOR_RESPONSES(&d->ring, more);
	if (more || !w->end)
		return more;
	now = time_now_ns();
	if (now >= w->end)
		return true;
	wake_arm(w->end, now);
	return false;
}

int blkfront_wait(struct blkfront_dev *d, uint64_t timeout_ns)
{
	struct ring_wait w = { .d = d };

	/* Without the timer, wait_until polls to the deadline itself. */
	if (!time_available() || !wait_timer_available()) {
		w.end = 0;
		for (;;) {
			if (d->broken)
				return -XEN_EBADMSG;
			if (RING_HAS_UNCONSUMED_RESPONSES(&d->ring) || d->nr_failed)
				return 0;
			if (d->be_state != XenbusStateConnected)
				return -XEN_ENOTCONN;
			if (blkfront_wait_until(ring_ready, &w, timeout_ns))
				return -XEN_ETIMEDOUT;
		}
	}
	w.end = time_now_ns() + timeout_ns;
	for (;;) {
		if (d->broken)
			return -XEN_EBADMSG;
		if (RING_HAS_UNCONSUMED_RESPONSES(&d->ring) || d->nr_failed)
			return 0;
		if (d->be_state != XenbusStateConnected)
			return -XEN_ENOTCONN;
		if (time_now_ns() >= w.end)
			return -XEN_ETIMEDOUT;
		/* No deadline for wait_until: ring_ready keeps ours armed. */
		(void)blkfront_wait_until(ring_ready, &w, 0);
	}
}

/* End @ref (void after a restore: it ends at once) and forget it. */
static void forget_ref(int *ref)
{
	if (*ref >= 0)
		(void)gnttab_end_access((grant_ref_t)*ref);
	*ref = -1;
}

void blkfront_ring_forget(struct blkfront_dev *d)
{
	unsigned int id;

	d->port = 0; /* the new domain has no such channel: never close it */
	for (id = 0; id < ARRAY_SIZE(d->ring_ref); id++)
		forget_ref(&d->ring_ref[id]);
	for (id = 0; id < BLKFRONT_POOL_PAGES; id++)
		forget_ref(&d->pool[id].ref);
	for (id = 0; id < BLKFRONT_MAX_RING_SIZE; id++) {
		struct blkfront_slot *s = &d->slot[id];

		forget_ref(&s->ind_ref);
		forget_ref(&s->ind_tmp_ref);
		s->requeue = s->queued;
		s->queued = false;
	}
	d->in_flight = 0;
	d->events = 0;
	wake.armed = false; /* the new domain's timer is not armed */
}

unsigned int blkfront_ring_requeue(struct blkfront_dev *d)
{
	unsigned int id, n = 0;
	int rc;

	for (id = 0; id < BLKFRONT_MAX_RING_SIZE; id++) {
		struct blkfront_slot *s = &d->slot[id];

		if (!s->requeue)
			continue;
		s->requeue = false;
		switch (s->op) {
		case BLKIF_OP_READ:
		case BLKIF_OP_WRITE:
			rc = pool_fill(d, s->first, s->nr);
			if (!rc)
				rc = blkfront_queue_rw(d, id, s->op == BLKIF_OP_WRITE, s->sector,
						       s->nr_sectors);
			break;
		case BLKIF_OP_FLUSH_DISKCACHE:
			rc = blkfront_queue_flush(d, id);
			break;
		case BLKIF_OP_DISCARD:
			rc = blkfront_queue_discard(d, id, s->sector, s->discard_len);
			break;
		default:
			rc = -XEN_EINVAL;
		}
		if (rc) {
			s->failed = true;
			d->nr_failed++;
		} else {
			n++;
		}
	}
	blkfront_kick(d);
	return n;
}
