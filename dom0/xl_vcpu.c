// SPDX-License-Identifier: MIT
/* xl vcpu-list, vcpu-pin and vcpu-set: a domain's vCPUs, where they run, and how many are online.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include "xl.h"
#include "xl_cpumap.h"
#include "sv/svxs.h"

#define LIST_USAGE "usage: xl vcpu-list [<Domain> ...]"
#define PIN_USAGE "usage: xl vcpu-pin [-f|--force] <Domain> <VCPU|all> <CPUs|all> [<CPUs-soft>]"
#define SET_USAGE "usage: xl vcpu-set [-i|--ignore-host] <Domain> <vCPUs count>"

/* How long vcpu-set waits for the guest to act on cpu/N/availability. */
#define SET_WAIT_MS 15000

static bool is_dom0(const char *arg)
{
	return !strcmp(arg, "Domain-0") || !strcmp(arg, "0");
}

/* dom0's vCPUs are the host's CPUs (as `xl list` counts them): CPU i's busy time from /proc/stat.
 */
static void dom0_rows(unsigned nr_cpus)
{
	char line[512], row[512];
	FILE *f = fopen("/proc/stat", "re");
	double secs[SV_CPUMAP_BYTES * 8] = { 0 };

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long user, nice, sys;
		unsigned cpu;

		if (sscanf(line, "cpu%u %llu %llu %llu", &cpu, &user, &nice, &sys) == 4 &&
		    cpu < SV_CPUMAP_BYTES * 8)
			secs[cpu] = (double)(user + nice + sys) / (double)sysconf(_SC_CLK_TCK);
	}
	if (f)
		fclose(f);
	for (unsigned i = 0; i < nr_cpus && i < SV_CPUMAP_BYTES * 8; i++) {
		struct sv_vcpu_info vi = { .vcpu = i,
					   .flags = SV_VCPUF_ONLINE | SV_VCPUF_RUNNING,
					   .cpu = (int32_t)i,
					   .cpu_time_ns = (uint64_t)(secs[i] * 1e9) };

		memset(vi.hard, 0xff, sizeof(vi.hard));
		xl_vcpu_row(row, sizeof(row), "Domain-0", 0, &vi, nr_cpus);
		printf("%s\n", row);
	}
}

/* The hypervisor's SV_CTL_VCPU_INFO for domid, checked; 0 or -errno. */
static int vcpu_info(struct svctl *c, uint32_t domid, struct sv_ctl_vcpu_info *out)
{
	struct sv_ctl_domid q = { .domid = domid };
	uint32_t got = 0;
	int ret = svctl_call(c, SV_CTL_VCPU_INFO, &q, sizeof(q), out, sizeof(*out), &got, NULL);

	if (ret)
		return ret;
	if (got != sizeof(*out) || out->nr > SV_CTL_VCPU_MAX)
		return -EPROTO;
	return 0;
}

/* A guest's rows; a domain gone since it was listed is skipped quietly when gone_ok. */
static int guest_rows(struct svctl *c, const struct sv_dominfo *d, bool gone_ok)
{
	static struct sv_ctl_vcpu_info info;
	char row[512];
	int ret = vcpu_info(c, d->domid, &info);

	if (ret == -ESRCH && gone_ok)
		return 0;
	if (ret) {
		xl_err("cannot read the vCPUs of domain '%s': %s", d->name, strerror(-ret));
		return ret;
	}
	for (uint32_t i = 0; i < info.nr; i++) {
		xl_vcpu_row(row, sizeof(row), d->name, d->domid, &info.vcpu[i], info.nr_cpus);
		printf("%s\n", row);
	}
	return 0;
}

/*
 * xl vcpu-list [<Domain> ...]: one row per vCPU of every domain (Domain-0
 * first), or of the domains named, in Xen 4.17's columns.  A name that
 * matches no domain is an error (exit 1) after the rows that did match.
 */
