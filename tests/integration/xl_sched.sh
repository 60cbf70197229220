#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xl sched-credit and the host cgroups behind it: Xen 4.17's output column
# by column; -w/-c and the config's cpu_weight/cap reach the domain's cgroup
# files as mapped values (weight 256 -> cpu.shares 1024 / cpu.weight 100, cap
# -> a CFS quota over 100 ms); the domain's runner (process engine) or vCPU
# threads (KVM) are in its group; bad arguments say why, exit non-zero and
# change nothing; a capped spinning guest stays under its cap; the group
# goes with the domain, the stack's tree with the stack.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(sched-list sched-list-columns sched-one-domain sched-config-keys sched-set-files
	sched-set-keeps-other sched-membership sched-memory-limit sched-bad-args
	sched-bad-config sched-hostile-ctl sched-cap-enforced sched-destroy-removes sched-stack-removes)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

work=$(mktemp -d /tmp/sv-sched.XXXXXX)
on_exit "rm -rf '$work'"
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
hvpid=$(cat "$SPLITVISOR_RUNDIR/hypervisor.pid")
engine=$(guest_engine)

# The hypervisor says where domains' groups are: "cgroups: vN, domains run in DIR/guests/dom<N>".
cgline=$(grep -m1 'cgroups: v[12], domains run in ' "$hvlog")
cgver=$(sed -n 's/.*cgroups: v\([12]\), domains run in .*/\1/p' <<<"$cgline")
cgbase=$(sed -n 's/.*domains run in \(.*\)\/guests\/dom<N>.*/\1/p' <<<"$cgline")
memdir=$(sed -n 's/.*, memory in \(.*\)$/\1/p' <<<"$cgline")
[ "$cgver" = 2 ] && memdir=$cgbase
# v2 with the memory controller off leaves no memory.max to find; treated as none.
[ "$cgver" = 2 ] && ! grep -qw memory "$cgbase/guests/cgroup.subtree_control" 2>/dev/null && memdir=

# domdir ID: the domain's group in the CPU hierarchy.
domdir() {
	if [ "$cgver" = 2 ] && [ "$engine" = kvm ]; then
		echo "$cgbase/hv/guests/dom$1"
	else
		echo "$cgbase/guests/dom$1"
	fi
}
# The group's threads (v1 tasks, v2 cgroup.threads).
group_tids() { cat "$1/tasks" 2>/dev/null || cat "$1/cgroup.threads" 2>/dev/null; }
# What the cgroup files of domain ID say, as "weight-file-value cap-value".
cgvals() {
	local d; d=$(domdir "$1")
	if [ "$cgver" = 1 ]; then
		echo "$(cat "$d/cpu.shares") $(cat "$d/cpu.cfs_quota_us") $(cat "$d/cpu.cfs_period_us")"
	else
		echo "$(cat "$d/cpu.weight") $(cat "$d/cpu.max")"
	fi
}
# expect_vals ID WEIGHT CAP: the files hold the mapping of WEIGHT and CAP.
expect_vals() {
	local want q=$(($3 * 1000))
	if [ "$cgver" = 1 ]; then
		[ "$3" = 0 ] && q=-1
		want="$(($2 * 4)) $q 100000"
	else
		local w=$((($2 * 100 + 128) / 256))
		[ $w -lt 1 ] && w=1; [ $w -gt 10000 ] && w=10000
		[ "$3" = 0 ] && q=max
		want="$w $q 100000"
	fi
	[ "$(cgvals "$1")" = "$want" ] || { echo "domain $1: files '$(cgvals "$1")', want '$want'"; return 1; }
}
# row NAME: the sched-credit row of NAME as "id weight cap".
row() { xl sched-credit | awk -v n="$1" '$1 == n { print $2, $3, $4 }'; }

cfg() {
	local name=$1 cmd=$2 l; shift 2
	{
		echo "name = \"$name\""
		echo "kernel = \"$SV_GUEST/svkernel\""
		echo "memory = 32"
		echo "cmdline = \"$cmd\""
		for l in "$@"; do echo "$l"; done
	} > "$work/$name.cfg"
	echo "$work/$name.cfg"
}

xl create -q "$(cfg sa 'spin=600000')" >/dev/null 2>&1 || fail "create sa"
xl create -q "$(cfg sb 'spin=600000' 'vcpus = 2' 'cpu_weight = 512' 'cap = 150')" >/dev/null 2>&1 ||
	fail "create sb"
