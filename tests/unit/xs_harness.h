// SPDX-License-Identifier: MIT
// Test harness for xenstored unit tests: a daemon context and in-memory client connections.
#ifndef TEST_XS_HARNESS_H
#define TEST_XS_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "../../xenstore/xenstored.h"

/* Fresh daemon (no persistence, no epoll). */
void xt_daemon(struct xs_daemon *d);
/* Frees every connection and the daemon. */
void xt_done(struct xs_daemon *d);
/* A client connection speaking as @domid (0: privileged dom0 tool). */
struct xs_conn *xt_conn(struct xs_daemon *d, unsigned int domid);
/* Feeds raw bytes to the connection and runs the daemon on them. */
void xt_feed(struct xs_conn *c, const void *buf, size_t len);
/*
 * Sends one request (@nstr strings, NUL-separated in @payload of @len) and
 * returns the reply's type; the payload goes to @out (NUL-terminated).
 */
uint32_t xt_req(struct xs_conn *c, uint32_t type, uint32_t tx, const void *payload, size_t len,
		char *out, size_t outsz);
/* Reply text or "E..." error name of common requests. */
const char *xt_write(struct xs_conn *c, uint32_t tx, const char *path, const char *val);
const char *xt_read(struct xs_conn *c, uint32_t tx, const char *path);
const char *xt_simple(struct xs_conn *c, uint32_t type, uint32_t tx, const char *a, const char *b);
/* Request from a list of strings, e.g. xt_strs(c, XS_SET_PERMS, 0, 3, "/a", "b0", "r1"). */
const char *xt_strs(struct xs_conn *c, uint32_t type, uint32_t tx, int n, ...);
/* Pops the next queued WATCH_EVENT: 1 if one was there. */
int xt_event(struct xs_conn *c, char *path, char *token);
/* Number of queued WATCH_EVENTs. */
int xt_nevents(struct xs_conn *c);
/* While blocked the client "reads" nothing: replies stay queued in the daemon. */
void xt_block_output(struct xs_conn *c, int blocked);
/* Number of queued non-event messages the client has received. */
int xt_nreplies(struct xs_conn *c);
int xt_is_dead(struct xs_conn *c);

#endif
