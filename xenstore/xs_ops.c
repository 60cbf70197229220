// SPDX-License-Identifier: MIT
// Request handlers: one function per xs_wire.h message type, reached through a table indexed by
// type.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored.h"

#define XS_PATH_BUF (XENSTORE_ABS_PATH_MAX + 1)

/* What one request carries once checked. */
struct xs_req {
	struct xs_conn *c;
	const struct xsd_sockmsg *hdr;
	const char *payload; /* NUL-terminated copy, hdr->len bytes */
	struct xs_args a;
	struct xs_store_ctx s;
};

static int xs_ok(struct xs_req *r)
{
	return xs_conn_send(r->c, r->hdr->type, r->hdr->req_id, r->hdr->tx_id, "OK", 3, NULL, 0);
}

static int xs_reply(struct xs_req *r, const void *buf, uint32_t len)
{
	return xs_conn_send(r->c, r->hdr->type, r->hdr->req_id, r->hdr->tx_id, buf, len, NULL, 0);
}

/* The request's first string as an absolute path. */
static int xs_req_path(struct xs_req *r, bool special, char *out)
{
	if (r->a.n < 1)
		return -EINVAL;
	return xs_wire_canonical(r->a.s[0], r->c->domid, special, out, XS_PATH_BUF);
}

static int xs_req_domid(struct xs_req *r, unsigned int i, unsigned int *domid)
{
	if (r->a.n <= i)
		return -EINVAL;
	return xs_wire_parse_domid(r->a.s[i], domid);
}

static int xs_op_read(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	const struct xs_node *n;
	int ret = xs_req_path(r, false, path);

	if (!ret)
		ret = xs_store_read(&r->s, path, &n);
	if (ret)
		return ret;
	return xs_reply(r, n->value, n->vlen);
}

static int xs_op_write(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	size_t plen;
	int ret = xs_req_path(r, false, path);

	if (ret)
		return ret;
	/* The value is everything after the path's NUL, binary-safe. */
	plen = strlen(r->a.s[0]) + 1;
	ret = xs_store_write(&r->s, path, r->payload + plen, r->hdr->len - (uint32_t)plen);
	return ret ? ret : xs_ok(r);
}

static int xs_op_mkdir(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	int ret = xs_req_path(r, false, path);

	if (!ret)
		ret = xs_store_mkdir(&r->s, path);
	return ret ? ret : xs_ok(r);
}

static int xs_op_rm(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	int ret = xs_req_path(r, false, path);

	if (!ret)
		ret = xs_store_rm(&r->s, path);
	return ret ? ret : xs_ok(r);
}

static int xs_op_directory(struct xs_req *r)
{
	char path[XS_PATH_BUF], buf[XENSTORE_PAYLOAD_MAX];
	const struct xs_node *n;
	uint32_t i, off = 0;
	int ret = xs_req_path(r, false, path);

	if (!ret)
		ret = xs_store_read(&r->s, path, &n);
	if (ret)
		return ret;
	for (i = 0; i < n->nchildren; i++) {
		size_t l = strlen(n->children[i]) + 1;

		if (off + l > sizeof(buf))
			return -E2BIG; /* client falls back to DIRECTORY_PART */
		memcpy(buf + off, n->children[i], l);
		off += (uint32_t)l;
	}
	return xs_reply(r, buf, off);
}

/*
 * DIRECTORY_PART <path>|<offset>|: "<gen>|" then whole child names from
 * byte @offset of the full list that fit; an empty name ends the list.
 */
static int xs_op_directory_part(struct xs_req *r)
{
	char path[XS_PATH_BUF], buf[XENSTORE_PAYLOAD_MAX];
	const struct xs_node *n;
	unsigned long want;
	char *end;
	uint32_t i, pos = 0, off;
	int ret = xs_req_path(r, false, path);

	if (ret)
		return ret;
	if (r->a.n < 2)
		return -EINVAL;
	errno = 0;
	want = strtoul(r->a.s[1], &end, 10);
	if (errno || *end || !r->a.s[1][0])
		return -EINVAL;
	ret = xs_store_read(&r->s, path, &n);
	if (ret)
		return ret;
	off = (uint32_t)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n->gen) + 1;
	for (i = 0; i < n->nchildren; i++) {
		size_t l = strlen(n->children[i]) + 1;

		if (pos >= want) {
			if (off + l + 1 > sizeof(buf))
				return xs_reply(r, buf, off);
			memcpy(buf + off, n->children[i], l);
			off += (uint32_t)l;
		}
		pos += (uint32_t)l;
	}
	if (want > pos)
		return -EINVAL;
	buf[off++] = '\0';
	return xs_reply(r, buf, off);
}

