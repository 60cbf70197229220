# SPDX-License-Identifier: MIT
# Helpers for integration scripts: results, a private host stack per script,
# and clean-up that leaves no process, namespace or file behind.
#
#   . tests/lib.sh
#   need_guest_engine T... || exit 0  # prints SKIP lines itself
#   stack_start                 # own SPLITVISOR_RUNDIR, exported env
#   check "guest prints banner" grep -q 'Splitvisor PV' "$log"
#   ...                          # stack_stop runs on exit

: "${BUILD:=build}"
SV_BIN=$PWD/$BUILD/bin
SV_GUEST=$PWD/$BUILD/guest
export PATH="$SV_BIN:$PATH"
_sv_failures=0
_sv_cleanups=()

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; _sv_failures=$((_sv_failures + 1)); }
skip() { echo "SKIP $*"; }

# check NAME CMD...: PASS if CMD succeeds, else FAIL with its output.
check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'
	fi
}

# check_fails NAME CMD...: PASS if CMD fails.
check_fails() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then
		fail "$name (command succeeded)"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'
	else
		pass "$name"
	fi
}

# need_guest_engine TEST-NAMES...: true when an engine can boot guests here:
# KVM with a usable /dev/kvm, else the process engine (sv-runner built, a
# kernel with seccomp).  SPLITVISOR_ENGINE (set by tests/run.sh, which runs
# the guest scripts once per engine the host has) picks one.  Else SKIP
# each name, saying what is missing.
need_guest_engine() {
	local why="" n
	case "${SPLITVISOR_ENGINE:-}" in
	kvm)
		[ -r /dev/kvm ] && [ -w /dev/kvm ] || why="/dev/kvm is not available on this host" ;;
	process)
		[ -x "$SV_BIN/sv-runner" ] || why="$SV_BIN/sv-runner is not built"
		grep -q '^Seccomp:' /proc/self/status || why="the kernel has no seccomp" ;;
	"")
		if ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; } && ! [ -x "$SV_BIN/sv-runner" ]; then
			why="neither /dev/kvm nor $SV_BIN/sv-runner is available"
		fi ;;
	*)
		why="unknown engine '$SPLITVISOR_ENGINE'" ;;
	esac
	[ -z "$why" ] && return 0
	for n in "$@"; do skip "$n: $why"; done
	return 1
}
need_kvm() { need_guest_engine "$@"; }

# The engine a stack started by this script runs guests on.
guest_engine() {
	if [ -n "${SPLITVISOR_ENGINE:-}" ]; then
		echo "$SPLITVISOR_ENGINE"
	elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		echo kvm
	else
		echo process
	fi
}

on_exit() { _sv_cleanups+=("$*"); }

_sv_exit() {
	local i
	for ((i = ${#_sv_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_sv_cleanups[$i]}" || true
	done
	[ "$_sv_failures" -eq 0 ]
	exit $?
}
trap _sv_exit EXIT

# stack_start: a private run directory and a running host stack.
stack_start() {
	SPLITVISOR_RUNDIR=$(mktemp -d /tmp/sv-test.XXXXXX)
	export SPLITVISOR_RUNDIR
	on_exit "rm -rf '$SPLITVISOR_RUNDIR'"
	on_exit "_sv_check_logs"
	on_exit "splitvisor stop >/dev/null 2>&1"
	local envlines
	envlines=$(splitvisor start) || { fail "splitvisor start"; return 1; }
	eval "$(printf '%s\n' "$envlines" | sed -n 's/^\([A-Z_]*=.*\)$/export \1/p')"
}

# After the stack stopped: a sanitizer report in any daemon's log fails the script.
_sv_check_logs() {
	local f
	for f in "$SPLITVISOR_RUNDIR"/*.log; do
		[ -e "$f" ] || continue
		if grep -qE 'Sanitizer|runtime error:' "$f"; then
			fail "sanitizer report in $(basename "$f")"
			grep -E -A12 'Sanitizer|runtime error:' "$f" | head -40 | sed 's/^/    /'
		fi
	done
}

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds.
# wait_for SECONDS CMD...: poll CMD until it succeeds.  SECONDS is what an
# idle machine needs with room to spare; it is multiplied by SV_WAIT_SCALE
# (default 4) so that a loaded 2-core host or ASan does not turn a slow
# success into a failure.  Success returns at once: only failures wait.
wait_for() {
	local t=$(($1 * ${SV_WAIT_SCALE:-4})); shift
	local end=$((SECONDS + t))
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}

# poweroff_announced DOMAIN: the guest (a name or a domid) has written "1" to its
# control/feature-poweroff (xl create leaves the node empty for it to write).
poweroff_announced() {
	local d=$1
	case $d in *[!0-9]*|'') d=$(xl domid "$d" 2>/dev/null) || return 1 ;; esac
	[ "$(xenstore-read "/local/domain/$d/control/feature-poweroff" 2>/dev/null)" = 1 ]
}

# pv_guest_cfg FILE NAME CMDLINE [MEMORY [MAXMEM]]: a one-vCPU PV guest of our kernel
# ($SV_GUEST/svkernel) running the words in CMDLINE, MEMORY MiB (32), destroyed when it
# powers off or crashes.
pv_guest_cfg() {
	{
		echo "name = \"$2\""
		echo 'type = "pv"'
		echo "kernel = \"$SV_GUEST/svkernel\""
		echo "memory = ${4:-32}"
		[ -n "$5" ] && echo "maxmem = $5"
		echo "vcpus = 1"
		echo "cmdline = \"$3\""
		echo 'on_poweroff = "destroy"'
		echo 'on_crash = "destroy"'
	} > "$1"
}

# guest_word_ok SECONDS LOG WORD: wait (wait_for) for the guest word's verdict line in its
# console LOG, "WORD: ok" or "WORD: FAIL"; success when it is ok.
guest_word_ok() {
	wait_for "$1" grep -qE "^$3: (ok|FAIL)" "$2" && grep -q "^$3: ok" "$2"
}

# netns_start NS_PREFIX BR_PREFIX: a network namespace for the stack, removed at exit (its
# bridges and TAPs with it), with a random tag: sets tag, NS=NS_PREFIX$tag and
# BR=BR_PREFIX$tag (the bridge name for the caller to use); splitvisor (so stack_start
# too) and nsx run in it.  Call before stack_start.
netns_start() {
	tag=$(printf '%04x' $((RANDOM % 65536)))
	NS=$1$tag
	BR=$2$tag
	ip netns add "$NS" || { fail "create network namespace $NS"; exit 1; }
	on_exit "ip netns del '$NS'"
	ip netns exec "$NS" ip link set lo up
	splitvisor() { ip netns exec "$NS" "$SV_BIN/splitvisor" "$@"; }
	nsx() { ip netns exec "$NS" "$@"; }
}
