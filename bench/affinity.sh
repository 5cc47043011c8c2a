#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Benchmark: interrupt placement by `azl-agent affinity` side by side with
# Debian's `irqbalance --oneshot`, on the SKU fixtures.
#   1. plan and apply time on the ND H200 v5 fixture (a fresh copy for every
#      apply): median wall time (hyperfine) beside the target (< 5 ms), and
#      the time inside the process (the JSON "elapsed_us");
#   2. on nd96isr-h200-v5, nd96isr-h200-v5-numa-none and d64ds-v5-mlx5 (fresh
#      copies each): the placement the kernel left, the one irqbalance makes
#      and the one azl-agent makes, all scored by `azl-agent affinity check`
#      (on a tree a tool touched, its "before" figures are that tool's
#      placement), with each tool's CPU time and the ratio.
# irqbalance runs in a private mount namespace on the copy only
# (bench/irqbalance-fixture.sh): that half is skipped, with the reason, without
# root, unshare or irqbalance.  Never fails on a time: benchmarks inform,
# tests assert.
#
# usage: bench/affinity.sh BUILD_DIR
#   AZL_AGENT (default BUILD_DIR/azl-agent), AZL_FIXTURES (BUILD_DIR/fixtures),
#   BENCH_RUNS=N (default 100 plan runs; applies and tool runs scale from it)
set -euo pipefail
build=${1:?usage: bench/affinity.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
agent=${AZL_AGENT:-$build/azl-agent}
fixtures=${AZL_FIXTURES:-$build/fixtures}
runs=${BENCH_RUNS:-100}
apply_runs=$((runs / 5 > 10 ? runs / 5 : 10))
tool_runs=$((runs / 30 > 3 ? runs / 30 : 3))
timed=nd96isr-h200-v5
side_by_side="nd96isr-h200-v5 nd96isr-h200-v5-numa-none d64ds-v5-mlx5"

for f in $side_by_side; do
	if [ ! -f "$fixtures/$f/proc/stat" ]; then
		echo "bench/affinity: no fixture $fixtures/$f (or made by an older generator): run make fixtures" >&2
		exit 1
	fi
done
[ -x "$agent" ] || { echo "bench/affinity: no $agent" >&2; exit 1; }

# Copies live on tmpfs when there is one: a fixture is 12,000 small files.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	tmp=$(mktemp -d -p /dev/shm azl-bench-affinity.XXXXXX)
else
	tmp=$(mktemp -d)
fi
trap 'rm -rf "$tmp"' EXIT

# fresh NAME FIXTURE: $tmp/NAME is a pristine copy of the fixture.
fresh() {
	rm -rf -- "${tmp:?}/$1"
	cp -a -- "$fixtures/$2" "$tmp/$1"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print "nan" }'; }

# cpu_ms COMMAND...: the CPU time (user + sys) of one run, in ms; its
# output is dropped.
cpu_ms() {
	local t
	t=$({ TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1) || true
	awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.1f\n", (a[1] + a[2]) * 1000 }'
}

echo "bench/affinity: azl-agent affinity vs irqbalance --oneshot on the SKU fixtures ($(nproc) CPUs)"

# Is there a working `affinity` command (plan exits 0 on a readable tree)?
fresh probe "$timed"
have_agent=1
rc=0
"$agent" --root "$tmp/probe" affinity plan >/dev/null 2>"$tmp/probe.err" || rc=$?
if [ "$rc" -ne 0 ]; then
	have_agent=0
	echo "bench/affinity: azl-agent has no working 'affinity' command (exit $rc: $(head -1 "$tmp/probe.err")): agent half skipped"
fi

# elapsed_ms FILE: the JSON's elapsed_us in ms, "" when it has none.
elapsed_ms() { jq -r 'if .elapsed_us then .elapsed_us / 1000 else empty end' "$1" 2>/dev/null || true; }

# ---- 1. plan and apply time ---------------------------------------------
if [ "$have_agent" = 1 ]; then
	copy=$tmp/timed
	printf '#!/bin/sh\nrm -rf "%s" && exec cp -a "%s" "%s"\n' "$copy" "$fixtures/$timed" "$copy" >"$tmp/fresh.sh"
	chmod +x "$tmp/fresh.sh"
	"$tmp/fresh.sh"
	moves=$("$agent" --json --root "$copy" affinity plan | jq -r '.moves // "?"')
	hyperfine --style none -N --warmup 5 --runs "$runs" --ignore-failure \
		--export-json "$tmp/plan.json" -- "$agent --root $copy affinity plan" >/dev/null
	hyperfine --style none -N --runs "$apply_runs" --prepare "$tmp/fresh.sh" --ignore-failure \
		--export-json "$tmp/apply.json" -- "$agent --root $copy affinity apply" >/dev/null
	hyperfine --style none -N --warmup 3 --runs "$runs" --ignore-failure \
		--export-json "$tmp/again.json" -- "$agent --root $copy affinity apply" >/dev/null
	# In-process times from the JSON output, same conditions.
	: >"$tmp/in.plan"; : >"$tmp/in.apply"; : >"$tmp/in.again"
	for _ in $(seq "$apply_runs"); do
		"$tmp/fresh.sh"
		"$agent" --json --root "$copy" affinity plan >"$tmp/j" 2>/dev/null || true
		elapsed_ms "$tmp/j" >>"$tmp/in.plan"
		"$agent" --json --root "$copy" affinity apply >"$tmp/j" 2>/dev/null || true
		elapsed_ms "$tmp/j" >>"$tmp/in.apply"
		"$agent" --json --root "$copy" affinity apply >"$tmp/j" 2>/dev/null || true
		elapsed_ms "$tmp/j" >>"$tmp/in.again"
	done
	inproc() { if [ -s "$1" ]; then median <"$1" | awk '{ printf "%.2f", $1 }'; else echo -; fi; }
	wall() { jq '.results[0].median * 1000' "$1"; }
	p_ms=$(wall "$tmp/plan.json") a_ms=$(wall "$tmp/apply.json") r_ms=$(wall "$tmp/again.json")
	echo
	echo "$timed: $moves moves from the kernel's placement; medians of $runs plan runs, $apply_runs applies on fresh copies, $runs applies with nothing left to move"
	printf '%-46s %10s %14s\n' "" "wall ms" "in-process ms"
	printf '%-46s %10.2f %14s\n' "affinity plan" "$p_ms" "$(inproc "$tmp/in.plan")"
	printf '%-46s %10.2f %14s\n' "affinity apply, fresh copy (plan + writes)" "$a_ms" "$(inproc "$tmp/in.apply")"
	printf '%-46s %10.2f %14s\n' "affinity apply again (nothing to move)" "$r_ms" "$(inproc "$tmp/in.again")"
	[ -s "$tmp/in.apply" ] || echo "(no elapsed_us in the JSON output: in-process times not shown)"
	# The phases of one apply on a fresh copy: reading the tree, planning,
	# and the irqbalance check plus the writes.
	: >"$tmp/ph.g"; : >"$tmp/ph.p"; : >"$tmp/ph.a"
	for _ in $(seq "$apply_runs"); do
		"$tmp/fresh.sh"
		"$agent" --json --root "$copy" affinity apply >"$tmp/j" 2>/dev/null || true
		jq -r '.gather_us / 1000' "$tmp/j" >>"$tmp/ph.g" 2>/dev/null
		jq -r '.plan_us / 1000' "$tmp/j" >>"$tmp/ph.p" 2>/dev/null
		jq -r '.apply_us / 1000' "$tmp/j" >>"$tmp/ph.a" 2>/dev/null
	done
	g_ms=$(inproc "$tmp/ph.g") pl_ms=$(inproc "$tmp/ph.p") ap_ms=$(inproc "$tmp/ph.a")
	echo "phases of an apply on a fresh copy (in-process medians): read the tree $g_ms ms, plan $pl_ms ms, ban + $moves writes $ap_ms ms"
	awk -v p="$pl_ms" -v a="$ap_ms" -v w="$a_ms" 'BEGIN {
		printf "target: plan + apply < 5 ms: %s (%.2f ms); with reading the tree and starting the program: %.2f ms\n",
			p + a < 5 ? "met" : "NOT MET", p + a, w }'
fi

# ---- 2. side by side with irqbalance -------------------------------------
irqb_why=""
# The installed irqbalance, else Debian's binary unpacked into the cache.
IRQBALANCE=${IRQBALANCE:-$("$(dirname "$0")/../scripts/irqbalance-cache.sh" 2>/dev/null | tail -1)}
export IRQBALANCE
if [ "$(id -u)" -ne 0 ]; then
	irqb_why="needs root (a private mount namespace)"
elif ! command -v unshare >/dev/null; then
	irqb_why="no unshare (util-linux)"
elif [ ! -x "$IRQBALANCE" ]; then
	irqb_why="no irqbalance binary (scripts/irqbalance-cache.sh could not fetch one)"
fi
[ -z "$irqb_why" ] || echo "bench/affinity: irqbalance half skipped: $irqb_why"
[ "$have_agent" = 1 ] || [ -z "$irqb_why" ] || exit 0

# row NAME LABEL: the placement of $tmp/NAME, scored by `affinity check`.
row() {
	if [ "$have_agent" = 1 ]; then
		"$agent" --json --root "$tmp/$1" affinity check >"$tmp/$1.check" 2>/dev/null || true
		jq -r --arg l "$2" '"\($l)|\(.before.irqs_local)/\(.before.irqs)|\(.before.channels_local)/\(.before.channels)|\(.before.src_max)-\(.before.src_min)|\(.score)"' \
			"$tmp/$1.check" | awk -F'|' '{ printf "  %-28s %11s %15s %16s %6s\n", $1, $2, $3, $4, $5 }'
	else
		printf '  %-28s %s\n' "$2" "(no scores: azl-agent has no affinity command)"
	fi
}

for f in $side_by_side; do
	echo
	echo "$f: placement scored by azl-agent affinity check"
	printf '  %-28s %11s %15s %16s %6s\n' "" "IRQs local" "channels local" "srcs/CPU max-min" score
	fresh kernel "$f"
	row kernel "kernel defaults (no tool)"
	ib_cpu="" ib_wall="" ib_line="" ag_cpu=""
	if [ -z "$irqb_why" ]; then
		: >"$tmp/ib.cpu"; : >"$tmp/ib.wall"
		for _ in $(seq "$tool_runs"); do
			fresh irqb "$f"
			if ! "$here/irqbalance-fixture.sh" "$tmp/irqb" >"$tmp/ib.out" 2>"$tmp/ib.err"; then
				echo "  irqbalance did not run: $(tail -1 "$tmp/ib.err")"
				continue
			fi
			sed -n 's/^irqbalance wall_ms=\([0-9.]*\) cpu_ms=\([0-9.]*\).*/\2 \1/p' "$tmp/ib.out" |
				{ read -r c w; echo "$c" >>"$tmp/ib.cpu"; echo "$w" >>"$tmp/ib.wall"; }
		done
		if [ -s "$tmp/ib.cpu" ]; then
			ib_cpu=$(median <"$tmp/ib.cpu") ib_wall=$(median <"$tmp/ib.wall")
			ib_line=$(sed -n -e 's/^gen-fixtures: irq-sync: \([0-9]*\) IRQs moved, 0 writes refused$/moved \1 IRQs/p' \
				-e 's/^gen-fixtures: irq-sync: \([0-9]*\) IRQs moved, \([0-9]*\) writes refused$/moved \1 IRQs (\2 more writes hit kernel-managed NVMe queues: EIO on a kernel, undone)/p' \
				"$tmp/ib.out")
			row irqb "irqbalance --oneshot"
		fi
	fi
	if [ "$have_agent" = 1 ]; then
		: >"$tmp/ag.cpu"
		for _ in $(seq "$tool_runs"); do
			fresh agent "$f"
			cpu_ms "$agent" --root "$tmp/agent" affinity apply >>"$tmp/ag.cpu"
		done
		ag_cpu=$(median <"$tmp/ag.cpu")
		row agent "azl-agent affinity apply"
	fi
	if [ -n "$ib_cpu" ]; then
		nch=$(find "$fixtures/$f/sys/devices" -path '*/VMBUS:00/*/channels/*' -name cpu | wc -l)
		perf=$(jq -r '.before.channels // "?"' "$tmp/kernel.check" 2>/dev/null || echo "?")
		echo "  irqbalance: $ib_line; CPU ${ib_cpu} ms, wall ${ib_wall} ms (mostly its one-shot wait, up to --interval=1 s)"
		if [ "$perf" = "?" ]; then
			echo "  irqbalance cannot see VMBus channels (no /proc/irq entry): all $nch stay where the kernel put them"
		else
			echo "  irqbalance cannot see VMBus channels (no /proc/irq entry): the $perf storage/network channels (of $nch in all) stay where the kernel put them"
		fi
	fi
	if [ -n "$ib_cpu" ] && [ -n "$ag_cpu" ]; then
		awk -v i="$ib_cpu" -v a="$ag_cpu" -v n="$tool_runs" 'BEGIN {
			printf "  CPU time, median of %d: irqbalance %.1f ms, azl-agent %.1f ms: ratio irqbalance/azl-agent %.1fx\n",
				n, i, a, (a > 0 ? i / a : 0) }'
	fi
done
