#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Containment of hostile PV guests on the real stack: a guest kernel that makes
# a raw host system call (syscall, int $0x80, sysenter; open, creat, execve,
# socket, kill, ptrace, mmap, clone) leaves no trace on the host: by int $0x80
# or sysenter it is crashed alone, with one log line; by `syscall` it has made
# a hypercall, as on Xen: -ENOSYS for numbers that are none, and for open
# (2, Xen's set_gdt) set_gdt's -EINVAL (its "frame list" is the path string,
# no frames of the guest's); the domain lives on; guest threads run at low CPU priority and the host
# stays usable while guests spin; no sv-runner outlives a killed hypervisor.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

WAYS=(syscall int80 sysenter)
CALLS=(open creat execve socket kill ptrace mmap clone)
# Linux's numbers: x86_64 for syscall, i386 for int $0x80 and sysenter
# (frontends/kernel/hostile.c; i386 mmap is old_mmap).
declare -A NR64=([open]=2 [creat]=85 [execve]=59 [socket]=41 [kill]=62
	[ptrace]=101 [mmap]=9 [clone]=56)
declare -A NR32=([open]=5 [creat]=8 [execve]=11 [socket]=359 [kill]=37
	[ptrace]=26 [mmap]=90 [clone]=120)
# What each x86_64 number returns as a hypercall: -ENOSYS (-38), but open = set_gdt (-EINVAL)
# and mmap = get_debugreg (its address 0x100000000000 is register 0 as an int: DR0, 0).
declare -A HC_RET=([open]=-22 [mmap]=0)

TESTS=()
for w in "${WAYS[@]}"; do
	for c in "${CALLS[@]}"; do TESTS+=("hostile-$w-$c"); done
done
TESTS+=(guest-threads-niced guest-cpu-cgroup host-responsive-while-spinning
	runners-die-with-hypervisor supervisor-restarts-hypervisor)
if declare -F need_guest_engine >/dev/null; then
	need_guest_engine "${TESTS[@]}" || exit 0
else
	need_guest_engine "${TESTS[@]}" || exit 0
fi
stack_start || exit 1

work=$(mktemp -d /tmp/sv-contain.XXXXXX)
on_exit "rm -rf '$work'"
# The process engine runs guests linked low; a build may name that kernel apart.
kernel=${CONTAINMENT_KERNEL:-$SV_GUEST/svkernel}
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
hvpid=$(cat "$SPLITVISOR_RUNDIR/hypervisor.pid")
# The host's default engine, as `xl info` names it (empty if it says none).
engine=$(xl info 2>/dev/null | awk '$1 == "engine" {print $3}')

# A process of ours for kill (signal 0) and ptrace to aim at: it must come
# out alive and untraced.
sleep 600 &
decoy=$!
on_exit "kill $decoy 2>/dev/null; wait $decoy 2>/dev/null"

# cfg NAME CMDLINE [extra lines...]: writes $work/NAME.cfg, prints its path.
cfg() {
	local name=$1 cmd=$2 l; shift 2
	{
		echo "name = \"$name\""
		echo "kernel = \"$kernel\""
		echo "memory = 16"
		echo "cmdline = \"$cmd\""
		for l in "$@"; do echo "$l"; done
	} > "$work/$name.cfg"
	echo "$work/$name.cfg"
}

gone() { ! xl list "$1" >/dev/null 2>&1; }
has_state() { xl list "$1" 2>/dev/null | awk -v n="$1" '$1 == n {print $5}' | grep -q -e "$2"; }
# The sv-runner processes the hypervisor started, sorted.
runners() { pgrep -x -P "$hvpid" sv-runner | sort; }
# The hypervisor's other children (there should be none a guest made).
others() { pgrep -P "$hvpid" | grep -vxF -f <(runners; echo x) | sort; }
# Lines after @2 in @1 (both sorted lists).
added() { comm -13 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | sed '/^$/d'; }
# A process that is no more: no /proc entry, or a zombie nobody reaped yet.
proc_gone() { [ ! -e "/proc/$1/stat" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]; }
all_gone() { local p; for p in "$@"; do proc_gone "$p" || return 1; done; }
crash_lines() { grep -E " d$1: crashed: " "$hvlog"; }

