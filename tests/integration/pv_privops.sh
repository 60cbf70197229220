#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What Xen does for a PV guest beyond hypercalls, driven by a real guest (its privops word):
# SSE and x87 usable at once; rdmsr/wrmsr of the FS/GS bases emulated and a refused MSR
# caught by the guest's #GP handler; Xen's cpuid leaves through the forced-emulation
# signature; set_segment_base then %fs:/%gs: loads; every iret flags case; physdev_op and
# xen_version as Xen answers a domU; fpu_taskswitch's #NM where the engine can trap it;
# the M2P read at MACH2PHYS_VIRT_START; a guest with no #GP handler crashed with a dump; and an
# iret whose frame cannot be read crashed as Xen does.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

names=(privops-word privops-fpu-ts privops-refused-msr-logged privops-counted privops-no-handler-crashes
	privops-iret-bad-frame-crashes privops-runner-no-fs-gs)
need_guest_engine "${names[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
engine=$(guest_engine)
cfg=$SPLITVISOR_RUNDIR/privops.cfg
guest_cfg() { pv_guest_cfg "$cfg" "$@"; }

guest_cfg priv "privops halt"
xl create "$cfg" > /dev/null 2>&1 || { fail "privops-word: xl create"; exit 1; }
# (It may be gone already: its domid from the log.)
id=$(sed -n "s/.*hypervisor: d\([0-9]*\): created 'priv'.*/\1/p" "$SPLITVISOR_RUNDIR/hypervisor.log" | tail -n 1)
log=$SPLITVISOR_RUNDIR/console/guest-priv.log
if guest_word_ok 90 "$log" privops; then
	pass privops-word
	grep '^privops: ' "$log" | sed 's/^/    /'
else
	fail privops-word; grep -E 'privops|crash|unhandled' "$log" | sed 's/^/    /'
	grep -E 'd[0-9]+ v0: ' "$SPLITVISOR_RUNDIR/hypervisor.log" | tail -8 | sed 's/^/    /'
fi
# KVM on hardware runs the guest with its CR0.TS: the #NM reaches the guest.  A
# process's FPU use cannot be trapped, nor can a CPL3 guest's under PVM (its CPL3
# runs natively with the host's CR0; `xl info` says "kvm : pvm"): the state is kept
# and said to be so.
if [ "$engine" = kvm ] && ! xl info 2>/dev/null | grep -qE '^kvm +: pvm'; then
	check privops-fpu-ts grep -q '^privops: fpu_taskswitch: #NM delivered' "$log"
else
	check privops-fpu-ts grep -q '^privops: fpu_taskswitch: TS kept, no #NM' "$log"
fi
# The refused MSR reads were #GP to the guest, logged once for the vCPU.
check privops-refused-msr-logged bash -c \
	"[ \$(grep -c 'rdmsr of MSR 0x1b .*refused' '$SPLITVISOR_RUNDIR/hypervisor.log') -eq 1 ]"

# Its counters when it is gone: emulated instructions, and the refused rdmsr bounced as #GP.
check privops-counted wait_for 30 grep -qE \
	"hypervisor: d$id: [0-9]+ exits, .*; emulated [1-9][0-9]*; bounced.* vector 13: [1-9]" \
	"$SPLITVISOR_RUNDIR/hypervisor.log"

# A refused MSR with no trap table: the domain is crashed with the register dump.
guest_cfg bare "privops=bare halt"
xl create "$cfg" > /dev/null 2>&1
if wait_for 60 grep -q "crashed: unhandled #GP general protection" "$SPLITVISOR_RUNDIR/hypervisor.log" &&
	grep -qE 'd[0-9]+ v0: rax [0-9a-f]{16}' "$SPLITVISOR_RUNDIR/hypervisor.log"; then
	pass privops-no-handler-crashes
else
	fail privops-no-handler-crashes; tail -5 "$SPLITVISOR_RUNDIR/hypervisor.log" | sed 's/^/    /'
fi

# An iret whose frame runs into an unmapped page: crashed by the hypervisor's iret, as Xen
# does (the process engine's runner reads the frame for its own iret and must leave it so).
guest_cfg badframe "privops=badframe halt"
xl create "$cfg" > /dev/null 2>&1
if wait_for 60 grep -q "crashed: HYPERVISOR_iret with an unreadable frame" "$SPLITVISOR_RUNDIR/hypervisor.log" &&
	! grep -q "the runner faulted" "$SPLITVISOR_RUNDIR/hypervisor.log" &&
	grep -q '^privops: iret with a frame reaching unmapped' "$SPLITVISOR_RUNDIR/console/guest-badframe.log"; then
	pass privops-iret-bad-frame-crashes
else
	fail privops-iret-bad-frame-crashes; tail -5 "$SPLITVISOR_RUNDIR/hypervisor.log" | sed 's/^/    /'
fi

# The runner loads the guest's %fs/%gs bases with arch_prctl: it must never use them itself.
if [ "$engine" = process ]; then
	check privops-runner-no-fs-gs bash -c \
		"objdump -d '$SV_BIN/sv-runner' > '$SPLITVISOR_RUNDIR/runner.dis' && ! grep -qE '%[fg]s[:,]|%[fg]s\$' '$SPLITVISOR_RUNDIR/runner.dis'"
else
	pass "privops-runner-no-fs-gs (not the process engine)"
fi
