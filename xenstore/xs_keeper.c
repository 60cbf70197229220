// SPDX-License-Identifier: MIT
// The fd keeper: a tiny helper process that holds the listening and client sockets (and client
// buffers) so they outlive a crashed xenstored.
//
// xenstored forks the keeper once; it listens on DIR/xenstored.keeper. The
// daemon sends it a duplicate of every socket it opens (SCM_RIGHTS), with
// the memfd holding that connection's buffers, and a DEL when one closes. If the daemon dies
// without saying BYE, the keeper keeps every socket open, so clients see no hang-up and connections
// still queue on the listening socket; the next daemon connects, receives every socket back and
// restores each connection's identity and watches from the state file. With no new daemon after
// XS_KEEPER_GRACE seconds the keeper exits, closing everything.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xs_keeper.h"

#define XS_KEEPER_GRACE 10

enum { XK_ADD = 1, XK_DEL, XK_BYE, XK_GIVE, XK_END };

struct xk_msg {
	uint32_t op;
	uint32_t readonly;
	uint64_t key;
};

/* Sends @m with @fd and @fd2 (each -1 for none; fd2 only with fd). */
static int xk_send(int s, const struct xk_msg *m, int fd, int fd2)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { (void *)m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[2] = { fd, fd2 }, nfd = fd < 0 ? 0 : fd2 < 0 ? 1 : 2;
	ssize_t n;

	if (nfd) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfd * sizeof(int));
	}
	do {
		n = sendmsg(s, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == sizeof(*m) ? 0 : -EIO;
}

/* Receives one message; fd[0], fd[1] are the passed fds or -1. */
static int xk_recv(int s, struct xk_msg *m, int fd[2])
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	fd[0] = fd[1] = -1;
	do {
		n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	} while (n < 0 && errno == EINTR);
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t nfd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(sizeof(int)))
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fd, CMSG_DATA(cm), (nfd > 2 ? 2 : nfd) * sizeof(int));
	}
	if (n != sizeof(*m)) {
		if (fd[0] >= 0)
			close(fd[0]);
		if (fd[1] >= 0)
			close(fd[1]);
		fd[0] = fd[1] = -1;
		return n == 0 ? -EPIPE : -EIO;
	}
	return 0;
}

static void xk_close_kept(struct xs_kept_fd *k)
{
	close(k->fd);
	if (k->cbuf_fd >= 0)
		close(k->cbuf_fd);
}

/* The keeper process: never returns. */
static void xk_run(int lfd)
{
	struct xs_kept_fd *tab = NULL;
	unsigned int n = 0, cap = 0, i;
	int dfd = -1, null;
	time_t orphan_since = time(NULL); /* the first daemon connects soon */
	sigset_t none;

	prctl(PR_SET_NAME, "xenstored-keep", 0, 0, 0);
	/* The daemon blocks its signals for signalfd: undo that here. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Hold no one's pipes open: a supervisor may be reading our stdout. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	for (;;) {
		struct pollfd pf[2] = { { lfd, POLLIN, 0 }, { dfd, POLLIN, 0 } };
		int r = poll(pf, dfd >= 0 ? 2 : 1, 1000);

		if (r < 0 && errno != EINTR)
			_exit(1);
		if (dfd < 0 && time(NULL) - orphan_since > XS_KEEPER_GRACE)
			_exit(0); /* no daemon came back */
		if (r > 0 && (pf[0].revents & POLLIN)) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			struct xk_msg m = { .op = XK_END };

			if (c >= 0) {
				if (dfd >= 0)
					close(dfd); /* the old daemon is gone */
				dfd = c;
				for (i = 0; i < n; i++) {
					struct xk_msg g = { XK_GIVE, tab[i].readonly, tab[i].key };

					xk_send(dfd, &g, tab[i].fd, tab[i].cbuf_fd);
				}
				xk_send(dfd, &m, -1, -1);
				continue;
			}
		}
		if (dfd >= 0 && r > 0 && pf[1].revents) {
			struct xk_msg m;
			int fd[2];

			if (xk_recv(dfd, &m, fd)) {
				close(dfd);
				dfd = -1;
				orphan_since = time(NULL);
				continue;
			}
			if (m.op == XK_BYE)
				_exit(0);
			if (m.op == XK_DEL || m.op == XK_ADD) {
				for (i = 0; i < n; i++) {
					if (tab[i].key == m.key) {
						xk_close_kept(&tab[i]);
						tab[i] = tab[--n];
						break;
					}
				}
			}
			if (m.op == XK_ADD && fd[0] >= 0) {
				if (n == cap) {
					struct xs_kept_fd *t;

					cap = cap ? cap * 2 : 64;
					t = realloc(tab, cap * sizeof(*t));
					if (!t)
						_exit(1);
					tab = t;
				}
				tab[n++] =
				    (struct xs_kept_fd){ m.key, fd[0], fd[1], m.readonly != 0 };
				fd[0] = fd[1] = -1;
			}
			if (fd[0] >= 0)
				close(fd[0]);
			if (fd[1] >= 0)
				close(fd[1]);
		}
	}
}

