// SPDX-License-Identifier: MIT
/* Text formats of xl uptime and xl top, as Xen 4.17's xl and xentop print them. */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/sched.h>
#include "xl_format.h"

void xl_uptime_text(uint64_t secs, bool short_form, char *buf, size_t len)
{
	unsigned long long day = secs / 86400;
	unsigned hour = (unsigned)(secs % 86400 / 3600), min = (unsigned)(secs % 3600 / 60);
	unsigned sec = (unsigned)(secs % 60);
	char days[48] = "";

	if (day)
		snprintf(days, sizeof(days), "%llu day%s, ", day, day > 1 ? "s" : "");
	if (short_form)
		snprintf(buf, len, "%s%2u:%02u", days, hour, min);
	else
		snprintf(buf, len, "%s%2u:%02u:%02u", days, hour, min, sec);
}

int xl_start_time_parse(const char *text, uint64_t *secs)
{
	unsigned long long v;
	char *end;

	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || (*end && *end != '.'))
		return -EINVAL;
	*secs = v;
	return 0;
}

void xl_top_state(const struct sv_dominfo *d, char out[7])
{
	bool shut = d->flags & SV_DOMF_SHUTDOWN;
	bool crashed = shut && d->shutdown_reason == SHUTDOWN_crash;

	memcpy(out, "------", 7);
	if (d->flags & SV_DOMF_DYING)
		out[0] = 'd';
	if (shut && !crashed)
		out[1] = 's';
	if (d->flags & SV_DOMF_BLOCKED)
		out[2] = 'b';
	if (crashed)
		out[3] = 'c';
	if (d->flags & SV_DOMF_PAUSED)
		out[4] = 'p';
	if (d->flags & SV_DOMF_RUNNING)
		out[5] = 'r';
}

double xl_top_cpu_pct(uint64_t cpu_ns_then, uint64_t cpu_ns_now, uint64_t wall_ns)
{
	if (!wall_ns || cpu_ns_now < cpu_ns_then)
		return 0.0;
	return (double)(cpu_ns_now - cpu_ns_then) * 100.0 / (double)wall_ns;
}

int xl_top_header(char *buf, size_t len)
{
	return snprintf(buf, len,
			"%10s %6s %10s %6s %10s %6s %10s %9s %5s %4s %8s %8s %4s %8s %8s %8s "
			"%10s %10s %4s\n",
			"NAME", "STATE", "CPU(sec)", "CPU(%)", "MEM(k)", "MEM(%)", "MAXMEM(k)",
			"MAXMEM(%)", "VCPUS", "NETS", "NETTX(k)", "NETRX(k)", "VBDS", "VBD_OO",
			"VBD_RD", "VBD_WR", "VBD_RSECT", "VBD_WSECT", "SSID");
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? (double)part * 100.0 / (double)whole : 0.0;
}

int xl_top_row_text(const struct xl_top_row *r, bool full_name, char *buf, size_t len)
{
	char maxmem[24], maxpct[24];

	if (r->maxmem_kb == UINT64_MAX) {
		snprintf(maxmem, sizeof(maxmem), "%10s", "no limit");
		snprintf(maxpct, sizeof(maxpct), "%9s", "n/a");
	} else {
		snprintf(maxmem, sizeof(maxmem), "%10llu", (unsigned long long)r->maxmem_kb);
		snprintf(maxpct, sizeof(maxpct), "%9.1f", pct(r->maxmem_kb, r->host_kb));
	}
	return snprintf(
	    buf, len,
	    "%10.*s %6s %10llu %6.1f %10llu %6.1f %s %s %5u %4u %8llu %8llu %4u %8llu %8llu "
	    "%8llu %10llu %10llu %4u\n",
	    full_name ? (int)sizeof(r->name) : 10, r->name, r->state,
	    (unsigned long long)(r->cpu_ns / 1000000000ULL), r->cpu_pct,
	    (unsigned long long)r->mem_kb, pct(r->mem_kb, r->host_kb), maxmem, maxpct, r->vcpus,
	    r->nets, (unsigned long long)(r->net_tx_bytes / 1024),
	    (unsigned long long)(r->net_rx_bytes / 1024), r->vbds, (unsigned long long)r->vbd_oo,
	    (unsigned long long)r->vbd_rd, (unsigned long long)r->vbd_wr,
	    (unsigned long long)r->vbd_rsect, (unsigned long long)r->vbd_wsect, r->ssid);
}
