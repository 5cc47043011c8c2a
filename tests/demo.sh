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
echo "=== azl-agent status   (this machine)"
"$agent" status
echo "=== exit status $? (0 healthy, 1 warnings, 2 not a Hyper-V guest or error)"
echo
echo "More: $agent status --json --root $fixture | less"
echo "      fixtures for other SKUs: $(ls "$build/fixtures" | tr '\n' ' ')"
