#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots the bundled PV kernel on the real stack: banner, poweroff, crash
# isolation, SMP, pause/unpause, destroy freeing memory and threads, bad
# configs and kernels refused, xl list/info output, gzip-compressed kernels.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(boot-banner clean-poweroff destroy-logs-counters smp-two-vcpus crash-isolated pause-unpause
	destroy-frees xl-list-columns xl-info-kind bad-config bad-kernel
	console-log-file shutdown-asks-anyway shutdown-command reboot-restarts engine-choice gzip-kernel
	gzip-kernel-refused)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

work=$(mktemp -d /tmp/sv-pv.XXXXXX)
on_exit "rm -rf '$work'"
kernel=$SV_GUEST/svkernel
hvpid=$(cat "$SPLITVISOR_RUNDIR/hypervisor.pid")

# cfg NAME CMDLINE [extra lines...]: writes $work/NAME.cfg
cfg() {
	local name=$1 cmd=$2; shift 2
	{
		echo "name = \"$name\""
		echo "kernel = \"$kernel\""
		echo "memory = 32"
		echo "cmdline = \"$cmd\""
		for l in "$@"; do echo "$l"; done
	} > "$work/$name.cfg"
	echo "$work/$name.cfg"
}

gone() { ! xl list "$1" >/dev/null 2>&1; }
has_state() { xl list "$1" 2>/dev/null | awk -v n="$1" '$1 == n {print $5}' | grep -q -e "$2"; }

# 1. Boot to the banner and power off cleanly; the monitor destroys it.
out=$(timeout 30 xl create -c "$(cfg hello 'print=marker-42 halt')" 2>&1)
if grep -q '^Splitvisor PV kernel' <<<"$out" && grep -q 'marker-42' <<<"$out" &&
	grep -q '^memory: 32 MiB' <<<"$out" && grep -q '^vcpus: 1' <<<"$out"; then
	pass boot-banner
else
	fail boot-banner; echo "$out" | sed 's/^/    /'
fi
if grep -q '^poweroff' <<<"$out" && wait_for 10 gone hello &&
	grep -q 'd[0-9]*: shut down (poweroff)' "$SPLITVISOR_RUNDIR/hypervisor.log"; then
	pass clean-poweroff
else
	fail clean-poweroff
fi
# Its counters, logged as it went: what it asked for (its console's events, its poweroff: sched_op).
id=$(sed -n "s/.*hypervisor: d\([0-9]*\): created 'hello'.*/\1/p" "$SPLITVISOR_RUNDIR/hypervisor.log" | tail -n 1)
line=$(grep -E "hypervisor: d${id:-x}: [1-9][0-9]* exits, [0-9]+ after sleeping; hypercalls:" "$SPLITVISOR_RUNDIR/hypervisor.log")
if grep -qE ' event_channel_op [1-9]' <<<"$line" && grep -qE ' sched_op [1-9]' <<<"$line" &&
	grep -q 'bounced none$' <<<"$line"; then
	pass destroy-logs-counters
else
	fail "destroy-logs-counters (d${id:-?}: '$line')"
fi

# 2. Two vCPUs: the second is brought up with VCPUOP_initialise/up.
out=$(timeout 30 xl create -c "$(cfg smp smp vcpus=2)" 2>&1)
if grep -q '^vcpus: 2' <<<"$out" && grep -q 'vcpu 1: online' <<<"$out" &&
	grep -q 'smp: 2 vcpus ran' <<<"$out"; then
	pass smp-two-vcpus
else
	fail smp-two-vcpus; echo "$out" | sed 's/^/    /'
fi

# 3. A guest that faults is crashed alone, with a register dump; a second
#    guest keeps running through it.
xl create -q "$(cfg bystander wait)" >/dev/null 2>&1
wait_for 10 has_state bystander b
out=$(timeout 30 xl create -c "$(cfg crasher crash 'on_crash = "preserve"')" 2>&1)
if wait_for 10 has_state crasher '---sc-' &&
	grep -q 'crasher\|#PF page fault' "$SPLITVISOR_RUNDIR/hypervisor.log" &&
	grep -q 'crashed: unhandled #PF page fault' "$SPLITVISOR_RUNDIR/hypervisor.log" &&
	grep -q 'rax [0-9a-f]\{16\}' "$SPLITVISOR_RUNDIR/hypervisor.log" &&
	has_state bystander '-b----' && kill -0 "$hvpid"; then
	pass crash-isolated
else
	fail crash-isolated; xl list | sed 's/^/    /'; tail -5 "$SPLITVISOR_RUNDIR/hypervisor.log" | sed 's/^/    /'
fi
xl destroy crasher >/dev/null 2>&1

