// SPDX-License-Identifier: MIT
/* Check suite for dom0/lib/gnttab*.c and foreignmemory.c against a fake hypervisor. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dirent.h>
#include <unistd.h>
#include <xengnttab.h>
#include <xenforeignmemory.h>
#include "../../dom0/lib/svxen.h" /* SVXEN_DOMMEM_IDLE_NS */
#include "../fakes/fakehv.h"

#define PG 4096
#define DOM FAKEHV_DOMID

static char rundir[64];
static struct fakehv *hv;

/* Fill memfd page i with byte 0x10 + i, so every page is recognisable. */
static void fill_pages(void)
{
	char buf[PG];

	for (int i = 0; i < FAKEHV_PAGES; i++) {
		memset(buf, 0x10 + i, sizeof(buf));
		ck_assert_int_eq(pwrite(fakehv_memfd(hv), buf, PG, (off_t)i * PG), PG);
	}
}

static uint8_t guest_byte(unsigned page, unsigned off)
{
	uint8_t b = 0;

	ck_assert_int_eq(pread(fakehv_memfd(hv), &b, 1, (off_t)page * PG + off), 1);
	return b;
}

static void setup(void)
{
	strcpy(rundir, "/tmp/svxen-gnttab-XXXXXX");
	hv = fakehv_start_private(rundir);
	ck_assert_ptr_nonnull(hv);
	fill_pages();
	/* refs 0..7 grant frames 7..0 (reverse order), ref 8 read-only frame 9. */
	for (uint32_t r = 0; r < 8; r++)
		fakehv_grant(hv, r, 7 - r, false);
	fakehv_grant(hv, 8, 9, true);
}

static void teardown(void)
{
	fakehv_stop_private(hv, rundir);
	hv = NULL;
}

/* The server drops a closed connection's handles asynchronously. */
static unsigned live_handles_settled(void)
{
	for (int i = 0; i < 200 && fakehv_live_handles(hv); i++)
		usleep(10000);
	return fakehv_live_handles(hv);
}

/* Open descriptors of this process: shows whether a domain's memfd is still held. */
static int nr_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

START_TEST(memfd_held_only_while_mapped)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	xenforeignmemory_handle *f = xenforeignmemory_open(NULL, 0);
	xengnttab_grant_copy_segment_t s = { 0 };
	xen_pfn_t gfn = 3;
	int base;
	uint8_t *a, *b, *p, buf[4];

	/* A round trip on each connection first, so the server side has accepted both. */
	ck_assert_ptr_null(xengnttab_map_grant_ref(g, 5, 0, PROT_READ));
	ck_assert_ptr_null(xenforeignmemory_map(f, 5, PROT_READ, 1, &gfn, NULL));
	base = nr_fds();

	a = xengnttab_map_grant_ref(g, DOM, 0, PROT_READ);
	b = xengnttab_map_grant_ref(g, DOM, 1, PROT_READ);
	ck_assert_int_eq(nr_fds(), base + 1);
	ck_assert_int_eq(xengnttab_unmap(g, a, 1), 0);
	ck_assert_int_eq(nr_fds(), base + 1);
	ck_assert_int_eq(xengnttab_unmap(g, b, 1), 0);
	/*
	 * The last mapping gone, the memfd goes with it, whatever the daemon
	 * does next (hostile_guests.sh: blkback held every destroyed guest's
	 * memory while the others kept their grants mapped).
	 */
	ck_assert_int_eq(nr_fds(), base);
	/*
	 * One grant mapped and unmapped at a time: the memfd fetched again
	 * right after it was closed is kept for the next cycle ...
	 */
	for (int k = 0; k < 3; k++) {
		a = xengnttab_map_grant_ref(g, DOM, 0, PROT_READ);
		ck_assert_ptr_nonnull(a);
		ck_assert_int_eq(xengnttab_unmap(g, a, 1), 0);
	}
	ck_assert_int_eq(nr_fds(), base + 1);
	/* ... until it has been idle for a while and a call trims the cache. */
	usleep(SVXEN_DOMMEM_IDLE_NS / 1000 + 100000);
	/* A failed map and a copy keep nothing either. */
	ck_assert_ptr_null(xengnttab_map_grant_ref(g, DOM, 31, PROT_READ));
	s.source.foreign.domid = DOM;
	s.source.foreign.ref = 2;
	s.dest.virt = buf;
	s.len = sizeof(buf);
	s.flags = GNTCOPY_source_gref;
	ck_assert_int_eq(xengnttab_grant_copy(g, 1, &s), 0);
	ck_assert_int_eq(s.status, GNTST_okay);
	ck_assert_int_eq(nr_fds(), base + 1); /* fetched again for the copy, and kept */
	usleep(SVXEN_DOMMEM_IDLE_NS / 1000 + 100000);
	/* A copy that names no domain only trims. */
	memset(&s, 0, sizeof(s));
	s.source.virt = buf;
	s.dest.virt = buf + 2;
	s.len = 2;
	ck_assert_int_eq(xengnttab_grant_copy(g, 1, &s), 0);
	ck_assert_int_eq(nr_fds(), base);
	/* Foreign maps keep the memory through the mapping, not through an fd. */
	p = xenforeignmemory_map(f, DOM, PROT_READ, 1, &gfn, NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(nr_fds(), base);
	ck_assert_int_eq(p[0], 0x10 + 3);
	xenforeignmemory_unmap(f, p, 1);
	xenforeignmemory_close(f);
	xengnttab_close(g);
}
END_TEST

