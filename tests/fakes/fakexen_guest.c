// SPDX-License-Identifier: MIT
// Fake Xen services for the guest boot test: event channels, a grant table, a tiny xenstored, a
// console backend and a scripted dom0.
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/io/xs_wire.h>
#include <xen/io/console.h>

#include "fakexen_guest.h"

/*
 * Everything runs in the forked child inside the guest's hypercalls, on
 * the guest's own (16 KiB) stack, under the harness's fx_lock: big
 * buffers are static, never on the stack.  Ports: 1 the store, 2 the console (both
 * bound to "dom0" as the domain builder leaves them), others as the guest
 * allocates them.
 */
#define NR_PORTS 64
#define STORE_PORT 1
#define CONS_PORT 2
#define NR_NODES 128
#define NR_WATCHES 16

enum port_state { P_FREE, P_UNBOUND, P_DOM0, P_VIRQ, P_IPI };

static struct {
	struct fakexen_opts o;
	struct shared_info *sh;
	struct xenstore_domain_interface *store;
	struct xencons_interface *cons;
	grant_entry_v1_t *gnt;
	unsigned int nr_gnt;
	unsigned long gnt_mfn;
	int out;
	fakexen_say_fn say;
	enum port_state port[NR_PORTS];
	uint32_t virq[NR_PORTS];
	uint64_t timer; /* 0: not armed */
	evtchn_port_t timer_port;
	char home[64];
	struct {
		char path[256];
		char value[XENSTORE_PAYLOAD_MAX + 1];
	} node[NR_NODES];
	struct {
		char path[256];
		char token[32];
		bool used;
	} watch[NR_WATCHES];
	char outq[16384]; /* replies waiting for room in rsp[] */
	size_t outq_len;
	unsigned int tx_next, tx_ends;
	unsigned int watch_step;
	bool grant_done, console_typed, shutdown_sent, console_hostile_done;
	XENCONS_RING_IDX console_saved_prod;
	evtchn_port_t pp_port; /* the guest's pingpong port once bound */
	unsigned int pp_sent, pp_got;
} fx;

/* ---- event channels ------------------------------------------------------ */

static void raise_port(evtchn_port_t p)
{
	struct vcpu_info *vi = &fx.sh->vcpu_info[0];

	__atomic_fetch_or(&fx.sh->evtchn_pending[p / 64], 1UL << (p % 64), __ATOMIC_SEQ_CST);
	if (fx.sh->evtchn_mask[p / 64] & (1UL << (p % 64)))
		return;
	__atomic_fetch_or(&vi->evtchn_pending_sel, 1UL << (p / 64), __ATOMIC_SEQ_CST);
	vi->evtchn_upcall_pending = 1;
}

static int port_alloc(enum port_state st)
{
	for (int p = 3; p < NR_PORTS; p++) {
		if (fx.port[p] == P_FREE) {
			fx.port[p] = st;
			/* New ports start masked, as in Xen. */
			fx.sh->evtchn_mask[p / 64] |= 1UL << (p % 64);
			return p;
		}
	}
	return -XEN_ENOSPC;
}

static void store_service(void);
static void console_service(void);
static void pingpong_event(void);

