// SPDX-License-Identifier: MIT
// The data plane of one guest console: ring page, event channel, log, clients.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <pty.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cons_daemon.h"

/* Output moved per event before other domains get a turn. */
#define CONS_OUT_BATCH (4 * CONS_RING_OUT_SIZE)

/* Monotonic nanoseconds: the daemon's clock, or a test's. */
static uint64_t cons_now(const struct cons_daemon *d)
{
	struct timespec ts;

	if (d->clock)
		return d->clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct cons_domain *cons_domain_find(struct cons_daemon *d, uint32_t domid)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->domains)
	{
		struct cons_domain *dom = sv_container_of(pos, struct cons_domain, link);

		if (dom->domid == domid)
			return dom;
	}
	return NULL;
}

static struct cons_domain *cons_domain_by_port(struct cons_daemon *d, int port)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->domains)
	{
		struct cons_domain *dom = sv_container_of(pos, struct cons_domain, link);

		if (dom->local_port >= 0 && dom->local_port == port)
			return dom;
	}
	return NULL;
}

/*
 * The name becomes part of a file name: keep [A-Za-z0-9._-], map every
 * other byte to '_', refuse "." and "..", and fall back to "dom<N>".
 */
void cons_domain_sanitise_name(char *dst, size_t cap, const char *src, uint32_t domid)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < cap && i < CONS_NAME_MAX; i++) {
		char ch = src[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';

		dst[i] = ok ? ch : '_';
	}
	dst[i] = '\0';
	if (i == 0 || strcmp(dst, ".") == 0 || strcmp(dst, "..") == 0)
		snprintf(dst, cap, "dom%u", domid);
}

struct cons_domain *cons_domain_new(struct cons_daemon *d, uint32_t domid, const char *name,
				    uint64_t ring_ref, uint32_t remote_port)
{
	struct cons_domain *dom = calloc(1, sizeof(*dom));
	int ret;

	if (!dom)
		return NULL;
	dom->d = d;
	dom->domid = domid;
	dom->ring_ref = ring_ref;
	dom->remote_port = remote_port;
	dom->local_port = -1;
	dom->log_fd = -1;
	dom->pty_master = dom->pty_slave = -1;
	sv_list_init(&dom->clients);
	cons_domain_sanitise_name(dom->name, sizeof(dom->name), name, domid);
	sv_rate_init(&dom->out_rate, d->out_rate ? d->out_rate : CONS_OUT_RATE,
		     d->out_burst ? d->out_burst : CONS_OUT_BURST, cons_now(d));
	ret = cons_buf_init(&dom->history, CONS_HISTORY_SIZE);
	if (ret)
		goto out_free;
	ret = cons_buf_init(&dom->input, CONS_INPUT_SIZE);
	if (ret)
		goto out_history;
	sv_list_add_tail(&d->domains, &dom->link);
	return dom;

out_history:
	cons_buf_fini(&dom->history);
out_free:
	free(dom);
	errno = -ret;
	return NULL;
}

static void cons_domain_log_path(const struct cons_domain *dom, char *path, size_t cap)
{
	snprintf(path, cap, "%s/guest-%s.log", dom->d->console_dir, dom->name);
}

static void cons_domain_open_log(struct cons_domain *dom)
{
	char path[4096 + 96];

	if (dom->log_fd >= 0)
		return;
	cons_domain_log_path(dom, path, sizeof(path));
	dom->log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (dom->log_fd < 0)
		cons_log("domain %u: cannot open %s: %m (output not logged)", dom->domid, path);
}

/* Close and reopen every guest log (after logrotate renamed them). */
void cons_domain_reopen_logs(struct cons_daemon *d)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->domains)
	{
		struct cons_domain *dom = sv_container_of(pos, struct cons_domain, link);

		if (dom->log_fd < 0 && !dom->intf)
			continue; /* never connected: no log yet */
		if (dom->log_fd >= 0)
			close(dom->log_fd);
		dom->log_fd = -1;
		dom->log_failed = false;
		cons_domain_open_log(dom);
	}
}

