// SPDX-License-Identifier: MIT
// xenstored benchmark: throughput and daemon CPU per request over 1 and 16 connections, beside
// other daemons and a UNIX-socket echo floor.
//
//   xenstore_bench SECONDS NAME=SOCKET[:PID] [NAME=SOCKET[:PID]...]
// Speaks the wire protocol directly (one request in flight per
// connection, like libxenstore, except writes-pipe32). The first daemon
// is the one measured; each further one (Debian's C xenstored in
// bench/xenstore.sh) runs the same load in the same run, and the first is
// reported as a ratio to it: throughput, and daemon CPU per request, read
// from /proc/PID/schedstat (time on CPU, ns), not from wall time. The
// floor is the round-trip rate of a single-threaded epoll echo server.
//
// XS_BENCH_PIN=CPU pins, for the 1-connection runs, each daemon and its
// client to that one CPU (the same for every daemon): one request in flight
// costs each daemon a sleep and a wake-up, whose price depends mostly on
// whether the client runs on the same CPU, which the scheduler otherwise
// picks anew for each run.
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

enum bench_op { OP_WRITE, OP_READ, OP_WATCH, OP_TXN, OP_PIPE, OP_ECHO, OP_COUNT };
static const char *const op_names[OP_COUNT] = {
	"writes", "reads", "watch-events", "transactions", "writes-pipe32", "round-trips",
};

/* Requests a pipelining client keeps in flight (OP_PIPE). */
#define PIPE_DEPTH 32

/* Requests each operation sends: a transaction is start, read, write, end. */
static const int op_reqs[OP_COUNT] = { 1, 1, 1, 4, 1, 1 };

/* A daemon under test. */
struct target {
	const char *name;
	char sock[256];
	int pid; /* 0: CPU not measured */
};

struct worker {
	pthread_t th;
	const char *sock;
	enum bench_op op;
	int idx;
	double seconds;
	unsigned long count;
	int err;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int full_io(int fd, void *buf, size_t len, bool wr)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = wr ? write(fd, (char *)buf + off, len - off)
			       : read(fd, (char *)buf + off, len - off);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int send_msg(int fd, uint32_t type, uint32_t tx, const void *p, uint32_t len)
{
	char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = { .type = type, .req_id = 1, .tx_id = tx, .len = len };

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), p, len);
	return full_io(fd, buf, sizeof(h) + len, true);
}

/* Reads one message; returns its type, payload in @out. */
static int recv_msg(int fd, char *out, size_t outsz, uint32_t *len)
{
	struct xsd_sockmsg h;

	if (full_io(fd, &h, sizeof(h), false) || h.len >= outsz)
		return -1;
	if (full_io(fd, out, h.len, false))
		return -1;
	out[h.len] = '\0';
	*len = h.len;
	return (int)h.type;
}

/* One request, its reply (skipping watch events); -1 on error replies. */
static int call(int fd, uint32_t type, uint32_t tx, const void *p, uint32_t len, char *out,
		size_t outsz)
{
	uint32_t rl;
	int t;

	if (send_msg(fd, type, tx, p, len))
		return -1;
	do {
		t = recv_msg(fd, out, outsz, &rl);
	} while (t == XS_WATCH_EVENT);
	return t == (int)type ? 0 : -1;
}

/* XS_BENCH_PIN's CPU, or -1. */
static int pin_cpu = -1;

static void pin(pid_t pid, pthread_t th, bool thread)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(pin_cpu, &set);
	if (thread)
		pthread_setaffinity_np(th, sizeof(set), &set);
	else
		sched_setaffinity(pid, sizeof(set), &set);
}

