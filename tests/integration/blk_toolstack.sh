#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xl's disk support with blkback on the real stack: disk= at create in both
# spec forms, libxl's xenstore layout and permissions, blkback's feature keys
# and InitWait, xl block-list columns, hot block-attach/block-detach, clear
# errors for bad specs, clean-up when the guest goes, and blkback restarted
# by the supervisor.  Guest-side checks need blkfront in the guest kernel
# (its blk-selftest word): they SKIP loudly until it is there.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(guest-reads-backend create-with-disks backend-keys backend-keys-ro frontend-keys permissions blkback-initwait block-list
	attach-hot attach-duplicate-refused detach-hot detach-unknown bad-spec-target
	bad-spec-format bad-spec-vdev bad-spec-create destroy-cleans-up blkback-restart-rescans
	guest-writes-image guest-flush-kill9)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

work=$(mktemp -d /tmp/sv-blkt.XXXXXX)
on_exit "rm -rf '$work'"
truncate -s 32M "$work/a.img"
truncate -s 8M "$work/b.img"
truncate -s 8M "$work/c.img"
cat > "$work/g.cfg" <<CFG
name = "blkt"
kernel = "$SV_GUEST/svkernel"
memory = 32
cmdline = "wait"
disk = [ 'format=raw, vdev=xvda, access=rw, target=$work/a.img',
         '$work/b.img,raw,xvdb,r' ]
CFG

check create-with-disks xl create "$work/g.cfg"
on_exit "xl destroy blkt >/dev/null 2>&1"
d=$(xl domid blkt)
be=/local/domain/0/backend/vbd/$d
fe=/local/domain/$d/device/vbd

rd() { xenstore-read "$1" 2>/dev/null; }
keys_are() { # keys_are DIR key=value...
	local dir=$1 kv; shift
	for kv in "$@"; do
		[ "$(rd "$dir/${kv%%=*}")" = "${kv#*=}" ] || { echo "$dir/${kv%%=*} = '$(rd "$dir/${kv%%=*}")', want '${kv#*=}'"; return 1; }
	done
}
check backend-keys keys_are "$be/51712" frontend="$fe/51712" frontend-id="$d" \
	params="$work/a.img" type=file mode=w online=1 removable=0 bootable=1 dev=xvda \
	device-type=disk
check backend-keys-ro keys_are "$be/51728" mode=r dev=xvdb params="$work/b.img"
check frontend-keys keys_are "$fe/51712" backend="$be/51712" backend-id=0 \
	virtual-device=51712 device-type=disk
perms_ok() {
	xenstore-ls -p "$be" | grep -q "^51712 = .*(n0,r$d)$" &&
		xenstore-ls -p "$fe" | grep -q "^51712 = .*(n$d,r0)$"
}
check permissions perms_ok
initwait() { [ "$(rd "$be/$1/state")" = 2 ]; }
if wait_for 10 initwait 51712 && wait_for 10 initwait 51728 &&
	keys_are "$be/51712" feature-flush-cache=1 feature-persistent=1 \
		feature-max-indirect-segments=256 max-ring-page-order=4 \
		multi-queue-max-queues=4 feature-discard=1 discard-secure=0 >/dev/null; then
	pass blkback-initwait
else
	fail blkback-initwait; xenstore-ls -f "$be" | sed 's/^/    /'
	tail -5 "$SPLITVISOR_RUNDIR/blkback.log" | sed 's/^/    /'
fi
out=$(xl block-list blkt)
if head -1 <<<"$out" | grep -Eq '^Vdev +BE +handle +state +evt-ch +ring-ref +BE-path' &&
	grep -Eq "^51712 +0 +$d +1 +-1 +-1 +$be/51712" <<<"$out" &&
	grep -Eq "^51728 +0 +$d " <<<"$out"; then
	pass block-list
else
	fail block-list; printf '%s\n' "$out" | sed 's/^/    /'
fi

# Hot attach and detach on the running guest.
if xl block-attach blkt "format=raw, vdev=xvdc, access=rw, target=$work/c.img" &&
	wait_for 10 initwait 51744 && xl block-list blkt | grep -q '^51744 '; then
	pass attach-hot
else
	fail attach-hot
fi
out=$(xl block-attach blkt "vdev=xvdc, target=$work/c.img" 2>&1)
if [ $? -ne 0 ] && grep -q "already has a disk xvdc" <<<"$out"; then pass attach-duplicate-refused
else fail attach-duplicate-refused; echo "    $out"; fi
gone() { ! xenstore-read "$1" >/dev/null 2>&1; }
if timeout 15 xl block-detach blkt xvdc && gone "$be/51744" && gone "$fe/51744" &&
	! xl block-list blkt | grep -q '^51744 '; then
	pass detach-hot
else
	fail detach-hot
fi
out=$(xl block-detach blkt xvdq 2>&1)
if [ $? -ne 0 ] && grep -q "has no disk xvdq" <<<"$out"; then pass detach-unknown
else fail detach-unknown; echo "    $out"; fi

# Bad specs name the field.
out=$(xl block-attach blkt "vdev=xvdd, target=/nope/x.img" 2>&1)
if [ $? -ne 0 ] && grep -q "xl: disk spec 'target=/nope/x.img': /nope/x.img: No such file or directory" <<<"$out"; then
	pass bad-spec-target
else
	fail bad-spec-target; echo "    $out"
