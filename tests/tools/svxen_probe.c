// SPDX-License-Identifier: MIT
/* svxen-probe: drives libsvxen against a running host stack for tests/integration/dom0_libs.sh. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenforeignmemory.h>

/*
 * Each subcommand checks one behaviour and exits 0 when it held, 1 (with a
 * line on stderr saying what differed) when not.
 */

#define FAILF(...)                                                                                 \
	do {                                                                                       \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		return 1;                                                                          \
	} while (0)

static int wait_port(xenevtchn_handle *x, int timeout_ms)
{
	struct pollfd p = { .fd = xenevtchn_fd(x), .events = POLLIN };

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return xenevtchn_pending(x);
}

/* Two handles of dom0 bound to each other: notify both ways, pending, unmask, unbind. */
static int cmd_evtchn_loop(void)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa, pb;

	if (!a || !b)
		FAILF("open: %s", strerror(errno));
	pa = xenevtchn_bind_unbound_port(a, 0);
	if (pa < 0)
		FAILF("bind_unbound_port(0): %s", strerror(errno));
	pb = xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);
	if (pb < 0)
		FAILF("bind_interdomain(0, %d): %s", pa, strerror(errno));
	for (int round = 0; round < 3; round++) {
		if (xenevtchn_notify(a, (evtchn_port_t)pa))
			FAILF("notify a: %s", strerror(errno));
		if (wait_port(b, 2000) != pb)
			FAILF("b did not see port %d (round %d)", pb, round);
		if (xenevtchn_unmask(b, (evtchn_port_t)pb))
			FAILF("unmask b: %s", strerror(errno));
		if (xenevtchn_notify(b, (evtchn_port_t)pb))
			FAILF("notify b: %s", strerror(errno));
		if (wait_port(a, 2000) != pa)
			FAILF("a did not see port %d (round %d)", pa, round);
		if (xenevtchn_unmask(a, (evtchn_port_t)pa))
			FAILF("unmask a: %s", strerror(errno));
	}
	/* Masked until unmask: two notifies give one pending, the second after unmask. */
	xenevtchn_notify(a, (evtchn_port_t)pa);
	if (wait_port(b, 2000) != pb)
		FAILF("b missed the masked-test event");
	xenevtchn_notify(a, (evtchn_port_t)pa);
	if (wait_port(b, 200) != -1)
		FAILF("a masked port fired again before unmask");
	xenevtchn_unmask(b, (evtchn_port_t)pb);
	if (wait_port(b, 2000) != pb)
		FAILF("event sent while masked was lost at unmask");
	if (xenevtchn_unbind(b, (evtchn_port_t)pb) || xenevtchn_unbind(a, (evtchn_port_t)pa))
		FAILF("unbind: %s", strerror(errno));
	xenevtchn_close(a);
	xenevtchn_close(b);
	printf("ports %d <-> %d\n", pa, pb);
	return 0;
}

static int cmd_evtchn_bad_remote(void)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0);
	int p;

	if (!a)
		FAILF("open: %s", strerror(errno));
	errno = 0;
	p = xenevtchn_bind_interdomain(a, 0, 4000);
	if (p != -1 || errno != EINVAL)
		FAILF("bind_interdomain(0, 4000) gave %d errno %d (%s), wanted -1 EINVAL", p, errno,
		      strerror(errno));
	errno = 0;
	p = xenevtchn_bind_interdomain(a, 31000, 1);
	if (p != -1)
		FAILF("bind_interdomain to a missing domain gave port %d", p);
	printf("missing domain: %s\n", strerror(errno));
	xenevtchn_close(a);
	return 0;
}

