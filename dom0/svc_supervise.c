// SPDX-License-Identifier: MIT
// The splitvisor supervisor daemon: starts the dom0 services in order, restarts the ones that die,
// stops them all.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "svc.h"
#include "userdata_links.h"

/*
 * One process, one thread, one poll loop over a signalfd (SIGCHLD, SIGTERM,
 * SIGINT, SIGUSR1) with timeouts for backoffs and readiness polls.  Each
 * service runs in its own process group (so a service's helpers are
 * signalled with it), gets PR_SET_PDEATHSIG so it dies with a killed
 * supervisor, and the supervisor is a child subreaper so that anything a
 * service leaves behind is re-parented here and swept at stop.
 */

enum sup_phase {
	SUP_STARTUP,  /* bringing services up in order; a death fails the start */
	SUP_RUNNING,  /* supervising: deaths are restarted */
	SUP_STOPPING, /* taking services down; deaths are expected */
};

struct sup_svc {
	const struct svc_desc *desc;
	struct svc_status st;
	char binpath[4096];
	int64_t deaths[SVC_MAX_DEATHS + 1]; /* ring of death times (ns) */
	unsigned int ndeaths;		    /* deaths recorded in total */
	int backoff_ms;			    /* next restart delay */
	int64_t restart_at;		    /* RESTARTING: when to spawn again */
	int64_t ready_by;		    /* STARTING: readiness deadline */
	int64_t kill_at;		    /* pending restart: SIGKILL after this, 0: none */
	bool restart_requested;		    /* the next death is a requested restart */
	char last_exit[96];		    /* how it last ended */
};

struct sup {
	const char *rundir;
	const char *bindir;
	const char *engine; /* passed as --engine=NAME; NULL: the hypervisor picks */
	pid_t pid;
	int sigfd;
	int notify_fd; /* pipe to `splitvisor start`, -1 once up */
	int lock_fd;
	enum sup_phase phase;
	bool stop_requested;
	struct sup_svc *startup_death; /* a service that died during startup */
	struct sup_svc svc[SVC_MAX];
	size_t n;
};

/* Log one line with a UTC timestamp to stderr (DIR/splitvisor.log). */
static void __attribute__((format(printf, 1, 2))) sup_log(const char *fmt, ...)
{
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s splitvisor[%d]: ", stamp, (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* Send one protocol line to the waiting `splitvisor start`, if any. */
static void __attribute__((format(printf, 2, 3))) sup_notify(struct sup *sup, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int len;

	if (sup->notify_fd < 0)
		return;
	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* A starter that went away (EPIPE) does not stop the stack. */
	if (write(sup->notify_fd, line, len) < 0)
		sup_log("cannot notify the starter: %s", strerror(errno));
}

static void sup_notify_done(struct sup *sup)
{
	if (sup->notify_fd >= 0)
		close(sup->notify_fd);
	sup->notify_fd = -1;
}

/* Publish every service's state for `splitvisor status`. */
static void sup_publish(struct sup *sup)
{
	struct svc_status st[SVC_MAX];
	size_t i;
	int err;

	for (i = 0; i < sup->n; i++)
		st[i] = sup->svc[i].st;
	err = svc_status_write(sup->rundir, sup->pid, sup->engine, st, sup->n);
	if (err)
		sup_log("cannot write %s/%s: %s", sup->rundir, SVC_STATUS_FILE, strerror(-err));
}

static void sup_describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "ended with wait status 0x%x", status);
}

