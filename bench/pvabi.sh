#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# PV ABI benchmarks, each a ratio against a baseline of the same run:
#   - mmu_update map + unmap of one page (two calls, timed in the guest's mmu-bench word) against
#     the host's own mmap + munmap of one memfd page (bench/memfd-floor);
#   - a multicall of 32 xen_version calls against 32 separate calls;
#   - NEW_BASEPTR to a pinned clone of the boot L4 and back against two plain hypercalls.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
N=${BENCH_MMU_N:-5000}

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
splitvisor start >/dev/null 2>&1 || { echo "bench pvabi: splitvisor start failed"; exit 1; }
engine=$(xl info 2>/dev/null | sed -n 's/^engine *: //p')

floor=$("$BUILD/bench/memfd-floor" "$((N * 4))") || { echo "bench pvabi: memfd-floor failed"; exit 1; }
host_ns=$(sed -n 's/^mmap_munmap_ns=//p' <<<"$floor")

cfg=$SPLITVISOR_RUNDIR/bench.cfg
printf 'name = "bench"\nkernel = "%s/%s/guest/svkernel"\nmemory = 32\n' "$PWD" "$BUILD" > "$cfg"
out=$(xl create -q -c "$cfg" "cmdline=\"mmu-bench=$N halt\"" 2>/dev/null)
line=$(grep '^mmu-bench: n=' <<<"$out")
[ -n "$line" ] || { echo "bench pvabi: no mmu-bench result"; echo "$out" | tail -5; exit 1; }
val() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
mu_ns=$(val mapunmap_ns)
mc_ns=$(val multicall32_ns)
calls_ns=$(val calls32_ns)
base_ns=$(val baseptr2_ns)

awk -v mu="$mu_ns" -v host="$host_ns" -v mc="$mc_ns" -v calls="$calls_ns" -v base="$base_ns" -v n="$N" -v eng="${engine:-kvm}" 'BEGIN {
	printf "pvabi (engine %s):\n", eng
	r = mu / (host > 0 ? host : 1)
	printf "  mmu_update map+unmap of a page, mean of %d: %6.2fx  the host'"'"'s mmap+munmap of a memfd page  aim <= 2x%s\n", n, r, (r <= 2 ? "" : "  (below aim)")
	r = mc / (calls > 0 ? calls : 1)
	printf "  multicall of 32 calls, mean of %d:          %6.2fx  32 separate calls\n", n, r
	r = base / (calls > 0 ? calls / 16 : 1)
	printf "  NEW_BASEPTR there and back, mean of %d:      %6.2fx  two xen_version calls (a clone: only differing L4 slots are remapped)\n", n, r
}'
