// SPDX-License-Identifier: MIT
/* The fake hypervisor behind the control socket: real libsvxen (and backends on it) talk to it
 * (fakexen_libs.h fakes the libraries instead). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "fakehv.h"
#include "sv/ctl.h"
#include <xen/grant_table.h>

/*
 * Memory of FAKEHV_DOMID: 16 memfd pages; RAM range 0 is gfn 0..7 at memfd
 * page 0, range 1 is gfn 0x100..0x107 at memfd page 8, so gfn translation
 * through both ranges is exercised.  Grant frames name memfd pages.
 */
#define NR_HANDLES 1024

enum port_state { PORT_FREE, PORT_UNBOUND, PORT_INTERDOMAIN, PORT_VIRQ };

struct conn;

struct port {
	enum port_state state;
	struct conn *owner;
	uint32_t remote_dom, remote_port, virq;
	bool masked, pending;
};

struct gref {
	bool valid, readonly;
	uint32_t frame;
	unsigned maps;
};

struct ghandle {
	struct conn *owner; /* NULL: free */
	uint32_t ref;
};

struct conn {
	struct fakehv *hv;
	int fd;
	int pipe_w; /* after EVTCHN_OPEN */
	pthread_t thread;
	bool done;
	struct conn *next;
};

struct fakehv {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int listen_fd;
	pthread_t accept_thread;
	int memfd;
	struct port ports[FAKEHV_NR_PORTS];
	struct gref grefs[FAKEHV_NR_GREFS];
	struct ghandle handles[NR_HANDLES];
	struct conn *conns;
	unsigned noreply, noreply_errors;
	unsigned eagain_left;
	bool bad_offsets, stopping;
};

static int io_full(int fd, void *buf, size_t len, bool rd)
{
	char *p = buf;

	while (len) {
		ssize_t n = rd ? read(fd, p, len) : send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_reply(struct conn *c, const struct sv_ctl_hdr *q, int status, const void *rep,
		      uint32_t len, int fd)
{
	struct sv_ctl_hdr h = {
		.op = q->op, .len = status ? 0 : len, .status = status, .seq = q->seq
	};
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0 && !status) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.b;
		msg.msg_controllen = sizeof(cm.b);
		CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &fd, sizeof(fd));
	}
	if (sendmsg(c->fd, &msg, MSG_NOSIGNAL) != sizeof(h))
		return -1;
	return h.len ? io_full(c->fd, (void *)rep, h.len, false) : 0;
}

/* Mark a port pending and, unless masked, mask it and write it to its owner's pipe. */
static void deliver(struct fakehv *hv, uint32_t port)
{
	struct port *p = &hv->ports[port];

	if (!p->owner)
		return;
	if (p->masked) {
		p->pending = true;
		return;
	}
	p->masked = true;
	if (p->owner->pipe_w >= 0 && write(p->owner->pipe_w, &port, sizeof(port)) != sizeof(port))
		p->pending = true;
}

static void port_free(struct fakehv *hv, uint32_t port)
{
	struct port *p = &hv->ports[port];

	if (p->state == PORT_INTERDOMAIN && p->remote_dom == 0) {
		struct port *peer = &hv->ports[p->remote_port];

		peer->state = PORT_UNBOUND;
		peer->remote_dom = 0;
	}
	memset(p, 0, sizeof(*p));
}

static int port_alloc(struct fakehv *hv, struct conn *c)
{
	for (uint32_t i = 1; i < FAKEHV_NR_PORTS; i++) {
		if (hv->ports[i].state == PORT_FREE) {
			memset(&hv->ports[i], 0, sizeof(hv->ports[i]));
			hv->ports[i].owner = c;
			return (int)i;
		}
	}
	return -ENOSPC;
}

static bool port_mine(struct fakehv *hv, struct conn *c, uint32_t port)
{
	return port && port < FAKEHV_NR_PORTS && hv->ports[port].state != PORT_FREE &&
	       hv->ports[port].owner == c;
}

