// SPDX-License-Identifier: MIT
/* Check suite for backends/console/cons_domain.c and cons_client.c: the data plane and clients, on
 * the in-process fake of the Xen libraries (tests/fakes/fakexen_libs.c) and an in-memory console
 * page. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../backends/console/cons_daemon.h"
#include "../fakes/fakexen_libs.h"

/* The console page the guest shares: what the fake maps for every domain. */
static struct xencons_interface *fake_page;

static struct cons_daemon dd;
static char tmpdir[] = "/tmp/consoled-test.XXXXXX";
static char logpath[512];

/* The guest writes into out[]. */
static void guest_put(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fake_page->out[MASK_XENCONS_IDX(fake_page->out_prod + i, fake_page->out)] = s[i];
	fake_page->out_prod += (uint32_t)len;
}

/* The guest takes everything from in[]. */
static size_t guest_take(char *dst, size_t cap)
{
	size_t n = 0;

	while (fake_page->in_cons != fake_page->in_prod && n < cap)
		dst[n++] = fake_page->in[MASK_XENCONS_IDX(fake_page->in_cons++, fake_page->in)];
	return n;
}

static void setup(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(&dd, 0, sizeof(dd));
	fake_page = calloc(1, sizeof(*fake_page));
	ck_assert_ptr_nonnull(fake_page);
	fx_fmem_page = fake_page;
	fx_notifies = fx_fmem_maps = fx_fmem_unmaps = fx_binds = fx_unbinds = 0;
	fx_fmem_fails = false;
	strcpy(tmpdir, "/tmp/consoled-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dd.console_dir, sizeof(dd.console_dir), "%s", tmpdir);
	snprintf(dd.sock_path, sizeof(dd.sock_path), "%s/s.sock", tmpdir);
	snprintf(logpath, sizeof(logpath), "%s/guest-web.log", tmpdir);
	sv_list_init(&dd.domains);
	sv_list_init(&dd.pending);
	sv_list_init(&dd.dead);
	dd.epfd = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(dd.epfd, 0);
	strcpy(sa.sun_path, dd.sock_path);
	dd.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(dd.lfd, 0);
	ck_assert_int_eq(bind(dd.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(dd.lfd, 16), 0);
}

static void teardown(void)
{
	struct sv_list *pos, *tmp;
	char cmd[600];

	sv_list_for_each_safe(pos, tmp, &dd.pending)
	    cons_client_kill(sv_container_of(pos, struct cons_client, link));
	sv_list_for_each_safe(pos, tmp, &dd.domains)
	    cons_domain_free(sv_container_of(pos, struct cons_domain, link), "test over");
	cons_client_reap(&dd);
	close(dd.lfd);
	close(dd.epfd);
	free(fake_page);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A client connected and accepted: returns the test's end, *c the daemon's. */
static int client_new(struct cons_client **c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, dd.sock_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cons_client_accept(&dd);
	ck_assert(!sv_list_empty(&dd.pending));
	*c = sv_container_of(dd.pending.prev, struct cons_client, link);
	return fd;
}

/* Everything readable now on FD (non-blocking), NUL-terminated. */
static size_t drain(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < cap && (r = recv(fd, buf + n, cap - 1 - n, MSG_DONTWAIT)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return n;
}

static struct cons_domain *domain_up(uint32_t domid)
{
	struct cons_domain *dom = cons_domain_new(&dd, domid, "web", 0x45, 2);

	ck_assert_ptr_nonnull(dom);
	ck_assert_int_eq(cons_domain_connect(dom), 0);
	return dom;
}

START_TEST(connect_takes_early_output)
{
	char buf[256];
	struct cons_domain *dom;
	FILE *f;
	size_t n;

	guest_put("before-connect\n", 15);
	dom = domain_up(5);
	ck_assert_uint_eq(fake_page->out_cons, 15);
	ck_assert_int_eq(fx_notifies, 1);
	ck_assert_uint_eq(cons_buf_len(&dom->history), 15);
	f = fopen(logpath, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_str_eq(buf, "before-connect\n");
}
END_TEST

START_TEST(log_timestamps_start_each_line)
{
	char buf[256], *l1, *l2;
	FILE *f;
	size_t n;

	dd.log_timestamps = true;
	guest_put("one\ntw", 6);
	domain_up(5);
	guest_put("o\n", 2);
	fx_pending_port = 45;
	ck_assert_int_eq(cons_domain_handle_evtchn(&dd), 0);
	f = fopen(logpath, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	/* "[YYYY-MM-DD HH:MM:SS] one\n[YYYY-MM-DD HH:MM:SS] two\n" */
	ck_assert_uint_eq(n, 2 * 22 + 8);
	l1 = buf;
	l2 = strchr(buf, '\n') + 1;
	ck_assert(l1[0] == '[' && l1[20] == ']' && l1[21] == ' ');
	ck_assert_mem_eq(l1 + 22, "one\n", 4);
	ck_assert(l2[0] == '[' && l2[20] == ']');
	ck_assert_str_eq(l2 + 22, "two\n");
	dd.log_timestamps = false;
}
END_TEST

START_TEST(map_failure_leaves_domain_unconnected)
{
	struct cons_domain *dom = cons_domain_new(&dd, 6, "web", 0x45, 2);

	fx_fmem_fails = true;
	ck_assert_int_lt(cons_domain_connect(dom), 0);
	ck_assert_ptr_null(dom->intf);
	ck_assert_int_eq(dom->local_port, -1);
	ck_assert_int_eq(fx_binds, 0);
}
END_TEST

START_TEST(attach_gets_history_then_live)
{
	struct cons_client *c;
	char buf[4096];
	int fd;

	domain_up(5);
	guest_put("old line\n", 9);
	fx_pending_port = 45;
	ck_assert_int_eq(cons_domain_handle_evtchn(&dd), 0);
	fd = client_new(&c);
	ck_assert_int_eq(send(fd, "attach 5\n", 9, 0), 9);
	cons_client_handle(c, EPOLLIN);
	drain(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "ok\nold line\n");
	guest_put("new line\n", 9);
	fx_pending_port = 45;
	ck_assert_int_eq(cons_domain_handle_evtchn(&dd), 0);
	drain(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "new line\n");
	close(fd);
}
END_TEST

START_TEST(refusal_and_unknown_domain)
{
	struct cons_client *c;
	char buf[256];
	int fd;

	fd = client_new(&c);
	ck_assert_int_eq(send(fd, "attach 9\n", 9, 0), 9);
	cons_client_handle(c, EPOLLIN);
	drain(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "error no such domain or it has no console\n");
	/* Our side is shut: the client reads end of stream. */
	ck_assert_int_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(fd);
	cons_client_handle(c, EPOLLIN | EPOLLHUP);
	ck_assert(c->dead);
	cons_client_reap(&dd);

	fd = client_new(&c);
	ck_assert_int_eq(send(fd, "frob\n", 5, 0), 5);
	cons_client_handle(c, EPOLLIN);
	drain(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "error unknown request (expected: attach <domid>)\n");
	close(fd);
}
END_TEST

START_TEST(input_reaches_ring_with_backpressure)
{
	struct cons_client *c;
	static char big[6000], got[8192];
	char buf[256];
	size_t total = 0;
	int fd;

	memset(big, 'i', sizeof(big));
	domain_up(5);
	fd = client_new(&c);
	ck_assert_int_eq(send(fd, "attach 5\nab", 11, 0), 11);
	cons_client_handle(c, EPOLLIN);
	drain(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "ok\n");
	ck_assert_uint_eq(fake_page->in_prod, 2); /* bytes after the line */
	ck_assert_int_eq(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	for (int i = 0; i < 4; i++)
		cons_client_handle(c, EPOLLIN);
	/* in[] full (1024) and the 4 KiB queue full: reading paused. */
	ck_assert_uint_eq(fake_page->in_prod, CONS_RING_IN_SIZE);
	ck_assert_uint_eq(cons_buf_len(&c->dom->input), CONS_INPUT_SIZE);
	ck_assert_uint_eq(c->events & EPOLLIN, 0);
	/* The guest consumes and notifies: more flows, reading resumes. */
	while (total < sizeof(big) + 2) {
		size_t n = guest_take(got, sizeof(got));

		ck_assert_uint_gt(n, 0);
		total += n;
		fx_pending_port = 45;
		ck_assert_int_eq(cons_domain_handle_evtchn(&dd), 0);
		if (c->events & EPOLLIN)
			cons_client_handle(c, EPOLLIN);
	}
	ck_assert_uint_eq(total, sizeof(big) + 2);
	ck_assert_uint_ne(c->events & EPOLLIN, 0);
	close(fd);
}
END_TEST

START_TEST(stalled_client_loses_output_others_do_not)
{
	struct cons_client *slow, *fast;
	static char chunk[2000], buf[1 << 16];
	int sfd, ffd, sz = 4096;
	size_t fast_got = 0;

	memset(chunk, 'o', sizeof(chunk));
	domain_up(5);
	sfd = client_new(&slow);
	ck_assert_int_eq(setsockopt(slow->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	ck_assert_int_eq(send(sfd, "attach 5\n", 9, 0), 9);
	cons_client_handle(slow, EPOLLIN);
	ffd = client_new(&fast);
	ck_assert_int_eq(send(ffd, "attach 5\n", 9, 0), 9);
	cons_client_handle(fast, EPOLLIN);
	fast_got = drain(ffd, buf, sizeof(buf)) - 3;
	for (int i = 0; i < 200; i++) {
		guest_put(chunk, sizeof(chunk));
		fx_pending_port = 45;
		ck_assert_int_eq(cons_domain_handle_evtchn(&dd), 0);
		/* The guest is never held up: out[] is always emptied. */
		ck_assert_uint_eq(fake_page->out_cons, fake_page->out_prod);
		fast_got += drain(ffd, buf, sizeof(buf));
	}
	ck_assert_uint_eq(fast_got, 200 * sizeof(chunk));
	ck_assert_uint_gt(slow->dropped, 0);
	ck_assert_uint_eq(cons_buf_len(&slow->out), CONS_CLIENT_OUT_SIZE);
	ck_assert(!slow->dead);
	close(sfd);
	close(ffd);
}
END_TEST

START_TEST(rogue_ring_disables_and_closes_clients)
{
	struct cons_client *c;
	struct cons_domain *dom, *other;
	char buf[256];
	int fd;

	dom = domain_up(5);
	other = cons_domain_new(&dd, 7, "other", 0x45, 2);
	ck_assert_ptr_nonnull(other);
	fd = client_new(&c);
	ck_assert_int_eq(send(fd, "attach 5\n", 9, 0), 9);
	cons_client_handle(c, EPOLLIN);
	drain(fd, buf, sizeof(buf));
	fake_page->out_prod = fake_page->out_cons + CONS_RING_OUT_SIZE + 1;
	fx_pending_port = 45;
	ck_assert_int_eq(cons_domain_handle_evtchn(&dd), 0);
	ck_assert(dom->disabled);
	ck_assert_ptr_null(dom->intf);
	ck_assert_int_eq(fx_unbinds, 1);
	ck_assert_int_eq(fx_fmem_unmaps, 1);
	ck_assert(c->dead);
	ck_assert(!other->disabled);
	ck_assert_int_eq(recv(fd, buf, sizeof(buf), 0), 0); /* closed */
	close(fd);
	/* New attaches are refused with the reason. */
	fd = client_new(&c);
	ck_assert_int_eq(send(fd, "attach 5\n", 9, 0), 9);
	cons_client_handle(c, EPOLLIN);
	drain(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "error console of this domain is disabled (rogue ring)\n");
	close(fd);
	/* New keys bring it back. */
	fake_page->out_prod = fake_page->out_cons;
	ck_assert_int_eq(cons_domain_reconnect(dom, 0x46, 3), 0);
	ck_assert(!dom->disabled);
	ck_assert_ptr_nonnull(dom->intf);
}
END_TEST

START_TEST(rogue_input_ring_disables)
{
	struct cons_client *c;
	struct cons_domain *dom;
	char buf[64];
	int fd;

	dom = domain_up(5);
	fd = client_new(&c);
	fake_page->in_cons = fake_page->in_prod + 2000;
	ck_assert_int_eq(send(fd, "attach 5\nx", 10, 0), 10);
	cons_client_handle(c, EPOLLIN);
	drain(fd, buf, sizeof(buf));
	ck_assert(dom->disabled);
	ck_assert(c->dead);
	close(fd);
}
END_TEST

/* Random byte soups as requests: each client gets one reply line or is cut off. */
START_TEST(hostile_clients_random_requests)
{
	unsigned int seed = 4242;
	int oks = 0, errors = 0;

	domain_up(5);
	for (int i = 0; i < 300; i++) {
		struct cons_client *c;
		char req[200], buf[CONS_HISTORY_SIZE + 64];
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(req)) + 1;
		int fd = client_new(&c);

		for (size_t j = 0; j < len; j++)
			req[j] = (rand_r(&seed) % 3) ? "attch 0123456789\n"[rand_r(&seed) % 17]
						     : (char)rand_r(&seed);
		if (i % 7 == 0)
			memcpy(req, "attach 5\n", len < 9 ? len : 9);
		ck_assert_int_eq(send(fd, req, len, 0), (ssize_t)len);
		for (int k = 0; k < 4 && !c->dead; k++)
			cons_client_handle(c, EPOLLIN);
		drain(fd, buf, sizeof(buf));
		if (!strncmp(buf, "ok\n", 3))
			oks++;
		else if (!strncmp(buf, "error ", 6))
			errors++;
		else
			ck_assert_msg(buf[0] == '\0', "unexpected reply '%.40s'", buf);
		close(fd);
		if (!c->dead)
			cons_client_handle(c, EPOLLIN | EPOLLHUP);
		ck_assert(c->dead);
		cons_client_reap(&dd);
	}
	ck_assert_int_gt(oks, 0);
	ck_assert_int_gt(errors, 0);
}
END_TEST

START_TEST(names_are_safe_file_names)
{
	char out[CONS_NAME_MAX + 1];

	cons_domain_sanitise_name(out, sizeof(out), "web-1.example_x", 3);
	ck_assert_str_eq(out, "web-1.example_x");
	cons_domain_sanitise_name(out, sizeof(out), "../../etc/passwd", 3);
	ck_assert_ptr_null(strchr(out, '/'));
	cons_domain_sanitise_name(out, sizeof(out), "..", 3);
	ck_assert_str_eq(out, "dom3");
	cons_domain_sanitise_name(out, sizeof(out), "", 4);
	ck_assert_str_eq(out, "dom4");
	cons_domain_sanitise_name(out, sizeof(out), NULL, 5);
	ck_assert_str_eq(out, "dom5");
	cons_domain_sanitise_name(
	    out, sizeof(out),
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 6);
	ck_assert_uint_eq(strlen(out), CONS_NAME_MAX);
}
END_TEST

/* Fills out[] and kicks the daemon, rounds times; returns how many bytes the daemon took. */
static uint64_t guest_flood(struct cons_domain *dom, unsigned rounds)
{
	static char chunk[2048];
	uint64_t taken = 0;

	memset(chunk, 'f', sizeof(chunk));
	chunk[sizeof(chunk) - 1] = '\n';
	for (unsigned i = 0; i < rounds; i++) {
		uint32_t before = fake_page->out_cons;
		size_t space = sizeof(fake_page->out) - (fake_page->out_prod - fake_page->out_cons);

		guest_put(chunk, space);
		cons_domain_service(dom);
		taken += fake_page->out_cons - before;
	}
	return taken;
}

/*
 * A guest writing 8 MiB of output as fast as it can: xenconsoled takes the
 * burst and then the rate (the guest waits for ring space), so neither its
 * log nor the daemon's time is the guest's to take.  The bound allows
 * over 100 s of wall clock at the default rate.
 */
START_TEST(output_flood_is_rate_limited)
{
	struct cons_domain *dom = domain_up(5);
	struct stat st;
	uint64_t taken = guest_flood(dom, 4096); /* up to 8 MiB */

	ck_assert_uint_le(taken, 8u << 20 >> 1);
	ck_assert_int_eq(stat(logpath, &st), 0);
	ck_assert_int_le(st.st_size, 8 << 20 >> 1);
}
END_TEST

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

/*
 * On a clock the test moves: the burst, then nothing until the rate
 * allows (the guest waits, nothing is lost), a wake-up time for the main
 * loop, and the rest read when it comes.
 */
START_TEST(throttled_output_waits_and_resumes)
{
	struct cons_domain *dom;
	uint64_t taken;

	fake_now = 1000000000ULL;
	dd.clock = fake_clock;
	dd.out_rate = 4096;
	dd.out_burst = 8192;
	dom = domain_up(5);
	ck_assert_int_eq(cons_domain_timeout_ms(&dd), -1);
	taken = guest_flood(dom, 10);
	ck_assert_uint_eq(taken, 8192);
	ck_assert(dom->throttled);
	ck_assert_uint_eq(fake_page->out_prod - fake_page->out_cons, 2048); /* still there */
	/* 1024 bytes at 4096/s: a quarter of a second. */
	ck_assert_int_eq(cons_domain_timeout_ms(&dd), 250);
	fake_now += 100000000ULL;
	cons_domain_service_throttled(&dd);
	ck_assert_uint_eq(fake_page->out_prod - fake_page->out_cons, 2048);
	fake_now += 150000000ULL;
	ck_assert_int_eq(cons_domain_timeout_ms(&dd), 0);
	cons_domain_service_throttled(&dd);
	ck_assert_uint_eq(fake_page->out_prod - fake_page->out_cons, 1024);
	fake_now += 10 * 1000000000ULL;
	cons_domain_service_throttled(&dd);
	ck_assert_uint_eq(fake_page->out_prod, fake_page->out_cons);
	ck_assert(!dom->throttled);
	ck_assert_int_eq(cons_domain_timeout_ms(&dd), -1);
}
END_TEST

/* A guest flooding its console does not hold up another guest's output. */
START_TEST(flooding_guest_does_not_stall_others)
{
	struct xencons_interface *quiet_page = calloc(1, sizeof(*quiet_page)), *flood_page;
	struct cons_domain *flood, *quiet;
	char buf[64];
	FILE *f;
	size_t n;

	fake_now = 1;
	dd.clock = fake_clock;
	flood = domain_up(5);
	flood_page = fake_page;
	guest_flood(flood, 1000);
	ck_assert(flood->throttled);
	fake_page = fx_fmem_page = quiet_page;
	quiet = cons_domain_new(&dd, 6, "quiet", 0x46, 3);
	ck_assert_ptr_nonnull(quiet);
	guest_put("hello\n", 6);
	ck_assert_int_eq(cons_domain_connect(quiet), 0);
	ck_assert_uint_eq(quiet_page->out_cons, 6);
	snprintf(buf, sizeof(buf), "%s/guest-quiet.log", tmpdir);
	f = fopen(buf, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_str_eq(buf, "hello\n");
	cons_domain_free(quiet, "test");
	fake_page = fx_fmem_page = flood_page;
	free(quiet_page);
}
END_TEST

/* The log becomes guest-NAME.log.1 at its cap; neither file grows past it. */
START_TEST(log_rotates_at_its_cap)
{
	char old[600];
	struct stat st;
	struct cons_domain *dom;

	fake_now = 1;
	dd.clock = fake_clock;
	dd.log_max = 10000;
	dom = domain_up(5);
	guest_flood(dom, 12); /* 24 KiB */
	snprintf(old, sizeof(old), "%s.1", logpath);
	ck_assert_int_eq(stat(logpath, &st), 0);
	ck_assert_int_le(st.st_size, 10000);
	ck_assert_int_gt(st.st_size, 0);
	ck_assert_int_eq(stat(old, &st), 0);
	ck_assert_int_le(st.st_size, 10000);
	ck_assert_int_gt(st.st_size, 0);
}
END_TEST

static Suite *domain_suite(void)
{
	Suite *s = suite_create("consoled_domain");
	TCase *tc = tcase_create("domain");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, connect_takes_early_output);
	tcase_add_test(tc, log_timestamps_start_each_line);
	tcase_add_test(tc, map_failure_leaves_domain_unconnected);
	tcase_add_test(tc, attach_gets_history_then_live);
	tcase_add_test(tc, refusal_and_unknown_domain);
	tcase_add_test(tc, input_reaches_ring_with_backpressure);
	tcase_add_test(tc, stalled_client_loses_output_others_do_not);
	tcase_add_test(tc, rogue_ring_disables_and_closes_clients);
	tcase_add_test(tc, rogue_input_ring_disables);
	tcase_add_test(tc, hostile_clients_random_requests);
	tcase_add_test(tc, names_are_safe_file_names);
	tcase_add_test(tc, output_flood_is_rate_limited);
	tcase_add_test(tc, throttled_output_waits_and_resumes);
	tcase_add_test(tc, flooding_guest_does_not_stall_others);
	tcase_add_test(tc, log_rotates_at_its_cap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(domain_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
