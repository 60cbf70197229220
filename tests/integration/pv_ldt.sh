#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# MMUEXT_SET_LDT with entries as Xen's x86-64 PV ABI has it, from a real guest (its ldt word):
# Xen's argument checks (-EINVAL, nothing changed), a page still mapped writable accepted but
# not taken, a read-only page taken as a segment-descriptor page (DPL fixed up, no writable
# mapping while it is the LDT, update_descriptor into it), released by SET_LDT 0, and an LDT
# left set released when the domain ends.  Both engines load the LDT (ldt-use: selectors
# read through, iret to them, bad ones our #GP; docs/mmu.md "The LDT"): the KVM engine into
# its own tables, lret to its code segments too; the process engine into its runner's with
# modify_ldt, data segments only (the host kernel makes no 64-bit LDT code segment).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

names=(ldt-word ldt-guest-runs-on ldt-kept-released-at-end ldt-use ldt-iret ldt-smp ldt-saved-restored)
need_guest_engine "${names[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
cfg=$SPLITVISOR_RUNDIR/ldt.cfg
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log

# The word also uses the LDT: selectors in %ds/%es/%fs/%gs, lret, iret, our #GP for bad ones.
if [ "$(guest_engine)" = kvm ]; then use=load; else use=data; fi
pv_guest_cfg "$cfg" ldt "ldt=$use print=after-ldt halt"
xl create "$cfg" > /dev/null 2>&1 || { fail "ldt-word: xl create"; exit 1; }
log=$SPLITVISOR_RUNDIR/console/guest-ldt.log
if guest_word_ok 90 "$log" ldt; then
	pass ldt-word
else
	fail ldt-word; grep -E '^ldt|crash|unhandled' "$log" | sed 's/^/    /'
	tail -5 "$hvlog" | sed 's/^/    /'
fi
if [ "$use" = load ]; then
	check ldt-use grep -q '^ldt: loaded: %ds %es %gs %fs (read 0x5a5a1234c0ffee00 through base 0x2000), lret to 0x7' "$log"
else
	check ldt-use grep -q '^ldt: loaded: %ds %es %gs %fs (read 0x5a5a1234c0ffee00 through base 0x2000), code segments #GP' "$log"
fi
check ldt-iret grep -q '^ldt: iret to LDT cs 0x7 / ss 0xf: returned' "$log"
# The guest goes on to its next words and halts: gone by poweroff, never crashed.
if wait_for 60 grep -q 'after-ldt' "$log" && wait_for 60 bash -c "! xl list ldt > /dev/null 2>&1" &&
	! grep -qE 'ldt.*crashed|d[0-9]+: crashed' "$hvlog"; then
	pass ldt-guest-runs-on
else
	fail ldt-guest-runs-on; tail -5 "$hvlog" | sed 's/^/    /'
fi

# Two vCPUs at once, each on an LDT of its own (the process engine's runner is one process with
# one LDT: they take turns), each reading through its own base 3000 times, yielding between.
pv_guest_cfg "$cfg" ldtsmp "ldt=smp halt"
sed -i 's/^vcpus = 1/vcpus = 2/' "$cfg"
xl create "$cfg" > /dev/null 2>&1
mlog=$SPLITVISOR_RUNDIR/console/guest-ldtsmp.log
if guest_word_ok 300 "$mlog" ldt && grep -q '^ldt: smp: 2 vCPUs, each read through its own LDT 3000 times' "$mlog"; then
	pass ldt-smp
else
	fail ldt-smp; grep -E '^ldt' "$mlog" | tail -5 | sed 's/^/    /'
	tail -5 "$hvlog" | sed 's/^/    /'
fi
xl destroy ldtsmp > /dev/null 2>&1

# An LDT still set when the domain ends: its frame goes back with the domain (the hypervisor
# says so in its log when a held frame is left at destroy).
pv_guest_cfg "$cfg" ldtkeep "ldt=keep halt"
xl create "$cfg" > /dev/null 2>&1
klog=$SPLITVISOR_RUNDIR/console/guest-ldtkeep.log
if guest_word_ok 90 "$klog" ldt && wait_for 60 bash -c "! xl list ldtkeep > /dev/null 2>&1" &&
	! grep -q 'still held by the hypervisor at destroy' "$hvlog"; then
	pass ldt-kept-released-at-end
else
	fail ldt-kept-released-at-end; grep -E '^ldt' "$klog" | sed 's/^/    /'
	grep -E 'still held' "$hvlog" | sed 's/^/    /'
fi

# An LDT in use across xl save / xl restore: the context carries ldt_base/ldt_ents, the restored
# vCPU's LDT is resolved again and loaded; the guest loads its selector every 200 ms and
# says how the first one after the resume went (loaded again, both engines).
if "$SV_BIN/xl" help 2>&1 | grep -qw restore; then
	pv_guest_cfg "$cfg" ldtsr "ldt=resume-load halt"
	on_exit "xl destroy ldtsr >/dev/null 2>&1"
	slog=$SPLITVISOR_RUNDIR/console/guest-ldtsr.log
	want='^ldt: resumed 1: LDT selector loaded \(0 bad so far\)'
	if xl create "$cfg" > /dev/null 2>&1 && wait_for 90 grep -q '^ldt: resume-ready' "$slog" &&
		xl save ldtsr "$SPLITVISOR_RUNDIR/ldt.save" > /dev/null 2>&1 &&
		wait_for 60 bash -c "! xl list ldtsr > /dev/null 2>&1" &&
		xl restore "$SPLITVISOR_RUNDIR/ldt.save" > /dev/null 2>&1 &&
		wait_for 90 grep -qE "$want" "$slog"; then
		pass ldt-saved-restored
	else
		fail ldt-saved-restored; grep -E '^ldt|crash|control' "$slog" | tail -5 | sed 's/^/    /'
		tail -5 "$hvlog" | sed 's/^/    /'
	fi
	xl destroy ldtsr > /dev/null 2>&1
else
	skip "ldt-saved-restored: xl has no save/restore"
fi
