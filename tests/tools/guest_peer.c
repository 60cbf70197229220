// SPDX-License-Identifier: MIT
// guest-peer: dom0's half of the guest kernel's evtchn-pingpong, for
// tests/integration/guest_xen.sh.
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenevtchn.h>

/*
 *   guest-peer ping DOMID PORT N   bind to the guest's unbound PORT, send
 *                                  N pings, each after the guest's answer
 *   guest-peer echo DOMID PORT N   bind, answer each of N guest pings
 *
 * The protocol is in docs/guest-kernel.md.  Exit 0 when all N rounds
 * happened, 1 (with a line on stderr) when not.
 */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The next pending port within @ms, unmasked again; -1 on timeout. */
static int next_event(xenevtchn_handle *x, int ms)
{
	struct pollfd p = { .fd = xenevtchn_fd(x), .events = POLLIN };
	int port;

	if (poll(&p, 1, ms) != 1)
		return -1;
	port = xenevtchn_pending(x);
	if (port >= 0 && xenevtchn_unmask(x, (evtchn_port_t)port))
		return -1;
	return port;
}

int main(int argc, char **argv)
{
	xenevtchn_handle *x;
	int64_t t0, dt, min = INT64_MAX, max = 0, sum = 0;
	unsigned long dom, port, n;
	bool ping;
	int lp;

	if (argc != 5 || (strcmp(argv[1], "ping") && strcmp(argv[1], "echo"))) {
		fprintf(stderr, "usage: guest-peer ping|echo DOMID PORT N\n");
		return 2;
	}
	ping = !strcmp(argv[1], "ping");
	dom = strtoul(argv[2], NULL, 0);
	port = strtoul(argv[3], NULL, 0);
	n = strtoul(argv[4], NULL, 0);
	if (n == 0) {
		fprintf(stderr, "guest-peer: N must be at least 1\n");
		return 2;
	}
	x = xenevtchn_open(NULL, 0);
	if (!x) {
		fprintf(stderr, "xenevtchn_open: %s\n", strerror(errno));
		return 1;
	}
	lp = xenevtchn_bind_interdomain(x, (uint32_t)dom, (evtchn_port_t)port);
	if (lp < 0) {
		fprintf(stderr, "bind_interdomain(%lu, %lu): %s\n", dom, port, strerror(errno));
		return 1;
	}
	/*
	 * Xen raises an event on the port it just bound (notifications sent
	 * to the unbound port would be lost otherwise): take it, so it is
	 * not mistaken for the guest's.  Then tell a pinging guest to start.
	 */
	(void)next_event(x, 200);
	if (!ping) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "xenstore-write /local/domain/%lu/data/pingpong-ready 1",
			 dom);
		if (system(cmd) != 0) {
			fprintf(stderr, "could not write pingpong-ready\n");
			return 1;
		}
	}
	for (unsigned long i = 0; i < n; i++) {
		t0 = now_ns();
		if (ping && xenevtchn_notify(x, (evtchn_port_t)lp)) {
			fprintf(stderr, "notify: %s\n", strerror(errno));
			return 1;
		}
		if (next_event(x, i == 0 && !ping ? 30000 : 5000) != lp) {
			fprintf(stderr, "no event from the guest in round %lu\n", i);
			return 1;
		}
		if (!ping && xenevtchn_notify(x, (evtchn_port_t)lp)) {
			fprintf(stderr, "notify: %s\n", strerror(errno));
			return 1;
		}
		dt = now_ns() - t0;
		sum += dt;
		min = dt < min ? dt : min;
		max = dt > max ? dt : max;
	}
	if (ping)
		printf("peer-pingpong: rounds=%lu min_ns=%lld avg_ns=%lld max_ns=%lld\n", n,
		       (long long)min, (long long)(sum / (int64_t)n), (long long)max);
	else
		printf("peer-echo: answered %lu\n", n);
	xenevtchn_close(x);
	return 0;
}
