// SPDX-License-Identifier: MIT
// splitvisor: the command that starts, stops and reports on one host stack (hypervisor and dom0
// services).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "svc.h"

/* Longest socket file name a service may create in the run directory. */
#define SV_SOCK_NAME_RESERVE 24

static void sv_usage(FILE *out)
{
	fprintf(out,
		"usage: splitvisor COMMAND\n"
		"\n"
		"Starts and supervises one Splitvisor host stack (the hypervisor and the\n"
		"dom0 services) whose sockets, pid files and logs live in one run directory:\n"
		"$SPLITVISOR_RUNDIR, default " SVC_DEFAULT_RUNDIR ".\n"
		"\n"
		"commands:\n"
		"  start [--engine=kvm|process]\n"
		"                         start the stack; print SPLITVISOR_RUNDIR=...,\n"
		"                         XENSTORED_PATH=... and (for Xen's own tools)\n"
		"                         LD_LIBRARY_PATH=... on stdout once it is ready;\n"
		"                         --engine picks the engine that runs domains\n"
		"                         (default: kvm when /dev/kvm works, else process)\n"
		"  stop                   stop the stack and every process it started\n"
		"  status                 one line per service; exit 0 when all required\n"
		"                         services run, 1 when one does not, 3 when no stack runs\n"
		"  restart-service NAME   restart one service (also retries a failed one)\n"
		"  supervise [--rundir DIR] [--bindir DIR] [--engine NAME] [--notify-fd N]\n"
		"                         run the supervisor in the foreground (start uses this)\n"
		"  --help                 this text\n"
		"\n"
		"environment:\n"
		"  SPLITVISOR_RUNDIR      run directory (default " SVC_DEFAULT_RUNDIR ")\n"
		"  SPLITVISOR_BINDIR      where service binaries are (default: beside splitvisor,\n"
		"                         else ../lib/splitvisor from it, as installed)\n"
		"  SPLITVISOR_ENGINE      engine when start has no --engine (kvm or process)\n");
}

/* The engines the hypervisor takes with --engine=NAME (DESIGN.md, "Engines"). */
static const char *const sv_engines[] = { "kvm", "process" };

/*
 * Checks an engine name from --engine or $SPLITVISOR_ENGINE; 0, or -EINVAL
 * after a message.  *out is the name (NULL: none given, the hypervisor picks).
 */
static int sv_engine_arg(const char *name, const char **out)
{
	size_t i;

	*out = NULL;
	if (!name) {
		name = getenv("SPLITVISOR_ENGINE");
		if (!name || !*name)
			return 0;
	}
	for (i = 0; i < sizeof(sv_engines) / sizeof(sv_engines[0]); i++) {
		if (strcmp(name, sv_engines[i]) == 0) {
			*out = sv_engines[i];
			return 0;
		}
	}
	fprintf(stderr, "splitvisor: unknown engine '%s' (kvm, process)\n", name);
	return -EINVAL;
}

/*
 * Takes `--engine=NAME` or `--engine NAME` at argv[*i], setting *name and
 * moving *i past a separate value.  1 when argv[*i] was one, 0 when it is
 * something else, -EINVAL (after a message) when the value is missing.
 */
static int sv_engine_opt(int argc, char **argv, int *i, const char **name)
{
	const char *arg = argv[*i];

	if (strncmp(arg, "--engine=", 9) == 0) {
		*name = arg + 9;
		return 1;
	}
	if (strcmp(arg, "--engine") != 0)
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "splitvisor: --engine needs a value (kvm, process)\n");
		return -EINVAL;
	}
	*name = argv[++*i];
	return 1;
}

static const char *sv_rundir_env(void)
{
	const char *dir = getenv("SPLITVISOR_RUNDIR");

	return dir && *dir ? dir : SVC_DEFAULT_RUNDIR;
}

/* mkdir -p, the last component 0700; 0 or -errno with *failed naming the path. */
static int sv_mkdirs(const char *dir, char *failed, size_t len)
{
	char path[PATH_MAX];
	struct stat sb;
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		if (path[i] == '/' && path[i - 1] == '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, i == n ? 0700 : 0755) < 0 && errno != EEXIST) {
			snprintf(failed, len, "%s", path);
			return -errno;
		}
		if (i != n)
			path[i] = '/';
	}
	if (stat(dir, &sb) < 0) {
		snprintf(failed, len, "%s", dir);
		return -errno;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(failed, len, "%s", dir);
		return -ENOTDIR;
	}
	return 0;
}

