// SPDX-License-Identifier: MIT
/* Timestamped log lines for the hypervisor (stderr, which the supervisor files), also kept in a
 * ring for `xl dmesg`. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sv/daemon.h"
#include "hv.h"

uint64_t hv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The hypervisor's own ring, owned by this file; usable before main runs. */
static char hv_log_buf[SV_HVLOG_BUF];
struct hv_logring hv_log_ring = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.buf = hv_log_buf,
	.size = sizeof(hv_log_buf),
};

int hv_logring_init(struct hv_logring *r, size_t size)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(size ? size : 1);
	if (!r->buf)
		return -ENOMEM;
	r->size = size;
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

void hv_logring_fini(struct hv_logring *r)
{
	pthread_mutex_destroy(&r->lock);
	free(r->buf);
	r->buf = NULL;
}

/* Copies len bytes of the ring from offset at (which must still be kept) into out. */
static void ring_copy_out(const struct hv_logring *r, uint64_t at, char *out, size_t len)
{
	size_t pos = (size_t)(at % r->size);
	size_t first = len < r->size - pos ? len : r->size - pos;

	memcpy(out, r->buf + pos, first);
	memcpy(out + first, r->buf, len - first);
}

/* The byte at offset off while s (len bytes) is being appended at head: new or still kept. */
static char byte_at(const struct hv_logring *r, const char *s, uint64_t off)
{
	return off >= r->head ? s[off - r->head] : r->buf[off % r->size];
}

/*
 * Past the ring's size the oldest bytes go; the kept part then starts at
 * a whole line, so a reader never sees half of one (text without any
 * newline is cut where it must be).  The new start is found before the
 * bytes are written, while every byte it looks at is still there.
 */
static void append_locked(struct hv_logring *r, const char *s, size_t len)
{
	uint64_t new_head = r->head + len, new_start = r->start;

	if (new_head - r->start > r->size) {
		uint64_t at = new_head - r->size; /* > start, and at - 1 is still kept */

		new_start = at;
		if (byte_at(r, s, at - 1) != '\n') {
			for (; at < new_head; at++) {
				if (byte_at(r, s, at) == '\n') {
					new_start = at + 1;
					break;
				}
			}
		}
	}
	size_t pos = (size_t)(r->head % r->size);
	size_t first = len < r->size - pos ? len : r->size - pos;
	memcpy(r->buf + pos, s, first);
	memcpy(r->buf, s + first, len - first);
	r->head = new_head;
	r->start = new_start;
}

void hv_logring_append(struct hv_logring *r, const char *s, size_t len)
{
	if (!r->size)
		return;
	pthread_mutex_lock(&r->lock);
	/* More than the ring holds goes in ring-sized pieces, each cut as above. */
	while (len) {
		size_t n = len < r->size ? len : r->size;

		append_locked(r, s, n);
		s += n;
		len -= n;
	}
	pthread_mutex_unlock(&r->lock);
}

uint32_t hv_logring_read(struct hv_logring *r, uint64_t *offset, uint64_t *next, char *out,
			 uint32_t max, bool clear)
{
	uint64_t at, n;

	pthread_mutex_lock(&r->lock);
	at = *offset;
	if (at < r->start)
		at = r->start;
	if (at > r->head)
		at = r->head;
	n = r->head - at;
	if (n > max)
		n = max;
	if (n)
		ring_copy_out(r, at, out, (size_t)n);
	*offset = at;
	*next = at + n;
	if (clear && *next > r->start)
		r->start = *next;
	pthread_mutex_unlock(&r->lock);
	return (uint32_t)n;
}

void hv_log(const char *fmt, ...)
{
	int saved = errno; /* kept for the caller, and what %m shows */
	char line[1024];
	va_list ap;

	/* The line format of every daemon, from the skeleton's one formatter (sv/daemon.h). */
	va_start(ap, fmt);
	svd_format_line(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fputs per line so lines from several threads do not interleave. */
	fprintf(stderr, "%s\n", line);
	size_t len = strlen(line);
	if (len == sizeof(line) - 1)
		len--; /* cut short: the newline takes the last byte */
	line[len++] = '\n';
	hv_logring_append(&hv_log_ring, line, len);
	errno = saved;
}
