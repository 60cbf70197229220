// SPDX-License-Identifier: MIT
/* xl's small commands, as Xen 4.17's: uptime, dmesg, rename, sysrq, trigger. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>
#include "xl.h"
#include "xl_format.h"
#include "sv/svxs.h"

/* ---- xl uptime ---- */

#define UPTIME_USAGE "usage: xl uptime [-s] [<Domain> ...]"

/* The host's uptime in whole seconds (/proc/uptime), as Xen gives Domain-0's. */
static int host_uptime(uint64_t *secs)
{
	FILE *f = fopen("/proc/uptime", "r");
	double up = 0;
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%lf", &up) == 1 && up >= 0;
	fclose(f);
	if (!ok)
		return -EINVAL;
	*secs = (uint64_t)up;
	return 0;
}

/*
 * When the domain started, as libxl keeps it: /vm/<uuid>/start_time,
 * found through /local/domain/<domid>/vm; -ENOENT when not there.
 */
static int start_time(struct xs_handle *xs, uint32_t domid, uint64_t *secs)
{
	char dom[SVXS_DOMAIN_DIR_MAX];
	char *vm, *text;
	int ret;

	if (!xs)
		return -ENOTCONN;
	svxs_domain_dir(dom, domid);
	vm = svxs_read(xs, XBT_NULL, dom, "vm");
	if (!vm || strncmp(vm, "/vm/", 4) || strlen(vm) > 512) {
		free(vm);
		return -ENOENT;
	}
	text = svxs_read(xs, XBT_NULL, vm, "start_time");
	free(vm);
	if (!text)
		return -ENOENT;
	ret = xl_start_time_parse(text, secs);
	free(text);
	return ret;
}

static void uptime_line(const char *name, uint32_t domid, uint64_t up, bool short_form, time_t now)
{
	char text[64], clock[16];
	struct tm tm;

	xl_uptime_text(up, short_form, text, sizeof(text));
	if (!short_form) {
		printf("%-33s %4u %s\n", name, domid, text);
		return;
	}
	if (!localtime_r(&now, &tm) || !strftime(clock, sizeof(clock), "%H:%M:%S", &tm))
		snprintf(clock, sizeof(clock), "??:??:??");
	printf(" %s up %s, %s (%u)\n", clock, text, name, domid);
}

/*
 * xl uptime [-s] [<Domain> ...]: each domain's time since it was built,
 * Domain-0's being the host's.  Every name is resolved before anything
 * is printed.
 */
int xl_cmd_uptime(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static struct sv_dominfo doms[SV_CTL_LIST_MAX];
	static uint32_t want[SV_CTL_LIST_MAX + 1];
	struct xs_handle *xs = NULL;
	struct svctl *c;
	bool short_form = false;
	int opt, n = 0, nwant = 0, ret = 0;
	time_t now;

	optind = 1;
	opterr = 0; /* one line of our own on a bad option */
	while ((opt = getopt_long(argc, argv, "+sh", opts, NULL)) != -1) {
		if (opt != 's') {
			xl_err(UPTIME_USAGE);
			return 2;
		}
		short_form = true;
	}
	if (argc - optind > SV_CTL_LIST_MAX) {
		xl_err("at most %d domains at once", SV_CTL_LIST_MAX);
		return 2;
	}
	c = xl_connect();
	if (!c)
		return 1;
	for (int a = optind; a < argc; a++) {
		if (!strcmp(argv[a], "Domain-0") || !strcmp(argv[a], "0"))
			want[nwant++] = 0;
		else if (xl_domid(c, argv[a], &want[nwant++])) {
			svctl_close(c);
			return 1;
		}
	}
	if (optind >= argc) {
		n = svctl_domain_list(c, 1, doms, SV_CTL_LIST_MAX);
		if (n < 0) {
			xl_err("cannot list domains: %s", strerror(-n));
			svctl_close(c);
			return 1;
		}
		want[nwant++] = 0;
		for (int i = 0; i < n; i++)
			want[nwant++] = doms[i].domid;
	}

	xs = svxs_open();
	now = time(NULL);
	if (!short_form)
		printf("%-33s %4s %s\n", "Name", "ID", "Uptime");
	for (int i = 0; i < nwant; i++) {
		struct sv_dominfo di;
		uint64_t up = 0, since = 0;
		int r;

		if (want[i] == 0) {
			r = host_uptime(&up);
			if (r) {
				xl_err("cannot read the host's uptime: %s", strerror(-r));
				ret = 1;
				continue;
			}
			uptime_line("Domain-0", 0, up, short_form, now);
			continue;
		}
		r = svctl_domain_info(c, want[i], &di);
		if (r == -ESRCH)
			continue; /* gone since: as if it never was */
		if (!r)
			r = start_time(xs, want[i], &since);
		if (r) {
			xl_err("cannot get the start time of domain %u: %s", want[i],
			       r == -ENOTCONN ? "xenstored is not reachable" : strerror(-r));
			ret = 1;
			continue;
		}
		up = (uint64_t)now > since ? (uint64_t)now - since : 0;
		di.name[sizeof(di.name) - 1] = '\0';
		uptime_line(di.name, want[i], up, short_form, now);
	}
	svxs_close(xs);
	svctl_close(c);
	return ret;
}

