/* SPDX-License-Identifier: MIT */
/* What every dom0 backend daemon shares: its log lines and detaching from the terminal. */
#ifndef SV_DAEMON_H
#define SV_DAEMON_H

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

#endif
