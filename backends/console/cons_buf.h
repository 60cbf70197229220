// SPDX-License-Identifier: MIT
// Bounded byte FIFO used for console history, client output and guest input.
#ifndef SV_CONS_BUF_H
#define SV_CONS_BUF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A fixed-capacity circular byte buffer.  head is the offset of the oldest
 * byte, len the number of bytes held; capacity never changes after init.
 * Not thread safe: each buffer belongs to the one thread of xenconsoled.
 */
struct cons_buf {
	char *data;
	size_t cap;
	size_t head;
	size_t len;
};

/* Allocate CAP bytes of storage.  Returns 0 or -ENOMEM (-EINVAL for 0). */
int cons_buf_init(struct cons_buf *b, size_t cap);
/* Free the storage; the buffer may be init'ed again. */
void cons_buf_fini(struct cons_buf *b);

static inline size_t cons_buf_len(const struct cons_buf *b)
{
	return b->len;
}

static inline size_t cons_buf_space(const struct cons_buf *b)
{
	return b->cap - b->len;
}

static inline bool cons_buf_empty(const struct cons_buf *b)
{
	return b->len == 0;
}

/* Append up to LEN bytes; returns how many fit (the rest is not taken). */
size_t cons_buf_push(struct cons_buf *b, const void *src, size_t len);
/* Append LEN bytes, dropping the oldest bytes to make room (history). */
void cons_buf_push_overwrite(struct cons_buf *b, const void *src, size_t len);
/* Pointer to the oldest bytes and how many are contiguous from there. */
const char *cons_buf_peek(const struct cons_buf *b, size_t *contig);
/* Drop the LEN oldest bytes (at most what is held). */
void cons_buf_consume(struct cons_buf *b, size_t len);
/* Copy every byte held, oldest first, into DST (cons_buf_len() bytes). */
void cons_buf_copy_out(const struct cons_buf *b, char *dst);

#endif