static int do_bind(struct fakehv *hv, struct conn *c, uint32_t op,
		   const struct sv_ctl_evtchn_bind *b, uint32_t *port_out)
{
	int port;

	if (c->pipe_w < 0)
		return -EBADF;
	if (op == SV_CTL_EVTCHN_BIND_INTERDOMAIN) {
		if (b->remote_dom == 0) {
			if (!b->remote_port || b->remote_port >= FAKEHV_NR_PORTS ||
			    hv->ports[b->remote_port].state != PORT_UNBOUND ||
			    hv->ports[b->remote_port].remote_dom != 0)
				return -EINVAL;
		} else if (b->remote_dom != FAKEHV_DOMID) {
			return -ESRCH;
		}
	} else if (op == SV_CTL_EVTCHN_BIND_UNBOUND) {
		if (b->remote_dom != 0 && b->remote_dom != FAKEHV_DOMID)
			return -ESRCH;
	} else if (b->virq >= NR_VIRQS) {
		return -EINVAL;
	} else {
		for (uint32_t i = 1; i < FAKEHV_NR_PORTS; i++)
			if (hv->ports[i].state == PORT_VIRQ && hv->ports[i].virq == b->virq)
				return -EEXIST;
	}
	port = port_alloc(hv, c);
	if (port < 0)
		return port;
	if (op == SV_CTL_EVTCHN_BIND_INTERDOMAIN) {
		hv->ports[port].state = PORT_INTERDOMAIN;
		hv->ports[port].remote_dom = b->remote_dom;
		hv->ports[port].remote_port = b->remote_port;
		if (b->remote_dom == 0) {
			hv->ports[b->remote_port].state = PORT_INTERDOMAIN;
			hv->ports[b->remote_port].remote_port = (uint32_t)port;
		}
	} else if (op == SV_CTL_EVTCHN_BIND_UNBOUND) {
		hv->ports[port].state = PORT_UNBOUND;
		hv->ports[port].remote_dom = b->remote_dom;
	} else {
		hv->ports[port].state = PORT_VIRQ;
		hv->ports[port].virq = b->virq;
	}
	*port_out = (uint32_t)port;
	return 0;
}

static int do_oneway(struct fakehv *hv, struct conn *c, uint32_t op, uint32_t port)
{
	struct port *p;

	if (!port_mine(hv, c, port))
		return -EINVAL;
	p = &hv->ports[port];
	if (op == SV_CTL_EVTCHN_NOTIFY) {
		if (p->state == PORT_INTERDOMAIN && p->remote_dom == 0)
			deliver(hv, p->remote_port);
		else if (p->state != PORT_INTERDOMAIN)
			return -EINVAL;
		return 0;
	}
	p->masked = false;
	if (p->pending) {
		p->pending = false;
		deliver(hv, port);
	}
	return 0;
}

static void do_gnt_map(struct fakehv *hv, struct conn *c, const struct sv_ctl_gnt_map *q,
		       struct sv_ctl_gnt_map_reply *r)
{
	r->count = q->count;
	for (uint32_t i = 0; i < q->count; i++) {
		struct sv_gnt_mapping *m = &r->map[i];
		uint32_t ref = q->refs[i], h;

		if (q->domid != FAKEHV_DOMID) {
			m->status = GNTST_bad_domain;
			continue;
		}
		if (ref >= FAKEHV_NR_GREFS || !hv->grefs[ref].valid) {
			m->status = GNTST_bad_gntref;
			continue;
		}
		if (hv->eagain_left) {
			hv->eagain_left--;
			m->status = GNTST_eagain;
			continue;
		}
		if (hv->grefs[ref].readonly && !q->readonly) {
			m->status = GNTST_permission_denied;
			continue;
		}
		for (h = 0; h < NR_HANDLES && hv->handles[h].owner; h++)
			;
		if (h == NR_HANDLES) {
			m->status = GNTST_no_space;
			continue;
		}
		hv->handles[h].owner = c;
		hv->handles[h].ref = ref;
		hv->grefs[ref].maps++;
		m->status = GNTST_okay;
		m->handle = h;
		m->offset = (uint64_t)hv->grefs[ref].frame * 4096;
		if (hv->bad_offsets)
			m->offset = (uint64_t)FAKEHV_PAGES * 4096;
	}
}

