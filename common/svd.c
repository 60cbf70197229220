// SPDX-License-Identifier: MIT
/* The daemon skeleton: options, log lines, detaching, signals (see include/sv/daemon.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "sv/daemon.h"

static const char *log_name = "daemon"; /* set once by main before any thread starts */
static bool log_verbose;

const char *svd_rundir_default(void)
{
	const char *r = getenv("SPLITVISOR_RUNDIR");

	return r && *r ? r : SV_RUNDIR_DEFAULT;
}

void svd_log_name(const char *name)
{
	log_name = name;
}

void svd_set_verbose(bool on)
{
	log_verbose = on;
}

bool svd_verbose(void)
{
	return log_verbose;
}

void svd_format_line(char *buf, size_t size, const char *fmt, va_list ap)
{
	int saved = errno; /* %m in fmt is the caller's errno, not clock_gettime's */
	char stamp[32] = "";
	struct timespec ts;
	struct tm tm;
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(buf, size, "%s %s: ", stamp, log_name);
	errno = saved;
	if (n > 0 && (size_t)n < size)
		vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	errno = saved;
}

static void log_line(const char *line)
{
	int saved = errno;

	/* One write per line, so lines from several threads never interleave. */
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
	errno = saved;
}

void svd_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	svd_format_line(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_line(line);
}

void svd_log_err(int err, const char *fmt, ...)
{
	int saved = errno;
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errno = saved;
	svd_log("%s: %s", msg, strerror(err < 0 ? -err : err));
	errno = saved;
}

void svd_debug(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	svd_format_line(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_line(line);
}

int svd_parse_args(const struct svd_args *a, struct svd_opts *o, int argc, char **argv)
{
	static const struct option common[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
	};
	const size_t ncommon = sizeof(common) / sizeof(common[0]);
	struct option opts[32];
	char shorts[64];
	size_t n = 0;
	int opt;

	memset(o, 0, sizeof(*o));
	memcpy(opts, common, sizeof(common));
	n = ncommon;
	for (const struct option *e = a->extra; e && e->name && n < 31; e++)
		opts[n++] = *e;
	memset(&opts[n], 0, sizeof(opts[n]));
	snprintf(shorts, sizeof(shorts), "r:fFvh%s", a->extra_short ? a->extra_short : "");
	optind = 0; /* glibc: start afresh, even when called twice (the tests do) */
	opterr = 1;
	while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			o->rundir = optarg;
			break;
		case 'f':
		case 'F':
			o->foreground = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(a->usage, stdout);
			return 1;
		default:
			if (opt != '?' && a->extra_fn && a->extra_fn(opt, optarg, a->ctx) == 0)
				break;
			fputs(a->usage, stderr);
			return 2;
		}
	}
	if (optind != argc || (o->rundir && !*o->rundir)) {
		fputs(a->usage, stderr);
		return 2;
	}
	if (!o->rundir)
		o->rundir = svd_rundir_default();
	svd_set_verbose(o->verbose);
	return 0;
}

int svd_signalfd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int svd_listen(const char *path, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((unlink(path) < 0 && errno != ENOENT) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, backlog) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

bool svd_sock_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	bool live;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	/* A full backlog (EAGAIN) still means someone listens. */
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN;
	close(fd);
	return live;
}

int svd_daemonize(const char *logpath, int *notify_fd, int *status)
{
	int pfd[2], fd;
	pid_t pid;
	char ok;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid > 0) {
		close(pfd[1]);
		*status = read(pfd[0], &ok, 1) == 1 ? 0 : 1;
		close(pfd[0]);
		return 1;
	}
	close(pfd[0]);
	*notify_fd = pfd[1];
	if (setsid() < 0)
		return -errno;
	if (logpath) {
		fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		if (dup2(fd, STDERR_FILENO) < 0) {
			close(fd);
			return -errno;
		}
		close(fd);
	}
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
			svd_log("cannot redirect stdio to /dev/null: %m");
		close(fd);
	}
	return 0;
}

int svd_start(const char *name, const char *rundir, bool foreground, int *notify_fd, int *status)
{
	char xs_path[4200], logpath[4200];
	int ret;

	if (snprintf(xs_path, sizeof(xs_path), "%s/xenstored.sock", rundir) >=
		(int)sizeof(xs_path) ||
	    snprintf(logpath, sizeof(logpath), "%s/%s.log", rundir, name) >= (int)sizeof(logpath)) {
		fprintf(stderr, "%s: run directory path too long\n", name);
		return -1;
	}
	/* --rundir names the stack: the hypervisor socket is found there. */
	if (setenv("SPLITVISOR_RUNDIR", rundir, 1) < 0 ||
	    setenv("XENSTORED_PATH", xs_path, 0) < 0) {
		fprintf(stderr, "%s: setenv: %s\n", name, strerror(errno));
		return -1;
	}
	if (foreground)
		return 0;
	ret = svd_daemonize(logpath, notify_fd, status);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot detach: %s\n", name, strerror(-ret));
		return -1;
	}
	return ret;
}

void svd_ready(int *notify_fd)
{
	if (*notify_fd < 0)
		return;
	if (write(*notify_fd, "r", 1) != 1)
		svd_log("cannot tell the parent we are ready: %m");
	close(*notify_fd);
	*notify_fd = -1;
}
