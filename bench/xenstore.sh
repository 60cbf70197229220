#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmarks xenstored: starts a private daemon and runs xenstore_bench (1 and 16 connections, ratios to a socket floor).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build}" "${XS_BENCH_SECONDS:=2}"
dir=$(mktemp -d /tmp/xs-bench.XXXXXX)
"$BUILD/bin/xenstored" --rundir "$dir" --foreground &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
	[ -S "$dir/xenstored.sock" ] && break
	sleep 0.05
done
"$BUILD/bench/xenstore_bench" "$dir/xenstored.sock" "$XS_BENCH_SECONDS"
