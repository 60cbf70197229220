#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xl vcpu-list, vcpu-pin and vcpu-set on the real stack, with a guest of
# vcpus=2 maxvcpus=3: Xen's columns field by field, pins seen in the host
# threads' real affinity and kept across hot-plug, vCPUs taken down and
# brought up by the guest (vcpu-list, xl list, its console), every bad
# argument refused with its message and status and nothing changed, and a
# hostile client of the control ops.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(vcpu-list-header vcpu-list-dom0 vcpu-list-columns vcpu-list-named vcpu-list-unknown
	vcpu-pin-one vcpu-pin-threads vcpu-pin-all vcpu-pin-bad-args vcpu-ctl-hostile
	vcpu-set-down vcpu-set-up vcpu-set-pin-kept vcpu-set-bad-args vcpu-set-guest-idle
	vcpu-cfg-cpus vcpu-cfg-cpus-bad)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

work=$(mktemp -d /tmp/sv-vcpu.XXXXXX)
on_exit "rm -rf '$work'"
ncpu=$(nproc)
engine=$(guest_engine)
hvpid=$(cat "$SPLITVISOR_RUNDIR/hypervisor.pid")
log=$SPLITVISOR_RUNDIR/console/guest-vc.log

cat > "$work/vc.cfg" <<EOF
name = "vc"
kernel = "$SV_GUEST/svkernel"
memory = 32
vcpus = 2
maxvcpus = 3
cmdline = "wait"
EOF

# Fields of xl list's row for a domain: VCPUs is the 4th.
vcpus_of() { xl list "$1" 2>/dev/null | awk -v n="$1" '$1 == n {print $4}'; }
online_is() { [ "$(vcpus_of "$1")" = "$2" ]; }
# Fixed columns of one vcpu-list row (Xen's "%-32s %5u %5u%5u %3c%c%c %9.1f  %s / %s"):
# name, id, vcpu, cpu, state, time, affinity.
fields() {
	awk '{ printf "%s|%s|%s|%s|%s|%s|%s\n", substr($0, 1, 32), substr($0, 34, 5),
		substr($0, 40, 5), substr($0, 45, 5), substr($0, 51, 5), substr($0, 57, 9),
		substr($0, 68) }' | sed 's/ *|/|/g; s/| */|/g'
}
row() { xl vcpu-list "$1" | tail -n +2 | fields | awk -F'|' -v v="$2" '$3 == v'; }
field() { row "$1" "$2" | cut -d'|' -f"$3"; }
affinities() { xl vcpu-list vc | tail -n +2 | fields | cut -d'|' -f3,7; }
console_count() { grep -c "^$1\$" "$log" 2>/dev/null; }
console_has() { [ "$(console_count "$1")" -ge "${2:-1}" ]; }

if ! xl create -q "$work/vc.cfg" >/dev/null 2>&1 ||
	! wait_for 30 console_has 'cpuhotplug: vcpu 1 online' || ! wait_for 10 online_is vc 2; then
	for t in "${TESTS[@]}"; do fail "$t (guest vc did not come up with 2 vCPUs)"; done
	sed 's/^/    /' "$log" 2>/dev/null | tail -20
	exit 1
fi
domid=$(xl domid vc)

