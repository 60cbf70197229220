#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The PV guest kernel's Xen devices on the real stack: what came up at boot,
# timer-blocked sleep, control/feature-* and xl shutdown/reboot through
# control/shutdown, and console-echo over the console ring.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(guest-devices-up guest-sleep-blocks guest-control-features
	guest-xl-shutdown guest-xl-reboot guest-console-echo
	guest-pingpong-dom0-pings guest-pingpong-guest-pings guest-xs-bench guest-gnttab-exhaust)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

work=$(mktemp -d /tmp/sv-gx.XXXXXX)
on_exit "rm -rf '$work'"

# cfg NAME CMDLINE [extra lines...]: writes $work/NAME.cfg, prints its path.
cfg() {
	local name=$1 cmd=$2; shift 2
	{
		echo "name = \"$name\""
		echo "kernel = \"$SV_GUEST/svkernel\""
		echo "memory = 32"
		echo "cmdline = \"$cmd\""
		for l in "$@"; do echo "$l"; done
	} > "$work/$name.cfg"
	echo "$work/$name.cfg"
}

gone() { ! xl list "$1" >/dev/null 2>&1; }

out=$(timeout 30 xl create -c "$(cfg gx-dev 'print=up')" 2>&1)
if grep -q '^devices: m2p=-\?[0-9]* timer=0 console-ring=0 gnttab=0 xenbus=0 control=0$' <<<"$out" &&
	grep -q '^up$' <<<"$out" && grep -q '^poweroff$' <<<"$out"; then
	pass guest-devices-up
else
	fail guest-devices-up; echo "$out" | sed 's/^/    /'
fi

start=$(date +%s%N)
out=$(timeout 30 xl create -c "$(cfg gx-sleep 'sleep=300')" 2>&1)
ms=$((($(date +%s%N) - start) / 1000000))
if grep -q '^sleep: 300 ms done (blocked)$' <<<"$out" && [ "$ms" -ge 300 ]; then
	pass guest-sleep-blocks
else
	fail guest-sleep-blocks; echo "    took $ms ms"; echo "$out" | sed 's/^/    /'
fi

# wait_guest NAME CONSOLE_FILE: the guest is in its wait word.
wait_guest() { wait_for 20 grep -q '^wait: blocking' "$2"; }

con=$work/gx-shut.con
timeout 60 xl create -c "$(cfg gx-shut 'wait')" > "$con" 2>&1 &
xl_pid=$!
if wait_guest gx-shut "$con"; then
	dom=$(xl domid gx-shut)
	p=$(xenstore-read "/local/domain/$dom/control/feature-poweroff" 2>/dev/null)
	r=$(xenstore-read "/local/domain/$dom/control/feature-reboot" 2>/dev/null)
	if [ "$p" = 1 ] && [ "$r" = 1 ]; then
		pass guest-control-features
	else
		fail guest-control-features; echo "    feature-poweroff='$p' feature-reboot='$r'"
	fi
	xl shutdown gx-shut > "$work/shut.out" 2>&1
	wait "$xl_pid"
	if grep -q '^control: poweroff requested$' "$con" && wait_for 10 gone gx-shut; then
		pass guest-xl-shutdown
	else
		fail guest-xl-shutdown; sed 's/^/    /' "$work/shut.out" "$con"
	fi
else
	fail guest-control-features; fail guest-xl-shutdown; sed 's/^/    /' "$con"
	kill "$xl_pid" 2>/dev/null
fi
xl destroy gx-shut > /dev/null 2>&1

con=$work/gx-reboot.con
timeout 60 xl create -c "$(cfg gx-reboot 'wait' 'on_reboot = "destroy"')" > "$con" 2>&1 &
xl_pid=$!
if wait_guest gx-reboot "$con"; then
	xl reboot gx-reboot > "$work/reboot.out" 2>&1
	wait "$xl_pid"
	if grep -q '^control: reboot requested$' "$con" && wait_for 10 gone gx-reboot; then
		pass guest-xl-reboot
	else
		fail guest-xl-reboot; sed 's/^/    /' "$work/reboot.out" "$con"
	fi
