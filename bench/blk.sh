#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Block benchmark: fio on the host, blkback's data plane (blk_bench) and, once
# the guest kernel has blkfront, the guest's own benchmark, all on the same
# image file in the same run, each printed as a ratio to host fio.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build}" "${BLK_BENCH_SECONDS:=2}" "${BLK_BENCH_MB:=256}"
export PATH="$PWD/$BUILD/bin:$PATH"

dir=$(mktemp -d /var/tmp/blk-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
img=$dir/disk.img
# Real blocks (no holes): reads go to the disk, not the zero page.
dd if=/dev/urandom of="$img" bs=1M count="$BLK_BENCH_MB" status=none conv=fsync

# Jobs (name rw bs depth), the same for every side.
JOBS="randread-4k-qd1 randread 4k 1
randread-4k-qd32 randread 4k 32
randwrite-4k-qd1 randwrite 4k 1
randwrite-4k-qd32 randwrite 4k 32
seqread-1m-qd1 read 1m 1
seqwrite-1m-qd1 write 1m 1"

declare -A host be guest
if ! command -v fio >/dev/null; then
	echo "blk bench: SKIP: fio is not installed (make deps)"
	exit 0
fi
while read -r name rw bs depth; do
	iops=$(fio --name="$name" --filename="$img" --ioengine=io_uring --direct=1 --rw="$rw" \
		--bs="$bs" --iodepth="$depth" --runtime="$BLK_BENCH_SECONDS" --time_based \
		--output-format=json 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][0]
print(int(j["read"]["iops"] + j["write"]["iops"]))') || iops=
	host[$name]=$iops
done <<<"$JOBS"

if [ -x "$BUILD/bench/blk_bench" ]; then
	while read -r name kv _; do
		be[$name]=${kv#iops=}
	done < <("$BUILD/bench/blk_bench" "$img" "$BLK_BENCH_SECONDS")
fi

# The guest side: the bundled kernel's blk-bench word (docs/blkback.md).
# It runs on whatever engine the stack has (KVM or the process engine).
guest_note=""
engine="none: no guest run"
if ! grep -aq 'blk-bench' "$BUILD/guest/svkernel" 2>/dev/null; then
	guest_note="SKIP: the guest kernel has no blkfront (blk-bench) yet"
else
	export SPLITVISOR_RUNDIR
	SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-blkbench.XXXXXX)
	if eval "$(splitvisor start 2>/dev/null | sed -n 's/^\([A-Z_]*=.*\)$/export \1/p')"; then
		engine=$(xl info 2>/dev/null | sed -n 's/^engine *: //p')
		# A hypervisor from before the engines says no engine: it is KVM.
		[ -z "$engine" ] && [ -w /dev/kvm ] && engine=kvm
		engine=${engine:-unknown}
	fi
	case $engine in
	kvm | process)
		printf 'name = "blkbench"\nkernel = "%s"\nmemory = 64\ncmdline = "blk-bench=%s halt"\ndisk = [ "vdev=xvda, target=%s" ]\n' \
			"$BUILD/guest/svkernel" "$BLK_BENCH_SECONDS" "$img" > "$dir/g.cfg"
		out=$(timeout 300 xl create -c "$dir/g.cfg" 2>&1)
		# Lines "blk-bench: JOB iops=N ..."
		while read -r _ name kv _; do
			guest[$name]=${kv#iops=}
		done < <(grep '^blk-bench: [a-z]' <<<"$out")
		[ ${#guest[@]} -eq 0 ] && guest_note="FAIL: the guest printed no blk-bench results"
		splitvisor stop >/dev/null 2>&1
		;;
	"none: no guest run")
		guest_note="FAIL: splitvisor start"
		splitvisor stop >/dev/null 2>&1
		;;
	*)
		guest_note="SKIP: the stack runs no engine this benchmark knows ($engine)"
		splitvisor stop >/dev/null 2>&1
		;;
	esac
	rm -rf "$SPLITVISOR_RUNDIR"
fi

ratio() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && [ "$2" -gt 0 ] &&
	python3 -c "print(f'{$1 / $2:.2f}')" || echo "-"; }
echo "blk bench (engine $engine): $BLK_BENCH_MB MiB image on $(df -T "$dir" | awk 'NR==2 {print $2}'), ${BLK_BENCH_SECONDS}s per job, IOPS"
printf '  %-18s %10s %10s %7s %10s %7s\n' job host-fio blkback ratio guest ratio
while read -r name _; do
	printf '  %-18s %10s %10s %7s %10s %7s\n' "$name" "${host[$name]:--}" "${be[$name]:--}" \
		"$(ratio "${be[$name]:-}" "${host[$name]:-}")" "${guest[$name]:--}" \
		"$(ratio "${guest[$name]:-}" "${host[$name]:-}")"
done <<<"$JOBS"
echo "  blkback = its data plane under a zero-cost frontend (blk_bench); ratio = side / host fio"
[ -n "$guest_note" ] && echo "  guest: $guest_note"
case $guest_note in FAIL*) exit 1 ;; esac
exit 0
