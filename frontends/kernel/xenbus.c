// SPDX-License-Identifier: MIT
// The xenbus client: requests and replies on the xenstore ring, watch events queued apart.
#include <stdarg.h>
#include <svk/events.h>
#include <svk/lib.h>
#include <svk/m2p.h>
#include <svk/printk.h>
#include <svk/wait.h>
#include <svk/xenbus.h>

/*
 * One request in flight per slot.  A synchronous call takes a slot, sends,
 * and waits for the reply with its req_id; a fire-and-forget request
 * (discard) frees its slot when the reply comes.  The receive side runs in
 * the store port's upcall and copies each message once into rx, checks it,
 * then hands it to a slot or the watch queue.
 */
#define XB_SLOTS 4
#define XB_WATCHES 16
#define XB_QUEUE 16
#define XB_EVENT_PATH 512

struct xb_slot {
	bool busy, done, discard;
	uint32_t req_id;
	uint32_t type, len;
	char body[XENSTORE_PAYLOAD_MAX + 1];
};

struct xb_watch {
	bool used;
	xenbus_watch_cb cb;
	void *data;
	char path[XB_EVENT_PATH];
};

struct xb_event {
	int watch;
	char path[XB_EVENT_PATH];
};

/* All xenbus state, owned by this file (boot vCPU only). */
static struct {
	struct xenstore_domain_interface *intf;
	evtchn_port_t port;
	bool ready, broken;
	uint32_t next_id;
	unsigned int depth; /* synchronous calls in progress */
	unsigned int tx_open; /* transactions started and not ended */
	struct xb_slot slot[XB_SLOTS];
	struct xb_watch watch[XB_WATCHES];
	struct xb_event queue[XB_QUEUE];
	unsigned int q_head, q_len;
	unsigned long stray, dropped;
	/* The message being received: header, then body. */
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t have;
	bool in_body;
} xb;

/*
 * Set around a call to send it without waiting (the reply is dropped,
 * an error reply printed); xenbus_*_async below.
 */
static bool xb_async;

static void xb_break(const char *why)
{
	if (!xb.broken)
		printk("xenbus: ring broken: %s\n", why);
	xb.broken = true;
}

/* ---- receive (upcall) ---------------------------------------------------- */

static int xb_find_token(const char *token)
{
	uint64_t id;

	if (token[0] != 'w' || parse_u64(token + 1, &id) || id >= XB_WATCHES || !xb.watch[id].used)
		return -1;
	return (int)id;
}

/* A watch event "path\0token\0": queue it for its watch. */
static void xb_watch_event(void)
{
	const char *path = xb.body, *token;
	size_t plen = strnlen(path, xb.hdr.len);
	struct xb_event *ev;
	int id;

	if (plen + 1 >= xb.hdr.len) {
		xb.dropped++;
		return;
	}
	token = path + plen + 1;
	id = xb_find_token(token);
	if (id < 0 || plen >= XB_EVENT_PATH) {
		xb.dropped++;
		return;
	}
	if (xb.q_len == XB_QUEUE) { /* full: lose the oldest */
		xb.q_head = (xb.q_head + 1) % XB_QUEUE;
		xb.q_len--;
		xb.dropped++;
	}
	ev = &xb.queue[(xb.q_head + xb.q_len) % XB_QUEUE];
	ev->watch = id;
	memcpy(ev->path, path, plen + 1);
	xb.q_len++;
}

static void xb_deliver(void)
{
	struct xb_slot *s;

	xb.body[xb.hdr.len] = '\0';
	if (xb.hdr.type == XS_WATCH_EVENT) {
		xb_watch_event();
		return;
	}
	for (s = xb.slot; s < xb.slot + XB_SLOTS; s++) {
		if (s->busy && !s->done && s->req_id == xb.hdr.req_id)
			break;
	}
	if (s == xb.slot + XB_SLOTS) {
		xb.stray++;
		return;
	}
	if (s->discard) {
		if (xb.hdr.type == XS_ERROR)
			printk("xenbus: background request failed: %s\n", xb.body);
		s->busy = false;
		return;
	}
	s->type = xb.hdr.type;
	s->len = xb.hdr.len;
	memcpy(s->body, xb.body, xb.hdr.len + 1);
	WRITE_ONCE(s->done, true);
}

