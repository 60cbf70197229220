# SPDX-License-Identifier: MIT
# Debian's Linux kernel for the linux_pv*.sh scripts (sourced after tests/lib.sh).
#
# linux_fetch TESTS...: sets LC (the cache), vmlinuz, busybox and lmods (the kernel's
#   /lib/modules/VERSION/kernel) from scripts/fetch_linux.sh; on the process engine SKIPs
#   every test (Linux is linked in the upper half, which it cannot map) and returns 1; when
#   the archive cannot be reached FAILs every test with the reason and returns 1.
# linux_locate: sets LC, vmlinuz, busybox and lmods as linux_fetch does, whatever the engine;
#   returns 1 with the reason in linux_why when the kernel cannot be had.
# linux_initramfs DIR INIT [MODULE.ko...]: DIR/initrd.gz, a busybox initramfs whose /init is
#   the file INIT, with busybox's applets installed and the modules in /lib/modules.
# linux_cfg FILE NAME RAMDISK EXTRA: an xl config for Debian's kernel, 256 MiB, one vCPU,
#   destroyed when it powers off or crashes (callers append disks, vifs...).
# linux_vmlinux OUT: the ELF inside $vmlinuz (a bzImage: its payload, lz4 in Debian's,
#   decompressed as xl create does, by $BUILD/tests/kernel-unpack) written to OUT; returns 1
#   with the reason on stderr.
# show FILE [N]: the last N (12) lines of FILE, indented, without the console's CRs.
linux_fetch() {
	local t
	if [ "$(guest_engine)" != kvm ]; then
		for t in "$@"; do
			skip "$t: Linux is linked at 0xffffffff80000000 (upper half), which the process engine cannot map (DESIGN.md, Engines): KVM engine only"
		done
		return 1
	fi
	if ! linux_locate; then
		for t in "$@"; do fail "$t: $linux_why"; done
		return 1
	fi
}

linux_locate() {
	local err="/tmp/sv-fetchlinux.$$"
	if ! LC=$(scripts/fetch_linux.sh 2>"$err"); then
		linux_why=$(cat "$err"); rm -f "$err"
		return 1
	fi
	rm -f "$err"
	vmlinuz=$LC/vmlinuz
	busybox=$LC/busybox/bin/busybox
	lmods=$(echo "$LC"/kernel/lib/modules/*/kernel)
}

linux_initramfs() {
	local dir=$1 init=$2 m
	shift 2
	rm -rf "$dir/root"
	mkdir -p "$dir"/root/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,mnt,tmp,lib/modules} || return 1
	cp "$busybox" "$dir/root/bin/busybox" && cp "$init" "$dir/root/init" || return 1
	chmod +x "$dir/root/init"
	for m in "$@"; do cp "$m" "$dir/root/lib/modules/" || return 1; done
	(cd "$dir/root" && find . | ./bin/busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$dir/initrd.gz"
}

linux_cfg() {
	cat >"$1" <<EOF
name = "$2"
type = "pv"
kernel = "$vmlinuz"
ramdisk = "$3"
extra = "$4"
memory = 256
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
EOF
}

linux_vmlinux() {
	if [ ! -x "$BUILD/tests/kernel-unpack" ]; then
		echo "cannot unpack $vmlinuz: $BUILD/tests/kernel-unpack is not built (make)" >&2
		return 1
	fi
	"$BUILD/tests/kernel-unpack" "$vmlinuz" "$1"
}

show() { tail -n "${2:-12}" "$1" 2>/dev/null | tr -d '\r' | sed 's/^/    /'; }
