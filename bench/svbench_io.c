// SPDX-License-Identifier: MIT
/* Benchmarks of the split-driver substrate: event-channel round trips and grant map/copy, with
 * floors. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

/*
 *   svbench-io floor-evtchn N        eventfd ping-pong between two host processes
 *   svbench-io pingpong DOMID N      dom0 <-> guest over an event channel (guest:
 * evtchn-pingpong=N) svbench-io floor-copy SECONDS    memcpy of 4 KiB blocks svbench-io grant DOMID
 * SECONDS   map+unmap and grant copy of the page the guest's grant-selftest offers, then completes
 * its check Each prints key=value lines on stdout.
 */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_stats(const char *what, uint64_t *t, unsigned n)
{
	qsort(t, n, sizeof(t[0]), cmp_u64);
	printf("%s_median_us=%.2f\n%s_p99_us=%.2f\n", what, t[n / 2] / 1000.0, what,
	       t[(n * 99) / 100] / 1000.0);
}

static int floor_evtchn(unsigned n)
{
	int ab = eventfd(0, 0), ba = eventfd(0, 0);
	uint64_t *t = calloc(n, sizeof(*t)), v = 1;
	pid_t pid;

	if (ab < 0 || ba < 0 || !t)
		return 1;
	pid = fork();
	if (pid == 0) {
		for (unsigned i = 0; i < n; i++) {
			if (read(ab, &v, 8) != 8 || write(ba, &v, 8) != 8)
				_exit(1);
		}
		_exit(0);
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		if (write(ab, &v, 8) != 8 || read(ba, &v, 8) != 8)
			return 1;
		t[i] = now_ns() - t0;
	}
	waitpid(pid, NULL, 0);
	print_stats("eventfd_rtt", t, n);
	free(t);
	return 0;
}

static char *xs_get(struct xs_handle *xs, unsigned domid, const char *key, unsigned wait_ms)
{
	char path[128];

	snprintf(path, sizeof(path), "/local/domain/%u/data/%s", domid, key);
	for (unsigned i = 0; i <= wait_ms / 10; i++) {
		char *v = xs_read(xs, XBT_NULL, path, NULL);
		if (v && *v)
			return v;
		free(v);
		usleep(10000);
	}
	return NULL;
}

