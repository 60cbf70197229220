// SPDX-License-Identifier: MIT
/* What each domain writes with console_io: a ring for `xl console`, a log file, and the hypervisor
 * log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "hv.h"

/*
 * What one guest's console_io output may cost the host: each byte goes to
 * the `xl console` ring, to console/guest-NAME.log and, as lines, to the
 * hypervisor log (the run directory is often tmpfs).  Bytes are kept at
 * CONSOLE_RATE per second with bursts of CONSOLE_BURST (one whole
 * CONSOLEIO_write); the rest is dropped, with one log line when the limit
 * is hit and one when the guest has stayed under it for a whole burst.
 * The guest log becomes guest-NAME.log.1 at CONSOLE_LOG_MAX, and a guest's
 * lines stop going to the hypervisor log after CONSOLE_HVLOG_MAX.
 */
#define CONSOLE_RATE (64u * 1024)
#define CONSOLE_BURST (1u << 20)
#define CONSOLE_LOG_MAX (8u << 20)
#define CONSOLE_HVLOG_MAX (4u << 20)
#define NS_PER_S 1000000000ULL

static uint64_t console_clock_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

void console_set_limits(struct hv_domain *d, uint64_t rate, uint64_t burst, uint64_t log_max,
			uint64_t (*clock)(void))
{
	pthread_mutex_lock(&d->lock);
	d->cons_log_max = log_max;
	d->cons_clock = clock ? clock : console_clock_mono;
	sv_rate_init(&d->cons_rate, rate, burst, d->cons_clock());
	d->cons_dropped = 0;
	pthread_mutex_unlock(&d->lock);
}