long fakexen_event_channel_op(long cmd, void *arg)
{
	int p;

	if (!fx.o.on)
		return -XEN_ENOSYS;
	switch (cmd) {
	case EVTCHNOP_unmask: {
		evtchn_port_t port = ((struct evtchn_unmask *)arg)->port;

		if (port >= NR_PORTS || fx.port[port] == P_FREE)
			return -XEN_EINVAL;
		fx.sh->evtchn_mask[port / 64] &= ~(1UL << (port % 64));
		if (fx.sh->evtchn_pending[port / 64] & (1UL << (port % 64)))
			raise_port(port);
		return 0;
	}
	case EVTCHNOP_send: {
		evtchn_port_t port = ((struct evtchn_send *)arg)->port;

		if (port >= NR_PORTS || fx.port[port] == P_FREE)
			return -XEN_EINVAL;
		if (port == STORE_PORT)
			store_service();
		else if (port == CONS_PORT)
			console_service();
		else if (fx.port[port] == P_IPI)
			raise_port(port);
		else if (port == fx.pp_port && fx.port[port] == P_DOM0)
			pingpong_event();
		return 0;
	}
	case EVTCHNOP_alloc_unbound: {
		struct evtchn_alloc_unbound *a = arg;

		if (a->dom != DOMID_SELF || a->remote_dom != 0)
			return -XEN_EINVAL;
		p = port_alloc(P_UNBOUND);
		if (p < 0)
			return p;
		a->port = (evtchn_port_t)p;
		return 0;
	}
	case EVTCHNOP_bind_virq: {
		struct evtchn_bind_virq *b = arg;

		if (b->virq != VIRQ_TIMER || b->vcpu != 0)
			return -XEN_EINVAL;
		p = port_alloc(P_VIRQ);
		if (p < 0)
			return p;
		fx.virq[p] = b->virq;
		fx.timer_port = (evtchn_port_t)p;
		b->port = (evtchn_port_t)p;
		return 0;
	}
	case EVTCHNOP_bind_ipi: {
		struct evtchn_bind_ipi *b = arg;

		p = port_alloc(P_IPI);
		if (p < 0)
			return p;
		b->port = (evtchn_port_t)p;
		return 0;
	}
	case EVTCHNOP_close: {
		evtchn_port_t port = ((struct evtchn_close *)arg)->port;

		if (port >= NR_PORTS || fx.port[port] == P_FREE)
			return -XEN_EINVAL;
		fx.port[port] = P_FREE;
		if (port == fx.timer_port)
			fx.timer_port = 0;
		if (port == fx.pp_port)
			fx.pp_port = 0;
		fx.say("[hv] evtchn close %u\n", port);
		return 0;
	}
	case EVTCHNOP_status: {
		struct evtchn_status *s = arg;
		static const uint32_t st[] = {
			[P_FREE] = EVTCHNSTAT_closed,	   [P_UNBOUND] = EVTCHNSTAT_unbound,
			[P_DOM0] = EVTCHNSTAT_interdomain, [P_VIRQ] = EVTCHNSTAT_virq,
			[P_IPI] = EVTCHNSTAT_ipi,
		};

		if (s->dom != DOMID_SELF || s->port >= NR_PORTS)
			return -XEN_EINVAL;
		s->status = st[fx.port[s->port]];
		return 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}

/* ---- time ---------------------------------------------------------------- */

static uint64_t host_tsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint64_t fakexen_now_ns(void)
{
	const struct vcpu_time_info *t = &fx.sh->vcpu_info[0].time;
	uint64_t d = host_tsc() - t->tsc_timestamp;

	d = t->tsc_shift < 0 ? d >> -t->tsc_shift : d << t->tsc_shift;
	return t->system_time + (uint64_t)(((unsigned __int128)d * t->tsc_to_system_mul) >> 32);
}

long fakexen_set_timer(uint64_t deadline_ns)
{
	if (!fx.o.on)
		return -XEN_ENOSYS;
	fx.timer = deadline_ns;
	return 0;
}

/* ---- grant table ---------------------------------------------------------- */

long fakexen_grant_table_op(long cmd, void *arg, long count)
{
	if (!fx.o.on)
		return -XEN_ENOSYS;
	if (count != 1)
		return -XEN_EINVAL;
	switch (cmd) {
	case GNTTABOP_query_size: {
		struct gnttab_query_size *q = arg;

		q->nr_frames = 1;
		q->max_nr_frames = fx.nr_gnt;
		q->status = GNTST_okay;
		return 0;
	}
	case GNTTABOP_setup_table: {
		struct gnttab_setup_table *s = arg;
		xen_pfn_t *frames;

		if (s->dom != DOMID_SELF || s->nr_frames > fx.nr_gnt) {
			s->status = GNTST_general_error;
			return 0;
		}
		frames = s->frame_list.p;
		for (uint32_t i = 0; i < s->nr_frames; i++)
			frames[i] = fx.gnt_mfn + i;
		s->status = GNTST_okay;
		fx.say("[hv] grant table: %u frames\n", s->nr_frames);
		return 0;
	}
	default:
		return -XEN_ENOSYS;
	}
}

/* ---- the tiny xenstored --------------------------------------------------- */

/* An absolute path for @p as the guest's home resolves it. */
static void abs_path(const char *p, char *out, size_t size)
{
	if (p[0] == '/')
		snprintf(out, size, "%s", p);
	else
		snprintf(out, size, "%s/%s", fx.home, p);
}

static int node_find(const char *path)
{
	for (int i = 0; i < NR_NODES; i++) {
		if (fx.node[i].path[0] && !strcmp(fx.node[i].path, path))
			return i;
	}
	return -1;
}

static void queue_msg(uint32_t type, uint32_t req_id, uint32_t tx, const void *body, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx, .len = len };

	if (fx.outq_len + sizeof(h) + len > sizeof(fx.outq)) {
		fx.say("[xs] reply queue full\n");
		exit(70);
	}
	memcpy(fx.outq + fx.outq_len, &h, sizeof(h));
	memcpy(fx.outq + fx.outq_len + sizeof(h), body, len);
	fx.outq_len += sizeof(h) + len;
}

/* Fire the watches on @path (absolute) and its parents. */
static void fire(const char *path)
{
	static char body[600];
	size_t hl = strlen(fx.home);

	for (int i = 0; i < NR_WATCHES; i++) {
		const char *w = fx.watch[i].path, *shown = path;
		char wabs[256];
		size_t n;
		int len;

		if (!fx.watch[i].used)
			continue;
		abs_path(w, wabs, sizeof(wabs));
		n = strlen(wabs);
		if (strncmp(path, wabs, n) || (path[n] && path[n] != '/'))
			continue;
		/* A relative watch hears relative paths. */
		if (w[0] != '/' && !strncmp(path, fx.home, hl) && path[hl] == '/')
			shown = path + hl + 1;
		len = snprintf(body, sizeof(body), "%s%c%s", shown, 0, fx.watch[i].token);
		queue_msg(XS_WATCH_EVENT, 0, 0, body, (uint32_t)len + 1);
	}
}

static void node_set(const char *path, const char *value)
{
	int i = node_find(path);
	char parent[256];
	char *slash;

	if (i < 0) {
		for (i = 0; i < NR_NODES && fx.node[i].path[0]; i++)
			;
		if (i == NR_NODES) {
			fx.say("[xs] store full\n");
			exit(71);
		}
		snprintf(fx.node[i].path, sizeof(fx.node[i].path), "%s", path);
		/* Parents come into being, empty, as in xenstored. */
		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			if (node_find(parent) < 0)
				node_set(parent, "");
		}
	}
	snprintf(fx.node[i].value, sizeof(fx.node[i].value), "%s", value);
}

