#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SHUTDOWN_suspend, as Xen's save starts it: dom0 writes "suspend" to the guest's
# control/shutdown, the guest acknowledges and suspends; the domain is parked (xl list
# shows it shut down, xl's monitor leaves it, its memory and devices stay).  A toolstack
# resume that cancels the suspend (libxc's fast resume) gives the guest's call 1 and it runs
# on with every device as it was (here: it then takes an xl shutdown through xenstore); a
# plain resume of the same domain gives 0 although nothing was lost: the kernel sees its
# channels still bound (a restored domain has none), says so and runs on as after a
# cancel (xenstore, console and a disk still work).  Bad resume requests are refused and
# change nothing.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(suspend-guest-up resume-hostile suspend-parks suspend-monitor-keeps
	resume-cancel-runs-on resume-cancel-devices-work resume-cancel-disk-vcpus
	resume-plain-same-domain resume-plain-devices-work)
need_guest_engine "${TESTS[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
resume=$BUILD/tests/domain-resume
cfg=$SPLITVISOR_RUNDIR/suspend.cfg
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log

gone() { ! xl list "$1" >/dev/null 2>&1; }
# The state column of xl list for NAME.
state() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
parked() { [[ "$(state "$1")" == *s* ]]; }
running() { [[ "$(state "$1")" != *s* ]] && [ -n "$(state "$1")" ]; }
# suspend NAME DOMID: ask as libxl does, wait for the acknowledgement (the key cleared).
ask_suspend() { xenstore-write "/local/domain/$2/control/shutdown" suspend; }

pv_guest_cfg "$cfg" sus "wait" 32
xl create "$cfg" > /dev/null 2>&1 || { fail "suspend-guest-up: xl create"; exit 1; }
con=$SPLITVISOR_RUNDIR/console/guest-sus.log
mon=$SPLITVISOR_RUNDIR/xl-sus.log
if wait_for 60 grep -q '^wait: blocking' "$con"; then
	pass suspend-guest-up
else
	fail suspend-guest-up; sed 's/^/    /' "$con"; exit 1
fi
dom=$(xl domid sus)

out=$("$resume" "$dom" hostile 2>&1)
if [ $? -eq 0 ] && running sus; then
	pass resume-hostile
else
	fail resume-hostile
fi
echo "$out" | sed 's/^/    /'

ask_suspend sus "$dom"
if wait_for 60 parked sus && grep -q '^control: suspend requested$' "$con" &&
	grep -q "d$dom: shut down (suspend)" "$hvlog"; then
	pass suspend-parks
else
	fail suspend-parks; xl list sus 2>&1 | sed 's/^/    /'; tail -n 5 "$con" | sed 's/^/    /'
fi
# The monitor saw it and left it: the domain is still there once its line is written.
if wait_for 30 grep -q "domain $dom has suspended" "$mon" && parked sus; then
	pass suspend-monitor-keeps
else
	fail suspend-monitor-keeps; sed 's/^/    /' "$mon"
fi

out=$("$resume" "$dom" cancel 2>&1)
if [ $? -eq 0 ] && wait_for 30 grep -q '^control: suspend cancelled, running on$' "$con" &&
	wait_for 30 running sus && wait_for 30 grep -q "domain $dom resumed" "$mon"; then
	pass resume-cancel-runs-on
else
	fail resume-cancel-runs-on; echo "$out" | sed 's/^/    /'; tail -n 5 "$con" | sed 's/^/    /'
	sed 's/^/    /' "$mon"
fi
# Its xenbus watch and the store still work: xl shutdown goes through control/shutdown.
xl shutdown sus > /dev/null 2>&1
if wait_for 60 gone sus && grep -q '^control: poweroff requested$' "$con"; then
	pass resume-cancel-devices-work
else
	fail resume-cancel-devices-work; tail -n 5 "$con" | sed 's/^/    /'
	xl destroy sus > /dev/null 2>&1
fi

# A guest with a disk in use (a read kept in flight) and 2 vCPUs kept online: a cancelled
# suspend parks the second vCPU and brings it back, the disk goes on.  Then a plain resume:
# the call returns 0 as after a restore, but in the same domain; the kernel tells the two
# apart and runs on, its disk and xenstore still working.
img=$SPLITVISOR_RUNDIR/sus2.img
truncate -s 8M "$img"
pv_guest_cfg "$cfg" sus2 "resume-io=300" 32
sed -i 's/^vcpus = 1$/vcpus = 2/' "$cfg"
echo "disk = [ 'format=raw, vdev=xvda, access=rw, target=$img' ]" >> "$cfg"
xl create "$cfg" > /dev/null 2>&1
con2=$SPLITVISOR_RUNDIR/console/guest-sus2.log
if wait_for 60 grep -q '^resume-io: ready (disk xvda gen 0, 0 vifs, 2 vcpus)' "$con2"; then
	dom2=$(xl domid sus2)
	ask_suspend sus2 "$dom2"
	if wait_for 60 parked sus2 && "$resume" "$dom2" cancel > /dev/null &&
		wait_for 60 grep -q '^resume-io: resume 1: 2 of 2 vcpus ok' "$con2" &&
		grep -q '^resume-io: resume 1: read back gen 0 ok' "$con2" &&
		grep -q '^resume-io: resume 1: wrote gen 1 ok' "$con2" &&
		grep -q '^control: suspend cancelled, running on$' "$con2"; then
		pass resume-cancel-disk-vcpus
	else
		fail resume-cancel-disk-vcpus; tail -n 8 "$con2" | sed 's/^/    /'
	fi
	ask_suspend sus2 "$dom2"
	if wait_for 60 parked sus2 && "$resume" "$dom2" > /dev/null &&
		wait_for 60 grep -q '^control: resumed in the same domain' "$con2" &&
		wait_for 30 running sus2 && ! grep -q 'resumed in a new domain' "$con2"; then
		pass resume-plain-same-domain
	else
		fail resume-plain-same-domain; tail -n 5 "$con2" | sed 's/^/    /'
	fi
	if wait_for 60 grep -q '^resume-io: resume 2: 2 of 2 vcpus ok' "$con2" &&
		grep -q '^resume-io: resume 2: read back gen 1 ok' "$con2" &&
		grep -q '^resume-io: resume 2: wrote gen 2 ok' "$con2" &&
		! grep -q 'resume-io: FAIL' "$con2" && xl shutdown sus2 > /dev/null 2>&1 &&
		wait_for 60 gone sus2 && grep -q '^control: poweroff requested$' "$con2"; then
		pass resume-plain-devices-work
	else
		fail resume-plain-devices-work; tail -n 8 "$con2" | sed 's/^/    /'
	fi
else
	fail resume-cancel-disk-vcpus; sed 's/^/    /' "$con2"
fi
xl destroy sus2 > /dev/null 2>&1
exit 0
