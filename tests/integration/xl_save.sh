#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xl save and xl restore on the real stack (docs/save-restore.md): save -c takes a
# checkpoint and the guest runs on (its suspend returns 1); a guest that cannot acknowledge
# the request (paused) makes save fail with the domain untouched; save writes a file and
# the domain is gone; hostile copies of that file (made by corrupting it) are refused with
# one clear line and leave no domain; the real file restores as a new domain with the same
# name, uuid and memory whose vCPU resumes where it suspended (our kernel then rebuilds
# what the new domain lacks and runs on: pv_save_restore.sh tests that in depth).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

CORRUPT=(magic version truncate cfglen count outside twice rip usercr3 wrtable mapout
	trailing)
TESTS=(save-guest-up save-usage save-bad-path save-checkpoint save-leave-paused save-no-ack
	save-destroys
	restore-usage)
for m in "${CORRUPT[@]}"; do TESTS+=("restore-hostile-$m"); done
TESTS+=(restore-paused restore-runs restore-same-name restore-config-file restore-devices)
need_guest_engine "${TESTS[@]}" || exit 0
[ -f "$SV_GUEST/svkernel" ] || { fail "guest kernel $SV_GUEST/svkernel not built"; exit 1; }
stack_start || exit 1
corrupt=$BUILD/tests/savefile-corrupt
cfg=$SPLITVISOR_RUNDIR/save.cfg
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
dir=$SPLITVISOR_RUNDIR/saves
mkdir -p "$dir"

gone() { ! xl list "$1" >/dev/null 2>&1; }
state() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
running() { [[ "$(state "$1")" != *s* ]] && [ -n "$(state "$1")" ]; }
# Only Domain-0 left.
no_guests() { [ "$(xl list | awk 'NR > 1' | wc -l)" -eq 1 ]; }
uuid_of() { xl list -l "$1" 2>/dev/null | sed -n 's/.*"uuid": *"\([0-9a-f-]*\)".*/\1/p' | head -1; }

pv_guest_cfg "$cfg" sv "wait" 32
xl create "$cfg" > /dev/null 2>&1 || { fail "save-guest-up: xl create"; exit 1; }
con=$SPLITVISOR_RUNDIR/console/guest-sv.log
if wait_for 60 grep -q '^wait: blocking' "$con"; then
	pass save-guest-up
else
	fail save-guest-up; sed 's/^/    /' "$con"; exit 1
fi
dom=$(xl domid sv)
uuid=$(uuid_of sv)

# Usage errors exit 2; a file that cannot be made changes nothing.
xl save > /dev/null 2>&1; a=$?
xl save -z sv "$dir/x" > /dev/null 2>&1; b=$?
xl save sv > /dev/null 2>&1; c=$?
if [ $a -eq 2 ] && [ $b -eq 2 ] && [ $c -eq 2 ]; then pass save-usage; else
	fail "save-usage ($a $b $c)"; fi
out=$(xl save sv /nonexistent-dir/f 2>&1)
if [ $? -eq 1 ] && [[ "$out" == *"xl: cannot open checkpoint file"* ]] && running sv &&
	! grep -q 'suspend requested' "$con"; then
	pass save-bad-path
else
	fail save-bad-path; echo "$out" | sed 's/^/    /'
fi

# -c: the checkpoint is written, the suspend cancelled (the guest's call returns 1).
out=$(xl save -c sv "$dir/ck" 2>&1)
if [ $? -eq 0 ] && [ -s "$dir/ck" ] && [[ "$out" == *"Saving to $dir/ck new xl format"* ]] &&
	wait_for 30 grep -q '^control: suspend cancelled, running on$' "$con" &&
	wait_for 30 running sv && [ "$(xl domid sv)" = "$dom" ]; then
	pass save-checkpoint
else
	fail save-checkpoint; echo "$out" | sed 's/^/    /'; tail -n 5 "$con" | sed 's/^/    /'
fi

# -p: the same, the domain left paused; unpaused, it runs on as after -c.
# (The count is read on each try: a $(...) argument to wait_for is read once.)
cancelled_twice() { [ "$(grep -c '^control: suspend cancelled, running on$' "$con")" -eq 2 ]; }
out=$(xl save -p sv "$dir/ckp" 2>&1)
rc=$?
st=$(state sv)
xl unpause sv
if [ $rc -eq 0 ] && [ -s "$dir/ckp" ] && [[ "$st" == *p* ]] && [[ "$st" != *s* ]] &&
	wait_for 30 cancelled_twice &&
	wait_for 30 running sv; then
	pass save-leave-paused
