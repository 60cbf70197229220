#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A PV kernel we did not write: Debian's PV GRUB (grub-x86_64-xen.bin, linked
# at virtual address 0, hypercalls by a raw `syscall` from kernel mode) boots
# with `xl create` to its prompt, answers `ls` with the disk it found through
# its own blkfront, xenstore and our blkback, and `cat`s a file from that
# disk; typed through `xl console` too; then loads our kernel from that
# disk with `linux` and `boot`, which prints its banner; and, unattended,
# as PV GRUB is used, from the menu of a grub.cfg on the guest's disk.  On the process engine its runner has
# the low window (a uid of its own, CAP_SYS_RAWIO alone, seccomp on) and no
# other domain does.  See docs/third-party-kernels.md.
#
# GRUB comes from Debian's grub-xen-host package, unpacked into the build tree
# by scripts/grub_debian.sh (apt-get download + dpkg-deb -x, never installed).
# When the archive cannot be reached every case FAILS with the reason: this
# is the only kernel we did not write that the suite boots.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(grub-prompt grub-low-window grub-ls-disk grub-cat-file grub-xl-console
	grub-hypercalls-clean grub-boots-our-kernel grub-cfg-boots-unattended grub-destroy
	low-window-only-when-needed)
need_guest_engine "${TESTS[@]}" || exit 0
if ! GD=$(scripts/grub_debian.sh "$BUILD" 2>"/tmp/sv-grubdeb.$$"); then
	why=$(cat "/tmp/sv-grubdeb.$$"); rm -f "/tmp/sv-grubdeb.$$"
	for t in "${TESTS[@]}"; do fail "$t: $why"; done
	exit 1
fi
rm -f "/tmp/sv-grubdeb.$$"
pvgrub=$PWD/$GD/usr/lib/grub-xen/grub-x86_64-xen.bin
if ! command -v mke2fs >/dev/null; then
	for t in "${TESTS[@]}"; do fail "$t: mke2fs is not installed (make deps: e2fsprogs)"; done
	exit 1
fi
stack_start || exit 1

work=$(mktemp -d /tmp/sv-grub.XXXXXX)
on_exit "rm -rf '$work'"
on_exit "for d in grub grub-cfg grub-d ours; do xl destroy \$d; done >/dev/null 2>&1"
hvlog=$SPLITVISOR_RUNDIR/hypervisor.log
engine=$(guest_engine)
scale=${SV_WAIT_SCALE:-4}
probe() { xenconsoled-probe --rundir "$SPLITVISOR_RUNDIR" -t $((30 * scale)) "$@"; }
# A probe attaches to the whole console history, old prompts included: each
# session below starts by having GRUB echo a word the typed line does not
# hold (GRUB expands the variable), and waits for that before it types more.
show() { printf '%s\n' "$1" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tail -n "${2:-8}" | sed 's/^/    /'; }
gone() { ! xl list "$1" >/dev/null 2>&1; }

# The disk GRUB is to find: a small ext2 file system with one file.
mkdir -p "$work/fs/boot"
echo "marker-from-a-splitvisor-vbd" > "$work/fs/hello.txt"
cp "$SV_GUEST/svkernel" "$work/fs/boot/svkernel"
if ! mke2fs -q -t ext2 -L svgrub -d "$work/fs" "$work/disk.img" 8M >"$work/mke2fs.log" 2>&1; then
	for t in "${TESTS[@]}"; do fail "$t: mke2fs failed: $(tail -n 1 "$work/mke2fs.log")"; done
	exit 1
fi
# A second disk as a PV GRUB user has it: a grub.cfg that boots our kernel.
mkdir -p "$work/fs2/boot/grub"
cp "$SV_GUEST/svkernel" "$work/fs2/boot/svkernel"
cat >"$work/fs2/boot/grub/grub.cfg" <<'EOF'
set timeout=0
menuentry 'Splitvisor PV kernel' {
	linux /boot/svkernel print=marker-from-grub-cfg halt
}
EOF
if ! mke2fs -q -t ext2 -d "$work/fs2" "$work/disk2.img" 8M >"$work/mke2fs.log" 2>&1; then
	for t in "${TESTS[@]}"; do fail "$t: mke2fs failed: $(tail -n 1 "$work/mke2fs.log")"; done
	exit 1
fi
cat >"$work/grub.cfg" <<EOF
name = "grub"
kernel = "$pvgrub"
memory = 64
disk = [ "format=raw, vdev=xvda, access=rw, target=$work/disk.img" ]
on_crash = "preserve"
EOF

# 1. To the prompt.
if ! xl create -q "$work/grub.cfg" >"$work/create.out" 2>&1; then
	fail "grub-prompt: xl create"; sed 's/^/    /' "$work/create.out"
	tail -n 5 "$hvlog" | sed 's/^/    /'
	exit 1
