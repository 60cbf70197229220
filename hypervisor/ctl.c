// SPDX-License-Identifier: MIT
/* The control socket: dom0 tools ask the hypervisor to create, run and inspect domains. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/un.h>
#include <unistd.h>
#include "hv.h"
#include "cgroup.h"
#include "xctl.h"

const char *hv_rundir;
volatile sig_atomic_t ctl_stop;

/* One dom0 client: maybe an event-channel handle, maybe holding grant mappings. */
struct conn {
	int fd;
	struct evtchn_client *ev;
	bool mapped;	       /* has mapped grants at some point */
	struct xctl_peer peer; /* the process at the other end (SV_CTL_XEN_HYPERCALL) */
};

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reply: header and payload in one message, with an optional fd. */
static int reply(int fd, const struct sv_ctl_hdr *req, int status, const void *payload,
		 uint32_t len, int pass_fd)
{
	if (req->flags & SV_CTL_F_NOREPLY) {
		if (status)
			hv_log("ctl: one-way op %u failed: %s", req->op, strerror(-status));
		return 0;
	}
	struct sv_ctl_hdr h = {
		.op = req->op, .len = status ? 0 : len, .status = status, .seq = req->seq
	};
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, status ? 0 : len } };
	union {
		struct cmsghdr c;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	if (pass_fd >= 0 && !status) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	size_t total = sizeof(h) + h.len;
	ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	if ((size_t)n != total) {
		/* Short write on a stream socket: finish the payload plainly. */
		size_t done = (size_t)n;
		const uint8_t *all[2] = { (const uint8_t *)&h, payload };
		while (done < total) {
			const uint8_t *src =
			    done < sizeof(h) ? all[0] + done : all[1] + (done - sizeof(h));
			size_t left = done < sizeof(h) ? sizeof(h) - done : total - done;
			ssize_t w = write(fd, src, left);
			if (w <= 0)
				return -EIO;
			done += (size_t)w;
		}
	}
	return 0;
}

static void host_info(struct sv_host_info *hi)
{
	struct sysinfo si;

	memset(hi, 0, sizeof(*hi));
	hi->kvm_kind = hv_host.kind;
	snprintf(hi->kvm_detail, sizeof(hi->kvm_detail), "%s", hv_host.kind_detail);
	hi->nr_cpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	if (sysinfo(&si) == 0) {
		hi->total_kb = (uint64_t)si.totalram * si.mem_unit / 1024;
		hi->free_kb = (uint64_t)si.freeram * si.mem_unit / 1024;
	}
	hi->tsc_khz = hv_host.tsc_khz;
	hi->engine = hv_host.engine->id;
	hi->engines = hv_host.engines;
	snprintf(hi->engine_detail, sizeof(hi->engine_detail), "%s", hv_host.engine_detail);
	hi->xen_major = HV_XEN_MAJOR;
	hi->xen_minor = HV_XEN_MINOR;
	snprintf(hi->xen_extra, sizeof(hi->xen_extra), "%s", HV_XEN_EXTRA);
	snprintf(hi->xen_caps, sizeof(hi->xen_caps), "%s", HV_XEN_CAPS);
	hi->max_vcpus = SV_MAX_VCPUS;
	hi->nr_domains = domain_count();
	hi->uptime_ns = hv_now_ns() - hv_host.start_ns;
}

