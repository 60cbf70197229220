#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xl save / xl restore of our PV kernel with a disk, a vif and 2 vCPUs in use (the
# resume-io word: a read of xvda always in flight, the vif answering ping, vCPU 1 kept
# online).  First `xl save -c`: the suspend is cancelled and the guest runs on with every
# device as it was.  Then a real save (the domain goes) and restore (a new domain): the
# kernel rebuilds what the domain lost and reconnects its frontends to the backends xl
# made; its console goes on, the block written before the save reads back, a write after
# the restore lands in the image, the vif answers ping, both vCPUs run, xenstore works
# (xl shutdown through control/shutdown).  A restored domain is saved and restored again.
# Under the FIFO event ABI (the kernel's default), then a guest on 2-level events.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(sr-guest-up sr-save-cancel-devices sr-save-destroys sr-restore-new-domain
	sr-restore-console-goes-on sr-restore-disk-read sr-restore-disk-write-persists
	sr-restore-net sr-restore-vcpus sr-restore-twice sr-restore-xenstore-shutdown
	sr-restore-2level)
need_guest_engine "${TESTS[@]}" || exit 0
kernel=$SV_GUEST/svkernel
[ -f "$kernel" ] || { fail "guest kernel $kernel not built"; exit 1; }
if ! "$SV_BIN/xl" help 2>&1 | grep -qw restore; then
	for t in "${TESTS[@]}"; do skip "$t: xl has no save/restore"; done
	exit 0
fi
if ! command -v ip >/dev/null || [ ! -c /dev/net/tun ] || ! command -v ping >/dev/null; then
	for t in "${TESTS[@]}"; do skip "$t: needs iproute2, iputils-ping and /dev/net/tun"; done
	exit 0
fi

netns_start svsr svsrbr
stack_start || exit 1
work=$(mktemp -d /tmp/sv-sr.XXXXXX)
on_exit "rm -rf '$work'"
on_exit "xl destroy sr >/dev/null 2>&1"
con=$SPLITVISOR_RUNDIR/console/guest-sr.log
img=$work/disk.img
truncate -s 16M "$img"

cat > "$work/sr.cfg" <<EOC
name = "sr"
kernel = "$kernel"
memory = 32
vcpus = 2
cmdline = "resume-io=900"
disk = [ 'format=raw, vdev=xvda, access=rw, target=$img' ]
vif = [ 'mac=00:16:3e:00:5a:02, bridge=$BR, ip=192.0.2.2' ]
on_poweroff = "destroy"
on_crash = "destroy"
EOC

# The generation the guest's block (sector 2048, one page) holds in the image: "g00000N@...".
gen_in_image() {
	dd if="$img" bs=512 skip=2048 count=8 status=none | head -c 7
}
image_has_gen() { [ "$(gen_in_image)" = "$(printf 'g%06d' "$1")" ]; }
running() { xl list sr >/dev/null 2>&1 && [[ "$(xl list sr | awk 'NR == 2 { print $5 }')" != *s* ]]; }
gone() { ! xl list sr >/dev/null 2>&1; }
# Lines of the console log after its first N lines.
since() { tail -n +"$(($1 + 1))" "$con"; }
seen_since() { since "$1" | grep -q -- "$2"; }
lines() { wc -l < "$con"; }
show() { tail -n "${1:-12}" "$con" | sed 's/^/    /'; }

xl create "$work/sr.cfg" > /dev/null 2>&1 || { fail "sr-guest-up: xl create"; exit 1; }
wait_for 10 nsx ip link show "$BR" || { fail "bridge $BR never appeared"; exit 1; }
nsx ip addr add 192.0.2.1/24 dev "$BR"
nsx ip link set "$BR" up
if wait_for 60 grep -q '^resume-io: ready (disk xvda gen 0, 1 vifs, 2 vcpus)' "$con" &&
	wait_for 30 nsx ping -c1 -W1 192.0.2.2 && image_has_gen 0; then
	pass sr-guest-up
else
	fail sr-guest-up; show; exit 1
fi
dom1=$(xl domid sr)

# xl save -c: suspended, recorded, resumed where it was (the guest's call returns 1).
n=$(lines)
out=$(xl save -c sr "$work/sr.save" 2>&1)
if [ $? -eq 0 ] && [ -s "$work/sr.save" ] &&
	wait_for 60 seen_since "$n" '^resume-io: resume 1: 2 of 2 vcpus ok, 1 vifs up' &&
	seen_since "$n" '^control: suspend cancelled, running on$' &&
	seen_since "$n" '^resume-io: resume 1: read back gen 0 ok' &&
	seen_since "$n" '^resume-io: resume 1: wrote gen 1 ok' && image_has_gen 1 &&
	[ "$(xl domid sr)" = "$dom1" ] && running && wait_for 30 nsx ping -c1 -W1 192.0.2.2; then
	pass sr-save-cancel-devices
else
	fail sr-save-cancel-devices; echo "$out" | sed 's/^/    /'; show
