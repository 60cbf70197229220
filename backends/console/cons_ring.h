// SPDX-License-Identifier: MIT
// The backend's half of a guest's console ring (struct xencons_interface).
#ifndef SV_CONS_RING_H
#define SV_CONS_RING_H

#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/io/console.h>

/* Sizes of the two byte rings in the shared page (Xen's fixed layout). */
#define CONS_RING_OUT_SIZE sizeof(((struct xencons_interface *)0)->out)
#define CONS_RING_IN_SIZE sizeof(((struct xencons_interface *)0)->in)

/*
 * The page is shared with a guest that may rewrite any byte at any time.
 * Each index is loaded once, checked, then used; data is copied out once.
 * A guest whose producer/consumer distance exceeds the ring size is rogue:
 * these calls then return -EPROTO, touch nothing and set *bad_cons and
 * *bad_prod (when non-NULL) to the indices seen, for the log line.
 */

/*
 * Move up to CAP bytes of guest output (out[]) into DST and advance
 * out_cons over them.  *LEN receives the count (0 when empty).
 * Returns 0 or -EPROTO.
 */
int cons_ring_read_out(struct xencons_interface *intf, char *dst, size_t cap, size_t *len,
		       uint32_t *bad_cons, uint32_t *bad_prod);

/*
 * Bytes of guest output waiting in out[] (*AVAIL), without taking them.
 * Returns 0 or -EPROTO.
 */
int cons_ring_out_avail(struct xencons_interface *intf, uint32_t *avail, uint32_t *bad_cons,
			uint32_t *bad_prod);

/*
 * Copy up to LEN bytes of SRC into the guest's input ring (in[]) as space
 * allows and advance in_prod.  *DONE receives how many were taken.
 * Returns 0 or -EPROTO.
 */
int cons_ring_write_in(struct xencons_interface *intf, const char *src, size_t len, size_t *done,
		       uint32_t *bad_cons, uint32_t *bad_prod);

#endif