/* Every CPU again. */
static void unpin(pid_t pid)
{
	cpu_set_t set;
	long i, n = sysconf(_SC_NPROCESSORS_CONF);

	CPU_ZERO(&set);
	for (i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(pid, sizeof(set), &set);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char path[64], req[128], out[4200];
	int fd = connect_to(w->sock);
	uint32_t plen, rl;
	double end;

	if (fd < 0) {
		w->err = errno;
		return NULL;
	}
	plen = (uint32_t)snprintf(path, sizeof(path), "/bench/c%d/key", w->idx) + 1;
	memcpy(req, path, plen);
	memcpy(req + plen, "value-0123456789", 16);
	if (w->op != OP_ECHO && call(fd, XS_WRITE, 0, req, plen + 16, out, sizeof(out))) {
		w->err = EIO;
		goto out_close;
	}
	if (w->op == OP_WATCH) {
		char wreq[128];
		uint32_t wl = (uint32_t)snprintf(wreq, sizeof(wreq), "/bench/c%d", w->idx) + 1;

		memcpy(wreq + wl, "tok", 4);
		if (call(fd, XS_WATCH, 0, wreq, wl + 4, out, sizeof(out)) ||
		    recv_msg(fd, out, sizeof(out), &rl) != XS_WATCH_EVENT) {
			w->err = EIO;
			goto out_close;
		}
	}
	end = now() + w->seconds;
	while (now() < end) {
		int k;

		/* 64 operations between clock reads. */
		for (k = 0; k < 64; k++) {
			switch (w->op) {
			case OP_WRITE:
				if (call(fd, XS_WRITE, 0, req, plen + 16, out, sizeof(out)))
					goto out_err;
				break;
			case OP_READ:
				if (call(fd, XS_READ, 0, path, plen, out, sizeof(out)))
					goto out_err;
				break;
			case OP_WATCH:
				/* A write, then the event it caused. */
				if (send_msg(fd, XS_WRITE, 0, req, plen + 16))
					goto out_err;
				if (recv_msg(fd, out, sizeof(out), &rl) < 0 ||
				    recv_msg(fd, out, sizeof(out), &rl) < 0)
					goto out_err;
				break;
			case OP_TXN: {
				uint32_t tx;

				if (call(fd, XS_TRANSACTION_START, 0, "", 1, out, sizeof(out)))
					goto out_err;
				tx = (uint32_t)strtoul(out, NULL, 10);
				if (call(fd, XS_READ, tx, path, plen, out, sizeof(out)) ||
				    call(fd, XS_WRITE, tx, req, plen + 16, out, sizeof(out)))
					goto out_err;
				if (call(fd, XS_TRANSACTION_END, tx, "T", 2, out, sizeof(out)))
					goto out_err; /* own subtree: never conflicts */
				break;
			}
			case OP_PIPE: {
				/* A window of writes in one send, then their replies. */
				char batch[PIPE_DEPTH * 128];
				struct xsd_sockmsg h = { .type = XS_WRITE,
							 .req_id = 1,
							 .len = plen + 16 };
				size_t one = sizeof(h) + plen + 16;
				int j;

				for (j = 0; j < PIPE_DEPTH; j++) {
					memcpy(batch + j * one, &h, sizeof(h));
					memcpy(batch + j * one + sizeof(h), req, plen + 16);
				}
				if (full_io(fd, batch, one * PIPE_DEPTH, true))
					goto out_err;
				for (j = 0; j < PIPE_DEPTH; j++)
					if (recv_msg(fd, out, sizeof(out), &rl) != XS_WRITE)
						goto out_err;
				w->count += PIPE_DEPTH - 1;
				break;
			}
			case OP_ECHO:
				/* Same size as a READ request and its reply. */
				if (send_msg(fd, XS_READ, 0, path, plen) ||
				    recv_msg(fd, out, sizeof(out), &rl) < 0)
					goto out_err;
				break;
			default:
				goto out_err;
			}
			w->count++;
		}
	}
	goto out_close;
out_err:
	w->err = EIO;
out_close:
	close(fd);
	return NULL;
}

static double run(const char *sock, enum bench_op op, int nconn, double secs)
{
	struct worker w[64];
	unsigned long total = 0;
	double t0, t1;
	int i;

	memset(w, 0, sizeof(w));
	t0 = now();
	for (i = 0; i < nconn; i++) {
		w[i] = (struct worker){ .sock = sock, .op = op, .idx = i, .seconds = secs };
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i])) {
			perror("pthread_create");
			exit(1);
		}
		if (pin_cpu >= 0 && nconn == 1)
			pin(0, w[i].th, true);
	}
	for (i = 0; i < nconn; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].err) {
			fprintf(stderr, "bench: %s worker %d failed\n", op_names[op], i);
			exit(1);
		}
		total += w[i].count;
	}
	t1 = now();
	return (double)total / (t1 - t0);
}

/* The floor: a single-threaded epoll echo server in a child process. */
static pid_t echo_server(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, ep;
	pid_t pid;

	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 64)) {
		perror("echo server");
		exit(1);
	}
	pid = fork();
	if (pid != 0) {
		close(lfd);
		return pid;
	}
	ep = epoll_create1(0);
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };

		epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	}
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1), i;

		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			char buf[65536];
			ssize_t r;

			if (fd == lfd) {
				int c = accept(lfd, NULL, NULL);
				struct epoll_event ev = { .events = EPOLLIN, .data.fd = c };

				if (c >= 0)
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				continue;
			}
			r = read(fd, buf, sizeof(buf));
			if (r <= 0 || full_io(fd, buf, (size_t)r, true)) {
				close(fd);
				continue;
			}
		}
	}
}

/* CPU time the process has used, in ns; -1 if unknown. */
static double cpu_ns(int pid)
{
	char path[64];
	unsigned long long run = 0, ut = 0, st = 0;
	FILE *f;
	int ok;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	if (f) {
		ok = fscanf(f, "%llu", &run) == 1;
		fclose(f);
		if (ok)
			return (double)run;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	/* Fields 14 and 15 (utime, stime), after the ")" that ends the name. */
	ok = fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		    &st) == 2;
	fclose(f);
	return ok ? (double)(ut + st) * 1e9 / (double)sysconf(_SC_CLK_TCK) : -1;
}

struct result {
	double rate;	   /* operations per second */
	double us_per_req; /* daemon CPU per request, -1 unknown */
};

