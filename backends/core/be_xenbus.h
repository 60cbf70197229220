/* SPDX-License-Identifier: MIT */
/*
 * The host side of a xenbus split driver, once for every backend.
 *
 * A backend (blkback's vbd, netback's vif, ...) fills a struct be_ops with
 * designated initializers and starts a struct be_backend on it.  The core
 * then does what every backend did for itself:
 *   - it watches /local/domain/0/backend/TYPE, @releaseDomain and each
 *     frontend directory, and finds /local/domain/0/backend/TYPE/DOMID/DEVID
 *     devices (a struct be_dev each, at the start of the backend's own);
 *   - it runs the XenbusState machine of each device from its backend and
 *     frontend states and the toolstack's online key, calling the ops:
 *       probe       new device: check the toolstack's keys, open what it
 *                   serves, write the features (then InitWait).  -EAGAIN:
 *                   keys not there yet, asked again on the next change;
 *                   another error: the device stays Closed until removed.
 *       connect     frontend Initialised or Connected (or still Connected
 *                   when the daemon restarts): map the rings, bind the event
 *                   channels (be_dev_map_ring, be_dev_bind), start the data
 *                   plane (then Connected).  An error: it undoes what it did,
 *                   the device says Closing until the frontend closes.
 *       disconnect  frontend Closing/Closed, detach, error, removal, exit
 *                   (exiting: the daemon stops and a successor reconnects in
 *                   place: keep what it needs).  Only while connected.
 *       reconnect   (optional) the frontend starts over after Closed: make
 *                   ready to be offered again (then InitWait).
 *       remove      the directory or the domain is gone (or the daemon
 *                   exits): release what probe took.  The core frees.
 *   - it cleans up after a domain that died with nobody removing its
 *     backend directory, and reports errors in the backend's error key.
 * The toolstack may remove a backend directory at any moment (detach): the
 * core and the backends write to it only through be_dev_switch,
 * be_dev_printf and be_dev_transaction, which check in the same xenstore
 * transaction that it is still there (so no write re-creates it), and the
 * scan frees a device whose directory it finds gone.
 */
#ifndef SV_BE_XENBUS_H
#define SV_BE_XENBUS_H

#include <stdbool.h>
#include <stdint.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "sv/svxs.h"

struct be_backend;

/* One device: /local/domain/0/backend/TYPE/DOMID/DEVID. */
struct be_dev {
	struct be_backend *bk;
	struct be_dev *next;
	uint32_t domid, devid;
	char name[32];	 /* in log lines: "TYPE DOMID/DEVID" unless probe names it */
	char be[96];	 /* backend directory */
	char fe[160];	 /* frontend directory (the backend's "frontend" key) */
	int state;	 /* our XenbusState as last read or written */
	bool fe_watched; /* the frontend directory is watched */
	bool probed;	 /* probe succeeded */
	bool failed;	 /* probe failed: Closed until removed */
	bool broken;	 /* connect failed or be_dev_fatal: Closing until the frontend closes */
	bool connected;	 /* connect succeeded, not disconnected since */
	bool fresh;	 /* not looked at since the daemon started (restart recovery) */
	bool seen;	 /* found by the current scan */
	bool gone;	 /* its directory was found removed: no more writes; the scan frees it */
};

struct be_ops {
	const char *type;     /* "vbd", "vif": the directory under backend/ */
	size_t dev_size;      /* the backend's device struct, a struct be_dev first */
	uint64_t devid_limit; /* device ids below this (0: 2^32) */
	int (*probe)(struct be_dev *dev);
	int (*connect)(struct be_dev *dev);
	void (*disconnect)(struct be_dev *dev, bool exiting);
	int (*reconnect)(struct be_dev *dev);
	void (*remove)(struct be_dev *dev);
};

struct be_backend {
	const struct be_ops *ops;
	struct xs_handle *xs;
	void *priv;    /* the daemon's own state */
	char root[64]; /* /local/domain/0/backend/TYPE */
	struct be_dev *devs;
};

/*
 * Registers OPS on the store XS (PRIV: the daemon, for the ops): watches the
 * backend directory and @releaseDomain.  The watches fire once at once; the
 * first be_backend_handle serves what is there.  0 or -errno.
 */
int be_backend_start(struct be_backend *bk, struct xs_handle *xs, const struct be_ops *ops,
		     void *priv);
/* The store's fd is readable: drains the events, then be_backend_scan.  0, or -errno when
 * xenstored is lost. */
int be_backend_handle(struct be_backend *bk);
/* Finds new and removed devices and brings every device in line with the store. */
void be_backend_scan(struct be_backend *bk);
/* Daemon exit: every device disconnects (exiting) and is removed; the store keeps its states. */
void be_backend_stop(struct be_backend *bk);
/* The device DOMID/DEVID, or NULL. */
struct be_dev *be_backend_find(struct be_backend *bk, uint32_t domid, uint32_t devid);

/* Each device of BK as the backend's own TYPE (which starts with its struct be_dev). */
#define be_backend_for_each(bk, type, v)                                                           \
	for (type *v = (type *)(void *)(bk)->devs; v;                                              \
	     v = (type *)(void *)((struct be_dev *)(void *)v)->next)

/* The daemon state given to be_backend_start, from one of its devices. */
static inline void *be_dev_daemon(const struct be_dev *dev)
{
	return dev->bk->priv;
}

/*
 * Our state: written (when it changes) to the backend's state key, as
 * Linux's xenbus_switch_state: in one transaction that reads the state key
 * first and writes nothing when it is gone (then dev->gone is set when the
 * whole directory is); retried while xenstored answers EAGAIN.
 */
void be_dev_switch(struct be_dev *dev, int state);
/*
 * Runs FN (XS, its transaction, ARG) in a transaction that first checks the
 * backend directory is still there (its state key): when it is not, FN is not
 * run and the answer is -ENOENT (dev->gone set when the directory is gone).
 * Retried, FN too, while xenstored answers EAGAIN (svxs_transaction).
 * Else FN's answer (0: committed) or -errno.
 */
int be_dev_transaction(struct be_dev *dev, svxs_tx_fn *fn, void *arg);
/* A printf-formatted value to the backend's NODE, as be_dev_transaction writes.  0 or -errno. */
int be_dev_printf(struct be_dev *dev, const char *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Logs "NAME (domain D, device N): message"; writes the message to the backend's error key. */
void be_dev_error(struct be_dev *dev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The frontend broke the protocol (found by the data plane): error, disconnect, Closing. */
void be_dev_fatal(struct be_dev *dev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Maps the NR_PAGES ring pages granted in DIR/KEY (one page; also KEY0) or
 * DIR/KEY0 .. KEY<n-1>, refs in REFS (NR_PAGES of them, may be NULL for
 * one page).  The mapping, or NULL with errno set and the reason reported
 * (be_dev_error).  xengnttab_unmap(gt, ring, nr_pages) undoes it.
 */
void *be_dev_map_ring(struct be_dev *dev, xengnttab_handle *gt, const char *dir, const char *key,
		      unsigned nr_pages, uint32_t *refs);
/* Maps the ring pages REFS already read (a restarted daemon's shadow). */
void *be_dev_map_refs(struct be_dev *dev, xengnttab_handle *gt, unsigned nr_pages,
		      const uint32_t *refs);
/*
 * Binds the frontend's event channel named in DIR/KEY: 0 with *LOCAL (and
 * *REMOTE when not NULL) set, or -errno with the reason reported.
 */
int be_dev_bind(struct be_dev *dev, xenevtchn_handle *xce, const char *dir, const char *key,
		evtchn_port_t *local, uint32_t *remote);

#endif
