#!/usr/bin/env bash
# The offline parts of the system test, without QEMU or the network (0.1 s):
# which mirror scripts/rootfs-cache.sh takes from apt sources of every shape,
# its exit 77 (callers SKIP) when it cannot build, and the guest scripts parse.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/tap.sh"
rc_sh=$top/scripts/rootfs-cache.sh

plan 12
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# mirror_of: what --print-mirror says for the sources under $tmp/apt.
mirror_of() {
	AZL_APT_DIR=$tmp/apt AZL_ROOTFS_MIRROR='' "$rc_sh" --print-mirror 2>/dev/null
}
fresh() { rm -rf "$tmp/apt"; mkdir -p "$tmp/apt/sources.list.d"; }
check() { # NAME CMD...
	local name=$1 o
	shift
	if o=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; diag "$o"; fi
}
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "want: $2" "got:  $3"; fi
}

fresh
cat >"$tmp/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
# a comment
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main
EOF
is "deb822: the first URI of the stanza naming bookworm" http://mirror.invalid/debian "$(mirror_of)"

fresh
cat >"$tmp/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://security.invalid/debian-security
Suites: bookworm-security

Enabled: no
Types: deb
URIs: http://off.invalid/debian
Suites: bookworm

Types: deb-src
URIs: http://src.invalid/debian
Suites: bookworm

types: deb-src deb
uris: http://a.invalid/debian http://b.invalid/debian
suites: bookworm
EOF
is "deb822: bookworm-security, a disabled stanza and deb-src only are passed over; keys in any case" \
	http://a.invalid/debian "$(mirror_of)"

fresh
cat >"$tmp/apt/sources.list" <<'EOF'
# deb http://commented.invalid/debian bookworm main
deb http://old.invalid/debian bullseye main
deb-src http://src.invalid/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://list.invalid/debian bookworm main contrib
EOF
cat >"$tmp/apt/sources.list.d/z.sources" <<'EOF'
Types: deb
URIs: http://later.invalid/debian
Suites: bookworm
EOF
is "one-line: [options] skipped, comments, other suites and deb-src passed over; sources.list first" \
	http://list.invalid/debian "$(mirror_of)"

fresh
printf 'deb http://x.invalid/debian bookworm main\n' >"$tmp/apt/sources.list.d/x.list.disabled-by-farm"
printf 'deb http://y.invalid/debian bookworm-updates main\n' >"$tmp/apt/sources.list.d/y.list"
AZL_APT_DIR=$tmp/apt AZL_ROOTFS_MIRROR='' "$rc_sh" --print-mirror >"$tmp/out" 2>&1
is "no bookworm source (a disabled file is not read): exit 77" 77 "$?"
if grep -q 'AZL_ROOTFS_MIRROR' "$tmp/out"; then ok "... and it says how to name one"; else
	not_ok "... and it says how to name one"
	diag "$(cat "$tmp/out")"
fi
is "AZL_ROOTFS_MIRROR wins over the sources" http://set.invalid/debian \
	"$(AZL_APT_DIR=$tmp/apt AZL_ROOTFS_MIRROR=http://set.invalid/debian "$rc_sh" --print-mirror)"

# Without debootstrap on PATH (or not root): 77, nothing left in the cache.
mkdir -p "$tmp/bin"
for t in bash md5sum cut mkdir find printf id dirname cat tr awk head rm; do
	p=$(command -v "$t") && ln -sf "$p" "$tmp/bin/$t"
done
AZL_CACHE=$tmp/cache PATH=$tmp/bin "$rc_sh" >"$tmp/out" 2>&1
is "no debootstrap (or not root): exit 77" 77 "$?"
if grep -qE 'no debootstrap|needs root' "$tmp/out"; then ok "... and it says why"; else
	not_ok "... and it says why"
	diag "$(cat "$tmp/out")"
fi
is "... and leaves nothing in the cache" "" "$(find "$tmp/cache" -mindepth 2 2>/dev/null)"

check "guest/check.sh parses (bash -n)" bash -n "$here/guest/check.sh"
check "run.sh parses (bash -n)" bash -n "$here/run.sh"
# The check unit must not be a oneshot: it waits for the boot it would be part of.
if grep -qx 'Type=simple' "$here/guest/azl-system-check.service" &&
	grep -qx 'After=multi-user.target' "$here/guest/azl-system-check.service"; then
	ok "azl-system-check.service: Type=simple, After=multi-user.target"
else
	not_ok "azl-system-check.service: Type=simple, After=multi-user.target"
fi
done_testing
