// SPDX-License-Identifier: MIT
/*
 * xl sched-credit, as Xen 4.17's: the credit scheduler's weight and cap
 * per domain (the hypervisor maps them onto host cgroups), and the pool's
 * parameters, which here are fixed: the host kernel schedules.
 *
 *   xl sched-credit                       every domain, after the pool line
 *   xl sched-credit -d <Domain>           that domain
 *   xl sched-credit -d <Domain> [-w W] [-c C]   set weight and/or cap
 *   xl sched-credit -s                    the pool's parameters
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xl.h"

#define SCHED_USAGE "usage: xl sched-credit [-d <Domain> [-w <Weight>] [-c <Cap>]] [-s]"

static int sched_get(struct svctl *c, uint32_t domid, struct sv_ctl_sched *out)
{
	struct sv_ctl_domid q = { .domid = domid };
	uint32_t got = 0;
	int ret = svctl_call(c, SV_CTL_SCHED_GET, &q, sizeof(q), out, sizeof(*out), &got, NULL);

	return ret ? ret : got == sizeof(*out) ? 0 : -EPROTO;
}

static int sched_set(struct svctl *c, const struct sv_ctl_sched *in)
{
	struct sv_ctl_sched out;
	uint32_t got = 0;

	return svctl_call(c, SV_CTL_SCHED_SET, in, sizeof(*in), &out, sizeof(out), &got, NULL);
}

static void pool_line(void)
{
	/* Xen's credit defaults; the host kernel's scheduler stands behind them here. */
	printf("Cpupool Pool-0: tslice=30ms ratelimit=1000us migration-delay=0us\n");
}

static void header(void)
{
	printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
}

static void row(const char *name, uint32_t domid, const struct sv_ctl_sched *s)
{
	printf("%-33s %4" PRIu32 " %6" PRIu32 " %4" PRIu32 "\n", name, domid, s->weight, s->cap);
}

/* A whole decimal number (sign allowed, so a negative one can be refused by range). */
static bool parse_num(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return *s && !*end && !errno;
}

static int list_all(struct svctl *c)
{
	static struct sv_dominfo doms[SV_CTL_LIST_MAX];
	struct sv_ctl_sched s;
	int n, ret;

	ret = sched_get(c, 0, &s);
	n = ret ? 0 : svctl_domain_list(c, 1, doms, SV_CTL_LIST_MAX);
	if (ret || n < 0) {
		xl_err("cannot read the scheduling parameters: %s", strerror(ret ? -ret : -n));
		return 1;
	}
	pool_line();
	header();
	row("Domain-0", 0, &s);
	for (int i = 0; i < n; i++) {
		char name[sizeof(doms[i].name) + 1];
		ret = sched_get(c, doms[i].domid, &s);
		if (ret == -ESRCH)
			continue; /* gone since the list */
		if (ret) {
			xl_err("cannot read the scheduling parameters of domain %" PRIu32 ": %s",
			       doms[i].domid, strerror(-ret));
			return 1;
		}
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(doms[i].name), doms[i].name);
		row(name, doms[i].domid, &s);
	}
	return 0;
}

int xl_cmd_sched_credit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "weight", required_argument, NULL, 'w' },
		{ "cap", required_argument, NULL, 'c' },
		{ "schedparam", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dom = NULL, *wtext = NULL, *ctext = NULL;
	bool opt_s = false;
	long weight = 0, cap = 0;
	struct sv_ctl_sched s;
	struct sv_dominfo di;
	struct svctl *c;
	uint32_t domid = 0;
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+d:w:c:s", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dom = optarg;
			break;
		case 'w':
			wtext = optarg;
			break;
		case 'c':
			ctext = optarg;
			break;
		case 's':
			opt_s = true;
			break;
		default:
			xl_err(SCHED_USAGE);
			return 2;
		}
	}
	if (optind < argc) {
		xl_err(SCHED_USAGE);
		return 2;
	}
	if (opt_s && (dom || wtext || ctext)) {
		xl_err("Specifying a cpupool or schedparam is not allowed with domain options.");
		return 2;
	}
	if (!dom && (wtext || ctext)) {
		xl_err("Must specify a domain.");
		return 2;
	}
	if (wtext && !parse_num(wtext, &weight)) {
		xl_err("invalid weight '%s': not a number", wtext);
		return 2;
	}
	if (ctext && !parse_num(ctext, &cap)) {
		xl_err("invalid cap '%s': not a number", ctext);
		return 2;
	}
	if (opt_s) {
		pool_line();
		return 0;
	}
	c = xl_connect();
	if (!c)
		return 1;
	if (!dom) {
		ret = list_all(c);
		svctl_close(c);
		return ret;
	}

	bool is_dom0 = !strcmp(dom, "Domain-0") || !strcmp(dom, "0");
	ret = is_dom0 ? 0 : xl_domid(c, dom, &domid);
	if (!ret)
		ret = is_dom0 ? 0 : svctl_domain_info(c, domid, &di);
	if (!ret)
		ret = sched_get(c, domid, &s);
	if (ret) {
		if (ret != -ESRCH && ret != -EPERM) /* xl_domid said why */
			xl_err("cannot read the scheduling parameters of '%s': %s", dom,
			       strerror(-ret));
		else if (!is_dom0 && domid)
			xl_err("domain '%s' does not exist", dom);
		svctl_close(c);
		return 1;
	}
	if (!wtext && !ctext) {
		header();
		row(is_dom0 ? "Domain-0" : di.name, domid, &s);
		svctl_close(c);
		return 0;
	}
	if (is_dom0) {
		xl_err("Domain-0's scheduling parameters cannot be changed: "
		       "dom0's daemons keep the host's own scheduling");
		svctl_close(c);
		return 1;
	}
	/* libxl's checks and messages; the hypervisor checks again. */
	if (wtext && (weight < SV_SCHED_WEIGHT_MIN || weight > SV_SCHED_WEIGHT_MAX)) {
		xl_err("Cpu weight out of range, valid values are within range from 1 to 65535");
		svctl_close(c);
		return 1;
	}
	if (ctext && (cap < 0 || cap > (long)di.max_vcpus * 100)) {
		xl_err("Cpu cap out of range, valid range is from 0 to %u for specified number of "
		       "vcpus",
		       di.max_vcpus * 100);
		svctl_close(c);
		return 1;
	}
	if (wtext)
		s.weight = (uint32_t)weight;
	if (ctext)
		s.cap = (uint32_t)cap;
	s.domid = domid;
	s.flags = 0;
	ret = sched_set(c, &s);
	svctl_close(c);
	if (ret) {
		xl_err("cannot set the scheduling parameters of '%s': %s", dom, strerror(-ret));
		return 1;
	}
	return 0;
}

int xl_sched_apply_config(struct svctl *c, uint32_t domid, const struct sv_config *cfg)
{
	struct sv_ctl_sched s = { .domid = domid, .weight = cfg->cpu_weight, .cap = cfg->cap };
	int ret;

	if (cfg->cpu_weight == SV_SCHED_WEIGHT_DEFAULT && cfg->cap == 0)
		return 0; /* what a domain starts with */
	ret = sched_set(c, &s);
	if (ret)
		xl_err("domain '%s': cannot set cpu_weight = %u, cap = %u: %s", cfg->name,
		       cfg->cpu_weight, cfg->cap, strerror(-ret));
	return ret;
}