/* The child side of sup_spawn: never returns. */
static void __attribute__((noreturn)) sup_exec_child(struct sup *sup, struct sup_svc *s)
{
	char logpath[4096], engine[32];
	char *argv[] = { (char *)s->desc->binary, "--rundir", (char *)sup->rundir,
			 "--foreground",	  NULL,	      NULL };
	sigset_t none;
	int fd;

	if (s->desc->takes_engine && sup->engine) {
		snprintf(engine, sizeof(engine), "--engine=%s", sup->engine);
		argv[4] = engine;
	}

	setpgid(0, 0);
	/* Die with the supervisor, even if it is SIGKILLed. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != sup->pid)
		_exit(126);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);

	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		_exit(126);
	if (fd != STDIN_FILENO)
		close(fd);
	if (svc_path(logpath, sizeof(logpath), sup->rundir, s->desc->name) == 0 &&
	    strlen(logpath) + 5 < sizeof(logpath)) {
		strcat(logpath, ".log");
		fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
	}
	dprintf(STDERR_FILENO, "--- splitvisor: starting %s (pid %d) ---\n", s->binpath,
		(int)getpid());
	execv(s->binpath, argv);
	dprintf(STDERR_FILENO, "splitvisor: cannot run %s: %s\n", s->binpath, strerror(errno));
	_exit(127);
}

/* Start one service; its state becomes STARTING (RUNNING if it has no socket). */
static int sup_spawn(struct sup *sup, struct sup_svc *s)
{
	char sock[4096];
	pid_t pid;

	/* We hold the stack lock: any socket file here is stale. */
	if (s->desc->ready_sock &&
	    svc_path(sock, sizeof(sock), sup->rundir, s->desc->ready_sock) == 0)
		unlink(sock);
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		sup_log("cannot fork for %s: %s", s->desc->name, strerror(errno));
		return err;
	}
	if (pid == 0)
		sup_exec_child(sup, s);
	/* Also here, so that a signal to the group cannot race the child. */
	setpgid(pid, pid);
	s->st.pid = pid;
	s->st.since_ns = svc_now_ns();
	s->st.state = s->desc->ready_sock ? SVC_STARTING : SVC_RUNNING;
	s->ready_by = s->st.since_ns + (int64_t)SVC_READY_TIMEOUT_MS * 1000000;
	s->kill_at = 0;
	s->restart_requested = false;
	sup_log("started %s (pid %d)", s->desc->name, (int)pid);
	sup_publish(sup);
	return 0;
}

/* True if more than SVC_MAX_DEATHS deaths (this one included) fell within the window. */
static bool sup_record_death(struct sup_svc *s, int64_t now)
{
	const unsigned int ring = SVC_MAX_DEATHS + 1;
	int64_t oldest;

	s->deaths[s->ndeaths % ring] = now;
	s->ndeaths++;
	if (s->ndeaths < ring)
		return false;
	oldest = s->deaths[s->ndeaths % ring];
	return now - oldest <= (int64_t)SVC_DEATH_WINDOW_MS * 1000000;
}

static void sup_on_death(struct sup *sup, struct sup_svc *s, int status)
{
	int64_t now = svc_now_ns();
	int64_t up_ms = (now - s->st.since_ns) / 1000000;
	pid_t pid = s->st.pid;

	sup_describe_exit(status, s->last_exit, sizeof(s->last_exit));
	s->st.pid = 0;
	s->kill_at = 0;
	/* Whatever it left in its process group goes with it. */
	kill(-pid, SIGKILL);

	if (sup->phase == SUP_STOPPING) {
		sup_log("%s (pid %d) %s", s->desc->name, (int)pid, s->last_exit);
		s->st.state = SVC_STOPPED;
		sup_publish(sup);
		return;
	}
	if (sup->phase == SUP_STARTUP) {
		sup_log("%s (pid %d) %s while starting", s->desc->name, (int)pid, s->last_exit);
		s->st.state = SVC_FAILED;
		if (!sup->startup_death)
			sup->startup_death = s;
		sup_publish(sup);
		return;
	}
	if (s->restart_requested) {
		sup_log("%s (pid %d) %s; restarting it as requested", s->desc->name, (int)pid,
			s->last_exit);
		if (strcmp(s->desc->name, "hypervisor") == 0)
			sup_log(
			    "*** THE HYPERVISOR WAS RESTARTED: every domain it ran is gone. ***");
		s->st.restarts++;
		if (sup_spawn(sup, s) < 0) {
			s->st.state = SVC_RESTARTING;
			s->restart_at = now + (int64_t)s->backoff_ms * 1000000;
		}
		return;
	}

	sup_log("%s (pid %d) died after %lld ms: %s", s->desc->name, (int)pid, (long long)up_ms,
		s->last_exit);
	if (strcmp(s->desc->name, "hypervisor") == 0)
		sup_log("*** THE HYPERVISOR DIED: every domain it ran is gone. "
			"Restarting it with no domains. ***");
	if (sup_record_death(s, now)) {
		sup_log("%s died more than %d times within %d s: marked failed, not restarted "
			"(splitvisor restart-service %s retries)",
			s->desc->name, SVC_MAX_DEATHS, SVC_DEATH_WINDOW_MS / 1000, s->desc->name);
		s->st.state = SVC_FAILED;
		sup_publish(sup);
		return;
	}
	if (up_ms >= SVC_BACKOFF_RESET_MS)
		s->backoff_ms = SVC_BACKOFF_MIN_MS;
	s->st.state = SVC_RESTARTING;
	s->restart_at = now + (int64_t)s->backoff_ms * 1000000;
	sup_log("restarting %s in %d ms", s->desc->name, s->backoff_ms);
	s->backoff_ms *= 2;
	if (s->backoff_ms > SVC_BACKOFF_MAX_MS)
		s->backoff_ms = SVC_BACKOFF_MAX_MS;
	sup_publish(sup);
}

