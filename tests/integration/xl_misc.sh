#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xl's small commands against the bundled guest, in Xen 4.17's formats:
# uptime, dmesg [-c], top -b, list -v, rename, sysrq, trigger, create -n;
# and their bad arguments (message, exit status, nothing changed).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(xl-uptime xl-uptime-short xl-uptime-bad xl-list-verbose xl-dmesg xl-dmesg-clear
	xl-top-batch xl-top-terminal xl-top-vbds xl-top-bad xl-rename xl-rename-bad xl-rename-reboot xl-sysrq-keys
	xl-sysrq-bad xl-sysrq-poweroff xl-sysrq-crash xl-trigger-nmi xl-trigger-bad
	xl-create-dryrun xl-create-dryrun-bad)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

work=$(mktemp -d /tmp/sv-xlmisc.XXXXXX)
on_exit "rm -rf '$work'"
on_exit "for d in \$(xl list 2>/dev/null | awk 'NR > 2 {print \$1}'); do xl destroy \$d; done >/dev/null 2>&1"

# cfg NAME [EXTRA LINES...]: a config for the bundled guest that waits to be stopped.
cfg() {
	local name=$1; shift
	{
		echo "name = \"$name\""
		echo "kernel = \"$SV_GUEST/svkernel\""
		echo "memory = 32"
		echo 'cmdline = "wait"'
		printf '%s\n' "$@"
	} > "$work/$name.cfg"
	echo "$work/$name.cfg"
}
conlog() { echo "$SPLITVISOR_RUNDIR/console/guest-$1.log"; }
in_console() { grep -qF -- "$2" "$(conlog "$1")"; }
console_count() { grep -cF -- "$2" "$(conlog "$1")" 2>/dev/null; }
blocked() { xl list "$1" 2>/dev/null | awk -v n="$1" '$1 == n {print $5}' | grep -q b; }
gone() { ! xl list "$1" >/dev/null 2>&1; }
domid_of() { xl domid "$1" 2>/dev/null; }
# The guest is up and has its watches: its wait loop reports the first wake.
ready() { blocked "$1" && in_console "$1" "wait: blocking until"; }
# show NAME: what to print when a check fails.
show() { echo "    --- $1"; printf '%s\n' "$2" | sed 's/^/    /'; }

# expect_error NAME STATUS REGEX CMD...: CMD fails with STATUS, one "xl: " line
# matching REGEX on stderr, nothing on stdout.
expect_error() {
	local name=$1 want=$2 re=$3; shift 3
	local out err rc
	out=$("$@" 2>"$work/err"); rc=$?
	err=$(cat "$work/err")
	if [ "$rc" -eq "$want" ] && [ -z "$out" ] && [ "$(wc -l <<<"$err")" -eq 1 ] &&
		grep -qE "^xl: $re" <<<"$err"; then
		return 0
	fi
	echo "    $name: '$*' exited $rc (wanted $want)"; show stdout "$out"; show stderr "$err"
	return 1
}

xl create -q "$(cfg xa)" >/dev/null 2>&1 && xl create -q "$(cfg xb)" >/dev/null 2>&1 ||
	{ fail "create the guests"; exit 1; }
if ! wait_for 30 ready xa || ! wait_for 30 ready xb; then
	fail "guests xa and xb came up"; xl list | sed 's/^/    /'; exit 1
fi
ida=$(domid_of xa); idb=$(domid_of xb)

# ---- uptime ----
out=$(xl uptime)
re_up='( ?[0-9]+ days?, )?[ 0-9][0-9]:[0-9]{2}:[0-9]{2}'
uuid_a=$(xl list -v xa | awk 'NR == 2 {print $7}')
st=$(xenstore-read "/vm/$uuid_a/start_time" 2>/dev/null)
if [ "$(sed -n 1p <<<"$out")" = "Name                                ID Uptime" ] &&
	grep -qE "^$(printf '%-33s %4s' Domain-0 0) $re_up\$" <<<"$out" &&
	grep -qE "^$(printf '%-33s %4s' xa "$ida")  0:0[0-9]:[0-9]{2}\$" <<<"$out" &&
	grep -qE "^$(printf '%-33s %4s' xb "$idb")  0:0[0-9]:[0-9]{2}\$" <<<"$out" &&
	[ "$(wc -l <<<"$out")" -eq 4 ] && [[ $st =~ ^[0-9]+\.[0-9]{2}$ ]] &&
	[ "$(xl uptime xb | tail -1 | awk '{print $1, $2}')" = "xb $idb" ]; then
	pass xl-uptime
