/* SPDX-License-Identifier: MIT */
/* Xen's blkif ring types for hosted dom0 code, with the ring barriers xen/io/ring.h needs. */
#ifndef SV_BLK_RING_DEFS_H
#define SV_BLK_RING_DEFS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * xen/io/ring.h leaves xen_mb/xen_rmb/xen_wmb to its user; dom0 code takes
 * Xen's own definitions from xenctrl.h (as netback does), so they exist
 * once for hosted code.
 */
#include <xenctrl.h>

#include <xen/grant_table.h>
#include <xen/io/blkif.h>

#endif
