// SPDX-License-Identifier: MIT
// The table of dom0 services the splitvisor supervisor runs, in start order.
#include "svc.h"

/*
 * Start order is table order; stop order is the reverse.  Each service is
 * run as `BINDIR/binary --rundir DIR --foreground` (plus --engine=NAME
 * when it takes_engine and `splitvisor start` was given one) and is ready
 * when DIR/ready_sock accepts a connection.  A missing binary is skipped (logged
 * and shown as "not installed" by `splitvisor status`) unless it is required.
 * Adding a service is adding one line here.
 */
const struct svc_desc svc_table[] = {
	{ .name = "hypervisor",
	  .binary = "hypervisor",
	  .ready_sock = "hypervisor.sock",
	  .required = true,
	  .takes_engine = true },
	{ .name = "xenstored",
	  .binary = "xenstored",
	  .ready_sock = "xenstored.sock",
	  .required = false },
	{ .name = "xenconsoled",
	  .binary = "xenconsoled",
	  .ready_sock = "xenconsoled.sock",
	  .required = false },
	{ .name = "blkback", .binary = "blkback", .ready_sock = "blkback.sock", .required = false },
	{ .name = "netback", .binary = "netback", .ready_sock = "netback.sock", .required = false },
};

const size_t svc_count = sizeof(svc_table) / sizeof(svc_table[0]);
