#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# set_gdt and update_descriptor as Xen's x86-64 PV ABI has them, from a real guest (its gdt
# word): a GDT frame must not be mapped writable and cannot be once it is one, descriptors are
# checked and their DPL fixed up as Xen's check_descriptor, hostile calls get Xen's -EINVAL or
# -EFAULT with nothing changed, update_descriptor works in a multicall; neither call is
# -ENOSYS any more; a GDT left set is released when the domain ends.  The KVM engine loads the
# GDT (gdt-use: its selectors read through and lret to, bad ones our #GP); on the process engine
# the GDT is recorded, not loaded (docs/pv-usermode.md), each selector our #GP; the ABI and type
# rules are the same.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

names=(gdt-word gdt-not-enosys gdt-guest-runs-on gdt-kept-released-at-end gdt-use)
need_guest_engine "${names[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
cfg=$SPLITVISOR_RUNDIR/gdt.cfg
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log

# The word also uses the GDT: loaded on the KVM engine (selectors in %ds/%es/%fs/%gs, lret,
# our #GP for bad ones), each selector our #GP on the process engine, which loads none.
if [ "$(guest_engine)" = kvm ]; then use=load; else use=noload; fi
pv_guest_cfg "$cfg" gdt "gdt=$use print=after-gdt halt"
xl create "$cfg" > /dev/null 2>&1 || { fail "gdt-word: xl create"; exit 1; }
log=$SPLITVISOR_RUNDIR/console/guest-gdt.log
if guest_word_ok 90 "$log" gdt; then
	pass gdt-word
else
	fail gdt-word; grep -E '^gdt|crash|unhandled' "$log" | sed 's/^/    /'
	tail -5 "$hvlog" | sed 's/^/    /'
fi
if [ "$use" = load ]; then
	check gdt-use grep -q '^gdt: loaded: %ds %es %gs %fs (read 0x5a5a1234c0ffee00 through base 0x2000)' "$log"
else
	check gdt-use grep -q '^gdt: not loaded by this engine: GDT selectors #GP' "$log"
fi
check gdt-not-enosys bash -c "! grep -qE 'hypercall (10|27) not implemented' '$hvlog'"
# The guest goes on to its next words and halts: gone by poweroff, never crashed.
if wait_for 60 grep -q 'after-gdt' "$log" && wait_for 60 bash -c "! xl list gdt > /dev/null 2>&1" &&
	! grep -qE 'gdt.*crashed|d[0-9]+: crashed' "$hvlog"; then
	pass gdt-guest-runs-on
else
	fail gdt-guest-runs-on; tail -5 "$hvlog" | sed 's/^/    /'
fi

# A GDT still set when the domain ends: its frame goes back with the domain (the hypervisor
# says so in its log when a held frame is left at destroy).
pv_guest_cfg "$cfg" gdtkeep "gdt=keep halt"
xl create "$cfg" > /dev/null 2>&1
klog=$SPLITVISOR_RUNDIR/console/guest-gdtkeep.log
if guest_word_ok 90 "$klog" gdt && wait_for 60 bash -c "! xl list gdtkeep > /dev/null 2>&1" &&
	! grep -q 'still held by the hypervisor at destroy' "$hvlog"; then
	pass gdt-kept-released-at-end
else
	fail gdt-kept-released-at-end; grep -E '^gdt' "$klog" | sed 's/^/    /'
	grep -E 'still held' "$hvlog" | sed 's/^/    /'
fi
