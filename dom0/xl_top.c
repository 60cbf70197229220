// SPDX-License-Identifier: MIT
/* xl top: xentop's table of domains, in batch mode (-b) or redrawn on a terminal. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include "domstat.h"
#include "xl.h"
#include "xl_format.h"
#include "sv/svxs.h"

#define TOP_USAGE "usage: xl top [-b] [-i <Iterations>] [-d <Seconds>] [-f]"

/* One look at every domain: what the hypervisor says, at one moment. */
struct top_sample {
	uint64_t when_ns; /* CLOCK_MONOTONIC */
	struct sv_host_info host;
	uint64_t dom0_cpu_ns; /* the host's user + system time */
	int n;
	struct sv_dominfo doms[SV_CTL_LIST_MAX];
};

struct top_state {
	struct svctl *c;
	struct xs_handle *xs;
	struct top_sample s[2]; /* the current and the previous */
	int cur;		/* index of the current in s */
	bool have_prev;
	struct domstat_vbd vbd[DOMSTAT_VBD_MAX];
	int nvbd;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int take_sample(struct top_state *t)
{
	struct top_sample *s = &t->s[t->cur];
	int ret = svctl_host_info(t->c, &s->host);

	if (ret)
		return ret;
	s->n = svctl_domain_list(t->c, 1, s->doms, SV_CTL_LIST_MAX);
	if (s->n < 0)
		return s->n;
	s->when_ns = mono_ns();
	s->dom0_cpu_ns = domstat_host_cpu_ns();
	return 0;
}

/* blkback's request counts per device (none without blkback). */
static void read_vbd_stats(struct top_state *t)
{
	t->nvbd = domstat_read_vbds(svctl_rundir(), t->vbd, DOMSTAT_VBD_MAX);
}

/*
 * The domain's vifs from xenstore (backend/vif/DOMID/N), and their bytes
 * from the host side of each one (its TAP, named by the backend's
 * vifname or vifDOMID.DEVID): what the host received the domain sent.
 */
static void net_stats(struct top_state *t, uint32_t domid, struct xl_top_row *r)
{
	char path[96];
	unsigned n = 0;
	char **ents;

	if (!t->xs)
		return;
	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", domid);
	ents = xs_directory(t->xs, XBT_NULL, path, &n);
	if (!ents)
		return;
	r->nets = n;
	for (unsigned i = 0; i < n; i++) {
		char ifname[32];

		domstat_vif_ifname(t->xs, domid, ents[i], ifname, sizeof(ifname));
		r->net_tx_bytes += domstat_if_counter(ifname, "rx_bytes");
		r->net_rx_bytes += domstat_if_counter(ifname, "tx_bytes");
	}
	free(ents);
}

static void vbd_stats(struct top_state *t, uint32_t domid, struct xl_top_row *r)
{
	char path[96];
	unsigned n = 0;
	char **ents;

	if (t->xs) {
		snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u", domid);
		ents = xs_directory(t->xs, XBT_NULL, path, &n);
		if (ents)
			r->vbds = n;
		free(ents);
	}
	for (int i = 0; i < t->nvbd; i++) {
		if (t->vbd[i].domid != domid)
			continue;
		r->vbd_rd += t->vbd[i].reads;
		r->vbd_wr += t->vbd[i].writes;
	}
}

/* The previous sample's CPU time of the same domain, when there is one. */
static bool prev_cpu(const struct top_state *t, const struct sv_dominfo *d, uint64_t *ns,
		     uint64_t *when)
{
	const struct top_sample *p = &t->s[!t->cur];

	if (!t->have_prev)
		return false;
	*when = p->when_ns;
	for (int i = 0; i < p->n; i++) {
		if (p->doms[i].domid == d->domid && !strcmp(p->doms[i].name, d->name)) {
			*ns = p->doms[i].cpu_time_ns;
			return true;
		}
	}
	return false;
}

/* Prints the header and a row per domain (Domain-0 first, then by domid). */
static void print_table(struct top_state *t, bool full_name)
{
	const struct top_sample *s = &t->s[t->cur];
	char line[512];
	struct xl_top_row r;
	uint64_t then_ns, when;

	xl_top_header(line, sizeof(line));
	fputs(line, stdout);

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "Domain-0");
	memcpy(r.state, "-----r", 7);
	r.cpu_ns = s->dom0_cpu_ns;
	if (t->have_prev)
		r.cpu_pct = xl_top_cpu_pct(t->s[!t->cur].dom0_cpu_ns, s->dom0_cpu_ns,
					   s->when_ns - t->s[!t->cur].when_ns);
	r.mem_kb = r.host_kb = s->host.total_kb;
	r.maxmem_kb = UINT64_MAX;
	r.vcpus = s->host.nr_cpus;
	xl_top_row_text(&r, full_name, line, sizeof(line));
	fputs(line, stdout);

	read_vbd_stats(t);
	for (int i = 0; i < s->n; i++) {
		const struct sv_dominfo *d = &s->doms[i];

		memset(&r, 0, sizeof(r));
		memcpy(r.name, d->name, sizeof(r.name) - 1);
		xl_top_state(d, r.state);
		r.cpu_ns = d->cpu_time_ns;
		if (prev_cpu(t, d, &then_ns, &when))
			r.cpu_pct = xl_top_cpu_pct(then_ns, d->cpu_time_ns, s->when_ns - when);
		r.mem_kb = d->mem_kb;
		r.maxmem_kb = domstat_maxmem_kb(t->xs, d->domid, d->mem_kb);
		r.host_kb = s->host.total_kb;
		r.vcpus = d->online_vcpus;
		net_stats(t, d->domid, &r);
		vbd_stats(t, d->domid, &r);
		xl_top_row_text(&r, full_name, line, sizeof(line));
		fputs(line, stdout);
	}
}