/*
 * Take what the ring holds.  Indices are read once and checked: a
 * producer more than a ring ahead of us is a broken (or hostile) server.
 */
static void xb_rx(void)
{
	struct xenstore_domain_interface *in = xb.intf;
	XENSTORE_RING_IDX cons, prod;
	bool took = false;

	while (!xb.broken) {
		uint32_t want, n, off;
		char *dst;

		cons = in->rsp_cons;
		prod = READ_ONCE(in->rsp_prod);
		xen_rmb(); /* the index before the bytes it covers */
		if (prod - cons > XENSTORE_RING_SIZE) {
			xb_break("response index out of range");
			return;
		}
		if (prod == cons)
			break;
		if (!xb.in_body) {
			want = sizeof(xb.hdr) - xb.have;
			dst = (char *)&xb.hdr + xb.have;
		} else {
			want = xb.hdr.len - xb.have;
			dst = xb.body + xb.have;
		}
		off = MASK_XENSTORE_IDX(cons);
		n = prod - cons;
		if (n > want)
			n = want;
		if (n > XENSTORE_RING_SIZE - off)
			n = XENSTORE_RING_SIZE - off;
		memcpy(dst, in->rsp + off, n);
		xb.have += n;
		xen_mb(); /* done reading before the space is given back */
		WRITE_ONCE(in->rsp_cons, cons + n);
		took = true;
		if (!xb.in_body && xb.have == sizeof(xb.hdr)) {
			if (xb.hdr.len > XENSTORE_PAYLOAD_MAX) {
				xb_break("reply longer than XENSTORE_PAYLOAD_MAX");
				return;
			}
			xb.in_body = true;
			xb.have = 0;
		}
		if (xb.in_body && xb.have == xb.hdr.len) {
			xb_deliver();
			xb.in_body = false;
			xb.have = 0;
		}
	}
	if (took)
		(void)evtchn_notify(xb.port);
}

static void xb_handler(evtchn_port_t port, void *data)
{
	xb_rx();
}

int xenbus_init(const start_info_t *si)
{
	void *page;
	int rc;

	if (!si->store_mfn || !si->store_evtchn || !events_ready())
		return -XEN_ENODEV;
	page = mfn_to_virt(si->store_mfn);
	if (!page)
		return -XEN_ENODEV;
	xb.intf = page;
	xb.port = si->store_evtchn;
	xb.next_id = 1;
	/* Replies left from before (a kexec, a previous boot) are not ours. */
	rc = evtchn_bind(xb.port, xb_handler, NULL);
	if (rc)
		return rc;
	xb.ready = true;
	return 0;
}

bool xenbus_ready(void)
{
	return xb.ready && !xb.broken;
}

/* ---- send ---------------------------------------------------------------- */

struct xb_iov {
	const void *base;
	size_t len;
};

static bool xb_has_space(void *arg)
{
	struct xenstore_domain_interface *in = xb.intf;
	XENSTORE_RING_IDX used = READ_ONCE(in->req_prod) - READ_ONCE(in->req_cons);

	return xb.broken || used < XENSTORE_RING_SIZE;
}

