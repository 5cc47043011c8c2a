#!/usr/bin/env bash
# Golden tests of `azl-agent status --json` on every SKU fixture, plus the
# facts each fixture exists to show (asserted with jq, so that regenerating
# a golden file can never hide a wrong verdict).
#
# UPDATE_GOLDEN=1 rewrites tests/golden/*.json from the current output.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
golden="$here/../golden"
agent=${AZL_AGENT:?} fixtures=${AZL_FIXTURES:?}

# fixture:expected exit status
cases="d2s-v5:0 d64ds-v5-mlx5:0 d64ds-v5-mana:0 nd96isr-h200-v5:0 nd96isr-h200-v5-numa-none:1 not-hyperv:2"

# expect FIXTURE JQ-EXPRESSION DESCRIPTION: the expression must be true.
expect() {
	if jq -e "$2" "$tmp/$1.json" >/dev/null; then
		ok "$1: $3"
	else
		not_ok "$1: $3"
		diag "jq: $2"
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plan 47

for c in $cases; do
	f=${c%%:*} want=${c##*:}
	"$agent" status --json --root "$fixtures/$f" >"$tmp/$f.json" 2>"$tmp/$f.err"
	rc=$?
	if [ "$rc" -eq "$want" ] && [ ! -s "$tmp/$f.err" ]; then
		ok "$f: --json exits $want, nothing on stderr"
	else
		not_ok "$f: --json exits $want, nothing on stderr (got $rc)"
		diag "$(head -5 "$tmp/$f.err")"
	fi
	expect "$f" ".schema_version == 1 and .exit_status == $want" "valid JSON whose exit_status matches"
	if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
		cp "$tmp/$f.json" "$golden/$f.json"
	fi
	if diff -u "$golden/$f.json" "$tmp/$f.json" >"$tmp/$f.diff" 2>&1; then
		ok "$f: output matches tests/golden/$f.json"
	else
		not_ok "$f: output matches tests/golden/$f.json"
		diag "$(head -40 "$tmp/$f.diff")"
	fi
	"$agent" status --root "$fixtures/$f" >"$tmp/$f.txt" 2>"$tmp/$f.txterr"
	rc=$?
	if [ "$rc" -eq "$want" ] && [ -s "$tmp/$f.txt" ] && [ ! -s "$tmp/$f.txterr" ] &&
		[ "$(wc -l <"$tmp/$f.txt")" -le 40 ]; then
		ok "$f: text output fits one screen and exits $want"
	else
		not_ok "$f: text output fits one screen and exits $want (got $rc, $(wc -l <"$tmp/$f.txt") lines)"
	fi
done

expect d2s-v5 '.platform.hyperv == true and .platform.generation == 2' "a Gen2 Hyper-V guest"
expect d2s-v5 '.topology.cpu_count == 2 and (.topology.nodes | length) == 1' "2 CPUs on one node"
expect d2s-v5 '[.nics[] | select(.role == "synthetic")][0].accelerated_networking == false' "no accelerated networking"
expect d2s-v5 '.accelerators == [] and .warnings == []' "no accelerators, no warnings"
expect d2s-v5 '.modules.hv_vmbus == "built-in" and .modules.azl_vmbus == "absent"' "hv_vmbus built in, azl_vmbus absent"
expect d2s-v5 '.agent.kvp_holder.comm == "hv_kvp_daemon"' "hv_kvp_daemon holds the KVP device"
expect d64ds-v5-mlx5 '.topology.cpu_count == 64 and (.topology.nodes | map(.cpus)) == ["0-31", "32-63"]' "64 CPUs on two nodes"
expect d64ds-v5-mlx5 '[.nics[] | select(.role == "synthetic")][0] | .accelerated_networking and .vf_driver == "mlx5_core" and .vf_pci == "cf63:00:02.0"' "eth0 has its mlx5 VF at cf63:00:02.0"
expect d64ds-v5-mlx5 '.vmbus.classes[] | select(.kind == "storage") | (.channels_per_node | length) == 2' "storage channels use both nodes"
expect d64ds-v5-mana '[.nics[] | select(.role == "synthetic")][0] | .accelerated_networking and .vf_driver == "mana"' "eth0 has its MANA VF"
expect nd96isr-h200-v5 '.platform.vm_size == "Standard_ND96isr_H200_v5" and .platform.vm_size_source == "imds-cache"' "the VM size comes from the IMDS cache"
expect nd96isr-h200-v5 '[.accelerators[] | select(.kind == "gpu")] | length == 8' "8 GPUs"
expect nd96isr-h200-v5 '[.accelerators[] | select(.kind == "hca")] | length == 8' "8 InfiniBand HCAs"
expect nd96isr-h200-v5 '[.accelerators[] | select(.numa_node == 1) | .pci] == ["0009:00:00.0", "000a:00:00.0", "000b:00:00.0", "000c:00:00.0", "0105:00:00.0", "0106:00:00.0", "0107:00:00.0", "0108:00:00.0"]' "node-1 GPUs and HCAs as the SKU documents"
expect nd96isr-h200-v5 '[.accelerators[] | .vpci] | all' "every accelerator is a vPCI device"
expect nd96isr-h200-v5 '.agent.provisioned == true and .agent.kvp_holder.comm == "azl-agent"' "provisioned, azl-agent holds KVP"
expect nd96isr-h200-v5 '.vmbus.classes[] | select(.kind == "vpci") | .devices >= 16' "the vPCI devices are on VMBus"
expect nd96isr-h200-v5-numa-none '[.warnings[].message] | any(test("8 of 8 GPUs report NUMA node -1")) and any(test("8 of 8 InfiniBand HCAs report NUMA node -1"))' "warns that no GPU or HCA has a node"
expect nd96isr-h200-v5-numa-none '.placement.score < 100 and .placement.planned_score == 100 and .placement.moves > 0 and .placement.sku == "ND H200 v5"' "placement: the SKU table lifts the NUMA-local score to 100%"
expect d2s-v5 '.placement.known and .placement.planned_score == 100' "placement is planned on a VM without devices"
expect not-hyperv '.placement == null' "no placement outside Hyper-V"
expect not-hyperv '.platform.hyperv == false and .platform.sys_vendor == "QEMU"' "a QEMU guest is not Hyper-V"
expect not-hyperv '.warnings[0].message | test("not a Hyper-V guest")' "the first warning says why"
done_testing
