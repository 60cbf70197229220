#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmarks xenstored beside Debian's C xenstored and beside itself on its epoll fallback (1 and 16 connections; throughput and daemon CPU per request, as ratios).
#
# Debian's C xenstored comes from xen-utils-4.17, fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` into a private
# directory (never installed: the package pulls in systemd-sysv). It runs
# without Xen through bench/xs_fakexen.c (LD_PRELOAD). Without the package
# (no network, no apt) that comparison prints SKIPPED with the reason and
# the ratios to the echo floor remain. It runs unpinned, then with each
# daemon and its 1-connection client pinned to CPU 0; XS_BENCH_PIN=CPU runs
# only the pinned pass, on that CPU (xenstore_bench.c).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build}" "${XS_BENCH_SECONDS:=2}"
dir=$(mktemp -d /tmp/xs-bench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT

wait_sock() {
	local _
	for _ in $(seq 200); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

mkdir -p "$dir/ours" "$dir/c"
"$BUILD/bin/xenstored" --rundir "$dir/ours" --foreground &
pids+=($!)
ours_pid=$!
wait_sock "$dir/ours/xenstored.sock" || { echo "xenstored did not start"; exit 1; }
targets=("ours=$dir/ours/xenstored.sock:$ours_pid")

# Debian's C xenstored, unpacked (cached under $BUILD/bench/debs).
c_skip=""
cache="$BUILD/bench/debs"
shim="$PWD/$BUILD/bench/xs_fakexen.so"
mkdir -p "$cache"
if ! ls "$cache"/xen-utils-4.17_*.deb >/dev/null 2>&1; then
	if ! command -v apt-get >/dev/null; then
		c_skip="apt-get not available"
	elif ! out=$(cd "$cache" && timeout 120 apt-get download xen-utils-4.17 2>&1); then
		c_skip="apt-get download xen-utils-4.17 failed: $(printf '%s' "$out" | grep -E '^(E|Err):' | head -n 1)"
	fi
fi
if [ -z "$c_skip" ]; then
	deb=$(ls "$cache"/xen-utils-4.17_*.deb | head -n 1)
	cxs="$dir/deb/usr/lib/xen-4.17/bin/xenstored"
	if ! dpkg-deb -x "$deb" "$dir/deb" 2>/dev/null || [ ! -x "$cxs" ]; then
		c_skip="cannot unpack $deb"
	elif [ ! -f "$shim" ]; then
		c_skip="$shim not built"
	else
		# -N: no fork, -F: pid file; the store stays in memory (its default).
		XENSTORED_RUNDIR="$dir/c" LD_PRELOAD="$shim" \
			"$cxs" -N -F "$dir/c/xenstored.pid" >"$dir/c/out" 2>&1 &
		pids+=($!)
		c_pid=$!
		if wait_sock "$dir/c/socket"; then
			targets+=("C-4.17=$dir/c/socket:$c_pid")
		else
			c_skip="C xenstored did not start: $(head -c 300 "$dir/c/out")"
		fi
	fi
fi
# Ours again on its epoll loop (XENSTORED_IO_URING=0): what io_uring saves.
mkdir -p "$dir/epoll"
XENSTORED_IO_URING=0 "$BUILD/bin/xenstored" --rundir "$dir/epoll" --foreground &
epoll_pid=$!
pids+=($epoll_pid)
if wait_sock "$dir/epoll/xenstored.sock"; then
	targets+=("ours-epoll=$dir/epoll/xenstored.sock:$epoll_pid")
fi
echo "xenstore bench: ours runs the $(sed -n 's/.*event loop: \([a-z_]*\).*/\1/p' "$dir/ours/xenstored.log" | head -n 1) loop; ours-epoll the same daemon with XENSTORED_IO_URING=0"
if [ -n "$c_skip" ]; then
	echo "xenstore bench: comparison with Debian's C xenstored SKIPPED: $c_skip"
else
	echo "xenstore bench: ours (pid $ours_pid) beside Debian's C xenstored 4.17 ($(basename "$deb"), pid $c_pid); aim: cpu per request <= 0.50x, 16-connection throughput >= 2x"
fi
if [ -n "${XS_BENCH_PIN:-}" ]; then
	"$BUILD/bench/xenstore_bench" "$XS_BENCH_SECONDS" "${targets[@]}"
	exit
fi
# Twice: as the scheduler places things, then with each daemon and its
# 1-connection client on one CPU.  Unpinned, whether a request pays a
# cross-CPU wake-up (dear on a PVM host) is the scheduler's choice per run,
# and it moves the 1-connection CPU ratio between 0.3x and 1x; pinned,
# every daemon is measured in the same placement.
echo "xenstore bench: unpinned"
"$BUILD/bench/xenstore_bench" "$XS_BENCH_SECONDS" "${targets[@]}"
echo "xenstore bench: pinned (XS_BENCH_PIN=0: each daemon and its 1-connection client on CPU 0)"
XS_BENCH_PIN=0 "$BUILD/bench/xenstore_bench" "$XS_BENCH_SECONDS" "${targets[@]}"