/* Wait for one event on port, then unmask it. */
static int wait_event(xenevtchn_handle *x, evtchn_port_t port, int timeout_ms)
{
	struct pollfd p = { .fd = xenevtchn_fd(x), .events = POLLIN };

	if (poll(&p, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	xenevtchn_port_or_error_t got = xenevtchn_pending(x);
	if (got < 0)
		return -errno;
	xenevtchn_unmask(x, (evtchn_port_t)got);
	return (evtchn_port_t)got == port ? 0 : -EPROTO;
}

static int pingpong(unsigned domid, unsigned n)
{
	struct xs_handle *xs = xs_open(0);
	xenevtchn_handle *x = xenevtchn_open(NULL, 0);
	uint64_t *t = calloc(n, sizeof(*t));
	char *v;

	if (!xs || !x || !t) {
		fprintf(stderr, "svbench-io: cannot open xenstore or event channels: %s\n",
			strerror(errno));
		return 1;
	}
	v = xs_get(xs, domid, "pingpong-port", 10000);
	if (!v) {
		fprintf(stderr, "svbench-io: guest %u never wrote data/pingpong-port\n", domid);
		return 1;
	}
	xenevtchn_port_or_error_t port =
	    xenevtchn_bind_interdomain(x, domid, (evtchn_port_t)atoi(v));
	free(v);
	if (port < 0) {
		fprintf(stderr, "svbench-io: bind: %s\n", strerror(errno));
		return 1;
	}
	/* A new interdomain port starts pending (Xen's rule): take that one first. */
	wait_event(x, (evtchn_port_t)port, 1000);
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		if (xenevtchn_notify(x, (evtchn_port_t)port) < 0 ||
		    wait_event(x, (evtchn_port_t)port, 5000)) {
			fprintf(stderr, "svbench-io: round %u got no answer\n", i);
			return 1;
		}
		t[i] = now_ns() - t0;
	}
	print_stats("evtchn_rtt", t, n);
	xenevtchn_close(x);
	xs_close(xs);
	free(t);
	return 0;
}

static int floor_copy(double seconds)
{
	static uint8_t src[4096], dst[4096];
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9), bytes = 0;

	memset(src, 1, sizeof(src));
	while (now_ns() < end) {
		for (int i = 0; i < 256; i++) {
			memcpy(dst, src, sizeof(dst));
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		bytes += 256 * sizeof(dst);
	}
	printf("memcpy_gbps=%.3f\n", bytes / ((now_ns() - t0) / 1e9) / 1e9);
	return 0;
}

static int grant(unsigned domid, double seconds)
{
	struct xs_handle *xs = xs_open(0);
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	static uint8_t buf[4096];
	uint64_t ops = 0, bytes = 0, t0, end;
	char path[128], *v;
	uint32_t ref;

	if (!xs || !g) {
		fprintf(stderr, "svbench-io: cannot open xenstore or grant tables: %s\n",
			strerror(errno));
		return 1;
	}
	v = xs_get(xs, domid, "grant-ref", 10000);
	if (!v) {
		fprintf(stderr, "svbench-io: guest %u never wrote data/grant-ref\n", domid);
		return 1;
	}
	ref = (uint32_t)atoi(v);
	free(v);

	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	while (now_ns() < end) {
		void *p = xengnttab_map_grant_ref(g, domid, ref, PROT_READ);
		if (!p || xengnttab_unmap(g, p, 1)) {
			fprintf(stderr, "svbench-io: map/unmap: %s\n", strerror(errno));
			return 1;
		}
		ops++;
	}
	printf("grant_map_unmap_per_s=%.0f\n", ops / ((now_ns() - t0) / 1e9));

	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	while (now_ns() < end) {
		xengnttab_grant_copy_segment_t seg[16];
		for (int i = 0; i < 16; i++) {
			memset(&seg[i], 0, sizeof(seg[i]));
			seg[i].flags = GNTCOPY_source_gref;
			seg[i].source.foreign.ref = ref;
			seg[i].source.foreign.domid = (domid_t)domid;
			seg[i].dest.virt = buf;
			seg[i].len = sizeof(buf);
		}
		if (xengnttab_grant_copy(g, 16, seg) || seg[15].status != GNTST_okay) {
			fprintf(stderr, "svbench-io: grant copy failed: %s (status %d)\n",
				strerror(errno), seg[15].status);
			return 1;
		}
		bytes += 16 * sizeof(buf);
	}
	printf("grant_copy_gbps=%.3f\n", bytes / ((now_ns() - t0) / 1e9) / 1e9);

	/* Complete the guest's self-test so it ends access cleanly. */
	uint8_t *p = xengnttab_map_grant_ref(g, domid, ref, PROT_READ | PROT_WRITE);
	if (!p)
		return 1;
	for (unsigned i = 0; i < 4096; i++)
		p[i] = (uint8_t)(i ^ 0xa5);
	xengnttab_unmap(g, p, 1);
	snprintf(path, sizeof(path), "/local/domain/%u/data/grant-done", domid);
	xs_write(xs, XBT_NULL, path, "ok", 2);
	xengnttab_close(g);
	xs_close(xs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "floor-evtchn"))
		return floor_evtchn((unsigned)atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "pingpong"))
		return pingpong((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "floor-copy"))
		return floor_copy(atof(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "grant"))
		return grant((unsigned)atoi(argv[2]), atof(argv[3]));
	fprintf(
	    stderr,
	    "usage: svbench-io floor-evtchn N | pingpong DOMID N | floor-copy S | grant DOMID S\n");
	return 2;
}
