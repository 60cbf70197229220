// SPDX-License-Identifier: MIT
/* blkback: command line, run directory, status socket and the epoll loop. */
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
#include "blk_daemon.h"

/* What an epoll event is about (data.u32). */
enum { BLK_EP_LISTEN = 1, BLK_EP_SIGNAL, BLK_EP_XS, BLK_EP_EVTCHN, BLK_EP_IO };

static const char blk_usage[] =
    "usage: blkback [--rundir DIR] [--foreground] [--verbose]\n"
    "  Serves every virtual block device under /local/domain/0/backend/vbd\n"
    "  (Xen's blkif protocol) from raw image files or block devices.\n"
    "  Talks to xenstored at $XENSTORED_PATH (default DIR/xenstored.sock) and\n"
    "  to the hypervisor in DIR; keeps ring shadows in DIR/blkback/.  Ready when\n"
    "  DIR/blkback.sock accepts; a connection gets one status line per device.\n"
    "  DIR defaults to $SPLITVISOR_RUNDIR or " SV_RUNDIR_DEFAULT ".\n"
    "  Without --foreground it detaches once ready and logs to DIR/blkback.log.\n";

static int blk_epoll_add(struct blkback *bb, int fd, uint32_t kind)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = kind };

	return epoll_ctl(bb->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* A status client: one line per device, then the connection closes. */
static void blk_accept(struct blkback *bb)
{
	int fd;

	while ((fd = accept4(bb->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		blk_xenbus_status(bb, fd);
		close(fd);
	}
}

static int blk_setup(struct blkback *bb)
{
	int ret, fl;

	if (mkdir(bb->state_dir, 0700) < 0 && errno != EEXIST) {
		blk_log("cannot create %s: %m", bb->state_dir);
		return -errno;
	}
	bb->sigfd = svd_signalfd();
	if (bb->sigfd < 0)
		return bb->sigfd;
	bb->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (bb->epfd < 0)
		return -errno;
	ret = blk_epoll_add(bb, bb->sigfd, BLK_EP_SIGNAL);
	if (ret)
		return ret;
	blk_maps_init_default(&bb->maps, blk_maps_max_map_count());
	blk_log("grant mapping limits: %u pages per ring, %u per domain, %u in all",
		bb->maps.ring_max, bb->maps.dom_max, bb->maps.total_max);
	ret = blk_io_init(&bb->io, 256);
	if (ret) {
		blk_log("cannot set up io_uring: %s", strerror(-ret));
		return ret;
	}
	ret = blk_epoll_add(bb, bb->io.efd, BLK_EP_IO);
	if (ret)
		return ret;
	bb->xce = xenevtchn_open(NULL, 0);
	if (!bb->xce) {
		blk_log("cannot open event channels (is the hypervisor running?): %m");
		return -errno;
	}
	fl = fcntl(xenevtchn_fd(bb->xce), F_GETFL);
	if (fl < 0 || fcntl(xenevtchn_fd(bb->xce), F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	ret = blk_epoll_add(bb, xenevtchn_fd(bb->xce), BLK_EP_EVTCHN);
	if (ret)
		return ret;
	bb->xgt = xengnttab_open(NULL, 0);
	if (!bb->xgt) {
		blk_log("cannot open grant tables: %m");
		return -errno;
	}
	bb->xs = xs_open(0);
	if (!bb->xs) {
		blk_log("cannot connect to xenstored at %s: %m", getenv("XENSTORED_PATH"));
		return -errno;
	}
	ret = blk_epoll_add(bb, xs_fileno(bb->xs), BLK_EP_XS);
	if (ret)
		return ret;
	ret = blk_xenbus_init(bb);
	if (ret) {
		blk_log("cannot watch xenstore: %s", strerror(-ret));
		return ret;
	}
	/* Last: once the socket accepts, the devices already there are served. */
	bb->lfd = svd_listen(bb->sock_path, 16);
	if (bb->lfd < 0) {
		blk_log("cannot listen on %s: %s", bb->sock_path, strerror(-bb->lfd));
		return bb->lfd;
	}
	return blk_epoll_add(bb, bb->lfd, BLK_EP_LISTEN);
}

static void blk_teardown(struct blkback *bb)
{
	if (bb->lfd >= 0) {
		close(bb->lfd);
		unlink(bb->sock_path);
	}
	if (bb->xs)
		blk_xenbus_fini(bb);
	if (bb->xs)
		xs_close(bb->xs);
	blk_io_fini(&bb->io);
	if (bb->xgt)
		xengnttab_close(bb->xgt);
	if (bb->xce)
		xenevtchn_close(bb->xce);
	if (bb->sigfd >= 0)
		close(bb->sigfd);
	if (bb->epfd >= 0)
		close(bb->epfd);
}

/*
 * Fired ports taken per wakeup: a guest notifying as fast as we unmask
 * must not keep the loop here (the fd stays readable for the next round).
 */
#define BLK_EVTCHN_BUDGET 256

/* Ports that fired: unmask each first (a later event is not lost), then mark its ring for the
 * round. */
static int blk_handle_evtchn(struct blkback *bb)
{
	for (unsigned n = 0; n < BLK_EVTCHN_BUDGET; n++) {
		xenevtchn_port_or_error_t port = xenevtchn_pending(bb->xce);
		struct blk_ring *r;

		if (port < 0) {
			if (errno == EAGAIN)
				return 0;
			blk_log("event channel handle failed: %m");
			return -errno;
		}
		if (xenevtchn_unmask(bb->xce, (evtchn_port_t)port) < 0)
			blk_log("unmask port %d: %m", port);
		r = blk_xenbus_ring_by_port(bb, (evtchn_port_t)port);
		if (r)
			r->more = true;
	}
	return 0;
}

/*
 * After each round of events: every ring with work takes one budget of
 * requests (BLK_RING_BUDGET, in the same order each round), the batch is
 * submitted, responses pushed, broken devices closed.  Returns whether a
 * ring has requests left, so the next round comes without waiting.
 */
static bool blk_flush_round(struct blkback *bb)
{
	bool busy = false;

	blk_for_each_vbd(bb, v) for (unsigned q = 0; q < v->nr_rings;
				     q++) if (blk_ring_wants_kick(&v->rings[q]))
	    blk_ring_kick(&v->rings[q]);
	if (blk_io_submit(&bb->io) < 0)
		blk_log("io_uring submit: %m");
	blk_for_each_vbd(bb, v) for (unsigned q = 0; q < v->nr_rings; q++)
	{
		struct blk_ring *r = &v->rings[q];

		blk_ring_push(r);
		/* A parked ring waits for completions (which wake us), not for a round. */
		busy |= r->started && !r->broken && r->more;
	}
	blk_xenbus_reap_broken(bb);
	return busy;
}

static int blk_loop(struct blkback *bb)
{
	struct epoll_event evs[16];
	bool busy = false;
	int ret = 0;

	while (!bb->quit && !ret) {
		int n = epoll_wait(bb->epfd, evs, 16, busy ? 0 : -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !ret; i++) {
			struct signalfd_siginfo si;

			switch (evs[i].data.u32) {
			case BLK_EP_LISTEN:
				blk_accept(bb);
				break;
			case BLK_EP_SIGNAL:
				if (read(bb->sigfd, &si, sizeof(si)) == sizeof(si)) {
					blk_log("signal %u: stopping", si.ssi_signo);
					bb->quit = true;
				}
				break;
			case BLK_EP_XS:
				ret = blk_xenbus_handle(bb);
				break;
			case BLK_EP_EVTCHN:
				ret = blk_handle_evtchn(bb);
				break;
			case BLK_EP_IO:
				blk_io_reap(&bb->io, false);
				break;
			}
		}
		busy = blk_flush_round(bb);
	}
	return ret;
}

int main(int argc, char **argv)
{
	static const struct svd_args args = { .name = "blkback", .usage = blk_usage };
	static struct blkback bb_ctx;
	struct blkback *bb = &bb_ctx;
	struct svd_opts o;
	const char *rundir;
	int ret, notify_fd = -1, status = 0;

	svd_log_name("blkback");
	ret = svd_parse_args(&args, &o, argc, argv);
	if (ret)
		return ret == 1 ? 0 : 2;
	rundir = o.rundir;
	bb->rundir = rundir;
	bb->epfd = bb->lfd = bb->sigfd = -1;
	bb->io.efd = -1;
	if (snprintf(bb->sock_path, sizeof(bb->sock_path), "%s/blkback.sock", rundir) >=
		(int)sizeof(bb->sock_path) ||
	    snprintf(bb->state_dir, sizeof(bb->state_dir), "%s/blkback", rundir) >=
		(int)sizeof(bb->state_dir) ||
	    strlen(rundir) > 4000) {
		fprintf(stderr, "blkback: run directory path too long\n");
		return 2;
	}
	ret = svd_start("blkback", rundir, o.foreground, &notify_fd, &status);
	if (ret)
		return ret == 1 ? status : 1;
	blk_log("starting (pid %d)", (int)getpid());
	ret = blk_setup(bb);
	if (!ret) {
		blk_log("ready on %s", bb->sock_path);
		svd_ready(&notify_fd);
		ret = blk_loop(bb);
	}
	blk_teardown(bb);
	if (ret)
		svd_log_err(ret, "exiting on error");
	else
		blk_log("stopped");
	if (notify_fd >= 0)
		close(notify_fd);
	return ret ? 1 : 0;
}
