#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Debian's own Linux kernel as a PV domU: the vmlinuz of linux-image-cloud-amd64
# (a bzImage, lz4 inside; CONFIG_XEN_PV=y) boots with `xl create` on the KVM
# engine with a busybox initramfs whose /init prints a marker, uname and the
# CPU count, then powers off; the domain shuts down cleanly and leaves nothing
# behind; with two vCPUs; and loaded from the guest's own disk by Debian's PV
# GRUB (scripts/grub_debian.sh), as PV GRUB users boot.  See
# docs/third-party-kernels.md.
#
# The kernel and busybox-static come from Debian's archive through
# scripts/fetch_linux.sh (apt-get download + dpkg-deb -x into a cache, never
# installed; `make deps` runs it).  When the archive cannot be reached every
# case FAILS with the reason.  On the process engine every case is SKIPPED:
# Linux is linked in the upper half, which a host process cannot map
# (DESIGN.md, "Engines").
# run.sh timeout: 1200
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(linux-boots-to-userspace linux-uname linux-console-hvc0 linux-poweroff-clean
	linux-nothing-left linux-two-vcpus linux-from-pv-grub)
need_guest_engine "${TESTS[@]}" || exit 0
. tests/linux_lib.sh
linux_fetch "${TESTS[@]}" || exit 0

work=$(mktemp -d /tmp/sv-linux.XXXXXX)
on_exit "rm -rf '$work'"

# The initramfs: busybox and an /init that reports and powers off.
cat >"$work/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
echo "linux-pv-marker: userspace reached"
echo "uname: $(/bin/busybox uname -s -r -m)"
echo "cpus: $(/bin/busybox grep -c ^processor /proc/cpuinfo)"
echo "linux-pv-marker: done"
# Time for xenconsoled to drain the ring: on_poweroff destroys the domain at once.
/bin/busybox sleep 2
/bin/busybox poweroff -f
EOF
if ! linux_initramfs "$work" "$work/init"; then
	for t in "${TESTS[@]}"; do fail "$t: cannot build the initramfs"; done
	exit 1
fi

stack_start || exit 1
on_exit "xl destroy linux >/dev/null 2>&1; xl destroy linux2 >/dev/null 2>&1"
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
con=$SPLITVISOR_RUNDIR/console/guest-linux.log
gone() { ! xl list linux >/dev/null 2>&1; }

linux_cfg "$work/linux.cfg" linux "$work/initrd.gz" "console=hvc0 earlyprintk=xen"

if ! xl create -q "$work/linux.cfg" >"$work/create.out" 2>&1; then
	for t in "${TESTS[@]}"; do fail "$t: xl create failed"; done
	show "$work/create.out"
	exit 1
fi
# A slow host: the kernel's boot makes tens of thousands of page-table
# hypercalls, each a KVM shadow flush here (docs/third-party-kernels.md).
if wait_for 120 grep -q 'linux-pv-marker: done' "$con"; then
	pass linux-boots-to-userspace
else
	fail linux-boots-to-userspace
	echo "    last console lines:"; show "$con"
	echo "    hypervisor log:"; grep -v '(d[0-9]*)' "$hvlog" | show /dev/stdin 6
fi
if tr -d '\r' <"$con" | grep -qE '^uname: Linux 6\.1\.[0-9]+-[0-9]+-cloud-amd64 x86_64$'; then
	pass linux-uname
else
	fail linux-uname; show "$con" 6
fi
# Its console is hvc0 on our console ring (xenconsoled), its boot messages too.
if grep -q 'printk: console \[hvc0\] enabled' "$con" && grep -q 'Hypervisor detected: Xen PV' "$con"; then
	pass linux-console-hvc0
else
	fail linux-console-hvc0; show "$con" 5
fi
# poweroff -f: SCHEDOP_shutdown(poweroff), then on_poweroff destroys it.
if wait_for 30 gone && grep -qE "d[0-9]+: shut down \(poweroff\)" "$hvlog" &&
	! grep -qE "d[0-9]+: (shut down \(crash\)|crashed)" "$hvlog"; then
	pass linux-poweroff-clean
