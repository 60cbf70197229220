#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What guest user mode on several vCPUs costs on this engine, in the same run: the time per
# `syscall` (user -> kernel callback -> iret back) of the usermode-smp word with a process on
# each of 2 vCPUs at once, and on each of 4, as a ratio to one process on a 1-vCPU guest.  On
# the process engine vCPUs on different tables take turns (docs/pv-usermode.md), so the ratio
# says what the turn-taking costs per syscall; on KVM they run in parallel.  Also what a
# page-table update costs a guest with a second vCPU (idle): mmu-bench's map+unmap on a 2-vCPU
# guest against a 1-vCPU one (the process engine applies a batch alone when others could run).
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
R=${BENCH_UMS_ROUNDS:-20000}

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'for n in 1 2 4 -mmu1 -mmu2; do xl destroy bench-ums$n >/dev/null 2>&1; done
	splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
splitvisor start >/dev/null 2>&1 || { echo "bench usermode_smp: splitvisor start failed"; exit 1; }
engine=$(xl info 2>/dev/null | sed -n 's/^engine *: //p')

# ns_per_syscall N: run the word on an N-vCPU guest (one at a time) and print its figure.
ns_per_syscall() {
	local cfg=$SPLITVISOR_RUNDIR/ums$1.cfg log=$SPLITVISOR_RUNDIR/console/guest-bench-ums$1.log
	printf 'name = "bench-ums%s"\nkernel = "%s/%s/guest/svkernel"\nmemory = 32\nvcpus = %s\n' \
		"$1" "$PWD" "$BUILD" "$1" > "$cfg"
	printf 'cmdline = "usermode-smp=%s halt"\non_poweroff = "destroy"\n' "$R" >> "$cfg"
	xl create -q "$cfg" >/dev/null 2>&1 || return 1
	local end=$((SECONDS + 300))
	until grep -qE '^usermode-smp: (ok|FAIL)' "$log" 2>/dev/null; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.2
	done
	sed -n 's/^usermode-smp: .* \([0-9][0-9]*\) ns per syscall$/\1/p' "$log"
}

# mapunmap_ns N: mmu-bench's map+unmap time on an N-vCPU guest.
mapunmap_ns() {
	local cfg=$SPLITVISOR_RUNDIR/mmu$1.cfg
	printf 'name = "bench-ums-mmu%s"\nkernel = "%s/%s/guest/svkernel"\nmemory = 32\nvcpus = %s\n' \
		"$1" "$PWD" "$BUILD" "$1" > "$cfg"
	xl create -q -c "$cfg" "cmdline=\"mmu-bench=${BENCH_MMU_N:-5000} halt\"" 2>/dev/null |
		sed -n 's/^mmu-bench: .* mapunmap_ns=\([0-9]*\).*/\1/p'
}

one=$(ns_per_syscall 1) two=$(ns_per_syscall 2) four=$(ns_per_syscall 4)
m1=$(mapunmap_ns 1) m2=$(mapunmap_ns 2)
if [ -z "$one" ] || [ -z "$two" ] || [ -z "$four" ] || [ "$one" = 0 ] || [ -z "$m1" ] ||
	[ -z "$m2" ] || [ "$m1" = 0 ]; then
	echo "bench usermode_smp: no result from a guest"
	exit 1
fi
awk -v e="$engine" -v r="$R" -v a="$one" -v b="$two" -v c="$four" -v m1="$m1" -v m2="$m2" 'BEGIN {
	printf "usermode-smp (engine %s), %s syscalls per process, time per syscall as a ratio:\n", e, r
	printf "  2 processes on 2 vCPUs at once: %.2fx  one process on 1 vCPU\n", b / a
	printf "  4 processes on 4 vCPUs at once: %.2fx  one process on 1 vCPU\n", c / a
	printf "  mmu_update map+unmap, 2-vCPU guest: %.2fx  the same on a 1-vCPU guest\n", m2 / m1
}'
