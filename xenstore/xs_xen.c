// SPDX-License-Identifier: MIT
// Glue to the hypervisor (Xen's xenevtchn and xenforeignmemory APIs, from libsvxen): guest rings
// for xs_domain_attach_ring().
//
// The only file that needs the hypervisor: it maps a domain's xenstore page
// (the mfn INTRODUCE named), binds the event channel (the port INTRODUCE
// named) and hands both to the ring transport as an ordinary connection.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include "sv/svctl.h"
#include "xs_keeper.h"
#include "xs_ring.h"
#include "xs_xen.h"

struct xs_xen {
	xenevtchn_handle *xce;
	xenforeignmemory_handle *fmem;
	struct svctl *ctl; /* domain state queries, NULL if refused */
	int timerfd;	   /* ticks for the ring poll and domain check, -1 if none */
	unsigned ticks;
	bool ctl_failing;  /* last check could not ask: logged once */
};

/* The tick: every 100 ms, rings are read for requests no event announced. */
#define XS_XEN_TICK_MS 100
/* Every 5 ticks (500 ms), introduced domains are checked for shutdown and death. */
#define XS_XEN_CHECK_TICKS 5

static void xs_xen_notify(struct xs_ring *r)
{
	struct xs_xen *x = r->ctx;

	if (r->local_port >= 0)
		xenevtchn_notify(x->xce, (evtchn_port_t)r->local_port);
}

static void xs_xen_release(struct xs_ring *r)
{
	struct xs_xen *x = r->ctx;

	if (r->local_port >= 0)
		xenevtchn_unbind(x->xce, (evtchn_port_t)r->local_port);
	if (r->intf)
		xenforeignmemory_unmap(x->fmem, r->intf, 1);
	r->intf = NULL;
	r->local_port = -1;
	free(r);
}

/*
 * The connection's buffers: those a crashed daemon left with the keeper
 * for this domain (the interrupted ring index move finished first, then
 * rolled back to what the journal has), else new ones in a memfd the
 * keeper will hold, else (no keeper) on the heap.
 */
static int xs_xen_ring_buffers(struct xs_daemon *d, struct xs_ring *r, struct xs_cbuf *cb,
			       bool *kept)
{
	uint64_t key = XS_RING_KEY(r->domid), max_pass = 0;
	struct xs_cbuf_hdr h;
	int ret;

	*kept = false;
	for (unsigned int i = 0; i < d->nkept_rings; i++) {
		struct xs_kept_ring *t = &d->kept_rings[i];
		int fd = t->memfd;

		if (t->key != key || fd < 0)
			continue;
		t->memfd = -1;
		ret = xs_cbuf_peek(fd, &h);
		if (!ret && h.key == key) {
			xs_ring_finish_io(r, &h);
			ret = xs_cbuf_recover(cb, fd, key, xs_persist_loaded_pass(d), &max_pass);
		} else if (!ret) {
			ret = -EINVAL;
		}
		if (!ret) {
			if (max_pass > d->pass)
				d->pass = max_pass;
			*kept = true;
			return 0;
		}
		xs_log(d, "domain %u: ring buffers unusable (%s): in-flight requests lost",
		       r->domid, strerror(-ret));
		close(fd);
		break;
	}
	if (d->keeper && !xs_cbuf_init_shared(cb, key))
		return 0;
	return xs_cbuf_init_heap(cb);
}

