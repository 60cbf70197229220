/* SPDX-License-Identifier: MIT */
/* Xen's blkif ring types for hosted dom0 code, with the ring barriers xen/io/ring.h needs. */
#ifndef SV_BLK_RING_DEFS_H
#define SV_BLK_RING_DEFS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * xen/io/ring.h leaves xen_mb/xen_rmb/xen_wmb to its user.  dom0 code runs
 * on x86-64 against another CPU's stores: loads are not reordered with
 * loads nor stores with stores there, so rmb/wmb need only stop the
 * compiler; mb (a store then a load of the other index) needs a full fence.
 * (To move to include/sv/ once a second hosted ring user wants them.)
 */
#ifndef xen_mb
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#include <xen/grant_table.h>
#include <xen/io/blkif.h>

#endif
