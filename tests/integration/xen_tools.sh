#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's own, unmodified Xen 4.17 tools (xl, xenstore-ls, lsevtchn) on our stack, through
# our libxencall & co. (build/lib/xen, which Debian's xl must load in place of Xen's):
# the same facts as our xl for the same domains.
#
# The tools come from Debian's xen-utils-4.17 and libxenmisc4.17 packages,
# unpacked into the build tree by scripts/xen_debian.sh (dpkg-deb -x), not
# installed: installing xen-utils-4.17 pulls in xen-utils-common, systemd
# units and udev rules meant for a real Xen host.  When apt cannot fetch
# them, every test here is skipped with the reason.
cd "$(dirname "$0")/../.." || exit 1

TESTS=(xen-env xen-list xen-userdata xen-list-long xen-sched-credit xen-info xen-domid xen-domname xen-pause xen-unpause xen-vcpu-list
	xen-uptime xen-xentop xen-dmesg xen-xenstore-ls xen-lsevtchn xen-shutdown xen-destroy xen-bad-args xen-alive)
. tests/xen_lib.sh # its own mount namespace: private /var/lib/xen, /run/xen... (see there)
xen_begin || exit 0
stack_start || exit 1

xen_workdir xentools

cfg() {
	{
		echo "name = \"$1\""
		echo "kernel = \"$SV_GUEST/svkernel\""
		echo "memory = ${2:-32}"
		echo "vcpus = ${3:-1}"
		echo 'cmdline = "wait"'
	} > "$work/$1.cfg"
	echo "$work/$1.cfg"
}
blocked() { xl list "$1" 2>/dev/null | awk -v n="$1" '$1 == n {print $5}' | grep -q b; }
ready() { blocked "$1" && cons_has "$1" "wait: blocking until"; }

# ---- the environment splitvisor start printed ----
if [ -r "$LD_LIBRARY_PATH/libxencall.so.1" ] &&
	[ "$LD_LIBRARY_PATH" = "$(cd "$BUILD/lib/xen" && pwd)" ] &&
	[ -n "$XENSTORED_PATH" ] &&
	[ "$(LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$XD/usr/lib/x86_64-linux-gnu" \
		ldd "$XD/usr/lib/xen-4.17/bin/xl" |
		grep -cE "lib(xencall|xenevtchn|xengnttab|xenforeignmemory|xendevicemodel|xentoolcore)\.so\.1 => $LD_LIBRARY_PATH/")" -eq 6 ]; then
	pass "xen-env"
else
	fail "xen-env: LD_LIBRARY_PATH='$LD_LIBRARY_PATH' XENSTORED_PATH='$XENSTORED_PATH'"
fi

xl create -q "$(cfg xa 48 2)" >/dev/null 2>&1 && xl create -q "$(cfg xb 32 1)" >/dev/null 2>&1 &&
	xl create -q "$(cfg xc 32 1)" >/dev/null 2>&1 || { fail "create the guests"; exit 1; }
if ! wait_for 30 ready xa || ! wait_for 30 ready xb || ! wait_for 30 ready xc; then
	fail "guests xa, xb and xc came up"; xl list | sed 's/^/    /'; exit 1
fi
ida=$(xl domid xa); idb=$(xl domid xb); idc=$(xl domid xc)

# ---- xl list: every column but the running CPU time ----
# (Domain-0's time is the host's and moves between the two runs.)
list_cols() { awk 'NR > 1 {print $1, $2, $3, $4, $5}'; }
same_list() {
	dxl list > "$work/dlist" || return 1
	xl list > "$work/ourlist" || return 1
	[ "$(head -1 "$work/dlist")" = "$(head -1 "$work/ourlist")" ] &&
		[ "$(list_cols < "$work/dlist")" = "$(list_cols < "$work/ourlist")" ] &&
		[ ! -s "$work/err" ]
}
if wait_for 20 same_list && [ "$(wc -l < "$work/dlist")" -eq 5 ]; then
	pass "xen-list"
else
	fail "xen-list"; show "Debian's xl list" "$(cat "$work/dlist" "$work/err")"
	show "our xl list" "$(cat "$work/ourlist")"
fi

