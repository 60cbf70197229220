#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's own Linux kernel as a PV domU with Xen's devices, on the KVM engine:
# its xen-blkfront and xen-netfront modules (from the same kernel package) against
# our blkback and netback, a read-write ext4 disk and a read-only raw disk, a vif on
# a bridge inside a network namespace this script creates and deletes; then
# `xl mem-set` through Linux's balloon driver and `xl shutdown` through its
# control/shutdown watch.  Data is checked end to end by checksums taken on the
# host.  See docs/third-party-kernels.md.  Like linux_pv.sh: SKIPPED on the
# process engine (Linux is linked in the upper half), FAILS with the reason when
# Debian's archive cannot be reached.
# run.sh timeout: 1500
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(linux-dev-modules-load linux-dev-disks-seen linux-dev-ro-disk-read linux-dev-ro-disk-refuses-writes
	linux-dev-ext4-read linux-dev-ping-host linux-dev-ping-guest linux-dev-net-rx-bulk
	linux-dev-net-tx-bulk linux-dev-mem-set-balloons linux-dev-save-restore
	linux-dev-disk-after-restore linux-dev-net-after-restore linux-dev-xl-shutdown
	linux-dev-ext4-written linux-dev-nothing-left)
need_guest_engine "${TESTS[@]}" || exit 0
. tests/linux_lib.sh
linux_fetch "${TESTS[@]}" || exit 0
if ! command -v ip >/dev/null || [ ! -c /dev/net/tun ] || ! command -v python3 >/dev/null ||
	! command -v mkfs.ext4 >/dev/null || ! command -v debugfs >/dev/null; then
	for t in "${TESTS[@]}"; do fail "$t: needs iproute2, /dev/net/tun, python3 and e2fsprogs (make deps)"; done
	exit 1
fi

work=$(mktemp -d /tmp/sv-linuxdev.XXXXXX)
on_exit "rm -rf '$work'"

# The guest's /init: each result as one "lxdev: ..." line on hvc0.
cat >"$work/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "lxdev: $*"; }
# xl shutdown: Linux runs /sbin/poweroff (busybox: SIGUSR2 to init).
trap 'say poweroff-requested; sync; poweroff -f' USR2
insmod /lib/modules/xen-blkfront.ko && insmod /lib/modules/xen-netfront.ko && say modules-loaded
i=0
while { [ ! -b /dev/xvda ] || [ ! -b /dev/xvdb ] || [ ! -b /dev/xvdc ]; } && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
say "xvda-sectors $(cat /sys/block/xvda/size) xvdb-sectors $(cat /sys/block/xvdb/size) xvdb-ro $(cat /sys/block/xvdb/ro)"
say "xvdb-md5 $(md5sum </dev/xvdb | cut -d' ' -f1)"
if dd if=/dev/zero of=/dev/xvdb bs=4096 count=1 conv=fsync 2>/dev/null; then
	say xvdb-write-accepted
else
	say xvdb-write-refused
fi
if mount -t ext4 /dev/xvda /mnt; then
	say "hello $(cat /mnt/hello.txt)"
	echo "written-by-debian-linux" >/mnt/from-guest.txt
	head -c 4194304 /dev/xvdb >/mnt/blob.bin
	umount /mnt && say ext4-written
fi
ip link set eth0 up && ip addr add 192.0.2.2/24 dev eth0
i=0
until ping -c1 -W1 192.0.2.1 >/dev/null 2>&1 || [ $i -ge 60 ]; do i=$((i + 1)); done
ping -c1 -W1 192.0.2.1 >/dev/null 2>&1 && say ping-host-ok
say "rx-md5 $(wget -q -O - http://192.0.2.1:8080/blob | md5sum | cut -d' ' -f1)"
# TX: the raw disk to a sink on the host, which writes down its md5.
nc 192.0.2.1 9000 </dev/xvdb && say tx-sent
say net-done
# Each second: MemTotal when it changed, and a tick written through to xvdc's first sector
# (the host reads it to see the disk working, across xl save and restore too).
last=
t=0
while :; do
	m=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
	[ "$m" != "$last" ] && say "memtotal $m"
	last=$m
	t=$((t + 1))
	echo "tick $t" | dd of=/dev/xvdc bs=512 count=1 conv=sync,fsync 2>/dev/null
	sleep 1
