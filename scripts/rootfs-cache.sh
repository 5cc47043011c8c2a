#!/usr/bin/env bash
# Print (last line of stdout) a directory holding a small Debian 12 root file
# system for the system test (tests/system/): debootstrap --variant=minbase
# plus systemd as init, udev, D-Bus, OpenSSH, sudo, passwd, iproute2, kmod and
# the shared libraries azl-agent and azl-agent-provision load at run time.
#
# The tree is built once and cached outside the repository, next to the
# kernels of scripts/kernel-cache.sh:
#   ${AZL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azl-guest}/rootfs/bookworm-<key>/
# where <key> hashes the package list and the text of this script's build
# recipe (main and the functions it calls), so a changed list or recipe gets
# a new tree.  It is built in a temporary directory beside
# the cache entry and renamed into place only when complete: a killed run
# leaves no half tree (only a .tmp.* directory the next run removes).
# Callers copy the tree; they never change it.
#
# The mirror is the first URI the apt sources of the machine give for the
# bookworm suite, read in apt's order (/etc/apt/sources.list, then
# /etc/apt/sources.list.d/ sorted by name: *.list one-line, *.sources deb822,
# other names ignored).  A "mirror+file:PATH" URI (Debian's cloud images)
# stands for the first URI listed in PATH; URIs of other schemes than http,
# https and file (cdrom:, mirror://, tor+http://...) are passed over, as
# debootstrap cannot use them.  AZL_ROOTFS_MIRROR overrides all this.
#
# usage: rootfs-cache.sh [--print-mirror]   (--print-mirror: only say which
# mirror would be used; tests/system/selftest.sh)
#
# Environment:
#   AZL_CACHE          cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/azl-guest)
#   AZL_ROOTFS_MIRROR  the Debian mirror URI to use
#   AZL_APT_DIR        where the apt sources are read (default /etc/apt)
# Exit status: 0 found or built; 77 cannot be built here (not root, no
# debootstrap, no usable bookworm source, no network, a mirror debootstrap
# calls an unknown location): callers skip; 1 anything else.
set -euo pipefail

suite=bookworm
cache_root=${AZL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azl-guest}
rootfs_dir=$cache_root/rootfs

# What the image needs beyond minbase (procps: the checks use pgrep).  The agent's libraries are named by
# their Debian runtime packages (scripts/deps.sh lists the -dev ones):
# json-c, libnl (3, genl, route), libsystemd, inih, libcurl, libxml2, blkid,
# libcrypt (libxcrypt), libselinux, nettle.
PACKAGES="systemd-sysv udev dbus openssh-server sudo passwd iproute2 kmod procps
libjson-c5 libnl-3-200 libnl-genl-3-200 libnl-route-3-200 libsystemd0 libinih1
libcurl4 libxml2 libblkid1 libcrypt1 libselinux1 libnettle8"

# Bump to force a rebuild (the key also hashes the recipe's text).
RECIPE=1

say() { echo "rootfs-cache: $*" >&2; }
die() { say "$1"; exit "${2:-1}"; }

# usable_uri URI: print the URI debootstrap can fetch from, or nothing.
# mirror+file:PATH becomes the first URI listed in PATH (one a line, maybe
# followed by tab-separated metadata; # comments).
usable_uri() {
	local u=$1 path
	case $u in
	mirror+file:*)
		path=$(printf '%s' "${u#mirror+file:}" | sed 's|^/*|/|')
		[ -r "$path" ] || return 0
		u=$(awk '/^[[:space:]]*(#|$)/ { next } { print $1; exit }' "$path")
		;;
	esac
	case $u in
	http://* | https://* | file:/*) echo "$u" ;;
	esac
}

# suite_uris FILE: every URI of a "deb" source for $suite in FILE, in order,
# one a line (.sources: deb822 stanzas; anything else: one-line format).
suite_uris() {
	case $1 in
	*.sources)
		# deb822 stanzas, separated by blank lines; comments start with #.
		awk -v want="$suite" '
			function flush(   u, n, i) {
				if (!off && types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ (" " want " ") && uris != "") {
					n = split(uris, u, " ")
					for (i = 1; i <= n; i++) print u[i]
				}
				types = uris = suites = ""; off = 0
			}
			/^[[:space:]]*#/ { next }
			/^[[:space:]]*$/ { flush(); next }
			{
				key = tolower($1); sub(/:$/, "", key)
				val = $0; sub(/^[^:]*:[[:space:]]*/, "", val)
				if (key == "types") types = val
				else if (key == "uris") uris = val
				else if (key == "suites") suites = val
				else if (key == "enabled" && tolower(val) == "no") off = 1
			}
			END { flush() }' "$1"
		;;
	*)
		# deb [options] URI SUITE COMPONENTS...
		awk -v want="$suite" '
			$1 == "deb" {
				i = 2
				if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
				if ($(i + 1) == want) print $i
			}' "$1"
		;;
	esac
}

