#!/usr/bin/env bash
# Corrupted fixtures: truncated, garbage, missing and oversized files.  Every
# case must end cleanly (exit 1 or 2, never a crash or a sanitizer report),
# print valid JSON, show the value as unknown (null) and name the file in a
# warning.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
agent=${AZL_AGENT:?} fixtures=${AZL_FIXTURES:?}
base="$fixtures/nd96isr-h200-v5"

as_user=
# Each case copies a ~10,000-file tree: use memory when there is some.
tmp=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A fresh copy of the ND H200 v5 fixture for each case.
fresh() {
	rm -rf "$tmp/root"
	cp -a "$base" "$tmp/root"
}

# run_case NAME EXIT JQ-EXPR WARNING-REGEX: run status on $tmp/root and check
# the exit status, that stderr is clean, that EXPR holds and a warning matches.
run_case() {
	local name=$1 want=$2 expr=$3 warning=$4 rc
	$as_user "$agent" status --json --root "$tmp/root" >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ] || [ -s "$tmp/err" ]; then
		not_ok "$name: exits $want cleanly (got $rc)"
		diag "$(head -20 "$tmp/err")"
		return
	fi
	if ! jq -e "$expr" "$tmp/out.json" >/dev/null 2>&1; then
		not_ok "$name: $expr"
		diag "$(jq -c '.warnings' "$tmp/out.json" 2>&1 | head -5)"
		return
	fi
	# "-" means: no warning at all.
	if [ "$warning" = - ]; then
		if ! jq -e '.warnings == []' "$tmp/out.json" >/dev/null; then
			not_ok "$name: no warning"
			diag "$(jq -c '[.warnings[].message]' "$tmp/out.json" 2>&1 | head -5)"
			return
		fi
	elif ! jq -e --arg re "$warning" '[.warnings[].message] | any(test($re))' \
		"$tmp/out.json" >/dev/null 2>&1; then
		not_ok "$name: a warning matches /$warning/"
		diag "$(jq -c '[.warnings[].message]' "$tmp/out.json" 2>&1 | head -5)"
		return
	fi
	# The text screen must survive the same input.
	$as_user "$agent" status --root "$tmp/root" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ] || [ -s "$tmp/err" ]; then
		not_ok "$name: text output exits $want cleanly (got $rc)"
		return
	fi
	ok "$name"
}

