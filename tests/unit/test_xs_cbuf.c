// SPDX-License-Identifier: MIT
// Check suite for xs_cbuf.c: connection buffers in a memfd and how a restart rolls them back to the
// journal.
#include <check.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../../xenstore/xs_cbuf.h"
#include "xs_main.h"

/* Simulates a crash: the daemon's mapping goes, the memfd (the keeper's) stays. */
static int crash(struct xs_cbuf *b)
{
	int fd = dup(b->memfd);

	ck_assert_int_ge(fd, 0);
	xs_cbuf_free(b);
	return fd;
}

/* "Receives" @s into in[] as a socket read would. */
static void receive(struct xs_cbuf *b, const char *s)
{
	struct iovec iov[2];
	size_t n = strlen(s), first;
	int k = xs_cbuf_in_space(b, iov);

	ck_assert_int_gt(k, 0);
	first = iov[0].iov_len < n ? iov[0].iov_len : n;
	memcpy(iov[0].iov_base, s, first);
	if (n > first)
		memcpy(iov[1].iov_base, s + first, n - first);
	b->h->in_tail += n;
}

START_TEST(committed_output_survives_uncommitted_rolls_back)
{
	struct xs_cbuf b, r;
	uint64_t maxp;
	char got[8];
	int fd;

	ck_assert_int_eq(xs_cbuf_init_shared(&b, 9), 0);
	receive(&b, "AAAABBBB");
	b.h->in_head += 4; /* request A handled */
	ck_assert_int_eq(xs_cbuf_out_put(&b, "ra", 2), 0);
	xs_cbuf_mark_pending(&b, 1);
	xs_cbuf_mark_committed(&b, 1); /* its journal batch written */
	b.h->in_head += 4;	       /* B handled, not committed */
	ck_assert_int_eq(xs_cbuf_out_put(&b, "rb", 2), 0);
	fd = crash(&b);

	ck_assert_int_eq(xs_cbuf_recover(&r, fd, 9, 0, &maxp), 0);
	ck_assert_uint_eq(xs_cbuf_out_unsent(&r), 2); /* "ra" only */
	ck_assert_uint_eq(xs_cbuf_in_avail(&r), 4);   /* B again */
	xs_cbuf_in_copy(&r, r.h->in_head, got, 4);
	ck_assert_mem_eq(got, "BBBB", 4);
	xs_cbuf_free(&r);
}
END_TEST

START_TEST(journal_pass_commits_a_pending_mark)
{
	struct xs_cbuf b, r;
	uint64_t maxp;
	int fd;

	ck_assert_int_eq(xs_cbuf_init_shared(&b, 3), 0);
	receive(&b, "AAAA");
	b.h->in_head += 4;
	ck_assert_int_eq(xs_cbuf_out_put(&b, "ra", 2), 0);
	xs_cbuf_mark_pending(&b, 7);
	/* Killed after the journal write, before the commit mark. */
	fd = crash(&b);
	ck_assert_int_eq(xs_cbuf_recover(&r, fd, 3, 7, &maxp), 0);
	ck_assert_uint_eq(xs_cbuf_in_avail(&r), 0);
	ck_assert_uint_eq(xs_cbuf_out_unsent(&r), 2);
	ck_assert_uint_ge(maxp, 7);
	xs_cbuf_free(&r);
}
END_TEST

START_TEST(torn_pending_mark_uses_the_last_done)
{
	struct xs_cbuf b, r;
	uint64_t maxp;
	int fd;

	ck_assert_int_eq(xs_cbuf_init_shared(&b, 3), 0);
	receive(&b, "AAAA");
	b.h->in_head += 4;
	ck_assert_int_eq(xs_cbuf_out_put(&b, "ra", 2), 0);
	xs_cbuf_mark_pending(&b, 7);
	b.h->pend.pass = XS_CBUF_NO_PASS; /* killed while rewriting it */
	fd = crash(&b);
	ck_assert_int_eq(xs_cbuf_recover(&r, fd, 3, 100, &maxp), 0);
	ck_assert_uint_eq(xs_cbuf_in_avail(&r), 4); /* handled again */
	ck_assert_uint_eq(xs_cbuf_out_unsent(&r), 0);
	xs_cbuf_free(&r);
}
END_TEST

START_TEST(kernel_count_of_an_interrupted_send_is_kept)
{
	struct xs_cbuf b, r;
	uint64_t maxp;
	int fd;

	ck_assert_int_eq(xs_cbuf_init_shared(&b, 4), 0);
	ck_assert_int_eq(xs_cbuf_out_put(&b, "0123456789", 10), 0);
	xs_cbuf_mark_pending(&b, 1);
	xs_cbuf_mark_committed(&b, 1);
	/* sendmmsg stored 6 in msg_len; killed before out_sent moved. */
	b.h->io_out.from = 0;
	b.h->io_out.pending = 1;
	b.h->io_out.mh.msg_len = 6;
	fd = crash(&b);
	ck_assert_int_eq(xs_cbuf_recover(&r, fd, 4, 0, &maxp), 0);
	ck_assert_uint_eq(r.h->out_sent, 6);
	ck_assert_uint_eq(xs_cbuf_out_unsent(&r), 4);
	xs_cbuf_free(&r);
}
END_TEST

START_TEST(wraps_without_moving_bytes)
{
	struct xs_cbuf b;
	struct iovec iov[2];
	static char big[XS_CBUF_OUT_SIZE / 2 + 1];

	ck_assert_int_eq(xs_cbuf_init_heap(&b), 0);
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(xs_cbuf_out_put(&b, big, sizeof(big)), 0);
	b.h->out_sent += sizeof(big) - 1; /* all but one byte sent */
	ck_assert_int_eq(xs_cbuf_out_put(&b, big, sizeof(big)), 0);
	ck_assert_int_eq(xs_cbuf_out_data(&b, iov), 2);
	ck_assert_uint_eq(iov[0].iov_len + iov[1].iov_len, sizeof(big) + 1);
	/* Full: what does not fit is refused, nothing is overwritten. */
	ck_assert_int_eq(xs_cbuf_out_put(&b, big, sizeof(big)), -ENOSPC);
	xs_cbuf_free(&b);
}
END_TEST

START_TEST(foreign_or_garbled_buffers_refused)
{
	struct xs_cbuf b, r;
	uint64_t maxp;
	int fd;

	ck_assert_int_eq(xs_cbuf_init_shared(&b, 5), 0);
	b.h->in_head = b.h->in_tail + 1;
	fd = crash(&b);
	ck_assert_int_eq(xs_cbuf_recover(&r, fd, 5, 0, &maxp), -EINVAL);
	ck_assert_int_eq(xs_cbuf_recover(&r, fd, 6, 0, &maxp), -EINVAL);
	close(fd);
}
END_TEST

static Suite *xs_suite(void)
{
	Suite *s = suite_create("xs_cbuf");
	TCase *t = tcase_create("cbuf");

	tcase_add_test(t, committed_output_survives_uncommitted_rolls_back);
	tcase_add_test(t, journal_pass_commits_a_pending_mark);
	tcase_add_test(t, torn_pending_mark_uses_the_last_done);
	tcase_add_test(t, kernel_count_of_an_interrupted_send_is_kept);
	tcase_add_test(t, wraps_without_moving_bytes);
	tcase_add_test(t, foreign_or_garbled_buffers_refused);
	suite_add_tcase(s, t);
	return s;
}
