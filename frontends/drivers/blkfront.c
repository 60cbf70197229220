// SPDX-License-Identifier: MIT
// blkfront control plane: finding vbds, the xenbus handshake with blkback, and closing.
#include <svk/blkfront.h>
#include <svk/control.h>
#include <svk/events.h>
#include <svk/gnttab.h>
#include <svk/printk.h>
#include <svk/sched.h>
#include <svk/suspend.h>
#include <svk/time.h>
#include <svk/wait.h>
#include <svk/xenbus.h>
#include <svk/xenbus_state.h>

#define MS 1000000ULL
/* How long each handshake step may take (blkback answers in milliseconds). */
#define STEP_TIMEOUT_NS (10000ULL * MS)
/* How long close waits for requests still out, and for grants to be let go. */
#define DRAIN_TIMEOUT_NS (5000ULL * MS)
#define UNGRANT_TIMEOUT_NS (1000ULL * MS)

struct blkfront_opts blkfront_opts = { .max_ring_order = BLKFRONT_MAX_RING_ORDER };

/*
 * Devices and their ring pages, owned by this file.  Ring pages sit in a
 * page-aligned bss area so each device's 2^order pages are one contiguous
 * virtual range, as FRONT_RING_INIT wants.
 */
static struct blkfront_dev devs[BLKFRONT_MAX_DEVS];
static char
    ring_area[BLKFRONT_MAX_DEVS][1 << BLKFRONT_MAX_RING_ORDER][PAGE_SIZE] __aligned(PAGE_SIZE);

static void *dev_ring_area(const struct blkfront_dev *d)
{
	return ring_area[d - devs];
}

int blkfront_list(unsigned int *ids, unsigned int max)
{
	char buf[512];
	const char *p;
	unsigned int n = 0;
	int count, i;

	if (!xenbus_ready())
		return -XEN_ENODEV;
	count = xenbus_directory(XBT_NIL, "device/vbd", buf, sizeof(buf));
	if (count == -XEN_ENOENT)
		return 0;
	if (count < 0)
		return count;
	for (i = 0, p = buf; i < count; i++, p += strlen(p) + 1) {
		uint64_t v;

		if (parse_u64(p, &v) || v > UINT32_MAX || n == max)
			continue;
		ids[n++] = (unsigned int)v;
	}
	return (int)n;
}

/* "<dir>/<key>" as a number; @def when absent.  0 or -errno. */
static int read_key(const char *dir, const char *key, uint64_t def, uint64_t *val)
{
	char path[192];
	int rc;

	if ((size_t)ksnprintf(path, sizeof(path), "%s/%s", dir, key) >= sizeof(path))
		return -XEN_E2BIG;
	rc = xenbus_read_u64(XBT_NIL, path, val);
	if (rc == -XEN_ENOENT) {
		*val = def;
		rc = 0;
	}
	return rc;
}

/* Runs from the wait hook: the backend's state changed (or the watch was set). */
static void be_state_cb(const char *path, void *data)
{
	struct blkfront_dev *d = data;
	int st = xenbus_read_state(d->be);

	if (st >= 0)
		d->be_state = st;
}

/* The ring's event: only a wake-up; responses are reaped outside the upcall. */
static void ring_event(evtchn_port_t port, void *data)
{
	struct blkfront_dev *d = data;

	d->events++;
}

struct state_wait {
	struct blkfront_dev *d;
	int seen;
};

static bool state_changed(void *arg)
{
	struct state_wait *w = arg;

	return w->d->be_state != w->seen;
}

/* How often a wait for a backend state reads it when no watch callback runs. */
#define STATE_POLL_NS (20ULL * MS)

/*
 * Wait until the backend's state is one of @mask (bits of XenbusState).
 * The state is read here each round; between rounds the watch callback
 * (run by the wait hook) wakes us at once, and without it (inside the
 * hook, at shutdown) we look again every STATE_POLL_NS.  The state seen,
 * or -XEN_ETIMEDOUT.
 */
static int wait_be_state(struct blkfront_dev *d, unsigned int mask, uint64_t timeout_ns)
{
	struct state_wait w = { .d = d };
	bool clock = time_available();
	uint64_t end = clock ? time_now_ns() + timeout_ns : 0, waited = 0;
	int st;

	for (;;) {
		st = xenbus_read_state(d->be);
		if (st >= 0)
			d->be_state = st;
		if ((1u << d->be_state) & mask)
			return d->be_state;
		if (clock ? time_now_ns() >= end : waited >= timeout_ns)
			return -XEN_ETIMEDOUT;
		w.seen = d->be_state;
		(void)blkfront_wait_until(state_changed, &w, STATE_POLL_NS);
		waited += STATE_POLL_NS;
	}
}