static int cmd_evtchn_close_frees(void)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa, pb = -1;

	if (!a || !b)
		FAILF("open: %s", strerror(errno));
	pa = xenevtchn_bind_unbound_port(a, 0);
	if (pa < 0)
		FAILF("bind_unbound_port: %s", strerror(errno));
	xenevtchn_close(a);
	/* The hypervisor sees the close asynchronously: allow it a moment. */
	for (int i = 0; i < 100; i++) {
		pb = xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);
		if (pb < 0)
			break;
		xenevtchn_unbind(b, (evtchn_port_t)pb);
		usleep(20000);
	}
	if (pb >= 0)
		FAILF("port %d of a closed handle could still be bound", pa);
	a = xenevtchn_open(NULL, 0);
	if (!a || xenevtchn_bind_unbound_port(a, 0) < 0)
		FAILF("binding again after close: %s", strerror(errno));
	xenevtchn_close(a);
	xenevtchn_close(b);
	return 0;
}

/* Bind VIRQ_DOM_EXC, say so on stdout, wait for it. */
static int cmd_virq_wait(int seconds)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0);
	int p, got;

	if (!a)
		FAILF("open: %s", strerror(errno));
	p = xenevtchn_bind_virq(a, VIRQ_DOM_EXC);
	if (p < 0)
		FAILF("bind_virq(VIRQ_DOM_EXC): %s", strerror(errno));
	printf("bound %d\n", p);
	fflush(stdout);
	got = wait_port(a, seconds * 1000);
	if (got != p)
		FAILF("VIRQ_DOM_EXC (port %d) did not fire in %d s (got %d)", p, seconds, got);
	printf("fired %d\n", got);
	xenevtchn_unmask(a, (evtchn_port_t)p);
	xenevtchn_close(a);
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Ping-pong between two handles in one thread: mean round trip (notify, pending, unmask) x2. */
static int cmd_evtchn_pingpong(int n)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa, pb;
	int64_t t0;

	if (!a || !b || n <= 0)
		FAILF("open: %s", strerror(errno));
	pa = xenevtchn_bind_unbound_port(a, 0);
	pb = xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);
	if (pa < 0 || pb < 0)
		FAILF("bind: %s", strerror(errno));
	t0 = now_ns();
	for (int i = 0; i < n; i++) {
		xenevtchn_notify(a, (evtchn_port_t)pa);
		if (xenevtchn_pending(b) != pb)
			FAILF("b: %s", strerror(errno));
		xenevtchn_unmask(b, (evtchn_port_t)pb);
		xenevtchn_notify(b, (evtchn_port_t)pb);
		if (xenevtchn_pending(a) != pa)
			FAILF("a: %s", strerror(errno));
		xenevtchn_unmask(a, (evtchn_port_t)pa);
	}
	printf("evtchn-pingpong: rounds=%d ns_per_round_trip=%lld\n", n,
	       (long long)((now_ns() - t0) / n));
	xenevtchn_close(a);
	xenevtchn_close(b);
	return 0;
}

/* Map the domain's first `pages` gfns and look for `needle`: proves we see its real memory. */
static int cmd_foreign_find(uint32_t dom, size_t pages, const char *needle)
{
	xenforeignmemory_handle *f = xenforeignmemory_open(NULL, 0);
	xen_pfn_t *gfns = calloc(pages, sizeof(*gfns));
	int *err = calloc(pages, sizeof(*err));
	size_t bad = 0;
	char *p, *hit;

	if (!f || !gfns || !err)
		FAILF("open: %s", strerror(errno));
	for (size_t i = 0; i < pages; i++)
		gfns[i] = i;
	p = xenforeignmemory_map(f, dom, PROT_READ, pages, gfns, err);
	if (!p)
		FAILF("map %zu pages of %u: %s", pages, dom, strerror(errno));
	for (size_t i = 0; i < pages; i++)
		bad += err[i] != 0;
	if (bad)
		FAILF("%zu of %zu frames failed to map", bad, pages);
	hit = memmem(p, pages * 4096, needle, strlen(needle));
	if (!hit)
		FAILF("'%s' not found in %zu pages of domain %u", needle, pages, dom);
	printf("found at gfn 0x%zx offset 0x%zx\n", (size_t)(hit - p) / 4096,
	       (size_t)(hit - p) % 4096);
	xenforeignmemory_unmap(f, p, pages);
	xenforeignmemory_close(f);
	free(gfns);
	free(err);
	return 0;
}

