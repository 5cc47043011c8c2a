#!/usr/bin/env bash
# Every system path goes through the root prefix (agent/src/root.c): no other
# agent source may spell "/sys", "/proc", "/dev", "/etc", "/var", "/run" or "/lib".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
src="$here/../../agent/src"
pattern='"/(sys|proc|dev|etc|var|run|lib)(/|")'

find_violations() {
	grep -nE "$pattern" "$@" /dev/null | grep -vE '/root\.[ch]:'
}

plan 2
# The check must be able to fail: a planted violation is found.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'static const char *p = "/sys/bus/vmbus";\n' >"$tmp/planted.c"
if find_violations "$tmp/planted.c" >/dev/null; then
	ok "the pattern finds a planted \"/sys/...\" literal"
else
	not_ok "the pattern finds a planted \"/sys/...\" literal"
fi
hits=$(find_violations "$src"/*.c "$src"/*.h)
if [ -z "$hits" ]; then
	ok "no agent source outside root.[ch] spells a system directory"
else
	not_ok "no agent source outside root.[ch] spells a system directory"
	diag "$hits"
fi
done_testing
