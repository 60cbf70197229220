#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Guest networking end to end, inside a network namespace this script creates
# and deletes: ping both ways, guest to guest over the bridge, UDP echo of
# every size up to 64 KiB, the configured MAC and bridge, hot attach and
# detach, and a hostile frontend that netback disables alone.
# Needs netfront in the bundled kernel (its strings 'netfront' and
# 'udp-echo'); until then every test SKIPs and says why.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(net-ping-host-to-guest net-ping-guest-to-host net-guest-to-guest net-udp-echo-every-size
	net-mac-on-the-wire net-hot-attach-traffic net-bridge-honoured net-ping-fragmented
	net-guest-net-info net-hot-detach net-hostile-contained net-hostile-reconnects
	net-jumbo-scatter-gather net-netback-restart net-idle-guests-block net-shutdown-during-echo)
need_guest_engine "${TESTS[@]}" || exit 0
kernel=$SV_GUEST/svkernel
if ! strings "$kernel" 2>/dev/null | grep -q netfront ||
	! strings "$kernel" 2>/dev/null | grep -q udp-echo; then
	for t in "${TESTS[@]}"; do
		skip "$t: the bundled guest kernel has no netfront yet (no 'netfront'/'udp-echo' in $kernel)"
	done
	exit 0
fi
if ! command -v ip >/dev/null || [ ! -c /dev/net/tun ] || ! command -v python3 >/dev/null ||
	! command -v ping >/dev/null; then
	for t in "${TESTS[@]}"; do skip "$t: needs iproute2, iputils-ping, python3 and /dev/net/tun"; done
	exit 0
fi

netns_start svtng svtbr
stack_start || exit 1
work=$(mktemp -d /tmp/sv-netg.XXXXXX)
on_exit "rm -rf '$work'"

# guest NAME IP MAC [words]: a guest on $BR whose netfront takes ip= from its backend;
# it runs WORDS first, then echoes UDP port 7 (answering ARP and ping) until shut down.
guest() {
	cat > "$work/$1.cfg" <<EOC
name = "$1"
kernel = "$kernel"
memory = 32
cmdline = "${4:-} udp-echo=7 wait"
vif = [ 'mac=$3, bridge=$BR, ip=$2' ]
EOC
	xl create "$work/$1.cfg" >/dev/null 2>&1
}
guest a$tag 192.0.2.2 00:16:3e:00:aa:02 net-info || { fail "create guest a"; exit 1; }
wait_for 10 nsx ip link show "$BR" || { fail "bridge $BR never appeared"; exit 1; }
nsx ip addr add 192.0.2.1/24 dev "$BR"
nsx ip link set "$BR" up

check net-ping-host-to-guest wait_for 30 nsx ping -c1 -W1 192.0.2.2

check net-mac-on-the-wire bash -c "ip netns exec '$NS' ip neigh show 192.0.2.2 | grep -q 00:16:3e:00:aa:02"
alog=$SPLITVISOR_RUNDIR/console/guest-a$tag.log
check net-bridge-honoured bash -c "ip netns exec '$NS' ip -o link show master '$BR' | grep -q 'vif'"
check net-guest-net-info grep -q 'net-info: vif0 mac=00:16:3e:00:aa:02 ip=192.0.2.2 mtu=1500' "$alog"
# ICMP echo of 5000 bytes: fragmented both ways, reassembled by the guest.
check net-ping-fragmented nsx ping -c2 -W2 -s 5000 192.0.2.2

# The guest pings the host when its kernel knows ping=.
if strings "$kernel" | grep -q 'ping='; then
	guest p$tag 192.0.2.4 00:16:3e:00:aa:04 "ping=192.0.2.1"
	check net-ping-guest-to-host wait_for 30 grep -q 'ping: reply from 192.0.2.1' \
		"$SPLITVISOR_RUNDIR/console/guest-p$tag.log"
	guest q$tag 192.0.2.5 00:16:3e:00:aa:05 "ping=192.0.2.2"
	check net-guest-to-guest wait_for 30 grep -q 'ping: reply from 192.0.2.2' \
		"$SPLITVISOR_RUNDIR/console/guest-q$tag.log"
else
	skip "net-ping-guest-to-host: the guest kernel has no ping= word"
	skip "net-guest-to-guest: the guest kernel has no ping= word"
fi

# UDP echo: every size from 1 byte to 65507 (the largest datagram), fragmented above the MTU.
cat > "$work/echo.py" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
bad = []
for n in range(1, 65508):
    data = bytes((i * 7 + n) & 0xff for i in range(n)) if n < 4096 else bytes([n & 0xff]) * n
    for attempt in range(3):
        s.sendto(data, ("192.0.2.2", 7))
        try:
            got = s.recv(65536)
        except socket.timeout:
            continue
        if got == data:
            break
    else:
        bad.append(n)
        if len(bad) > 5:
            break
print("bad sizes:", bad[:10])
sys.exit(1 if bad else 0)
EOP
check net-udp-echo-every-size timeout 900 ip netns exec "$NS" python3 "$work/echo.py"

# Hot attach: a second vif with its own address answers too.
if xl network-attach a$tag "bridge=$BR" ip=192.0.2.12 mac=00:16:3e:00:aa:12 >/dev/null 2>&1; then
	check net-hot-attach-traffic wait_for 30 nsx ping -c1 -W1 192.0.2.12
	# Hot detach: the guest closes the vif (Closing, then Closed) and it is gone.
	if xl network-detach a$tag 1 >/dev/null 2>&1; then
		check net-hot-detach bash -c "grep -q 'netfront: vif1 closed' '$alog' &&
			! ip netns exec '$NS' ping -c1 -W1 192.0.2.12 &&
			ip netns exec '$NS' ping -c1 -W1 192.0.2.2"
	else
		fail "net-hot-detach (xl network-detach failed)"
	fi
