#!/bin/sh
# The harness catches what it claims to: load_unload_cycles fails on each
# kind of bad cycle, the kernel-log filter attributes problems to the right
# module (and only to it), and the runner reports a suite that dies or hangs.
# Failures are injected through stubs, a scratch suite and, in QEMU only,
# tagged lines written to /dev/kmsg (the host's kernel-log check ignores
# lines tagged "azl-harness:").
AZL_GUEST_DIR=${AZL_GUEST_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$AZL_GUEST_DIR/ktap.sh"
. "$AZL_GUEST_DIR/kmod.sh"

plan 7

scratch=$(mktemp -d "${TMPDIR:-/tmp}/azl-harness.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# expect_failure NAME CMD...: ok when CMD fails, as it must.
expect_failure() {
	_n=$1
	shift
	if _o=$("$@" 2>&1); then
		diag "$* succeeded but must fail:" "$_o"
		not_ok "$_n"
	else
		ok "$_n"
	fi
}

expect_failure "load_unload_cycles fails for a module that does not exist" \
	load_unload_cycles azl_no_such_module 1

# Stubs in a subshell: the helper's own logic, without a misbehaving module.
# shellcheck disable=SC2317 # the stubs are called by load_unload_cycles
stub_not_live() (
	load_module() { :; } # "loads" but never shows up in /proc/modules
	load_unload_cycles azl_stub 1
)
expect_failure "load_unload_cycles fails when the module is not Live after loading" stub_not_live

stub_rmmod_fails() (
	module_state() { echo Live; }
	load_module() { :; }
	unload_module() { echo "rmmod: stub refuses"; return 1; }
	load_unload_cycles azl_stub 1
)
expect_failure "load_unload_cycles fails when rmmod fails" stub_rmmod_fails

# A real machine's kernel log is not ours to write to.
case $AZL_MODE in
tcg | kvm | kvm-hyperv) kmsg=yes ;;
*) kmsg=no ;;
esac
kmsg() { echo "<4>azl-harness: $*" >/dev/kmsg; }

attribution() {
	_mark=$(dmesg_mark)
	kmsg "azl_stub: setup failed with error -5"
	kmsg "other_drv: I/O error on an unrelated device"
	kmsg "scsi_debug:sdebug_driver_probe: scsi_debug: routine probe message"
	_bad=$(dmesg_bad_since "$_mark" azl_stub)
	printf '%s\n' "$_bad" | grep -q 'azl_stub: setup failed' || { echo "missed: $_bad"; return 1; }
	! printf '%s\n' "$_bad" | grep -q other_drv || { echo "blamed azl_stub for: $_bad"; return 1; }
	_bad=$(dmesg_bad_since "$_mark" scsi_debug)
	[ -z "$_bad" ] || { echo "flagged a routine scsi_debug line: $_bad"; return 1; }
}

stub_splat() (
	module_state() { echo Live; }
	load_module() { :; }
	unload_module() { kmsg "WARNING: CPU: 0 PID: 1 at injected.c:1 stub+0x0/0x10"; }
	module_loaded() { return 1; }
	load_unload_cycles azl_stub 1
)

if [ "$kmsg" = yes ]; then
	check "kernel-log filter blames the module it names, and only it" attribution
	expect_failure "load_unload_cycles fails on a WARNING during the cycle" stub_splat
else
	skip "kernel-log filter blames the module it names, and only it" "writes to the kernel log: QEMU only (mode=$AZL_MODE)"
	skip "load_unload_cycles fails on a WARNING during the cycle" "writes to the kernel log: QEMU only (mode=$AZL_MODE)"
fi

# The runner, on scratch suites: one that dies after its first test, one
# that hangs past the suite timeout.
mkdir -p "$scratch/tests"
cat >"$scratch/tests/01-dies.sh" <<'EOF'
. "$AZL_GUEST_DIR/ktap.sh"
plan 2
ok "first"
exit 3
EOF
cat >"$scratch/tests/02-hangs.sh" <<'EOF'
. "$AZL_GUEST_DIR/ktap.sh"
plan 1
sleep 30
ok "never"
done_testing
EOF
cp "$AZL_GUEST_DIR/ktap.sh" "$AZL_GUEST_DIR/kmod.sh" "$AZL_GUEST_DIR/run-suites.sh" "$scratch/"

runner_dies() {
	_o=$(sh "$scratch/run-suites.sh" dies)
	printf '%s\n' "$_o" | grep -q '^not ok 1 dies$' || { echo "$_o"; return 1; }
}
check "runner reports a suite that exits before done_testing" runner_dies

runner_hangs() {
	_o=$(AZL_SUITE_TIMEOUT=1 sh "$scratch/run-suites.sh" hangs)
	printf '%s\n' "$_o" | grep -q '^# hangs: timed out' &&
		printf '%s\n' "$_o" | grep -q '^not ok 1 hangs$' || { echo "$_o"; return 1; }
}
check "runner kills and reports a suite that hangs" runner_hangs

done_testing