/* Set by the test's dom0 or by the guest; either way watches fire. */
static void store_write(const char *path, const char *value)
{
	node_set(path, value);
	fire(path);
}

static void store_rm(const char *path)
{
	size_t n = strlen(path);

	for (int i = 0; i < NR_NODES; i++) {
		const char *p = fx.node[i].path;

		if (p[0] && !strncmp(p, path, n) && (!p[n] || p[n] == '/'))
			fx.node[i].path[0] = '\0';
	}
	fire(path);
}

static void reply_str(const struct xsd_sockmsg *h, uint32_t type, const char *s)
{
	queue_msg(type, h->req_id, h->tx_id, s, (uint32_t)strlen(s) + 1);
}

static void reply_err(const struct xsd_sockmsg *h, const char *e)
{
	reply_str(h, XS_ERROR, e);
}

/* One request: @body is NUL-terminated at h->len. */
static void store_request(const struct xsd_sockmsg *h, char *body)
{
	static char path[256], list[1024];
	size_t plen = strnlen(body, h->len);
	int i, n;

	abs_path(body, path, sizeof(path));
	switch (h->type) {
	case XS_READ:
		i = node_find(path);
		if (i < 0)
			return reply_err(h, "ENOENT");
		queue_msg(XS_READ, h->req_id, h->tx_id, fx.node[i].value,
			  (uint32_t)strlen(fx.node[i].value));
		return;
	case XS_WRITE: {
		static char value[XENSTORE_PAYLOAD_MAX + 1];
		size_t vlen = h->len - plen - 1;

		if (plen >= h->len || vlen >= sizeof(value))
			return reply_err(h, "EINVAL");
		memcpy(value, body + plen + 1, vlen);
		value[vlen] = '\0';
		fx.say("[xs] write %s=%s\n", path, value);
		store_write(path, value);
		return reply_str(h, XS_WRITE, "OK");
	}
	case XS_MKDIR:
		if (node_find(path) < 0)
			store_write(path, "");
		return reply_str(h, XS_MKDIR, "OK");
	case XS_RM:
		fx.say("[xs] rm %s\n", path);
		store_rm(path);
		return reply_str(h, XS_RM, "OK");
	case XS_DIRECTORY: {
		size_t pl = strlen(path), len = 0;

		if (node_find(path) < 0)
			return reply_err(h, "ENOENT");
		for (i = 0; i < NR_NODES; i++) {
			const char *p = fx.node[i].path;

			if (!p[0] || strncmp(p, path, pl) || p[pl] != '/' ||
			    strchr(p + pl + 1, '/'))
				continue;
			n = snprintf(list + len, sizeof(list) - len, "%s", p + pl + 1);
			len += (size_t)n + 1;
		}
		queue_msg(XS_DIRECTORY, h->req_id, h->tx_id, list, (uint32_t)len);
		return;
	}
	case XS_WATCH:
		for (i = 0; i < NR_WATCHES && fx.watch[i].used; i++)
			;
		if (i == NR_WATCHES || plen + 1 >= h->len)
			return reply_err(h, "ENOSPC");
		snprintf(fx.watch[i].path, sizeof(fx.watch[i].path), "%s", body);
		snprintf(fx.watch[i].token, sizeof(fx.watch[i].token), "%s", body + plen + 1);
		fx.watch[i].used = true;
		fx.say("[xs] watch %s\n", body);
		reply_str(h, XS_WATCH, "OK");
		/* Like xenstored: one event at once, for the path itself. */
		n = snprintf(list, sizeof(list), "%s%c%s", body, 0, fx.watch[i].token);
		queue_msg(XS_WATCH_EVENT, 0, 0, list, (uint32_t)n + 1);
		return;
	case XS_UNWATCH:
		for (i = 0; i < NR_WATCHES; i++) {
			if (fx.watch[i].used && !strcmp(fx.watch[i].path, body) &&
			    !strcmp(fx.watch[i].token, body + plen + 1))
				break;
		}
		if (i == NR_WATCHES)
			return reply_err(h, "ENOENT");
		fx.watch[i].used = false;
		return reply_str(h, XS_UNWATCH, "OK");
	case XS_TRANSACTION_START:
		n = snprintf(list, sizeof(list), "%u", ++fx.tx_next);
		return reply_str(h, XS_TRANSACTION_START, list);
	case XS_TRANSACTION_END:
		if (fx.o.tx_eagain_once && fx.tx_ends++ == 0)
			return reply_err(h, "EAGAIN");
		return reply_str(h, XS_TRANSACTION_END, "OK");
	default:
		return reply_err(h, "ENOSYS");
	}
}

