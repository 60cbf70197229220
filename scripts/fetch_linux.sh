#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unpacks Debian's own Linux kernel (cloud flavour: CONFIG_XEN_PV=y, lz4 bzImage) and
# busybox-static (for a test initramfs) into a cache, for tests/integration/linux_pv.sh.
#
#   scripts/fetch_linux.sh [CACHE]      -> CACHE/ (prints that path; default
#                                           $SV_LINUX_CACHE or /var/cache/splitvisor/linux)
#
# CACHE/kernel/boot/vmlinuz-*-cloud-amd64 is the kernel, CACHE/busybox/bin/busybox the
# static busybox.  As scripts/grub_debian.sh: `apt-get download` and `dpkg-deb -x`, never
# installed (a kernel package would run its maintainer scripts against the host's /boot).
# The kernel is the one linux-image-cloud-amd64 depends on today.  A second run finds its
# stamps and prints only the path.  Exit 1 with one line on stderr when a package cannot
# be had (apt unreachable).
set -euo pipefail

cache=${1:-${SV_LINUX_CACHE:-/var/cache/splitvisor/linux}}

if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
	echo "fetch_linux: apt-get and dpkg-deb are needed to fetch Debian's kernel" >&2
	exit 1
fi
candidate() {
	apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" {print $2}'
}
# The flavour's metapackage names the kernel package of the day (its ABI is in the name).
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-cloud-amd64$/ {print $2; exit}')
kver=${kpkg:+$(candidate "$kpkg")}
bver=$(candidate busybox-static)
if [ -z "$kpkg" ] || [ -z "$kver" ] || [ "$kver" = "(none)" ] || [ -z "$bver" ] || [ "$bver" = "(none)" ]; then
	echo "fetch_linux: apt knows no linux-image-cloud-amd64 or busybox-static (run apt-get update, or no Debian archive configured)" >&2
	exit 1
fi
mkdir -p "$cache"
. "$(dirname "$0")/deb_unpack.sh"
abi=${kpkg#linux-image-}
deb_unpack fetch_linux "$cache/kernel" "$kver" "boot/vmlinuz-$abi" "$kpkg" >/dev/null
deb_unpack fetch_linux "$cache/busybox" "$bver" bin/busybox busybox-static >/dev/null
ln -sfn "kernel/boot/vmlinuz-$abi" "$cache/vmlinuz"
echo "$cache"
