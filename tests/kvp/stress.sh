#!/usr/bin/env bash
# The KVP pool store under load and under SIGKILL (tests/kvp/kvp_stress.c):
# a cloud-init-style appender next to 100,000 store operations, a writer
# killed at random moments hundreds of times, and the per-operation cost
# (printed, never asserted).  The seed is printed; KVP_STRESS_SEED=N
# repeats a run.
#
# usage: tests/kvp/stress.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
build=${1:?usage: tests/kvp/stress.sh BUILD_DIR}
tool="$build/tests/kvp_stress"
seed=${KVP_STRESS_SEED:-$RANDOM}

plan 3
if [ ! -x "$tool" ]; then
	for t in concurrency crash bench; do
		skip "kvp_stress $t" "$tool is not built (make check builds it)"
	done
	exit 0
fi

# run NAME ARGS...: one tool run is one test; its report becomes diagnostics.
run() {
	local name=$1 out rc
	shift
	out=$("$tool" "$@" --seed "$seed" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$name"
	else
		not_ok "$name (exit status $rc, KVP_STRESS_SEED=$seed)"
	fi
	diag "$out"
}

run "concurrency: flock appender beside set/update/delete/enumerate, nothing lost or doubled" \
	concurrency --ops 100000
run "crash: SIGKILL at random moments, no torn record, nothing acknowledged lost" \
	crash --kills 400
run "bench: cost per operation on a 1,000-record pool (printed, not asserted)" bench
done_testing