/* Canonical absolute run directory (created when create is set); 0 or 1 after an error message. */
static int sv_rundir(char *out, bool create)
{
	const char *dir = sv_rundir_env();
	struct sockaddr_un sa;
	char failed[PATH_MAX];
	int err;

	if (create) {
		err = sv_mkdirs(dir, failed, sizeof(failed));
		if (err) {
			fprintf(stderr, "splitvisor: cannot create %s: %s\n", failed,
				strerror(-err));
			return 1;
		}
	}
	if (!realpath(dir, out)) {
		if (errno == ENOENT && !create) {
			/* Not there: nothing runs; keep the name as given. */
			snprintf(out, PATH_MAX, "%s", dir);
			return 0;
		}
		fprintf(stderr, "splitvisor: cannot resolve %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (strlen(out) + 1 + SV_SOCK_NAME_RESERVE >= sizeof(sa.sun_path)) {
		fprintf(stderr,
			"splitvisor: run directory %s is too long: socket paths in it must "
			"stay under %zu bytes\n",
			out, sizeof(sa.sun_path));
		return 1;
	}
	return 0;
}

/* True when DIR holds an executable hypervisor (the one required service). */
static bool sv_has_hypervisor(const char *dir)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/hypervisor", dir);
	return access(path, X_OK) == 0;
}

/*
 * Service binaries: $SPLITVISOR_BINDIR, else the folder of this executable
 * (the build tree), else SVC_INSTALLED_BINDIR relative to it (installed).
 */
static int sv_bindir(char *out)
{
	const char *env = getenv("SPLITVISOR_BINDIR");
	char self[PATH_MAX];
	ssize_t len;
	char *slash;

	if (env && *env) {
		if (!realpath(env, out)) {
			fprintf(stderr, "splitvisor: SPLITVISOR_BINDIR=%s: %s\n", env,
				strerror(errno));
			return 1;
		}
		return 0;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0) {
		fprintf(stderr, "splitvisor: cannot find my own binary (/proc/self/exe): %s\n",
			strerror(errno));
		return 1;
	}
	self[len] = '\0';
	slash = strrchr(self, '/');
	if (!slash) {
		fprintf(stderr, "splitvisor: odd path for my own binary: %s\n", self);
		return 1;
	}
	*slash = '\0';
	snprintf(out, PATH_MAX, "%s", self[0] ? self : "/");
	/* Installed: splitvisor in PREFIX/sbin, the services in PREFIX/lib/splitvisor. */
	if (!sv_has_hypervisor(out)) {
		char alt[PATH_MAX + sizeof(SVC_INSTALLED_BINDIR) + 1], real[PATH_MAX];

		snprintf(alt, sizeof(alt), "%s/%s", self, SVC_INSTALLED_BINDIR);
		if (sv_has_hypervisor(alt) && realpath(alt, real))
			snprintf(out, PATH_MAX, "%s", real);
	}
	return 0;
}

/* Print the last lines of a log to stderr, indented. */
static void sv_tail(const char *path, int lines)
{
	char buf[8192];
	ssize_t len;
	off_t size;
	char *p;
	int fd, seen = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "splitvisor: (no log: %s: %s)\n", path, strerror(errno));
		return;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		size = 0;
	if (size > (off_t)sizeof(buf) - 1)
		lseek(fd, size - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0) {
		fprintf(stderr, "splitvisor: (%s is empty)\n", path);
		return;
	}
	buf[len] = '\0';
	if (buf[len - 1] == '\n')
		buf[--len] = '\0';
	for (p = buf + len; p > buf; p--) {
		if (p[-1] == '\n' && ++seen == lines)
			break;
	}
	fprintf(stderr, "splitvisor: last lines of %s:\n", path);
	while (*p) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		fprintf(stderr, "    %s\n", p);
		if (!nl)
			break;
		p = nl + 1;
	}
}

static void sv_tail_file(const char *rundir, const char *name, const char *suffix)
{
	char file[128], path[PATH_MAX];

	snprintf(file, sizeof(file), "%s%s", name, suffix);
	if (svc_path(path, sizeof(path), rundir, file) == 0)
		sv_tail(path, 20);
}