/* ---- xl dmesg ---- */

/*
 * xl dmesg [-c]: the hypervisor's log ring, oldest line first; with -c the
 * lines printed are dropped from it, as Xen's `xl dmesg -c` reads and
 * clears.  Lines logged while this runs are printed too (or stay, with -c,
 * when they come after the last read).
 */
int xl_cmd_dmesg(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static char buf[SV_CTL_MAX_PAYLOAD];
	struct sv_ctl_hvlog_read q = { .offset = 0 };
	struct svctl *c;
	bool clear = false;
	int opt, ret = 0;

	optind = 1;
	opterr = 0; /* one line of our own on a bad option */
	while ((opt = getopt_long(argc, argv, "+ch", opts, NULL)) != -1) {
		if (opt != 'c') {
			xl_err("usage: xl dmesg [-c]");
			return 2;
		}
		clear = true;
	}
	if (optind != argc) {
		xl_err("usage: xl dmesg [-c]");
		return 2;
	}
	c = xl_connect();
	if (!c)
		return 1;
	q.max = (uint32_t)(sizeof(buf) - sizeof(struct sv_ctl_hvlog_data));
	q.flags = clear ? SV_HVLOG_F_CLEAR : 0;
	for (;;) {
		struct sv_ctl_hvlog_data *d = (struct sv_ctl_hvlog_data *)buf;
		uint32_t got = 0;

		ret = svctl_call(c, SV_CTL_HVLOG_READ, &q, sizeof(q), buf, sizeof(buf), &got, NULL);
		if (!ret && (got < sizeof(*d) || d->len > got - sizeof(*d)))
			ret = -EPROTO;
		if (ret) {
			xl_err("cannot read the hypervisor's log: %s", strerror(-ret));
			break;
		}
		if (!d->len)
			break;
		if (fwrite(d->data, 1, d->len, stdout) != d->len) {
			ret = -EIO;
			break;
		}
		q.offset = d->next;
	}
	svctl_close(c);
	if (fflush(stdout))
		ret = -EIO;
	return ret ? 1 : 0;
}

/* ---- xl rename ---- */

static int domain_rename(struct svctl *c, uint32_t domid, const char *name)
{
	struct sv_ctl_rename q = { .domid = domid };

	snprintf(q.name, sizeof(q.name), "%s", name);
	return svctl_call(c, SV_CTL_DOMAIN_RENAME, &q, sizeof(q), NULL, 0, NULL, NULL);
}

struct rename {
	uint32_t domid;
	const char *name;
};

/* /local/domain/<domid>/name and /vm/<uuid>/name in one transaction, as libxl renames. */
static int xs_rename_tx(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct rename *r = arg;
	char dom[SVXS_DOMAIN_DIR_MAX];
	char *vm;
	int ret;

	svxs_domain_dir(dom, r->domid);
	vm = svxs_read(xs, t, dom, "vm");
	ret = svxs_write(xs, t, dom, "name", r->name);
	if (!ret && vm && !strncmp(vm, "/vm/", 4) && strlen(vm) < 512)
		ret = svxs_write(xs, t, vm, "name", r->name);
	free(vm);
	return ret;
}

/*
 * xl rename <Domain> <NewName>: the hypervisor first (it keeps names
 * unique among live domains, so two renames cannot both win), then
 * xenstore; when xenstore fails the old name is put back.
 */
