// SPDX-License-Identifier: MIT
/* Event channels: ports, interdomain binding, VIRQs, IPIs, delivery to guests (Xen's 2-level
 * ABI here, the FIFO ABI in evtchn_fifo.c once a guest asks for it) and dom0. */
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include "hv.h"
#include "hypercall.h"
#include "evtchn_priv.h"

/*
 * Each domain has a table of ports under its own lock (ev.lock); dom0 is
 * a pseudo-domain whose ports belong to control connections (clients)
 * and fire by writing the port number into the client's pipe.  Two
 * connected ports each hold a reference to the other's domain; locks of
 * two tables are taken in domid order.  Lock order: ev.lock, then the
 * domain's state lock (d->lock).
 */
struct evtchn_client {
	int pipe_w;
};

struct hv_domain *hv_dom0;

int evtchn_init(struct hv_domain *d, unsigned nr_ports)
{
	d->ev.ports = calloc(nr_ports, sizeof(struct evtchn));
	if (!d->ev.ports)
		return -ENOMEM;
	d->ev.nr = nr_ports;
	pthread_mutex_init(&d->ev.lock, NULL);
	return 0;
}

/* The domain named domid, referenced; the caller's own without a table lookup. */
static struct hv_domain *dom_get(struct hv_domain *self, uint32_t domid)
{
	if (domid == self->domid) {
		atomic_fetch_add(&self->refs, 1);
		return self;
	}
	if (domid == 0) {
		atomic_fetch_add(&hv_dom0->refs, 1);
		return hv_dom0;
	}
	return domain_get(domid);
}

/* Lock two tables in domid order (once when they are the same). */
static void lock2(struct hv_domain *a, struct hv_domain *b)
{
	if (a == b) {
		pthread_mutex_lock(&a->ev.lock);
	} else if (a->domid < b->domid) {
		pthread_mutex_lock(&a->ev.lock);
		pthread_mutex_lock(&b->ev.lock);
	} else {
		pthread_mutex_lock(&b->ev.lock);
		pthread_mutex_lock(&a->ev.lock);
	}
}

static void unlock2(struct hv_domain *a, struct hv_domain *b)
{
	pthread_mutex_unlock(&a->ev.lock);
	if (a != b)
		pthread_mutex_unlock(&b->ev.lock);
}

/* Lowest free port above 0 (port 0 is never used, as in Xen). */
static int alloc_port(struct hv_domain *d)
{
	for (unsigned p = 1; p < d->ev.nr; p++)
		if (d->ev.ports[p].state == ECS_FREE)
			return (int)p;
	return -ENOSPC;
}

/* A port (re)bound: cleared, the FIFO priority at its default, its last queue kept. */
static void port_init(struct evtchn *ch)
{
	uint8_t last_prio = ch->last_prio;
	uint16_t last_vcpu = ch->last_vcpu;

	memset(ch, 0, sizeof(*ch));
	ch->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
	ch->last_prio = last_prio;
	ch->last_vcpu = last_vcpu;
}

/* Global VIRQs are bound on vCPU 0 and may notify another; the rest are per vCPU. */
static bool virq_is_global(uint32_t virq)
{
	return virq != VIRQ_TIMER && virq != VIRQ_DEBUG && virq != VIRQ_XENOPROF &&
	       virq != VIRQ_XENPMU;
}

static bool port_ok(struct hv_domain *d, uint32_t port)
{
	return port > 0 && port < d->ev.nr && d->ev.ports[port].state != ECS_FREE;
}

