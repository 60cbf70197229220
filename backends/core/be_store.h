/* SPDX-License-Identifier: MIT */
/*
 * Typed xenstore helpers for the host backends (and anything else in dom0
 * that reads keys a guest may have written).  A key is named by a
 * directory and a node below it, as Linux's xenbus_printf/xenbus_scanf
 * name it; every call takes a transaction (XBT_NULL: none).  Values are
 * guest data: a reader copies once, then checks strictly (no sign, no
 * blanks, no embedded NUL, no junk after the digits).
 */
#ifndef SV_BE_STORE_H
#define SV_BE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>

/* Highest event channel port of any Xen ABI (FIFO: 2^17). */
#define BE_MAX_PORT (1u << 17)

/* "DIR/NODE" (NODE NULL or empty: DIR) into buf.  0, or -ENAMETOOLONG. */
int be_path(char *buf, size_t cap, const char *dir, const char *node);

/*
 * The value of DIR/NODE (caller frees), or NULL with errno: ENOENT when
 * absent, EINVAL when it holds a NUL byte, ENAMETOOLONG, or what
 * libxenstore said (the connection is gone: see be_store_lost).
 */
char *be_read(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node);

/*
 * DIR/NODE as a strict unsigned decimal below LIMIT.  0 with *out set,
 * -ENOENT (absent), -EINVAL (not a number), -ERANGE (LIMIT or above),
 * or another -errno from the store.
 */
int be_read_uint(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		 uint64_t limit, uint64_t *out);

/* A boolean key (a number, 0 false): absent or malformed means DEF. */
bool be_read_flag(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		  bool def);

/* Writes a printf-formatted value to DIR/NODE.  0 or -errno. */
int be_printf(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Runs FN inside a transaction, again while xenstored answers EAGAIN (a
 * conflicting writer), at most a few times.  FN returns 0 or -errno (then
 * the transaction is abandoned).  0 or -errno.
 */
int be_transaction(struct xs_handle *xs,
		   int (*fn)(struct xs_handle *xs, xs_transaction_t t, void *arg), void *arg);

/*
 * S[0..LEN) as a strict unsigned decimal of at most 20 digits below LIMIT.
 * 0, -EINVAL or -ERANGE.
 */
int be_parse_uint(const char *s, size_t len, uint64_t limit, uint64_t *out);

/* A directory entry that is a number (domid, devid): as above, and no leading zero. */
bool be_parse_dirent(const char *s, size_t len, uint64_t limit, uint32_t *out);

/*
 * Whether an error from a read says the connection to xenstored is gone
 * (libxenstore answers EBADF after end of file), not that the key is
 * missing, unreadable or malformed.
 */
bool be_store_lost(int err);

/*
 * Reads every queued watch event (libxenstore may stop signalling its fd
 * while events remain), calling FN for each (FN may be NULL).  The number
 * of events, or -errno when the connection to xenstored failed.
 */
int be_watch_drain(struct xs_handle *xs, void (*fn)(void *arg, const char *path, const char *token),
		   void *arg);

/*
 * An idle second connection to xenstored (XENSTORED_PATH), used only to
 * learn that xenstored went away: libxenstore notices end of file in its
 * reader thread but never wakes the watch fd, so a daemon that only waits
 * for watches would go deaf.  Sent nothing and read nothing, it shares the
 * fate of libxenstore's connection (both kept or both lost when xenstored
 * restarts): poll it for EPOLLRDHUP.  The fd or -errno.
 */
int be_store_canary_open(void);

#endif
