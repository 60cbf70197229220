// SPDX-License-Identifier: MIT
// Bounded byte FIFO used for console history, client output and guest input.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cons_buf.h"

int cons_buf_init(struct cons_buf *b, size_t cap)
{
	b->head = b->len = 0;
	b->cap = 0;
	b->data = NULL;
	if (cap == 0)
		return -EINVAL;
	b->data = malloc(cap);
	if (!b->data)
		return -ENOMEM;
	b->cap = cap;
	return 0;
}

void cons_buf_fini(struct cons_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap = b->head = b->len = 0;
}

/* Copy LEN bytes (LEN <= space) in after the newest byte, wrapping. */
static void cons_buf_put(struct cons_buf *b, const char *src, size_t len)
{
	size_t tail = (b->head + b->len) % b->cap;
	size_t first = b->cap - tail;

	if (first > len)
		first = len;
	memcpy(b->data + tail, src, first);
	memcpy(b->data, src + first, len - first);
	b->len += len;
}

size_t cons_buf_push(struct cons_buf *b, const void *src, size_t len)
{
	if (len > cons_buf_space(b))
		len = cons_buf_space(b);
	if (len)
		cons_buf_put(b, src, len);
	return len;
}

void cons_buf_push_overwrite(struct cons_buf *b, const void *src, size_t len)
{
	const char *s = src;

	if (b->cap == 0)
		return;
	/* Only the newest cap bytes of SRC can survive. */
	if (len > b->cap) {
		s += len - b->cap;
		len = b->cap;
	}
	if (len > cons_buf_space(b))
		cons_buf_consume(b, len - cons_buf_space(b));
	cons_buf_put(b, s, len);
}

const char *cons_buf_peek(const struct cons_buf *b, size_t *contig)
{
	size_t first = b->cap - b->head;

	*contig = b->len < first ? b->len : first;
	return b->data + b->head;
}

void cons_buf_consume(struct cons_buf *b, size_t len)
{
	if (len > b->len)
		len = b->len;
	b->len -= len;
	b->head = b->len ? (b->head + len) % b->cap : 0;
}

void cons_buf_copy_out(const struct cons_buf *b, char *dst)
{
	size_t first = b->cap - b->head;

	if (first > b->len)
		first = b->len;
	memcpy(dst, b->data + b->head, first);
	memcpy(dst + first, b->data, b->len - first);
}
