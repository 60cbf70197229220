#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages Splitvisor builds, tests and benchmarks with; quiet when all are
# present.  Each package is here for what the comment beside it says, and for nothing else.
set -euo pipefail
pkgs=(
	build-essential pkg-config binutils    # cc, make, ld/ar (sv-runner, the guest kernel, archives)
	libxen-dev libxenstore4                # Xen's headers (the ABI), -lxenstore for xl, backends, tools
	liburcu-dev                            # -lurcu-bp: the hypervisor's domain table
	libnl-3-dev libnl-route-3-dev          # netback's bridge and TAP setup (nb_link.c)
	liburing-dev                           # blkback's I/O
	libjson-c-dev                          # xl list -l
	zlib1g-dev liblzma-dev libbz2-dev liblz4-dev libzstd-dev  # xl decompresses bzImage and compressed kernels (dom0/elf_gz.c, elf_unpack.c)
	check libsubunit-dev                   # the unit suites (tests/unit/)
	clang libclang-rt-14-dev               # libFuzzer targets (fuzz/, xenstore/build.mk)
	xenstore-utils                         # Debian's xenstore-* tools in the integration scripts
	iproute2 iputils-ping                  # ip, bridge, ping: net_backend.sh, net_guest.sh, hostile_guests.sh
	util-linux bsdutils bsdextrautils procps python3 jq  # setsid, script, col, pgrep, python3 -c, jq (xl_misc.sh)
	fio                                    # bench/blk.sh's host baseline
	e2fsprogs                              # mke2fs -d: pv_grub.sh's disk image (PV GRUB itself: scripts/grub_debian.sh)
	pandoc groff-base man-db               # man pages (docs/build.mk) and install.sh's checks of them
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
