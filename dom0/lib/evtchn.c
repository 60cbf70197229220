// SPDX-License-Identifier: MIT
/* libxenevtchn (Xen's xenevtchn.h API) for dom0 programs, over the hypervisor control socket. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <xenevtchn.h>
#include "svxen.h"

/*
 * A handle is one control connection that sent EVTCHN_OPEN (the analogue of
 * an open /dev/xen/evtchn) plus the read end of the pipe on which the
 * hypervisor writes each port that fired.  The hypervisor masks a port when
 * it writes it, so a port is in the pipe at most once until it is unmasked.
 *
 * Thread safety: every call may be made from any thread.  `lock` keeps each
 * request and its reply together on the socket; notify and unmask send one
 * message under it and wait for nothing.  xenevtchn_pending reads only the
 * pipe; as with Xen, several threads reading one handle's pipe race for ports.
 */
struct xenevtchn_handle {
	struct svctl *ctl;
	int pipe_fd;
	pthread_mutex_t lock;
	struct xentoollog_logger *logger;
};

static const char ctx[] = "xenevtchn";

static int set_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -errno;
	fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	if (fcntl(fd, F_SETFD, fl) < 0)
		return -errno;
	return 0;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	xenevtchn_handle *xce = calloc(1, sizeof(*xce));
	int ret;

	if (!xce)
		return NULL;
	xce->logger = logger;
	xce->pipe_fd = -1;
	ret = pthread_mutex_init(&xce->lock, NULL);
	if (ret) {
		free(xce);
		errno = ret;
		return NULL;
	}
	xce->ctl = svctl_open(svctl_rundir());
	if (!xce->ctl) {
		ret = -errno;
		svxen_log(logger, -ret, ctx, "cannot connect to the hypervisor in %s",
			  svctl_rundir());
		goto out_free;
	}
	ret = svctl_call(xce->ctl, SV_CTL_EVTCHN_OPEN, NULL, 0, NULL, 0, NULL, &xce->pipe_fd);
	if (!ret && xce->pipe_fd < 0)
		ret = -EPROTO;
	if (ret) {
		svxen_log(logger, -ret, ctx, "EVTCHN_OPEN failed");
		goto out_close;
	}
	if (flags & XENEVTCHN_NO_CLOEXEC) {
		ret = set_cloexec(xce->pipe_fd, false);
		if (!ret)
			ret = set_cloexec(svctl_fd(xce->ctl), false);
		if (ret)
			goto out_close;
	}
	return xce;

out_close:
	if (xce->pipe_fd >= 0)
		close(xce->pipe_fd);
	svctl_close(xce->ctl);
out_free:
	pthread_mutex_destroy(&xce->lock);
	free(xce);
	errno = -ret;
	return NULL;
}

/*
 * Xen's fdopen rebuilds a handle from an inherited /dev/xen/evtchn fd.  Our
 * handle is two descriptors (socket and pipe), and xenevtchn_fd names only
 * the pipe, so the handle cannot be rebuilt from it: refused.
 */
xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd, unsigned open_flags)
{
	svxen_log(logger, EOPNOTSUPP, ctx, "xenevtchn_fdopen is not supported");
	errno = open_flags & XENEVTCHN_NO_CLOEXEC ? EINVAL : EOPNOTSUPP;
	return NULL;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	if (!xce)
		return 0;
	/* Closing the connection unbinds every port bound through it. */
	close(xce->pipe_fd);
	svctl_close(xce->ctl);
	pthread_mutex_destroy(&xce->lock);
	free(xce);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->pipe_fd;
}

/* One request with a sv_ctl_evtchn_port reply: the new port, or -1 and errno. */
static xenevtchn_port_or_error_t bind_call(xenevtchn_handle *xce, uint32_t op,
					   const struct sv_ctl_evtchn_bind *q)
{
	struct sv_ctl_evtchn_port r = { 0 };
	uint32_t got = 0;
	int ret;

	pthread_mutex_lock(&xce->lock);
	ret = svctl_call(xce->ctl, op, q, sizeof(*q), &r, sizeof(r), &got, NULL);
	pthread_mutex_unlock(&xce->lock);
	if (!ret && (got != sizeof(r) || r.port > INT_MAX))
		ret = -EPROTO;
	if (ret)
		return svxen_fail(ret);
	return (xenevtchn_port_or_error_t)r.port;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
	struct sv_ctl_evtchn_bind q = { .remote_dom = domid };

	return bind_call(xce, SV_CTL_EVTCHN_BIND_UNBOUND, &q);
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     evtchn_port_t remote_port)
{
	struct sv_ctl_evtchn_bind q = { .remote_dom = domid, .remote_port = remote_port };

	return bind_call(xce, SV_CTL_EVTCHN_BIND_INTERDOMAIN, &q);
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	struct sv_ctl_evtchn_bind q = { .virq = virq };

	return bind_call(xce, SV_CTL_EVTCHN_BIND_VIRQ, &q);
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	struct sv_ctl_evtchn_port q = { .port = port };
	uint32_t got = 0;
	int ret;

	pthread_mutex_lock(&xce->lock);
	ret = svctl_call(xce->ctl, SV_CTL_EVTCHN_UNBIND, &q, sizeof(q), NULL, 0, &got, NULL);
	pthread_mutex_unlock(&xce->lock);
	return ret ? svxen_fail(ret) : 0;
}

/* Notify and unmask are one-way: a bad port is only logged by the hypervisor. */
static int oneway(xenevtchn_handle *xce, uint32_t op, evtchn_port_t port)
{
	struct sv_ctl_evtchn_port q = { .port = port };
	int ret;

	pthread_mutex_lock(&xce->lock);
	ret = svctl_send_noreply(xce->ctl, op, &q, sizeof(q));
	pthread_mutex_unlock(&xce->lock);
	return ret ? svxen_fail(ret) : 0;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	return oneway(xce, SV_CTL_EVTCHN_NOTIFY, port);
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	return oneway(xce, SV_CTL_EVTCHN_UNMASK, port);
}

/*
 * As Xen's Linux back end: one read of one port from the fd, which blocks
 * unless the caller made the fd non-blocking (then -1/EAGAIN when nothing
 * fired).  EOF means the hypervisor went away: -1/EPIPE.
 */
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	uint32_t port;
	ssize_t n;

	/* No EINTR retry, as Xen: a signal may be how the caller breaks a blocking wait. */
	n = read(xce->pipe_fd, &port, sizeof(port));
	if (n < 0)
		return -1;
	if (n == 0)
		return svxen_fail(-EPIPE);
	/* The hypervisor writes whole 4-byte ports (atomic pipe writes). */
	if (n != sizeof(port) || port > INT_MAX)
		return svxen_fail(-EPROTO);
	return (xenevtchn_port_or_error_t)port;
}

int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
	return svxen_fail(-ENOSYS);
}
