#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every unit test binary given as an argument and every integration
# script in tests/integration, then prints one closing tally line.
#
# Unit tests are Check suites: their "Checks: N, Failures: F, Errors: E"
# lines are summed.  Integration scripts print "PASS name", "FAIL name" or
# "SKIP name: why" per behaviour (see tests/lib.sh) and exit non-zero on any
# failure.  A script that dies without printing a result counts as failed.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export BUILD
pass=0 fail=0 skip=0
# Check's case timeouts (4 s by default) are for a quiet machine; under
# ASan on a loaded 2-core one a case may take ten times that.  A timeout
# still catches a hang.
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-10}
failed_names=()
logdir=$BUILD/test-logs
mkdir -p "$logdir"

for t in "$@"; do
	name=$(basename "$t")
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" > "$logdir/$name.log"
	line=$(printf '%s\n' "$out" | grep -E 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name: no Check summary (exit $rc); log: $logdir/$name.log"
		printf '%s\n' "$out" | tail -n 20
		fail=$((fail + 1)); failed_names+=("$name"); continue
	fi
	n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
	f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
	e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
	bad=$((f + e))
	pass=$((pass + n - bad)); fail=$((fail + bad))
	if [ "$bad" -ne 0 ] || [ "$rc" -ne 0 ]; then
		[ "$bad" -eq 0 ] && { fail=$((fail + 1)); }
		failed_names+=("$name")
		echo "FAIL $name: $line (exit $rc)"
		printf '%s\n' "$out" | grep -E ':[EF]:' | head -n 20
	else
		echo "ok   $name: $line"
	fi
done

# Every integration script runs once per engine the host has (the
# process engine always; KVM where /dev/kvm works), so no guest test is
# skipped for want of /dev/kvm and none is proven on one engine only.
# SPLITVISOR_ENGINE set by the caller picks one.
if [ -n "${SPLITVISOR_ENGINE:-}" ]; then
	engines=("$SPLITVISOR_ENGINE")
else
	engines=(process)
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then engines=(kvm process); fi
fi
echo "integration tests on engine(s): ${engines[*]}"

# A script's time limit: 600 s, or what its '# run.sh timeout: N' line says (whole Linux
# boots, a save and a restore take minutes on a loaded host).
script_timeout() {
	local t
	t=$(sed -n 's/^# run\.sh timeout: \([0-9][0-9]*\)$/\1/p' "$1" | head -n 1)
	echo "${t:-600}"
}

for s in tests/integration/*.sh; do
	[ -e "$s" ] || continue
	for engine in "${engines[@]}"; do
	name=$(basename "$s" .sh)
	[ ${#engines[@]} -gt 1 ] && name="$name@$engine"
	out=$(SPLITVISOR_ENGINE=$engine timeout "$(script_timeout "$s")" bash "$s" 2>&1)
	rc=$?
	printf '%s\n' "$out" > "$logdir/$name.log"
	p=$(grep -c '^PASS ' <<<"$out")
	f=$(grep -c '^FAIL ' <<<"$out")
	k=$(grep -c '^SKIP ' <<<"$out")
	grep -E '^(PASS|FAIL|SKIP) ' <<<"$out" | sed "s/^/  [$name] /"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "  [$name] FAIL $name: script exited $rc without a FAIL line; log: $logdir/$name.log"
		tail -n 20 <<<"$out"
		f=1
	fi
	[ "$f" -ne 0 ] && failed_names+=("$name")
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + k))
	done
done

if [ "$skip" -ne 0 ]; then
	echo "WARNING: $skip test(s) SKIPPED; they were not run and are not counted as passed:"
	cat "$logdir"/*.log | grep '^SKIP ' | sed 's/^/  /'
fi
[ ${#failed_names[@]} -ne 0 ] && echo "failed: ${failed_names[*]} (logs in $logdir)"
echo "test: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