START_TEST(map_one_ref_writable)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint8_t *p;

	ck_assert_ptr_nonnull(g);
	p = xengnttab_map_grant_ref(g, DOM, 2, PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p[0], 0x10 + 5);
	ck_assert_int_eq(fakehv_ref_maps(hv, 2), 1);
	p[100] = 0xab;
	ck_assert_int_eq(guest_byte(5, 100), 0xab);
	ck_assert_int_eq(xengnttab_unmap(g, p, 1), 0);
	ck_assert_int_eq(fakehv_ref_maps(hv, 2), 0);
	ck_assert_int_eq(xengnttab_close(g), 0);
}
END_TEST

START_TEST(readonly_grant)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint8_t *p;

	errno = 0;
	ck_assert_ptr_null(xengnttab_map_grant_ref(g, DOM, 8, PROT_READ | PROT_WRITE));
	ck_assert_int_eq(errno, EPERM);
	p = xengnttab_map_grant_ref(g, DOM, 8, PROT_READ);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p[17], 0x10 + 9);
	ck_assert_int_eq(xengnttab_unmap(g, p, 1), 0);
	ck_assert_int_eq(fakehv_live_handles(hv), 0);
	xengnttab_close(g);
}
END_TEST

START_TEST(map_several_refs_contiguous)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint32_t refs[4] = { 0, 1, 6, 3 }; /* frames 7, 6, 1, 4 */
	unsigned frames[4] = { 7, 6, 1, 4 };
	uint8_t *p = xengnttab_map_domain_grant_refs(g, 4, DOM, refs, PROT_READ | PROT_WRITE);

	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(p[i * PG], 0x10 + frames[i]);
		ck_assert_int_eq(p[i * PG + PG - 1], 0x10 + frames[i]);
	}
	ck_assert_int_eq(fakehv_live_handles(hv), 4);
	ck_assert_int_eq(xengnttab_unmap(g, p, 4), 0);
	ck_assert_int_eq(fakehv_live_handles(hv), 0);
	xengnttab_close(g);
}
END_TEST

START_TEST(adjacent_frames_and_per_ref_domids)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint32_t refs[3] = { 7, 6, 5 }; /* frames 0, 1, 2: one run in the memfd */
	uint32_t doms[3] = { DOM, DOM, DOM };
	uint8_t *p = xengnttab_map_grant_refs(g, 3, doms, refs, PROT_READ);

	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(p[i * PG + 5], 0x10 + i);
	ck_assert_int_eq(xengnttab_unmap(g, p, 3), 0);
	xengnttab_close(g);
}
END_TEST

START_TEST(one_bad_ref_fails_the_batch)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint32_t refs[4] = { 0, 1, 30, 2 }; /* 30 is not granted */

	errno = 0;
	ck_assert_ptr_null(xengnttab_map_domain_grant_refs(g, 4, DOM, refs, PROT_READ));
	ck_assert_int_eq(errno, EINVAL);
	/* The refs that did map were given back. */
	ck_assert_int_eq(fakehv_live_handles(hv), 0);
	ck_assert_int_eq(fakehv_ref_maps(hv, 0), 0);
	xengnttab_close(g);
}
END_TEST

