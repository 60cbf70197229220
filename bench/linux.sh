#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's own Linux kernel as a PV guest (KVM engine), its own xen-blkfront and
# xen-netfront against our backends, each figure a ratio to the host doing the same
# in the same run:
#   disk: dd of 512 MiB (LINUX_BENCH_MB), 1 MiB blocks, O_DIRECT, read (xvdb) and write (xvdc), vs the
#         host's dd on the same image files;
#   net:  32 MiB (LINUX_BENCH_NET_MB) over TCP with busybox nc, guest->host and host->guest through the
#         vif and bridge, vs the same nc and sink between two namespaces over veth.
# The guest times its disk runs with /proc/uptime (10 ms steps: about 1% of a run here).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build}" "${LINUX_BENCH_MB:=512}" "${LINUX_BENCH_NET_MB:=32}"
export BUILD
. tests/lib.sh
. tests/linux_lib.sh
MB=$LINUX_BENCH_MB NMB=$LINUX_BENCH_NET_MB
skip() { echo "bench linux: SKIPPED: $*"; exit 0; }
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || [ ! -c /dev/net/tun ]; then
	skip "needs root, iproute2 and /dev/net/tun"
fi
if [ "$(guest_engine)" != kvm ]; then
	skip "Debian's kernel is linked in the upper half: the KVM engine only (no usable /dev/kvm here)"
fi
if ! linux_locate; then
	echo "bench linux: cannot fetch Debian's kernel (scripts/fetch_linux.sh; make deps): $linux_why"
	exit 1
fi

work=$(mktemp -d /var/tmp/sv-linuxbench.XXXXXX)
on_exit "rm -rf '$work'"
dd if=/dev/urandom of="$work/r.img" bs=1M count="$MB" status=none conv=fsync
dd if=/dev/zero of="$work/w.img" bs=1M count="$MB" status=none conv=fsync

# A TCP sink: writes "bytes seconds" (first byte to EOF) to FILE.  A sender: connects,
# sends N MiB, half-closes, waits for the peer's close; prints the seconds.
cat >"$work/net.py" <<'EOF'
import socket, sys, time
def sink(port, out):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1)
    c, _ = s.accept()
    n, t0 = 0, None
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        if t0 is None:
            t0 = time.monotonic()
        n += len(b)
    open(out, "w").write("%d %.6f\n" % (n, time.monotonic() - t0))
def send(host, port, mb):
    buf = bytes(1 << 20)
    for _ in range(600):
        try:
            c = socket.create_connection((host, port), timeout=60)
            break
        except OSError:
            time.sleep(0.1)
    t0 = time.monotonic()
    for _ in range(mb):
        c.sendall(buf)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    print("%.6f" % (time.monotonic() - t0))
if sys.argv[1] == "sink":
    sink(int(sys.argv[2]), sys.argv[3])
else:
    send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
EOF

# Host baselines.  Disk: GNU dd, O_DIRECT, on the same files.
secs() { sed -n 's/.* copied, \([0-9.]*\) s,.*/\1/p' | tail -n 1; }
h_rd=$(dd if="$work/r.img" of=/dev/null bs=1M iflag=direct 2>&1 | secs)
h_wr=$(dd if=/dev/zero of="$work/w.img" bs=1M count="$MB" oflag=direct conv=notrunc,fsync 2>&1 | secs)
# Net: busybox nc -> sink and sender -> busybox nc -l, between two namespaces over veth.
tag=$(printf '%04x' $((RANDOM % 65536)))
NA=svlba$tag NB=svlbb$tag
ip netns add "$NA" && ip netns add "$NB" || skip "cannot create namespaces"
on_exit "ip netns del $NA; ip netns del $NB"
ip -n "$NA" link add veth0 type veth peer name veth1 netns "$NB"
ip -n "$NA" addr add 198.51.100.1/24 dev veth0
ip -n "$NB" addr add 198.51.100.2/24 dev veth1
ip -n "$NA" link set veth0 up
ip -n "$NB" link set veth1 up
ip netns exec "$NB" python3 "$work/net.py" sink 9000 "$work/h_tx" &
sleep 0.5
ip netns exec "$NA" sh -c "dd if=/dev/zero bs=1M count=$NMB status=none | $busybox nc 198.51.100.2 9000"
wait
h_tx=$(awk '{print $2}' "$work/h_tx")
ip netns exec "$NB" sh -c "$busybox nc -l -p 9001 >/dev/null" &
h_rx=$(ip netns exec "$NA" python3 "$work/net.py" send 198.51.100.2 9001 "$NMB")
wait