/* Expected payload size per op: requests are fixed-size structures. */
static uint32_t req_size(uint32_t op)
{
	switch (op) {
	case SV_CTL_HOST_INFO:
		return 0;
	case SV_CTL_DOMAIN_CREATE:
		return sizeof(struct sv_ctl_create);
	case SV_CTL_DOMAIN_MEMORY:
	case SV_CTL_DOMAIN_UNPAUSE:
	case SV_CTL_DOMAIN_PAUSE:
	case SV_CTL_DOMAIN_DESTROY:
	case SV_CTL_DOMAIN_INFO:
		return sizeof(struct sv_ctl_domid);
	case SV_CTL_DOMAIN_SET_HCALL_PAGE:
		return sizeof(struct sv_ctl_hcall_page);
	case SV_CTL_VCPU_SET_CONTEXT:
		return sizeof(struct sv_ctl_vcpu_context);
	case SV_CTL_DOMAIN_SHUTDOWN:
		return sizeof(struct sv_ctl_shutdown);
	case SV_CTL_DOMAIN_LIST:
		return sizeof(struct sv_ctl_list);
	case SV_CTL_DOMAIN_WAIT:
		return sizeof(struct sv_ctl_wait);
	case SV_CTL_CONSOLE_READ:
		return sizeof(struct sv_ctl_console_read);
	case SV_CTL_DOMAIN_FIND:
		return sizeof(struct sv_ctl_find);
	case SV_CTL_EVTCHN_OPEN:
		return 0;
	case SV_CTL_EVTCHN_BIND_INTERDOMAIN:
	case SV_CTL_EVTCHN_BIND_UNBOUND:
	case SV_CTL_EVTCHN_BIND_VIRQ:
		return sizeof(struct sv_ctl_evtchn_bind);
	case SV_CTL_EVTCHN_UNBIND:
	case SV_CTL_EVTCHN_NOTIFY:
	case SV_CTL_EVTCHN_UNMASK:
		return sizeof(struct sv_ctl_evtchn_port);
	case SV_CTL_EVTCHN_ALLOC_UNBOUND:
		return sizeof(struct sv_ctl_evtchn_alloc);
	case SV_CTL_GNT_MAP:
		return sizeof(struct sv_ctl_gnt_map);
	case SV_CTL_GNT_UNMAP:
		return sizeof(struct sv_ctl_gnt_unmap);
	case SV_CTL_GNT_COPY:
		return sizeof(struct sv_ctl_gnt_copy);
	case SV_CTL_VCPU_INFO:
		return sizeof(struct sv_ctl_domid);
	case SV_CTL_VCPU_PIN:
		return sizeof(struct sv_ctl_vcpu_pin);
	case SV_CTL_SCHED_GET:
		return sizeof(struct sv_ctl_domid);
	case SV_CTL_SCHED_SET:
		return sizeof(struct sv_ctl_sched);
	case SV_CTL_DOMAIN_SET_MAXMEM:
		return sizeof(struct sv_ctl_maxmem);
	case SV_CTL_HVLOG_READ:
		return sizeof(struct sv_ctl_hvlog_read);
	case SV_CTL_DOMAIN_RENAME:
		return sizeof(struct sv_ctl_rename);
	case SV_CTL_DOMAIN_TRIGGER:
		return sizeof(struct sv_ctl_trigger);
	case SV_CTL_DOMAIN_RESUME:
		return sizeof(struct sv_ctl_resume);
	case SV_CTL_XEN_HYPERCALL:
		return sizeof(struct sv_ctl_hypercall);
	default:
		return save_req_size(op); /* save.c's, or UINT32_MAX */
	}
}

