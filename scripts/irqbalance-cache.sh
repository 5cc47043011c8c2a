#!/usr/bin/env bash
# Print (last line of stdout) the path of an irqbalance binary for the
# side-by-side tests and benchmarks: the installed one, else Debian's
# package fetched with `apt-get download` and unpacked with `dpkg-deb -x`
# into a cache outside the repository.  Installing the package would
# enable and start irqbalance.service on this machine, which must not
# rebalance the host's interrupts because a test wanted the binary.
#
# Environment: AZL_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/azl-guest)
# Exit status: 0 found; 77 cannot be obtained here (callers skip).
set -euo pipefail

say() { echo "irqbalance-cache: $*" >&2; }

# (1.9.2 prints its version and exits 1.)
usable() { case "$("$1" --version 2>&1)" in *"irqbalance version"*) return 0 ;; esac; return 1; }

for b in "$(command -v irqbalance || true)" /usr/sbin/irqbalance; do
	if [ -n "$b" ] && [ -x "$b" ] && usable "$b"; then
		echo "$b"
		exit 0
	fi
done

cache=${AZL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azl-guest}/irqbalance
bin=$cache/root/usr/sbin/irqbalance
if [ -x "$bin" ] && usable "$bin"; then
	echo "$bin"
	exit 0
fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
	{ say "no irqbalance, and no apt-get/dpkg-deb to fetch it"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && apt-get download irqbalance >/dev/null 2>&1); then
	say "apt-get download irqbalance failed (no network or package lists)"
	exit 77
fi
rm -rf "$cache/root"
mkdir -p "$cache/root"
dpkg-deb -x "$tmp"/irqbalance_*.deb "$cache/root"
if ! usable "$bin"; then
	say "the fetched irqbalance does not run here (missing libraries?)"
	exit 77
fi
echo "$bin"
