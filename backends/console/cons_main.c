// SPDX-License-Identifier: MIT
// xenconsoled: command line, run directory, start-up and the epoll loop.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sv/svxs.h"
#include "cons_daemon.h"

static const char cons_usage[] =
    "usage: xenconsoled [--rundir DIR] [--foreground] [--verbose]\n"
    "                   [--timestamp=none|guest|all]\n"
    "  Serves every guest's console ring.  Guest output is appended to\n"
    "  DIR/console/guest-NAME.log; clients attach on DIR/xenconsoled.sock\n"
    "  by sending \"attach <domid>\\n\" (reply \"ok\" or \"error <why>\").\n"
    "  Talks to xenstored at $XENSTORED_PATH (default DIR/xenstored.sock)\n"
    "  and to the hypervisor in DIR.  Without --foreground it detaches\n"
    "  once ready and logs to DIR/xenconsoled.log.  DIR defaults to\n"
    "  $SPLITVISOR_RUNDIR, else " SV_RUNDIR_DEFAULT ".  Writes DIR/xenconsoled.pid.\n"
    "  SIGTERM/SIGINT: clean exit.  SIGHUP: reopen the guest logs.\n"
    "  --timestamp=guest (or all) starts each guest log line with\n"
    "  \"[YYYY-MM-DD HH:MM:SS] \" (UTC).\n";

static int cons_epoll_add(struct cons_daemon *d, int fd, struct cons_ep *ep)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ep };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* Listen on PATH (a stale socket from a dead daemon is replaced). */
static int cons_listen(const char *path)
{
	/* A socket that still accepts belongs to a live xenconsoled: leave it. */
	if (svd_sock_live(path))
		return -EADDRINUSE;
	return svd_listen(path, 64);
}

static int cons_write_pidfile(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		cons_log("cannot write %s: %m", path);
		return -errno;
	}
	if (write(fd, buf, (size_t)n) != n) {
		cons_log("cannot write %s", path);
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

static int cons_setup(struct cons_daemon *d)
{
	int ret, fl;

	sv_list_init(&d->domains);
	sv_list_init(&d->pending);
	sv_list_init(&d->dead);
	d->ep_listen.kind = CONS_EP_LISTEN;
	d->ep_sig.kind = CONS_EP_SIGNAL;
	d->ep_xs.kind = CONS_EP_XS;
	d->ep_evtchn.kind = CONS_EP_EVTCHN;
	d->ep_canary.kind = CONS_EP_XS_CANARY;

	/* Before touching any ring: a second daemon would steal output. */
	if (svd_sock_live(d->sock_path)) {
		cons_log("another xenconsoled serves %s", d->sock_path);
		return -EADDRINUSE;
	}
	if (mkdir(d->console_dir, 0750) < 0 && errno != EEXIST) {
		ret = -errno;
		cons_log("cannot create %s: %s", d->console_dir, strerror(-ret));
		return ret;
	}
	d->sigfd = svd_signalfd();
	if (d->sigfd < 0)
		return d->sigfd;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	ret = cons_epoll_add(d, d->sigfd, &d->ep_sig);
	if (ret)
		return ret;

	d->xce = xenevtchn_open(NULL, 0);
	if (!d->xce) {
		ret = errno ? -errno : -EIO;
		cons_log("cannot open event channels (is the hypervisor running?): %s",
			 strerror(-ret));
		return ret;
	}
	/* One port per wakeup, never a blocking read. */
	fl = fcntl(xenevtchn_fd(d->xce), F_GETFL);
	if (fl < 0 || fcntl(xenevtchn_fd(d->xce), F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	ret = cons_epoll_add(d, xenevtchn_fd(d->xce), &d->ep_evtchn);
	if (ret)
		return ret;
	d->fmem = xenforeignmemory_open(NULL, 0);
	if (!d->fmem) {
		ret = errno ? -errno : -EIO;
		cons_log("cannot open foreign memory: %s", strerror(-ret));
		return ret;
	}
	/* xenstored may be restarting with us: give it a few seconds. */
	for (int tries = 0; !d->xs && tries < 50; tries++) {
		d->xs = xs_open(0);
		if (!d->xs)
			usleep(100 * 1000);
	}
	if (!d->xs) {
		ret = errno ? -errno : -EIO;
		cons_log("cannot connect to xenstored at %s: %s", getenv("XENSTORED_PATH"),
			 strerror(-ret));
		return ret;
	}
	ret = cons_epoll_add(d, xs_fileno(d->xs), &d->ep_xs);
	if (ret)
		return ret;
	d->xs_canary = svxs_canary_open();
	if (d->xs_canary < 0) {
		cons_log("cannot connect to xenstored at %s: %s", getenv("XENSTORED_PATH"),
			 strerror(-d->xs_canary));
		return d->xs_canary;
	}
	{
		struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = &d->ep_canary };

		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->xs_canary, &ev) < 0)
			return -errno;
	}
	ret = cons_xs_watch(d);
	if (ret) {
		cons_log("cannot watch xenstore: %s", strerror(-ret));
		return ret;
	}
	cons_xs_rescan(d);
	if (d->xs_failed)
		return -EPIPE;

	/* Last: a client that can connect finds the domains already known. */
	d->lfd = cons_listen(d->sock_path);
	if (d->lfd < 0) {
		cons_log("cannot listen on %s: %s", d->sock_path,
			 d->lfd == -EADDRINUSE ? "another xenconsoled serves it"
					       : strerror(-d->lfd));
		return d->lfd;
	}
	return cons_epoll_add(d, d->lfd, &d->ep_listen);
}

