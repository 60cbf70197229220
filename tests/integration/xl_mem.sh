#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Ballooning end to end: a guest with memory=64 maxmem=128 is told to go to
# half (xl mem-set), gives the pages back (xl list, the guest and the host's
# count of the domain's memory agree), passes a check of all its free
# memory, grows again past its boot size up to maxmem, and xl mem-max /
# mem-set refuse what Xen's xl refuses, changing nothing.  A guest without
# a balloon driver gets its target written and a warning.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(mem-boot-reservation mem-set-down mem-host-memory-drops mem-memcheck-down mem-set-up-past-boot
	mem-memcheck-up mem-max mem-bad-arguments mem-no-balloon-driver)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

work=$(mktemp -d /tmp/sv-mem.XXXXXX)
on_exit "rm -rf '$work'"
log=$SPLITVISOR_RUNDIR/console/guest-mem1.log

# Fields of `xl list` for a domain: Mem (MiB) and `xl list -l`'s figures.
mem_of() { xl list "$1" 2>/dev/null | awk -v n="$1" '$1 == n {print $3}'; }
host_kb() { xl list -l "$1" 2>/dev/null | sed -n 's/.*"host_memkb": \([0-9]*\).*/\1/p' | head -1; }
memchecks() { grep -c '^memcheck: [0-9]* pages ([0-9]* KiB) ok$' "$log"; }
memchecks_ge() { [ "$(memchecks)" -ge "$1" ]; }
reached() { grep -q "^balloon: reached target $1 KiB" "$log"; }
logged() { grep -q "$1" "$log"; }

{
	echo 'name = "mem1"'
	echo "kernel = \"$SV_GUEST/svkernel\""
	echo 'memory = 64'
	echo 'maxmem = 128'
	# Check memory at boot, then after each target is reached; then wait.
	echo 'cmdline = "memcheck balloon-status balloon-wait memcheck balloon-status balloon-wait memcheck balloon-status balloon-wait balloon-status wait"'
} > "$work/mem1.cfg"
xl create -q "$work/mem1.cfg" >/dev/null 2>&1 || { fail "xl create mem1"; exit 1; }
on_exit "xl destroy mem1 >/dev/null 2>&1"

# At boot: 64 MiB held of a 128 MiB layout; the first memcheck touched it all.
if wait_for 60 memchecks_ge 1 && [ "$(mem_of mem1)" = 64 ] &&
	wait_for 30 logged '^balloon: holds 65536 KiB, 65536 KiB given back; reservation 65536 KiB$'; then
	pass mem-boot-reservation
else
	fail mem-boot-reservation; tail -5 "$log" | sed 's/^/    /'; xl list mem1 | sed 's/^/    /'
fi
before_kb=$(host_kb mem1)

# Down to half: xl waits for the guest, and everyone agrees afterwards.
out=$(xl mem-set mem1 32m 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ] && [ "$(mem_of mem1)" = 32 ] &&
	wait_for 20 reached 32768 &&
	wait_for 30 logged '^balloon: holds 32768 KiB, 98304 KiB given back; reservation 32768 KiB$' &&
	[ "$(xenstore-read /local/domain/"$(xl domid mem1)"/memory/target)" = 32768 ]; then
	pass mem-set-down
else
	fail mem-set-down; echo "rc=$rc out=$out"; tail -8 "$log" | sed 's/^/    /'
fi

# The host holds less for the domain: its memory's allocated blocks fell.
after_kb=$(host_kb mem1)
if [ -n "$before_kb" ] && [ -n "$after_kb" ] && [ "$after_kb" -lt "$before_kb" ] &&
	[ $((before_kb - after_kb)) -ge $((24 * 1024)) ]; then
	pass mem-host-memory-drops
	echo "    host memory of the domain after/before balloon-down: $after_kb/$before_kb KiB = $(awk -v a="$after_kb" -v b="$before_kb" 'BEGIN {printf "%.2f", a / b}')"
else
	fail mem-host-memory-drops; echo "    before=$before_kb after=$after_kb"
fi

if wait_for 30 memchecks_ge 2 && ! grep -q 'pages bad\|not zeroed' "$log"; then
	pass mem-memcheck-down