# 4. Pause and unpause a running guest.
if xl pause bystander && has_state bystander 'p' && xl unpause bystander &&
	wait_for 5 has_state bystander '-b----'; then
	pass pause-unpause
else
	fail pause-unpause; xl list | sed 's/^/    /'
fi

# 5. Destroying a running guest frees its memory and its vCPU threads.
threads() { ls "/proc/$hvpid/task" | wc -l; }
memfds() { ls -l "/proc/$hvpid/fd" 2>/dev/null | grep -c 'memfd:splitvisor-guest'; }
t0=$(threads); m0=$(memfds)
xl create -q "$(cfg big 'spin=100000' 'memory = 256' 'vcpus = 2')" >/dev/null 2>&1
wait_for 10 has_state big r
t1=$(threads); m1=$(memfds)
xl destroy big
wait_for 5 gone big
sleep 0.2
t2=$(threads); m2=$(memfds)
if [ "$t1" -ge $((t0 + 2)) ] && [ "$m1" -eq $((m0 + 1)) ] && [ "$t2" -le "$t0" ] && [ "$m2" -eq "$m0" ]; then
	pass destroy-frees
else
	fail "destroy-frees (threads $t0 -> $t1 -> $t2, memfds $m0 -> $m1 -> $m2)"
fi

# 6. xl list: Xen's columns, dom0 first; xl info says which KVM this is.
out=$(xl list)
if head -1 <<<"$out" | grep -qP '^Name {40}ID   Mem VCPUs\tState\tTime\(s\)$' &&
	sed -n 2p <<<"$out" | grep -qE '^Domain-0 +0 +[0-9]+ +[0-9]+ +r----- +[0-9.]+$' &&
	grep -qE '^bystander +[0-9]+ +32 +1 +-b---- +[0-9.]+$' <<<"$out"; then
	pass xl-list-columns
else
	fail xl-list-columns; echo "$out" | cat -A | sed 's/^/    /'
fi
expect=none
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	expect=hardware; [ -d /sys/module/kvm_pvm ] && expect=pvm
fi
info=$(xl info)
if grep -qE "^kvm +: $expect$" <<<"$info" && grep -qE "^engine +: $(guest_engine)$" <<<"$info" &&
	grep -qE "^engine_detail +: .+" <<<"$info" &&
	xl list -l bystander | grep -q "\"engine\": \"$(guest_engine)\""; then
	pass xl-info-kind
else
	fail xl-info-kind; echo "$info" | sed 's/^/    /'; xl list -l bystander | sed 's/^/    /'
fi