fi

# A real save: the domain is gone, the file holds it.
n=$(lines)
out=$(xl save sr "$work/sr.save" 2>&1)
if [ $? -eq 0 ] && [ -s "$work/sr.save" ] && wait_for 30 gone; then
	pass sr-save-destroys
else
	fail sr-save-destroys; echo "$out" | sed 's/^/    /'; show; exit 1
fi

# restore_and_check ROUND GEN: xl restore, then the guest's lines for suspend ROUND.
restore_ok() {
	local round=$1 gen=$2 n=$3
	wait_for 90 seen_since "$n" "^resume-io: resume $round: [0-9] of 2 vcpus ok"
}
out=$(xl restore "$work/sr.save" 2>&1)
rc=$?
dom2=$(xl domid sr 2>/dev/null)
if [ $rc -eq 0 ] && [ -n "$dom2" ] && [ "$dom2" != "$dom1" ] &&
	wait_for 60 seen_since "$n" '^control: resumed in a new domain (store port'; then
	pass sr-restore-new-domain
else
	fail sr-restore-new-domain; echo "$out" | sed 's/^/    /'; show
fi
restore_ok 2 1 "$n"
if seen_since "$n" '^control: resume done' &&
	seen_since "$n" '^blkfront: vbd 51712: reconnected after the restore' &&
	seen_since "$n" '^netfront: vif0 up'; then
	pass sr-restore-console-goes-on
else
	fail sr-restore-console-goes-on; show 20
fi
check sr-restore-disk-read seen_since "$n" '^resume-io: resume 2: read back gen 1 ok'
if seen_since "$n" '^resume-io: resume 2: wrote gen 2 ok' && image_has_gen 2; then
	pass sr-restore-disk-write-persists
else
	fail sr-restore-disk-write-persists; echo "    image holds $(gen_in_image)"; show
fi
check sr-restore-net wait_for 30 nsx ping -c2 -W1 192.0.2.2
if seen_since "$n" '^resume-io: resume 2: 2 of 2 vcpus ok, 1 vifs up, kept reads [0-9]* ok 0 bad' &&
	running && xl list sr | awk 'NR == 2 { exit !($4 == 2) }'; then
	pass sr-restore-vcpus
else
	fail sr-restore-vcpus; xl list sr 2>&1 | sed 's/^/    /'; show
fi

# The restored domain saved and restored once more.
n=$(lines)
if xl save sr "$work/sr2.save" > /dev/null 2>&1 && wait_for 30 gone &&
	xl restore "$work/sr2.save" > /dev/null 2>&1 &&
	wait_for 90 seen_since "$n" '^resume-io: resume 3: 2 of 2 vcpus ok, 1 vifs up' &&
	seen_since "$n" '^resume-io: resume 3: read back gen 2 ok' && image_has_gen 3 &&
	wait_for 30 nsx ping -c1 -W1 192.0.2.2; then
	pass sr-restore-twice
else
	fail sr-restore-twice; show
fi
if grep -q 'resume-io: FAIL' "$con"; then
	fail "sr: the guest reported failures"; grep 'resume-io: FAIL' "$con" | sed 's/^/    /'
fi

# xenstore works: xl shutdown goes through control/shutdown.
n=$(lines)
xl shutdown sr > /dev/null 2>&1
if wait_for 60 gone && seen_since "$n" '^control: poweroff requested$'; then
	pass sr-restore-xenstore-shutdown
else
	fail sr-restore-xenstore-shutdown; show
	xl destroy sr > /dev/null 2>&1
fi

# 2-level events (evtchn=2l), 2 vCPUs, no devices: saved, restored, xenstore still works.
sed -e 's/^name = "sr"$/name = "sr2l"/' -e 's/^cmdline = .*/cmdline = "evtchn=2l resume-io=600"/' \
	-e '/^disk = /d' -e '/^vif = /d' "$work/sr.cfg" > "$work/sr2l.cfg"
con2=$SPLITVISOR_RUNDIR/console/guest-sr2l.log
gone2l() { ! xl list sr2l >/dev/null 2>&1; }
on_exit "xl destroy sr2l >/dev/null 2>&1"
if xl create "$work/sr2l.cfg" > /dev/null 2>&1 &&
	wait_for 60 grep -q '^resume-io: ready (disk none, 0 vifs, 2 vcpus)' "$con2" &&
	xl save sr2l "$work/sr2l.save" > /dev/null 2>&1 && wait_for 30 gone2l &&
	xl restore "$work/sr2l.save" > /dev/null 2>&1 &&
	wait_for 90 grep -q '^resume-io: resume 1: 2 of 2 vcpus ok, 0 vifs up' "$con2" &&
	xl shutdown sr2l > /dev/null 2>&1 &&
	wait_for 60 gone2l && grep -q '^control: poweroff requested$' "$con2"; then
	pass sr-restore-2level
else
	fail sr-restore-2level; tail -n 12 "$con2" | sed 's/^/    /'
fi
exit 0