# The guest.
cat >"$work/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "lxb: \$*"; }
cs() { awk '{ split(\$1, a, "."); print a[1] * 100 + a[2] }' /proc/uptime; }
insmod /lib/modules/xen-blkfront.ko && insmod /lib/modules/xen-netfront.ko
i=0
while { [ ! -b /dev/xvdb ] || [ ! -b /dev/xvdc ]; } && [ \$i -lt 300 ]; do sleep 0.2; i=\$((i + 1)); done
t0=\$(cs); dd if=/dev/xvdb of=/dev/null bs=1M iflag=direct 2>/dev/null; t1=\$(cs)
say "disk-read-cs \$((t1 - t0))"
t0=\$(cs); dd if=/dev/zero of=/dev/xvdc bs=1M count=$MB oflag=direct 2>/dev/null; sync; t1=\$(cs)
say "disk-write-cs \$((t1 - t0))"
ip link set eth0 up && ip addr add 192.0.2.2/24 dev eth0
i=0
until ping -c1 -W1 192.0.2.1 >/dev/null 2>&1 || [ \$i -ge 60 ]; do i=\$((i + 1)); done
dd if=/dev/zero bs=1M count=$NMB 2>/dev/null | nc 192.0.2.1 9000
say tx-done
say rx-listening
nc -l -p 9001 >/dev/null
say rx-done
poweroff -f
EOF
linux_initramfs "$work" "$work/init" "$lmods/drivers/block/xen-blkfront.ko" \
	"$lmods/drivers/net/xen-netfront.ko" || { echo "bench linux: cannot build the initramfs"; exit 1; }

netns_start svlbn svlbr
stack_start >/dev/null 2>&1 || { echo "bench linux: the stack did not start"; exit 1; }
on_exit "xl destroy lxb >/dev/null 2>&1"
con=$SPLITVISOR_RUNDIR/console/guest-lxb.log
linux_cfg "$work/lxb.cfg" lxb "$work/initrd.gz" "console=hvc0"
cat >>"$work/lxb.cfg" <<EOF
disk = [ 'format=raw, vdev=xvdb, access=ro, target=$work/r.img',
         'format=raw, vdev=xvdc, access=rw, target=$work/w.img' ]
vif = [ 'mac=00:16:3e:00:dd:02, bridge=$BR' ]
EOF
ip netns exec "$NS" python3 "$work/net.py" sink 9000 "$work/g_tx" &
xl create -q "$work/lxb.cfg" || { echo "bench linux: xl create failed"; exit 1; }
wait_for 10 nsx ip link show "$BR" && nsx ip addr add 192.0.2.1/24 dev "$BR" && nsx ip link set "$BR" up
val() { tr -d '\r' <"$con" | sed -n "s/^lxb: $1 //p" | tail -n 1; }
says() { tr -d '\r' <"$con" | grep -q "^lxb: $1"; }
if ! wait_for 150 says rx-listening; then
	echo "bench linux: the guest did not get through its disk and tx runs; its console:"
	tail -n 15 "$con" | sed 's/^/    /'
	exit 1
fi
g_rx=$(ip netns exec "$NS" python3 "$work/net.py" send 192.0.2.2 9001 "$NMB")
wait_for 30 says rx-done
g_rd=$(awk -v c="$(val disk-read-cs)" 'BEGIN { printf "%.2f", c / 100 }')
g_wr=$(awk -v c="$(val disk-write-cs)" 'BEGIN { printf "%.2f", c / 100 }')
g_tx=$(awk '{print $2}' "$work/g_tx" 2>/dev/null)

row() { # name guest-seconds host-seconds MiB
	awk -v n="$1" -v g="$2" -v h="$3" -v mb="$4" 'BEGIN {
		if (g <= 0 || h <= 0) { printf "%-50s %10s %10s %8s\n", n, "-", "-", "-"; exit }
		printf "%-50s %10.0f %10.0f %8.2f\n", n, mb / g, mb / h, h / g }'
}
printf '%-50s %10s %10s %8s\n' "bench linux (Debian $(basename "$(readlink "$vmlinuz")"))" \
	"guest MB/s" "host MB/s" ratio
row "disk read $MB MiB, dd 1M O_DIRECT (vs host dd)" "$g_rd" "$h_rd" "$MB"
row "disk write $MB MiB, dd 1M O_DIRECT (vs host dd)" "$g_wr" "$h_wr" "$MB"
row "net guest->host $NMB MiB, nc TCP (vs veth)" "$g_tx" "$h_tx" "$NMB"
row "net host->guest $NMB MiB, nc TCP (vs veth)" "$g_rx" "$h_rx" "$NMB"
