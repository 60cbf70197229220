/* SPDX-License-Identifier: MIT */
/*
 * The daemon skeleton every Splitvisor daemon shares (hypervisor, xenstored,
 * xenconsoled, blkback, netback): the common options, the default run
 * directory, one log line format that keeps errno, detaching with a ready
 * signal, and the signalfd.  Implemented in common/svd.c.
 */
#ifndef SV_DAEMON_H
#define SV_DAEMON_H

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* The one place the default run directory is spelled ($SPLITVISOR_RUNDIR overrides it). */
#define SV_RUNDIR_DEFAULT "/run/splitvisor"

/* $SPLITVISOR_RUNDIR when set and not empty, else SV_RUNDIR_DEFAULT. */
const char *svd_rundir_default(void);

/* The options every daemon takes. */
struct svd_opts {
	const char *rundir; /* --rundir DIR, -r DIR; svd_rundir_default() when not given */
	bool foreground;    /* --foreground, -f, -F (the old short spellings) */
	bool verbose;	    /* --verbose, -v: svd_debug() lines are written too */
};

/*
 * How one daemon parses its command line: name (for messages), its usage
 * text, and optionally options of its own: extra (long options, ended by
 * a zeroed entry), extra_short (their getopt letters) and extra_fn, called
 * with each one's letter and argument; it returns 0, or -1 for a bad value.
 */
struct svd_args {
	const char *name;
	const char *usage;
	const struct option *extra;
	const char *extra_short;
	int (*extra_fn)(int opt, const char *arg, void *ctx);
	void *ctx;
};

/*
 * Parses argv into *o (and the daemon's own options).  0: go on; 1: --help
 * was printed on stdout (exit 0); 2: the usage was printed on stderr after
 * a bad option or an operand (exit 2).  Also sets svd_set_verbose().
 */
int svd_parse_args(const struct svd_args *a, struct svd_opts *o, int argc, char **argv);

/* Names the daemon in each log line ("blkback", ...); call once at start-up. */
void svd_log_name(const char *name);
/* Whether svd_debug() lines are written (--verbose). */
void svd_set_verbose(bool on);
bool svd_verbose(void);

/*
 * One line on stderr: "YYYY-MM-DDTHH:MM:SSZ NAME: message" (thread-safe).
 * errno is the same after the call as before it, and %m in fmt is the
 * caller's errno, so `svd_log("...: %m"); return -errno;` is right.
 */
void svd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As svd_log, with "<fmt>: <strerror(err)>"; err is an errno value, either sign. */
void svd_log_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As svd_log, only with --verbose. */
void svd_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Formats a whole log line (without its newline) into buf; for daemons that write their own file.
 */
void svd_format_line(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * Blocks SIGTERM, SIGINT and SIGHUP, ignores SIGPIPE and returns a
 * non-blocking close-on-exec signalfd for the first three; -errno on failure.
 */
int svd_signalfd(void);

/*
 * The status (and ready) socket: a fresh non-blocking close-on-exec
 * listening UNIX socket at path, mode 0600, replacing a stale one; the
 * supervisor takes the daemon as ready once it accepts.  fd or -errno.
 */
int svd_listen(const char *path, int backlog);
/* Whether a UNIX socket at path accepts connections (a full backlog counts): a live daemon. */
bool svd_sock_live(const char *path);

/*
 * Without --foreground: fork; the child does all the work (libxenstore's
 * threads do not survive a fork) and writes one byte to *notify_fd once it
 * is ready; the parent waits for that byte and gets 1 back with *status
 * for its exit (0 ready, 1 failed).  In the child: 0, in its own session,
 * stderr appended to logpath (unless NULL), stdin/stdout on /dev/null.
 * -errno on failure.
 */
int svd_daemonize(const char *logpath, int *notify_fd, int *status);

/*
 * A daemon's start-up in its stack's run directory: points
 * SPLITVISOR_RUNDIR (and XENSTORED_PATH, unless set) at it and, unless
 * foreground, detaches with DIR/<name>.log as its log.  Returns 0 to go
 * on, 1 in a parent that should exit with *status, -1 after printing why
 * it cannot start.
 */
int svd_start(const char *name, const char *rundir, bool foreground, int *notify_fd, int *status);
/* Once ready: tell a waiting parent (svd_start without foreground), if any. */
void svd_ready(int *notify_fd);

#endif