static int xs_op_get_perms(struct xs_req *r)
{
	char path[XS_PATH_BUF], buf[XENSTORE_PAYLOAD_MAX];
	const struct xs_node *n;
	int ret = xs_req_path(r, false, path);

	if (!ret)
		ret = xs_store_read(&r->s, path, &n);
	if (ret)
		return ret;
	ret = xs_perms_format(n->perms, n->nperms, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	return xs_reply(r, buf, (uint32_t)ret);
}

static int xs_op_set_perms(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	struct xs_perm perms[XS_MAX_ARGS];
	unsigned int i;
	int ret = xs_req_path(r, false, path);

	if (ret)
		return ret;
	if (r->a.n < 2)
		return -EINVAL;
	for (i = 1; i < r->a.n; i++)
		if (xs_perms_parse(r->a.s[i], &perms[i - 1]))
			return -EINVAL;
	ret = xs_store_set_perms(&r->s, path, perms, r->a.n - 1);
	return ret ? ret : xs_ok(r);
}

static int xs_op_watch(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	const char *given;
	size_t rel = 0;
	struct xs_watch *w;
	int ret = xs_req_path(r, true, path);

	if (ret)
		return ret;
	if (r->a.n < 2)
		return -EINVAL;
	given = r->a.s[0];
	if (given[0] != '/' && given[0] != '@')
		rel = strlen(path) - strlen(given);
	ret = xs_watch_add(r->c->d, r->c, path, r->a.s[1], rel);
	if (ret)
		return ret;
	xs_ok(r);
	/* Every new watch fires once, at once, with its own path. */
	w = sv_container_of(r->c->watches.prev, struct xs_watch, conn_link);
	xs_watch_send(w, w->path);
	return 0;
}

static int xs_op_unwatch(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	int ret = xs_req_path(r, true, path);

	if (ret)
		return ret;
	if (r->a.n < 2)
		return -EINVAL;
	ret = xs_watch_del(r->c->d, r->c, path, r->a.s[1]);
	return ret ? ret : xs_ok(r);
}

static int xs_op_reset_watches(struct xs_req *r)
{
	xs_watch_del_all(r->c->d, r->c);
	xs_conn_drop_txns(r->c);
	return xs_ok(r);
}

static int xs_op_txn_start(struct xs_req *r)
{
	struct xs_daemon *d = r->c->d;
	struct xs_txn *tx;
	char buf[16];
	int n;

	if (r->hdr->tx_id)
		return -EBUSY; /* no nesting */
	if (xs_quota_exceeded(d, &r->s.who, XS_Q_TRANSACTIONS, (long)r->c->ntxns + 1))
		return -ENOSPC;
	do {
		if (++d->next_txid == 0)
			d->next_txid = 1;
	} while (xs_conn_find_txn(r->c, d->next_txid));
	tx = xs_txn_new(d->next_txid);
	if (!tx)
		return -ENOMEM;
	sv_list_add_tail(&r->c->txns, &tx->link);
	r->c->ntxns++;
	n = snprintf(buf, sizeof(buf), "%u", tx->id);
	return xs_reply(r, buf, (uint32_t)n + 1);
}

static int xs_op_txn_end(struct xs_req *r)
{
	struct xs_txn *tx = r->s.tx;
	uint32_t i;
	int ret = 0;

	if (!tx)
		return -ENOENT;
	if (r->a.n < 1 || (strcmp(r->a.s[0], "T") && strcmp(r->a.s[0], "F")))
		return -EINVAL;
	sv_list_del(&tx->link);
	r->c->ntxns--;
	if (r->a.s[0][0] == 'T') {
		ret = xs_txn_commit(&r->c->d->tree, tx);
		if (!ret)
			for (i = 0; i < tx->nevents; i++)
				xs_watch_fire(r->c->d, tx->events[i].path, tx->events[i].recursive,
					      tx->events[i].perms, tx->events[i].nperms);
	}
	xs_txn_free(tx);
	r->s.tx = NULL;
	return ret ? ret : xs_ok(r);
}

static int xs_op_introduce(struct xs_req *r)
{
	unsigned int domid;
	unsigned long long mfn;
	unsigned long port;
	char *end;
	int ret;

	if (!r->s.who.privileged)
		return -EACCES;
	if (r->a.n < 3 || xs_req_domid(r, 0, &domid))
		return -EINVAL;
	errno = 0;
	mfn = strtoull(r->a.s[1], &end, 10);
	if (errno || *end || !r->a.s[1][0])
		return -EINVAL;
	port = strtoul(r->a.s[2], &end, 10);
	if (errno || *end || !r->a.s[2][0] || port > UINT32_MAX)
		return -EINVAL;
	ret = xs_domain_introduce(r->c->d, domid, mfn, (unsigned int)port);
	return ret ? ret : xs_ok(r);
}

static int xs_op_release(struct xs_req *r)
{
	unsigned int domid;
	int ret;

	if (!r->s.who.privileged)
		return -EACCES;
	if (xs_req_domid(r, 0, &domid))
		return -EINVAL;
	ret = xs_domain_release(r->c->d, domid);
	return ret ? ret : xs_ok(r);
}

static int xs_op_resume(struct xs_req *r)
{
	unsigned int domid;

	if (!r->s.who.privileged)
		return -EACCES;
	if (xs_req_domid(r, 0, &domid))
		return -EINVAL;
	if (!xs_domain_is_introduced(r->c->d, domid))
		return -ENOENT;
	/* Its next shutdown gets an @releaseDomain again. */
	if (xs_domain_get(r->c->d, domid))
		xs_domain_get(r->c->d, domid)->shutdown = false;
	return xs_ok(r);
}

static int xs_op_set_target(struct xs_req *r)
{
	unsigned int domid, target;
	int ret;

	if (!r->s.who.privileged)
		return -EACCES;
	if (xs_req_domid(r, 0, &domid) || xs_req_domid(r, 1, &target))
		return -EINVAL;
	ret = xs_domain_set_target(r->c->d, domid, target);
	return ret ? ret : xs_ok(r);
}

static int xs_op_get_domain_path(struct xs_req *r)
{
	unsigned int domid;
	char buf[32];
	int n;

	if (xs_req_domid(r, 0, &domid))
		return -EINVAL;
	n = snprintf(buf, sizeof(buf), XS_DOMAIN_ROOT "%u", domid);
	return xs_reply(r, buf, (uint32_t)n + 1);
}

static int xs_op_is_introduced(struct xs_req *r)
{
	unsigned int domid;

	if (xs_req_domid(r, 0, &domid))
		return -EINVAL;
	return xs_reply(r, xs_domain_is_introduced(r->c->d, domid) ? "T" : "F", 2);
}

static int xs_op_control(struct xs_req *r)
{
	if (!r->s.who.privileged)
		return -EACCES;
	return xs_control(r->c, r->hdr, &r->a);
}

enum {
	XS_OPF_TXN = 1,	  /* honours tx_id */
	XS_OPF_WRITE = 2, /* refused on the read-only socket */
};

static const struct {
	int (*fn)(struct xs_req *r);
	unsigned int flags;
} xs_ops[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { xs_op_control, XS_OPF_WRITE },
	[XS_DIRECTORY] = { xs_op_directory, XS_OPF_TXN },
	[XS_READ] = { xs_op_read, XS_OPF_TXN },
	[XS_GET_PERMS] = { xs_op_get_perms, XS_OPF_TXN },
	[XS_WATCH] = { xs_op_watch, 0 },
	[XS_UNWATCH] = { xs_op_unwatch, 0 },
	[XS_TRANSACTION_START] = { xs_op_txn_start, 0 },
	[XS_TRANSACTION_END] = { xs_op_txn_end, XS_OPF_TXN },
	[XS_INTRODUCE] = { xs_op_introduce, XS_OPF_WRITE },
	[XS_RELEASE] = { xs_op_release, XS_OPF_WRITE },
	[XS_GET_DOMAIN_PATH] = { xs_op_get_domain_path, 0 },
	[XS_WRITE] = { xs_op_write, XS_OPF_TXN | XS_OPF_WRITE },
	[XS_MKDIR] = { xs_op_mkdir, XS_OPF_TXN | XS_OPF_WRITE },
	[XS_RM] = { xs_op_rm, XS_OPF_TXN | XS_OPF_WRITE },
	[XS_SET_PERMS] = { xs_op_set_perms, XS_OPF_TXN | XS_OPF_WRITE },
	[XS_IS_DOMAIN_INTRODUCED] = { xs_op_is_introduced, 0 },
	[XS_RESUME] = { xs_op_resume, XS_OPF_WRITE },
	[XS_SET_TARGET] = { xs_op_set_target, XS_OPF_WRITE },
	[XS_RESET_WATCHES] = { xs_op_reset_watches, 0 },
	[XS_DIRECTORY_PART] = { xs_op_directory_part, XS_OPF_TXN },
};

void xs_ops_handle(struct xs_conn *c, const struct xsd_sockmsg *hdr, const char *payload)
{
	struct xs_req r = { .c = c, .hdr = hdr, .payload = payload };
	int ret;

	if (hdr->type >= XS_TYPE_COUNT || !xs_ops[hdr->type].fn) {
		xs_conn_send_error(c, hdr, EINVAL);
		return;
	}
	xs_wire_split(payload, hdr->len, XS_MAX_ARGS, &r.a);
	r.s.d = c->d;
	xs_caller_of(c->d, c, &r.s.who);
	if (c->d->trace)
		xs_log(c->d, "conn %llu dom %u: %s %s tx %u", (unsigned long long)c->key, c->domid,
		       xs_wire_typename(hdr->type), r.a.n ? r.a.s[0] : "", hdr->tx_id);
	if (c->readonly && (xs_ops[hdr->type].flags & XS_OPF_WRITE)) {
		ret = -EROFS;
		goto out_error;
	}
	if (hdr->tx_id && (xs_ops[hdr->type].flags & XS_OPF_TXN)) {
		r.s.tx = xs_conn_find_txn(c, hdr->tx_id);
		if (!r.s.tx) {
			ret = -ENOENT;
			goto out_error;
		}
	}
	ret = xs_ops[hdr->type].fn(&r);
	if (!ret)
		return;
out_error:
	xs_conn_send_error(c, hdr, -ret);
}
