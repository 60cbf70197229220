// SPDX-License-Identifier: MIT
// Check suite for xs_uring.c: a receive or send the kernel finished but a killed daemon never
// reaped is counted once by the next daemon, from the ring memory the keeper holds.
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../xenstore/xenstored.h"
#include "../../xenstore/xs_sock.h"
#include "../../xenstore/xs_uring.h"
#include "xs_main.h"

#define KEY 7

struct rig {
	struct xs_daemon d;
	struct xs_conn *c;
	int peer; /* the client's end */
};

/* A daemon with a ring and one socket connection over shared buffers; false if no io_uring. */
static bool rig_up(struct rig *r)
{
	struct xs_cbuf cb;
	const char *why;
	int sv[2];

	ck_assert_int_eq(xs_daemon_init(&r->d), 0);
	r->d.epfd = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(r->d.epfd, 0);
	if (xs_uring_open(&r->d, &why)) {
		fprintf(stderr, "test_xs_uring: io_uring unavailable (%s): nothing to test\n", why);
		close(r->d.epfd);
		xs_daemon_fini(&r->d);
		return false;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(xs_cbuf_init_shared(&cb, KEY), 0);
	r->d.next_conn_key = KEY - 1;
	r->c = xs_conn_new_cbuf(&r->d, &xs_sock_ops, NULL, sv[0], 0, false, &cb);
	ck_assert_ptr_nonnull(r->c);
	ck_assert_uint_eq(r->c->key, KEY);
	ck_assert(xs_uring_attach(r->c));
	r->peer = sv[1];
	return true;
}

static void rig_down(struct rig *r)
{
	close(r->peer);
	xs_daemon_fini(&r->d);
	xs_uring_close(&r->d);
	close(r->d.epfd);
}

/* What the keeper would hand the next daemon for the connection. */
static struct xs_kept_fd kept_of(struct rig *r)
{
	return (struct xs_kept_fd){ KEY, -1, dup(r->c->cb.memfd), false };
}

START_TEST(unreaped_receive_is_counted_once)
{
	static const char req[] = "\x02\0\0\0" /* XS_READ */
				  "\x05\0\0\0\0\0\0\0\x03\0\0\0/x";
	struct xs_cbuf_hdr peek;
	struct xs_kept_fd k;
	struct xs_cbuf b;
	struct rig r;
	uint64_t maxp;
	char got[sizeof(req)];
	int ringfd;

	if (!rig_up(&r))
		return;
	ck_assert_int_eq(write(r.peer, req, sizeof(req)), (ssize_t)sizeof(req));
	/* The kernel takes the request into in[]; then the daemon is "killed". */
	ck_assert_int_ge(xs_uring_submit(&r.d), 1);
	ck_assert_int_eq(recv(r.c->fd, got, 1, MSG_DONTWAIT | MSG_PEEK), -1);
	ck_assert_int_eq(errno, EAGAIN); /* gone from the socket */
	ringfd = dup(xs_uring_memfd(&r.d));
	k = kept_of(&r);

	/* The buffers alone do not know the count: only the completion does. */
	ck_assert_int_eq(xs_cbuf_peek(k.cbuf_fd, &peek), 0);
	ck_assert_uint_eq(peek.io_in.pending, 1);
	ck_assert_uint_eq(peek.io_in.mh.msg_len, 0);

	ck_assert_uint_eq(xs_uring_recover(&r.d, ringfd, &k, 1), 1);
	ck_assert_int_eq(xs_cbuf_recover(&b, k.cbuf_fd, KEY, 0, &maxp), 0);
	ck_assert_uint_eq(xs_cbuf_in_avail(&b), sizeof(req));
	xs_cbuf_in_copy(&b, b.h->in_head, got, sizeof(req));
	ck_assert_mem_eq(got, req, sizeof(req));
	/* A second restart applies nothing: the call is finished. */
	ck_assert_uint_eq(xs_uring_recover(&r.d, ringfd, &k, 1), 0);
	xs_cbuf_free(&b);
	close(ringfd);
	rig_down(&r);
}
END_TEST

START_TEST(unreaped_send_is_not_sent_again)
{
	struct xs_kept_fd k;
	struct xs_cbuf b;
	struct rig r;
	uint64_t maxp, queued;
	char got[64];
	int ringfd;

	if (!rig_up(&r))
		return;
	ck_assert_int_eq(xs_conn_send(r.c, XS_READ, 1, 0, "v", 1, NULL, 0), 0);
	queued = xs_conn_unsent(r.c);
	xs_cbuf_mark_pending(&r.c->cb, 1);
	xs_cbuf_mark_committed(&r.c->cb, 1); /* its journal batch is written */
	xs_conn_flush(r.c);
	ck_assert(r.c->ur_send);
	ck_assert_int_ge(xs_uring_submit(&r.d), 1);
	ck_assert_int_eq(recv(r.peer, got, sizeof(got), MSG_DONTWAIT), (ssize_t)queued);
	ringfd = dup(xs_uring_memfd(&r.d));
	k = kept_of(&r);

	ck_assert_uint_ge(xs_uring_recover(&r.d, ringfd, &k, 1), 1);
	ck_assert_int_eq(xs_cbuf_recover(&b, k.cbuf_fd, KEY, 1, &maxp), 0);
	ck_assert_uint_eq(xs_cbuf_out_unsent(&b), 0); /* the client has it once */
	xs_cbuf_free(&b);
	close(ringfd);
	rig_down(&r);
}
END_TEST

START_TEST(garbled_ring_memory_applies_nothing)
{
	struct xs_kept_fd k = { KEY, -1, -1, false };
	struct xs_daemon d;
	int fd = memfd_create("junk", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 65536), 0);
	ck_assert_int_eq(pwrite(fd, "XSURING1-but-wrong", 18, 0), 18);
	memset(&d, 0, sizeof(d));
	ck_assert_uint_eq(xs_uring_recover(&d, fd, &k, 1), 0);
	close(fd);
}
END_TEST

START_TEST(disabled_by_the_environment)
{
	struct xs_daemon d;
	const char *why;

	memset(&d, 0, sizeof(d));
	d.epfd = -1;
	setenv("XENSTORED_IO_URING", "0", 1);
	ck_assert_int_eq(xs_uring_open(&d, &why), -EPERM);
	ck_assert_ptr_null(d.uring);
	ck_assert_str_eq(why, "XENSTORED_IO_URING=0");
	unsetenv("XENSTORED_IO_URING");
}
END_TEST

static Suite *xs_suite(void)
{
	Suite *s = suite_create("xs_uring");
	TCase *t = tcase_create("uring");

	tcase_add_test(t, unreaped_receive_is_counted_once);
	tcase_add_test(t, unreaped_send_is_not_sent_again);
	tcase_add_test(t, garbled_ring_memory_applies_nothing);
	tcase_add_test(t, disabled_by_the_environment);
	suite_add_tcase(s, t);
	return s;
}
