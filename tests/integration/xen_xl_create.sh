#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's own, unmodified Xen 4.17 `xl create` builds and boots a PV domain of our
# kernel on our stack: libxl and libxc's PV builder (createdomain, populate_physmap,
# foreign maps, the vCPU context...) through our libxencall & co. (build/lib/xen), the
# banner on our xenconsoled, Debian's `xl list` and `xl destroy`, and nothing left over.
# Bad configurations fail with libxl's error and leave no domain behind.
#
# The tools come from Debian's xen-utils-4.17 packages, unpacked by
# scripts/xen_debian.sh (see xen_tools.sh); without them every test is skipped.
cd "$(dirname "$0")/../.." || exit 1

TESTS=(xlc-create xlc-banner xlc-list xlc-ours xlc-destroy xlc-leftovers xlc-pty xlc-shutdown xlc-smp-mem xlc-disk xlc-vif xlc-grub xlc-grub-cfg xlc-hvm
	xlc-too-big xlc-alive)
. tests/xen_lib.sh # its own mount namespace: private /var/lib/xen, /run/xen... (see there)
xen_begin || exit 0
# The vif test's bridge lives in a network namespace of the stack's own.
have_net=
if command -v ip >/dev/null && command -v ping >/dev/null && [ -c /dev/net/tun ]; then
	netns_start svxlc svxbr
	have_net=1
fi
stack_start || exit 1
xen_workdir xlcreate

cfg() {
	{
		echo "name = \"$1\""
		echo "kernel = \"$SV_GUEST/svkernel\""
		echo "memory = ${2:-32}"
		echo "vcpus = ${4:-1}"
		echo "cmdline = \"${5:-wait}\""
		[ -n "${3:-}" ] && echo "$3"
	} > "$work/$1.cfg"
	echo "$work/$1.cfg"
}
dgone() { ! dlisted "$1"; }

# ---- create ----
if dxl create "$(cfg dx 32)" >"$work/out"; then
	pass "xlc-create"
else
	fail "xlc-create"; show "Debian's xl create" "$(cat "$work/out" "$work/err")"
	grep "xctl" "$SPLITVISOR_RUNDIR/hypervisor.log" | sed 's/^/    /'
	exit 1
fi
id=$(dxl domid dx)

# ---- the banner, on our xenconsoled, through the console ring libxc set up ----
if wait_for 20 cons_has dx "wait: blocking until" &&
	cons_has dx "Splitvisor PV kernel" && cons_has dx "memory: 32 MiB"; then
	pass "xlc-banner"
else
	fail "xlc-banner"; show "console" "$(cat "$SPLITVISOR_RUNDIR/console/guest-dx.log" 2>&1)"
fi

# ---- Debian's xl list: the name (from xenstore), 32 MiB, one vCPU, blocked ----
line=$(dxl list dx | awk '$1 == "dx"')
if [ "$(echo "$line" | awk '{print $2, $3, $4}')" = "$id 32 1" ] &&
	echo "$line" | awk '{print $5}' | grep -q b; then
	pass "xlc-list"
else
	fail "xlc-list"; show "Debian's xl list dx" "$line $(cat "$work/err")"
fi

# ---- our xl sees the same domain (named xen-N in the hypervisor) ----
if xl list | awk -v id="$id" '$2 == id {print $3, $4}' | grep -qx "32 1"; then
	pass "xlc-ours"
else
	fail "xlc-ours"; show "our xl list" "$(xl list)"
fi

# ---- Debian's xl destroy ----
if dxl destroy dx && ! dlisted dx && ! xl list | awk 'NR > 1 {print $2}' | grep -qx "$id"; then
	pass "xlc-destroy"
else
	fail "xlc-destroy"; show "err" "$(cat "$work/err")"; show "xl list" "$(xl list)"
fi

# ---- nothing left: store nodes, libxl's records, the monitor, the runner ----
gone() {
	! xenstore-ls /local/domain 2>/dev/null | grep -q "^$id = " &&
		! ls /var/lib/xen/userdata-?."$id".* >/dev/null 2>&1 &&
		[ -z "$(monitors)" ] &&
		! pgrep -f "sv-runner.*d$id\b" >/dev/null &&
		[ "$(xl list | awk 'NR > 1' | wc -l)" -eq 1 ]
}
if wait_for 10 gone; then
	pass "xlc-leftovers"
