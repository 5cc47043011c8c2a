#!/usr/bin/env bash
# Print (last line of stdout) a directory holding a small Debian 12 root file
# system for the system test (tests/system/): debootstrap --variant=minbase
# plus systemd as init, udev, D-Bus, OpenSSH, sudo, passwd, iproute2, kmod and
# the shared libraries azl-agent and azl-agent-provision load at run time.
#
# The tree is built once and cached outside the repository, next to the
# kernels of scripts/kernel-cache.sh:
#   ${AZL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azl-guest}/rootfs/bookworm-<key>/
# where <key> hashes the package list and this script's build recipe, so a
# changed list gets a new tree.  It is built in a temporary directory beside
# the cache entry and renamed into place only when complete: a killed run
# leaves no half tree (only a .tmp.* directory the next run removes).
# Callers copy the tree; they never change it.
#
# The mirror is the first URI this machine's apt sources give for the
# bookworm suite (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list and
# *.sources); AZL_ROOTFS_MIRROR overrides it.
#
# usage: rootfs-cache.sh [--print-mirror]   (--print-mirror: only say which
# mirror would be used; tests/system/selftest.sh)
#
# Environment:
#   AZL_CACHE          cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/azl-guest)
#   AZL_ROOTFS_MIRROR  the Debian mirror URI to use
#   AZL_APT_DIR        where the apt sources are read (default /etc/apt)
# Exit status: 0 found or built; 77 cannot be built here (not root, no
# debootstrap, no bookworm source, no network): callers skip; 1 anything else.
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

# Bump when the recipe below changes in a way the package list does not show.
RECIPE=1

say() { echo "rootfs-cache: $*" >&2; }
die() { say "$1"; exit "${2:-1}"; }

# The first URI of a "deb" source for $suite, from one-line .list files and
# deb822 .sources files, in apt's order (sources.list first, then the
# directory sorted).
bookworm_mirror() {
	local f m apt=${AZL_APT_DIR:-/etc/apt}
	for f in "$apt/sources.list" "$apt"/sources.list.d/*.list "$apt"/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		case $f in
		*.sources)
			# deb822 stanzas, separated by blank lines; comments start with #.
			m=$(awk -v want="$suite" '
				function flush() {
					if (!off && types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ (" " want " ") && uris != "") {
						split(uris, u, " "); print u[1]; found = 1; exit
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
				END { if (!found) flush() }' "$f")
			;;
		*)
			# deb [options] URI SUITE COMPONENTS...
			m=$(awk -v want="$suite" '
				$1 == "deb" {
					i = 2
					if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
					if ($(i + 1) == want) { print $i; exit }
				}' "$f")
			;;
		esac
		[ -z "$m" ] || { echo "$m"; return 0; }
	done
	return 0
}

check_tree() {
	[ -x "$1/sbin/init" ] && [ -f "$1/etc/os-release" ] && [ -f "$1/.azl-rootfs-complete" ]
}

main() {
	local key dir tmp mirror log t0 include
	if [ "${1:-}" = --print-mirror ]; then
		mirror=${AZL_ROOTFS_MIRROR:-$(bookworm_mirror)}
		[ -n "$mirror" ] || die "no apt source names the $suite suite (set AZL_ROOTFS_MIRROR=URI)" 77
		echo "$mirror"
		return 0
	fi
	key=$(printf '%s\n' "$suite" "$RECIPE" $PACKAGES | md5sum | cut -c1-12)
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
	# Leftovers of killed runs.
	find "$rootfs_dir" -maxdepth 1 -name '.tmp.*' -mmin +120 -exec rm -rf {} + 2>/dev/null || true
	[ ! -e "$dir" ] || { say "replacing the incomplete $dir"; rm -rf "$dir"; }
	tmp=$(mktemp -d "$rootfs_dir/.tmp.$suite.XXXXXX")
	# shellcheck disable=SC2064 # expand now: the trap must remove this
	trap "rm -rf '$tmp'" EXIT
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
	rm -rf "$tmp"
	trap - EXIT
	say "built in $((SECONDS - t0)) s ($(du -sh "$dir" | cut -f1))"
	echo "$dir"
}

main "$@"
