#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Xen's own xenstore test program (test-xenstore from xen-utils-4.17) against our xenstored: fixed tests, then random ones.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/xs_test_env.sh
# Installed (a Xen host), else from xen-utils-4.17 unpacked into the build tree by
# scripts/xen_debian.sh (dpkg-deb -x: installing it pulls in systemd and udev).
: "${BUILD:=build}"
T=/usr/lib/xen-4.17/bin/test-xenstore
libs=""
if [ ! -x "$T" ]; then
	if ! XD=$(scripts/xen_debian.sh "$BUILD" 2>"/tmp/sv-xstest.$$"); then
		skip "xen test-xenstore: not installed, and $(cat "/tmp/sv-xstest.$$")"
		rm -f "/tmp/sv-xstest.$$"
		exit 0
	fi
	rm -f "/tmp/sv-xstest.$$"
	T=$XD/usr/lib/xen-4.17/bin/test-xenstore
	libs=$XD/usr/lib/x86_64-linux-gnu
fi
run_t() { timeout "$1" env LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$T" "${@:2}"; }
xs_start || { fail "xenstored starts"; exit 1; }
out=$(run_t 120 -i 20 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check "Xen test-xenstore: every test passes" test $rc -eq 0
check "Xen test-xenstore: no test failed" bash -c "! grep -q failed <<<'$out'"
out=$(run_t 60 -r 5 2>&1)
check "Xen test-xenstore: 5 s of random tests" test $? -eq 0
check "store consistent afterwards" $XS_CONTROL check
