// SPDX-License-Identifier: MIT
// The Xen public ABI headers the guest kernel uses, included in one place.
#ifndef SVK_XEN_H
#define SVK_XEN_H

/*
 * Debian's libxen-dev headers need <stdint.h> first, and pick the interface
 * version from __XEN_INTERFACE_VERSION__ (set by frontends/build.mk).
 */
#include <stdint.h>
#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/callback.h>
#include <xen/event_channel.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/grant_table.h>
#include <xen/io/xs_wire.h>
#include <xen/io/xenbus.h>
#include <xen/io/console.h>

#endif
