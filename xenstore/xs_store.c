// SPDX-License-Identifier: MIT
// Store operations (read, write, mkdir, rm, set-perms) with Xen's permission, implicit-parent and
// quota rules.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

#define XS_PATH_BUF (XENSTORE_ABS_PATH_MAX + 1)

/*
 * Error for a missing node: EACCES if the nearest existing ancestor hides
 * it from the caller, else ENOENT (so permissions don't leak existence).
 */
static int xs_store_missing(struct xs_store_ctx *s, const char *path)
{
	char walk[XS_PATH_BUF], parent[XS_PATH_BUF];
	const struct xs_node *n;

	snprintf(walk, sizeof(walk), "%s", path);
	while (strcmp(walk, "/") != 0) {
		xs_node_parent(walk, parent, sizeof(parent));
		n = xs_tree_get(&s->d->tree, s->tx, parent);
		if (n)
			return xs_perms_can(&s->who, n, XS_PERM_READ) ? -ENOENT : -EACCES;
		snprintf(walk, sizeof(walk), "%s", parent);
	}
	return -ENOENT;
}

void xs_store_event(struct xs_store_ctx *s, const char *path, bool recursive,
		    const struct xs_perm *p, uint32_t np)
{
	if (s->tx) {
		if (xs_txn_add_event(s->tx, path, recursive, p, np))
			xs_log(s->d, "transaction %u: event for %s lost (ENOMEM)", s->tx->id, path);
		return;
	}
	xs_watch_fire(s->d, path, recursive, p, np);
}

int xs_store_read(struct xs_store_ctx *s, const char *path, const struct xs_node **out)
{
	const struct xs_node *n = xs_tree_get(&s->d->tree, s->tx, path);

	if (!n)
		return xs_store_missing(s, path);
	if (!xs_perms_can(&s->who, n, XS_PERM_READ))
		return -EACCES;
	*out = n;
	return 0;
}

/* Owner a new node gets: the creator, unless dom0 tools create it. */
static int xs_store_new_perms(struct xs_store_ctx *s, struct xs_node *n,
			      const struct xs_node *parent)
{
	if (xs_node_set_perms(n, parent->perms, parent->nperms))
		return -ENOMEM;
	if (!s->who.privileged)
		n->perms[0].id = (uint16_t)s->who.domid;
	return 0;
}

/*
 * Creates @path and any missing ancestors with empty values. Needs write
 * access to the nearest existing ancestor and room in the node quota.
 */
static int xs_store_create(struct xs_store_ctx *s, const char *path, const void *val, uint32_t len)
{
	struct xs_tree *t = &s->d->tree;
	char node[XS_PATH_BUF], parent[XS_PATH_BUF];
	size_t ends[XENSTORE_ABS_PATH_MAX / 2 + 1];
	unsigned int nmissing = 0, i;
	const struct xs_node *anc;
	size_t end = strlen(path);
	long used;
	int ret;

	/* Walk up to the nearest existing node, remembering each gap. */
	for (;;) {
		memcpy(node, path, end);
		node[end] = '\0';
		anc = xs_tree_get(t, s->tx, node);
		if (anc)
			break;
		if (nmissing == sizeof(ends) / sizeof(ends[0]))
			return -EINVAL;
		ends[nmissing++] = end;
		end = (size_t)(strrchr(node, '/') - node);
		if (end == 0)
			end = 1; /* the root, which always exists */
	}
	if (!xs_perms_can(&s->who, anc, XS_PERM_WRITE))
		return -EACCES;
	used = (long)t->owned[s->who.domid] + (s->tx ? s->tx->nodes_added : 0) + nmissing;
	if (xs_quota_exceeded(s->d, &s->who, XS_Q_NODES, used))
		return -ENOSPC;
	/* Create top-down: each new node's parent exists when it is made. */
	for (i = nmissing; i-- > 0;) {
		struct xs_node *p, *n;
		const char *leaf;

		memcpy(node, path, ends[i]);
		node[ends[i]] = '\0';
		xs_node_parent(node, parent, sizeof(parent));
		leaf = xs_node_leaf(node);
		p = xs_tree_mut(t, s->tx, parent);
		if (!p)
			return -ENOMEM;
		n = xs_node_new(node);
		if (!n)
			return -ENOMEM;
		if (xs_store_new_perms(s, n, p) ||
		    (i == 0 && len && xs_node_set_value(n, val, len)) ||
		    xs_node_add_child(p, leaf)) {
			xs_node_free(n);
			return -ENOMEM;
		}
		xs_tree_changed(t, s->tx, p);
		ret = xs_tree_insert(t, s->tx, n);
		if (ret) {
			xs_node_del_child(p, leaf);
			xs_node_free(n);
			return ret;
		}
	}
	return 0;
}

