// SPDX-License-Identifier: MIT
// Daemon context: the initial tree ("/" and "/tool", owned by dom0), default quotas, and tear-down.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

static int xs_daemon_base_node(struct xs_daemon *d, const char *path)
{
	struct xs_node *n;

	if (xs_map_get(&d->tree.map, path))
		return 0;
	n = xs_node_new(path);
	if (!n)
		return -ENOMEM;
	/* "n0": owned by dom0, nobody else may read or write. */
	n->perms[0].id = 0;
	n->perms[0].perm = XS_PERM_NONE;
	return xs_tree_insert(&d->tree, NULL, n);
}

int xs_daemon_init(struct xs_daemon *d)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->epfd = -1;
	sv_list_init(&d->conns);
	sv_list_init(&d->dirty);
	sv_list_init(&d->watches);
	xs_quota_defaults(&d->quota);
	d->domains = calloc(XS_NR_DOMAINS, sizeof(*d->domains));
	if (!d->domains)
		return -ENOMEM;
	ret = xs_tree_init(&d->tree);
	if (ret)
		goto out_domains;
	ret = xs_daemon_base_node(d, "/");
	if (ret)
		goto out_tree;
	return 0;

out_tree:
	xs_tree_destroy(&d->tree);
out_domains:
	free(d->domains);
	d->domains = NULL;
	return ret;
}

int xs_daemon_base_nodes(struct xs_daemon *d)
{
	struct xs_node *root;
	int ret = xs_daemon_base_node(d, "/");

	if (ret)
		return ret;
	if (xs_map_get(&d->tree.map, "/tool"))
		return 0;
	ret = xs_daemon_base_node(d, "/tool");
	if (ret)
		return ret;
	root = xs_map_get(&d->tree.map, "/");
	ret = xs_node_add_child(root, "tool");
	if (!ret)
		xs_tree_changed(&d->tree, NULL, root);
	return ret;
}

void xs_daemon_fini(struct xs_daemon *d)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->conns)
	    xs_conn_free(sv_container_of(pos, struct xs_conn, link));
	xs_tree_destroy(&d->tree);
	xs_domain_free_all(d);
}
