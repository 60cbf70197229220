#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Xen's x86-64 PV guest user mode driven by a real guest (its usermode word): the kernel builds a
# user L4 that maps only its process, gives the hypervisor a kernel stack and a syscall callback,
# and irets to the process.  The process writes a line through a system call, asks its pid, reads
# its own %gs, takes a demand-zero #PF, gets -ENOSYS and exits; then processes killed by #GP
# (hlt), #UD (ud2) and a #PF on kernel memory its tables do not map.  Twice, then the kernel's own
# trap table still works in kernel mode.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

names=(pv-usermode-process pv-usermode-kills pv-usermode-twice pv-usermode-kernel-traps
	pv-usermode-hypervisor-alive)
need_guest_engine "${names[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
cfg=$SPLITVISOR_RUNDIR/usermode.cfg
pv_guest_cfg "$cfg" um "usermode usermode traps halt"
xl create "$cfg" > /dev/null 2>&1 || { fail "pv-usermode-process: xl create"; exit 1; }
on_exit "xl destroy um >/dev/null 2>&1"
log=$SPLITVISOR_RUNDIR/console/guest-um.log
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
oks() { [ "$(grep -c '^usermode: ok$' "$log")" -ge "$1" ]; }
done_or_failed() { oks 2 || grep -qE '^usermode: FAIL$|crash' "$log" ||
	grep -qE 'd[0-9]+: crashed' "$hvlog"; }
wait_for 90 done_or_failed
if grep -q '^usermode: process 42 says: hello from user mode$' "$log" &&
	grep -q '^usermode: process 42 exited with 0 after 4 syscalls, 1 demand-zero fault$' "$log"; then
	pass pv-usermode-process
	grep -E '^usermode: (user L4|process 42 (says|exited))' "$log" | head -3 | sed 's/^/    /'
else
	fail pv-usermode-process; grep -E 'usermode|crash' "$log" | head -12 | sed 's/^/    /'
	grep -E 'd[0-9]+( v0)?: ' "$hvlog" | tail -8 | sed 's/^/    /'
fi
if grep -qE '^usermode: process 42 killed: #GP error 0x0 at rip 0x10000000[0-9a-f]{3} \(cs 0xe033\)$' "$log" &&
	grep -qE '^usermode: process 42 killed: #UD error 0x0 at rip 0x10000000[0-9a-f]{3} \(cs 0xe033\)$' "$log" &&
	grep -qE '^usermode: process 42 killed: #PF error 0x[46] at rip 0x10000000[0-9a-f]{3} cr2 0x[0-9a-f]+ \(cs 0xe033\)$' "$log"; then
	pass pv-usermode-kills
	grep -E '^usermode: process 42 killed' "$log" | head -3 | sed 's/^/    /'
else
	fail pv-usermode-kills; grep -E 'usermode: (process|FAIL)' "$log" | head -8 | sed 's/^/    /'
fi
if oks 2 && ! grep -q 'FAIL' "$log"; then
	pass pv-usermode-twice
else
	fail pv-usermode-twice; grep -E 'usermode: (ok|FAIL)' "$log" | sed 's/^/    /'
fi
# Back in kernel mode for good: its own trap table (the traps word) handles kernel faults.
if guest_word_ok 60 "$log" traps; then
	pass pv-usermode-kernel-traps
else
	fail pv-usermode-kernel-traps; grep -E 'traps|crash' "$log" | sed 's/^/    /'
fi
check pv-usermode-hypervisor-alive xl list