# ---- libxl's records of our domains (what Debian's xl list -l reads) ----
# Our xl create writes /var/lib/xen/userdata-d.DOMID.UUID.libxl-json, libxl's
# domain config JSON; Debian's libxl parses it (its "Fail to get domain
# configuration" is then for Domain-0 alone, which has none, as on Xen).
# Debian's xl list -l then asks each domain's scheduler parameters
# (/local/pool/0/name, XEN_DOMCTL_scheduler_op) and prints it.
record() { ls /var/lib/xen/userdata-d."$1".*.libxl-json 2>/dev/null; }
rec_ok() {
	local f; f=$(record "$1") && [ -n "$f" ] &&
		[ "$(jq -r '.c_info.name, .c_info.uuid, .b_info.target_memkb, .b_info.max_vcpus, (."b_info"|has("type.pv"))' "$f" | tr '\n' ' ')" = \
			"$2 $(xl list -l "$2" | jq -r '.[0].config.c_info.uuid') $3 $4 true " ] &&
		[ "$f" = "/var/lib/xen/userdata-d.$1.$(xl list -l "$2" | jq -r '.[0].config.c_info.uuid').libxl-json" ]
}
dxl list -l > "$work/dlistl"
if rec_ok "$ida" xa 49152 2 && rec_ok "$idb" xb 32768 1 && rec_ok "$idc" xc 32768 1 &&
	[ "$(grep -c 'Fail to get domain configuration' "$work/err")" -eq 1 ]; then
	pass "xen-userdata"
else
	fail "xen-userdata"; ls -l /var/lib/xen | sed 's/^/    /'; show "Debian's xl list -l" "$(cat "$work/dlistl" "$work/err")"
fi

# Debian's xl list -l: every guest, with the name, memory and vCPUs ours has.
long_of() { jq -r '.[] | "\(.domid) \(.config.c_info.name) \(.config.b_info.max_memkb) \(.config.b_info.max_vcpus)"' | sort; }
if [ "$(long_of < "$work/dlistl")" = "$(printf '%s\n' "$ida xa 49152 2" "$idb xb 32768 1" "$idc xc 32768 1" | sort)" ] &&
	[ "$(long_of < "$work/dlistl")" = "$(xl list -l | long_of)" ]; then
	pass "xen-list-long"
else
	fail "xen-list-long"; show "Debian's xl list -l" "$(cat "$work/dlistl" "$work/err")"
fi

# ---- xl sched-credit: the pool line and every domain's weight and cap, after ours set one ----
xl sched-credit -d xb -w 512 -c 50 >/dev/null
dxl sched-credit > "$work/dsched"; xl sched-credit > "$work/oursched"
if [ -s "$work/dsched" ] && cmp -s "$work/dsched" "$work/oursched" && grep -q '^xb .* 512 *50$' "$work/dsched" &&
	[ ! -s "$work/err" ]; then
	pass "xen-sched-credit"
else
	fail "xen-sched-credit"; show "Debian's" "$(cat "$work/dsched" "$work/err")"; show "ours" "$(cat "$work/oursched")"
fi
# Debian's xl sets it too; ours reads it back.
if dxl sched-credit -d xc -w 128 && xl sched-credit -d xc | grep -q '^xc .* 128 *0$'; then
	:
else
	fail "xen-sched-credit: Debian's xl sched-credit -d xc -w 128"; show "err" "$(cat "$work/err")"
fi

# ---- xl info: the host's facts and the Xen version ----
info_of() { awk -F' *: ' -v k="$2" '$1 == k {print $2}' "$1"; }
dxl info > "$work/dinfo"; xl info > "$work/ourinfo"
ok=1
for k in nr_cpus total_memory xen_major xen_minor xen_extra xen_version xen_caps virt_caps; do
	a=$(info_of "$work/dinfo" "$k"); b=$(info_of "$work/ourinfo" "$k")
	if [ -z "$a" ] || [ "$a" != "$b" ]; then
		ok=0; echo "    $k: Debian's '$a', ours '$b'"
	fi
done
a=$(info_of "$work/dinfo" cpu_mhz); b=$(info_of "$work/ourinfo" cpu_mhz)
[ "${a%%.*}" = "${b%%.*}" ] || { ok=0; echo "    cpu_mhz: Debian's '$a', ours '$b'"; }
[ "$(info_of "$work/dinfo" xen_scheduler)" = credit ] || { ok=0; echo "    xen_scheduler"; }
if [ "$ok" = 1 ] && [ ! -s "$work/err" ]; then
	pass "xen-info"
else
	fail "xen-info"; show "Debian's xl info" "$(cat "$work/dinfo" "$work/err")"
fi

# ---- xl domid / domname ----
if [ "$(dxl domid xa)" = "$ida" ] && [ "$(dxl domid xb)" = "$idb" ] &&
	[ "$(dxl domid Domain-0)" = 0 ]; then
	pass "xen-domid"
else
	fail "xen-domid: $(dxl domid xa) $(cat "$work/err")"
fi
if [ "$(dxl domname "$ida")" = xa ] && [ "$(dxl domname "$idb")" = xb ] &&
	[ "$(dxl domname 0)" = Domain-0 ]; then
	pass "xen-domname"
else
	fail "xen-domname: $(dxl domname "$ida") $(cat "$work/err")"
fi

