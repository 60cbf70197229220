#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Xen's FIFO event-channel ABI end to end: the bundled kernel switches to it
# (EVTCHNOP_init_control, expand_array) unless its command line says
# evtchn=2l, and the evtchn-fifo word proves which ABI delivers (priority
# order under FIFO, port order under 2-level, set_priority's errors).  A FIFO
# guest's console, xenstore, disk and network all work over FIFO events
# (dom0's daemons keep their own event channels through libxenevtchn).
# With 2..4 vCPUs every vCPU has its own control block, and the evtchn-smp
# word proves IPIs, each secondary's VIRQ_TIMER and ports moved with
# EVTCHNOP_bind_vcpu (also while linked on the old vCPU's queue) are
# delivered on the right vCPU, exactly once, under FIFO and 2-level.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(fifo-abi-word twolevel-abi-word fifo-xenstore-console fifo-blk-io fifo-net-ping
	fifo-two-guests-talk fifo-smp-vcpus=2 fifo-smp-vcpus=3 fifo-smp-vcpus=4 twolevel-smp-vcpus=3
	fifo-frames-released)
need_guest_engine "${TESTS[@]}" || exit 0
kernel=$SV_GUEST/svkernel
if ! grep -aq 'evtchn-fifo' "$kernel"; then
	for t in "${TESTS[@]}"; do skip "$t: the guest kernel has no evtchn-fifo word"; done
	exit 0
fi
have_net=1
if ! command -v ip >/dev/null || [ ! -c /dev/net/tun ] || ! command -v ping >/dev/null ||
	! grep -aq 'udp-echo' "$kernel"; then
	have_net=0
fi
if [ "$have_net" = 1 ]; then
	netns_start svtfifo svtfbr
fi
stack_start || exit 1
work=$(mktemp -d /tmp/sv-fifo.XXXXXX)
on_exit "rm -rf '$work'"
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log

# cfg NAME CMDLINE [extra lines...]: writes $work/NAME.cfg, prints its path.
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
run() { timeout 120 xl create -c "$(cfg "$@")" 2>&1 | tr -d '\r'; }
domid_of() { grep -o "d[0-9]*: created '$1'" "$hvlog" | tail -n 1 | sed 's/^d\([0-9]*\):.*/\1/'; }
fifo_logged() { grep -q "d$1: event channels: FIFO ABI" "$hvlog"; }
clog() { echo "$SPLITVISOR_RUNDIR/console/guest-$1.log"; }

# 1. FIFO by default: priority 0 before 15 whatever the port numbers, Xen's errors.
out=$(run fifo "evtchn-fifo halt")
id=$(domid_of fifo)
if grep -q '^evtchn-fifo: abi fifo, 1024 ports$' <<<"$out" &&
	grep -q '^evtchn-fifo: delivered port [0-9]* then [0-9]* (as the ABI orders)$' <<<"$out" &&
	grep -q '^evtchn-fifo: set_priority 16: -22, port 100000: -22$' <<<"$out" &&
	grep -q '^evtchn-fifo: fifo ok$' <<<"$out" && [ -n "$id" ] && fifo_logged "$id"; then
	pass fifo-abi-word
else
	fail fifo-abi-word; printf '%s\n' "$out" | grep -E 'evtchn|poweroff' | sed 's/^/    /'
fi

# 2. evtchn=2l keeps 2-level: port order, set_priority -ENOSYS, no switch logged.
out=$(run twolevel "evtchn=2l evtchn-fifo halt")
id=$(domid_of twolevel)
if grep -q '^evtchn-fifo: abi 2-level (FIFO not asked for)$' <<<"$out" &&
	grep -q '^evtchn-fifo: delivered port [0-9]* then [0-9]* (as the ABI orders)$' <<<"$out" &&
	grep -q '^evtchn-fifo: set_priority 16: -38, port 100000: -22$' <<<"$out" &&
	grep -q '^evtchn-fifo: 2-level ok$' <<<"$out" && [ -n "$id" ] && ! fifo_logged "$id"; then
	pass twolevel-abi-word
else
	fail twolevel-abi-word; printf '%s\n' "$out" | grep -E 'evtchn|poweroff' | sed 's/^/    /'
fi

# 3. xenstore (selftest with watches) and the console ring, over FIFO events.
out=$(run xsfifo "evtchn-fifo xs-selftest xs-watch print=console-over-fifo halt")
id=$(domid_of xsfifo)
if grep -q '^evtchn-fifo: fifo ok$' <<<"$out" && grep -q 'xs-selftest: ok' <<<"$out" &&
	grep -q '^console-over-fifo$' "$(clog xsfifo)" && grep -q '^poweroff' <<<"$out" &&
	[ -n "$id" ] && fifo_logged "$id"; then
	pass fifo-xenstore-console
else
	fail fifo-xenstore-console; printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'
fi

# 4. A disk: blk-selftest's pattern lands in the image (blkback's events over FIFO).
if grep -aq 'blk-selftest' "$kernel"; then
	truncate -s 32M "$work/d.img"
	out=$(run blkfifo "evtchn-fifo blk-selftest halt" \
		"disk = [ 'format=raw, vdev=xvda, access=rw, target=$work/d.img' ]")
	if grep -q '^evtchn-fifo: fifo ok$' <<<"$out" && grep -q '^blk-selftest: ok' <<<"$out" &&
		python3 - "$work/d.img" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()[2048 * 512:2048 * 512 + (1 << 20)]