else
	fail "save-leave-paused (rc $rc, state '$st')"; echo "$out" | sed 's/^/    /'
fi

# A paused guest cannot acknowledge: save gives up, withdraws the request, leaves it be.
xl pause sv
out=$(SV_XL_SUSPEND_TIMEOUT_MS=1000 xl save sv "$dir/noack" 2>&1)
rc=$?
req=$(xenstore-read "/local/domain/$dom/control/shutdown" 2>/dev/null)
xl unpause sv
if [ $rc -eq 1 ] && [[ "$out" == *"xl: domain 'sv': guest didn't acknowledge suspend, request cancelled"* ]] &&
	[ ! -e "$dir/noack" ] && [ -z "$req" ] && wait_for 30 running sv &&
	[ "$(grep -c 'suspend requested' "$con")" -eq 2 ]; then
	pass save-no-ack
else
	fail "save-no-ack (rc $rc, request '$req')"; echo "$out" | sed 's/^/    /'
fi

# The real save: a file of the domain's RAM and more, the domain gone.
out=$(xl save sv "$dir/good" 2>&1)
rc=$?
size=$(stat -c %s "$dir/good" 2>/dev/null || echo 0)
if [ $rc -eq 0 ] && wait_for 30 gone sv && [ "$size" -gt $((32 << 20)) ] &&
	[[ "$out" == *"xc: info: Saving domain $dom, type x86 PV"* ]]; then
	pass save-destroys
else
	fail "save-destroys (rc $rc, size $size)"; echo "$out" | sed 's/^/    /'
fi

xl restore > /dev/null 2>&1; a=$?
xl restore -z "$dir/good" > /dev/null 2>&1; b=$?
xl restore a b c > /dev/null 2>&1; c=$?
out=$(xl restore "$dir/missing" 2>&1); d=$?
if [ $a -eq 2 ] && [ $b -eq 2 ] && [ $c -eq 2 ] && [ $d -eq 1 ] &&
	[[ "$out" == "xl: cannot open checkpoint file '$dir/missing': "* ]]; then
	pass restore-usage
else
	fail "restore-usage ($a $b $c $d)"; echo "$out" | sed 's/^/    /'
fi

# Hostile files: one "xl: " line says what is wrong, and no domain is left behind.
for m in "${CORRUPT[@]}"; do
	if ! "$corrupt" "$m" "$dir/good" "$dir/bad-$m"; then
		fail "restore-hostile-$m: cannot make the file"; continue
	fi
	out=$(xl restore "$dir/bad-$m" 2>&1)
	rc=$?
	errs=$(printf '%s\n' "$out" | grep -c '^xl: ')
	if [ $rc -eq 1 ] && [ "$errs" -eq 1 ] && no_guests; then
		pass "restore-hostile-$m"
		printf '%s\n' "$out" | grep '^xl: ' | sed 's/^/    /'
	else
		fail "restore-hostile-$m (rc $rc)"; echo "$out" | sed 's/^/    /'; xl list | sed 's/^/    /'
		xl destroy sv > /dev/null 2>&1
	fi
	rm -f "$dir/bad-$m"
done
# What the hostile tables and contexts were refused for, as the hypervisor saw it.
grep -q 'restore: the L4 table at frame .* does not validate' "$hvlog" ||
	fail "restore-hostile-wrtable: no refused pin in the hypervisor log"

# The good file, paused: the same name, uuid and memory, a new domid, the vCPU not run yet.
out=$(xl restore -p "$dir/good" 2>&1)
rc=$?
new=$(xl domid sv 2>/dev/null)
if [ $rc -eq 0 ] && [ -n "$new" ] && [ "$new" != "$dom" ] && [[ "$(state sv)" == *p* ]] &&
	[ "$(uuid_of sv)" = "$uuid" ] &&
	[ "$(xl list sv | awk 'NR == 2 { print $3 }')" = 32 ] &&
	xl vcpu-list sv | awk -v d="$new" '$2 == d && $3 == 0 { ok = 1 } END { exit !ok }' &&
	[[ "$out" == *"xc: info: Restore successful"* ]] &&
	[[ "$out" == *"Parsing config from <saved>"* ]]; then
	pass restore-paused
