#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# blkfront, the bundled guest kernel's disk driver, against the real blkback:
# what the guest writes is in the image byte for byte (in every ring and grant
# mode), flushed writes survive kill -9 of blkback, read-only disks refuse
# writes, discard punches holes, a guest that corrupts its ring loses only its
# device (and gets it back), hot attach/detach are seen by the guest, and
# xl shutdown closes open devices cleanly first.  (blk_toolstack.sh covers
# the toolstack side and the default-mode flush + kill -9.)
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(blk-info image-default image-singlepage-nopersistent image-noindirect
	flush-kill9-nopersistent read-only discard-hole hostile-contained
	hostile-others-unharmed bench-through-restarts hot-attach hot-detach shutdown-closes)
need_guest_engine "${TESTS[@]}" || exit 0
if ! grep -aq 'blk-selftest' "$SV_GUEST/svkernel"; then
	for t in "${TESTS[@]}"; do skip "$t: the guest kernel has no blkfront"; done
	exit 0
fi
stack_start || exit 1

work=$(mktemp -d /tmp/sv-gblk.XXXXXX)
on_exit "rm -rf '$work'"

# guest NAME CMDLINE DISK-SPEC...: a config file for a guest with these disks.
guest_cfg() {
	local name=$1 cmdline=$2 d disks=""
	shift 2
	for d in "$@"; do disks+="'$d', "; done
	printf 'name = "%s"\nkernel = "%s"\nmemory = 32\ncmdline = "%s"\ndisk = [ %s ]\n' \
		"$name" "$SV_GUEST/svkernel" "$cmdline" "${disks%, }" > "$work/$name.cfg"
}
# run_guest NAME CMDLINE DISK-SPEC...: boot, wait for the end, print the console.
run_guest() {
	guest_cfg "$@"
	timeout 120 xl create -c "$work/$1.cfg" 2>&1 | tr -d '\r'
}
clog() { echo "$SPLITVISOR_RUNDIR/console/guest-$1.log"; }
blkpid() { splitvisor status | awk '$1 == "blkback" && $2 == "running" {print $4}'; }
# pattern_ok IMG: docs/blkback.md's blk-selftest pattern at sector 2048.
pattern_ok() { python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()[2048 * 512:2048 * 512 + (1 << 20)]
want = bytes(((s * 31 + i) & 0xff) ^ 0x5a for s in range(2048, 2048 + 2048) for i in range(512))
sys.exit(0 if d == want else 1)
PY
}
show() { printf '%s\n' "$1" | grep -E "^(blk|blkfront)" | tail -n 12 | sed 's/^/    /'; }

truncate -s 32M "$work/a.img"
dd if=/dev/urandom of="$work/ro.img" bs=1M count=4 status=none
ro_sum=$(md5sum < "$work/ro.img")

# What the guest sees of its disks.
out=$(run_guest info "blk-info halt" "format=raw, vdev=xvda, access=rw, target=$work/a.img" \
	"$work/ro.img,raw,xvdb,r")
if grep -q "^blk-info: vbd 51712 sectors=65536 sector-size=512 info=0 ro=0 " <<<"$out" &&
	grep -q "^blk-info: vbd 51728 sectors=8192 sector-size=512 info=4 ro=1 " <<<"$out" &&
	grep -q "^poweroff" <<<"$out"; then
	pass blk-info
else
	fail blk-info; show "$out"
fi

