#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netback and xl's vif support on the real stack, run inside a network
# namespace this script creates and deletes: TAP and bridge names, MAC and
# bridge in xenstore, InitWait, hot attach/detach, removal with the domain,
# bad specs, and a frontend with bogus rings losing only its own vif.
# (Traffic tests need the guest's netfront: see net_guest.sh.)
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(net-tap-names net-bridge-created net-xenstore-keys net-initwait net-list-columns
	net-attach net-attach-bad-spec net-detach net-hostile-rings net-hostile-contained
	net-reconnect-after-close net-status-socket net-hostile-real-grant net-removed-with-domain
	net-create-refused-bridge net-no-leftovers)
need_guest_engine "${TESTS[@]}" || exit 0
if ! command -v ip >/dev/null || [ ! -c /dev/net/tun ]; then
	for t in "${TESTS[@]}"; do skip "$t: needs iproute2 and /dev/net/tun"; done
	exit 0
fi
if [ ! -x "$SV_BIN/netback" ]; then
	for t in "${TESTS[@]}"; do skip "$t: netback is not built"; done
	exit 0
fi

tag=$(printf '%04x' $((RANDOM % 65536)))
NS=svtnb$tag
BR=svtbr$tag
BR2=svtbs$tag
ip netns add "$NS" || { fail "create network namespace $NS"; exit 1; }
# Registered first, so it runs last: the namespace takes its bridges and TAPs with it.
on_exit "ip netns del '$NS'"
ip netns exec "$NS" ip link set lo up

# The whole stack lives in the namespace: netback's links are created there.
splitvisor() { ip netns exec "$NS" "$SV_BIN/splitvisor" "$@"; }
nsip() { ip netns exec "$NS" ip "$@"; }
stack_start || exit 1

work=$(mktemp -d /tmp/sv-net.XXXXXX)
on_exit "rm -rf '$work'"
cat > "$work/g.cfg" <<EOF
name = "netg$tag"
kernel = "$SV_GUEST/svkernel"
memory = 32
cmdline = "wait"
vif = [ 'mac=00:16:3e:12:34:56, bridge=$BR, ip=192.0.2.2', 'vifname=svtv$tag, bridge=$BR, rate=1MB/s' ]
EOF
dom=netg$tag
out=$(xl create -p "$work/g.cfg" 2>&1) || { fail "xl create with vifs"; echo "$out" | sed 's/^/    /'; exit 1; }
domid=$(xl domid "$dom")
be=/local/domain/0/backend/vif/$domid
fe=/local/domain/$domid/device/vif

link_up() { nsip -br link show "$1" 2>/dev/null | grep -q UP; }
link_gone() { ! nsip link show "$1" >/dev/null 2>&1; }
master_of() { nsip -o link show "$1" 2>/dev/null | grep -o 'master [^ ]*' | cut -d' ' -f2; }
xsr() { xenstore-read "$@" 2>/dev/null; }
state_is() { [ "$(xsr "$1/state")" = "$2" ]; }

# 1. TAP names: vif<domid>.<devid>, or vifname=; both up and in the bridge.
if wait_for 10 link_up "vif$domid.0" && wait_for 10 link_up "svtv$tag" &&
	[ "$(master_of "vif$domid.0")" = "$BR" ] && [ "$(master_of "svtv$tag")" = "$BR" ]; then
	pass net-tap-names
else
	fail net-tap-names
	nsip -br link | sed 's/^/    /'
fi

# 2. The bridge named in the config was created and is up.
check net-bridge-created link_up "$BR"

# 3. libxl's keys: MAC and bridge honoured, frontend/backend cross-links, rate.
keys_ok() {
	[ "$(xsr $be/0/mac)" = 00:16:3e:12:34:56 ] && [ "$(xsr $fe/0/mac)" = 00:16:3e:12:34:56 ] &&
	[ "$(xsr $be/0/bridge)" = "$BR" ] && [ "$(xsr $be/0/ip)" = 192.0.2.2 ] &&
	[ "$(xsr $be/0/frontend)" = "$fe/0" ] && [ "$(xsr $be/0/frontend-id)" = "$domid" ] &&
	[ "$(xsr $fe/0/backend)" = "$be/0" ] && [ "$(xsr $fe/0/backend-id)" = 0 ] &&
	[ "$(xsr $be/0/handle)" = 0 ] && [ "$(xsr $be/1/handle)" = 1 ] &&
	[ "$(xsr $be/0/online)" = 1 ] && [ "$(xsr $be/0/type)" = vif ] &&
	[ "$(xsr $be/1/vifname)" = "svtv$tag" ] && [ "$(xsr $be/1/rate)" = 50000,50000 ] &&
	xsr $be/1/mac | grep -Eq '^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$' &&
	[ "$(xsr $be/0/feature-rx-copy)" = 1 ] && [ "$(xsr $be/0/feature-sg)" = 1 ] &&
	[ "$(xsr $be/0/feature-split-event-channels)" = 1 ] &&
	[ -n "$(xsr $be/0/multi-queue-max-queues)" ] &&
	xenstore-ls -p "$fe/0" 2>/dev/null | grep -q "(n$domid,r0)" &&
	xenstore-ls -p "$be" 2>/dev/null | grep -q "(n0,r$domid)"
}
if keys_ok; then pass net-xenstore-keys; else
	fail net-xenstore-keys
	{ xenstore-ls -p "$be"; xenstore-ls -p "$fe"; } 2>&1 | head -60 | sed 's/^/    /'
