// SPDX-License-Identifier: MIT
// xenconsoled-probe: scripted client of xenconsoled.sock for tests and debugging.
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

#include "cons_ring.h"

/* Everything the console sent so far, to search for expected text. */
struct probe_seen {
	char *buf;
	size_t len, cap;
	size_t from; /* searches start here: each expect consumes */
};

static void probe_usage(FILE *f)
{
	fprintf(f, "usage: xenconsoled-probe --rundir DIR [-t SECONDS] COMMAND ...\n"
		   "  attach DOMID STEP...   attach and run the steps in order:\n"
		   "      send:TEXT    send TEXT and a newline to the guest\n"
		   "      expect:TEXT  read console output until TEXT appears\n"
		   "      sleep:MS     wait, still reading output\n"
		   "      hold:MS      wait without reading (a stalled client)\n"
		   "    Console output goes to stdout; exit 0 when every step is done,\n"
		   "    1 on timeout, refusal or end of stream.\n"
		   "  request LINE          send LINE (a newline is added) and print the reply\n"
		   "  ring OP DOMID [TEXT]  play the guest's side of its console ring\n"
		   "                        (for a paused domain in tests):\n"
		   "      put      write TEXT into out[] (no event: xenconsoled sees it\n"
		   "               on its next service of the domain)\n"
		   "      take     print and consume what xenconsoled put in in[]\n"
		   "      rogue-in / rogue-out   move in_cons / out_prod out of range\n");
}

