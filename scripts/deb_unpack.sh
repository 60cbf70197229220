# SPDX-License-Identifier: MIT
# Sourced by scripts/xen_debian.sh and scripts/grub_debian.sh: Debian packages
# fetched and unpacked into the build tree, never installed.
#
#   deb_unpack TAG DEST VERSION CHECK PKG...
#
# Unpacks every PKG at VERSION (amd64) into DEST with `dpkg-deb -x` and prints
# DEST.  .debs already in /var/cache/apt/archives are used as they are; the
# rest come from `apt-get download` into DEST.debs.  A stamp per version makes
# a second call do nothing.  CHECK, when not empty, is a file (relative to
# DEST) the packages must have given.  Exit 1 with one line on stderr, named
# TAG, when a package cannot be had.

deb_unpack() {
	local tag=$1 dest=$2 ver=$3 check=$4
	shift 4
	local debs=$dest.debs fver=${ver//:/%3a} p f

	if [ -e "$dest/.unpacked-$ver" ]; then
		echo "$dest"
		return 0
	fi
	mkdir -p "$debs"
	for p in "$@"; do
		f=${p}_${fver}_amd64.deb
		[ -s "$debs/$f" ] && continue
		if [ -s "/var/cache/apt/archives/$f" ]; then
			cp "/var/cache/apt/archives/$f" "$debs/$f"
			continue
		fi
		if ! (cd "$debs" && timeout 300 apt-get download -q "$p=$ver") >"$debs/apt.log" 2>&1 ||
			[ ! -s "$debs/$f" ]; then
			echo "$tag: cannot download $p=$ver with apt-get (archive unreachable?): $(grep -E '^(E|Err):' "$debs/apt.log" | head -n 1)" >&2
			exit 1
		fi
	done
	rm -rf "$dest.tmp"
	mkdir -p "$dest.tmp"
	for p in "$@"; do
		dpkg-deb -x "$debs/${p}_${fver}_amd64.deb" "$dest.tmp"
	done
	if [ -n "$check" ] && [ ! -s "$dest.tmp/$check" ]; then
		echo "$tag: the packages at $ver have no $check" >&2
		rm -rf "$dest.tmp"
		exit 1
	fi
	rm -rf "$dest"
	mv "$dest.tmp" "$dest"
	touch "$dest/.unpacked-$ver"
	echo "$dest"
}