else
	fail net-hot-attach-traffic
	fail "net-hot-detach (nothing attached)"
fi

# Jumbo frames: a vif with the largest MTU a netif frame allows (65535 - 14) on
# a bridge of its own.  Datagrams up to 64 KiB cross in one frame over up to 17
# ring slots each way (rx slots put together, tx scatter-gather); 65507 bytes
# is still fragmented.
BRJ=svtbj$tag
cat > "$work/j$tag.cfg" <<EOC
name = "j$tag"
kernel = "$kernel"
memory = 32
cmdline = "net-info udp-echo=7 wait"
vif = [ 'mac=00:16:3e:00:aa:07, bridge=$BRJ, ip=198.51.100.2, mtu=65521' ]
EOC
if xl create "$work/j$tag.cfg" >/dev/null 2>&1 && wait_for 10 nsx ip link show "$BRJ"; then
	nsx ip addr add 198.51.100.1/24 dev "$BRJ"
	nsx ip link set "$BRJ" up
	cat > "$work/jumbo.py" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO: never fragment
s.settimeout(2)
bad = []
for n in (1, 1473, 4000, 9000, 30000, 65000, 65493):
    data = bytes((i * 13 + n) & 0xff for i in range(n))
    for attempt in range(3):
        s.sendto(data, ("198.51.100.2", 7))
        try:
            if s.recv(65536) == data:
                break
        except socket.timeout:
            pass
    else:
        bad.append(n)
print("bad sizes:", bad)
sys.exit(1 if bad else 0)
EOP
	check net-jumbo-scatter-gather bash -c "
		ip netns exec '$NS' ping -c1 -W2 198.51.100.2 >/dev/null || ip netns exec '$NS' ping -c1 -W2 198.51.100.2 &&
		grep -q 'mtu=65521' '$SPLITVISOR_RUNDIR/console/guest-j$tag.log' &&
		timeout 120 ip netns exec '$NS' python3 '$work/jumbo.py'"
else
	fail "net-jumbo-scatter-gather (guest j or bridge $BRJ did not come up)"
fi

# A hostile frontend: it corrupts its tx ring; netback disables that vif only,
# everyone else keeps talking, and the guest connects again through Closed.
guest h$tag 192.0.2.6 00:16:3e:00:aa:06 net-hostile
hlog=$SPLITVISOR_RUNDIR/console/guest-h$tag.log
check net-hostile-contained bash -c "
	for i in \$(seq 300); do grep -q 'net-hostile: backend disabled the vif' '$hlog' && break; sleep 0.1; done
	grep -q 'net-hostile: backend disabled the vif' '$hlog' &&
	grep -q 'frontend broke the protocol' '$SPLITVISOR_RUNDIR/netback.log' &&
	ip netns exec '$NS' ping -c1 -W1 192.0.2.2 && $SV_BIN/splitvisor status >/dev/null"
check net-hostile-reconnects bash -c "
	for i in \$(seq 300); do grep -q 'net-hostile: reconnected' '$hlog' && break; sleep 0.1; done
	grep -q 'net-hostile: reconnected' '$hlog' && ip netns exec '$NS' ping -c1 -W2 192.0.2.6"

# netback restarted under connected vifs (the supervisor starts it again): each
# netfront sees its backend close, goes Closed and connects again.
nb=$(awk '$1 == "service" && $2 == "netback" { print $4 }' "$SPLITVISOR_RUNDIR/splitvisor.status" 2>/dev/null)
if [ -n "$nb" ] && kill "$nb" 2>/dev/null; then
	check net-netback-restart bash -c "
		for i in \$(seq 60); do ip netns exec '$NS' ping -c1 -W1 192.0.2.2 >/dev/null && break; sleep 0.5; done
		ip netns exec '$NS' ping -c1 -W1 192.0.2.2 && ip netns exec '$NS' ping -c1 -W1 192.0.2.6 &&
		grep -q 'vif0: backend online; reconnecting' '$alog'"
	sleep 2 # let the other guests settle before the idle measurement
else
	fail "net-netback-restart (no netback pid in splitvisor.status)"
fi

# Five guests now sit in udp-echo with nothing to do: blocked in SCHEDOP_block,
# not polling, so the hypervisor (every vCPU thread in it) stays nearly idle.
hv=$(awk '$1 == "service" && $2 == "hypervisor" { print $4 }' "$SPLITVISOR_RUNDIR/splitvisor.status" 2>/dev/null)
if [ -n "$hv" ] && [ -r "/proc/$hv/stat" ]; then
	cpu() { awk '{ print $14 + $15 }' "/proc/$hv/stat"; }
	t0=$(cpu); sleep 3; t1=$(cpu)
	# Clock ticks over 3 s: a spinning guest alone would take about 3 s (300 ticks).
	check net-idle-guests-block test $((t1 - t0)) -lt $(( $(getconf CLK_TCK) * 3 / 4 ))
else
	fail "net-idle-guests-block (no hypervisor pid in splitvisor.status)"
fi

# xl shutdown reaches a guest in udp-echo through control/shutdown.
check net-shutdown-during-echo bash -c "timeout 30 xl shutdown -w a$tag >/dev/null 2>&1 &&
	grep -q 'control: poweroff requested' '$alog'"
