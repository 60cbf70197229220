/* SPDX-License-Identifier: MIT */
/* Links and bridges through libnl-3 (route): the only file set that knows libnl. */
#ifndef SV_NB_LINK_H
#define SV_NB_LINK_H

#include <stdbool.h>

/* A netlink route socket.  Not thread safe: one user at a time. */
struct nb_link;

/* NULL and errno when netlink cannot be reached. */
struct nb_link *nb_link_open(void);
void nb_link_close(struct nb_link *l);

/* Creates the bridge br when it is missing, and brings it up.  0 or -errno. */
int nb_link_bridge_ensure(struct nb_link *l, const char *br);

/*
 * Gives ifname the MAC fe:ff:ff:ff:ff:ff (so the bridge keeps its own, as
 * Xen's vif-bridge does) and the MTU mtu (0: leave it), enslaves it to br
 * and brings it up.  0 or -errno.
 */
int nb_link_attach(struct nb_link *l, const char *ifname, const char *br, unsigned mtu);

/* Deletes ifname (absent is fine).  0 or -errno. */
int nb_link_delete(struct nb_link *l, const char *ifname);

/* Whether an interface called name exists. */
bool nb_link_exists(struct nb_link *l, const char *name);

#endif /* SV_NB_LINK_H */
