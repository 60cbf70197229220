// SPDX-License-Identifier: MIT
/* blkback's log: one UTC-timestamped line per event on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include "blkback.h"

void blk_log(const char *fmt, ...)
{
	char stamp[32] = "";
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s blkback: ", stamp);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}
