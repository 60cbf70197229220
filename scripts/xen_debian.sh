#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unpacks Debian's Xen 4.17 toolstack (xl, xentop, lsevtchn, libxenctrl, libxenlight...) into the build tree.
#
#   scripts/xen_debian.sh BUILD_DIR      -> BUILD_DIR/xen-debian/ (prints that path)
#
# The packages are unpacked with `dpkg-deb -x`, never installed:
# installing xen-utils-4.17 pulls in xen-utils-common, systemd units and
# udev rules meant for a real Xen host.  The version is the installed
# libxen-dev's (its headers are the specification we answer to).  .debs
# already in /var/cache/apt/archives are used as they are; the rest come
# from `apt-get download`.  A second run finds the stamp and does nothing.
# Exit 1 with one line on stderr when a package cannot be had (apt
# unreachable, no libxen-dev); tests then skip.
set -euo pipefail

build=${1:?usage: scripts/xen_debian.sh BUILD_DIR}
dest=$build/xen-debian
# The packages whose files Xen's tools load; the rest of the chain (libyajl2,
# libncurses6) is an ordinary library of the host.
pkgs=(xen-utils-4.17 libxenmisc4.17 libxenstore4 libxentoollog1 libxenhypfs1)

ver=$(dpkg-query -W -f='${Version}' libxen-dev 2>/dev/null) || ver=""
if [ -z "$ver" ]; then
	echo "xen_debian: libxen-dev is not installed (make deps): its version picks the toolstack's" >&2
	exit 1
fi
. "$(dirname "$0")/deb_unpack.sh"
deb_unpack xen_debian "$dest" "$ver" "" "${pkgs[@]}"