else
	fail "xlc-leftovers"
	show "/local/domain" "$(xenstore-ls /local/domain 2>&1 | head -20)"
	show "monitors" "$(monitors)"; show "xl list" "$(xl list)"
fi

# ---- the guest's pty (console/tty, which libxl waited for; Xen's xenconsole opens it):
# a line typed on it reaches the guest, whose echo comes back on it and in the log ----
if dxl create "$(cfg dp 32 '' 1 'console-echo')" >"$work/out" &&
	wait_for 20 cons_has dp "console-echo: type lines" &&
	tty=$(xenstore-read "/local/domain/$(dxl domid dp)/console/tty") && [ -c "$tty" ] &&
	printf 'hello-pty\n' >"$tty" && wait_for 20 cons_has dp "echo: hello-pty" &&
	printf 'quit\n' >"$tty" && wait_for 20 cons_has dp "console-echo: quit" &&
	{ dxl destroy dp || true; } && wait_for 20 dgone dp; then
	pass "xlc-pty"
else
	fail "xlc-pty"; show "err" "$(tail -5 "$work/err")"; show "tty" "${tty:-}"
	show "console" "$(tail -5 "$SPLITVISOR_RUNDIR/console/guest-dp.log" 2>&1)"
fi

# ---- xl shutdown: the guest powers off and Debian's xl's own monitor (a forked child of
# xl create, on its own connection) sees it and destroys the domain (on_poweroff) ----
if dxl create "$(cfg ds 32)" >"$work/out" && wait_for 20 cons_has ds "wait: blocking until" &&
	dxl shutdown -w ds && wait_for 10 cons_has ds "control: poweroff requested" &&
	wait_for 10 no_xen_domain &&
	wait_for 10 test -z "$(monitors)"; then
	pass "xlc-shutdown"
else
	fail "xlc-shutdown"; show "err" "$(cat "$work/err")"; show "xl list" "$(xl list)"
	show "monitor's log" "$(tail -5 /var/log/xen/xl-ds.log 2>&1)"
fi

# ---- two vCPUs, memory below maxmem: the guest brings vCPU 1 up itself; Debian's
# xl mem-set balloons it down, xl vcpu-set takes vCPU 1 away ----
if dxl create "$(cfg dm 64 'maxmem = 128' 2 'smp wait')" >"$work/out" &&
	wait_for 20 cons_has dm "wait: blocking until" && cons_has dm "smp: 2 vcpus ran" &&
	[ "$(dxl list dm | awk '$1 == "dm" {print $3, $4}')" = "64 2" ] &&
	dxl mem-set dm 48 && wait_for 20 cons_has dm "target 49152 KiB" &&
	dxl vcpu-set dm 1 && wait_for 20 cons_has dm "cpuhotplug: vcpu 1 offline" &&
	dxl destroy dm && ! dlisted dm; then
	pass "xlc-smp-mem"
else
	fail "xlc-smp-mem"; show "err" "$(cat "$work/err")"
	show "console" "$(tail -8 "$SPLITVISOR_RUNDIR/console/guest-dm.log" 2>&1)"
fi

# ---- a disk: libxl writes the vbd nodes and runs our hotplug script, blkback serves the
# image, the guest's blk-selftest reads and writes it; destroy takes the device away ----
truncate -s 16M "$work/disk.img"
disk="disk = [ 'format=raw,vdev=xvda,access=rw,script=$PWD/scripts/xl_hotplug.sh,target=$work/disk.img' ]"
vbd_gone() { ! xenstore-ls /local/domain/0/backend/vbd 2>/dev/null | grep -q .; }
if dxl create "$(cfg dd 32 "$disk" 1 'blk-selftest wait')" >"$work/out" &&
	wait_for 30 cons_has dd "wait: blocking until" && cons_has dd "blk-selftest: ok" &&
	dxl destroy dd && ! dlisted dd && wait_for 10 vbd_gone; then
	pass "xlc-disk"
else
	fail "xlc-disk"; show "err" "$(tail -5 "$work/err")"
	show "console" "$(tail -8 "$SPLITVISOR_RUNDIR/console/guest-dd.log" 2>&1)"
	show "blkback" "$(tail -5 "$SPLITVISOR_RUNDIR/blkback.log")"
