#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# xenstored permissions between domains, quotas and domain events, via xenstore-* tools and libxenstore (xs-client).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/xs_test_env.sh
XC="$SV_BIN/xs-client"

xs_start || { fail "xenstored starts"; exit 1; }

# Fake guests: INTRODUCE records them; their rings cannot attach yet.
check "introduce domain 5" xs_out OK "$XC" introduce 5 4096 7
check "introduce domain 6" xs_out OK "$XC" introduce 6 8192 8
check "ring attach reported as not available" grep -q 'domain 5: ring attach.*ENOSYS' "$XS_DIR/xenstored.log"
check "is-introduced" xs_out T "$XC" is-introduced 5
check "not introduced" xs_out F "$XC" is-introduced 9
check "domain path" xs_out /local/domain/5 "$XC" domain-path 5

# The toolstack's usual layout: each guest owns its home.
xenstore-write /local/domain/5/name guest5 /local/domain/6/name guest6
xenstore-chmod -r /local/domain/5 n5
xenstore-chmod -r /local/domain/6 n6
check "guest reads its own home" xs_out guest5 "$XC" --as 5 read /local/domain/5/name
check "guest writes relative paths" xs_out OK "$XC" --as 5 write data/x 42
check "dom0 sees the guest's write" xs_value /local/domain/5/data/x 42
check "guest's new node is owned by it" xs_out n5 "$XC" perms /local/domain/5/data/x
check "other guest cannot read" xs_out EACCES "$XC" --as 6 read /local/domain/5/name
check "other guest cannot write" xs_out EACCES "$XC" --as 6 write /local/domain/5/name evil
check "guest cannot write outside home" xs_out EACCES "$XC" --as 5 write /tool/x 1
check "guest cannot introduce" xs_out EACCES "$XC" --as 5 introduce 7 1 1

# Grants through xenstore-chmod (owner + ACL).
check "dom0 grants read to 6" xenstore-chmod /local/domain/5/name n5 r6
check "6 now reads" xs_out guest5 "$XC" --as 6 read /local/domain/5/name
check "6 still cannot write" xs_out EACCES "$XC" --as 6 write /local/domain/5/name x
check "owner cannot give a node away" xs_out EPERM "$XC" --as 5 setperms /local/domain/5/data/x n6
check "owner can change its ACL" xs_out OK "$XC" --as 5 setperms /local/domain/5/data/x n5 b6
check "6 writes through the ACL" xs_out OK "$XC" --as 6 write /local/domain/5/data/x 43

# SET_TARGET: 6 acts for 5 (a device model for its guest).
xenstore-chmod /local/domain/5/name n5
check "before SET_TARGET: no access" xs_out EACCES "$XC" --as 6 read /local/domain/5/name
check "set-target 6 -> 5" xs_out OK "$XC" set-target 6 5
check "after SET_TARGET: full access" xs_out guest5 "$XC" --as 6 read /local/domain/5/name
check "after SET_TARGET: writes too" xs_out OK "$XC" --as 6 write /local/domain/5/name renamed

# Quotas bind guests, refusals are logged with domain and quota name.
check "lower node quota" $XS_CONTROL quota set nodes 8
n=0
for i in $(seq 1 10); do
	r=$("$XC" --as 5 write "q/n$i" v 2>/dev/null)
	[ "$r" = OK ] && n=$((n + 1))
done
check "node quota stops a guest (ENOSPC)" xs_out ENOSPC "$XC" --as 5 write q/over v
check "node quota refusal logged" grep -q 'quota: domain 5 refused: nodes quota 8' "$XS_DIR/xenstored.log"
check "dom0 is exempt from quotas" xenstore-write /local/domain/5/q/by-dom0 v
check "raise node quota again" $XS_CONTROL quota set nodes 1000
check "per-domain quota report" bash -c "$XS_CONTROL quota 5 | grep -q 'Domain 5:'"
big=$(head -c 2100 /dev/zero | tr '\0' y)
check "node-size quota (ENOSPC)" xs_out ENOSPC "$XC" --as 5 write big "$big"
check "node-size refusal logged" grep -q 'domain 5 refused: node-size quota 2048' "$XS_DIR/xenstored.log"
check "permissions quota (ENOSPC)" xs_out ENOSPC "$XC" --as 5 setperms /local/domain/5/data/x n5 r1 r2 r3 r4 r6

# @introduceDomain / @releaseDomain through libxenstore watches.
ev=$XS_DIR/events
timeout 10 "$XC" watch @releaseDomain rel 2 > "$ev" &
wpid=$!
wait_for 5 grep -q '^@releaseDomain rel' "$ev"
check "release domain 6" xs_out OK "$XC" release 6
wait $wpid
check "@releaseDomain fired on RELEASE" xs_out "$(printf 'watching\n@releaseDomain rel\n@releaseDomain rel')" cat "$ev"
check "released domain is gone" xs_out F "$XC" is-introduced 6
timeout 10 "$XC" watch @introduceDomain intro 2 > "$ev" &
wpid=$!
wait_for 5 grep -q '^@introduceDomain intro' "$ev"
"$XC" introduce 6 8192 8 > /dev/null
wait $wpid
check "@introduceDomain fired on INTRODUCE" xs_out "$(printf 'watching\n@introduceDomain intro\n@introduceDomain intro')" cat "$ev"
