#!/usr/bin/env bash
# Benchmark: `azl-agent status --json` on the ND H200 v5 fixture, side by side
# with util-linux `lscpu --sysroot` on the same tree (the nearest peer that
# can read a fixture; it covers only the CPU/NUMA part of what status reads).
# Prints medians, peak RSS and ratios; compares with the targets (20 ms,
# 4 MiB) but never fails on a time: benchmarks inform, tests assert.
#
# usage: bench/status.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: bench/status.sh BUILD_DIR}
agent="$build/azl-agent"
fixture="$build/fixtures/nd96isr-h200-v5"
runs=${BENCH_RUNS:-100}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# median_ms NAME COMMAND...: hyperfine's median wall time in milliseconds.
median_ms() {
	local name=$1
	shift
	hyperfine --style none --warmup 5 --runs "$runs" -N --ignore-failure \
		--export-json "$tmp/$name.json" -- "$*" >/dev/null
	jq '.results[0].median * 1000' "$tmp/$name.json"
}

# peak_kib COMMAND...: the largest max-RSS of 10 runs, in KiB.
peak_kib() {
	local max=0 v
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		v=$(/usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1)
		[ "$v" -gt "$max" ] && max=$v
	done
	echo "$max"
}

echo "bench/status: $runs runs each on $(basename "$fixture") ($(nproc) CPUs)"
a_ms=$(median_ms agent "$agent" status --json --root "$fixture")
a_kib=$(peak_kib "$agent" status --json --root "$fixture")
p_ms=$(median_ms lscpu lscpu --json --sysroot "$fixture")
p_kib=$(peak_kib lscpu --json --sysroot "$fixture")

printf '%-34s %10s %12s\n' command "median ms" "peak RSS KiB"
printf '%-34s %10.2f %12d\n' "azl-agent status --json" "$a_ms" "$a_kib"
printf '%-34s %10.2f %12d\n' "lscpu --json --sysroot (peer)" "$p_ms" "$p_kib"
awk -v a="$a_ms" -v p="$p_ms" -v ak="$a_kib" -v pk="$p_kib" 'BEGIN {
	printf "ratio azl-agent/lscpu: time %.2fx, memory %.2fx\n", a / p, ak / pk
	printf "target: median < 20 ms: %s (%.2f ms); peak RSS < 4 MiB: %s (%.2f MiB)\n",
		a < 20 ? "met" : "NOT MET", a, ak < 4096 ? "met" : "NOT MET", ak / 1024
}'
