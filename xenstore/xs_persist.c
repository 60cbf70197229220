// SPDX-License-Identifier: MIT
// Persistent state: DIR/xenstored.state holds a snapshot followed by a journal of every change,
// replayed at start-up.
//
// File: the 8-byte magic, then records { u32 type, u32 len, payload }.
//   'N' node:   u64 gen, u32 nperms, u32 vlen, u32 plen, perms (u16 id,
//               u8 perm, u8 pad) x nperms, path (plen bytes), value
//   'D' delete: path bytes (one node; subtrees are journaled node by node)
//   'M' domain: u32 domid, u32 introduced, u64 mfn, u32 port, i32 target
//   'Q' quotas: i32 x XS_Q_COUNT
//   'C' conn:   u64 key, u32 domid, u32 flags (1 restricted, 2 read-only)
//   'X' conn gone: u64 key
//   'W' watch:  u64 key, u32 rel_prefix, u32 plen, path, token
//   'U' unwatch: u64 key, u32 0, u32 plen, path, token
//   'S' pass:   u64 pass number; ends every batch and every snapshot
// Records are buffered during one pass of the event loop and written with
// one write() before any reply of that pass leaves, so an acknowledged
// change is in the kernel's page cache and survives a daemon crash. On
// load only whole batches count: records after the last 'S' (a write torn
// by the crash) are ignored, as is an invalid tail. Connection buffers
// (xs_cbuf.c) are rolled back to the last pass found. Start-up and growth
// compact the file (snapshot to a temporary file, then rename).
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xs_persist_priv.h"

#define XS_STATE_MAGIC "XSSTATE1"
#define XS_COMPACT_MIN (8u << 20) /* never compact below this size */

struct xs_rec_node {
	uint64_t gen;
	uint32_t nperms, vlen, plen;
};

struct xs_rec_perm {
	uint16_t id;
	uint8_t perm;
	uint8_t pad;
};

struct xs_rec_dom {
	uint32_t domid, introduced;
	uint64_t mfn;
	uint32_t port;
	int32_t target;
};