else
	fail "restore-paused (rc $rc, domid '$new')"; echo "$out" | sed 's/^/    /'
	xl list | sed 's/^/    /'
fi
# Unpaused, the vCPU resumes after its SCHEDOP_shutdown with 0 ("a new domain"): our
# kernel rebuilds what the new domain lacks and runs on; xl shutdown then goes through its
# re-registered control/shutdown watch.
xl unpause sv 2>/dev/null
if wait_for 60 grep -q '^control: resume done' "$con" && running sv &&
	grep -q '^control: resumed in a new domain' "$con"; then
	pass restore-runs
else
	fail restore-runs; tail -n 5 "$con" | sed 's/^/    /'
	grep "d$new:" "$hvlog" | tail -n 5 | sed 's/^/    /'
fi
xl shutdown sv > /dev/null 2>&1
# The monitor of the restored domain applied on_poweroff = destroy; it may be restored again.
if wait_for 60 gone sv && xl restore -p "$dir/good" > /dev/null 2>&1 &&
	out=$(xl restore -p "$dir/good" 2>&1); [ $? -eq 1 ] &&
	[[ "$out" == *"xl: domain 'sv' already exists"* ]] &&
	[ "$(printf '%s\n' "$out" | grep -c '^xl: ')" -eq 1 ]; then
	pass restore-same-name
else
	fail restore-same-name; echo "$out" | sed 's/^/    /'
fi
xl destroy sv > /dev/null 2>&1
wait_for 30 no_guests

# A config file given replaces the saved one (its name is the domain's); one whose vCPUs
# differ from the saved domain's is refused.
sed 's/^name = .*/name = "sv2"/' "$cfg" > "$dir/other.cfg"
sed 's/^vcpus = 1/vcpus = 2/' "$dir/other.cfg" > "$dir/two.cfg"
out=$(xl restore -p "$dir/two.cfg" "$dir/good" 2>&1)
rc=$?
if [ $rc -eq 1 ] && [[ "$out" == *"xl: checkpoint file '$dir/good': the domain had 1 vCPUs, its config says 2"* ]] &&
	no_guests && xl restore -p "$dir/other.cfg" "$dir/good" > /dev/null 2>&1 &&
	[[ "$(state sv2)" == *p* ]] && gone sv; then
	pass restore-config-file
else
	fail "restore-config-file (rc $rc)"; echo "$out" | sed 's/^/    /'
fi
xl destroy sv2 > /dev/null 2>&1
wait_for 30 no_guests

# A guest with a disk: the restored domain gets its vbd made anew as xl create makes it
# (backend and frontend in state 1, the frontend naming the backend).
truncate -s 8M "$dir/disk.img"
{ cat "$cfg"; echo "disk = [ 'format=raw, vdev=xvda, access=rw, target=$dir/disk.img' ]"; } |
	sed 's/^name = .*/name = "svd"/' > "$dir/disk.cfg"
condisk=$SPLITVISOR_RUNDIR/console/guest-svd.log
if xl create "$dir/disk.cfg" > /dev/null 2>&1 && wait_for 60 grep -q '^wait: blocking' "$condisk" &&
	xl save svd "$dir/disk.save" > /dev/null 2>&1 && wait_for 30 gone svd &&
	xl restore -p "$dir/disk.save" > /dev/null 2>&1; then
	nd=$(xl domid svd)
	fe=/local/domain/$nd/device/vbd/51712
	be=$(xenstore-read "$fe/backend" 2>/dev/null)
	if [ "$(xenstore-read "$fe/state" 2>/dev/null)" = 1 ] && [ -n "$be" ] &&
		[ "$(xenstore-read "$be/frontend-id" 2>/dev/null)" = "$nd" ] &&
		[ "$(xenstore-read "$be/params" 2>/dev/null)" = "$dir/disk.img" ]; then
		pass restore-devices
	else
		fail "restore-devices (backend '$be')"; xenstore-ls "/local/domain/$nd" 2>&1 | head -30 | sed 's/^/    /'
	fi
else
	fail restore-devices; tail -n 5 "$condisk" | sed 's/^/    /'
fi
xl destroy svd > /dev/null 2>&1
wait_for 30 no_guests
exit 0