static int xs_xen_attach(struct xs_daemon *d, struct xs_domain *dom)
{
	struct xs_xen *x = d->xen;
	xen_pfn_t gfn = (xen_pfn_t)dom->mfn;
	xenevtchn_port_or_error_t port;
	struct xs_cbuf cb;
	struct xs_ring *r;
	struct xs_conn *c;
	bool kept;
	int err = 0, ret;

	if (dom->conn)
		xs_conn_kill(dom->conn, "ring re-attached");
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ctx = x;
	r->domid = dom->domid;
	r->local_port = -1;
	r->notify = xs_xen_notify;
	r->release = xs_xen_release;
	r->intf = xenforeignmemory_map(x->fmem, dom->domid, PROT_READ | PROT_WRITE, 1, &gfn, &err);
	if (!r->intf || err) {
		ret = err ? -abs(err) : -errno;
		if (r->intf)
			xenforeignmemory_unmap(x->fmem, r->intf, 1);
		free(r);
		xs_log(d, "domain %u: cannot map xenstore page %llu: %s", dom->domid,
		       (unsigned long long)dom->mfn, strerror(-ret));
		return ret ? ret : -EIO;
	}
	port = xenevtchn_bind_interdomain(x->xce, dom->domid, dom->port);
	if (port < 0) {
		ret = -errno;
		xs_log(d, "domain %u: cannot bind event channel %u: %m", dom->domid, dom->port);
		xs_xen_release(r);
		return ret ? ret : -EIO;
	}
	r->local_port = port;
	ret = xs_xen_ring_buffers(d, r, &cb, &kept);
	if (ret) {
		xs_xen_release(r);
		return ret;
	}
	c = xs_conn_new_cbuf(d, &xs_ring_ops, r, -1, dom->domid, false, &cb);
	if (!c) {
		xs_cbuf_free(&cb);
		xs_xen_release(r);
		return -ENOMEM;
	}
	c->key = XS_RING_KEY(dom->domid);
	c->persistent = true;
	dom->conn = c;
	if (!kept && d->keeper && c->cb.memfd >= 0)
		xs_keeper_add(d->keeper, c->key, c->cb.memfd, -1, false);
	if (kept)
		xs_log(d,
		       "domain %u: ring buffers restored (%llu bytes of replies and %llu of "
		       "requests pending)",
		       dom->domid, (unsigned long long)xs_conn_unsent(c),
		       (unsigned long long)xs_cbuf_in_avail(&c->cb));
	/* After a daemon restart the domain gets its watches back. */
	if (xs_persist_restore_conn(d, c))
		xs_persist_conn(d, c);
	xs_ring_init_page(r);
	xs_log(d, "domain %u: ring attached (page %llu, port %u -> %d)", dom->domid,
	       (unsigned long long)dom->mfn, dom->port, port);
	/* Whatever the guest queued before we came. */
	xs_conn_handle_input(c);
	xs_xen_notify(r);
	return 0;
}

/*
 * As C xenstored does on VIRQ_DOM_EXC: a domain that shut down gets one
 * @releaseDomain (again after RESUME), and one that no longer exists is
 * released (connection, watches, owned nodes). The hypervisor lets one
 * dom0 process bind VIRQ_DOM_EXC and others (tools, tests) need it, so
 * xenstored asks about its introduced domains every XS_XEN_CHECK_TICKS ticks.
 */
void xs_xen_check_domains(struct xs_daemon *d)
{
	struct xs_xen *x = d->xen;
	unsigned int i;

	if (!x || !x->ctl)
		return;
	for (i = 1; i < XS_NR_DOMAINS; i++) {
		struct xs_domain *dom = d->domains[i];
		struct sv_dominfo info;
		int ret;

		if (!dom || !dom->introduced)
			continue;
		ret = svctl_domain_info(x->ctl, i, &info);
		if (ret == -ESRCH) {
			xs_log(d, "domain %u is gone", i);
			xs_domain_release(d, i);
		} else if (ret == 0 && (info.flags & (SV_DOMF_SHUTDOWN | SV_DOMF_DYING)) &&
			   !dom->shutdown) {
			dom->shutdown = true;
			xs_log(d, "domain %u shut down", i);
			xs_watch_fire(d, "@releaseDomain", false, NULL, 0);
		} else if (ret && ret != -ESRCH) {
			if (!x->ctl_failing)
				xs_log(d, "domain %u: state unknown: %s", i, strerror(-ret));
			x->ctl_failing = true;
			return; /* the hypervisor is not answering */
		}
	}
	x->ctl_failing = false;
}

