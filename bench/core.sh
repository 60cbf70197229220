#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Core benchmarks: time from `xl create` to the guest's banner and one
# hypercall round trip, each beside the raw KVM cost measured in the same run.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
RUNS=${BENCH_BOOT_RUNS:-20}
CALLS=${BENCH_HCALLS:-20000}

if [ ! -w /dev/kvm ]; then
	echo "bench core: SKIPPED: /dev/kvm is not available"
	exit 0
fi
base=$("$BUILD/bench/kvmraw" 2>/dev/null) || { echo "bench core: kvmraw failed"; exit 1; }
enter_us=$(sed -n 's/^kvm_enter_us=//p' <<<"$base")
exit_us=$(sed -n 's/^kvm_io_exit_us=//p' <<<"$base")

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
splitvisor start >/dev/null 2>&1 || { echo "bench core: splitvisor start failed"; exit 1; }

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

awk -v boot="$boot_ms" -v enter="$enter_us" -v hc="$hc_ns" -v ex="$exit_us" -v runs="$RUNS" -v calls="$CALLS" -v kind="$(xl info | sed -n 's/^kvm *: //p')" 'BEGIN {
	printf "core (%s KVM):\n", kind
	printf "  xl create -> banner     median of %d: %8.2f ms  = %6.2fx  raw KVM VM start to first exit (%.3f ms)\n", runs, boot, boot / (enter / 1000), enter / 1000
	printf "  hypercall round trip    mean of %d:  %8.2f us  = %6.2fx  raw KVM CPL3 I/O exit + re-entry (%.2f us)\n", calls, hc / 1000, (hc / 1000) / ex, ex
}'
