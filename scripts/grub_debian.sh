#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unpacks Debian's PV GRUB (grub-xen-host: grub-x86_64-xen.bin; grub-xen-bin: its modules) into the build tree.
#
#   scripts/grub_debian.sh BUILD_DIR      -> BUILD_DIR/grub-debian/ (prints that path)
#
# As scripts/xen_debian.sh does for Xen's tools: the packages are fetched
# with `apt-get download` and unpacked with `dpkg-deb -x`, never
# installed (a bootloader package on the host would run its maintainer
# scripts against the host's /boot).  The version is the archive's
# candidate; .debs already in /var/cache/apt/archives are used as they
# are.  A second run finds the stamp and does nothing.  Exit 1 with one
# line on stderr when a package cannot be had (apt unreachable).
set -euo pipefail

build=${1:?usage: scripts/grub_debian.sh BUILD_DIR}
dest=$build/grub-debian
pkgs=(grub-xen-host grub-xen-bin)

if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
	echo "grub_debian: apt-get and dpkg-deb are needed to fetch Debian's PV GRUB" >&2
	exit 1
fi
ver=$(apt-cache policy grub-xen-host 2>/dev/null | awk '$1 == "Candidate:" {print $2}')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
	echo "grub_debian: apt knows no grub-xen-host package (run apt-get update, or no Debian archive configured)" >&2
	exit 1
fi
. "$(dirname "$0")/deb_unpack.sh"
deb_unpack grub_debian "$dest" "$ver" usr/lib/grub-xen/grub-x86_64-xen.bin "${pkgs[@]}"
