#!/usr/bin/env bash
# One place that knows every outside package azl-guest needs, by Debian and by
# Fedora / Azure Linux name.  `deps.sh GROUP...` installs what is missing when
# run as root on Debian; otherwise it prints the command to run.
#
# Groups: build (make), check (make check), bench (make bench).
set -euo pipefail

# group      debian package     fedora / azure linux package
DEPS="
build        gcc                gcc
build        make               make
build        pkgconf            pkgconf-pkg-config
build        libjson-c-dev      json-c-devel
build        libnl-3-dev        libnl3-devel
build        libnl-genl-3-dev   libnl3-devel
build        libnl-route-3-dev  libnl3-devel
build        libsystemd-dev     systemd-devel
build        libinih-dev        inih-devel
build        libcurl4-openssl-dev libcurl-devel
build        libxml2-dev        libxml2-devel
build        libblkid-dev       libblkid-devel
build        libcrypt-dev       libxcrypt-devel
build        libselinux1-dev    libselinux-devel
build        nettle-dev         nettle-devel
check        libcmocka-dev      libcmocka-devel
check        diffutils          diffutils
check        util-linux         util-linux
check        jq                 jq
check        clang              clang
check        libclang-rt-14-dev compiler-rt
check        linux-headers-cloud-amd64      kernel-devel
check        linux-headers-6.12-cloud-amd64 kernel-devel
check        qemu-system-x86    qemu-system-x86-core
check        busybox-static     busybox
check        cpio               cpio
check        kmod               kmod
check        xz-utils           xz
check        iproute2           iproute
check        hyperv-daemons     hyperv-daemons
check        dbus-daemon        dbus-daemon
check        passwd             shadow-utils
check        sudo               sudo
check        e2fsprogs          e2fsprogs
check        curl               curl
check        libxml2-utils      libxml2
check        rpm                rpm-build
check        debootstrap        debootstrap
bench        time               time
bench        hyperfine          hyperfine
"

usage() {
	echo "usage: $0 [--list] GROUP..." >&2
	echo "groups: build check bench" >&2
	exit 2
}

want_group() {
	local g=$1 w
	for w in "${GROUPS_WANTED[@]}"; do [ "$w" = "$g" ] && return 0; done
	return 1
}

deb_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

[ $# -ge 1 ] || usage
if [ "$1" = "--list" ]; then
	printf '%-8s %-20s %s\n' group debian fedora/azurelinux
	printf '%s\n' "$DEPS" | awk 'NF == 3 { printf "%-8s %-20s %s\n", $1, $2, $3 }'
	exit 0
fi
GROUPS_WANTED=("$@")

missing_deb=()
all_fedora=()
while read -r group deb fedora; do
	[ -n "${group:-}" ] || continue
	want_group "$group" || continue
	case " ${all_fedora[*]} " in *" $fedora "*) ;; *) all_fedora+=("$fedora") ;; esac
	if command -v dpkg-query >/dev/null && ! deb_installed "$deb"; then
		missing_deb+=("$deb")
	fi
done <<<"$DEPS"

if ! command -v dpkg-query >/dev/null; then
	echo "deps: not a Debian system; on Azure Linux / Fedora run:" >&2
	echo "  dnf install -y ${all_fedora[*]}" >&2
	exit 0
fi
[ ${#missing_deb[@]} -eq 0 ] && exit 0

echo "deps: missing Debian packages: ${missing_deb[*]}" >&2
echo "deps: (on Azure Linux / Fedora: dnf install -y ${all_fedora[*]})" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: run as root: apt-get install -y ${missing_deb[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once if a package is unknown.
if ! apt-get install -y --no-install-recommends "${missing_deb[@]}" >&2; then
	apt-get update >&2
	apt-get install -y --no-install-recommends "${missing_deb[@]}" >&2
fi