/* dom0's event channels and grant mappings. */
static int handle_dom0(struct conn *c, const struct sv_ctl_hdr *h, void *p)
{
	const struct sv_ctl_evtchn_bind *b = p;
	const struct sv_ctl_evtchn_port *pp = p;
	struct sv_ctl_evtchn_port out = { 0 };
	int fd = c->fd, ret;

	switch (h->op) {
	case SV_CTL_EVTCHN_OPEN: {
		int rfd;
		if (c->ev)
			return reply(fd, h, -EBUSY, NULL, 0, -1);
		c->ev = evtchn_client_new(&rfd);
		if (!c->ev)
			return reply(fd, h, -ENOMEM, NULL, 0, -1);
		ret = reply(fd, h, 0, NULL, 0, rfd);
		close(rfd);
		return ret;
	}
	case SV_CTL_EVTCHN_ALLOC_UNBOUND: {
		const struct sv_ctl_evtchn_alloc *a = p;
		struct hv_domain *d = domain_get(a->dom);
		if (!d)
			return reply(fd, h, -ESRCH, NULL, 0, -1);
		ret = evtchn_alloc_unbound(d, a->remote_dom, &out.port, NULL);
		domain_put(d);
		return reply(fd, h, ret, &out, sizeof(out), -1);
	}
	case SV_CTL_GNT_MAP: {
		const struct sv_ctl_gnt_map *m = p;
		struct sv_ctl_gnt_map_reply *r;
		struct hv_domain *d;
		if (m->count < 1 || m->count > SV_GNT_MAX_BATCH)
			return reply(fd, h, -EINVAL, NULL, 0, -1);
		d = domain_get(m->domid);
		if (!d)
			return reply(fd, h, -ESRCH, NULL, 0, -1);
		r = calloc(1, sizeof(*r));
		if (!r) {
			domain_put(d);
			return reply(fd, h, -ENOMEM, NULL, 0, -1);
		}
		c->mapped = true;
		r->count = m->count;
		r->gen = d->gen;
		for (uint32_t i = 0; i < m->count; i++)
			r->map[i].status = gnttab_map_dom0(d, m->refs[i], m->readonly, c,
							   &r->map[i].handle, &r->map[i].offset);
		domain_put(d);
		ret = reply(fd, h, 0, r, sizeof(*r), -1);
		free(r);
		return ret;
	}
	case SV_CTL_GNT_UNMAP: {
		const struct sv_ctl_gnt_unmap *u = p;
		struct sv_ctl_gnt_unmap_reply r = { .count = u->count };
		struct hv_domain *d;
		if (u->count < 1 || u->count > SV_GNT_MAX_BATCH)
			return reply(fd, h, -EINVAL, NULL, 0, -1);
		d = domain_get(u->domid);
		if (!d)
			return reply(fd, h, -ESRCH, NULL, 0, -1);
		for (uint32_t i = 0; i < u->count; i++)
			r.status[i] = gnttab_unmap_dom0(d, u->handles[i], c);
		domain_put(d);
		return reply(fd, h, 0, &r, sizeof(r), -1);
	}
	case SV_CTL_GNT_COPY: {
		struct sv_ctl_gnt_copy *cp = p;
		if (cp->count < 1 || cp->count > SV_GNT_MAX_COPY)
			return reply(fd, h, -EINVAL, NULL, 0, -1);
		for (uint32_t i = 0; i < cp->count; i++)
			cp->seg[i].status = gnttab_copy_one(NULL, 0, &cp->seg[i]);
		return reply(fd, h, 0, cp, sizeof(*cp), -1);
	}
	default:
		break;
	}

	/*
	 * A grant handle notifies on unmap (xengnttab_map_grant_ref_notify)
	 * through a port another handle bound, as Linux's gntdev may: dom0 is
	 * trusted to name any of its ports there.
	 */
	if (!c->ev && h->op == SV_CTL_EVTCHN_NOTIFY)
		return reply(fd, h, evtchn_send(hv_dom0, pp->port), NULL, 0, -1);
	/* The rest need this connection to be an event-channel handle. */
	if (!c->ev)
		return reply(fd, h, -EBADF, NULL, 0, -1);
	switch (h->op) {
	case SV_CTL_EVTCHN_BIND_INTERDOMAIN:
		ret = evtchn_bind_interdomain(hv_dom0, b->remote_dom, b->remote_port, &out.port,
					      c->ev);
		return reply(fd, h, ret, &out, sizeof(out), -1);
	case SV_CTL_EVTCHN_BIND_UNBOUND:
		ret = evtchn_alloc_unbound(hv_dom0, b->remote_dom, &out.port, c->ev);
		return reply(fd, h, ret, &out, sizeof(out), -1);
	case SV_CTL_EVTCHN_BIND_VIRQ:
		ret = evtchn_bind_virq(hv_dom0, b->virq, 0, &out.port, c->ev);
		return reply(fd, h, ret, &out, sizeof(out), -1);
	case SV_CTL_EVTCHN_UNBIND:
		return reply(fd, h, evtchn_close(hv_dom0, pp->port, c->ev), NULL, 0, -1);
	case SV_CTL_EVTCHN_NOTIFY:
		return reply(fd, h, evtchn_send_owned(hv_dom0, pp->port, c->ev), NULL, 0, -1);
	case SV_CTL_EVTCHN_UNMASK:
		return reply(fd, h, evtchn_unmask_owned(hv_dom0, pp->port, c->ev), NULL, 0, -1);
	default:
		return reply(fd, h, -ENOSYS, NULL, 0, -1);
	}
}

