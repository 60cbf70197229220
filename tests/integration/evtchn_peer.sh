#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An event channel between two guests: one offers a port to the other,
# dom0 relays it through xenstore, the other binds and ping-pongs.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

need_guest_engine evtchn-guest-to-guest evtchn-peer-closed-on-destroy || exit 0
stack_start || exit 1
[ -S "$SPLITVISOR_RUNDIR/xenstored.sock" ] || { fail "xenstored did not start"; exit 1; }

work=$(mktemp -d /tmp/sv-peer.XXXXXX)
on_exit "rm -rf '$work'"
for n in pa pb; do
	printf 'name = "%s"\nkernel = "%s/guest/svkernel"\nmemory = 32\ncmdline = "evtchn-peer=100 wait"\n' \
		"$n" "$PWD/$BUILD" > "$work/$n.cfg"
	xl create -q "$work/$n.cfg" >/dev/null 2>&1 || fail "xl create $n"
done
A=$(xl domid pa) B=$(xl domid pb)
xenstore-write /local/domain/$A/data/peer-dom "$B" /local/domain/$A/data/peer-role 1 \
	/local/domain/$B/data/peer-dom "$A" /local/domain/$B/data/peer-role 2
port() { xenstore-read /local/domain/$A/data/my-port; }
if wait_for 20 port; then
	xenstore-write /local/domain/$B/data/peer-port "$(port)"
fi
log=$SPLITVISOR_RUNDIR/console
done_both() { grep -q 'evtchn-peer: answered 100' "$log/guest-pa.log" &&
	grep -q 'evtchn-peer: rounds=100' "$log/guest-pb.log"; }
if wait_for 30 done_both; then
	pass evtchn-guest-to-guest
	grep -h 'evtchn-peer: rounds' "$log/guest-pb.log" | sed 's/^/    /'
else
	fail evtchn-guest-to-guest
	grep -h 'evtchn-peer' "$log"/guest-p*.log | sed 's/^/    /'
fi

# Destroying one guest must leave the other running and the hypervisor whole.
xl destroy pa
if xl list pb >/dev/null 2>&1 && xl destroy pb && kill -0 "$(cat "$SPLITVISOR_RUNDIR/hypervisor.pid")"; then
	pass evtchn-peer-closed-on-destroy
else
	fail evtchn-peer-closed-on-destroy
fi