# ---- pause / unpause, seen by our xl ----
state_of() { xl list "$1" | awk -v n="$1" '$1 == n {print $5}'; }
paused() { [[ $(state_of "$1") == *p* ]]; }
if dxl pause xa && paused xa && ! paused xb; then
	pass "xen-pause"
else
	fail "xen-pause: state $(state_of xa)"; show stderr "$(cat "$work/err")"
fi
if dxl unpause xa && ! paused xa && wait_for 20 blocked xa; then
	pass "xen-unpause"
else
	fail "xen-unpause: state $(state_of xa)"; show stderr "$(cat "$work/err")"
fi

# ---- xl vcpu-list: names, ids, vCPUs and hard affinity as ours ----
# (CPU, state and time move; soft affinity is "all" in both.)
vcpu_cols() { awk 'NR > 1 {print $1, $2, $3, $(NF - 2), $(NF - 1), $NF}'; }
dxl vcpu-list > "$work/dvcpu"; xl vcpu-list > "$work/ourvcpu"
if [ "$(vcpu_cols < "$work/dvcpu")" = "$(vcpu_cols < "$work/ourvcpu")" ] &&
	[ "$(grep -c '^xa ' "$work/dvcpu")" -eq 2 ] && [ ! -s "$work/err" ]; then
	pass "xen-vcpu-list"
else
	fail "xen-vcpu-list"; show "Debian's" "$(cat "$work/dvcpu" "$work/err")"
	show "ours" "$(cat "$work/ourvcpu")"
fi

# ---- xl uptime: the same domains ----
dxl uptime > "$work/dup"; xl uptime > "$work/ourup"
if [ "$(awk '{print $1, $2}' "$work/dup")" = "$(awk '{print $1, $2}' "$work/ourup")" ] &&
	[ "$(wc -l < "$work/dup")" -eq 5 ]; then
	pass "xen-uptime"
else
	fail "xen-uptime"; show "Debian's" "$(cat "$work/dup" "$work/err")"; show "ours" "$(cat "$work/ourup")"
fi

# ---- xentop -b -i 2: Debian's xentop through our libxenstat.so.4.17, as our xl top ----
# The second table of each, in domid order: name, state, memory, maxmem and
# vCPUs (MAXMEM is "no limit  n/a" for Domain-0: two words).  CPU times,
# percentages and device counters move between the two runs.
top_cols() {
	awk '$1 == "NAME" { n = 0; delete row; next }
		{ mx = $7; v = $9; if ($7 == "no") { mx = "nolimit"; v = $10 }
		  row[++n] = $1 " " $2 " " $5 " " mx " " v }
		END { for (i = 1; i <= n; i++) print row[i] }'
}
same_top() {
	dbin xentop -b -i 2 -d 1 > "$work/dtop" 2>&1 || return 1
	xl top -b -i 2 -d 1 > "$work/ourtop" 2>&1 || return 1
	[ "$(top_cols < "$work/dtop")" = "$(top_cols < "$work/ourtop")" ] &&
		[ "$(top_cols < "$work/dtop" | wc -l)" -eq 4 ]
}
if wait_for 60 same_top && [ "$(head -1 "$work/dtop")" = "$(head -1 "$work/ourtop")" ] &&
	top_cols < "$work/dtop" | grep -q "^xa --b--- 49152 49152 2$" &&
	top_cols < "$work/dtop" | grep -q "^Domain-0 -----r [0-9]* nolimit $(nproc)$"; then
	pass "xen-xentop"
else
	fail "xen-xentop"; show "Debian's xentop" "$(cat "$work/dtop")"; show "our xl top" "$(cat "$work/ourtop")"
fi

# ---- xl dmesg: the hypervisor's log ring, as our xl dmesg ----
dxl dmesg > "$work/dmesg"
if grep -q "listening on $SPLITVISOR_RUNDIR/hypervisor.sock" "$work/dmesg" &&
	grep -q "listening on" <(xl dmesg); then
	pass "xen-dmesg"
else
	fail "xen-dmesg"; show "Debian's" "$(head -5 "$work/dmesg"; cat "$work/err")"
fi

# ---- Debian's xenstore-ls: dom0's nodes the stack wrote, the guests' ours ----
out=$(xenstore-ls /local/domain 2>&1)
if grep -q '^ name = "Domain-0"' <<<"$out" && grep -q '^ name = "xa"' <<<"$out"; then
	pass "xen-xenstore-ls"
else
	fail "xen-xenstore-ls"; show out "$out"
fi

