#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Ballooning: what the host really holds for a guest (its memory's
# allocated blocks, `xl list -l`'s host_memkb) before and after xl mem-set
# takes it to a quarter, and after it grows back, as ratios to the
# same-run figure before.  The guest first writes all its free memory
# (memcheck), so before is the whole guest.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
MEM=${BENCH_BALLOON_MB:-128}

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'xl destroy bench-balloon >/dev/null 2>&1; splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
splitvisor start >/dev/null 2>&1 || { echo "bench balloon: splitvisor start failed"; exit 1; }

log=$SPLITVISOR_RUNDIR/console/guest-bench-balloon.log
cfg=$SPLITVISOR_RUNDIR/balloon.cfg
printf 'name = "bench-balloon"\nkernel = "%s/%s/guest/svkernel"\nmemory = %s\n' "$PWD" "$BUILD" "$MEM" > "$cfg"
printf 'cmdline = "memcheck balloon-wait memcheck balloon-wait memcheck wait"\n' >> "$cfg"

host_kb() { xl list -l bench-balloon 2>/dev/null | sed -n 's/.*"host_memkb": \([0-9]*\).*/\1/p' | head -1; }
checks() { [ "$(grep -c '^memcheck: .* ok$' "$log" 2>/dev/null)" -ge "$1" ]; }
until_checks() {
	local end=$((SECONDS + 120))
	until checks "$1"; do
		[ $SECONDS -ge $end ] && { echo "bench balloon: the guest gave no memcheck $1"; tail -5 "$log"; exit 1; }
		sleep 0.1
	done
}

xl create -q "$cfg" >/dev/null 2>&1 || { echo "bench balloon: xl create failed"; exit 1; }
until_checks 1
before=$(host_kb)
xl mem-set bench-balloon $((MEM / 4)) || { echo "bench balloon: mem-set down failed"; exit 1; }
until_checks 2
down=$(host_kb)
xl mem-set bench-balloon "$MEM" || { echo "bench balloon: mem-set up failed"; exit 1; }
until_checks 3
up=$(host_kb)
awk -v b="$before" -v d="$down" -v u="$up" -v m="$MEM" 'BEGIN {
	printf "bench balloon: %d MiB guest, host memory of the domain (same run, ratio to before):\n", m
	printf "  after mem-set %d MiB: %.2f (target ratio 0.25)\n", m / 4, d / b
	printf "  after mem-set %d MiB again: %.2f\n", m, u / b
}'
