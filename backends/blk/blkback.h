/* SPDX-License-Identifier: MIT */
/* blkback's shared types: disks, the io_uring engine, rings (data plane) and devices (control
 * plane). */
#ifndef SV_BLKBACK_H
#define SV_BLKBACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <liburing.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include "blk_ring_defs.h"

/*
 * Thread safety: none needed.  blkback runs one thread; every function
 * here is called from its event loop (or a test's single thread).
 * Errors: actions return 0 or -errno, predicates bool.
 */

/*
 * Limits we advertise (and enforce) in the backend directory:
 *   max-ring-page-order     BLK_MAX_RING_ORDER  (16 pages, 512 slots)
 *   multi-queue-max-queues  BLK_MAX_QUEUES
 *   feature-max-indirect-segments BLK_MAX_INDIRECT_SEGS
 * BLK_MAX_PERSISTENT bounds the grants one ring keeps mapped.
 */
#define BLK_PAGE_SIZE 4096u
#define BLK_SECTOR_SHIFT 9
#define BLK_SECTORS_PER_PAGE (BLK_PAGE_SIZE >> BLK_SECTOR_SHIFT)
#define BLK_MAX_RING_ORDER 4
#define BLK_MAX_RING_PAGES (1u << BLK_MAX_RING_ORDER)
#define BLK_MAX_QUEUES 4
#define BLK_MAX_INDIRECT_SEGS 256
#define BLK_SEGS_PER_INDIRECT_PAGE (BLK_PAGE_SIZE / sizeof(struct blkif_request_segment))
#define BLK_MAX_INDIRECT_PAGES                                                                     \
	((BLK_MAX_INDIRECT_SEGS + BLK_SEGS_PER_INDIRECT_PAGE - 1) / BLK_SEGS_PER_INDIRECT_PAGE)
#define BLK_MAX_PERSISTENT 1056
/*
 * Requests one ring may take off its ring per round of the event loop
 * (as Linux's NAPI budget in netback): a frontend with a full ring waits
 * for the next round while every other ring gets its turn.
 */
#define BLK_RING_BUDGET 64

/* One UTC-stamped line on stderr (common/svd.c). */
#include "sv/daemon.h"
#define blk_log svd_log

/* ---- blk_disk.c: the image behind one device ---- */
struct blk_disk {
	int fd;
	uint64_t sectors;     /* size in 512-byte sectors */
	uint32_t sector_size; /* logical block size */
	uint32_t physical_sector_size;
	uint32_t discard_granularity;
	bool readonly; /* opened O_RDONLY: writes are refused */
	bool is_bdev;
	bool direct; /* opened with O_DIRECT */
	bool can_discard;
};

/* Opens path (a regular file or block device).  0 or -errno with a message in err. */
int blk_disk_open(struct blk_disk *d, const char *path, bool readonly, char *err, size_t errlen);
void blk_disk_close(struct blk_disk *d);

/* ---- blk_req.c: a request copied off the ring, then checked ---- */
struct blk_seg {
	uint32_t gref;
	uint8_t first, last; /* sectors within the page, inclusive */
};

struct blk_req_info {
	uint64_t id;	     /* echoed in the response */
	uint64_t sector;     /* first 512-byte sector on the disk */
	uint64_t nr_sectors; /* read/write: sum of segments; discard: as asked */
	uint8_t ring_op;     /* operation as on the ring (echoed) */
	uint8_t op;	     /* what to do: READ, WRITE, FLUSH_DISKCACHE, DISCARD */
	bool secure;	     /* discard with BLKIF_DISCARD_SECURE */
	unsigned nr_segs;
	unsigned nr_indirect; /* indirect pages holding the segments */
	uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};

/*
 * Structural checks of a request copy (operation, segment counts, and for
 * direct requests the segments, copied into segs).  -EPROTO when the
 * frontend broke the protocol, -EOPNOTSUPP for an operation we do not
 * offer (answered BLKIF_RSP_EOPNOTSUPP), else 0.
 */
int blk_req_parse(const blkif_request_t *req, unsigned max_indirect, struct blk_req_info *ri,
		  struct blk_seg *segs);
/* Copies nr_segs segments out of indirect pages (each read once).  Never fails. */
void blk_req_load_indirect(struct blk_req_info *ri, void *const *pages, struct blk_seg *segs);
/* Checks first_sect/last_sect of every segment and sums nr_sectors.  0 or -EPROTO. */
int blk_req_check_segs(struct blk_req_info *ri, const struct blk_seg *segs);
/* Whether [sector, sector + nr_sectors) lies on a disk of disk_sectors. */
bool blk_req_in_range(const struct blk_req_info *ri, uint64_t disk_sectors);