int console_init(struct hv_domain *d, const char *rundir)
{
	char path[4096];

	d->cons_buf = calloc(1, SV_CONSOLE_BUF);
	if (!d->cons_buf)
		return -ENOMEM;
	console_set_limits(d, CONSOLE_RATE, CONSOLE_BURST, CONSOLE_LOG_MAX, NULL);
	snprintf(path, sizeof(path), "%s/console", rundir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/console/guest-%s.log", rundir, d->name);
	d->cons_log_path = strdup(path);
	if (!d->cons_log_path)
		return -ENOMEM;
	d->cons_log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (d->cons_log_fd < 0)
		hv_log("d%u: cannot open console log %s: %m", d->domid, path);
	return 0;
}

void console_fini(struct hv_domain *d)
{
	if (d->cons_log_fd >= 0)
		close(d->cons_log_fd);
	d->cons_log_fd = -1;
	free(d->cons_buf);
	d->cons_buf = NULL;
	free(d->cons_log_path);
	d->cons_log_path = NULL;
}

/* How many of len bytes the token bucket keeps now (a prefix; the rest is dropped). */
static size_t console_admit(struct hv_domain *d, size_t len)
{
	uint64_t tokens = sv_rate_avail(&d->cons_rate, d->cons_clock());
	size_t keep;

	if (d->cons_dropped && tokens == d->cons_rate.burst) {
		/* A whole burst's worth of time under the rate: the episode is over. */
		hv_log("d%u: console rate limit over: %llu bytes were dropped", d->domid,
		       (unsigned long long)d->cons_dropped);
		d->cons_dropped = 0;
	}
	keep = len < tokens ? len : (size_t)tokens;
	sv_rate_take(&d->cons_rate, keep);
	if (keep < len) {
		if (!d->cons_dropped)
			hv_log(
			    "d%u: console rate limit hit: dropping output (%llu bytes/s allowed)",
			    d->domid, (unsigned long long)d->cons_rate.rate);
		d->cons_dropped += len - keep;
	}
	return keep;
}

/*
 * Appends to the guest log; past cons_log_max it becomes guest-NAME.log.1
 * (replacing the last one) and a new one starts.  xenconsoled appends to
 * the same file and rotates it the same way: when it already did, the
 * file is only opened again.
 */
static void console_log_append(struct hv_domain *d, const char *buf, size_t len)
{
	struct stat st, cur;
	char old[4200];

	if (d->cons_log_fd < 0)
		return;
	if (d->cons_log_path && !fstat(d->cons_log_fd, &st) &&
	    (uint64_t)st.st_size + len > d->cons_log_max) {
		bool moved = stat(d->cons_log_path, &cur) || cur.st_ino != st.st_ino ||
			     cur.st_dev != st.st_dev;

		snprintf(old, sizeof(old), "%s.1", d->cons_log_path);
		if (!moved && rename(d->cons_log_path, old) < 0)
			hv_log("d%u: cannot rotate %s: %m", d->domid, d->cons_log_path);
		else if (!moved)
			hv_log("d%u: console log reached %llu bytes: now %s", d->domid,
			       (unsigned long long)st.st_size, old);
		close(d->cons_log_fd);
		d->cons_log_fd =
		    open(d->cons_log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (d->cons_log_fd < 0) {
			hv_log("d%u: cannot open console log %s: %m", d->domid, d->cons_log_path);
			return;
		}
	}
	if (write(d->cons_log_fd, buf, len) < 0) {
		/* A full disk must not stop the guest: drop the log, keep the ring. */
		close(d->cons_log_fd);
		d->cons_log_fd = -1;
	}
}

/* Complete lines go to the hypervisor log as "(dN) text", as Xen prints them. */
static void log_lines(struct hv_domain *d, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (c == '\n' || d->cons_line_len == sizeof(d->cons_line) - 1) {
			d->cons_line[d->cons_line_len] = '\0';
			hv_log("(d%u) %s", d->domid, d->cons_line);
			d->cons_line_len = 0;
			if (c == '\n')
				continue;
		}
		if (c == '\r' || c == '\0')
			continue;
		d->cons_line[d->cons_line_len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '?';
	}
}

void console_write(struct hv_domain *d, const char *buf, size_t len)
{
	pthread_mutex_lock(&d->lock);
	if (!d->cons_buf) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	len = console_admit(d, len);
	if (!len) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	for (size_t i = 0; i < len; i++)
		d->cons_buf[(d->cons_written + i) % SV_CONSOLE_BUF] = buf[i];
	d->cons_written += len;
	console_log_append(d, buf, len);
	if (d->cons_hvlog < CONSOLE_HVLOG_MAX) {
		d->cons_hvlog += len;
		log_lines(d, buf, len);
		if (d->cons_hvlog >= CONSOLE_HVLOG_MAX)
			hv_log(
			    "d%u: %u MiB of console output logged here: the rest goes to %s only",
			    d->domid, CONSOLE_HVLOG_MAX >> 20,
			    d->cons_log_path ? d->cons_log_path : "its console log");
	}
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
}

static bool gone(struct hv_domain *d)
{
	return d->state == DOM_SHUTDOWN || d->state == DOM_DYING;
}

/* Bytes from offset on (what is still in the ring), waiting up to timeout_ms for some. */
int console_read(struct hv_domain *d, uint64_t offset, uint32_t timeout_ms,
		 struct sv_ctl_console_data *out, uint32_t max)
{
	struct timespec ts;
	uint64_t start, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&d->lock);
	while (timeout_ms && offset >= d->cons_written && !gone(d))
		if (pthread_cond_timedwait(&d->changed, &d->lock, &ts) == ETIMEDOUT)
			break;
	start = offset;
	if (start > d->cons_written)
		start = d->cons_written;
	if (d->cons_written - start > SV_CONSOLE_BUF)
		start = d->cons_written - SV_CONSOLE_BUF; /* the rest was overwritten */
	n = d->cons_written - start;
	if (n > max)
		n = max;
	for (uint64_t i = 0; i < n; i++)
		out->data[i] = d->cons_buf[(start + i) % SV_CONSOLE_BUF];
	out->offset = start;
	out->next = start + n;
	out->len = (uint32_t)n;
	out->flags = gone(d) && out->next == d->cons_written ? SV_CONSOLE_F_GONE : 0;
	pthread_mutex_unlock(&d->lock);
	return 0;
}