fi

# 4. The backend offers itself: InitWait, hotplug-status connected.
if wait_for 10 state_is "$be/0" 2 && state_is "$be/1" 2 &&
	[ "$(xsr $be/0/hotplug-status)" = connected ]; then
	pass net-initwait
else
	fail net-initwait
fi

# 5. network-list: Xen's header and one line per vif.
out=$(xl network-list "$dom" 2>&1)
if head -1 <<<"$out" | grep -q '^Idx BE Mac Addr\. *handle state evt-ch *tx-/rx-ring-ref BE-path' &&
	grep -q "^0 *0 *00:16:3e:12:34:56 *0 *1 .*$be/0" <<<"$out" &&
	[ "$(wc -l <<<"$out")" -eq 3 ]; then
	pass net-list-columns
else
	fail net-list-columns
	echo "$out" | sed 's/^/    /'
fi

# 6. Hot attach: the next index, its own bridge created, the MAC given.
if xl network-attach "$dom" "bridge=$BR2" mac=00:16:3e:00:00:02 >"$work/attach.out" 2>&1 &&
	wait_for 10 link_up "vif$domid.2" && [ "$(master_of "vif$domid.2")" = "$BR2" ] &&
	[ "$(xsr $be/2/mac)" = 00:16:3e:00:00:02 ] && state_is "$be/2" 2; then
	pass net-attach
else
	fail net-attach
	sed 's/^/    /' "$work/attach.out"
fi

# 7. Bad specs: a clear message, nothing written.
bad_specs() {
	local out
	out=$(xl network-attach "$dom" mac=00:16:3e:zz:00:01 2>&1) && return 1
	grep -q "invalid MAC" <<<"$out" || { echo "$out"; return 1; }
	out=$(xl network-attach "$dom" vifname=abcdefghijklmnopq 2>&1) && return 1
	grep -qi "vifname" <<<"$out" || { echo "$out"; return 1; }
	out=$(xl network-attach "$dom" backend=dom7 2>&1) && return 1
	grep -q "only dom0" <<<"$out" || { echo "$out"; return 1; }
	out=$(xl network-detach "$dom" 9 2>&1) && return 1
	grep -q "has no vif" <<<"$out" || { echo "$out"; return 1; }
	[ -z "$(xsr $be/3/mac)" ]
}
check net-attach-bad-spec bad_specs

# 8. Detach by MAC: Closed, both directories gone, the TAP gone.
detach_ok() {
	xl network-detach "$dom" 00:16:3e:00:00:02 || return 1
	wait_for 10 link_gone "vif$domid.2" || { echo "TAP still there"; return 1; }
	! xenstore-exists "$be/2" 2>/dev/null && ! xenstore-exists "$fe/2" 2>/dev/null
}
check net-detach detach_ok

# 9. A frontend that hands over rings it never granted: its vif closes with a reason.
xenstore-write "$fe/0/tx-ring-ref" 4000 "$fe/0/rx-ring-ref" 4001 "$fe/0/event-channel" 9 \
	"$fe/0/request-rx-copy" 1 "$fe/0/feature-rx-notify" 1 "$fe/0/state" 4
if wait_for 10 state_is "$be/0" 5 && [ -n "$(xsr $be/0/error)" ] &&
	grep -q "vif$domid.0.*cannot map" "$SPLITVISOR_RUNDIR/netback.log"; then
	pass net-hostile-rings
else
	fail net-hostile-rings
	tail -5 "$SPLITVISOR_RUNDIR/netback.log" | sed 's/^/    /'
fi

# 10. ... and nothing else is disturbed: the daemon lives, the other vif waits on.
# (The supervisor logs each start of netback: one start means it never died.)
starts=$(grep -c 'starting .*netback (pid' "$SPLITVISOR_RUNDIR/netback.log")
nbpid=$(grep -o 'netback (pid [0-9]*' "$SPLITVISOR_RUNDIR/netback.log" | tail -1 | grep -o '[0-9]*$')
if [ "$starts" = 1 ] && [ -n "$nbpid" ] && kill -0 "$nbpid" 2>/dev/null && state_is "$be/1" 2 &&
	link_up "svtv$tag"; then
	pass net-hostile-contained
