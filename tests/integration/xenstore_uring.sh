#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstored's two event loops: io_uring by default, the epoll fallback with XENSTORED_IO_URING=0 (pipelining, a client dropped at quota), and kill -9 under 8 clients with restarts that switch loops.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/xs_test_env.sh
XC="$SV_BIN/xs-client"
unset XENSTORED_IO_URING

xs_start || { fail "xenstored starts"; exit 1; }
log=$XS_DIR/xenstored.log
if grep -q 'event loop: io_uring' "$log"; then
	check "io_uring loop chosen by default" true
	uring=1
else
	# A host without io_uring (disabled, seccomp): the fallback is all there is.
	check "io_uring unavailable here: epoll loop, reason logged" grep -q 'event loop: epoll (io_uring unavailable: ' "$log"
	uring=0
fi
check "the loop is logged once" test "$(grep -c 'event loop:' "$log")" -eq 1
check "pipelined: 1000 requests in one write, 1000 replies in order" \
	xs_out "1000 replies in order" "$XC" pipeline "$XENSTORED_PATH" 1000

# The fallback, forced.
kill "$XS_PID"
wait "$XS_PID" 2>/dev/null
export XENSTORED_IO_URING=0
xs_launch || fail "xenstored starts with XENSTORED_IO_URING=0"
check "XENSTORED_IO_URING=0: epoll loop, logged" \
	grep -q 'event loop: epoll (io_uring unavailable: XENSTORED_IO_URING=0)' "$log"
check "epoll: 1000 pipelined requests, replies in order" \
	xs_out "1000 replies in order" "$XC" pipeline "$XENSTORED_PATH" 1000
check "epoll: 5000 pipelined requests (past the input buffer)" \
	xs_out "5000 replies in order" "$XC" pipeline "$XENSTORED_PATH" 5000
big=$(head -c 3000 /dev/zero | tr '\0' x)
xenstore-write /big "$big"
check "epoll: a client that never reads is dropped" \
	bash -c "'$XC' noread '$XENSTORED_PATH' /big | grep -q '^dropped after'"
check "epoll: others carry on" xs_value /big "$big"

# kill -9 with requests in flight, restarting into the other loop each time.
xs_clients_start
# Every client connected and answered before the first kill (a kill between
# accept and the keeper taking the socket would drop a client).
for i in $(seq 0 7); do
	wait_for 120 bash -c "[ \$(cat '$XS_DIR/c$i.progress' 2>/dev/null || echo 0) -ge 500 ]" ||
		fail "client $i made no progress"
done
for round in 1 2 3 4; do
	c=$((round % 8))
	at=$(($(cat "$XS_DIR/c$c.progress" 2>/dev/null || echo 0) + 500))
	wait_for 120 bash -c "[ \$(cat '$XS_DIR/c$c.progress' 2>/dev/null || echo 0) -ge $at ]" ||
		fail "client $c made no progress before crash $round"
	[ "$round" = 4 ] && break
	xs_crash
	if [ "$XENSTORED_IO_URING" = 0 ]; then unset XENSTORED_IO_URING; else export XENSTORED_IO_URING=0; fi
	xs_launch || fail "restart $round"
done
xs_clients_finish
check "kill -9 x3 switching loops, 8 clients: one reply per request, none twice" test "$bad" -eq 0
check "each restart restored the 8 clients" \
	test "$(grep -c 'restart: 8 client connections restored' "$log")" -eq 3
if [ "$bad" -ne 0 ] || [ "$(grep -c 'restart: 8 client connections restored' "$log")" -ne 3 ]; then
	grep -E 'event loop|restart|closed|unusable|restored \(' "$log" | sed 's/^/    /'
fi
if [ "$uring" = 1 ]; then
	check "both loops ran across the restarts" \
		test "$(grep -c 'event loop: io_uring' "$log")" -ge 2
fi
check "store consistent" $XS_CONTROL check
