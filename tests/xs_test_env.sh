# SPDX-License-Identifier: MIT
# Helpers for the xenstore integration scripts (sourced after tests/lib.sh): a private xenstored per script.

# Debian ships xenstore-control under the Xen utils directory; its /usr/bin
# wrapper refuses to run outside Xen. Fall back to our libxenstore client.
if [ -x /usr/lib/xen-4.17/bin/xenstore-control ]; then
	XS_CONTROL=/usr/lib/xen-4.17/bin/xenstore-control
else
	XS_CONTROL="$SV_BIN/xs-client control"
fi

# xs_start: new run directory, xenstored in it, XENSTORED_PATH exported.
xs_start() {
	XS_DIR=$(mktemp -d /tmp/xs-test.XXXXXX)
	on_exit "rm -rf '$XS_DIR'"
	export XENSTORED_PATH=$XS_DIR/xenstored.sock
	xs_launch
}

# xs_launch: (re)start xenstored --foreground in $XS_DIR, wait until ready.
xs_launch() {
	# Its own run directory as SPLITVISOR_RUNDIR: no hypervisor there.
	SPLITVISOR_RUNDIR=$XS_DIR "$SV_BIN/xenstored" --rundir "$XS_DIR" --foreground &
	XS_PID=$!
	on_exit "kill $XS_PID 2>/dev/null; wait $XS_PID 2>/dev/null"
	wait_for 10 xenstore-exists /
}

# xs_crash: SIGKILL, as a crash would.
xs_crash() {
	kill -9 "$XS_PID"
	wait "$XS_PID" 2>/dev/null
	return 0
}

# xs_value PATH EXPECTED: read through Debian's xenstore-read and compare.
xs_value() {
	local got
	got=$(xenstore-read "$1") || return 1
	[ "$got" = "$2" ] || { echo "$1 = '$got', expected '$2'"; return 1; }
}

# xs_out EXPECTED CMD...: CMD's stdout must equal EXPECTED.
xs_out() {
	local want=$1 got
	shift
	got=$("$@" 2>/dev/null)
	[ "$got" = "$want" ] || { echo "got '$got', expected '$want' from: $*"; return 1; }
}

# xs_clients_start: 8 "$XC inflight" clients (c0..c7: output in $XS_DIR/cN.out, replies
# counted in $XS_DIR/cN.progress), their pids in pids[], killed at exit.
xs_clients_start() {
	local i
	pids=()
	for i in $(seq 0 7); do
		"$XC" inflight "$XENSTORED_PATH" "$i" "$XS_DIR" > "$XS_DIR/c$i.out" 2>&1 &
		pids+=($!)
	done
	on_exit "touch '$XS_DIR/stop'; kill ${pids[*]} 2>/dev/null"
}

# xs_clients_finish: tell the clients in pids[] to stop ($XS_DIR/stop) and wait for each;
# bad is set to how many failed, and their output ($XS_DIR/cN.out) is shown indented.
xs_clients_finish() {
	local i
	touch "$XS_DIR/stop"
	bad=0
	for i in "${!pids[@]}"; do
		if ! wait "${pids[$i]}"; then
			bad=$((bad + 1))
			sed 's/^/    /' "$XS_DIR/c$i.out"
		fi
	done
}
