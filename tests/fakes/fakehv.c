// SPDX-License-Identifier: MIT
/* The fake hypervisor's control-socket front door: real libsvxen (and backends on it) talk to it.
 * The fake's state and semantics are fakexen_core.c's. */
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
#include "fakexen_core.h"
#include "sv/ctl.h"

/*
 * Memory of FAKEHV_DOMID: 16 memfd pages; RAM range 0 is gfn 0..7 at memfd
 * page 0, range 1 is gfn 0x100..0x107 at memfd page 8, so gfn translation
 * through both ranges is exercised.  Grant frames name memfd pages.  The
 * semantics of grants and ports are fakexen_core.c's; this file is the
 * control-socket front door.
 */
#define NR_HANDLES 1024

struct conn {
	struct fakexen_owner owner; /* first: the core hands it back */
	struct fakehv *hv;
	int fd;
	int pipe_w; /* after EVTCHN_OPEN */
	pthread_t thread;
	bool done;
	struct conn *next;
};

struct fakehv {
	pthread_mutex_t lock; /* the door's own state: connections, counters */
	pthread_cond_t cond;
	int listen_fd;
	pthread_t accept_thread;
	struct fakexen *x;
	struct conn *conns;
	unsigned noreply, noreply_errors;
	bool stopping;
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

/* The core's delivery: the port goes down the connection's event pipe. */
static bool conn_deliver(struct fakexen_owner *o, uint32_t port)
{
	struct conn *c = (struct conn *)o;

	return c->pipe_w >= 0 && write(c->pipe_w, &port, sizeof(port)) == sizeof(port);
}

static void do_gnt_map(struct fakehv *hv, struct conn *c, const struct sv_ctl_gnt_map *q,
		       struct sv_ctl_gnt_map_reply *r)
{
	r->count = q->count;
	for (uint32_t i = 0; i < q->count; i++) {
		struct sv_gnt_mapping *m = &r->map[i];

		m->status = (int16_t)fakexen_gnt_map(hv->x, &c->owner, q->domid, q->refs[i],
						     q->readonly, &m->handle, &m->offset);
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

/* A one-way NOTIFY or UNMASK: 0, or -EINVAL for a bad port or op. */
static int do_oneway(struct fakehv *hv, struct conn *c, uint32_t op, uint32_t port)
{
	if (op == SV_CTL_EVTCHN_NOTIFY)
		return fakexen_evtchn_notify(hv->x, &c->owner, port);
	if (op == SV_CTL_EVTCHN_UNMASK)
		return fakexen_evtchn_unmask(hv->x, &c->owner, port);
	return -EINVAL;
}

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
	if (q->op >= SV_CTL_OP_MAX || !q->op || (q->op != SV_CTL_EVTCHN_OPEN && !req_size[q->op]) ||
	    q->len != req_size[q->op]) {
		st = q->op < SV_CTL_OP_MAX ? -EINVAL : -ENOSYS;
	} else if (q->flags & SV_CTL_F_NOREPLY) { /* only NOTIFY and UNMASK are sent one-way */
		uint32_t port = ((struct sv_ctl_evtchn_port *)in)->port;
		bool bad = do_oneway(hv, c, q->op, port) != 0;

		pthread_mutex_lock(&hv->lock);
		hv->noreply++;
		hv->noreply_errors += bad;
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
			fd = fakexen_memfd(hv->x);
			break;
		case SV_CTL_EVTCHN_OPEN:
			pthread_mutex_lock(&hv->lock);
			if (c->pipe_w >= 0 || pipe2(pfd, O_CLOEXEC))
				st = -EBUSY;
			else
				c->pipe_w = pfd[1];
			pthread_mutex_unlock(&hv->lock);
			fd = pfd[0];
			break;
		case SV_CTL_EVTCHN_BIND_INTERDOMAIN:
		case SV_CTL_EVTCHN_BIND_UNBOUND:
		case SV_CTL_EVTCHN_BIND_VIRQ:
			if (c->pipe_w < 0) {
				st = -EBADF;
				break;
			}
			ret = fakexen_evtchn_bind(hv->x, &c->owner, q->op, in, 0);
			st = ret < 0 ? ret : 0;
			out.port.port = ret < 0 ? 0 : (uint32_t)ret;
			rlen = sizeof(out.port);
			break;
		case SV_CTL_EVTCHN_UNBIND:
			st = fakexen_evtchn_unbind(hv->x, &c->owner,
						   ((struct sv_ctl_evtchn_port *)in)->port);
			break;
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
			for (uint32_t i = 0; i < u->count; i++)
				out.unmap.status[i] =
				    (int16_t)fakexen_gnt_unmap(hv->x, &c->owner, u->handles[i]);
			rlen = sizeof(out.unmap);
			break;
		}
		case SV_CTL_GNT_COPY:
			memcpy(&out.copy, in, sizeof(out.copy));
			if (!out.copy.count || out.copy.count > SV_GNT_MAX_COPY) {
				st = -EINVAL;
				break;
			}
			for (uint32_t i = 0; i < out.copy.count; i++)
				fakexen_gnt_copy(hv->x, &out.copy.seg[i]);
			rlen = sizeof(out.copy);
			break;
		default:
			st = -ENOSYS;
		}
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

	fakexen_release(hv->x, &c->owner);
	pthread_mutex_lock(&hv->lock);
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
		c->owner.deliver = conn_deliver;
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
	hv->x = fakexen_new(&(struct fakexen_params){ .domid = FAKEHV_DOMID,
						      .pages = FAKEHV_PAGES,
						      .nr_grefs = FAKEHV_NR_GREFS,
						      .nr_ports = FAKEHV_NR_PORTS,
						      .nr_handles = NR_HANDLES });
	hv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!hv->x || hv->listen_fd < 0 ||
	    bind(hv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(hv->listen_fd, 16) ||
	    pthread_create(&hv->accept_thread, NULL, accept_main, hv)) {
		int e = errno;

		fakexen_free(hv->x);
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
	fakexen_free(hv->x);
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
	return fakexen_memfd(hv->x);
}

void fakehv_grant(struct fakehv *hv, uint32_t ref, uint32_t frame, bool readonly)
{
	fakexen_grant(hv->x, ref, frame, readonly);
}

unsigned fakehv_ref_maps(struct fakehv *hv, uint32_t ref)
{
	return fakexen_ref_maps(hv->x, ref);
}

unsigned fakehv_live_handles(struct fakehv *hv)
{
	return fakexen_live_handles(hv->x);
}

void fakehv_fire_virq(struct fakehv *hv, uint32_t virq)
{
	fakexen_fire_virq(hv->x, virq);
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
	fakexen_set_bad_offsets(hv->x, on);
}

void fakehv_set_eagain(struct fakehv *hv, unsigned n)
{
	fakexen_set_eagain(hv->x, n);
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
