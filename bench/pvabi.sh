#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# PV ABI benchmarks, each a ratio against a baseline of the same run:
#   - mmu_update map + unmap of one page (two calls, timed in the guest's mmu-bench word) against
#     the host's own mmap + munmap of one memfd page (bench/memfd-floor), measured right before;
#   - a multicall of 32 xen_version calls against 32 separate calls;
#   - NEW_BASEPTR to a pinned clone of the boot L4 and back against two plain hypercalls.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
N=${BENCH_MMU_N:-5000}
ROUNDS=${BENCH_PVABI_ROUNDS:-3}

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
splitvisor start >/dev/null 2>&1 || { echo "bench pvabi: splitvisor start failed"; exit 1; }
engine=$(xl info 2>/dev/null | sed -n 's/^engine *: //p')

cfg=$SPLITVISOR_RUNDIR/bench.cfg
printf 'name = "bench"\nkernel = "%s/%s/guest/svkernel"\nmemory = 32\n' "$PWD" "$BUILD" > "$cfg"

# Each round: the host's floor, then the guest right after it (both see the same host); the
# ratios are the median of the rounds' (a shared host's load moves single runs a lot).
mu=() mc=() base=()
for ((r = 0; r < ROUNDS; r++)); do
	floor=$("$BUILD/bench/memfd-floor" "$((N * 4))") || { echo "bench pvabi: memfd-floor failed"; exit 1; }
	host_ns=$(sed -n 's/^mmap_munmap_ns=//p' <<<"$floor")
	out=$(xl create -q -c "$cfg" "cmdline=\"mmu-bench=$N halt\"" 2>/dev/null)
	line=$(grep '^mmu-bench: n=' <<<"$out")
	[ -n "$line" ] || { echo "bench pvabi: no mmu-bench result"; echo "$out" | tail -5; exit 1; }
	val() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
	calls=$(val calls32_ns)
	mu+=("$(awk -v a="$(val mapunmap_ns)" -v b="$host_ns" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }')")
	mc+=("$(awk -v a="$(val multicall32_ns)" -v b="$calls" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }')")
	base+=("$(awk -v a="$(val baseptr2_ns)" -v b="$calls" 'BEGIN { printf "%.2f", a / (b > 0 ? b / 16 : 1) }')")
	while xl list bench >/dev/null 2>&1; do sleep 0.05; done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

awk -v mu="$(median "${mu[@]}")" -v mc="$(median "${mc[@]}")" -v base="$(median "${base[@]}")" \
    -v all="${mu[*]}" -v n="$N" -v rounds="$ROUNDS" -v eng="${engine:-kvm}" 'BEGIN {
	printf "pvabi (engine %s), medians of %d rounds:\n", eng, rounds
	printf "  mmu_update map+unmap of a page, mean of %d: %6.2fx  the host'"'"'s mmap+munmap of a memfd page  aim <= 2x%s  (rounds: %s)\n", n, mu, (mu <= 2 ? "" : "  (below aim)"), all
	printf "  multicall of 32 calls, mean of %d:          %6.2fx  32 separate calls\n", n, mc
	printf "  NEW_BASEPTR there and back, mean of %d:      %6.2fx  two xen_version calls (a clone: only differing L4 slots are remapped)\n", n, base
}'
