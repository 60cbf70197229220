// SPDX-License-Identifier: MIT
// The daemon log: lines in the common format in DIR/xenstored.log (stderr when no log is open).
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "sv/daemon.h"

#include "xenstored.h"

void xs_log(struct xs_daemon *d, const char *fmt, ...)
{
	int saved = errno;
	FILE *f = d->log ? d->log : stderr;
	char line[1024];
	va_list ap;

	/* The one line format of every daemon (sv/daemon.h), %m included. */
	va_start(ap, fmt);
	svd_format_line(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(f, "%s\n", line);
	fflush(f);
	errno = saved;
}
