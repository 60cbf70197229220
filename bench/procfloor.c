// SPDX-License-Identifier: MIT
// procfloor: host floors for the process engine (futex and spin hand-offs, fork+exec, the bench-cpu
// loop, a SIGSEGV round trip) that benchmarks divide by.
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <svk/cpuloop.h>

/*
 * usage: procfloor [options] [futex] [spin] [forkexec] [cpu] [segv]
 *
 * With no word, every measurement.  Each prints key=value lines:
 *
 *   futex_rtt_us, futex_rtt_p99_us   two processes hand a word on a
 *       MAP_SHARED page back and forth; each side stores, FUTEX_WAKEs, then
 *       FUTEX_WAITs until the other side has stored (no spinning).  Each
 *       round trip is timed on its own; the median (and p99) of a run,
 *       then the median of the runs.  Not pinned unless asked (--pin: two
 *       different CPUs, --pin-same: one CPU): the process engine does not
 *       pin its threads either.  On a 2-CPU PVM guest (2026-12-05) the
 *       unpinned result is one of two modes, the same-CPU one (~12 us) or
 *       the cross-CPU one (~20 us), whichever the scheduler settled on;
 *       pinned to two CPUs it sometimes settles where neither side ever
 *       sleeps (~1.5 us: every FUTEX_WAIT finds the word already changed).
 *   spin_rtt_us, spin_rtt_p99_us     the same hand-off with pure spinning
 *       (load + pause) on the shared word, the two sides pinned to two
 *       different CPUs (spinning on one CPU would measure the scheduler).
 *   forkexec_ms                      median of fork + execve + waitpid of a
 *       tiny static program (nullprog, beside this binary by default).
 *   cpuloop_iterations, cpuloop_cycles   svk_cpuloop(N) from
 *       frontends/include/svk/cpuloop.h, the loop of the guest's
 *       bench-cpu=N word, timed with rdtsc the same way; median of runs.
 *   segv_rtt_cycles                  a SIGSEGV from a read, its handler on an
 *       alternate stack and the signal return, in TSC cycles (median of runs
 *       of 2000): the host's own cost of any exception of a guest that runs
 *       as a process.
 *
 * Options: --rounds N (round trips per run, at least 20000; default 20000)
 *          --runs N (runs per median; default 3)  --pin | --pin-same (futex)
 *          --forks N (default 20)  --nullprog PATH
 *          --cpu-iters N (default 250000000, about 0.5 s on a 2 GHz core)
 */

#define MIN_ROUNDS 20000u
#define WARMUP_ROUNDS 1000u
#define MAX_RUNS 15u

/* Where the two sides of a ping-pong run. */
enum { PIN_NONE, PIN_CROSS, PIN_SAME };
static const char *const pin_names[] = { "none", "cross-cpu", "same-cpu" };

struct shared {
	_Alignas(64) uint32_t word; /* odd: the parent stored; even: the child did */
	_Alignas(64) uint32_t ready;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_double(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long futex(uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

/* Wait until *w == want: FUTEX_WAIT on whatever else it holds, or spin. */
static void wait_for(uint32_t *w, uint32_t want, bool spin)
{
	for (;;) {
		uint32_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);

		if (v == want)
			return;
		if (spin)
			cpu_relax();
		else if (futex(w, FUTEX_WAIT, v) < 0 && errno != EAGAIN && errno != EINTR) {
			perror("procfloor: FUTEX_WAIT");
			_exit(1);
		}
	}
}

static void hand_over(uint32_t *w, uint32_t v, bool spin)
{
	__atomic_store_n(w, v, __ATOMIC_RELEASE);
	if (!spin)
		futex(w, FUTEX_WAKE, 1);
}

/* Pin the calling process to the @idx-th CPU it may run on; false if there is none. */
static bool pin_to(unsigned idx)
{
	cpu_set_t allowed, one;
	unsigned seen = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return false;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &allowed))
			continue;
		if (seen++ == idx) {
			CPU_ZERO(&one);
			CPU_SET(c, &one);
			return sched_setaffinity(0, sizeof(one), &one) == 0;
		}
	}
	return false;
}

