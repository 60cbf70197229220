#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's own, unmodified Xen 4.17 `xl save` and `xl restore` of a PV domain of our
# kernel that Debian's `xl create` made: libxl suspends it through xenstore
# (control/shutdown), libxc's save reads it with domctls and foreign maps (hypervisor/xctl.c),
# restore builds it again and it runs on; `xl save -c` resumes it where it is.  A guest that does not acknowledge the suspend makes the save fail
# cleanly: the domain runs on, no file, no leftovers.
#
# The tools come from Debian's xen-utils-4.17 packages, unpacked by
# scripts/xen_debian.sh (see xen_tools.sh); without them every test is skipped.
cd "$(dirname "$0")/../.." || exit 1

TESTS=(xls-create xls-checkpoint xls-save xls-gone xls-restore xls-runs xls-shutdown xls-leftovers xls-noack xls-alive)
. tests/xen_lib.sh # its own mount namespace: private /var/lib/xen, /run/xen... (see there)
xen_begin || exit 0
stack_start || exit 1

xen_workdir xlsave
xctl_log() { grep -E "xctl|restore|save" "$SPLITVISOR_RUNDIR/hypervisor.log" | tail -15 | sed 's/^/    /'; }

cfg() {
	{
		echo "name = \"$1\""
		echo "kernel = \"$SV_GUEST/svkernel\""
		echo "memory = 32"
		echo "vcpus = 1"
		echo "cmdline = \"${2:-wait}\""
	} > "$work/$1.cfg"
	echo "$work/$1.cfg"
}

# ---- Debian's xl create of our kernel ----
if dxl create "$(cfg ds)" >"$work/out" && wait_for 20 cons_has ds "wait: blocking until"; then
	pass "xls-create"
else
	fail "xls-create"; show "Debian's xl create" "$(cat "$work/out" "$work/err")"; xctl_log
	exit 1
fi
id=$(dxl domid ds)

# ---- xl save -c: the checkpoint is written and the domain resumed where it is (libxc's
# xc_domain_resume gives the suspended vCPU rax 1 through setvcpucontext): the guest's
# suspend returns 1, it runs on with the same domid ----
if dxl save -c ds "$work/ds.ckpt" >"$work/out" && [ -s "$work/ds.ckpt" ] &&
	wait_for 20 cons_has ds "control: suspend cancelled, running on" &&
	[ "$(dxl domid ds)" = "$id" ] && dxl list ds | awk '$1 == "ds" {print $5}' | grep -qv s; then
	pass "xls-checkpoint"
else
	fail "xls-checkpoint"; show "err" "$(grep -v debug "$work/err" | tail -8)"; xctl_log
	show "console" "$(tail -5 "$SPLITVISOR_RUNDIR/console/guest-ds.log" 2>&1)"
fi

# ---- Debian's xl save: the guest acknowledges, suspends; libxc writes the file ----
if dxl -vvv save ds "$work/ds.save" >"$work/out" && [ -s "$work/ds.save" ]; then
	pass "xls-save"
else
	fail "xls-save"; show "Debian's xl save (last lines)" "$(tail -25 "$work/err")"; xctl_log
	show "console" "$(tail -5 "$SPLITVISOR_RUNDIR/console/guest-ds.log" 2>&1)"
	exit 1
fi

# ---- the saved domain is gone ----
if wait_for 10 no_xen_domain && ! dlisted ds; then
	pass "xls-gone"
else
	fail "xls-gone"; show "xl list" "$(xl list)"
fi

# ---- Debian's xl restore ----
if dxl -vvv restore "$work/ds.save" >"$work/out" && dlisted ds; then
	pass "xls-restore"
else
	fail "xls-restore"; show "Debian's xl restore (last lines)" "$(tail -25 "$work/err")"; xctl_log
	exit 1
fi
nid=$(dxl domid ds)

