// SPDX-License-Identifier: MIT
/* The backend daemons' shared log lines and detaching (see include/sv/daemon.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "sv/daemon.h"

static const char *log_name = "daemon"; /* set once by main before any thread starts */

void svd_log_name(const char *name)
{
	log_name = name;
}

void svd_log(const char *fmt, ...)
{
	char line[1024], stamp[32] = "";
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s %s: ", stamp, log_name);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so lines from several threads never interleave. */
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
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
	fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (dup2(fd, STDERR_FILENO) < 0) {
		close(fd);
		return -errno;
	}
	close(fd);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
			svd_log("cannot redirect stdio to /dev/null: %s", strerror(errno));
		close(fd);
	}
	return 0;
}

int svd_start(const char *name, const char *rundir, bool foreground, int *notify_fd, int *status)
{
	char xs_path[4200], logpath[4200];
	int ret;

	if (snprintf(xs_path, sizeof(xs_path), "%s/xenstored.sock", rundir) >= (int)sizeof(xs_path) ||
	    snprintf(logpath, sizeof(logpath), "%s/%s.log", rundir, name) >= (int)sizeof(logpath)) {
		fprintf(stderr, "%s: run directory path too long\n", name);
		return -1;
	}
	/* --rundir names the stack: the hypervisor socket is found there. */
	if (setenv("SPLITVISOR_RUNDIR", rundir, 1) < 0 || setenv("XENSTORED_PATH", xs_path, 0) < 0) {
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
		svd_log("cannot tell the parent we are ready: %s", strerror(errno));
	close(*notify_fd);
	*notify_fd = -1;
}
