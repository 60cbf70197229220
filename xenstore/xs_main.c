// SPDX-License-Identifier: MIT
// xenstored: command line, run directory files, and the single-threaded epoll loop.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sv/daemon.h"
#include "xenstored.h"
#include "xs_keeper.h"
#include "xs_ring.h"
#include "xs_sock.h"
#include "xs_uring.h"
#include "xs_xen.h"

/* Tags for the non-connection fds in epoll. */
static char xs_tag_rw, xs_tag_ro, xs_tag_sig, xs_tag_evtchn, xs_tag_timer;

struct xs_main {
	struct xs_daemon d;
	char sock_rw[4096], sock_ro[4096], pidfile[4096], logfile[4096], state[4096],
	    lockfile[4096];
	int lrw, lro, sigfd, lockfd;
	bool wrote_pid;
	struct xs_keeper keeper;
	bool quit;
};

static const char xs_usage[] = "usage: xenstored [--rundir DIR] [--foreground] [--verbose]\n"
			       "  Serves the Xen store on DIR/xenstored.sock (read-write) and\n"
			       "  DIR/xenstored_ro.sock (read-only); logs to DIR/xenstored.log,\n"
			       "  keeps state in DIR/xenstored.state, writes DIR/xenstored.pid.\n"
			       "  DIR defaults to $SPLITVISOR_RUNDIR or " SV_RUNDIR_DEFAULT ".\n"
			       "  Without --foreground it detaches once ready.\n";

static int xs_epoll_add(int ep, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int xs_write_pidfile(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

static void xs_accept_all(struct xs_main *m, int lfd, bool ro)
{
	/* Bounded, so one busy listener cannot starve the clients. */
	for (int i = 0; i < 64; i++)
		if (!xs_sock_accept(&m->d, lfd, ro))
			break;
}

/*
 * Replies leave after the journal is written, each connection's in one
 * gathered send straight from the loop (write interest is armed only if
 * the socket refuses some); stalled readers resume; rings get one kick.
 */
static void xs_end_of_pass(struct xs_main *m)
{
	struct sv_list *pos, *tmp;

	xs_persist_flush(&m->d);
	sv_list_for_each_safe(pos, tmp, &m->d.conns)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);
		int rounds = 0;

		while (!c->dead && rounds++ < 8) {
			if (c->want_out)
				xs_conn_flush(c);
			if (!c->throttled || c->want_out)
				break;
			xs_conn_handle_input(c);
			xs_persist_flush(&m->d);
		}
		if (!c->dead && c->ops->end_pass)
			c->ops->end_pass(c);
	}
	sv_list_for_each_safe(pos, tmp, &m->d.conns)
	{
		struct xs_conn *c = sv_container_of(pos, struct xs_conn, link);

		if (c->dead)
			xs_conn_free(c);
	}
}

static void xs_reopen_log(struct xs_main *m)
{
	FILE *f = fopen(m->logfile, "ae");

	if (!f) {
		xs_log(&m->d, "SIGHUP: cannot reopen %s: %m", m->logfile);
		return;
	}
	if (m->d.log)
		fclose(m->d.log);
	m->d.log = f;
	xs_log(&m->d, "log reopened");
}

/* Handles what epoll reported: listeners, signals, event channels, guest rings, sockets. */
static void xs_dispatch(struct xs_main *m, const struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		void *tag = evs[i].data.ptr;
		struct xs_conn *c;

		if (tag == &xs_tag_rw) {
			xs_accept_all(m, m->lrw, false);
		} else if (tag == &xs_tag_ro) {
			xs_accept_all(m, m->lro, true);
		} else if (tag == &xs_tag_timer) {
			xs_xen_tick(&m->d);
		} else if (tag == &xs_tag_evtchn) {
			if (xs_xen_events(&m->d) == -EPIPE) {
				/* Its fd stays readable at EOF: stop polling it. */
				epoll_ctl(m->d.epfd, EPOLL_CTL_DEL, xs_xen_fd(&m->d), NULL);
				if (xs_xen_timer_fd(&m->d) >= 0)
					epoll_ctl(m->d.epfd, EPOLL_CTL_DEL, xs_xen_timer_fd(&m->d),
						  NULL);
				xs_xen_close(&m->d);
			}
		} else if (tag == &xs_tag_sig) {
			struct signalfd_siginfo si;

			if (read(m->sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP)
				xs_reopen_log(m); /* after log rotation */
			else
				m->quit = true;
		} else {
			c = tag;
			if (c->dead)
				continue;
			/* Sent at the end of the pass, after the journal. */
			if (evs[i].events & EPOLLOUT)
				c->want_out = true;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				xs_conn_handle_input(c);
		}
	}
}

