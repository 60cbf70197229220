#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Event-channel ABIs side by side: the guest<->guest ping-pong (the
# evtchn-peer word) with both guests on the FIFO ABI, against the same with
# both on 2-level (evtchn=2l), measured in the same run on the same stack.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
N=${BENCH_EVTCHN_ROUNDS:-2000}

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
eval "$(splitvisor start 2>/dev/null | sed 's/^/export /')"
[ -S "$SPLITVISOR_RUNDIR/xenstored.sock" ] || { echo "bench evtchn-fifo: SKIPPED: xenstored is not running"; exit 0; }
grep -aq 'evtchn-fifo' "$BUILD/guest/svkernel" ||
	{ echo "bench evtchn-fifo: SKIPPED: the guest kernel has no FIFO event channels"; exit 0; }
engine=$(xl info 2>/dev/null | sed -n 's/^engine *: //p')
cfg=$SPLITVISOR_RUNDIR/bench.cfg
printf 'name = "x"\nkernel = "%s/%s/guest/svkernel"\nmemory = 32\n' "$PWD" "$BUILD" > "$cfg"

# pair TAG EXTRA-WORDS: the pinger's mean round trip in ns.
pair() {
	local a=f$1a b=f$1b p="" out="" A B
	for n in $a $b; do
		xl create -q "$cfg" "name=\"$n\"" "cmdline=\"$2 evtchn-peer=$N\"" >/dev/null 2>&1 || return 1
	done
	A=$(xl domid $a) B=$(xl domid $b)
	xenstore-write /local/domain/$A/data/peer-dom "$B" /local/domain/$A/data/peer-role 1 \
		/local/domain/$B/data/peer-dom "$A" /local/domain/$B/data/peer-role 2
	for _ in $(seq 200); do p=$(xenstore-read /local/domain/$A/data/my-port 2>/dev/null) && break; sleep 0.05; done
	xenstore-write /local/domain/$B/data/peer-port "$p"
	for _ in $(seq 600); do
		out=$(grep -h 'evtchn-peer: rounds' "$SPLITVISOR_RUNDIR/console/guest-$b.log" 2>/dev/null) && break
		sleep 0.1
	done
	xl destroy $a >/dev/null 2>&1; xl destroy $b >/dev/null 2>&1
	sed -n 's/.*avg_ns=\([0-9]*\).*/\1/p' <<<"$out"
}
two=$(pair 2l "evtchn=2l") fifo=$(pair fi "")
[ -n "$two" ] && [ -n "$fifo" ] || { echo "bench evtchn-fifo: a ping-pong gave no result"; exit 1; }
grep -q ': event channels: FIFO ABI' "$SPLITVISOR_RUNDIR/hypervisor.log" ||
	{ echo "bench evtchn-fifo: the FIFO guests never switched"; exit 1; }
awk -v f="$fifo" -v t="$two" -v n="$N" -v e="${engine:-?}" 'BEGIN {
	printf "event-channel ABIs (engine %s), guest<->guest round trip, %d rounds each:\n", e, n
	printf "  FIFO %.1f us = %.2fx 2-level (%.1f us, same run)\n", f / 1000, f / t, t / 1000
}'