# ---- the restored guest runs on: its suspend returned 0 (a new domain), it rebuilt its
# channels and prints on the new console ring, and Debian's xl lists it running ----
if [ -n "$nid" ] && [ "$nid" != "$id" ] &&
	wait_for 30 cons_has ds "control: resumed in a new domain" &&
	wait_for 30 cons_has ds "control: resume done"; then
	pass "xls-runs"
else
	fail "xls-runs"; show "console" "$(tail -8 "$SPLITVISOR_RUNDIR/console/guest-ds.log" 2>&1)"
	show "xl list" "$(dxl list 2>&1)"; xctl_log
fi

# ---- Debian's xl shutdown: the guest powers off, xl restore's monitor destroys it ----
if dxl shutdown -w ds && wait_for 20 cons_has ds "control: poweroff requested" &&
	wait_for 10 no_xen_domain && ! dlisted ds; then
	pass "xls-shutdown"
else
	fail "xls-shutdown"; show "err" "$(cat "$work/err")"; show "xl list" "$(xl list)"
	show "console" "$(tail -5 "$SPLITVISOR_RUNDIR/console/guest-ds.log" 2>&1)"
fi

# ---- nothing left: store nodes, libxl's records, monitors, save helpers, runners ----
gone() {
	! xenstore-ls /local/domain 2>/dev/null | grep -qE "^($id|$nid) = " &&
		! ls /var/lib/xen/userdata-?."$id".* /var/lib/xen/userdata-?."$nid".* >/dev/null 2>&1 &&
		[ -z "$(monitors)" ] && ! pgrep -f libxl-save-helper >/dev/null &&
		! pgrep -f "sv-runner.*d($id|$nid)\b" >/dev/null &&
		[ "$(xl list | awk 'NR > 1' | wc -l)" -eq 1 ]
}
if wait_for 10 gone; then
	pass "xls-leftovers"
else
	fail "xls-leftovers"
	show "/local/domain" "$(xenstore-ls /local/domain 2>&1 | head -20)"
	show "monitors" "$(monitors)"; show "xl list" "$(xl list)"
fi

# ---- a guest that does not acknowledge (paused): libxl gives up after its 60 s and
# withdraws the request before the guest saw it; the domain never suspended, keeps its
# domid, and answers Debian's xl shutdown once unpaused ----
if dxl create "$(cfg dn)" >"$work/out" && wait_for 20 cons_has dn "wait: blocking until"; then
	nid=$(dxl domid dn)
	dxl pause dn
	dxl save dn "$work/dn.save" >"$work/out"
	rc=$?
	cp "$work/err" "$work/save-err"
	req=$(xenstore-read "/local/domain/$nid/control/shutdown" 2>/dev/null)
	dxl unpause dn
	if [ $rc -ne 0 ] && grep -q "guest didn't acknowledge suspend" "$work/save-err" && [ -z "$req" ] &&
		dlisted dn && [ "$(dxl domid dn)" = "$nid" ] &&
		! grep -q "control: suspend" "$SPLITVISOR_RUNDIR/console/guest-dn.log" &&
		! pgrep -f libxl-save-helper >/dev/null &&
		dxl shutdown -w dn && cons_has dn "control: poweroff requested" &&
		wait_for 10 no_xen_domain; then
		pass "xls-noack"
	else
		fail "xls-noack (rc $rc, request '$req')"; show "err" "$(grep -v debug "$work/save-err" | tail -8)"
		show "console" "$(tail -5 "$SPLITVISOR_RUNDIR/console/guest-dn.log" 2>&1)"
		show "xl list" "$(xl list)"
	fi
else
	fail "xls-noack: create"; show "err" "$(tail -5 "$work/err")"
fi

# ---- the stack still serves: our own xl creates a guest ----
pv_guest_cfg "$work/ok.cfg" ok wait
if xl create -q "$work/ok.cfg" >/dev/null 2>&1 &&
	wait_for 20 grep -qF "wait: blocking until" "$SPLITVISOR_RUNDIR/console/guest-ok.log"; then
	pass "xls-alive"
else
	fail "xls-alive"; show "xl list" "$(xl list)"
fi
