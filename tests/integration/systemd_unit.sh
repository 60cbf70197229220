#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The installed splitvisor.service, run as systemd runs a Type=forking unit but
# without systemd: ExecStart with the unit's environment must return with the
# stack ready and PIDFile naming the live supervisor; ExecStop must take
# everything down.  %t (systemd's runtime folder, /run) is a private folder here,
# and the unit's programs are the ones installed under DESTDIR.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(unit-verifies unit-fields unit-start-returns-ready unit-pidfile-live unit-xl-works
	unit-stop-cleans)
need_guest_engine "${TESTS[@]}" || exit 0

root=$(mktemp -d /tmp/sv-unit.XXXXXX)
on_exit "rm -rf '$root'"
dest=$root/dest
rt=$root/run		# what %t stands for
san=0
[[ $BUILD == */san ]] && san=1
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory BUILD="$BUILD" \
	SANITIZE=$san install DESTDIR="$dest" PREFIX=/usr >"$root/make.log" 2>&1; then
	for t in "${TESTS[@]}"; do fail "$t (make install failed)"; done
	tail -20 "$root/make.log" | sed 's/^/    /'
	exit 1
fi
unit=$dest/lib/systemd/system/splitvisor.service

# 1. systemd's own parser has nothing to say about it (paths moved into DESTDIR).
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/sbin/|$dest/usr/sbin/|g" "$unit" > "$root/splitvisor.service"
	if out=$(systemd-analyze verify --man=no "$root/splitvisor.service" 2>&1) && [ -z "$out" ]; then
		pass unit-verifies
	else
		fail unit-verifies; printf '%s\n' "$out" | sed 's/^/    /'
	fi
else
	skip "unit-verifies: systemd-analyze is not installed"
fi

# field KEY: the value of KEY= in [Service] (the last one wins, as in systemd).
field() { sed -n '/^\[Service\]/,/^\[/p' "$unit" | sed -n "s/^$1=//p" | tail -n 1; }
# expand VALUE: systemd's %t and %%, and the installed programs under DESTDIR.
expand() { local v=${1//%t/$rt}; v=${v//%%/%}; printf '%s' "${v//\/usr\/sbin\//$dest/usr/sbin/}"; }

type=$(field Type)
start=$(expand "$(field ExecStart)")
stop=$(expand "$(field ExecStop)")
pidfile=$(expand "$(field PIDFile)")
if [ "$type" = forking ] && [ "$start" = "$dest/usr/sbin/splitvisor start" ] &&
	[ "$stop" = "$dest/usr/sbin/splitvisor stop" ] && [ "$pidfile" = "$rt/splitvisor/splitvisor.pid" ]; then
	pass unit-fields
else
	fail unit-fields; echo "    Type=$type ExecStart=$start ExecStop=$stop PIDFile=$pidfile"
fi

# The unit's environment, as systemd gives it: Environment= lines (EnvironmentFile=-
# names an optional file, absent here), nothing inherited but PATH.
uenv=(PATH=/usr/sbin:/usr/bin:/sbin:/bin)
while IFS= read -r e; do
	uenv+=("$(expand "$e")")
done < <(sed -n '/^\[Service\]/,/^\[/p' "$unit" | sed -n 's/^Environment=//p')
rundir=$(printf '%s\n' "${uenv[@]}" | sed -n 's/^SPLITVISOR_RUNDIR=//p')
mkdir -p "$rt"
# Whatever happens, stop what ExecStart started, then look for sanitizer reports.
SPLITVISOR_RUNDIR=$rundir
on_exit "_sv_check_logs"
on_exit "env -i ${uenv[*]} $stop >/dev/null 2>&1"

# 2. ExecStart returns (systemd waits for that), successfully, with the stack ready.
if (cd / && env -i "${uenv[@]}" setsid $start </dev/null >"$root/start.log" 2>&1) &&
	env -i "${uenv[@]}" "$dest/usr/sbin/splitvisor" status >"$root/status" 2>&1; then
	pass unit-start-returns-ready
else
	fail unit-start-returns-ready; sed 's/^/    /' "$root/start.log" "$root/status" 2>/dev/null
fi

# 3. PIDFile names the live supervisor: the installed splitvisor, not ExecStart's process.
pid=$(cat "$pidfile" 2>/dev/null)
if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
	[ "$(readlink "/proc/$pid/exe")" = "$dest/usr/sbin/splitvisor" ] &&
	[ "$(dirname "$pidfile")" = "$rundir" ]; then
	pass unit-pidfile-live
else
	fail unit-pidfile-live; echo "    $pidfile: '$pid' (run directory $rundir)"
fi

# 4. xl reaches the stack through the unit's run directory.
if env -i "${uenv[@]}" "$dest/usr/sbin/xl" info 2>&1 | grep -q '^xen_version'; then
	pass unit-xl-works
else
	fail unit-xl-works; env -i "${uenv[@]}" "$dest/usr/sbin/xl" info 2>&1 | sed 's/^/    /'
fi

# 5. ExecStop: succeeds, the supervisor is gone, no installed program still runs.
left() {
	local p
	for p in /proc/[0-9]*; do
		case $(readlink "$p/exe" 2>/dev/null) in "$dest"/*) echo "${p#/proc/}";; esac
	done
}
# A dead supervisor may stay a zombie until whoever adopted it reaps it: that is gone too.
sup_gone() { [ ! -e "/proc/$pid" ] || [ "$(sed 's/^.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null)" = Z ]; }
no_left() { [ -z "$(left)" ] && sup_gone; }
if env -i "${uenv[@]}" $stop >"$root/stop.log" 2>&1 && wait_for 30 no_left; then
	pass unit-stop-cleans
else
	fail unit-stop-cleans; sed 's/^/    /' "$root/stop.log"; echo "    left: $(left)"
fi
