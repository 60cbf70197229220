// SPDX-License-Identifier: MIT
// Run-directory helpers of the launcher: paths, the stack lock, socket readiness, the clock.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "svc.h"

int svc_path(char *buf, size_t len, const char *dir, const char *file)
{
	int n = snprintf(buf, len, "%s/%s", dir, file);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int64_t svc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads DIR/splitvisor.pid; 0 when absent or malformed. */
static pid_t svc_read_pid(const char *rundir)
{
	char path[4096], buf[32];
	ssize_t len;
	long v;
	char *end;
	int fd;

	if (svc_path(path, sizeof(path), rundir, SVC_PID_FILE))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || v <= 0 || v > 0x3fffffff)
		return 0;
	return (pid_t)v;
}

/*
 * The supervisor holds an exclusive flock on DIR/splitvisor.lock for its
 * whole life, so the lock (not the pid file, which may be stale) says
 * whether a stack runs.  Probing takes a shared lock for an instant; the
 * supervisor retries its own lock to ride over that.
 */
bool svc_stack_running(const char *rundir, pid_t *pid)
{
	char path[4096];
	bool held = false;
	int fd;

	if (pid)
		*pid = 0;
	if (svc_path(path, sizeof(path), rundir, SVC_LOCK_FILE))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		held = errno == EWOULDBLOCK;
	else
		flock(fd, LOCK_UN);
	close(fd);
	if (held && pid)
		*pid = svc_read_pid(rundir);
	return held;
}
