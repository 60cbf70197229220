#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Guest user mode on several vCPUs at once (the guest kernel's usermode-smp word), with 2 and with
# 4 vCPUs: every process at the same address in tables of its own, every vCPU on its own kernel
# L4 with its own kernel stack and syscall callback (vCPU 0's by callback_op, the others' from
# VCPUOP_initialise).  All processes start before any goes on; then each checks on every
# syscall that its own vCPU's callback took it and that its page and %gs are its own.  Before
# that the kernel's hostile callback calls get Xen's errors and change nothing.  The process
# engine runs one address space per domain: this is what proves a vCPU never runs while the
# runner maps another vCPU's tables (docs/pv-usermode.md, "Several vCPUs").
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

names=(pv-usermode-smp-hostile pv-usermode-smp-2 pv-usermode-smp-4 pv-usermode-smp-then-usermode
	pv-usermode-smp-hypervisor-alive)
need_guest_engine "${names[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log

# start NAME VCPUS CMDLINE: an N-vCPU guest of our kernel running CMDLINE.
start() {
	local cfg=$SPLITVISOR_RUNDIR/$1.cfg
	pv_guest_cfg "$cfg" "$1" "$3"
	sed -i "s/^vcpus = 1$/vcpus = $2/" "$cfg"
	xl create "$cfg" > /dev/null 2>&1 || return 1
	on_exit "xl destroy $1 >/dev/null 2>&1"
}

# verdict NAME: wait for the word's last line (or a crash) in the guest's console log.
verdict() {
	local log=$SPLITVISOR_RUNDIR/console/guest-$1.log
	wait_for 180 sh -c "grep -qE '^usermode-smp: (ok|FAIL)$|crash' '$log' ||
		grep -qE 'd[0-9]+: crashed' '$hvlog'"
	grep -q '^usermode-smp: ok$' "$log"
}

show() {
	grep -E 'usermode-smp|crash' "$SPLITVISOR_RUNDIR/console/guest-$1.log" | head -14 |
		sed 's/^/    /'
	grep -E 'd[0-9]+( v[0-9]+)?: ' "$hvlog" | tail -6 | sed 's/^/    /'
	grep -E 'd[0-9]+: crashed' "$hvlog" | head -3 | sed 's/^/    first: /' # why, a dead runner's signal
}

start ums2 2 "usermode-smp=3000 usermode halt" || { fail "pv-usermode-smp-2: xl create"; exit 1; }
start ums4 4 "usermode-smp=1500 halt" || { fail "pv-usermode-smp-4: xl create"; exit 1; }
log2=$SPLITVISOR_RUNDIR/console/guest-ums2.log
log4=$SPLITVISOR_RUNDIR/console/guest-ums4.log

ok2=0 ok4=0
verdict ums2 && ok2=1
verdict ums4 && ok4=1
if grep -q '^usermode-smp: hostile callbacks refused as Xen: -EINVAL, -ENOSYS, -EINVAL, -EINVAL$' "$log2" &&
	grep -q '^usermode-smp: hostile callbacks refused as Xen' "$log4"; then
	pass pv-usermode-smp-hostile
else
	fail pv-usermode-smp-hostile; show ums2
fi
per_vcpu() { # LOG N ROUNDS: every vCPU's line, its own callback and stack
	local c
	for ((c = 0; c < $2; c++)); do
		grep -q "^usermode-smp: vcpu $c: process $c made $3 syscalls through vcpu $c's callback and stack, exit 0$" "$1" ||
			return 1
	done
	grep -q "^usermode-smp: $2 processes ran at once; " "$1"
}
if [ $ok2 = 1 ] && per_vcpu "$log2" 2 3000; then
	pass pv-usermode-smp-2
	grep -E '^usermode-smp: (vcpu|2 processes)' "$log2" | sed 's/^/    /'
else
	fail pv-usermode-smp-2; show ums2
fi
if [ $ok4 = 1 ] && per_vcpu "$log4" 4 1500; then
	pass pv-usermode-smp-4
	grep -E '^usermode-smp: 4 processes' "$log4" | sed 's/^/    /'
else
	fail pv-usermode-smp-4; show ums4
fi
# Afterwards vCPU 0 runs the one-vCPU word as before (back on the boot tables, its callback).
if guest_word_ok 90 "$log2" usermode; then
	pass pv-usermode-smp-then-usermode
else
	fail pv-usermode-smp-then-usermode; grep -E '^usermode' "$log2" | tail -8 | sed 's/^/    /'
fi
check pv-usermode-smp-hypervisor-alive xl list
