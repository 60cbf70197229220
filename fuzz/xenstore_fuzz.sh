#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the xenstored libFuzzer target for XS_FUZZ_SECONDS (default 15) from a seed corpus of valid requests.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build}" "${XS_FUZZ_SECONDS:=15}"
bin=$BUILD/fuzz/xenstore_fuzz
[ -x "$bin" ] || { echo "FAIL xenstore fuzz: $bin not built"; exit 1; }
work=$(mktemp -d /tmp/xs-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
# seed FLAGS TYPE TX PAYLOAD: one framed request (printf escapes allowed).
seed() {
	local f=$work/corpus/seed$RANDOM$RANDOM p
	p=$(printf "$4" | od -An -v -tx1 | tr -d ' \n')
	{
		printf "\\x$(printf %02x "$1")"
		printf "$(printf '\\x%02x\\x00\\x00\\x00' "$2")"
		printf '\x01\x00\x00\x00'
		printf "$(printf '\\x%02x\\x00\\x00\\x00' "$3")"
		printf "$(printf '\\x%02x\\x%02x\\x00\\x00' $(( ${#p} / 2 % 256 )) $(( ${#p} / 512 )))"
		printf "$4"
	} > "$f"
}
seed 0 11 0 '/a/b\0value'
seed 1 11 0 'data/x\0v'
seed 4 2 0 '/a/b\0'
seed 0 1 0 '/\0'
seed 0 14 0 '/a\0b0\0r5\0'
seed 5 4 0 '/a\0tok\0'
seed 0 6 0 '\0'
seed 0 0 0 'quota\0set\0nodes\0100\0'
seed 0 8 0 '7\0100\0 3\0'
seed 0 22 0 '/\0000\0'
seed 0 13 0 '/a\0'
seed 2 11 0 '/ro\0x'
seed 8 11 0 '/ring\0v'
seed 9 4 0 'w\0t\0'
echo "xenstore fuzz: ${XS_FUZZ_SECONDS}s"
out=$("$bin" -max_total_time="$XS_FUZZ_SECONDS" -max_len=8192 -rss_limit_mb=1024 \
	-artifact_prefix="$work/" "$work/corpus" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(#[0-9]+ *DONE|Done [0-9]+ runs)' | tail -n 2
if [ $rc -eq 0 ]; then
	echo "PASS xenstore fuzz: $(printf '%s\n' "$out" | grep -oE 'Done [0-9]+ runs' | tail -n 1) without a crash"
else
	printf '%s\n' "$out" | tail -n 40
	mkdir -p "$BUILD/fuzz/crashes"
	cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$BUILD/fuzz/crashes/" 2>/dev/null
	echo "FAIL xenstore fuzz: exit $rc; inputs kept in $BUILD/fuzz/crashes"
	exit 1
fi