START_TEST(bad_domain)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint32_t refs[2] = { 0, 1 }, doms[2] = { DOM, 5 };

	errno = 0;
	ck_assert_ptr_null(xengnttab_map_grant_ref(g, 5, 0, PROT_READ));
	ck_assert_int_eq(errno, ESRCH);
	errno = 0;
	ck_assert_ptr_null(xengnttab_map_grant_refs(g, 2, doms, refs, PROT_READ));
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(fakehv_live_handles(hv), 0);
	errno = 0;
	ck_assert_ptr_null(xengnttab_map_grant_refs(g, 0, doms, refs, PROT_READ));
	ck_assert_int_eq(errno, EINVAL);
	xengnttab_close(g);
}
END_TEST

START_TEST(unmap_table)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint32_t r1[2] = { 0, 1 }, r2[3] = { 2, 3, 4 };
	uint8_t *a = xengnttab_map_domain_grant_refs(g, 2, DOM, r1, PROT_READ);
	uint8_t *b = xengnttab_map_domain_grant_refs(g, 3, DOM, r2, PROT_READ);
	uint8_t *c = xengnttab_map_grant_ref(g, DOM, 5, PROT_READ);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(fakehv_live_handles(hv), 6);
	/* Wrong count, an address inside a mapping, an unknown address. */
	errno = 0;
	ck_assert_int_eq(xengnttab_unmap(g, b, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(xengnttab_unmap(g, b + PG, 2), -1);
	ck_assert_int_eq(xengnttab_unmap(g, (void *)0x1000, 1), -1);
	ck_assert_int_eq(fakehv_live_handles(hv), 6);
	ck_assert_int_eq(xengnttab_unmap(g, b, 3), 0);
	ck_assert_int_eq(fakehv_live_handles(hv), 3);
	ck_assert_int_eq(a[0], 0x10 + 7);
	ck_assert_int_eq(xengnttab_unmap(g, a, 2), 0);
	ck_assert_int_eq(xengnttab_unmap(g, c, 1), 0);
	/* Twice is an error. */
	ck_assert_int_eq(xengnttab_unmap(g, c, 1), -1);
	ck_assert_int_eq(fakehv_live_handles(hv), 0);
	xengnttab_close(g);
}
END_TEST

START_TEST(batches_beyond_one_message)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint32_t refs[300];
	uint8_t *p;

	for (int i = 0; i < 300; i++)
		refs[i] = (uint32_t)(i % 8);
	p = xengnttab_map_domain_grant_refs(g, 300, DOM, refs, PROT_READ);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fakehv_live_handles(hv), 300);
	ck_assert_int_eq(p[299 * PG], 0x10 + 7 - (299 % 8));
	ck_assert_int_eq(xengnttab_unmap(g, p, 300), 0);
	ck_assert_int_eq(fakehv_live_handles(hv), 0);
	/* A bad ref in the second batch gives back the whole first batch. */
	refs[280] = 31;
	ck_assert_ptr_null(xengnttab_map_domain_grant_refs(g, 300, DOM, refs, PROT_READ));
	ck_assert_int_eq(fakehv_live_handles(hv), 0);
	xengnttab_close(g);
}
END_TEST

START_TEST(close_drops_mappings)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);

	ck_assert_ptr_nonnull(xengnttab_map_grant_ref(g, DOM, 0, PROT_READ));
	ck_assert_ptr_nonnull(xengnttab_map_grant_ref(g, DOM, 1, PROT_READ));
	ck_assert_int_eq(xengnttab_set_max_grants(g, 128), 0);
	ck_assert_int_ge(xengnttab_fd(g), 0);
	ck_assert_int_eq(xengnttab_close(g), 0);
	ck_assert_int_eq(live_handles_settled(), 0);
}
END_TEST

START_TEST(unmap_notify_clears_byte_and_signals)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint8_t *p = xengnttab_map_grant_ref_notify(g, DOM, 0, PROT_READ | PROT_WRITE, 10, 3);

	ck_assert_ptr_nonnull(p);
	p[10] = 0xff;
	ck_assert_int_eq(guest_byte(7, 10), 0xff);
	xengnttab_unmap(g, p, 1);
	ck_assert_int_eq(guest_byte(7, 10), 0);
	ck_assert(fakehv_wait_noreply(hv, 1, 2000));
	/* A read-only mapping cannot clear a byte. */
	errno = 0;
	ck_assert_ptr_null(xengnttab_map_grant_ref_notify(g, DOM, 0, PROT_READ, 10, -1));
	ck_assert_int_eq(errno, EINVAL);
	/* No notification asked for: none sent. */
	p = xengnttab_map_grant_ref_notify(g, DOM, 0, PROT_READ, -1, -1);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(xengnttab_unmap(g, p, 1), 0);
	ck_assert_int_eq(fakehv_noreply_count(hv), 1);
	xengnttab_close(g);
}
END_TEST

