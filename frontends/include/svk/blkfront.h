// SPDX-License-Identifier: MIT
// blkfront: the guest kernel's virtual block device driver (xen/io/blkif.h over xenbus).
#ifndef SVK_BLKFRONT_H
#define SVK_BLKFRONT_H

#include <svk/compiler.h>
#include <svk/lib.h> /* memcpy/memset for xen/io/ring.h */
#include <svk/mm.h>
#include <svk/wait.h>
#include <svk/xen.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

/*
 * One vbd (virtual block device) is driven by a struct blkfront_dev:
 * blkfront_open walks the xenbus handshake with blkback (docs/blkback.md)
 * and leaves the device Connected; blkfront_close walks Closing -> Closed
 * so the backend lets go of every grant.  In between, I/O goes through
 * request slots (one per ring entry), each with a run of pages from the
 * device's data pool.  Everything runs on the boot vCPU outside the
 * upcall; the event-channel handler only wakes the waiter, responses are
 * taken off the ring by blkfront_reap.
 *
 * Errors are -XEN_* values: -XEN_ENODEV (no such device, no xenbus or
 * grant table), -XEN_ETIMEDOUT (the backend did not answer in time),
 * -XEN_EIO (the backend answered BLKIF_RSP_ERROR), -XEN_EOPNOTSUPP
 * (BLKIF_RSP_EOPNOTSUPP, or a feature the backend does not offer),
 * -XEN_EBADMSG (the backend broke the ring protocol: the device is dead),
 * -XEN_ENOTCONN (the backend left Connected), -XEN_EAGAIN (no free
 * slot or pool pages right now: reap first), -XEN_ENOMEM (no memory).
 */

/* Devices open at once, and the largest ring we ask for (2^order pages). */
#define BLKFRONT_MAX_DEVS 4
#define BLKFRONT_MAX_RING_ORDER 2
#define BLKFRONT_MAX_RING_SIZE __CONST_RING_SIZE(blkif, PAGE_SIZE << BLKFRONT_MAX_RING_ORDER)
/* Data pages per device (the persistent-grant pool), and per request. */
#define BLKFRONT_POOL_PAGES 256
#define BLKFRONT_MAX_SEGS 256
/* How long one wait for the backend may take. */
#define BLKFRONT_TIMEOUT_NS (30ULL * 1000000000ULL)
#define BLKFRONT_SECTOR 512

/* Options for the next blkfront_open (the blk-config word sets them). */
struct blkfront_opts {
	unsigned int max_ring_order; /* at most BLKFRONT_MAX_RING_ORDER */
	bool no_persistent;	     /* grant per request, not once */
	bool no_indirect;	     /* at most 11 segments per request */
};
extern struct blkfront_opts blkfront_opts;

/* A slot of the ring: the request we sent, kept until its response. */
struct blkfront_slot {
	bool busy;	     /* taken by blkfront_slot_get */
	bool queued;	     /* on the ring, response outstanding */
	uint8_t op;	     /* BLKIF_OP_* of the data (READ, WRITE, ...) */
	bool indirect;	     /* sent as BLKIF_OP_INDIRECT */
	uint16_t first, nr;  /* pool pages [first, first + nr) */
	int16_t status;	     /* BLKIF_RSP_* once answered */
	uint64_t sector;     /* for the caller */
	uint32_t nr_sectors; /* for the caller */
	uintptr_t cookie;    /* the caller's */
	void *ind_page;	     /* indirect segment page (lazily allocated) */
	int ind_ref;	     /* its grant (persistent mode), or -1 */
	int ind_tmp_ref;     /* its per-request grant, or -1 */
	uint64_t discard_len; /* sectors of a BLKIF_OP_DISCARD */
	bool requeue;	      /* in flight at a restore: to be sent again */
	bool failed;	      /* could not be sent again: answered with an error by reap */
};

/* A data page of the pool and its grant. */
struct blkfront_page {
	void *va;
	int ref; /* grant ref, or -1 */
};