else
	fail xl-uptime; show "xl uptime" "$out"; echo "    start_time '$st'"
fi

out=$(xl uptime -s xa 0)
if grep -qE "^ [0-9]{2}:[0-9]{2}:[0-9]{2} up  0:0[0-9], xa \($ida\)\$" <<<"$(sed -n 1p <<<"$out")" &&
	grep -qE "^ [0-9]{2}:[0-9]{2}:[0-9]{2} up ([0-9]+ days?, )?[ 0-9][0-9]:[0-9]{2}, Domain-0 \(0\)\$" \
		<<<"$(sed -n 2p <<<"$out")" && [ "$(wc -l <<<"$out")" -eq 2 ]; then
	pass xl-uptime-short
else
	fail xl-uptime-short; show "xl uptime -s xa 0" "$out"
fi

if expect_error xl-uptime-bad 1 "domain 'nosuch' does not exist" xl uptime xa nosuch &&
	expect_error xl-uptime-bad 2 "usage: xl uptime" xl uptime -x; then
	pass xl-uptime-bad
else
	fail xl-uptime-bad
fi

# ---- list -v ----
out=$(xl list -v)
hdr=$'Name                                        ID   Mem VCPUs\tState\tTime(s)   UUID                            Reason-Code\tSecurity Label'
row=$(grep '^xa ' <<<"$out")
vm=$(xenstore-read "/local/domain/$ida/vm" 2>/dev/null)
if [ "$(sed -n 1p <<<"$out")" = "$hdr" ] &&
	[[ $row =~ ^xa\ {39}\ {1,5}$ida\ +32\ +1\ {5}-b----\ +[0-9]+\.[0-9]\ ([0-9a-f-]{36})\ {8}-\ {16}-$ ]] &&
	[ "/vm/${BASH_REMATCH[1]}" = "$vm" ] &&
	grep -qE '^Domain-0 .* 00000000-0000-0000-0000-000000000000        -                -$' <<<"$out"; then
	pass xl-list-verbose
else
	fail xl-list-verbose; show "xl list -v" "$out"; echo "    vm path $vm"
fi

# ---- dmesg ----
out=$(xl dmesg)
if grep -qE "^[0-9-]{10}T[0-9:]{8}Z hypervisor: d$ida: created 'xa', 32768 KiB" <<<"$out" &&
	grep -qE "d$idb: created 'xb'" <<<"$out" && grep -q 'listening on' <<<"$out"; then
	pass xl-dmesg
else
	fail xl-dmesg; show "xl dmesg" "$(tail -20 <<<"$out")"
fi

cleared=$(xl dmesg -c); after=$(xl dmesg)
xl pause xb && xl unpause xb   # quiet operations; then something that logs
xl rename xb xb2 >/dev/null 2>&1 && xl rename xb2 xb >/dev/null 2>&1
later=$(xl dmesg)
if grep -q "d$ida: created 'xa'" <<<"$cleared" && ! grep -q "created 'xa'" <<<"$after" &&
	! grep -q "created 'xa'" <<<"$later" && grep -q "renamed 'xb' to 'xb2'" <<<"$later" &&
	[ "$(grep -c 'listening on' <<<"$later")" -eq 0 ] && xl dmesg -c >/dev/null &&
	expect_error xl-dmesg-clear 2 "usage: xl dmesg" xl dmesg -x; then
	pass xl-dmesg-clear
else
	fail xl-dmesg-clear; show "after -c" "$after"; show "later" "$later"
fi

