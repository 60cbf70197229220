#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libsvxen (Xen's xenevtchn, xengnttab and xenforeignmemory APIs for dom0) on
# the real stack: a dom0<->dom0 event channel loop, VIRQ_DOM_EXC when a guest
# halts, bad binds, ports freed on close, foreign maps of a guest's RAM,
# grant maps/copies of refs a guest never granted, and the guest kernel's
# grant-selftest served from dom0 (copy, read-only and writable maps, copy
# back, unmap; and once exiting with the maps held, which must free them).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(libs-evtchn-loop libs-evtchn-bad-remote libs-evtchn-close-frees
	libs-virq-dom-exc libs-foreign-find libs-foreign-rw libs-gnt-refused
	libs-gnt-guest-selftest libs-gnt-freed-on-exit libs-evtchn-pingpong)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

probe=$PWD/$BUILD/tests/svxen-probe
work=$(mktemp -d /tmp/sv-libs.XXXXXX)
on_exit "rm -rf '$work'"

check libs-evtchn-loop timeout 20 "$probe" evtchn-loop
check libs-evtchn-bad-remote timeout 20 "$probe" evtchn-bad-remote
check libs-evtchn-close-frees timeout 20 "$probe" evtchn-close-frees

# cfg NAME CMDLINE: a 32 MiB one-vCPU PV guest of our kernel.
cfg() {
	printf 'name = "%s"\nkernel = "%s"\nmemory = 32\ncmdline = "%s"\n' \
		"$1" "$SV_GUEST/svkernel" "$2" > "$work/$1.cfg"
	echo "$work/$1.cfg"
}

# VIRQ_DOM_EXC fires when a guest shuts down.
timeout 40 "$probe" virq-wait 30 > "$work/virq.out" 2>&1 &
virq_pid=$!
on_exit "kill $virq_pid 2>/dev/null"
if wait_for 10 grep -q '^bound' "$work/virq.out"; then
	timeout 30 xl create "$(cfg libs-halt halt)" > "$work/halt.out" 2>&1
	if wait "$virq_pid" && grep -q '^fired' "$work/virq.out"; then
		pass libs-virq-dom-exc
	else
		fail libs-virq-dom-exc
		sed 's/^/    /' "$work/virq.out" "$work/halt.out"
	fi
else
	fail libs-virq-dom-exc; sed 's/^/    /' "$work/virq.out"
fi

# A paused guest whose command line (in its start_info page) carries a marker.
magic="svlibs-$$-$RANDOM"
if timeout 30 xl create -p "$(cfg libs-mem "print=$magic")" > "$work/mem.out" 2>&1 &&
	dom=$(xl domid libs-mem); then
	on_exit "xl destroy libs-mem >/dev/null 2>&1"
	# 32 MiB = 8192 frames, all RAM; gfn 0x100000 (4 GiB) is not.
	check libs-foreign-find timeout 20 "$probe" foreign-find "$dom" 8192 "$magic"
	check libs-foreign-rw timeout 20 "$probe" foreign-rw "$dom" 100 0x100000
	check libs-gnt-refused timeout 20 "$probe" gnt-refused "$dom"
	xl destroy libs-mem > /dev/null 2>&1
else
	for t in libs-foreign-find libs-foreign-rw libs-gnt-refused; do
		fail "$t: the guest did not start"
	done
	sed 's/^/    /' "$work/mem.out"
fi

# gnt_selftest NAME [leak]: boot a guest running grant-selftest, serve its ref
# from dom0, tell it "ok", and expect its "grant-selftest: ok" (which needs
# the page rewritten by dom0 and every mapping of the ref gone).
gnt_selftest() {
	local name=$1 leak=${2:-} dom ref="" i con=$work/$1.con
	timeout 60 xl create -c "$(cfg "$name" grant-selftest)" > "$con" 2>&1 &
	local xl_pid=$!
	if ! wait_for 20 xl domid "$name"; then
		echo "    the guest did not start"; sed 's/^/    /' "$con"; return 1
	fi
	dom=$(xl domid "$name")
	for i in $(seq 200); do
		ref=$(xenstore-read "/local/domain/$dom/data/grant-ref" 2>/dev/null) && break
		sleep 0.1
	done
	if [ -z "$ref" ]; then
		echo "    no grant-ref from the guest"; sed 's/^/    /' "$con"; return 1
	fi
	if ! timeout 20 "$probe" gnt-serve "$dom" "$ref" $leak; then
		xenstore-write "/local/domain/$dom/data/grant-done" failed
		return 1
	fi
	xenstore-write "/local/domain/$dom/data/grant-done" ok || return 1
	wait "$xl_pid"
	grep -q '^grant-selftest: ok' "$con" || { sed 's/^/    /' "$con"; return 1; }
}

if command -v xenstore-read > /dev/null && command -v xenstore-write > /dev/null; then
	# check runs the function in a subshell: clean up out here.
	check libs-gnt-guest-selftest gnt_selftest libs-gnt
	xl destroy libs-gnt > /dev/null 2>&1
	check libs-gnt-freed-on-exit gnt_selftest libs-gnt-leak leak
	xl destroy libs-gnt-leak > /dev/null 2>&1
else
	fail "libs-gnt-guest-selftest: xenstore-utils are not installed (make deps)"
	fail "libs-gnt-freed-on-exit: xenstore-utils are not installed (make deps)"
fi

if out=$(timeout 60 "$probe" evtchn-pingpong 2000 2>&1); then
	pass libs-evtchn-pingpong
	echo "    $out"
else
	fail libs-evtchn-pingpong; echo "$out" | sed 's/^/    /'
fi
