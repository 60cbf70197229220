// SPDX-License-Identifier: MIT
/* netback: command line, start-up, status socket and the epoll loop driving both planes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "nb_daemon.h"
#include "nb_link.h"

static const char nb_usage[] =
    "usage: netback [--rundir DIR] [--foreground] [--verbose]\n"
    "  Serves every vif under /local/domain/0/backend/vif: a TAP device per\n"
    "  interface (vif<domid>.<devid> or vifname=) in its bridge (bridge=,\n"
    "  default xenbr0, created when missing), joined to the guest's netif\n"
    "  rings.  Ready when DIR/netback.sock accepts a connection; a client\n"
    "  connecting there reads one status line per vif.  Talks to xenstored\n"
    "  at $XENSTORED_PATH (default DIR/xenstored.sock) and to the\n"
    "  hypervisor in DIR.  DIR defaults to $SPLITVISOR_RUNDIR or\n"
    "  " SV_RUNDIR_DEFAULT ".  Without --foreground it detaches once ready\n"
    "  and logs to DIR/netback.log.\n";

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int ep_add(struct nb_daemon *d, int fd, uint32_t events, struct nb_ep *ep)
{
	struct epoll_event ev = { .events = events, .data.ptr = ep };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int nb_daemon_tap_add(struct nb_daemon *d, struct nb_queue *q)
{
	int ret = ep_add(d, q->tap_fd, 0, &q->tap_ep);

	q->tap_events = 0;
	if (ret)
		nb_log("epoll: cannot add TAP fd: %s", strerror(-ret));
	return ret;
}

void nb_daemon_tap_del(struct nb_daemon *d, struct nb_queue *q)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, q->tap_fd, NULL);
}

void nb_daemon_tap_sync(struct nb_daemon *d, struct nb_queue *q)
{
	uint32_t want = q->connected && q->tap_polled ? EPOLLIN : 0;
	struct epoll_event ev = { .events = want, .data.ptr = &q->tap_ep };

	if (q->tap_fd < 0 || want == q->tap_events)
		return;
	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, q->tap_fd, &ev))
		nb_log("epoll: cannot watch TAP fd: %m");
	else
		q->tap_events = want;
}

/* Listens on DIR/netback.sock (a stale socket of a dead netback is replaced). */
static int listen_on(const char *rundir)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	if ((size_t)snprintf(path, sizeof(path), "%s/netback.sock", rundir) >= sizeof(path))
		return -ENAMETOOLONG;
	return svd_listen(path, 16);
}

/* A status client: one line per vif, then the connection is closed. */
static void serve_status(struct nb_daemon *d)
{
	int c = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	char line[512];

	if (c < 0)
		return;
	nb_for_each_vif(d, v)
	{
		struct nb_stats s = { 0 };

		for (unsigned i = 0; i < v->nqueues; i++) {
			s.tx_packets += v->q[i].st.tx_packets;
			s.tx_bytes += v->q[i].st.tx_bytes;
			s.tx_dropped += v->q[i].st.tx_dropped;
			s.tx_errors += v->q[i].st.tx_errors;
			s.rx_packets += v->q[i].st.rx_packets;
			s.rx_bytes += v->q[i].st.rx_bytes;
			s.rx_dropped += v->q[i].st.rx_dropped;
		}
		int n = snprintf(line, sizeof(line),
				 "%s domid %u devid %u bridge %s state %d queues %u%s%s"
				 " tx_packets %" PRIu64 " tx_bytes %" PRIu64 " tx_dropped %" PRIu64
				 " tx_errors %" PRIu64 " rx_packets %" PRIu64 " rx_bytes %" PRIu64
				 " rx_dropped %" PRIu64 "\n",
				 v->ifname, v->dev.domid, v->dev.devid, v->bridge, v->dev.state,
				 v->nqueues, v->dev.failed ? " failed" : "",
				 v->dev.broken ? " broken" : "", s.tx_packets, s.tx_bytes,
				 s.tx_dropped, s.tx_errors, s.rx_packets, s.rx_bytes, s.rx_dropped);
		if (n > 0 && write(c, line, (size_t)n) < 0)
			break;
	}
	close(c);
}

