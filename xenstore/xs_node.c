// SPDX-License-Identifier: MIT
// Store nodes and the path-keyed hash map that holds them (main tree and transaction overlays).
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xs_node.h"

struct xs_node *xs_node_new(const char *path)
{
	struct xs_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->path = strdup(path);
	n->perms = calloc(1, sizeof(*n->perms));
	if (!n->path || !n->perms) {
		free(n->path);
		free(n->perms);
		free(n);
		errno = ENOMEM;
		return NULL;
	}
	n->nperms = 1;
	n->acct_owner = -1;
	n->hash = xs_map_hash(path);
	return n;
}

struct xs_node *xs_node_clone(const struct xs_node *src)
{
	struct xs_node *n = xs_node_new(src->path);
	uint32_t i;

	if (!n)
		return NULL;
	if (xs_node_set_value(n, src->value, src->vlen) ||
	    xs_node_set_perms(n, src->perms, src->nperms))
		goto out_free;
	if (src->nchildren) {
		n->children = calloc(src->nchildren, sizeof(char *));
		if (!n->children)
			goto out_free;
		n->capchildren = src->nchildren;
		for (i = 0; i < src->nchildren; i++) {
			n->children[i] = strdup(src->children[i]);
			if (!n->children[i])
				goto out_free;
			n->nchildren++;
		}
	}
	n->gen = src->gen;
	n->acct_owner = -1;
	return n;

out_free:
	xs_node_free(n);
	errno = ENOMEM;
	return NULL;
}

void xs_node_free(struct xs_node *n)
{
	uint32_t i;

	if (!n)
		return;
	for (i = 0; i < n->nchildren; i++)
		free(n->children[i]);
	free(n->children);
	free(n->perms);
	free(n->value);
	free(n->path);
	free(n);
}

int xs_node_set_value(struct xs_node *n, const void *val, uint32_t len)
{
	char *v = NULL;

	if (len) {
		v = malloc(len);
		if (!v)
			return -ENOMEM;
		memcpy(v, val, len);
	}
	free(n->value);
	n->value = v;
	n->vlen = len;
	return 0;
}

int xs_node_set_perms(struct xs_node *n, const struct xs_perm *p, uint32_t np)
{
	struct xs_perm *c;

	if (np == 0)
		return -EINVAL;
	c = malloc(np * sizeof(*c));
	if (!c)
		return -ENOMEM;
	memcpy(c, p, np * sizeof(*c));
	free(n->perms);
	n->perms = c;
	n->nperms = np;
	return 0;
}

int xs_node_add_child(struct xs_node *n, const char *name)
{
	char *dup;

	if (n->nchildren == n->capchildren) {
		uint32_t cap = n->capchildren ? n->capchildren * 2 : 4;
		char **c = realloc(n->children, cap * sizeof(char *));

		if (!c)
			return -ENOMEM;
		n->children = c;
		n->capchildren = cap;
	}
	dup = strdup(name);
	if (!dup)
		return -ENOMEM;
	n->children[n->nchildren++] = dup;
	return 0;
}

bool xs_node_del_child(struct xs_node *n, const char *name)
{
	uint32_t i;

	/* Newest children are most often removed first: search backwards. */
	for (i = n->nchildren; i-- > 0;) {
		if (strcmp(n->children[i], name) == 0) {
			free(n->children[i]);
			memmove(&n->children[i], &n->children[i + 1],
				(n->nchildren - i - 1) * sizeof(char *));
			n->nchildren--;
			return true;
		}
	}
	return false;
}

const char *xs_node_leaf(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

void xs_node_parent(const char *path, char *out, size_t outsz)
{
	const char *s = strrchr(path, '/');
	size_t len = s ? (size_t)(s - path) : 0;

	if (len == 0)
		len = 1; /* parent of "/a" is "/" */
	if (len >= outsz)
		len = outsz - 1;
	memcpy(out, path, len);
	out[len] = '\0';
}

size_t xs_node_size(const struct xs_node *n)
{
	size_t sz = n->vlen + n->nperms * sizeof(struct xs_perm);
	uint32_t i;

	for (i = 0; i < n->nchildren; i++)
		sz += strlen(n->children[i]) + 1;
	return sz;
}

/* FNV-1a: short keys, good spread, no setup. */
uint32_t xs_map_hash(const char *path)
{
	uint32_t h = 2166136261u;

	while (*path) {
		h ^= (unsigned char)*path++;
		h *= 16777619u;
	}
	return h;
}

int xs_map_init(struct xs_map *m, size_t nb)
{
	size_t n = 16;

	while (n < nb)
		n <<= 1;
	m->b = calloc(n, sizeof(*m->b));
	if (!m->b)
		return -ENOMEM;
	m->nb = n;
	m->count = 0;
	return 0;
}

void xs_map_destroy(struct xs_map *m)
{
	size_t i;
	struct xs_node *n, *next;

	if (!m->b)
		return;
	for (i = 0; i < m->nb; i++) {
		for (n = m->b[i]; n; n = next) {
			next = n->hnext;
			xs_node_free(n);
		}
	}
	free(m->b);
	m->b = NULL;
	m->nb = m->count = 0;
}

struct xs_node *xs_map_get(const struct xs_map *m, const char *path)
{
	uint32_t h = xs_map_hash(path);
	struct xs_node *n;

	for (n = m->b[h & (m->nb - 1)]; n; n = n->hnext)
		if (n->hash == h && strcmp(n->path, path) == 0)
			return n;
	return NULL;
}

/* Doubles the bucket array; on allocation failure the map just stays denser. */
static void xs_map_grow(struct xs_map *m)
{
	size_t nb = m->nb * 2, i;
	struct xs_node **b = calloc(nb, sizeof(*b));
	struct xs_node *n, *next;

	if (!b)
		return;
	for (i = 0; i < m->nb; i++) {
		for (n = m->b[i]; n; n = next) {
			next = n->hnext;
			n->hnext = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

struct xs_node *xs_map_put(struct xs_map *m, struct xs_node *n)
{
	struct xs_node *old = xs_map_remove(m, n->path);
	size_t slot;

	if (m->count + 1 > m->nb)
		xs_map_grow(m);
	slot = n->hash & (m->nb - 1);
	n->hnext = m->b[slot];
	m->b[slot] = n;
	m->count++;
	return old;
}

struct xs_node *xs_map_remove(struct xs_map *m, const char *path)
{
	uint32_t h = xs_map_hash(path);
	struct xs_node **pp, *n;

	for (pp = &m->b[h & (m->nb - 1)]; (n = *pp); pp = &n->hnext) {
		if (n->hash == h && strcmp(n->path, path) == 0) {
			*pp = n->hnext;
			n->hnext = NULL;
			m->count--;
			return n;
		}
	}
	return NULL;
}
