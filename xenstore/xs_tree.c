// SPDX-License-Identifier: MIT
// The main node tree and the transaction view of it: reads see a transaction's overlay first,
// writes go to the overlay.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

int xs_tree_init(struct xs_tree *t)
{
	memset(t, 0, sizeof(*t));
	t->owned = calloc(XS_NR_DOMAINS, sizeof(*t->owned));
	if (!t->owned)
		return -ENOMEM;
	if (xs_map_init(&t->map, 1024)) {
		free(t->owned);
		t->owned = NULL;
		return -ENOMEM;
	}
	return 0;
}

void xs_tree_destroy(struct xs_tree *t)
{
	xs_map_destroy(&t->map);
	free(t->owned);
	t->owned = NULL;
}

/* Moves @n's ownership count to its current owner. */
static void xs_tree_account(struct xs_tree *t, struct xs_node *n)
{
	int owner = n->perms[0].id;

	if (n->acct_owner == owner)
		return;
	if (n->acct_owner >= 0 && t->owned[n->acct_owner])
		t->owned[n->acct_owner]--;
	t->owned[owner]++;
	n->acct_owner = owner;
}

static void xs_tree_unaccount(struct xs_tree *t, struct xs_node *n)
{
	if (n->acct_owner >= 0 && t->owned[n->acct_owner])
		t->owned[n->acct_owner]--;
	n->acct_owner = -1;
}

/*
 * The node as transaction @tx first saw it, recording the sight; NULL if
 * it was absent. *@err is -ENOMEM if the sight could not be recorded.
 */
static struct xs_node *xs_tree_tx_base(struct xs_tree *t, struct xs_txn *tx, const char *path,
				       int *err)
{
	struct xs_node *r = xs_txn_note_read(tx, path, xs_map_get(&t->map, path));

	*err = r ? 0 : -ENOMEM;
	return (r && !r->deleted) ? r : NULL;
}

const struct xs_node *xs_tree_get(struct xs_tree *t, struct xs_txn *tx, const char *path)
{
	struct xs_node *n;
	int err;

	if (tx) {
		n = xs_map_get(&tx->overlay, path);
		if (n)
			return n->deleted ? NULL : n;
		/* Failing to record reads as "absent": the caller fails too. */
		return xs_tree_tx_base(t, tx, path, &err);
	}
	return xs_map_get(&t->map, path);
}

struct xs_node *xs_tree_mut(struct xs_tree *t, struct xs_txn *tx, const char *path)
{
	struct xs_node *n, *c;
	int err;

	if (!tx)
		return xs_map_get(&t->map, path);
	n = xs_map_get(&tx->overlay, path);
	if (n)
		return n->deleted ? NULL : n;
	n = xs_tree_tx_base(t, tx, path, &err);
	if (!n)
		return NULL;
	c = xs_node_clone(n);
	if (!c)
		return NULL;
	c->seq = ++tx->seq;
	xs_map_put(&tx->overlay, c);
	return c;
}

int xs_tree_insert(struct xs_tree *t, struct xs_txn *tx, struct xs_node *n)
{
	struct xs_node *old;

	if (tx) {
		int err = 0;

		if (!xs_map_get(&tx->overlay, n->path))
			xs_tree_tx_base(t, tx, n->path, &err);
		if (err)
			return err;
		n->seq = ++tx->seq;
		old = xs_map_put(&tx->overlay, n);
		xs_node_free(old);
		tx->nodes_added++;
		return 0;
	}
	old = xs_map_put(&t->map, n);
	if (old) {
		xs_tree_unaccount(t, old);
		xs_node_free(old);
	}
	xs_tree_changed(t, NULL, n);
	return 0;
}

int xs_tree_remove(struct xs_tree *t, struct xs_txn *tx, const char *path)
{
	struct xs_node *n;

	if (tx) {
		n = xs_map_get(&tx->overlay, path);
		if (!n) {
			int err;

			xs_tree_tx_base(t, tx, path, &err);
			if (err)
				return err;
			n = xs_node_new(path);
			if (!n)
				return -ENOMEM;
			n->seq = ++tx->seq;
			xs_map_put(&tx->overlay, n);
		}
		n->deleted = true;
		tx->nodes_added--;
		return 0;
	}
	n = xs_map_remove(&t->map, path);
	if (!n)
		return -ENOENT;
	xs_tree_unaccount(t, n);
	if (t->on_del)
		t->on_del(t->hook_ctx, path);
	xs_node_free(n);
	return 0;
}

void xs_tree_changed(struct xs_tree *t, struct xs_txn *tx, struct xs_node *n)
{
	if (tx)
		return; /* overlay nodes are stamped when committed */
	n->gen = ++t->gen;
	xs_tree_account(t, n);
	if (t->on_put)
		t->on_put(t->hook_ctx, n);
}

int xs_tree_load_node(struct xs_tree *t, struct xs_node *n)
{
	struct xs_node *old = xs_map_put(&t->map, n);

	n->seq = ++t->load_seq;
	if (old) {
		n->acct_owner = old->acct_owner;
		n->seq = old->seq; /* a rewrite keeps its place among siblings */
		xs_node_free(old);
	}
	xs_tree_account(t, n);
	if (n->gen > t->gen)
		t->gen = n->gen;
	return 0;
}

static int xs_tree_seq_cmp(const void *a, const void *b)
{
	const struct xs_node *x = *(const struct xs_node *const *)a;
	const struct xs_node *y = *(const struct xs_node *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * After loading, nodes carry no child lists: rebuild them. Missing parents
 * (a damaged file) are created so the tree stays connected.
 */
int xs_tree_link_children(struct xs_tree *t)
{
	struct xs_node **all, *n;
	size_t i, k = 0, cnt = t->map.count;
	char parent[XENSTORE_ABS_PATH_MAX + 1];
	int ret = 0;

	all = calloc(cnt ? cnt : 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	/* Recount ownership: deletions during load did not. */
	memset(t->owned, 0, XS_NR_DOMAINS * sizeof(*t->owned));
	xs_map_for_each(&t->map, i, n)
	{
		n->acct_owner = -1;
		xs_tree_account(t, n);
	}
	xs_map_for_each(&t->map, i, n)
	{
		uint32_t c;

		for (c = 0; c < n->nchildren; c++)
			free(n->children[c]);
		n->nchildren = 0;
		if (k < cnt)
			all[k++] = n;
	}
	/* Children are listed in the order they were first written. */
	qsort(all, k, sizeof(*all), xs_tree_seq_cmp);
	for (i = 0; i < k && !ret; i++) {
		const char *path = all[i]->path;
		struct xs_node *p;

		if (strcmp(path, "/") == 0)
			continue;
		xs_node_parent(path, parent, sizeof(parent));
		p = xs_map_get(&t->map, parent);
		if (!p) {
			/* Recreate a lost ancestor chain, owned by dom0. */
			char walk[XENSTORE_ABS_PATH_MAX + 1];

			snprintf(walk, sizeof(walk), "%s", path);
			while (strcmp(walk, "/") != 0) {
				xs_node_parent(walk, parent, sizeof(parent));
				if (xs_map_get(&t->map, parent))
					break;
				p = xs_node_new(parent);
				if (!p)
					return -ENOMEM;
				p->gen = ++t->gen;
				xs_tree_load_node(t, p);
				snprintf(walk, sizeof(walk), "%s", parent);
			}
			free(all);
			return xs_tree_link_children(t);
		}
		ret = xs_node_add_child(p, xs_node_leaf(path));
	}
	free(all);
	return ret;
}