/* Collect every child that ended: services and re-parented orphans. */
static void sup_reap(struct sup *sup)
{
	int status;
	size_t i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < sup->n; i++) {
			if (sup->svc[i].st.pid == pid) {
				sup_on_death(sup, &sup->svc[i], status);
				break;
			}
		}
		if (i == sup->n)
			sup_log("reaped stray process %d", (int)pid);
	}
}

/* Handle a `splitvisor restart-service NAME` request: DIR/NAME.restart + SIGUSR1. */
static void sup_restart_requests(struct sup *sup)
{
	char path[4096], name[SVC_NAME_MAX + 16];
	size_t i;

	for (i = 0; i < sup->n; i++) {
		struct sup_svc *s = &sup->svc[i];

		snprintf(name, sizeof(name), "%s.restart", s->desc->name);
		if (svc_path(path, sizeof(path), sup->rundir, name) || unlink(path) < 0)
			continue;
		sup_log("restart of %s requested", s->desc->name);
		s->ndeaths = 0;
		s->backoff_ms = SVC_BACKOFF_MIN_MS;
		if (s->st.pid > 0) {
			s->restart_requested = true;
			s->kill_at = svc_now_ns() + (int64_t)SVC_TERM_GRACE_MS * 1000000;
			kill(-s->st.pid, SIGTERM);
			continue;
		}
		if (access(s->binpath, X_OK) < 0) {
			sup_log("%s is still not installed (%s: %s)", s->desc->name, s->binpath,
				strerror(errno));
			s->st.state = SVC_NOT_INSTALLED;
			sup_publish(sup);
			continue;
		}
		if (s->st.state != SVC_NOT_INSTALLED)
			s->st.restarts++;
		if (sup_spawn(sup, s) < 0) {
			s->st.state = SVC_RESTARTING;
			s->restart_at = svc_now_ns() + (int64_t)s->backoff_ms * 1000000;
		}
	}
}

/* Wait up to timeout_ms for signals and act on them. */
static void sup_wait(struct sup *sup, int timeout_ms)
{
	struct pollfd pfd = { .fd = sup->sigfd, .events = POLLIN };
	struct signalfd_siginfo si;
	bool chld = false, usr1 = false;

	if (timeout_ms < 0)
		timeout_ms = 0;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return;
	while (read(sup->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			chld = true;
			break;
		case SIGUSR1:
			usr1 = true;
			break;
		case SIGTERM:
		case SIGINT:
		case SIGHUP:
			if (!sup->stop_requested)
				sup_log("stop requested (signal %u from pid %u)", si.ssi_signo,
					si.ssi_pid);
			sup->stop_requested = true;
			break;
		}
	}
	if (chld)
		sup_reap(sup);
	if (usr1 && sup->phase == SUP_RUNNING)
		sup_restart_requests(sup);
}

/*
 * Bring one service up during startup.  0 when ready (or skipped), else -1
 * after telling the starter which service failed and why.
 */
