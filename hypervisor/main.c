// SPDX-License-Identifier: MIT
/* The hypervisor daemon: owns the engines and every domain, serves the control socket. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sv/daemon.h"
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

static const char hv_usage[] =
    "usage: hypervisor [--rundir DIR] [--foreground] [--verbose] [--engine kvm|process]\n"
    "  Runs the Splitvisor hypervisor core; `splitvisor start` starts it.\n"
    "  DIR defaults to $SPLITVISOR_RUNDIR or " SV_RUNDIR_DEFAULT ".  The engine\n"
    "  defaults to kvm where /dev/kvm works, else process.  It always runs in\n"
    "  the foreground (the supervisor detaches the stack): --foreground is\n"
    "  accepted for the common command line.\n";

static int hv_option(int opt, const char *arg, void *ctx)
{
	if (opt != 'e')
		return -1;
	*(const char **)ctx = arg;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char *engine = NULL;
	const struct svd_args args = { .name = "hypervisor",
				       .usage = hv_usage,
				       .extra = extra,
				       .extra_short = "e:",
				       .extra_fn = hv_option,
				       .ctx = &engine };
	struct svd_opts o;
	const char *rundir;
	char pidpath[4096];
	int ret;

	svd_log_name("hypervisor");
	ret = svd_parse_args(&args, &o, argc, argv);
	if (ret)
		return ret == 1 ? 0 : 2;
	rundir = o.rundir;
	if (mkdir(rundir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "hypervisor: cannot create %s: %m\n", rundir);
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

	svd_debug("run directory %s, engine %s", rundir, engine ? engine : "(default)");
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