/* Copy @len bytes into the request ring, waiting for room as needed. */
static int xb_put(const void *data, size_t len)
{
	struct xenstore_domain_interface *in = xb.intf;
	const char *p = data;

	while (len) {
		XENSTORE_RING_IDX cons, prod;
		uint32_t n, off;

		if (wait_until(xb_has_space, NULL, XENBUS_TIMEOUT_NS))
			return -XEN_ETIMEDOUT;
		if (xb.broken)
			return -XEN_EIO;
		cons = READ_ONCE(in->req_cons);
		prod = in->req_prod;
		xen_mb(); /* read cons before writing the slots it frees */
		if (prod - cons > XENSTORE_RING_SIZE) {
			xb_break("request index out of range");
			return -XEN_EIO;
		}
		n = XENSTORE_RING_SIZE - (prod - cons);
		off = MASK_XENSTORE_IDX(prod);
		if (n > XENSTORE_RING_SIZE - off)
			n = XENSTORE_RING_SIZE - off;
		if (n > len)
			n = (uint32_t)len;
		memcpy(in->req + off, p, n);
		xen_wmb(); /* bytes before the index that publishes them */
		WRITE_ONCE(in->req_prod, prod + n);
		(void)evtchn_notify(xb.port);
		p += n;
		len -= n;
	}
	return 0;
}

static bool xb_slot_free(void *arg)
{
	for (int i = 0; i < XB_SLOTS; i++) {
		if (!xb.slot[i].busy)
			return true;
	}
	return xb.broken;
}

/* Take a slot and send one message; returns the slot or NULL with *rc set. */
static struct xb_slot *xb_send(uint32_t type, xenbus_transaction_t t, const struct xb_iov *iov,
			       unsigned int n, bool discard, int *rc)
{
	struct xsd_sockmsg hdr = { .type = type, .tx_id = t };
	struct xb_slot *s = NULL;
	size_t len = 0;
	unsigned int i;

	*rc = xb.ready ? 0 : -XEN_ENODEV;
	if (*rc)
		return NULL;
	if (xb.broken) {
		*rc = -XEN_EIO;
		return NULL;
	}
	for (i = 0; i < n; i++)
		len += iov[i].len;
	if (len > XENSTORE_PAYLOAD_MAX) {
		*rc = -XEN_E2BIG;
		return NULL;
	}
	if (wait_until(xb_slot_free, NULL, XENBUS_TIMEOUT_NS)) {
		*rc = -XEN_ETIMEDOUT;
		return NULL;
	}
	if (xb.broken) {
		*rc = -XEN_EIO;
		return NULL;
	}
	for (i = 0; i < XB_SLOTS && xb.slot[i].busy; i++)
		;
	s = &xb.slot[i];
	hdr.req_id = xb.next_id++;
	hdr.len = (uint32_t)len;
	s->req_id = hdr.req_id;
	s->done = false;
	s->discard = discard;
	s->busy = true;
	*rc = xb_put(&hdr, sizeof(hdr));
	for (i = 0; !*rc && i < n; i++)
		*rc = xb_put(iov[i].base, iov[i].len);
	if (*rc) {
		/* Half a message on the ring: the stream is lost. */
		xb_break("could not send a whole request");
		s->busy = false;
		return NULL;
	}
	return s;
}

static bool xb_slot_done(void *arg)
{
	struct xb_slot *s = arg;

	return READ_ONCE(s->done) || xb.broken;
}

/* xenstored's error names, as xs_wire.h spells them, to Xen errnos. */
static const struct {
	const char *name;
	int err;
} xb_errors[] = {
	{ "EINVAL", XEN_EINVAL }, { "EACCES", XEN_EACCES },   { "EEXIST", XEN_EEXIST },
	{ "EISDIR", XEN_EISDIR }, { "ENOENT", XEN_ENOENT },   { "ENOMEM", XEN_ENOMEM },
	{ "ENOSPC", XEN_ENOSPC }, { "EIO", XEN_EIO },	      { "ENOTEMPTY", XEN_ENOTEMPTY },
	{ "ENOSYS", XEN_ENOSYS }, { "EROFS", XEN_EROFS },     { "EBUSY", XEN_EBUSY },
	{ "EAGAIN", XEN_EAGAIN }, { "EISCONN", XEN_EISCONN }, { "E2BIG", XEN_E2BIG },
	{ "EPERM", XEN_EPERM },
};

static int xb_error(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(xb_errors); i++) {
		if (!strcmp(name, xb_errors[i].name))
			return -xb_errors[i].err;
	}
	return -XEN_EINVAL;
}