# ---- top ----
out=$(xl top -b -i 2 -d 0.2)
thdr="      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS NETTX(k) NETRX(k) VBDS   VBD_OO   VBD_RD   VBD_WR  VBD_RSECT  VBD_WSECT SSID"
# NAME STATE CPU(sec) CPU(%) MEM(k) MEM(%) MAXMEM(k) MAXMEM(%) VCPUS NETS NETTX NETRX VBDS OO RD WR RSECT WSECT SSID
re_xa='^ {8}xa --b--- +[0-9]+ +[0-9]+\.[0-9] +32768 +[0-9]+\.[0-9] +32768 +[0-9]+\.[0-9] +1 +0 +0 +0 +0 +0 +0 +0 +0 +0 +0$'
re_d0='^  Domain-0 -----r +[0-9]+ +[0-9]+\.[0-9] +[0-9]+ +100\.0 +no limit +n/a +[0-9]+ +0 +0 +0 +0 +0 +0 +0 +0 +0 +0$'
first=$(sed -n 1,4p <<<"$out"); second=$(sed -n 5,8p <<<"$out")
if [ "$(wc -l <<<"$out")" -eq 8 ] && [ "$(grep -cxF "$thdr" <<<"$out")" -eq 2 ] &&
	[ "$(sed -n 1p <<<"$out")" = "$thdr" ] && [ "$(sed -n 5p <<<"$out")" = "$thdr" ] &&
	grep -qE "$re_xa" <<<"$first" && grep -qE "$re_xa" <<<"$second" &&
	grep -qE "$re_d0" <<<"$first" && grep -qE "^ {8}xb " <<<"$second" &&
	[ "$(grep -E '^ {8}xa ' <<<"$first" | awk '{print $4}')" = "0.0" ] &&
	[ "$(sed -n 2p <<<"$out" | awk '{print $1}')" = "Domain-0" ]; then
	pass xl-top-batch
else
	fail xl-top-batch; show "xl top -b -i 2 -d 0.2" "$out"
fi

# On a terminal: xentop's summary above the table, redrawn until q (sent at once: it waits in the tty).
if ! command -v script >/dev/null; then
	skip "xl-top-terminal: no script(1) to give it a terminal"
else
	out=$(printf q | timeout 60 script -qec "xl top -d 0.2" /dev/null 2>&1); rc=$?
	out=$(tr -d '\r' <<<"$out")
	if [ $rc -eq 0 ] && grep -qE '^(q)?.\[H.\[2Jxentop - [0-9]{2}:[0-9]{2}:[0-9]{2}   Xen 4\.17' <<<"$out" &&
		grep -qE '^[0-9]+ domains: [0-9]+ running, [0-9]+ blocked, [0-9]+ paused, 0 crashed, 0 dying, 0 shutdown $' <<<"$out" &&
		grep -qE '^Mem: [0-9]+k total, [0-9]+k used, [0-9]+k free    CPUs: [0-9]+ @ [0-9]+MHz$' <<<"$out" &&
		grep -qxF "$thdr" <<<"$out" && grep -qE "$re_xa" <<<"$out"; then
		pass xl-top-terminal
	else
		fail xl-top-terminal; show "xl top on a terminal (exit $rc)" "$(cat -v <<<"$out")"
	fi
fi

# VBDS counts the backend's directories of the domain (blkback's request counts are of live rings).
truncate -s 8M "$work/top.img"
xl create -q "$(cfg xd "disk = [ '$work/top.img,raw,xvda,rw', '$work/top.img,raw,xvdb,r' ]")" \
	>/dev/null 2>&1 && wait_for 30 ready xd
out=$(xl top -b -i 1 -f)
re_xd='^ {8}xd --b--- +[0-9]+ +[0-9]+\.[0-9] +32768 +[0-9]+\.[0-9] +32768 +[0-9]+\.[0-9] +1 +0 +0 +0 +2 +0 +[0-9]+ +[0-9]+ +0 +0 +0$'
if grep -qE "$re_xd" <<<"$out"; then
	pass xl-top-vbds
else
	fail xl-top-vbds; show "xl top -b -i 1 -f" "$out"
fi
xl destroy xd >/dev/null 2>&1

if expect_error xl-top-bad 2 "invalid number of iterations '0'" xl top -b -i 0 &&
	expect_error xl-top-bad 2 "invalid delay 'soon'" xl top -b -d soon &&
	expect_error xl-top-bad 2 "usage: xl top" xl top -b extra; then
	pass xl-top-bad
else
	fail xl-top-bad
fi

