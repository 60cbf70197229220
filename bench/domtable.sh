#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The domain table read under RCU against the same reads under the
# table's lock (as before RCU), in one run: dom0 grant copies by frame,
# two threads on two domains, each copy looking both sides up.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
out=$("$BUILD/bench/domtable" 2>/dev/null) || { echo "bench domtable: failed"; exit 1; }
rcu=$(sed -n 's/^copies_per_s_rcu=//p' <<<"$out")
locked=$(sed -n 's/^copies_per_s_locked=//p' <<<"$out")
awk -v r="$rcu" -v l="$locked" 'BEGIN {
	printf "domain table (2 threads, 2 domains, dom0 grant copies of 64 B by frame, medians of 3):\n"
	printf "  lookups under RCU        %10.0f copies/s  = %5.2fx  the same lookups under the table lock (%.0f copies/s)\n", r, r / l, l
}'
