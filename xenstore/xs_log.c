// SPDX-License-Identifier: MIT
// The daemon log: timestamped lines in DIR/xenstored.log (stderr when no log is open).
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "xenstored.h"

void xs_log(struct xs_daemon *d, const char *fmt, ...)
{
	FILE *f = d->log ? d->log : stderr;
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(f, "%04d-%02d-%02d %02d:%02d:%02d.%03ld xenstored: ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}