on_exit "xl destroy sa >/dev/null 2>&1; xl destroy sb >/dev/null 2>&1"
ida=$(xl domid sa) idb=$(xl domid sb)

# --- output ---
out=$(xl sched-credit)
hdr=$(printf '%-33s %4s %6s %4s' Name ID Weight Cap)
if [ "$(sed -n 1p <<<"$out")" = "Cpupool Pool-0: tslice=30ms ratelimit=1000us migration-delay=0us" ] &&
	[ "$(sed -n 2p <<<"$out")" = "$hdr" ] && [ "$(wc -l <<<"$out")" = 5 ]; then
	pass sched-list
else
	fail sched-list; sed 's/^/    /' <<<"$out"
fi
want=$(printf '%-33s %4d %6d %4d\n' Domain-0 0 256 0 sa "$ida" 256 0 sb "$idb" 512 150)
if [ "$(sed -n '3,$p' <<<"$out")" = "$want" ]; then
	pass sched-list-columns
else
	fail sched-list-columns; diff <(echo "$want") <(sed -n '3,$p' <<<"$out") | sed 's/^/    /'
fi
out=$(xl sched-credit -d sa)
want=$(printf '%s\n%-33s %4d %6d %4d' "$hdr" sa "$ida" 256 0)
out0=$(xl sched-credit -d Domain-0)
want0=$(printf '%s\n%-33s %4d %6d %4d' "$hdr" Domain-0 0 256 0)
if [ "$out" = "$want" ] && [ "$out0" = "$want0" ] &&
	[ "$(xl sched-credit -s)" = "Cpupool Pool-0: tslice=30ms ratelimit=1000us migration-delay=0us" ]; then
	pass sched-one-domain
else
	fail sched-one-domain; printf '%s\n%s\n' "$out" "$out0" | sed 's/^/    /'
fi

# --- setting, and the files behind it ---
if [ -z "$cgver" ]; then
	for t in sched-config-keys sched-set-files sched-set-keeps-other sched-membership \
		sched-memory-limit sched-cap-enforced sched-destroy-removes sched-stack-removes; do
		skip "$t: the hypervisor found no writable CPU cgroup ($(grep -m1 'cgroups:' "$hvlog"))"
	done
	cgok=false
else
	cgok=true
fi
if $cgok; then
	check sched-config-keys expect_vals "$idb" 512 150
	xl sched-credit -d sa -w 512 -c 25 && [ "$(row sa)" = "$ida 512 25" ] &&
		expect_vals "$ida" 512 25 >"$work/set.out" 2>&1 && pass sched-set-files ||
		{ fail sched-set-files; sed 's/^/    /' "$work/set.out"; row sa | sed 's/^/    /'; }
	ok=true
	xl sched-credit -d sa -w 1000 && [ "$(row sa)" = "$ida 1000 25" ] && expect_vals "$ida" 1000 25 || ok=false
	xl sched-credit -d sa -c 0 && [ "$(row sa)" = "$ida 1000 0" ] && expect_vals "$ida" 1000 0 || ok=false
	xl sched-credit -d "$ida" -w 512 -c 25 && [ "$(row sa)" = "$ida 512 25" ] || ok=false
	if $ok; then pass sched-set-keeps-other; else fail sched-set-keeps-other; fi

	# Membership: what runs the vCPUs is in the domain's group, and nothing else is.
	d=$(domdir "$ida")
	bad=""
	if [ "$engine" = process ]; then
		pids=$(cat "$d/cgroup.procs")
		[ "$(wc -w <<<"$pids")" = 1 ] || bad+=" procs='$pids'"
		for p in $pids; do
			[ "$(cat "/proc/$p/comm")" = sv-runner ] || bad+=" $p:not-a-runner"
			[ "$(awk '/^PPid:/ {print $2}' "/proc/$p/status")" = "$hvpid" ] || bad+=" $p:parent"
			grep -qE "(^0::|cpu[,a-z]*:)/(.*/)?splitvisor-$hvpid/guests/dom$ida\$" "/proc/$p/cgroup" ||
				bad+=" $p:$(tr '\n' ' ' < "/proc/$p/cgroup")"
		done
	else
		tids=$(group_tids "$d")
		[ "$(wc -w <<<"$tids")" -ge 1 ] || bad+=" no threads"
		for t in $tids; do [ -e "/proc/$hvpid/task/$t" ] || bad+=" $t:not-ours"; done
	fi
	if [ -z "$bad" ]; then pass sched-membership; else fail "sched-membership:$bad"; fi

	# The memory limit of a process-engine runner: guest RAM plus a margin.
	if [ "$engine" != process ]; then
		skip "sched-memory-limit: KVM vCPU threads share the hypervisor's memory"
	elif [ -z "$memdir" ]; then
		skip "sched-memory-limit: no writable memory hierarchy ($(grep -m1 'memory' "$hvlog" || echo none))"
	else
		md=$memdir/guests/dom$ida
		lim=$(cat "$md/memory.limit_in_bytes" 2>/dev/null || cat "$md/memory.max")
		p=$(head -n1 "$d/cgroup.procs")
		if [ "$lim" -ge $((32 << 20)) ] && [ "$lim" -le $(((32 << 20) + (64 << 20))) ] &&
			grep -q "$(basename "$md")\$" <(grep -E '(^0::|memory:)' "/proc/$p/cgroup"); then
			pass "sched-memory-limit ($((lim >> 20)) MiB for 32 MiB)"
		else
			fail "sched-memory-limit: limit '$lim', runner $p in $(grep -E '(^0::|memory:)' "/proc/$p/cgroup")"
		fi
	fi
