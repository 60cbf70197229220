#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration test of `splitvisor` start/status/stop/supervision, with shell stand-ins for the services and then the real binaries.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

SV=$SV_BIN/splitvisor
if [ ! -x "$SV" ]; then
	fail "launcher: $SV is not built"
	exit 1
fi

fakes=$(mktemp -d /tmp/sv-fakes.XXXXXX)
on_exit "rm -rf '$fakes'"

# fake DIR NAME MODE: a stand-in service binary DIR/NAME run as
# `NAME --rundir RUNDIR --foreground`.  Modes:
#   ok        listen on RUNDIR/NAME.sock, remove it on SIGTERM
#   never     never listen (never ready)
#   crash     print a message and exit 3 at once
#   flaky     listen, then exit 1 after 0.2 s (every time)
#   stubborn  listen and ignore SIGTERM
#   forker    listen, and leave a background child running
fake() {
	local dir=$1 name=$2 mode=$3
	mkdir -p "$dir"
	cat > "$dir/$name" <<EOF
#!/bin/sh
# stand-in for $name ($mode)
while [ \$# -gt 0 ]; do case \$1 in --rundir) rundir=\$2; shift;; esac; shift; done
echo "fake $name ($mode) starting in \$rundir"
mode=$mode
case \$mode in
crash) echo "fake $name: fatal: cannot frobnicate"; exit 3;;
never) echo "fake $name: waiting forever"; exec python3 -c 'import time, sys; time.sleep(1000)' "\$rundir";;
forker) python3 -c 'import time, sys; time.sleep(1000)' "\$rundir" "child" & ;;
esac
exec python3 -c '
import os, signal, socket, sys, time
path, mode = sys.argv[1], sys.argv[2]
def bye(*a):
    os.unlink(path)
    sys.exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "stubborn" else bye)
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(64)
time.sleep(0.2 if mode == "flaky" else 100000)
sys.exit(1)
' "\$rundir/$name.sock" "\$mode"
EOF
	chmod +x "$dir/$name"
}

# new_rundir: a fresh SPLITVISOR_RUNDIR (also in $rd), exported; its stack
# is stopped and the folder removed on exit.
new_rundir() {
	rd=$(mktemp -d /tmp/sv-launch.XXXXXX)
	on_exit "rm -rf '$rd' '$rd.err'"
	on_exit "SPLITVISOR_RUNDIR='$rd' '$SV' stop"
	export SPLITVISOR_RUNDIR=$rd
}

# svc_pid NAME: the pid the supervisor publishes for NAME (0 when none).
svc_pid() {
	awk -v n="$1" '$1 == "service" && $2 == n { print $4; f = 1 } END { if (!f) print 0 }' \
		"$SPLITVISOR_RUNDIR/splitvisor.status" 2>/dev/null || echo 0
}

# running_again NAME OLDPID: NAME runs under a pid other than OLDPID.
running_again() {
	"$SV" status 2>/dev/null | grep -Eq "^$1 +running pid [0-9]+" || return 1
	local p
	p=$(svc_pid "$1")
	[ "$p" -gt 0 ] && [ "$p" != "$2" ]
}

# nothing_left DIR: no process mentions DIR on its command line, no socket or pid file.
nothing_left() {
	local procs
	procs=$(pgrep -af -- "$1" | grep -v pgrep)
	if [ -n "$procs" ]; then
		echo "processes left: $procs"
		return 1
	fi
	if compgen -G "$1/*.sock" >/dev/null || compgen -G "$1/*.pid" >/dev/null; then
		echo "files left:"; ls -la "$1"
		return 1
	fi
}

# kill9 PID: kill a service; refuses pid 0 or 1 (which would hit this shell or init).
kill9() {
	[ "$1" -gt 1 ] 2>/dev/null || { echo "bad pid '$1'"; return 1; }
	kill -9 "$1"
}

status_has() { "$SV" status | grep -Eq "$1"; }

check "splitvisor --help exits 0" "$SV" --help
check_fails "splitvisor with an unknown command fails" "$SV" frobnicate

# --- 1. the normal life of a stack, with stand-ins -----------------------
fake "$fakes/ok" hypervisor ok
fake "$fakes/ok" xenstored ok
export SPLITVISOR_BINDIR=$fakes/ok
new_rundir