/*
 * Fork and exec `splitvisor supervise` as a session leader logging to
 * DIR/splitvisor.log; engine (NULL: the hypervisor picks) goes with it.
 */
static pid_t sv_spawn_supervisor(const char *rundir, const char *bindir, const char *engine,
				 int notify[2])
{
	char logpath[PATH_MAX], fdtxt[16];
	char *argv[] = { "splitvisor", "supervise",    "--rundir",    (char *)rundir,
			 "--bindir",   (char *)bindir, "--notify-fd", fdtxt,
			 NULL,	       NULL,	       NULL };
	pid_t pid;
	int fd;

	if (svc_path(logpath, sizeof(logpath), rundir, SVC_LOG_FILE))
		return -1;
	pid = fork();
	if (pid != 0)
		return pid;

	close(notify[0]);
	setsid();
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
		dprintf(notify[1], "error cannot open %s: %s\n", logpath, strerror(errno));
		_exit(1);
	}
	if (fcntl(notify[1], F_SETFD, 0) < 0) {
		dprintf(notify[1], "error cannot pass the notify pipe: %s\n", strerror(errno));
		_exit(1);
	}
	snprintf(fdtxt, sizeof(fdtxt), "%d", notify[1]);
	if (engine) {
		argv[8] = "--engine";
		argv[9] = (char *)engine;
	}
	execv("/proc/self/exe", argv);
	dprintf(notify[1], "error cannot run the supervisor (/proc/self/exe): %s\n",
		strerror(errno));
	_exit(1);
}

/* Wait until the notify pipe closes (the supervisor exited), at most ms. */
static void sv_wait_eof(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t end = svc_now_ns() + (int64_t)ms * 1000000;
	char buf[512];

	while (svc_now_ns() < end) {
		int left = (int)((end - svc_now_ns()) / 1000000) + 1;

		if (poll(&pfd, 1, left) <= 0)
			continue;
		if (read(fd, buf, sizeof(buf)) <= 0)
			return;
	}
}

/* Bounded string copy that always terminates (and may truncate). */
static void sv_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Outcome of reading the supervisor's notify lines. */
struct sv_start_result {
	bool ready;
	bool failed;
	char service[SVC_NAME_MAX];
	char reason[1024];
};

/* Act on one notify line; true when the start is decided. */
static bool sv_start_line(char *line, struct sv_start_result *res, bool *dots)
{
	if (*dots) {
		fputc('\n', stderr);
		*dots = false;
	}
	if (strcmp(line, "ready") == 0) {
		res->ready = true;
		return true;
	}
	if (strncmp(line, "progress ", 9) == 0) {
		fprintf(stderr, "splitvisor: %s\n", line + 9);
		return false;
	}
	if (strncmp(line, "fail ", 5) == 0) {
		char *sp = strchr(line + 5, ' ');

		res->failed = true;
		if (sp)
			*sp = '\0';
		sv_copy(res->service, sizeof(res->service), line + 5);
		sv_copy(res->reason, sizeof(res->reason), sp ? sp + 1 : "failed");
		return true;
	}
	res->failed = true;
	sv_copy(res->reason, sizeof(res->reason),
		strncmp(line, "error ", 6) == 0 ? line + 6 : line);
	return true;
}

/* Read notify lines until ready, failure, EOF or timeout; 0, or -ETIMEDOUT / -EPIPE. */
static int sv_start_wait(int fd, struct sv_start_result *res)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t end = svc_now_ns() + (int64_t)SVC_START_TIMEOUT_MS * 1000000;
	char buf[4096];
	size_t used = 0;
	bool dots = false;

	for (;;) {
		int64_t now = svc_now_ns();
		char *nl;
		ssize_t len;
		int r;

		if (now >= end)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, 1000);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0) {
			fputc('.', stderr);
			dots = true;
			continue;
		}
		len = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0) {
			if (dots)
				fputc('\n', stderr);
			return -EPIPE;
		}
		used += len;
		buf[used] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (sv_start_line(buf, res, &dots))
				return 0;
			used -= nl + 1 - buf;
			memmove(buf, nl + 1, used + 1);
		}
		if (used == sizeof(buf) - 1)
			used = 0; /* an absurd line: drop it */
	}
}

/*
 * The folder of our libxencall.so.1 and friends (Xen's sonames over the
 * control socket), with which Debian's own Xen tools reach this stack:
 * BINDIR/../lib/xen in the build tree, BINDIR/xen when installed (BINDIR
 * is then PREFIX/lib/splitvisor).  false when neither has them.
 */
