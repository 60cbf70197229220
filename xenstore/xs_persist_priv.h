// SPDX-License-Identifier: MIT
// Internals shared by the state file (xs_persist.c) and its connection records (xs_persist_conn.c).
#ifndef XS_PERSIST_PRIV_H
#define XS_PERSIST_PRIV_H

#include "xenstored.h"

/* A socket connection as saved, waiting for the keeper to hand it back. */
struct xs_saved_watch {
	char *path, *token;
	uint32_t rel;
};

struct xs_saved_conn {
	uint64_t key;
	uint32_t domid, flags;
	struct xs_saved_watch *w;
	uint32_t nw;
	bool gone;
};

struct xs_persist {
	struct xs_saved_conn *saved; /* loaded, until restored or forgotten */
	uint32_t nsaved;
	char *path;
	int fd;
	uint8_t *buf; /* records not yet written */
	size_t len, cap;
	size_t file_bytes;    /* current file size */
	size_t snap_bytes;    /* size right after the last compaction */
	bool failed;	      /* write error already logged */
	uint64_t loaded_pass; /* last 'S' record found at load */
};

struct xs_rec_hdr {
	uint32_t type;
	uint32_t len;
};

/* Appends one record (type, then up to four parts) to the write buffer. */
int xs_persist_append(struct xs_persist *p, uint32_t type, const void *a, size_t alen,
		      const void *b, size_t blen, const void *c, size_t clen, const void *e,
		      size_t elen);
/* Replays a 'C', 'X', 'W' or 'U' record into the saved connection table. */
int xs_persist_apply_conn(struct xs_daemon *d, uint32_t type, const uint8_t *b, uint32_t len);
/* Snapshot records for every live and every still-saved connection. */
void xs_persist_snap_conns(struct xs_daemon *d);

#endif