# ---- lsevtchn: the guest's ports to dom0 are dom0's ports back to it ----
# (pairs "guest-port dom0-port", as each side lists them)
dbin lsevtchn "$ida" > "$work/evg" 2>&1
dbin lsevtchn 0 > "$work/ev0" 2>&1
pairs_g=$(sed -nE 's/^ *([0-9]+): VCPU [0-9]+: Interdomain \(Connected\) - Remote Domain 0, Port ([0-9]+)$/\1 \2/p' "$work/evg" | sort)
pairs_0=$(sed -nE "s/^ *([0-9]+): VCPU [0-9]+: Interdomain \(Connected\) - Remote Domain $ida, Port ([0-9]+)\$/\2 \1/p" "$work/ev0" | sort)
if [ -n "$pairs_g" ] && [ "$pairs_g" = "$pairs_0" ] && grep -qE '^ *[0-9]+: VCPU [0-9]+: Virtual IRQ' "$work/evg"; then
	pass "xen-lsevtchn"
else
	fail "xen-lsevtchn"; show "lsevtchn $ida" "$(cat "$work/evg")"; show "lsevtchn 0" "$(cat "$work/ev0")"
fi

# ---- xl shutdown -w: libxl asks through control/shutdown, our guest powers off ----
gone_c() { ! xl list xc >/dev/null 2>&1; }
# (our xl's monitor removes libxl's records of the domain once it is gone)
no_record() { ! ls /var/lib/xen/userdata-?."$1".* >/dev/null 2>&1; }
if LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$XD/usr/lib/x86_64-linux-gnu" \
	timeout 120 "$XD/usr/lib/xen-4.17/bin/xl" shutdown -w xc >/dev/null 2>&1 && wait_for 20 gone_c &&
	cons_has xc "control: poweroff requested" &&
	grep -q "d$idc: shut down (poweroff)" "$SPLITVISOR_RUNDIR/hypervisor.log" &&
	wait_for 20 no_record "$idc"; then
	pass "xen-shutdown"
else
	fail "xen-shutdown"; xl list | sed 's/^/    /'; tail -3 "$SPLITVISOR_RUNDIR/console/guest-xc.log" | sed 's/^/    /'
fi

# ---- xl destroy ----
gone() { ! xl list xb >/dev/null 2>&1; }
if dxl destroy xb && wait_for 20 gone && xl list xa >/dev/null 2>&1 &&
	grep -q "d$idb: destroyed" "$SPLITVISOR_RUNDIR/hypervisor.log"; then
	pass "xen-destroy"
else
	fail "xen-destroy"; show stderr "$(cat "$work/err")"; xl list | sed 's/^/    /'
fi

# ---- bad requests change nothing ----
# (Xen 4.17's xl pause and unpause exit 0 whatever libxl said: the errno is
# in libxl's message.)
before=$(xl list | list_cols)
err_has() { grep -q "$1" "$work/err"; }
if { dxl pause 999; err_has 'Pausing domain: No such process'; } &&
	{ dxl pause 0; err_has 'Pausing domain: Invalid argument'; } &&
	{ dxl unpause 999; err_has 'unable to get domain type for domid=999'; } &&
	! dxl destroy 999 && ! dxl destroy 0 && ! dxl domid nosuch &&
	[ "$(xl list | list_cols)" = "$before" ]; then
	pass "xen-bad-args"
else
	fail "xen-bad-args"; xl list | sed 's/^/    /'
fi

# ---- after all that, the hypervisor still serves both tool sets ----
if dxl list xa >/dev/null && xl list xa >/dev/null && [ "$(dxl domid xa)" = "$ida" ]; then
	pass "xen-alive"
else
	fail "xen-alive"
fi

# ---- stopping the stack with xa still running: libxl's record of xa goes too ----
# (as xl destroy would remove it; a record of another stack's domain stays).
# xa's monitor (a forked `xl create`) would remove it when the domain dies:
# kill it first, so that only the stop can.
pkill -9 -f -- "xl create -q $work/xa.cfg"
touch /var/lib/xen/userdata-d.999.00000000-0000-0000-0000-000000000999.libxl-json
on_exit "rm -f /var/lib/xen/userdata-d.999.00000000-0000-0000-0000-000000000999.libxl-json"
# (xa's own record by its uuid: another stack on this host may have a domain $ida too)
rec_a=/var/lib/xen/userdata-d.$ida.$(xl list -l xa | jq -r '.[0].config.c_info.uuid').libxl-json
if [ -e "$rec_a" ] && xl list xa >/dev/null 2>&1 && splitvisor stop >/dev/null 2>&1 && [ ! -e "$rec_a" ] &&
	[ -e /var/lib/xen/userdata-d.999.00000000-0000-0000-0000-000000000999.libxl-json ] &&
	[ ! -e "$SPLITVISOR_RUNDIR/libxl-userdata" ]; then
	pass "xen-stop-removes-records"
else
	fail "xen-stop-removes-records"; ls -l /var/lib/xen "$SPLITVISOR_RUNDIR" "$SPLITVISOR_RUNDIR/libxl-userdata" | sed "s/^/    /"; tail -5 "$SPLITVISOR_RUNDIR/splitvisor.log" | sed "s/^/    /"
fi