static int xs_persist_reserve(struct xs_persist *p, size_t need)
{
	size_t cap = p->cap ? p->cap : 65536;
	uint8_t *n;

	if (need <= p->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	n = realloc(p->buf, cap);
	if (!n)
		return -ENOMEM;
	p->buf = n;
	p->cap = cap;
	return 0;
}

int xs_persist_append(struct xs_persist *p, uint32_t type, const void *a, size_t alen,
		      const void *b, size_t blen, const void *c, size_t clen, const void *e,
		      size_t elen)
{
	struct xs_rec_hdr h = { type, (uint32_t)(alen + blen + clen + elen) };

	if (xs_persist_reserve(p, p->len + sizeof(h) + h.len))
		return -ENOMEM;
	memcpy(p->buf + p->len, &h, sizeof(h));
	p->len += sizeof(h);
	memcpy(p->buf + p->len, a, alen);
	p->len += alen;
	if (blen)
		memcpy(p->buf + p->len, b, blen);
	p->len += blen;
	if (clen)
		memcpy(p->buf + p->len, c, clen);
	p->len += clen;
	if (elen)
		memcpy(p->buf + p->len, e, elen);
	p->len += elen;
	return 0;
}

static int xs_persist_put_node(struct xs_persist *p, const struct xs_node *n)
{
	struct xs_rec_perm perms[256];
	struct xs_rec_node r = {
		.gen = n->gen,
		.nperms = n->nperms,
		.vlen = n->vlen,
		.plen = (uint32_t)strlen(n->path),
	};
	uint32_t i;

	if (n->nperms > 256)
		return -E2BIG;
	for (i = 0; i < n->nperms; i++)
		perms[i] = (struct xs_rec_perm){ n->perms[i].id, n->perms[i].perm, 0 };
	return xs_persist_append(p, 'N', &r, sizeof(r), perms, n->nperms * sizeof(perms[0]),
				 n->path, r.plen, n->value, n->vlen);
}

static void xs_persist_on_put(void *ctx, const struct xs_node *n)
{
	struct xs_daemon *d = ctx;

	if (xs_persist_put_node(d->persist, n))
		xs_log(d, "persist: node %s not journaled (ENOMEM)", n->path);
}

static void xs_persist_on_del(void *ctx, const char *path)
{
	struct xs_daemon *d = ctx;

	if (xs_persist_append(d->persist, 'D', path, strlen(path), NULL, 0, NULL, 0, NULL, 0))
		xs_log(d, "persist: delete of %s not journaled (ENOMEM)", path);
}

static void xs_persist_dom_rec(struct xs_persist *p, const struct xs_domain *dom)
{
	struct xs_rec_dom r = {
		.domid = dom->domid,
		.introduced = dom->introduced,
		.mfn = dom->mfn,
		.port = dom->port,
		.target = dom->target,
	};

	xs_persist_append(p, 'M', &r, sizeof(r), NULL, 0, NULL, 0, NULL, 0);
}

void xs_persist_domain(struct xs_daemon *d, const struct xs_domain *dom)
{
	if (d->persist)
		xs_persist_dom_rec(d->persist, dom);
}

void xs_persist_quota(struct xs_daemon *d)
{
	int32_t q[XS_Q_COUNT];
	int i;

	if (!d->persist)
		return;
	for (i = 0; i < XS_Q_COUNT; i++)
		q[i] = d->quota.val[i];
	xs_persist_append(d->persist, 'Q', q, sizeof(q), NULL, 0, NULL, 0, NULL, 0);
}

/* Applies one record read back from the file; -EINVAL if it is malformed. */
static int xs_persist_apply(struct xs_daemon *d, uint32_t type, const uint8_t *b, uint32_t len)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];

	switch (type) {
	case 'N': {
		struct xs_rec_node r;
		struct xs_perm perms[256];
		struct xs_node *n;
		uint32_t i;

		if (len < sizeof(r))
			return -EINVAL;
		memcpy(&r, b, sizeof(r));
		if (r.nperms == 0 || r.nperms > 256 || r.plen > XENSTORE_ABS_PATH_MAX ||
		    r.vlen > 1u << 20 ||
		    (uint64_t)sizeof(r) + r.nperms * sizeof(struct xs_rec_perm) + r.plen + r.vlen !=
			len)
			return -EINVAL;
		b += sizeof(r);
		for (i = 0; i < r.nperms; i++) {
			struct xs_rec_perm rp;

			memcpy(&rp, b, sizeof(rp));
			b += sizeof(rp);
			perms[i].id = rp.id;
			perms[i].perm = rp.perm & XS_PERM_BOTH;
		}
		memcpy(path, b, r.plen);
		path[r.plen] = '\0';
		b += r.plen;
		if (!xs_wire_path_valid(path, false))
			return -EINVAL;
		n = xs_node_new(path);
		if (!n)
			return -ENOMEM;
		if (xs_node_set_perms(n, perms, r.nperms) || xs_node_set_value(n, b, r.vlen)) {
			xs_node_free(n);
			return -ENOMEM;
		}
		n->gen = r.gen;
		return xs_tree_load_node(&d->tree, n);
	}
	case 'D':
		if (len == 0 || len > XENSTORE_ABS_PATH_MAX)
			return -EINVAL;
		memcpy(path, b, len);
		path[len] = '\0';
		xs_node_free(xs_map_remove(&d->tree.map, path));
		return 0;
	case 'M': {
		struct xs_rec_dom r;
		struct xs_domain *dom;

		if (len != sizeof(r))
			return -EINVAL;
		memcpy(&r, b, sizeof(r));
		if (r.domid == 0 || r.domid >= XS_NR_DOMAINS)
			return -EINVAL;
		dom = d->domains[r.domid];
		if (!r.introduced) {
			free(dom);
			d->domains[r.domid] = NULL;
			return 0;
		}
		if (!dom) {
			dom = calloc(1, sizeof(*dom));
			if (!dom)
				return -ENOMEM;
			d->domains[r.domid] = dom;
		}
		dom->domid = r.domid;
		dom->introduced = true;
		dom->mfn = r.mfn;
		dom->port = r.port;
		dom->target =
		    (r.target >= 0 && r.target < (int32_t)XS_NR_DOMAINS) ? r.target : XS_DOMID_NONE;
		return 0;
	}
	case 'Q': {
		int32_t q[XS_Q_COUNT];
		int i;

		if (len != sizeof(q))
			return -EINVAL;
		memcpy(q, b, sizeof(q));
		for (i = 0; i < XS_Q_COUNT; i++)
			if (q[i] >= 1)
				d->quota.val[i] = q[i];
		return 0;
	}
	case 'S': {
		uint64_t pass;

		if (len != sizeof(pass))
			return -EINVAL;
		memcpy(&pass, b, sizeof(pass));
		d->persist->loaded_pass = pass;
		return 0;
	}
	case 'C':
	case 'X':
	case 'W':
	case 'U':
		return xs_persist_apply_conn(d, type, b, len);
	default:
		return -EINVAL;
	}
}

