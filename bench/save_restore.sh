#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xl save and xl restore of a guest (256 MiB by default, its memory written
# first by memcheck), each as a ratio to the host copying the same number
# of bytes file to file (cp of the checkpoint file) in the same run.  The
# restore is made paused and its domain destroyed before the next round;
# each figure is the best of ROUNDS.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
MEM=${BENCH_SAVE_MB:-256}
ROUNDS=${BENCH_SAVE_ROUNDS:-5}

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'xl destroy bench-save >/dev/null 2>&1; splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
splitvisor start >/dev/null 2>&1 || { echo "bench save_restore: splitvisor start failed"; exit 1; }

log=$SPLITVISOR_RUNDIR/console/guest-bench-save.log
cfg=$SPLITVISOR_RUNDIR/save.cfg
file=$SPLITVISOR_RUNDIR/bench.save
copy=$SPLITVISOR_RUNDIR/bench.copy
printf 'name = "bench-save"\nkernel = "%s/%s/guest/svkernel"\nmemory = %s\n' "$PWD" "$BUILD" "$MEM" > "$cfg"
printf 'cmdline = "memcheck wait"\non_crash = "preserve"\n' >> "$cfg"

ns() { date +%s%N; }
until_up() {
	local end=$((SECONDS + 120))
	until grep -q '^wait: blocking' "$log" 2>/dev/null; do
		[ $SECONDS -ge $end ] && { echo "bench save_restore: the guest did not come up"; tail -5 "$log"; exit 1; }
		sleep 0.1
	done
}

xl create -q "$cfg" >/dev/null 2>&1 || { echo "bench save_restore: xl create failed"; exit 1; }
until_up
best_save=0 best_restore=0 best_cp=0
for ((r = 0; r < ROUNDS; r++)); do
	if [ "$r" -gt 0 ]; then
		# A running guest to save again: a fresh one, so that every round saves
		# the same freshly booted guest (the restored one was left paused).
		xl destroy bench-save >/dev/null 2>&1
		: > "$log"
		xl create -q "$cfg" >/dev/null 2>&1 || { echo "bench save_restore: xl create failed"; exit 1; }
		until_up
	fi
	rm -f "$file" "$copy"
	t0=$(ns)
	xl save bench-save "$file" >/dev/null 2>&1 || { echo "bench save_restore: xl save failed"; exit 1; }
	t1=$(ns)
	xl restore -p -e "$file" >/dev/null 2>&1 || { echo "bench save_restore: xl restore failed"; exit 1; }
	t2=$(ns)
	cp "$file" "$copy" || { echo "bench save_restore: cp failed"; exit 1; }
	t3=$(ns)
	s=$((t1 - t0)) rs=$((t2 - t1)) c=$((t3 - t2))
	[ "$best_save" -eq 0 ] || [ "$s" -lt "$best_save" ] && best_save=$s
	[ "$best_restore" -eq 0 ] || [ "$rs" -lt "$best_restore" ] && best_restore=$rs
	[ "$best_cp" -eq 0 ] || [ "$c" -lt "$best_cp" ] && best_cp=$c
done
bytes=$(stat -c %s "$file")
awk -v s="$best_save" -v r="$best_restore" -v c="$best_cp" -v b="$bytes" -v m="$MEM" 'BEGIN {
	printf "bench save_restore: %d MiB guest, checkpoint of %.1f MiB; time as a ratio to cp of the same file (same run, best of rounds):\n", m, b / 1048576
	printf "  xl save:    %.2f x cp\n", s / c
	printf "  xl restore: %.2f x cp (paused, no monitor)\n", r / c
}'