want = bytes(((s * 31 + i) & 0xff) ^ 0x5a for s in range(2048, 2048 + 2048) for i in range(512))
sys.exit(0 if d == want else 1)
PY
	then
		pass fifo-blk-io
	else
		fail fifo-blk-io; printf '%s\n' "$out" | grep -E '^(blk|evtchn)' | tail -n 12 | sed 's/^/    /'
	fi
else
	skip "fifo-blk-io: the guest kernel has no blkfront"
fi

# 5. A vif: the host pings the guest over the bridge (netback's events over FIFO).
if [ "$have_net" = 1 ]; then
	cfg netfifo "evtchn-fifo udp-echo=7 wait" "vif = [ 'mac=00:16:3e:00:fe:02, bridge=$BR, ip=192.0.2.2' ]" >/dev/null
	xl create "$work/netfifo.cfg" >/dev/null 2>&1
	if wait_for 30 nsx ip link show "$BR"; then
		nsx ip addr add 192.0.2.1/24 dev "$BR"
		nsx ip link set "$BR" up
	fi
	if wait_for 60 nsx ping -c1 -W1 192.0.2.2 && nsx ping -c3 -W2 -s 3000 192.0.2.2 >/dev/null &&
		grep -q '^evtchn-fifo: fifo ok$' "$(clog netfifo)"; then
		pass fifo-net-ping
	else
		fail fifo-net-ping; tail -n 12 "$(clog netfifo)" 2>/dev/null | sed 's/^/    /'
	fi
	xl destroy netfifo >/dev/null 2>&1
else
	skip "fifo-net-ping: needs iproute2, ping, /dev/net/tun and netfront's udp-echo"
fi

# 6. A FIFO guest serves, a 2-level guest pings: one interdomain channel, each
#    end delivered by its own ABI (evtchn_peer.sh's protocol, wired through xenstore).
if grep -aq 'evtchn-peer' "$kernel" && command -v xenstore-write >/dev/null; then
	xl create -q "$(cfg pa "evtchn-peer=50 wait")" >/dev/null 2>&1
	xl create -q "$(cfg pb "evtchn=2l evtchn-peer=50 wait")" >/dev/null 2>&1
	A=$(xl domid pa 2>/dev/null) B=$(xl domid pb 2>/dev/null)
	if [ -n "$A" ] && [ -n "$B" ]; then
		xenstore-write /local/domain/$A/data/peer-dom "$B" /local/domain/$A/data/peer-role 1 \
			/local/domain/$B/data/peer-dom "$A" /local/domain/$B/data/peer-role 2
		port() { xenstore-read /local/domain/$A/data/my-port; }
		wait_for 20 port && xenstore-write /local/domain/$B/data/peer-port "$(port)"
	fi
	done_both() { grep -q 'evtchn-peer: answered 50' "$(clog pa)" &&
		grep -q 'evtchn-peer: rounds=50' "$(clog pb)"; }
	if [ -n "$A" ] && [ -n "$B" ] && wait_for 60 done_both && fifo_logged "$A" && ! fifo_logged "$B"; then
		pass fifo-two-guests-talk
	else
		fail fifo-two-guests-talk; grep -h 'evtchn-peer' "$(clog pa)" "$(clog pb)" 2>/dev/null | sed 's/^/    /'
	fi
	xl destroy pa >/dev/null 2>&1
	xl destroy pb >/dev/null 2>&1
else
	skip "fifo-two-guests-talk: needs the evtchn-peer word and xenstore-write"
fi

# 7. Every vCPU on FIFO (its own control block), and the same word under 2-level.
if grep -aq 'evtchn-smp' "$kernel"; then
	smp_ok() { # OUT ABI N
		grep -q "^evtchn-smp: abi $2, $3 vcpus$" <<<"$1" && grep -q '^evtchn-smp: ok$' <<<"$1" &&
			[ "$(grep -c '^evtchn-smp: vcpu [0-9]* ok' <<<"$1")" = "$3" ] && ! grep -q FAIL <<<"$1"
	}
	for n in 2 3 4; do
		out=$(run "smp$n" "evtchn-smp halt" "vcpus = $n")
		id=$(domid_of "smp$n")
		if smp_ok "$out" fifo "$n" && [ -n "$id" ] && fifo_logged "$id"; then
			pass "fifo-smp-vcpus=$n"
		else
			fail "fifo-smp-vcpus=$n"; printf '%s\n' "$out" | grep -E 'evtchn|smp|vcpu' | sed 's/^/    /'
		fi
	done
	out=$(run smp2l "evtchn=2l evtchn-smp halt" "vcpus = 3")
	id=$(domid_of smp2l)
	if smp_ok "$out" 2-level 3 && [ -n "$id" ] && ! fifo_logged "$id"; then
		pass twolevel-smp-vcpus=3
	else
		fail twolevel-smp-vcpus=3; printf '%s\n' "$out" | grep -E 'evtchn|smp|vcpu' | sed 's/^/    /'
	fi
else
	for t in fifo-smp-vcpus=2 fifo-smp-vcpus=3 fifo-smp-vcpus=4 twolevel-smp-vcpus=3; do
		skip "$t: the guest kernel has no evtchn-smp word"
	done
fi

# 8. The guest frames the hypervisor held for FIFO (control blocks, array pages) all went
#    back when the domains ended: no domain ended with frames still held.
gone() { ! xl list 2>/dev/null | grep -qE '^(fifo|twolevel|xsfifo|blkfifo|smp[0-9l]+) '; }
if wait_for 30 gone && grep -q 'destroyed' "$hvlog" && ! grep -q 'frames still held' "$hvlog"; then
	pass fifo-frames-released
else
	fail fifo-frames-released; grep -E 'still held|destroyed' "$hvlog" | tail -n 5 | sed 's/^/    /'
fi
