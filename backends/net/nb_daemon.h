/* SPDX-License-Identifier: MIT */
/* netback's daemon state: handles, vifs, and the glue between control plane and loop. */
#ifndef SV_NB_DAEMON_H
#define SV_NB_DAEMON_H

#include "be_xenbus.h"
#include "nb.h"

struct xs_handle;
struct nb_link;
struct nb_daemon;

/*
 * One virtual interface: /local/domain/0/backend/vif/<domid>/<devid>, a
 * device of the backend core (its ids, directories and states in dev).
 */
struct nb_vif {
	struct be_dev dev;		 /* first: the core allocates the vif */
	char ifname[IFNAMSIZ];		 /* TAP: vifname or vif<domid>.<devid> */
	char bridge[IFNAMSIZ];		 /* bridge key, default xenbr0 */
	uint64_t rate_bytes, rate_usecs; /* rate key; 0 = unlimited */
	unsigned mtu;			 /* mtu key; 0 = the kernel's default */
	unsigned nqueues;		 /* connected queues */
	struct nb_queue q[NB_MAX_QUEUES];
};

/* Each vif of the daemon D. */
#define nb_for_each_vif(d, v) be_backend_for_each(&(d)->vifs, struct nb_vif, v)

struct nb_daemon {
	const char *rundir;
	struct xs_handle *xs;
	xenevtchn_handle *xce;
	xengnttab_handle *gt;
	struct nb_link *link;
	int epfd, listen_fd, sig_fd;
	struct nb_ep ep_listen, ep_sig, ep_xs, ep_evtchn;
	struct be_backend vifs; /* the vif devices (backend core) */
};

/* Control plane (nb_xenbus.c). */

/* Watches the backend directory and @releaseDomain, then serves what is there.  0 or -errno. */
int nb_xenbus_start(struct nb_daemon *d);
/* Reads the pending watch events and brings every vif up to date.  0, or -errno when xenstored is
 * lost. */
int nb_xenbus_watch_fired(struct nb_daemon *d);
/* The data plane found the frontend hostile: disconnect that vif, log, Closing. */
void nb_xenbus_fatal(struct nb_daemon *d, struct nb_vif *v, const char *why);
/* Takes every vif down (daemon exit). */
void nb_xenbus_stop(struct nb_daemon *d);

/* Main loop glue (nb_main.c): the TAP fd of q in epoll, following q->tap_polled. */
int nb_daemon_tap_add(struct nb_daemon *d, struct nb_queue *q);
void nb_daemon_tap_del(struct nb_daemon *d, struct nb_queue *q);
void nb_daemon_tap_sync(struct nb_daemon *d, struct nb_queue *q);

#endif /* SV_NB_DAEMON_H */
