#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstored under load: pipelined requests, a client that never reads, and kill -9 with requests in flight from 8 clients (one reply each, none twice).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/xs_test_env.sh
XC="$SV_BIN/xs-client"

xs_start || { fail "xenstored starts"; exit 1; }

# Pipelined: one write() of many requests, every reply in order.
check "pipelined: 1000 requests in one write, 1000 replies in order" \
	xs_out "1000 replies in order" "$XC" pipeline "$XENSTORED_PATH" 1000
check "pipelined: 5000 requests (past the input buffer) in order" \
	xs_out "5000 replies in order" "$XC" pipeline "$XENSTORED_PATH" 5000
check "pipelined writes are in the store" xs_value /pipe/k4999 4999

# A client that sends but never reads: dropped once its replies pile up.
big=$(head -c 3000 /dev/zero | tr '\0' x)
xenstore-write /big "$big"
timeout 30 xenstore-watch -n 3 /other > "$XS_DIR/watch" 2>&1 &
wpid=$!
wait_for 10 grep -qx /other "$XS_DIR/watch"
check "non-reading client is dropped" bash -c "'$XC' noread '$XENSTORED_PATH' /big | grep -q '^dropped after'"
check "drop logged" grep -q 'not reading its replies' "$XS_DIR/xenstored.log"
check "others carry on: write" xenstore-write /other/x 1
check "others carry on: read" xs_value /big "$big"
wait $wpid
check "others carry on: watch" grep -qx /other/x "$XS_DIR/watch"

# kill -9 with requests in flight, three times over; each client counts
# replies by req_id and reads every key back at the end. Crashes come at
# points of progress (replies counted by the clients), not of time.
xs_clients_start
replies() { cat "$XS_DIR/c$1.progress" 2>/dev/null || echo 0; }
for round in 1 2 3 4; do
	c=$((round % 8))
	at=$(($(replies $c) + 1000))
	wait_for 120 bash -c "[ \$(cat '$XS_DIR/c$c.progress' 2>/dev/null || echo 0) -ge $at ]" ||
		fail "client $c made no progress before crash $round"
	[ "$round" = 4 ] && break
	xs_crash
	xs_launch || fail "restart $round"
done
xs_clients_finish
check "kill -9 x3, 8 clients: one reply per request, none twice, store agrees" test "$bad" -eq 0
check "restarts logged restored connections" grep -q 'restart: 8 client connections restored' "$XS_DIR/xenstored.log"
check "store consistent" $XS_CONTROL check
# What the crashes caught in flight (informational; depends on timing).
echo "    in flight at the crashes: $(grep -c "of requests pending" "$XS_DIR/xenstored.log") connections restored, $(grep "restored (" "$XS_DIR/xenstored.log" | grep -vc " 0 bytes of replies and 0 of requests") with requests or replies pending"