static void handle_put(struct fakehv *hv, uint32_t h)
{
	hv->grefs[hv->handles[h].ref].maps--;
	hv->handles[h].owner = NULL;
}

/* One side of a copy: its page's memfd offset, or a GNTST_* error. */
static int copy_side(struct fakehv *hv, const struct sv_gnt_copy_ptr *p, uint32_t len, bool write,
		     uint64_t *off)
{
	if (p->domid != FAKEHV_DOMID)
		return GNTST_bad_domain;
	if (p->flags & SV_GNT_COPY_GFN)
		return GNTST_general_error;
	if (p->ref >= FAKEHV_NR_GREFS || !hv->grefs[p->ref].valid)
		return GNTST_bad_gntref;
	if (write && hv->grefs[p->ref].readonly)
		return GNTST_permission_denied;
	if (p->offset + len > 4096)
		return GNTST_bad_copy_arg;
	*off = (uint64_t)hv->grefs[p->ref].frame * 4096 + p->offset;
	return GNTST_okay;
}

static void do_gnt_copy(struct fakehv *hv, struct sv_ctl_gnt_copy *q)
{
	for (uint32_t i = 0; i < q->count; i++) {
		struct sv_gnt_copy_seg *s = &q->seg[i];
		uint64_t so = 0, d = 0;
		char buf[4096];
		int st = copy_side(hv, &s->source, s->len, false, &so);

		if (!st)
			st = copy_side(hv, &s->dest, s->len, true, &d);
		if (!st && (pread(hv->memfd, buf, s->len, (off_t)so) != (ssize_t)s->len ||
			    pwrite(hv->memfd, buf, s->len, (off_t)d) != (ssize_t)s->len))
			st = GNTST_general_error;
		s->status = st;
	}
}

static const uint32_t req_size[SV_CTL_OP_MAX] = {
	[SV_CTL_DOMAIN_MEMORY] = sizeof(struct sv_ctl_domid),
	[SV_CTL_EVTCHN_OPEN] = 0,
	[SV_CTL_EVTCHN_BIND_INTERDOMAIN] = sizeof(struct sv_ctl_evtchn_bind),
	[SV_CTL_EVTCHN_BIND_UNBOUND] = sizeof(struct sv_ctl_evtchn_bind),
	[SV_CTL_EVTCHN_BIND_VIRQ] = sizeof(struct sv_ctl_evtchn_bind),
	[SV_CTL_EVTCHN_UNBIND] = sizeof(struct sv_ctl_evtchn_port),
	[SV_CTL_EVTCHN_NOTIFY] = sizeof(struct sv_ctl_evtchn_port),
	[SV_CTL_EVTCHN_UNMASK] = sizeof(struct sv_ctl_evtchn_port),
	[SV_CTL_GNT_MAP] = sizeof(struct sv_ctl_gnt_map),
	[SV_CTL_GNT_UNMAP] = sizeof(struct sv_ctl_gnt_unmap),
	[SV_CTL_GNT_COPY] = sizeof(struct sv_ctl_gnt_copy),
};

