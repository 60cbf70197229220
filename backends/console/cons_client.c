// SPDX-License-Identifier: MIT
// Connections on xenconsoled.sock: the attach request, then bytes both ways.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cons_daemon.h"

/* Most clients one daemon serves at once; more are refused at accept. */
#define CONS_MAX_CLIENTS 1024
/* Bytes a refused client may still send before we close on it. */
#define CONS_DRAIN_MAX (64 * 1024)

static size_t cons_client_count(struct cons_daemon *d)
{
	struct sv_list *pos, *tmp;
	size_t n = 0;

	sv_list_for_each_safe(pos, tmp, &d->pending) n++;
	sv_list_for_each_safe(pos, tmp, &d->domains)
	{
		struct cons_domain *dom = sv_container_of(pos, struct cons_domain, link);
		struct sv_list *p2, *t2;

		sv_list_for_each_safe(p2, t2, &dom->clients) n++;
	}
	return n;
}

static void cons_client_update_events(struct cons_client *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = &c->ep };

	if (c->dead || c->events == events)
		return;
	if (epoll_ctl(c->d->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		cons_log("client fd %d: epoll: %m", c->fd);
		cons_client_kill(c);
		return;
	}
	c->events = events;
}

void cons_client_set_reading(struct cons_client *c, bool on)
{
	if (on && (c->eof || c->close_after_flush))
		return;
	uint32_t ev = c->events & ~(uint32_t)EPOLLIN;

	cons_client_update_events(c, on ? ev | EPOLLIN : ev);
}

static void cons_client_set_writing(struct cons_client *c, bool on)
{
	uint32_t ev = c->events & ~(uint32_t)EPOLLOUT;

	cons_client_update_events(c, on ? ev | EPOLLOUT : ev);
}

/* Close now; the memory goes at the end of the loop pass (epoll may still
 * hold an event that points at it). */
void cons_client_kill(struct cons_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	/* Best effort: closing the fd removes it from epoll anyway. */
	(void)epoll_ctl(c->d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	sv_list_del(&c->link);
	sv_list_add_tail(&c->d->dead, &c->link);
	c->dom = NULL;
}

void cons_client_reap(struct cons_daemon *d)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->dead)
	{
		struct cons_client *c = sv_container_of(pos, struct cons_client, link);

		sv_list_del(&c->link);
		cons_buf_fini(&c->out);
		free(c);
	}
}

/* Write what is queued; EPOLLOUT stays armed while bytes remain. */
static void cons_client_flush(struct cons_client *c)
{
	while (!c->dead && !cons_buf_empty(&c->out)) {
		size_t contig;
		const char *p = cons_buf_peek(&c->out, &contig);
		ssize_t n = send(c->fd, p, contig, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			cons_client_kill(c);
			return;
		}
		cons_buf_consume(&c->out, (size_t)n);
	}
	if (c->dead)
		return;
	if (cons_buf_empty(&c->out) && c->close_after_flush && !c->draining) {
		/*
		 * Closing with unread request bytes would reset the connection
		 * and could destroy the reply in flight: end our side, then
		 * discard what the client still sends (bounded) until it closes.
		 */
		if (shutdown(c->fd, SHUT_WR) < 0) {
			cons_client_kill(c);
			return;
		}
		c->draining = true;
		cons_client_update_events(c, EPOLLIN);
		return;
	}
	cons_client_set_writing(c, !cons_buf_empty(&c->out));
}

/*
 * Queue output for the client and try to send it.  A client that does not
 * read loses what does not fit in its queue; the guest never waits for it.
 */
void cons_client_send(struct cons_client *c, const char *buf, size_t len)
{
	size_t took;

	if (c->dead)
		return;
	took = cons_buf_push(&c->out, buf, len);
	if (took < len) {
		if (c->dropped == 0)
			cons_log("client fd %d: not reading; dropping console output", c->fd);
		c->dropped += len - took;
	}
	cons_client_flush(c);
}

