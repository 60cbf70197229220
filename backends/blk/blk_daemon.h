/* SPDX-License-Identifier: MIT */
/* blkback's daemon state and its control plane (xenbus devices), shared by blk_main.c and blk_xenbus.c. */
#ifndef SV_BLK_DAEMON_H
#define SV_BLK_DAEMON_H

#include <xenstore.h>
#include "blkback.h"

/* One virtual block device: /local/domain/0/backend/vbd/<domid>/<devid>. */
struct blk_vbd {
	struct blkback *bb;
	uint32_t domid, devid;
	char be[96];			/* backend directory */
	char fe[160];			/* frontend directory (from the backend's "frontend" key) */
	bool fe_watched;
	struct blk_disk disk;
	bool disk_open;
	bool features_written;
	bool connected;			/* rings mapped, bound, started */
	bool failed;			/* shut down (bad frontend or disk): waits for Closed */
	bool fresh;			/* first look since blkback started (restart recovery) */
	unsigned nr_rings;
	struct blk_ring rings[BLK_MAX_QUEUES];
	struct blk_vbd *next;
};

struct blkback {
	const char *rundir;
	char sock_path[4200];
	char state_dir[4200];		/* RUNDIR/blkback: ring shadows */
	struct xs_handle *xs;
	xenevtchn_handle *xce;
	xengnttab_handle *xgt;
	struct blk_io io;
	struct blk_maps maps;		/* grant mapping limits shared by every ring */
	struct blk_vbd *vbds;
	int epfd, sigfd, lfd;
	bool quit;
};

/* blk_xenbus.c: the control plane. */
int blk_xenbus_init(struct blkback *bb);
/* Drains xenstore watch events and brings every device in line.  0 or -errno (store lost). */
int blk_xenbus_handle(struct blkback *bb);
/* Reconciles every device with xenstore (start-up, and after watch events). */
void blk_xenbus_scan(struct blkback *bb);
/* Devices whose ring broke the protocol: shut down (xenbus Closing). */
void blk_xenbus_reap_broken(struct blkback *bb);
/* The ring a fired local port belongs to, or NULL. */
struct blk_ring *blk_xenbus_ring_by_port(struct blkback *bb, evtchn_port_t port);
/* Stops every device (daemon exit): rings stop, xenstore states stay for a successor. */
void blk_xenbus_fini(struct blkback *bb);
/* One line per device for the status socket. */
void blk_xenbus_status(struct blkback *bb, int fd);

#endif