START_TEST(lying_hypervisor_offsets_refused)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint32_t refs[2] = { 0, 1 };

	fakehv_set_bad_offsets(hv, true);
	errno = 0;
	ck_assert_ptr_null(xengnttab_map_domain_grant_refs(g, 2, DOM, refs, PROT_READ));
	ck_assert_int_eq(fakehv_live_handles(hv), 0);
	xengnttab_close(g);
}
END_TEST

START_TEST(eagain_is_retried)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	uint32_t refs[3] = { 0, 1, 2 };
	uint8_t *p;

	fakehv_set_eagain(hv, 5);
	p = xengnttab_map_domain_grant_refs(g, 3, DOM, refs, PROT_READ);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p[2 * PG], 0x10 + 5);
	ck_assert_int_eq(xengnttab_unmap(g, p, 3), 0);
	/* An entry that never settles fails the map. */
	fakehv_set_eagain(hv, 1000);
	errno = 0;
	ck_assert_ptr_null(xengnttab_map_grant_ref(g, DOM, 0, PROT_READ));
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(fakehv_live_handles(hv), 0);
	xengnttab_close(g);
}
END_TEST

static void seg_local_to_gref(xengnttab_grant_copy_segment_t *s, void *src, uint32_t ref,
			      uint16_t off, uint16_t len)
{
	memset(s, 0, sizeof(*s));
	s->source.virt = src;
	s->dest.foreign.domid = DOM;
	s->dest.foreign.ref = ref;
	s->dest.foreign.offset = off;
	s->len = len;
	s->flags = GNTCOPY_dest_gref;
}

static void seg_gref_to_local(xengnttab_grant_copy_segment_t *s, uint32_t ref, uint16_t off,
			      void *dst, uint16_t len)
{
	memset(s, 0, sizeof(*s));
	s->source.foreign.domid = DOM;
	s->source.foreign.ref = ref;
	s->source.foreign.offset = off;
	s->dest.virt = dst;
	s->len = len;
	s->flags = GNTCOPY_source_gref;
}

/* Grant copy gives its short-lived maps back one-way: wait for the server to have them. */
static bool live_handles_drop_to_zero(void)
{
	for (int i = 0; i < 200; i++) {
		if (fakehv_live_handles(hv) == 0)
			return true;
		usleep(5000);
	}
	return false;
}

