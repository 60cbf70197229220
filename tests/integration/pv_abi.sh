#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The PV hypercall families beyond boot, driven by a real guest (its pv-abi word): multicall
# results written back, periodic timer ticks, runstate counted and published, watchdog ids,
# remote_shutdown refused, maximum_gpfn; then a watchdog that runs out shuts the guest down;
# then the guest's own trap table: #UD #DE #BP #GP #PF and int $0x80 handled by the guest.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

names=(pv-abi-families pv-abi-watchdog-fires pv-abi-enosys-logged-once pv-abi-traps)
need_guest_engine "${names[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
cfg=$SPLITVISOR_RUNDIR/abi.cfg
guest_cfg() { pv_guest_cfg "$cfg" "$@"; }

guest_cfg abi "pv-abi halt"
xl create "$cfg" > /dev/null 2>&1 || { fail "pv-abi-families: xl create"; exit 1; }
log=$SPLITVISOR_RUNDIR/console/guest-abi.log
if guest_word_ok 90 "$log" pv-abi; then
	pass pv-abi-families
	grep '^pv-abi: ' "$log" | sed 's/^/    /'
else
	fail pv-abi-families; grep 'pv-abi' "$log" | sed 's/^/    /'
fi
# The word makes physdev_op (33) twice: -ENOSYS both times, one log line.
check pv-abi-enosys-logged-once bash -c "[ \$(grep -c ': hypercall 33 not implemented' '$SPLITVISOR_RUNDIR/hypervisor.log') -eq 1 ]"

# A watchdog armed for 1 s and never fed: the domain is shut down (reason watchdog).
guest_cfg dog "watchdog=1 wait"
xl create "$cfg" > /dev/null 2>&1
if wait_for 60 grep -q 'd[0-9]*: watchdog timer fired' "$SPLITVISOR_RUNDIR/hypervisor.log"; then
	pass pv-abi-watchdog-fires
else
	fail pv-abi-watchdog-fires; tail -5 "$SPLITVISOR_RUNDIR/console/guest-dog.log" | sed 's/^/    /'
fi

# The guest's trap table: each exception bounced to its handler, which returns.
guest_cfg traps "traps halt"
xl create "$cfg" > /dev/null 2>&1
log=$SPLITVISOR_RUNDIR/console/guest-traps.log
if guest_word_ok 60 "$log" traps; then
	pass pv-abi-traps
	grep '^traps: ' "$log" | sed 's/^/    /'
else
	fail pv-abi-traps; grep -E 'traps|crash|unhandled' "$log" | sed 's/^/    /'
	grep -E 'd[0-9]+ v0: ' "$SPLITVISOR_RUNDIR/hypervisor.log" | tail -6 | sed 's/^/    /'
fi