int xl_cmd_rename(int argc, char **argv)
{
	struct sv_dominfo di;
	struct xs_handle *xs;
	const char *why;
	struct svctl *c;
	uint32_t domid;
	int ret;

	if (argc != 3) {
		xl_err("usage: xl rename <Domain> <NewName>");
		return 2;
	}
	if (strlen(argv[2]) >= sizeof(di.name)) {
		xl_err("cannot rename domain '%s': the name '%s' is longer than %zu characters",
		       argv[1], argv[2], sizeof(di.name) - 1);
		return 1;
	}
	if (!sv_config_name_ok(argv[2], &why)) {
		xl_err("cannot rename domain '%s': the name '%s' %s", argv[1], argv[2], why);
		return 1;
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = xl_domid(c, argv[1], &domid);
	if (ret)
		goto out;
	ret = svctl_domain_info(c, domid, &di);
	if (!ret)
		ret = domain_rename(c, domid, argv[2]);
	if (ret == -EEXIST) {
		xl_err("cannot rename domain '%s': a domain named '%s' already exists", argv[1],
		       argv[2]);
		goto out;
	}
	if (ret) {
		xl_err("cannot rename domain '%s': %s", argv[1], strerror(-ret));
		goto out;
	}
	xs = svxs_open();
	struct rename r = { .domid = domid, .name = argv[2] };
	ret = xs ? svxs_transaction(xs, xs_rename_tx, &r) : -ENOTCONN;
	svxs_close(xs);
	if (ret) {
		di.name[sizeof(di.name) - 1] = '\0';
		domain_rename(c, domid, di.name);
		xl_err("cannot rename domain '%s': xenstore: %s", argv[1],
		       ret == -ENOTCONN ? "xenstored is not reachable" : strerror(-ret));
	}
out:
	svctl_close(c);
	return ret ? 1 : 0;
}

/* ---- xl sysrq ---- */

/*
 * xl sysrq <Domain> <letter>: writes the letter to control/sysrq, as
 * libxl does; the guest's driver watches the key, clears it and acts.
 */
int xl_cmd_sysrq(int argc, char **argv)
{
	char dom[SVXS_DOMAIN_DIR_MAX];
	struct xs_handle *xs = NULL;
	struct svctl *c;
	uint32_t domid;
	int ret;

	if (argc != 3) {
		xl_err("usage: xl sysrq <Domain> <letter>");
		return 2;
	}
	if (strlen(argv[2]) != 1) {
		xl_err("sysrq must be just a single character, not '%s'", argv[2]);
		return 1;
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = xl_domid(c, argv[1], &domid);
	if (ret)
		goto out;
	xs = svxs_open();
	if (!xs) {
		ret = -ENOTCONN;
		xl_err("cannot send sysrq to domain '%s': xenstored is not reachable", argv[1]);
		goto out;
	}
	svxs_domain_dir(dom, domid);
	ret = svxs_write(xs, XBT_NULL, dom, "control/sysrq", argv[2]);
	if (ret)
		xl_err("cannot send sysrq to domain '%s': %s", argv[1], strerror(-ret));
out:
	svxs_close(xs);
	svctl_close(c);
	return ret ? 1 : 0;
}

/* ---- xl trigger ---- */

static const struct {
	const char *name;
	int trigger; /* sv_trigger; -1: none (s3resume is libxl's own) */
} triggers[] = {
	{ "nmi", SV_TRIGGER_NMI },     { "reset", SV_TRIGGER_RESET }, { "init", SV_TRIGGER_INIT },
	{ "power", SV_TRIGGER_POWER }, { "sleep", SV_TRIGGER_SLEEP }, { "s3resume", -1 },
};

/*
 * xl trigger <Domain> <nmi|reset|init|power|sleep|s3resume> [<VCPU>]: as
 * Xen for a PV guest, only nmi does anything (the guest's NMI callback
 * on that vCPU, 0 by default); the rest act on HVM platform devices and
 * are refused here with nothing sent.
 */
int xl_cmd_trigger(int argc, char **argv)
{
	struct sv_ctl_trigger q = { 0 };
	struct sv_dominfo di;
	struct svctl *c;
	unsigned long vcpu = 0;
	size_t t;
	int ret;

	if (argc < 3 || argc > 4) {
		xl_err("usage: xl trigger <Domain> <nmi|reset|init|power|sleep|s3resume> [<VCPU>]");
		return 2;
	}
	for (t = 0; t < sizeof(triggers) / sizeof(triggers[0]); t++)
		if (!strcmp(argv[2], triggers[t].name))
			break;
	if (t == sizeof(triggers) / sizeof(triggers[0])) {
		xl_err("invalid trigger '%s' (nmi, reset, init, power, sleep or s3resume)",
		       argv[2]);
		return 1;
	}
	if (argc == 4) {
		char *end;

		errno = 0;
		vcpu = strtoul(argv[3], &end, 10);
		if (!*argv[3] || *end || errno || argv[3][0] == '-' || vcpu > UINT32_MAX) {
			xl_err("invalid vCPU '%s': expected a vCPU number", argv[3]);
			return 1;
		}
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = xl_domid(c, argv[1], &q.domid);
	if (ret)
		goto out;
	ret = svctl_domain_info(c, q.domid, &di);
	if (ret) {
		xl_err("cannot look up domain '%s': %s", argv[1], strerror(-ret));
		goto out;
	}
	if (triggers[t].trigger != SV_TRIGGER_NMI) {
		xl_err("cannot send trigger '%s' to domain '%s': it acts on HVM guests only, and "
		       "this is a PV guest",
		       argv[2], argv[1]);
		ret = -EINVAL;
		goto out;
	}
	if (vcpu >= di.max_vcpus) {
		xl_err("cannot send trigger '%s' to domain '%s': it has no vCPU %lu (vCPUs 0-%u)",
		       argv[2], argv[1], vcpu, di.max_vcpus - 1);
		ret = -EINVAL;
		goto out;
	}
	q.trigger = (uint32_t)triggers[t].trigger;
	q.vcpu = (uint32_t)vcpu;
	ret = svctl_call(c, SV_CTL_DOMAIN_TRIGGER, &q, sizeof(q), NULL, 0, NULL, NULL);
	if (ret)
		xl_err("cannot send trigger '%s' to domain '%s': %s", argv[2], argv[1],
		       strerror(-ret));
out:
	svctl_close(c);
	return ret ? 1 : 0;
}
