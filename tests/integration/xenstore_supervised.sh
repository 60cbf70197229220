#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstored under the splitvisor supervisor: killed, restarted by it, back with nodes, permissions and live watches.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/xs_test_env.sh

need_guest_engine "supervised xenstored restart" || exit 0
stack_start || exit 1
XS_DIR=$SPLITVISOR_RUNDIR

xenstore-write /sup/a 1 /sup/b 2
xenstore-chmod /sup/a n0 r4
ev=$XS_DIR/sup-watch.out
timeout 30 xenstore-watch -n 4 /sup > "$ev" 2>&1 &
wpid=$!
wait_for 5 grep -qx /sup "$ev"
old=$(cat "$XS_DIR/xenstored.pid")

kill -9 "$old"
check "supervisor restarts xenstored" wait_for 15 bash -c "p=\$(cat '$XS_DIR/xenstored.pid' 2>/dev/null); [ -n \"\$p\" ] && [ \"\$p\" != $old ] && kill -0 \$p && xenstore-exists /"
check "nodes back" xs_value /sup/b 2
check "permissions back" bash -c "xenstore-ls -p /sup | grep -q 'a = \"1\".*(n0,r4)'"
xenstore-write /sup/c 3
wait $wpid
check "watch connection survived the crash" grep -qx /sup/c "$ev"
check "restart logged by xenstored" grep -q 'client connections restored' "$XS_DIR/xenstored.log"