# The selftest pattern lands in the image in each mode of the driver.
for mode in "image-default:" "image-singlepage-nopersistent:blk-config=order=0,nopersistent" \
	"image-noindirect:blk-config=noindirect,order=1"; do
	name=${mode%%:*} cfg=${mode#*:}
	rm -f "$work/s.img"; truncate -s 32M "$work/s.img"
	out=$(run_guest st "$cfg blk-selftest halt" "format=raw, vdev=xvda, access=rw, target=$work/s.img")
	if grep -q "^blk-selftest: ok" <<<"$out" && pattern_ok "$work/s.img"; then
		pass "$name"
	else
		fail "$name"; show "$out"
	fi
done

# Flush, then kill -9 blkback: the flushed data is in the image, and the read
# back (per-request grants, one-page ring) completes through its successor.
rm -f "$work/k.img"; truncate -s 32M "$work/k.img"
guest_cfg k9 "blk-config=order=0,nopersistent blk-selftest halt" \
	"format=raw, vdev=xvda, access=rw, target=$work/k.img"
xl create "$work/k9.cfg" >/dev/null 2>&1
if wait_for 60 grep -q 'blk-selftest: flushed' "$(clog k9)"; then
	kill -9 "$(blkpid)" 2>/dev/null
	flushed_ok=0; pattern_ok "$work/k.img" || flushed_ok=1
	if [ $flushed_ok = 0 ] && wait_for 60 grep -q 'blk-selftest: ok' "$(clog k9)" &&
		pattern_ok "$work/k.img"; then
		pass flush-kill9-nopersistent
	else
		fail flush-kill9-nopersistent; tail -5 "$(clog k9)" | sed 's/^/    /'
	fi
else
	fail "flush-kill9-nopersistent: the guest never said 'blk-selftest: flushed'"
	tail -5 "$(clog k9)" 2>/dev/null | sed 's/^/    /'
fi
xl destroy k9 >/dev/null 2>&1
wait_for 15 blkpid

# A read-only disk: blkback refuses the write, the image is untouched.
out=$(run_guest ro "blk-write-ro=xvdb halt" "format=raw, vdev=xvda, access=rw, target=$work/a.img" \
	"$work/ro.img,raw,xvdb,r")
if grep -q "^blk-write-ro: vbd 51728 write answered BLKIF_RSP_ERROR (-5), read answered BLKIF_RSP_OKAY (0)" <<<"$out" &&
	grep -q "^blk-write-ro: ok" <<<"$out" && [ "$(md5sum < "$work/ro.img")" = "$ro_sum" ]; then
	pass read-only
else
	fail read-only; show "$out"
fi

# Discard: the guest's range (sectors 8192.., 1 MiB) becomes a hole in the file.
rm -f "$work/d.img"; truncate -s 32M "$work/d.img"
out=$(run_guest disc "blk-discard halt" "format=raw, vdev=xvda, access=rw, target=$work/d.img")
is_hole() { python3 - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
start, end = 8192 * 512, 8192 * 512 + (1 << 20)
try:
    data = os.lseek(fd, start, os.SEEK_DATA)
except OSError:
    data = os.fstat(fd).st_size   # no data after start at all
sys.exit(0 if data >= end else 1)
PY
}
if grep -q "^blk-discard: ok (vbd 51712 sectors 8192+2048" <<<"$out" && is_hole "$work/d.img"; then
	pass discard-hole
else
	fail discard-hole; show "$out"
fi

# A guest that corrupts its own ring: blkback shuts that device down and
# carries on; the guest survives, reconnects, and its other disk works.
rm -f "$work/o.img"; truncate -s 32M "$work/o.img"
guest_cfg other "blk-selftest blk-selftest blk-selftest halt" \
	"format=raw, vdev=xvda, access=rw, target=$work/o.img"
pid=$(blkpid)
xl create "$work/other.cfg" >/dev/null 2>&1
out=$(run_guest hostile "blk-hostile blk-info halt" "format=raw, vdev=xvda, access=rw, target=$work/a.img" \
	"$work/ro.img,raw,xvdb,r")
if grep -q "^blk-hostile: backend closed the device (state 5)" <<<"$out" &&
	grep -q "^blk-hostile: ok (reconnected, read ok)" <<<"$out" &&
	grep -q "^blk-info: vbd 51728 " <<<"$out" && grep -q "^poweroff" <<<"$out" &&
	grep -q "frontend broke the protocol" "$SPLITVISOR_RUNDIR/blkback.log" &&
	[ "$(blkpid)" = "$pid" ]; then
	pass hostile-contained
else
	fail hostile-contained; show "$out"; tail -4 "$SPLITVISOR_RUNDIR/blkback.log" | sed 's/^/    /'
fi
if wait_for 90 grep -q '^poweroff' "$(clog other)" &&
	[ "$(grep -c '^blk-selftest: ok' "$(clog other)")" = 3 ] && pattern_ok "$work/o.img"; then
	pass hostile-others-unharmed
else
	fail hostile-others-unharmed; tail -5 "$(clog other)" | sed 's/^/    /'
fi
xl destroy other >/dev/null 2>&1

# blkback killed twice under the benchmark's load (32 requests in flight,
# indirect 1 MiB requests): every job still completes, none fails.
dd if=/dev/urandom of="$work/b.img" bs=1M count=32 status=none
guest_cfg bench "blk-bench=1 halt" "format=raw, vdev=xvda, access=rw, target=$work/b.img"
xl create "$work/bench.cfg" >/dev/null 2>&1
if wait_for 30 grep -q 'blk-bench: randread-4k-qd1' "$(clog bench)"; then
	kill -9 "$(blkpid)"; wait_for 15 blkpid
	wait_for 30 grep -q 'blk-bench: randwrite-4k-qd1' "$(clog bench)" && kill -9 "$(blkpid)"
fi
if wait_for 90 grep -q '^poweroff' "$(clog bench)" &&
	[ "$(grep -c '^blk-bench: [a-z0-9-]* iops=[0-9]* mib_s=' "$(clog bench)")" = 6 ] &&
	! grep -q 'FAIL\|blkfront:' "$(clog bench)"; then
	pass bench-through-restarts
else
	fail bench-through-restarts; grep -E '^(blk|blkfront)' "$(clog bench)" | sed 's/^/    /'
fi
xl destroy bench >/dev/null 2>&1
wait_for 15 blkpid

# Hot attach and detach while the guest watches device/vbd.
truncate -s 8M "$work/h.img"
guest_cfg hot "blk-watch=60 halt" "format=raw, vdev=xvda, access=rw, target=$work/a.img"
xl create "$work/hot.cfg" >/dev/null 2>&1
on_exit "xl destroy hot >/dev/null 2>&1"
wait_for 20 grep -q 'blk-watch: attached vbd 51712' "$(clog hot)"
if xl block-attach hot "format=raw, vdev=xvdc, access=rw, target=$work/h.img" &&
	wait_for 20 grep -q 'blk-watch: attached vbd 51744 sectors=16384 ro=0' "$(clog hot)"; then
	pass hot-attach
else
	fail hot-attach; tail -5 "$(clog hot)" | sed 's/^/    /'
fi
# The guest walks Closing -> Closed in time: xl has no warning to give.
if out=$(timeout 20 xl block-detach hot xvdc 2>&1) && ! grep -q warning <<<"$out" &&
	wait_for 10 grep -q 'blk-watch: detached vbd 51744' "$(clog hot)"; then
	pass hot-detach
else
	fail hot-detach; echo "    $out"; tail -5 "$(clog hot)" | sed 's/^/    /'
fi

# xl shutdown while a device is open: the guest closes it before it goes.
# (The close waits for blkback to say Closed, else it prints 'did not close'.)
if timeout 30 xl shutdown -w hot >/dev/null 2>&1 &&
	grep -A1 'blkfront: vbd 51712: closing for shutdown' "$(clog hot)" |
		grep -q 'control: poweroff requested'; then
	pass shutdown-closes
else
	fail shutdown-closes; tail -5 "$(clog hot)" | sed 's/^/    /'
fi
