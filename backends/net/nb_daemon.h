/* SPDX-License-Identifier: MIT */
/* netback's daemon state: handles, vifs, and the glue between control plane and loop. */
#ifndef SV_NB_DAEMON_H
#define SV_NB_DAEMON_H

#include "nb.h"

struct xs_handle;
struct nb_link;
struct nb_daemon;

/* One virtual interface: /local/domain/0/backend/vif/<domid>/<devid>. */
struct nb_vif {
	struct nb_vif *next;
	struct nb_daemon *d;
	uint32_t domid, devid;
	char be[96];			 /* backend directory */
	char fe[128];			 /* frontend directory (from the backend's frontend key) */
	char ifname[IFNAMSIZ];		 /* TAP: vifname or vif<domid>.<devid> */
	char bridge[IFNAMSIZ];		 /* bridge key, default xenbr0 */
	uint64_t rate_bytes, rate_usecs; /* rate key; 0 = unlimited */
	unsigned mtu;			 /* mtu key; 0 = the kernel's default */
	int state;			 /* our XenbusState, as last written */
	bool failed;			 /* probe failed: nothing more until it is removed */
	bool broken;			 /* frontend broke the protocol: until it closes */
	bool seen;			 /* found by the current scan */
	unsigned nqueues;		 /* connected queues */
	struct nb_queue q[NB_MAX_QUEUES];
};

struct nb_daemon {
	const char *rundir;
	struct xs_handle *xs;
	xenevtchn_handle *xce;
	xengnttab_handle *gt;
	struct nb_link *link;
	int epfd, listen_fd, sig_fd;
	struct nb_ep ep_listen, ep_sig, ep_xs, ep_evtchn;
	struct nb_vif *vifs;
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
