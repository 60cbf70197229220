// SPDX-License-Identifier: MIT
/* netback's log lines: a UTC time stamp and "netback:" on stderr (the supervisor files them). */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "nb.h"

void nb_log(const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
	fprintf(stderr, "%s netback: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
