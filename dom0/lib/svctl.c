// SPDX-License-Identifier: MIT
/* Client side of the hypervisor control socket: framing, fd passing and one wrapper per op. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "sv/daemon.h"
#include "sv/svctl.h"

struct svctl {
	int fd;
	uint32_t seq;
};

const char *svctl_rundir(void)
{
	const char *r = getenv("SPLITVISOR_RUNDIR");

	return r && *r ? r : SV_RUNDIR_DEFAULT;
}

struct svctl *svctl_open(const char *rundir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct svctl *c;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", rundir, SV_CTL_SOCKET) >=
	    sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		errno = e;
		return NULL;
	}
	return c;
}

void svctl_close(struct svctl *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

int svctl_fd(const struct svctl *c)
{
	return c->fd;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
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

/* Read exactly len bytes; the first read may carry an fd. */
static int read_full(int fd, void *buf, size_t len, int *fd_out)
{
	uint8_t *p = buf;

	while (len) {
		union {
			struct cmsghdr c;
			char b[CMSG_SPACE(sizeof(int))];
		} cm;
		struct iovec iov = { p, len };
		struct msghdr msg = { .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = cm.b,
				      .msg_controllen = sizeof(cm.b) };
		ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
			if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
				int got;
				memcpy(&got, CMSG_DATA(h), sizeof(got));
				if (fd_out && *fd_out < 0)
					*fd_out = got;
				else
					close(got);
			}
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int svctl_call(struct svctl *c, uint32_t op, const void *req, uint32_t req_len, void *rep,
	       uint32_t rep_max, uint32_t *rep_len, int *fd_out)
{
	struct sv_ctl_hdr h = { .op = op, .len = req_len, .seq = ++c->seq };
	int fd = -1, ret;

	if (fd_out)
		*fd_out = -1;
	ret = write_full(c->fd, &h, sizeof(h));
	if (!ret && req_len)
		ret = write_full(c->fd, req, req_len);
	if (ret)
		return ret;
	ret = read_full(c->fd, &h, sizeof(h), &fd);
	if (ret)
		goto out_fd;
	if (h.len > SV_CTL_MAX_PAYLOAD || h.len > rep_max) {
		ret = -EPROTO; /* the stream can no longer be followed */
		goto out_fd;
	}
	if (h.len) {
		ret = read_full(c->fd, rep, h.len, &fd);
		if (ret)
			goto out_fd;
	}
	if (rep_len)
		*rep_len = h.len;
	if (h.status) {
		ret = h.status < 0 ? h.status : -EPROTO;
		goto out_fd;
	}
	if (fd_out) {
		*fd_out = fd;
		fd = -1;
	}
	ret = 0;
out_fd:
	if (fd >= 0)
		close(fd);
	return ret;
}

int svctl_send_noreply(struct svctl *c, uint32_t op, const void *req, uint32_t req_len)
{
	uint8_t buf[sizeof(struct sv_ctl_hdr) + 64];
	struct sv_ctl_hdr h = {
		.op = op, .len = req_len, .seq = ++c->seq, .flags = SV_CTL_F_NOREPLY
	};
	int ret;

	/* Small requests go out in one send, so concurrent writers under one lock stay cheap. */
	if (req_len <= sizeof(buf) - sizeof(h)) {
		memcpy(buf, &h, sizeof(h));
		if (req_len)
			memcpy(buf + sizeof(h), req, req_len);
		return write_full(c->fd, buf, sizeof(h) + req_len);
	}
	ret = write_full(c->fd, &h, sizeof(h));
	if (!ret)
		ret = write_full(c->fd, req, req_len);
	return ret;
}

/* A call whose reply must be exactly rep_len bytes (or empty on error). */
static int call_fixed(struct svctl *c, uint32_t op, const void *req, uint32_t req_len, void *rep,
		      uint32_t rep_len)
{
	uint32_t got = 0;
	int ret = svctl_call(c, op, req, req_len, rep, rep_len, &got, NULL);

	if (!ret && got != rep_len)
		return -EPROTO;
	return ret;
}

int svctl_host_info(struct svctl *c, struct sv_host_info *out)
{
	return call_fixed(c, SV_CTL_HOST_INFO, NULL, 0, out, sizeof(*out));
}

int svctl_domain_create(struct svctl *c, const struct sv_ctl_create *req, uint32_t *domid)
{
	struct sv_ctl_domid r;
	int ret = call_fixed(c, SV_CTL_DOMAIN_CREATE, req, sizeof(*req), &r, sizeof(r));

	if (!ret)
		*domid = r.domid;
	return ret;
}

int svctl_domain_memory(struct svctl *c, uint32_t domid, struct sv_ctl_memory *out, int *memfd)
{
	struct sv_ctl_domid q = { .domid = domid };
	uint32_t got = 0;
	int ret =
	    svctl_call(c, SV_CTL_DOMAIN_MEMORY, &q, sizeof(q), out, sizeof(*out), &got, memfd);

	if (!ret && (got != sizeof(*out) || *memfd < 0)) {
		if (*memfd >= 0)
			close(*memfd);
		*memfd = -1;
		return -EPROTO;
	}
	return ret;
}

int svctl_set_hypercall_page(struct svctl *c, uint32_t domid, uint64_t gpa)
{
	struct sv_ctl_hcall_page q = { .domid = domid, .gpa = gpa };

	return call_fixed(c, SV_CTL_DOMAIN_SET_HCALL_PAGE, &q, sizeof(q), NULL, 0);
}

int svctl_vcpu_set_context(struct svctl *c, uint32_t domid, uint32_t vcpu,
			   const struct vcpu_guest_context *ctx)
{
	struct sv_ctl_vcpu_context *q = calloc(1, sizeof(*q));
	int ret;

	if (!q)
		return -ENOMEM;
	q->domid = domid;
	q->vcpu = vcpu;
	q->ctx = *ctx;
	ret = call_fixed(c, SV_CTL_VCPU_SET_CONTEXT, q, sizeof(*q), NULL, 0);
	free(q);
	return ret;
}

static int domid_op(struct svctl *c, uint32_t op, uint32_t domid)
{
	struct sv_ctl_domid q = { .domid = domid };

	return call_fixed(c, op, &q, sizeof(q), NULL, 0);
}

int svctl_domain_unpause(struct svctl *c, uint32_t domid)
{
	return domid_op(c, SV_CTL_DOMAIN_UNPAUSE, domid);
}

int svctl_domain_pause(struct svctl *c, uint32_t domid)
{
	return domid_op(c, SV_CTL_DOMAIN_PAUSE, domid);
}

int svctl_domain_destroy(struct svctl *c, uint32_t domid)
{
	return domid_op(c, SV_CTL_DOMAIN_DESTROY, domid);
}

int svctl_domain_shutdown(struct svctl *c, uint32_t domid, uint32_t reason)
{
	struct sv_ctl_shutdown q = { .domid = domid, .reason = reason };

	return call_fixed(c, SV_CTL_DOMAIN_SHUTDOWN, &q, sizeof(q), NULL, 0);
}

int svctl_domain_resume(struct svctl *c, uint32_t domid, uint32_t flags)
{
	struct sv_ctl_resume q = { .domid = domid, .flags = flags };

	return call_fixed(c, SV_CTL_DOMAIN_RESUME, &q, sizeof(q), NULL, 0);
}

int svctl_domain_info(struct svctl *c, uint32_t domid, struct sv_dominfo *out)
{
	struct sv_ctl_domid q = { .domid = domid };

	return call_fixed(c, SV_CTL_DOMAIN_INFO, &q, sizeof(q), out, sizeof(*out));
}

int svctl_domain_list(struct svctl *c, uint32_t first_domid, struct sv_dominfo *out, unsigned max)
{
	struct sv_ctl_list q = { .first_domid = first_domid,
				 .max = max < SV_CTL_LIST_MAX ? max : SV_CTL_LIST_MAX };
	size_t sz = sizeof(struct sv_ctl_list_reply) + q.max * sizeof(struct sv_dominfo);
	struct sv_ctl_list_reply *r = malloc(sz);
	uint32_t got = 0;
	int ret;

	if (!r)
		return -ENOMEM;
	ret = svctl_call(c, SV_CTL_DOMAIN_LIST, &q, sizeof(q), r, (uint32_t)sz, &got, NULL);
	if (!ret) {
		if (got < sizeof(*r) || r->nr > q.max ||
		    got != sizeof(*r) + r->nr * sizeof(struct sv_dominfo)) {
			ret = -EPROTO;
		} else {
			memcpy(out, r->info, r->nr * sizeof(struct sv_dominfo));
			ret = (int)r->nr;
		}
	}
	free(r);
	return ret;
}

int svctl_domain_wait(struct svctl *c, uint32_t domid, uint32_t timeout_ms, struct sv_dominfo *out)
{
	struct sv_ctl_wait q = { .domid = domid, .timeout_ms = timeout_ms };

	return call_fixed(c, SV_CTL_DOMAIN_WAIT, &q, sizeof(q), out, sizeof(*out));
}

int svctl_console_read(struct svctl *c, uint32_t domid, uint64_t *offset, uint32_t timeout_ms,
		       char *buf, uint32_t max, uint32_t *len, int *gone)
{
	struct sv_ctl_console_read q = {
		.domid = domid, .timeout_ms = timeout_ms, .offset = *offset, .max = max
	};
	uint32_t cap = (uint32_t)sizeof(struct sv_ctl_console_data) + max, got = 0;
	struct sv_ctl_console_data *r = malloc(cap);
	int ret;

	if (!r)
		return -ENOMEM;
	ret = svctl_call(c, SV_CTL_CONSOLE_READ, &q, sizeof(q), r, cap, &got, NULL);
	if (!ret) {
		if (got < sizeof(*r) || r->len > max || got != sizeof(*r) + r->len) {
			ret = -EPROTO;
		} else {
			memcpy(buf, r->data, r->len);
			*len = r->len;
			*offset = r->next;
			*gone = !!(r->flags & SV_CONSOLE_F_GONE);
		}
	}
	free(r);
	return ret;
}

int svctl_domain_find(struct svctl *c, const char *name, uint32_t *domid)
{
	struct sv_ctl_find q;
	struct sv_ctl_domid r;
	int ret;

	memset(&q, 0, sizeof(q));
	if (strlen(name) >= sizeof(q.name))
		return -ESRCH;
	strcpy(q.name, name);
	ret = call_fixed(c, SV_CTL_DOMAIN_FIND, &q, sizeof(q), &r, sizeof(r));
	if (!ret)
		*domid = r.domid;
	return ret;
}

int svctl_domain_set_maxmem(struct svctl *c, uint32_t domid, uint64_t max_kb)
{
	struct sv_ctl_maxmem q = { .domid = domid, .max_kb = max_kb };

	return call_fixed(c, SV_CTL_DOMAIN_SET_MAXMEM, &q, sizeof(q), NULL, 0);
}