static void vcpu_info_kick(struct hv_vcpu *v)
{
	struct hv_domain *d = v->dom;

	pthread_mutex_lock(&d->lock);
	if (v->state == VCPU_BLOCKED) {
		v->state = VCPU_RUNNABLE;
		v->poll_deadline_ns = 0;
		pthread_cond_broadcast(&v->wake);
	} else if (atomic_load(&v->in_guest)) {
		vcpu_kick(v);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Wake vCPUs in SCHEDOP_poll so they look at their ports again. */
void evtchn_wake_pollers(struct hv_domain *d)
{
	if (!atomic_load(&d->ev.nr_polling))
		return;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->max_vcpus; i++)
		if (d->vcpus[i]->polling)
			pthread_cond_broadcast(&d->vcpus[i]->wake);
	pthread_mutex_unlock(&d->lock);
}

/* The vCPU has events: flag the upcall and get it delivered. */
void evtchn_vcpu_mark_pending(struct hv_vcpu *v)
{
	struct vcpu_info *vi = vcpu_info_of(v);

	if (!vi || __atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
		return;
	vcpu_info_kick(v);
}

/* Sets @sel in the vCPU's pending selector; true if it was clear (an upcall may be due). */
static bool set_pending_sel(struct hv_vcpu *v, xen_ulong_t sel)
{
	struct vcpu_info *vi = vcpu_info_of(v);

	return vi && !(__atomic_fetch_or(&vi->evtchn_pending_sel, sel, __ATOMIC_SEQ_CST) & sel);
}

/* Xen's 2-level delivery: pending bit, then selector, then upcall flag. */
static void guest_set_pending(struct hv_domain *d, uint32_t port, uint32_t vcpu)
{
	struct shared_info *si = d->shinfo;
	xen_ulong_t bit = 1UL << (port % 64), sel = 1UL << (port / 64);

	if (__atomic_fetch_or(&si->evtchn_pending[port / 64], bit, __ATOMIC_SEQ_CST) & bit)
		return;
	evtchn_wake_pollers(d);
	if (__atomic_load_n(&si->evtchn_mask[port / 64], __ATOMIC_SEQ_CST) & bit)
		return;
	if (vcpu >= d->max_vcpus)
		vcpu = 0;
	if (!set_pending_sel(d->vcpus[vcpu], sel))
		return;
	evtchn_vcpu_mark_pending(d->vcpus[vcpu]);
}

static void dom0_fire(struct evtchn *ch, uint32_t port)
{
	if (ch->dom0_masked) {
		ch->dom0_pending = 1;
		return;
	}
	ch->dom0_masked = 1;
	if (ch->client && write(ch->client->pipe_w, &port, sizeof(port)) != sizeof(port))
		hv_log("evtchn: dom0 port %u: notification lost (client not reading)", port);
}

/* Caller holds d->ev.lock. */
static void set_pending(struct hv_domain *d, uint32_t port)
{
	struct evtchn *ch = &d->ev.ports[port];

	if (d == hv_dom0)
		dom0_fire(ch, port);
	else if (d->state == DOM_DYING)
		return;
	else if (evtchn_fifo_active(d))
		evtchn_fifo_set_pending(d, port);
	else
		guest_set_pending(d, port, ch->vcpu);
}

int evtchn_alloc_unbound(struct hv_domain *d, uint32_t remote_dom, uint32_t *port,
			 struct evtchn_client *owner)
{
	int p;

	pthread_mutex_lock(&d->ev.lock);
	p = alloc_port(d);
	if (p > 0) {
		struct evtchn *ch = &d->ev.ports[p];
		port_init(ch);
		ch->state = ECS_UNBOUND;
		ch->remote_dom = remote_dom;
		ch->client = owner;
		*port = (uint32_t)p;
	}
	pthread_mutex_unlock(&d->ev.lock);
	return p > 0 ? 0 : p;
}

/* Bind a new port of d to remote_dom's unbound port offered to d. */
int evtchn_bind_interdomain(struct hv_domain *d, uint32_t remote_dom, uint32_t remote_port,
			    uint32_t *port, struct evtchn_client *owner)
{
	struct hv_domain *r = dom_get(d, remote_dom);
	int ret, p;

	if (!r)
		return -ESRCH;
	lock2(d, r);
	ret = -EINVAL;
	if (remote_port == 0 || remote_port >= r->ev.nr)
		goto out;
	struct evtchn *rc = &r->ev.ports[remote_port];
	if (rc->state != ECS_UNBOUND || rc->remote_dom != d->domid)
		goto out;
	if (r == hv_dom0 && owner == NULL && !rc->client)
		goto out;
	p = alloc_port(d);
	if (p < 0) {
		ret = p;
		goto out;
	}
	struct evtchn *lc = &d->ev.ports[p];
	port_init(lc);
	lc->state = ECS_INTERDOMAIN;
	lc->remote_dom = r->domid;
	lc->remote_port = remote_port;
	lc->peer = r;
	lc->client = owner;
	atomic_fetch_add(&r->refs, 1);
	rc->state = ECS_INTERDOMAIN;
	rc->remote_port = (uint32_t)p;
	rc->peer = d;
	atomic_fetch_add(&d->refs, 1);
	/* As Xen does: the new port starts pending, so no notification is lost. */
	set_pending(d, (uint32_t)p);
	*port = (uint32_t)p;
	ret = 0;
out:
	unlock2(d, r);
	domain_put(r);
	return ret;
}

int evtchn_bind_virq(struct hv_domain *d, uint32_t virq, uint32_t vcpu, uint32_t *port,
		     struct evtchn_client *owner)
{
	bool global = virq < NR_VIRQS && virq_is_global(virq);
	int p, ret = 0;

	if (virq >= NR_VIRQS || vcpu >= SV_MAX_VCPUS || (d != hv_dom0 && vcpu >= d->max_vcpus))
		return -EINVAL;
	if (global && vcpu != 0)
		return -EINVAL;
	pthread_mutex_lock(&d->ev.lock);
	if (d->ev.virq_port[vcpu][virq]) {
		ret = -EEXIST;
	} else if ((p = alloc_port(d)) < 0) {
		ret = p;
	} else {
		struct evtchn *ch = &d->ev.ports[p];
		port_init(ch);
		ch->state = ECS_VIRQ;
		ch->virq = (uint8_t)virq;
		ch->vcpu = vcpu;
		ch->client = owner;
		d->ev.virq_port[vcpu][virq] = (uint32_t)p;
		*port = (uint32_t)p;
	}
	pthread_mutex_unlock(&d->ev.lock);
	return ret;
}

static int bind_ipi(struct hv_domain *d, uint32_t vcpu, uint32_t *port)
{
	int p;

	if (vcpu >= d->max_vcpus)
		return -ENOENT;
	pthread_mutex_lock(&d->ev.lock);
	p = alloc_port(d);
	if (p > 0) {
		struct evtchn *ch = &d->ev.ports[p];
		port_init(ch);
		ch->state = ECS_IPI;
		ch->vcpu = vcpu;
		*port = (uint32_t)p;
	}
	pthread_mutex_unlock(&d->ev.lock);
	return p > 0 ? 0 : p;
}

/*
 * Close a port; an interdomain peer goes back to unbound (offered to us
 * again), as in Xen.  Called with neither table locked.
 */
int evtchn_close(struct hv_domain *d, uint32_t port, struct evtchn_client *owner)
{
	struct hv_domain *peer = NULL;

	for (;;) {
		pthread_mutex_lock(&d->ev.lock);
		if (!port_ok(d, port) || (d == hv_dom0 && d->ev.ports[port].client != owner)) {
			pthread_mutex_unlock(&d->ev.lock);
			return -EINVAL;
		}
		struct evtchn *ch = &d->ev.ports[port];
		if (ch->state != ECS_INTERDOMAIN || ch->peer == d) {
			if (ch->state ==
			    ECS_VIRQ) /* its slot: where it was bound, not whom it notifies */
				d->ev.virq_port[virq_is_global(ch->virq) ? 0 : ch->vcpu][ch->virq] =
				    0;
			if (d != hv_dom0 && evtchn_fifo_active(d))
				evtchn_fifo_clear_pending(d, port);
			if (ch->state == ECS_INTERDOMAIN) { /* loopback within d */
				struct evtchn *o = &d->ev.ports[ch->remote_port];
				o->state = ECS_UNBOUND;
				o->remote_dom = d->domid;
				o->peer = NULL;
				atomic_fetch_sub(&d->refs,
						 2); /* both ends referenced d; d itself is held */
			}
			port_init(ch);
			pthread_mutex_unlock(&d->ev.lock);
			return 0;
		}
		peer = ch->peer;
		atomic_fetch_add(&peer->refs, 1);
		pthread_mutex_unlock(&d->ev.lock);
		/* Retake both in order; the port may have changed meanwhile. */
		lock2(d, peer);
		ch = &d->ev.ports[port];
		if (ch->state == ECS_INTERDOMAIN && ch->peer == peer) {
			struct evtchn *o = &peer->ev.ports[ch->remote_port];
			if (o->state == ECS_INTERDOMAIN && o->peer == d) {
				o->state = ECS_UNBOUND;
				o->remote_dom = d->domid;
				o->peer = NULL;
				atomic_fetch_sub(&d->refs,
						 1); /* never the last: the caller holds one */
			}
			if (d != hv_dom0 && evtchn_fifo_active(d))
				evtchn_fifo_clear_pending(d, port);
			port_init(ch);
			unlock2(d, peer);
			domain_put(peer); /* the port's reference */
			domain_put(peer); /* ours */
			return 0;
		}
		unlock2(d, peer);
		domain_put(peer);
	}
}

/* A send on d's port: to the peer, to an IPI's vCPU, or nowhere when unbound. */
int evtchn_send(struct hv_domain *d, uint32_t port)
{
	struct hv_domain *peer;
	uint32_t rport;

	pthread_mutex_lock(&d->ev.lock);
	if (!port_ok(d, port)) {
		pthread_mutex_unlock(&d->ev.lock);
		return -EINVAL;
	}
	struct evtchn *ch = &d->ev.ports[port];
	switch (ch->state) {
	case ECS_IPI:
		set_pending(d, port);
		/* fallthrough */
	case ECS_UNBOUND:
		pthread_mutex_unlock(&d->ev.lock);
		return 0;
	case ECS_INTERDOMAIN:
		break;
	default:
		pthread_mutex_unlock(&d->ev.lock);
		return -EINVAL;
	}
	peer = ch->peer;
	rport = ch->remote_port;
	if (peer == d) {
		set_pending(d, rport);
		pthread_mutex_unlock(&d->ev.lock);
		return 0;
	}
	atomic_fetch_add(&peer->refs, 1);
	pthread_mutex_unlock(&d->ev.lock);
	pthread_mutex_lock(&peer->ev.lock);
	struct evtchn *rc = &peer->ev.ports[rport];
	if (rc->state == ECS_INTERDOMAIN && rc->peer == d && rc->remote_port == port)
		set_pending(peer, rport);
	pthread_mutex_unlock(&peer->ev.lock);
	domain_put(peer);
	return 0;
}

/* dom0 sends and unmasks only on ports its own connection bound. */
static bool owned(struct hv_domain *d, uint32_t port, struct evtchn_client *owner)
{
	bool ok;

	pthread_mutex_lock(&d->ev.lock);
	ok = port_ok(d, port) && d->ev.ports[port].client == owner;
	pthread_mutex_unlock(&d->ev.lock);
	return ok;
}

int evtchn_send_owned(struct hv_domain *d, uint32_t port, struct evtchn_client *owner)
{
	return owned(d, port, owner) ? evtchn_send(d, port) : -EINVAL;
}

int evtchn_unmask_owned(struct hv_domain *d, uint32_t port, struct evtchn_client *owner)
{
	return owned(d, port, owner) ? evtchn_unmask(d, port) : -EINVAL;
}

void evtchn_send_virq(struct hv_domain *d, unsigned vcpu, unsigned virq)
{
	pthread_mutex_lock(&d->ev.lock);
	uint32_t port = d->ev.virq_port[vcpu][virq];
	if (port)
		set_pending(d, port);
	pthread_mutex_unlock(&d->ev.lock);
}

int evtchn_unmask(struct hv_domain *d, uint32_t port)
{
	int ret = 0;

	pthread_mutex_lock(&d->ev.lock);
	if (!port_ok(d, port)) {
		ret = -EINVAL;
	} else if (d == hv_dom0) {
		struct evtchn *ch = &d->ev.ports[port];
		ch->dom0_masked = 0;
		if (ch->dom0_pending) {
			ch->dom0_pending = 0;
			dom0_fire(ch, port);
		}
	} else if (evtchn_fifo_active(d)) {
		evtchn_fifo_unmask(d, port);
	} else {
		struct shared_info *si = d->shinfo;
		xen_ulong_t bit = 1UL << (port % 64), sel = 1UL << (port / 64);
		uint32_t vcpu = d->ev.ports[port].vcpu < d->max_vcpus ? d->ev.ports[port].vcpu : 0;
		__atomic_fetch_and(&si->evtchn_mask[port / 64], ~bit, __ATOMIC_SEQ_CST);
		if ((__atomic_load_n(&si->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) & bit) &&
		    set_pending_sel(d->vcpus[vcpu], sel))
			evtchn_vcpu_mark_pending(d->vcpus[vcpu]);
	}
	pthread_mutex_unlock(&d->ev.lock);
	return ret;
}

/* Close every port (domain teardown, EVTCHNOP_reset). */
void evtchn_close_all(struct hv_domain *d)
{
	for (uint32_t p = 1; p < d->ev.nr; p++) {
		pthread_mutex_lock(&d->ev.lock);
		bool used = d->ev.ports[p].state != ECS_FREE;
		struct evtchn_client *owner = d->ev.ports[p].client;
		pthread_mutex_unlock(&d->ev.lock);
		if (used)
			evtchn_close(d, p, owner);
	}
}

/* Is port pending (masked or not), in whichever ABI d uses?  Any thread, no lock. */
bool evtchn_port_pending(struct hv_domain *d, uint32_t port)
{
	struct shared_info *si = d->shinfo;

	if (port == 0 || port >= d->ev.nr)
		return false;
	if (evtchn_fifo_active(d))
		return evtchn_fifo_is_pending(d, port);
	return si && (__atomic_load_n(&si->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) &
		      (1UL << (port % 64)));
}

void evtchn_fini(struct hv_domain *d)
{
	evtchn_fifo_fini(d);
	free(d->ev.ports);
	d->ev.ports = NULL;
	pthread_mutex_destroy(&d->ev.lock);
}

struct evtchn_client *evtchn_client_new(int *read_fd)
{
	struct evtchn_client *c = calloc(1, sizeof(*c));
	int p[2];

	if (!c)
		return NULL;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(c);
		return NULL;
	}
	/* The hypervisor never blocks on a slow client; the client's end blocks, like
	 * /dev/xen/evtchn. */
	fcntl(p[0], F_SETFL, 0);
	c->pipe_w = p[1];
	*read_fd = p[0];
	return c;
}

/* The connection went away: its ports go with it. */
void evtchn_client_free(struct evtchn_client *c)
{
	if (!c)
		return;
	for (uint32_t p = 1; p < hv_dom0->ev.nr; p++) {
		pthread_mutex_lock(&hv_dom0->ev.lock);
		bool mine =
		    hv_dom0->ev.ports[p].state != ECS_FREE && hv_dom0->ev.ports[p].client == c;
		pthread_mutex_unlock(&hv_dom0->ev.lock);
		if (mine)
			evtchn_close(hv_dom0, p, c);
	}
	close(c->pipe_w);
	free(c);
}

static int xen_err(int e)
{
	return e; /* Linux and Xen errno values agree on x86 for those used here */
}

/* The guest's event_channel_op. */

/* EVTCHNOP_status of op->port in d: fills op's status, vcpu and u.  0 or -XEN_EINVAL. */
int evtchn_status(struct hv_domain *d, struct evtchn_status *op)
{
	struct evtchn *ch;

	pthread_mutex_lock(&d->ev.lock);
	if (op->port >= d->ev.nr) {
		pthread_mutex_unlock(&d->ev.lock);
		return -XEN_EINVAL;
	}
	ch = &d->ev.ports[op->port];
	memset(&op->u, 0, sizeof(op->u));
	op->vcpu = ch->vcpu;
	switch (ch->state) {
	case ECS_FREE:
		op->status = EVTCHNSTAT_closed;
		break;
	case ECS_UNBOUND:
		op->status = EVTCHNSTAT_unbound;
		op->u.unbound.dom = (domid_t)ch->remote_dom;
		break;
	case ECS_INTERDOMAIN:
		op->status = EVTCHNSTAT_interdomain;
		op->u.interdomain.dom = (domid_t)ch->remote_dom;
		op->u.interdomain.port = ch->remote_port;
		break;
	case ECS_VIRQ:
		op->status = EVTCHNSTAT_virq;
		op->u.virq = ch->virq;
		break;
	case ECS_IPI:
		op->status = EVTCHNSTAT_ipi;
		break;
	}
	pthread_mutex_unlock(&d->ev.lock);
	return 0;
}

long hc_event_channel_op(struct hv_vcpu *v, const uint64_t *a)
{
	struct hv_domain *d = v->dom;
	uint64_t arg = a[1];
	int ret;

	switch (a[0]) {
	case EVTCHNOP_alloc_unbound: {
		struct evtchn_alloc_unbound op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		if (op.dom != DOMID_SELF && op.dom != d->domid)
			return -XEN_EPERM;
		uint32_t remote = op.remote_dom == DOMID_SELF ? d->domid : op.remote_dom;
		uint32_t port;
		ret = evtchn_alloc_unbound(d, remote, &port, NULL);
		if (ret)
			return xen_err(ret);
		op.port = port;
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case EVTCHNOP_bind_interdomain: {
		struct evtchn_bind_interdomain op;
		uint32_t port;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		uint32_t remote = op.remote_dom == DOMID_SELF ? d->domid : op.remote_dom;
		ret = evtchn_bind_interdomain(d, remote, op.remote_port, &port, NULL);
		if (ret)
			return ret == -ESRCH ? -XEN_ESRCH : xen_err(ret);
		op.local_port = port;
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case EVTCHNOP_bind_virq: {
		struct evtchn_bind_virq op;
		uint32_t port;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		if (op.virq == VIRQ_DOM_EXC || op.virq == VIRQ_CONSOLE)
			return -XEN_EPERM; /* dom0's */
		ret = evtchn_bind_virq(d, op.virq, op.vcpu, &port, NULL);
		if (ret)
			return xen_err(ret);
		op.port = port;
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case EVTCHNOP_bind_ipi: {
		struct evtchn_bind_ipi op;
		uint32_t port;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		ret = bind_ipi(d, op.vcpu, &port);
		if (ret)
			return xen_err(ret);
		op.port = port;
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case EVTCHNOP_close: {
		struct evtchn_close op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		return xen_err(evtchn_close(d, op.port, NULL));
	}
	case EVTCHNOP_send: {
		struct evtchn_send op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		return xen_err(evtchn_send(d, op.port));
	}
	case EVTCHNOP_unmask: {
		struct evtchn_unmask op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		return xen_err(evtchn_unmask(d, op.port));
	}
	case EVTCHNOP_status: {
		struct evtchn_status op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		if (op.dom != DOMID_SELF && op.dom != d->domid)
			return -XEN_EPERM;
		ret = evtchn_status(d, &op);
		if (ret)
			return ret;
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case EVTCHNOP_bind_vcpu: {
		struct evtchn_bind_vcpu op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		if (op.vcpu >= d->max_vcpus)
			return -XEN_ENOENT;
		pthread_mutex_lock(&d->ev.lock);
		ret = 0;
		if (!port_ok(d, op.port))
			ret = -XEN_EINVAL;
		else if (d->ev.ports[op.port].state == ECS_IPI ||
			 (d->ev.ports[op.port].state == ECS_VIRQ &&
			  !virq_is_global(d->ev.ports[op.port].virq)))
			ret =
			    -XEN_EINVAL; /* as Xen: only global VIRQs and interdomain ports move */
		else
			d->ev.ports[op.port].vcpu = op.vcpu;
		pthread_mutex_unlock(&d->ev.lock);
		return ret;
	}
	case EVTCHNOP_reset: {
		struct evtchn_reset op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		if (op.dom != DOMID_SELF && op.dom != d->domid)
			return -XEN_EPERM;
		evtchn_close_all(d);
		evtchn_fifo_reset(d); /* as Xen: the FIFO ABI's blocks go, 2-level again */
		return 0;
	}
	case EVTCHNOP_bind_pirq:
		return -XEN_EPERM;
	case EVTCHNOP_init_control: {
		struct evtchn_init_control op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		ret = (int)evtchn_fifo_init_control(d, &op);
		if (ret)
			return ret;
		return vcpu_copy_to_guest(v, arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
	}
	case EVTCHNOP_expand_array: {
		struct evtchn_expand_array op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		return evtchn_fifo_expand_array(d, op.array_gfn);
	}
	case EVTCHNOP_set_priority: {
		struct evtchn_set_priority op;
		if (vcpu_copy_from_guest(v, &op, arg, sizeof(op)))
			return -XEN_EFAULT;
		return evtchn_fifo_set_priority(d, op.port, op.priority);
	}
	default:
		return -XEN_ENOSYS;
	}
}

/* The pre-3.0.2 form: one struct evtchn_op { cmd; union } argument. */
long hc_event_channel_op_compat(struct hv_vcpu *v, const uint64_t *a)
{
	struct evtchn_op op;
	uint64_t args[5] = { 0 };

	if (vcpu_copy_from_guest(v, &op, a[0], sizeof(op)))
		return -XEN_EFAULT;
	/* Run the modern op on the union, which sits right after cmd. */
	args[0] = op.cmd;
	args[1] = a[0] + offsetof(struct evtchn_op, u);
	return hc_event_channel_op(v, args);
}