/* Unmap the page and unbind the port; the domain stays in the table. */
static void cons_domain_disconnect(struct cons_domain *dom)
{
	struct cons_daemon *d = dom->d;

	if (dom->local_port >= 0) {
		if (xenevtchn_unbind(d->xce, (evtchn_port_t)dom->local_port) < 0)
			cons_log("domain %u: unbind port %d: %m", dom->domid, dom->local_port);
		dom->local_port = -1;
	}
	if (dom->intf) {
		if (xenforeignmemory_unmap(d->fmem, dom->intf, 1) < 0)
			cons_log("domain %u: unmap console page: %m", dom->domid);
		dom->intf = NULL;
	}
}

/* Every attached client is told nothing more and closed. */
static void cons_domain_drop_clients(struct cons_domain *dom)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &dom->clients)
	{
		struct cons_client *c = sv_container_of(pos, struct cons_client, link);

		cons_client_kill(c);
	}
}

/*
 * Map ring-ref and bind the guest's port, then take whatever the guest
 * wrote before we came.  Returns 0 or -errno (the domain stays
 * unconnected and is retried when its keys change).
 */
/*
 * A pty per guest, as Xen's xenconsoled: its path in console/tty, which
 * libxl waits for before `xl create` of Xen's own completes, and which
 * Xen's xenconsole client (`xl console`) opens.  What the guest writes is
 * copied to it when there is room (else dropped: nobody reads); what is
 * typed on it goes to the guest like a socket client's input.  The slave
 * stays open so that output written while nobody reads does not fail.
 * cons_xs.c publishes its path.
 */
/* Every pty master is in epoll with this one tag: see cons_domain_pty_input. */
static struct cons_ep pty_ep = { .kind = CONS_EP_PTY };

static void cons_domain_open_pty(struct cons_domain *dom)
{
	struct termios t;

	if (dom->pty_master >= 0)
		return;
	if (openpty(&dom->pty_master, &dom->pty_slave, NULL, NULL, NULL) < 0) {
		cons_log("domain %u: cannot open a pty: %m", dom->domid);
		dom->pty_master = dom->pty_slave = -1;
		return;
	}
	if (tcgetattr(dom->pty_slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(dom->pty_slave, TCSANOW, &t);
	}
	fcntl(dom->pty_master, F_SETFL, fcntl(dom->pty_master, F_GETFL) | O_NONBLOCK);
	fcntl(dom->pty_master, F_SETFD, FD_CLOEXEC);
	fcntl(dom->pty_slave, F_SETFD, FD_CLOEXEC);
	if (dom->d->epfd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &pty_ep };

		if (epoll_ctl(dom->d->epfd, EPOLL_CTL_ADD, dom->pty_master, &ev) < 0)
			cons_log("domain %u: pty input not watched: %m", dom->domid);
	}
}

static void pty_input_one(struct cons_domain *dom)
{
	char buf[512];
	size_t room = cons_buf_space(&dom->input);
	ssize_t n;

	/* With no room the bytes are read and dropped, or epoll would wake for them forever. */
	n = read(dom->pty_master, buf, room && room < sizeof(buf) ? room : sizeof(buf));
	if (n <= 0 || !room)
		return;
	cons_buf_push(&dom->input, buf, (size_t)n);
	cons_domain_input_ready(dom);
}

void cons_domain_pty_input(struct cons_daemon *d)
{
	struct sv_list *pos, *tmp;

	sv_list_for_each_safe(pos, tmp, &d->domains)
	{
		struct cons_domain *dom = sv_container_of(pos, struct cons_domain, link);

		if (dom->pty_master >= 0)
			pty_input_one(dom); /* non-blocking: nothing typed is EAGAIN */
	}
}