int xs_store_write(struct xs_store_ctx *s, const char *path, const void *val, uint32_t len)
{
	struct xs_node *n;
	const struct xs_node *cur;
	int ret;

	if (path[0] == '@')
		return -EINVAL;
	if (xs_quota_exceeded(s->d, &s->who, XS_Q_NODE_SIZE, len))
		return -ENOSPC;
	cur = xs_tree_get(&s->d->tree, s->tx, path);
	if (!cur) {
		ret = xs_store_create(s, path, val, len);
		if (ret)
			return ret;
		n = xs_tree_mut(&s->d->tree, s->tx, path);
		if (!n)
			return -ENOMEM;
	} else {
		if (!xs_perms_can(&s->who, cur, XS_PERM_WRITE))
			return -EACCES;
		n = xs_tree_mut(&s->d->tree, s->tx, path);
		if (!n)
			return -ENOMEM;
		if (xs_node_set_value(n, val, len))
			return -ENOMEM;
		xs_tree_changed(&s->d->tree, s->tx, n);
	}
	xs_store_event(s, path, false, n->perms, n->nperms);
	return 0;
}

int xs_store_mkdir(struct xs_store_ctx *s, const char *path)
{
	const struct xs_node *n;
	int ret;

	if (path[0] == '@')
		return -EINVAL;
	if (xs_tree_get(&s->d->tree, s->tx, path))
		return 0;
	ret = xs_store_create(s, path, NULL, 0);
	if (ret)
		return ret;
	n = xs_tree_get(&s->d->tree, s->tx, path);
	if (n)
		xs_store_event(s, path, false, n->perms, n->nperms);
	return 0;
}

/* Deletes @path and everything below it, children first. */
static int xs_store_rm_subtree(struct xs_store_ctx *s, const char *path)
{
	const struct xs_node *n = xs_tree_get(&s->d->tree, s->tx, path);
	char **kids;
	uint32_t nk, i;
	int ret = 0;

	if (!n)
		return 0;
	nk = n->nchildren;
	kids = calloc(nk ? nk : 1, sizeof(*kids));
	if (!kids)
		return -ENOMEM;
	for (i = 0; i < nk; i++) {
		size_t l = strlen(path) + strlen(n->children[i]) + 2;

		kids[i] = malloc(l);
		if (!kids[i]) {
			ret = -ENOMEM;
			goto out_free;
		}
		snprintf(kids[i], l, "%s%s%s", path, strcmp(path, "/") ? "/" : "", n->children[i]);
	}
	for (i = 0; i < nk && !ret; i++)
		ret = xs_store_rm_subtree(s, kids[i]);
	if (!ret)
		ret = xs_tree_remove(&s->d->tree, s->tx, path);
out_free:
	for (i = 0; i < nk; i++)
		free(kids[i]);
	free(kids);
	return ret;
}

int xs_store_rm(struct xs_store_ctx *s, const char *path)
{
	struct xs_tree *t = &s->d->tree;
	const struct xs_node *n;
	struct xs_node *p;
	char parent[XS_PATH_BUF];
	struct xs_perm *perms;
	uint32_t np;
	int ret;

	if (path[0] == '@')
		return -EINVAL;
	n = xs_tree_get(t, s->tx, path);
	xs_node_parent(path, parent, sizeof(parent));
	if (!n) {
		/* Not an error if the parent exists. */
		ret = xs_store_missing(s, path);
		if (ret == -ENOENT && xs_tree_get(t, s->tx, parent))
			return 0;
		return ret;
	}
	if (strcmp(path, "/") == 0)
		return -EINVAL;
	if (!xs_perms_can(&s->who, n, XS_PERM_WRITE))
		return -EACCES;
	np = n->nperms;
	perms = malloc(np * sizeof(*perms));
	if (!perms)
		return -ENOMEM;
	memcpy(perms, n->perms, np * sizeof(*perms));
	p = xs_tree_mut(t, s->tx, parent);
	if (!p) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = xs_store_rm_subtree(s, path);
	if (ret)
		goto out_free;
	xs_node_del_child(p, xs_node_leaf(path));
	xs_tree_changed(t, s->tx, p);
	xs_store_event(s, path, true, perms, np);
out_free:
	free(perms);
	return ret;
}

int xs_store_set_perms(struct xs_store_ctx *s, const char *path, const struct xs_perm *p,
		       uint32_t np)
{
	const struct xs_node *cur;
	struct xs_node *n;
	int ret;

	if (path[0] == '@')
		return -EINVAL;
	if (np == 0)
		return -EINVAL;
	if (xs_quota_exceeded(s->d, &s->who, XS_Q_PERMS, np))
		return -ENOSPC;
	ret = xs_store_read(s, path, &cur);
	if (ret == -EACCES)
		return ret;
	if (ret)
		return ret;
	/* Only the owner (or dom0) may change permissions ... */
	if (!s->who.privileged && cur->perms[0].id != s->who.domid &&
	    !(s->who.target >= 0 && cur->perms[0].id == (unsigned int)s->who.target))
		return -EACCES;
	/* ... and only dom0 may give a node away. */
	if (!s->who.privileged && p[0].id != cur->perms[0].id)
		return -EPERM;
	n = xs_tree_mut(&s->d->tree, s->tx, path);
	if (!n)
		return -ENOMEM;
	if (xs_node_set_perms(n, p, np))
		return -ENOMEM;
	xs_tree_changed(&s->d->tree, s->tx, n);
	xs_store_event(s, path, false, n->perms, n->nperms);
	return 0;
}
