// SPDX-License-Identifier: MIT
/* The hypervisor daemon: owns the engines and every domain, serves the control socket. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hv.h"
#include "cgroup.h"

struct hv_host hv_host;
extern volatile sig_atomic_t ctl_stop;

static void on_term(int sig)
{
	(void)sig;
	ctl_stop = 1;
}

static void noop(int sig)
{
	(void)sig;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hypervisor [--rundir DIR] [--foreground] [--engine kvm|process]\n"
		   "  Runs the Splitvisor hypervisor core; `splitvisor start` starts it.\n"
		   "  DIR defaults to $SPLITVISOR_RUNDIR or /run/splitvisor.  The engine\n"
		   "  defaults to kvm where /dev/kvm works, else process.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "engine", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rundir = getenv("SPLITVISOR_RUNDIR");
	const char *engine = NULL;
	char pidpath[4096];
	int c, ret;

	while ((c = getopt_long(argc, argv, "r:fe:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rundir = optarg; break;
		case 'f': break; /* it never daemonizes: the supervisor does that */
		case 'e': engine = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!rundir || !*rundir)
		rundir = "/run/splitvisor";
	if (mkdir(rundir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "hypervisor: cannot create %s: %s\n", rundir, strerror(errno));
		return 1;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);

	struct sigaction sa = { .sa_handler = on_term };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = noop; /* kicks vCPU threads out of KVM_RUN; no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	hv_host.start_ns = hv_now_ns();
	ret = hv_engines_init(engine);
	if (ret)
		return 1;
	domain_table_init();
	hv_cgroup_init();
	snprintf(pidpath, sizeof(pidpath), "%s/hypervisor.pid", rundir);
	FILE *pf = fopen(pidpath, "w");
	if (pf) {
		fprintf(pf, "%d\n", getpid());
		fclose(pf);
	}
	ret = ctl_serve(rundir);
	hv_log("stopping: destroying %u domain(s)", domain_count());
	domain_destroy_all();
	unlink(pidpath);
	return ret ? 1 : 0;
}
