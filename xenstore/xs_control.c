// SPDX-License-Identifier: MIT
// CONTROL requests (xenstore-control): help, log, logfile, print, check, memreport, quota,
// quota-soft, restrict.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

#define XS_CTL_BUF XENSTORE_PAYLOAD_MAX

struct xs_ctl {
	struct xs_conn *c;
	const struct xsd_sockmsg *hdr;
	const char *const *argv; /* arguments after the command */
	unsigned int argc;
};

static int xs_ctl_reply(struct xs_ctl *x, const char *text)
{
	return xs_conn_send(x->c, XS_CONTROL, x->hdr->req_id, x->hdr->tx_id, text,
			    (uint32_t)strlen(text) + 1, NULL, 0);
}

static int xs_ctl_ok(struct xs_ctl *x)
{
	return xs_ctl_reply(x, "OK");
}

static int xs_ctl_log(struct xs_ctl *x)
{
	if (x->argc != 1)
		return -EINVAL;
	if (strcmp(x->argv[0], "on") == 0)
		x->c->d->trace = true;
	else if (strcmp(x->argv[0], "off") == 0)
		x->c->d->trace = false;
	else
		return -EINVAL;
	return xs_ctl_ok(x);
}

static int xs_ctl_logfile(struct xs_ctl *x)
{
	struct xs_daemon *d = x->c->d;
	FILE *f;

	if (x->argc != 1)
		return -EINVAL;
	f = fopen(x->argv[0], "ae");
	if (!f)
		return -errno;
	if (d->log)
		fclose(d->log);
	d->log = f;
	return xs_ctl_ok(x);
}

static int xs_ctl_print(struct xs_ctl *x)
{
	if (x->argc != 1)
		return -EINVAL;
	xs_log(x->c->d, "control: %s", x->argv[0]);
	return xs_ctl_ok(x);
}

/* Every node's parent must exist and list it; child counts must match. */
static int xs_ctl_check(struct xs_ctl *x)
{
	struct xs_daemon *d = x->c->d;
	struct xs_node *n;
	char parent[XENSTORE_ABS_PATH_MAX + 1];
	unsigned long bad = 0, links = 0;
	size_t i;

	xs_map_for_each(&d->tree.map, i, n)
	{
		const struct xs_node *p;
		uint32_t k;
		bool found = false;

		links += n->nchildren;
		if (strcmp(n->path, "/") == 0)
			continue;
		xs_node_parent(n->path, parent, sizeof(parent));
		p = xs_map_get(&d->tree.map, parent);
		for (k = 0; p && k < p->nchildren; k++)
			if (strcmp(p->children[k], xs_node_leaf(n->path)) == 0)
				found = true;
		if (!found) {
			xs_log(d, "check: node %s not listed by its parent", n->path);
			bad++;
		}
	}
	if (links + 1 != d->tree.map.count) {
		xs_log(d, "check: %lu child links for %zu nodes", links, d->tree.map.count);
		bad++;
	}
	xs_log(d, "check: %zu nodes, %lu problems", d->tree.map.count, bad);
	return bad ? -EIO : xs_ctl_ok(x);
}

static int xs_ctl_memreport(struct xs_ctl *x)
{
	struct xs_daemon *d = x->c->d;
	struct sv_list *pos, *tmp;
	unsigned long conns = 0, watches = 0;

	sv_list_for_each_safe(pos, tmp, &d->conns)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);

		conns++;
		watches += c->nwatches;
	}
	xs_log(d, "memreport: %zu nodes, %lu connections, %lu watches", d->tree.map.count, conns,
	       watches);
	return xs_ctl_ok(x);
}

static int xs_ctl_quota_show(struct xs_ctl *x)
{
	char buf[XS_CTL_BUF];
	size_t off;
	int i;

	off = (size_t)snprintf(buf, sizeof(buf), "Quota settings:\n");
	for (i = 0; i < XS_Q_COUNT && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%-17s: %8d %s\n",
					xs_quota_name(i), x->c->d->quota.val[i], xs_quota_descr(i));
	return xs_ctl_reply(x, buf);
}

