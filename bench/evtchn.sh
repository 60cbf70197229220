#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Split-driver substrate benchmarks: event-channel round trip dom0 <-> guest
# and grant map+unmap and copy rates, each beside a floor measured in the
# same run on the engine the stack runs: on KVM two host processes
# ping-ponging an eventfd plus the raw KVM I/O exit the guest's notify costs;
# on the process engine a futex wake+wait round trip between two host
# processes (bench/procfloor); memcpy of the same blocks on either.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
B=$BUILD/bench/svbench-io
N=${BENCH_EVTCHN_ROUNDS:-2000}

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
eval "$(splitvisor start 2>/dev/null | sed 's/^/export /')"
[ -S "$SPLITVISOR_RUNDIR/xenstored.sock" ] || { echo "bench evtchn: SKIPPED: xenstored is not running"; exit 0; }
engine=$(xl info 2>/dev/null | sed -n 's/^engine *: //p')
# A hypervisor from before the engines says no engine: it is KVM.
[ -z "$engine" ] && [ -w /dev/kvm ] && engine=kvm
case $engine in
kvm)
	exit_us=$("$BUILD/bench/kvmraw" --runs 10 2>/dev/null | sed -n 's/^kvm_io_exit_us=//p')
	floor=$("$B" floor-evtchn "$N") || { echo "bench evtchn: floor failed"; exit 1; }
	;;
process)
	floor=$("$BUILD/bench/procfloor" futex) || { echo "bench evtchn: procfloor failed"; exit 1; }
	;;
*)
	echo "bench evtchn: SKIPPED: the stack runs no engine this benchmark knows (xl info: engine '${engine:-none}')"
	exit 0
	;;
esac
copy_floor=$("$B" floor-copy 1) || exit 1
cfg=$SPLITVISOR_RUNDIR/bench.cfg
printf 'name = "bench-io"\nkernel = "%s/%s/guest/svkernel"\nmemory = 32\n' "$PWD" "$BUILD" > "$cfg"

xl create -q "$cfg" "cmdline=\"evtchn-pingpong=$((N + 1)) grant-selftest\"" >/dev/null 2>&1 ||
	{ echo "bench evtchn: xl create failed"; exit 1; }
domid=$(xl domid bench-io)
pp=$("$B" pingpong "$domid" "$((N + 1))") || { echo "bench evtchn: pingpong failed"; exit 1; }
gr=$("$B" grant "$domid" 1) || { echo "bench evtchn: grant failed"; exit 1; }
xl destroy bench-io >/dev/null 2>&1

# Guest <-> guest: two guests wired through xenstore (the evtchn-peer word).
for n in bench-pa bench-pb; do
	xl create -q "$cfg" "name=\"$n\"" "cmdline=\"evtchn-peer=$N\"" >/dev/null 2>&1 ||
		{ echo "bench evtchn: xl create $n failed"; exit 1; }
done
A=$(xl domid bench-pa) Bd=$(xl domid bench-pb)
xenstore-write /local/domain/$A/data/peer-dom "$Bd" /local/domain/$A/data/peer-role 1 \
	/local/domain/$Bd/data/peer-dom "$A" /local/domain/$Bd/data/peer-role 2
for _ in $(seq 200); do p=$(xenstore-read /local/domain/$A/data/my-port 2>/dev/null) && break; sleep 0.05; done
xenstore-write /local/domain/$Bd/data/peer-port "$p"
peer=""
for _ in $(seq 600); do
	peer=$(grep -h 'evtchn-peer: rounds' "$SPLITVISOR_RUNDIR/console/guest-bench-pb.log" 2>/dev/null) && break
	sleep 0.1
done
xl destroy bench-pa >/dev/null 2>&1; xl destroy bench-pb >/dev/null 2>&1
gg_us=$(sed -n 's/.*avg_ns=\([0-9]*\).*/\1/p' <<<"$peer")
[ -n "$gg_us" ] || { echo "bench evtchn: guest-to-guest ping-pong gave no result"; exit 1; }

get() { sed -n "s/^$1=//p" <<<"$2"; }
if [ "$engine" = kvm ]; then
awk -v rm="$(get evtchn_rtt_median_us "$pp")" -v r99="$(get evtchn_rtt_p99_us "$pp")" \
    -v fm="$(get eventfd_rtt_median_us "$floor")" -v f99="$(get eventfd_rtt_p99_us "$floor")" \
    -v ex="$exit_us" -v mu="$(get grant_map_unmap_per_s "$gr")" \
    -v cp="$(get grant_copy_gbps "$gr")" -v mc="$(get memcpy_gbps "$copy_floor")" -v n="$N" \
    -v gg="$gg_us" 'BEGIN {
	fl = fm + ex
	printf "event channels and grants (engine kvm):\n"
	printf "  evtchn round trip dom0<->guest (%d rounds): median %.1f us, p99 %.1f us\n", n, rm, r99
	printf "    = %.2fx / %.2fx the floor (host eventfd round trip %.1f/%.1f us + one raw KVM I/O exit %.1f us)\n", rm / fl, r99 / (f99 + ex), fm, f99, ex
	printf "  evtchn round trip guest<->guest (%d rounds): mean %.1f us = %.2fx the floor (2 raw KVM I/O exits + eventfd round trip: %.1f us)\n", n, gg / 1000, (gg / 1000) / (fm + 2 * ex), fm + 2 * ex
	printf "  grant map+unmap from dom0: %.0f per s = %.1f us each = %.2fx one raw KVM I/O exit\n", mu, 1e6 / mu, (1e6 / mu) / ex
	printf "  grant copy guest->dom0 (4 KiB segments, 16 per call): %.2f GB/s = %.3fx memcpy of the same blocks (%.2f GB/s)\n", cp, cp / mc, mc
}'
else
awk -v rm="$(get evtchn_rtt_median_us "$pp")" -v r99="$(get evtchn_rtt_p99_us "$pp")" \
    -v fm="$(get futex_rtt_us "$floor")" -v f99="$(get futex_rtt_p99_us "$floor")" \
    -v mu="$(get grant_map_unmap_per_s "$gr")" \
    -v cp="$(get grant_copy_gbps "$gr")" -v mc="$(get memcpy_gbps "$copy_floor")" -v n="$N" \
    -v gg="$gg_us" 'BEGIN {
	printf "event channels and grants (engine process):\n"
	printf "  evtchn round trip dom0<->guest (%d rounds): median %.1f us, p99 %.1f us\n", n, rm, r99
	r = rm / fm
	printf "    = %.2fx / %.2fx the floor (futex wake+wait round trip between two host processes %.1f/%.1f us)  aim <= 2x%s\n", r, r99 / f99, fm, f99, (r <= 2 ? "" : "  (below aim)")
	printf "  evtchn round trip guest<->guest (%d rounds): mean %.1f us = %.2fx the floor (2 futex round trips, guest->hypervisor->guest each way: %.1f us)\n", n, gg / 1000, (gg / 1000) / (2 * fm), 2 * fm
	printf "  grant map+unmap from dom0: %.0f per s = %.1f us each = %.2fx one futex round trip\n", mu, 1e6 / mu, (1e6 / mu) / fm
	printf "  grant copy guest->dom0 (4 KiB segments, 16 per call): %.2f GB/s = %.3fx memcpy of the same blocks (%.2f GB/s)\n", cp, cp / mc, mc
}'
fi
