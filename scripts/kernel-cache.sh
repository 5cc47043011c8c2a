#!/usr/bin/env bash
# Print (last line of stdout) a directory holding a bootable kernel and its
# modules for the kernel tests: DIR/boot/vmlinuz-<release> and
# DIR/lib/modules/<release>/ with a modules.dep.
#
# Default: the Debian kernel image that matches the installed 6.12 cloud
# headers (/usr/src/linux-headers-6.12*-cloud-amd64), fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` into a cache outside the
# repository.  The kernel is never installed on this machine.
#
# Any other build (a 6.18 kernel, a debug kernel):
#   KERNEL=/path/to/bzImage MODULES=/path/to/lib/modules/<release> kernel-cache.sh
# No download then; the cache gets a directory of symlinks to the two.
#
# Environment:
#   AZL_CACHE      cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/azl-guest)
#   AZL_KVER       kernel release to fetch instead of the one the headers name
# Exit status: 0 found; 77 cannot be obtained here (no headers, no apt, no
# network): callers skip; 1 anything else (a broken package, bad KERNEL=).
set -euo pipefail

cache_root=${AZL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azl-guest}
kernels=$cache_root/kernels

say() { echo "kernel-cache: $*" >&2; }
die() { say "$1"; exit "${2:-1}"; }

# A usable result: the layout run.sh and the README promise.
check_tree() {
	local dir=$1 ver=$2
	[ -f "$dir/boot/vmlinuz-$ver" ] || return 1
	[ -f "$dir/lib/modules/$ver/modules.dep" ] || return 1
}

# KERNEL= and MODULES= from the environment: link them into the cache so the
# caller sees the same layout whatever the kernel's origin.
use_custom_build() {
	local kernel=$KERNEL modules=${MODULES%/} ver key dir tmp
	[ -f "$kernel" ] || die "KERNEL=$kernel is not a file"
	[ -d "$modules" ] || die "MODULES=$modules is not a directory"
	[ -f "$modules/modules.dep" ] ||
		die "no modules.dep in $modules (make modules_install runs depmod; or: depmod -b ROOT <release>)"
	# The release is the directory's name as given (it may be a symlink).
	ver=$(basename "$modules")
	kernel=$(realpath "$kernel") modules=$(realpath "$modules")
	# One cache entry per pair of paths, so two custom kernels never collide.
	key=$(printf '%s\n%s\n' "$kernel" "$modules" | md5sum | cut -c1-8)
	dir=$kernels/custom-$ver-$key
	if ! check_tree "$dir" "$ver"; then
		mkdir -p "$kernels"
		tmp=$(mktemp -d "$kernels/.tmp.custom.XXXXXX")
		mkdir -p "$tmp/boot" "$tmp/lib/modules"
		ln -s "$kernel" "$tmp/boot/vmlinuz-$ver"
		ln -s "$modules" "$tmp/lib/modules/$ver"
		rm -rf "$dir"
		mv -T "$tmp" "$dir"
	fi
	echo "$dir"
}

# The release of the newest installed 6.12 cloud headers, e.g.
# 6.12.117+deb12-cloud-amd64.
headers_release() {
	local d
	d=$(find /usr/src -maxdepth 1 -name 'linux-headers-6.12*-cloud-amd64' 2>/dev/null | sort -V | tail -1)
	[ -n "$d" ] || return 1
	basename "$d" | sed 's/^linux-headers-//'
}

# download_deb RELEASE DIR: fetch the image package into DIR, print its path.
# The package version is pinned to the headers' version when known, so the
# module ABI (modversions) matches what `make kmod` built against.
download_deb() {
	local ver=$1 dir=$2 hver name
	hver=$(dpkg-query -W -f='${Version}' "linux-headers-$ver" 2>/dev/null || true)
	# Debian names the signed image linux-image-<release>; -unsigned is the
	# same kernel before signing (on some architectures the only one).
	for name in "linux-image-$ver" "linux-image-$ver-unsigned"; do
		if [ -n "$hver" ] && (cd "$dir" && apt-get download "$name=$hver" >&2); then
			break
		fi
		if (cd "$dir" && apt-get download "$name" >&2); then
			[ -z "$hver" ] || say "warning: $name $hver not available; took the candidate version"
			break
		fi
	done
	find "$dir" -maxdepth 1 -name 'linux-image-*.deb' | head -1
}

# extract RELEASE: unpack into a temporary directory beside the cache entry
# and rename it into place, so an interrupted run never leaves half a kernel.
fetch_debian_kernel() {
	local ver=$1 dir=$kernels/$1 tmp dl deb
	if check_tree "$dir" "$ver"; then
		echo "$dir"
		return 0
	fi
	if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
		die "no apt-get/dpkg-deb: cannot fetch linux-image-$ver here (use KERNEL= MODULES=)" 77
	fi
	command -v depmod >/dev/null || die "depmod not found (package kmod)" 77

	# A tree without modules.dep is what a killed depmod leaves: start again.
	if [ -e "$dir" ]; then
		say "replacing the incomplete $dir"
		rm -rf "$dir"
	fi
	mkdir -p "$kernels"
	tmp=$(mktemp -d "$kernels/.tmp.$ver.XXXXXX")
	# The download goes to $TMPDIR: apt drops to its sandbox user, which
	# cannot enter a cache under a private home directory.
	dl=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: the trap must remove these
	trap "rm -rf '$tmp' '$dl'" EXIT
	if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
		chown _apt "$dl"
	fi
	mkdir "$tmp/root"
	say "downloading linux-image-$ver (once; cached in $dir)"
	deb=$(download_deb "$ver" "$dl") || true
	[ -n "$deb" ] || die "apt-get download linux-image-$ver failed (no network or no such package)" 77

	dpkg-deb -x "$deb" "$tmp/root" || die "dpkg-deb -x $deb failed"
	# Newer Debian kernels ship /usr/lib/modules; keep one layout for callers.
	if [ ! -d "$tmp/root/lib/modules" ] && [ -d "$tmp/root/usr/lib/modules" ]; then
		ln -s usr/lib "$tmp/root/lib"
	fi
	[ -f "$tmp/root/boot/vmlinuz-$ver" ] || die "$(basename "$deb") has no boot/vmlinuz-$ver"
	[ -d "$tmp/root/lib/modules/$ver" ] || die "$(basename "$deb") has no lib/modules/$ver"
	# The package leaves depmod to its postinst; run it on the copy instead.
	depmod -b "$tmp/root" "$ver" || die "depmod on the extracted kernel failed"

	# Another run may have won the race; its tree is as good as ours.
	if ! mv -T "$tmp/root" "$dir" 2>/dev/null; then
		check_tree "$dir" "$ver" || die "cannot move the kernel into $dir"
	fi
	rm -rf "$tmp" "$dl"
	trap - EXIT
	echo "$dir"
}

main() {
	local ver
	if [ -n "${KERNEL:-}" ] || [ -n "${MODULES:-}" ]; then
		if [ -z "${KERNEL:-}" ] || [ -z "${MODULES:-}" ]; then
			die "set both KERNEL=/path/bzImage and MODULES=/path/lib/modules/<release>"
		fi
		use_custom_build
		return
	fi
	ver=${AZL_KVER:-$(headers_release || true)}
	[ -n "$ver" ] ||
		die "no /usr/src/linux-headers-6.12*-cloud-amd64 (apt-get install linux-headers-6.12-cloud-amd64), or set KERNEL= MODULES=" 77
	fetch_debian_kernel "$ver"
}

main "$@"
