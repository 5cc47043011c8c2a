#!/usr/bin/env bash
# `make demo`: azl-agent status on the embedded ND H200 v5 fixture, then on
# this machine.  Exit statuses are shown, not fatal: a demo machine that is
# not a Hyper-V guest is expected to say so (status 2).
set -uo pipefail
build=${1:?usage: tests/demo.sh BUILD_DIR}
agent="$build/azl-agent"
fixture="$build/fixtures/nd96isr-h200-v5"

echo "=== azl-agent status --root $fixture"
echo "    (an ND H200 v5-like VM: 96 vCPUs, 2 NUMA nodes, 8 GPUs, 8 InfiniBand HCAs)"
"$agent" status --root "$fixture"
echo "=== exit status $?"
echo
# Interrupt placement on a scratch copy of the same fixture: the plan, then
# apply and check (the copy's files are what gets written).
place=$(mktemp -d)
cp -a "$fixture" "$place/root"
echo "=== azl-agent --root <copy> affinity plan   (first moves and the figures)"
"$agent" --root "$place/root" affinity plan >"$place/plan"
head -9 "$place/plan"
echo "  …"
sed -n '/^Placement/,$p' "$place/plan"
echo "=== azl-agent --root <copy> affinity apply"
"$agent" --root "$place/root" affinity apply | tail -1
echo "=== azl-agent --root <copy> affinity check"
"$agent" --root "$place/root" affinity check >"$place/check"
echo "=== exit status $? (0 placement good, 1 drifted)"
sed -n '/^Drift/,/^Placement/p' "$place/check" | head -2
rm -rf "$place"
echo
echo "=== azl-agent status   (this machine)"
"$agent" status
echo "=== exit status $? (0 healthy, 1 warnings, 2 not a Hyper-V guest or error)"
echo
# First boot against the Azure host simulator, in a scratch root (useradd and
# chpasswd work with --root; nothing of this machine changes).
if [ -x "$build/tests/azure_sim" ] && [ "$(id -u)" -eq 0 ] && command -v useradd >/dev/null; then
	here=$(cd "$(dirname "$0")" && pwd)
	. "$here/sim/lib.sh"
	. "$here/provision/lib.sh"
	demo=$(mktemp -d)
	prov_mkroot "$demo/root"
	cp -a "$fixture/sys" "$demo/root/" 2>/dev/null
	# The simulated IMDS gives the fixture's own vmId, as Azure would.
	vm_id=$("$agent" status --json --root "$fixture" 2>/dev/null | jq -r '.platform.vm_id // empty' 2>/dev/null)
	printf 'set vm-size Standard_ND96isr_H200_v5\n' >"$demo/scenario.scn"
	[ -n "$vm_id" ] && printf 'set vm-id %s\n' "$vm_id" >>"$demo/scenario.scn"
	sim_start "$demo/scenario.scn" >/dev/null
	prov_config "$demo/azl-agent.conf"
	echo "=== azl-agent provision   (a scratch root; IMDS and wireserver simulated on loopback)"
	"$agent" --root "$demo/root" provision --config "$demo/azl-agent.conf"
	echo "=== exit status $?"
	echo "=== what the simulated host received:"
	sim_field state jsonhealth | grep -v '^$' | sed 's/^/    health report: /'
	"$agent" --root "$demo/root" kvp get --pool 1 PROVISIONING_REPORT | sed 's/^/    KVP PROVISIONING_REPORT: /'
	sim_stop
	echo
	echo "=== azl-agent status --root (the provisioned scratch root)"
	"$agent" status --root "$demo/root" | grep -E '^(VM|Agent|Verdict)'
	rm -rf "$demo"
	echo
else
	echo "(provisioning demo skipped: needs root, useradd and $build/tests/azure_sim)"
fi
echo "More: $agent status --json --root $fixture | less"
echo "      fixtures for other SKUs: $(ls "$build/fixtures" | tr '\n' ' ')"
