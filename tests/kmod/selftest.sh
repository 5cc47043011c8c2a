#!/usr/bin/env bash
# The host half of the kernel CI without booting anything: the KTAP-to-TAP
# converter on canned console logs (a clean run, a failing subtest, a suite
# that died, a guest that panicked or stopped half way, kernel splats) and
# the offline paths of scripts/kernel-cache.sh.  Seconds, no root, no QEMU.
#
# usage: tests/kmod/selftest.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=../tap.sh
. "$top/tests/tap.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

plan 12

# converts NAME: feed $tmp/console to the converter, compare with $tmp/want.
converts() {
	if out=$(awk -f "$here/ktap-to-tap.awk" "$tmp/console") &&
		diff=$(diff -u "$tmp/want" - <<<"$out"); then
		ok "$1"
	else
		diag "${diff:-converter failed}"
		not_ok "$1"
	fi
}

# A clean run, CRLF line endings as the serial console gives them, a kernel
# message between the markers, a skipped suite, and a harness-tagged splat.
printf '%s\r\n' "SeaBIOS" "[    1.0] Run /init as init process" \
	"=== AZL-KTAP BEGIN ===" "KTAP version 1" "1..2" \
	"    KTAP version 1" "    # Subtest: boot" "    1..2" \
	"    # kernel 6.12" "    ok 1 kernel boots" "    ok 2 disk # SKIP no disk" "ok 1 boot" \
	"[    2.0] random: crng init done" \
	"    KTAP version 1" "    # Subtest: hyperv" "    1..1" \
	"    ok 1 hv_vmbus loads # SKIP hv_vmbus did not load: no SynIC" \
	"ok 2 hyperv # SKIP all 1 tests skipped" \
	"=== AZL-KTAP END ===" "=== AZL-DMESG BEGIN ===" \
	"[    0.0] Linux version 6.12" "[    3.0] azl-harness: WARNING: injected" \
	"=== AZL-DMESG END ===" >"$tmp/console"
cat >"$tmp/want" <<'EOF'
# kernel 6.12
ok - boot: kernel boots
ok - boot: disk # SKIP no disk
ok - hyperv: hv_vmbus loads # SKIP hv_vmbus did not load: no SynIC
ok - kernel log: no oops, BUG, WARNING or lockup
EOF
converts "clean run: subtests flattened, skips kept, CR and kernel noise ignored"

# A failing subtest; a suite that died after passing what it ran.
printf '%s\n' "=== AZL-KTAP BEGIN ===" "KTAP version 1" "1..2" \
	"    KTAP version 1" "    # Subtest: a" "    1..2" "    ok 1 one" "    not ok 2 two" \
	"# a: 1 of 2 tests failed" "not ok 1 a" \
	"    KTAP version 1" "    # Subtest: b" "    1..3" "    ok 1 one" \
	"# b: ran 1 of 3 planned tests" "not ok 2 b" \
	"=== AZL-KTAP END ===" >"$tmp/console"
cat >"$tmp/want" <<'EOF'
ok - a: one
not ok - a: two
# a: 1 of 2 tests failed
ok - b: one
# b: ran 1 of 3 planned tests
not ok - b: suite failed (ran 1 of 3 planned tests)
EOF
converts "failing subtest and a suite that stopped short"

# A suite that failed before its plan, and a skipped suite with no subtests.
printf '%s\n' "=== AZL-KTAP BEGIN ===" "KTAP version 1" "1..2" \
	"# c: exited with status 2 before done_testing" "not ok 1 c" \
	"ok 2 d # SKIP not here" "=== AZL-KTAP END ===" >"$tmp/console"
cat >"$tmp/want" <<'EOF'
# c: exited with status 2 before done_testing
not ok - c: suite failed (exited with status 2 before done_testing)
ok - d # SKIP not here
EOF
converts "suite without subtests: failure and skip"

# A kernel panic before /init: no KTAP at all, the console tail is shown.
{
	for i in $(seq 1 50); do echo "[    0.$i] boot line $i"; done
	echo "Kernel panic - not syncing: VFS: Unable to mount root fs"
} >"$tmp/console"
out=$(awk -f "$here/ktap-to-tap.awk" "$tmp/console")
if [ "$(grep -c '^not ok' <<<"$out")" -eq 1 ] && [ "$(grep -c '^ok' <<<"$out")" -eq 0 ] &&
	grep -q '^not ok - guest did not finish (see log)$' <<<"$out" &&
	[ "$(grep -c '^#   ' <<<"$out")" -eq 40 ] && grep -q '^#   Kernel panic' <<<"$out"; then
	ok "no KTAP: one failure and the last 40 console lines"
else
	diag "$out"
	not_ok "no KTAP: one failure and the last 40 console lines"
fi

# The guest stopped after one of two suites (a hang killed by the timeout).
printf '%s\n' "=== AZL-KTAP BEGIN ===" "KTAP version 1" "1..2" \
	"    KTAP version 1" "    # Subtest: a" "    1..1" "    ok 1 one" "ok 1 a" \
	"    KTAP version 1" "    # Subtest: b" "    1..1" >"$tmp/console"
