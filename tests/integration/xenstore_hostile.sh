#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstored against hostile clients: garbage, bad lengths, missing NULs, floods; the daemon and other clients carry on.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/xs_test_env.sh
XC="$SV_BIN/xs-client"

xs_start || { fail "xenstored starts"; exit 1; }
xenstore-write /keep me

# A well-behaved watcher must survive everything below.
ev=$XS_DIR/ev
timeout 30 "$XC" watch /keep tok 2 > "$ev" &
wpid=$!
wait_for 5 grep -q '^/keep tok' "$ev"

out=$("$XC" hostile "$XENSTORED_PATH")
rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check "hostile clients handled" test $rc -eq 0
check "over-long payload logged as a disconnect" grep -q 'payload over 4096' "$XS_DIR/xenstored.log"

# Random bytes from many clients at once.
for i in $(seq 1 20); do
	head -c 20000 /dev/urandom | timeout 5 "$XC" hostile-raw "$XENSTORED_PATH" 2> /dev/null &
done
wait_for 10 bash -c '! pgrep -f "xs-client hostile-raw" > /dev/null'
check "daemon still running" kill -0 "$XS_PID"
check "data intact" xs_value /keep me
xenstore-write /keep again
wait $wpid
check "other client's watch still delivers" grep -q '^/keep tok' <(tail -n 1 "$ev")