/* Marks the queues an event channel port belongs to. */
static void port_fired(struct nb_daemon *d, evtchn_port_t port)
{
	nb_for_each_vif(d, v)
	{
		for (unsigned i = 0; i < v->nqueues; i++) {
			struct nb_queue *q = &v->q[i];

			if (!q->connected)
				continue;
			if (q->tx_port == port)
				q->tx_kick = true;
			if (q->rx_port == port)
				q->rx_kick = true;
		}
	}
}

/*
 * Fired ports taken per wakeup: a guest that notifies as fast as we unmask
 * must not keep the loop here; the rest stay readable for the next round.
 */
#define NB_EVTCHN_BUDGET 256

/* Takes the fired ports; -EPIPE when the hypervisor went away (the supervisor restarts us). */
static int evtchn_ready(struct nb_daemon *d)
{
	xenevtchn_port_or_error_t p;

	/* Each pending port comes masked: unmask before the rings are looked at. */
	for (unsigned n = 0; n < NB_EVTCHN_BUDGET; n++) {
		p = xenevtchn_pending(d->xce);
		if (p < 0)
			goto out_err;
		if (xenevtchn_unmask(d->xce, (evtchn_port_t)p) < 0)
			nb_log("unmask of port %d failed: %m", p);
		port_fired(d, (evtchn_port_t)p);
	}
	return 0;

out_err:
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	nb_log("event channels: %m: exiting");
	return -errno;
}

/*
 * One round: runs the data plane of every queue that has work, each at
 * most one batch (NB_BATCH packets) per direction, as Linux's NAPI budget;
 * a queue with work left says so (tx_more/rx_more) and waits for the next
 * round, so no frontend holds the thread longer than one batch while the
 * others wait.  Returns the next deadline (0 = none).
 */
static uint64_t run_queues(struct nb_daemon *d, bool *busy)
{
	uint64_t deadline = 0;

	*busy = false;
	nb_for_each_vif(d, v)
	{
		for (unsigned i = 0; i < v->nqueues; i++) {
			struct nb_queue *q = &v->q[i];
			uint64_t now = now_us();
			int ret = 0;

			if (!q->connected)
				continue;
			if (q->tx_kick || q->tx_more ||
			    (q->tx_throttled && now >= q->tx_retry_us)) {
				q->tx_kick = false;
				ret = nb_tx_run(q, now);
			}
			if (!ret && (q->rx_kick || q->rx_more)) {
				q->rx_kick = false;
				ret = nb_rx_run(q);
			}
			if (ret == -EPROTO) {
				nb_xenbus_fatal(d, v, q->err);
				break;
			}
			if (ret)
				nb_log("%s: queue %u: %s", v->ifname, i, strerror(-ret));
			nb_daemon_tap_sync(d, q);
			if (q->tx_more || q->rx_more)
				*busy = true;
			if (q->tx_throttled && (!deadline || q->tx_retry_us < deadline))
				deadline = q->tx_retry_us;
		}
	}
	return deadline;
}

static int loop(struct nb_daemon *d)
{
	struct epoll_event evs[32];
	bool busy = false;

	for (;;) {
		struct timespec ts = { 0, 0 }, *tp = NULL;
		uint64_t deadline;
		int n;

		deadline = run_queues(d, &busy);
		if (!busy && deadline) {
			uint64_t now = now_us(), wait = deadline > now ? deadline - now : 0;

			ts.tv_sec = (time_t)(wait / 1000000u);
			ts.tv_nsec = (long)(wait % 1000000u) * 1000;
			tp = &ts;
		} else if (busy) {
			tp = &ts;
		}
		n = epoll_pwait2(d->epfd, evs, 32, tp, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			nb_log("epoll_wait: %m");
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct nb_ep *ep = evs[i].data.ptr;
			struct signalfd_siginfo si;

			switch (ep->kind) {
			case NB_EP_LISTEN:
				serve_status(d);
				break;
			case NB_EP_SIGNAL:
				if (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
					nb_log("signal %u: exiting", si.ssi_signo);
					return 0;
				}
				break;
			case NB_EP_XS:
				if (nb_xenbus_watch_fired(d))
					return -ENOTCONN;
				break;
			case NB_EP_EVTCHN:
				if (evtchn_ready(d))
					return -EPIPE;
				break;
			case NB_EP_TAP:
				ep->q->rx_kick = true;
				break;
			case NB_EP_TIMER:
				break;
			}
		}
	}
}

