/* SPDX-License-Identifier: MIT */
/* Per-domain device statistics for xl top and libxenstat: blkback's counts, the vifs' host
 * counters. */
#ifndef DOMSTAT_H
#define DOMSTAT_H

#include <stdint.h>

struct xs_handle;

/* One device of blkback's status socket. */
struct domstat_vbd {
	uint32_t domid;
	uint32_t devid;
	uint64_t reads, writes; /* requests */
};

#define DOMSTAT_VBD_MAX 256

/*
 * Parses blkback's status text (lines "vbd DOMID/DEVID ... reads R writes W
 * ..."; other lines are skipped) into out, at most max; returns how many.
 * buf is modified.
 */
int domstat_parse_vbds(char *buf, struct domstat_vbd *out, int max);
/* Asks RUNDIR/blkback.sock; 0 devices when no blkback answers. */
int domstat_read_vbds(const char *rundir, struct domstat_vbd *out, int max);
/* /sys/class/net/IFNAME/statistics/WHICH; 0 when it cannot be read. */
uint64_t domstat_if_counter(const char *ifname, const char *which);
/* The host interface of backend/vif/DOMID/DEV (its vifname, else vifDOMID.DEV). */
void domstat_vif_ifname(struct xs_handle *xs, uint32_t domid, const char *dev, char *out,
			unsigned outlen);
/* memory/static-max of the domain in KiB, else fallback. */
uint64_t domstat_maxmem_kb(struct xs_handle *xs, uint32_t domid, uint64_t fallback);
/* The host's user + nice + system CPU time (Domain-0's, as our xl shows it). */
uint64_t domstat_host_cpu_ns(void);

#endif