vmbus_dev() { # the first vmbus device of a class, by kind of GUID prefix
	grep -l "$1" "$tmp"/root/sys/bus/vmbus/devices/*/class_id | head -1 | xargs dirname
}

plan 21

fresh
head -c 4096 /dev/urandom >"$tmp/root/proc/interrupts"
run_case "garbage /proc/interrupts" 1 '.interrupts.known == false and .interrupts.device_irqs == null' \
	'/proc/interrupts line [0-9]+ is malformed'

fresh
printf 'not-a-uuid\n' >"$tmp/root/sys/devices/virtual/dmi/id/product_uuid"
run_case "garbage product_uuid" 1 '.platform.vm_id == null and .platform.hyperv == true' \
	'product_uuid "not-a-uuid" is not a UUID'

fresh
rm "$tmp/root/sys/devices/system/cpu/online"
run_case "missing cpu/online" 1 '.topology.cpus_online == null and .topology.cpu_count == null' \
	'cannot read /sys/devices/system/cpu/online \(No such file'

fresh
printf '0-99999\n' >"$tmp/root/sys/devices/system/node/node1/cpulist"
run_case "out-of-range node cpulist" 1 '.topology.nodes == null' \
	'cannot read /sys/devices/system/node/node1/cpulist \(unexpected content\)'

fresh
d=$(vmbus_dev f8615163)
printf '14:zz\n' >"$d/channel_vp_mapping"
rm -rf "$d/channels"
run_case "garbage channel_vp_mapping, no channels dir" 1 \
	'[.vmbus.devices[] | select(.kind == "network")][0].channels == null' 'channel_vp_mapping'

fresh
d=$(vmbus_dev ba6163d9)
printf '{garbage}\n' >"$d/class_id"
run_case "garbage class_id" 1 '[.vmbus.devices[] | select(.kind == "unknown")] | length == 1' \
	'class_id \(unexpected content\)'

fresh
printf '0x10\0de\n' >"$tmp/root/sys/bus/pci/devices/0001:00:00.0/vendor"
run_case "NUL bytes in a PCI vendor file" 1 '[.accelerators[] | select(.kind == "gpu")] | length == 7' \
	'0001:00:00.0/vendor \(unexpected content\)'

fresh
head -c 17 "$tmp/root/var/lib/azl-agent/imds-compute.json" >"$tmp/x" && mv "$tmp/x" "$tmp/root/var/lib/azl-agent/imds-compute.json"
run_case "truncated IMDS cache" 1 '.platform.vm_size == null' 'imds-compute.json is not a JSON object'

fresh
printf 'partial' >>"$tmp/root/var/lib/hyperv/.kvp_pool_1"
run_case "partial KVP record" 1 '.agent.kvp_pools[1].partial_bytes == 7' 'pool 1 ends in a partial record'

fresh
head -c $((17 << 20)) /dev/zero | tr '\0' 'x' >"$tmp/root/proc/cpuinfo"
run_case "17 MiB /proc/cpuinfo" 1 '.platform.evidence.cpu_hypervisor_flag == null' \
	'cannot read /proc/cpuinfo \(content too long\)'

fresh
head -c 5000 /dev/zero | tr '\0' 'A' >"$tmp/root/sys/devices/virtual/dmi/id/sys_vendor"
# VMBus still proves Hyper-V; the vendor is unknown, not cut short.
run_case "over-long DMI sys_vendor" 1 '.platform.sys_vendor == null and .platform.hyperv == true' \
	'cannot read /sys/devices/virtual/dmi/id/sys_vendor \(content too long\)'

# A FIFO where an attribute should be must not block status forever.
fresh
rm "$tmp/root/sys/devices/virtual/dmi/id/product_name"
mkfifo "$tmp/root/sys/devices/virtual/dmi/id/product_name"
run_case "a FIFO as DMI product_name" 1 '.platform.product_name == null and .platform.hyperv == true' \
	'product_name \(not a regular file\)'

fresh
rm "$tmp/root/proc/interrupts"
mkdir "$tmp/root/proc/interrupts"
run_case "a directory as /proc/interrupts" 1 '.interrupts.known == false' \
	'cannot read /proc/interrupts \(Is a directory\)'

# Azure CNI bridges eth0; docker adds veths; bonding adds a plain file.
fresh
net="$tmp/root/sys/class/net"
eth0=$(readlink -f "$net/eth0")
mkdir -p "$tmp/root/sys/devices/virtual/net/br0" "$tmp/root/sys/devices/virtual/net/veth1"
printf '9\n' >"$tmp/root/sys/devices/virtual/net/br0/ifindex"
printf '10\n' >"$tmp/root/sys/devices/virtual/net/veth1/ifindex"
ln -s ../../devices/virtual/net/br0 "$net/br0"
ln -s ../../devices/virtual/net/veth1 "$net/veth1"
ln -s "$eth0" "$tmp/root/sys/devices/virtual/net/br0/lower_eth0"
ln -s ../br0 "$tmp/root/sys/devices/virtual/net/veth1/master"
ln -s ../../../../../../../devices/virtual/net/br0 "$eth0/master" 2>/dev/null ||
	ln -s "$tmp/root/sys/devices/virtual/net/br0" "$eth0/master"
printf 'bond0\n' >"$net/bonding_masters"
run_case "eth0 in a bridge, a veth, bonding_masters" 0 \
	'([.nics[] | select(.name == "eth0")][0].accelerated_networking == true) and
	 ([.nics[] | select(.name == "veth1" or .name == "br0") | .role] == ["other", "other"]) and
	 ([.nics[] | select(.name == "br0")][0].vf == null) and
	 ([.nics[].name] | index("bonding_masters") == null)' -

# A container that hides /sys/firmware/efi must not claim a vmId mismatch.
fresh
rm -rf "$tmp/root/sys/firmware/efi"
vmid=$(jq -r .vmId "$tmp/root/var/lib/azl-agent/imds-compute.json")
run_case "Gen2 seen without its EFI directory" 0 \
	".platform.generation == 1 and .platform.vm_id == \"$vmid\"" -

# Nothing from a file reaches the terminal as a control sequence.
fresh
printf 'Evil\033[2J\033]0;owned\007Corp\n' >"$tmp/root/sys/devices/virtual/dmi/id/sys_vendor"
"$agent" status --root "$tmp/root" >"$tmp/out.txt" 2>&1
if grep -q "$(printf '\033')" "$tmp/out.txt" || grep -q "$(printf '\007')" "$tmp/out.txt"; then
	not_ok "control characters from DMI are not printed raw"
else
	ok "control characters from DMI are not printed raw"
fi

# Permissions bind only non-root users: as root, drop to nobody for this case.
fresh
chmod 000 "$tmp/root/proc/modules"
if [ "$(id -u)" -ne 0 ]; then
	run_case "unreadable /proc/modules" 1 '.modules.hv_vmbus == "built-in"' 'cannot read /proc/modules \(Permission denied\)'
elif command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$agent"; then
	chmod 755 "$tmp"
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
	run_case "unreadable /proc/modules" 1 '.modules.hv_vmbus == "built-in"' 'cannot read /proc/modules \(Permission denied\)'
	as_user=
	chmod 700 "$tmp"
else
	skip "unreadable /proc/modules" "running as root and user nobody cannot run $agent"
fi

fresh
rm -rf "$tmp/root/sys"
run_case "no /sys at all" 2 '.platform.hyperv == null' 'cannot tell whether this is a Hyper-V guest'

rm -rf "$tmp/root" && mkdir "$tmp/root"
run_case "an empty root" 2 '.platform.hyperv == null' 'cannot tell whether this is a Hyper-V guest'

fresh
rm -rf "$tmp/root/sys/bus/pci" "$tmp/root/sys/class/net"
run_case "no PCI bus, no net class" 1 '.accelerators == [] and .nics == []' 'cannot read /sys/class/net'

if "$agent" status --root "$tmp/does-not-exist" >/dev/null 2>"$tmp/err"; then
	not_ok "a missing root is an error"
elif grep -q 'cannot use root' "$tmp/err"; then
	ok "a missing root is a clear error"
else
	not_ok "a missing root is a clear error"
	diag "$(cat "$tmp/err")"
fi
done_testing
