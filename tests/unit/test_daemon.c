// SPDX-License-Identifier: MIT
/* Check suite for the daemon skeleton (common/svd.c): options, default run directory,
 * errno-safe logging. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sv/daemon.h"

static const char usage[] =
    "usage: testd [--rundir DIR] [--foreground] [--verbose] [--engine NAME]\n";

struct extra {
	const char *engine;
	int calls;
};

static int extra_fn(int opt, const char *arg, void *ctx)
{
	struct extra *x = ctx;

	x->calls++;
	if (opt != 'e' || !strcmp(arg, "bad"))
		return -1;
	x->engine = arg;
	return 0;
}

static const struct option extra_opts[] = {
	{ "engine", required_argument, NULL, 'e' },
	{ NULL, 0, NULL, 0 },
};

/* Parses a NULL-terminated list, stdout/stderr silenced; returns svd_parse_args' result. */
static int parse(struct svd_opts *o, struct extra *x, const char *const *list)
{
	struct svd_args a = { .name = "testd",
			      .usage = usage,
			      .extra = extra_opts,
			      .extra_short = "e:",
			      .extra_fn = extra_fn,
			      .ctx = x };
	char *argv[16];
	int argc = 0, ret, out, err, null;

	while (list[argc]) {
		argv[argc] = (char *)list[argc];
		argc++;
	}
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	out = dup(1);
	err = dup(2);
	null = open("/dev/null", O_WRONLY);
	dup2(null, 1);
	dup2(null, 2);
	ret = svd_parse_args(&a, o, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
	close(null);
	return ret;
}

START_TEST(defaults)
{
	struct svd_opts o;
	struct extra x = { 0 };
	const char *const argv[] = { "testd", NULL };

	unsetenv("SPLITVISOR_RUNDIR");
	ck_assert_int_eq(parse(&o, &x, argv), 0);
	ck_assert_str_eq(o.rundir, SV_RUNDIR_DEFAULT);
	ck_assert_str_eq(SV_RUNDIR_DEFAULT, "/run/splitvisor");
	ck_assert(!o.foreground);
	ck_assert(!o.verbose);
	ck_assert(!svd_verbose());
	ck_assert_int_eq(x.calls, 0);
}
END_TEST

START_TEST(rundir_from_environment)
{
	struct svd_opts o;
	struct extra x = { 0 };
	const char *const plain[] = { "testd", NULL };
	const char *const given[] = { "testd", "--rundir", "/tmp/given", NULL };

	setenv("SPLITVISOR_RUNDIR", "/tmp/from-env", 1);
	ck_assert_str_eq(svd_rundir_default(), "/tmp/from-env");
	ck_assert_int_eq(parse(&o, &x, plain), 0);
	ck_assert_str_eq(o.rundir, "/tmp/from-env");
	ck_assert_int_eq(parse(&o, &x, given), 0);
	ck_assert_str_eq(o.rundir, "/tmp/given");
	setenv("SPLITVISOR_RUNDIR", "", 1);
	ck_assert_str_eq(svd_rundir_default(), SV_RUNDIR_DEFAULT);
	unsetenv("SPLITVISOR_RUNDIR");
}
END_TEST

START_TEST(long_options)
{
	struct svd_opts o;
	struct extra x = { 0 };
	const char *const argv[] = { "testd",	  "--rundir", "/tmp/a",	 "--foreground",
				     "--verbose", "--engine", "process", NULL };

	ck_assert_int_eq(parse(&o, &x, argv), 0);
	ck_assert_str_eq(o.rundir, "/tmp/a");
	ck_assert(o.foreground);
	ck_assert(o.verbose);
	ck_assert(svd_verbose());
	ck_assert_str_eq(x.engine, "process");
	svd_set_verbose(false);
}
END_TEST

START_TEST(short_aliases)
{
	struct svd_opts o;
	struct extra x = { 0 };
	const char *const lower[] = { "testd", "-r", "/tmp/b", "-f", NULL };
	const char *const upper[] = { "testd", "-F", "-v", "--engine=kvm", NULL };
	const char *const eq[] = { "testd", "--rundir=/tmp/c", NULL };

	ck_assert_int_eq(parse(&o, &x, lower), 0);
	ck_assert_str_eq(o.rundir, "/tmp/b");
	ck_assert(o.foreground);
	ck_assert_int_eq(parse(&o, &x, upper), 0);
	ck_assert(o.foreground); /* xenstored's old -F */
	ck_assert(o.verbose);
	ck_assert_str_eq(x.engine, "kvm");
	ck_assert_int_eq(parse(&o, &x, eq), 0);
	ck_assert_str_eq(o.rundir, "/tmp/c");
	ck_assert(!o.foreground);
	svd_set_verbose(false);
}
END_TEST

START_TEST(bad_arguments)
{
	struct svd_opts o;
	struct extra x = { 0 };
	const char *const unknown[] = { "testd", "--bogus", NULL };
	const char *const operand[] = { "testd", "stray", NULL };
	const char *const missing[] = { "testd", "--rundir", NULL };
	const char *const empty[] = { "testd", "--rundir", "", NULL };
	const char *const badval[] = { "testd", "--engine", "bad", NULL };
	const char *const help[] = { "testd", "--help", NULL };

	ck_assert_int_eq(parse(&o, &x, unknown), 2);
	ck_assert_int_eq(parse(&o, &x, operand), 2);
	ck_assert_int_eq(parse(&o, &x, missing), 2);
	ck_assert_int_eq(parse(&o, &x, empty), 2);
	ck_assert_int_eq(parse(&o, &x, badval), 2);
	ck_assert_int_eq(parse(&o, &x, help), 1);
}
END_TEST

/* Captures stderr in a pipe around fn, returns what was written. */
static char captured[4096];

static void capture_begin(int *saved, int p[2])
{
	ck_assert_int_eq(pipe(p), 0);
	fflush(stderr);
	*saved = dup(2);
	dup2(p[1], 2);
}

static const char *capture_end(int saved, int p[2])
{
	ssize_t n;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	n = read(p[0], captured, sizeof(captured) - 1);
	close(p[0]);
	captured[n > 0 ? n : 0] = '\0';
	return captured;
}

START_TEST(log_keeps_errno)
{
	int saved, p[2];
	const char *out;

	svd_log_name("testd");
	capture_begin(&saved, p);
	errno = ENOENT;
	svd_log("opening %s: %m", "/nowhere");
	ck_assert_int_eq(errno, ENOENT);
	errno = EACCES;
	svd_log_err(-EPIPE, "writing %d", 3);
	ck_assert_int_eq(errno, EACCES);
	errno = EBUSY;
	svd_debug("not shown without --verbose");
	ck_assert_int_eq(errno, EBUSY);
	out = capture_end(saved, p);
	ck_assert_msg(strstr(out, "testd: opening /nowhere: No such file or directory\n"), "%s",
		      out);
	ck_assert_msg(strstr(out, "testd: writing 3: Broken pipe\n"), "%s", out);
	ck_assert_ptr_null(strstr(out, "not shown"));
}
END_TEST

START_TEST(log_line_format)
{
	int saved, p[2];
	const char *out;
	int year, mon, day, h, m, s;
	char name[32], rest[64];

	svd_log_name("testd");
	svd_set_verbose(true);
	capture_begin(&saved, p);
	errno = 0;
	svd_debug("detail %u", 7u);
	out = capture_end(saved, p);
	svd_set_verbose(false);
	ck_assert_int_eq(sscanf(out, "%4d-%2d-%2dT%2d:%2d:%2dZ %31s %63[^\n]", &year, &mon, &day,
				&h, &m, &s, name, rest),
			 8);
	ck_assert_str_eq(name, "testd:");
	ck_assert_str_eq(rest, "detail 7");
}
END_TEST

/* svd_sock_live: true while a daemon listens at the path, false for a stale or missing socket. */
START_TEST(sock_live_only_while_listening)
{
	char dir[] = "/tmp/test_daemon.XXXXXX", path[64];
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/d.sock", dir);
	ck_assert(!svd_sock_live(path));
	fd = svd_listen(path, 4);
	ck_assert_int_ge(fd, 0);
	ck_assert(svd_sock_live(path));
	close(fd); /* the file stays: a stale socket */
	ck_assert(!svd_sock_live(path));
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("skeleton");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, rundir_from_environment);
	tcase_add_test(tc, long_options);
	tcase_add_test(tc, short_aliases);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, log_keeps_errno);
	tcase_add_test(tc, log_line_format);
	tcase_add_test(tc, sock_live_only_while_listening);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(daemon_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