/* ---- blk_io.c: one io_uring for every ring of the daemon ---- */
struct blk_io {
	struct io_uring uring;
	int efd;	 /* eventfd signalled on completions (polled by epoll) */
	unsigned queued; /* SQEs prepared and not yet submitted */
	unsigned inflight;
};

int blk_io_init(struct blk_io *io, unsigned entries);
void blk_io_fini(struct blk_io *io);
/* A free SQE, submitting what is queued when the SQ is full; NULL only on a hard error. */
struct io_uring_sqe *blk_io_sqe(struct blk_io *io);
/* Submit what is queued (one syscall for a whole batch).  0 or -errno. */
int blk_io_submit(struct blk_io *io);
/* Hands every completion to blk_ring_io_done; returns how many (wait: block for one). */
unsigned blk_io_reap(struct blk_io *io, bool wait);

/* ---- blk_shadow.c: in-flight requests kept in a file so a restart can finish them ---- */
struct blk_shadow_id {
	uint32_t domid, devid, queue, ring_size, nr_pages, port;
	uint32_t refs[BLK_MAX_RING_PAGES];
};

enum { BLK_SH_FREE = 0, BLK_SH_INFLIGHT = 1, BLK_SH_ANSWERED = 2 };

struct blk_shadow_ent {
	uint32_t state;	  /* BLK_SH_* */
	uint32_t req_idx; /* ring index the request was consumed at */
	uint32_t rsp_idx; /* ANSWERED: ring index of its response */
	uint32_t pad;
	blkif_request_t req; /* the copy taken off the ring */
};

struct blk_shadow_hdr {
	uint32_t magic, version;
	struct blk_shadow_id id;
	uint32_t req_cons; /* ring requests before this are in entries or done */
	uint32_t pad;
};

struct blk_shadow {
	struct blk_shadow_hdr *hdr; /* NULL: no shadow (state dir unusable) */
	struct blk_shadow_ent *ent; /* ring_size entries */
	size_t len;
	char path[256];
};

/* Opens or creates the shadow at path; *recovered when it held this ring's state.  0 or -errno. */
int blk_shadow_open(struct blk_shadow *s, const char *path, const struct blk_shadow_id *id,
		    bool *recovered);
/* Unmaps it; with remove, deletes the file (the ring closed cleanly). */
void blk_shadow_close(struct blk_shadow *s, bool remove);

/* ---- blk_maps.c: guest pages mapped, per ring, per domain and in all, under limits ---- */
struct blk_maps_dom {
	uint32_t domid;
	unsigned mapped; /* pages its rings have mapped */
	unsigned rings;	 /* rings attached */
	struct blk_maps_dom *next;
};

struct blk_maps {
	unsigned ring_max, dom_max, total_max; /* limits, in pages */
	unsigned total;			       /* pages mapped by every ring */
	struct blk_maps_dom *doms;
};

struct blk_ring;
/* Limits as given (each at least two of the largest requests); nothing counted yet. */
void blk_maps_init(struct blk_maps *m, unsigned ring_max, unsigned dom_max, unsigned total_max);
/* The daemon's limits: half of max_map_count in all, 8192 per domain, 4096 per ring (or less). */
void blk_maps_init_default(struct blk_maps *m, unsigned max_map_count);
/* /proc/sys/vm/max_map_count, or the kernel's default 65530 when it cannot be read. */
unsigned blk_maps_max_map_count(void);
/* Counts r's mappings in m from now on (r->domid set).  0 or -ENOMEM. */
int blk_maps_attach(struct blk_maps *m, struct blk_ring *r);
/* Stops counting r (what it still counted is given back). */
void blk_maps_detach(struct blk_ring *r);
/*
 * Counts n more pages for r when every limit allows it (keep: mappings
 * that stay until the ring closes, allowed half of each limit); false,
 * counting nothing, when one does not.  A ring without limits always may.
 */
bool blk_maps_take(struct blk_ring *r, unsigned n, bool keep);
void blk_maps_put(struct blk_ring *r, unsigned n);

/* ---- blk_grant.c: grant mappings of one ring, persistent or per request ---- */
struct blk_gregion {
	void *addr;
	uint32_t count;
	struct blk_gregion *next;
};

struct blk_gcache {
	uint32_t *keys; /* open addressing; UINT32_MAX = empty */
	void **pages;
	unsigned cap, n, max;
	struct blk_gregion *regions; /* persistent mappings, unmapped at close */
};

