/* SPDX-License-Identifier: MIT */
/* The toolstack's xenstore side: a domain's entries, introduction and clean-up. */
#ifndef SV_XL_XS_H
#define SV_XL_XS_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"

struct xs_handle;

/* Connects to xenstored (XENSTORED_PATH, else the run directory's); NULL if it is not there. */
struct xs_handle *xl_xs_open(void);
void xl_xs_close(struct xs_handle *xs);

struct xl_xs_domain {
	uint32_t domid;
	const char *name;
	const char *uuid; /* canonical text form */
	uint64_t memory_kb, maxmem_kb;
	unsigned vcpus, maxvcpus;
	uint64_t store_mfn, console_mfn;
	uint32_t store_port, console_port;
};

/*
 * Writes the domain's nodes as libxl does for a PV guest (name, domid, vm
 * with its start_time, memory, cpu availability, store, console, control
 * with shutdown and sysrq, data, device) with
 * the guest owning the nodes it may write, then introduces the domain to
 * xenstored (which starts serving its store ring).  Returns 0 or -errno
 * with a message in err.
 */
int xl_xs_domain_setup(struct xs_handle *xs, const struct xl_xs_domain *dom, char *err,
		       size_t errlen);
/* Releases the domain in xenstored and removes its nodes (after destroy). */
void xl_xs_domain_cleanup(struct xs_handle *xs, uint32_t domid);
/* Reads /local/domain/<domid>/<rel>; NULL when absent (caller frees). */
char *xl_xs_read(struct xs_handle *xs, uint32_t domid, const char *rel);
bool xl_xs_write(struct xs_handle *xs, uint32_t domid, const char *rel, const char *value);

#endif
