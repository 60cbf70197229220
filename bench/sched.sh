#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Credit scheduling on host cgroups (xl sched-credit): two CPU-bound guests
# whose vCPUs are pinned to one host CPU, with weights 256 and 512: the
# ratio of the CPU time each got (aim 2.0 within 15%); then one guest alone
# with cap = 25: its share of one CPU (aim 0.25 within 10%).  CPU time is
# each domain's cgroup threads' own (/proc/<tid>/schedstat), against the
# wall clock of the same interval.  Skips without a writable CPU cgroup.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
SECS=${BENCH_SCHED_SECS:-10}
CPU=${BENCH_SCHED_CPU:-0}

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
splitvisor start >/dev/null 2>&1 || { echo "bench sched: splitvisor start failed"; exit 1; }
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
hvpid=$(cat "$SPLITVISOR_RUNDIR/hypervisor.pid")
engine=$(xl info 2>/dev/null | sed -n 's/^engine *: //p')
cgline=$(grep -m1 'cgroups: v[12], domains run in ' "$hvlog")
if [ -z "$cgline" ]; then
	echo "bench sched: SKIPPED: no writable CPU cgroup on this host"
	exit 0
fi
cgver=$(sed -n 's/.*cgroups: v\([12]\), .*/\1/p' <<<"$cgline")
cgbase=$(sed -n 's/.*domains run in \(.*\)\/guests\/dom<N>.*/\1/p' <<<"$cgline")
domdir() {
	if [ "$cgver" = 2 ] && [ "$engine" = kvm ]; then echo "$cgbase/hv/guests/dom$1"
	else echo "$cgbase/guests/dom$1"; fi
}
tids() { cat "$1/tasks" 2>/dev/null || cat "$1/cgroup.threads"; }
cpu_ns() {
	local t s=0 v
	for t in $(tids "$1"); do
		v=$(cut -d' ' -f1 "/proc/$t/schedstat" 2>/dev/null) && s=$((s + v))
	done
	echo "$s"
}

cfg=$SPLITVISOR_RUNDIR/spin.cfg
# spin ends on its own after 10 minutes; the trap destroys it sooner.
spin() {
	printf 'name = "%s"\nkernel = "%s/%s/guest/svkernel"\nmemory = 32\ncmdline = "spin=600000"\n%s\n' \
		"$1" "$PWD" "$BUILD" "$2" > "$cfg"
	xl create -q "$cfg" >/dev/null 2>&1 || { echo "bench sched: cannot create $1"; exit 1; }
	xl domid "$1"
}

# Two guests, weights 256 and 512, every thread that runs their vCPUs on CPU $CPU.
ida=$(spin w256 'cpu_weight = 256') idb=$(spin w512 'cpu_weight = 512')
da=$(domdir "$ida") db=$(domdir "$idb")
for t in $(tids "$da") $(tids "$db"); do taskset -p -c "$CPU" "$t" >/dev/null 2>&1; done
sleep 1
printf 'bench sched: weights 256 and 512 on CPU %s for %s s\n' "$CPU" "$SECS" >&2
a0=$(cpu_ns "$da") b0=$(cpu_ns "$db") t0=$(date +%s%N)
sleep "$SECS"
a1=$(cpu_ns "$da") b1=$(cpu_ns "$db") t1=$(date +%s%N)
xl destroy w256; xl destroy w512

# One guest alone, cap 25.
idc=$(spin cap25 'cap = 25')
dc=$(domdir "$idc")
sleep 1
printf 'bench sched: cap 25 for %s s\n' "$SECS" >&2
c0=$(cpu_ns "$dc") u0=$(date +%s%N)
sleep "$SECS"
c1=$(cpu_ns "$dc") u1=$(date +%s%N)
xl destroy cap25

awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v u=$((u1 - u0)) \
    -v v="$cgver" -v e="$engine" -v cpu="$CPU" 'BEGIN {
	printf "sched (engine %s, cgroup v%s):\n", e, v
	r = a ? b / a : 0
	printf "  two spinning guests on CPU %s, %.1f s: weight 256 got %.2f s, weight 512 got %.2f s (together %.2f of the CPU)\n", cpu, t / 1e9, a / 1e9, b / 1e9, (a + b) / t
	printf "    = %.3f  CPU-time ratio 512/256  aim 2.0 within 15%%%s\n", r, (r >= 1.7 && r <= 2.3 ? "" : "  (outside aim)")
	s = c / u
	printf "  one spinning guest with cap 25, %.1f s: %.2f s of CPU\n", u / 1e9, c / 1e9
	printf "    = %.3f  share of one CPU  aim 0.25 within 10%%%s\n", s, (s >= 0.225 && s <= 0.275 ? "" : "  (outside aim)")
}'
