// SPDX-License-Identifier: MIT
/*
 * Starting and ending sv-runner processes.  One spawner thread forks them
 * all and lives as long as the hypervisor: a runner's parent-death signal
 * follows the thread that forked it, so it fires exactly when the
 * hypervisor dies, however it dies.  A reaper thread per domain waits for
 * its runner and wakes every vCPU thread waiting on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "proc.h"
#include "../cgroup.h"

#define READY_TIMEOUT_MS 20000
#define GUEST_NICE 10

static char runner_path[PATH_MAX];

/* Requests to the spawner thread, one at a time. */
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spawn_cond = PTHREAD_COND_INITIALIZER;
static struct {
	bool pending, done;
	int memfd, shared_fd;
	pid_t pid;
	int err;
} req;
static pthread_t spawner;
static bool spawner_started;

/* In the child between fork and exec: only async-signal-safe calls. */
static void __attribute__((noreturn)) child(int memfd, int shared_fd)
{
	static char *const argv[] = { "sv-runner", NULL };
	static char *const envp[] = { NULL };
	int a = fcntl(memfd, F_DUPFD, 10), b = fcntl(shared_fd, F_DUPFD, 10);

	if (a < 0 || b < 0 || dup2(a, SV_PROC_MEMFD) < 0 || dup2(b, SV_PROC_SHAREDFD) < 0)
		_exit(126);
	/* Nothing but its own memory: no stdio, no sockets, no other guest. */
	for (int fd = 0; fd < SV_PROC_MEMFD; fd++)
		close(fd);
	syscall(SYS_close_range, SV_PROC_SHAREDFD + 1, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(runner_path, argv, envp);
	_exit(127);
}

static void *spawner_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&spawn_lock);
	for (;;) {
		while (!req.pending)
			pthread_cond_wait(&spawn_cond, &spawn_lock);
		pid_t pid = vfork(); /* no copy of the hypervisor: the child only execs */
		if (pid == 0)
			child(req.memfd, req.shared_fd);
		req.pid = pid;
		req.err = pid < 0 ? -errno : 0;
		req.pending = false;
		req.done = true;
		pthread_cond_broadcast(&spawn_cond);
	}
	return NULL;
}

/* Where sv-runner is: $SPLITVISOR_RUNNER, else beside this program. */
/* The probe child's SIGSEGV: rdtsc faulted. */
static void tsc_probe_segv(int sig)
{
	(void)sig;
	_exit(42);
}

/*
 * PR_SET_TSC(PR_TSC_SIGSEGV) is what makes a runner's rdtsc fault for
 * tsc_mode; some hosts (a kernel that itself runs virtualized without
 * CR4.TSD) accept the call and still run rdtsc.  A child tries it once.
 */
bool proc_tsc_trap_ok(char *why, size_t len)
{
	static int state; /* 0 unknown, 1 traps, 2 does not (atomic) */
	int st = __atomic_load_n(&state, __ATOMIC_ACQUIRE), status = 0;
	pid_t pid;

	if (!st) {
		pid = fork();
		if (pid == 0) {
			struct sigaction sa = { .sa_handler = tsc_probe_segv };
			uint32_t lo, hi;
			sigaction(SIGSEGV, &sa, NULL);
			if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0))
				_exit(1);
			__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
			_exit(lo == 0 && hi == 0 ? 2 : 0);
		}
		st = 2;
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 42)
			st = 1;
		__atomic_store_n(&state, st, __ATOMIC_RELEASE);
	}
	if (st != 1)
		snprintf(why, len,
			 "the process engine cannot make rdtsc trap on this host "
			 "(PR_SET_TSC does not take effect)");
	return st == 1;
}

int proc_spawn_init(char *why, size_t len)
{
	const char *env = getenv("SPLITVISOR_RUNNER");
	struct stat st;
	int ret;

	if (env && *env) {
		snprintf(runner_path, sizeof(runner_path), "%s", env);
	} else {
		char self[PATH_MAX - 16];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			snprintf(why, len, "cannot read /proc/self/exe: %s", strerror(errno));
			return -errno;
		}
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(runner_path, sizeof(runner_path), "%s/sv-runner", self);
	}
	if (stat(runner_path, &st) < 0 || !(st.st_mode & S_IXUSR)) {
		snprintf(why, len, "no runner program at %s", runner_path);
		return -ENOENT;
	}
	ret = pthread_create(&spawner, NULL, spawner_thread, NULL);
	if (ret) {
		snprintf(why, len, "cannot start the spawner thread: %s", strerror(ret));
		return -ret;
	}
	spawner_started = true;
	return 0;
}

