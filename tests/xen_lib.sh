# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# What the scripts that run Debian's unmodified Xen 4.17 tools on our stack share
# (tests/integration/xen_*.sh): a private view of the host's Xen paths, Debian's tools
# unpacked, and helpers to run them.  Sourced from the repository root, after the script
# set TESTS (its test names, for SKIP lines):
#
#   cd "$(dirname "$0")/../.." || exit 1
#   TESTS=(...)
#   . tests/xen_lib.sh        # re-runs the script in its own mount namespace, sources lib.sh
#   xen_begin || exit 0       # engine, Debian's tools ($XD), else SKIP lines
#   [netns_start ...]         # (lib.sh) before the stack, when the script needs a bridge
#   stack_start || exit 1     # (lib.sh)
#   xen_workdir NAME          # $work, and every domain destroyed at exit
#
# Isolation: libxl keeps its lock files and domain records in /var/lib/xen and /run/xen
# (XEN_LIB_DIR, XEN_RUN_DIR, compiled in), xl's monitors log to /var/log/xen, and
# libxenstore looks at /run/xenstored; on a Xen host xen-utils-common makes them.  The
# script runs in a mount namespace of its own (unshare --mount --propagation private,
# re-executed here before anything else), where each of those paths is an empty tmpfs
# directory of this run: nothing is made, written or removed on the host's paths, and
# two runs (another worktree's, CI's) can go side by side.  Where a path does not exist
# on the host, its parent (/run, /var/lib, /var/log) is seen through an overlay whose
# writes stay in this run's tmpfs, so that the mount point exists here alone.  The
# namespace, its mounts and its tmpfs end with the script.

# Paths of the host that libxl, xl and libxenstore use, private in the namespace.
SV_XEN_PRIVATE_DIRS=(/var/lib/xen /run/xen /var/log/xen /run/xenstored)