fi

# --- bad arguments: a message, an exit status, nothing changed ---
before=$(xl sched-credit)
$cgok && files=$(cgvals "$ida")
bad=""
# try STATUS MESSAGE-REGEX ARGS...
try() {
	local want=$1 msg=$2 st; shift 2
	xl sched-credit "$@" >"$work/o" 2>"$work/e"; st=$?
	[ "$st" = "$want" ] || bad+=" [$*: exit $st, want $want]"
	grep -qE "^xl: $msg" "$work/e" || bad+=" [$*: '$(cat "$work/e")']"
	[ "$(xl sched-credit)" = "$before" ] || bad+=" [$*: changed the list]"
	if $cgok && [ "$(cgvals "$ida")" != "$files" ]; then bad+=" [$*: changed the files]"; fi
}
try 1 "domain 'nosuch' does not exist" -d nosuch -w 300
try 1 "domain 999 does not exist" -d 999 -c 10
try 1 "Cpu weight out of range, valid values are within range from 1 to 65535" -d sa -w 0
try 1 "Cpu weight out of range" -d sa -w 65536
try 1 "Cpu weight out of range" -d sa -w -5
try 1 "Cpu cap out of range, valid range is from 0 to 100 for specified number of vcpus" -d sa -c 101
try 1 "Cpu cap out of range, valid range is from 0 to 100 " -d sa -c -1
try 1 "Cpu cap out of range, valid range is from 0 to 200 " -d sb -c 201
try 1 "Cpu weight out of range" -d sa -w 0 -c 10
try 2 "invalid weight 'lots'" -d sa -w lots
try 2 "invalid cap '1e3'" -d sa -c 1e3
try 2 "Must specify a domain" -w 300
try 2 "Specifying a cpupool or schedparam is not allowed" -s -d sa
try 2 "usage: xl sched-credit" -d sa extra
try 1 "Domain-0's scheduling parameters cannot be changed" -d Domain-0 -w 300
if [ -z "$bad" ]; then pass sched-bad-args; else fail "sched-bad-args:$bad"; fi

# Config keys out of range: refused before any domain exists.
bad=""
for kv in "cpu_weight = 0" "cpu_weight = 65536" "cap = 101" "cap = -1"; do
	c=$(cfg badcfg 'halt' "$kv")
	if xl create -q "$c" >/dev/null 2>"$work/e"; then bad+=" [$kv: created]"; fi
	grep -qE "(cpu_weight|cap)" "$work/e" || bad+=" [$kv: '$(cat "$work/e")']"
	xl domid badcfg >/dev/null 2>&1 && { bad+=" [$kv: domain exists]"; xl destroy badcfg; }
done
if [ -z "$bad" ]; then pass sched-bad-config; else fail "sched-bad-config:$bad"; fi