/* vCPU placement (vcpu_pin.c): both ops name a live guest first. */
static int handle_vcpu(struct conn *c, const struct sv_ctl_hdr *h, void *p)
{
	struct hv_domain *d = domain_get(*(uint32_t *)p);
	int ret;

	if (!d)
		return reply(c->fd, h, -ESRCH, NULL, 0, -1);
	if (h->op == SV_CTL_VCPU_INFO) {
		struct sv_ctl_vcpu_info *out = malloc(sizeof(*out));
		ret = out ? vcpu_pin_info(d, out) : -ENOMEM;
		ret = reply(c->fd, h, ret, out, sizeof(*out), -1);
		free(out);
	} else {
		const struct sv_ctl_vcpu_pin *pin = p;
		ret = reply(c->fd, h, vcpu_pin_set(d, pin->vcpu, pin->hard), NULL, 0, -1);
	}
	domain_put(d);
	return ret;
}

/* Ops that name a domain start with its domid. */
static int handle(struct conn *c, const struct sv_ctl_hdr *h, void *p)
{
	int fd = c->fd;

	if (h->op == SV_CTL_VCPU_INFO || h->op == SV_CTL_VCPU_PIN)
		return handle_vcpu(c, h, p);
	if (h->op == SV_CTL_XEN_HYPERCALL) {
		struct sv_ctl_hypercall_ret r = { .ret = xctl_hypercall(&c->peer, p) };
		return reply(fd, h, 0, &r, sizeof(r), -1);
	}
	if (h->op == SV_CTL_SCHED_GET || h->op == SV_CTL_SCHED_SET) {
		struct sv_ctl_sched out;
		int r = h->op == SV_CTL_SCHED_GET ? hv_sched_get(*(uint32_t *)p, &out)
						  : hv_sched_set(p, &out);
		return reply(fd, h, r, &out, sizeof(out), -1);
	}
	/* dom0's own event channels and grants: the ops from EVTCHN_OPEN to GNT_COPY. */
	if (h->op >= SV_CTL_EVTCHN_OPEN && h->op <= SV_CTL_GNT_COPY)
		return handle_dom0(c, h, p);

	static const uint32_t max_data = SV_CTL_MAX_PAYLOAD - sizeof(struct sv_ctl_console_data);
	struct hv_domain *d = NULL;
	int ret = 0;

	switch (h->op) {
	case SV_CTL_HOST_INFO: {
		struct sv_host_info hi;
		host_info(&hi);
		return reply(fd, h, 0, &hi, sizeof(hi), -1);
	}
	case SV_CTL_DOMAIN_CREATE: {
		struct sv_ctl_domid out = { 0 };
		d = domain_create(p, &ret);
		if (d) {
			out.domid = d->domid;
			domain_put(d);
		}
		return reply(fd, h, ret, &out, sizeof(out), -1);
	}
	case SV_CTL_DOMAIN_LIST: {
		const struct sv_ctl_list *l = p;
		uint32_t max = l->max < SV_CTL_LIST_MAX ? l->max : SV_CTL_LIST_MAX;
		size_t sz = sizeof(struct sv_ctl_list_reply) + max * sizeof(struct sv_dominfo);
		struct sv_ctl_list_reply *r = calloc(1, sz);
		if (!r)
			return reply(fd, h, -ENOMEM, NULL, 0, -1);
		r->nr = (uint32_t)domain_list(l->first_domid, r->info, max);
		ret = reply(fd, h, 0, r, (uint32_t)(sizeof(*r) + r->nr * sizeof(struct sv_dominfo)),
			    -1);
		free(r);
		return ret;
	}
	case SV_CTL_DOMAIN_FIND: {
		struct sv_ctl_find *f = p;
		struct sv_ctl_domid out = { 0 };
		f->name[sizeof(f->name) - 1] = '\0';
		d = domain_find(f->name);
		if (!d)
			return reply(fd, h, -ESRCH, NULL, 0, -1);
		out.domid = d->domid;
		domain_put(d);
		return reply(fd, h, 0, &out, sizeof(out), -1);
	}
	case SV_CTL_DOMAIN_DESTROY:
		return reply(fd, h, domain_destroy(((struct sv_ctl_domid *)p)->domid), NULL, 0, -1);
	case SV_CTL_HVLOG_READ: {
		static const uint32_t max_log =
		    SV_CTL_MAX_PAYLOAD - sizeof(struct sv_ctl_hvlog_data);
		const struct sv_ctl_hvlog_read *lr = p;
		uint32_t max = lr->max < max_log ? lr->max : max_log;
		struct sv_ctl_hvlog_data *out = malloc(sizeof(*out) + max);
		if (!out)
			return reply(fd, h, -ENOMEM, NULL, 0, -1);
		memset(out, 0, sizeof(*out));
		out->offset = lr->offset;
		out->len = hv_logring_read(&hv_log_ring, &out->offset, &out->next, out->data, max,
					   lr->flags & SV_HVLOG_F_CLEAR);
		ret = reply(fd, h, 0, out, (uint32_t)sizeof(*out) + out->len, -1);
		free(out);
		return ret;
	}
	default:
		break;
	}

	/* The rest act on one live domain. */
	d = domain_get(*(uint32_t *)p);
	if (!d)
		return reply(fd, h, -ESRCH, NULL, 0, -1);
	switch (h->op) {
	case SV_CTL_DOMAIN_MEMORY: {
		struct sv_ctl_memory m = { 0 };
		m.ram_kb = d->mem.ram_size / 1024;
		m.nr_ranges = d->mem.nr_ram;
		memcpy(m.ram, d->mem.ram, sizeof(m.ram));
		m.priv = d->mem.priv;
		m.memfd_size = d->mem.memfd_size;
		m.gnttab_gpa = pv_gnttab_gpa(d);
		m.gnttab_frames = SV_GNT_MAX_FRAMES;
		m.gen = d->gen;
		m.boot_kb = d->mem.boot_pages * (PAGE_SIZE / 1024);
		ret = reply(fd, h, 0, &m, sizeof(m), d->mem.memfd);
		break;
	}
	case SV_CTL_DOMAIN_SET_HCALL_PAGE: {
		const struct sv_ctl_hcall_page *hp = p;
		ret = pv_write_hypercall_page(d, hp->gpa);
		ret = reply(fd, h, ret, NULL, 0, -1);
		break;
	}
	case SV_CTL_VCPU_SET_CONTEXT: {
		const struct sv_ctl_vcpu_context *vc = p;
		int r;
		pthread_mutex_lock(&d->lock);
		if (vc->vcpu >= d->max_vcpus)
			r = -EINVAL;
		else
			r = vcpu_tools_set_context(d->vcpus[vc->vcpu], &vc->ctx);
		pthread_mutex_unlock(&d->lock);
		ret = reply(fd, h, r, NULL, 0, -1);
		break;
	}
	case SV_CTL_DOMAIN_UNPAUSE:
		ret = reply(fd, h, domain_unpause(d), NULL, 0, -1);
		break;
	case SV_CTL_DOMAIN_PAUSE:
		ret = reply(fd, h, domain_pause(d), NULL, 0, -1);
		break;
	case SV_CTL_DOMAIN_SHUTDOWN: {
		const struct sv_ctl_shutdown *s = p;
		if (s->reason > 5) {
			ret = reply(fd, h, -EINVAL, NULL, 0, -1);
			break;
		}
		domain_shutdown(d, s->reason);
		ret = reply(fd, h, 0, NULL, 0, -1);
		break;
	}
	case SV_CTL_DOMAIN_SET_MAXMEM:
		ret = reply(fd, h, memop_set_max(d, ((const struct sv_ctl_maxmem *)p)->max_kb),
			    NULL, 0, -1);
		break;
	case SV_CTL_DOMAIN_INFO: {
		struct sv_dominfo di;
		domain_info(d, &di);
		ret = reply(fd, h, 0, &di, sizeof(di), -1);
		break;
	}
	case SV_CTL_DOMAIN_WAIT: {
		const struct sv_ctl_wait *w = p;
		struct sv_dominfo di;
		int r = domain_wait(d, w->timeout_ms);
		domain_info(d, &di);
		ret = reply(fd, h, r, &di, sizeof(di), -1);
		break;
	}
	case SV_CTL_DOMAIN_RENAME: {
		struct sv_ctl_rename *rn = p;
		rn->name[sizeof(rn->name) - 1] = '\0';
		ret = reply(fd, h, domain_rename(d, rn->name), NULL, 0, -1);
		break;
	}
	case SV_CTL_DOMAIN_RESUME: {
		const struct sv_ctl_resume *rs = p;
		/* domain_resume refuses flags it does not know. */
		ret = reply(fd, h, domain_resume(d, rs->flags), NULL, 0, -1);
		break;
	}
	case SV_CTL_DOMAIN_TRIGGER: {
		const struct sv_ctl_trigger *t = p;
		int r;
		/* As Xen's XEN_DOMCTL_sendtrigger for a PV domain. */
		if (t->trigger == SV_TRIGGER_NMI)
			r = nmi_send(d, t->vcpu);
		else if (t->trigger == SV_TRIGGER_POWER || t->trigger == SV_TRIGGER_SLEEP)
			r = -EINVAL; /* ACPI buttons: HVM guests only */
		else
			r = -ENOSYS;
		ret = reply(fd, h, r, NULL, 0, -1);
		break;
	}
	case SV_CTL_CONSOLE_READ: {
		const struct sv_ctl_console_read *cr = p;
		uint32_t max = cr->max < max_data ? cr->max : max_data;
		struct sv_ctl_console_data *out = malloc(sizeof(*out) + max);
		if (!out) {
			ret = reply(fd, h, -ENOMEM, NULL, 0, -1);
			break;
		}
		uint32_t t = cr->timeout_ms > 60000 ? 60000 : cr->timeout_ms;
		console_read(d, cr->offset, t, out, max);
		ret = reply(fd, h, 0, out, (uint32_t)sizeof(*out) + out->len, -1);
		free(out);
		break;
	}
	default: {
		/* Save and restore (save.c); any other op: -ENOSYS there. */
		const void *out;
		uint32_t out_len;
		int r = save_op(d, h->op, p, &out, &out_len);
		ret = reply(fd, h, r, out, out_len, -1);
	}
	}
	domain_put(d);
	return ret;
}