/* What one domain uses now, against each quota. */
static int xs_ctl_quota_domain(struct xs_ctl *x, unsigned int domid)
{
	struct xs_daemon *d = x->c->d;
	struct sv_list *pos, *tmp;
	unsigned long watches = 0, txns = 0, out = 0;
	char buf[XS_CTL_BUF];

	if (!xs_domain_is_introduced(d, domid))
		return -ENOENT;
	sv_list_for_each_safe(pos, tmp, &d->conns)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);

		if (c->domid != domid || c->dead)
			continue;
		watches += c->nwatches;
		txns += c->ntxns;
		out += c->out_msgs;
	}
	snprintf(buf, sizeof(buf),
		 "Domain %u:\n%-17s: %8u\n%-17s: %8lu\n%-17s: %8lu\n%-17s: %8lu\n", domid, "nodes",
		 d->tree.owned[domid], "watches", watches, "transactions", txns, "outstanding",
		 out);
	return xs_ctl_reply(x, buf);
}

static int xs_ctl_quota(struct xs_ctl *x)
{
	struct xs_daemon *d = x->c->d;
	unsigned int domid;
	char *end;
	long val;
	int q;

	if (x->argc == 0)
		return xs_ctl_quota_show(x);
	if (strcmp(x->argv[0], "set") == 0) {
		if (x->argc != 3)
			return -EINVAL;
		q = xs_quota_lookup(x->argv[1]);
		errno = 0;
		val = strtol(x->argv[2], &end, 10);
		if (q < 0 || errno || *end || val < 1 || val > 1000000000)
			return -EINVAL;
		d->quota.val[q] = (int)val;
		xs_log(d, "quota %s set to %ld", x->argv[1], val);
		xs_persist_quota(d);
		return xs_ctl_ok(x);
	}
	if (x->argc != 1 || xs_wire_parse_domid(x->argv[0], &domid))
		return -EINVAL;
	return xs_ctl_quota_domain(x, domid);
}

static int xs_ctl_quota_soft(struct xs_ctl *x)
{
	/* No soft quotas: memory is not accounted per domain. */
	if (x->argc == 0)
		return xs_ctl_reply(x, "Quota settings:\n");
	return -EINVAL;
}

/*
 * restrict <domid>: from now on this connection acts as (unprivileged)
 * <domid>, like the old XS_RESTRICT. A one-way privilege drop, used by
 * tests and by dom0 tools that serve a guest.
 */
static int xs_ctl_restrict(struct xs_ctl *x)
{
	unsigned int domid;

	if (x->argc != 1 || xs_wire_parse_domid(x->argv[0], &domid))
		return -EINVAL;
	if (x->c->ntxns)
		return -EBUSY;
	x->c->domid = domid;
	x->c->restricted = true;
	if (x->c->persistent)
		xs_persist_conn(x->c->d, x->c);
	return xs_ctl_ok(x);
}

static int xs_ctl_help(struct xs_ctl *x);

static const struct {
	const char *cmd;
	int (*fn)(struct xs_ctl *x);
	const char *pars;
} xs_ctl_cmds[] = {
	{ "check", xs_ctl_check, "" },
	{ "log", xs_ctl_log, "on|off" },
	{ "logfile", xs_ctl_logfile, "<file>" },
	{ "memreport", xs_ctl_memreport, "[<file>]" },
	{ "print", xs_ctl_print, "<string>" },
	{ "quota", xs_ctl_quota, "[set <name> <val>|<domid>]" },
	{ "quota-soft", xs_ctl_quota_soft, "[set <name> <val>]" },
	{ "restrict", xs_ctl_restrict, "<domid>" },
	{ "help", xs_ctl_help, "" },
};

#define XS_CTL_NCMDS (sizeof(xs_ctl_cmds) / sizeof(xs_ctl_cmds[0]))

static int xs_ctl_help(struct xs_ctl *x)
{
	char buf[XS_CTL_BUF];
	size_t off = 0, i;

	if (x->argc)
		return -EINVAL;
	for (i = 0; i < XS_CTL_NCMDS; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s\t%s\n",
					xs_ctl_cmds[i].cmd, xs_ctl_cmds[i].pars);
	return xs_ctl_reply(x, buf);
}

int xs_control(struct xs_conn *c, const struct xsd_sockmsg *hdr, const struct xs_args *a)
{
	struct xs_ctl x = { .c = c, .hdr = hdr };
	size_t i;

	if (a->n < 1)
		return -EINVAL;
	x.argv = &a->s[1];
	x.argc = a->n - 1;
	for (i = 0; i < XS_CTL_NCMDS; i++)
		if (strcmp(a->s[0], xs_ctl_cmds[i].cmd) == 0)
			return xs_ctl_cmds[i].fn(&x);
	return -EINVAL;
}
