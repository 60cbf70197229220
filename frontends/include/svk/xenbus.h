// SPDX-License-Identifier: MIT
// The xenbus client: the xenstore wire protocol over the store ring page (xenbus.c).
#ifndef SVK_XENBUS_H
#define SVK_XENBUS_H

#include <svk/compiler.h>
#include <svk/xen.h>

/*
 * Paths are absolute ("/local/domain/3/data/x") or relative to the
 * domain's home, which xenstored resolves ("control/shutdown").  Every
 * call is for the boot vCPU outside the upcall; each waits at most
 * XENBUS_TIMEOUT_NS for its reply (in SCHEDOP_block).  Values and
 * directory listings are at most XENSTORE_PAYLOAD_MAX bytes.
 *
 * Errors: -XEN_ENODEV before xenbus_init succeeded, -XEN_EIO once the ring
 * broke (the other end sent indices or lengths out of range), -XEN_ETIMEDOUT
 * when no reply came, -XEN_E2BIG when an argument or the reply does not
 * fit, or the -errno xenstored answered (XS_ERROR "ENOENT" -> -XEN_ENOENT).
 */
#define XENBUS_TIMEOUT_NS (5ULL * 1000000000ULL)

/* A transaction id; XBT_NIL (0) is none. */
typedef uint32_t xenbus_transaction_t;
#define XBT_NIL ((xenbus_transaction_t)0)

/*
 * xenbus_init: use the store page start_info->store_mfn (translated to our
 * mapping through the M2P) and port start_info->store_evtchn.  Needs
 * events_init.  Returns 0, -XEN_ENODEV without a store page or port, or
 * the event-channel -errno.
 */
int xenbus_init(const start_info_t *si);

/* Whether xenbus_init succeeded and the ring has not broken since. */
bool xenbus_ready(void);

/* xenbus_read: the value at @path into @buf (NUL-terminated); its length or -errno. */
int xenbus_read(xenbus_transaction_t t, const char *path, char *buf, size_t size);

/* xenbus_read_u64: the value at @path as a number.  0 or -errno (-XEN_EINVAL: not a number). */
int xenbus_read_u64(xenbus_transaction_t t, const char *path, uint64_t *val);

/* xenbus_write: set @path to the string @value.  0 or -errno. */
int xenbus_write(xenbus_transaction_t t, const char *path, const char *value);

/* xenbus_printf: xenbus_write of a formatted value (at most 511 bytes). */
int xenbus_printf(xenbus_transaction_t t, const char *path, const char *fmt, ...) __printf(3, 4);

/* xenbus_mkdir / xenbus_rm: create an empty node; remove a subtree.  0 or -errno. */
int xenbus_mkdir(xenbus_transaction_t t, const char *path);
int xenbus_rm(xenbus_transaction_t t, const char *path);

/*
 * xenbus_directory: the children of @path into @buf as NUL-separated
 * names.  Returns how many, or -errno.
 */
int xenbus_directory(xenbus_transaction_t t, const char *path, char *buf, size_t size);

/*
 * Transactions: xenbus_transaction_end returns -XEN_EAGAIN when the store
 * changed under the transaction and the caller must start over (see
 * xenbus_transaction_retry).  @abort discards the changes.
 */
int xenbus_transaction_start(xenbus_transaction_t *t);
int xenbus_transaction_end(xenbus_transaction_t t, bool abort);

/*
 * xenbus_watch: watch @path (and everything under it).  With @cb, @cb(path,
 * data) runs from the wait loop (wait_until's hook, outside the upcall, so
 * it may call xenbus itself) for each event; without, events queue for
 * xenbus_watch_wait.  As in Xen, one event fires at once on registration.
 * Returns the watch id (>= 0) or -errno (-XEN_ENOSPC: no free watch).
 */
typedef void (*xenbus_watch_cb)(const char *path, void *data);
int xenbus_watch(const char *path, xenbus_watch_cb cb, void *data);

/* xenbus_unwatch: remove watch @id and its queued events.  0 or -errno. */
int xenbus_unwatch(int id);

/*
 * xenbus_watch_wait: wait up to @timeout_ns (0: forever) for the next event
 * of watch @id (one without a callback); the path that fired goes into
 * @path.  0, -XEN_ETIMEDOUT, or -XEN_EINVAL for a bad id.
 */
int xenbus_watch_wait(int id, char *path, size_t size, uint64_t timeout_ns);

/* xenbus_run_watches: run the callbacks of queued events (the wait hook does). */
void xenbus_run_watches(void);

/*
 * xenbus_write_async / xenbus_watch_async: send without waiting for the
 * reply (an error reply is printed when it comes).  For boot, where no
 * reply may ever come (a store ring nobody serves yet).  0 (or the watch
 * id) once sent, -errno when it could not be.
 */
int xenbus_write_async(const char *path, const char *value);
int xenbus_watch_async(const char *path, xenbus_watch_cb cb, void *data);

/*
 * Suspend and resume (suspend.c).  xenbus_quiesce: wait until nothing is
 * in flight (every request answered, no reply half received, the request
 * ring consumed), at most @timeout_ns: 0 or -XEN_ETIMEDOUT.
 * xenbus_resume: in a restored domain (@new_domain), bind start_info's new
 * store port (the ring page and its indexes are the same); nothing to do
 * otherwise.  xenbus_rewatch: register every watch again with xenstored
 * (a restored domain has none); with events on.  0 or -errno.
 */
int xenbus_quiesce(uint64_t timeout_ns);
/*
 * xenbus_busy: whether a caller is inside a request (its reply awaited) or
 * holds a transaction open: a suspend must wait for a later wait (a
 * restored xenstored knows no transaction of ours).
 */
bool xenbus_busy(void);
int xenbus_resume(const start_info_t *si, bool new_domain);
int xenbus_rewatch(void);

/* Whether events wait for a callback (check with events masked before blocking). */
bool xenbus_watches_pending(void);

/* Counters for tests: replies nobody waited for, watch events dropped. */
unsigned long xenbus_stray_replies(void);
unsigned long xenbus_dropped_events(void);

#endif