fi
out=$(xl block-attach blkt "format=qcow2, vdev=xvdd, target=$work/c.img" 2>&1)
if [ $? -ne 0 ] && grep -q "format: only raw" <<<"$out"; then pass bad-spec-format
else fail bad-spec-format; echo "    $out"; fi
out=$(xl block-attach blkt "vdev=floppy, target=$work/c.img" 2>&1)
if [ $? -ne 0 ] && grep -qi "vdev" <<<"$out"; then pass bad-spec-vdev
else fail bad-spec-vdev; echo "    $out"; fi
printf 'name = "bad"\nkernel = "%s"\nmemory = 32\ndisk = [ "vdev=xvda, target=%s" ]\n' \
	"$SV_GUEST/svkernel" "$work/missing.img" > "$work/bad.cfg"
out=$(xl create "$work/bad.cfg" 2>&1)
if [ $? -ne 0 ] && grep -q "missing.img: No such file or directory" <<<"$out" && ! xl domid bad >/dev/null 2>&1; then
	pass bad-spec-create
else
	fail bad-spec-create; echo "    $out"
fi

# blkback killed: the supervisor restarts it, it finds the devices again.
blkpid() { splitvisor status | awk '$1 == "blkback" && $2 == "running" {print $4}'; }
pid=$(blkpid)
kill -9 "$pid" 2>/dev/null
restarted() { p=$(blkpid); [ -n "$p" ] && [ "$p" != "$pid" ]; }
status_has() { python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect('$SPLITVISOR_RUNDIR/blkback.sock')
d=b''
while True:
    b=s.recv(4096)
    if not b: break
    d+=b
sys.exit(0 if b'vbd $d/51712 state 2' in d else 1)"; }
if wait_for 15 restarted && wait_for 10 status_has; then
	pass blkback-restart-rescans
else
	fail blkback-restart-rescans; tail -5 "$SPLITVISOR_RUNDIR/blkback.log" | sed 's/^/    /'
fi

# The guest reads its disk's backend (permissions: the backend is readable by it).
truncate -s 8M "$work/r.img"
printf 'name = "xsd"\nkernel = "%s"\nmemory = 32\ncmdline = "%s halt"\ndisk = [ "vdev=xvda, target=%s" ]\n' \
	"$SV_GUEST/svkernel" "spin=300 xs-dev=vbd/51712" "$work/r.img" > "$work/r.cfg"
out=$(timeout 60 xl create -c "$work/r.cfg" 2>&1 | tr -d '\r')
if grep -Eq "^xs-dev: vbd/51712 backend=/local/domain/0/backend/vbd/[0-9]+/51712 backend-state=2 frontend-state=1" <<<"$out"; then
	pass guest-reads-backend
else
	fail guest-reads-backend; printf '%s\n' "$out" | grep xs- | sed 's/^/    /'
fi

# Guest side: needs blkfront and its blk-selftest word in the guest kernel.
if ! grep -aq 'blk-selftest' "$SV_GUEST/svkernel"; then
	skip "guest-writes-image: the guest kernel has no blkfront (blk-selftest) yet"
	skip "guest-flush-kill9: the guest kernel has no blkfront (blk-selftest) yet"
else
	# docs/blkback.md: blk-selftest writes 1 MiB at sector 2048 of xvda, byte i of
	# sector s being (s * 31 + i) & 0xff ^ 0x5a, flushes, reads it back.
	truncate -s 32M "$work/s.img"
	printf 'name = "bst"\nkernel = "%s"\nmemory = 32\ncmdline = "blk-selftest halt"\ndisk = [ "vdev=xvda, target=%s" ]\n' \
		"$SV_GUEST/svkernel" "$work/s.img" > "$work/s.cfg"
	clog=$SPLITVISOR_RUNDIR/console/guest-bst.log
	pattern_ok() { python3 - "$work/s.img" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()[2048 * 512:2048 * 512 + (1 << 20)]
want = bytes(((s * 31 + i) & 0xff) ^ 0x5a for s in range(2048, 2048 + 2048) for i in range(512))
sys.exit(0 if d == want else 1)
PY
	}
	xl create "$work/s.cfg" >/dev/null 2>&1
	# Flushed: kill -9 blkback at once; the data must be in the image, and the
	# guest's read back must complete through the restarted blkback.
	if wait_for 60 grep -q 'blk-selftest: flushed' "$clog"; then
		kill -9 "$(blkpid)" 2>/dev/null
		if pattern_ok; then pass guest-flush-kill9; else fail guest-flush-kill9; fi
	else
		fail "guest-flush-kill9: the guest never said 'blk-selftest: flushed'"
		tail -5 "$clog" 2>/dev/null | sed 's/^/    /'
	fi
	if wait_for 60 grep -q 'blk-selftest: ok' "$clog" && pattern_ok; then
		pass guest-writes-image
	else
		fail guest-writes-image; tail -5 "$clog" 2>/dev/null | sed 's/^/    /'
	fi
	xl destroy bst >/dev/null 2>&1
fi

# The guest goes: its backend directories go with it.
xl destroy blkt >/dev/null 2>&1
if wait_for 15 gone "$be/51712" && wait_for 5 gone "$be/51728"; then
	pass destroy-cleans-up
else
	fail destroy-cleans-up; xenstore-ls -f /local/domain/0/backend 2>&1 | head | sed 's/^/    /'
fi