# The script, by an absolute path (the caller has cd'ed to the repository root).
_sv_xen_script=$PWD/tests/integration/${0##*/}

# Not yet in a namespace of our own: run the script again in one.  SV_XEN_NS names the
# mount namespace the re-run made, so a xen script started from inside another's gets
# its own too.
if [ "${SV_XEN_NS:-}" != "$(readlink /proc/self/ns/mnt)" ]; then
	if ! unshare --mount --propagation private true 2>/dev/null; then
		for t in "${TESTS[@]}"; do
			echo "SKIP $t: no private mount namespace here (unshare --mount needs root)"
		done
		exit 0
	fi
	# shellcheck disable=SC2016
	exec unshare --mount --propagation private bash -c \
		'SV_XEN_NS=$(readlink /proc/self/ns/mnt) && export SV_XEN_NS && exec bash "$0" "$@"' \
		"$_sv_xen_script" "$@"
fi

. tests/lib.sh

# _sv_xen_private: this run's tmpfs (one directory of /tmp on the host, removed at
# exit), an overlay on each parent that lacks one of the paths, and an empty directory
# of the tmpfs bound on each path.  Any failure ends the script: it never falls back to
# the host's paths.
_sv_xen_private() {
	local p parent n
	local -A overlaid=()
	SV_XEN_PRIV=$(mktemp -d /tmp/sv-xenns.XXXXXX) || return 1
	mount -t tmpfs -o mode=0755 sv-xenns "$SV_XEN_PRIV" || { rmdir "$SV_XEN_PRIV"; return 1; }
	# Last at exit: lazily, so that a process still holding a file does not keep them.
	on_exit "_sv_xen_unmount"
	for p in "${SV_XEN_PRIVATE_DIRS[@]}"; do
		parent=${p%/*}
		if [ ! -e "$p" ] && [ -z "${overlaid[$parent]:-}" ]; then
			n=ovl${parent//\//_}
			mkdir -p "$SV_XEN_PRIV/$n/upper" "$SV_XEN_PRIV/$n/work" || return 1
			mount -t overlay sv-xenns \
				-o "lowerdir=$parent,upperdir=$SV_XEN_PRIV/$n/upper,workdir=$SV_XEN_PRIV/$n/work" \
				"$parent" || return 1
			overlaid[$parent]=1
			_sv_xen_mounts+=("$parent")
		fi
		n=dir${p//\//_}
		mkdir -p "$p" "$SV_XEN_PRIV/$n" || return 1
		mount --bind "$SV_XEN_PRIV/$n" "$p" || return 1
		_sv_xen_mounts+=("$p")
	done
}
_sv_xen_mounts=()

_sv_xen_unmount() {
	local i
	for ((i = ${#_sv_xen_mounts[@]} - 1; i >= 0; i--)); do
		umount -l "${_sv_xen_mounts[$i]}" 2>/dev/null
	done
	umount -l "$SV_XEN_PRIV" 2>/dev/null
	rmdir "$SV_XEN_PRIV" 2>/dev/null
}

if ! _sv_xen_private; then
	fail "private Xen paths (${SV_XEN_PRIVATE_DIRS[*]}) in this run's mount namespace"
	exit 1
fi

# xen_begin: an engine that boots guests and Debian's tools unpacked into the build tree
# ($XD, absolute); else a SKIP line for each of TESTS, and false.
xen_begin() {
	local why t
	need_guest_engine "${TESTS[@]}" || return 1
	if ! XD=$(scripts/xen_debian.sh "$BUILD" 2>"$SV_XEN_PRIV/xendeb.err"); then
		why=$(cat "$SV_XEN_PRIV/xendeb.err")
		for t in "${TESTS[@]}"; do skip "$t: $why"; done
		return 1
	fi
	XD=$PWD/$XD
}

# xen_workdir NAME: $work, a directory of this run (removed at exit); every domain of
# the stack (our xl's view) is destroyed at exit.
xen_workdir() {
	work=$(mktemp -d "/tmp/sv-$1.XXXXXX")
	on_exit "rm -rf '$work'"
	on_exit "for d in \$(xl list 2>/dev/null | awk 'NR > 2 {print \$1}'); do xl destroy \$d; done >/dev/null 2>&1"
}

# dxl ARGS...: Debian's xl with our libraries first, its own after; stderr in
# $work/err without the note about /etc/xen/xl.conf (none here).  libxl runs libxc's save
# and restore in its helper, at Xen's installed path unless LIBXL_SAVE_HELPER names it
# (here: the one unpacked with xl).
dxl() {
	local rc
	LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$XD/usr/lib/x86_64-linux-gnu" \
		LIBXL_SAVE_HELPER="$XD/usr/lib/xen-4.17/bin/libxl-save-helper" \
		"$XD/usr/lib/xen-4.17/bin/xl" "$@" 2>"$work/err.raw"
	rc=$?
	grep -v '^Failed to read config file: /etc/xen/xl.conf' "$work/err.raw" >"$work/err"
	return $rc
}

# dbin TOOL ARGS...: another of Debian's tools (lsevtchn, xentop...) on our libraries.
dbin() {
	local b=$1; shift
	LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$XD/usr/lib/x86_64-linux-gnu" "$XD/usr/lib/xen-4.17/bin/$b" "$@"
}

show() { echo "    --- $1"; printf '%s\n' "$2" | sed 's/^/    /'; }
# cons_has NAME TEXT: the guest's console log (our xenconsoled's) holds TEXT.
cons_has() { grep -qF -- "$2" "$SPLITVISOR_RUNDIR/console/guest-$1.log" 2>/dev/null; }
# dlisted NAME: Debian's xl lists the domain.
dlisted() { dxl list 2>/dev/null | awk -v n="$1" '$1 == n' | grep -q .; }
# no_xen_domain: no domain made by Debian's tools (named xen-N in the hypervisor) is left.
no_xen_domain() { ! xl list | awk 'NR > 1 {print $1}' | grep -q '^xen-'; }
# monitors: Debian's xl's own monitors of domains (xl create and restore fork one each;
# it ends with its domain).
monitors() { pgrep -f "$XD/usr/lib/xen-4.17/bin/xl .*(create|restore)" | grep -vx "$$"; }