/* xentop's summary lines, above the table on a terminal. */
static void print_summary(const struct top_state *t)
{
	const struct top_sample *s = &t->s[t->cur];
	unsigned run = 1, blk = 0, pause = 0, crash = 0, dying = 0, shut = 0;
	uint64_t used = s->host.total_kb - s->host.free_kb;
	char clock[16] = "";
	time_t now = time(NULL);
	struct tm tm;

	for (int i = 0; i < s->n; i++) {
		char st[7];

		xl_top_state(&s->doms[i], st);
		run += st[5] == 'r';
		blk += st[2] == 'b';
		pause += st[4] == 'p';
		crash += st[3] == 'c';
		dying += st[0] == 'd';
		shut += st[1] == 's';
	}
	if (localtime_r(&now, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	printf("xentop - %s   Xen %u.%u%.*s\n", clock, s->host.xen_major, s->host.xen_minor,
	       (int)sizeof(s->host.xen_extra), s->host.xen_extra);
	printf(
	    "%d domains: %u running, %u blocked, %u paused, %u crashed, %u dying, %u shutdown \n",
	    s->n + 1, run, blk, pause, crash, dying, shut);
	printf("Mem: %lluk total, %lluk used, %lluk free    CPUs: %u @ %lluMHz\n",
	       (unsigned long long)s->host.total_kb, (unsigned long long)used,
	       (unsigned long long)s->host.free_kb, s->host.nr_cpus,
	       (unsigned long long)(s->host.tsc_khz / 1000));
}

static volatile sig_atomic_t top_stop;

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* Waits up to ms for q on the terminal (true: leave) or a signal. */
static bool wait_key(int ms)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000ULL;

	while (!top_stop) {
		uint64_t now = mono_ns();
		char ch;

		if (now >= end)
			return false;
		int r = poll(&p, 1, (int)((end - now) / 1000000ULL) + 1);
		if (r < 0 && errno != EINTR)
			return true;
		if (r > 0) {
			ssize_t n = read(0, &ch, 1);
			if (n <= 0 || ch == 'q' || ch == 'Q' || ch == 3 /* ^C */)
				return true;
		}
	}
	return true;
}

static bool parse_delay(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || v <= 0 || v > 86400)
		return false;
	*out = v;
	return true;
}

/*
 * xl top [-b] [-i N] [-d SECS] [-f]: xentop's table.  -b prints it N
 * times (forever without -i), SECS apart (3 by default); CPU(%) is what
 * the domain used since the previous table (0 in the first, as xentop).
 * Without -b, on a terminal, the screen is redrawn until q or ^C.
 */
int xl_cmd_top(int argc, char **argv)
{
	static const struct option opts[] = { { "batch", no_argument, NULL, 'b' },
					      { "iterations", required_argument, NULL, 'i' },
					      { "delay", required_argument, NULL, 'd' },
					      { "full-name", no_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static struct top_state t;
	bool batch = false, full = false, tty;
	unsigned long iterations = 0;
	double delay = 3;
	struct termios saved, raw;
	bool raw_on = false;
	int opt, ret = 0;

	optind = 1;
	opterr = 0; /* one line of our own on a bad option */
	while ((opt = getopt_long(argc, argv, "+bi:d:fh", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'b':
			batch = true;
			break;
		case 'f':
			full = true;
			break;
		case 'i':
			errno = 0;
			iterations = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || optarg[0] == '-' || !iterations) {
				xl_err("invalid number of iterations '%s'", optarg);
				return 2;
			}
			break;
		case 'd':
			if (!parse_delay(optarg, &delay)) {
				xl_err("invalid delay '%s': seconds, more than 0", optarg);
				return 2;
			}
			break;
		default:
			xl_err(TOP_USAGE);
			return 2;
		}
	}
	if (optind != argc) {
		xl_err(TOP_USAGE);
		return 2;
	}
	memset(&t, 0, sizeof(t));
	t.c = xl_connect();
	if (!t.c)
		return 1;
	t.xs = svxs_open();
	tty = !batch && isatty(1);
	if (tty) {
		struct sigaction sa = { .sa_handler = on_signal };

		top_stop = 0;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		if (isatty(0) && tcgetattr(0, &saved) == 0) {
			raw = saved;
			raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
			raw.c_cc[VMIN] = 1;
			raw.c_cc[VTIME] = 0;
			raw_on = tcsetattr(0, TCSANOW, &raw) == 0;
		}
	}
	for (unsigned long i = 0; !iterations || i < iterations; i++) {
		ret = take_sample(&t);
		if (ret) {
			xl_err("cannot read the domains: %s", strerror(-ret));
			break;
		}
		if (tty) {
			fputs("\033[H\033[2J", stdout);
			print_summary(&t);
		}
		print_table(&t, full);
		if (fflush(stdout)) {
			ret = -EIO;
			break;
		}
		t.have_prev = true;
		t.cur = !t.cur;
		if (iterations && i + 1 == iterations)
			break;
		if (tty) {
			if (wait_key((int)(delay * 1000)))
				break;
		} else {
			struct timespec ts = { .tv_sec = (time_t)delay,
					       .tv_nsec =
						   (long)((delay - (double)(time_t)delay) * 1e9) };
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
	}
	if (raw_on)
		tcsetattr(0, TCSANOW, &saved);
	svxs_close(t.xs);
	svctl_close(t.c);
	return ret ? 1 : 0;
}