else
	fail net-hostile-contained
fi

# 11. The frontend closes and starts over: the backend offers itself again.
xenstore-write "$fe/0/state" 6
if wait_for 10 state_is "$be/0" 6 && xenstore-write "$fe/0/state" 1 &&
	wait_for 10 state_is "$be/0" 2; then
	pass net-reconnect-after-close
else
	fail net-reconnect-after-close
fi

# 12. The status socket lists each vif.
status() { python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); d=b""
while True:
    b=s.recv(4096)
    if not b: break
    d+=b
print(d.decode())' "$SPLITVISOR_RUNDIR/netback.sock"; }
out=$(status 2>&1)
if grep -q "^vif$domid.0 domid $domid devid 0 bridge $BR state 2" <<<"$out" &&
	grep -q "^svtv$tag domid $domid devid 1" <<<"$out"; then
	pass net-status-socket
else
	fail net-status-socket
	echo "$out" | sed 's/^/    /'
fi

# 13. On the real hypervisor: a guest grants a page of garbage (grant-selftest's pattern)
# as its rings.  netback maps the real grant, refuses the ring, and lets it go again:
# the guest's self-test then ends its grant, which it cannot do while dom0 still maps it.
real_grant() {
	local g=netr$tag con=$work/netr.con gd ref="" i
	cat > "$work/$g.cfg" <<EOC
name = "$g"
kernel = "$SV_GUEST/svkernel"
memory = 32
cmdline = "grant-selftest"
vif = [ 'bridge=$BR' ]
EOC
	timeout 60 xl create -c "$work/$g.cfg" > "$con" 2>&1 &
	local xl_pid=$!
	wait_for 20 xl domid "$g" || { echo "guest did not start"; cat "$con"; return 1; }
	gd=$(xl domid "$g")
	for i in $(seq 200); do
		ref=$(xsr "/local/domain/$gd/data/grant-ref") && break
		sleep 0.1
	done
	[ -n "$ref" ] || { echo "no grant-ref"; cat "$con"; return 1; }
	local f=/local/domain/$gd/device/vif/0
	xenstore-write "$f/tx-ring-ref" "$ref" "$f/rx-ring-ref" "$ref" "$f/event-channel" 1 \
		"$f/request-rx-copy" 1 "$f/feature-rx-notify" 1 "$f/state" 4
	wait_for 10 state_is "/local/domain/0/backend/vif/$gd/0" 5 || { echo "backend not Closing"; return 1; }
	xsr "/local/domain/0/backend/vif/$gd/0/error" | grep -q "tx ring not initialised" ||
		{ echo "error: $(xsr "/local/domain/0/backend/vif/$gd/0/error")"; return 1; }
	timeout 20 "$PWD/$BUILD/tests/svxen-probe" gnt-serve "$gd" "$ref" || return 1
	xenstore-write "/local/domain/$gd/data/grant-done" ok || return 1
	wait "$xl_pid"
	grep -q '^grant-selftest: ok' "$con" || { cat "$con"; return 1; }
}
if [ -x "$BUILD/tests/svxen-probe" ]; then
	check net-hostile-real-grant real_grant
else
	skip "net-hostile-real-grant: $BUILD/tests/svxen-probe is not built"
fi
xl destroy "netr$tag" >/dev/null 2>&1

# 14. The domain goes: its TAPs and backend directory go with it.
xl destroy "$dom" >/dev/null 2>&1
if wait_for 10 link_gone "vif$domid.0" && wait_for 10 link_gone "svtv$tag" &&
	wait_for 10 bash -c "! xenstore-exists '$be' 2>/dev/null"; then
	pass net-removed-with-domain
else
	fail net-removed-with-domain
	nsip -br link | sed 's/^/    /'
fi

# 15. A bridge netback cannot use fails the create with netback's reason; nothing is left.
cat > "$work/bad.cfg" <<EOF
name = "netb$tag"
kernel = "$SV_GUEST/svkernel"
memory = 32
cmdline = "wait"
vif = [ 'bridge=lo' ]
EOF
out=$(xl create -p "$work/bad.cfg" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "netback: cannot attach .* to bridge lo" <<<"$out" &&
	! xl list "netb$tag" >/dev/null 2>&1 &&
	wait_for 10 bash -c "! xenstore-ls /local/domain/0/backend/vif 2>/dev/null | grep -q ."; then
	pass net-create-refused-bridge
else
	fail net-create-refused-bridge
	echo "$out" | sed 's/^/    /'
fi

# 16. Nothing of ours outside the namespace.
if ! ip -br link | grep -q -e "$BR" -e "svtv$tag" -e "vif$domid\."; then
	pass net-no-leftovers
else
	fail net-no-leftovers
fi