# Host threads that run the guest's vCPUs, by affinity: the runner's (process
# engine) and the hypervisor's own vCPU threads.
runner_pid() { sed -n "s/.*create 'vc': runner \([0-9]*\) ready.*/\1/p" "$SPLITVISOR_RUNDIR/hypervisor.log" | tail -1; }
threads_with() { # PID AFFINITY: how many threads of PID may run on exactly AFFINITY
	local n=0 t
	for t in /proc/"$1"/task/*; do
		[ "$(awk '/^Cpus_allowed_list/ {print $2}' "$t/status" 2>/dev/null)" = "$2" ] && n=$((n + 1))
	done
	echo $n
}
host_all=$(awk '/^Cpus_allowed_list/ {print $2}' "/proc/$hvpid/status")

# vcpu-list: Xen 4.17's header, Domain-0's rows first (one per host CPU), then the guest's.
out=$(xl vcpu-list 2>&1)
want=$(printf '%-32s %5s %5s %5s %5s %9s %s' Name ID VCPU CPU State 'Time(s)' 'Affinity (Hard / Soft)')
check vcpu-list-header test "$(head -1 <<<"$out")" = "$want"
d0=$(tail -n +2 <<<"$out" | fields | head -n "$ncpu")
ok=1
for ((i = 0; i < ncpu; i++)); do
	r=$(sed -n "$((i + 1))p" <<<"$d0")
	[[ $r =~ ^Domain-0\|0\|$i\|$i\|r--\|[0-9]+\.[0-9]\|all\ /\ all$ ]] || { ok=0; echo "    row $i: $r"; }
done
[ "$ok" = 1 ] && pass vcpu-list-dom0 || fail vcpu-list-dom0

ok=1
for v in 0 1; do
	r=$(tail -n +2 <<<"$out" | fields | awk -F'|' -v d="$domid" -v v=$v '$1 == "vc" && $2 == d && $3 == v')
	IFS='|' read -r n id vv cpu st tm aff <<<"$r"
	[[ $cpu =~ ^[0-9]+$ ]] && [ "$cpu" -lt "$ncpu" ] && [[ $st =~ ^(r--|-b-|---)$ ]] &&
		[[ $tm =~ ^[0-9]+\.[0-9]$ ]] && [ "$aff" = "all / all" ] || { ok=0; echo "    vcpu $v: $r"; }
done
r=$(tail -n +2 <<<"$out" | fields | awk -F'|' '$1 == "vc" && $3 == 2')
[ "$r" = "vc|$domid|2|-|--p|0.0|all / all" ] || { ok=0; echo "    vcpu 2: $r"; }
# The raw line, character for character where nothing varies.
raw=$(grep '^vc ' <<<"$out" | sed -n 3p)
[ "$raw" = "$(printf '%-32s %5u %5u%5c %3c%c%c %9.1f  %s' vc "$domid" 2 - - - p 0 'all / all')" ] ||
	{ ok=0; echo "    raw: '$raw'"; }
[ "$ok" = 1 ] && pass vcpu-list-columns || { fail vcpu-list-columns; echo "$out" | sed 's/^/    /'; }

a=$(xl vcpu-list vc | tail -n +2 | fields | cut -d'|' -f1-3 | tr '\n' ' ')
b=$(xl vcpu-list Domain-0 "$domid" | tail -n +2 | fields | cut -d'|' -f1 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
check vcpu-list-named test "$a|$b" = "vc|$domid|0 vc|$domid|1 vc|$domid|2 |Domain-0=$ncpu vc=3 "

err=$(xl vcpu-list nope 2>&1 >/dev/null); rc=$?
check vcpu-list-unknown test "$rc:$err" = "1:xl: domain 'nope' does not exist"

# vcpu-pin: one vCPU to the last host CPU; vcpu-list and the threads say so.
last=$((ncpu - 1))
before=$(affinities)
if xl vcpu-pin vc 1 "$last" && [ "$(field vc 1 7)" = "$last / all" ] &&
	[ "$(field vc 0 7)" = "all / all" ] && [ "$(field vc 1 4)" = "$last" ]; then
	pass vcpu-pin-one
else
	fail vcpu-pin-one; xl vcpu-list vc | sed 's/^/    /'
fi
if [ "$ncpu" = 1 ]; then
	skip "vcpu-pin-threads: a host of one CPU cannot tell a pin from none"
elif [ "$engine" = process ]; then
	# The runner's thread for vCPU 1 and the hypervisor's, and no other.
	check vcpu-pin-threads test "$(threads_with "$(runner_pid)" "$last"):$(threads_with "$hvpid" "$last")" = "1:1"
else
	check vcpu-pin-threads test "$(threads_with "$hvpid" "$last")" = 1
fi

# vcpu-pin all, with a range and an exclusion; back to all.
if xl vcpu-pin vc all "0-$last,^$last,0" && [ "$(affinities | cut -d'|' -f2 | sort -u)" = "0 / all" ] &&
	{ [ "$engine" != process ] || [ "$(threads_with "$(runner_pid)" 0)" = 3 ]; } &&
	xl vcpu-pin -f vc all all - && [ "$(affinities | cut -d'|' -f2 | sort -u)" = "all / all" ] &&
	{ [ "$engine" != process ] || [ "$(threads_with "$(runner_pid)" "$host_all")" = 3 ]; }; then
	pass vcpu-pin-all
else
	fail vcpu-pin-all; xl vcpu-list vc | sed 's/^/    /'
fi

# Each bad argument: its message, its status, and every affinity as it was.
xl vcpu-pin vc 1 "$last" >/dev/null 2>&1
before=$(affinities)
ok=1
bad_pin() { # STATUS MESSAGE ARGS...
	local want_rc=$1 want_msg=$2 e rc; shift 2
	e=$(xl vcpu-pin "$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" != "$want_rc" ] || [[ $e != *"$want_msg"* ]] || [ "$(wc -l <<<"$e")" != 1 ] ||
		[ "$(affinities)" != "$before" ]; then
		ok=0; echo "    xl vcpu-pin $*: status $rc, '$e'"
	fi
}
bad_pin 1 "xl: domain 'nope' does not exist" nope 0 0
bad_pin 1 "xl: domain 999 does not exist" 999 0 0
bad_pin 1 "xl: vcpu-pin: vcpu 3 out of range (domain 'vc' has 3 vCPUs)" vc 3 0
bad_pin 1 "xl: vcpu-pin: vcpu 4294967295 out of range" vc 4294967295 0
bad_pin 1 "xl: vcpu-pin: invalid argument 'x' as VCPU" vc x 0
bad_pin 1 "xl: vcpu-pin: invalid argument '-1' as VCPU" vc -1 0
bad_pin 1 "xl: vcpu-pin: cpu $ncpu out of range (host has $ncpu CPU" vc 0 "$ncpu"
bad_pin 1 "xl: vcpu-pin: cpu 99 out of range" vc all 0,99
bad_pin 1 "xl: vcpu-pin: invalid CPU range '1-0'" vc 0 1-0
bad_pin 1 "xl: vcpu-pin: empty CPU list" vc 0 ''
bad_pin 1 "xl: vcpu-pin: '^0' leaves no CPU" vc 0 '^0'
bad_pin 1 "xl: vcpu-pin: can't combine" vc 0 '^all'
bad_pin 1 "xl: vcpu-pin: soft affinity: cpu 99 out of range" vc 0 0 99
[ "$ncpu" -gt 1 ] && bad_pin 1 "xl: vcpu-pin: soft affinity '0' is not supported" vc 0 0 0
bad_pin 1 "xl: vcpu-pin: Domain-0 is the host" Domain-0 0 0
bad_pin 2 "usage: xl vcpu-pin" vc 0
bad_pin 2 "usage: xl vcpu-pin" vc 0 0 all all
bad_pin 2 "usage: xl vcpu-pin" -z vc 0 0
[ "$ok" = 1 ] && pass vcpu-pin-bad-args || fail vcpu-pin-bad-args

# The control ops themselves, from a hostile client; the hypervisor carries on.
out=$("$BUILD/tests/vcpu-ctl-hostile" "$domid" "$ncpu" 2>&1); rc=$?
if [ "$rc" = 0 ] && [ "$(affinities)" = "$before" ] && xl list vc >/dev/null; then
	pass vcpu-ctl-hostile
else
	fail vcpu-ctl-hostile; echo "$out" | grep -v '^ok' | sed 's/^/    /'
fi

# vcpu-set down: the guest takes vCPU 1 down; vcpu-list, xl list and its console say so.
err=$(xl vcpu-set vc 1 2>&1); rc=$?
if [ "$rc" = 0 ] && [ -z "$err" ] && [ "$(vcpus_of vc)" = 1 ] &&
	[ "$(field vc 1 4)|$(field vc 1 5)" = "-|--p" ] && [ "$(field vc 0 5)" != "--p" ] &&
	wait_for 10 console_has 'cpuhotplug: vcpu 1 offline' &&
	[ "$(xenstore-read "/local/domain/$domid/cpu/1/availability")" = offline ]; then
	pass vcpu-set-down
else
	fail vcpu-set-down; echo "    status $rc: $err"; xl vcpu-list vc | sed 's/^/    /'
fi

# vcpu-set up again (and to the maximum, past the host's CPUs with -i).
if xl vcpu-set vc 2 && [ "$(vcpus_of vc)" = 2 ] && [ "$(field vc 1 5)" != "--p" ] &&
	wait_for 10 console_has 'cpuhotplug: vcpu 1 online' 2 &&
	xl vcpu-set -i vc 3 && [ "$(vcpus_of vc)" = 3 ] && [ "$(field vc 2 5)" != "--p" ] &&
	wait_for 10 console_has 'cpuhotplug: vcpu 2 online' &&
	xl vcpu-set vc 2 && [ "$(vcpus_of vc)" = 2 ] && [ "$(field vc 2 5)" = "--p" ]; then
	pass vcpu-set-up
else
	fail vcpu-set-up; xl vcpu-list vc | sed 's/^/    /'; tail -5 "$log" | sed 's/^/    /'
fi

# A pin made while a vCPU is offline holds once it is up.
if xl vcpu-pin vc 2 0 && xl vcpu-set -i vc 3 && [ "$(field vc 2 7)" = "0 / all" ] &&
	[ "$(field vc 2 4)" = 0 ] &&
	{ [ "$engine" != process ] || [ "$ncpu" = 1 ] || [ "$(threads_with "$(runner_pid)" 0)" = 1 ]; } &&
	xl vcpu-set vc 2; then
	pass vcpu-set-pin-kept
else
	fail vcpu-set-pin-kept; xl vcpu-list vc | sed 's/^/    /'
fi

# Each bad argument: message, status, and the online count and keys as they were.
keys() { xenstore-ls "/local/domain/$domid/cpu" 2>&1 | tr -s ' \n' ' '; }
kbefore=$(keys)
ok=1
bad_set() { # STATUS MESSAGE ARGS...
	local want_rc=$1 want_msg=$2 e rc; shift 2
	e=$(xl vcpu-set "$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" != "$want_rc" ] || [[ $e != *"$want_msg"* ]] || [ "$(wc -l <<<"$e")" != 1 ] ||
		[ "$(vcpus_of vc)" != 2 ] || [ "$(keys)" != "$kbefore" ]; then
		ok=0; echo "    xl vcpu-set $*: status $rc, '$e'"
	fi
}
bad_set 1 "xl: vcpu-set: requested 0 VCPUs" vc 0
bad_set 1 "xl: vcpu-set: requested 4 VCPUs, however maxcpus is 3" vc 4
bad_set 1 "xl: vcpu-set: requested 4 VCPUs, however maxcpus is 3" -i vc 4
bad_set 1 "xl: domain 'nope' does not exist" nope 1
bad_set 1 "xl: vcpu-set: invalid argument 'x' as vCPU count" vc x
bad_set 1 "xl: vcpu-set: invalid argument '-1' as vCPU count" vc -1
bad_set 1 "xl: vcpu-set: Domain-0 is the host" Domain-0 1
[ "$ncpu" -lt 3 ] && bad_set 1 "xl: vcpu-set: you are overcommitting! You have $ncpu physical CPUs and want 3 vCPUs" vc 3
bad_set 2 "usage: xl vcpu-set" vc
bad_set 2 "usage: xl vcpu-set" vc 1 2
[ "$ok" = 1 ] && pass vcpu-set-bad-args || fail vcpu-set-bad-args

# A guest that does not act (paused): a clear error after the bounded wait;
# once it runs again it takes the request.
xl pause vc
err=$(xl vcpu-set vc 1 2>&1); rc=$?
xl unpause vc
if [ "$rc" = 1 ] && [[ $err == "xl: vcpu-set: domain 'vc' has 2 vCPUs online, not 1, after "*" s: the guest did not act on cpu/N/availability" ]] &&
	wait_for 20 online_is vc 1; then
	pass vcpu-set-guest-idle
else
	fail vcpu-set-guest-idle; echo "    status $rc: $err"
fi

xl destroy vc

# cpus= in the config: every vCPU pinned before it runs; a CPU the host
# lacks fails the create and leaves no domain.
{
	echo 'name = "vp"'
	echo "kernel = \"$SV_GUEST/svkernel\""
	echo 'memory = 32'
	echo 'vcpus = 2'
	echo "cpus = \"$last\""
	echo 'cmdline = "wait"'
} > "$work/vp.cfg"
if xl create -q "$work/vp.cfg" >/dev/null 2>&1 && wait_for 20 online_is vp 2 &&
	[ "$(xl vcpu-list vp | tail -n +2 | fields | cut -d'|' -f3,7 | tr '\n' ' ')" = "0|$last / all 1|$last / all " ]; then
	pass vcpu-cfg-cpus
else
	fail vcpu-cfg-cpus; xl vcpu-list vp 2>&1 | sed 's/^/    /'
fi
xl destroy vp >/dev/null 2>&1
sed -i "s/^name = .*/name = \"vb\"/; s/^cpus = .*/cpus = \"0,$ncpu\"/" "$work/vp.cfg"
err=$(xl create -q "$work/vp.cfg" 2>&1); rc=$?
check vcpu-cfg-cpus-bad test "$rc|$err|$(xl list vb 2>/dev/null | grep -c '^vb ')" = \
	"1|xl: cannot create 'vb': cpus = \"0,$ncpu\": cpu $ncpu out of range (host has $ncpu CPU$([ "$ncpu" = 1 ] || echo s))|0"
