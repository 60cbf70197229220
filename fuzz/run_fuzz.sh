#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one libFuzzer target for SECONDS (default 10) from its committed seed corpus:
#   fuzz/run_fuzz.sh NAME [SECONDS]     (NAME: blk_req, net_tx, config, elf, hypercall)
# Runs $BUILD/fuzz/NAME_fuzz on a scratch copy of tests/fuzz/NAME/, so the
# committed seeds never change; crashing inputs are kept in $BUILD/fuzz/crashes/NAME.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build}"
name=${1:?usage: fuzz/run_fuzz.sh NAME [SECONDS]}
secs=${2:-10}
bin=$BUILD/fuzz/${name}_fuzz
seeds=tests/fuzz/$name
[ -x "$bin" ] || { echo "FAIL $name fuzz: $bin not built"; exit 1; }
[ -d "$seeds" ] || { echo "FAIL $name fuzz: no seed corpus $seeds"; exit 1; }
work=$(mktemp -d "/tmp/${name}-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp "$seeds"/* "$work/corpus/" 2>/dev/null
echo "$name fuzz: ${secs}s"
out=$("$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024 -timeout=10 \
	-artifact_prefix="$work/" "$work/corpus" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(#[0-9]+ *DONE|Done [0-9]+ runs)' | tail -n 2
if [ $rc -eq 0 ]; then
	echo "PASS $name fuzz: $(printf '%s\n' "$out" | grep -oE 'Done [0-9]+ runs' | tail -n 1) without a crash"
else
	printf '%s\n' "$out" | tail -n 40
	mkdir -p "$BUILD/fuzz/crashes/$name"
	cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$BUILD/fuzz/crashes/$name/" 2>/dev/null
	echo "FAIL $name fuzz: exit $rc; inputs kept in $BUILD/fuzz/crashes/$name"
	exit 1
fi
