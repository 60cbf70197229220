// SPDX-License-Identifier: MIT
/* The fake hypervisor's state and semantics, under both front doors (see fakexen_core.h). */
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/grant_table.h>
#include <xen/xen.h>
#include "fakexen_core.h"

enum port_state { PORT_FREE, PORT_UNBOUND, PORT_INTERDOMAIN, PORT_VIRQ };

struct port {
	enum port_state state;
	struct fakexen_owner *owner;
	uint32_t remote_dom, remote_port, virq;
	bool masked, pending;
};

struct gref {
	bool valid, readonly;
	uint32_t frame;
	unsigned maps;
};

struct ghandle {
	struct fakexen_owner *owner; /* NULL: free */
	uint32_t ref;
};

struct fakexen {
	pthread_mutex_t lock;
	struct fakexen_params p;
	int memfd;
	struct port *ports;
	struct gref *grefs;
	struct ghandle *handles;
	uint32_t *free_handles; /* a stack of the free handle numbers */
	unsigned nr_free;
	unsigned eagain_left;
	bool bad_offsets;
};

struct fakexen *fakexen_new(const struct fakexen_params *p)
{
	struct fakexen *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->p = *p;
	x->memfd = memfd_create("fakexen-guest", MFD_CLOEXEC);
	x->ports = calloc(p->nr_ports, sizeof(*x->ports));
	x->grefs = calloc(p->nr_grefs, sizeof(*x->grefs));
	x->handles = calloc(p->nr_handles, sizeof(*x->handles));
	x->free_handles = calloc(p->nr_handles, sizeof(*x->free_handles));
	if (x->memfd < 0 || ftruncate(x->memfd, (off_t)p->pages * 4096) || !x->ports || !x->grefs ||
	    !x->handles || !x->free_handles) {
		int e = errno ? errno : ENOMEM;

		fakexen_free(x);
		errno = e;
		return NULL;
	}
	/* Lowest handles first, as the real table hands them out. */
	for (unsigned i = 0; i < p->nr_handles; i++)
		x->free_handles[i] = p->nr_handles - 1 - i;
	x->nr_free = p->nr_handles;
	pthread_mutex_init(&x->lock, NULL);
	return x;
}

