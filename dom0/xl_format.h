/* SPDX-License-Identifier: MIT */
/* Text formats of xl's small commands (uptime, top), kept apart so that unit tests check them
 * alone. */
#ifndef SV_XL_FORMAT_H
#define SV_XL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sv/ctl.h"

/*
 * An uptime as Xen's xl prints it: "12:03:04" below a day (hours
 * space-padded to 2), "1 day,  2:03:04", "3 days, 10:00:00"; in the short
 * form (`xl uptime -s`) without the seconds.  Always NUL-terminates buf.
 */
void xl_uptime_text(uint64_t secs, bool short_form, char *buf, size_t len);

/* Seconds from a /vm/<uuid>/start_time value ("1733400000.25"); -EINVAL when it is not one. */
int xl_start_time_parse(const char *text, uint64_t *secs);

/* One row of xentop's table; the numbers as xentop takes them from libxenstat. */
struct xl_top_row {
	char name[64];
	char state[7]; /* xl_top_state() */
	uint64_t cpu_ns;
	double cpu_pct; /* from two samples; 0 for the first */
	uint64_t mem_kb;
	uint64_t maxmem_kb; /* UINT64_MAX: "no limit" */
	uint64_t host_kb;   /* the host's memory, for the percentages */
	unsigned vcpus;
	unsigned nets;
	uint64_t net_tx_bytes, net_rx_bytes; /* from the domain's side */
	unsigned vbds;
	uint64_t vbd_oo, vbd_rd, vbd_wr, vbd_rsect, vbd_wsect;
	unsigned ssid;
};

/* xentop's state letters, in its order: d(ying) s(hutdown) b(locked) c(rashed) p(aused) r(unning).
 */
void xl_top_state(const struct sv_dominfo *d, char out[7]);
/* Per cent of one CPU that cpu_ns_now - cpu_ns_then is of wall_ns, as xentop computes it. */
double xl_top_cpu_pct(uint64_t cpu_ns_then, uint64_t cpu_ns_now, uint64_t wall_ns);
/* xentop's column header line (with its newline). */
int xl_top_header(char *buf, size_t len);
/* One row (with its newline); full_name: the whole name, else its first 10 characters. */
int xl_top_row_text(const struct xl_top_row *r, bool full_name, char *buf, size_t len);

#endif