/* Reply "error MSG" and close once it is sent. */
static void cons_client_refuse(struct cons_client *c, const char *msg)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "error %s\n", msg);

	c->close_after_flush = true;
	cons_client_set_reading(c, false);
	cons_client_send(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void cons_client_queue_input(struct cons_client *c, const char *buf, size_t len)
{
	struct cons_domain *dom = c->dom;
	size_t took;

	if (!dom || !len)
		return;
	took = cons_buf_push(&dom->input, buf, len);
	/* The caller read no more than the space, so nothing is lost. */
	(void)took;
	cons_domain_input_ready(dom);
}

static void cons_client_attach(struct cons_client *c, uint32_t domid, const char *rest,
			       size_t rest_len)
{
	struct cons_domain *dom = cons_domain_find(c->d, domid);
	char *hist;
	size_t hlen;

	if (!dom) {
		cons_client_refuse(c, "no such domain or it has no console");
		return;
	}
	if (dom->disabled) {
		cons_client_refuse(c, "console of this domain is disabled (rogue ring)");
		return;
	}
	if (!dom->intf) {
		cons_client_refuse(c, "console of this domain is not connected");
		return;
	}
	/* Bring the history up to date first (the guest may not have notified). */
	cons_domain_service(dom);
	if (!dom->intf) {
		cons_client_refuse(c, "console of this domain is disabled (rogue ring)");
		return;
	}
	sv_list_del(&c->link);
	sv_list_add_tail(&dom->clients, &c->link);
	c->dom = dom;
	cons_client_send(c, "ok\n", 3);
	hlen = cons_buf_len(&dom->history);
	if (hlen && !c->dead) {
		hist = malloc(hlen);
		if (hist) {
			cons_buf_copy_out(&dom->history, hist);
			cons_client_send(c, hist, hlen);
			free(hist);
		} else {
			cons_log("client fd %d: no memory for history", c->fd);
		}
	}
	if (!c->dead && rest_len) {
		if (rest_len > cons_buf_space(&dom->input))
			rest_len = cons_buf_space(&dom->input);
		cons_client_queue_input(c, rest, rest_len);
	}
}

/* Bytes of the request line; answer once it is complete. */
static void cons_client_read_request(struct cons_client *c)
{
	struct cons_proto_req req;
	const char *err = "bad request";
	size_t used = 0;
	ssize_t n;
	int ret;

	n = recv(c->fd, c->line + c->line_len, sizeof(c->line) - c->line_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		cons_client_kill(c);
		return;
	}
	c->line_len += (size_t)n;
	ret = cons_proto_parse(c->line, c->line_len, &req, &used, &err);
	if (ret == 0)
		return;
	if (ret < 0) {
		cons_client_refuse(c, err);
		return;
	}
	cons_client_attach(c, req.domid, c->line + used, c->line_len - used);
	c->line_len = 0;
}

/* Console input from an attached client, no more than the queue takes. */
static void cons_client_read_input(struct cons_client *c)
{
	struct cons_domain *dom = c->dom;
	char buf[CONS_INPUT_SIZE];
	size_t space = cons_buf_space(&dom->input);
	ssize_t n;

	if (space == 0) {
		/* Resumed by cons_domain_service once the guest takes some. */
		cons_client_set_reading(c, false);
		return;
	}
	if (space > sizeof(buf))
		space = sizeof(buf);
	n = recv(c->fd, buf, space, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		cons_client_kill(c);
		return;
	}
	if (n == 0) {
		/* Half-closed: no more input, but output still flows. */
		c->eof = true;
		cons_client_set_reading(c, false);
		return;
	}
	cons_client_queue_input(c, buf, (size_t)n);
}

/* After a refusal: read and drop up to CONS_DRAIN_MAX bytes, then close. */
static void cons_client_drain(struct cons_client *c)
{
	char buf[1024];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0 || (c->drained += (size_t)n) > CONS_DRAIN_MAX)
		cons_client_kill(c);
}

void cons_client_handle(struct cons_client *c, uint32_t events)
{
	if (c->dead)
		return;
	if (events & EPOLLOUT)
		cons_client_flush(c);
	if (c->dead)
		return;
	if ((events & EPOLLIN) && c->draining) {
		cons_client_drain(c);
		return;
	}
	if ((events & EPOLLIN) && !c->close_after_flush && !c->eof) {
		if (c->dom)
			cons_client_read_input(c);
		else
			cons_client_read_request(c);
	}
	/* The peer is gone both ways (or the socket failed): nothing to send to. */
	if (!c->dead && (events & (EPOLLHUP | EPOLLERR)))
		cons_client_kill(c);
}

/* Accept a bounded number of connections per wakeup. */
void cons_client_accept(struct cons_daemon *d)
{
	for (int i = 0; i < 32; i++) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct cons_client *c;
		int fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				cons_log("accept: %m");
			return;
		}
		if (cons_client_count(d) >= CONS_MAX_CLIENTS) {
			static const char msg[] = "error too many clients\n";

			if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				cons_log("refusing client: %m");
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c || cons_buf_init(&c->out, CONS_CLIENT_OUT_SIZE)) {
			cons_log("client: out of memory");
			free(c);
			close(fd);
			continue;
		}
		c->ep.kind = CONS_EP_CLIENT;
		c->d = d;
		c->fd = fd;
		c->events = EPOLLIN;
		ev.data.ptr = &c->ep;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			cons_log("client: epoll: %m");
			cons_buf_fini(&c->out);
			free(c);
			close(fd);
			continue;
		}
		sv_list_add_tail(&d->pending, &c->link);
	}
}