out=$(awk -f "$here/ktap-to-tap.awk" "$tmp/console")
if grep -q '^ok - a: one$' <<<"$out" && grep -q '^not ok - guest did not finish' <<<"$out" &&
	grep -q 'reported 1 of 2 suites' <<<"$out"; then
	ok "guest stopped half way: results so far plus one failure"
else
	diag "$out"
	not_ok "guest stopped half way: results so far plus one failure"
fi

# Kernel splats fail the kernel-log test and are quoted.
printf '%s\n' "=== AZL-KTAP BEGIN ===" "KTAP version 1" "1..0" "=== AZL-KTAP END ===" \
	"=== AZL-DMESG BEGIN ===" "[ 5.0] WARNING: CPU: 1 PID: 42 at drivers/x.c:10 f+0x1/0x2" \
	"[ 5.1] Call Trace:" "[ 6.0] BUG: kernel NULL pointer dereference" "=== AZL-DMESG END ===" >"$tmp/console"
out=$(awk -f "$here/ktap-to-tap.awk" "$tmp/console")
if grep -q '^not ok - kernel log: no oops' <<<"$out" && [ "$(grep -c '^#   \[' <<<"$out")" -eq 3 ]; then
	ok "WARNING, Call Trace and BUG in the kernel log fail it"
else
	diag "$out"
	not_ok "WARNING, Call Trace and BUG in the kernel log fail it"
fi

# --- scripts/kernel-cache.sh, offline paths ---
kc=$top/scripts/kernel-cache.sh
export AZL_CACHE=$tmp/cache

rc=0
KERNEL=$tmp/none "$kc" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 1 ] && grep -q 'set both' "$tmp/err"; then
	ok "kernel-cache: KERNEL= without MODULES= is an error"
else
	diag "status $rc" "$(cat "$tmp/err")"
	not_ok "kernel-cache: KERNEL= without MODULES= is an error"
fi

mkdir -p "$tmp/k/lib/modules/9.9.9-test"
echo bzImage >"$tmp/k/bzImage"
rc=0
KERNEL=$tmp/k/bzImage MODULES=$tmp/k/lib/modules/9.9.9-test "$kc" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 1 ] && grep -q 'no modules.dep' "$tmp/err"; then
	ok "kernel-cache: MODULES= without modules.dep is an error"
else
	diag "status $rc" "$(cat "$tmp/err")"
	not_ok "kernel-cache: MODULES= without modules.dep is an error"
fi

: >"$tmp/k/lib/modules/9.9.9-test/modules.dep"
rc=0
dir=$(KERNEL=$tmp/k/bzImage MODULES=$tmp/k/lib/modules/9.9.9-test/ "$kc" 2>"$tmp/err" | tail -n 1) || rc=$?
if [ "$rc" -eq 0 ] && [ -f "$dir/boot/vmlinuz-9.9.9-test" ] &&
	[ -f "$dir/lib/modules/9.9.9-test/modules.dep" ] && [[ $dir == "$tmp/cache/kernels/"* ]]; then
	ok "kernel-cache: KERNEL= MODULES= gives the usual layout in the cache"
else
	diag "status $rc, dir '$dir'" "$(cat "$tmp/err")"
	not_ok "kernel-cache: KERNEL= MODULES= gives the usual layout in the cache"
fi

dir2=$(KERNEL=$tmp/k/bzImage MODULES=$tmp/k/lib/modules/9.9.9-test "$kc" 2>/dev/null | tail -n 1) || true
if [ "$dir2" = "$dir" ]; then
	ok "kernel-cache: the same custom kernel maps to the same cache entry"
else
	diag "'$dir' then '$dir2'"
	not_ok "kernel-cache: the same custom kernel maps to the same cache entry"
fi

# No apt-get (not Debian): "cannot obtain" (77), which run.sh turns into SKIP.
mkdir -p "$tmp/bin"
for t in bash find sort tail head basename sed dirname mktemp cat id md5sum cut realpath ls; do
	ln -sf "$(command -v "$t")" "$tmp/bin/$t"
done
rc=0
PATH=$tmp/bin AZL_KVER=9.9.9-test "$kc" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 77 ] && grep -q 'no apt-get' "$tmp/err"; then
	ok "kernel-cache: without apt-get it exits 77 (skip)"
else
	diag "status $rc" "$(cat "$tmp/err")"
	not_ok "kernel-cache: without apt-get it exits 77 (skip)"
fi

# A half-extracted entry (no modules.dep) is not taken for a kernel.
mkdir -p "$AZL_CACHE/kernels/9.9.8-test/boot"
: >"$AZL_CACHE/kernels/9.9.8-test/boot/vmlinuz-9.9.8-test"
rc=0
PATH=$tmp/bin AZL_KVER=9.9.8-test "$kc" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 77 ] && [ ! -s "$tmp/out" ]; then
	ok "kernel-cache: an incomplete cache entry is not used"
else
	diag "status $rc, printed '$(cat "$tmp/out")'" "$(cat "$tmp/err")"
	not_ok "kernel-cache: an incomplete cache entry is not used"
fi

done_testing
