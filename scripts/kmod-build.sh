#!/usr/bin/env bash
# Build the kernel modules against one kernel build tree, out of the source
# tree (a copy per kernel release, so several releases never share objects).
#
# usage: scripts/kmod-build.sh KDIR OUTDIR
#   KDIR    a kernel build tree (headers package or a built kernel)
#   OUTDIR  results go to OUTDIR/<kernel release>/: build.log and the *.ko
# Prints the result directory on the last line.  With WERROR=1, any
# warning of the compiler or modpost fails the build.
set -euo pipefail

kdir=${1:?usage: kmod-build.sh KDIR OUTDIR}
out=${2:?usage: kmod-build.sh KDIR OUTDIR}
top=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -f "$kdir/Makefile" ]; then
	echo "kmod-build: no kernel build tree at $kdir" >&2
	exit 1
fi
release=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || basename "$kdir")
dst=$(mkdir -p "$out/$release" && cd "$out/$release" && pwd)

rm -rf "$dst/src" "$dst"/*.ko
mkdir -p "$dst/src"
cp -a "$top/Kbuild" "$top/VERSION" "$top/kmod" "$dst/src/"

# W=1: the extra warnings kernel maintainers build with.  The kernel's make
# runs on its own: a parent `make -jN` hands down a jobserver that this
# script does not pass on, and make's "jobserver unavailable" warning would
# count as a compiler warning.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$kdir" M="$dst/src" W=1 -j"$(nproc)" modules \
	>"$dst/build.log" 2>&1; then
	cat "$dst/build.log" >&2
	echo "kmod-build: build against $release failed" >&2
	exit 1
fi
warnings=$(grep -ciE 'warning' "$dst/build.log" || true)
if [ "$warnings" -gt 0 ]; then
	grep -iE -A3 'warning' "$dst/build.log" >&2
	echo "kmod-build: $warnings warning(s) against $release" >&2
	[ "${WERROR:-0}" = 1 ] && exit 1
fi
find "$dst/src" -name '*.ko' -exec cp {} "$dst/" \;
echo "$dst"