int cons_domain_connect(struct cons_domain *dom)
{
	struct cons_daemon *d = dom->d;
	xen_pfn_t gfn = (xen_pfn_t)dom->ring_ref;
	xenevtchn_port_or_error_t port;
	int err = 0, ret;

	dom->intf =
	    xenforeignmemory_map(d->fmem, dom->domid, PROT_READ | PROT_WRITE, 1, &gfn, &err);
	if (!dom->intf || err) {
		ret = err ? -abs(err) : -errno;
		if (dom->intf && xenforeignmemory_unmap(d->fmem, dom->intf, 1) < 0)
			cons_log("domain %u: unmap console page: %m", dom->domid);
		dom->intf = NULL;
		cons_log("domain %u: cannot map console page %#llx: %s", dom->domid,
			 (unsigned long long)dom->ring_ref, strerror(-ret));
		return ret ? ret : -EIO;
	}
	port = xenevtchn_bind_interdomain(d->xce, dom->domid, dom->remote_port);
	if (port < 0) {
		ret = -errno;
		cons_log("domain %u: cannot bind port %u: %m", dom->domid, dom->remote_port);
		goto out_unmap;
	}
	dom->local_port = port;
	dom->disabled = false;
	cons_domain_open_log(dom);
	cons_domain_open_pty(dom);
	cons_log("domain %u (%s): console connected, page %#llx, port %u -> %d", dom->domid,
		 dom->name, (unsigned long long)dom->ring_ref, dom->remote_port, port);
	cons_domain_service(dom);
	return 0;

out_unmap:
	if (xenforeignmemory_unmap(d->fmem, dom->intf, 1) < 0)
		cons_log("domain %u: unmap console page: %m", dom->domid);
	dom->intf = NULL;
	return ret ? ret : -EIO;
}

/* The toolstack or guest moved the ring: serve the new page and port. */
int cons_domain_reconnect(struct cons_domain *dom, uint64_t ring_ref, uint32_t remote_port)
{
	cons_domain_disconnect(dom);
	cons_buf_consume(&dom->input, cons_buf_len(&dom->input));
	dom->ring_ref = ring_ref;
	dom->remote_port = remote_port;
	dom->disabled = false;
	return cons_domain_connect(dom);
}

/* A rogue ring: stop serving this console only, and say so. */
void cons_domain_disable(struct cons_domain *dom, const char *why)
{
	cons_log("domain %u (%s): %s; console disabled", dom->domid, dom->name, why);
	cons_domain_disconnect(dom);
	cons_domain_drop_clients(dom);
	cons_buf_consume(&dom->input, cons_buf_len(&dom->input));
	dom->disabled = true;
}

void cons_domain_free(struct cons_domain *dom, const char *why)
{
	cons_log("domain %u (%s): dropped: %s", dom->domid, dom->name, why);
	cons_domain_disconnect(dom);
	cons_domain_drop_clients(dom);
	if (dom->log_fd >= 0)
		close(dom->log_fd);
	if (dom->pty_master >= 0)
		close(dom->pty_master);
	if (dom->pty_slave >= 0)
		close(dom->pty_slave);
	cons_buf_fini(&dom->history);
	cons_buf_fini(&dom->input);
	sv_list_del(&dom->link);
	free(dom);
}

