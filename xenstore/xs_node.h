// SPDX-License-Identifier: MIT
// Store nodes and the path-keyed hash map that holds them (main tree and transaction overlays).
#ifndef XS_NODE_H
#define XS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenstore_lib.h> /* XS_PERM_NONE, XS_PERM_READ, XS_PERM_WRITE */

/* "b" of the wire format: both read and write. */
#define XS_PERM_BOTH (XS_PERM_READ | XS_PERM_WRITE)

/* One ACL entry; entry 0 names the owner and everyone else's default. */
struct xs_perm {
	uint16_t id;
	uint8_t perm;
};

struct xs_node {
	struct xs_node *hnext; /* hash chain */
	uint32_t hash;
	bool deleted;	/* tombstone in a transaction overlay */
	int acct_owner; /* domid this node is counted against, -1 none */
	char *path;	/* absolute path, owned */
	char *value;	/* value bytes (not NUL-terminated), owned */
	uint32_t vlen;
	struct xs_perm *perms; /* nperms >= 1 */
	uint32_t nperms;
	char **children; /* leaf names in creation order, owned */
	uint32_t nchildren, capchildren;
	uint64_t gen; /* generation of the last change */
	uint64_t seq; /* load order, to rebuild child order */
};

struct xs_map {
	struct xs_node **b;
	size_t nb; /* bucket count, power of two */
	size_t count;
};

/* Constructors return NULL and set errno. */
struct xs_node *xs_node_new(const char *path);
struct xs_node *xs_node_clone(const struct xs_node *n);
void xs_node_free(struct xs_node *n);
int xs_node_set_value(struct xs_node *n, const void *val, uint32_t len);
int xs_node_set_perms(struct xs_node *n, const struct xs_perm *p, uint32_t np);
int xs_node_add_child(struct xs_node *n, const char *name);
bool xs_node_del_child(struct xs_node *n, const char *name);
/* Leaf name of a path ("/a/b" -> "b"). */
const char *xs_node_leaf(const char *path);
/* Parent path into @out ("/a/b" -> "/a", "/a" -> "/"). */
void xs_node_parent(const char *path, char *out, size_t outsz);
/* Bytes the node accounts for against the node-size quota. */
size_t xs_node_size(const struct xs_node *n);

uint32_t xs_map_hash(const char *path);
int xs_map_init(struct xs_map *m, size_t nb);
/* Frees every node the map holds and the buckets. */
void xs_map_destroy(struct xs_map *m);
struct xs_node *xs_map_get(const struct xs_map *m, const char *path);
/* Inserts @n; returns the node it replaced (caller frees) or NULL. */
struct xs_node *xs_map_put(struct xs_map *m, struct xs_node *n);
/* Unlinks and returns the node at @path, or NULL. */
struct xs_node *xs_map_remove(struct xs_map *m, const char *path);

#define xs_map_for_each(m, i, n)                                                                   \
	for ((i) = 0; (i) < (m)->nb; (i)++)                                                        \
		for ((n) = (m)->b[(i)]; (n); (n) = (n)->hnext)

#endif
