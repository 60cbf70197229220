#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstored transactions through libxenstore: conflicts give EAGAIN, concurrent retry loops lose nothing, watches fire on commit.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/xs_test_env.sh
XC="$SV_BIN/xs-client"

xs_start || { fail "xenstored starts"; exit 1; }

check "conflicting commit gets EAGAIN, outside write wins" xs_out "EAGAIN outside" "$XC" txn-conflict /t/conflict

# Four clients increment one counter 200 times each, retrying on EAGAIN.
xenstore-write /t/counter 0
pids=()
for i in 1 2 3 4; do
	"$XC" txn-add /t/counter 200 > "$XS_DIR/add.$i" &
	pids+=($!)
done
ok=1
for p in "${pids[@]}"; do wait "$p" || ok=0; done
check "all increment loops finished" test $ok -eq 1
check "no increment lost (800)" xs_value /t/counter 800
echo "    retries: $(cat "$XS_DIR"/add.* | awk '{s += $4} END {print s}')"

# A watcher sees a transaction's writes only once it commits.
ev=$XS_DIR/ev
timeout 10 "$XC" watch /t/w tok 2 > "$ev" &
wpid=$!
wait_for 5 grep -q '^/t/w tok' "$ev"
"$XC" txn-add /t/w/x 1 > /dev/null
wait $wpid
check "commit fires the watch" xs_out "$(printf 'watching\n/t/w tok\n/t/w/x tok')" cat "$ev"

# xenstore-write with several keys is one transaction.
check "multi-key xenstore-write" xenstore-write /t/m/a 1 /t/m/b 2
check "both keys there" xs_out "$(printf 'a\nb')" xenstore-list /t/m
check "store consistent (control check)" $XS_CONTROL check
