/* SPDX-License-Identifier: MIT */
/* A domain's xenstore nodes as the toolstack keeps them: written and introduced at create,
 * removed after destroy (through the typed helpers of include/sv/svxs.h). */
#ifndef SV_XL_DOMNODES_H
#define SV_XL_DOMNODES_H

#include <stddef.h>
#include <stdint.h>
#include "sv/svxs.h"

struct xs_handle;

struct xl_domnodes {
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
int xl_domnodes_setup(struct xs_handle *xs, const struct xl_domnodes *dom, char *err,
		      size_t errlen);
/*
 * The message of a failed svxs_transaction_at that wrote under dir, as xl
 * says it: "xenstore: cannot start a transaction: ...", "xenstore: cannot
 * write DIR: ...", "xenstore: cannot commit DIR: ...".
 */
void xl_domnodes_tx_error(char *err, size_t errlen, enum svxs_tx_step step, const char *dir,
			  int ret);
/* Releases the domain in xenstored and removes its nodes (after destroy; xs may be NULL). */
void xl_domnodes_cleanup(struct xs_handle *xs, uint32_t domid);

#endif
