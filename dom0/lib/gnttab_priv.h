/* SPDX-License-Identifier: MIT */
/* The xengnttab handle and the map/unmap calls shared by gnttab.c and gnttab_copy.c. */
#ifndef SVXEN_GNTTAB_PRIV_H
#define SVXEN_GNTTAB_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <xengnttab.h>
#include "svxen.h"

/* One xengnttab_map_* result: what xengnttab_unmap needs to undo it. */
struct gnttab_mapping {
	void *addr;
	uint32_t count;
	bool writable;
	uint32_t notify_offset;	    /* byte cleared at unmap, or UINT32_MAX */
	int64_t notify_port;	    /* port notified after unmap, or -1 */
	uint32_t *domids;	    /* per page: the granting domain */
	uint32_t *handles;	    /* per page: its handle there, for GNT_UNMAP */
	struct svxen_dommem **mems; /* per page: the held memfd entry */
	struct gnttab_mapping *next;
};

/*
 * One control connection: the hypervisor drops its mappings when it closes.
 * Thread safety: `lock` covers the socket, the memfd cache and the mapping
 * list, so any call may come from any thread (as with Xen's gntdev).
 */
struct xengntdev_handle {
	struct svctl *ctl;
	pthread_mutex_t lock;
	struct xentoollog_logger *logger;
	struct svxen_dommem_cache mem;
	struct gnttab_mapping *maps;
	uint32_t max_grants;
};

/*
 * GNT_MAP of count (<= SV_GNT_MAX_BATCH) refs of domain m->domid; fills
 * status, handle and memfd offset per ref.  Refs the hypervisor answers
 * GNTST_eagain for (the guest changed the entry meanwhile) are asked again
 * a few times, as Xen's gntdev does.  Returns 0 when the hypervisor answered
 * (statuses tell each ref's fate) or -errno for a transport or protocol
 * error.  Call with lock held.
 */
int svxen_gnttab_map_batch(struct xengntdev_handle *h, struct svxen_dommem *m, uint32_t count,
			   const uint32_t *refs, bool readonly, int32_t *status, uint32_t *handles,
			   uint64_t *offsets);
/*
 * GNT_UNMAP of n handles, handles[i] belonging to domain domids[i], in
 * batches of one domain each; 0, -EINVAL if one was refused, or -errno
 * (-ESRCH: the domain is gone; transport errors).  Call with lock held.
 */
int svxen_gnttab_unmap_handles(struct xengntdev_handle *h, uint32_t n, const uint32_t *domids,
			       const uint32_t *handles);

#endif
