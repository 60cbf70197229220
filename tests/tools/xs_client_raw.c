// SPDX-License-Identifier: MIT
// xs-client's raw-protocol test modes: pipelined requests, a client that never reads, and a client
// that checks every reply across daemon crashes.
//
//   xs-client pipeline SOCKET N      N writes in one write(), N replies in order
//   xs-client noread SOCKET PATH     READ PATH until the daemon drops us
//   xs-client inflight SOCKET ID DIR
//       Writes /inflight/cID/kJ = J with 16 requests in flight until
//       DIR/stop exists (replies so far in DIR/cID.progress, every 500),
//       then reads every key back. Every request must get
//       exactly one reply, in order (req_id J); a key whose write said OK
//       must hold J, one whose write failed (EAGAIN) must be absent.
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "xs_client_raw.h"
#include "xs_wire.h"

#define RAW_WINDOW 16
#define RAW_TIMEOUT_S 120 /* a reply that never comes fails, eventually */

static int raw_fail(const char *what)
{
	fprintf(stderr, "xs-client: %s: %s\n", what, strerror(errno));
	return 1;
}

static int raw_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { RAW_TIMEOUT_S, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int raw_io(int fd, void *buf, size_t len, bool wr)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = wr ? write(fd, (char *)buf + off, len - off)
			       : read(fd, (char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EPIPE;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Appends one request to @buf at @off; returns the new offset. */
static size_t raw_put(char *buf, size_t off, uint32_t type, uint32_t req_id, const char *a,
		      const char *b)
{
	size_t al = strlen(a) + 1, bl = b ? strlen(b) : 0;
	struct xsd_sockmsg h = { .type = type, .req_id = req_id, .len = (uint32_t)(al + bl) };

	memcpy(buf + off, &h, sizeof(h));
	memcpy(buf + off + sizeof(h), a, al);
	if (bl)
		memcpy(buf + off + sizeof(h) + al, b, bl);
	return off + sizeof(h) + al + bl;
}

/* Reads one message; its payload NUL-terminated in @out. */
static int raw_get(int fd, struct xsd_sockmsg *h, char *out)
{
	if (raw_io(fd, h, sizeof(*h), false) || h->len > XENSTORE_PAYLOAD_MAX ||
	    raw_io(fd, out, h->len, false))
		return -1;
	out[h->len] = '\0';
	return 0;
}

static int raw_pipeline(const char *sock, int n)
{
	char *buf = malloc((size_t)n * 64), out[XENSTORE_PAYLOAD_MAX + 1];
	size_t len = 0;
	int fd = raw_open(sock), i;

	if (fd < 0 || !buf)
		return raw_fail("connect");
	for (i = 0; i < n; i++) {
		char path[32], val[16];

		snprintf(path, sizeof(path), "/pipe/k%d", i);
		snprintf(val, sizeof(val), "%d", i);
		len = raw_put(buf, len, XS_WRITE, (uint32_t)i, path, val);
	}
	/* All of them in one write. */
	if (write(fd, buf, len) != (ssize_t)len)
		return raw_fail("write");
	for (i = 0; i < n; i++) {
		struct xsd_sockmsg h;

		if (raw_get(fd, &h, out))
			return raw_fail("reply");
		if (h.req_id != (uint32_t)i || h.type != XS_WRITE || strcmp(out, "OK")) {
			fprintf(stderr, "reply %d: req_id %u type %u '%s'\n", i, h.req_id, h.type,
				out);
			return 1;
		}
	}
	printf("%d replies in order\n", n);
	free(buf);
	close(fd);
	return 0;
}

static int raw_noread(const char *sock, const char *path)
{
	char buf[64];
	size_t len = raw_put(buf, 0, XS_READ, 1, path, NULL);
	long sent = 0;
	int fd = raw_open(sock);

	if (fd < 0)
		return raw_fail("connect");
	alarm(RAW_TIMEOUT_S);
	for (;;) {
		if (raw_io(fd, buf, len, true)) {
			if (errno == EPIPE || errno == ECONNRESET) {
				printf("dropped after %ld requests\n", sent);
				return 0;
			}
			return raw_fail("write");
		}
		sent++;
	}
}

struct raw_key {
	char state; /* 0 unsent, 'w' waiting, 'o' OK, 'e' failed */
};

/* Checks one reply against what we sent: in order, exactly once. */
static int raw_inflight_reply(int fd, uint32_t want, struct raw_key *k, long *errors)
{
	char out[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg h;

	if (raw_get(fd, &h, out))
		return raw_fail("reply");
	if (h.req_id != want || k->state != 'w') {
		fprintf(stderr, "reply out of order or twice: req_id %u, want %u\n", h.req_id,
			want);
		return 1;
	}
	if (h.type == XS_WRITE && !strcmp(out, "OK")) {
		k->state = 'o';
	} else if (h.type == XS_ERROR && !strcmp(out, "EAGAIN")) {
		k->state = 'e';
		(*errors)++;
	} else {
		fprintf(stderr, "request %u: type %u '%s'\n", want, h.type, out);
		return 1;
	}
	return 0;
}

/* Replaces @file's content with @n: how far this client got. */
static void raw_progress(const char *file, uint32_t n)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%u\n", n);
	if (fclose(f) == 0)
		rename(tmp, file);
}

static int raw_inflight(const char *sock, int id, const char *dir)
{
	uint32_t cap = 1u << 20, sent = 0, got = 0, j;
	struct raw_key *keys = calloc(cap, sizeof(*keys));
	char buf[128], path[64], val[16], out[XENSTORE_PAYLOAD_MAX + 1];
	char stopfile[4096], progress[4096];
	long errors = 0;
	bool stop = false;
	int fd = raw_open(sock);

	if (fd < 0 || !keys)
		return raw_fail("connect");
	snprintf(stopfile, sizeof(stopfile), "%s/stop", dir);
	snprintf(progress, sizeof(progress), "%s/c%d.progress", dir, id);
	for (;;) {
		stop = stop || sent >= cap - RAW_WINDOW ||
		       (got % 64 == 0 && access(stopfile, F_OK) == 0);

		if (got % 500 == 0 && got)
			raw_progress(progress, got);

		while (!stop && sent - got < RAW_WINDOW) {
			size_t len;

			snprintf(path, sizeof(path), "/inflight/c%d/k%u", id, sent);
			snprintf(val, sizeof(val), "%u", sent);
			len = raw_put(buf, 0, XS_WRITE, sent, path, val);
			if (raw_io(fd, buf, len, true))
				return raw_fail("write");
			keys[sent++].state = 'w';
		}
		if (got == sent)
			break;
		if (raw_inflight_reply(fd, got, &keys[got], &errors))
			return 1;
		got++;
	}
	/* The store must say what the replies said. */
	for (j = 0; j < sent; j++) {
		struct xsd_sockmsg h;
		size_t len;

		snprintf(path, sizeof(path), "/inflight/c%d/k%u", id, j);
		len = raw_put(buf, 0, XS_READ, 0x40000000u + j, path, NULL);
		if (raw_io(fd, buf, len, true) || raw_get(fd, &h, out))
			return raw_fail("read back");
		if (h.req_id != 0x40000000u + j) {
			fprintf(stderr, "extra reply (req_id %u) before read-back %u\n", h.req_id,
				j);
			return 1;
		}
		snprintf(val, sizeof(val), "%u", j);
		if (keys[j].state == 'o' && (h.type != XS_READ || strcmp(out, val))) {
			fprintf(stderr, "k%u acknowledged but reads type %u '%s'\n", j, h.type,
				out);
			return 1;
		}
		if (keys[j].state == 'e' && h.type != XS_ERROR) {
			fprintf(stderr, "k%u failed but exists ('%s')\n", j, out);
			return 1;
		}
	}
	printf("client %d: %u requests, %u replies, %ld EAGAIN, store agrees\n", id, sent, got,
	       errors);
	free(keys);
	close(fd);
	return 0;
}

int xs_client_raw(int argc, char **argv)
{
	if (!strcmp(argv[1], "pipeline") && argc == 4)
		return raw_pipeline(argv[2], atoi(argv[3]));
	if (!strcmp(argv[1], "noread") && argc == 4)
		return raw_noread(argv[2], argv[3]);
	if (!strcmp(argv[1], "inflight") && argc == 5)
		return raw_inflight(argv[2], atoi(argv[3]), argv[4]);
	return -1;
}