static int sup_start_one(struct sup *sup, struct sup_svc *s, int64_t deadline)
{
	char sock[4096];

	if (access(s->binpath, X_OK) < 0) {
		int err = errno;

		s->st.state = SVC_NOT_INSTALLED;
		sup_publish(sup);
		if (s->desc->required) {
			sup_log("required service %s is missing: %s: %s", s->desc->name, s->binpath,
				strerror(err));
			sup_notify(sup, "fail %s required service %s cannot be run: %s: %s",
				   s->desc->name, s->desc->name, s->binpath, strerror(err));
			return -1;
		}
		sup_log("%s not installed (%s: %s): skipped", s->desc->name, s->binpath,
			strerror(err));
		sup_notify(sup, "progress %s not installed (no %s): skipped", s->desc->name,
			   s->binpath);
		return 0;
	}
	if (sup_spawn(sup, s) < 0) {
		sup_notify(sup, "fail %s cannot fork for %s", s->desc->name, s->desc->name);
		return -1;
	}
	if (!s->desc->ready_sock) {
		sup_notify(sup, "progress %s started (pid %d)", s->desc->name, (int)s->st.pid);
		return 0;
	}
	if (svc_path(sock, sizeof(sock), sup->rundir, s->desc->ready_sock)) {
		sup_notify(sup, "fail %s socket path too long", s->desc->name);
		return -1;
	}
	for (;;) {
		int64_t now;

		if (sup->startup_death) {
			struct sup_svc *d = sup->startup_death;

			sup_notify(sup, "fail %s %s %s before the stack was ready", d->desc->name,
				   d->desc->name, d->last_exit);
			return -1;
		}
		if (svd_sock_live(sock))
			break;
		if (sup->stop_requested) {
			sup_notify(sup, "fail %s stop requested while %s was starting",
				   s->desc->name, s->desc->name);
			return -1;
		}
		now = svc_now_ns();
		if (now >= deadline) {
			sup_log("%s did not accept on %s in time", s->desc->name, sock);
			sup_notify(sup,
				   "fail %s %s (pid %d) did not accept connections on %s in time",
				   s->desc->name, s->desc->name, (int)s->st.pid, sock);
			s->st.state = SVC_FAILED;
			sup_publish(sup);
			return -1;
		}
		sup_wait(sup, 20);
	}
	s->st.state = SVC_RUNNING;
	sup_publish(sup);
	sup_log("%s ready (pid %d)", s->desc->name, (int)s->st.pid);
	sup_notify(sup, "progress %s ready (pid %d)", s->desc->name, (int)s->st.pid);
	return 0;
}

/* Supervise until asked to stop: restarts after backoff, readiness of restarted services. */
static void sup_run(struct sup *sup)
{
	char sock[4096];
	size_t i;

	while (!sup->stop_requested) {
		int64_t now = svc_now_ns();
		int64_t next = now + (int64_t)60000 * 1000000;

		for (i = 0; i < sup->n; i++) {
			struct sup_svc *s = &sup->svc[i];

			if (s->st.state == SVC_RESTARTING && s->restart_at <= now) {
				s->st.restarts++;
				if (sup_spawn(sup, s) < 0) {
					s->restart_at = now + (int64_t)SVC_BACKOFF_MAX_MS * 1000000;
					s->st.state = SVC_RESTARTING;
				}
			}
			if (s->st.state == SVC_STARTING && s->st.pid > 0 &&
			    svc_path(sock, sizeof(sock), sup->rundir, s->desc->ready_sock) == 0) {
				if (svd_sock_live(sock)) {
					s->st.state = SVC_RUNNING;
					sup_log("%s ready (pid %d)", s->desc->name, (int)s->st.pid);
					sup_publish(sup);
				} else if (now >= s->ready_by) {
					sup_log("%s (pid %d) did not accept on %s within %d s: "
						"killing it",
						s->desc->name, (int)s->st.pid, sock,
						SVC_READY_TIMEOUT_MS / 1000);
					kill(-s->st.pid, SIGKILL);
					s->ready_by = now + (int64_t)SVC_READY_TIMEOUT_MS * 1000000;
				}
			}
			if (s->kill_at && s->st.pid > 0 && s->kill_at <= now) {
				sup_log("%s (pid %d) ignored SIGTERM: killing it", s->desc->name,
					(int)s->st.pid);
				kill(-s->st.pid, SIGKILL);
				s->kill_at = 0;
			}

			if (s->st.state == SVC_RESTARTING && s->restart_at < next)
				next = s->restart_at;
			if (s->st.state == SVC_STARTING && now + 50000000 < next)
				next = now + 50000000;
			if (s->kill_at && s->kill_at < next)
				next = s->kill_at;
		}
		sup_wait(sup, (int)((next - now) / 1000000) + 1);
	}
}

