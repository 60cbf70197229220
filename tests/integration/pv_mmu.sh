#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Xen's MMU hypercalls driven by a real guest (its mmu word): the kernel clones its boot L4,
# pins it, switches to it with NEW_BASEPTR and back, maps and unmaps pages with mmu_update one
# and 32 at a time, and meets each of Xen's refusals (a table mapped writable, double pin, unpin
# of what is not pinned, superpages, frames not its own, the hypervisor's slots, a table given
# back).  Then its trap table still handles a write to a read-only page and a demand-zero
# fault, and the balloon still gives memory back and takes it again with page types counted.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

names=(pv-mmu-word pv-mmu-traps pv-mmu-switch-back-unmaps pv-mmu-balloon pv-mmu-kvm-shadow-sync
	pv-mmu-hypervisor-alive)
need_guest_engine "${names[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
cfg=$SPLITVISOR_RUNDIR/mmu.cfg
guest_cfg() { pv_guest_cfg "$cfg" "$@"; }

guest_cfg mmu "mmu traps halt" 32 32
xl create "$cfg" > /dev/null 2>&1 || { fail "pv-mmu-word: xl create"; exit 1; }
log=$SPLITVISOR_RUNDIR/console/guest-mmu.log
if guest_word_ok 90 "$log" mmu; then
	pass pv-mmu-word
	grep '^mmu: ' "$log" | sed 's/^/    /'
else
	fail pv-mmu-word; grep -E 'mmu|crash|unhandled' "$log" | sed 's/^/    /'
	grep -E 'd[0-9]+( v0)?: ' "$SPLITVISOR_RUNDIR/hypervisor.log" | tail -8 | sed 's/^/    /'
fi
# After the word's address-space switches the guest's own trap table still works.
if guest_word_ok 60 "$log" traps; then
	pass pv-mmu-traps
	grep -E '^traps: (write|demand)' "$log" | sed 's/^/    /'
else
	fail pv-mmu-traps; grep -E 'traps|crash|unhandled' "$log" | sed 's/^/    /'
fi

# Back on its boot tables, the page the clone mapped at 512 GiB is gone for the guest too:
# touching it is a page fault there (no handler: the domain is crashed, alone).
guest_cfg touch "mmu=touch" 32 32
xl create "$cfg" > /dev/null 2>&1 || { fail "pv-mmu-switch-back-unmaps: xl create"; exit 1; }
tlog=$SPLITVISOR_RUNDIR/console/guest-touch.log
if wait_for 60 grep -qE 'd[0-9]+: crashed: unhandled #PF' "$SPLITVISOR_RUNDIR/hypervisor.log" &&
	grep -q '^mmu: ok' "$tlog" && ! grep -q 'still mapped' "$tlog" &&
	grep -qE 'd[0-9]+ v0: #PF .*cr2 0x8000000000' "$SPLITVISOR_RUNDIR/hypervisor.log"; then
	pass pv-mmu-switch-back-unmaps
else
	fail pv-mmu-switch-back-unmaps; grep -E 'mmu' "$tlog" | tail -3 | sed 's/^/    /'
	grep -E 'd[0-9]+( v0)?: ' "$SPLITVISOR_RUNDIR/hypervisor.log" | tail -4 | sed 's/^/    /'
fi

# Ballooning with page types counted, after the mmu word: down to 32 MiB and up to 64; the
# kernel unmaps each page before it gives it back, so no frame handed over is mapped or typed.
guest_cfg bal "mmu memcheck balloon-wait memcheck balloon-wait memcheck wait" 48 64
xl create "$cfg" > /dev/null 2>&1 || { fail "pv-mmu-balloon: xl create"; exit 1; }
on_exit "xl destroy bal >/dev/null 2>&1"
blog=$SPLITVISOR_RUNDIR/console/guest-bal.log
memchecks_ge() { [ "$(grep -c '^memcheck: [0-9]* pages ([0-9]* KiB) ok$' "$blog")" -ge "$1" ]; }
ok=1
wait_for 60 memchecks_ge 1 || ok=0
[ $ok = 1 ] && { xl mem-set bal 32m > /dev/null 2>&1 || ok=0; }
[ $ok = 1 ] && { wait_for 60 grep -q '^balloon: reached target 32768 KiB' "$blog" || ok=0; }
[ $ok = 1 ] && { wait_for 60 memchecks_ge 2 || ok=0; }
[ $ok = 1 ] && { xl mem-set bal 64m > /dev/null 2>&1 || ok=0; }
[ $ok = 1 ] && { wait_for 60 grep -q '^balloon: reached target 65536 KiB' "$blog" || ok=0; }
[ $ok = 1 ] && { wait_for 60 memchecks_ge 3 || ok=0; }
if [ $ok = 1 ] && grep -q '^mmu: ok' "$blog" && ! grep -qE 'crash|FAIL|bad|not zeroed' "$blog"; then
	pass pv-mmu-balloon
else
	fail pv-mmu-balloon; grep -E 'mmu|balloon|memcheck|crash' "$blog" | tail -8 | sed 's/^/    /'
fi

# KVM engine: every page-table write above reached KVM's shadow through the sync vCPU
# (kvm_sync.c), never through the memslot toggle it falls back to (logged when a domain that
# took it ends: the mmu and touch domains have ended by now).
if [ "$(guest_engine)" = kvm ]; then
	hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
	if grep -qE 'shadow sync vCPU|memslot toggles' "$hvlog"; then
		fail pv-mmu-kvm-shadow-sync; grep -E 'shadow sync|memslot toggles' "$hvlog" | sed 's/^/    /'
	else
		pass pv-mmu-kvm-shadow-sync
	fi
else
	skip "pv-mmu-kvm-shadow-sync: the process engine has no shadow"
fi

check pv-mmu-hypervisor-alive xl list