/* Move queued replies into rsp[] as room allows; raise the port if any. */
static void store_flush(void)
{
	struct xenstore_domain_interface *in = fx.store;
	size_t done = 0;

	if (fx.o.hostile_store && fx.outq_len) {
		/* A producer far ahead of the consumer: must not be trusted. */
		in->rsp_prod = in->rsp_cons + 5000;
		fx.outq_len = 0;
		raise_port(STORE_PORT);
		return;
	}
	while (done < fx.outq_len && in->rsp_prod - in->rsp_cons < XENSTORE_RING_SIZE) {
		in->rsp[MASK_XENSTORE_IDX(in->rsp_prod)] = fx.outq[done++];
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		in->rsp_prod++;
	}
	memmove(fx.outq, fx.outq + done, fx.outq_len - done);
	fx.outq_len -= done;
	if (done)
		raise_port(STORE_PORT);
}

/* Take every whole request the guest has published. */
static void store_service(void)
{
	struct xenstore_domain_interface *in = fx.store;

	for (;;) {
		XENSTORE_RING_IDX cons = in->req_cons, prod = in->req_prod;
		struct xsd_sockmsg h;
		static char body[XENSTORE_PAYLOAD_MAX + 1];

		if (prod - cons < sizeof(h))
			break;
		for (size_t i = 0; i < sizeof(h); i++)
			((char *)&h)[i] = in->req[MASK_XENSTORE_IDX(cons + i)];
		if (h.len > XENSTORE_PAYLOAD_MAX) {
			fx.say("[xs] request too long\n");
			exit(72);
		}
		if (prod - cons < sizeof(h) + h.len)
			break;
		for (size_t i = 0; i < h.len; i++)
			body[i] = in->req[MASK_XENSTORE_IDX(cons + sizeof(h) + i)];
		body[h.len] = '\0';
		in->req_cons = cons + (XENSTORE_RING_IDX)(sizeof(h) + h.len);
		store_request(&h, body);
	}
	store_flush();
}