/* Kill and reap every child still here: re-parented leftovers of services. */
static void sup_sweep_orphans(struct sup *sup)
{
	int64_t end = svc_now_ns() + 3000000000LL;

	for (;;) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		bool any = false;

		while (d && (de = readdir(d))) {
			char path[300], buf[512], *p;
			ssize_t len;
			int fd, ppid;

			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			len = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (len <= 0)
				continue;
			buf[len] = '\0';
			/* "pid (comm) state ppid ...": comm may hold anything but ')' ends it last.
			 */
			p = strrchr(buf, ')');
			if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1 || ppid != sup->pid)
				continue;
			any = true;
			kill(atoi(de->d_name), SIGKILL);
		}
		if (d)
			closedir(d);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!any || svc_now_ns() > end)
			break;
		usleep(10000);
	}
	if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
		return;
	sup_log("warning: some child processes could not be reaped");
}

/* Remove sockets, pid files and requests left in the run directory. */
static void sup_clean_rundir(struct sup *sup)
{
	DIR *d = opendir(sup->rundir);
	struct dirent *de;
	char path[4096];

	if (!d) {
		sup_log("cannot open %s: %s", sup->rundir, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		bool ours = false;

		if (len > 5 && strcmp(de->d_name + len - 5, ".sock") == 0)
			ours = true;
		if (len > 4 && strcmp(de->d_name + len - 4, ".pid") == 0)
			ours = true;
		if (len > 8 && strcmp(de->d_name + len - 8, ".restart") == 0)
			ours = true;
		if (strcmp(de->d_name, SVC_STATUS_FILE) == 0)
			ours = true;
		if (!ours || svc_path(path, sizeof(path), sup->rundir, de->d_name))
			continue;
		if (unlink(path) < 0 && errno != ENOENT)
			sup_log("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
}

/* Stop services in reverse order: SIGTERM, grace period, SIGKILL. */
static void sup_shutdown(struct sup *sup)
{
	size_t i;
	int n;

	sup->phase = SUP_STOPPING;
	for (i = sup->n; i-- > 0;) {
		struct sup_svc *s = &sup->svc[i];
		int64_t end;

		if (s->st.pid <= 0) {
			if (s->st.state != SVC_NOT_INSTALLED && s->st.state != SVC_FAILED)
				s->st.state = SVC_STOPPED;
			continue;
		}
		sup_log("stopping %s (pid %d)", s->desc->name, (int)s->st.pid);
		kill(-s->st.pid, SIGTERM);
		end = svc_now_ns() + (int64_t)SVC_TERM_GRACE_MS * 1000000;
		while (s->st.pid > 0 && svc_now_ns() < end)
			sup_wait(sup, 50);
		if (s->st.pid > 0) {
			sup_log("%s (pid %d) did not stop within %d s: killing it", s->desc->name,
				(int)s->st.pid, SVC_TERM_GRACE_MS / 1000);
			kill(-s->st.pid, SIGKILL);
			end = svc_now_ns() + 2000000000LL;
			while (s->st.pid > 0 && svc_now_ns() < end)
				sup_wait(sup, 50);
		}
	}
	sup_sweep_orphans(sup);
	n = sv_userdata_sweep(sup->rundir); /* the domains died with the hypervisor */
	if (n)
		sup_log("removed libxl's records of %d domain(s) that ran until the stop", n);
	sup_clean_rundir(sup);
	sup_log("stack stopped");
}

/* Take the stack lock and write the pid file; 0 or -1 (already told). */
static int sup_lock(struct sup *sup)
{
	char path[4096], pidtxt[32];
	int i, fd, len;

	if (svc_path(path, sizeof(path), sup->rundir, SVC_LOCK_FILE)) {
		sup_notify(sup, "error run directory path too long");
		return -1;
	}
	sup->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sup->lock_fd < 0) {
		sup_notify(sup, "error cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	/* Retry a little: `status` may hold a shared lock for an instant. */
	for (i = 0; flock(sup->lock_fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK || i == 20) {
			sup_notify(sup, "error a stack already runs in %s", sup->rundir);
			return -1;
		}
		usleep(10000);
	}
	if (svc_path(path, sizeof(path), sup->rundir, SVC_PID_FILE)) {
		sup_notify(sup, "error run directory path too long");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	len = snprintf(pidtxt, sizeof(pidtxt), "%d\n", (int)sup->pid);
	if (fd < 0 || write(fd, pidtxt, len) != len) {
		sup_notify(sup, "error cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Block the signals the loop reads from its signalfd. */
static int sup_signals(struct sup *sup)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sup->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sup->sigfd < 0)
		return -errno;
	return 0;
}

/* Fill the service slots from the table. */
static int sup_init_services(struct sup *sup)
{
	size_t i;

	if (svc_count > SVC_MAX)
		return -E2BIG;
	sup->n = svc_count;
	for (i = 0; i < svc_count; i++) {
		struct sup_svc *s = &sup->svc[i];

		memset(s, 0, sizeof(*s));
		s->desc = &svc_table[i];
		snprintf(s->st.name, sizeof(s->st.name), "%s", s->desc->name);
		s->st.state = SVC_STOPPED;
		s->st.required = s->desc->required;
		s->backoff_ms = SVC_BACKOFF_MIN_MS;
		if (svc_path(s->binpath, sizeof(s->binpath), sup->bindir, s->desc->binary))
			return -ENAMETOOLONG;
	}
	return 0;
}

int svc_supervise(const char *rundir, const char *bindir, const char *engine, int notify_fd)
{
	struct sup *sup;
	char xs[4096];
	int64_t deadline;
	int err, rc = 1;
	size_t i;

	sup = calloc(1, sizeof(*sup));
	if (!sup) {
		sup_log("out of memory");
		return 1;
	}
	sup->rundir = rundir;
	sup->bindir = bindir;
	sup->engine = engine && *engine ? engine : NULL;
	sup->pid = getpid();
	sup->notify_fd = notify_fd;
	sup->lock_fd = -1;
	sup->sigfd = -1;
	sup->phase = SUP_STARTUP;
	/* Services must not inherit the pipe: `start` waits for its EOF. */
	if (notify_fd >= 0 && fcntl(notify_fd, F_SETFD, FD_CLOEXEC) < 0)
		sup_log("cannot set close-on-exec on the notify pipe: %s", strerror(errno));

	if (sup_lock(sup) < 0)
		goto out_free;
	err = sup_signals(sup);
	if (err) {
		sup_notify(sup, "error cannot set up signals: %s", strerror(-err));
		goto out_free;
	}
	err = sup_init_services(sup);
	if (err) {
		sup_notify(sup, "error bad service table: %s", strerror(-err));
		goto out_free;
	}
	/* Leftovers of a service re-parent to us, not to init. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		sup_log("warning: cannot become a child subreaper: %s", strerror(errno));
	/* Services that are xenstore clients find the store through these. */
	if (svc_path(xs, sizeof(xs), rundir, "xenstored.sock") == 0)
		setenv("XENSTORED_PATH", xs, 1);
	setenv("SPLITVISOR_RUNDIR", rundir, 1);

	sup_log("supervisor started: run directory %s, binaries from %s, engine %s", rundir, bindir,
		sup->engine ? sup->engine : "(the hypervisor's choice)");
	sup_publish(sup);
	deadline = svc_now_ns() + (int64_t)SVC_SUP_START_BUDGET_MS * 1000000;
	for (i = 0; i < sup->n; i++) {
		if (sup_start_one(sup, &sup->svc[i], deadline) < 0) {
			sup_log("start failed: stopping everything");
			sup_shutdown(sup);
			goto out_free;
		}
		if (sup->stop_requested || sup->startup_death)
			break;
	}
	if (sup->startup_death) {
		sup_notify(sup, "fail %s %s %s before the stack was ready",
			   sup->startup_death->desc->name, sup->startup_death->desc->name,
			   sup->startup_death->last_exit);
		sup_shutdown(sup);
		goto out_free;
	}
	if (sup->stop_requested) {
		sup_notify(sup, "error stop requested while the stack was starting");
		sup_shutdown(sup);
		goto out_free;
	}
	sup->phase = SUP_RUNNING;
	err = svc_dom0_xenstore();
	if (err)
		sup_log("warning: cannot write dom0's xenstore nodes: %s", strerror(-err));
	sup_log("stack is up");
	sup_notify(sup, "ready");
	sup_notify_done(sup);
	/* stdin/stdout are not used any more; keep them harmless. */
	sup_run(sup);
	sup_shutdown(sup);
	rc = 0;

out_free:
	sup_notify_done(sup);
	if (sup->sigfd >= 0)
		close(sup->sigfd);
	/* The lock goes last: `stop` waits for it. */
	if (sup->lock_fd >= 0)
		close(sup->lock_fd);
	free(sup);
	return rc;
}
