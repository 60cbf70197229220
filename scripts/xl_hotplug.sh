#!/bin/sh
# SPDX-License-Identifier: MIT
# libxl's hotplug script for Splitvisor's backends: Debian's `xl create`
# runs one for each disk and vif (`script=` in its spec, or the one
# installed as /etc/xen/scripts/block or vif-bridge where
# xen-utils-common is not), as
#
#   SCRIPT add|remove|online|offline   with XENBUS_PATH=backend/TYPE/DOMID/DEVID
#
# Xen's own scripts set up a loop device or put the vif in a bridge for
# the in-kernel backends; ours do that themselves (blkback opens the image
# named in `params`, netback makes the TAP and puts it in `bridge`), so:
#
# - vbd, add: the device is ready (hotplug-status = connected, which libxl
#   waits for);
# - vif: nothing (netback writes hotplug-status once its TAP is in the
#   bridge);
# - remove, offline: nothing.
#
# Needs xenstore-write (xenstore-utils) and XENSTORED_PATH, as
# `splitvisor start` prints it.
set -eu
case "${XENBUS_PATH:-}" in
backend/vbd/* | /local/domain/0/backend/vbd/*) type=vbd ;;
backend/vif/* | /local/domain/0/backend/vif/*) type=vif ;;
*)
	echo "xl_hotplug.sh: XENBUS_PATH is not a vbd or vif backend: '${XENBUS_PATH:-}'" >&2
	exit 1
	;;
esac
case "${1:-}" in
add | online)
	if [ "$type" = vbd ]; then
		xenstore-write "$XENBUS_PATH/hotplug-status" connected
	fi
	;;
remove | offline) ;;
*)
	echo "usage: xl_hotplug.sh add|remove|online|offline" >&2
	exit 1
	;;
esac
