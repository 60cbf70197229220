/* SPDX-License-Identifier: MIT */
/* blkback's daemon state and its control plane (xenbus devices), shared by blk_main.c and
 * blk_xenbus.c. */
#ifndef SV_BLK_DAEMON_H
#define SV_BLK_DAEMON_H

#include "be_xenbus.h"
#include "blkback.h"

/*
 * One virtual block device: /local/domain/0/backend/vbd/<domid>/<devid>, a
 * device of the backend core (its ids, directories and states in dev).
 */
struct blk_vbd {
	struct be_dev dev; /* first: the core allocates the vbd */
	struct blk_disk disk;
	bool disk_open;
	unsigned nr_rings;
	struct blk_ring rings[BLK_MAX_QUEUES];
};

/* Each vbd of BB. */
#define blk_for_each_vbd(bb, v) be_backend_for_each(&(bb)->vbds, struct blk_vbd, v)

struct blkback {
	const char *rundir;
	char sock_path[4200];
	char state_dir[4200]; /* RUNDIR/blkback: ring shadows */
	struct xs_handle *xs;
	xenevtchn_handle *xce;
	xengnttab_handle *xgt;
	struct blk_io io;
	struct blk_maps maps;	/* grant mapping limits shared by every ring */
	struct be_backend vbds; /* the vbd devices (backend core) */
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