out=$("$SV" start 2>"$rd.err"); rc=$?
expected=$(printf 'SPLITVISOR_RUNDIR=%s\nXENSTORED_PATH=%s/xenstored.sock' "$rd" "$rd")
check "start exits 0" test "$rc" -eq 0
check "start prints exactly the environment lines" test "$out" = "$expected"
check "start reports progress on stderr" grep -q 'hypervisor ready' "$rd.err"
check "run directory is mode 0700" test "$(stat -c %a "$rd")" = 700
check "status exits 0 while the stack runs" "$SV" status
check "status shows hypervisor running" status_has '^hypervisor +running pid [0-9]+'
check "status shows xenstored running" status_has '^xenstored +running pid [0-9]+'
check "service sockets exist" test -S "$rd/hypervisor.sock" -a -S "$rd/xenstored.sock"
check "supervisor pid file written" test -s "$rd/splitvisor.pid"
check "service stdout goes to NAME.log" grep -q 'fake xenstored (ok) starting' "$rd/xenstored.log"
check_fails "second start in the same directory is refused" "$SV" start
check "refusal says why" bash -c "'$SV' start 2>&1 | grep -q 'already runs'"
check "refused start left the stack alone" "$SV" status

old=$(svc_pid xenstored)
kill9 "$old"
check "xenstored killed with -9 is restarted with a new pid" wait_for 5 running_again xenstored "$old"
check "its death is logged" grep -Eq "xenstored \(pid $old\) died .*signal 9" "$rd/splitvisor.log"
check "status counts the restart" status_has '^xenstored +running pid [0-9]+ +restarts 1 '

old=$(svc_pid hypervisor)
kill9 "$old"
check "hypervisor killed with -9 is restarted" wait_for 5 running_again hypervisor "$old"
check "hypervisor death is logged loudly" grep -q 'THE HYPERVISOR DIED' "$rd/splitvisor.log"

old=$(svc_pid xenstored)
check "restart-service xenstored" "$SV" restart-service xenstored
check "restart-service gave a new pid" running_again xenstored "$old"
check_fails "restart-service of an unknown name fails" "$SV" restart-service nosuch

sup=$(cat "$rd/splitvisor.pid")
check "stop exits 0" "$SV" stop
# Gone, or a zombie waiting for init to reap it.
sup_gone() { ! ps -o stat= -p "$sup" | grep -qv Z; }
check "supervisor is gone after stop" sup_gone
check "stop leaves no process, socket or pid file behind" nothing_left "$rd"
check "logs are kept" test -s "$rd/splitvisor.log"
"$SV" status >/dev/null 2>&1; rc=$?
check "status exits 3 when no stack runs" test "$rc" -eq 3
check "stop when stopped exits 0" "$SV" stop
check "stop when stopped says so" bash -c "'$SV' stop 2>&1 | grep -q 'no stack runs'"
check "stop of a folder that does not exist exits 0" env SPLITVISOR_RUNDIR="$rd/nope" "$SV" stop

# --- 2. lib.sh's stack_start works with the launcher ----------------------
(
	unset SPLITVISOR_RUNDIR XENSTORED_PATH
	stack_start >/dev/null 2>&1 || exit 1
	r=$SPLITVISOR_RUNDIR
	[ "$XENSTORED_PATH" = "$r/xenstored.sock" ] || exit 2
	splitvisor stop >/dev/null 2>&1 || exit 3
	nothing_left "$r" || exit 4
	rm -rf "$r"
)
rc=$?
check "tests/lib.sh stack_start exports the environment (rc $rc)" test "$rc" -eq 0

# --- 3. start failures leave nothing running ------------------------------
fake "$fakes/crash" hypervisor ok
fake "$fakes/crash" xenstored crash
new_rundir
out=$(SPLITVISOR_BINDIR=$fakes/crash "$SV" start 2>&1); rc=$?
check "start fails when a service exits at once" test "$rc" -eq 1
check "the failure names the service and its exit" \
	grep -q 'xenstored exited with status 3' <<<"$out"
check "the failure shows the service's log tail" grep -q 'cannot frobnicate' <<<"$out"
check "failed start leaves nothing behind" nothing_left "$rd"
"$SV" status >/dev/null 2>&1; rc=$?
check "status after a failed start exits 3" test "$rc" -eq 3