#define BIT(s) (1u << (s))

/*
 * The backend's features, read at InitWait: how many ring pages we may
 * use and whether it keeps grants mapped.
 */
static int read_initwait_features(struct blkfront_dev *d)
{
	uint64_t order, pers;
	int rc;

	rc = read_key(d->be, "max-ring-page-order", 0, &order);
	if (!rc)
		rc = read_key(d->be, "feature-persistent", 0, &pers);
	if (rc)
		return rc;
	if (order > blkfront_opts.max_ring_order)
		order = blkfront_opts.max_ring_order;
	d->ring_order = (unsigned int)order;
	d->persistent = pers == 1 && !blkfront_opts.no_persistent;
	return 0;
}

/*
 * Grant the ring pages, allocate and bind the event channel.  Slots start
 * all free, or with @keep_slots (a reconnect after a restore) the busy
 * ones stay busy, which the ring must still hold.
 */
static int setup_ring(struct blkfront_dev *d, bool keep_slots)
{
	blkif_sring_t *sring = dev_ring_area(d);
	unsigned int i, pages = 1u << d->ring_order;
	int rc;

	memset(sring, 0, pages * PAGE_SIZE);
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&d->ring, sring, pages * PAGE_SIZE);
	if (RING_SIZE(&d->ring) > BLKFRONT_MAX_RING_SIZE)
		return -XEN_EINVAL;
	for (i = 0; i < pages; i++) {
		void *va = (char *)sring + i * PAGE_SIZE;

		rc = gnttab_grant_access(d->backend_id, virt_to_mfn(va), false);
		if (rc < 0)
			return rc;
		d->ring_ref[i] = rc;
	}
	rc = evtchn_alloc_unbound(d->backend_id, &d->port);
	if (rc)
		return rc;
	rc = evtchn_bind(d->port, ring_event, d);
	if (rc) {
		(void)evtchn_close(d->port);
		d->port = 0;
		return rc;
	}
	/* Slots: all free (or all not busy), lowest id on top. */
	d->nr_free_slots = 0;
	for (i = BLKFRONT_MAX_RING_SIZE; i-- > 0;) {
		if (keep_slots && d->slot[i].busy) {
			if (i >= RING_SIZE(&d->ring))
				return -XEN_ENOSPC; /* a smaller ring than the slots in use */
			continue;
		}
		if (i < RING_SIZE(&d->ring))
			d->free_slot[d->nr_free_slots++] = (uint16_t)i;
	}
	return 0;
}

/* Remove ring-ref, ring-page-order and ring-ref0.. (absent keys are fine). */
static int remove_ring_keys(struct blkfront_dev *d, xenbus_transaction_t t)
{
	char path[96];
	int rc = 0;

	for (int i = -2; !rc && i < (1 << BLKFRONT_MAX_RING_ORDER); i++) {
		if (i == -2)
			ksnprintf(path, sizeof(path), "%s/ring-ref", d->fe);
		else if (i == -1)
			ksnprintf(path, sizeof(path), "%s/ring-page-order", d->fe);
		else
			ksnprintf(path, sizeof(path), "%s/ring-ref%d", d->fe, i);
		rc = xenbus_rm(t, path);
		if (rc == -XEN_ENOENT)
			rc = 0;
	}
	return rc;
}

/* Our keys, in one transaction (started over on EAGAIN). */
static int write_ring_keys(struct blkfront_dev *d)
{
	char path[96];
	xenbus_transaction_t t;
	unsigned int i, tries;
	int rc;

#define FE_KEY(key) (ksnprintf(path, sizeof(path), "%s/%s", d->fe, key), path)
	for (tries = 0; tries < 5; tries++) {
		rc = xenbus_transaction_start(&t);
		if (rc)
			return rc;
		/* Keys of an earlier connection with another ring size must go. */
		rc = remove_ring_keys(d, t);
		if (rc)
			goto out_abort;
		if (d->ring_order == 0) {
			rc = xenbus_printf(t, FE_KEY("ring-ref"), "%d", d->ring_ref[0]);
		} else {
			rc = xenbus_printf(t, FE_KEY("ring-page-order"), "%u", d->ring_order);
			for (i = 0; !rc && i < (1u << d->ring_order); i++) {
				char key[16];

				ksnprintf(key, sizeof(key), "ring-ref%u", i);
				rc = xenbus_printf(t, FE_KEY(key), "%d", d->ring_ref[i]);
			}
		}
		if (!rc)
			rc = xenbus_printf(t, FE_KEY("event-channel"), "%u", d->port);
		if (!rc)
			rc = xenbus_write(t, FE_KEY("protocol"), XEN_IO_PROTO_ABI_X86_64);
		if (!rc)
			rc = xenbus_write(t, FE_KEY("feature-persistent"),
					  d->persistent ? "1" : "0");
		if (rc)
			goto out_abort;
		rc = xenbus_transaction_end(t, false);
		if (rc != -XEN_EAGAIN)
			return rc;
	}
#undef FE_KEY
	return rc;
out_abort:
	(void)xenbus_transaction_end(t, true);
	return rc;
}