fi

# ---- a vif: libxl writes the vif nodes, netback makes the TAP in the bridge, the
# guest's netfront takes its address from the backend and answers ping ----
vif="vif = [ 'mac=00:16:3e:00:cc:02,bridge=${BR:-none},ip=192.0.2.2,script=$PWD/scripts/xl_hotplug.sh' ]"
if [ -z "$have_net" ]; then
	skip "xlc-vif: needs iproute2, iputils-ping and /dev/net/tun"
elif dxl create "$(cfg dv 32 "$vif" 1 'udp-echo=7 wait')" >"$work/out" &&
	wait_for 10 nsx ip link show "$BR" && nsx ip addr add 192.0.2.1/24 dev "$BR" &&
	nsx ip link set "$BR" up && wait_for 30 nsx ping -c1 -W1 192.0.2.2 &&
	dxl destroy dv && ! dlisted dv; then
	pass "xlc-vif"
else
	fail "xlc-vif"; show "err" "$(tail -5 "$work/err")"
	show "console" "$(tail -8 "$SPLITVISOR_RUNDIR/console/guest-dv.log" 2>&1)"
	show "netback" "$(tail -5 "$SPLITVISOR_RUNDIR/netback.log")"
fi

# ---- PV GRUB (linked at VA 0), as on Xen: createdomain cannot say the kernel maps VAs
# below 1 MiB, so the hypervisor sees it at the first vCPU context and (process engine)
# relaunches the never-run domain's runner with the low window; GRUB gets to its prompt ----
grub=$(scripts/grub_debian.sh "$BUILD" 2>/dev/null)/usr/lib/grub-xen/grub-x86_64-xen.bin
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
if [ ! -r "$grub" ]; then
	skip "xlc-grub: Debian's PV GRUB could not be had (scripts/grub_debian.sh)"
	skip "xlc-grub-cfg: Debian's PV GRUB could not be had (scripts/grub_debian.sh)"
else
	process=; grep -q "default engine: process" "$hvlog" && process=1
	# The low window only where the host refuses low mappings (vm.mmap_min_addr).
	lowwin=; [ -n "$process" ] && [ "$(cat /proc/sys/vm/mmap_min_addr 2>/dev/null)" != 0 ] && lowwin=1
	# A relaunch with the low window is logged for the domain (process engine only).
	relaunched() {
		[ -z "$process" ] && return 0
		local id=$1
		[ -n "$id" ] || return 1
		grep -q " d$id: runner [0-9]* relaunched as [0-9]*" "$hvlog" &&
			{ [ -z "$lowwin" ] || grep -q "create 'xen-$id': runner [0-9]* has the low window" "$hvlog"; }
	}
	# The relaunched runner of a live domain, as pv_grub.sh's grub-low-window checks one
	# made with the low window at create: its own uid, CAP_SYS_RAWIO alone, no_new_privs,
	# seccomp, guest memory at VA 0; the first runner is gone.
	low_runner() {
		[ -z "$lowwin" ] && return 0
		local old new st u
		old=$(sed -n "s/.* d$1: runner \([0-9]*\) relaunched as [0-9]*.*/\1/p" "$hvlog" | tail -n 1)
		new=$(sed -n "s/.* d$1: runner [0-9]* relaunched as \([0-9]*\).*/\1/p" "$hvlog" | tail -n 1)
		st=/proc/$new/status u=$((0x5f000000 + ${new:-0}))
		[ -n "$old" ] && [ -n "$new" ] && [ ! -e "/proc/$old/status" ] && [ -r "$st" ] &&
			grep -qP "^Uid:\t$u\t$u\t$u\t$u\$" "$st" &&
			grep -qP "^CapEff:\t0000000000020000\$" "$st" &&
			grep -qP "^CapBnd:\t0000000000020000\$" "$st" &&
			grep -qP "^NoNewPrivs:\t1\$" "$st" && grep -qP "^Seccomp:\t2\$" "$st" &&
			awk 'NR == 1 {print $1}' "/proc/$new/maps" | grep -q '^0*-'
	}
	sed -i -e "s|^kernel = .*|kernel = \"$PWD/$grub\"|" -e '/^cmdline/d' "$(cfg dg 64)"
	if dxl create "$work/dg.cfg" >"$work/out" && gid=$(dxl domid dg) &&
		wait_for 60 cons_has dg "grub>" && cons_has dg "GNU GRUB" && relaunched "$gid" &&
		low_runner "$gid" &&
		! grep -q "crash" "$hvlog" && dxl destroy dg && ! dlisted dg; then
		pass "xlc-grub"
	else
		fail "xlc-grub"; show "err" "$(tail -5 "$work/err")"; show "xl list" "$(xl list)"
		show "console" "$(tail -5 "$SPLITVISOR_RUNDIR/console/guest-dg.log" 2>&1)"
		show "hypervisor" "$(tail -5 "$hvlog")"
	fi

	# ---- and boots our kernel from a grub.cfg on its disk, unattended, as PV GRUB
	# is used (pv_grub.sh's disk): our banner, the marker, poweroff, the domain gone ----
	mkdir -p "$work/fs2/boot/grub"
	cp "$SV_GUEST/svkernel" "$work/fs2/boot/svkernel"
	cat >"$work/fs2/boot/grub/grub.cfg" <<'EOF2'