# 7. Bad configs: a clear message with the line, nothing created.
printf 'name = "bad"\nkernel = "%s"\nmemory = lots\n' "$kernel" > "$work/bad.cfg"
out=$(xl create "$work/bad.cfg" 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q 'bad.cfg:3' <<<"$out" && grep -q "memory" <<<"$out" && gone bad; then
	pass bad-config
else
	fail "bad-config (rc $rc)"; echo "$out" | sed 's/^/    /'
fi

# 8. A kernel that is not a PV ELF is refused before any domain exists.
head -c 4096 /dev/urandom > "$work/junk"
printf 'name = "junk"\nkernel = "%s/junk"\n' "$work" > "$work/junk.cfg"
out=$(xl create "$work/junk.cfg" 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q "kernel '$work/junk': not an ELF file" <<<"$out" && gone junk; then
	pass bad-kernel
else
	fail "bad-kernel (rc $rc)"; echo "$out" | sed 's/^/    /'
fi

# 9. Every console is logged in the run directory.
if grep -q 'marker-42' "$SPLITVISOR_RUNDIR/console/guest-hello.log"; then
	pass console-log-file
else
	fail console-log-file
fi

# 10. xl shutdown without -F, to a guest whose control/feature-poweroff is gone (as after a
#     restore: Linux announces it only at boot): it is asked through control/shutdown all
#     the same, as Xen's xl asks every PV domain, with a note; its driver obeys.
xl create -q "$(cfg quiet wait)" >/dev/null 2>&1
if wait_for 10 poweroff_announced quiet && xenstore-rm "/local/domain/$(xl domid quiet)/control/feature-poweroff" &&
	out=$(timeout 60 xl shutdown -w quiet 2>&1) && gone quiet &&
	echo "$out" | grep -q "does not announce control/feature-poweroff" &&
	grep -q 'control: poweroff requested' "$SPLITVISOR_RUNDIR/console/guest-quiet.log"; then
	pass shutdown-asks-anyway
else
	fail shutdown-asks-anyway; echo "$out" | sed 's/^/    /'
fi

# 10b. xl shutdown -F, to a guest that does not announce it: the hypervisor stops the guest
#     with reason poweroff (its driver is never asked), and on_poweroff destroys it.
if wait_for 10 poweroff_announced bystander &&
	xenstore-rm "/local/domain/$(xl domid bystander)/control/feature-poweroff" &&
	xl shutdown -F -w bystander >/dev/null 2>&1 && gone bystander &&
	! grep -q 'control: poweroff requested' "$SPLITVISOR_RUNDIR/console/guest-bystander.log"; then
	pass shutdown-command
else
	fail shutdown-command; xl list | sed 's/^/    /'
fi

# 11. A guest that reboots is restarted (on_reboot = "restart", xl's default).
xl create -q "$(cfg rebooter 'spin=500 reboot')" >/dev/null 2>&1
first=$(xl domid rebooter 2>/dev/null)
restarted() { local id; id=$(xl domid rebooter 2>/dev/null) && [ -n "$first" ] && [ "$id" != "$first" ]; }
if wait_for 10 restarted; then
	pass reboot-restarts
else
	fail "reboot-restarts (first domid '$first')"; tail -5 "$SPLITVISOR_RUNDIR/xl-rebooter.log" 2>/dev/null | sed 's/^/    /'
fi
xl destroy rebooter >/dev/null 2>&1

# 12. Choosing the engine: a config naming the engine in use boots on it;
#     one naming an engine this host lacks is refused with the reason, and
#     so is a stack asked to start on it.
have_kvm=0; [ -r /dev/kvm ] && [ -w /dev/kvm ] && have_kvm=1
out=$(timeout 30 xl create -c "$(cfg chosen 'print=chosen halt' "engine = \"$(guest_engine)\"")" 2>&1)
ok=0
if grep -q '^chosen$' <<<"$out" &&
	grep -q "created 'chosen'.*, $(guest_engine) engine" "$SPLITVISOR_RUNDIR/hypervisor.log"; then
	ok=1
fi
if [ "$have_kvm" = 0 ]; then
	refused=$(xl create "$(cfg nokvm halt)" engine=kvm 2>&1)
	rc=$?
	alt=$(mktemp -d /tmp/sv-nokvm.XXXXXX)
	start=$(SPLITVISOR_RUNDIR=$alt splitvisor start --engine=kvm 2>&1)
	src=$?
	SPLITVISOR_RUNDIR=$alt splitvisor stop >/dev/null 2>&1
	rm -rf "$alt"
	if [ "$rc" -eq 0 ] || ! grep -q "engine 'kvm' is not available on this host" <<<"$refused" ||
		xl list nokvm >/dev/null 2>&1 || [ "$src" -eq 0 ]; then
		ok=0
		echo "    xl create engine=kvm (rc $rc): $refused"
		echo "    splitvisor start --engine=kvm (rc $src): $start"
	fi
fi
if [ "$ok" = 1 ]; then pass engine-choice; else fail engine-choice; echo "$out" | sed 's/^/    /'; fi

# 13. A gzip-compressed kernel boots as Xen's try_gzip takes it; a truncated
#     one, or one inflating past the guest's memory, is refused in one line.
gzip -c "$kernel" > "$work/svkernel.gz"
gzcfg() { sed "s|^kernel = .*|kernel = \"$2\"|" "$(cfg "$1" "${3:-halt}")" > "$work/$1.gz.cfg"; echo "$work/$1.gz.cfg"; }
out=$(timeout 30 xl create -c "$(gzcfg gzipped "$work/svkernel.gz" 'print=from-gzip halt')" 2>&1)
if grep -q '^Splitvisor PV kernel' <<<"$out" && grep -q '^from-gzip$' <<<"$out" &&
	wait_for 10 gone gzipped; then
	pass gzip-kernel
else
	fail gzip-kernel; echo "$out" | sed 's/^/    /'
fi
head -c $(( $(stat -c %s "$work/svkernel.gz") / 2 )) "$work/svkernel.gz" > "$work/half.gz"
out1=$(xl create "$(gzcfg halfgz "$work/half.gz")" 2>&1); rc1=$?
head -c $((40 << 20)) /dev/zero | gzip -c > "$work/bomb.gz"
out2=$(xl create "$(gzcfg bombgz "$work/bomb.gz")" 2>&1); rc2=$?
if [ $rc1 -eq 1 ] && [ "$(grep -c "^xl:" <<<"$out1")" = 1 ] &&
	grep -qE "^xl: kernel '$work/half.gz': (gzip data is (truncated|corrupt)|kernel decompresses to)" <<<"$out1" && gone halfgz &&
	[ $rc2 -eq 1 ] && grep -q "^xl: kernel '$work/bomb.gz': kernel decompresses to 41943040 bytes, more than the 32 MiB allowed$" <<<"$out2" &&
	gone bombgz; then
	pass gzip-kernel-refused
else
	fail "gzip-kernel-refused (rc $rc1 $rc2)"; echo "$out1"; echo "$out2" | sed 's/^/    /'
fi