START_TEST(grant_copy_kinds_and_statuses)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	xengnttab_grant_copy_segment_t s[8];
	char out[64] = "hello guest", in[64], in2[64], loc[8] = "local", loc2[8];

	memset(in, 0, sizeof(in));
	memset(in2, 0, sizeof(in2));
	seg_local_to_gref(&s[0], out, 0, 100, 12);  /* frame 7 */
	seg_gref_to_local(&s[1], 8, 0, in, 16);	    /* read-only frame 9 */
	seg_gref_to_local(&s[2], 30, 0, in, 16);    /* not granted */
	seg_local_to_gref(&s[3], out, 8, 0, 4);	    /* read-only as dest */
	seg_local_to_gref(&s[4], out, 1, 4090, 12); /* crosses the page */
	/* grant to grant: ref 1 (frame 6) offset 0 -> ref 2 (frame 5) offset 200 */
	memset(&s[5], 0, sizeof(s[5]));
	s[5].source.foreign.domid = DOM;
	s[5].source.foreign.ref = 1;
	s[5].dest.foreign.domid = DOM;
	s[5].dest.foreign.ref = 2;
	s[5].dest.foreign.offset = 200;
	s[5].len = 32;
	s[5].flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
	/* local to local */
	memset(&s[6], 0, sizeof(s[6]));
	s[6].source.virt = loc;
	s[6].dest.virt = loc2;
	s[6].len = 6;
	/* gref to local in another domain */
	seg_gref_to_local(&s[7], 0, 0, in2, 8);
	s[7].source.foreign.domid = 9;

	ck_assert_int_eq(xengnttab_grant_copy(g, 8, s), 0);
	ck_assert_int_eq(s[0].status, GNTST_okay);
	ck_assert_int_eq(guest_byte(7, 100), 'h');
	ck_assert_int_eq(guest_byte(7, 110), 't');
	ck_assert_int_eq(s[1].status, GNTST_okay);
	ck_assert_int_eq((uint8_t)in[0], 0x10 + 9);
	ck_assert_int_eq((uint8_t)in[15], 0x10 + 9);
	ck_assert_int_eq(in[16], 0);
	ck_assert_int_eq(s[2].status, GNTST_bad_gntref);
	ck_assert_int_eq(s[3].status, GNTST_permission_denied);
	ck_assert_int_eq(s[4].status, GNTST_bad_copy_arg);
	ck_assert_int_eq(s[5].status, GNTST_okay);
	ck_assert_int_eq(guest_byte(5, 200), 0x10 + 6);
	ck_assert_int_eq(guest_byte(5, 231), 0x10 + 6);
	ck_assert_int_eq(guest_byte(5, 232), 0x10 + 5);
	ck_assert_int_eq(s[6].status, GNTST_okay);
	ck_assert_str_eq(loc2, "local");
	ck_assert_int_eq(s[7].status, GNTST_bad_domain);
	/* Released before the call returns, as Xen's copy: the caller answers the guest next. */
	ck_assert_int_eq(fakehv_live_handles(hv), 0);
	xengnttab_close(g);
}
END_TEST

START_TEST(grant_copy_many_segments)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	enum { N = 400 };
	xengnttab_grant_copy_segment_t *s = calloc(N, sizeof(*s));
	uint8_t *buf = calloc(N, 8);

	for (int i = 0; i < N; i++)
		seg_gref_to_local(&s[i], (uint32_t)(i % 8), (uint16_t)(i * 8), buf + i * 8, 8);
	ck_assert_int_eq(xengnttab_grant_copy(g, N, s), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(s[i].status, GNTST_okay);
		ck_assert_int_eq(buf[i * 8 + 7], 0x10 + 7 - (i % 8));
	}
	ck_assert(live_handles_drop_to_zero());
	free(s);
	free(buf);
	xengnttab_close(g);
}
END_TEST

START_TEST(hypervisor_gone)
{
	xengnttab_handle *g = xengnttab_open(NULL, 0);
	xengnttab_grant_copy_segment_t s;
	char in[8];

	fakehv_stop(hv);
	hv = NULL;
	errno = 0;
	ck_assert_ptr_null(xengnttab_map_grant_ref(g, DOM, 0, PROT_READ));
	ck_assert(errno == EPIPE || errno == ECONNRESET);
	seg_gref_to_local(&s, 0, 0, in, 8);
	ck_assert_int_eq(xengnttab_grant_copy(g, 1, &s), -1);
	ck_assert_int_eq(s.status, GNTST_general_error);
	ck_assert_int_eq(xengnttab_close(g), 0);
}
END_TEST

START_TEST(gntshr_not_offered)
{
	ck_assert_ptr_null(xengntshr_open(NULL, 0));
	ck_assert_int_eq(errno, EOPNOTSUPP);
}
END_TEST

START_TEST(foreign_map_gfns)
{
	xenforeignmemory_handle *f = xenforeignmemory_open(NULL, 0);
	/* Range 0: gfn 0..7 = pages 0..7; range 1: gfn 0x100..0x107 = pages 8..15. */
	xen_pfn_t gfns[5] = { 0, 0x100, 0x107, 5, 6 };
	unsigned pages[5] = { 0, 8, 15, 5, 6 };
	int err[5] = { 1, 1, 1, 1, 1 };
	uint8_t *p;

	ck_assert_ptr_nonnull(f);
	p = xenforeignmemory_map(f, DOM, PROT_READ | PROT_WRITE, 5, gfns, err);
	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(err[i], 0);
		ck_assert_int_eq(p[i * PG + 3], 0x10 + pages[i]);
	}
	p[PG + 1] = 0x77;
	ck_assert_int_eq(guest_byte(8, 1), 0x77);
	ck_assert_int_eq(xenforeignmemory_unmap(f, p, 5), 0);
	ck_assert_int_eq(xenforeignmemory_close(f), 0);
}
END_TEST

