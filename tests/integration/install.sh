#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make install DESTDIR=... PREFIX=/usr`: Debian's layout, nothing written outside
# DESTDIR, the installed splitvisor starts a stack from the installed services and
# the installed xl boots the installed kernel with the installed example config;
# the installed man pages render without warnings and xl.1 has every command of
# docs/xl.md's SYNOPSIS; `make uninstall` takes it all away again.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(install-layout install-stays-in-destdir installed-stack-starts installed-guest-boots
	installed-stack-stops man-pages-render man-xl-synopsis installed-completion uninstall)
need_guest_engine "${TESTS[@]}" || exit 0

root=$(mktemp -d /tmp/sv-install.XXXXXX)
on_exit "rm -rf '$root'"
dest=$root/dest
export SPLITVISOR_RUNDIR=$root/run
san=0
[[ $BUILD == */san ]] && san=1

# make from inside a test: not the jobserver of a `make test` around us.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory BUILD="$BUILD" SANITIZE=$san "$@"; }

# Every path an install could leak to, with the files of ours that may be there now.
outside_files() {
	find /usr/sbin /usr/lib /usr/local /lib/systemd /etc /usr/share/man \
		/usr/share/bash-completion /usr/share/doc -xdev \
		\( -name 'xl' -o -name 'xl.*' -o -name 'splitvisor*' -o -name 'svkernel' \
		-o -name 'libsvxen.a' -o -name 'sv-runner' -o -name 'blkback*' -o -name 'netback*' \
		-o -name 'xenstored*' -o -name 'xenconsoled*' \) -newer "$root/stamp" 2>/dev/null
}

touch "$root/stamp"
sleep 1	# -newer compares whole seconds on some file systems
if ! out=$(mk install DESTDIR="$dest" PREFIX=/usr 2>&1); then
	for t in "${TESTS[@]}"; do fail "$t (make install failed)"; done
	printf '%s\n' "$out" | tail -20 | sed 's/^/    /'
	exit 1
fi

# 1. Where Debian puts things.
want=(usr/sbin/xl usr/sbin/splitvisor usr/lib/splitvisor/hypervisor usr/lib/splitvisor/sv-runner
	usr/lib/splitvisor/xenstored usr/lib/splitvisor/xenconsoled usr/lib/splitvisor/blkback
	usr/lib/splitvisor/netback usr/lib/splitvisor/boot/svkernel
	"usr/lib/$(cc -print-multiarch)/libsvxen.a"
	usr/share/man/man1/xl.1 usr/share/man/man5/xl.cfg.5 usr/share/man/man8/splitvisor.8
	usr/share/man/man8/xenstored.8 usr/share/man/man8/blkback.8 usr/share/man/man8/netback.8
	usr/share/bash-completion/completions/xl usr/share/bash-completion/completions/splitvisor
	lib/systemd/system/splitvisor.service usr/share/doc/splitvisor/README.md
	usr/share/doc/splitvisor/xl.md usr/share/doc/splitvisor/examples/hello.cfg)
missing=()
for f in "${want[@]}"; do [ -f "$dest/$f" ] || missing+=("$f"); done
for f in usr/sbin/xl usr/sbin/splitvisor usr/lib/splitvisor/hypervisor usr/lib/splitvisor/sv-runner; do
	[ -x "$dest/$f" ] || missing+=("$f (not executable)")
