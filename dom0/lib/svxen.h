/* SPDX-License-Identifier: MIT */
/* Internals shared by Splitvisor's xenevtchn, xengnttab and xenforeignmemory libraries. */
#ifndef SVXEN_H
#define SVXEN_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include "sv/svctl.h"

struct xentoollog_logger;

#define SVXEN_PAGE_SHIFT 12
#define SVXEN_PAGE_SIZE (1ul << SVXEN_PAGE_SHIFT)

/* Log through a caller's xentoollog logger; silent when lg is NULL (never prints itself). */
void svxen_log(struct xentoollog_logger *lg, int errnoval, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * What every handle's open does: its lock and its own connection to the
 * hypervisor (logged through lg under ctx when that fails).  0 or -errno;
 * nothing is left to undo on failure.
 */
int svxen_handle_init(struct xentoollog_logger *lg, const char *ctx, pthread_mutex_t *lock,
		      struct svctl **ctl);

/* Sets errno from a -errno result and returns -1, as Xen's library calls do. */
int svxen_fail(int neg_errno);

/* Maps a GNTST_* status to the errno Xen's Linux gntdev would give. */
int svxen_gntst_errno(int32_t gntst);

/* One domain's memory as DOMAIN_MEMORY described it, with its memfd. */
struct svxen_dommem {
	uint32_t domid;
	int memfd;
	unsigned users;		  /* mappings that keep this entry */
	bool stale;		  /* the domid now names another domain */
	uint64_t last_used_ns;	  /* monotonic, for the idle trim */
	bool cycling;		  /* refetched soon after a close: kept when unused */
	struct sv_ctl_memory mem; /* mem.gen: the domain's creation number */
};

/*
 * Per-handle cache of domain memfds.  An entry lives while mappings hold it
 * (svxen_dommem_hold/put) and is closed with the last one, unless it is
 * "cycling" (fetched again within SVXEN_DOMMEM_IDLE_NS of being closed: one
 * grant mapped and unmapped at a time).  Cycling entries and entries never
 * held (grant copies) live until a trim (every unmap, copy and failed map)
 * finds them unused for SVXEN_DOMMEM_IDLE_NS: a busy backend asks for the
 * memfd once, and no daemon keeps a dead domain's memory once its devices
 * let go of their mappings.  Every map reply names the domain's creation number; a
 * mismatch marks the entry stale (the domid was reused), and the next get
 * fetches the new domain's memfd.  Entries are separately allocated, so
 * pointers stay valid across later gets.
 */
#define SVXEN_DOMMEM_IDLE_NS 1000000000ULL
struct svxen_dommem_cache {
	struct svxen_dommem **v;
	size_t n, cap;
	uint32_t closed_domid; /* the entry last closed by its last mapping ... */
	uint64_t closed_ns;    /* ... and when (0: none yet) */
};

/* The domain's entry, asking the hypervisor through c on a miss.  0 or -errno. */
int svxen_dommem_get(struct svxen_dommem_cache *cache, struct svctl *c, uint32_t domid,
		     struct svxen_dommem **out);
void svxen_dommem_hold(struct svxen_dommem *m);
/* Drops one hold; the entry is closed and freed with its last, unless cycling. */
void svxen_dommem_put(struct svxen_dommem_cache *cache, struct svxen_dommem *m);
/* Closes every entry nobody holds that is stale or idle. */
void svxen_dommem_trim(struct svxen_dommem_cache *cache);
/* Closes every entry nobody holds (foreign maps keep memory through the mapping itself). */
void svxen_dommem_trim_unused(struct svxen_dommem_cache *cache);
/* Closes everything (handle close). */
void svxen_dommem_clear(struct svxen_dommem_cache *cache);
/* The memfd offset of guest frame gfn; false when the frame is not RAM of the domain. */
bool svxen_dommem_gfn_offset(const struct svxen_dommem *m, uint64_t gfn, uint64_t *off);
/* Whether one page at memfd offset off lies inside the memfd (offsets from the hypervisor). */
bool svxen_dommem_page_ok(const struct svxen_dommem *m, uint64_t off);

#endif