static bool sv_xen_libdir(const char *bindir, char *out)
{
	static const char *const rel[] = { "../lib/xen", "xen" };
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s/libxencall.so.1", bindir, rel[i]);
		if (access(path, R_OK) == 0 && realpath(path, out)) {
			*strrchr(out, '/') = '\0';
			return true;
		}
	}
	return false;
}

static int sv_cmd_start(int argc, char **argv)
{
	char rundir[PATH_MAX], bindir[PATH_MAX], libdir[PATH_MAX];
	struct sv_start_result res = { 0 };
	const char *name = NULL, *engine;
	int notify[2], err, i;
	pid_t pid, other;

	for (i = 0; i < argc; i++) {
		err = sv_engine_opt(argc, argv, &i, &name);
		if (err < 0)
			return 2;
		if (err == 0) {
			fprintf(stderr,
				"splitvisor: start: unknown argument '%s' "
				"(splitvisor --help lists them)\n",
				argv[i]);
			return 2;
		}
	}
	if (sv_engine_arg(name, &engine))
		return 2;
	if (sv_rundir(rundir, true) || sv_bindir(bindir))
		return 1;
	if (svc_stack_running(rundir, &other)) {
		fprintf(stderr,
			"splitvisor: a stack already runs in %s (supervisor pid %d); "
			"'splitvisor stop' stops it\n",
			rundir, (int)other);
		return 1;
	}
	if (pipe2(notify, O_CLOEXEC) < 0) {
		fprintf(stderr, "splitvisor: cannot create a pipe: %s\n", strerror(errno));
		return 1;
	}
	fprintf(stderr, "splitvisor: starting the stack in %s (engine: %s)\n", rundir,
		engine ? engine : "the hypervisor's choice");
	pid = sv_spawn_supervisor(rundir, bindir, engine, notify);
	close(notify[1]);
	if (pid < 0) {
		fprintf(stderr, "splitvisor: cannot fork the supervisor: %s\n", strerror(errno));
		close(notify[0]);
		return 1;
	}

	err = sv_start_wait(notify[0], &res);
	if (err == 0 && res.ready) {
		close(notify[0]);
		printf("SPLITVISOR_RUNDIR=%s\n", rundir);
		printf("XENSTORED_PATH=%s/xenstored.sock\n", rundir);
		if (sv_xen_libdir(bindir, libdir))
			printf("LD_LIBRARY_PATH=%s\n", libdir);
		fflush(stdout);
		return 0;
	}
	if (err == -ETIMEDOUT) {
		fprintf(stderr, "\nsplitvisor: the stack was not ready within %d s; stopping it\n",
			SVC_START_TIMEOUT_MS / 1000);
		kill(pid, SIGTERM);
		sv_wait_eof(notify[0], SVC_STOP_TIMEOUT_MS);
		sv_tail_file(rundir, "splitvisor", ".log");
	} else if (err == 0 && res.service[0]) {
		/* The supervisor stops everything, then closes the pipe. */
		sv_wait_eof(notify[0], SVC_STOP_TIMEOUT_MS);
		fprintf(stderr, "splitvisor: start failed: %s\n", res.reason);
		sv_tail_file(rundir, res.service, ".log");
		fprintf(stderr, "splitvisor: every service was stopped; see %s/%s\n", rundir,
			SVC_LOG_FILE);
	} else if (err == 0) {
		sv_wait_eof(notify[0], SVC_STOP_TIMEOUT_MS);
		fprintf(stderr, "splitvisor: start failed: %s\n", res.reason);
	} else {
		fprintf(stderr, "splitvisor: the supervisor exited during start\n");
		sv_tail_file(rundir, "splitvisor", ".log");
	}
	close(notify[0]);
	/*
	 * It closed the pipe on its way out: reap it, so that nothing of the
	 * failed start is left when we return (a bounded wait: one stuck past
	 * its stop timeout is left to init).
	 */
	for (int tries = 0; tries < 500 && waitpid(pid, NULL, WNOHANG) == 0; tries++)
		usleep(10000);
	return 1;
}

/*
 * True while pid is a live process.  A zombie counts as gone: it runs
 * nothing, and the supervisor's parent is init, which may take its time
 * to reap it.
 */
