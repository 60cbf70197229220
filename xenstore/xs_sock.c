// SPDX-License-Identifier: MIT
// The UNIX socket transport: listening sockets (read-write and read-only) and the socket side of struct xs_transport_ops.
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

static bool xs_sock_ready(struct xs_conn *c)
{
	return true; /* epoll tells us */
}

static void xs_sock_close(struct xs_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->d->epfd >= 0)
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

/* Registers a connected socket with epoll. */
static struct xs_conn *xs_sock_conn(struct xs_daemon *d, int fd, bool readonly)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct xs_conn *c;

	/* Socket clients are dom0 tools; the read-only socket can't write. */
	c = xs_conn_new(d, &xs_sock_ops, NULL, fd, 0, readonly);
	if (!c) {
		close(fd);
		return NULL;
	}
	ev.data.ptr = c;
	if (d->epfd >= 0) {
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			xs_conn_free(c);
			return NULL;
		}
		c->ep_events = EPOLLIN;
	}
	return c;
}

struct xs_conn *xs_sock_accept(struct xs_daemon *d, int lfd, bool readonly)
{
	struct xs_conn *c;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	c = xs_sock_conn(d, fd, readonly);
	if (c && d->keeper &&
	    xs_keeper_add(d->keeper, c->key, fd, readonly) == 0) {
		c->persistent = true;
		xs_persist_conn(d, c);
	}
	return c;
}

struct xs_conn *xs_sock_adopt(struct xs_daemon *d, int fd, uint64_t key,
			      bool readonly)
{
	struct xs_conn *c;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK)) {
		close(fd);
		return NULL;
	}
	c = xs_sock_conn(d, fd, readonly);
	if (!c)
		return NULL;
	c->key = key;
	c->persistent = true;
	if (xs_persist_restore_conn(d, c)) {
		/* Accepted just before the crash: a fresh dom0 client. */
		xs_persist_conn(d, c);
	}
	xs_log(d, "connection %llu restored (domain %u, %u watches)",
	       (unsigned long long)key, c->domid, c->nwatches);
	return c;
}
