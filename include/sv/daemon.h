/* SPDX-License-Identifier: MIT */
/* What every dom0 backend daemon shares: its log lines and detaching from the terminal. */
#ifndef SV_DAEMON_H
#define SV_DAEMON_H

#include <stdbool.h>

/* Names the daemon in each log line ("blkback", ...); call once at start-up. */
void svd_log_name(const char *name);
/* One line on stderr: a UTC time stamp, the daemon's name, the message (thread-safe). */
void svd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Without --foreground: fork; the child does all the work (libxenstore's
 * threads do not survive a fork) and writes one byte to *notify_fd once it
 * is ready; the parent waits for that byte and gets 1 back with *status
 * for its exit (0 ready, 1 failed).  In the child: 0, in its own session,
 * stderr appended to logpath, stdin/stdout on /dev/null.  -errno on failure.
 */
int svd_daemonize(const char *logpath, int *notify_fd, int *status);

/*
 * A backend's start-up in its stack's run directory: points
 * SPLITVISOR_RUNDIR (and XENSTORED_PATH, unless set) at it and, unless
 * foreground, detaches with DIR/<name>.log as its log.  Returns 0 to go
 * on, 1 in a parent that should exit with *status, -1 after printing why
 * it cannot start.
 */
int svd_start(const char *name, const char *rundir, bool foreground, int *notify_fd, int *status);
/* Once ready: tell a waiting parent (svd_start without foreground), if any. */
void svd_ready(int *notify_fd);

#endif
