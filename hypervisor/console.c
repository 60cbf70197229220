// SPDX-License-Identifier: MIT
/* What each domain writes with console_io: a ring for `xl console`, a log file, and the hypervisor log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hv.h"

int console_init(struct hv_domain *d, const char *rundir)
{
	char path[4096];

	d->cons_buf = calloc(1, SV_CONSOLE_BUF);
	if (!d->cons_buf)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/console", rundir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/console/guest-%s.log", rundir, d->name);
	d->cons_log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (d->cons_log_fd < 0)
		hv_log("d%u: cannot open console log %s: %s", d->domid, path, strerror(errno));
	return 0;
}

void console_fini(struct hv_domain *d)
{
	if (d->cons_log_fd >= 0)
		close(d->cons_log_fd);
	d->cons_log_fd = -1;
	free(d->cons_buf);
	d->cons_buf = NULL;
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
	for (size_t i = 0; i < len; i++)
		d->cons_buf[(d->cons_written + i) % SV_CONSOLE_BUF] = buf[i];
	d->cons_written += len;
	if (d->cons_log_fd >= 0 && write(d->cons_log_fd, buf, len) < 0) {
		/* A full disk must not stop the guest: drop the log, keep the ring. */
		close(d->cons_log_fd);
		d->cons_log_fd = -1;
	}
	log_lines(d, buf, len);
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
