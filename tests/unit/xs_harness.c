// SPDX-License-Identifier: MIT
// Test harness for xenstored unit tests: a daemon context and in-memory client connections.
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xs_harness.h"

/* In-memory transport: bytes to read, and everything the daemon wrote. */
struct xt_pipe {
	uint8_t *in;
	size_t in_len, in_off;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	int blocked;
	char reply[8192];
};

static ssize_t xt_read_fn(struct xs_conn *c, void *buf, size_t len)
{
	struct xt_pipe *p = c->priv;
	size_t n = p->in_len - p->in_off;

	if (n > len)
		n = len;
	memcpy(buf, p->in + p->in_off, n);
	p->in_off += n;
	return (ssize_t)n;
}

static ssize_t xt_write_fn(struct xs_conn *c, const void *buf, size_t len)
{
	struct xt_pipe *p = c->priv;

	if (p->blocked)
		return 0;
	if (p->out_len + len > p->out_cap) {
		p->out_cap = (p->out_len + len) * 2;
		p->out = realloc(p->out, p->out_cap);
		ck_assert_ptr_nonnull(p->out);
	}
	memcpy(p->out + p->out_len, buf, len);
	p->out_len += len;
	return (ssize_t)len;
}

static bool xt_ready(struct xs_conn *c)
{
	return true;
}

static void xt_close(struct xs_conn *c)
{
}

static const struct xs_transport_ops xt_ops = {
	.name = "test",
	.read = xt_read_fn,
	.write = xt_write_fn,
	.can_read = xt_ready,
	.can_write = xt_ready,
	.close = xt_close,
};

void xt_daemon(struct xs_daemon *d)
{
	ck_assert_int_eq(xs_daemon_init(d), 0);
	ck_assert_int_eq(xs_daemon_base_nodes(d), 0);
	/* Quiet: set XT_LOG=1 to see the daemon's log on stderr. */
	if (!getenv("XT_LOG"))
		d->log = fopen("/dev/null", "w");
}

void xt_done(struct xs_daemon *d)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->conns)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);
		struct xt_pipe *p = c->priv;

		xs_conn_free(c);
		free(p->in);
		free(p->out);
		free(p);
	}
	xs_daemon_fini(d);
	if (d->log)
		fclose(d->log);
}

struct xs_conn *xt_conn(struct xs_daemon *d, unsigned int domid)
{
	struct xt_pipe *p = calloc(1, sizeof(*p));
	struct xs_conn *c;

	ck_assert_ptr_nonnull(p);
	c = xs_conn_new(d, &xt_ops, p, -1, domid, false);
	ck_assert_ptr_nonnull(c);
	return c;
}

int xt_is_dead(struct xs_conn *c)
{
	return c->dead;
}

void xt_feed(struct xs_conn *c, const void *buf, size_t len)
{
	struct xt_pipe *p = c->priv;

	p->in = realloc(p->in, p->in_len + len + 1);
	ck_assert_ptr_nonnull(p->in);
	if (len)
		memcpy(p->in + p->in_len, buf, len);
	p->in_len += len;
	xs_conn_handle_input(c);
	xs_conn_flush(c);
	/* Like the main loop: drained output lets paused input resume. */
	while (!c->dead && c->throttled && !c->want_out) {
		xs_conn_handle_input(c);
		xs_conn_flush(c);
	}
}

/* Finds the first queued message that is (or is not) an event; removes it. */
static int xt_pop(struct xt_pipe *p, bool event, struct xsd_sockmsg *hdr, char *out, size_t outsz)
{
	size_t off = p->out_off;

	while (off + sizeof(*hdr) <= p->out_len) {
		struct xsd_sockmsg h;

		memcpy(&h, p->out + off, sizeof(h));
		if ((h.type == XS_WATCH_EVENT) == event) {
			size_t n = h.len < outsz - 1 ? h.len : outsz - 1;

			memcpy(out, p->out + off + sizeof(h), n);
			out[n] = '\0';
			*hdr = h;
			memmove(p->out + off, p->out + off + sizeof(h) + h.len,
				p->out_len - off - sizeof(h) - h.len);
			p->out_len -= sizeof(h) + h.len;
			return 1;
		}
		off += sizeof(h) + h.len;
	}
	return 0;
}