static void cons_teardown(struct cons_daemon *d)
{
	struct sv_list *pos, *tmp;

	if (d->lfd >= 0) {
		close(d->lfd);
		unlink(d->sock_path);
	}
	sv_list_for_each_safe(pos, tmp, &d->pending)
	    cons_client_kill(sv_container_of(pos, struct cons_client, link));
	sv_list_for_each_safe(pos, tmp, &d->domains) cons_domain_free(
	    sv_container_of(pos, struct cons_domain, link), "xenconsoled is stopping");
	cons_client_reap(d);
	if (d->xs)
		xs_close(d->xs);
	if (d->xs_canary >= 0)
		close(d->xs_canary);
	if (d->fmem)
		xenforeignmemory_close(d->fmem);
	if (d->xce)
		xenevtchn_close(d->xce);
	cons_dominfo_close(d);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->epfd >= 0)
		close(d->epfd);
}

static int cons_loop(struct cons_daemon *d)
{
	struct epoll_event evs[64];
	int ret = 0;

	while (!d->quit && !ret) {
		/* Throttled guests are read again when their rate allows (no polling otherwise). */
		int n = epoll_wait(d->epfd, evs, 64, cons_domain_timeout_ms(d));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !ret && !d->quit; i++) {
			struct cons_ep *ep = evs[i].data.ptr;
			struct signalfd_siginfo si;

			switch (ep->kind) {
			case CONS_EP_LISTEN:
				cons_client_accept(d);
				break;
			case CONS_EP_SIGNAL:
				if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo == SIGHUP) {
					/* As Xen's xenconsoled: logrotate moved the logs. */
					cons_log("SIGHUP: reopening guest logs");
					cons_domain_reopen_logs(d);
					break;
				}
				cons_log("signal %u: stopping", si.ssi_signo);
				d->quit = true;
				break;
			case CONS_EP_XS:
				ret = cons_xs_handle(d);
				break;
			case CONS_EP_XS_CANARY:
				/*
				 * xenstored closed on us (it died and nothing kept
				 * its sockets): libxenstore's connection is gone
				 * too, silently.  Exit; the supervisor restarts us
				 * and we find every domain again.
				 */
				cons_log("lost the connection to xenstored");
				ret = -EPIPE;
				break;
			case CONS_EP_EVTCHN:
				ret = cons_domain_handle_evtchn(d);
				break;
			case CONS_EP_CLIENT:
				cons_client_handle(sv_container_of(ep, struct cons_client, ep),
						   evs[i].events);
				break;
			case CONS_EP_PTY:
				cons_domain_pty_input(d);
				break;
			}
		}
		cons_domain_service_throttled(d);
		cons_client_reap(d);
	}
	return ret;
}

static int cons_option(int opt, const char *arg, void *ctx)
{
	struct cons_daemon *d = ctx;

	if (opt != 't')
		return -1;
	/* Xen's values; only guest logs exist here. */
	if (!strcmp(arg, "guest") || !strcmp(arg, "all"))
		d->log_timestamps = true;
	else if (strcmp(arg, "none") != 0 && strcmp(arg, "hv") != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "timestamp", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	static struct cons_daemon daemon_ctx; /* large (recheck bitmap) */
	struct cons_daemon *d = &daemon_ctx;
	const struct svd_args args = { .name = "xenconsoled",
				       .usage = cons_usage,
				       .extra = extra,
				       .extra_short = "t:",
				       .extra_fn = cons_option,
				       .ctx = d };
	struct svd_opts o;
	const char *rundir;
	bool wrote_pid = false;
	char pidpath[4096 + 32];
	int ret, notify_fd = -1, status = 0;

	svd_log_name("xenconsoled");
	ret = svd_parse_args(&args, &o, argc, argv);
	if (ret)
		return ret == 1 ? 0 : 2;
	rundir = o.rundir;
	d->rundir = rundir;
	d->epfd = d->lfd = d->sigfd = d->xs_canary = -1;
	if (snprintf(d->sock_path, sizeof(d->sock_path), "%s/xenconsoled.sock", rundir) >=
		(int)sizeof(d->sock_path) ||
	    snprintf(d->console_dir, sizeof(d->console_dir), "%s/console", rundir) >=
		(int)sizeof(d->console_dir)) {
		fprintf(stderr, "xenconsoled: run directory path too long\n");
		return 2;
	}
	snprintf(pidpath, sizeof(pidpath), "%s/xenconsoled.pid", rundir);
	ret = svd_start("xenconsoled", rundir, o.foreground, &notify_fd, &status);
	if (ret)
		return ret == 1 ? status : 1;
	cons_log("starting (pid %d)", (int)getpid());
	ret = cons_setup(d);
	if (!ret) {
		ret = cons_write_pidfile(pidpath);
		wrote_pid = !ret;
	}
	if (!ret) {
		cons_log("ready on %s", d->sock_path);
		svd_ready(&notify_fd);
		ret = cons_loop(d);
	}
	cons_teardown(d);
	if (wrote_pid && unlink(pidpath) < 0 && errno != ENOENT)
		cons_log("cannot remove %s: %m", pidpath);
	if (ret)
		svd_log_err(ret, "exiting on error");
	else
		cons_log("stopped");
	if (notify_fd >= 0)
		close(notify_fd);
	return ret ? 1 : 0;
}