set timeout=0
menuentry 'Splitvisor PV kernel' {
	linux /boot/svkernel print=marker-from-xl-grub-cfg halt
}
EOF2
	if ! mke2fs -q -t ext2 -d "$work/fs2" "$work/grubdisk.img" 8M >"$work/mke2fs.log" 2>&1; then
		fail "xlc-grub-cfg: mke2fs failed: $(tail -n 1 "$work/mke2fs.log")"
	else
		gdisk="disk = [ 'format=raw,vdev=xvda,access=rw,script=$PWD/scripts/xl_hotplug.sh,target=$work/grubdisk.img' ]"
		sed -i -e "s|^kernel = .*|kernel = \"$PWD/$grub\"|" -e '/^cmdline/d' "$(cfg dgc 64 "$gdisk")"
		if dxl create "$work/dgc.cfg" >"$work/out" && gid=$(dxl domid dgc) &&
			wait_for 60 cons_has dgc "marker-from-xl-grub-cfg" &&
			cons_has dgc "Splitvisor PV kernel" && relaunched "$gid" &&
			wait_for 30 eval '! dlisted dgc' && ! grep -q "crash" "$hvlog"; then
			pass "xlc-grub-cfg"
		else
			fail "xlc-grub-cfg"; show "err" "$(tail -5 "$work/err")"; show "xl list" "$(xl list)"
			show "console" "$(tail -8 "$SPLITVISOR_RUNDIR/console/guest-dgc.log" 2>&1)"
			show "hypervisor" "$(tail -5 "$hvlog")"
		fi
	fi
fi

# ---- an HVM guest: the hypervisor refuses createdomain (no HVM), libxl says so ----
n_before=$(xl list | wc -l)
if ! dxl create "$(cfg dh 32 'type = "hvm"')" >"$work/out" 2>&1 &&
	[ "$(xl list | wc -l)" -eq "$n_before" ] && ! dlisted dh; then
	pass "xlc-hvm"
else
	fail "xlc-hvm"; show "err" "$(cat "$work/err")"; show "xl list" "$(xl list)"
fi

# ---- more than the 2 GiB a dom0-built domain is laid out for: populate fails, no domain ----
if ! dxl create "$(cfg db 3072)" >"$work/out" 2>&1 && ! dlisted db &&
	wait_for 10 bash -c '[ "$(xl list | wc -l)" -eq "$1" ]' _ "$n_before"; then
	pass "xlc-too-big"
else
	fail "xlc-too-big"; show "err" "$(tail -5 "$work/err")"; show "xl list" "$(xl list)"
fi

# ---- the stack still serves: our own xl creates a guest ----
pv_guest_cfg "$work/ok.cfg" ok wait
if xl create -q "$work/ok.cfg" >/dev/null 2>&1 &&
	wait_for 20 grep -qF "wait: blocking until" "$SPLITVISOR_RUNDIR/console/guest-ok.log"; then
	pass "xlc-alive"
else
	fail "xlc-alive"; show "xl list" "$(xl list)"
fi