struct blk_ring;
/*
 * Pages for grefs[0..n) of the ring's frontend.  want_write: the backend
 * writes into them (a disk read).  Persistent grefs come from (or go into)
 * the cache, mapped read-write; others are mapped for this request into
 * *tmp (tmp_count pages), which the caller unmaps with blk_grant_put.
 * A ref named several times is mapped once.  0, -EAGAIN when the mapping
 * limits (blk_maps) leave no room now, or -errno (a ref the frontend did
 * not grant us).
 */
int blk_grant_get(struct blk_ring *r, const uint32_t *grefs, unsigned n, bool want_write,
		  void **pages, void **tmp, uint32_t *tmp_count);
void blk_grant_put(struct blk_ring *r, void *tmp, uint32_t tmp_count);
int blk_gcache_init(struct blk_gcache *c, unsigned max);
/* Unmaps every persistent grant of r and frees its cache. */
void blk_gcache_fini(struct blk_ring *r);

/* ---- blk_ring.c: the data plane of one ring ---- */
struct blk_pending {
	struct blk_ring *ring;
	struct blk_req_info info;
	struct blk_seg *segs; /* BLK_MAX_INDIRECT_SEGS, allocated with the ring */
	struct iovec *iov;
	void *tmp; /* per-request grant mapping to unmap at completion */
	uint32_t tmp_count;
	int stage;     /* 0: data I/O; 1: the fdatasync after a flush-write */
	bool checked;  /* segments loaded (indirect) and checked */
	unsigned slot; /* index here and in the shadow */
	struct blk_pending *next_free;
};

struct blk_ring_stats {
	uint64_t reqs, reads, writes, flushes, discards, errors, indirect, pgrant_hits;
	uint64_t map_waits; /* requests that waited for the mapping limits */
};

struct blk_ring {
	char name[48];	/* "vbd 1/51712 q0" for logs */
	uint32_t domid; /* the frontend's domain */
	unsigned queue;
	/* Set by the control plane before blk_ring_start. */
	xengnttab_handle *xgt;
	xenevtchn_handle *xce;
	struct blk_io *io;
	struct blk_disk *disk;
	void *sring; /* the mapped shared ring */
	unsigned nr_pages;
	evtchn_port_t local_port;
	bool persistent;	   /* frontend's feature-persistent */
	struct blk_maps *maps;	   /* the daemon's mapping limits (NULL: none) */
	struct blk_maps_dom *mdom; /* this domain's count in maps */
	unsigned mapped;	   /* grant pages this ring has mapped now */
	/* Data plane state. */
	blkif_back_ring_t br;
	unsigned ring_size;
	struct blk_pending *pend; /* ring_size slots */
	struct blk_pending *free;
	struct blk_pending *done; /* answered, slots free once pushed */
	unsigned inflight;
	bool stalled; /* stopped taking requests: no free slot */
	bool more;    /* requests may be waiting: kick again next round */
	/* Taken off the ring, waiting for room under the mapping limits (FIFO by next_free). */
	struct blk_pending *parked, *parked_tail;
	bool need_push; /* responses written, not pushed yet */
	bool broken;	/* the frontend broke the protocol: stopped */
	bool started;
	struct blk_gcache gc;
	struct blk_shadow shadow;
	struct blk_ring_stats st;
};

/*
 * Starts the data plane on a mapped ring.  With a shadow that recovered
 * (a restarted blkback), the requests it held are done again and answered,
 * and consumption resumes at its req_cons; otherwise at the ring's
 * rsp_prod.  0 or -errno.
 */
int blk_ring_start(struct blk_ring *r, const char *shadow_path, const struct blk_shadow_id *id);
/* (r->maps, when set before blk_ring_start, is attached there and detached at blk_ring_stop.) */
/*
 * Event from the frontend (or a restart, or the next round): take new
 * requests off the ring and submit them, at most BLK_RING_BUDGET.  Sets
 * r->more when the budget ran out (or slots came free) with requests
 * left, and r->parked when a request waits for mappings; the caller kicks
 * such rings again in its next round.
 */
void blk_ring_kick(struct blk_ring *r);
/* Whether the ring wants a kick in the next round (more work, or a parked request to retry). */
bool blk_ring_wants_kick(const struct blk_ring *r);
/* Called by blk_io_reap for each completion. */
void blk_ring_io_done(struct blk_pending *p, int res);
/* Push written responses and notify when the frontend asked (RING_PUSH_..._CHECK_NOTIFY). */
void blk_ring_push(struct blk_ring *r);
/* Waits for the ring's I/O, unmaps its grants, closes the shadow (removed when clean). */
void blk_ring_stop(struct blk_ring *r, bool remove_shadow);

#endif