static pid_t spawn_runner(int memfd, int shared_fd, int *err)
{
	pid_t pid;

	pthread_mutex_lock(&spawn_lock);
	while (req.pending || req.done)
		pthread_cond_wait(&spawn_cond, &spawn_lock);
	req.memfd = memfd;
	req.shared_fd = shared_fd;
	req.pending = true;
	pthread_cond_broadcast(&spawn_cond);
	while (!req.done)
		pthread_cond_wait(&spawn_cond, &spawn_lock);
	pid = req.pid;
	*err = req.err;
	req.done = false;
	pthread_cond_broadcast(&spawn_cond);
	pthread_mutex_unlock(&spawn_lock);
	return pid;
}

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

/* Wake every vCPU thread that waits on a block of this domain. */
static void wake_all(struct hv_domain *d)
{
	struct proc_dom *pd = proc_dom(d);

	for (unsigned i = 0; i < d->max_vcpus; i++) {
		struct sv_proc_vcpu *b =
		    (struct sv_proc_vcpu *)(pd->shared + 4096 * (1 + SV_PROC_VCPU_PAGES * i));
		__atomic_store_n(&b->state, SV_PROC_DEAD, __ATOMIC_SEQ_CST);
		futex(&b->state, FUTEX_WAKE, INT32_MAX, NULL);
	}
	futex(&((struct sv_proc_hdr *)pd->shared)->ready, FUTEX_WAKE, INT32_MAX, NULL);
}

static void describe(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

static void *reaper_thread(void *arg)
{
	struct hv_domain *d = arg;
	struct proc_dom *pd = proc_dom(d);
	int status = 0;
	char how[96];

	while (waitpid(pd->pid, &status, 0) < 0 && errno == EINTR)
		;
	pd->status = status;
	atomic_store(&pd->dead, true);
	wake_all(d);
	/*
	 * Ended by the hypervisor (destroy, or a relaunch, whose caller holds
	 * d->lock while it waits for this thread): nothing more to say.
	 */
	if (atomic_load(&pd->stopping))
		return NULL;
	pthread_mutex_lock(&d->lock);
	bool alive =
	    (d->state == DOM_CREATED || d->state == DOM_ACTIVE) && !atomic_load(&pd->stopping);
	pthread_mutex_unlock(&d->lock);
	if (alive) {
		char why[160];
		describe(status, how, sizeof(how));
		snprintf(why, sizeof(why), "its process %d %s", (int)pd->pid, how);
		domain_crash(d, why);
	}
	return NULL;
}

/* The host's vm.mmap_min_addr; unreadable: assume the usual 64 KiB. */
static uint64_t host_mmap_min_addr(void)
{
	unsigned long long v = 65536;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 65536;
		fclose(f);
	}
	return v;
}

/*
 * Does d's runner need the low window (procabi.h)?  Only a domain whose
 * kernel maps VAs below SV_LOW_VA_END, and only where the host refuses
 * mappings down there to an unprivileged process.
 */
static bool wants_low_window(const struct hv_domain *d)
{
	return d->low_va && host_mmap_min_addr() > 0;
}