void fakexen_free(struct fakexen *x)
{
	if (!x)
		return;
	if (x->memfd >= 0)
		close(x->memfd);
	free(x->ports);
	free(x->grefs);
	free(x->handles);
	free(x->free_handles);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

int fakexen_memfd(struct fakexen *x)
{
	return x->memfd;
}

uint32_t fakexen_domid(struct fakexen *x)
{
	return x->p.domid;
}

/* ---- grants ---- */

void fakexen_grant(struct fakexen *x, uint32_t ref, uint32_t frame, bool readonly)
{
	pthread_mutex_lock(&x->lock);
	if (ref < x->p.nr_grefs) {
		unsigned maps = x->grefs[ref].maps;

		x->grefs[ref] =
		    (struct gref){ .valid = true, .readonly = readonly, .frame = frame };
		x->grefs[ref].maps = maps;
	}
	pthread_mutex_unlock(&x->lock);
}

void fakexen_grants_clear(struct fakexen *x)
{
	pthread_mutex_lock(&x->lock);
	for (unsigned r = 0; r < x->p.nr_grefs; r++) {
		x->grefs[r].valid = false;
		x->grefs[r].readonly = false;
	}
	pthread_mutex_unlock(&x->lock);
}

int fakexen_gnt_map(struct fakexen *x, struct fakexen_owner *o, uint32_t domid, uint32_t ref,
		    bool readonly, uint32_t *handle, uint64_t *offset)
{
	int st = GNTST_okay;
	uint32_t h;

	pthread_mutex_lock(&x->lock);
	if (domid != x->p.domid)
		st = GNTST_bad_domain;
	else if (ref >= x->p.nr_grefs || !x->grefs[ref].valid)
		st = GNTST_bad_gntref;
	else if (x->eagain_left) {
		x->eagain_left--;
		st = GNTST_eagain;
	} else if (x->grefs[ref].readonly && !readonly)
		st = GNTST_permission_denied;
	else if (!x->nr_free)
		st = GNTST_no_space;
	if (st == GNTST_okay) {
		h = x->free_handles[--x->nr_free];
		x->handles[h] = (struct ghandle){ .owner = o, .ref = ref };
		x->grefs[ref].maps++;
		*handle = h;
		*offset = x->bad_offsets ? (uint64_t)x->p.pages * 4096
					 : (uint64_t)x->grefs[ref].frame * 4096;
	}
	pthread_mutex_unlock(&x->lock);
	return st;
}

static void handle_put(struct fakexen *x, uint32_t h)
{
	x->grefs[x->handles[h].ref].maps--;
	x->handles[h].owner = NULL;
	x->free_handles[x->nr_free++] = h;
}

int fakexen_gnt_unmap(struct fakexen *x, struct fakexen_owner *o, uint32_t handle)
{
	int st = GNTST_bad_handle;

	pthread_mutex_lock(&x->lock);
	if (handle < x->p.nr_handles && x->handles[handle].owner == o && o) {
		handle_put(x, handle);
		st = GNTST_okay;
	}
	pthread_mutex_unlock(&x->lock);
	return st;
}

/* One side of a copy: its page's memfd offset, or a GNTST_* error. */
static int copy_side(struct fakexen *x, const struct sv_gnt_copy_ptr *p, uint32_t len, bool write,
		     uint64_t *off)
{
	if (p->domid != x->p.domid)
		return GNTST_bad_domain;
	if (p->flags & SV_GNT_COPY_GFN)
		return GNTST_general_error;
	if (p->ref >= x->p.nr_grefs || !x->grefs[p->ref].valid)
		return GNTST_bad_gntref;
	if (write && x->grefs[p->ref].readonly)
		return GNTST_permission_denied;
	if (p->offset + len > 4096)
		return GNTST_bad_copy_arg;
	*off = (uint64_t)x->grefs[p->ref].frame * 4096 + p->offset;
	return GNTST_okay;
}

void fakexen_gnt_copy(struct fakexen *x, struct sv_gnt_copy_seg *s)
{
	uint64_t so = 0, d = 0;
	char buf[4096];
	int st;

	pthread_mutex_lock(&x->lock);
	st = copy_side(x, &s->source, s->len, false, &so);
	if (!st)
		st = copy_side(x, &s->dest, s->len, true, &d);
	if (!st && (pread(x->memfd, buf, s->len, (off_t)so) != (ssize_t)s->len ||
		    pwrite(x->memfd, buf, s->len, (off_t)d) != (ssize_t)s->len))
		st = GNTST_general_error;
	s->status = (int16_t)st;
	pthread_mutex_unlock(&x->lock);
}

unsigned fakexen_ref_maps(struct fakexen *x, uint32_t ref)
{
	unsigned n;

	pthread_mutex_lock(&x->lock);
	n = ref < x->p.nr_grefs ? x->grefs[ref].maps : 0;
	pthread_mutex_unlock(&x->lock);
	return n;
}

unsigned fakexen_live_handles(struct fakexen *x)
{
	unsigned n;

	pthread_mutex_lock(&x->lock);
	n = x->p.nr_handles - x->nr_free;
	pthread_mutex_unlock(&x->lock);
	return n;
}

void fakexen_set_bad_offsets(struct fakexen *x, bool on)
{
	pthread_mutex_lock(&x->lock);
	x->bad_offsets = on;
	pthread_mutex_unlock(&x->lock);
}

void fakexen_set_eagain(struct fakexen *x, unsigned n)
{
	pthread_mutex_lock(&x->lock);
	x->eagain_left = n;
	pthread_mutex_unlock(&x->lock);
}

/* ---- event channels ---- */

/* Mark a port pending and, unless masked, mask it and hand it to its owner. */
static void deliver(struct fakexen *x, uint32_t port)
{
	struct port *p = &x->ports[port];

	if (!p->owner)
		return;
	if (p->masked) {
		p->pending = true;
		return;
	}
	p->masked = true;
	if (!p->owner->deliver || !p->owner->deliver(p->owner, port))
		p->pending = true;
}

static void port_free(struct fakexen *x, uint32_t port)
{
	struct port *p = &x->ports[port];

	if (p->state == PORT_INTERDOMAIN && p->remote_dom == 0) {
		struct port *peer = &x->ports[p->remote_port];

		peer->state = PORT_UNBOUND;
		peer->remote_dom = 0;
	}
	memset(p, 0, sizeof(*p));
}

static int port_alloc(struct fakexen *x, struct fakexen_owner *o, uint32_t want)
{
	uint32_t port = 0;

	if (want && want < x->p.nr_ports && x->ports[want].state == PORT_FREE)
		port = want;
	for (uint32_t i = 1; !port && i < x->p.nr_ports; i++)
		if (x->ports[i].state == PORT_FREE)
			port = i;
	if (!port)
		return -ENOSPC;
	memset(&x->ports[port], 0, sizeof(x->ports[port]));
	x->ports[port].owner = o;
	return (int)port;
}

static bool port_mine(struct fakexen *x, struct fakexen_owner *o, uint32_t port)
{
	return port && port < x->p.nr_ports && x->ports[port].state != PORT_FREE &&
	       x->ports[port].owner == o;
}

static bool peer_exists(struct fakexen *x, uint32_t domid)
{
	return domid == x->p.domid || x->p.any_peer_domain;
}

static int bind_locked(struct fakexen *x, struct fakexen_owner *o, uint32_t op,
		       const struct sv_ctl_evtchn_bind *b, uint32_t want)
{
	int port;

	if (op == SV_CTL_EVTCHN_BIND_INTERDOMAIN) {
		if (b->remote_dom == 0) {
			if (!b->remote_port || b->remote_port >= x->p.nr_ports ||
			    x->ports[b->remote_port].state != PORT_UNBOUND ||
			    x->ports[b->remote_port].remote_dom != 0)
				return -EINVAL;
		} else if (!peer_exists(x, b->remote_dom)) {
			return -ESRCH;
		}
	} else if (op == SV_CTL_EVTCHN_BIND_UNBOUND) {
		if (b->remote_dom != 0 && !peer_exists(x, b->remote_dom))
			return -ESRCH;
	} else if (op != SV_CTL_EVTCHN_BIND_VIRQ || b->virq >= NR_VIRQS) {
		return -EINVAL;
	} else {
		for (uint32_t i = 1; i < x->p.nr_ports; i++)
			if (x->ports[i].state == PORT_VIRQ && x->ports[i].virq == b->virq)
				return -EEXIST;
	}
	port = port_alloc(x, o, want);
	if (port < 0)
		return port;
	if (op == SV_CTL_EVTCHN_BIND_INTERDOMAIN) {
		x->ports[port].state = PORT_INTERDOMAIN;
		x->ports[port].remote_dom = b->remote_dom;
		x->ports[port].remote_port = b->remote_port;
		if (b->remote_dom == 0) {
			x->ports[b->remote_port].state = PORT_INTERDOMAIN;
			x->ports[b->remote_port].remote_port = (uint32_t)port;
		}
	} else if (op == SV_CTL_EVTCHN_BIND_UNBOUND) {
		x->ports[port].state = PORT_UNBOUND;
		x->ports[port].remote_dom = b->remote_dom;
	} else {
		x->ports[port].state = PORT_VIRQ;
		x->ports[port].virq = b->virq;
	}
	return port;
}

int fakexen_evtchn_bind(struct fakexen *x, struct fakexen_owner *o, uint32_t op,
			const struct sv_ctl_evtchn_bind *b, uint32_t want)
{
	int ret;

	pthread_mutex_lock(&x->lock);
	ret = bind_locked(x, o, op, b, want);
	pthread_mutex_unlock(&x->lock);
	return ret;
}

int fakexen_evtchn_unbind(struct fakexen *x, struct fakexen_owner *o, uint32_t port)
{
	int ret = -EINVAL;

	pthread_mutex_lock(&x->lock);
	if (port_mine(x, o, port)) {
		port_free(x, port);
		ret = 0;
	}
	pthread_mutex_unlock(&x->lock);
	return ret;
}

int fakexen_evtchn_notify(struct fakexen *x, struct fakexen_owner *o, uint32_t port)
{
	int ret = 0;

	pthread_mutex_lock(&x->lock);
	if (!port_mine(x, o, port) || x->ports[port].state != PORT_INTERDOMAIN)
		ret = -EINVAL;
	else if (x->ports[port].remote_dom == 0)
		deliver(x, x->ports[port].remote_port);
	pthread_mutex_unlock(&x->lock);
	return ret;
}

int fakexen_evtchn_unmask(struct fakexen *x, struct fakexen_owner *o, uint32_t port)
{
	int ret = -EINVAL;

	pthread_mutex_lock(&x->lock);
	if (port_mine(x, o, port)) {
		struct port *p = &x->ports[port];

		p->masked = false;
		if (p->pending) {
			p->pending = false;
			deliver(x, port);
		}
		ret = 0;
	}
	pthread_mutex_unlock(&x->lock);
	return ret;
}

void fakexen_fire_virq(struct fakexen *x, uint32_t virq)
{
	pthread_mutex_lock(&x->lock);
	for (uint32_t i = 1; i < x->p.nr_ports; i++)
		if (x->ports[i].state == PORT_VIRQ && x->ports[i].virq == virq)
			deliver(x, i);
	pthread_mutex_unlock(&x->lock);
}

void fakexen_release(struct fakexen *x, struct fakexen_owner *o)
{
	pthread_mutex_lock(&x->lock);
	for (uint32_t i = 1; i < x->p.nr_ports; i++)
		if (x->ports[i].state != PORT_FREE && x->ports[i].owner == o)
			port_free(x, i);
	for (uint32_t h = 0; h < x->p.nr_handles; h++)
		if (x->handles[h].owner == o)
			handle_put(x, h);
	pthread_mutex_unlock(&x->lock);
}
