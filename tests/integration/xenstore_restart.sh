#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstored crash and restart: nodes, permissions, domains, quotas, client connections and their watches all come back.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/xs_test_env.sh
XC="$SV_BIN/xs-client"

xs_start || { fail "xenstored starts"; exit 1; }

xenstore-write /r/a alpha /r/b beta /r/deep/x 1
xenstore-chmod /r/a n0 r7
"$XC" introduce 7 700 70 > /dev/null
$XS_CONTROL quota set transactions 5 > /dev/null
xenstore-rm /r/b

# Long-lived clients: a dom0 watcher and a restricted (domain 7) one.
ev0=$XS_DIR/ev0 ev7=$XS_DIR/ev7
timeout 30 xenstore-watch -n 5 /r > "$ev0" 2>&1 &
w0=$!
timeout 30 "$XC" --as 7 watch /r/a t7 3 > "$ev7" 2>&1 &
w7=$!
wait_for 5 grep -q '^/r$' "$ev0"
wait_for 5 grep -q '^/r/a t7' "$ev7"
old=$XS_PID

xs_crash
check "daemon is gone" bash -c "! kill -0 $old 2>/dev/null"
xs_launch || fail "restart"
check "restarted daemon answers" xs_value /r/a alpha

check "nodes survive" xs_value /r/deep/x 1
check_fails "removed node stays removed" xenstore-exists /r/b
check "permissions survive" bash -c "xenstore-ls -p /r | grep -q 'a = \"alpha\".*(n0,r7)'"
check "domains survive" xs_out T "$XC" is-introduced 7
check "quotas survive" bash -c "$XS_CONTROL quota | grep -q 'transactions *: *5'"
check "restricted client keeps its identity" xs_out alpha "$XC" --as 7 read /r/a
check "store consistent after restart" $XS_CONTROL check

# The watchers kept their connections: a restart event, then new changes.
xenstore-write /r/a changed
xenstore-write /r/c new
wait $w0
check "dom0 watch survives the crash" bash -c "grep -qx '/r/c' '$ev0' && grep -qx '/r/a' '$ev0'"
wait $w7
check "domain 7 watch survives the crash" bash -c "[ \$(grep -c '^/r/a t7' '$ev7') -eq 3 ]"
check "restored connections logged" grep -q 'restart: 2 client connections restored' "$XS_DIR/xenstored.log"

# A second crash right after a restart loses nothing either.
xenstore-write /r/second 2
xs_crash
xs_launch || fail "second restart"
check "second restart keeps data" xs_value /r/second 2

# Clean stop: the keeper goes too, nothing is left behind.
kill "$XS_PID"
wait "$XS_PID"
check "clean exit" test $? -eq 0
# (The keeper carries the daemon's command line.)
check "keeper exits with a clean stop" wait_for 5 bash -c "! pgrep -f 'xenstored[ ]--rundir $XS_DIR' > /dev/null"
check "sockets removed on clean exit" test ! -e "$XS_DIR/xenstored.sock"

# Start after a clean stop: state is still there.
xs_launch || fail "start after clean stop"
check "state survives a clean restart" xs_value /r/a changed