static bool sv_pid_runs(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t len;
	int fd;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static int sv_cmd_stop(void)
{
	char rundir[PATH_MAX];
	int64_t end;
	pid_t pid;

	if (sv_rundir(rundir, false))
		return 1;
	if (!svc_stack_running(rundir, &pid)) {
		fprintf(stderr, "splitvisor: no stack runs in %s\n", rundir);
		return 0;
	}
	if (pid <= 0) {
		fprintf(stderr, "splitvisor: a stack runs in %s but %s/%s is unreadable\n", rundir,
			rundir, SVC_PID_FILE);
		return 1;
	}
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH) {
		fprintf(stderr, "splitvisor: cannot signal the supervisor (pid %d): %s\n", (int)pid,
			strerror(errno));
		return 1;
	}
	end = svc_now_ns() + (int64_t)SVC_STOP_TIMEOUT_MS * 1000000;
	while (svc_stack_running(rundir, NULL)) {
		if (svc_now_ns() >= end) {
			fprintf(stderr,
				"splitvisor: the supervisor (pid %d) did not stop within "
				"%d s; killing it (its services die with it)\n",
				(int)pid, SVC_STOP_TIMEOUT_MS / 1000);
			kill(pid, SIGKILL);
			return 1;
		}
		usleep(20000);
	}
	/* The lock is gone; wait for the process itself to end too. */
	while (sv_pid_runs(pid) && svc_now_ns() < end)
		usleep(20000);
	fprintf(stderr, "splitvisor: stopped the stack in %s\n", rundir);
	return 0;
}

static void sv_format_uptime(char *buf, size_t len, int64_t ns)
{
	long long s = ns / 1000000000;

	if (ns < 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%.1fs", ns / 1e9);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else
		snprintf(buf, len, "%lldh%02lldm%02llds", s / 3600, s / 60 % 60, s % 60);
}

static int sv_cmd_status(void)
{
	struct svc_status st[SVC_MAX];
	char rundir[PATH_MAX], state[64], up[32], engine[SVC_ENGINE_MAX];
	int rc = 0, missing = 0, err;
	pid_t pid, sup;
	size_t i, n;

	if (sv_rundir(rundir, false))
		return 4;
	if (!svc_stack_running(rundir, &pid)) {
		printf("splitvisor: no stack runs in %s\n", rundir);
		return 3;
	}
	/* A supervisor that just took the lock may not have published yet. */
	for (i = 0; i < 20; i++) {
		err = svc_status_read(rundir, &sup, engine, st, SVC_MAX, &n);
		if (err != -ENOENT)
			break;
		usleep(50000);
	}
	if (err) {
		fprintf(stderr, "splitvisor: cannot read %s/%s: %s\n", rundir, SVC_STATUS_FILE,
			strerror(-err));
		return 4;
	}
	printf("supervisor  running pid %d in %s\n", (int)pid, rundir);
	if (engine[0])
		printf("engine      %s (splitvisor start --engine)\n", engine);
	else
		printf("engine      the hypervisor's choice ('xl info' says which)\n");
	for (i = 0; i < n; i++) {
		bool live = st[i].state == SVC_RUNNING || st[i].state == SVC_STARTING;

		if (live)
			snprintf(state, sizeof(state), "%s pid %d", svc_state_name(st[i].state),
				 (int)st[i].pid);
		else if (st[i].state == SVC_NOT_INSTALLED)
			snprintf(state, sizeof(state), "not installed");
		else
			snprintf(state, sizeof(state), "%s", svc_state_name(st[i].state));
		sv_format_uptime(up, sizeof(up), live ? svc_now_ns() - st[i].since_ns : -1);
		printf("%-11s %-22s restarts %-3u uptime %s%s\n", st[i].name, state, st[i].restarts,
		       up, st[i].required ? "" : "  (optional)");
		if (st[i].state == SVC_NOT_INSTALLED)
			missing++;
		if (st[i].required && st[i].state != SVC_RUNNING)
			rc = 1;
	}
	if (missing)
		printf("note: %d optional service(s) not installed: the stack runs without them\n",
		       missing);
	return rc;
}

/* Find the status entry of a service; NULL if none. */
static const struct svc_status *sv_find(const struct svc_status *st, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return &st[i];
	return NULL;
}

static int sv_cmd_restart(const char *name)
{
	struct svc_status st[SVC_MAX];
	const struct svc_status *cur;
	char rundir[PATH_MAX], path[PATH_MAX], file[SVC_NAME_MAX + 16];
	unsigned int restarts;
	pid_t pid, sup, oldpid;
	int64_t end;
	size_t n;
	int fd;

	if (sv_rundir(rundir, false))
		return 1;
	if (!svc_stack_running(rundir, &pid) || pid <= 0) {
		fprintf(stderr, "splitvisor: no stack runs in %s\n", rundir);
		return 1;
	}
	if (svc_status_read(rundir, &sup, NULL, st, SVC_MAX, &n) || !(cur = sv_find(st, n, name))) {
		fprintf(stderr, "splitvisor: no service named '%s' (see 'splitvisor status')\n",
			name);
		return 1;
	}
	oldpid = cur->pid;
	restarts = cur->restarts;
	snprintf(file, sizeof(file), "%s.restart", name);
	if (svc_path(path, sizeof(path), rundir, file))
		return 1;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "splitvisor: cannot create %s: %s\n", path, strerror(errno));
		return 1;
	}
	close(fd);
	if (kill(pid, SIGUSR1) < 0) {
		fprintf(stderr, "splitvisor: cannot signal the supervisor (pid %d): %s\n", (int)pid,
			strerror(errno));
		return 1;
	}
	end = svc_now_ns() + (int64_t)(SVC_TERM_GRACE_MS + SVC_READY_TIMEOUT_MS) * 1000000;
	while (svc_now_ns() < end) {
		usleep(50000);
		if (svc_status_read(rundir, &sup, NULL, st, SVC_MAX, &n) ||
		    !(cur = sv_find(st, n, name)))
			continue;
		if (cur->state == SVC_NOT_INSTALLED) {
			fprintf(stderr, "splitvisor: %s is not installed\n", name);
			return 1;
		}
		if (cur->state == SVC_RUNNING &&
		    (cur->pid != oldpid || cur->restarts != restarts)) {
			fprintf(stderr, "splitvisor: %s restarted (pid %d)\n", name, (int)cur->pid);
			return 0;
		}
	}
	fprintf(stderr, "splitvisor: %s did not come back in time; see %s/%s.log\n", name, rundir,
		name);
	return 1;
}

