// SPDX-License-Identifier: MIT
// Quotas: C xenstored's names and defaults, run-time values, and the logged refusal check.
#include <string.h>

#include "xenstored.h"

static const struct {
	const char *name;
	const char *descr;
	int def;
} xs_quota_info[XS_Q_COUNT] = {
	[XS_Q_NODES] = { "nodes", "Nodes per domain", 1000 },
	[XS_Q_WATCHES] = { "watches", "Watches per domain", 128 },
	[XS_Q_TRANSACTIONS] = { "transactions", "Transactions per domain", 10 },
	[XS_Q_OUTSTANDING] = { "outstanding", "Outstanding requests per domain", 20 },
	[XS_Q_NODE_SIZE] = { "node-size", "Max. size of a node", 2048 },
	[XS_Q_PERMS] = { "permissions", "Max. number of permissions per node", 5 },
};

void xs_quota_defaults(struct xs_quotas *q)
{
	int i;

	for (i = 0; i < XS_Q_COUNT; i++)
		q->val[i] = xs_quota_info[i].def;
}

const char *xs_quota_name(enum xs_quota_id id)
{
	return xs_quota_info[id].name;
}

const char *xs_quota_descr(enum xs_quota_id id)
{
	return xs_quota_info[id].descr;
}

int xs_quota_lookup(const char *name)
{
	int i;

	for (i = 0; i < XS_Q_COUNT; i++)
		if (strcmp(name, xs_quota_info[i].name) == 0)
			return i;
	return -1;
}

bool xs_quota_exceeded(struct xs_daemon *d, const struct xs_caller *who, enum xs_quota_id id,
		       long used)
{
	/* Like C xenstored, quotas bind unprivileged domains only. */
	if (who->privileged || used <= d->quota.val[id])
		return false;
	xs_log(d, "quota: domain %u refused: %s quota %d exceeded (%ld)", who->domid,
	       xs_quota_info[id].name, d->quota.val[id], used);
	return true;
}