/*
 * Where the last whole batch ends: just after the last 'S' record. Files
 * written before pass records existed have none: then everything counts.
 */
static size_t xs_persist_batches_end(const uint8_t *buf, size_t size)
{
	size_t off = 8, end = 0;

	while (off + sizeof(struct xs_rec_hdr) <= size) {
		struct xs_rec_hdr h;

		memcpy(&h, buf + off, sizeof(h));
		if (h.len > size - off - sizeof(h))
			break;
		off += sizeof(h) + h.len;
		if (h.type == 'S')
			end = off;
	}
	return end ? end : size;
}

static int xs_persist_load(struct xs_daemon *d, const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t off = 8, nrec = 0, end;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out_close;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out_close;
	}
	if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
		ret = -EIO;
		goto out_free;
	}
	if (st.st_size < 8 || memcmp(buf, XS_STATE_MAGIC, 8) != 0) {
		xs_log(d, "persist: %s is not a state file; starting empty", path);
		goto out_free;
	}
	end = xs_persist_batches_end(buf, (size_t)st.st_size);
	if (end < (size_t)st.st_size)
		xs_log(d, "persist: %zu bytes after the last whole batch ignored",
		       (size_t)st.st_size - end);
	while (off + sizeof(struct xs_rec_hdr) <= end) {
		struct xs_rec_hdr h;

		memcpy(&h, buf + off, sizeof(h));
		if (h.len > end - off - sizeof(h))
			break; /* torn tail */
		ret = xs_persist_apply(d, h.type, buf + off + sizeof(h), h.len);
		if (ret == -ENOMEM)
			goto out_free;
		if (ret) {
			xs_log(d, "persist: bad record at offset %zu; ignoring the rest", off);
			ret = 0;
			break;
		}
		off += sizeof(h) + h.len;
		nrec++;
	}
	/* Deleted nodes may have left nothing, or the root may be absent. */
	if (!xs_map_get(&d->tree.map, "/")) {
		struct xs_node *root = xs_node_new("/");

		if (!root) {
			ret = -ENOMEM;
			goto out_free;
		}
		xs_tree_load_node(&d->tree, root);
	}
	ret = xs_tree_link_children(&d->tree);
	xs_log(d, "persist: loaded %zu records, %zu nodes from %s", nrec, d->tree.map.count, path);
out_free:
	free(buf);
out_close:
	close(fd);
	return ret;
}

/*
 * Snapshot in depth-first order, so children reload in the same order.
 * Paths can nest 1500 deep: each level keeps only a heap copy of its path.
 */
static int xs_persist_snap_tree(struct xs_persist *p, struct xs_tree *t, const char *path)
{
	const struct xs_node *n = xs_map_get(&t->map, path);
	size_t plen = strlen(path);
	uint32_t i;
	int ret;

	if (!n)
		return 0;
	ret = xs_persist_put_node(p, n);
	for (i = 0; i < n->nchildren && !ret; i++) {
		size_t len = plen + strlen(n->children[i]) + 2;
		char *child = malloc(len);

		if (!child)
			return -ENOMEM;
		snprintf(child, len, "%s%s%s", path, plen > 1 ? "/" : "", n->children[i]);
		ret = xs_persist_snap_tree(p, t, child);
		free(child);
	}
	return ret;
}

