#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Network benchmarks: UDP packets/s and MB/s at 64 and 1472 bytes, guest->host and
# host->guest, as ratios to the same traffic over a veth pair measured in this run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build}" "${NET_BENCH_SECONDS:=2}"
B=$BUILD/bench/net_bench
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || [ ! -c /dev/net/tun ]; then
	echo "bench net: SKIPPED: needs root, iproute2 and /dev/net/tun"
	exit 0
fi
[ -x "$B" ] || { echo "bench net: $B is not built"; exit 1; }

tag=$(printf '%04x' $((RANDOM % 65536)))
NA=svtba$tag NB=svtbb$tag
cleanup() { ip netns del "$NA" 2>/dev/null; ip netns del "$NB" 2>/dev/null; }
trap cleanup EXIT
ip netns add "$NA" && ip netns add "$NB" || { echo "bench net: cannot create namespaces"; exit 1; }
ip -n "$NA" link add veth0 type veth peer name veth1 netns "$NB" || exit 1
ip -n "$NA" addr add 198.51.100.1/24 dev veth0
ip -n "$NB" addr add 198.51.100.2/24 dev veth1
ip -n "$NA" link set veth0 up
ip -n "$NB" link set veth1 up
ip -n "$NA" link set lo up
ip -n "$NB" link set lo up

# veth SIZE: the baseline, sender in one namespace, receiver in the other.
veth() {
	local out
	ip netns exec "$NB" "$B" recv 7777 "$NET_BENCH_SECONDS" > "/tmp/svtb-$tag.out" &
	local rpid=$!
	sleep 0.2
	ip netns exec "$NA" "$B" send 198.51.100.2 7777 "$1" "$(awk -v s="$NET_BENCH_SECONDS" 'BEGIN{print s+0.5}')"
	wait "$rpid"
	out=$(cat "/tmp/svtb-$tag.out"); rm -f "/tmp/svtb-$tag.out"
	echo "$out"
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# The stack for the real-guest part, started before anything is printed so
# the header can say which engine it runs; it idles during the baselines.
kernel=$PWD/$BUILD/guest/svkernel
BR=svtbbr$tag
guest_skip="" guest_fail="" engine="none: no guest run"
if ! grep -qa 'udp-sink' "$kernel" 2>/dev/null; then
	guest_skip="the bundled kernel has no netfront yet (no 'udp-sink' command word)"
else
	export PATH="$PWD/$BUILD/bin:$PATH"
	export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench-net.XXXXXX)
	cleanup() {
		ip netns exec "$NA" "$PWD/$BUILD/bin/splitvisor" stop >/dev/null 2>&1
		rm -rf "$SPLITVISOR_RUNDIR"
		ip netns del "$NA" 2>/dev/null
		ip netns del "$NB" 2>/dev/null
	}
	if envl=$(ip netns exec "$NA" "$PWD/$BUILD/bin/splitvisor" start 2>/dev/null); then
		eval "$(sed -n 's/^\([A-Z_]*=.*\)$/export \1/p' <<<"$envl")"
	else
		guest_fail="splitvisor start failed"
	fi
	engine=$(ip netns exec "$NA" "$PWD/$BUILD/bin/xl" info 2>/dev/null | sed -n 's/^engine *: //p')
	# A hypervisor from before the engines says no engine: it is KVM.
	[ -z "$engine" ] && [ -w /dev/kvm ] && engine=kvm
	[ -n "$guest_fail" ] && engine="none: no guest run"
	case $engine in
	kvm | process | "none: no guest run") ;;
	*) guest_skip="the stack runs no engine this benchmark knows (xl info: engine '${engine:-none}')" ;;
	esac
fi

printf '%-52s %12s %10s %12s %10s\n' "bench net (UDP, payload bytes; engine $engine)" "pkt/s" "MB/s" "veth pkt/s" "ratio"
for size in 64 1472; do
	base=$(veth "$size")
	bpps=$(field pps "$base"); bmbs=$(field mbs "$base")
	printf '%-52s %12s %10s %12s %10s\n' "veth pair, $size B (baseline)" "$bpps" "$bmbs" "$bpps" "1.00"
	for dir in tx rx; do
		r=$("$B" netback "$dir" "$size" "$NET_BENCH_SECONDS") || { echo "bench net: net_bench netback $dir failed"; exit 1; }
		what=$([ "$dir" = tx ] && echo "guest->host" || echo "host->guest")
		printf '%-52s %12s %10s %12s %10s\n' "netback data plane, fake guest, $what, $size B" \
			"$(field pps "$r")" "$(field mbs "$r")" "$bpps" "$(ratio "$(field pps "$r")" "$bpps")"
	done
