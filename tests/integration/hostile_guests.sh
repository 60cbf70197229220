#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The adversarial suite: an honest guest with a disk and a vif works round
# after round (write and read back a block, read xenstore, answer pings)
# while hostile guests, each with a disk and a vif of its own, break every
# ring protocol in each known way (the hostile-* words of the guest kernel,
# docs/guest-kernel.md).  After each word: the honest guest's disk, network
# and xenstore still work, every dom0 daemon is the same process, a word that
# broke its ring cost that guest its own device only (a line in the backend's
# log naming the domain), and once the hostile guest is destroyed no mapping
# or fd it cost dom0 is left.  A network namespace and bridge are made here
# and removed on exit.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

# WORD:EXPECT.  EXPECT "lost-blk"/"lost-net" when the backend must disable the
# hostile device (and log it naming the domain), "kept-blk"/"kept-net" when it
# must keep serving it, "rate-io"/"rate-ring" when the console rate limit must
# be hit (logged naming the domain), "quota" when xenstored must refuse the
# domain (logged), "any" when only the common checks apply.
WORDS=(
	hostile-blk=prod-back:lost-blk
	hostile-blk=prod-ahead:lost-blk
	hostile-blk=nsegs:lost-blk
	hostile-blk=sect-range:lost-blk
	hostile-blk=indirect-segs:lost-blk
	hostile-blk=same-gref,8:kept-blk
	hostile-blk=revoke:any
	hostile-net=prod-back:lost-net
	hostile-net=prod-ahead:lost-net
	hostile-net=chain-endless:lost-net
	hostile-net=chain-long:lost-net
	hostile-net=size-big:lost-net
	hostile-net=same-gref,10:kept-net
	hostile-net=rx-prod-ahead:lost-net
	hostile-net=rx-prod-back:lost-net
	hostile-evtchn=5:any
	hostile-console=io,5:rate-io
	hostile-console=ring,5:rate-ring
	hostile-console=ring-prod:lost-console
	hostile-xs=requests,5:quota
	hostile-xs=watches,5:quota
	hostile-xs=transactions,5:quota
	hostile-xs=noread,5:quota
	hostile-xs=quiet,10:unheard
)
TESTS=(honest-guest-up)
for w in "${WORDS[@]}"; do TESTS+=("${w%%:*}"); done
TESTS+=(honest-never-failed no-leaks-at-end)
need_guest_engine "${TESTS[@]}" || exit 0
kernel=$SV_GUEST/svkernel
if ! grep -aq 'hostile-blk' "$kernel"; then
	for t in "${TESTS[@]}"; do skip "$t: the guest kernel has no hostile-blk word"; done
	exit 0
fi
if ! command -v ip >/dev/null || [ ! -c /dev/net/tun ] || ! command -v ping >/dev/null ||
	! command -v xenstore-read >/dev/null; then
	for t in "${TESTS[@]}"; do skip "$t: needs iproute2, iputils-ping, xenstore-read and /dev/net/tun"; done
	exit 0
fi

netns_start svthg svthb
stack_start || exit 1
work=$(mktemp -d /tmp/sv-hostile.XXXXXX)
on_exit "rm -rf '$work'"
clog() { echo "$SPLITVISOR_RUNDIR/console/guest-$1.log"; }

# guest NAME IP MAC DISK CMDLINE: a guest with one disk and one vif on $BR.
guest() {
	cat > "$work/$1.cfg" <<EOC
name = "$1"
kernel = "$kernel"
memory = 32
cmdline = "$5"
disk = [ 'format=raw, vdev=xvda, access=rw, target=$4' ]
vif = [ 'mac=$3, bridge=$BR, ip=$2' ]
EOC
	xl create "$work/$1.cfg" >/dev/null 2>&1
}

# The dom0 daemons, by name, from the supervisor's status file.
DAEMONS=(hypervisor xenstored xenconsoled blkback netback)
dpid() { awk -v n="$1" '$1 == "service" && $2 == n { print $4 }' "$SPLITVISOR_RUNDIR/splitvisor.status"; }
nmaps() { wc -l < "/proc/$1/maps" 2>/dev/null || echo 0; }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

