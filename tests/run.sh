#!/usr/bin/env bash
# Run every test suite and print one summary line: "N passed, N failed, N skipped".
# Each suite speaks TAP (cmocka with CMOCKA_MESSAGE_OUTPUT=TAP, our shell suites
# through tests/tap.sh).  A suite that crashes or stops short of its plan
# counts as a failure, so a silent suite can never pass.
#
# usage: tests/run.sh BUILD_DIR
set -uo pipefail

build=${1:?usage: tests/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
logdir="$build/test-logs"
mkdir -p "$logdir"

export CMOCKA_MESSAGE_OUTPUT=TAP
# Sanitizer reports must not look like our own exit statuses (1 = warnings).
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=99:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=98}
export AZL_AGENT="$build/azl-agent" AZL_FIXTURES="$build/fixtures"

passed=0 failed=0 skipped=0

# run_suite NAME COMMAND... : run one TAP producer and add up its results.
run_suite() {
	local name=$1 log="$logdir/${1//\//-}.log" rc plan ok notok skip cskip total
	shift
	"$@" >"$log" 2>&1
	rc=$?
	plan=$(grep -m1 -E '^1\.\.[0-9]+' "$log" | sed 's/^1\.\.//')
	ok=$(grep -cE '^ok [0-9]+' "$log")
	notok=$(grep -cE '^not ok [0-9]+' "$log")
	# cmocka 1.1 prints a skipped test as "not ok N # SKIP name".
	skip=$(grep -cE '^ok [0-9]+.*# SKIP' "$log")
	cskip=$(grep -cE '^not ok [0-9]+ # SKIP' "$log")
	ok=$((ok - skip)) notok=$((notok - cskip)) skip=$((skip + cskip))
	total=$((ok + notok + skip))
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		notok=1 # crashed without saying which test
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	if [ -z "$plan" ] || [ "$total" -ne "$plan" ]; then
		notok=$((notok + 1))
		echo "not ok - $name ran $total of ${plan:-?} planned tests" >>"$log"
	fi
	passed=$((passed + ok)) failed=$((failed + notok)) skipped=$((skipped + skip))
	printf '%-22s %3d passed, %d failed, %d skipped\n' "$name" "$ok" "$notok" "$skip"
	if [ "$notok" -gt 0 ]; then
		grep -E '^not ok|^# |ERROR|runtime error' "$log" | sed 's/^/    /' | head -40
	fi
}

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	run_suite "unit/$(basename "$t" | sed 's/^test_//')" "$t"
done
run_suite fixtures "$here/fixtures/check-fixtures.sh" "$build/fixtures"
run_suite status-golden "$here/status/golden.sh"
run_suite status-corrupt "$here/status/corrupt.sh"
run_suite root-prefix "$here/lint/root-prefix.sh"
# KVP: the pool store under concurrent appenders and SIGKILL.
run_suite kvp-stress "$here/kvp/stress.sh" "$build"
run_suite kvp-ipinfo "$here/kvp/ipinfo.sh" "$build"
run_suite kvp-cli "$here/kvp/cli.sh" "$build"
# KVP against the fake kernel side: ours alone, side by side with
# hv_kvp_daemon, and the checks Microsoft's image validation makes (root; SKIP otherwise).
run_suite kvp-session "$here/kvp/session.sh" "$build"
run_suite kvp-diff "$here/kvp/diff.sh" "$build"
run_suite kvp-lisa "$here/kvp/lisa.sh" "$build"
run_suite kvp-crash "$here/kvp/crash.sh" "$build"
run_suite kvp-concurrency "$here/kvp/concurrency.sh" "$build"
# Provisioning: the Azure host simulator itself, the actions on a scratch root,
# and the whole flow against the simulator.
run_suite sim-selftest "$here/sim/selftest.sh" "$build"
run_suite provision-actions "$here/provision/actions.sh" "$build"
run_suite provision "$here/provision/provision.sh" "$build"
# Interrupt placement on fixture copies, and beside a real irqbalance.
run_suite affinity-cli "$here/affinity/cli.sh"
run_suite affinity-irqbalance "$here/affinity/irqbalance.sh" "$build"
run_suite affinity-policy "$here/affinity/policy.sh" "$build"
# The NCCL topology of ND-class fixtures (accel topo), against golden files.
run_suite accel-topo "$here/accel/topo.sh"
# udev rules and their helper, the systemd units, the installed package and
# the offline checks of Microsoft's image validation (tests/lisa/README.md).
run_suite udev-rules "$here/udev/rules.sh" "$build"
run_suite systemd-units "$here/systemd/units.sh" "$build"
run_suite provision-platform "$here/systemd/check-platform.sh" "$build"
run_suite packaging "$here/packaging/install.sh" "$build"
run_suite lisa-log-words "$here/lisa/log-words.sh" "$build"
run_suite lisa-offline "$here/lisa/offline.sh" "$build"
run_suite fuzz-smoke "$here/fuzz/run.sh" "$build" 200000
# Kernel: build against every installed header set, then boot the 6.12
# build in QEMU with the guest suites (tests/kmod/README.md).
run_suite kmod-build "$here/kmod/build.sh" "$build"
run_suite kmod-selftest "$here/kmod/selftest.sh"
run_suite kmod "$here/kmod/run.sh" "$build"
# A whole boot: a Debian 12 root file system with this build installed,
# under systemd and udev in QEMU, as an Azure VM and as a machine without
# Hyper-V (tests/system/README.md).
run_suite system-selftest "$here/system/selftest.sh"
run_suite system "$here/system/run.sh" "$build"

echo "logs: $logdir"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
