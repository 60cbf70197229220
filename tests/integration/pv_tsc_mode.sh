#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xl.cfg's tsc_mode, as Xen 4.17 gives it to a PV guest: the guest's tsc word reads Xen's time
# leaf (0x40000003: emulated or not, the mode, kHz, incarnation), checks rdtsc never goes back
# and that its PV clock (rdtsc + vcpu_time_info) measures a timer wait right.
#  - native: rdtsc runs natively, never emulated;
#  - default: native on a host whose TSC is invariant (Xen's "safe" TSC), as here;
#  - always_emulate: every rdtsc is emulated (the hypervisor logs the first) -- where the engine
#    can make rdtsc trap (KVM: CR4.TSD; the process engine: the runner's PR_SET_TSC, which some
#    hosts ignore); where it cannot, xl says so and nothing is created;
#  - the numeric form (deprecated, with xl's warning), bad values and native_paravirt refused
#    with one `xl: ` line and nothing created; `xl list -l` and `xl create -n` show the mode.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

names=(tsc-native tsc-default tsc-always-emulate tsc-numeric-form tsc-bad-values
	tsc-native-paravirt-removed tsc-list-long tsc-dry-run)
need_guest_engine "${names[@]}" || exit 0
kernel=$SV_GUEST/svkernel
[ -f "$kernel" ] || { fail "guest kernel $kernel not built"; exit 1; }
if ! grep -aq 'tsc: mode' "$kernel"; then
	for t in "${names[@]}"; do skip "$t: the guest kernel has no tsc word"; done
	exit 0
fi
stack_start || exit 1
engine=$(guest_engine)
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
work=$(mktemp -d /tmp/sv-tsc.XXXXXX)
on_exit "rm -rf '$work'"

# cfg NAME MODE-LINE CMDLINE: writes $work/NAME.cfg, prints its path.
cfg() {
	pv_guest_cfg "$work/$1.cfg" "$1" "$3"
	[ -n "$2" ] && echo "$2" >> "$work/$1.cfg"
	echo "$work/$1.cfg"
}
clog() { echo "$SPLITVISOR_RUNDIR/console/guest-$1.log"; }
domid_of() { grep -o "d[0-9]*: created '$1'" "$hvlog" | tail -n 1 | sed 's/^d\([0-9]*\):.*/\1/'; }
emulated_logged() { grep -q "d$1: rdtsc emulated" "$hvlog"; }
# tsc_ok NAME MODE EMULATED: the guest's word saw that leaf and passed.
tsc_ok() {
	guest_word_ok 60 "$(clog "$1")" tsc &&
		grep -q "^tsc: mode $2 emulated $3 khz [1-9][0-9]* incarnation 1$" "$(clog "$1")" &&
		grep -q '^tsc: rdtsc monotonic' "$(clog "$1")"
}
show() { grep -h '^tsc' "$(clog "$1")" 2>/dev/null | sed 's/^/    /'; }

# 1. native: the leaf says mode 2, not emulated; the hypervisor never emulated one.
xl create -q "$(cfg tnative 'tsc_mode = "native"' 'tsc wait')" >/dev/null 2>&1
id=$(domid_of tnative)
if tsc_ok tnative 2 0 && [ -n "$id" ] && ! emulated_logged "$id"; then
	pass tsc-native
else
	fail tsc-native; show tnative
fi

# 7. xl list -l shows it in b_info, as libxl's domain config does.
if xl list -l tnative 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d[0]["config"]["b_info"]["tsc_mode"] == "native" else 1)'; then
	pass tsc-list-long
else
	fail tsc-list-long; xl list -l tnative 2>&1 | grep -i tsc | sed 's/^/    /'
fi
xl destroy tnative >/dev/null 2>&1

# 2. default (the key left out): native where the host TSC is invariant, emulated elsewhere
#    when the engine can trap rdtsc.
invariant=0
grep -qw constant_tsc /proc/cpuinfo && grep -qw nonstop_tsc /proc/cpuinfo && invariant=1
xl create -q "$(cfg tdefault '' 'tsc halt')" >/dev/null 2>&1
id=$(domid_of tdefault)
if [ "$invariant" = 1 ]; then
	if tsc_ok tdefault 0 0 && [ -n "$id" ] && ! emulated_logged "$id"; then
		pass tsc-default
	else
		fail tsc-default; show tdefault
	fi