/* Write through one handle's mapping, read through another's, restore; a hole gives -EINVAL. */
static int cmd_foreign_rw(uint32_t dom, uint64_t gfn, uint64_t hole)
{
	xenforeignmemory_handle *f = xenforeignmemory_open(NULL, 0);
	xenforeignmemory_handle *g = xenforeignmemory_open(NULL, 0);
	xen_pfn_t arr[2] = { gfn, hole };
	int err[2];
	volatile uint8_t *w, *r;
	uint8_t saved, flipped;

	if (!f || !g)
		FAILF("open: %s", strerror(errno));
	w = xenforeignmemory_map(f, dom, PROT_READ | PROT_WRITE, 1, arr, NULL);
	r = xenforeignmemory_map(g, dom, PROT_READ, 2, arr, err);
	if (!w || !r)
		FAILF("map: %s", strerror(errno));
	if (err[0] || err[1] != -EINVAL)
		FAILF("err[] = {%d, %d}, wanted {0, %d}", err[0], err[1], -EINVAL);
	saved = w[123];
	flipped = (uint8_t)(saved ^ 0xffu);
	w[123] = flipped;
	if (r[123] != flipped)
		FAILF("a write through one mapping is not seen through the other");
	w[123] = saved;
	if (xenforeignmemory_map(f, dom, PROT_READ, 1, &arr[1], NULL) || errno != EINVAL)
		FAILF("a hole mapped without err[] did not fail with EINVAL");
	xenforeignmemory_unmap(f, (void *)w, 1);
	xenforeignmemory_unmap(g, (void *)r, 2);
	xenforeignmemory_close(f);
	xenforeignmemory_close(g);
	return 0;
}

/* Refs the guest never granted: the map fails as a whole, a copy says so per segment. */
static int cmd_gnt_refused(uint32_t dom)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint32_t refs[2] = { 1, 2 };
	xengnttab_grant_copy_segment_t s = { 0 };
	char buf[16];

	if (!g)
		FAILF("open: %s", strerror(errno));
	if (xengnttab_map_domain_grant_refs(g, 2, dom, refs, PROT_READ))
		FAILF("mapping ungranted refs succeeded");
	printf("map: %s\n", strerror(errno));
	s.source.foreign.domid = (uint16_t)dom;
	s.source.foreign.ref = 1;
	s.dest.virt = buf;
	s.len = sizeof(buf);
	s.flags = GNTCOPY_source_gref;
	if (xengnttab_grant_copy(g, 1, &s))
		FAILF("grant_copy: %s", strerror(errno));
	if (s.status == GNTST_okay)
		FAILF("copy from an ungranted ref succeeded");
	printf("copy status %d\n", s.status);
	xengnttab_close(g);
	return 0;
}

/* The byte the guest's grant-selftest puts at i, and the one it wants back from dom0. */
#define GUEST_BYTE(i) ((uint8_t)((i) ^ 0x5a))
#define DOM0_BYTE(i) ((uint8_t)((i) ^ 0xa5))

/*
 * Serve the guest's grant-selftest on ref: read the page by grant copy and
 * through a read-only map, then write DOM0_BYTE half through a writable map
 * and half by grant copy, check, and unmap everything (with `leak`: exit
 * without unmapping).
 */