/* Geometry and features, read once the backend is Connected. */
static int read_connected(struct blkfront_dev *d)
{
	uint64_t sectors, ssize, info, flush, discard, gran, ind;
	int rc;

	rc = read_key(d->be, "sectors", ~0ULL, &sectors);
	if (!rc)
		rc = read_key(d->be, "sector-size", BLKFRONT_SECTOR, &ssize);
	if (!rc)
		rc = read_key(d->be, "info", 0, &info);
	if (!rc)
		rc = read_key(d->be, "feature-flush-cache", 0, &flush);
	if (!rc)
		rc = read_key(d->be, "feature-discard", 0, &discard);
	if (!rc)
		rc = read_key(d->be, "discard-granularity", 0, &gran);
	if (!rc)
		rc = read_key(d->be, "feature-max-indirect-segments", 0, &ind);
	if (rc)
		return rc;
	if (sectors == ~0ULL || ssize < BLKFRONT_SECTOR || ssize > PAGE_SIZE ||
	    (ssize & (ssize - 1)))
		return -XEN_EINVAL;
	d->sectors = sectors;
	d->sector_size = (unsigned int)ssize;
	d->info = (unsigned int)info;
	d->readonly = info & VDISK_READONLY;
	d->flush = flush == 1;
	d->discard = discard == 1;
	d->discard_granularity = gran > UINT32_MAX ? 0 : (unsigned int)gran;
	d->max_segs = BLKIF_MAX_SEGMENTS_PER_REQUEST;
	if (ind > BLKIF_MAX_SEGMENTS_PER_REQUEST && !blkfront_opts.no_indirect)
		d->max_segs = ind > BLKFRONT_MAX_SEGS ? BLKFRONT_MAX_SEGS : (unsigned int)ind;
	return 0;
}

bool blkfront_shutting_down;
static unsigned int nr_open;
/*
 * Set while blkfront's own waits sleep: only then may the hook talk to
 * xenstored (elsewhere it may run inside another xenbus request's wait).
 */
static bool hook_may_talk;

int blkfront_wait_until(wait_cond_t cond, void *arg, uint64_t timeout_ns)
{
	bool outer = hook_may_talk;
	int rc;

	hook_may_talk = true;
	rc = wait_until(cond, arg, timeout_ns);
	hook_may_talk = outer;
	return rc;
}

/* Whether control/shutdown holds a request control.c acts on (and shuts down for). */
static bool shutdown_requested(void)
{
	char req[32];

	if (xenbus_read(XBT_NIL, "control/shutdown", req, sizeof(req)) <= 0)
		return false;
	return !strcmp(req, "poweroff") || !strcmp(req, "halt") || !strcmp(req, "reboot");
}

/*
 * The wait hook while devices are open, in place of control_poll (which
 * it calls).  control.c shuts the domain down from its watch
 * callback at once; so before any callback runs, a pending shutdown
 * request first closes every device (Closing -> Closed), and blkback gets
 * every grant back from a guest that is going away.
 */
static void blkfront_hook(void)
{
	if (hook_may_talk && xenbus_watches_pending() && !blkfront_shutting_down &&
	    shutdown_requested()) {
		blkfront_shutting_down = true;
		for (unsigned int i = 0; i < BLKFRONT_MAX_DEVS; i++) {
			if (!devs[i].used)
				continue;
			printk("blkfront: vbd %u: closing for shutdown\n", devs[i].devid);
			blkfront_close(&devs[i]);
		}
		blkfront_shutting_down = false;
	}
	control_poll();
}