/* Serve one request already read; -1 ends the connection. */
static int serve(struct conn *c, const struct sv_ctl_hdr *q, void *in)
{
	static __thread union {
		struct sv_ctl_memory mem;
		struct sv_ctl_evtchn_port port;
		struct sv_ctl_gnt_map_reply map;
		struct sv_ctl_gnt_unmap_reply unmap;
		struct sv_ctl_gnt_copy copy;
	} out;
	struct fakehv *hv = c->hv;
	uint32_t rlen = 0;
	int st = 0, fd = -1, pfd[2] = { -1, -1 }, ret;

	memset(&out, 0, sizeof(out));
	pthread_mutex_lock(&hv->lock);
	if (q->op >= SV_CTL_OP_MAX || !q->op || (q->op != SV_CTL_EVTCHN_OPEN && !req_size[q->op]) ||
	    q->len != req_size[q->op]) {
		st = q->op < SV_CTL_OP_MAX ? -EINVAL : -ENOSYS;
	} else if ((q->flags & SV_CTL_F_NOREPLY) && q->op != SV_CTL_GNT_UNMAP) {
		uint32_t port = ((struct sv_ctl_evtchn_port *)in)->port;

		hv->noreply++;
		if ((q->op != SV_CTL_EVTCHN_NOTIFY && q->op != SV_CTL_EVTCHN_UNMASK) ||
		    do_oneway(hv, c, q->op, port))
			hv->noreply_errors++;
		pthread_cond_broadcast(&hv->cond);
		pthread_mutex_unlock(&hv->lock);
		return 0;
	} else {
		switch (q->op) {
		case SV_CTL_DOMAIN_MEMORY:
			if (((struct sv_ctl_domid *)in)->domid != FAKEHV_DOMID) {
				st = -ESRCH;
				break;
			}
			out.mem.ram_kb = FAKEHV_PAGES * 4;
			out.mem.nr_ranges = 2;
			out.mem.ram[0] = (struct sv_mem_range){ 0, 8 * 4096, 0 };
			out.mem.ram[1] = (struct sv_mem_range){ 0x100000, 8 * 4096, 8 * 4096 };
			out.mem.memfd_size = FAKEHV_PAGES * 4096;
			rlen = sizeof(out.mem);
			fd = hv->memfd;
			break;
		case SV_CTL_EVTCHN_OPEN:
			if (c->pipe_w >= 0 || pipe2(pfd, O_CLOEXEC)) {
				st = -EBUSY;
				break;
			}
			c->pipe_w = pfd[1];
			fd = pfd[0];
			break;
		case SV_CTL_EVTCHN_BIND_INTERDOMAIN:
		case SV_CTL_EVTCHN_BIND_UNBOUND:
		case SV_CTL_EVTCHN_BIND_VIRQ:
			st = do_bind(hv, c, q->op, in, &out.port.port);
			rlen = sizeof(out.port);
			break;
		case SV_CTL_EVTCHN_UNBIND: {
			uint32_t port = ((struct sv_ctl_evtchn_port *)in)->port;

			if (port_mine(hv, c, port))
				port_free(hv, port);
			else
				st = -EINVAL;
			break;
		}
		case SV_CTL_EVTCHN_NOTIFY:
		case SV_CTL_EVTCHN_UNMASK:
			st = do_oneway(hv, c, q->op, ((struct sv_ctl_evtchn_port *)in)->port);
			break;
		case SV_CTL_GNT_MAP: {
			const struct sv_ctl_gnt_map *m = in;

			if (!m->count || m->count > SV_GNT_MAX_BATCH) {
				st = -EINVAL;
				break;
			}
			do_gnt_map(hv, c, m, &out.map);
			rlen = sizeof(out.map);
			break;
		}
		case SV_CTL_GNT_UNMAP: {
			const struct sv_ctl_gnt_unmap *u = in;

			if (!u->count || u->count > SV_GNT_MAX_BATCH) {
				st = -EINVAL;
				break;
			}
			if (u->domid != FAKEHV_DOMID) {
				st = -ESRCH;
				break;
			}
			out.unmap.count = u->count;
			for (uint32_t i = 0; i < u->count; i++) {
				uint32_t h = u->handles[i];

				if (h < NR_HANDLES && hv->handles[h].owner == c)
					handle_put(hv, h);
				else
					out.unmap.status[i] = GNTST_bad_handle;
			}
			rlen = sizeof(out.unmap);
			break;
		}
		case SV_CTL_GNT_COPY:
			memcpy(&out.copy, in, sizeof(out.copy));
			if (!out.copy.count || out.copy.count > SV_GNT_MAX_COPY) {
				st = -EINVAL;
				break;
			}
			do_gnt_copy(hv, &out.copy);
			rlen = sizeof(out.copy);
			break;
		default:
			st = -ENOSYS;
		}
	}
	pthread_mutex_unlock(&hv->lock);
	if (q->flags & SV_CTL_F_NOREPLY) { /* a one-way unmap: done, nothing to send */
		hv->noreply++;
		if (st || (q->op == SV_CTL_GNT_UNMAP && out.unmap.status[0]))
			hv->noreply_errors++;
		pthread_cond_broadcast(&hv->cond);
		pthread_mutex_unlock(&hv->lock);
		return 0;
	}
	ret = send_reply(c, q, st, &out, rlen, fd);
	if (pfd[0] >= 0)
		close(pfd[0]);
	return ret;
}