START_TEST(foreign_map_outside_ram)
{
	xenforeignmemory_handle *f = xenforeignmemory_open(NULL, 0);
	xen_pfn_t gfns[3] = { 1, 8, 0x108 }; /* 8 and 0x108 are holes */
	int err[3];
	uint8_t *p;

	p = xenforeignmemory_map(f, DOM, PROT_READ, 3, gfns, err);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(err[0], 0);
	ck_assert_int_eq(err[1], -EINVAL);
	ck_assert_int_eq(err[2], -EINVAL);
	ck_assert_int_eq(p[1], 0x10 + 1);
	ck_assert_int_eq(xenforeignmemory_unmap(f, p, 3), 0);
	/* Without err[], one bad frame fails the call. */
	errno = 0;
	ck_assert_ptr_null(xenforeignmemory_map(f, DOM, PROT_READ, 3, gfns, NULL));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(xenforeignmemory_map(f, 4, PROT_READ, 1, gfns, err));
	ck_assert_int_eq(errno, ESRCH);
	errno = 0;
	ck_assert_ptr_null(xenforeignmemory_map(f, DOM, PROT_READ, 0, gfns, err));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(xenforeignmemory_map_resource(f, DOM, 0, 0, 0, 1, NULL, PROT_READ, 0));
	ck_assert_int_eq(errno, EOPNOTSUPP);
	xenforeignmemory_close(f);
}
END_TEST

/* DOMID_XEN's frames: the identity machine-to-phys table libxc's save maps; read-only. */
START_TEST(foreign_map_m2p)
{
	xenforeignmemory_handle *f = xenforeignmemory_open(NULL, 0);
	xen_pfn_t frames[3] = { 0, 513, 1ULL << 40 };
	int err[3];
	xen_pfn_t *m;

	ck_assert_ptr_nonnull(f);
	m = xenforeignmemory_map(f, DOMID_XEN, PROT_READ, 3, frames, err);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(err[0], 0);
	ck_assert_int_eq(err[1], 0);
	ck_assert_int_eq(err[2], -EINVAL);
	ck_assert_uint_eq(m[0], 0);
	ck_assert_uint_eq(m[511], 511);
	ck_assert_uint_eq(m[512], 513 * 512);
	ck_assert_uint_eq(m[512 + 7], 513 * 512 + 7);
	ck_assert_int_eq(xenforeignmemory_unmap(f, m, 3), 0);
	/* Without err[] the bad frame fails the call; no writable map of the table. */
	errno = 0;
	ck_assert_ptr_null(xenforeignmemory_map(f, DOMID_XEN, PROT_READ, 3, frames, NULL));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(xenforeignmemory_map(f, DOMID_XEN, PROT_READ | PROT_WRITE, 1, frames, err));
	ck_assert_int_eq(errno, EPERM);
	xenforeignmemory_close(f);
}
END_TEST

static Suite *gnttab_suite(void)
{
	Suite *s = suite_create("xengnttab");
	TCase *tc = tcase_create("gnttab");
	TCase *tf = tcase_create("foreignmemory");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, map_one_ref_writable);
	tcase_add_test(tc, readonly_grant);
	tcase_add_test(tc, map_several_refs_contiguous);
	tcase_add_test(tc, adjacent_frames_and_per_ref_domids);
	tcase_add_test(tc, one_bad_ref_fails_the_batch);
	tcase_add_test(tc, bad_domain);
	tcase_add_test(tc, unmap_table);
	tcase_add_test(tc, batches_beyond_one_message);
	tcase_add_test(tc, close_drops_mappings);
	tcase_add_test(tc, unmap_notify_clears_byte_and_signals);
	tcase_add_test(tc, lying_hypervisor_offsets_refused);
	tcase_add_test(tc, eagain_is_retried);
	tcase_add_test(tc, memfd_held_only_while_mapped);
	tcase_add_test(tc, grant_copy_kinds_and_statuses);
	tcase_add_test(tc, grant_copy_many_segments);
	tcase_add_test(tc, hypervisor_gone);
	tcase_add_test(tc, gntshr_not_offered);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, foreign_map_gfns);
	tcase_add_test(tf, foreign_map_outside_ram);
	tcase_add_test(tf, foreign_map_m2p);
	suite_add_tcase(s, tf);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gnttab_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
