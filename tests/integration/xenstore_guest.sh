#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstored serving a real PV guest over its ring: the guest's xenbus self-test, a guest watch, and the watch across a xenstored crash.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/xs_test_env.sh

names=(guest-xs-selftest guest-xs-watch guest-watch-survives-restart guest-after-hypervisor-restart)
need_guest_engine "${names[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
cfg=$SPLITVISOR_RUNDIR/xs-guest.cfg

# guest_cfg NAME CMDLINE
guest_cfg() {
	cat > "$cfg" <<CFG
name = "$1"
type = "pv"
kernel = "$SV_GUEST/svkernel"
memory = 32
vcpus = 1
cmdline = "$2"
on_poweroff = "destroy"
on_crash = "destroy"
CFG
}

# domid_of NAME: the domain's id from its xenstore name node.
domid_of() {
	local d
	for d in $(xenstore-list /local/domain 2>/dev/null); do
		[ "$(xenstore-read "/local/domain/$d/name" 2>/dev/null)" = "$1" ] && { echo "$d"; return 0; }
	done
	return 1
}

guest_cfg xst "xs-selftest halt"
xl create "$cfg" > /dev/null 2>&1
log=$SPLITVISOR_RUNDIR/console/guest-xst.log
check "guest-xs-selftest" wait_for 30 grep -q 'xs-selftest: ok' "$log"
grep -q 'xs-selftest: FAIL' "$log" && sed 's/^/    /' "$log"

guest_cfg xsw "xs-watch=k halt"
xl create "$cfg" > /dev/null 2>&1
log=$SPLITVISOR_RUNDIR/console/guest-xsw.log
wait_for 30 grep -q 'xs-watch: watching' "$log"
id=$(domid_of xsw)
xenstore-write "/local/domain/$id/data/k" hello
check "guest-xs-watch" wait_for 15 grep -q 'xs-watch: k=hello' "$log"

# The guest keeps waiting on its watch while xenstored dies and comes back.
old=$(cat "$SPLITVISOR_RUNDIR/xenstored.pid")
kill -9 "$old"
wait_for 15 bash -c "p=\$(cat '$SPLITVISOR_RUNDIR/xenstored.pid' 2>/dev/null); [ -n \"\$p\" ] && [ \"\$p\" != $old ] && xenstore-exists /"
xenstore-write "/local/domain/$id/data/k" after-restart
check "guest-watch-survives-restart" wait_for 15 grep -q 'xs-watch: k=after-restart' "$log"
xenstore-write "/local/domain/$id/data/k" stop
wait_for 15 grep -q 'xs-watch: k=stop' "$log"
grep -q 'ring attached' "$SPLITVISOR_RUNDIR/xenstored.log" || fail "ring attach logged"

# A domain the hypervisor does not have is found gone and released.
"$SV_BIN/xs-client" introduce 77 1 1 > /dev/null
check "dead domains are released" wait_for 10 bash -c "[ \"\$('$SV_BIN/xs-client' is-introduced 77)\" = F ]"
check "dead domain logged" grep -q 'domain 77 is gone' "$SPLITVISOR_RUNDIR/xenstored.log"

# The hypervisor restarts (every domain is lost): new guests still get rings.
hv=$(cat "$SPLITVISOR_RUNDIR/hypervisor.pid")
kill -9 "$hv"
wait_for 20 bash -c "p=\$(cat '$SPLITVISOR_RUNDIR/hypervisor.pid' 2>/dev/null); [ -n \"\$p\" ] && [ \"\$p\" != $hv ] && kill -0 \$p"
sleep 0.5
guest_cfg xst2 "xs-selftest halt"
xl create "$cfg" > /dev/null 2>&1
check "guest-after-hypervisor-restart" wait_for 30 grep -q 'xs-selftest: ok' "$SPLITVISOR_RUNDIR/console/guest-xst2.log"
check "xenstored did not spin on the dead hypervisor" bash -c "[ \$(ps -o pcpu= -p \$(cat '$SPLITVISOR_RUNDIR/xenstored.pid') | cut -d. -f1) -lt 50 ]"