xl create -q "$(cfg bystander wait)" >/dev/null 2>&1
if ! wait_for 15 has_state bystander b; then
	fail "bystander guest does not boot"; xl list | sed 's/^/    /'
	tail -5 "$hvlog" | sed 's/^/    /'
	exit 1
fi

# crash_ok WAY CALL LINE PROCESS-ENGINE: whether LINE is the crash this
# case must end in; prints why not.  A "host system call" line must name the
# call's number and the way's ABI on any engine.  int $0x80 and sysenter
# never reach the host's system call table where the host kernel has no
# 32-bit entry (IA32 emulation off, as under PVM): the CPU's #GP on vector
# 0x80 or on an unset SYSENTER_CS, and AMD's #UD for sysenter in 64-bit
# mode, are what the engine sees then.
crash_ok() {
	local way=$1 call=$2 line=$3 proc=$4 nr abi
	if [ "$way" = syscall ]; then nr=${NR64[$call]} abi=x86_64; else nr=${NR32[$call]} abi=i386; fi
	if grep -q 'crashed: host system call' <<<"$line"; then
		grep -qE "crashed: host system call $nr \($abi\) denied\$" <<<"$line" && return 0
		echo "expected host system call $nr ($abi)"; return 1
	fi
	[ "$proc" = yes ] || return 0	# another engine: its own words for the fault
	case $way in
	int80) grep -qE 'crashed: unhandled #GP' <<<"$line" && return 0 ;;
	sysenter) grep -qE 'crashed: unhandled #(UD|GP)' <<<"$line" && return 0 ;;
	esac
	echo "expected 'host system call $nr ($abi) denied'"; return 1
}

# no_trace RUNNER MARKER OTHERS-BEFORE: the host shows nothing the call
# could have done; prints what it found.
no_trace() {
	local rpid=$1 marker=$2 before=$3 f l bad=0
	if [ -e "$marker" ]; then echo "marker $marker exists"; bad=1; fi
	if [ -n "$rpid" ] && ! proc_gone "$rpid"; then
		# Seen from the runner's root too, in case it has a mount namespace.
		if [ -e "/proc/$rpid/root$marker" ]; then echo "marker exists in the runner's root"; bad=1; fi
		if pgrep -P "$rpid" >/dev/null; then
			echo "the runner has children:"; pgrep -a -P "$rpid" | sed 's/^/  /'; bad=1
		fi
		for f in "/proc/$rpid/fd/"*; do
			[ -e "$f" ] || [ -L "$f" ] || continue
			l=$(readlink "$f") || continue
			case $l in
			*memfd:*) ;;
			*) echo "runner fd ${f##*/} -> $l"; bad=1 ;;
			esac
		done
	fi
	l=$(added "$before" "$(others)")
	if [ -n "$l" ]; then echo "new children of the hypervisor: $l"; bad=1; fi
	if ! kill -0 "$decoy" 2>/dev/null; then echo "decoy $decoy died"; bad=1
	elif ! grep -qx 'TracerPid:[[:space:]]*0' "/proc/$decoy/status"; then
		echo "decoy traced: $(grep TracerPid "/proc/$decoy/status")"; bad=1
	fi
	if ! wait_for 5 has_state bystander b; then echo "bystander not blocked: $(xl list bystander 2>&1 | tail -1)"; bad=1; fi
	if ! kill -0 "$hvpid" 2>/dev/null; then echo "hypervisor $hvpid died"; bad=1; fi
	return $bad
}

# ended ID NAME CALL: the case's guest crashed or its call returned.
ended() {
	crash_lines "$1" >/dev/null || has_state "$2" c ||
		grep -q "^hostile: $3 returned" "$SPLITVISOR_RUNDIR/console/guest-$2.log" 2>/dev/null
}