static int xk_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		close(s);
		return -e;
	}
	return s;
}

/* Forks a keeper listening on @path. */
static int xk_spawn(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, fd;
	pid_t pid;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4)) {
		int e = errno;

		close(lfd);
		return -e;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(lfd);
		return -e;
	}
	if (pid == 0) {
		/*
		 * Own process group: a supervisor that kills what a crashed
		 * daemon left in its group must not take the keeper too.
		 */
		setpgid(0, 0);
		/* Keep only the listening socket (and stderr). */
		for (fd = 3; fd < 1024; fd++)
			if (fd != lfd)
				close(fd);
		xk_run(lfd);
	}
	close(lfd);
	return 0;
}

int xs_keeper_open(struct xs_keeper *k, const char *rundir)
{
	char path[4096];
	int s, ret;

	k->fd = -1;
	k->kept = NULL;
	k->nkept = 0;
	snprintf(path, sizeof(path), "%s/xenstored.keeper", rundir);
	snprintf(k->path, sizeof(k->path), "%s", path);
	s = xk_connect(path);
	if (s < 0) {
		ret = xk_spawn(path);
		if (ret)
			return ret;
		s = xk_connect(path);
		if (s < 0)
			return s;
	}
	/* Whatever a previous daemon left, then END. */
	for (;;) {
		struct xk_msg m;
		int fd[2];

		ret = xk_recv(s, &m, fd);
		if (ret)
			goto out_close;
		if (m.op == XK_END)
			break;
		if (m.op != XK_GIVE || fd[0] < 0) {
			if (fd[0] >= 0)
				close(fd[0]);
			if (fd[1] >= 0)
				close(fd[1]);
			continue;
		}
		if (k->nkept % 64 == 0) {
			struct xs_kept_fd *t = realloc(k->kept, (k->nkept + 64) * sizeof(*t));

			if (!t) {
				close(fd[0]);
				if (fd[1] >= 0)
					close(fd[1]);
				ret = -ENOMEM;
				goto out_close;
			}
			k->kept = t;
		}
		k->kept[k->nkept++] = (struct xs_kept_fd){ m.key, fd[0], fd[1], m.readonly != 0 };
	}
	k->fd = s;
	return 0;

out_close:
	close(s);
	return ret;
}

int xs_keeper_add(struct xs_keeper *k, uint64_t key, int fd, int cbuf_fd, bool readonly)
{
	struct xk_msg m = { XK_ADD, readonly, key };

	if (k->fd < 0)
		return 0;
	return xk_send(k->fd, &m, fd, cbuf_fd);
}

void xs_keeper_del(struct xs_keeper *k, uint64_t key)
{
	struct xk_msg m = { XK_DEL, 0, key };

	if (k->fd >= 0)
		xk_send(k->fd, &m, -1, -1);
}

void xs_keeper_bye(struct xs_keeper *k)
{
	struct xk_msg m = { XK_BYE, 0, 0 };

	if (k->fd < 0)
		return;
	xk_send(k->fd, &m, -1, -1);
	close(k->fd);
	k->fd = -1;
	unlink(k->path);
}