# The hypervisor's own checks, below xl: raw SCHED_GET/SET requests with
# bad values answer -errno and change nothing. Op numbers come from the header.
out=$(python3 - "$SPLITVISOR_RUNDIR/hypervisor.sock" include/sv/ctl.h "$ida" <<'PY' 2>&1
import re, socket, struct, sys
sock, hdr, ida = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3])
body = hdr[hdr.index("enum sv_ctl_op {"):hdr.index("SV_CTL_OP_MAX")]
body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
ops = re.findall(r"\b(SV_CTL_[A-Z0-9_]+)\b", body)
num = {n: i + 1 for i, n in enumerate(ops)}
s = socket.socket(socket.AF_UNIX); s.connect(sock)
def call(op, payload):
    s.sendall(struct.pack("<IIiIII", num[op] if isinstance(op, str) else op, len(payload), 0, 7, 0, 0) + payload)
    h = b""
    while len(h) < 24: h += s.recv(24 - len(h))
    _, n, st, _, _, _ = struct.unpack("<IIiIII", h)
    data = b""
    while len(data) < n: data += s.recv(n - len(data))
    return st, data
def get(d):
    st, data = call("SV_CTL_SCHED_GET", struct.pack("<II", d, 0))
    return st, struct.unpack("<IIII", data)[1:3] if st == 0 else None
before = get(ida)
cases = [((ida, 0, 0), -22), ((ida, 65536, 0), -22), ((ida, 0xFFFFFFFF, 0), -22),
         ((ida, 256, 101), -22), ((ida, 256, 0xFFFFFFFF), -22), ((0, 256, 0), -1),
         ((5000, 256, 0), -3), ((0xFFFFFFFF, 256, 0), -3), ((1023, 256, 0), -3)]
bad = []
for (d, w, c), want in cases:
    st, _ = call("SV_CTL_SCHED_SET", struct.pack("<IIII", d, w, c, 0))
    if st != want: bad.append("set %s: %d, want %d" % ((d, w, c), st, want))
st, _ = call("SV_CTL_SCHED_SET", struct.pack("<III", ida, 256, 0))   # short
if st != -22: bad.append("short set: %d" % st)
for d, want in ((0xFFFFFFFF, -3), (5000, -3)):
    st, _ = get(d)
    if st != want: bad.append("get %d: %d" % (d, st))
if get(0) != (0, (256, 0)): bad.append("dom0 reads %s" % (get(0),))
if get(ida) != before: bad.append("changed: %s -> %s" % (before, get(ida)))
print("; ".join(bad) if bad else "ok")
PY
)
$cgok && [ "$(cgvals "$ida")" != "$files" ] && out+=" (files changed)"
if [ "$out" = ok ]; then pass sched-hostile-ctl; else fail "sched-hostile-ctl: $out"; fi

# --- behaviour: a guest spinning with cap 25 uses at most ~40% of a CPU ---
# The cap only ever lowers what it gets, so a loaded host cannot fail this.
group_cpu_ns() {
	local t s=0 v
	for t in $(group_tids "$1"); do
		v=$(cut -d' ' -f1 "/proc/$t/schedstat" 2>/dev/null) && s=$((s + v))
	done
	echo "$s"
}
if $cgok; then
	xl sched-credit -d sa -w 256 -c 25
	d=$(domdir "$ida")
	sleep 0.5
	c0=$(group_cpu_ns "$d") t0=$(date +%s%N)
	sleep 4
	c1=$(group_cpu_ns "$d") t1=$(date +%s%N)
	share=$(awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.3f", c / t }')
	if [ "$((c1 - c0))" -gt 0 ] && awk -v s="$share" 'BEGIN { exit !(s <= 0.40) }'; then
		pass "sched-cap-enforced (cap 25: $share of a CPU over 4 s)"
	else
		fail "sched-cap-enforced: cap 25 used $share of a CPU (cpu ns $c0 -> $c1)"
	fi

	# --- the group goes with its domain, the tree with the stack ---
	da=$(domdir "$ida") ma=${memdir:+$memdir/guests/dom$ida}
	xl destroy sa
	if wait_for 20 test ! -e "$da" && { [ -z "$ma" ] || wait_for 20 test ! -e "$ma"; } &&
		[ -d "$(domdir "$idb")" ]; then
		pass sched-destroy-removes
	else
		fail "sched-destroy-removes: $(ls -d "$da" "$ma" 2>&1 | tr '\n' ' ')"
	fi
	xl destroy sb
	stackdir=$cgbase stackmem=$memdir
	splitvisor stop >/dev/null 2>&1
	if [ ! -e "$stackdir" ] && { [ -z "$stackmem" ] || [ ! -e "$stackmem" ]; }; then
		pass sched-stack-removes
	else
		fail "sched-stack-removes: $(find "$stackdir" $stackmem -maxdepth 3 -type d 2>&1 | tr '\n' ' ')"
	fi
fi