done
EOF
if ! linux_initramfs "$work" "$work/init" "$lmods/drivers/block/xen-blkfront.ko" \
	"$lmods/drivers/net/xen-netfront.ko"; then
	for t in "${TESTS[@]}"; do fail "$t: cannot build the initramfs"; done
	exit 1
fi

# Disks: xvda ext4 (rw) with a file of the host's, xvdb raw random bytes (ro).
mkdir -p "$work/fs"
echo "hello-from-the-host" >"$work/fs/hello.txt"
truncate -s 64M "$work/a.img" && mkfs.ext4 -q -d "$work/fs" "$work/a.img" &&
	head -c 16777216 /dev/urandom >"$work/b.img" && truncate -s 1M "$work/c.img" ||
	{ fail "cannot make the disk images"; exit 1; }
b_md5=$(md5sum <"$work/b.img" | cut -d' ' -f1)
head -c 8388608 /dev/urandom >"$work/blob"
blob_md5=$(md5sum <"$work/blob" | cut -d' ' -f1)

# On the bridge's side: an HTTP server for GET /blob (rx), a TCP sink on 9000 that
# writes the md5 and length of what it got to $work/tx (tx).
cat >"$work/srv.py" <<'EOF'
import hashlib, http.server, os, socket, sys, threading
blob = open(sys.argv[1], "rb").read()
def sink():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 9000))
    s.listen(1)
    c, _ = s.accept()
    h, n = hashlib.md5(), 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
    open(sys.argv[2] + ".tmp", "w").write("%s %d" % (h.hexdigest(), n))
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
threading.Thread(target=sink, daemon=True).start()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(blob)))
        self.end_headers()
        self.wfile.write(blob)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("0.0.0.0", 8080), H).serve_forever()
EOF

netns_start svlns svlbr
stack_start || exit 1
ip netns exec "$NS" python3 "$work/srv.py" "$work/blob" "$work/tx" &
srv=$!
on_exit "kill $srv 2>/dev/null"
on_exit "xl destroy lxdev >/dev/null 2>&1"
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
con=$SPLITVISOR_RUNDIR/console/guest-lxdev.log
says() { tr -d '\r' <"$con" | grep -q "^lxdev: $1"; }
gone() { ! xl list lxdev >/dev/null 2>&1; }

linux_cfg "$work/lxdev.cfg" lxdev "$work/initrd.gz" "console=hvc0"
cat >>"$work/lxdev.cfg" <<EOF
disk = [ 'format=raw, vdev=xvda, access=rw, target=$work/a.img',
         'format=raw, vdev=xvdb, access=ro, target=$work/b.img',
         'format=raw, vdev=xvdc, access=rw, target=$work/c.img' ]
vif = [ 'mac=00:16:3e:00:cc:02, bridge=$BR' ]
EOF
if ! xl create -q "$work/lxdev.cfg" >"$work/create.out" 2>&1; then
	for t in "${TESTS[@]}"; do fail "$t: xl create failed"; done
	show "$work/create.out"
	exit 1
fi
if wait_for 10 nsx ip link show "$BR"; then
	nsx ip addr add 192.0.2.1/24 dev "$BR"
	nsx ip link set "$BR" up
fi
if ! wait_for 150 says net-done; then
	echo "    the guest never finished its device checks; last console lines:"
	show "$con" 20
fi

check linux-dev-modules-load says modules-loaded
check linux-dev-disks-seen says "xvda-sectors 131072 xvdb-sectors 32768 xvdb-ro 1"
check linux-dev-ro-disk-read says "xvdb-md5 $b_md5"
check linux-dev-ro-disk-refuses-writes says xvdb-write-refused
check linux-dev-ext4-read says "hello hello-from-the-host"
check linux-dev-ping-host says ping-host-ok
check linux-dev-ping-guest nsx ping -c2 -W2 192.0.2.2
check linux-dev-net-rx-bulk says "rx-md5 $blob_md5"
if says tx-sent && wait_for 10 test -e "$work/tx" && [ "$(cat "$work/tx")" = "$b_md5 16777216" ]; then
	pass linux-dev-net-tx-bulk
else
	fail "linux-dev-net-tx-bulk (got '$(cat "$work/tx" 2>/dev/null)', want '$b_md5 16777216')"
fi

