// SPDX-License-Identifier: MIT
/* Check suite for dom0/lib/evtchn.c (libxenevtchn) against a fake hypervisor in a thread. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xentoollog.h>
#include "../fakes/fakehv.h"

static char rundir[64];
static struct fakehv *hv;

static void setup(void)
{
	strcpy(rundir, "/tmp/svxen-evtchn-XXXXXX");
	hv = fakehv_start_private(rundir);
	ck_assert_ptr_nonnull(hv);
}

static void teardown(void)
{
	fakehv_stop_private(hv, rundir);
	hv = NULL;
}

/* The next port within timeout_ms, or -1 when none came. */
static int pending_within(xenevtchn_handle *x, int timeout_ms)
{
	struct pollfd p = { .fd = xenevtchn_fd(x), .events = POLLIN };

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return xenevtchn_pending(x);
}

static void set_nonblock(xenevtchn_handle *x)
{
	int fd = xenevtchn_fd(x);

	ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

START_TEST(open_without_hypervisor_fails)
{
	char path[128];

	fakehv_stop(hv);
	hv = NULL;
	snprintf(path, sizeof(path), "%s/hypervisor.sock", rundir);
	unlink(path);
	errno = 0;
	ck_assert_ptr_null(xenevtchn_open(NULL, 0));
	ck_assert(errno == ENOENT || errno == ECONNREFUSED);
}
END_TEST

static unsigned log_calls;
static void count_vmessage(struct xentoollog_logger *lg, xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
{
	log_calls++;
}

START_TEST(open_failure_goes_to_logger_only)
{
	struct xentoollog_logger lg = { .vmessage = count_vmessage };

	setenv("SPLITVISOR_RUNDIR", "/nonexistent-svxen", 1);
	log_calls = 0;
	ck_assert_ptr_null(xenevtchn_open(&lg, 0));
	ck_assert_int_eq(log_calls, 1);
}
END_TEST

START_TEST(loop_between_two_handles)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa, pb;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	pa = xenevtchn_bind_unbound_port(a, 0);
	ck_assert_int_gt(pa, 0);
	pb = xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);
	ck_assert_int_gt(pb, 0);
	ck_assert_int_ne(pa, pb);

	ck_assert_int_eq(xenevtchn_notify(a, (evtchn_port_t)pa), 0);
	ck_assert_int_eq(pending_within(b, 2000), pb);
	ck_assert_int_eq(xenevtchn_unmask(b, (evtchn_port_t)pb), 0);
	ck_assert_int_eq(xenevtchn_notify(b, (evtchn_port_t)pb), 0);
	ck_assert_int_eq(pending_within(a, 2000), pa);
	ck_assert_int_eq(xenevtchn_unmask(a, (evtchn_port_t)pa), 0);
	/* Nothing else is queued. */
	ck_assert_int_eq(pending_within(a, 50), -1);
	ck_assert_int_eq(pending_within(b, 50), -1);

	ck_assert_int_eq(xenevtchn_unbind(b, (evtchn_port_t)pb), 0);
	ck_assert_int_eq(xenevtchn_unbind(a, (evtchn_port_t)pa), 0);
	ck_assert_int_eq(xenevtchn_close(a), 0);
	ck_assert_int_eq(xenevtchn_close(b), 0);
}
END_TEST

START_TEST(fired_port_stays_masked_until_unmask)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa = xenevtchn_bind_unbound_port(a, 0);
	int pb = xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);

	ck_assert_int_gt(pb, 0);
	ck_assert_int_eq(xenevtchn_notify(a, (evtchn_port_t)pa), 0);
	ck_assert_int_eq(xenevtchn_notify(a, (evtchn_port_t)pa), 0);
	ck_assert_int_eq(xenevtchn_notify(a, (evtchn_port_t)pa), 0);
	ck_assert_int_eq(pending_within(b, 2000), pb);
	ck_assert(fakehv_wait_noreply(hv, 3, 2000));
	ck_assert_int_eq(pending_within(b, 50), -1);
	/* The events that came while masked show up once after the unmask. */
	ck_assert_int_eq(xenevtchn_unmask(b, (evtchn_port_t)pb), 0);
	ck_assert_int_eq(pending_within(b, 2000), pb);
	ck_assert_int_eq(pending_within(b, 50), -1);
	xenevtchn_close(a);
	xenevtchn_close(b);
}
END_TEST