done
if [ ${#missing[@]} -eq 0 ] && grep -q '^ExecStart=/usr/sbin/splitvisor start$' \
	"$dest/lib/systemd/system/splitvisor.service"; then
	pass install-layout
else
	fail install-layout; printf '    missing: %s\n' "${missing[@]}"
	(cd "$dest" && find . | sort | sed 's/^/    /')
fi

# 2. Nothing of ours written outside DESTDIR: no new file of our names in the
# system's folders, and no file installed under DESTDIR changed at its real path.
leaked=$(outside_files)
while IFS= read -r f; do
	real=${f#"$dest"}
	[ -e "$real" ] && [ "$real" -nt "$root/stamp" ] && leaked+=$'\n'"$real"
done < <(find "$dest" -type f)
if [ -z "${leaked//$'\n'/}" ]; then
	pass install-stays-in-destdir
else
	fail install-stays-in-destdir; printf '%s\n' "$leaked" | sed '/^$/d; s/^/    /'
fi

# 3. The installed splitvisor finds the installed services (not build/bin) and starts them.
ipath=$dest/usr/sbin:/usr/bin:/bin:/usr/sbin:/sbin
on_exit "_sv_check_logs"
on_exit "PATH='$ipath' splitvisor stop >/dev/null 2>&1"
started=0
if (cd / && env -u SPLITVISOR_BINDIR PATH="$ipath" splitvisor start >"$root/start.out" 2>&1); then
	hv=$(cat "$SPLITVISOR_RUNDIR/hypervisor.pid" 2>/dev/null || pgrep -f "^$dest/usr/lib/splitvisor/hypervisor" | head -1)
	hvexe=$(readlink "/proc/$hv/exe" 2>/dev/null)
	if [ "$hvexe" = "$dest/usr/lib/splitvisor/hypervisor" ] &&
		PATH="$ipath" splitvisor status >/dev/null && PATH="$ipath" xl info >/dev/null; then
		pass installed-stack-starts; started=1
	else
		fail installed-stack-starts; echo "    hypervisor pid '$hv' runs '$hvexe'"
		PATH="$ipath" splitvisor status 2>&1 | sed 's/^/    /'
	fi
else
	fail installed-stack-starts; sed 's/^/    /' "$root/start.out"
fi

# 4. The installed xl boots the installed kernel ("svkernel", looked up beside xl)
# with the installed example, from a folder that has no kernel of its own, and
# on the process engine the domain runs in the installed sv-runner (the KVM
# engine runs it in the installed hypervisor, checked above).
runner_exe() {
	local p
	[ "$(guest_engine)" = process ] || return 0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$dest/usr/lib/splitvisor/sv-runner" ] && return 0
	done
	return 1
}
if [ $started = 1 ]; then
	mkdir -p "$root/cwd"
	clog=$SPLITVISOR_RUNDIR/console/guest-hello.log
	out=$(cd "$root/cwd" && PATH="$ipath" timeout 60 xl create \
		"$dest/usr/share/doc/splitvisor/examples/hello.cfg" \
		'cmdline="print=installed-kernel-ok wait"' 2>&1)
	if wait_for 30 grep -q 'installed-kernel-ok' "$clog" && grep -q '^Splitvisor PV kernel' "$clog" &&
		runner_exe && PATH="$ipath" xl destroy hello; then
		pass installed-guest-boots
	else
		fail installed-guest-boots; printf '%s\n' "$out" | tail -15 | sed 's/^/    /'
		tail -5 "$clog" 2>/dev/null | sed 's/^/    console: /'
	fi
else
	fail "installed-guest-boots (no stack)"
fi

# 5. The installed splitvisor stop leaves no installed program running.
ours() {
	local p
	for p in /proc/[0-9]*; do
		case $(readlink "$p/exe" 2>/dev/null) in "$dest"/*) echo "${p#/proc/}";; esac
	done
}
if PATH="$ipath" splitvisor stop >/dev/null 2>&1 && wait_for 15 bash -c "[ -z \"\$(
	for p in /proc/[0-9]*; do case \$(readlink \$p/exe 2>/dev/null) in '$dest'/*) echo x;; esac; done)\" ]"; then
	pass installed-stack-stops
else
	fail installed-stack-stops; echo "    still running: $(ours)"
fi

# 6. Man pages render without a warning, with a NAME whatis can read.
bad=()
for m in "$dest"/usr/share/man/man*/*; do
	w=$( { groff -t -man -Tutf8 -ww -z "$m"; MANWIDTH=80 man --warnings=w -l "$m" >/dev/null; } 2>&1)
	[ -z "$w" ] || bad+=("$(basename "$m"): $w")
	lexgrog "$m" >/dev/null 2>&1 || bad+=("$(basename "$m"): lexgrog cannot read NAME")
done
if [ ${#bad[@]} -eq 0 ]; then pass man-pages-render
else fail man-pages-render; printf '    %s\n' "${bad[@]}"; fi

# 7. Each line of docs/xl.md's SYNOPSIS is in the rendered xl(1).
page=$(MANWIDTH=250 man -l "$dest/usr/share/man/man1/xl.1" 2>/dev/null | col -b)
synopsis=$(sed -n '/^## SYNOPSIS/,/^## /p' docs/xl.md | sed -n '/^```/,/^```/p' | grep '^xl ')
absent=()
while IFS= read -r line; do
	grep -qF -- "$line" <<<"$page" || absent+=("$line")
done <<<"$synopsis"
if [ -n "$synopsis" ] && [ ${#absent[@]} -eq 0 ]; then
	pass man-xl-synopsis
else
	fail man-xl-synopsis; printf '    not in xl.1: %s\n' "${absent[@]:-(no SYNOPSIS lines found)}"
fi

# 8. The installed completion script loads and registers _xl for xl.
if bash -c ". '$dest/usr/share/bash-completion/completions/xl' &&
	complete -p xl | grep -q -- '-F _xl' &&
	. '$dest/usr/share/bash-completion/completions/splitvisor' &&
	complete -p splitvisor | grep -q -- '-F _splitvisor'"; then
	pass installed-completion
else
	fail installed-completion
fi

# 9. make uninstall removes every file it installed.
if mk uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null 2>&1 &&
	[ -z "$(find "$dest" -type f)" ]; then
	pass uninstall
else
	fail uninstall; find "$dest" -type f | sed 's/^/    left: /'
fi
