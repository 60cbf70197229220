#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xl's progress line (dom0/xl_progress.c) on its long waits: `xl shutdown -w`,
# `xl reboot -w` and `xl block-detach` draw a self-rewriting line on stderr when
# it is a terminal (here a pty from script(1)), and print nothing of it to a
# pipe or with TERM=dumb; the final messages are Xen's either way.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(shutdown-progress-on-tty shutdown-quiet-without-tty shutdown-quiet-on-dumb-term
	reboot-progress-on-tty detach-progress-on-tty detach-quiet-without-tty)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

work=$(mktemp -d /tmp/sv-prog.XXXXXX)
on_exit "rm -rf '$work'"
truncate -s 8M "$work/d.img"

# guest NAME [DISK-SPEC]: start a guest that runs until asked to stop.
guest() {
	{
		printf 'name = "%s"\nkernel = "%s"\nmemory = 32\ncmdline = "wait"\n' "$1" "$SV_GUEST/svkernel"
		[ -n "${2:-}" ] && printf 'disk = [ "%s" ]\n' "$2"
	} > "$work/$1.cfg"
	on_exit "xl destroy '$1' >/dev/null 2>&1"
	xl create -q "$work/$1.cfg" >/dev/null 2>&1 || return 1
	# Cooperative shutdown needs the guest's control driver: wait for it.
	local d
	d=$(xl domid "$1" 2>/dev/null) || return 1
	# (xl create makes the node empty, for the guest to write: wait for its "1".)
	wait_for 30 poweroff_announced "$d"
}
# on_tty [ENV...] CMD: run CMD with stdin/stdout/stderr on a pty; prints what it wrote.
on_tty() { TERM=xterm script -qec "$*" /dev/null </dev/null; }
esc=$'\033[K'

# 1. shutdown -w on a terminal: the line, redrawn with \r, erased, then Xen's message.
guest p1 || fail "shutdown-progress-on-tty (guest p1 did not come up)"
id=$(xl domid p1)
out=$(on_tty timeout 60 xl shutdown -w p1)
if grep -qF "Waiting for domain p1 ($id) to shut down" <<<"$out" && [[ $out == *$'\r'* ]] &&
	[[ $out == *"$esc"* ]] && grep -q "Domain $id has been shut down" <<<"$out"; then
	pass shutdown-progress-on-tty
else
	fail shutdown-progress-on-tty; printf '%s\n' "$out" | cat -A | sed 's/^/    /'
fi

# 2. Not a terminal: exactly the lines Xen's xl prints, no progress.
guest p2 || fail "shutdown-quiet-without-tty (guest p2 did not come up)"
id=$(xl domid p2)
out=$(timeout 60 xl shutdown -w p2 2>&1)
if [ "$out" = "Waiting for 1 domains
Domain $id has been shut down, reason code 0" ]; then
	pass shutdown-quiet-without-tty
else
	fail shutdown-quiet-without-tty; printf '%s\n' "$out" | cat -A | sed 's/^/    /'
fi

# 3. A terminal that cannot rewrite a line (TERM=dumb): no progress either.
guest p3 || fail "shutdown-quiet-on-dumb-term (guest p3 did not come up)"
out=$(TERM=dumb script -qec "timeout 60 xl shutdown -w p3" /dev/null </dev/null)
if grep -q 'has been shut down' <<<"$out" && ! grep -q 'Waiting for domain' <<<"$out" &&
	[[ $out != *"$esc"* ]]; then
	pass shutdown-quiet-on-dumb-term
else
	fail shutdown-quiet-on-dumb-term; printf '%s\n' "$out" | cat -A | sed 's/^/    /'
fi

# 4. reboot -w says what it waits for.
guest p4 || fail "reboot-progress-on-tty (guest p4 did not come up)"
id=$(xl domid p4)
out=$(on_tty timeout 60 xl reboot -w p4)
if grep -qF "Waiting for domain p4 ($id) to reboot" <<<"$out" &&
	grep -q "Domain $id has been shut down, reason code 1" <<<"$out"; then
	pass reboot-progress-on-tty
else
	fail reboot-progress-on-tty; printf '%s\n' "$out" | cat -A | sed 's/^/    /'
fi
xl destroy p4 >/dev/null 2>&1

# 5. block-detach waits for the guest to close the disk, on a terminal with the line.
guest p5 "format=raw, vdev=xvda, access=rw, target=$work/d.img" ||
	fail "detach-progress-on-tty (guest p5 did not come up)"
id=$(xl domid p5)
xl block-attach p5 "format=raw, vdev=xvdb, access=rw, target=$work/d.img" >/dev/null 2>&1
wait_for 20 bash -c "xenstore-read /local/domain/0/backend/vbd/$id/51728/state | grep -qx 4"
out=$(on_tty timeout 30 xl block-detach p5 xvda)
if grep -qF "Waiting for disk xvda of domain $id to close" <<<"$out" && [[ $out == *"$esc"* ]] &&
	! grep -q warning <<<"$out"; then
	pass detach-progress-on-tty
else
	fail detach-progress-on-tty; printf '%s\n' "$out" | cat -A | sed 's/^/    /'
fi

# 6. ... and without a terminal it prints nothing at all.
out=$(timeout 30 xl block-detach p5 xvdb 2>&1)
if [ $? -eq 0 ] && [ -z "$out" ]; then
	pass detach-quiet-without-tty
else
	fail detach-quiet-without-tty; printf '%s\n' "$out" | cat -A | sed 's/^/    /'
fi
