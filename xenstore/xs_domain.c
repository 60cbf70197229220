// SPDX-License-Identifier: MIT
// Domains: INTRODUCE/RELEASE/SET_TARGET bookkeeping, @introduceDomain/@releaseDomain, and the guest
// ring attach point.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

/* Xen's DOMID_FIRST_RESERVED: ids from here on are never real domains. */
#define XS_DOMID_FIRST_RESERVED 0x7FF0u

struct xs_domain *xs_domain_get(struct xs_daemon *d, unsigned int domid)
{
	if (domid >= XS_NR_DOMAINS)
		return NULL;
	return d->domains[domid];
}

bool xs_domain_is_introduced(struct xs_daemon *d, unsigned int domid)
{
	struct xs_domain *dom = xs_domain_get(d, domid);

	if (domid == 0)
		return true;
	return dom && dom->introduced;
}

void xs_caller_of(struct xs_daemon *d, const struct xs_conn *c, struct xs_caller *who)
{
	struct xs_domain *dom = xs_domain_get(d, c->domid);

	who->domid = c->domid;
	who->privileged = c->domid == 0 && !c->restricted;
	who->target = dom ? dom->target : XS_DOMID_NONE;
}

/*
 * Binds the domain's xenstore ring (struct xenstore_domain_interface in
 * guest page @mfn, event channel @port) to a ring transport connection.
 * That needs the hypervisor (xs_xen.c sets d->ring_attach when it is
 * there); without one, INTRODUCE only does the store's bookkeeping and
 * this returns -ENOSYS.
 */
int xs_domain_attach_ring(struct xs_daemon *d, struct xs_domain *dom)
{
	int ret;

	if (!d->ring_attach && d->ring_reopen)
		d->ring_reopen(d);
	if (!d->ring_attach) {
		xs_log(d, "domain %u: ring attach (mfn %llu, port %u) not available: ENOSYS",
		       dom->domid, (unsigned long long)dom->mfn, dom->port);
		return -ENOSYS;
	}
	ret = d->ring_attach(d, dom);
	if (ret)
		xs_log(d, "domain %u: ring attach failed: %s", dom->domid, strerror(-ret));
	return ret;
}

int xs_domain_introduce(struct xs_daemon *d, unsigned int domid, uint64_t mfn, unsigned int port)
{
	struct xs_domain *dom;

	if (domid == 0 || domid >= XS_DOMID_FIRST_RESERVED)
		return -EINVAL;
	dom = d->domains[domid];
	if (dom && dom->introduced) {
		/* Re-introducing the same ring is harmless (restore paths). */
		if (dom->mfn == mfn && dom->port == port)
			return 0;
		return -EEXIST;
	}
	if (!dom) {
		dom = calloc(1, sizeof(*dom));
		if (!dom)
			return -ENOMEM;
		dom->domid = domid;
		dom->target = XS_DOMID_NONE;
		d->domains[domid] = dom;
	}
	dom->introduced = true;
	dom->mfn = mfn;
	dom->port = port;
	xs_log(d, "domain %u introduced (mfn %llu, port %u)", domid, (unsigned long long)mfn, port);
	xs_domain_attach_ring(d, dom);
	xs_persist_domain(d, dom);
	xs_watch_fire(d, "@introduceDomain", false, NULL, 0);
	return 0;
}

static int xs_domain_path_cmp(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);

	return x < y ? -1 : x > y;
}

/*
 * As C xenstored does for a domain that goes away: every node it owns
 * (and what lies below) is removed, so a reused domid finds nothing stale
 * and the toolstack gets watch events for each removal.
 */
static void xs_domain_remove_nodes(struct xs_daemon *d, unsigned int domid)
{
	struct xs_store_ctx s = {
		.d = d,
		.who = { .domid = 0, .target = XS_DOMID_NONE, .privileged = true },
	};
	char **paths;
	struct xs_node *n;
	size_t i, k = 0, cnt = d->tree.owned[domid];

	if (!cnt)
		return;
	paths = calloc(cnt, sizeof(*paths));
	if (!paths)
		return;
	xs_map_for_each(&d->tree.map, i, n)
	{
		if (n->perms[0].id == domid && k < cnt && strcmp(n->path, "/"))
			paths[k++] = strdup(n->path);
	}
	/* Parents first: removing one takes its children along. */
	qsort(paths, k, sizeof(*paths), xs_domain_path_cmp);
	for (i = 0; i < k; i++) {
		if (paths[i] && xs_map_get(&d->tree.map, paths[i]))
			xs_store_rm(&s, paths[i]);
		free(paths[i]);
	}
	free(paths);
	xs_log(d, "domain %u: %zu owned nodes removed", domid, k);
}

int xs_domain_release(struct xs_daemon *d, unsigned int domid)
{
	struct xs_domain *dom = xs_domain_get(d, domid);
	struct sv_list *pos, *tmp;

	if (domid == 0 || domid >= XS_DOMID_FIRST_RESERVED)
		return -EINVAL;
	if (!dom || !dom->introduced)
		return -ENOENT;
	/* Every connection speaking as this domain loses watches and transactions. */
	sv_list_for_each_safe(pos, tmp, &d->conns)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);

		if (c->domid != domid)
			continue;
		xs_watch_del_all(d, c);
		xs_conn_drop_txns(c);
		if (c == dom->conn)
			xs_conn_kill(c, "domain released");
	}
	dom->conn = NULL;
	dom->introduced = false;
	dom->target = XS_DOMID_NONE;
	xs_log(d, "domain %u released", domid);
	xs_domain_remove_nodes(d, domid);
	xs_persist_domain(d, dom);
	d->domains[domid] = NULL;
	free(dom);
	xs_watch_fire(d, "@releaseDomain", false, NULL, 0);
	return 0;
}

int xs_domain_set_target(struct xs_daemon *d, unsigned int domid, unsigned int target)
{
	struct xs_domain *dom = xs_domain_get(d, domid);

	if (domid == 0 || domid >= XS_DOMID_FIRST_RESERVED || target >= XS_DOMID_FIRST_RESERVED ||
	    domid == target)
		return -EINVAL;
	if (!dom || !dom->introduced || !xs_domain_is_introduced(d, target))
		return -ENOENT;
	dom->target = (int)target;
	xs_log(d, "domain %u now targets domain %u", domid, target);
	xs_persist_domain(d, dom);
	return 0;
}

void xs_domain_free_all(struct xs_daemon *d)
{
	unsigned int i;

	if (!d->domains)
		return;
	for (i = 0; i < XS_NR_DOMAINS; i++)
		free(d->domains[i]);
	free(d->domains);
	d->domains = NULL;
}