/* ---- console backend ------------------------------------------------------ */

void fakexen_console_drain(void)
{
	struct xencons_interface *c = fx.cons;

	if (!fx.o.on || fx.o.console_stalls)
		return;
	while (c->out_cons != c->out_prod) {
		char ch = c->out[MASK_XENCONS_IDX(c->out_cons, c->out)];

		if (write(fx.out, &ch, 1) != 1)
			exit(73);
		c->out_cons++;
	}
}

static void console_service(void)
{
	if (getenv("FAKEXEN_DEBUG"))
		fx.say("[cons] prod %u cons %u\n", fx.cons->out_prod, fx.cons->out_cons);
	fakexen_console_drain();
}

/* ---- scripted dom0 -------------------------------------------------------- */

static void dom0_write(const char *rel, const char *value)
{
	char path[256];

	abs_path(rel, path, sizeof(path));
	store_write(path, value);
	store_flush();
}

static const char *dom0_read(const char *rel)
{
	char path[256];
	int i;

	abs_path(rel, path, sizeof(path));
	i = node_find(path);
	return i < 0 ? NULL : fx.node[i].value;
}

/* dom0's half of grant-selftest; true when it took a step. */
static bool grant_peer(void)
{
	const char *v = dom0_read("data/grant-ref");
	unsigned long ref;
	unsigned char *page;
	grant_entry_v1_t *e;
	const char *says = fx.o.grant_peer_says ? fx.o.grant_peer_says : "ok";

	if (!fx.o.grant_peer || fx.grant_done || !v)
		return false;
	fx.grant_done = true;
	ref = strtoul(v, NULL, 10);
	if (ref >= fx.nr_gnt * (4096 / sizeof(*e))) {
		dom0_write("data/grant-done", "bad-ref");
		return true;
	}
	e = &fx.gnt[ref];
	if (!(e->flags & GTF_permit_access) || e->domid != 0 || (e->flags & GTF_readonly)) {
		dom0_write("data/grant-done", "bad-entry");
		return true;
	}
	/* "Map" it as Xen does: the hypervisor sets reading/writing. */
	e->flags |= GTF_reading | GTF_writing;
	page = (unsigned char *)(uintptr_t)(0x40000000UL + e->frame * 4096UL);
	for (int i = 0; i < 4096; i++) {
		if (page[i] != (unsigned char)(i ^ 0x5a)) {
			dom0_write("data/grant-done", "bad-pattern");
			return true;
		}
	}
	for (int i = 0; i < 4096; i++)
		page[i] = (unsigned char)(i ^ 0xa5);
	if (!fx.o.grant_peer_keeps_mapping)
		e->flags &= (uint16_t) ~(GTF_reading | GTF_writing);
	fx.say("[dom0] grant ref %lu checked and written\n", ref);
	dom0_write("data/grant-done", says);
	return true;
}

/* dom0's half of evtchn-pingpong: it connects when the port appears. */
static bool pingpong_peer(void)
{
	const char *v = dom0_read("data/pingpong-port");
	unsigned long port;

	if ((!fx.o.pingpong && !fx.o.pingpong_echo) || fx.pp_port || !v)
		return false;
	port = strtoul(v, NULL, 10);
	if (port >= NR_PORTS || fx.port[port] != P_UNBOUND) {
		fx.say("[dom0] pingpong port %lu is not unbound\n", port);
		return false;
	}
	fx.port[port] = P_DOM0;
	fx.pp_port = (evtchn_port_t)port;
	fx.say("[dom0] bound pingpong port %lu\n", port);
	if (fx.o.pingpong) {
		fx.pp_sent = 1;
		raise_port(fx.pp_port);
	} else {
		dom0_write("data/pingpong-ready", "1");
	}
	return true;
}