int xl_cmd_vcpu_list(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static struct sv_dominfo doms[SV_CTL_LIST_MAX];
	struct sv_host_info hi;
	struct svctl *c;
	int opt, n, ret;

	optind = 1;
	opterr = 0; /* one line of our own instead */
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		xl_err(LIST_USAGE);
		return 2;
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = svctl_host_info(c, &hi);
	n = ret ? ret : svctl_domain_list(c, 1, doms, SV_CTL_LIST_MAX);
	if (n < 0) {
		xl_err("cannot list domains: %s", strerror(-n));
		svctl_close(c);
		return 1;
	}
	ret = 0;
	printf("%s\n", xl_vcpu_header);
	if (optind >= argc) {
		dom0_rows(hi.nr_cpus);
		for (int i = 0; i < n; i++)
			if (guest_rows(c, &doms[i], true))
				ret = 1;
	}
	for (int a = optind; a < argc; a++) {
		bool found = false;

		if (is_dom0(argv[a])) {
			dom0_rows(hi.nr_cpus);
			continue;
		}
		for (int i = 0; i < n; i++) {
			char id[16];

			snprintf(id, sizeof(id), "%u", doms[i].domid);
			if (strcmp(doms[i].name, argv[a]) && strcmp(id, argv[a]))
				continue;
			found = true;
			if (guest_rows(c, &doms[i], false))
				ret = 1;
		}
		if (!found) {
			xl_err("domain '%s' does not exist", argv[a]);
			ret = 1;
		}
	}
	svctl_close(c);
	return ret;
}

/*
 * xl vcpu-pin [-f] <Domain> <VCPU|all> <CPUs|all> [<CPUs-soft>]: bind the
 * vCPU's host threads to CPUs (hard affinity).  Soft affinity can only be
 * "all" (or "-"): the host scheduler has no preference to give.  -f is
 * accepted (Xen's is about dom0_vcpus_pin, which dom0 here has not).
 * Every argument is checked before anything changes.
 */