truncate -s 32M "$work/honest.img"
truncate -s 32M "$work/hostile.img"
HONEST=honest$tag
guest "$HONEST" 192.0.2.2 00:16:3e:00:bb:02 "$work/honest.img" "honest=3600" ||
	{ fail "create the honest guest"; exit 1; }
on_exit "xl destroy '$HONEST' >/dev/null 2>&1"
hlog=$(clog "$HONEST")
wait_for 10 nsx ip link show "$BR" || { fail "bridge $BR never appeared"; exit 1; }
nsx ip addr add 192.0.2.1/24 dev "$BR"
nsx ip link set "$BR" up
hdom=$(xl domid "$HONEST")

# The last round the honest guest reported, 0 before the first.
round() { sed -n 's/^honest: round \([0-9]*\) ok.*/\1/p' "$hlog" | tail -n 1 | grep . || echo 0; }
round_past() { [ "$(round)" -ge "$1" ]; }
honest_ok() {
	local r0 why=""
	r0=$(round)
	# Disk and xenstore, from inside: three more rounds (each a block written
	# and read back, and a xenstore read).  No speed is asserted: 60 s is ages.
	wait_for 60 round_past $((r0 + 3)) || why+=" disk/xenstore rounds stuck at $(round) (was $r0);"
	wait_for 30 nsx ping -c1 -W2 192.0.2.2 || why+=" no ping reply from the honest guest;"
	[ "$(timeout 30 xenstore-read "/local/domain/$hdom/name" 2>/dev/null)" = "$HONEST" ] ||
		why+=" dom0 cannot read its xenstore name;"
	! grep -q '^honest: .*FAIL' "$hlog" || why+=" $(grep '^honest: .*FAIL' "$hlog" | tail -n 1);"
	printf '%s' "$why"
}

if wait_for 60 round_past 3 && wait_for 30 nsx ping -c1 -W2 192.0.2.2; then
	pass honest-guest-up
else
	fail honest-guest-up; tail -n 5 "$hlog" | sed 's/^/    /'
	exit 1
fi

# What each daemon holds with the honest guest alone: the reference for leaks.
declare -A PID MAPS FDS
for d in "${DAEMONS[@]}"; do
	PID[$d]=$(dpid "$d")
	MAPS[$d]=$(nmaps "${PID[$d]}")
	FDS[$d]=$(nfds "${PID[$d]}")
done
# Back to the reference, give or take a few (allocator arenas, a log reopened).
no_leaks() {
	local d
	for d in "${DAEMONS[@]}"; do
		[ "$(nmaps "${PID[$d]}")" -le $((MAPS[$d] + 24)) ] || return 1
		[ "$(nfds "${PID[$d]}")" -le $((FDS[$d] + 2)) ] || return 1
	done
}
leak_report() {
	local d
	for d in "${DAEMONS[@]}"; do
		printf '%s: maps %s (was %s) fds %s (was %s); ' "$d" "$(nmaps "${PID[$d]}")" \
			"${MAPS[$d]}" "$(nfds "${PID[$d]}")" "${FDS[$d]}"
	done
}
# logged DAEMON PATTERN: PATTERN in what DAEMON logged since the word began
# (the daemons log after the guest says it is done: callers wait_for it).
declare -A LOGAT
logged() { tail -n +"$((LOGAT[$1] + 1))" "$SPLITVISOR_RUNDIR/$1.log" | grep -q -- "$2"; }
daemons_same() {
	local d why=""
	for d in "${DAEMONS[@]}"; do
		if [ "$(dpid "$d")" != "${PID[$d]}" ] || ! kill -0 "${PID[$d]}" 2>/dev/null; then
			why+=" $d (pid ${PID[$d]}) died or was restarted;"
		fi
	done
	printf '%s' "$why"
}

