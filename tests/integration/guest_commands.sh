#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the PV guest kernel's command words on the real stack: time (spin),
# the hypercall benchmark, SMP with four vCPUs run twice, reboot, unknown
# words, and wait (blocked until destroyed from outside).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(guest-spin-uses-time guest-bench-hypercall guest-smp-four-twice
	guest-bench-boot-order guest-unknown-words guest-wait-blocks
	guest-crash-shutdown)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

work=$(mktemp -d /tmp/sv-gk.XXXXXX)
on_exit "rm -rf '$work'"

# run NAME VCPUS CMDLINE: boot with the console attached, print the console.
run() {
	{
		echo "name = \"$1\""
		echo "kernel = \"$SV_GUEST/svkernel\""
		echo "memory = 32"
		echo "vcpus = $2"
		echo "cmdline = \"$3\""
	} > "$work/$1.cfg"
	timeout 30 xl create -c "$work/$1.cfg" 2>&1
}

out=$(run gk-spin 1 'spin=200')
ms=$(grep -o 'spin: [0-9]* ms done' <<<"$out")
if [ "$ms" = "spin: 200 ms done" ] && grep -q '^poweroff' <<<"$out" &&
	! grep -q 'no time\|shared_info:' <<<"$out"; then
	pass guest-spin-uses-time
else
	fail guest-spin-uses-time; echo "$out" | sed 's/^/    /'
fi

out=$(run gk-bench 1 'bench-hypercall=2000')
line=$(grep '^bench-hypercall:' <<<"$out")
if [[ $line =~ ^bench-hypercall:\ calls=2000\ ns_per_call=[0-9]+$ ]]; then
	pass guest-bench-hypercall
	echo "    $line"
else
	fail guest-bench-hypercall; echo "$out" | sed 's/^/    /'
fi

out=$(run gk-smp 4 'smp smp')
if grep -q '^vcpus: 4$' <<<"$out" &&
	[ "$(grep -c '^smp: 4 vcpus ran$' <<<"$out")" -eq 2 ] &&
	[ "$(grep -c '^vcpu [123]: online$' <<<"$out")" -eq 6 ]; then
	pass guest-smp-four-twice
else
	fail guest-smp-four-twice; echo "$out" | sed 's/^/    /'
fi

out=$(run gk-boot 1 'bench-boot')
if grep -A1 '^Splitvisor PV kernel' <<<"$out" | tail -1 | grep -q '^bench-boot: ready$'; then
	pass guest-bench-boot-order
else
	fail guest-bench-boot-order; echo "$out" | sed 's/^/    /'
fi

out=$(run gk-unknown 1 'frob print=after')
if grep -q "^unknown command 'frob'$" <<<"$out" && grep -q '^after$' <<<"$out" &&
	grep -q '^poweroff$' <<<"$out"; then
	pass guest-unknown-words
else
	fail guest-unknown-words; echo "$out" | sed 's/^/    /'
fi

gone() { ! xl list "$1" >/dev/null 2>&1; }
blocked() { xl list "$1" 2>/dev/null | awk -v n="$1" '$1 == n {print $5}' | grep -q b; }
{
	echo 'name = "gk-wait"'
	echo "kernel = \"$SV_GUEST/svkernel\""
	echo 'memory = 32'
	echo 'cmdline = "wait"'
} > "$work/gk-wait.cfg"
if xl create -q "$work/gk-wait.cfg" >/dev/null 2>&1 && wait_for 10 blocked gk-wait &&
	sleep 0.5 && blocked gk-wait && xl destroy gk-wait && wait_for 5 gone gk-wait; then
	pass guest-wait-blocks
else
	fail guest-wait-blocks; xl list 2>&1 | sed 's/^/    /'
	xl destroy gk-wait >/dev/null 2>&1
fi

out=$(run gk-crash 1 'crash=shutdown print=never')
if grep -q '^crashing on purpose' <<<"$out" && ! grep -q '^never$' <<<"$out" &&
	! grep -q '^poweroff$' <<<"$out"; then
	pass guest-crash-shutdown
else
	fail guest-crash-shutdown; echo "$out" | sed 's/^/    /'
fi