/* `splitvisor supervise`: the daemon body, also usable in the foreground. */
static int sv_cmd_supervise(int argc, char **argv)
{
	char rundir[PATH_MAX], bindir[PATH_MAX];
	const char *rd = NULL, *bd = NULL, *name = NULL, *engine;
	int i, r, notify_fd = -1;

	for (i = 0; i < argc; i++) {
		r = sv_engine_opt(argc, argv, &i, &name);
		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (i + 1 < argc && strcmp(argv[i], "--rundir") == 0) {
			rd = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--bindir") == 0) {
			bd = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--notify-fd") == 0) {
			char *end;

			notify_fd = (int)strtol(argv[++i], &end, 10);
			if (*end || notify_fd < 3) {
				fprintf(stderr, "splitvisor: bad --notify-fd %s\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "splitvisor: supervise: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (sv_engine_arg(name, &engine))
		return 2;
	if (rd)
		setenv("SPLITVISOR_RUNDIR", rd, 1);
	if (bd)
		setenv("SPLITVISOR_BINDIR", bd, 1);
	if (sv_rundir(rundir, true) || sv_bindir(bindir))
		return 1;
	if (chdir("/") < 0) {
		fprintf(stderr, "splitvisor: cannot chdir to /: %s\n", strerror(errno));
		return 1;
	}
	return svc_supervise(rundir, bindir, engine, notify_fd);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		sv_usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		sv_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "start") == 0)
		return sv_cmd_start(argc - 2, argv + 2);
	if (strcmp(cmd, "stop") == 0 && argc == 2)
		return sv_cmd_stop();
	if (strcmp(cmd, "status") == 0 && argc == 2)
		return sv_cmd_status();
	if (strcmp(cmd, "restart-service") == 0 && argc == 3)
		return sv_cmd_restart(argv[2]);
	if (strcmp(cmd, "supervise") == 0)
		return sv_cmd_supervise(argc - 2, argv + 2);
	fprintf(stderr,
		"splitvisor: unknown command or wrong arguments: '%s' "
		"(splitvisor --help lists them)\n",
		cmd);
	return 2;
}