START_TEST(pending_nonblocking_says_eagain)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0);

	ck_assert_ptr_nonnull(a);
	set_nonblock(a);
	errno = 0;
	ck_assert_int_eq(xenevtchn_pending(a), -1);
	ck_assert_int_eq(errno, EAGAIN);
	xenevtchn_close(a);
}
END_TEST

START_TEST(bad_binds_give_errno)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0);

	ck_assert_ptr_nonnull(a);
	errno = 0;
	ck_assert_int_eq(xenevtchn_bind_interdomain(a, 0, 60), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(xenevtchn_bind_interdomain(a, 77, 1), -1);
	ck_assert_int_eq(errno, ESRCH);
	errno = 0;
	ck_assert_int_eq(xenevtchn_bind_unbound_port(a, 77), -1);
	ck_assert_int_eq(errno, ESRCH);
	errno = 0;
	ck_assert_int_eq(xenevtchn_bind_virq(a, 9999), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(xenevtchn_unbind(a, 5), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(xenevtchn_restrict(a, 1), -1);
	ck_assert_int_eq(errno, ENOSYS);
	xenevtchn_close(a);
}
END_TEST

START_TEST(other_handles_ports_are_not_ours)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa = xenevtchn_bind_unbound_port(a, 0);

	ck_assert_int_gt(pa, 0);
	errno = 0;
	ck_assert_int_eq(xenevtchn_unbind(b, (evtchn_port_t)pa), -1);
	ck_assert_int_eq(errno, EINVAL);
	xenevtchn_close(a);
	xenevtchn_close(b);
}
END_TEST

START_TEST(close_frees_ports)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa = xenevtchn_bind_unbound_port(a, 0), pb;

	ck_assert_int_gt(pa, 0);
	xenevtchn_close(a);
	/* The close is seen by the server asynchronously: retry briefly. */
	for (int i = 0; i < 200; i++) {
		pb = xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);
		if (pb < 0)
			break;
		xenevtchn_unbind(b, (evtchn_port_t)pb);
		usleep(10000);
	}
	ck_assert_int_eq(pb, -1);
	ck_assert_int_eq(errno, EINVAL);
	/* The freed port number can be bound again. */
	a = xenevtchn_open(NULL, 0);
	ck_assert_int_eq(xenevtchn_bind_unbound_port(a, 0), pa);
	xenevtchn_close(a);
	xenevtchn_close(b);
}
END_TEST

START_TEST(unbind_leaves_peer_unbound)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa = xenevtchn_bind_unbound_port(a, 0);
	int pb = xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);

	ck_assert_int_gt(pb, 0);
	ck_assert_int_eq(xenevtchn_unbind(b, (evtchn_port_t)pb), 0);
	pb = xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);
	ck_assert_int_gt(pb, 0);
	xenevtchn_close(a);
	xenevtchn_close(b);
}
END_TEST

START_TEST(virq_fires)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0);
	int p = xenevtchn_bind_virq(a, VIRQ_DOM_EXC);

	ck_assert_int_gt(p, 0);
	errno = 0;
	ck_assert_int_eq(xenevtchn_bind_virq(a, VIRQ_DOM_EXC), -1);
	ck_assert_int_eq(errno, EEXIST);
	fakehv_fire_virq(hv, VIRQ_DOM_EXC);
	ck_assert_int_eq(pending_within(a, 2000), p);
	ck_assert_int_eq(xenevtchn_unmask(a, (evtchn_port_t)p), 0);
	fakehv_fire_virq(hv, VIRQ_DOM_EXC);
	ck_assert_int_eq(pending_within(a, 2000), p);
	xenevtchn_close(a);
}
END_TEST