static double probe_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int probe_connect(const char *rundir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/xenconsoled.sock", rundir) >=
	    (int)sizeof(sa.sun_path)) {
		fprintf(stderr, "xenconsoled-probe: run directory path too long\n");
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "xenconsoled-probe: %s: %s\n", sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static bool probe_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Read the reply line byte by byte (console bytes may follow it). */
static int probe_reply(int fd, char *line, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = read(fd, line + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	return n ? 0 : -1;
}

/* Wait up to WAIT seconds for output; false on end of stream or error. */
static bool probe_read(int fd, struct probe_seen *s, double wait)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;
	int ms = wait <= 0 ? 0 : (int)(wait * 1000) + 1;

	if (poll(&p, 1, ms) <= 0)
		return true;
	n = read(fd, buf, sizeof(buf));
	if (n <= 0)
		return false;
	if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
		return false;
	fflush(stdout);
	if (s->len + (size_t)n + 1 > s->cap) {
		size_t cap = (s->cap + (size_t)n) * 2;
		char *nb = realloc(s->buf, cap);

		if (!nb)
			return false;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, buf, (size_t)n);
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	return true;
}

static bool probe_find(struct probe_seen *s, const char *text)
{
	const char *hit;

	if (!s->buf)
		return false;
	hit = memmem(s->buf + s->from, s->len - s->from, text, strlen(text));
	if (!hit)
		return false;
	s->from = (size_t)(hit - s->buf) + strlen(text);
	return true;
}

static int probe_attach(const char *rundir, double timeout, int argc, char **argv)
{
	struct probe_seen seen = { 0 };
	double end = probe_now() + timeout;
	char line[256];
	int fd, ret = 1;

	if (argc < 1) {
		probe_usage(stderr);
		return 2;
	}
	fd = probe_connect(rundir);
	if (fd < 0)
		return 1;
	snprintf(line, sizeof(line), "attach %s\n", argv[0]);
	if (!probe_write_all(fd, line, strlen(line)) || probe_reply(fd, line, sizeof(line))) {
		fprintf(stderr, "xenconsoled-probe: no reply\n");
		goto out_close;
	}
	if (strcmp(line, "ok\n") != 0) {
		fprintf(stderr, "xenconsoled-probe: refused: %s", line);
		goto out_close;
	}
	for (int i = 1; i < argc; i++) {
		const char *step = argv[i];

		if (!strncmp(step, "send:", 5)) {
			if (!probe_write_all(fd, step + 5, strlen(step + 5)) ||
			    !probe_write_all(fd, "\n", 1)) {
				fprintf(stderr, "xenconsoled-probe: send failed\n");
				goto out_close;
			}
		} else if (!strncmp(step, "expect:", 7)) {
			while (!probe_find(&seen, step + 7)) {
				if (probe_now() >= end) {
					fprintf(stderr,
						"xenconsoled-probe: timeout waiting for '%s'\n",
						step + 7);
					goto out_close;
				}
				if (!probe_read(fd, &seen, end - probe_now())) {
					fprintf(stderr,
						"xenconsoled-probe: stream ended before '%s'\n",
						step + 7);
					goto out_close;
				}
			}
		} else if (!strncmp(step, "sleep:", 6)) {
			double until = probe_now() + atof(step + 6) / 1000;

			while (probe_now() < until)
				if (!probe_read(fd, &seen, until - probe_now()))
					break;
		} else if (!strncmp(step, "hold:", 5)) {
			usleep((useconds_t)(atof(step + 5) * 1000));
		} else {
			fprintf(stderr, "xenconsoled-probe: unknown step '%s'\n", step);
			ret = 2;
			goto out_close;
		}
	}
	ret = 0;
out_close:
	close(fd);
	free(seen.buf);
	return ret;
}

static int probe_request(const char *rundir, const char *req)
{
	char line[256];
	int fd = probe_connect(rundir);

	if (fd < 0)
		return 1;
	if (!probe_write_all(fd, req, strlen(req)) || !probe_write_all(fd, "\n", 1) ||
	    probe_reply(fd, line, sizeof(line))) {
		fprintf(stderr, "xenconsoled-probe: no reply\n");
		close(fd);
		return 1;
	}
	fputs(line, stdout);
	close(fd);
	return 0;
}

/* Map domain DOMID's console page as xenconsoled does.  NULL on failure. */
static struct xencons_interface *probe_map(xenforeignmemory_handle **fmp, const char *domid_s)
{
	char path[64], *val;
	unsigned int len;
	unsigned long domid = strtoul(domid_s, NULL, 10);
	struct xencons_interface *intf;
	struct xs_handle *xs;
	xen_pfn_t gfn;
	int err = 0;

	xs = xs_open(0);
	if (!xs) {
		perror("xenconsoled-probe: xs_open");
		return NULL;
	}
	snprintf(path, sizeof(path), "/local/domain/%lu/console/ring-ref", domid);
	val = xs_read(xs, XBT_NULL, path, &len);
	xs_close(xs);
	if (!val) {
		fprintf(stderr, "xenconsoled-probe: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	gfn = (xen_pfn_t)strtoull(val, NULL, 10);
	free(val);
	*fmp = xenforeignmemory_open(NULL, 0);
	if (!*fmp) {
		perror("xenconsoled-probe: xenforeignmemory_open");
		return NULL;
	}
	intf = xenforeignmemory_map(*fmp, (uint32_t)domid, PROT_READ | PROT_WRITE, 1, &gfn, &err);
	if (!intf || err) {
		fprintf(stderr, "xenconsoled-probe: map: %s\n", strerror(err ? abs(err) : errno));
		xenforeignmemory_close(*fmp);
		return NULL;
	}
	return intf;
}

/*
 * Play the guest's part on a paused domain's ring: "rogue-in" and
 * "rogue-out" break an index, "put TEXT" writes output into out[],
 * "take" prints and consumes what is in in[].
 */
static int probe_ring(const char *op, const char *domid_s, const char *text)
{
	xenforeignmemory_handle *fm = NULL;
	struct xencons_interface *intf = probe_map(&fm, domid_s);
	int ret = 0;

	if (!intf)
		return 1;
	if (!strcmp(op, "rogue-in")) {
		__atomic_store_n(&intf->in_cons, intf->in_prod + 3000u, __ATOMIC_SEQ_CST);
	} else if (!strcmp(op, "rogue-out")) {
		__atomic_store_n(&intf->out_prod, intf->out_cons + 5000u, __ATOMIC_SEQ_CST);
	} else if (!strcmp(op, "put") && text) {
		uint32_t prod = intf->out_prod;
		size_t len = strlen(text);

		if (len > CONS_RING_OUT_SIZE - (prod - intf->out_cons)) {
			fprintf(stderr, "xenconsoled-probe: no room in out[]\n");
			ret = 1;
		} else {
			for (size_t i = 0; i < len; i++)
				intf->out[MASK_XENCONS_IDX(prod + i, intf->out)] = text[i];
			__atomic_store_n(&intf->out_prod, prod + (uint32_t)len, __ATOMIC_RELEASE);
		}
	} else if (!strcmp(op, "take")) {
		uint32_t cons = intf->in_cons;
		uint32_t prod = __atomic_load_n(&intf->in_prod, __ATOMIC_ACQUIRE);

		for (; cons != prod && prod - cons <= CONS_RING_IN_SIZE; cons++)
			putchar(intf->in[MASK_XENCONS_IDX(cons, intf->in)]);
		__atomic_store_n(&intf->in_cons, cons, __ATOMIC_RELEASE);
	} else {
		probe_usage(stderr);
		ret = 2;
	}
	xenforeignmemory_unmap(fm, intf, 1);
	xenforeignmemory_close(fm);
	return ret;
}

int main(int argc, char **argv)
{
	const char *rundir = getenv("SPLITVISOR_RUNDIR");
	double timeout = 10;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--rundir") && i + 1 < argc) {
			rundir = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			timeout = atof(argv[i + 1]);
			i += 2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			probe_usage(stdout);
			return 0;
		} else {
			probe_usage(stderr);
			return 2;
		}
	}
	if (!rundir || i >= argc) {
		probe_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "attach"))
		return probe_attach(rundir, timeout, argc - i - 1, argv + i + 1);
	if (!strcmp(argv[i], "request") && i + 1 < argc)
		return probe_request(rundir, argv[i + 1]);
	if (!strcmp(argv[i], "ring") && i + 2 < argc)
		return probe_ring(argv[i + 1], argv[i + 2], i + 3 < argc ? argv[i + 3] : NULL);
	probe_usage(stderr);
	return 2;
}
