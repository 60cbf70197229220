#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Xen's own xenstore test program (test-xenstore from xen-utils-4.17) against our xenstored: fixed tests, then random ones.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. xenstore/xs_test_env.sh
T=/usr/lib/xen-4.17/bin/test-xenstore

if [ ! -x "$T" ]; then
	skip "xen test-xenstore: $T missing (Debian package xen-utils-4.17)"
	exit 0
fi
xs_start || { fail "xenstored starts"; exit 1; }
out=$(timeout 120 "$T" -i 20 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check "Xen test-xenstore: every test passes" test $rc -eq 0
check "Xen test-xenstore: no test failed" bash -c "! grep -q failed <<<'$out'"
out=$(timeout 60 "$T" -r 5 2>&1)
check "Xen test-xenstore: 5 s of random tests" test $? -eq 0
check "store consistent afterwards" $XS_CONTROL check
