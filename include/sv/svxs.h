/* SPDX-License-Identifier: MIT */
/*
 * Typed xenstore helpers for every dom0 program that talks to xenstored:
 * the backends (backends/core builds its device model on them) and xl.
 * Built into libsvcommon.a (common/svxs.c).  A key is named by a
 * directory and a node below it, as Linux's xenbus_printf/xenbus_scanf
 * name it; every call takes a transaction (XBT_NULL: none).  Values are
 * guest data: a reader copies once, then checks strictly (no sign, no
 * blanks, no embedded NUL, no junk after the digits).
 */
#ifndef SV_SVXS_H
#define SV_SVXS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>

/* Highest event channel port of any Xen ABI (FIFO: 2^17). */
#define SVXS_MAX_PORT (1u << 17)

/* "DIR/NODE" (NODE NULL or empty: DIR) into buf.  0, or -ENAMETOOLONG. */
int svxs_path(char *buf, size_t cap, const char *dir, const char *node);

/*
 * The value of DIR/NODE (caller frees), or NULL with errno: ENOENT when
 * absent, EINVAL when it holds a NUL byte, ENAMETOOLONG, or what
 * libxenstore said (the connection is gone: see svxs_lost).
 */
char *svxs_read(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node);

/*
 * DIR/NODE as a strict unsigned decimal below LIMIT.  0 with *out set,
 * -ENOENT (absent), -EINVAL (not a number), -ERANGE (LIMIT or above),
 * or another -errno from the store.
 */
int svxs_read_uint(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		   uint64_t limit, uint64_t *out);

/* DIR/NODE as a strict unsigned decimal below 2^63, or DEF when absent or malformed. */
int64_t svxs_read_num(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		      int64_t def);

/* A boolean key (a number, 0 false): absent or malformed means DEF. */
bool svxs_read_flag(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		    bool def);

/*
 * Connects to xenstored at $XENSTORED_PATH, else at the run directory's
 * xenstored.sock (svd_rundir_default(), which then becomes
 * $XENSTORED_PATH); a socket only, never the kernel device.  NULL with
 * errno when xenstored is not there.
 */
struct xs_handle *svxs_open(void);
/* Closes xs (NULL: nothing). */
void svxs_close(struct xs_handle *xs);

/* "/local/domain/DOMID" into buf (at least SVXS_DOMAIN_DIR_MAX bytes). */
#define SVXS_DOMAIN_DIR_MAX 32
void svxs_domain_dir(char *buf, uint32_t domid);

/* Writes VALUE to DIR/NODE.  0 or -errno. */
int svxs_write(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
	       const char *value);

/*
 * The longest value the writers take (xenstore's payload limit), and the
 * formatter behind the printf writers: val (SVXS_VALUE_MAX + 1 bytes), its
 * length, or -ENAMETOOLONG.
 */
#define SVXS_VALUE_MAX 4096
int svxs_vformat(char *val, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Writes a printf-formatted value (at most SVXS_VALUE_MAX bytes) to DIR/NODE.  0 or -errno. */
int svxs_printf(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Writes VALUE to DIR/NODE and gives it PERMS (the owner first, as xs_set_permissions). */
int svxs_write_perms(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		     const char *value, const struct xs_permissions *perms, unsigned nperms);
/* As svxs_write_perms, the value printf-formatted. */
int svxs_printf_perms(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node,
		      const struct xs_permissions *perms, unsigned nperms, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/*
 * Runs FN inside a transaction, again (FN included) while xenstored
 * answers EAGAIN to the commit (a conflicting writer), at most ten times.
 * FN returns 0 or -errno (then the transaction is abandoned and that is
 * the result).  0 or -errno.
 */
typedef int svxs_tx_fn(struct xs_handle *xs, xs_transaction_t t, void *arg);
int svxs_transaction(struct xs_handle *xs, svxs_tx_fn *fn, void *arg);

/* Which step of svxs_transaction_at failed, for callers whose messages say so. */
enum svxs_tx_step { SVXS_TX_START = 1, SVXS_TX_FN, SVXS_TX_COMMIT };
/* As svxs_transaction, and on failure *step (not NULL) says where. */
int svxs_transaction_at(struct xs_handle *xs, svxs_tx_fn *fn, void *arg, enum svxs_tx_step *step);

/*
 * S[0..LEN) as a strict unsigned decimal of at most 20 digits below LIMIT.
 * 0, -EINVAL or -ERANGE.
 */
int svxs_parse_uint(const char *s, size_t len, uint64_t limit, uint64_t *out);

/* A directory entry that is a number (domid, devid): as above, and no leading zero. */
bool svxs_parse_dirent(const char *s, size_t len, uint64_t limit, uint32_t *out);

/*
 * Whether an error from a read says the connection to xenstored is gone
 * (libxenstore answers EBADF after end of file), not that the key is
 * missing, unreadable or malformed.
 */
bool svxs_lost(int err);

/*
 * Reads every queued watch event (libxenstore may stop signalling its fd
 * while events remain), calling FN for each (FN may be NULL).  The number
 * of events, or -errno when the connection to xenstored failed.
 */
int svxs_watch_drain(struct xs_handle *xs,
		     void (*fn)(void *arg, const char *path, const char *token), void *arg);

/*
 * An idle second connection to xenstored (XENSTORED_PATH), used only to
 * learn that xenstored went away: libxenstore notices end of file in its
 * reader thread but never wakes the watch fd, so a daemon that only waits
 * for watches would go deaf.  Sent nothing and read nothing, it shares the
 * fate of libxenstore's connection (both kept or both lost when xenstored
 * restarts): poll it for EPOLLRDHUP.  The fd or -errno.
 */
int svxs_canary_open(void);

#endif