static int setup(struct nb_daemon *d)
{
	int ret;

	/* svd_start pointed XENSTORED_PATH and SPLITVISOR_RUNDIR at d->rundir. */
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	d->sig_fd = svd_signalfd();
	if (d->sig_fd < 0)
		return d->sig_fd;
	d->xs = xs_open(0);
	if (!d->xs) {
		nb_log("cannot reach xenstored at %s: %m", getenv("XENSTORED_PATH"));
		return -ENOTCONN;
	}
	d->xce = xenevtchn_open(NULL, 0);
	d->gt = xengnttab_open(NULL, 0);
	if (!d->xce || !d->gt) {
		nb_log("cannot reach the hypervisor in %s: %m", d->rundir);
		return -ENOTCONN;
	}
	/* Drain pending ports without blocking: the pipe is blocking as Xen's device. */
	ret = fcntl(xenevtchn_fd(d->xce), F_GETFL);
	if (ret < 0 || fcntl(xenevtchn_fd(d->xce), F_SETFL, ret | O_NONBLOCK) < 0) {
		nb_log("cannot make the event channel fd non-blocking: %m");
		return -errno;
	}
	d->link = nb_link_open();
	if (!d->link) {
		nb_log("cannot open a netlink socket: %m");
		return -errno;
	}
	d->ep_sig.kind = NB_EP_SIGNAL;
	d->ep_xs.kind = NB_EP_XS;
	d->ep_evtchn.kind = NB_EP_EVTCHN;
	d->ep_listen.kind = NB_EP_LISTEN;
	ret = ep_add(d, d->sig_fd, EPOLLIN, &d->ep_sig);
	if (!ret)
		ret = ep_add(d, xs_fileno(d->xs), EPOLLIN, &d->ep_xs);
	if (!ret)
		ret = ep_add(d, xenevtchn_fd(d->xce), EPOLLIN, &d->ep_evtchn);
	if (ret)
		return ret;
	ret = nb_xenbus_start(d);
	if (ret) {
		nb_log("cannot watch xenstore: %s", strerror(-ret));
		return ret;
	}
	/* Ready last: the supervisor waits for this socket. */
	d->listen_fd = listen_on(d->rundir);
	if (d->listen_fd < 0) {
		nb_log("cannot listen on %s/netback.sock: %s", d->rundir, strerror(-d->listen_fd));
		return d->listen_fd;
	}
	return ep_add(d, d->listen_fd, EPOLLIN, &d->ep_listen);
}

static void teardown(struct nb_daemon *d)
{
	char path[4200];

	nb_xenbus_stop(d);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		snprintf(path, sizeof(path), "%s/netback.sock", d->rundir);
		unlink(path);
	}
	nb_link_close(d->link);
	if (d->gt)
		xengnttab_close(d->gt);
	if (d->xce)
		xenevtchn_close(d->xce);
	if (d->xs)
		xs_close(d->xs);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->epfd >= 0)
		close(d->epfd);
}

int main(int argc, char **argv)
{
	static const struct svd_args args = { .name = "netback", .usage = nb_usage };
	struct nb_daemon d = { .epfd = -1, .listen_fd = -1, .sig_fd = -1 };
	struct svd_opts o;
	int ret, notify_fd = -1, status = 0;

	svd_log_name("netback");
	ret = svd_parse_args(&args, &o, argc, argv);
	if (ret)
		return ret == 1 ? 0 : 2;
	d.rundir = o.rundir;
	ret = svd_start("netback", d.rundir, o.foreground, &notify_fd, &status);
	if (ret)
		return ret == 1 ? status : 1;
	ret = setup(&d);
	if (!ret) {
		nb_log("serving /local/domain/0/backend/vif");
		svd_ready(&notify_fd);
		ret = loop(&d);
	}
	teardown(&d);
	if (notify_fd >= 0)
		close(notify_fd);
	return ret ? 1 : 0;
}
