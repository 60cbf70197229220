#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Process-engine benchmarks: the guest's CPU loop (bench-cpu=N) against the
# very same loop run on the host (frontends/include/svk/cpuloop.h), and one
# hypercall round trip against the host's floors for a hand-off between two
# processes (spinning on a shared word; futex wake+wait), all measured in
# this run by bench/procfloor.  Skips unless the stack runs the process engine.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
ITERS=${BENCH_CPU_ITERS:-250000000}	# about 0.5 s at 2 GHz
GRUNS=${BENCH_PROC_RUNS:-3}
CALLS=${BENCH_HCALLS:-20000}

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
splitvisor start >/dev/null 2>&1 || { echo "bench proc: splitvisor start failed"; exit 1; }
engine=$(xl info 2>/dev/null | sed -n 's/^engine *: //p')
if [ "$engine" != process ]; then
	echo "bench proc: SKIPPED: the stack runs engine '${engine:-unknown}', not process"
	exit 0
fi

printf 'bench proc: host floors\n' >&2
floor=$("$BUILD/bench/procfloor" futex spin) ||
	{ echo "bench proc: procfloor failed"; exit 1; }
get() { sed -n "s/^$1=//p" <<<"$2"; }

cfg=$SPLITVISOR_RUNDIR/bench.cfg
printf 'name = "bench-proc"\nkernel = "%s/%s/guest/svkernel"\nmemory = 32\n' "$PWD" "$BUILD" > "$cfg"

# One guest per run, each printing its bench-cpu and bench-hypercall lines,
# each run right after the same loop on the host (so both see the same host).
cyc=() hc=() hcyc=()
for ((i = 0; i < GRUNS; i++)); do
	printf '\rbench proc: host + guest %d/%d' $((i + 1)) "$GRUNS" >&2
	c=$("$BUILD/bench/procfloor" --runs 1 --cpu-iters "$ITERS" cpu | sed -n 's/^cpuloop_cycles=//p')
	[ -n "$c" ] || { echo >&2; echo "bench proc: procfloor cpu failed"; exit 1; }
	hcyc+=("$c")
	out=$(timeout 120 xl create -q -c "$cfg" "cmdline=\"bench-cpu=$ITERS bench-hypercall=$CALLS halt\"" 2>/dev/null)
	c=$(sed -n "s/^bench-cpu: iterations=$ITERS cycles=\([0-9]*\).*/\1/p" <<<"$out")
	h=$(sed -n 's/^bench-hypercall: calls=[0-9]* ns_per_call=\([0-9]*\).*/\1/p' <<<"$out")
	if [ -z "$c" ] || [ -z "$h" ]; then
		echo >&2
		echo "bench proc: guest run $((i + 1)) gave no bench-cpu or bench-hypercall result"
		echo "$out"
		exit 1
	fi
	cyc+=("$c") hc+=("$h")
	while xl list bench-proc >/dev/null 2>&1; do sleep 0.01; done
done
echo >&2
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
gcyc=$(median "${cyc[@]}")
host_cyc=$(median "${hcyc[@]}")
hc_ns=$(median "${hc[@]}")

awk -v gc="$gcyc" -v hcyc="$host_cyc" -v it="$ITERS" -v runs="$GRUNS" \
    -v hc="$hc_ns" -v calls="$CALLS" -v sp="$(get spin_rtt_us "$floor")" -v fx="$(get futex_rtt_us "$floor")" \
    'BEGIN {
	printf "proc (engine process):\n"
	r = hcyc / gc
	printf "  guest CPU loop (bench-cpu=%d), median of %d: %.0f cycles; the same loop on the host (median of as many) %.0f cycles\n", it, runs, gc, hcyc
	printf "    = %.3fx  host cycles / guest cycles  aim >= 0.95%s\n", r, (r >= 0.95 ? "" : "  (below aim)")
	h = hc / 1000
	printf "  hypercall round trip (mean of %d, median of %d guests): %.2f us\n", calls, runs, h
	printf "    = %6.2fx  spinning hand-off between two processes on two CPUs (%.2f us)\n", h / sp, sp
	r = h / fx
	printf "    = %6.2fx  futex wake+wait hand-off between two processes, unpinned (%.2f us)  aim <= 1.5x%s\n", r, fx, (r <= 1.5 ? "" : "  (below aim)")
}'