/*
 * One synchronous request: send, wait for the reply, copy its body into
 * @reply (NUL-terminated, when given).  Returns the reply's length or
 * -errno.
 */
static int xb_talk(uint32_t type, xenbus_transaction_t t, const struct xb_iov *iov, unsigned int n,
		   char *reply, size_t size)
{
	struct xb_slot *s;
	int rc;

	xb.depth++;
	s = xb_send(type, t, iov, n, !!xb_async, &rc);
	if (!s || xb_async)
		goto out;
	rc = wait_until(xb_slot_done, s, XENBUS_TIMEOUT_NS);
	if (rc || !s->done) {
		/* A late reply frees the slot by itself. */
		s->discard = true;
		rc = xb.broken ? -XEN_EIO : -XEN_ETIMEDOUT;
		goto out;
	}
	if (s->type == XS_ERROR)
		rc = xb_error(s->body);
	else if (s->type != type)
		rc = -XEN_EIO;
	else if (reply && s->len >= size)
		rc = -XEN_E2BIG;
	else {
		if (reply)
			memcpy(reply, s->body, s->len + 1);
		rc = (int)s->len;
	}
	s->busy = false;
out:
	xb.depth--;
	return rc;
}

/* A path (or other string) with its NUL, as the wire wants. */
static struct xb_iov xb_str(const char *s)
{
	return (struct xb_iov){ .base = s, .len = strlen(s) + 1 };
}

int xenbus_read(xenbus_transaction_t t, const char *path, char *buf, size_t size)
{
	struct xb_iov iov = xb_str(path);

	return xb_talk(XS_READ, t, &iov, 1, buf, size);
}

int xenbus_read_u64(xenbus_transaction_t t, const char *path, uint64_t *val)
{
	char buf[32];
	int rc = xenbus_read(t, path, buf, sizeof(buf));

	if (rc < 0)
		return rc;
	return parse_u64(buf, val);
}

int xenbus_write(xenbus_transaction_t t, const char *path, const char *value)
{
	/* The value goes without its NUL. */
	struct xb_iov iov[2] = { xb_str(path), { .base = value, .len = strlen(value) } };
	int rc = xb_talk(XS_WRITE, t, iov, 2, NULL, 0);

	return rc < 0 ? rc : 0;
}

int xenbus_printf(xenbus_transaction_t t, const char *path, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -XEN_E2BIG;
	return xenbus_write(t, path, buf);
}

int xenbus_mkdir(xenbus_transaction_t t, const char *path)
{
	struct xb_iov iov = xb_str(path);
	int rc = xb_talk(XS_MKDIR, t, &iov, 1, NULL, 0);

	return rc < 0 ? rc : 0;
}

int xenbus_rm(xenbus_transaction_t t, const char *path)
{
	struct xb_iov iov = xb_str(path);
	int rc = xb_talk(XS_RM, t, &iov, 1, NULL, 0);

	return rc < 0 ? rc : 0;
}

int xenbus_directory(xenbus_transaction_t t, const char *path, char *buf, size_t size)
{
	struct xb_iov iov = xb_str(path);
	int len = xb_talk(XS_DIRECTORY, t, &iov, 1, buf, size);
	int count = 0;

	if (len < 0)
		return len;
	/* "a\0b\0": one name per NUL; an empty reply is no child. */
	for (int i = 0; i < len; i++)
		count += buf[i] == '\0';
	return count;
}

int xenbus_transaction_start(xenbus_transaction_t *t)
{
	struct xb_iov iov = { .base = "", .len = 1 };
	char reply[16];
	uint64_t id;
	int rc = xb_talk(XS_TRANSACTION_START, XBT_NIL, &iov, 1, reply, sizeof(reply));

	if (rc < 0)
		return rc;
	if (parse_u64(reply, &id) || id == 0 || id > UINT32_MAX)
		return -XEN_EIO;
	*t = (xenbus_transaction_t)id;
	xb.tx_open++;
	return 0;
}

