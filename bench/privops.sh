#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What an emulated privileged instruction and a bounced exception cost a PV guest against a
# hypercall round trip, in the same run: rdmsr of FS_BASE (#GP, decoded and answered by the
# hypervisor), forced-emulation cpuid (#UD) and page faults bounced to the guest's own #PF
# entry, which returns with HYPERVISOR_iret, each as a ratio to xen_version hypercalls (seven
# rounds of 400 of each kind in turn, the median round of each: frontends/kernel/privops.c);
# on the process engine the bounced #PF also against the host's own SIGSEGV round trip.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export PATH="$PWD/$BUILD/bin:$PATH"

export SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-bench.XXXXXX)
trap 'xl destroy bench-privops >/dev/null 2>&1; splitvisor stop >/dev/null 2>&1; rm -rf "$SPLITVISOR_RUNDIR"' EXIT
splitvisor start >/dev/null 2>&1 || { echo "bench privops: splitvisor start failed"; exit 1; }
engine=$(xl info 2>/dev/null | sed -n 's/^engine *: //p')

log=$SPLITVISOR_RUNDIR/console/guest-bench-privops.log
cfg=$SPLITVISOR_RUNDIR/privops.cfg
printf 'name = "bench-privops"\nkernel = "%s/%s/guest/svkernel"\nmemory = 32\n' "$PWD" "$BUILD" > "$cfg"
printf 'cmdline = "privops=bench halt"\non_poweroff = "destroy"\n' >> "$cfg"
xl create -q "$cfg" >/dev/null 2>&1 || { echo "bench privops: xl create failed"; exit 1; }
end=$((SECONDS + 120))
until grep -q '^privops-bench:' "$log" 2>/dev/null; do
	[ $SECONDS -ge $end ] && { echo "bench privops: no result from the guest"; tail -5 "$log"; exit 1; }
	sleep 0.1
done
grep -q '^privops-bench: FAIL' "$log" && { grep '^privops-bench: FAIL' "$log"; exit 1; }
# The host's own SIGSEGV round trip, right after: what any fault costs code that runs as a process.
segv=$("$BUILD/bench/procfloor" segv | sed -n 's/^segv_rtt_cycles=//p')
grep '^privops-bench:.*cycles/op' "$log" | awk -v segv="${segv:-0}" -v eng="$engine" '{
	for (i = 1; i < NF; i++)
		v[$i] = $(i + 1)
	rd = v["rdmsr"]; cp = v["cpuid"]; hc = v["hypercall"]; pf = v["pfbounce"]
	if (hc <= 0)
		hc = 1
	printf "bench privops: emulated instruction vs hypercall round trip (same run, ratio):\n"
	printf "  rdmsr FS_BASE (#GP, emulated): %.2f\n", rd / hc
	printf "  forced cpuid (#UD, emulated):  %.2f\n", cp / hc
	r = pf / hc
	printf "  bounced #PF (guest handler entered, HYPERVISOR_iret back): %.2f  aim <= 1.5x%s\n", r, (r <= 1.5 ? "" : "  (below aim)")
	if (eng == "process" && segv > 0)
		printf "    the same bounced #PF vs the host'"'"'s own SIGSEGV round trip (bench/procfloor segv): %.2fx\n", pf / segv
}'