/*
 * One thread per connection.  A malformed request (unknown op, wrong
 * size) gets an error reply when the stream can still be followed, else
 * the connection is closed; the daemon carries on either way.
 */
static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	void *payload = malloc(SV_CTL_MAX_PAYLOAD);

	while (payload) {
		struct sv_ctl_hdr h;
		if (read_full(c->fd, &h, sizeof(h)))
			break;
		if (h.len > SV_CTL_MAX_PAYLOAD) {
			hv_log("ctl: request of %u bytes refused, closing the connection", h.len);
			reply(c->fd, &h, -EMSGSIZE, NULL, 0, -1);
			break;
		}
		if (read_full(c->fd, payload, h.len))
			break;
		if (req_size(h.op) != h.len) {
			reply(c->fd, &h, h.op >= SV_CTL_OP_MAX || !h.op ? -ENOSYS : -EINVAL, NULL,
			      0, -1);
			continue;
		}
		if (handle(c, &h, payload))
			break;
	}
	free(payload);
	evtchn_client_free(c->ev);
	if (c->mapped) {
		for (uint32_t id = 1; id < HV_MAX_DOMAINS; id++) {
			struct hv_domain *d = domain_get(id);
			if (d) {
				gnttab_release_owner(d, c);
				domain_put(d);
			}
		}
	}
	xctl_peer_fini(&c->peer);
	close(c->fd);
	free(c);
	return NULL;
}

int ctl_serve(const char *rundir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	hv_rundir = rundir;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", rundir, SV_CTL_SOCKET) >=
	    sizeof(sa.sun_path)) {
		hv_err("run directory path too long for a socket: %s", rundir);
		return -ENAMETOOLONG;
	}
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	unlink(sa.sun_path);
	mode_t old = umask(0077);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0) {
		int e = -errno;
		umask(old);
		hv_err("cannot listen on %s: %s", sa.sun_path, strerror(-e));
		close(lfd);
		return e;
	}
	umask(old);
	hv_log("listening on %s", sa.sun_path);
	while (!ctl_stop) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		struct conn *c = malloc(sizeof(*c));
		pthread_t t;
		pthread_attr_t attr;
		if (!c) {
			close(cfd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = cfd;
		xctl_peer_init(&c->peer, cfd); /* now, before its pid could be reused */
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, conn_thread, c)) {
			xctl_peer_fini(&c->peer);
			close(cfd);
			free(c);
		}
		pthread_attr_destroy(&attr);
	}
	close(lfd);
	unlink(sa.sun_path);
	return 0;
}