int xenbus_transaction_end(xenbus_transaction_t t, bool abort)
{
	struct xb_iov iov = xb_str(abort ? "F" : "T");
	int rc = xb_talk(XS_TRANSACTION_END, t, &iov, 1, NULL, 0);

	if (xb.tx_open)
		xb.tx_open--; /* ended, or lost with its error: the caller starts over */

	return rc < 0 ? rc : 0;
}

/* ---- watches ------------------------------------------------------------- */

int xenbus_watch(const char *path, xenbus_watch_cb cb, void *data)
{
	char token[8];
	struct xb_iov iov[2];
	int id, rc;

	if (strlen(path) >= XB_EVENT_PATH)
		return -XEN_E2BIG;
	for (id = 0; id < XB_WATCHES && xb.watch[id].used; id++)
		;
	if (id == XB_WATCHES)
		return -XEN_ENOSPC;
	ksnprintf(token, sizeof(token), "w%d", id);
	memcpy(xb.watch[id].path, path, strlen(path) + 1);
	xb.watch[id].cb = cb;
	xb.watch[id].data = data;
	xb.watch[id].used = true;
	iov[0] = xb_str(path);
	iov[1] = xb_str(token);
	rc = xb_talk(XS_WATCH, XBT_NIL, iov, 2, NULL, 0);
	if (rc < 0) {
		xb.watch[id].used = false;
		return rc;
	}
	return id;
}

/* Drop queued events of watch @id (all of them). */
static void xb_queue_purge(int id)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < xb.q_len; i++) {
		struct xb_event *ev = &xb.queue[(xb.q_head + i) % XB_QUEUE];

		if (ev->watch == id)
			continue;
		if (i != kept)
			xb.queue[(xb.q_head + kept) % XB_QUEUE] = *ev;
		kept++;
	}
	xb.q_len = kept;
}

int xenbus_unwatch(int id)
{
	char token[8];
	struct xb_iov iov[2];
	int rc;

	if (id < 0 || id >= XB_WATCHES || !xb.watch[id].used)
		return -XEN_EINVAL;
	ksnprintf(token, sizeof(token), "w%d", id);
	iov[0] = xb_str(xb.watch[id].path);
	iov[1] = xb_str(token);
	rc = xb_talk(XS_UNWATCH, XBT_NIL, iov, 2, NULL, 0);
	events_mask();
	xb.watch[id].used = false;
	xb_queue_purge(id);
	events_unmask();
	return rc < 0 ? rc : 0;
}

/* Index in the queue of the first event of watch @id, or -1. */
static int xb_queue_find(int id)
{
	for (unsigned int i = 0; i < xb.q_len; i++) {
		if (xb.queue[(xb.q_head + i) % XB_QUEUE].watch == id)
			return (int)i;
	}
	return -1;
}

/* Remove the @i-th queued event, copying it to @out (events masked). */
static void xb_queue_take(unsigned int i, struct xb_event *out)
{
	*out = xb.queue[(xb.q_head + i) % XB_QUEUE];
	for (; i + 1 < xb.q_len; i++)
		xb.queue[(xb.q_head + i) % XB_QUEUE] = xb.queue[(xb.q_head + i + 1) % XB_QUEUE];
	xb.q_len--;
}

static bool xb_has_event(void *arg)
{
	return xb_queue_find(*(int *)arg) >= 0 || xb.broken;
}

int xenbus_watch_wait(int id, char *path, size_t size, uint64_t timeout_ns)
{
	struct xb_event ev;
	int i, rc;

	if (id < 0 || id >= XB_WATCHES || !xb.watch[id].used || xb.watch[id].cb)
		return -XEN_EINVAL;
	rc = wait_until(xb_has_event, &id, timeout_ns);
	if (rc)
		return rc;
	events_mask();
	i = xb_queue_find(id);
	if (i >= 0)
		xb_queue_take((unsigned int)i, &ev);
	events_unmask();
	if (i < 0)
		return -XEN_EIO;
	if (size) {
		size_t n = strnlen(ev.path, size - 1);

		memcpy(path, ev.path, n);
		path[n] = '\0';
	}
	return 0;
}