static struct blkfront_dev *dev_get(unsigned int devid)
{
	for (unsigned int i = 0; i < BLKFRONT_MAX_DEVS; i++) {
		if (devs[i].used && devs[i].devid == devid)
			return NULL; /* open already */
	}
	for (unsigned int i = 0; i < BLKFRONT_MAX_DEVS; i++) {
		if (!devs[i].used) {
			memset(&devs[i], 0, sizeof(devs[i]));
			devs[i].used = true;
			if (nr_open++ == 0)
				wait_set_hook(blkfront_hook);
			devs[i].devid = devid;
			devs[i].watch = -1;
			for (unsigned int r = 0; r < ARRAY_SIZE(devs[i].ring_ref); r++)
				devs[i].ring_ref[r] = -1;
			for (unsigned int r = 0; r < BLKFRONT_MAX_RING_SIZE; r++)
				devs[i].slot[r].ind_ref = devs[i].slot[r].ind_tmp_ref = -1;
			for (unsigned int r = 0; r < BLKFRONT_POOL_PAGES; r++)
				devs[i].pool[r].ref = -1;
			return &devs[i];
		}
	}
	return NULL;
}

/* End one grant, waiting a little while the backend still maps it; false if leaked. */
static bool ungrant(struct blkfront_dev *d, int ref)
{
	uint64_t end = time_now_ns() + UNGRANT_TIMEOUT_NS;
	int rc;

	if (ref < 0)
		return true;
	while ((rc = gnttab_end_access((grant_ref_t)ref)) == -XEN_EBUSY) {
		if (!time_available() || time_now_ns() >= end)
			break;
		(void)sched_yield();
	}
	if (rc) {
		d->leaked_grants++;
		return false;
	}
	return true;
}

/* Give back everything setup_ring and the data path took. */
static void release(struct blkfront_dev *d)
{
	unsigned int i;

	if (d->watch >= 0)
		(void)xenbus_unwatch(d->watch);
	d->watch = -1;
	if (d->port)
		(void)evtchn_close(d->port);
	d->port = 0;
	for (i = 0; i < ARRAY_SIZE(d->ring_ref); i++) {
		/* A ring page still mapped stays ours (bss): the grant is leaked. */
		(void)ungrant(d, d->ring_ref[i]);
		d->ring_ref[i] = -1;
	}
	for (i = 0; i < BLKFRONT_MAX_RING_SIZE; i++) {
		struct blkfront_slot *s = &d->slot[i];
		bool ok = ungrant(d, s->ind_ref) && ungrant(d, s->ind_tmp_ref);

		if (s->ind_page && ok)
			page_free(s->ind_page);
	}
	for (i = 0; i < BLKFRONT_POOL_PAGES; i++) {
		/* A page the backend may still write is never reused. */
		if (ungrant(d, d->pool[i].ref) && d->pool[i].va)
			page_free(d->pool[i].va);
	}
	if (d->leaked_grants)
		printk("blkfront: vbd %u: %lu grants still mapped by the backend: their pages are "
		       "leaked\n",
		       d->devid, d->leaked_grants);
	d->used = false;
	if (--nr_open == 0)
		wait_set_hook(control_poll);
}

/*
 * The handshake, from reading our backend to Connected (blkback's side in
 * docs/blkback.md).  0, or -errno with *@setup saying whether the ring
 * was set up (then blkfront_close undoes it, else release).
 */
static int handshake(struct blkfront_dev *d, bool keep_slots, bool *setup)
{
	uint64_t beid;
	int rc, st;

	*setup = false;
	rc = xenbus_read_backend("vbd", d->devid, d->be, sizeof(d->be));
	if (rc < 0)
		return rc;
	rc = read_key(d->fe, "backend-id", 0, &beid);
	if (rc)
		return rc;
	if (beid >= DOMID_FIRST_RESERVED)
		return -XEN_EINVAL;
	d->backend_id = (domid_t)beid;
	ksnprintf(d->be_state_path, sizeof(d->be_state_path), "%s/state", d->be);
	d->be_state = XenbusStateUnknown;
	rc = xenbus_watch(d->be_state_path, be_state_cb, d);
	if (rc < 0)
		return rc;
	d->watch = rc;

	/*
	 * A frontend left Closed (an earlier word, a hostile test) starts
	 * over from Initialising; blkback then says InitWait again.
	 */
	st = xenbus_read_state(d->fe);
	if (st != XenbusStateInitialising) {
		rc = xenbus_switch_state(d->fe, XenbusStateInitialising);
		if (rc)
			return rc;
	}
	/* A backend still Connected to an earlier frontend drops it and says InitWait. */
	rc = wait_be_state(d, BIT(XenbusStateInitWait), STEP_TIMEOUT_NS);
	if (rc < 0) {
		printk("blkfront: vbd %u: backend never reached InitWait (state %d)\n", d->devid,
		       d->be_state);
		return rc;
	}
	*setup = true;
	rc = read_initwait_features(d);
	if (!rc)
		rc = setup_ring(d, keep_slots);
	if (!rc)
		rc = write_ring_keys(d);
	if (!rc)
		rc = xenbus_switch_state(d->fe, XenbusStateInitialised);
	if (rc) {
		printk("blkfront: vbd %u: setting up the ring failed: %d\n", d->devid, rc);
		return rc;
	}
	rc = wait_be_state(
	    d, BIT(XenbusStateConnected) | BIT(XenbusStateClosing) | BIT(XenbusStateClosed),
	    STEP_TIMEOUT_NS);
	if (rc != XenbusStateConnected) {
		printk("blkfront: vbd %u: backend did not connect (state %d)\n", d->devid,
		       d->be_state);
		return rc < 0 ? rc : -XEN_ENODEV;
	}
	rc = read_connected(d);
	if (rc) {
		printk("blkfront: vbd %u: bad geometry keys: %d\n", d->devid, rc);
		return rc;
	}
	rc = xenbus_switch_state(d->fe, XenbusStateConnected);
	if (rc)
		return rc;
	d->connected = true;
	return 0;
}