else
	fail linux-poweroff-clean; xl list 2>&1 | sed 's/^/    /'; grep -v '(d[0-9]*)' "$hvlog" | show /dev/stdin 6
fi
# Nothing left: no domain but dom0, no xenstore directory under /local/domain
# but dom0's.
left=$(xl list 2>/dev/null | awk 'NR > 2 {print $1}')
doms=$(xenstore-list /local/domain 2>/dev/null | grep -vx 0)
if [ -z "$left" ] && [ -z "$doms" ]; then
	pass linux-nothing-left
else
	fail "linux-nothing-left (domains: '$left', xenstore: '$doms')"
fi

# Two vCPUs: the second comes up through VCPUOP_initialise (its IOPL from the context) and
# both show in /proc/cpuinfo; the domain powers off as before.
sed -e 's/^name = .*/name = "linux2"/' -e 's/^vcpus = .*/vcpus = 2/' "$work/linux.cfg" >"$work/linux2.cfg"
con2=$SPLITVISOR_RUNDIR/console/guest-linux2.log
gone2() { ! xl list linux2 >/dev/null 2>&1; }
if xl create -q "$work/linux2.cfg" >"$work/create2.out" 2>&1 &&
	wait_for 120 grep -q 'linux-pv-marker: done' "$con2" &&
	tr -d '\r' <"$con2" | grep -qx 'cpus: 2' && wait_for 30 gone2; then
	pass linux-two-vcpus
else
	fail linux-two-vcpus; show "$con2" 8; show "$work/create2.out" 3
fi

# Booted as PV GRUB users boot: Debian's PV GRUB (itself a kernel we did not write)
# reads grub.cfg from the guest's disk and loads the kernel and initramfs from it.
# Debian 12's GRUB does not take lz4 inside a bzImage ("not xen image"), so the
# disk holds the ELF from inside it, as distributions' Xen guests did.
why=""
GD=$(scripts/grub_debian.sh "$BUILD" 2>"$work/grubdeb.err") || why="PV GRUB: $(cat "$work/grubdeb.err")"
[ -z "$why" ] && { linux_vmlinux "$work/vmlinux" 2>"$work/unpack.err" || why="$(cat "$work/unpack.err")"; }
if [ -z "$why" ]; then
	mkdir -p "$work/fs/boot/grub"
	cp "$work/vmlinux" "$work/fs/boot/vmlinux"
	cp "$work/initrd.gz" "$work/fs/boot/initrd.gz"
	printf '%s\n' 'set timeout=0' "menuentry 'Debian' {" \
		'	linux /boot/vmlinux console=hvc0 from-pv-grub' '	initrd /boot/initrd.gz' '}' \
		>"$work/fs/boot/grub/grub.cfg"
	mke2fs -q -t ext2 -d "$work/fs" "$work/grub.img" 128M >"$work/mke2fs.log" 2>&1 ||
		why="mke2fs: $(tail -n 1 "$work/mke2fs.log")"
fi
if [ -z "$why" ]; then
	cat >"$work/grub.cfg" <<EOF
name = "linuxg"
kernel = "$PWD/$GD/usr/lib/grub-xen/grub-x86_64-xen.bin"
memory = 256
disk = [ "format=raw, vdev=xvda, access=ro, target=$work/grub.img" ]
on_poweroff = "destroy"
on_crash = "destroy"
EOF
	on_exit "xl destroy linuxg >/dev/null 2>&1"
	cong=$SPLITVISOR_RUNDIR/console/guest-linuxg.log
	goneg() { ! xl list linuxg >/dev/null 2>&1; }
	if xl create -q "$work/grub.cfg" >"$work/createg.out" 2>&1 &&
		wait_for 180 grep -q 'linux-pv-marker: done' "$cong" &&
		tr -d '\r' <"$cong" | grep -q 'Kernel command line: console=hvc0 from-pv-grub' &&
		wait_for 30 goneg; then
		pass linux-from-pv-grub
	else
		fail linux-from-pv-grub; show "$cong" 8; show "$work/createg.out" 3
	fi
else
	fail "linux-from-pv-grub: $why"
fi