/* The guest notified the pingpong port. */
static void pingpong_event(void)
{
	fx.pp_got++;
	if (fx.o.pingpong_echo) {
		raise_port(fx.pp_port);
	} else if (fx.pp_sent < fx.o.pingpong) {
		fx.pp_sent++;
		raise_port(fx.pp_port);
	}
}

static bool console_type(void)
{
	struct xencons_interface *c = fx.cons;
	const char *s = fx.o.console_input;

	if (!s || fx.console_typed)
		return false;
	if (fx.o.hostile_console && !fx.console_hostile_done) {
		/* First an index the guest must not follow: 5000 in 1 KiB. */
		fx.console_hostile_done = true;
		fx.console_saved_prod = c->in_prod;
		c->in_prod = c->in_cons + 5000;
		raise_port(CONS_PORT);
		fx.say("[cons] hostile in_prod\n");
		return true;
	}
	if (fx.o.hostile_console) {
		/* Then the real input, from where the guest left off. */
		fx.say("[cons] in_cons after hostile: %u\n", c->in_cons);
		c->in_prod = fx.console_saved_prod;
	}
	fx.console_typed = true;
	for (; *s && c->in_prod - c->in_cons < sizeof(c->in); s++)
		c->in[MASK_XENCONS_IDX(c->in_prod++, c->in)] = *s;
	raise_port(CONS_PORT);
	return true;
}

bool fakexen_idle(void)
{
	const char *v;

	if (!fx.o.on)
		return false;
	if (grant_peer() || pingpong_peer() || console_type())
		return true;
	if (fx.o.watch_key && fx.o.watch_values && (v = fx.o.watch_values[fx.watch_step]) != NULL) {
		char key[128];

		snprintf(key, sizeof(key), "data/%s", fx.o.watch_key);
		fx.watch_step++;
		dom0_write(key, v);
		return true;
	}
	if (fx.o.shutdown && !fx.shutdown_sent) {
		fx.shutdown_sent = true;
		dom0_write("control/shutdown", fx.o.shutdown);
		return true;
	}
	/* Nothing else to happen: let the time pass to the timer. */
	if (fx.timer && fx.timer_port) {
		uint64_t now = fakexen_now_ns();

		if (fx.timer > now) {
			uint64_t us = (fx.timer - now) / 1000;

			usleep((useconds_t)(us > 1000000 ? 1000000 : us));
		}
		fx.timer = 0;
		raise_port(fx.timer_port);
		return true;
	}
	return false;
}

void fakexen_init(const struct fakexen_opts *o, struct shared_info *sh, void *store, void *cons,
		  void *gnt, unsigned int nr_gnt, unsigned long gnt_mfn, int out,
		  fakexen_say_fn say)
{
	char v[16];

	fx.o = *o;
	fx.sh = sh;
	fx.store = store;
	fx.cons = cons;
	fx.gnt = gnt;
	fx.nr_gnt = nr_gnt;
	fx.gnt_mfn = gnt_mfn;
	fx.out = out;
	fx.say = say;
	if (!o->on)
		return;
	fx.port[STORE_PORT] = P_DOM0;
	fx.port[CONS_PORT] = P_DOM0;
	/* Builder-made ports start masked until the guest binds them. */
	sh->evtchn_mask[0] |= (1UL << STORE_PORT) | (1UL << CONS_PORT);
	snprintf(fx.home, sizeof(fx.home), "/local/domain/%u", o->domid);
	snprintf(v, sizeof(v), "%u", o->domid);
	node_set("/local/domain", "");
	node_set(fx.home, "");
	{
		char p[96];

		snprintf(p, sizeof(p), "%s/domid", fx.home);
		node_set(p, v);
		snprintf(p, sizeof(p), "%s/data", fx.home);
		node_set(p, "");
		snprintf(p, sizeof(p), "%s/control", fx.home);
		node_set(p, "");
	}
	for (const char *const *n = o->nodes; n && n[0] && n[1]; n += 2)
		node_set(n[0], n[1]);
}
