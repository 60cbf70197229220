#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bash completion for xl and splitvisor (dist/bash-completion/), driven as bash drives
# it: COMP_WORDS/COMP_CWORD set, the completion function called, COMPREPLY read.
# Subcommands come from `xl help` (a command xl gains completes at once), domain
# names from `xl list`, config files (*.cfg first) for create, options from usage.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

TESTS=(complete-subcommands complete-new-subcommand complete-options complete-domain-names
	complete-domain-ids complete-config-files complete-any-file complete-after-config
	complete-block-devids complete-splitvisor)
need_guest_engine "${TESTS[@]}" || exit 0
stack_start || exit 1

work=$(mktemp -d /tmp/sv-compl.XXXXXX)
on_exit "rm -rf '$work'"

# comp SCRIPT WORD...: complete the last WORD of the command line WORD...; prints
# COMPREPLY one per line.  Runs in a fresh bash in $work/cwd, as bash would call it.
comp() {
	local script=$1; shift
	(cd "$work/cwd" && bash -c '
		script=$1; shift
		. "$script" || exit 1
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		fn=$(complete -p "$(basename "$1")" | sed -n "s/.*-F \([^ ]*\).*/\1/p")
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$script" "$@")
}
xlc() { comp "$PWD/dist/bash-completion/xl" "$@"; }
# has LIST WORD...: every WORD is a line of LIST.
has() { local l=$1 w; shift; for w; do grep -qxF -- "$w" <<<"$l" || return 1; done; }
lacks() { local l=$1 w; shift; for w; do grep -qxF -- "$w" <<<"$l" && return 1; done; return 0; }

mkdir -p "$work/cwd/sub" "$work/other"
touch "$work/cwd/a.cfg" "$work/cwd/b.cfg" "$work/cwd/notes.txt" "$work/other/disk.img"

# 1. Subcommands, from `xl help`.
all=$(xlc xl "")
sh=$(xlc xl sh)
if has "$all" create list shutdown reboot destroy block-detach network-list help &&
	[ "$sh" = shutdown ]; then
	pass complete-subcommands
else
	fail complete-subcommands; printf '    all: %s\n' $all; echo "    sh: $sh"
fi

# 2. A command that xl starts listing completes without touching the script.
cat > "$work/xl" <<EOS
#!/usr/bin/env bash
if [ "\$1" = help ]; then "$SV_BIN/xl" help; echo "  xl frobnicate <Domain>"; exit 0; fi
exec "$SV_BIN/xl" "\$@"
EOS
chmod +x "$work/xl"
new=$(xlc "$work/xl" fro)
if [ "$new" = frobnicate ]; then pass complete-new-subcommand
else fail complete-new-subcommand; echo "    got: $new"; fi

# 3. Options from the usage line (and long forms it does not show).
opts=$(xlc xl shutdown -)
lopt=$(xlc xl list --)
if has "$opts" -w -F && [ "$lopt" = --long ]; then pass complete-options
else fail complete-options; echo "    shutdown -: $opts / list --: $lopt"; fi

# A live guest with a disk, for names, ids and device ids.
truncate -s 8M "$work/other/disk.img"
printf 'name = "compl-guest"\nkernel = "%s"\nmemory = 32\ncmdline = "wait"\ndisk = [ "format=raw, vdev=xvda, access=rw, target=%s" ]\n' \
	"$SV_GUEST/svkernel" "$work/other/disk.img" > "$work/other/g.cfg"
if ! xl create -q "$work/other/g.cfg" >/dev/null 2>&1; then
	fail "complete-domain-names (cannot create the guest)"
fi
on_exit "xl destroy compl-guest >/dev/null 2>&1"
domid=$(xl domid compl-guest 2>/dev/null)

# 4. Domain names from `xl list`; Domain-0 only where it makes sense (list).
names=$(xlc xl shutdown "")
pref=$(xlc xl console compl)
lnames=$(xlc xl list "")
if has "$names" compl-guest && lacks "$names" Domain-0 && [ "$pref" = compl-guest ] &&
	has "$lnames" compl-guest Domain-0; then
	pass complete-domain-names
else
	fail complete-domain-names; echo "    shutdown: $names / console compl: $pref / list: $lnames"
fi

# 5. Ids where the usage says <DomainId>.
ids=$(xlc xl domname "")
if [ -n "$domid" ] && has "$ids" "$domid"; then pass complete-domain-ids
else fail complete-domain-ids; echo "    domid $domid, got: $ids"; fi

# 6. create: *.cfg files and folders, not other files.
cfgs=$(xlc xl create "")
if has "$cfgs" a.cfg b.cfg sub && lacks "$cfgs" notes.txt; then pass complete-config-files
else fail complete-config-files; echo "    got: $cfgs"; fi

# 7. ... and any file where no *.cfg matches.
anyf=$(xlc xl create no)
if [ "$anyf" = notes.txt ]; then pass complete-any-file
else fail complete-any-file; echo "    got: $anyf"; fi

# 8. After the config come key=value settings: nothing is offered, nothing breaks.
after=$(xlc xl create -c a.cfg "")
if [ -z "$after" ]; then pass complete-after-config
else fail complete-after-config; echo "    got: $after"; fi

# 9. block-detach's device ids come from block-list of the domain named before.
devs=$(xlc xl block-detach compl-guest "")
if has "$devs" 51712; then pass complete-block-devids
else fail complete-block-devids; echo "    got: $devs"; fi

# 10. splitvisor: its commands, engines for start, the stack's services for restart-service.
sc=$(comp "$PWD/dist/bash-completion/splitvisor" splitvisor re)
se=$(comp "$PWD/dist/bash-completion/splitvisor" splitvisor start --engine=)
sq=$(comp "$PWD/dist/bash-completion/splitvisor" splitvisor start --engine = p)
ss=$(comp "$PWD/dist/bash-completion/splitvisor" splitvisor restart-service "")
if [ "$sc" = restart-service ] && has "$se" --engine=kvm --engine=process &&
	[ "$sq" = process ] && has "$ss" hypervisor xenstored; then
	pass complete-splitvisor
else
	fail complete-splitvisor; echo "    re: $sc / start: $se / --engine=p: $sq / restart-service: $ss"
fi