void xenbus_run_watches(void)
{
	struct xb_event ev;
	bool found;

	/* Callbacks may talk to xenstored: never in the middle of a request. */
	if (xb.depth)
		return;
	do {
		found = false;
		events_mask();
		for (unsigned int i = 0; i < xb.q_len; i++) {
			int w = xb.queue[(xb.q_head + i) % XB_QUEUE].watch;

			if (xb.watch[w].used && xb.watch[w].cb) {
				xb_queue_take(i, &ev);
				found = true;
				break;
			}
		}
		events_unmask();
		if (found && xb.watch[ev.watch].used)
			xb.watch[ev.watch].cb(ev.path, xb.watch[ev.watch].data);
	} while (found);
}

int xenbus_write_async(const char *path, const char *value)
{
	int rc;

	xb_async = true;
	rc = xenbus_write(XBT_NIL, path, value);
	xb_async = false;
	return rc;
}

int xenbus_watch_async(const char *path, xenbus_watch_cb cb, void *data)
{
	int rc;

	xb_async = true;
	rc = xenbus_watch(path, cb, data);
	xb_async = false;
	return rc;
}

/* ---- suspend and resume ------------------------------------------------- */

/* Nothing in flight: every request answered, no reply half taken, the request ring drained. */
static bool xb_idle(void *arg)
{
	struct xenstore_domain_interface *in = xb.intf;

	if (xb.broken)
		return true;
	for (int i = 0; i < XB_SLOTS; i++) {
		if (xb.slot[i].busy && !xb.slot[i].done)
			return false;
	}
	return !xb.in_body && xb.have == 0 && READ_ONCE(in->req_cons) == READ_ONCE(in->req_prod);
}

bool xenbus_busy(void)
{
	return xb.depth || xb.tx_open;
}

int xenbus_quiesce(uint64_t timeout_ns)
{
	if (!xb.ready)
		return 0;
	return wait_until(xb_idle, NULL, timeout_ns);
}

int xenbus_resume(const start_info_t *si, bool new_domain)
{
	int rc;

	if (!xb.ready || !new_domain)
		return 0;
	/* The same page (its indexes kept); the port is the new domain's. */
	if (!si->store_evtchn || mfn_to_virt(si->store_mfn) != (void *)xb.intf) {
		xb_break("no store page or port after the restore");
		return -XEN_ENODEV;
	}
	xb.port = si->store_evtchn;
	rc = evtchn_bind(xb.port, xb_handler, NULL);
	if (rc)
		xb_break("binding the new store port failed");
	return rc;
}

/*
 * xenstored knows a restored domain anew: no watch of ours exists there.
 * Each is registered again under its token (one event fires for each, as
 * at any registration); events queued before the suspend are kept.
 */
int xenbus_rewatch(void)
{
	int rc, first = 0;

	for (int id = 0; id < XB_WATCHES; id++) {
		char token[8];
		struct xb_iov iov[2];

		if (!xb.watch[id].used)
			continue;
		ksnprintf(token, sizeof(token), "w%d", id);
		iov[0] = xb_str(xb.watch[id].path);
		iov[1] = xb_str(token);
		rc = xb_talk(XS_WATCH, XBT_NIL, iov, 2, NULL, 0);
		if (rc < 0 && !first) {
			printk("xenbus: watch %s again: %d\n", xb.watch[id].path, rc);
			first = rc;
		}
	}
	return first;
}

bool xenbus_watches_pending(void)
{
	for (unsigned int i = 0; i < xb.q_len; i++) {
		int w = xb.queue[(xb.q_head + i) % XB_QUEUE].watch;

		if (xb.watch[w].used && xb.watch[w].cb)
			return true;
	}
	return false;
}

unsigned long xenbus_stray_replies(void)
{
	return xb.stray;
}

unsigned long xenbus_dropped_events(void)
{
	return xb.dropped;
}