elif tsc_ok tdefault 0 1 || tsc_ok tdefault 0 0; then
	pass "tsc-default (host TSC not invariant)"
else
	fail tsc-default; show tdefault
fi

# 3. always_emulate: emulated where the engine can trap rdtsc, else refused with a clear line.
out=$(xl create "$(cfg temul 'tsc_mode = "always_emulate"' 'tsc halt')" 2>&1)
rc=$?
if [ "$rc" = 0 ]; then
	id=$(domid_of temul)
	if tsc_ok temul 1 1 && [ -n "$id" ] && emulated_logged "$id" &&
		grep -q "d$id: rdtsc emulated (tsc_mode always_emulate)" "$hvlog"; then
		pass tsc-always-emulate
	else
		fail tsc-always-emulate; show temul
	fi
elif { { [ "$engine" = process ] &&
	grep -q "create 'temul': tsc_mode always_emulate: the process engine cannot make rdtsc trap on this host (PR_SET_TSC does not take effect)" "$hvlog"; } ||
	{ [ "$engine" = kvm ] && xl info | grep -qE '^kvm +: pvm' &&
	grep -q "create 'temul': tsc_mode always_emulate: the kvm engine cannot make rdtsc trap on this host (PVM runs CPL3 natively and ignores CR4.TSD)" "$hvlog"; }; } &&
	grep -q '^xl: cannot create domain .temul.: tsc_mode "always_emulate": its engine cannot make rdtsc trap on this host' <<<"$out" &&
	[ "$rc" = 1 ] && ! xl list temul >/dev/null 2>&1; then
	pass "tsc-always-emulate (refused: the $engine engine cannot trap rdtsc on this host)"
else
	fail tsc-always-emulate; printf '%s\n' "$out" | sed 's/^/    /'
fi

# 4. The numeric form: xl's deprecation warning, the mode it names.
out=$(xl create "$(cfg tnum 'tsc_mode = 2' 'tsc halt')" 2>&1)
if grep -q 'warning: specifying "tsc_mode" as an integer is deprecated. Please use the named parameter variant. e.g. tsc_mode="native"' <<<"$out" &&
	tsc_ok tnum 2 0; then
	pass tsc-numeric-form
else
	fail tsc-numeric-form; printf '%s\n' "$out" | sed 's/^/    /'; show tnum
fi

# 5. Bad values: one xl: line, exit 1, nothing created.
bad_ok() { # NAME LINE MESSAGE
	local out rc
	out=$(xl create "$(cfg "$1" "$2" 'tsc halt')" 2>&1)
	rc=$?
	[ "$rc" = 1 ] && grep -q "^xl: .*$3" <<<"$out" && ! xl list "$1" >/dev/null 2>&1 &&
		! grep -q "created '$1'" "$hvlog"
}
if bad_ok tbad1 'tsc_mode = "fast"' "tsc_mode: invalid value 'fast' (expected \"default\", \"always_emulate\" or \"native\")" &&
	bad_ok tbad2 'tsc_mode = 7' 'tsc_mode: invalid value 7 (the numeric form is 0..3)' &&
	bad_ok tbad3 'tsc_mode = ["native"]' 'tsc_mode: expected "default", "always_emulate" or "native", got a list'; then
	pass tsc-bad-values
else
	fail tsc-bad-values
fi

# 6. native_paravirt (PVRDTSCP) parses, and is refused as libxl refuses it.
if bad_ok tpvr 'tsc_mode = "native_paravirt"' 'TSC Mode native_paravirt (a.k.a PVRDTSCP) has been removed' &&
	bad_ok tpvr3 'tsc_mode = 3' 'TSC Mode native_paravirt (a.k.a PVRDTSCP) has been removed'; then
	pass tsc-native-paravirt-removed
else
	fail tsc-native-paravirt-removed
fi

# 8. xl create -n: the configuration a create would build shows it.
if xl create -n "$(cfg tdry 'tsc_mode = "always_emulate"' 'halt')" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["b_info"]["tsc_mode"] == "always_emulate" else 1)'; then
	pass tsc-dry-run
else
	fail tsc-dry-run
fi
