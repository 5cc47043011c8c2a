#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# irqbalance-fixture.sh ROOT [IRQBALANCE-OPTION...]
#
# Runs `irqbalance --oneshot --foreground` against the fixture tree ROOT (a
# copy: it gets written), never against this machine.  In a private mount
# namespace the tree's sys, proc/irq, proc/interrupts and proc/stat are
# bind-mounted over /sys, /proc/irq, /proc/interrupts and /proc/stat, and a
# tmpfs over /run takes irqbalance's socket; irqbalance starts only after
# /proc/irq, /proc/interrupts and the CPU list are checked to be the tree's.
# What irqbalance reads there (1.9.2): the CPU tree (cpuN/online,
# topology/{physical_package_id,core_siblings}, cache/index1..2/shared_cpu_map,
# the cpuN/nodeM links), node/nodeN/cpumap, /proc/stat (per-CPU irq and
# softirq time), /proc/interrupts, /proc/irq/N/{smp_affinity,node}, and per
# PCI device msi_irqs, class, vendor/device ids, numa_node, local_cpus and
# its driver link.  VMBus channels have no /proc/irq entry: it never sees them.
#
# irqbalance writes /proc/irq/N/smp_affinity only; afterwards
# `gen-fixtures.sh --irq-sync ROOT` does what the kernel does on such a write
# (smp_affinity_list and effective_affinity_list follow; writes to
# kernel-managed IRQs fail with EIO and are undone).
#
# One-shot mode balances after one --interval (default here 1 s, irqbalance's
# own default 10 s; IRQB_INTERVAL=N to change): the wall time includes it.
# Prints one line: "irqbalance wall_ms=W cpu_ms=C interval_s=I", then the
# --irq-sync summary.  IRQB_LOG=FILE keeps irqbalance's own output (add
# --debug to see its CPU tree and where it put each IRQ).
# Exit 77 when it cannot run here (not root, no unshare, no irqbalance).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gen="$here/../tests/fixtures/gen-fixtures.sh"

if [ "${1:-}" = --inside ]; then
	# In the new mount namespace: ROOT IRQBALANCE INTERVAL TIMEFILE LOG OPTS...
	root=$2 irqb=$3 interval=$4 timefile=$5 log=$6
	shift 6
	mount --bind "$root/sys" /sys
	mount --bind "$root/proc/irq" /proc/irq
	mount --bind "$root/proc/interrupts" /proc/interrupts
	mount --bind "$root/proc/stat" /proc/stat
	# Never let it near the real /proc/irq: the bind mounts must be in place.
	if [ "$(stat -c %d:%i /proc/irq)" != "$(stat -c %d:%i "$root/proc/irq")" ] ||
		! cmp -s /proc/interrupts "$root/proc/interrupts" ||
		! cmp -s /sys/devices/system/cpu/online "$root/sys/devices/system/cpu/online"; then
		echo "irqbalance-fixture: the fixture is not in place of /proc and /sys; not running" >&2
		exit 1
	fi
	# Last, as ROOT may live under /run.
	mount -t tmpfs -o size=1m,mode=0755 azl-irqbalance /run
	mkdir -p /run/irqbalance
	TIMEFORMAT='%R %U %S'
	{ time env -u IRQBALANCE_BANNED_CPULIST -u IRQBALANCE_BANNED_CPUS \
		-u IRQBALANCE_ONESHOT -u IRQBALANCE_DEBUG -u IRQBALANCE_ARGS \
		"$irqb" --oneshot --foreground --interval="$interval" "$@" >"$log" 2>&1; } 2>"$timefile"
	exit 0
fi

usage() {
	echo "usage: $0 ROOT [IRQBALANCE-OPTION...]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
if [ ! -d "$1/proc/irq" ] || [ ! -f "$1/proc/interrupts" ] || [ ! -d "$1/sys/devices/system/cpu" ]; then
	echo "irqbalance-fixture: $1: not a fixture tree" >&2
	exit 2
fi
if [ ! -f "$1/proc/stat" ]; then
	echo "irqbalance-fixture: $1: no proc/stat (made by an older gen-fixtures.sh?)" >&2
	exit 2
fi
root=$(cd "$1" && pwd -P)
shift
irqb=${IRQBALANCE:-$("$(dirname "$0")/../scripts/irqbalance-cache.sh" 2>/dev/null | tail -1)}
if [ -z "$irqb" ] || [ ! -x "$irqb" ]; then
	echo "irqbalance-fixture: no irqbalance (Debian/Fedora package irqbalance)" >&2
	exit 77
fi
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
	echo "irqbalance-fixture: needs root and unshare (util-linux) for a private mount namespace" >&2
	exit 77
fi
interval=${IRQB_INTERVAL:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=${IRQB_LOG:-$tmp/irqbalance.log}

if ! unshare --mount --propagation private -- \
	bash "$here/irqbalance-fixture.sh" --inside "$root" "$irqb" "$interval" "$tmp/time" "$log" "$@"; then
	echo "irqbalance-fixture: irqbalance did not run on $root" >&2
	[ -s "$log" ] && tail -5 "$log" >&2
	exit 1
fi
read -r wall user sys <"$tmp/time"
awk -v w="$wall" -v u="$user" -v s="$sys" -v i="$interval" \
	'BEGIN { printf "irqbalance wall_ms=%.1f cpu_ms=%.1f interval_s=%d\n", w * 1000, (u + s) * 1000, i }'
bash "$gen" --irq-sync "$root"