fake "$fakes/never" hypervisor ok
fake "$fakes/never" xenstored never
new_rundir
t0=$SECONDS
out=$(SPLITVISOR_BINDIR=$fakes/never "$SV" start 2>&1); rc=$?
check "start fails when a service never becomes ready" test "$rc" -eq 1
check "it gives up after its 20 s limit, not never (took $((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 60
check "the failure says it never accepted" grep -q 'did not accept connections' <<<"$out"
check "the failure shows that service's log tail" grep -q 'waiting forever' <<<"$out"
check "never-ready start leaves nothing behind" nothing_left "$rd"

mkdir -p "$fakes/empty"
new_rundir
out=$(SPLITVISOR_BINDIR=$fakes/empty "$SV" start 2>&1); rc=$?
check "start fails without a hypervisor binary" test "$rc" -eq 1
check "and says the required service is missing" grep -q 'required service hypervisor' <<<"$out"

# --- 4. an optional service not installed yet -----------------------------
fake "$fakes/partial" hypervisor ok
new_rundir
export SPLITVISOR_BINDIR=$fakes/partial
check "start succeeds without the optional xenstored" "$SV" start
check "status says xenstored is not installed" status_has '^xenstored +not installed'
check "status exits 0 with only required services" "$SV" status
check "stop a partial stack" "$SV" stop
check "partial stack leaves nothing" nothing_left "$rd"

# --- 5. a service that keeps dying is marked failed -----------------------
fake "$fakes/flaky" hypervisor ok
fake "$fakes/flaky" xenstored flaky
new_rundir
export SPLITVISOR_BINDIR=$fakes/flaky
"$SV" start >/dev/null 2>&1
failed_now() { status_has '^xenstored +failed'; }
check "a service dying more than 5 times in 30 s is marked failed" wait_for 15 failed_now
check "the give-up is logged" grep -q 'xenstored died more than 5 times' "$rd/splitvisor.log"
check "backoff doubles (800 ms seen)" grep -q 'restarting xenstored in 800 ms' "$rd/splitvisor.log"
check "a failed optional service keeps status at 0" "$SV" status
check "stop after a failure" "$SV" stop
check "nothing left after failures" nothing_left "$rd"

# --- 6. stubborn services and services with children ----------------------
fake "$fakes/hard" hypervisor forker
fake "$fakes/hard" xenstored stubborn
new_rundir
export SPLITVISOR_BINDIR=$fakes/hard
"$SV" start >/dev/null 2>&1
child_runs() { pgrep -f -- "$rd child" >/dev/null; }
check "a service's background child runs" wait_for 2 child_runs
t0=$SECONDS
check "stop copes with a service that ignores SIGTERM" "$SV" stop
check "it waited about 5 s before SIGKILL (took $((SECONDS - t0)) s)" \
	test $((SECONDS - t0)) -ge 4 -a $((SECONDS - t0)) -le 40
check "the SIGKILL is logged" grep -q 'did not stop within 5 s' "$rd/splitvisor.log"
check "no child of a service survives stop" nothing_left "$rd"

# --- 7. a killed supervisor takes its services with it --------------------
fake "$fakes/ok" hypervisor ok
new_rundir
export SPLITVISOR_BINDIR=$fakes/ok
"$SV" start >/dev/null 2>&1
kill9 "$(cat "$rd/splitvisor.pid")"
gone() { ! pgrep -f -- "$rd" >/dev/null; }
check "services die with a SIGKILLed supervisor" wait_for 5 gone
"$SV" status >/dev/null 2>&1; rc=$?
check "status after a killed supervisor exits 3" test "$rc" -eq 3
check "start again over a stale run directory" "$SV" start
check "stop it" "$SV" stop
check "nothing left after the restart over stale files" nothing_left "$rd"

# --- 8. the real services, when they are built ----------------------------
unset SPLITVISOR_BINDIR
if [ ! -x "$SV_BIN/hypervisor" ]; then
	skip "launcher with the real services: $SV_BIN/hypervisor is not built yet"
elif ! need_guest_engine "launcher with the real services"; then
	:
else
	new_rundir
	out=$("$SV" start 2>"$rd.err"); rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "real stack starts"
		sed 's/^/    /' "$rd.err" | tail -n 25
	else
		pass "real stack starts"
		check "real stack: hypervisor runs" status_has '^hypervisor +running pid'
		if [ -x "$SV_BIN/xenstored" ]; then
			check "real stack: xenstored runs" status_has '^xenstored +running pid'
		fi
		check "real stack: stop" "$SV" stop
		check "real stack: nothing left" nothing_left "$rd"
	fi
fi