/*
 * With io_uring: one io_uring_enter per pass sends the replies, re-arms
 * the receives and waits; the epoll set is looked at only when its fd
 * (polled by the ring) is readable.
 */
static int xs_loop_uring(struct xs_main *m)
{
	struct epoll_event evs[64];

	xs_end_of_pass(m);
	while (!m->quit) {
		bool ep;
		int ret = xs_uring_wait(&m->d, &ep), n;

		if (ret < 0)
			return ret;
		if (ep) {
			n = epoll_wait(m->d.epfd, evs, 64, 0);
			if (n > 0)
				xs_dispatch(m, evs, n);
		}
		xs_end_of_pass(m);
	}
	return 0;
}

static int xs_loop(struct xs_main *m)
{
	struct epoll_event evs[64];

	if (m->d.uring)
		return xs_loop_uring(m);
	/* Restored connections may already have events queued. */
	xs_end_of_pass(m);
	while (!m->quit) {
		int n = epoll_wait(m->d.epfd, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		xs_dispatch(m, evs, n);
		xs_end_of_pass(m);
	}
	return 0;
}

/*
 * One listening socket: the one the keeper kept if its path still exists,
 * else a new one (a supervisor may have removed the path before the
 * restart). Clients already queued on an old socket are still accepted.
 */
static int xs_listener(struct xs_main *m, int *fd, const char *path, mode_t mode, uint64_t key,
		       bool ro)
{
	struct stat st;
	int old = *fd;

	if (old >= 0 && stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		return 0;
	*fd = xs_sock_listen(path, mode);
	if (*fd < 0) {
		int ret = *fd;

		*fd = old;
		return ret;
	}
	if (old >= 0) {
		xs_log(&m->d, "%s was removed: listening anew", path);
		xs_accept_all(m, old, ro);
		close(old);
	}
	xs_keeper_add(&m->keeper, key, *fd, -1, ro);
	return 0;
}

/*
 * Listening sockets and clients: handed back by the keeper after a crash
 * (clients keep their connections, and whoever connected meanwhile waits
 * in the backlog), else made fresh and given to the keeper.
 */
static int xs_setup_sockets(struct xs_main *m, const char *rundir)
{
	struct xs_keeper *k = &m->keeper;
	unsigned int i, restored = 0;
	int ret;

	ret = xs_keeper_open(k, rundir);
	if (ret)
		xs_log(&m->d, "no fd keeper (%s): connections will not survive a crash",
		       strerror(-ret));
	else
		m->d.keeper = k;
	/* Completions a killed daemon left unreaped, before any buffer is recovered. */
	for (i = 0; i < k->nkept; i++) {
		if (k->kept[i].key != XS_KEEPER_URING || k->kept[i].fd < 0)
			continue;
		xs_uring_recover(&m->d, k->kept[i].fd, k->kept, k->nkept);
		close(k->kept[i].fd);
		k->kept[i].fd = -1;
		if (k->kept[i].cbuf_fd >= 0)
			close(k->kept[i].cbuf_fd);
		k->kept[i].cbuf_fd = -1;
	}
	if (m->d.keeper) {
		/* This daemon's ring memory replaces it (or the old one goes). */
		if (xs_uring_memfd(&m->d) >= 0)
			xs_keeper_add(k, XS_KEEPER_URING, xs_uring_memfd(&m->d), -1, false);
		else
			xs_keeper_del(k, XS_KEEPER_URING);
	}
	for (i = 0; i < k->nkept; i++) {
		if (k->kept[i].key == XS_KEEPER_LISTEN_RW && m->lrw < 0)
			m->lrw = k->kept[i].fd;
		else if (k->kept[i].key == XS_KEEPER_LISTEN_RO && m->lro < 0)
			m->lro = k->kept[i].fd;
		else
			continue;
		k->kept[i].fd = -1;
		if (k->kept[i].cbuf_fd >= 0)
			close(k->kept[i].cbuf_fd);
	}
	ret = xs_listener(m, &m->lrw, m->sock_rw, 0600, XS_KEEPER_LISTEN_RW, false);
	if (!ret)
		ret = xs_listener(m, &m->lro, m->sock_ro, 0666, XS_KEEPER_LISTEN_RO, true);
	if (ret)
		return ret;
	for (i = 0; i < k->nkept; i++) {
		if (k->kept[i].fd < 0)
			continue;
		if (XS_IS_RING_KEY(k->kept[i].key)) {
			/* A guest ring's buffers: its domain attaches them (xs_xen.c). */
			struct xs_kept_ring *t =
			    realloc(m->d.kept_rings, (m->d.nkept_rings + 1) * sizeof(*t));

			if (!t) {
				close(k->kept[i].fd);
				continue;
			}
			m->d.kept_rings = t;
			t[m->d.nkept_rings++] =
			    (struct xs_kept_ring){ k->kept[i].key, k->kept[i].fd };
			continue;
		}
		if (k->kept[i].key >= m->d.next_conn_key)
			m->d.next_conn_key = k->kept[i].key;
		if (xs_sock_adopt(&m->d, k->kept[i].fd, k->kept[i].cbuf_fd, k->kept[i].key,
				  k->kept[i].readonly))
			restored++;
	}
	if (k->nkept)
		xs_log(&m->d, "restart: %u client connections restored", restored);
	free(k->kept);
	k->kept = NULL;
	k->nkept = 0;
	return 0;
}

/* Opens the hypervisor handles and polls its event channel fd. */
static int xs_ring_reopen(struct xs_daemon *d)
{
	int ret = xs_xen_open(d);

	if (ret) {
		xs_log(d, "no hypervisor (%s): guest rings unavailable, sockets only",
		       strerror(-ret));
		return ret;
	}
	if (xs_epoll_add(d->epfd, xs_xen_fd(d), &xs_tag_evtchn)) {
		xs_log(d, "cannot poll event channels: guest rings unavailable");
		xs_xen_close(d);
		return -EIO;
	}
	if (xs_xen_timer_fd(d) >= 0 && xs_epoll_add(d->epfd, xs_xen_timer_fd(d), &xs_tag_timer))
		xs_log(d, "cannot poll the domain check timer");
	xs_log(d, "hypervisor reached: guest rings available");
	return 0;
}

/* Guest rings: with a hypervisor, (re)attach every introduced domain. */
static void xs_setup_rings(struct xs_main *m)
{
	unsigned int i;

	/* Later INTRODUCEs try again if the hypervisor is not there now. */
	m->d.ring_reopen = xs_ring_reopen;
	if (xs_ring_reopen(&m->d))
		return;
	for (i = 1; i < XS_NR_DOMAINS; i++)
		if (m->d.domains[i] && m->d.domains[i]->introduced)
			xs_domain_attach_ring(&m->d, m->d.domains[i]);
	/* Domains that died while we were down. */
	xs_xen_check_domains(&m->d);
}

/* Kept ring buffers no introduced domain took back: gone for good. */
static void xs_forget_kept_rings(struct xs_main *m)
{
	for (unsigned int i = 0; i < m->d.nkept_rings; i++) {
		struct xs_kept_ring *t = &m->d.kept_rings[i];

		if (t->memfd < 0)
			continue;
		xs_log(&m->d, "ring buffers of domain %llu dropped: no such domain now",
		       (unsigned long long)(t->key - XS_RING_KEY(0)));
		close(t->memfd);
		if (m->d.keeper)
			xs_keeper_del(m->d.keeper, t->key);
	}
	free(m->d.kept_rings);
	m->d.kept_rings = NULL;
	m->d.nkept_rings = 0;
}

static int xs_setup(struct xs_main *m, const char *rundir)
{
	int ret;

	snprintf(m->sock_rw, sizeof(m->sock_rw), "%s/xenstored.sock", rundir);
	snprintf(m->sock_ro, sizeof(m->sock_ro), "%s/xenstored_ro.sock", rundir);
	snprintf(m->pidfile, sizeof(m->pidfile), "%s/xenstored.pid", rundir);
	snprintf(m->logfile, sizeof(m->logfile), "%s/xenstored.log", rundir);
	snprintf(m->state, sizeof(m->state), "%s/xenstored.state", rundir);
	snprintf(m->lockfile, sizeof(m->lockfile), "%s/xenstored.lock", rundir);
	m->lrw = m->lro = m->sigfd = m->lockfd = -1;

	ret = xs_daemon_init(&m->d);
	if (ret)
		return ret;
	/* One daemon per run directory; a crashed one releases it. */
	m->lockfd = open(m->lockfile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (m->lockfd < 0)
		return -errno;
	if (flock(m->lockfd, LOCK_EX | LOCK_NB)) {
		fprintf(stderr, "xenstored: another xenstored runs in %s\n", rundir);
		close(m->lockfd);
		m->lockfd = -1;
		return -EBUSY;
	}
	m->d.rundir = rundir;
	m->d.log = fopen(m->logfile, "ae");
	if (!m->d.log)
		fprintf(stderr, "xenstored: cannot open %s: %s\n", m->logfile, strerror(errno));
	xs_log(&m->d, "starting (pid %d)", (int)getpid());
	ret = xs_persist_open(&m->d, m->state);
	if (ret)
		return ret;

	m->sigfd = svd_signalfd();
	if (m->sigfd < 0)
		return m->sigfd;
	m->d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->d.epfd < 0)
		return -errno;
	{
		const char *why;

		if (xs_uring_open(&m->d, &why) == 0)
			xs_log(&m->d, "event loop: io_uring (one system call per pass)");
		else
			xs_log(&m->d, "event loop: epoll (io_uring unavailable: %s)", why);
	}
	ret = xs_setup_sockets(m, rundir);
	if (ret)
		return ret;
	xs_setup_rings(m);
	xs_forget_kept_rings(m);
	/* Saved connections nobody took back are gone for good. */
	xs_persist_forget_saved(&m->d);
	ret = xs_epoll_add(m->d.epfd, m->lrw, &xs_tag_rw);
	if (!ret)
		ret = xs_epoll_add(m->d.epfd, m->lro, &xs_tag_ro);
	if (!ret)
		ret = xs_epoll_add(m->d.epfd, m->sigfd, &xs_tag_sig);
	if (!ret)
		ret = xs_write_pidfile(m->pidfile);
	m->wrote_pid = ret == 0;
	return ret;
}

static void xs_teardown(struct xs_main *m)
{
	/* Clean exit: the keeper lets every socket go. */
	if (m->d.keeper)
		xs_keeper_bye(m->d.keeper);
	m->d.keeper = NULL;
	if (m->lrw >= 0) {
		close(m->lrw);
		unlink(m->sock_rw);
	}
	if (m->lro >= 0) {
		close(m->lro);
		unlink(m->sock_ro);
	}
	xs_persist_close(&m->d);
	xs_daemon_fini(&m->d);
	xs_uring_close(&m->d);
	xs_xen_close(&m->d);
	if (m->wrote_pid)
		unlink(m->pidfile);
	if (m->sigfd >= 0)
		close(m->sigfd);
	if (m->d.epfd >= 0)
		close(m->d.epfd);
	xs_log(&m->d, "stopped");
	if (m->d.log)
		fclose(m->d.log);
	if (m->lockfd >= 0)
		close(m->lockfd);
}

int main(int argc, char **argv)
{
	static const struct svd_args args = { .name = "xenstored", .usage = xs_usage };
	static struct xs_main m;
	struct svd_opts o;
	const char *rundir;
	int ready = -1, status = 0, ret;

	svd_log_name("xenstored");
	ret = svd_parse_args(&args, &o, argc, argv);
	if (ret)
		return ret == 1 ? 0 : 2;
	rundir = o.rundir;
	if (mkdir(rundir, 0755) && errno != EEXIST) {
		fprintf(stderr, "xenstored: %s: %s\n", rundir, strerror(errno));
		return 1;
	}
	/* Start-up errors still reach the terminal; its own log is DIR/xenstored.log. */
	if (!o.foreground) {
		ret = svd_daemonize(NULL, &ready, &status);
		if (ret == 1)
			return status;
		if (ret < 0) {
			fprintf(stderr, "xenstored: cannot detach: %s\n", strerror(-ret));
			return 1;
		}
	}
	ret = xs_setup(&m, rundir);
	if (ret) {
		fprintf(stderr, "xenstored: start-up failed: %s\n", strerror(-ret));
		xs_log(&m.d, "start-up failed: %s", strerror(-ret));
		xs_teardown(&m);
		return 1;
	}
	xs_log(&m.d, "ready on %s", m.sock_rw);
	if (ready >= 0) {
		int null;

		svd_ready(&ready);
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDERR_FILENO);
			close(null);
		}
	}
	ret = xs_loop(&m);
	if (ret)
		xs_log(&m.d, "event loop failed: %s", strerror(-ret));
	xs_log(&m.d, "exiting");
	xs_teardown(&m);
	return ret ? 1 : 0;
}