static int xs_persist_write_all(int fd, const uint8_t *b, size_t len)
{
	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Rewrites the file as a snapshot of the current state. */
static int xs_persist_compact(struct xs_daemon *d)
{
	struct xs_persist *p = d->persist;
	char tmp[4096];
	unsigned int i;
	int fd, ret;

	snprintf(tmp, sizeof(tmp), "%s.tmp", p->path);
	/* Pending records are part of the snapshot; drop them. */
	p->len = 0;
	if (xs_persist_reserve(p, 8))
		return -ENOMEM;
	memcpy(p->buf, XS_STATE_MAGIC, 8);
	p->len = 8;
	ret = xs_persist_snap_tree(p, &d->tree, "/");
	for (i = 1; i < XS_NR_DOMAINS && !ret; i++)
		if (d->domains[i])
			xs_persist_dom_rec(p, d->domains[i]);
	xs_persist_quota(d);
	xs_persist_snap_conns(d);
	xs_persist_append(p, 'S', &d->pass, sizeof(d->pass), NULL, 0, NULL, 0, NULL, 0);
	fd = ret ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		p->len = 0;
		return ret ? ret : -errno;
	}
	ret = xs_persist_write_all(fd, p->buf, p->len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (!ret && rename(tmp, p->path))
		ret = -errno;
	if (ret) {
		close(fd);
		unlink(tmp);
		p->len = 0;
		return ret;
	}
	if (p->fd >= 0)
		close(p->fd);
	p->fd = fd;
	p->file_bytes = p->snap_bytes = p->len;
	p->len = 0;
	return 0;
}

int xs_persist_open(struct xs_daemon *d, const char *path)
{
	struct xs_persist *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	p->fd = -1;
	p->path = strdup(path);
	if (!p->path) {
		free(p);
		return -ENOMEM;
	}
	d->persist = p; /* the loader fills p's saved connections */
	ret = xs_persist_load(d, path);
	d->pass = p->loaded_pass;
	if (ret) {
		xs_log(d, "persist: cannot load %s: %s", path, strerror(-ret));
		d->persist = NULL;
		goto out_free;
	}
	ret = xs_daemon_base_nodes(d);
	if (!ret)
		ret = xs_persist_compact(d);
	if (ret) {
		xs_log(d, "persist: cannot write %s: %s", path, strerror(-ret));
		d->persist = NULL;
		goto out_free;
	}
	d->tree.on_put = xs_persist_on_put;
	d->tree.on_del = xs_persist_on_del;
	d->tree.hook_ctx = d;
	return 0;

out_free:
	d->persist = p;
	xs_persist_forget_saved(d);
	d->persist = NULL;
	if (p->fd >= 0)
		close(p->fd);
	free(p->buf);
	free(p->path);
	free(p);
	return ret;
}

void xs_persist_flush(struct xs_daemon *d)
{
	struct xs_persist *p = d->persist;
	bool records = p && p->len;
	uint64_t pass;
	int ret;

	if (!records && sv_list_empty(&d->dirty))
		return;
	pass = ++d->pass;
	/* Where each connection stands if this batch makes it to the file. */
	xs_conn_mark_pending(d, pass);
	if (records) {
		xs_persist_append(p, 'S', &pass, sizeof(pass), NULL, 0, NULL, 0, NULL, 0);
		ret = xs_persist_write_all(p->fd, p->buf, p->len);
		if (ret && !p->failed)
			xs_log(d, "persist: journal write failed: %s", strerror(-ret));
		p->failed = ret != 0;
		p->file_bytes += p->len;
		p->len = 0;
	}
	/* Written (or no change to write): those replies may leave. */
	xs_conn_mark_committed(d, pass);
	if (records && p->file_bytes > XS_COMPACT_MIN && p->file_bytes > 4 * p->snap_bytes) {
		ret = xs_persist_compact(d);
		if (ret)
			xs_log(d, "persist: compaction failed: %s", strerror(-ret));
	}
}

uint64_t xs_persist_loaded_pass(struct xs_daemon *d)
{
	return d->persist ? d->persist->loaded_pass : 0;
}

void xs_persist_close(struct xs_daemon *d)
{
	struct xs_persist *p = d->persist;

	if (!p)
		return;
	xs_persist_flush(d);
	xs_persist_forget_saved(d);
	d->tree.on_put = NULL;
	d->tree.on_del = NULL;
	if (p->fd >= 0)
		close(p->fd);
	free(p->buf);
	free(p->path);
	free(p);
	d->persist = NULL;
}
