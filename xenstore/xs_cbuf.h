// SPDX-License-Identifier: MIT
// Connection buffers: a connection's request and reply bytes in memory that outlives the daemon, so
// a restart answers what a crash left unanswered.
#ifndef XS_CBUF_H
#define XS_CBUF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define XS_CBUF_MAGIC 0x3146554243535858ULL /* "XXSCBUF1" */
#define XS_CBUF_IN_SIZE (64u * 1024)	    /* requests read, not yet committed */
#define XS_CBUF_OUT_SIZE (4u * 1024 * 1024) /* replies and events not yet sent */
#define XS_CBUF_NO_PASS UINT64_MAX	    /* a mark being rewritten */

/*
 * Which requests a journal pass covers: every request that ends at or
 * before stream offset @in was handled, and output up to @out was made by
 * them (and by other connections' changes in the same pass).
 */
struct xs_cbuf_mark {
	uint64_t pass;	  /* loop pass (journal batch) number */
	uint64_t in, out; /* stream offsets */
};

/*
 * One I/O call in flight. The socket transport passes @mh to
 * recvmmsg/sendmmsg, which store the byte count in mh.msg_len before
 * returning: if the daemon is killed right after the call, the count is
 * still here, and @from + mh.msg_len is where the stream really is.
 * The ring transport stores the count itself, after copying the bytes
 * and before moving the ring's index (see xs_ring_finish_io).
 */
struct xs_cbuf_io {
	struct mmsghdr mh;
	uint64_t from;	   /* stream offset the call started at */
	uint32_t pending;  /* 1 while the call may have moved bytes */
	uint32_t ring_idx; /* guest rings: the ring index it started at */
};

/*
 * The shared header, at offset 0 of the mapping; in[] and out[] follow.
 * Offsets are free-running byte counts since the connection began; a
 * byte at stream offset s lives at (s - base) % size. Every field is
 * written only by the daemon; after a crash the next daemon reads them.
 */
struct xs_cbuf_hdr {
	uint64_t magic;		    /* XS_CBUF_MAGIC once initialised */
	uint64_t key;		    /* connection key, as the keeper knows it */
	uint32_t in_size, out_size; /* capacities (powers of two) */
	uint64_t in_base, out_base; /* stream offset stored at index 0 */
	uint64_t in_tail;	    /* bytes received */
	uint64_t in_head;	    /* bytes of requests handled */
	uint64_t out_head;	    /* bytes of output queued */
	uint64_t out_sent;	    /* bytes the transport took */
	struct xs_cbuf_mark pend;   /* written before a journal batch */
	struct xs_cbuf_mark done;   /* last mark known committed */
	uint64_t committed_pass;    /* last pass whose journal is written */
	struct xs_cbuf_io io_in, io_out;
};

struct xs_cbuf {
	struct xs_cbuf_hdr *h; /* NULL: no buffers */
	uint8_t *in, *out;
	size_t map_len;
	int memfd;	   /* -1: private memory (no restart) */
	uint64_t in_floor; /* in bytes below this may be overwritten */
	bool dirty;	   /* offsets moved since the last mark */
};

/* Heap buffers (die with the daemon). 0 or -ENOMEM. */
int xs_cbuf_init_heap(struct xs_cbuf *b);
/* Buffers in a new memfd, for the keeper to hold. 0 or -errno. */
int xs_cbuf_init_shared(struct xs_cbuf *b, uint64_t key);
/*
 * Maps a memfd a crashed daemon left with the keeper and rolls it back to
 * what the journal says happened (@journal_pass: last pass found in the
 * state file). Afterwards out[] holds exactly the committed output not
 * yet sent and in[] the requests still to handle. 0 or -errno (the fd is
 * not consumed on failure).
 */
int xs_cbuf_recover(struct xs_cbuf *b, int memfd, uint64_t key, uint64_t journal_pass,
		    uint64_t *max_pass);
/* The header a crashed daemon left in @memfd, before any recovery. 0 or -errno. */
int xs_cbuf_peek(int memfd, struct xs_cbuf_hdr *out);
void xs_cbuf_free(struct xs_cbuf *b);

static inline uint64_t xs_cbuf_in_avail(const struct xs_cbuf *b)
{
	return b->h->in_tail - b->h->in_head;
}

static inline uint64_t xs_cbuf_out_unsent(const struct xs_cbuf *b)
{
	return b->h->out_head - b->h->out_sent;
}

/* Copies @n bytes from stream offset @at of in[] (handled or not). */
void xs_cbuf_in_copy(const struct xs_cbuf *b, uint64_t at, void *dst, size_t n);
/* Free space of in[] as up to two segments; returns how many (0-2). */
int xs_cbuf_in_space(struct xs_cbuf *b, struct iovec iov[2]);
/* Appends @n bytes to out[]; -ENOSPC if they do not fit. */
int xs_cbuf_out_put(struct xs_cbuf *b, const void *src, size_t n);
/* Unsent output as up to two segments; returns how many (0-2). */
int xs_cbuf_out_data(struct xs_cbuf *b, struct iovec iov[2]);
/* Empty buffers restart at index 0, keeping the memory touched small. */
void xs_cbuf_rebase(struct xs_cbuf *b);

/* Commit protocol around one journal batch (see xs_persist_flush). */
void xs_cbuf_mark_pending(struct xs_cbuf *b, uint64_t pass);
void xs_cbuf_mark_committed(struct xs_cbuf *b, uint64_t pass);

/* Keeps the compiler from moving stores to the shared header across this. */
#define xs_cbuf_order() __atomic_signal_fence(__ATOMIC_SEQ_CST)

#endif
