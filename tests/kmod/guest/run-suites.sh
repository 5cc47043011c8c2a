#!/bin/sh
# Run the guest suites (tests/*.sh beside this file, in name order, or the
# ones named) and print one KTAP version 1 document: each suite is a subtest,
# then "ok N name" or "not ok N name".  Used by /init in the QEMU guest and by
# run-on-host on a real Hyper-V guest; the suites cannot tell the difference
# except through AZL_MODE.
#
# usage: run-suites.sh [SUITE...]   (a file, 00-boot or boot; default: all)
# Environment for the suites: AZL_MODE (tcg, kvm, kvm-hyperv, hyperv, host),
# AZL_KO_DIR (our .ko files, optional), AZL_AGENT (azl-agent, optional),
# AZL_SUITE_TIMEOUT (seconds per suite, default 120).
# Exit status: 0 when every suite passed or skipped.

AZL_GUEST_DIR=$(cd "$(dirname "$0")" && pwd)
export AZL_GUEST_DIR
: "${AZL_MODE:=unknown}" "${AZL_SUITE_TIMEOUT:=120}"
export AZL_MODE AZL_SUITE_TIMEOUT

# A suite by file (tests/00-boot.sh), file name (00-boot) or short name (boot).
find_suite() {
	for _f in "$1" "${AZL_GUEST_DIR%/}/tests/$1.sh" "${AZL_GUEST_DIR%/}"/tests/[0-9]*-"$1".sh; do
		[ -f "$_f" ] && echo "$_f" && return 0
	done
	echo "run-suites: no suite $1" >&2
	return 1
}

if [ $# -gt 0 ]; then
	suites=
	for a in "$@"; do suites="$suites $(find_suite "$a")" || exit 2; done
else
	suites=$(ls "${AZL_GUEST_DIR%/}"/tests/*.sh 2>/dev/null)
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/azl-ktap.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# suite_name FILE: 00-boot.sh -> boot
suite_name() { basename "$1" .sh | sed 's/^[0-9]*-//'; }

# watchdog PID SECONDS NAME: a suite that hangs must not hang the run.  Kill
# it, and show the end of the kernel log, which usually says why.  The loop
# ends by itself within a second of the suite ending.
watchdog() {
	_t=$2
	while [ "$_t" -gt 0 ]; do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 1
		_t=$((_t - 1))
	done
	kill -0 "$1" 2>/dev/null || return 0
	: >"$tmp/$3.timeout"
	echo "# $3: timed out after $2 s; last kernel messages:"
	dmesg | tail -n 30 | sed 's/^/# /'
	# The whole process group: a child left behind (a sleep, a daemon the
	# suite started) would keep running and hold the console open.
	kill -KILL -- "-$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null
}

n=0
for s in $suites; do n=$((n + 1)); done
echo "KTAP version 1"
echo "1..$n"

i=0 failed=0
for s in $suites; do
	i=$((i + 1))
	name=$(suite_name "$s")
	tally=$tmp/$name.tally
	t0=$(cut -d' ' -f1 /proc/uptime)
	# setsid: the suite leads its own process group, which the watchdog can
	# kill as a whole.  (This shell has no job control, so the background
	# child is no group leader and setsid needs no fork: $! stays the suite.)
	KTAP_INDENT="    " KTAP_SUITE=$name KTAP_TALLY=$tally setsid sh "$s" &
	pid=$!
	watchdog "$pid" "$AZL_SUITE_TIMEOUT" "$name" &
	wait "$pid"
	rc=$?
	echo "# $name: $(awk -v t0="$t0" '{ printf "%.1f", $1 - t0 }' /proc/uptime) s (from $t0 s after boot)"
	# Decide from what the suite reported, not only its exit status: a suite
	# that died before done_testing has no tally.
	why=
	if [ -e "$tmp/$name.timeout" ]; then
		why="timed out after $AZL_SUITE_TIMEOUT s"
	elif [ ! -s "$tally" ]; then
		why="exited with status $rc before done_testing"
	else
		read -r planned ran nfail nskip <"$tally"
		if [ "$ran" -ne "$planned" ]; then
			why="ran $ran of $planned planned tests"
		elif [ "$nfail" -gt 0 ]; then
			why="$nfail of $ran tests failed"
		elif [ "$rc" -ne 0 ]; then
			why="exited with status $rc"
		elif [ "$planned" -eq 0 ]; then
			why="planned no tests"
		fi
	fi
	if [ -n "$why" ]; then
		failed=$((failed + 1))
		echo "# $name: $why"
		echo "not ok $i $name"
	elif [ "$nskip" -eq "$planned" ]; then
		echo "ok $i $name # SKIP all $planned tests skipped"
	else
		echo "ok $i $name"
	fi
done
[ "$failed" -eq 0 ]