# xl mem-set 160m: Linux's balloon driver gives 96 MiB back, and MemTotal shrinks.
m0=$(tr -d '\r' <"$con" | sed -n 's/^lxdev: memtotal //p' | head -n 1)
shrunk() {
	local m
	m=$(tr -d '\r' <"$con" | sed -n 's/^lxdev: memtotal //p' | tail -n 1)
	[ -n "$m0" ] && [ -n "$m" ] && [ "$m" -le $((m0 - 90000)) ]
}
if [ -n "$m0" ] && xl mem-set lxdev 160m >"$work/memset.out" 2>&1 && wait_for 30 shrunk; then
	pass linux-dev-mem-set-balloons
else
	fail "linux-dev-mem-set-balloons (MemTotal first $m0 kB)"
	show "$work/memset.out" 3; tr -d '\r' <"$con" | grep 'memtotal' | show /dev/stdin 4
fi

# xl save and xl restore: Linux suspends through control/shutdown (SHUTDOWN_suspend), is
# restored into a new domain, and its blkfront and netfront reconnect: the ticks on xvdc
# go on and it answers pings.
tick() { head -c 16 "$work/c.img" | tr -d '\0' | sed -n 's/^tick \([0-9]*\).*/\1/p'; }
ticking() { local n; n=$(tick); [ -n "$n" ] && [ "$n" -gt "$1" ]; }
id0=$(xl domid lxdev 2>/dev/null)
if xl save lxdev "$work/lxdev.save" >"$work/save.out" 2>&1 && gone &&
	xl restore "$work/lxdev.save" >"$work/restore.out" 2>&1 &&
	id1=$(xl domid lxdev 2>/dev/null) && [ "$id1" != "$id0" ]; then
	pass linux-dev-save-restore
else
	fail "linux-dev-save-restore (domain $id0 -> ${id1:-none})"; show "$work/save.out" 4; show "$work/restore.out" 4
fi
t1=$(tick)
check linux-dev-disk-after-restore wait_for 30 ticking "${t1:-0}"
check linux-dev-net-after-restore wait_for 30 nsx ping -c1 -W1 192.0.2.2

# xl shutdown: control/shutdown = poweroff, Linux's orderly poweroff, SCHEDOP_shutdown.
if xl shutdown lxdev >"$work/shutdown.out" 2>&1 && wait_for 60 gone && says poweroff-requested &&
	grep -qE "d[0-9]+: shut down \(poweroff\)" "$hvlog" &&
	! grep -qE "d[0-9]+: (shut down \(crash\)|crashed)" "$hvlog"; then
	pass linux-dev-xl-shutdown
else
	fail linux-dev-xl-shutdown; show "$work/shutdown.out" 3; show "$con" 6
fi

# What the guest wrote is on the host's image, and the file system is clean.
wrote=$(debugfs -R 'cat /from-guest.txt' "$work/a.img" 2>/dev/null)
bmd5=$(debugfs -R 'cat /blob.bin' "$work/a.img" 2>/dev/null | md5sum | cut -d' ' -f1)
want=$(head -c 4194304 "$work/b.img" | md5sum | cut -d' ' -f1)
if says ext4-written && [ "$wrote" = written-by-debian-linux ] && [ "$bmd5" = "$want" ] &&
	e2fsck -fn "$work/a.img" >"$work/fsck.out" 2>&1; then
	pass linux-dev-ext4-written
else
	fail "linux-dev-ext4-written (file '$wrote', blob md5 $bmd5, want $want)"; show "$work/fsck.out" 4
fi

# Nothing left: no domain, no backend directory, no vif on the bridge.
be=$(xenstore-list /local/domain/0/backend/vbd /local/domain/0/backend/vif 2>/dev/null)
vifs=$(nsx ip -o link show master "$BR" 2>/dev/null)
if gone && [ -z "$be" ] && [ -z "$vifs" ]; then
	pass linux-dev-nothing-left
else
	fail "linux-dev-nothing-left (backends: '$be', vifs: '$vifs')"
fi
if grep -qE 'still in use|Disabled for further use|backed has not unmapped|blocked for more than|BUG|Oops' "$con"; then
	fail "linux-dev: the guest's kernel complained:"; grep -E "still in use|Disabled for further use|unmapped|blocked for|BUG|Oops" "$con" | show /dev/stdin 6
fi