/* One run: @rounds timed round trips; median and p99 in microseconds. */
static int pingpong_run(bool spin, int pin, unsigned rounds, double *med_us, double *p99_us)
{
	struct shared *sh;
	uint64_t *t;
	unsigned total = WARMUP_ROUNDS + rounds;
	pid_t child;
	int status, ret = -1;
	cpu_set_t allowed;
	bool have_allowed = sched_getaffinity(0, sizeof(allowed), &allowed) == 0;

	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	t = malloc(rounds * sizeof(*t));
	if (sh == MAP_FAILED || !t) {
		perror("procfloor: mmap/malloc");
		return -1;
	}
	child = fork();
	if (child < 0) {
		perror("procfloor: fork");
		return -1;
	}
	if (child == 0) {
		if (pin)
			pin_to(pin == PIN_CROSS ? 1 : 0);
		__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
		futex(&sh->ready, FUTEX_WAKE, 1);
		for (uint32_t i = 0; i < total; i++) {
			wait_for(&sh->word, 2 * i + 1, spin);
			hand_over(&sh->word, 2 * i + 2, spin);
		}
		_exit(0);
	}
	if (pin)
		pin_to(0);
	wait_for(&sh->ready, 1, false);
	for (uint32_t i = 0; i < total; i++) {
		uint64_t t0 = now_ns();

		hand_over(&sh->word, 2 * i + 1, spin);
		wait_for(&sh->word, 2 * i + 2, spin);
		if (i >= WARMUP_ROUNDS)
			t[i - WARMUP_ROUNDS] = now_ns() - t0;
	}
	if (waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		qsort(t, rounds, sizeof(*t), cmp_u64);
		*med_us =
		    (rounds % 2 ? t[rounds / 2] : (t[rounds / 2 - 1] + t[rounds / 2]) / 2) / 1000.0;
		*p99_us = t[(size_t)rounds * 99 / 100] / 1000.0;
		ret = 0;
	} else {
		fprintf(stderr, "procfloor: ping-pong child failed\n");
	}
	if (pin && have_allowed) /* back to where we started, for what follows */
		sched_setaffinity(0, sizeof(allowed), &allowed);
	free(t);
	munmap(sh, 4096);
	return ret;
}

static int pingpong(const char *name, bool spin, int pin, unsigned rounds, unsigned runs)
{
	double med[MAX_RUNS], p99[MAX_RUNS];

	for (unsigned r = 0; r < runs; r++)
		if (pingpong_run(spin, pin, rounds, &med[r], &p99[r]))
			return -1;
	printf("%s_rtt_us=%.2f\n%s_rtt_p99_us=%.2f\n%s_pinned=%s\n", name, median_double(med, runs),
	       name, median_double(p99, runs), name, pin_names[pin]);
	return 0;
}

static int forkexec(const char *prog, unsigned n)
{
	double ms[64];
	char *const argv[] = { (char *)prog, NULL };
	char *const envp[] = { NULL };

	if (n > 64)
		n = 64;
	if (access(prog, X_OK)) {
		fprintf(stderr, "procfloor: %s: %s\n", prog, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		int status;
		pid_t p = fork();

		if (p < 0) {
			perror("procfloor: fork");
			return -1;
		}
		if (p == 0) {
			execve(prog, argv, envp);
			_exit(127);
		}
		if (waitpid(p, &status, 0) != p || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "procfloor: %s did not exit 0\n", prog);
			return -1;
		}
		ms[i] = (now_ns() - t0) / 1e6;
	}
	printf("forkexec_ms=%.3f\n", median_double(ms, n));
	return 0;
}

static int cpuloop(uint64_t iters, unsigned runs)
{
	double cyc[MAX_RUNS];

	for (unsigned r = 0; r < runs; r++) {
		uint64_t t0, t1, res;

		/* Timed exactly as the guest's bench-cpu word does. */
		t0 = svk_rdtsc();
		res = svk_cpuloop(iters);
		t1 = svk_rdtsc();
		__asm__ __volatile__("" : : "r"(res));
		cyc[r] = (double)(t1 - t0);
	}
	printf("cpuloop_iterations=%llu\ncpuloop_cycles=%.0f\n", (unsigned long long)iters,
	       median_double(cyc, runs));
	return 0;
}

/* Where segv_handler resumes: the instruction after the faulting read. */
static volatile uint64_t segv_resume;

static void segv_handler(int sig, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;

	(void)sig;
	(void)si;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)segv_resume;
}

