/* SPDX-License-Identifier: MIT */
/* TAP devices through /dev/net/tun: one fd per queue, virtio-net headers, offloads. */
#ifndef SV_NB_TAP_H
#define SV_NB_TAP_H

#include "nb.h"

/*
 * Opens one queue of the multi-queue TAP name, creating the device with
 * the first queue (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE).
 * The fd is non-blocking and close-on-exec; the device goes away when its
 * last queue fd is closed.  Returns the fd or -errno (-EINVAL when name is
 * empty or too long, -EBUSY when another kind of device has the name).
 */
int nb_tap_open(const char *name);

/*
 * Tells the kernel which offloads our reads may carry, from what the
 * frontend takes: partial checksums, TSO for IPv4 and IPv6.  0 or -errno.
 */
int nb_tap_set_offload(int fd, const struct nb_features *f);

#endif /* SV_NB_TAP_H */
