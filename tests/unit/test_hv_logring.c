// SPDX-License-Identifier: MIT
/* Check suite for the hypervisor's log ring (hypervisor/log.c): wrap, whole lines, clear,
 * concurrent writers. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/hv.h"

/* Everything the ring keeps from offset 0 on, as a string; *first gets where it starts. */
static char *read_all(struct hv_logring *r, uint64_t *first, bool clear)
{
	size_t cap = r->size + 1, len = 0;
	char *s = calloc(1, cap);
	uint64_t off = 0, next;
	bool started = false;

	ck_assert_ptr_nonnull(s);
	for (;;) {
		uint64_t at = off;
		uint32_t n = hv_logring_read(r, &at, &next, s + len, 7 /* small chunks */, clear);

		if (!started && first)
			*first = at;
		started = true;
		if (!n)
			break;
		ck_assert_uint_le(len + n, cap - 1);
		len += n;
		off = next;
	}
	s[len] = '\0';
	return s;
}

START_TEST(keeps_what_fits)
{
	struct hv_logring r;
	uint64_t first;
	char *s;

	ck_assert_int_eq(hv_logring_init(&r, 64), 0);
	hv_logring_append(&r, "one\n", 4);
	hv_logring_append(&r, "two\n", 4);
	s = read_all(&r, &first, false);
	ck_assert_str_eq(s, "one\ntwo\n");
	ck_assert_uint_eq(first, 0);
	free(s);
	s = read_all(&r, NULL, false); /* reading does not consume */
	ck_assert_str_eq(s, "one\ntwo\n");
	free(s);
	hv_logring_fini(&r);
}
END_TEST

START_TEST(wrap_drops_oldest_whole_lines)
{
	struct hv_logring r;
	char line[16];
	uint64_t first;
	char *s;

	ck_assert_int_eq(hv_logring_init(&r, 32), 0);
	for (int i = 0; i < 10; i++) {
		int n = snprintf(line, sizeof(line), "line %d\n", i); /* 7 bytes each */
		hv_logring_append(&r, line, (size_t)n);
	}
	/* 70 bytes through a 32-byte ring: the last 32 start inside "line 5"; whole lines from
	 * "line 6". */
	s = read_all(&r, &first, false);
	ck_assert_str_eq(s, "line 6\nline 7\nline 8\nline 9\n");
	ck_assert_uint_eq(first, 42);
	free(s);
	hv_logring_fini(&r);
}
END_TEST

START_TEST(old_offset_starts_at_oldest_kept)
{
	struct hv_logring r;
	uint64_t off = 3, next;
	char buf[64];
	uint32_t n;

	ck_assert_int_eq(hv_logring_init(&r, 16), 0);
	hv_logring_append(&r, "aaaaaaa\n", 8);
	hv_logring_append(&r, "bbbbbbb\n", 8);
	hv_logring_append(&r, "ccccccc\n", 8);
	n = hv_logring_read(&r, &off, &next, buf, sizeof(buf), false);
	ck_assert_uint_eq(n, 16);
	ck_assert_uint_eq(off, 8);
	ck_assert_uint_eq(next, 24);
	ck_assert_mem_eq(buf, "bbbbbbb\nccccccc\n", 16);
	/* Past the end: nothing, and the offset is the end. */
	off = 1000;
	ck_assert_uint_eq(hv_logring_read(&r, &off, &next, buf, sizeof(buf), false), 0);
	ck_assert_uint_eq(off, 24);
	hv_logring_fini(&r);
}
END_TEST

START_TEST(line_larger_than_ring_is_dropped)
{
	struct hv_logring r;
	char big[100];
	char *s;

	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	ck_assert_int_eq(hv_logring_init(&r, 16), 0);
	hv_logring_append(&r, "before\n", 7);
	hv_logring_append(&r, big, sizeof(big));
	s = read_all(&r, NULL, false);
	ck_assert_str_eq(s, ""); /* no half line, and "before" is long gone */
	free(s);
	hv_logring_append(&r, "ok\n", 3);
	s = read_all(&r, NULL, false);
	ck_assert_str_eq(s, "ok\n");
	free(s);
	hv_logring_fini(&r);
}
END_TEST

/* Text with no newline at all is cut where it must be, keeping the newest bytes. */
START_TEST(text_without_newlines_keeps_newest)
{
	struct hv_logring r;
	char *s;

	ck_assert_int_eq(hv_logring_init(&r, 8), 0);
	hv_logring_append(&r, "abcdef", 6);
	hv_logring_append(&r, "ghij", 4);
	s = read_all(&r, NULL, false);
	ck_assert_str_eq(s, "cdefghij");
	free(s);
	hv_logring_fini(&r);
}
END_TEST