/* Everything a connection held goes with it, as the real hypervisor promises. */
static void conn_release(struct conn *c)
{
	struct fakehv *hv = c->hv;

	pthread_mutex_lock(&hv->lock);
	for (uint32_t i = 1; i < FAKEHV_NR_PORTS; i++)
		if (hv->ports[i].state != PORT_FREE && hv->ports[i].owner == c)
			port_free(hv, i);
	for (uint32_t h = 0; h < NR_HANDLES; h++)
		if (hv->handles[h].owner == c)
			handle_put(hv, h);
	if (c->pipe_w >= 0)
		close(c->pipe_w);
	c->pipe_w = -1;
	c->done = true;
	pthread_cond_broadcast(&hv->cond);
	pthread_mutex_unlock(&hv->lock);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	void *in = malloc(SV_CTL_MAX_PAYLOAD);
	struct sv_ctl_hdr q;

	while (in && !io_full(c->fd, &q, sizeof(q), true)) {
		if (q.len > SV_CTL_MAX_PAYLOAD || (q.len && io_full(c->fd, in, q.len, true)))
			break;
		if (serve(c, &q, in))
			break;
	}
	free(in);
	conn_release(c);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct fakehv *hv = arg;

	for (;;) {
		int fd = accept4(hv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->hv = hv;
		c->fd = fd;
		c->pipe_w = -1;
		pthread_mutex_lock(&hv->lock);
		if (hv->stopping || pthread_create(&c->thread, NULL, conn_main, c)) {
			pthread_mutex_unlock(&hv->lock);
			close(fd);
			free(c);
			continue;
		}
		c->next = hv->conns;
		hv->conns = c;
		pthread_mutex_unlock(&hv->lock);
	}
}

struct fakehv *fakehv_start(const char *rundir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fakehv *hv = calloc(1, sizeof(*hv));

	if (!hv)
		return NULL;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", rundir, SV_CTL_SOCKET);
	unlink(sa.sun_path);
	pthread_mutex_init(&hv->lock, NULL);
	pthread_cond_init(&hv->cond, NULL);
	hv->memfd = memfd_create("fakehv-guest", MFD_CLOEXEC);
	hv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (hv->memfd < 0 || ftruncate(hv->memfd, FAKEHV_PAGES * 4096) || hv->listen_fd < 0 ||
	    bind(hv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(hv->listen_fd, 16) ||
	    pthread_create(&hv->accept_thread, NULL, accept_main, hv)) {
		int e = errno;

		if (hv->memfd >= 0)
			close(hv->memfd);
		if (hv->listen_fd >= 0)
			close(hv->listen_fd);
		free(hv);
		errno = e;
		return NULL;
	}
	return hv;
}

void fakehv_stop(struct fakehv *hv)
{
	struct conn *c, *next;

	pthread_mutex_lock(&hv->lock);
	hv->stopping = true;
	pthread_mutex_unlock(&hv->lock);
	shutdown(hv->listen_fd, SHUT_RDWR);
	pthread_join(hv->accept_thread, NULL);
	close(hv->listen_fd);
	/* Cut every connection: clients see EOF (EPIPE), their pipes see EOF too. */
	for (c = hv->conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	for (c = hv->conns; c; c = next) {
		next = c->next;
		pthread_join(c->thread, NULL);
		close(c->fd);
		free(c);
	}
	close(hv->memfd);
	pthread_cond_destroy(&hv->cond);
	pthread_mutex_destroy(&hv->lock);
	free(hv);
}

struct fakehv *fakehv_start_private(char *rundir)
{
	if (!mkdtemp(rundir))
		return NULL;
	if (setenv("SPLITVISOR_RUNDIR", rundir, 1) < 0) {
		rmdir(rundir);
		return NULL;
	}
	return fakehv_start(rundir);
}

void fakehv_stop_private(struct fakehv *hv, const char *rundir)
{
	char path[PATH_MAX];

	if (hv)
		fakehv_stop(hv);
	snprintf(path, sizeof(path), "%s/hypervisor.sock", rundir);
	unlink(path);
	rmdir(rundir);
}

int fakehv_memfd(struct fakehv *hv)
{
	return hv->memfd;
}

void fakehv_grant(struct fakehv *hv, uint32_t ref, uint32_t frame, bool readonly)
{
	pthread_mutex_lock(&hv->lock);
	hv->grefs[ref] = (struct gref){ .valid = true, .readonly = readonly, .frame = frame };
	pthread_mutex_unlock(&hv->lock);
}

unsigned fakehv_ref_maps(struct fakehv *hv, uint32_t ref)
{
	unsigned n;

	pthread_mutex_lock(&hv->lock);
	n = hv->grefs[ref].maps;
	pthread_mutex_unlock(&hv->lock);
	return n;
}

unsigned fakehv_live_handles(struct fakehv *hv)
{
	unsigned n = 0;

	pthread_mutex_lock(&hv->lock);
	for (uint32_t h = 0; h < NR_HANDLES; h++)
		n += hv->handles[h].owner != NULL;
	pthread_mutex_unlock(&hv->lock);
	return n;
}

void fakehv_fire_virq(struct fakehv *hv, uint32_t virq)
{
	pthread_mutex_lock(&hv->lock);
	for (uint32_t i = 1; i < FAKEHV_NR_PORTS; i++)
		if (hv->ports[i].state == PORT_VIRQ && hv->ports[i].virq == virq)
			deliver(hv, i);
	pthread_mutex_unlock(&hv->lock);
}

unsigned fakehv_noreply_count(struct fakehv *hv)
{
	unsigned n;

	pthread_mutex_lock(&hv->lock);
	n = hv->noreply;
	pthread_mutex_unlock(&hv->lock);
	return n;
}

unsigned fakehv_noreply_errors(struct fakehv *hv)
{
	unsigned n;

	pthread_mutex_lock(&hv->lock);
	n = hv->noreply_errors;
	pthread_mutex_unlock(&hv->lock);
	return n;
}

void fakehv_set_bad_offsets(struct fakehv *hv, bool on)
{
	pthread_mutex_lock(&hv->lock);
	hv->bad_offsets = on;
	pthread_mutex_unlock(&hv->lock);
}

void fakehv_set_eagain(struct fakehv *hv, unsigned n)
{
	pthread_mutex_lock(&hv->lock);
	hv->eagain_left = n;
	pthread_mutex_unlock(&hv->lock);
}

bool fakehv_wait_noreply(struct fakehv *hv, unsigned n, int timeout_ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&hv->lock);
	while (hv->noreply < n)
		if (pthread_cond_timedwait(&hv->cond, &hv->lock, &ts))
			break;
	ok = hv->noreply >= n;
	pthread_mutex_unlock(&hv->lock);
	return ok;
}
