#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No kick is lost (docs/process-engine.md, "Kicks"): the guest kernel's kick-stress word
# has vCPU 1 spin in guest code with events unmasked and no hypercall while vCPU 0 sends it
# an IPI per round, thousands of rounds, each sent while vCPU 1 is on its way back into
# guest code from the previous one (the runner's fast iret, its hand-off, its signal
# return).  A kick lost on that way leaves vCPU 1 spinning with its event pending and
# nothing to make it leave the guest: the round never ends and the verdict never comes.
# Run on an idle host and again with busy loops on every CPU (started here, killed at the
# end), which preempt the runner's threads anywhere, inside the window too.  The window
# between the runner's last look at the kick flag in C and the guest is a few instructions,
# which a kick's signal (sent microseconds after the flag) almost never hits by itself (0
# lost in 240000 rounds on the old runner); so the stack runs with the runner's test-only
# entry delay (procabi.h, test_entry_delay: a spin of about 10 us right there), which
# made the old runner lose a kick in 4 of 5 runs of 2000 rounds.  No speed is asserted:
# each run only has to end.  KICK_ROUNDS and KICK_DELAY (TSC cycles) override the defaults.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

names=(pv-kick-stress-idle pv-kick-stress-loaded)
need_guest_engine "${names[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
if ! grep -aq 'kick-stress' "$SV_GUEST/svkernel"; then
	for t in "${names[@]}"; do skip "$t: the guest kernel has no kick-stress word"; done
	exit 0
fi
export SPLITVISOR_TEST_ENTRY_DELAY=${KICK_DELAY:-20000}
stack_start || exit 1
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
rounds=${KICK_ROUNDS:-5000}

# run NAME: a 2-vCPU guest running the word; success when it says ok.
run() {
	local cfg=$SPLITVISOR_RUNDIR/$1.cfg log=$SPLITVISOR_RUNDIR/console/guest-$1.log
	pv_guest_cfg "$cfg" "$1" "kick-stress=$rounds halt"
	sed -i 's/^vcpus = 1$/vcpus = 2/' "$cfg"
	xl create "$cfg" > /dev/null 2>&1 || return 1
	on_exit "xl destroy $1 >/dev/null 2>&1"
	wait_for 150 sh -c "grep -qE '^kick-stress: (ok|FAIL)' '$log' ||
		grep -qE 'd[0-9]+: crashed' '$hvlog'"
	grep -q "^kick-stress: ok $rounds rounds$" "$log"
}

show() {
	grep -E 'kick-stress|crash' "$SPLITVISOR_RUNDIR/console/guest-$1.log" | tail -6 |
		sed 's/^/    /'
	grep -E 'd[0-9]+( v[0-9]+)?: ' "$hvlog" | tail -4 | sed 's/^/    /'
}

if run ksidle; then pass pv-kick-stress-idle; else fail pv-kick-stress-idle; show ksidle; fi

busy=()
for ((i = 0; i < $(nproc); i++)); do
	(while :; do :; done) &
	busy+=($!)
	on_exit "kill ${busy[-1]} 2>/dev/null"
done
if run ksload; then pass pv-kick-stress-loaded; else fail pv-kick-stress-loaded; show ksload; fi
kill "${busy[@]}" 2>/dev/null
wait "${busy[@]}" 2>/dev/null