int xs_xen_open(struct xs_daemon *d)
{
	struct xs_xen *x = calloc(1, sizeof(*x));
	int fl, ret;

	if (!x)
		return -ENOMEM;
	x->xce = xenevtchn_open(NULL, 0);
	if (!x->xce) {
		ret = -errno;
		goto out_free;
	}
	fl = fcntl(xenevtchn_fd(x->xce), F_GETFL);
	if (fl < 0 || fcntl(xenevtchn_fd(x->xce), F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = -errno;
		goto out_evtchn;
	}
	x->fmem = xenforeignmemory_open(NULL, 0);
	if (!x->fmem) {
		ret = -errno;
		goto out_evtchn;
	}
	/* Domain deaths: optional, rings work without them. */
	x->ctl = svctl_open(svctl_rundir());
	x->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (x->timerfd >= 0) {
		struct itimerspec its = {
			.it_interval = { 0, XS_XEN_TICK_MS * 1000000L },
			.it_value = { 0, XS_XEN_TICK_MS * 1000000L },
		};

		if (timerfd_settime(x->timerfd, 0, &its, NULL)) {
			close(x->timerfd);
			x->timerfd = -1;
		}
	}
	if (!x->ctl || x->timerfd < 0)
		xs_log(d, "no domain state checks: @releaseDomain only on RELEASE");
	d->xen = x;
	d->ring_attach = xs_xen_attach;
	return 0;

out_evtchn:
	xenevtchn_close(x->xce);
out_free:
	free(x);
	return ret ? ret : -EIO;
}

int xs_xen_timer_fd(struct xs_daemon *d)
{
	struct xs_xen *x = d->xen;

	return x ? x->timerfd : -1;
}

void xs_xen_tick(struct xs_daemon *d)
{
	struct xs_xen *x = d->xen;
	uint64_t n;

	if (!x || x->timerfd < 0 || read(x->timerfd, &n, sizeof(n)) != sizeof(n))
		return;
	xs_xen_poll_rings(d);
	if (++x->ticks % XS_XEN_CHECK_TICKS == 0)
		xs_xen_check_domains(d);
}

/*
 * Serves a ring connection: reads the requests in its ring, then wants
 * output while replies wait to be sent (new ones, or ones that waited for
 * room in the ring).
 */
static void xs_xen_serve_ring(struct xs_conn *c)
{
	xs_conn_handle_input(c);
	if (xs_conn_unsent(c))
		c->want_out = true;
}

/*
 * Requests that sit in a ring with no event to say so.  A guest notifies
 * only when its write finds the ring empty (Linux's xb_write reads
 * req_cons right after storing req_prod, with no barrier between): when
 * that read passes our store of req_cons and our read of req_prod passes
 * its store, each sees the other's old index, no event is sent and both
 * wait (Debian's kernel hung so, a request's header read and its payload
 * left in the ring, about one boot in forty).  As C xenstored looks at
 * every domain's ring on each pass, each tick does; requests are read
 * when they sat unread for a whole tick (a notify in flight takes far
 * less), so a lost wake-up costs at most two ticks and the log names
 * only real ones.
 */
void xs_xen_poll_rings(struct xs_daemon *d)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->conns)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);
		struct xs_ring *r = c->priv;

		if (c->ops != &xs_ring_ops || c->dead || c->throttled || !c->ops->can_read(c)) {
			if (c->ops == &xs_ring_ops && !c->dead)
				r->tick_seen = false;
			continue;
		}
		uint32_t prod = __atomic_load_n(&r->intf->req_prod, __ATOMIC_RELAXED);
		if (!r->tick_seen || r->tick_prod != prod) {
			/* New since the last tick: its event may still be on its way. */
			r->tick_seen = true;
			r->tick_prod = prod;
			continue;
		}
		r->tick_seen = false;
		if (!r->unheard_logged)
			xs_log(d, "domain %u: requests in its ring without an event: read on the tick "
				  "(logged once)", c->domid);
		r->unheard_logged = true;
		xs_xen_serve_ring(c);
	}
}

int xs_xen_fd(struct xs_daemon *d)
{
	struct xs_xen *x = d->xen;

	return x ? xenevtchn_fd(x->xce) : -1;
}

int xs_xen_events(struct xs_daemon *d)
{
	struct xs_xen *x = d->xen;
	int budget = 256;

	while (x && budget-- > 0) {
		xenevtchn_port_or_error_t port = xenevtchn_pending(x->xce);
		struct sv_list *pos, *tmp;

		if (port < 0) {
			if (errno != EPIPE)
				break;
			xs_log(d, "hypervisor went away: guest rings stop");
			sv_list_for_each_safe(pos, tmp, &d->conns)
			{
				struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);

				if (c->ops == &xs_ring_ops)
					xs_conn_kill(c, "hypervisor gone");
			}
			return -EPIPE;
		}
		xenevtchn_unmask(x->xce, (evtchn_port_t)port);
		sv_list_for_each_safe(pos, tmp, &d->conns)
		{
			struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);
			struct xs_ring *r = c->priv;

			if (c->ops != &xs_ring_ops || c->dead || r->local_port != port)
				continue;
			xs_xen_serve_ring(c);
		}
	}
	return 0;
}

void xs_xen_close(struct xs_daemon *d)
{
	struct xs_xen *x = d->xen;

	if (!x)
		return;
	if (x->ctl)
		svctl_close(x->ctl);
	if (x->timerfd >= 0)
		close(x->timerfd);
	xenforeignmemory_close(x->fmem);
	xenevtchn_close(x->xce);
	free(x);
	d->xen = NULL;
	d->ring_attach = NULL;
}
