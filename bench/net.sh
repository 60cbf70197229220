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

printf '%-52s %12s %10s %12s %10s\n' "bench net (UDP, payload bytes)" "pkt/s" "MB/s" "veth pkt/s" "ratio"
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

# The real guest: needs netfront and a UDP sender/receiver in the bundled kernel.
if strings "$BUILD/guest/svkernel" 2>/dev/null | grep -q 'udp-echo'; then
	echo "bench net: guest part: the guest kernel has udp-echo=; the guest-side driver of this benchmark is not written yet (SKIPPED)"
else
	echo "bench net: guest->host and host->guest with a real guest: SKIPPED: the bundled kernel has no netfront yet (no 'udp-echo' command word)"
fi
