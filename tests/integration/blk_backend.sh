#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# blkback end to end on the real stack, without blkfront: blk_fakefront plays
# the frontend from dom0 in a live guest's memory (grants, ring, xenstore) and
# checks what lands in the image: data byte for byte (direct and indirect,
# one- and four-page rings, persistent grants), flush, discard holes,
# read-only refusal, a hostile frontend contained, and kill -9 of blkback
# with requests in flight (supervisor restart, each request answered once,
# every acknowledged write kept).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(blk-data blk-multipage-ring blk-multiqueue blk-discard blk-readonly blk-hostile-contained
	blk-others-carry-on blk-kill9-in-flight blk-kill9-keeps-flushed blk-after-restart
	blk-term-reconnects blk-hostile-keys)
need_guest_engine "${TESTS[@]}" || exit 0
ff=$PWD/$BUILD/tests/blk_fakefront
if [ ! -x "$ff" ] || [ ! -x "$SV_BIN/blkback" ]; then
	for t in "${TESTS[@]}"; do skip "$t: $ff or blkback not built (make)"; done
	exit 0
fi
stack_start || exit 1

work=$(mktemp -d /tmp/sv-blkb.XXXXXX)
on_exit "rm -rf '$work'"
cat > "$work/g.cfg" <<CFG
name = "blkff"
kernel = "$SV_GUEST/svkernel"
memory = 32
cmdline = "wait"
CFG
if ! xl create "$work/g.cfg" >"$work/create.log" 2>&1; then
	for t in "${TESTS[@]}"; do fail "$t: guest did not start"; done
	cat "$work/create.log"
	exit 1
fi
domid=$(xl domid blkff)
on_exit "xl destroy blkff >/dev/null 2>&1"
# The guest sets up its grant table at boot, then says it waits.
if ! wait_for 20 grep -q '^wait:' "$SPLITVISOR_RUNDIR/console/guest-blkff.log"; then
	for t in "${TESTS[@]}"; do fail "$t: guest did not reach 'wait'"; done
	exit 1
fi
if ! grep -q 'gnttab=0' "$SPLITVISOR_RUNDIR/console/guest-blkff.log"; then
	for t in "${TESTS[@]}"; do skip "$t: the guest kernel set up no grant table"; done
	exit 0
fi

img=$work/disk.img
truncate -s 16M "$img"

# run NAME ARGS...: PASS when every check of the scenario passed.
run() {
	local name=$1; shift
	local out
	if out=$(timeout 120 "$ff" --domid "$domid" --image "$img" "$@" 2>&1); then
		pass "$name"
	else
		fail "$name"
		printf '%s\n' "$out" | grep -v '^ok:' | sed 's/^/    /'
		tail -n 8 "$SPLITVISOR_RUNDIR/blkback.log" | sed 's/^/    log: /'
	fi
}

run blk-data --devid 301 --persistent data
run blk-multipage-ring --devid 302 --order 2 data
run blk-multiqueue --devid 308 --queues 2 --order 1 multiqueue data
run blk-discard --devid 303 discard
run blk-readonly --devid 304 --ro readonly
run blk-hostile-contained --devid 305 hostile
# After the hostile one: blkback is still there and serves a new device.
run blk-others-carry-on --devid 306 data

blkpid() { splitvisor status | awk '$1 == "blkback" && $2 == "running" {print $4}'; }
pid=$(blkpid)
if [ -z "$pid" ]; then
	fail blk-kill9-in-flight; fail blk-kill9-keeps-flushed; fail blk-after-restart
	exit 1
fi
out=$(timeout 120 "$ff" --domid "$domid" --image "$img" --devid 307 --persistent \
	--kill "$pid" crash after-crash 2>&1)