START_TEST(notify_bad_port_is_oneway)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0);

	/* One-way: the call succeeds, the hypervisor only logs it. */
	ck_assert_int_eq(xenevtchn_notify(a, 42), 0);
	ck_assert(fakehv_wait_noreply(hv, 1, 2000));
	ck_assert_int_eq(fakehv_noreply_errors(hv), 1);
	/* The stream is still in step. */
	ck_assert_int_gt(xenevtchn_bind_unbound_port(a, 0), 0);
	xenevtchn_close(a);
}
END_TEST

START_TEST(hypervisor_gone_gives_epipe)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0);
	int p = xenevtchn_bind_unbound_port(a, 0);

	ck_assert_int_gt(p, 0);
	fakehv_stop(hv);
	hv = NULL;
	errno = 0;
	ck_assert_int_eq(xenevtchn_bind_unbound_port(a, 0), -1);
	ck_assert(errno == EPIPE || errno == ECONNRESET);
	errno = 0;
	ck_assert_int_eq(xenevtchn_notify(a, (evtchn_port_t)p), -1);
	ck_assert(errno == EPIPE || errno == ECONNRESET);
	errno = 0;
	ck_assert_int_eq(xenevtchn_pending(a), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(xenevtchn_close(a), 0);
}
END_TEST

START_TEST(no_cloexec_flag)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0),
			 *b = xenevtchn_open(NULL, XENEVTCHN_NO_CLOEXEC);

	ck_assert_int_ne(fcntl(xenevtchn_fd(a), F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(fcntl(xenevtchn_fd(b), F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_ptr_null(xenevtchn_fdopen(NULL, xenevtchn_fd(b), 0));
	ck_assert_int_eq(errno, EOPNOTSUPP);
	xenevtchn_close(a);
	xenevtchn_close(b);
}
END_TEST

#define NOTIFY_THREADS 4
#define NOTIFY_EACH 500
struct notifier {
	xenevtchn_handle *x;
	int port;
};

static void *notify_loop(void *arg)
{
	struct notifier *n = arg;

	for (int i = 0; i < NOTIFY_EACH; i++)
		if (xenevtchn_notify(n->x, (evtchn_port_t)n->port))
			return (void *)1;
	return NULL;
}

START_TEST(notify_from_many_threads)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
	int pa = xenevtchn_bind_unbound_port(a, 0);
	int pb = xenevtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);
	struct notifier n = { a, pa };
	pthread_t t[NOTIFY_THREADS];
	void *rv;

	ck_assert_int_gt(pb, 0);
	for (int i = 0; i < NOTIFY_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, notify_loop, &n), 0);
	/* Binds interleave with the notifies on the same socket. */
	for (int i = 0; i < 20; i++) {
		int p = xenevtchn_bind_unbound_port(a, 0);

		ck_assert_int_gt(p, 0);
		ck_assert_int_eq(xenevtchn_unbind(a, (evtchn_port_t)p), 0);
	}
	for (int i = 0; i < NOTIFY_THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rv), 0);
		ck_assert_ptr_null(rv);
	}
	ck_assert(fakehv_wait_noreply(hv, NOTIFY_THREADS * NOTIFY_EACH, 5000));
	ck_assert_int_eq(fakehv_noreply_errors(hv), 0);
	ck_assert_int_eq(pending_within(b, 2000), pb);
	xenevtchn_close(a);
	xenevtchn_close(b);
}
END_TEST

static Suite *evtchn_suite(void)
{
	Suite *s = suite_create("xenevtchn");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, open_without_hypervisor_fails);
	tcase_add_test(tc, open_failure_goes_to_logger_only);
	tcase_add_test(tc, loop_between_two_handles);
	tcase_add_test(tc, fired_port_stays_masked_until_unmask);
	tcase_add_test(tc, pending_nonblocking_says_eagain);
	tcase_add_test(tc, bad_binds_give_errno);
	tcase_add_test(tc, other_handles_ports_are_not_ours);
	tcase_add_test(tc, close_frees_ports);
	tcase_add_test(tc, unbind_leaves_peer_unbound);
	tcase_add_test(tc, virq_fires);
	tcase_add_test(tc, notify_bad_port_is_oneway);
	tcase_add_test(tc, hypervisor_gone_gives_epipe);
	tcase_add_test(tc, no_cloexec_flag);
	tcase_add_test(tc, notify_from_many_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(evtchn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