int xl_cmd_vcpu_pin(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct sv_ctl_vcpu_pin pin = { 0 };
	struct sv_host_info hi;
	struct sv_dominfo di;
	struct svctl *c;
	const char *vcpu_arg, *hard_arg, *soft_arg;
	char err[160], *end;
	int opt, ret;

	optind = 1;
	opterr = 0; /* one line of our own instead */
	while ((opt = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		if (opt != 'f') {
			xl_err(PIN_USAGE);
			return 2;
		}
	}
	if (argc - optind < 3 || argc - optind > 4) {
		xl_err(PIN_USAGE);
		return 2;
	}
	vcpu_arg = argv[optind + 1];
	hard_arg = argv[optind + 2];
	soft_arg = argc - optind == 4 ? argv[optind + 3] : NULL;
	if (is_dom0(argv[optind])) {
		xl_err("vcpu-pin: Domain-0 is the host: its vCPUs are the host's CPUs (use taskset "
		       "for its processes)");
		return 1;
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = svctl_host_info(c, &hi);
	if (ret) {
		xl_err("cannot read host information: %s", strerror(-ret));
		goto out_fail;
	}
	if (xl_domid(c, argv[optind], &pin.domid) || svctl_domain_info(c, pin.domid, &di)) {
		ret = -ESRCH;
		goto out_fail;
	}
	if (!strcmp(vcpu_arg, "all")) {
		pin.vcpu = SV_VCPU_ALL;
	} else {
		errno = 0;
		unsigned long v = strtoul(vcpu_arg, &end, 10);
		if (!*vcpu_arg || *end || errno || *vcpu_arg == '-' || v > UINT32_MAX) {
			xl_err("vcpu-pin: invalid argument '%s' as VCPU", vcpu_arg);
			goto out_fail;
		}
		if (v >= di.max_vcpus) {
			xl_err("vcpu-pin: vcpu %lu out of range (domain '%s' has %u vCPU%s)", v,
			       di.name, di.max_vcpus, di.max_vcpus == 1 ? "" : "s");
			goto out_fail;
		}
		pin.vcpu = (uint32_t)v;
	}
	if (soft_arg && strcmp(soft_arg, "-")) {
		uint8_t soft[SV_CPUMAP_BYTES];
		char text[16];
		if (xl_cpulist_parse(soft_arg, hi.nr_cpus, soft, err, sizeof(err))) {
			xl_err("vcpu-pin: soft affinity: %s", err);
			goto out_fail;
		}
		xl_cpumap_text(soft, hi.nr_cpus, text, sizeof(text));
		if (strcmp(text, "all")) {
			xl_err("vcpu-pin: soft affinity '%s' is not supported: only 'all' (the "
			       "host scheduler takes no preference)",
			       soft_arg);
			goto out_fail;
		}
	}
	if (!strcmp(hard_arg, "-")) {
		svctl_close(c); /* only soft affinity, which stays all */
		return 0;
	}
	if (xl_cpulist_parse(hard_arg, hi.nr_cpus, pin.hard, err, sizeof(err))) {
		xl_err("vcpu-pin: %s", err);
		goto out_fail;
	}
	ret = svctl_call(c, SV_CTL_VCPU_PIN, &pin, sizeof(pin), NULL, 0, NULL, NULL);
	if (ret) {
		if (pin.vcpu == SV_VCPU_ALL)
			xl_err("could not set affinity: %s", strerror(-ret));
		else
			xl_err("could not set affinity for vcpu `%u': %s", pin.vcpu,
			       strerror(-ret));
		goto out_fail;
	}
	svctl_close(c);
	return 0;

out_fail:
	svctl_close(c);
	return 1;
}

struct availability {
	uint32_t domid;
	unsigned count, max;
};

/* Writes cpu/N/availability of every vCPU below max: online below count. */
static int availability_tx(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct availability *a = arg;
	char dom[SVXS_DOMAIN_DIR_MAX], node[32];
	int ret = 0;

	svxs_domain_dir(dom, a->domid);
	for (unsigned i = 0; !ret && i < a->max; i++) {
		snprintf(node, sizeof(node), "cpu/%u/availability", i);
		ret = svxs_write(xs, t, dom, node, i < a->count ? "online" : "offline");
	}
	return ret;
}

static int write_availability(struct xs_handle *xs, uint32_t domid, unsigned count, unsigned max)
{
	struct availability a = { .domid = domid, .count = count, .max = max };

	return svxs_transaction(xs, availability_tx, &a);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * xl vcpu-set [-i] <Domain> <count>: ask the guest, through its
 * cpu/N/availability keys (as libxl does for PV guests), to have count
 * vCPUs online, and wait until the hypervisor sees that many online
 * (progress on a terminal, quiet otherwise; an error after SET_WAIT_MS).
 * As Xen's, it refuses 0, more than the domain's maximum, and without -i
 * more than the host's CPUs when that adds vCPUs.
 */
int xl_cmd_vcpu_set(int argc, char **argv)
{
	static const struct option opts[] = { { "ignore-host", no_argument, NULL, 'i' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct sv_host_info hi;
	struct sv_dominfo di;
	struct xs_handle *xs = NULL;
	struct svctl *c;
	bool check_host = true, tty = isatty(STDERR_FILENO);
	uint32_t domid;
	unsigned long count;
	char *end;
	int opt, ret;

	optind = 1;
	opterr = 0; /* one line of our own instead */
	while ((opt = getopt_long(argc, argv, "+ih", opts, NULL)) != -1) {
		if (opt != 'i') {
			xl_err(SET_USAGE);
			return 2;
		}
		check_host = false;
	}
	if (argc - optind != 2) {
		xl_err(SET_USAGE);
		return 2;
	}
	errno = 0;
	count = strtoul(argv[optind + 1], &end, 10);
	if (!argv[optind + 1][0] || *end || errno || argv[optind + 1][0] == '-' || count > 4096) {
		xl_err("vcpu-set: invalid argument '%s' as vCPU count", argv[optind + 1]);
		return 1;
	}
	if (is_dom0(argv[optind])) {
		xl_err("vcpu-set: Domain-0 is the host: its vCPUs are the host's CPUs");
		return 1;
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = svctl_host_info(c, &hi);
	if (ret) {
		xl_err("cannot read host information: %s", strerror(-ret));
		goto out_fail;
	}
	if (xl_domid(c, argv[optind], &domid) || svctl_domain_info(c, domid, &di))
		goto out_fail;
	if (count == 0) {
		xl_err("vcpu-set: requested 0 VCPUs: a domain keeps at least one");
		goto out_fail;
	}
	if (count > di.max_vcpus) {
		xl_err("vcpu-set: requested %lu VCPUs, however maxcpus is %u", count, di.max_vcpus);
		goto out_fail;
	}
	if (check_host && count > di.online_vcpus && count > hi.nr_cpus) {
		xl_err("vcpu-set: you are overcommitting! You have %u physical CPUs and want %lu "
		       "vCPUs! Aborting, use --ignore-host to continue",
		       hi.nr_cpus, count);
		goto out_fail;
	}
	xs = svxs_open();
	if (!xs) {
		xl_err("vcpu-set: cannot reach xenstored: %s", strerror(errno));
		goto out_fail;
	}
	ret = write_availability(xs, domid, (unsigned)count, di.max_vcpus);
	if (ret) {
		xl_err("vcpu-set: cannot write /local/domain/%u/cpu: %s", domid, strerror(-ret));
		goto out_fail;
	}

	uint64_t start = now_ms();
	unsigned shown = ~0u;
	for (;;) {
		ret = svctl_domain_info(c, domid, &di);
		if (ret) {
			if (tty && shown != ~0u)
				fputc('\n', stderr);
			xl_err("vcpu-set: domain %u went away while its vCPUs changed", domid);
			goto out_fail;
		}
		if (di.online_vcpus == count)
			break;
		if (tty && di.online_vcpus != shown) {
			fprintf(stderr,
				"\rWaiting for domain %s (%u) to have %lu vCPU%s online: %u now ",
				di.name, domid, count, count == 1 ? "" : "s", di.online_vcpus);
			shown = di.online_vcpus;
		}
		if (now_ms() - start > SET_WAIT_MS) {
			if (tty)
				fputc('\n', stderr);
			xl_err("vcpu-set: domain '%s' has %u vCPU%s online, not %lu, after %d s: "
			       "the guest did not act on cpu/N/availability",
			       di.name, di.online_vcpus, di.online_vcpus == 1 ? "" : "s", count,
			       SET_WAIT_MS / 1000);
			goto out_fail;
		}
		usleep(50000);
	}
	if (tty && shown != ~0u)
		fprintf(stderr, "\rDomain %s (%u) has %lu vCPU%s online.%*s\n", di.name, domid,
			count, count == 1 ? "" : "s", 40, "");
	svxs_close(xs);
	svctl_close(c);
	return 0;

out_fail:
	svxs_close(xs);
	svctl_close(c);
	return 1;
}

/*
 * cpus = "LIST" of a domain being created: every vCPU's hard affinity,
 * set before it first runs (xl create and the monitor's restarts).
 */
int xl_vcpu_pin_config(struct svctl *c, uint32_t domid, const struct sv_config *cfg)
{
	struct sv_ctl_vcpu_pin pin = { .domid = domid, .vcpu = SV_VCPU_ALL };
	struct sv_host_info hi;
	char err[160];
	int ret;

	if (!cfg->cpus[0])
		return 0;
	ret = svctl_host_info(c, &hi);
	if (ret) {
		xl_err("cannot create '%s': cannot read host information: %s", cfg->name,
		       strerror(-ret));
		return ret;
	}
	ret = xl_cpulist_parse(cfg->cpus, hi.nr_cpus, pin.hard, err, sizeof(err));
	if (ret) {
		xl_err("cannot create '%s': cpus = \"%s\": %s", cfg->name, cfg->cpus, err);
		return ret;
	}
	ret = svctl_call(c, SV_CTL_VCPU_PIN, &pin, sizeof(pin), NULL, 0, NULL, NULL);
	if (ret)
		xl_err("cannot create '%s': cannot pin its vCPUs to %s: %s", cfg->name, cfg->cpus,
		       strerror(-ret));
	return ret;
}