else
	fail guest-xl-reboot; sed 's/^/    /' "$con"
	kill "$xl_pid" 2>/dev/null
fi
xl destroy gx-reboot > /dev/null 2>&1

# Typed lines reach the guest through xenconsoled and the ring's in[].
out=$( (sleep 1; printf 'hello ring\nsecond\nquit\n'; sleep 5) |
	timeout 30 xl create -c "$(cfg gx-echo 'console-echo print=after')" 2>&1)
if grep -q '^echo: hello ring' <<<"$out" && grep -q '^echo: second' <<<"$out" &&
	grep -q '^console-echo: quit' <<<"$out" && grep -q '^after' <<<"$out"; then
	pass guest-console-echo
else
	fail guest-console-echo; echo "$out" | sed 's/^/    /'
fi
xl destroy gx-echo > /dev/null 2>&1

# pingpong NAME WORD MODE: boot a guest running WORD, play dom0's half with
# guest-peer MODE once the guest published its port, print both sides.
peer=$BUILD/tests/guest-peer
pingpong() {
	local name=$1 word=$2 mode=$3 dom port="" i con=$work/$1.con
	timeout 60 xl create -c "$(cfg "$name" "$word")" > "$con" 2>&1 &
	local xl_pid=$!
	wait_for 20 xl domid "$name" || { sed 's/^/    /' "$con"; return 1; }
	dom=$(xl domid "$name")
	for i in $(seq 200); do
		port=$(xenstore-read "/local/domain/$dom/data/pingpong-port" 2>/dev/null) && break
		sleep 0.1
	done
	[ -n "$port" ] || { echo "    no pingpong-port"; sed 's/^/    /' "$con"; return 1; }
	timeout 60 "$peer" "$mode" "$dom" "$port" 200 > "$work/$name.peer" 2>&1 ||
		{ sed 's/^/    /' "$work/$name.peer" "$con"; return 1; }
	wait "$xl_pid"
	{ cat "$work/$name.peer"; grep '^evtchn-pingpong: \(answered\|rounds\)' "$con"; } \
		> "$work/$name.stats"
	[ "$(xenstore-read "/local/domain/$dom/data/pingpong-done" 2>/dev/null)" = 200 ] ||
		grep -q '^evtchn-pingpong: \(answered 200\|rounds=200 \)' "$con" ||
		{ sed 's/^/    /' "$con"; return 1; }
}

if [ -x "$peer" ]; then
	check guest-pingpong-dom0-pings pingpong gx-pp evtchn-pingpong=200 ping
	sed 's/^/    /' "$work/gx-pp.stats" 2>/dev/null
	xl destroy gx-pp > /dev/null 2>&1
	check guest-pingpong-guest-pings pingpong gx-pg evtchn-pingpong=200,guest echo
	sed 's/^/    /' "$work/gx-pg.stats" 2>/dev/null
	xl destroy gx-pg > /dev/null 2>&1
else
	fail "guest-pingpong-dom0-pings: $peer not built"
	fail "guest-pingpong-guest-pings: $peer not built"
fi

out=$(timeout 60 xl create -c "$(cfg gx-xsb 'xs-bench=500')" 2>&1)
line=$(grep '^xs-bench:' <<<"$out")
if [[ $line =~ ^xs-bench:\ reads=500\ ns_per_read=[0-9]+$ ]]; then
	pass guest-xs-bench
	echo "    $line"
else
	fail guest-xs-bench; echo "$out" | sed 's/^/    /'
fi

out=$(timeout 60 xl create -c "$(cfg gx-gex 'gnttab-exhaust gnttab-exhaust')" 2>&1)
if [ "$(grep -c '^gnttab-exhaust: ok ([0-9]* refs)$' <<<"$out")" = 2 ]; then
	pass guest-gnttab-exhaust
	grep '^gnttab-exhaust:' <<<"$out" | head -1 | sed 's/^/    /'
else
	fail guest-gnttab-exhaust; echo "$out" | sed 's/^/    /'
fi
