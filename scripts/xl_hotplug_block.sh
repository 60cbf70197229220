#!/bin/sh
# SPDX-License-Identifier: MIT
# libxl's block hotplug script for Splitvisor: Debian's `xl create` runs it
# for each disk (`script=` in the disk spec, or installed as
# /etc/xen/scripts/block where xen-utils-common is not), as
#
#   SCRIPT add|remove     with XENBUS_PATH=backend/vbd/DOMID/DEVID (dom0-relative)
#
# Xen's own script sets up a loop device for blkback in the kernel; ours,
# blkback, opens the image named in the backend's `params` itself, so
# there is nothing to set up: "add" says the device is ready
# (hotplug-status = connected, which libxl waits for) and "remove" does
# nothing.  Needs xenstore-write (xenstore-utils) and XENSTORED_PATH, as
# `splitvisor start` prints it.
set -eu
case "${XENBUS_PATH:-}" in
backend/vbd/*|/local/domain/0/backend/vbd/*) ;;
*) echo "xl_hotplug_block.sh: XENBUS_PATH is not a vbd backend: '${XENBUS_PATH:-}'" >&2; exit 1 ;;
esac
case "${1:-}" in
add) xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
remove) ;;
*) echo "usage: xl_hotplug_block.sh add|remove" >&2; exit 1 ;;
esac