# run_case WAY CALL: one 16 MiB guest issues CALL the WAY way, kept on a
# crash (on_crash = "preserve") for a look at its runner, then destroyed.
run_case() {
	local way=$1 call=$2 t="hostile-$1-$2" name="h-$1-$2"
	local marker=$work/marker-$1-$2 clog=$SPLITVISOR_RUNDIR/console/guest-h-$1-$2.log
	local rs0 ob id rpid proc=no n line ret why=() msg
	rs0=$(runners); ob=$(others)
	if ! xl create -q -p "$(cfg "$name" "hostile-path=$marker hostile-pid=$decoy hostile-$way=$call" \
		'on_crash = "preserve"')" >/dev/null 2>&1; then
		fail "$t (xl create)"; return
	fi
	id=$(xl domid "$name")
	# Its runner: the one new sv-runner (found before it runs any guest code
	# if the engine starts it paused, else just after).
	rpid=$(added "$rs0" "$(runners)" | head -1)
	xl unpause "$name"
	[ -n "$rpid" ] || { sleep 0.2; rpid=$(added "$rs0" "$(runners)" | head -1); }
	[ -n "$rpid" ] && proc=yes
	[ "$engine" != process ] || [ -n "$rpid" ] || why+=("process engine, yet no new sv-runner")
	if ! wait_for 15 ended "$id" "$name" "$call"; then
		fail "$t (neither crashed nor returned in 15 s)"
		sed 's/^/    console: /' "$clog" 2>/dev/null | tail -5
		xl list "$name" 2>&1 | sed 's/^/    /'
		xl destroy "$name" >/dev/null 2>&1
		return
	fi
	sleep 0.5	# time for a second crash line, if one were coming
	n=$(crash_lines "$id" | wc -l)
	line=$(crash_lines "$id" | head -1 | sed 's/.* crashed: /crashed: /')
	ret=$(sed -n "s/^hostile: $call returned \(-\{0,1\}[0-9]*\).*/\1/p" "$clog" 2>/dev/null | head -1)
	if [ "$way" = syscall ]; then
		# A kernel-mode `syscall` is a hypercall (docs/pv-usermode.md).
		want=${HC_RET[$call]:--38}
		if [ "$n" -gt 0 ]; then
			why+=("$line: a kernel-mode syscall is a hypercall, $want expected")
		elif [ "$ret" != "$want" ]; then
			why+=("the call returned '$ret', not $want (hypercall $nr as Xen answers it)")
		else
			line="hypercall $call: $want"
		fi
	elif [ "$n" -gt 0 ]; then
		[ "$n" -eq 1 ] || why+=("$n crash lines for d$id")
		msg=$(crash_ok "$way" "$call" "$line" "$proc") || why+=("$line: $msg")
		[ -z "$ret" ] || why+=("crashed, yet the call returned $ret first")
	elif has_state "$name" c; then
		why+=("crashed without a 'd$id: crashed:' line")
	elif [ "$proc" = yes ]; then
		why+=("the process engine let the call return ($ret)")
	elif [ "$ret" -ge 0 ] 2>/dev/null; then
		why+=("the call succeeded: returned $ret")
	else
		line="returned $ret"
	fi
	if ! grep -q "^hostile: issuing $call via $way" "$clog" 2>/dev/null; then
		why+=("the guest never said it was issuing the call")
	fi
	msg=$(no_trace "$rpid" "$marker" "$ob") || why+=("$(tr '\n' ';' <<<"$msg")")
	if [ ${#why[@]} -eq 0 ]; then
		pass "$t ($line)"
	else
		fail "$t"; printf '    %s\n' "${why[@]}"
		tail -3 "$clog" 2>/dev/null | sed 's/^/    console: /'
	fi
	xl destroy "$name" >/dev/null 2>&1
	if ! wait_for 10 gone "$name" || { [ -n "$rpid" ] && ! wait_for 10 proc_gone "$rpid"; }; then
		fail "$t: destroy left the domain or its runner $rpid behind"
	fi
	rm -f "$marker"
}

for w in "${WAYS[@]}"; do
	for c in "${CALLS[@]}"; do run_case "$w" "$c"; done
done

# A guest spinning on its boot vCPU with a second vCPU brought up (smp),
# and one more spinning guest so both CPUs of a small host are busy: every
# thread of their runners is at nice 10 or more, and the toolstack and
# xenstored still answer (generous timeouts, no timing asserted).
rs0=$(runners)
xl create -q "$(cfg spin2 'smp spin=60000' 'vcpus = 2')" >/dev/null 2>&1
xl create -q "$(cfg spin1 'spin=60000')" >/dev/null 2>&1
wait_for 15 grep -q '^smp: ' "$SPLITVISOR_RUNDIR/console/guest-spin2.log"
spinning=$(added "$rs0" "$(runners)")
if ! has_state spin2 r || ! has_state spin1 r; then
	fail "spinning guests not running"; xl list | sed 's/^/    /'
fi
if [ -z "$spinning" ]; then
	skip "guest-threads-niced: no sv-runner for the spinning guests (not the process engine)"
else
	bad=""
	for p in $spinning; do
		for s in /proc/"$p"/task/*/stat; do
			nice=$(sed 's/.*) //' "$s" 2>/dev/null | awk '{print $17}')
			[ -n "$nice" ] || continue	# the thread ended
			[ "$nice" -ge 10 ] || bad+=" $p/$(basename "$(dirname "$s")"):nice=$nice"
		done
	done
	nthreads=$(for p in $spinning; do ls "/proc/$p/task"; done | wc -l)
	if [ -z "$bad" ] && [ "$nthreads" -ge 3 ]; then
		pass "guest-threads-niced ($nthreads threads)"
	else
		fail "guest-threads-niced ($nthreads threads:$bad)"
	fi
	# Where the host has a writable CPU cgroup (v2 with cpu, or v1's cpu
	# hierarchy), each runner is in one of its own with a reduced weight.
	hv=$(cat "$SPLITVISOR_RUNDIR/hypervisor.pid")
	if grep -q cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null ||
		[ -w /sys/fs/cgroup/cpu/cgroup.procs ]; then
		bad=""
		for p in $spinning; do
			grep -qE "(^0::|cpu[,a-z]*:)/splitvisor-$hv/guests/dom[0-9]+\$" "/proc/$p/cgroup" ||
				bad+=" $p:$(tr '\n' ' ' < "/proc/$p/cgroup")"
		done
		if [ -z "$bad" ]; then pass guest-cpu-cgroup; else fail "guest-cpu-cgroup:$bad"; fi
	else
		skip "guest-cpu-cgroup: no writable CPU cgroup on this host"
	fi
fi
if timeout 60 xl list >/dev/null 2>&1 &&
	timeout 60 xenstore-write /containment/spin alive >/dev/null 2>&1 &&
	[ "$(timeout 60 xenstore-read /containment/spin 2>/dev/null)" = alive ] &&
	has_state spin2 r; then
	pass host-responsive-while-spinning
else
	fail host-responsive-while-spinning; xl list 2>&1 | sed 's/^/    /'
fi
xl destroy spin2 >/dev/null 2>&1
xl destroy spin1 >/dev/null 2>&1
wait_for 10 gone spin2; wait_for 10 gone spin1

# kill -9 of the hypervisor: every runner it started dies with it (the
# supervisor then starts a new hypervisor).
xl create -q "$(cfg k1 wait)" >/dev/null 2>&1
xl create -q "$(cfg k2 wait)" >/dev/null 2>&1
wait_for 15 has_state k1 b; wait_for 15 has_state k2 b
doomed=$(runners)
if [ "$(wc -w <<<"$doomed")" -lt 2 ]; then
	skip "runners-die-with-hypervisor: no sv-runner per guest (not the process engine)"
	kill -9 "$hvpid"
else
	kill -9 "$hvpid"
	# shellcheck disable=SC2086 # one pid a word
	if wait_for 15 all_gone $doomed; then
		pass "runners-die-with-hypervisor ($(wc -w <<<"$doomed") runners)"
	else
		fail "runners-die-with-hypervisor"
		for p in $doomed; do proc_gone "$p" || ps -o pid,ppid,stat,comm -p "$p" | tail -1 | sed 's/^/    left: /'; done
	fi
fi
old=$hvpid
restarted() {
	local p
	p=$(cat "$SPLITVISOR_RUNDIR/hypervisor.pid" 2>/dev/null)
	[ -n "$p" ] && [ "$p" != "$old" ] && kill -0 "$p" && xl list
}
check supervisor-restarts-hypervisor wait_for 30 restarted