else
	fail mem-memcheck-down; grep 'memcheck\|balloon' "$log" | sed 's/^/    /'
fi

# Up past the boot size, to 96 MiB: frames that were never populated come in.
out=$(xl mem-set mem1 96 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$(mem_of mem1)" = 96 ] && wait_for 20 reached 98304 &&
	wait_for 30 memchecks_ge 3 &&
	wait_for 30 logged '^balloon: holds 98304 KiB, 32768 KiB given back; reservation 98304 KiB$'; then
	pass mem-set-up-past-boot
else
	fail mem-set-up-past-boot; echo "rc=$rc out=$out"; tail -8 "$log" | sed 's/^/    /'
fi
if ! grep -q 'pages bad\|not zeroed' "$log" &&
	[ "$(grep '^memcheck:' "$log" | tail -1 | awk '{print $2}')" -gt \
	  "$(grep '^memcheck:' "$log" | sed -n 1p | awk '{print $2}')" ]; then
	pass mem-memcheck-up
else
	fail mem-memcheck-up; grep 'memcheck' "$log" | sed 's/^/    /'
fi

# mem-max: below the target refused, past the layout refused, within taken.
domid=$(xl domid mem1)
check_fails mem-max-below-target xl mem-max mem1 64m
check_fails mem-max-past-layout xl mem-max mem1 1g
ok=1
xl mem-max mem1 100m >/dev/null 2>&1 || ok=0
[ "$(xenstore-read /local/domain/"$domid"/memory/static-max)" = 102400 ] || ok=0
xl list -l mem1 | grep -q '"max_memkb": 102400' || ok=0
# Above the new maximum, mem-set refuses and changes nothing.
err=$(xl mem-set mem1 120m 2>&1) && ok=0
grep -q '^xl: .*memory_dynamic_max must be less than or equal to memory_static_max' <<<"$err" || ok=0
[ "$(xenstore-read /local/domain/"$domid"/memory/target)" = 98304 ] || ok=0
[ "$(mem_of mem1)" = 96 ] || ok=0
if [ $ok = 1 ]; then pass mem-max; else fail mem-max; echo "    $err"; fi

# Bad arguments: Xen's messages, exit 2 for usage, nothing changed.
ok=1
for a in "12x" "" "-5" "m" "1kk" "99999999999999999999t"; do
	err=$(xl mem-set mem1 "$a" 2>&1)
	[ $? -eq 1 ] && [ "$err" = "xl: invalid memory size: $a" ] || { ok=0; echo "    '$a': $err"; }
done
xl mem-set mem1 >/dev/null 2>&1; [ $? -eq 2 ] || ok=0
xl mem-max >/dev/null 2>&1; [ $? -eq 2 ] || ok=0
err=$(xl mem-set nosuch 32 2>&1); [ $? -eq 1 ] && grep -q "^xl: domain 'nosuch' does not exist$" <<<"$err" || ok=0
err=$(xl mem-set 0 32 2>&1); [ $? -eq 1 ] || ok=0
[ "$(xenstore-read /local/domain/"$domid"/memory/target)" = 98304 ] || ok=0
[ "$(mem_of mem1)" = 96 ] || ok=0
if [ $ok = 1 ]; then pass mem-bad-arguments; else fail mem-bad-arguments; fi

# A guest without a balloon driver: one created paused has not announced
# control/feature-balloon (nor would a kernel without the driver).
{
	echo 'name = "mem2"'
	echo "kernel = \"$SV_GUEST/svkernel\""
	echo 'memory = 32'
	echo 'cmdline = "wait"'
} > "$work/mem2.cfg"
xl create -q -p "$work/mem2.cfg" >/dev/null 2>&1
on_exit "xl destroy mem2 >/dev/null 2>&1"
err=$(xl mem-set mem2 16 2>&1)
rc=$?
d2=$(xl domid mem2 2>/dev/null)
if [ $rc -eq 0 ] && grep -q "^xl: warning: domain 'mem2' has no balloon driver" <<<"$err" &&
	[ "$(xenstore-read /local/domain/"$d2"/memory/target)" = 16384 ] && [ "$(mem_of mem2)" = 32 ]; then
	pass mem-no-balloon-driver
else
	fail mem-no-balloon-driver; echo "    rc=$rc $err"
fi
