// SPDX-License-Identifier: MIT
/* xl_progress: a status line on stderr for xl's long waits, redrawn in place on a terminal, silent
 * elsewhere. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "xl_progress.h"

/* How often the line is redrawn when only the elapsed time changes. */
#define XL_PROGRESS_REDRAW_NS 100000000LL

/*
 * The one progress line of this process (xl is single-threaded and waits
 * for one thing at a time).  Owned by this file.
 */
static struct {
	bool active; /* between start and done, and stderr is a terminal */
	bool drawn;  /* something is on the line and must be erased */
	int64_t start_ns;
	int64_t drawn_ns; /* when the line was last drawn */
	char what[160];
	char detail[160];
} xl_progress;

static int64_t xl_progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* True when a progress line may be shown: stderr is a terminal that understands \r and ESC[K. */
static bool xl_progress_wanted(void)
{
	const char *term = getenv("TERM");
	const char *off = getenv("XL_NO_PROGRESS");

	if (off && *off)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(STDERR_FILENO);
}

/* Columns of the terminal on stderr; 80 when it does not say. */
static int xl_progress_columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* Redraw "<what>: <detail> (N.N s)", cut to the terminal's width so it never wraps. */
static void xl_progress_draw(int64_t now)
{
	char line[400];
	int cols = xl_progress_columns();
	int n;

	n = snprintf(line, sizeof(line), "%s%s%s (%.1f s)", xl_progress.what,
		     xl_progress.detail[0] ? ": " : "", xl_progress.detail,
		     (double)(now - xl_progress.start_ns) / 1e9);
	if (n < 0)
		return;
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	if (n > cols - 1)
		n = cols - 1;
	/* \r: back to column 0; ESC[K: erase what a longer earlier line left. */
	fprintf(stderr, "\r%.*s\033[K", n, line);
	fflush(stderr);
	xl_progress.drawn = true;
	xl_progress.drawn_ns = now;
}

void xl_progress_start(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (xl_progress.active)
		xl_progress_done();
	memset(&xl_progress, 0, sizeof(xl_progress));
	if (!xl_progress_wanted())
		goto out;
	va_start(ap, fmt);
	vsnprintf(xl_progress.what, sizeof(xl_progress.what), fmt, ap);
	va_end(ap);
	xl_progress.active = true;
	xl_progress.start_ns = xl_progress_now();
	xl_progress_draw(xl_progress.start_ns);
out:
	errno = saved;
}

void xl_progress_tick(const char *fmt, ...)
{
	int saved = errno;
	bool changed = false;
	int64_t now;

	if (!xl_progress.active)
		return;
	if (fmt) {
		char detail[sizeof(xl_progress.detail)];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
		changed = strcmp(detail, xl_progress.detail) != 0;
		if (changed)
			memcpy(xl_progress.detail, detail, sizeof(detail));
	}
	now = xl_progress_now();
	if (changed || now - xl_progress.drawn_ns >= XL_PROGRESS_REDRAW_NS)
		xl_progress_draw(now);
	errno = saved;
}

void xl_progress_done(void)
{
	int saved = errno;

	if (xl_progress.active && xl_progress.drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	xl_progress.active = false;
	xl_progress.drawn = false;
	errno = saved;
}
