#!/usr/bin/env bash
# `azl-agent affinity plan|apply|check` on copies of the SKU fixtures: the
# whole path from sysfs/procfs files to written files.  Apply writes exactly
# the files its plan names, a second run moves nothing, malformed input is a
# clear error with nothing written, and a VF removed and re-added by host
# servicing ends with its placement restored.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
agent=${AZL_AGENT:?} fixtures=${AZL_FIXTURES:?}
gen="$here/../fixtures/gen-fixtures.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

hyperv="d2s-v5 d64ds-v5-mlx5 d64ds-v5-mana nd96isr-h200-v5 nd96isr-h200-v5-numa-none"
plan 39

fresh() { rm -rf "$tmp/$2" && cp -a "$fixtures/$1" "$tmp/$2"; }
# sums DIR: one line per regular file (content hash and path), sorted.
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum); }

for f in $hyperv; do
	fresh "$f" "$f"
	"$agent" --root "$tmp/$f" --json affinity plan >"$tmp/$f.plan" 2>"$tmp/$f.err"
	if [ $? -eq 0 ] && jq -e '.after.score == 100 and .moves == (.actions | length)' \
		"$tmp/$f.plan" >/dev/null; then
		ok "$f: plan reaches a NUMA-local score of 100%"
	else
		not_ok "$f: plan reaches a NUMA-local score of 100%"
		diag "$(head -3 "$tmp/$f.err")" "$(jq -c '.after' "$tmp/$f.plan" 2>&1 | head -3)"
	fi

	# apply writes exactly the files the plan names, nothing else.
	sums "$tmp/$f" >"$tmp/$f.sum0"
	"$agent" --root "$tmp/$f" --json affinity apply >"$tmp/$f.apply" 2>"$tmp/$f.err"
	rc=$?
	sums "$tmp/$f" >"$tmp/$f.sum1"
	changed=$(diff "$tmp/$f.sum0" "$tmp/$f.sum1" | grep -c '^>')
	moves=$(jq '[.actions[] | select(.move and .result == "done")] | length' "$tmp/$f.apply")
	if [ "$rc" -eq 0 ] && [ "$changed" -eq "$moves" ] && [ "$moves" -gt 0 ]; then
		ok "$f: apply writes the $moves files of its moves and no other"
	else
		not_ok "$f: apply writes the files of its moves and no other (rc $rc, $changed files, $moves moves)"
		diag "$(head -3 "$tmp/$f.err")"
	fi
	bad=$(diff "$tmp/$f.sum0" "$tmp/$f.sum1" | grep '^>' |
		grep -vE '/channels/[0-9]+/cpu$|/proc/irq/[0-9]+/smp_affinity_list$|/queues/tx-[0-9]+/xps_cpus$' | head -3)
	if [ -z "$bad" ]; then
		ok "$f: only channel cpu, smp_affinity_list and xps_cpus files change (no CPU offlined)"
	else
		not_ok "$f: only channel cpu, smp_affinity_list and xps_cpus files change"
		diag "$bad"
	fi

	"$agent" --root "$tmp/$f" --json affinity check >"$tmp/$f.check" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && jq -e '.moves == 0 and .score == 100' "$tmp/$f.check" >/dev/null; then
		ok "$f: check after apply: no drift, score 100%"
	else
		not_ok "$f: check after apply: no drift, score 100% (rc $rc)"
		diag "$(jq -c '.actions[:3]' "$tmp/$f.check" 2>&1 | head -5)"
	fi
done

# A fresh fixture has drifted from the plan: check says so with status 1.
fresh nd96isr-h200-v5 drift
"$agent" --root "$tmp/drift" affinity check >"$tmp/drift.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q '^Drift (' "$tmp/drift.out"; then
	ok "check exits 1 and lists the drift on an untouched ND H200 v5"
else
	not_ok "check exits 1 and lists the drift (rc $rc)"
fi
if grep -q 'move irq [0-9]* nvidia: 0-95 -> [0-9]* (node [01]): on its device' "$tmp/drift.out"; then
	ok "each move names source, CPUs before and after, node and reason"
else
	not_ok "each move names source, CPUs before and after, node and reason"
	diag "$(head -8 "$tmp/drift.out")"
fi