# ---- rename ----
# Bad arguments first: each leaves both names where they were.
names_ok() {
	[ "$(domid_of xa)" = "$ida" ] && [ "$(domid_of xb)" = "$idb" ] &&
		[ "$(xenstore-read /local/domain/$ida/name)" = xa ] &&
		[ "$(xenstore-read /local/domain/$idb/name)" = xb ] &&
		[ "$(xenstore-read "$(xenstore-read /local/domain/$ida/vm)/name")" = xa ]
}
if expect_error xl-rename-bad 1 "cannot rename domain 'xa': a domain named 'xb' already exists" \
		xl rename xa xb &&
	expect_error xl-rename-bad 1 "cannot rename domain 'xa': the name 'a/b' may only contain" \
		xl rename xa a/b &&
	expect_error xl-rename-bad 1 "cannot rename domain 'xa': the name '123' may not be all digits" \
		xl rename xa 123 &&
	expect_error xl-rename-bad 1 "cannot rename domain 'xa': the name 'Domain-0'" \
		xl rename xa Domain-0 &&
	expect_error xl-rename-bad 1 "cannot rename domain 'xa': the name '$(printf 'n%.0s' {1..64})' is longer" \
		xl rename xa "$(printf 'n%.0s' {1..64})" &&
	expect_error xl-rename-bad 1 "domain 'nosuch' does not exist" xl rename nosuch fresh &&
	expect_error xl-rename-bad 2 "usage: xl rename" xl rename xa &&
	names_ok; then
	pass xl-rename-bad
else
	fail xl-rename-bad; xl list | sed 's/^/    /'
fi

vm_a=$(xenstore-read /local/domain/$ida/vm)
if xl rename xa xr && [ "$(domid_of xr)" = "$ida" ] && gone xa &&
	xl list | grep -qE "^xr +$ida " &&
	[ "$(xenstore-read /local/domain/$ida/name)" = xr ] &&
	[ "$(xenstore-read "$vm_a/name")" = xr ] &&
	xl rename xr xr && [ "$(domid_of xr)" = "$ida" ] &&
	xl sysrq xr h && wait_for 20 in_console xa "sysrq: HELP :" &&
	xl destroy xr && wait_for 10 gone xr && ! xenstore-exists "$vm_a" 2>/dev/null; then
	pass xl-rename
else
	fail xl-rename; xl list | sed 's/^/    /'
fi

# The monitor restarts a renamed domain under its new name (on_reboot = restart).
if xl rename xb xb-new && xl sysrq xb-new b && wait_for 20 in_console xb "sysrq: Resetting" &&
	wait_for 30 eval '[ -n "$(domid_of xb-new)" ] && [ "$(domid_of xb-new)" != "$idb" ]' &&
	gone xb; then
	pass xl-rename-reboot
else
	fail xl-rename-reboot; xl list | sed 's/^/    /'
	tail -5 "$SPLITVISOR_RUNDIR/xl-xb.log" 2>/dev/null | sed 's/^/    /'
fi
xl destroy xb-new >/dev/null 2>&1

# ---- sysrq ----
xl create -q "$(cfg xs)" >/dev/null 2>&1 && wait_for 30 ready xs
ids=$(domid_of xs)
sysrq_seen() { xl sysrq xs "$1" && wait_for 20 in_console xs "$2" &&
	wait_for 10 eval '[ -z "$(xenstore-read /local/domain/'"$ids"'/control/sysrq)" ]'; }
if [ -n "$ids" ] && sysrq_seen h "sysrq: HELP : reboot(b) crash(c)" &&
	sysrq_seen m "sysrq: Show Memory" && in_console xs "memory: 8192 pages (32768 KiB)" &&
	sysrq_seen t "sysrq: Show State" && in_console xs "vcpu 0: running" &&
	sysrq_seen x "sysrq: unknown key 'x' (h for help)" && blocked xs; then
	pass xl-sysrq-keys
else
	fail xl-sysrq-keys; tail -15 "$(conlog xs)" 2>/dev/null | sed 's/^/    /'
fi

if expect_error xl-sysrq-bad 1 "sysrq must be just a single character, not 'hh'" xl sysrq xs hh &&
	expect_error xl-sysrq-bad 1 "sysrq must be just a single character, not ''" xl sysrq xs '' &&
	expect_error xl-sysrq-bad 1 "domain 'nosuch' does not exist" xl sysrq nosuch h &&
	expect_error xl-sysrq-bad 2 "usage: xl sysrq" xl sysrq xs &&
	[ -z "$(xenstore-read /local/domain/$ids/control/sysrq)" ] &&
	[ "$(console_count xs 'sysrq: HELP')" -eq 1 ] && blocked xs; then
	pass xl-sysrq-bad
else
	fail xl-sysrq-bad
fi

# o: poweroff (on_poweroff = destroy); c: crash (on_crash = destroy, logged as a crash).
if xl sysrq xs o && wait_for 20 in_console xs "sysrq: Power Off" && wait_for 30 gone xs &&
	xl dmesg | grep -q "d$ids: shut down (poweroff)"; then
	pass xl-sysrq-poweroff
