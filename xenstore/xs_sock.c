// SPDX-License-Identifier: MIT
// The UNIX socket transport: listening sockets (read-write and read-only) and the socket side of
// struct xs_transport_ops.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "xs_keeper.h"
#include "xs_sock.h"
#include "xs_uring.h"

static ssize_t xs_sock_read(struct xs_conn *c, void *buf, size_t len)
{
	ssize_t n = recv(c->fd, buf, len, 0);

	if (n > 0)
		return n;
	if (n == 0)
		return -EPIPE;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return errno == ECONNRESET ? -EPIPE : -errno;
}

static ssize_t xs_sock_write(struct xs_conn *c, const void *buf, size_t len)
{
	ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return (errno == EPIPE || errno == ECONNRESET) ? -EPIPE : -errno;
}

/*
 * recvmmsg/sendmmsg of one message: the kernel stores the byte count in
 * io->mh.msg_len (shared memory) before returning, so a kill right after
 * the call cannot lose received requests or send replies twice.
 */
static ssize_t xs_sock_recvmm(struct xs_conn *c, struct xs_cbuf_io *io)
{
	int n = recvmmsg(c->fd, &io->mh, 1, MSG_DONTWAIT, NULL);

	if (n == 1)
		return io->mh.msg_len ? (ssize_t)io->mh.msg_len : -EPIPE;
	if (n == 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return errno == ECONNRESET ? -EPIPE : -errno;
}

static ssize_t xs_sock_sendmm(struct xs_conn *c, struct xs_cbuf_io *io)
{
	int n = sendmmsg(c->fd, &io->mh, 1, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n == 1)
		return (ssize_t)io->mh.msg_len;
	if (n == 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return (errno == EPIPE || errno == ECONNRESET) ? -EPIPE : -errno;
}

static bool xs_sock_ready(struct xs_conn *c)
{
	return true; /* epoll tells us */
}

static void xs_sock_close(struct xs_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->uring)
		xs_uring_detach(c);
	else if (c->d->epfd >= 0)
		epoll_ctl(c->d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

const struct xs_transport_ops xs_sock_ops = {
	.name = "socket",
	.read = xs_sock_read,
	.write = xs_sock_write,
	.can_read = xs_sock_ready,
	.can_write = xs_sock_ready,
	.close = xs_sock_close,
	.recvmm = xs_sock_recvmm,
	.sendmm = xs_sock_sendmm,
};

int xs_sock_listen(const char *path, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (unlink(path) && errno != ENOENT)
		goto out_close;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto out_close;
	if (chmod(path, mode))
		goto out_unlink;
	if (listen(fd, 256))
		goto out_unlink;
	return fd;

out_unlink:
	err = errno;
	unlink(path);
	errno = err;
out_close:
	err = errno;
	close(fd);
	return -err;
}

/* Registers a connected socket over buffers @cb with epoll. */
static struct xs_conn *xs_sock_conn(struct xs_daemon *d, int fd, bool readonly, struct xs_cbuf *cb)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct xs_conn *c;

	/* Socket clients are dom0 tools; the read-only socket can't write. */
	c = xs_conn_new_cbuf(d, &xs_sock_ops, NULL, fd, 0, readonly, cb);
	if (!c) {
		xs_cbuf_free(cb);
		close(fd);
		return NULL;
	}
	ev.data.ptr = c;
	if (xs_uring_attach(c))
		return c;
	if (d->epfd >= 0) {
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			xs_conn_free(c);
			return NULL;
		}
		c->ep_events = EPOLLIN;
	}
	return c;
}

/*
 * A new client. With a keeper its buffers go in a memfd the keeper holds
 * beside the socket, so a restart can answer what it had sent.
 */
struct xs_conn *xs_sock_accept(struct xs_daemon *d, int lfd, bool readonly)
{
	struct xs_cbuf cb;
	struct xs_conn *c;
	uint64_t key;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	key = d->next_conn_key + 1;
	if (!d->keeper || xs_cbuf_init_shared(&cb, key)) {
		if (xs_cbuf_init_heap(&cb)) {
			close(fd);
			return NULL;
		}
	}
	c = xs_sock_conn(d, fd, readonly, &cb);
	if (!c)
		return NULL;
	if (d->keeper && c->cb.memfd >= 0 &&
	    xs_keeper_add(d->keeper, c->key, fd, c->cb.memfd, readonly) == 0) {
		c->persistent = true;
		xs_persist_conn(d, c);
	}
	return c;
}

struct xs_conn *xs_sock_adopt(struct xs_daemon *d, int fd, int cbuf_fd, uint64_t key, bool readonly)
{
	struct xs_cbuf cb = { .memfd = -1 };
	uint64_t max_pass = 0;
	struct xs_conn *c;
	bool recovered = false;
	int fl = fcntl(fd, F_GETFL), ret;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK)) {
		close(fd);
		if (cbuf_fd >= 0)
			close(cbuf_fd);
		return NULL;
	}
	ret = cbuf_fd >= 0
		  ? xs_cbuf_recover(&cb, cbuf_fd, key, xs_persist_loaded_pass(d), &max_pass)
		  : -ENOENT;
	if (ret == 0) {
		recovered = true;
		if (max_pass > d->pass)
			d->pass = max_pass;
	} else {
		if (cbuf_fd >= 0) {
			xs_log(d, "connection %llu: buffers unusable (%s): in-flight requests lost",
			       (unsigned long long)key, strerror(-ret));
			close(cbuf_fd);
		}
		if (xs_cbuf_init_shared(&cb, key) && xs_cbuf_init_heap(&cb)) {
			close(fd);
			return NULL;
		}
	}
	c = xs_sock_conn(d, fd, readonly, &cb);
	if (!c)
		return NULL;
	c->key = key;
	c->persistent = true;
	/* The keeper gets the (possibly new) buffers under the same key. */
	if (!recovered && d->keeper && c->cb.memfd >= 0)
		xs_keeper_add(d->keeper, key, fd, c->cb.memfd, readonly);
	if (xs_persist_restore_conn(d, c)) {
		/* Accepted just before the crash: a fresh dom0 client. */
		xs_persist_conn(d, c);
	}
	xs_log(d,
	       "connection %llu restored (domain %u, %u watches, %llu bytes of replies and %llu of "
	       "requests pending)",
	       (unsigned long long)key, c->domid, c->nwatches,
	       (unsigned long long)xs_conn_unsent(c), (unsigned long long)xs_cbuf_in_avail(&c->cb));
	/* Requests the crash left unanswered: handled again now. */
	xs_conn_handle_input(c);
	return c;
}