/*
 * segv_rtt_cycles: a read of a PROT_NONE page, the SIGSEGV handler (on an
 * alternate stack, as the runner's) moving rip past it, and the signal
 * return, in TSC cycles: what any exception costs a guest whose code runs
 * as a host process, before any hypervisor work.  Median of runs of 2000.
 */
static int segv(unsigned runs)
{
	static uint8_t altstack[65536];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_sigaction = segv_handler, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	double cyc[MAX_RUNS];
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED || sigaltstack(&ss, NULL) || sigaction(SIGSEGV, &sa, NULL)) {
		fprintf(stderr, "procfloor: segv set-up: %s\n", strerror(errno));
		return 1;
	}
	/* No live upper vector state (glibc's string functions leave some): a guest has none. */
	if (__builtin_cpu_supports("avx"))
		__asm__ __volatile__("vzeroupper");
	for (unsigned r = 0; r < runs; r++) {
		uint64_t t0 = svk_rdtsc();

		for (unsigned i = 0; i < 2000; i++)
			__asm__ __volatile__("leaq 1f(%%rip), %%rax\n\tmovq %%rax, %0\n\t"
					     "movq (%1), %%rax\n1:"
					     : "=m"(segv_resume)
					     : "r"(page)
					     : "rax", "memory");
		cyc[r] = (double)(svk_rdtsc() - t0) / 2000;
	}
	signal(SIGSEGV, SIG_DFL);
	munmap(page, 4096);
	printf("segv_rtt_cycles=%.0f\n", median_double(cyc, runs));
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: procfloor [--rounds N] [--runs N] [--pin|--pin-same] [--forks N] "
			"[--nullprog PATH]\n"
			"                 [--cpu-iters N] [futex] [spin] [forkexec] [cpu] [segv]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned rounds = MIN_ROUNDS, runs = 3, forks = 20;
	uint64_t cpu_iters = 250000000ull;
	int pin = PIN_NONE;
	bool want_futex = false, want_spin = false, want_fork = false, want_cpu = false;
	bool want_segv = false;
	bool any = false;
	char nullprog[PATH_MAX] = "";
	int ret = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;

		if (!strcmp(a, "--rounds") && more)
			rounds = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(a, "--runs") && more)
			runs = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(a, "--forks") && more)
			forks = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(a, "--cpu-iters") && more)
			cpu_iters = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--nullprog") && more)
			snprintf(nullprog, sizeof(nullprog), "%s", argv[++i]);
		else if (!strcmp(a, "--pin"))
			pin = PIN_CROSS;
		else if (!strcmp(a, "--pin-same"))
			pin = PIN_SAME;
		else if (!strcmp(a, "futex"))
			want_futex = any = true;
		else if (!strcmp(a, "spin"))
			want_spin = any = true;
		else if (!strcmp(a, "forkexec"))
			want_fork = any = true;
		else if (!strcmp(a, "cpu"))
			want_cpu = any = true;
		else if (!strcmp(a, "segv"))
			want_segv = any = true;
		else
			usage();
	}
	if (!any)
		want_futex = want_spin = want_fork = want_cpu = want_segv = true;
	if (rounds < MIN_ROUNDS)
		rounds = MIN_ROUNDS;
	if (runs < 1 || runs > MAX_RUNS || forks < 1 || cpu_iters < 1)
		usage();
	if (!nullprog[0]) {
		/* Default: nullprog beside this binary. */
		ssize_t n = readlink("/proc/self/exe", nullprog, sizeof(nullprog) - 16);
		char *slash;

		if (n < 0)
			n = 0;
		nullprog[n] = '\0';
		slash = strrchr(nullprog, '/');
		strcpy(slash ? slash + 1 : nullprog, "nullprog");
	}
	alarm(120); /* a vanished peer must not leave us spinning */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (want_futex && pingpong("futex", false, pin, rounds, runs))
		ret = 1;
	if (want_spin &&
	    pingpong("spin", true, sysconf(_SC_NPROCESSORS_ONLN) > 1 ? PIN_CROSS : PIN_NONE, rounds,
		     runs))
		ret = 1;
	if (want_fork && forkexec(nullprog, forks))
		ret = 1;
	if (want_cpu && cpuloop(cpu_iters, runs))
		ret = 1;
	if (want_segv && segv(runs))
		ret = 1;
	return ret;
}