fi
id=$(xl domid grub)
if out=$(probe attach "$id" expect:"Welcome to GRUB!" expect:"GNU GRUB  version" expect:"grub>" 2>&1); then
	pass "grub-prompt ($(tr -d '\r' <<<"$out" | grep -o 'GNU GRUB  version [^ ]*' | head -n 1))"
else
	fail grub-prompt; show "$out"; tail -n 5 "$hvlog" | sed 's/^/    /'
fi

# 2. The low window, on the process engine only: the runner's credentials.
if [ "$engine" = process ]; then
	rpid=$(sed -n "s/.*create 'grub': runner \([0-9]*\) has the low window.*/\1/p" "$hvlog" | tail -n 1)
	st=/proc/$rpid/status
	want_uid=$((0x5f000000 + ${rpid:-0}))
	why=()
	[ -n "$rpid" ] && [ -r "$st" ] || why+=("no 'runner N has the low window' line for grub")
	if [ ${#why[@]} -eq 0 ]; then
		grep -qP "^Uid:\t$want_uid\t$want_uid\t$want_uid\t$want_uid\$" "$st" || why+=("$(grep ^Uid: "$st")")
		grep -qP "^Gid:\t$want_uid\t" "$st" || why+=("$(grep ^Gid: "$st")")
		for c in CapEff CapPrm CapBnd; do
			grep -qP "^$c:\t0000000000020000\$" "$st" || why+=("$(grep "^$c:" "$st") (want CAP_SYS_RAWIO alone)")
		done
		grep -qP "^CapInh:\t0000000000000000\$" "$st" || why+=("$(grep ^CapInh: "$st")")
		grep -qP "^CapAmb:\t0000000000000000\$" "$st" || why+=("$(grep ^CapAmb: "$st")")
		grep -qP "^NoNewPrivs:\t1\$" "$st" || why+=("no_new_privs not set")
		grep -qP "^Seccomp:\t2\$" "$st" || why+=("no seccomp filter")
		# Guest memory at VA 0: the first mapping of the runner starts there.
		first=$(awk 'NR == 1 {print $1}' "/proc/$rpid/maps" 2>/dev/null)
		[ "${first%%-*}" = 00000000 ] || [ "${first%%-*}" = 0 ] || why+=("first mapping $first, not at 0")
	fi
	if [ ${#why[@]} -eq 0 ]; then
		pass "grub-low-window (runner $rpid: uid $want_uid, CAP_SYS_RAWIO alone, seccomp)"
	else
		fail grub-low-window; printf '    %s\n' "${why[@]}"
	fi
else
	skip "grub-low-window: the $engine engine maps VA 0 without one"
fi

# 3-4. ls and cat through the console: GRUB's blkfront found xvda and reads it.
out=$(probe attach "$id" 'send:echo ls-ready-$grub_platform' expect:ls-ready-xen send:"ls" expect:"(xen/xvda)" expect:"grub>" \
	send:"cat (xen/xvda)/hello.txt" expect:"marker-from-a-splitvisor-vbd" expect:"grub>" 2>&1)
rc=$?
if grep -qF '(xen/xvda)' <<<"$out"; then
	pass "grub-ls-disk ($(tr -d '\r' <<<"$out" | grep -o '(memdisk).*(xen/xvda)' | head -n 1))"
else
	fail grub-ls-disk; show "$out"
fi
if [ $rc -eq 0 ] && grep -q 'marker-from-a-splitvisor-vbd' <<<"$out" &&
	grep -q "vbd $id/51712: connected" "$SPLITVISOR_RUNDIR/blkback.log"; then
	pass grub-cat-file
else
	fail grub-cat-file; show "$out"; tail -n 3 "$SPLITVISOR_RUNDIR/blkback.log" | sed 's/^/    /'
fi

# 5. What a user runs: `xl console` on a terminal (script(1) gives it one),
#    typing a command, detaching with ^].
mkfifo "$work/in"
script -qfec "xl console grub" /dev/null <"$work/in" >"$work/console.out" 2>&1 &
cpid=$!
exec 7>"$work/in"
printf 'echo typed-through-$grub_platform-console\n' >&7
typed() { tr -d '\r' <"$work/console.out" | grep -q 'typed-through-xen-console'; }
if wait_for 30 typed; then
	pass grub-xl-console
else
	fail grub-xl-console; show "$(cat "$work/console.out")"
fi
printf '\035' >&7
exec 7>&-
if ! wait_for 10 eval "! kill -0 $cpid 2>/dev/null"; then
	fail "grub-xl-console: xl console did not detach on ^]"; kill "$cpid" 2>/dev/null
fi
wait "$cpid" 2>/dev/null

# 6. Nothing GRUB asked for was refused as unimplemented, and it never crashed.
bad=$(grep -E " d$id: (crashed|hypercall [0-9]+ not implemented)" "$hvlog")
if [ -z "$bad" ] && xl list grub 2>/dev/null | awk '$1 == "grub" {print $5}' | grep -qv c; then
	pass grub-hypercalls-clean
else
	fail grub-hypercalls-clean; printf '%s\n' "$bad" | sed 's/^/    /'
fi

# 7. GRUB's Xen loader boots our kernel from the disk: page tables and
#    start info built with mmu_update/mmuext_op, then our banner.
out=$(probe attach "$id" 'send:echo boot-ready-$grub_platform' expect:boot-ready-xen \
	send:'linux (xen/xvda)/boot/svkernel print=marker-booted-by-grub halt; echo loaded-$grub_platform' \
	expect:"loaded-xen" send:"boot" expect:"Splitvisor PV kernel" expect:"marker-booted-by-grub" 2>&1)
if [ $? -eq 0 ] && wait_for 10 gone grub &&
	grep -q " d$id: shut down (poweroff)" "$hvlog"; then
	pass "grub-boots-our-kernel ($(tr -d '\r' <<<"$out" | grep -o '^Splitvisor PV kernel.*' | head -n 1))"
else
	fail grub-boots-our-kernel; show "$out" 12; grep " d$id: " "$hvlog" | tail -n 3 | sed 's/^/    /'
fi

# 8. Unattended, as PV GRUB is used: `xl create -c`, GRUB reads the guest's
#    /boot/grub/grub.cfg and boots its entry.
sed -e 's/^name = .*/name = "grub-cfg"/' -e "s|disk.img|disk2.img|" "$work/grub.cfg" >"$work/grub-cfg.cfg"
out=$(timeout $((60 * scale)) xl create -c "$work/grub-cfg.cfg" 2>&1 | tr -d '\r')
if grep -q "Reading (xen/xvda)/boot/grub/grub.cfg" <<<"$out" &&
	grep -q "Booting .Splitvisor PV kernel'" <<<"$out" &&
	grep -q '^Splitvisor PV kernel' <<<"$out" && grep -q '^marker-from-grub-cfg' <<<"$out" &&
	grep -q '^poweroff' <<<"$out" && wait_for 10 gone grub-cfg; then
	pass grub-cfg-boots-unattended
else
	fail grub-cfg-boots-unattended; show "$out" 12
fi

# 9. Destroy at the prompt (GRUB polls: its vCPU is running): the domain and
#    its runner go, and no crash is logged for it.
sed -e 's/^name = .*/name = "grub-d"/' -e '/^disk/d' "$work/grub.cfg" >"$work/grub-d.cfg"
rpid=""
if xl create -q "$work/grub-d.cfg" >/dev/null 2>&1 && did=$(xl domid grub-d) &&
	probe attach "$did" expect:"grub>" >/dev/null 2>&1; then
	[ "$engine" = process ] &&
		rpid=$(sed -n "s/.*create 'grub-d': runner \([0-9]*\) has the low window.*/\1/p" "$hvlog" | tail -n 1)
	if xl destroy grub-d && wait_for 10 gone grub-d &&
		{ [ -z "$rpid" ] || wait_for 10 eval "[ ! -e /proc/$rpid/status ]"; } &&
		! grep -q " d$did: crashed" "$hvlog"; then
		pass "grub-destroy${rpid:+ (runner $rpid gone)}"
	else
		fail grub-destroy; xl list | sed 's/^/    /'; grep " d$did: " "$hvlog" | sed 's/^/    /'
	fi
else
	fail "grub-destroy: a second GRUB did not reach its prompt"
fi

# 10. A kernel linked high (ours) keeps today's runner: its own user
#    namespace, no low window, nothing of the host's capabilities.
pv_guest_cfg "$work/ours.cfg" ours wait
if [ "$engine" != process ]; then
	skip "low-window-only-when-needed: not the process engine"
elif xl create -q "$work/ours.cfg" >/dev/null 2>&1 && oid=$(xl domid ours) &&
	wait_for 15 grep -q "d$oid: created 'ours'" "$hvlog"; then
	opid=$(sed -n "s/.*create 'ours': runner \([0-9]*\) ready.*/\1/p" "$hvlog" | tail -n 1)
	if ! grep -q "create 'ours': runner [0-9]* has the low window" "$hvlog" && [ -n "$opid" ] &&
		[ "$(readlink "/proc/$opid/ns/user")" != "$(readlink /proc/self/ns/user)" ]; then
		pass "low-window-only-when-needed (runner $opid in its own user namespace)"
	else
		fail "low-window-only-when-needed (runner ${opid:-?})"
		grep "'ours'" "$hvlog" | sed 's/^/    /'
	fi
	xl destroy ours >/dev/null 2>&1
else
	fail "low-window-only-when-needed: our kernel did not start"; tail -n 5 "$hvlog" | sed 's/^/    /'
fi