static void cons_domain_log_raw(struct cons_domain *dom, const char *buf, size_t len)
{
	while (dom->log_fd >= 0 && !dom->log_failed && len) {
		ssize_t n = write(dom->log_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cons_log("domain %u: writing its log: %s", dom->domid,
				 n < 0 ? strerror(errno) : "short write");
			dom->log_failed = true;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * Before len more bytes go to the log: past the size cap it becomes
 * guest-NAME.log.1 (replacing the last one) and a new log starts.  The
 * hypervisor appends console_io output to the same file and rotates it
 * the same way: when it already did, the file is only opened again.
 */
static void cons_domain_log_room(struct cons_domain *dom, size_t len)
{
	uint64_t max = dom->d->log_max ? dom->d->log_max : CONS_LOG_MAX;
	char path[4096 + 96], old[4096 + 100];
	struct stat st, cur;
	bool moved;

	if (dom->log_fd < 0 || dom->log_failed || fstat(dom->log_fd, &st) ||
	    (uint64_t)st.st_size + len <= max)
		return;
	cons_domain_log_path(dom, path, sizeof(path));
	snprintf(old, sizeof(old), "%s.1", path);
	moved = stat(path, &cur) || cur.st_ino != st.st_ino || cur.st_dev != st.st_dev;
	if (!moved) {
		if (rename(path, old) < 0)
			cons_log("domain %u: cannot rotate %s: %m", dom->domid, path);
		else
			cons_log("domain %u (%s): log reached %llu bytes: now %s", dom->domid,
				 dom->name, (unsigned long long)st.st_size, old);
	}
	close(dom->log_fd);
	dom->log_fd = -1;
	cons_domain_open_log(dom);
}

/*
 * Append output to the guest's log; with --timestamp=guest each line
 * starts with "[YYYY-MM-DD HH:MM:SS] " (UTC), as Xen's xenconsoled does.
 */
static void cons_domain_log_write(struct cons_domain *dom, const char *buf, size_t len)
{
	char stamp[32];
	struct tm tm;
	time_t now;
	size_t slen = 0;

	/* Stamps make it longer: room for one per 2 bytes at worst is plenty. */
	cons_domain_log_room(dom, dom->d->log_timestamps ? len * 12 : len);
	if (!dom->d->log_timestamps) {
		cons_domain_log_raw(dom, buf, len);
		return;
	}
	now = time(NULL);
	if (gmtime_r(&now, &tm))
		slen = strftime(stamp, sizeof(stamp), "[%Y-%m-%d %H:%M:%S] ", &tm);
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t n = nl ? (size_t)(nl - buf) + 1 : len;

		if (dom->log_mid_line == false)
			cons_domain_log_raw(dom, stamp, slen);
		cons_domain_log_raw(dom, buf, n);
		dom->log_mid_line = !nl;
		buf += n;
		len -= n;
	}
}

/* Guest output goes to the log, the history and every attached client. */
static void cons_domain_output(struct cons_domain *dom, const char *buf, size_t len)
{
	struct sv_list *pos, *tmp;

	cons_domain_log_write(dom, buf, len);
	cons_buf_push_overwrite(&dom->history, buf, len);
	if (dom->pty_master >= 0 && write(dom->pty_master, buf, len) < 0) {
		/* full (nobody reads it) or gone: that output is not on the pty */
	}
	sv_list_for_each_safe(pos, tmp, &dom->clients)
	{
		struct cons_client *c = sv_container_of(pos, struct cons_client, link);

		cons_client_send(c, buf, len);
	}
}

static void cons_domain_rogue(struct cons_domain *dom, const char *ring, uint32_t cons,
			      uint32_t prod)
{
	char why[128];

	snprintf(why, sizeof(why), "rogue %s ring indices (cons %u, prod %u)", ring, cons, prod);
	cons_domain_disable(dom, why);
}

/* Push queued client input into in[] as space allows. */
static bool cons_domain_flush_input(struct cons_domain *dom)
{
	uint32_t bc = 0, bp = 0;
	bool moved = false;

	while (dom->intf && !cons_buf_empty(&dom->input)) {
		size_t contig, done;
		const char *p = cons_buf_peek(&dom->input, &contig);

		if (cons_ring_write_in(dom->intf, p, contig, &done, &bc, &bp)) {
			cons_domain_rogue(dom, "input", bc, bp);
			return false;
		}
		if (!done)
			break;
		cons_buf_consume(&dom->input, done);
		moved = true;
	}
	return moved;
}

/* Re-arm reading from clients once the input queue has room again. */
static void cons_domain_resume_clients(struct cons_domain *dom)
{
	struct sv_list *pos, *tmp;

	if (cons_buf_space(&dom->input) == 0)
		return;
	sv_list_for_each_safe(pos, tmp, &dom->clients)
	{
		struct cons_client *c = sv_container_of(pos, struct cons_client, link);

		cons_client_set_reading(c, true);
	}
}

/*
 * Move output out of the ring and input into it, then notify the guest if
 * either index moved (it may wait for out[] space or for input).
 */
/*
 * How much of out[] the guest's rate allows now (at most cap).  0 with
 * output waiting: the guest is throttled (it waits for ring space) until
 * cons_domain_service_throttled reads it again; the first time in an
 * episode is logged, and so is its end, once the guest stayed under the
 * rate for a whole burst.  -EPROTO for rogue indices.
 */
static int cons_domain_out_allowed(struct cons_domain *dom, size_t cap, size_t *allowed)
{
	struct sv_rate *r = &dom->out_rate;
	uint64_t tokens = sv_rate_avail(r, cons_now(dom->d));
	uint32_t avail, bc = 0, bp = 0;

	if (dom->limited && tokens == r->burst) {
		cons_log("domain %u (%s): console output under the rate limit again "
			 "(throttled %llu times)",
			 dom->domid, dom->name, (unsigned long long)dom->throttles);
		dom->limited = false;
	}
	*allowed = tokens < cap ? (size_t)tokens : cap;
	if (*allowed)
		return 0;
	if (cons_ring_out_avail(dom->intf, &avail, &bc, &bp)) {
		cons_domain_rogue(dom, "output", bc, bp);
		return -EPROTO;
	}
	if (avail && !dom->throttled) {
		dom->throttled = true;
		dom->throttles++;
		if (!dom->limited)
			cons_log("domain %u (%s): console rate limit hit: reading its output at "
				 "%llu bytes/s",
				 dom->domid, dom->name, (unsigned long long)r->rate);
		dom->limited = true;
	}
	return 0;
}

void cons_domain_service(struct cons_domain *dom)
{
	char buf[CONS_RING_OUT_SIZE];
	size_t total = 0, len, cap;
	bool notify = false;
	uint32_t bc = 0, bp = 0;

	if (!dom->intf || dom->disabled)
		return;
	dom->throttled = false;
	do {
		if (cons_domain_out_allowed(dom, sizeof(buf), &cap))
			return;
		if (!cap)
			break;
		if (cons_ring_read_out(dom->intf, buf, cap, &len, &bc, &bp)) {
			cons_domain_rogue(dom, "output", bc, bp);
			return;
		}
		if (len) {
			notify = true;
			sv_rate_take(&dom->out_rate, len);
			cons_domain_output(dom, buf, len);
		}
		total += len;
	} while (len && total < CONS_OUT_BATCH && dom->intf);
	if (!dom->intf)
		return;
	if (cons_domain_flush_input(dom))
		notify = true;
	if (!dom->intf)
		return;
	if (notify && xenevtchn_notify(dom->d->xce, (evtchn_port_t)dom->local_port) < 0)
		cons_log("domain %u: notify port %d: %m", dom->domid, dom->local_port);
	cons_domain_resume_clients(dom);
}

/* Tokens a throttled guest waits for before it is read again. */
static uint64_t cons_domain_resume_at(const struct cons_domain *dom)
{
	return CONS_OUT_RESUME < dom->out_rate.burst ? CONS_OUT_RESUME : dom->out_rate.burst;
}

int cons_domain_timeout_ms(struct cons_daemon *d)
{
	struct sv_list *pos, *tmp;
	uint64_t now = cons_now(d), best = UINT64_MAX;

	sv_list_for_each_safe(pos, tmp, &d->domains)
	{
		struct cons_domain *dom = sv_container_of(pos, struct cons_domain, link);
		uint64_t at;

		if (!dom->throttled || !dom->intf)
			continue;
		at = dom->out_rate.last_ns +
		     sv_rate_wait_ns(&dom->out_rate, cons_domain_resume_at(dom));
		if (at < best)
			best = at;
	}
	if (best == UINT64_MAX)
		return -1;
	if (best <= now)
		return 0;
	/* Rounded up, so the tokens are there when we wake. */
	best = (best - now + 999999) / 1000000;
	return best > 60000 ? 60000 : (int)best;
}

void cons_domain_service_throttled(struct cons_daemon *d)
{
	struct sv_list *pos, *tmp;
	uint64_t now = cons_now(d);

	sv_list_for_each_safe(pos, tmp, &d->domains)
	{
		struct cons_domain *dom = sv_container_of(pos, struct cons_domain, link);

		if (dom->throttled && dom->intf &&
		    sv_rate_avail(&dom->out_rate, now) >= cons_domain_resume_at(dom))
			cons_domain_service(dom);
	}
}

/*
 * New client input was queued: pass it on now, and take any output that
 * is waiting too (one service covers both directions).
 */
void cons_domain_input_ready(struct cons_domain *dom)
{
	cons_domain_service(dom);
}

/*
 * The event-channel fd is readable: serve one pending port.  Only one,
 * because the fd may be blocking (as Linux's /dev/xen/evtchn is); epoll is
 * level-triggered, so further pending ports wake the loop again.
 * Returns 0, or -errno when the event channel device failed for good.
 */
int cons_domain_handle_evtchn(struct cons_daemon *d)
{
	xenevtchn_port_or_error_t port = xenevtchn_pending(d->xce);
	struct cons_domain *dom;

	if (port < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		cons_log("event channel: pending: %m");
		return errno ? -errno : -EIO;
	}
	if (xenevtchn_unmask(d->xce, (evtchn_port_t)port) < 0)
		cons_log("event channel: unmask %d: %m", port);
	dom = cons_domain_by_port(d, port);
	if (dom)
		cons_domain_service(dom);
	return 0;
}