static int cmd_gnt_serve(uint32_t dom, uint32_t ref, bool leak)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	xengnttab_grant_copy_segment_t s = { 0 };
	static uint8_t buf[4096];
	uint8_t *ro, *rw;
	size_t i;

	if (!g)
		FAILF("open: %s", strerror(errno));
	s.source.foreign.domid = (uint16_t)dom;
	s.source.foreign.ref = ref;
	s.dest.virt = buf;
	s.len = sizeof(buf);
	s.flags = GNTCOPY_source_gref;
	if (xengnttab_grant_copy(g, 1, &s) || s.status != GNTST_okay)
		FAILF("copy from ref %u: %s, status %d", ref, strerror(errno), s.status);
	for (i = 0; i < sizeof(buf) && buf[i] == GUEST_BYTE(i); i++)
		;
	if (i < sizeof(buf))
		FAILF("copied byte %zu is %#x, not %#x", i, buf[i], GUEST_BYTE(i));
	ro = xengnttab_map_grant_ref(g, dom, ref, PROT_READ);
	if (!ro)
		FAILF("read-only map of ref %u: %s", ref, strerror(errno));
	if (memcmp(ro, buf, sizeof(buf)))
		FAILF("read-only map differs from the copy");
	rw = xengnttab_map_grant_ref(g, dom, ref, PROT_READ | PROT_WRITE);
	if (!rw)
		FAILF("writable map of ref %u: %s", ref, strerror(errno));
	for (i = 0; i < 2048; i++)
		rw[i] = DOM0_BYTE(i);
	for (i = 2048; i < sizeof(buf); i++)
		buf[i] = DOM0_BYTE(i);
	memset(&s, 0, sizeof(s));
	s.source.virt = buf + 2048;
	s.dest.foreign.domid = (uint16_t)dom;
	s.dest.foreign.ref = ref;
	s.dest.foreign.offset = 2048;
	s.len = 2048;
	s.flags = GNTCOPY_dest_gref;
	if (xengnttab_grant_copy(g, 1, &s) || s.status != GNTST_okay)
		FAILF("copy to ref %u: %s, status %d", ref, strerror(errno), s.status);
	for (i = 0; i < sizeof(buf) && ro[i] == DOM0_BYTE(i); i++)
		;
	if (i < sizeof(buf))
		FAILF("byte %zu reads %#x after the writes, not %#x", i, ro[i], DOM0_BYTE(i));
	if (leak) {
		/* Die holding both maps (no exit handlers, as a crash): the hypervisor drops them.
		 */
		printf("exiting with ref %u mapped\n", ref);
		fflush(stdout);
		_exit(0);
	}
	if (xengnttab_unmap(g, rw, 1) || xengnttab_unmap(g, ro, 1))
		FAILF("unmap: %s", strerror(errno));
	xengnttab_close(g);
	printf("served ref %u of domain %u\n", ref, dom);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: svxen-probe evtchn-loop | evtchn-bad-remote | evtchn-close-frees |\n"
		"       virq-wait SECONDS | evtchn-pingpong N | foreign-find DOMID PAGES STRING |\n"
		"       foreign-rw DOMID GFN HOLE_GFN | gnt-refused DOMID |\n"
		"       gnt-serve DOMID REF [leak]\n");
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	if (!strcmp(c, "evtchn-loop"))
		return cmd_evtchn_loop();
	if (!strcmp(c, "evtchn-bad-remote"))
		return cmd_evtchn_bad_remote();
	if (!strcmp(c, "evtchn-close-frees"))
		return cmd_evtchn_close_frees();
	if (!strcmp(c, "virq-wait") && argc == 3)
		return cmd_virq_wait(atoi(argv[2]));
	if (!strcmp(c, "evtchn-pingpong") && argc == 3)
		return cmd_evtchn_pingpong(atoi(argv[2]));
	if (!strcmp(c, "foreign-find") && argc == 5)
		return cmd_foreign_find((uint32_t)strtoul(argv[2], NULL, 0),
					strtoul(argv[3], NULL, 0), argv[4]);
	if (!strcmp(c, "foreign-rw") && argc == 5)
		return cmd_foreign_rw((uint32_t)strtoul(argv[2], NULL, 0),
				      strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0));
	if (!strcmp(c, "gnt-refused") && argc == 3)
		return cmd_gnt_refused((uint32_t)strtoul(argv[2], NULL, 0));
	if (!strcmp(c, "gnt-serve") && (argc == 4 || (argc == 5 && !strcmp(argv[4], "leak"))))
		return cmd_gnt_serve((uint32_t)strtoul(argv[2], NULL, 0),
				     (uint32_t)strtoul(argv[3], NULL, 0), argc == 5);
	usage();
	return 2;
}
