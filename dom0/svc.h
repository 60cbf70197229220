// SPDX-License-Identifier: MIT
// Shared declarations of the splitvisor launcher: service table, run-directory files, status file,
// supervisor.
#ifndef SV_DOM0_SVC_H
#define SV_DOM0_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sv/daemon.h"

/*
 * Where an installed splitvisor finds its services, relative to its own
 * folder: `make install` puts splitvisor in PREFIX/sbin and the services
 * (hypervisor, sv-runner, xenstored, ...) in PREFIX/lib/splitvisor.
 */
#define SVC_INSTALLED_BINDIR "../lib/splitvisor"

/* Default run directory when SPLITVISOR_RUNDIR is not set (defined once, in sv/daemon.h). */
#define SVC_DEFAULT_RUNDIR SV_RUNDIR_DEFAULT

/* How long `start` waits for the whole stack, and the supervisor's own
 * (slightly shorter) budget so it reports the guilty service first. */
#define SVC_START_TIMEOUT_MS 20000
#define SVC_SUP_START_BUDGET_MS 18000
/* How long a restarted service may take to accept on its socket. */
#define SVC_READY_TIMEOUT_MS 15000
/* Stop: SIGTERM, then SIGKILL after this long. */
#define SVC_TERM_GRACE_MS 5000
/* How long `stop` waits for the supervisor to be gone. */
#define SVC_STOP_TIMEOUT_MS 15000
/* Restart policy: backoff 100 ms doubling to 2 s; more than
 * SVC_MAX_DEATHS deaths within SVC_DEATH_WINDOW_MS marks a service failed. */
#define SVC_BACKOFF_MIN_MS 100
#define SVC_BACKOFF_MAX_MS 2000
#define SVC_MAX_DEATHS 5
#define SVC_DEATH_WINDOW_MS 30000
/* A service that stayed up this long starts its backoff afresh. */
#define SVC_BACKOFF_RESET_MS 10000

/* Files of one stack inside its run directory. */
#define SVC_LOCK_FILE "splitvisor.lock"
#define SVC_PID_FILE "splitvisor.pid"
#define SVC_LOG_FILE "splitvisor.log"
#define SVC_STATUS_FILE "splitvisor.status"

/* One dom0 service the supervisor runs, started in table order and
 * stopped in reverse order. */
struct svc_desc {
	const char *name;	/* shown in status and logs; log is NAME.log */
	const char *binary;	/* file name in the binary folder */
	const char *ready_sock; /* ready when DIR/ready_sock accepts; NULL: ready once spawned */
	bool required;		/* missing binary or failure stops the stack */
	bool takes_engine;	/* gets --engine=NAME when the stack was given one */
};

extern const struct svc_desc svc_table[];
extern const size_t svc_count;

/* Longest service name and the size of a status table. */
#define SVC_NAME_MAX 32
#define SVC_MAX 16
/* Room for an engine name ("kvm", "process") and its NUL. */
#define SVC_ENGINE_MAX 16

enum svc_state {
	SVC_NOT_INSTALLED, /* binary missing: skipped */
	SVC_STARTING,	   /* spawned, waiting for its socket */
	SVC_RUNNING,	   /* ready */
	SVC_RESTARTING,	   /* died; waiting out its backoff */
	SVC_FAILED,	   /* died too often, or never became ready */
	SVC_STOPPED,	   /* not started (yet) or stopped */
};

/* One service's state as the supervisor publishes it in DIR/splitvisor.status. */
struct svc_status {
	char name[SVC_NAME_MAX];
	enum svc_state state;
	pid_t pid;	       /* > 0 while STARTING or RUNNING */
	unsigned int restarts; /* times it was started again after the first */
	int64_t since_ns;      /* CLOCK_MONOTONIC when the current run began */
	bool required;
};

/* svc_path: DIR/FILE into buf; 0 or -ENAMETOOLONG. */
int svc_path(char *buf, size_t len, const char *dir, const char *file);
/* svc_now_ns: CLOCK_MONOTONIC in nanoseconds. */
int64_t svc_now_ns(void);
/* svc_state_name: short text for a state ("running", "not-installed"...). */
const char *svc_state_name(enum svc_state state);
/* svc_state_parse: inverse of svc_state_name; -EINVAL if unknown. */
int svc_state_parse(const char *text, enum svc_state *state);

/* svc_status_write: replace DIR/splitvisor.status atomically; engine is the
 * one the stack was started with (NULL: the hypervisor's choice); 0 or -errno. */
int svc_status_write(const char *rundir, pid_t sup_pid, const char *engine,
		     const struct svc_status *st, size_t n);
/* svc_status_read: parse it; 0 or -errno (-ENOENT when absent, -EBADMSG when
 * malformed). At most max entries are returned, *n says how many.  engine
 * (SVC_ENGINE_MAX bytes, may be NULL) receives the stack's engine, "" if none. */
int svc_status_read(const char *rundir, pid_t *sup_pid, char *engine, struct svc_status *st,
		    size_t max, size_t *n);

/* svc_stack_running: true while a supervisor holds DIR/splitvisor.lock.
 * If pid is not NULL it receives the pid from DIR/splitvisor.pid (0 if unknown). */
bool svc_stack_running(const char *rundir, pid_t *pid);

/* svc_supervise: the supervisor daemon's body (see svc_supervise.c).
 * engine ("kvm", "process" or NULL: the hypervisor picks) is passed as
 * --engine=NAME to the services that take it.  notify_fd receives progress
 * lines for `start` and is closed once the stack is up. Returns the
 * process exit code. */
int svc_supervise(const char *rundir, const char *bindir, const char *engine, int notify_fd);
/* dom0's xenstore nodes (/local/domain/0/name, domid), as xen-init-dom0 writes them (svc_dom0.c).
 */
int svc_dom0_xenstore(void);

#endif