struct blkfront_dev {
	bool used;
	unsigned int devid; /* virtual-device (51712 = xvda) */
	char fe[48];	    /* "device/vbd/<devid>" */
	char be[128];	    /* backend directory */
	char be_state_path[140];
	domid_t backend_id;
	int watch;	       /* watch id on be_state_path, or -1 */
	volatile int be_state; /* last backend XenbusState read */

	/* Geometry and features (read at connect). */
	uint64_t sectors;
	unsigned int sector_size, info;
	bool readonly, flush, discard, persistent;
	unsigned int max_segs; /* per request: 11, or the indirect max */
	unsigned int discard_granularity;

	/* The ring. */
	unsigned int ring_order;
	int ring_ref[1 << BLKFRONT_MAX_RING_ORDER];
	blkif_front_ring_t ring;
	evtchn_port_t port;
	bool connected;
	bool broken; /* the backend broke the protocol */
	volatile unsigned long events;

	/* Slots (ids are slot numbers), free ones LIFO so few get indirect pages. */
	struct blkfront_slot slot[BLKFRONT_MAX_RING_SIZE];
	uint16_t free_slot[BLKFRONT_MAX_RING_SIZE];
	unsigned int nr_free_slots;
	unsigned int in_flight;
	unsigned int nr_failed; /* slots with failed set */

	/* The data pool: pages allocated and granted on first use. */
	struct blkfront_page pool[BLKFRONT_POOL_PAGES];
	uint8_t pool_used[BLKFRONT_POOL_PAGES];

	/* Counters. */
	unsigned long reqs, notifies, leaked_grants;
};

/* Devids of device/vbd/ into @ids (at most @max); how many, or -errno. */
int blkfront_list(unsigned int *ids, unsigned int max);

/*
 * blkfront_open: connect vbd @devid (device/vbd/<devid>).  Returns the
 * device in *@out, or -errno (the reason is also printed).
 */
int blkfront_open(unsigned int devid, struct blkfront_dev **out);

/*
 * blkfront_close: wait for outstanding requests (bounded), walk
 * Closing -> Closed, end every grant (a grant the backend still maps is
 * leaked, and said so), close the port, free the pages.  Always frees @d.
 */
void blkfront_close(struct blkfront_dev *d);

/* ---- asynchronous requests (blkfront_ring.c) --------------------------- */

/*
 * blkfront_slot_get: a free slot with @nr_pages (<= d->max_segs) pool
 * pages, or -XEN_EAGAIN when none (reap first), -XEN_ENOMEM.  Its id.
 */
int blkfront_slot_get(struct blkfront_dev *d, unsigned int nr_pages);

/* The @i-th data page of slot @id (to fill before a write, read after a read). */
void *blkfront_slot_page(struct blkfront_dev *d, unsigned int id, unsigned int i);

/* blkfront_slot_put: give a slot (answered or never queued) back. */
void blkfront_slot_put(struct blkfront_dev *d, unsigned int id);

/*
 * blkfront_queue_rw: put slot @id on the ring (not yet pushed) as a read
 * or write of @nr_sectors 512-byte sectors from @sector into its pages
 * (8 per page; indirect above 11 segments).  0 or -errno.
 */
int blkfront_queue_rw(struct blkfront_dev *d, unsigned int id, bool write, uint64_t sector,
		      uint32_t nr_sectors);

/* blkfront_queue_flush / _discard: BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_DISCARD on slot @id. */
int blkfront_queue_flush(struct blkfront_dev *d, unsigned int id);
int blkfront_queue_discard(struct blkfront_dev *d, unsigned int id, uint64_t sector,
			   uint64_t nr_sectors);

/* blkfront_kick: push what was queued; notify the backend if ring.h says so. */
void blkfront_kick(struct blkfront_dev *d);

/*
 * blkfront_reap: take every response off the ring, each copied once and
 * checked (producer index, id, operation), and call @done(@arg, d, id) for
 * each (d->slot[id].status holds the answer; @done takes the data and puts
 * the slot back, but queues nothing: per-request grants end after it).
 * Returns the number taken, or -XEN_EBADMSG when the backend broke the
 * protocol (the device is marked broken and every queued slot is answered
 * with BLKIF_RSP_ERROR).
 */