# The host gave no NUMA nodes: the SKU table supplies them.
if jq -e '[.actions[] | select(.target == "irq" and (.what | test("@pci:01(0[5-8])")))]
	| length > 0 and all(.node == 1 and .local)' "$tmp/nd96isr-h200-v5-numa-none.plan" >/dev/null &&
	jq -e '[.actions[] | select(.reason | test("SKU table"))] | length > 0' \
		"$tmp/nd96isr-h200-v5-numa-none.plan" >/dev/null; then
	ok "numa-none: HCAs 0105-0108 go to node 1 from the SKU table"
else
	not_ok "numa-none: HCAs 0105-0108 go to node 1 from the SKU table"
fi

# not-hyperv: nothing of ours to place.
"$agent" --root "$fixtures/not-hyperv" --json affinity plan >"$tmp/nh.json" 2>&1
if [ $? -eq 0 ] && jq -e '.moves == 0' "$tmp/nh.json" >/dev/null; then
	ok "not-hyperv: no moves (virtio IRQs are left to the kernel)"
else
	not_ok "not-hyperv: no moves"
fi

# Isolated CPUs are never targets.
fresh nd96isr-h200-v5 iso
echo "1-3,50-60" >"$tmp/iso/sys/devices/system/cpu/isolated"
echo "isolcpus=managed_irq,domain,70-71 quiet" >"$tmp/iso/proc/cmdline"
"$agent" --root "$tmp/iso" --json affinity plan >"$tmp/iso.json" 2>&1
if jq -e '[.actions[] | select(.move) | .to | tonumber? // 0 |
	select((. >= 1 and . <= 3) or (. >= 50 and . <= 60) or . == 70 or . == 71)] | length == 0' \
	"$tmp/iso.json" >/dev/null && jq -e '.excluded == "1-3,50-60,70-71"' "$tmp/iso.json" >/dev/null; then
	ok "isolated, and isolcpus=managed_irq CPUs are never targets"
else
	not_ok "isolated, and isolcpus=managed_irq CPUs are never targets"
	diag "$(jq -c '.excluded' "$tmp/iso.json" 2>&1)"
fi

# Configuration: [affinity] irqs = no leaves every IRQ alone.
printf '[affinity]\nirqs = no\nxps = no\n' >"$tmp/noirq.conf"
"$agent" --root "$fixtures/nd96isr-h200-v5" --json affinity plan --config "$tmp/noirq.conf" \
	>"$tmp/noirq.json" 2>&1
if jq -e '[.actions[] | select(.target != "channel")] | length == 0' "$tmp/noirq.json" >/dev/null &&
	jq -e '.moves > 0' "$tmp/noirq.json" >/dev/null; then
	ok "[affinity] irqs = no, xps = no: only channels move"
else
	not_ok "[affinity] irqs = no, xps = no: only channels move"
fi
printf '[affinity]\nirqs = maybe\n' >"$tmp/bad.conf"
"$agent" --root "$fixtures/d2s-v5" affinity plan --config "$tmp/bad.conf" >/dev/null 2>"$tmp/bad.err"
rc=$?
if [ "$rc" -eq 3 ] && grep -q 'bad.conf.*\[affinity\] irqs: bad value' "$tmp/bad.err"; then
	ok "a bad [affinity] value is an error naming file, section and key"
else
	not_ok "a bad [affinity] value is an error naming file, section and key (rc $rc)"
	diag "$(cat "$tmp/bad.err")"
fi

# Usage errors.
"$agent" --root "$fixtures/d2s-v5" affinity frobnicate >/dev/null 2>&1
rc1=$?
"$agent" --root "$fixtures/d2s-v5" affinity plan extra >/dev/null 2>&1
rc2=$?
if [ "$rc1" -eq 2 ] && [ "$rc2" -eq 2 ]; then
	ok "unknown subcommand or argument: exit 2"
else
	not_ok "unknown subcommand or argument: exit 2 ($rc1, $rc2)"
fi

