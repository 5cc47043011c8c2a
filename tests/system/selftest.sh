#!/usr/bin/env bash
# The offline parts of the system test, without QEMU or the network (0.1 s):
# which mirror scripts/rootfs-cache.sh takes from apt sources of every shape
# (mirror+file: lists, schemes debootstrap cannot use, apt's file order), its
# exit 77 (callers SKIP) when it cannot build (and 1 for a real problem), and
# the guest scripts parse.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/tap.sh"
rc_sh=$top/scripts/rootfs-cache.sh

plan 18
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
printf 'deb http://x.invalid/debian bookworm main\n' >"$tmp/apt/sources.list.d/x.list.disabled"
printf 'deb http://y.invalid/debian bookworm-updates main\n' >"$tmp/apt/sources.list.d/y.list"
AZL_APT_DIR=$tmp/apt AZL_ROOTFS_MIRROR='' "$rc_sh" --print-mirror >"$tmp/out" 2>&1
is "no bookworm source (a disabled file is not read): exit 77" 77 "$?"
if grep -q 'AZL_ROOTFS_MIRROR' "$tmp/out"; then ok "... and it says how to name one"; else
	not_ok "... and it says how to name one"
	diag "$(cat "$tmp/out")"
fi
is "AZL_ROOTFS_MIRROR wins over the sources" http://set.invalid/debian \
	"$(AZL_APT_DIR=$tmp/apt AZL_ROOTFS_MIRROR=http://set.invalid/debian "$rc_sh" --print-mirror)"

# Debian's cloud images: URIs: mirror+file:///etc/apt/mirrors/debian.list.
fresh
mkdir -p "$tmp/mirrors"
printf '# the mirrors\n\nhttp://listed.invalid/debian\tpriority:1\nhttp://second.invalid/debian\n' \
	>"$tmp/mirrors/debian.list"
cat >"$tmp/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: mirror+file://$tmp/mirrors/debian.list
Suites: bookworm
Components: main
EOF
is "mirror+file:PATH: the first URI listed in PATH" http://listed.invalid/debian "$(mirror_of)"

fresh
cat >"$tmp/apt/sources.list" <<'EOF'
deb cdrom:[Debian_12]/ bookworm main
deb tor+http://onion.invalid/debian bookworm main
deb mirror://mirrors.invalid/list.txt bookworm main
deb mirror+file:/nonexistent/list bookworm main
EOF
cat >"$tmp/apt/sources.list.d/a.sources" <<'EOF'
Types: deb
URIs: mirror+http://remote.invalid/list https://usable.invalid/debian
Suites: bookworm
EOF
is "cdrom:, tor+http, mirror://, mirror+http and a missing mirror list are passed over" \
	https://usable.invalid/debian "$(mirror_of)"

fresh
printf 'deb http://b-list.invalid/debian bookworm main\n' >"$tmp/apt/sources.list.d/b.list"
printf 'Types: deb\nURIs: http://a-sources.invalid/debian\nSuites: bookworm\n' >"$tmp/apt/sources.list.d/a.sources"
printf 'deb http://c.invalid/debian bookworm main\n' >"$tmp/apt/sources.list.d/0.list.save"
is "sources.list.d is read in name order whatever the extension; other names ignored" \
	http://a-sources.invalid/debian "$(mirror_of)"

fresh
cat >"$tmp/apt/sources.list" <<'EOF'
deb cdrom:[Debian_12]/ bookworm main
deb tor+http://onion.invalid/debian bookworm main
EOF
AZL_APT_DIR=$tmp/apt AZL_ROOTFS_MIRROR='' "$rc_sh" --print-mirror >"$tmp/out" 2>&1
is "only a source debootstrap cannot use: exit 77" 77 "$?"

# The build's refusals.  As root the script gets past its root check, so
# these test the paths named; as non-root they would only test that check.
if [ "$(id -u)" -ne 0 ]; then
	for t in "no debootstrap: exit 77" "... and it says why" "... and leaves nothing in the cache" \
		"debootstrap: unknown location: exit 77" "... other debootstrap failures: exit 1"; do
		skip "$t" "needs root (as non-root the script stops at its root check first)"
	done
else
	# Without debootstrap on PATH: 77, nothing left in the cache.
	mkdir -p "$tmp/bin"
	for t in bash md5sum cut mkdir find printf id dirname cat tr awk head rm sed sort; do
		p=$(command -v "$t") && ln -sf "$p" "$tmp/bin/$t"
	done
	AZL_CACHE=$tmp/cache PATH=$tmp/bin "$rc_sh" >"$tmp/out" 2>&1
	is "no debootstrap: exit 77" 77 "$?"
	if grep -q 'no debootstrap' "$tmp/out"; then ok "... and it says why"; else
		not_ok "... and it says why"
		diag "$(cat "$tmp/out")"
	fi
	is "... and leaves nothing in the cache" "" "$(find "$tmp/cache" -mindepth 2 2>/dev/null)"

	# A debootstrap that fails as the real one does for a mirror kind it
	# does not know: 77; any other failure: 1.  Nothing left either way.
	mkdir -p "$tmp/fake"
	cat >"$tmp/fake/debootstrap" <<'EOF'
#!/bin/sh
echo "I: Retrieving InRelease"
echo "E: ${FAKE_DEBOOTSTRAP_SAYS:-unknown location mirror+file:/x}"
exit 1
EOF
	chmod 0755 "$tmp/fake/debootstrap"
	AZL_CACHE=$tmp/cache2 AZL_ROOTFS_MIRROR=mirror+file:/x PATH=$tmp/fake:$PATH "$rc_sh" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 77 ] && [ -z "$(find "$tmp/cache2/rootfs" -mindepth 1 2>/dev/null)" ]; then
		ok "debootstrap: unknown location: exit 77"
	else
		not_ok "debootstrap: unknown location: exit 77"
		diag "exit $rc" "$(cat "$tmp/out")" "$(find "$tmp/cache2" 2>&1)"
	fi
	FAKE_DEBOOTSTRAP_SAYS='Couldn'"'"'t find these debs: nosuchpackage' AZL_CACHE=$tmp/cache2 \
		AZL_ROOTFS_MIRROR=http://x.invalid/debian PATH=$tmp/fake:$PATH "$rc_sh" >"$tmp/out" 2>&1
	is "... other debootstrap failures: exit 1" 1 "$?"
fi

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