static struct result measure(const struct target *t, enum bench_op op, int nconn, double secs)
{
	struct result r;
	double c0, c1, t0, t1;

	if (pin_cpu >= 0 && nconn == 1 && t->pid > 0)
		pin(t->pid, 0, false);
	c0 = cpu_ns(t->pid);
	t0 = now();
	r.rate = run(t->sock, op, nconn, secs);
	if (pin_cpu >= 0 && nconn == 1 && t->pid > 0)
		unpin(t->pid);
	t1 = now();
	c1 = cpu_ns(t->pid);
	r.us_per_req = (c0 < 0 || c1 < 0 || r.rate <= 0)
			   ? -1
			   : (c1 - c0) / 1e3 / (r.rate * (t1 - t0) * op_reqs[op]);
	return r;
}

static void print_cpu(double us)
{
	if (us < 0)
		printf("   cpu    ?    ");
	else
		printf("   cpu %5.1f us/req", us);
}

int main(int argc, char **argv)
{
	static const enum bench_op ops[] = { OP_WRITE, OP_READ, OP_WATCH, OP_TXN, OP_PIPE };
	static const int conns[] = { 1, 16 };
	struct target tg[8];
	char echo_path[300];
	double secs, floor_rate;
	int ntg = 0, a;
	pid_t echo;
	unsigned int i, k;

	if (argc < 3) {
		fprintf(stderr, "usage: xenstore_bench SECONDS NAME=SOCKET[:PID]...\n");
		return 2;
	}
	secs = atof(argv[1]);
	for (a = 2; a < argc && ntg < 8; a++) {
		char *eq = strchr(argv[a], '='), *colon;

		if (!eq) {
			fprintf(stderr, "xenstore_bench: %s: want NAME=SOCKET[:PID]\n", argv[a]);
			return 2;
		}
		*eq = '\0';
		tg[ntg].name = argv[a];
		snprintf(tg[ntg].sock, sizeof(tg[ntg].sock), "%s", eq + 1);
		colon = strrchr(tg[ntg].sock, ':');
		tg[ntg].pid = 0;
		if (colon) {
			*colon = '\0';
			tg[ntg].pid = atoi(colon + 1);
		}
		ntg++;
	}
	if (getenv("XS_BENCH_PIN")) {
		pin_cpu = atoi(getenv("XS_BENCH_PIN"));
		printf("xenstore bench: 1-connection runs pinned to CPU %d (daemon and client "
		       "alike)\n",
		       pin_cpu);
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(echo_path, sizeof(echo_path), "%s.echo", tg[0].sock);
	echo = echo_server(echo_path);
	for (k = 0; k < 2; k++) {
		double lthr = 0, lcpu = 0;
		int nthr = 0, ncpu = 0;

		floor_rate = run(echo_path, OP_ECHO, conns[k], secs);
		printf(
		    "xenstore bench, %2d connection%s: UNIX socket echo floor %.0f round trips/s\n",
		    conns[k], conns[k] > 1 ? "s" : " ", floor_rate);
		for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			struct result r[8];
			int t;

			for (t = 0; t < ntg; t++)
				r[t] = measure(&tg[t], ops[i], conns[k], secs);
			printf("  %-13s %-10s %8.0f /s  %.2fx floor", op_names[ops[i]], tg[0].name,
			       r[0].rate, r[0].rate * op_reqs[ops[i]] / floor_rate);
			print_cpu(r[0].us_per_req);
			printf("\n");
			for (t = 1; t < ntg; t++) {
				printf("  %-13s %-10s %8.0f /s  %.2fx floor", "", tg[t].name,
				       r[t].rate, r[t].rate * op_reqs[ops[i]] / floor_rate);
				print_cpu(r[t].us_per_req);
				printf("\n  %-13s %s/%s: throughput %.2fx", "", tg[0].name,
				       tg[t].name, r[0].rate / r[t].rate);
				if (r[0].us_per_req > 0 && r[t].us_per_req > 0)
					printf(", cpu per request %.2fx",
					       r[0].us_per_req / r[t].us_per_req);
				printf("\n");
				if (t == 1 && r[1].rate > 0) {
					lthr += log(r[0].rate / r[1].rate);
					nthr++;
				}
				if (t == 1 && r[0].us_per_req > 0 && r[1].us_per_req > 0) {
					lcpu += log(r[0].us_per_req / r[1].us_per_req);
					ncpu++;
				}
			}
		}
		if (nthr)
			printf("  summary, %d connection%s, %s/%s (geometric mean of the %d "
			       "operations): throughput %.2fx, cpu per request %.2fx\n",
			       conns[k], conns[k] > 1 ? "s" : "", tg[0].name, tg[1].name, nthr,
			       exp(lthr / nthr), ncpu ? exp(lcpu / ncpu) : 0.0);
	}
	kill(echo, SIGTERM);
	waitpid(echo, NULL, 0);
	unlink(echo_path);
	return 0;
}
