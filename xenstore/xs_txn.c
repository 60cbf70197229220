// SPDX-License-Identifier: MIT
// Transactions: an overlay of written nodes plus the generations of everything read; commit fails
// with EAGAIN on any change.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

struct xs_txn *xs_txn_new(uint32_t id)
{
	struct xs_txn *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	if (xs_map_init(&tx->overlay, 16))
		goto out_free;
	if (xs_map_init(&tx->reads, 16))
		goto out_overlay;
	tx->id = id;
	sv_list_init(&tx->link);
	return tx;

out_overlay:
	xs_map_destroy(&tx->overlay);
out_free:
	free(tx);
	errno = ENOMEM;
	return NULL;
}

void xs_txn_free(struct xs_txn *tx)
{
	uint32_t i;

	if (!tx)
		return;
	for (i = 0; i < tx->nevents; i++) {
		free(tx->events[i].path);
		free(tx->events[i].perms);
	}
	free(tx->events);
	xs_map_destroy(&tx->overlay);
	xs_map_destroy(&tx->reads);
	free(tx);
}

struct xs_node *xs_txn_note_read(struct xs_txn *tx, const char *path, const struct xs_node *cur)
{
	struct xs_node *r = xs_map_get(&tx->reads, path);

	if (r)
		return r; /* first sight is what counts */
	/*
	 * Keep a copy: later reads in this transaction see the same value
	 * even if the node changes meanwhile (the commit then fails).
	 */
	r = cur ? xs_node_clone(cur) : xs_node_new(path);
	if (!r)
		return NULL;
	if (!cur) {
		r->deleted = true; /* seen absent */
		r->gen = 0;
	}
	xs_map_put(&tx->reads, r);
	return r;
}

int xs_txn_add_event(struct xs_txn *tx, const char *path, bool recursive, const struct xs_perm *p,
		     uint32_t np)
{
	struct xs_txn_event *e;

	if (tx->nevents == tx->capevents) {
		uint32_t cap = tx->capevents ? tx->capevents * 2 : 8;

		e = realloc(tx->events, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		tx->events = e;
		tx->capevents = cap;
	}
	e = &tx->events[tx->nevents];
	e->path = strdup(path);
	e->perms = malloc(np * sizeof(*p));
	if (!e->path || !e->perms) {
		free(e->path);
		free(e->perms);
		return -ENOMEM;
	}
	memcpy(e->perms, p, np * sizeof(*p));
	e->nperms = np;
	e->recursive = recursive;
	tx->nevents++;
	return 0;
}

static int xs_txn_seq_cmp(const void *a, const void *b)
{
	const struct xs_node *x = *(const struct xs_node *const *)a;
	const struct xs_node *y = *(const struct xs_node *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int xs_txn_commit(struct xs_tree *t, struct xs_txn *tx)
{
	struct xs_node *r, *n, *cur, **order;
	size_t i, k = 0;

	xs_map_for_each(&tx->reads, i, r)
	{
		cur = xs_map_get(&t->map, r->path);
		if ((cur ? cur->gen : 0) != (r->deleted ? 0 : r->gen))
			return -EAGAIN;
	}
	order = malloc((tx->overlay.count ? tx->overlay.count : 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	/* Apply in the order the transaction touched nodes (parents first). */
	for (i = 0; i < tx->overlay.nb; i++) {
		while ((n = tx->overlay.b[i])) {
			tx->overlay.b[i] = n->hnext;
			n->hnext = NULL;
			tx->overlay.count--;
			order[k++] = n;
		}
	}
	qsort(order, k, sizeof(*order), xs_txn_seq_cmp);
	for (i = 0; i < k; i++) {
		n = order[i];
		if (n->deleted) {
			xs_tree_remove(t, NULL, n->path);
			xs_node_free(n);
		} else {
			n->acct_owner = -1;
			xs_tree_insert(t, NULL, n);
		}
	}
	free(order);
	return 0;
}