uint32_t xt_req(struct xs_conn *c, uint32_t type, uint32_t tx, const void *payload, size_t len,
		char *out, size_t outsz)
{
	struct xt_pipe *p = c->priv;
	struct xsd_sockmsg h = { .type = type, .req_id = 77, .tx_id = tx, .len = (uint32_t)len };
	uint8_t buf[sizeof(h) + 8192];

	ck_assert_uint_le(len, 8192);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), payload, len);
	xt_feed(c, buf, sizeof(h) + len);
	if (!xt_pop(p, false, &h, out, outsz))
		return XS_INVALID;
	ck_assert_uint_eq(h.req_id, 77);
	return h.type;
}

static const char *xt_result(struct xs_conn *c, uint32_t type, uint32_t tx, const char *buf,
			     size_t len)
{
	struct xt_pipe *p = c->priv;
	uint32_t t = xt_req(c, type, tx, buf, len, p->reply, sizeof(p->reply));

	if (t == XS_INVALID)
		return "NOREPLY";
	if (t == XS_ERROR)
		return p->reply;
	ck_assert_uint_eq(t, type);
	return p->reply;
}

const char *xt_write(struct xs_conn *c, uint32_t tx, const char *path, const char *val)
{
	char buf[8192];
	size_t pl = strlen(path) + 1, vl = strlen(val);

	memcpy(buf, path, pl);
	memcpy(buf + pl, val, vl);
	return xt_result(c, XS_WRITE, tx, buf, pl + vl);
}

const char *xt_read(struct xs_conn *c, uint32_t tx, const char *path)
{
	return xt_result(c, XS_READ, tx, path, strlen(path) + 1);
}

const char *xt_strs(struct xs_conn *c, uint32_t type, uint32_t tx, int n, ...)
{
	char buf[8192];
	size_t off = 0;
	va_list ap;

	va_start(ap, n);
	while (n-- > 0) {
		const char *s = va_arg(ap, const char *);
		size_t l = strlen(s) + 1;

		memcpy(buf + off, s, l);
		off += l;
	}
	va_end(ap);
	return xt_result(c, type, tx, buf, off);
}

const char *xt_simple(struct xs_conn *c, uint32_t type, uint32_t tx, const char *a, const char *b)
{
	if (b)
		return xt_strs(c, type, tx, 2, a, b);
	if (a)
		return xt_strs(c, type, tx, 1, a);
	return xt_result(c, type, tx, "", 0);
}

int xt_event(struct xs_conn *c, char *path, char *token)
{
	struct xt_pipe *p = c->priv;
	struct xsd_sockmsg h;
	char buf[8192];

	xs_conn_flush(c); /* events for a watcher are queued by others' requests */
	if (!xt_pop(p, true, &h, buf, sizeof(buf)))
		return 0;
	strcpy(path, buf);
	strcpy(token, buf + strlen(buf) + 1);
	return 1;
}

void xt_block_output(struct xs_conn *c, int blocked)
{
	((struct xt_pipe *)c->priv)->blocked = blocked;
}

int xt_nreplies(struct xs_conn *c)
{
	struct xt_pipe *p = c->priv;
	size_t off = p->out_off;
	int n = 0;

	while (off + sizeof(struct xsd_sockmsg) <= p->out_len) {
		struct xsd_sockmsg h;

		memcpy(&h, p->out + off, sizeof(h));
		n += h.type != XS_WATCH_EVENT;
		off += sizeof(h) + h.len;
	}
	return n;
}

int xt_nevents(struct xs_conn *c)
{
	struct xt_pipe *p = c->priv;
	size_t off = p->out_off;
	int n = 0;

	xs_conn_flush(c);
	while (off + sizeof(struct xsd_sockmsg) <= p->out_len) {
		struct xsd_sockmsg h;

		memcpy(&h, p->out + off, sizeof(h));
		n += h.type == XS_WATCH_EVENT;
		off += sizeof(h) + h.len;
	}
	return n;
}
