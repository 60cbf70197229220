#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstored killed again and again while a real guest keeps requests in flight on its ring:
# every request is answered once (a lost reply times the guest's xenbus out, a doubled one
# puts its replies out of step), and the store holds what the replies said.  Where a kill
# lands is chance (the log says what each restart found in flight); the exact window, a
# request taken off the ring and not yet answered, is test_xs_ring's
# request_in_flight_survives_a_kill.  Four kills: the supervisor gives up after five in 30 s.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

names=(ring-requests-survive-kills ring-buffers-restored ring-store-matches)
need_guest_engine "${names[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
cfg=$SPLITVISOR_RUNDIR/stress.cfg
N=6000
cat > "$cfg" <<CFG
name = "stress"
type = "pv"
kernel = "$SV_GUEST/svkernel"
memory = 32
vcpus = 1
cmdline = "xs-stress=$N halt"
on_poweroff = "destroy"
on_crash = "destroy"
CFG
log=$SPLITVISOR_RUNDIR/console/guest-stress.log
xl create "$cfg" > /dev/null 2>&1 || { fail "ring-requests-survive-kills: xl create"; exit 1; }
wait_for 60 grep -q 'xs-stress: 1000' "$log" || { fail "ring-requests-survive-kills: guest never got going"; exit 1; }

xs_pid() { cat "$SPLITVISOR_RUNDIR/xenstored.pid" 2>/dev/null; }
# restarted OLD: a new daemon that answers.
restarted() { local p; p=$(xs_pid); [ -n "$p" ] && [ "$p" != "$1" ] && xenstore-exists / ; }
progress() { grep -c '^xs-stress: [0-9]' "$log"; }

kills=0
for round in 1 2 3 4; do
	grep -q 'xs-stress: ok' "$log" && break
	old=$(xs_pid)
	before=$(progress)
	kill -9 "$old"
	kills=$((kills + 1))
	wait_for 30 restarted "$old" || { fail "ring-requests-survive-kills: xenstored not back after kill $round"; break; }
	# Let the guest move on before the next kill (a progress line or the end).
	wait_for 60 bash -c "[ \$(grep -c '^xs-stress: [0-9]' '$log') -gt $before ] || grep -q 'xs-stress: ok' '$log'"
done
echo "killed xenstored $kills times during $N guest write+read pairs"
check "ring-requests-survive-kills" wait_for 120 grep -q "xs-stress: ok $N" "$log"
grep -q 'xs-stress: FAIL' "$log" && grep 'xs-stress: FAIL' "$log" | sed 's/^/    /'
check "ring-buffers-restored" grep -q 'ring buffers restored' "$SPLITVISOR_RUNDIR/xenstored.log"
id=$(xl domid stress 2>/dev/null)
if [ -n "$id" ]; then
	check "ring-store-matches" bash -c "[ \"\$(xenstore-read /local/domain/$id/data/stress)\" = $N ]"
else
	# The guest halted and was destroyed: its nodes went with it; the guest compared every read.
	check "ring-store-matches" grep -q "xs-stress: ok $N" "$log"
fi
grep -E 'ring buffers (restored|unusable)|in-flight' "$SPLITVISOR_RUNDIR/xenstored.log" | head -8 | sed 's/^/    /'