i=0
for entry in "${WORDS[@]}"; do
	word=${entry%%:*} expect=${entry##*:}
	i=$((i + 1))
	name=h$i$tag
	why=""
	for d in "${DAEMONS[@]}"; do LOGAT[$d]=$(wc -l < "$SPLITVISOR_RUNDIR/$d.log"); done
	way=${word#*=}; way=${way%%,*}
	if ! guest "$name" 192.0.2.3 00:16:3e:00:bb:03 "$work/hostile.img" "$word wait"; then
		fail "$word (xl create failed)"
		continue
	fi
	dom=$(xl domid "$name" 2>/dev/null)
	log=$(clog "$name")
	wait_for 180 grep -Eq "^hostile-[a-z]+: ($way: )?done" "$log" || why+=" the word never said it was done;"
	why+=$(honest_ok)
	why+=$(daemons_same)
	# Only the hostile guest's own device may go, and the backend says which.
	case $expect in
	lost-blk)
		wait_for 30 logged blkback "vbd $dom/51712 .*frontend broke the protocol" ||
			why+=" blkback logged no broken ring for domain $dom;" ;;
	lost-net)
		wait_for 30 logged netback "(domain $dom, device 0): frontend broke the protocol" ||
			why+=" netback logged no broken ring for domain $dom;" ;;
	lost-console)
		wait_for 30 logged xenconsoled "domain $dom (.*): .*console disabled" ||
			why+=" xenconsoled logged no disabled console for domain $dom;" ;;
	rate-io)
		wait_for 30 logged hypervisor "d$dom: console rate limit hit" ||
			why+=" the hypervisor logged no console rate limit for d$dom;" ;;
	rate-ring)
		wait_for 30 logged xenconsoled "domain $dom (.*): console rate limit hit" ||
			why+=" xenconsoled logged no rate limit for domain $dom;" ;;
	quota)
		wait_for 30 logged xenstored "quota: domain $dom refused" ||
			why+=" xenstored logged no quota refusal for domain $dom;" ;;
	unheard)
		grep -q '^hostile-xs: quiet: read without an event' "$log" ||
			why+=" $(grep '^hostile-xs: quiet: FAIL' "$log" | head -n 1 | tr -d '\r');"
		logged xenstored "domain $dom: requests in its ring without an event" ||
			why+=" xenstored logged no unannounced request for domain $dom;" ;;
	kept-blk)
		grep -q 'backend state 4$' <(grep "^hostile-blk: $way: same grant" "$log") ||
			why+=" blkback dropped a device that kept the protocol;" ;;
	kept-net)
		grep -q 'backend state 4$' <(grep "^hostile-net: $way: same grant" "$log") ||
			why+=" netback dropped a vif that kept the protocol;" ;;
	esac
	# A guest's console logs stay within twice the 8 MiB rotation size.
	[ "$(cat "$log" "$log.1" 2>/dev/null | wc -c)" -le $((17 << 20)) ] ||
		why+=" its console logs grew to $(cat "$log" "$log.1" | wc -c) bytes;"
	xl destroy "$name" >/dev/null 2>&1
	wait_for 60 no_leaks || why+=" after xl destroy: $(leak_report)"
	if [ -z "$why" ]; then
		pass "$word"
	else
		fail "$word:$why"
		grep -E '^(hostile|blkfront|netfront|xenbus)' "$log" | tail -n 8 | sed 's/^/    /'
	fi
	grep -E "^hostile-[a-z]*: ($way: |[0-9])" "$log" | grep -Ev ': (done|vbd .* connected|vif.* connected).*' |
		sed 's/^/    # /'
done

if ! grep -q '^honest: .*FAIL' "$hlog" && [ "$(round)" -gt 3 ]; then
	pass "honest-never-failed ($(round) rounds)"
else
	fail honest-never-failed; grep '^honest: .*FAIL' "$hlog" | head -n 5 | sed 's/^/    /'
fi
if wait_for 30 no_leaks; then
	pass no-leaks-at-end
else
	fail "no-leaks-at-end: $(leak_report)"
fi