done

# The real guest: netfront and its UDP words in the bundled kernel, on a bridge
# in namespace $NA (the same namespace as the baseline's sender), one guest per
# measurement, on the engine the stack started above runs (KVM or process).
# guest->host: the guest's udp-send, counted by net_bench recv on the bridge;
# host->guest: net_bench send, counted by the guest's udp-sink.
if [ -n "$guest_fail" ]; then
	echo "bench net: real guest: $guest_fail"
	exit 1
fi
if [ -n "$guest_skip" ]; then
	echo "bench net: real guest: SKIPPED: $guest_skip"
	exit 0
fi
# The bridge exists before the first vif, so the host address is there when the guest asks.
ip -n "$NA" link add "$BR" type bridge && ip -n "$NA" addr add 192.0.2.1/24 dev "$BR" &&
	ip -n "$NA" link set "$BR" up || { echo "bench net: real guest: cannot set up bridge $BR"; exit 1; }
secs=$NET_BENCH_SECONDS
# bguest NAME WORDS: boot a guest on $BR at 192.0.2.2 running WORDS.
bguest() {
	cat > "$SPLITVISOR_RUNDIR/$1.cfg" <<EOC
name = "$1"
kernel = "$kernel"
memory = 32
cmdline = "$2"
vif = [ 'mac=00:16:3e:00:bb:02, bridge=$BR, ip=192.0.2.2' ]
EOC
	ip netns exec "$NA" "$PWD/$BUILD/bin/xl" create "$SPLITVISOR_RUNDIR/$1.cfg" >/dev/null 2>&1
}
# console NAME PATTERN SECONDS: the first console line of guest NAME matching PATTERN.
console() {
	local f=$SPLITVISOR_RUNDIR/console/guest-$1.log line
	for _ in $(seq $(($3 * 10))); do
		line=$(grep -m1 "$2" "$f" 2>/dev/null) && { echo "$line"; return 0; }
		sleep 0.1
	done
	return 1
}
gdestroy() { ip netns exec "$NA" "$PWD/$BUILD/bin/xl" destroy "$1" >/dev/null 2>&1; }

for size in 64 1472; do
	base=$(veth "$size")
	bpps=$(field pps "$base")
	# guest->host
	ip netns exec "$NA" "$B" recv 7777 "$secs" > "/tmp/svtb-$tag.out" 2>/dev/null &
	rpid=$!
	sleep 0.2
	bguest "bns$size" "udp-send=192.0.2.1,7777,$size,$((secs + 1))"
	wait "$rpid"
	r=$(cat "/tmp/svtb-$tag.out"); rm -f "/tmp/svtb-$tag.out"
	gdestroy "bns$size"
	if [ -n "$(field pps "$r")" ]; then
		printf '%-52s %12s %10s %12s %10s\n' "real guest (netfront), guest->host, $size B" \
			"$(field pps "$r")" "$(field mbs "$r")" "$bpps" "$(ratio "$(field pps "$r")" "$bpps")"
	else
		echo "bench net: real guest, guest->host, $size B: nothing arrived"
	fi
	# host->guest
	bguest "bnr$size" "udp-sink=7777,$secs"
	if console "bnr$size" 'udp-sink: counting' 20 >/dev/null; then
		ip netns exec "$NA" "$B" send 192.0.2.2 7777 "$size" "$((secs + 1))"
		line=$(console "bnr$size" 'udp-sink: packets=' $((secs + 10)))
		printf '%-52s %12s %10s %12s %10s\n' "real guest (netfront), host->guest, $size B" \
			"$(field pps "$line")" "$(field mbs "$line")" "$bpps" "$(ratio "$(field pps "$line")" "$bpps")"
	else
		echo "bench net: real guest, host->guest, $size B: the guest never listened"
	fi
	gdestroy "bnr$size"
done
exit 0
