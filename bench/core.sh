#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Core benchmarks: time from `xl create` to the guest's banner and one
# hypercall round trip, each beside a baseline measured in the same run on
# the engine the stack runs: on KVM the raw KVM cost (bench/kvmraw), on the
# process engine the host's own floor (bench/procfloor: fork+execve of a
# static program, a futex round trip between two processes).
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
RUNS=${BENCH_BOOT_RUNS:-20}
CALLS=${BENCH_HCALLS:-20000}

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
splitvisor start >/dev/null 2>&1 || { echo "bench core: splitvisor start failed"; exit 1; }
info=$(xl info 2>/dev/null)
engine=$(sed -n 's/^engine *: //p' <<<"$info")
# A hypervisor from before the engines says no engine: it is KVM.
[ -z "$engine" ] && [ -w /dev/kvm ] && engine=kvm

case $engine in
kvm)
	base=$("$BUILD/bench/kvmraw" 2>/dev/null) || { echo "bench core: kvmraw failed"; exit 1; }
	enter_us=$(sed -n 's/^kvm_enter_us=//p' <<<"$base")
	exit_us=$(sed -n 's/^kvm_io_exit_us=//p' <<<"$base")
	;;
process)
	base=$("$BUILD/bench/procfloor" futex forkexec) || { echo "bench core: procfloor failed"; exit 1; }
	fork_ms=$(sed -n 's/^forkexec_ms=//p' <<<"$base")
	futex_us=$(sed -n 's/^futex_rtt_us=//p' <<<"$base")
	;;
*)
	echo "bench core: SKIPPED: the stack runs no engine this benchmark knows (xl info: engine '${engine:-none}')"
	exit 0
	;;
esac

cfg=$SPLITVISOR_RUNDIR/bench.cfg
printf 'name = "bench"\nkernel = "%s/%s/guest/svkernel"\nmemory = 32\n' "$PWD" "$BUILD" > "$cfg"

# Boot: from just before `xl create` to the line the kernel prints after its banner.
times=()
for ((i = 0; i < RUNS; i++)); do
	printf '\rbench core: boot %d/%d' $((i + 1)) "$RUNS" >&2
	t0=$EPOCHREALTIME
	t1=""
	while IFS= read -r line; do
		if [[ $line == "bench-boot: ready"* ]]; then t1=$EPOCHREALTIME; fi
	done < <(xl create -q -c "$cfg" 'cmdline="bench-boot halt"' 2>/dev/null)
	[ -n "$t1" ] || { echo; echo "bench core: boot $i never printed its banner"; exit 1; }
	times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
	while xl list bench >/dev/null 2>&1; do sleep 0.01; done
done
echo >&2
boot_ms=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')

# Hypercall round trip, timed inside the guest with Xen system time.
out=$(xl create -q -c "$cfg" "cmdline=\"bench-hypercall=$CALLS halt\"" 2>/dev/null)
hc_ns=$(sed -n 's/^bench-hypercall: calls=[0-9]* ns_per_call=\([0-9]*\).*/\1/p' <<<"$out")
[ -n "$hc_ns" ] || { echo "bench core: no hypercall result"; echo "$out"; exit 1; }

if [ "$engine" = kvm ]; then
awk -v boot="$boot_ms" -v enter="$enter_us" -v hc="$hc_ns" -v ex="$exit_us" -v runs="$RUNS" -v calls="$CALLS" -v kind="$(sed -n 's/^kvm *: //p' <<<"$info")" 'BEGIN {
	printf "core (engine kvm, %s KVM):\n", kind
	printf "  xl create -> banner     median of %d: %8.2f ms  = %6.2fx  raw KVM VM start to first exit (%.3f ms)\n", runs, boot, boot / (enter / 1000), enter / 1000
	printf "  hypercall round trip    mean of %d:  %8.2f us  = %6.2fx  raw KVM CPL3 I/O exit + re-entry (%.2f us)\n", calls, hc / 1000, (hc / 1000) / ex, ex
}'
else
awk -v boot="$boot_ms" -v fork="$fork_ms" -v hc="$hc_ns" -v fx="$futex_us" -v runs="$RUNS" -v calls="$CALLS" 'BEGIN {
	printf "core (engine process):\n"
	r = boot / fork
	printf "  xl create -> banner     median of %d: %8.2f ms  = %6.2fx  fork+execve+waitpid of a static program (%.3f ms)  aim <= 5x%s\n", runs, boot, r, fork, (r <= 5 ? "" : "  (below aim)")
	r = (hc / 1000) / fx
	printf "  hypercall round trip    mean of %d:  %8.2f us  = %6.2fx  futex wake+wait round trip between two processes (%.2f us)  aim <= 1.5x%s\n", calls, hc / 1000, r, fx, (r <= 1.5 ? "" : "  (below aim)")
}'
fi