static void blkfront_resume(void *arg);

int blkfront_open(unsigned int devid, struct blkfront_dev **out)
{
	static bool hooked;
	struct blkfront_dev *d;
	bool setup;
	int rc;

	if (!xenbus_ready() || !gnttab_ready() || !events_ready())
		return -XEN_ENODEV;
	if (!hooked)
		hooked = !suspend_register(blkfront_resume, NULL);
	d = dev_get(devid);
	if (!d)
		return -XEN_EBUSY;
	ksnprintf(d->fe, sizeof(d->fe), "device/vbd/%u", devid);
	rc = handshake(d, false, &setup);
	if (rc) {
		if (setup)
			blkfront_close(d);
		else
			release(d);
		return rc;
	}
	*out = d;
	return 0;
}

/*
 * In a restored domain: each open device lost its ring, grants and port,
 * and its backend is a new one (xl made it afresh, the frontend node
 * Initialising).  Forget what was lost, connect as at open, then send the
 * requests that were in flight again.  A device that cannot connect is
 * marked broken: its users see -XEN_EBADMSG and close it.
 */
static void blkfront_resume(void *arg)
{
	for (unsigned int i = 0; i < BLKFRONT_MAX_DEVS; i++) {
		struct blkfront_dev *d = &devs[i];
		unsigned int again, kept = d->in_flight;
		bool setup;
		int rc;

		if (!d->used)
			continue;
		d->connected = false;
		if (d->watch >= 0)
			(void)xenbus_unwatch(d->watch);
		d->watch = -1;
		blkfront_ring_forget(d);
		d->broken = false;
		rc = handshake(d, true, &setup);
		if (rc) {
			printk("blkfront: vbd %u: reconnecting after the restore failed: %d\n",
			       d->devid, rc);
			d->broken = true;
			continue;
		}
		again = blkfront_ring_requeue(d);
		printk("blkfront: vbd %u: reconnected after the restore (%u of %u requests in "
		       "flight sent again)\n",
		       d->devid, again, kept);
	}
}

/* Answers still coming are taken and dropped (the caller gave up on them). */
static void drop_done(void *arg, struct blkfront_dev *d, unsigned int id)
{
	blkfront_slot_put(d, id);
}

void blkfront_close(struct blkfront_dev *d)
{
	uint64_t end = time_now_ns() + DRAIN_TIMEOUT_NS;

	/* Requests still out: their pages must not be reused under the backend. */
	while (d->in_flight && blkfront_usable(d) && (!time_available() || time_now_ns() < end)) {
		if (blkfront_wait(d, DRAIN_TIMEOUT_NS))
			break;
		(void)blkfront_reap(d, drop_done, NULL);
	}
	blkfront_wake_cancel();
	d->connected = false;
	/* Closing: blkback unmaps the ring and every grant, and says Closing. */
	if (!xenbus_switch_state(d->fe, XenbusStateClosing) &&
	    wait_be_state(
		d, BIT(XenbusStateClosing) | BIT(XenbusStateClosed) | BIT(XenbusStateUnknown),
		STEP_TIMEOUT_NS) < 0)
		printk("blkfront: vbd %u: backend did not close (state %d)\n", d->devid,
		       d->be_state);
	if (!xenbus_switch_state(d->fe, XenbusStateClosed))
		(void)wait_be_state(d, BIT(XenbusStateClosed) | BIT(XenbusStateUnknown),
				    STEP_TIMEOUT_NS);
	release(d);
}