# Malformed input: a clear error naming the file, exit 3, nothing written.
# corrupt NAME FILE CONTENT EXPECTED-PATH
corrupt() {
	local name=$1 file=$2 content=$3 want=$4 rc
	fresh d64ds-v5-mlx5 "bad-$name"
	printf '%b' "$content" >"$tmp/bad-$name/$file"
	sums "$tmp/bad-$name" >"$tmp/bad-$name.sum0"
	"$agent" --root "$tmp/bad-$name" affinity apply >"$tmp/bad-$name.out" 2>"$tmp/bad-$name.err"
	rc=$?
	sums "$tmp/bad-$name" >"$tmp/bad-$name.sum1"
	if [ "$rc" -eq 3 ] && grep -q -- "$want" "$tmp/bad-$name.err" &&
		grep -q 'nothing was written' "$tmp/bad-$name.err" &&
		cmp -s "$tmp/bad-$name.sum0" "$tmp/bad-$name.sum1"; then
		ok "malformed $name: exit 3, names $want, nothing written"
	else
		not_ok "malformed $name: exit 3, names $want, nothing written (rc $rc)"
		diag "$(cat "$tmp/bad-$name.err")"
	fi
}
irq=$(ls "$fixtures/d64ds-v5-mlx5/proc/irq" | grep -E '^[0-9]+$' | sort -n | tail -1)
chan=$(cd "$fixtures/d64ds-v5-mlx5/sys/bus/vmbus/devices" && ls -d */channels/* | head -1)
head -c 300 "$fixtures/d64ds-v5-mlx5/proc/interrupts" >"$tmp/trunc"
corrupt interrupts-garbage proc/interrupts "$(head -1 "$fixtures/d64ds-v5-mlx5/proc/interrupts")\n 24: 1 2 3 garbage\x01\n" /proc/interrupts
corrupt interrupts-truncated proc/interrupts "$(cat "$tmp/trunc")" /proc/interrupts
corrupt interrupts-empty proc/interrupts "" /proc/interrupts
corrupt irq-absurd-cpu "proc/irq/$irq/smp_affinity_list" "0-100000\n" "/proc/irq/$irq/smp_affinity_list"
corrupt irq-garbage "proc/irq/$irq/smp_affinity_list" "zz\n" "/proc/irq/$irq/smp_affinity_list"
corrupt channel-absurd-cpu "sys/bus/vmbus/devices/$chan/cpu" "99999\n" "channels"
corrupt siblings-garbage sys/devices/system/cpu/cpu5/topology/thread_siblings_list "4-\n" thread_siblings_list
corrupt node-garbage sys/devices/system/node/node1/cpulist "32-63,x\n" node1/cpulist

# Host servicing: the VF goes away and comes back with the kernel's defaults;
# the next apply restores the placement it had.
fresh d64ds-v5-mlx5 hot
"$agent" --root "$tmp/hot" --json affinity apply >"$tmp/hot.1" 2>&1
vf_irqs() { jq -c '[.actions[] | select(.what | test("@pci:cf63")) | {what, to}] | sort' "$1"; }
"$agent" --root "$tmp/hot" --json affinity plan --all >"$tmp/hot.placed" 2>&1
if bash "$gen" --vf remove "$tmp/hot" >"$tmp/hot.gen" 2>&1; then
	"$agent" --root "$tmp/hot" --json affinity apply >"$tmp/hot.2" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && jq -e '[.actions[] | select(.what | test("cf63"))] | length == 0' \
		"$tmp/hot.2" >/dev/null; then
		ok "VF removed: apply succeeds and has nothing of the VF"
	else
		not_ok "VF removed: apply succeeds and has nothing of the VF (rc $rc)"
	fi
	bash "$gen" --vf add "$tmp/hot" >>"$tmp/hot.gen" 2>&1
	"$agent" --root "$tmp/hot" affinity check >/dev/null 2>&1
	rc=$?
	if [ "$rc" -eq 1 ]; then
		ok "VF re-added with the kernel's defaults: check sees the drift"
	else
		not_ok "VF re-added with the kernel's defaults: check sees the drift (rc $rc)"
	fi
	"$agent" --root "$tmp/hot" --json affinity apply >"$tmp/hot.3" 2>&1
	"$agent" --root "$tmp/hot" --json affinity plan --all >"$tmp/hot.restored" 2>&1
	before=$(jq -c '[.actions[] | select(.what | test("@pci:cf63")) | .to] ' "$tmp/hot.placed")
	after=$(jq -c '[.actions[] | select(.what | test("@pci:cf63")) | .to] ' "$tmp/hot.restored")
	if [ "$before" = "$after" ] && [ "$before" != "[]" ] &&
		jq -e '.moves == 0 and .score == 100' "$tmp/hot.restored" >/dev/null; then
		ok "VF re-added: apply restores the same placement (score 100%, nothing left to move)"
	else
		not_ok "VF re-added: apply restores the same placement"
		diag "before: ${before:0:200}" "after: ${after:0:200}"
	fi
else
	for t in "VF removed: apply succeeds" "VF re-added: check sees the drift" \
		"VF re-added: apply restores the same placement"; do
		not_ok "$t (the fixture generator failed)"
	done
	diag "$(tail -3 "$tmp/hot.gen")"
fi

done_testing
