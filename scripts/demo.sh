#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo`: start a host stack, boot the bundled PV guest, show its
# console, list it, save it to a file and restore it, shut it down and
# stop the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"
own_rundir=0
if [ -z "${SPLITVISOR_RUNDIR:-}" ]; then
	SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-demo.XXXXXX)
	own_rundir=1
fi
export SPLITVISOR_RUNDIR

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
	splitvisor stop >/dev/null 2>&1 || true
	[ "$own_rundir" = 1 ] && rm -rf "$SPLITVISOR_RUNDIR"
	return 0
}
trap cleanup EXIT

step "splitvisor start  (SPLITVISOR_RUNDIR=$SPLITVISOR_RUNDIR)"
eval "$(splitvisor start | sed 's/^/export /')"
splitvisor status
step "xl info"
xl info | grep -E '^(xen_version|xen_caps|nr_cpus|total_memory|kvm|kvm_detail|engine|engine_detail) '
step "xl create examples/hello.cfg vcpus=2 (guest: smp, spin 300 ms, then wait)"
xl create examples/hello.cfg vcpus=2 'cmdline="print=hello-from-splitvisor smp spin=300 wait"'
for _ in $(seq 50); do
	grep -q 'spin: 300 ms done' "$SPLITVISOR_RUNDIR/console/guest-hello.log" 2>/dev/null && break
	sleep 0.1
done
step "xl list"
xl list
step "the guest's console so far (\$SPLITVISOR_RUNDIR/console/guest-hello.log; 'xl console hello' follows it live)"
cat "$SPLITVISOR_RUNDIR/console/guest-hello.log"
step "xl save hello (the guest suspends; its memory and state go to a file; the domain is gone)"
save=$SPLITVISOR_RUNDIR/hello.save
xl save hello "$save"
ls -l "$save"
xl list
step "xl restore (a new domain; the guest reconnects its console and xenstore and runs on)"
xl restore "$save"
for _ in $(seq 100); do
	grep -q 'resume done' "$SPLITVISOR_RUNDIR/console/guest-hello.log" 2>/dev/null && break
	sleep 0.1
done
xl list
grep -E '^control: |^resume' "$SPLITVISOR_RUNDIR/console/guest-hello.log" || true
rm -f "$save"
step "xl shutdown -w hello"
xl shutdown -w hello
xl list
step "splitvisor stop"
cleanup
trap - EXIT
echo "demo: done"