typedef void (*blkfront_done_t)(void *arg, struct blkfront_dev *d, unsigned int id);
int blkfront_reap(struct blkfront_dev *d, blkfront_done_t done, void *arg);

/*
 * blkfront_wait: block until responses wait on the ring, the device broke
 * or the backend left Connected, or @timeout_ns passed.  0 (something to
 * reap), -XEN_ETIMEDOUT, -XEN_EBADMSG, -XEN_ENOTCONN.
 */
int blkfront_wait(struct blkfront_dev *d, uint64_t timeout_ns);

/*
 * blkfront_wait_until: wait_until for blkfront's own waits (between
 * requests, never inside one): while devices are open, a shutdown request
 * seen at its wake-ups closes them all before control.c acts on it.
 */
int blkfront_wait_until(wait_cond_t cond, void *arg, uint64_t timeout_ns);

/* Set while a shutdown request closes every device (blkfront.c owns it). */
extern bool blkfront_shutting_down;

/* blkfront_wake_cancel: stop the wake-up timer blkfront_wait may have left armed. */
void blkfront_wake_cancel(void);

/* Whether the device can take requests (connected, not broken, backend Connected). */
bool blkfront_usable(const struct blkfront_dev *d);

/*
 * blkfront_corrupt_ring: for blk-hostile: publish a request producer index
 * @ahead entries past ours and notify, as a hostile frontend would.
 */
void blkfront_corrupt_ring(struct blkfront_dev *d, unsigned int ahead);

/*
 * After a restore (blkfront.c's resume hook): blkfront_ring_forget ends
 * every grant (void in the new table: they end at once), forgets the port
 * and marks each request in flight to be sent again, as Linux's blkfront
 * recovers its shadow requests; blkfront_ring_requeue, once connected
 * again, sends them on the new ring (re-granting their pages), and a
 * request that cannot be sent is answered with BLKIF_RSP_ERROR at the
 * next reap.  Reads and writes of the same pages are idempotent, so a
 * request the old backend had answered unseen does no harm done twice.
 * Returns how many were sent again.
 */
void blkfront_ring_forget(struct blkfront_dev *d);
unsigned int blkfront_ring_requeue(struct blkfront_dev *d);

/* ---- synchronous helpers (blkfront_sync.c) ------------------------------ */

/*
 * blkfront_rw_fn: fill (before a write) or take (after a read) @len bytes
 * at byte @off of the transfer in @page.  Return 0, or -errno to stop.
 */
typedef int (*blkfront_page_fn)(void *arg, uint64_t off, void *page, size_t len);

/*
 * blkfront_rw: read or write @nbytes (a multiple of 512) from @sector,
 * split into requests of up to 128 pages, several in flight, @fn called
 * per page.  0, the first request's -errno, or @fn's.
 */
int blkfront_rw(struct blkfront_dev *d, bool write, uint64_t sector, uint64_t nbytes,
		blkfront_page_fn fn, void *arg);

/* blkfront_read / blkfront_write: blkfront_rw to or from a buffer. */
int blkfront_read(struct blkfront_dev *d, uint64_t sector, void *buf, size_t nbytes);
int blkfront_write(struct blkfront_dev *d, uint64_t sector, const void *buf, size_t nbytes);

/* blkfront_flush / blkfront_discard: one request each, waited for.  0 or -errno. */
int blkfront_flush(struct blkfront_dev *d);
int blkfront_discard(struct blkfront_dev *d, uint64_t sector, uint64_t nr_sectors);

/* The -errno of a BLKIF_RSP_* status. */
int blkfront_status_errno(int16_t status);

/* ---- command words (blk_words.c, blk_bench.c) -------------------------- */

/*
 * blk_parse_vdev: a whole-disk name "xvdX" (X = a..p: 51712 + 16 * n, as
 * xen-vbd-interface(7)) or a devid number, into *@devid.  0 or -XEN_EINVAL.
 */
int blk_parse_vdev(const char *s, unsigned int *devid);

/* The blk-bench=SECONDS word (blk_bench.c). */
void blk_word_bench(const start_info_t *si, const char *arg);

#endif