# The first usable URI of a "deb" source for $suite, in apt's order:
# sources.list, then sources.list.d/ sorted by name whatever the extension
# (apt reads *.list and *.sources there and ignores other names).
bookworm_mirror() {
	local f u m apt=${AZL_APT_DIR:-/etc/apt} files=()
	[ ! -f "$apt/sources.list" ] || files+=("$apt/sources.list")
	while IFS= read -r f; do
		case $f in *.list | *.sources) files+=("$apt/sources.list.d/$f") ;; esac
	done < <(find "$apt/sources.list.d" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | LC_ALL=C sort)
	for f in ${files[@]+"${files[@]}"}; do
		[ -f "$f" ] || continue
		while IFS= read -r u; do
			m=$(usable_uri "$u")
			[ -z "$m" ] || { echo "$m"; return 0; }
		done < <(suite_uris "$f")
	done
	return 0
}

# remove_tmp DIR: unmount what a killed debootstrap left mounted under DIR
# (proc, sys...), deepest first, then remove it without crossing into any
# mount that would not go.
remove_tmp() {
	local m
	[ -d "$1" ] || return 0
	while IFS= read -r m; do
		umount -l "$m" 2>/dev/null || true
	done < <(awk -v d="$1/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts 2>/dev/null | sort -r)
	rm -rf --one-file-system "$1"
}

# check_tree DIR: a complete tree.  /usr/sbin/init is an absolute symbolic
# link (to /lib/systemd/systemd): tested as a link, never followed into the
# host; systemd itself is tested inside the tree.
check_tree() {
	{ [ -L "$1/usr/sbin/init" ] || [ -x "$1/usr/sbin/init" ]; } &&
		[ -x "$1/usr/lib/systemd/systemd" ] &&
		[ -f "$1/etc/os-release" ] && [ -f "$1/.azl-rootfs-complete" ]
}

main() {
	local key dir tmp mirror log t0 include old
	if [ "${1:-}" = --print-mirror ]; then
		mirror=${AZL_ROOTFS_MIRROR:-$(bookworm_mirror)}
		[ -n "$mirror" ] || die "no apt source names the $suite suite (set AZL_ROOTFS_MIRROR=URI)" 77
		echo "$mirror"
		return 0
	fi
	# The recipe's text is part of the key: an edit to it builds a new tree.
	key=$( {
		printf '%s\n' "$suite" "$RECIPE" $PACKAGES
		declare -f main check_tree
	} | md5sum | cut -c1-12)
	dir=$rootfs_dir/$suite-$key
	if check_tree "$dir"; then
		echo "$dir"
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "debootstrap needs root; cannot build the root file system here" 77
	command -v debootstrap >/dev/null ||
		die "no debootstrap (scripts/deps.sh check installs it)" 77
	mirror=${AZL_ROOTFS_MIRROR:-$(bookworm_mirror)}
	[ -n "$mirror" ] ||
		die "no apt source names the $suite suite (set AZL_ROOTFS_MIRROR=URI)" 77

	mkdir -p "$rootfs_dir"
	# Leftovers of killed runs (maybe with proc or sys still mounted).
	while IFS= read -r old; do
		remove_tmp "$old"
	done < <(find "$rootfs_dir" -mindepth 1 -maxdepth 1 -name '.tmp.*' -mmin +120 2>/dev/null)
	[ ! -e "$dir" ] || { say "replacing the incomplete $dir"; remove_tmp "$dir"; }
	tmp=$(mktemp -d "$rootfs_dir/.tmp.$suite.XXXXXX")
	# shellcheck disable=SC2064 # expand now: the trap must remove this
	trap "remove_tmp '$tmp'" EXIT
	log=$tmp/debootstrap.log
	include=$(echo $PACKAGES | tr ' ' ,)
	say "building a Debian $suite root file system from $mirror (once; a few minutes; cached in $dir)"
	t0=$SECONDS
	if ! debootstrap --variant=minbase --include="$include" --components=main \
		"$suite" "$tmp/root" "$mirror" >"$log" 2>&1; then
		tail -n 15 "$log" >&2
		# Missing network or mirror: skip; anything else is a real problem.
		if grep -qE "Failed getting release file|Couldn't download|Could not resolve|Temporary failure|Connection refused|Network is unreachable|Unable to connect" "$log"; then
			die "debootstrap could not reach $mirror" 77
		fi
		# A mirror of a kind debootstrap does not know: nothing to fix in the
		# project; AZL_ROOTFS_MIRROR names one it knows.
		if grep -q 'unknown location' "$log"; then
			die "debootstrap cannot use the mirror $mirror (set AZL_ROOTFS_MIRROR=http://...)" 77
		fi
		die "debootstrap failed (log above)"
	fi
	# No package downloads or lists in the cache: the image has no use for them.
	rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"* \
		"$tmp/root/debootstrap"
	# Left empty: the caller writes one per image (with an empty one
	# systemd would treat every boot as the first and run systemd-firstboot).
	: >"$tmp/root/etc/machine-id"
	date -u +%FT%TZ >"$tmp/root/.azl-rootfs-complete"
	echo "$mirror" >>"$tmp/root/.azl-rootfs-complete"
	# Another run may have won the race; its tree is as good as ours.
	if ! mv -T "$tmp/root" "$dir" 2>/dev/null; then
		check_tree "$dir" || die "cannot move the root file system into $dir"
	fi
	remove_tmp "$tmp"
	trap - EXIT
	say "built in $((SECONDS - t0)) s ($(du -sh "$dir" | cut -f1))"
	echo "$dir"
}

main "$@"