chk() { # chk NAME PATTERN...: every pattern is an ok: line of out
	local name=$1 p; shift
	for p in "$@"; do
		if ! grep -q "^ok: $p" <<<"$out"; then
			fail "$name"; printf '%s\n' "$out" | sed 's/^/    /'
			return
		fi
	done
	pass "$name"
}
chk blk-kill9-in-flight 'all 25 requests answered after kill -9' 'no request answered twice' \
	'every id answered once'
chk blk-kill9-keeps-flushed 'every acknowledged write is in the image'
chk blk-after-restart 'a write after the restart is answered' 'and lands in the image'
newpid=$(blkpid)
if [ -z "$newpid" ] || [ "$newpid" = "$pid" ]; then
	fail "blk-after-restart: blkback was not restarted"
fi

# A clean stop (SIGTERM) under a connected device: the restarted blkback
# reconnects it in place from the ring and its shadow.
if out=$(timeout 60 "$ff" --domid "$domid" --image "$img" --devid 309 --persistent --keep data 2>&1); then
	pid=$(blkpid)
	kill -TERM "$pid"
	restarted() { p=$(blkpid); [ -n "$p" ] && [ "$p" != "$pid" ]; }
	connected() { python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect('$SPLITVISOR_RUNDIR/blkback.sock')
d = b''
while True:
    b = s.recv(4096)
    if not b: break
    d += b
sys.exit(0 if b'vbd $domid/309 state 4 connected' in d else 1)"; }
	if wait_for 15 restarted && wait_for 10 connected &&
		grep -q "vbd $domid/309 q0: resumed after a restart" "$SPLITVISOR_RUNDIR/blkback.log"; then
		pass blk-term-reconnects
	else
		fail blk-term-reconnects; tail -n 8 "$SPLITVISOR_RUNDIR/blkback.log" | sed 's/^/    log: /'
	fi
else
	fail blk-term-reconnects; printf '%s\n' "$out" | sed 's/^/    /'
fi

# Hostile frontend keys: every device is shut down (backend Closing), no
# crash, and blkback keeps answering on its socket.
state_is() { [ "$(xenstore-read "$1/state" 2>/dev/null)" = "$2" ]; }
bad_device() { # bad_device DEVID KEY=VALUE...
	local n=$1 kv; shift
	local b=/local/domain/0/backend/vbd/$domid/$n f=/local/domain/$domid/device/svbad/$n
	xenstore-write "$f/state" 1 "$f/backend" "$b" "$f/backend-id" 0
	for kv in "$@"; do xenstore-write "$f/${kv%%=*}" "${kv#*=}"; done
	xenstore-write "$b/frontend" "$f" "$b/frontend-id" "$domid" "$b/params" "$img" \
		"$b/mode" w "$b/online" 1 "$b/state" 1
	wait_for 10 state_is "$b" 2 || { echo "$b: no InitWait"; return 1; }
	xenstore-write "$f/state" 3
	wait_for 10 state_is "$b" 5 || { echo "$b: not shut down"; return 1; }
}
hostile_keys() {
	bad_device 501 ring-ref=notanumber event-channel=5 &&
		bad_device 502 ring-ref=1 event-channel=99999999 &&
		bad_device 503 ring-page-order=9 ring-ref0=1 event-channel=5 &&
		bad_device 504 multi-queue-num-queues=100 &&
		bad_device 505 protocol=x86_32-abi ring-ref=1 event-channel=5 &&
		bad_device 506 ring-ref=4000000000 event-channel=5 &&
		bad_device 507 ring-page-order=1 ring-ref0=1 event-channel=5 &&
		python3 -c "
import socket
s = socket.socket(socket.AF_UNIX); s.connect('$SPLITVISOR_RUNDIR/blkback.sock'); s.recv(1)"
}
if out=$(hostile_keys 2>&1); then
	pass blk-hostile-keys
else
	fail blk-hostile-keys; echo "    $out"; tail -n 8 "$SPLITVISOR_RUNDIR/blkback.log" | sed 's/^/    log: /'
fi
