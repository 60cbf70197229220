#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstored driven by Debian's xenstore-utils: read/write/ls/list/exists/rm/chmod/watch/control and the read-only socket.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/xs_test_env.sh

xs_start || { fail "xenstored starts"; exit 1; }
pass "xenstored starts and accepts xenstore-* clients"

check "socket modes (rw 0600)" test "$(stat -c %a "$XS_DIR/xenstored.sock")" = 600
check "read-only socket exists" test -S "$XS_DIR/xenstored_ro.sock"
check "pid file" test "$(cat "$XS_DIR/xenstored.pid")" = "$XS_PID"

check "xenstore-write several keys" xenstore-write /vm/1/name alpha /vm/1/uuid 1234 /vm/2/name beta
check "xenstore-read" xs_value /vm/1/name alpha
check "implicit parents exist" xs_value /vm ""
check "xenstore-list" xs_out "$(printf '1\n2')" xenstore-list /vm
check "xenstore-ls" xs_out "$(printf 'name = "alpha"\nuuid = "1234"')" xenstore-ls /vm/1
check "xenstore-exists (present)" xenstore-exists /vm/2/name
check_fails "xenstore-exists (absent)" xenstore-exists /vm/3
check "xenstore-rm subtree" xenstore-rm /vm/2
check_fails "removed subtree is gone" xenstore-exists /vm/2/name
check "xenstore-rm missing leaf is fine" xenstore-rm /vm/1/nothing
check "xenstore-chmod" xenstore-chmod /vm/1/name r0 b5
check "xenstore-ls -p shows perms" bash -c "xenstore-ls -p /vm/1 | grep -q 'name = \"alpha\".*(r0,b5)'"
check "xenstore-chmod -r recursive" bash -c "xenstore-chmod -r /vm n0 r3 && xenstore-ls -p /vm | grep -q 'uuid = \"1234\".*(n0,r3)'"
check_fails "bad path refused" xenstore-write /bad//path x
big=$(head -c 4000 /dev/zero | tr '\0' x)
check "dom0 writes 4000-byte value" xenstore-write /big "$big"
check "value round-trips" xs_value /big "$big"

# Watches through xenstore-watch: the first event is the watch itself.
out=$XS_DIR/watch.out
timeout 10 xenstore-watch -n 3 /w > "$out" 2>&1 &
wpid=$!
wait_for 5 grep -q '^/w$' "$out"
xenstore-write /w/a 1
xenstore-write /w/b 2
wait $wpid
check "xenstore-watch sees registration and child events" xs_out "$(printf '/w\n/w/a\n/w/b')" cat "$out"

# Directories longer than one payload: libxenstore falls back to DIRECTORY_PART.
args=()
for i in $(seq 1 400); do args+=("/big-dir/child-with-a-long-name-$i" v); done
check "400 children in one transaction" xenstore-write "${args[@]}"
check "xenstore-list of a 14 KB directory" test "$(xenstore-list /big-dir | wc -l)" -eq 400

check "xenstore-control help" bash -c "$XS_CONTROL help | grep -q '^quota'"
check "xenstore-control quota shows C xenstored defaults" bash -c "$XS_CONTROL quota | grep -q 'nodes *: *1000'"
check "xenstore-control quota set" bash -c "$XS_CONTROL quota set watches 64 && $XS_CONTROL quota | grep -q 'watches *: *64'"
check "xenstore-control print reaches the log" bash -c "$XS_CONTROL print hello-from-test && grep -q 'control: hello-from-test' '$XS_DIR/xenstored.log'"
check "xenstore-control check" $XS_CONTROL check
check_fails "unknown control command refused" $XS_CONTROL no-such-command

# Read-only socket: reads work, writes are refused.
check "read-only socket reads" env XENSTORED_PATH="$XS_DIR/xenstored_ro.sock" xenstore-read /vm/1/name
check_fails "read-only socket refuses writes" env XENSTORED_PATH="$XS_DIR/xenstored_ro.sock" xenstore-write /vm/1/name x
check "value unchanged" xs_value /vm/1/name alpha

kill "$XS_PID"
wait "$XS_PID"
check "SIGTERM: clean exit" test $? -eq 0
check_fails "SIGTERM: sockets removed" test -e "$XS_DIR/xenstored.sock"