START_TEST(clear_drops_only_what_was_read)
{
	struct hv_logring r;
	uint64_t off = 0, next;
	char buf[64];
	char *s;

	ck_assert_int_eq(hv_logring_init(&r, 64), 0);
	hv_logring_append(&r, "first\n", 6);
	hv_logring_append(&r, "second\n", 7);
	/* Read and clear six bytes; a line logged after that read stays. */
	ck_assert_uint_eq(hv_logring_read(&r, &off, &next, buf, 6, true), 6);
	hv_logring_append(&r, "third\n", 6);
	s = read_all(&r, NULL, false);
	ck_assert_str_eq(s, "second\nthird\n");
	free(s);
	s = read_all(&r, NULL, true); /* dmesg -c */
	ck_assert_str_eq(s, "second\nthird\n");
	free(s);
	s = read_all(&r, NULL, false);
	ck_assert_str_eq(s, "");
	free(s);
	hv_logring_append(&r, "fourth\n", 7);
	s = read_all(&r, NULL, false);
	ck_assert_str_eq(s, "fourth\n");
	free(s);
	hv_logring_fini(&r);
}
END_TEST

#define WRITERS 4
#define LINES 2000

struct writer {
	struct hv_logring *r;
	int id;
};

static void *writer_main(void *arg)
{
	const struct writer *w = arg;
	char line[64];

	for (int i = 0; i < LINES; i++) {
		int n = snprintf(line, sizeof(line), "writer %d line %05d end\n", w->id, i);
		hv_logring_append(w->r, line, (size_t)n);
	}
	return NULL;
}

/* Lines from several threads at once: none lost (the ring holds them all), none torn. */
START_TEST(concurrent_writers_whole_lines)
{
	struct hv_logring r;
	pthread_t t[WRITERS];
	struct writer w[WRITERS];
	int next_line[WRITERS] = { 0 };
	char *s, *line, *save = NULL;
	int total = 0;

	ck_assert_int_eq(hv_logring_init(&r, 1 << 20), 0);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .r = &r, .id = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	s = read_all(&r, NULL, false);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id, n;
		char end[8];

		ck_assert_int_eq(sscanf(line, "writer %d line %d %7s", &id, &n, end), 3);
		ck_assert_str_eq(end, "end");
		ck_assert(id >= 0 && id < WRITERS);
		ck_assert_int_eq(n, next_line[id]); /* each writer's lines in its order */
		next_line[id]++;
		total++;
	}
	ck_assert_int_eq(total, WRITERS * LINES);
	free(s);
	hv_logring_fini(&r);
}
END_TEST

/* A small ring under writers and a clearing reader: every line read is whole. */
static void *small_writer(void *arg)
{
	return writer_main(arg);
}

START_TEST(concurrent_wrap_and_clear)
{
	struct hv_logring r;
	pthread_t t[WRITERS];
	struct writer w[WRITERS];
	bool done = false;
	char buf[512];
	uint64_t off = 0, next;

	ck_assert_int_eq(hv_logring_init(&r, 256), 0);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .r = &r, .id = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, small_writer, &w[i]), 0);
	}
	for (int rounds = 0; !done; rounds++) {
		uint32_t n;

		off = 0; /* from the oldest kept: always a line start */
		n = hv_logring_read(&r, &off, &next, buf, sizeof(buf) - 1, rounds % 2);
		buf[n] = '\0';
		/* Whole lines only: it starts with "writer" and ends with a newline. */
		if (n) {
			ck_assert_int_eq(strncmp(buf, "writer ", 7), 0);
			ck_assert_int_eq(buf[n - 1], '\n');
		}
		done = rounds > 1000;
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	hv_logring_fini(&r);
}
END_TEST

/* hv_log itself feeds the hypervisor's ring, one line per call. */
START_TEST(hv_log_reaches_the_ring)
{
	uint64_t off = 0, next;
	static char buf[SV_HVLOG_BUF];
	uint32_t n;

	hv_log("unit test line %d", 42);
	n = hv_logring_read(&hv_log_ring, &off, &next, buf, sizeof(buf) - 1, false);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, " unit test line 42\n"));
	/* Clearing leaves nothing; the next line is all there is. */
	off = 0;
	while (hv_logring_read(&hv_log_ring, &off, &next, buf, sizeof(buf), true))
		off = next;
	hv_log("after clear");
	off = 0;
	n = hv_logring_read(&hv_log_ring, &off, &next, buf, sizeof(buf) - 1, false);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, " after clear\n"));
	ck_assert_ptr_null(strstr(buf, "unit test line"));
}
END_TEST

static Suite *logring_suite(void)
{
	Suite *s = suite_create("hv_logring");
	TCase *tc = tcase_create("ring");

	tcase_add_test(tc, keeps_what_fits);
	tcase_add_test(tc, wrap_drops_oldest_whole_lines);
	tcase_add_test(tc, old_offset_starts_at_oldest_kept);
	tcase_add_test(tc, line_larger_than_ring_is_dropped);
	tcase_add_test(tc, text_without_newlines_keeps_newest);
	tcase_add_test(tc, clear_drops_only_what_was_read);
	tcase_add_test(tc, concurrent_writers_whole_lines);
	tcase_add_test(tc, concurrent_wrap_and_clear);
	tcase_add_test(tc, hv_log_reaches_the_ring);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(logring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
