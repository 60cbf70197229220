#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages Splitvisor builds and tests with; quiet when all are present.
set -euo pipefail
pkgs=(build-essential pkg-config libxen-dev xenstore-utils libxenstore4 liburcu-dev
      libnl-3-dev libnl-route-3-dev liburing-dev libjson-c-dev check libsubunit-dev clang lld
      libclang-rt-14-dev iproute2 iputils-ping fio binutils util-linux procps python3 jq
      pandoc groff-base man-db bsdutils)  # last line: man pages (docs/build.mk) and their tests
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