else
	fail xl-sysrq-poweroff; xl list | sed 's/^/    /'
fi

xl create -q "$(cfg xc)" >/dev/null 2>&1 && wait_for 30 ready xc
idc=$(domid_of xc)
if [ -n "$idc" ] && xl sysrq xc c && wait_for 20 in_console xc "sysrq: Trigger a crash" &&
	wait_for 30 gone xc && xl dmesg | grep -q "d$idc: shut down (crash)"; then
	pass xl-sysrq-crash
else
	fail xl-sysrq-crash; xl list | sed 's/^/    /'
fi

# ---- trigger ----
xl create -q "$(cfg xn)" >/dev/null 2>&1 && wait_for 30 ready xn
if xl trigger xn nmi && wait_for 20 in_console xn "nmi: NMI received on vCPU 0 (1 so far)" &&
	xl trigger xn nmi 0 && wait_for 20 in_console xn "nmi: NMI received on vCPU 0 (2 so far)" &&
	wait_for 10 blocked xn; then
	pass xl-trigger-nmi
else
	fail xl-trigger-nmi; tail -10 "$(conlog xn)" 2>/dev/null | sed 's/^/    /'
fi

ok=true
for t in reset init power sleep s3resume; do
	expect_error xl-trigger-bad 1 "cannot send trigger '$t' to domain 'xn': it acts on HVM guests only" \
		xl trigger xn $t || ok=false
done
if $ok && expect_error xl-trigger-bad 1 "invalid trigger 'frob'" xl trigger xn frob &&
	expect_error xl-trigger-bad 1 "cannot send trigger 'nmi' to domain 'xn': it has no vCPU 1" \
		xl trigger xn nmi 1 &&
	expect_error xl-trigger-bad 1 "invalid vCPU 'one'" xl trigger xn nmi one &&
	expect_error xl-trigger-bad 1 "domain 'nosuch' does not exist" xl trigger nosuch nmi &&
	expect_error xl-trigger-bad 2 "usage: xl trigger" xl trigger xn &&
	sleep 0.5 && [ "$(console_count xn 'nmi: NMI received')" -eq 2 ] && blocked xn; then
	pass xl-trigger-bad
else
	fail xl-trigger-bad
fi
xl destroy xn >/dev/null 2>&1

# ---- create -n ----
before=$(xl list | wc -l)
img="$work/d.img"; truncate -s 8M "$img"
out=$(xl create -n "$(cfg dry "disk = [ '$img,raw,xvda,rw' ]" 'on_crash = "preserve"')" memory=48 2>"$work/err")
rc=$?
if [ $rc -eq 0 ] && [ "$(jq -r '.c_info.name, .c_info.type, .b_info.max_memkb, .b_info.target_memkb,
		.b_info.max_vcpus, (.b_info.avail_vcpus | length), .disks[0].pdev_path, .disks[0].vdev,
		.disks[0].readwrite, (.nics | length), .on_poweroff, .on_reboot, .on_crash,
		.b_info.cmdline' <<<"$out" | tr '\n' ' ')" = \
		"dry pv 49152 49152 1 1 $img xvda 1 0 destroy restart preserve wait " ] &&
	[[ $(jq -r .c_info.uuid <<<"$out") =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] &&
	[ "$(xl list | wc -l)" -eq "$before" ] && gone dry &&
	grep -qx "Parsing config from $work/dry.cfg" "$work/err"; then
	pass xl-create-dryrun
else
	fail xl-create-dryrun; show stdout "$out"; show stderr "$(cat "$work/err")"
fi

# A bad config fails as xl create fails, with the same message.
cfg bad 'memory = "lots"' >/dev/null
xl create -q "$work/bad.cfg" >/dev/null 2>"$work/real"; real_rc=$?
if expect_error xl-create-dryrun-bad 1 ".*memory" xl create -q -n "$work/bad.cfg" &&
	[ $real_rc -eq 1 ] && diff -q "$work/err" "$work/real" >/dev/null &&
	expect_error xl-create-dryrun-bad 1 "kernel '/nonexistent'" \
		xl create -q -n "$(cfg bad2)" 'kernel="/nonexistent"' &&
	[ "$(xl list | wc -l)" -eq "$before" ]; then
	pass xl-create-dryrun-bad
else
	fail xl-create-dryrun-bad; show "dry run" "$(cat "$work/err")"; show "create" "$(cat "$work/real")"
fi