int proc_spawn(struct hv_domain *d, char *why, size_t len)
{
	struct proc_dom *pd = proc_dom(d);
	struct sv_proc_hdr *h = (struct sv_proc_hdr *)pd->shared;
	int err = 0, ret;

	h->magic = SV_PROC_MAGIC;
	h->version = SV_PROC_VERSION;
	h->nr_vcpus = d->max_vcpus;
	h->parent_pid = getpid();
	h->memfd_size = d->mem.memfd_size;
	h->nice = GUEST_NICE;
	h->low_window = wants_low_window(d);
	pd->va_lo = d->low_va ? 0 : PAGE_SIZE;
	const char *delay = getenv("SPLITVISOR_TEST_ENTRY_DELAY");
	h->test_entry_delay = delay ? (uint32_t)strtoul(delay, NULL, 0) : 0;
	h->tsc_trap = d->vtsc; /* tsc_mode: the guest's rdtsc faults and is emulated (tsc.c) */
	int64_t shinfo = mem_offset(&d->mem, SV_SHARED_INFO_GPA);
	h->shinfo_offset = shinfo >= 0 ? (uint64_t)shinfo : UINT64_MAX; /* none: the runner maps none */
	if (d->m2p_l3_gpa) {
		h->m2p_offset = (uint64_t)mem_offset(&d->mem, d->m2p_tab_gpa);
		h->m2p_len = (d->m2p_entries * 8 + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	}
	pd->pid = spawn_runner(d->mem.memfd, pd->shared_fd, &err);
	if (pd->pid < 0) {
		pd->pid = 0;
		snprintf(why, len, "cannot fork the runner: %s", strerror(-err));
		return err;
	}
	pd->pidfd = (int)syscall(SYS_pidfd_open, pd->pid, 0);
	d->host_pid = pd->pid; /* cgroup_hv.c moves it into the domain's group */
	ret = pthread_create(&pd->reaper, NULL, reaper_thread, d);
	if (ret) {
		kill(pd->pid, SIGKILL);
		waitpid(pd->pid, NULL, 0);
		pd->pid = 0;
		snprintf(why, len, "cannot start the reaper thread: %s", strerror(ret));
		return -ret;
	}
	pd->reaper_started = true;

	/* Wait for the runner: ready (1), a setup step failed (2), or dead. */
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		uint32_t r = __atomic_load_n(&h->ready, __ATOMIC_ACQUIRE);
		if (r == 1)
			break;
		if (r == 2) {
			snprintf(why, len, "the runner failed to %.*s: %s",
				 (int)sizeof(h->error_msg), h->error_msg, strerror(-h->error));
			return -EIO;
		}
		if (atomic_load(&pd->dead)) {
			char how[96];
			describe(pd->status, how, sizeof(how));
			snprintf(why, len, "the runner %s before it was ready", how);
			return -EIO;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms =
		    (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (ms > READY_TIMEOUT_MS) {
			snprintf(why, len, "the runner was not ready after %d ms",
				 READY_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000 * 1000 };
		futex(&h->ready, FUTEX_WAIT, r, &ts);
	}
	if (h->low_window)
		hv_log("create '%s': runner %d has the low window (uid %u, CAP_SYS_RAWIO alone): "
		       "its kernel maps VAs below vm.mmap_min_addr",
		       d->name, (int)pd->pid, __atomic_load_n(&h->low_uid, __ATOMIC_RELAXED));
	return 0;
}

/* Kill the runner (if it still runs) and wait for the reaper. */
void proc_kill(struct hv_domain *d)
{
	struct proc_dom *pd = proc_dom(d);

	atomic_store(&pd->stopping, true);
	if (pd->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, pd->pidfd, SIGKILL, NULL, 0);
	else if (pd->pid > 0 && !atomic_load(&pd->dead))
		kill(pd->pid, SIGKILL);
}

void proc_reap(struct hv_domain *d)
{
	struct proc_dom *pd = proc_dom(d);

	proc_kill(d);
	if (pd->reaper_started) {
		pthread_join(pd->reaper, NULL);
		pd->reaper_started = false;
	}
}

/*
 * The runner of a domain that has never run, ended and started again as
 * proc_spawn starts it now (after d->low_va changed): the low window and
 * its credential checks are proc_spawn's, exactly as at create.  Nothing
 * of the guest is lost: its memory is the memfd, its vCPU state is the
 * hypervisor's, and nothing was mapped into the old runner that the first
 * run would not map again (mapped_cr3 0: the first entry rebuilds).  The
 * new runner gets what the old one had been given since: its cgroup and
 * each vCPU thread's pin.  d->lock held (the reaper does not take it for
 * a runner we end).
 */
int proc_relaunch(struct hv_domain *d, char *why, size_t len)
{
	struct proc_dom *pd = proc_dom(d);
	pid_t old = pd->pid;
	int ret;

	proc_reap(d);
	if (pd->pidfd >= 0)
		close(pd->pidfd);
	pd->pidfd = -1;
	pd->pid = 0;
	d->host_pid = 0;
	pthread_mutex_lock(&pd->map_lock);
	pd->mapped_cr3 = 0;
	proc_map_queue_free(&pd->queue);
	proc_ldt_reset(pd); /* the new process has none */
	pthread_mutex_unlock(&pd->map_lock);
	/* The shared block as the first runner found it: a fresh memfd's zeros. */
	memset(pd->shared, 0, SV_PROC_SHARED_SIZE);
	atomic_store(&pd->dead, false);
	atomic_store(&pd->stopping, false);
	ret = proc_spawn(d, why, len);
	if (ret)
		return ret;
	for (unsigned i = 0; i < d->max_vcpus; i++) {
		struct hv_vcpu *v = d->vcpus[i];
		struct proc_vcpu *pv = v ? proc_vcpu(v) : NULL;

		if (!pv)
			continue;
		pv->tid = (pid_t)__atomic_load_n(&pv->blk->tid, __ATOMIC_ACQUIRE);
		pv->regs_in_blk_ok = false; /* the new block holds none of them */
		pv->fast_in_blk = 0;
		if (v->pinned) {
			cpu_set_t set;
			_Static_assert(sizeof(set) == sizeof(v->hard), "a CPU map is a cpu_set_t");
			memcpy(&set, v->hard, sizeof(set));
			if (sched_setaffinity(pv->tid, sizeof(set), &set) < 0)
				hv_log("d%u v%u: cannot apply its pin to runner thread %d: %m",
				       d->domid, v->id, (int)pv->tid);
		}
	}
	hv_cgroup_runner_moved(d);
	hv_log("d%u: runner %d relaunched as %d (its kernel maps VAs below %#llx)", d->domid,
	       (int)old, (int)pd->pid, (unsigned long long)SV_LOW_VA_END);
	return 0;
}
