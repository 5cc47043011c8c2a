#!/bin/sh
# The kernel the guest booted is the one we meant, module loading works, and
# the stand-ins other suites lean on behave: scsi_debug gives a real SCSI disk
# (what storvsc would), veth a NIC pair (what netvsc would).  The agent runs.
AZL_GUEST_DIR=${AZL_GUEST_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$AZL_GUEST_DIR/ktap.sh"
. "$AZL_GUEST_DIR/kmod.sh"

plan 9

release=$(uname -r)
diag "kernel $release ($(uname -v)), mode $AZL_MODE"
# Catches KERNEL= and MODULES= of two different builds.
if [ -n "$release" ] && [ -d "/lib/modules/$release" ]; then
	ok "kernel release has a modules directory"
else
	diag "no /lib/modules/$release:" "$(ls /lib/modules 2>&1)"
	not_ok "kernel release has a modules directory"
fi

check "/proc/modules is readable" test -r /proc/modules

# scsi_debug_disk: the sd* block device whose SCSI model is scsi_debug
# (a real guest has other disks).
scsi_debug_disk() {
	for _d in /sys/block/sd*; do
		[ -r "$_d/device/model" ] || continue
		case $(cat "$_d/device/model") in scsi_debug*) basename "$_d"; return 0 ;; esac
	done
	return 1
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s (SCSI scanning is asynchronous).
wait_for() {
	_w=$(($1 * 10))
	shift
	while [ "$_w" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_w=$((_w - 1))
	done
	"$@"
}

# sd_mod turns a SCSI disk into /sys/block/sd*; nothing loads it without udev.
module_loaded sd_mod || module_builtin sd_mod || modprobe sd_mod 2>/dev/null
mark=$(dmesg_mark)
if module_loaded scsi_debug; then
	diag "scsi_debug was loaded before the test"
	not_ok "scsi_debug loads"
elif out=$(load_module scsi_debug dev_size_mb=16 2>&1) && module_loaded scsi_debug; then
	ok "scsi_debug loads"
else
	diag "$out"
	not_ok "scsi_debug loads"
fi

if disk=$(wait_for 10 scsi_debug_disk); then
	diag "disk $disk, $(cat "/sys/block/$disk/size") sectors"
	ok "scsi_debug creates a disk in /sys/block"
else
	diag "no sd* with model scsi_debug:" "$(ls /sys/block 2>&1)"
	not_ok "scsi_debug creates a disk in /sys/block"
fi

if [ -z "${disk:-}" ]; then
	skip "scsi_debug disk reads" "no disk"
elif wait_for 5 test -b "/dev/$disk" &&
	[ "$(dd if="/dev/$disk" bs=4096 count=4 2>/dev/null | wc -c)" -eq 16384 ]; then
	ok "scsi_debug disk reads"
else
	diag "reading 16 KiB from /dev/$disk failed"
	not_ok "scsi_debug disk reads"
fi

if ! module_loaded scsi_debug; then
	skip "scsi_debug unloads cleanly" "not loaded"
elif ! out=$(unload_module scsi_debug 2>&1); then
	diag "$out"
	not_ok "scsi_debug unloads cleanly"
elif module_loaded scsi_debug || { [ -n "${disk:-}" ] && [ -e "/sys/block/$disk" ]; }; then
	diag "scsi_debug or its disk ${disk:-} is still there after rmmod"
	not_ok "scsi_debug unloads cleanly"
elif bad=$(dmesg_bad_since "$mark" scsi_debug) && [ -n "$bad" ]; then
	diag "kernel log:" "$bad"
	not_ok "scsi_debug unloads cleanly"
else
	ok "scsi_debug unloads cleanly"
fi

if load_unload_cycles scsi_debug 3; then
	ok "scsi_debug survives 3 load/unload cycles"
else
	not_ok "scsi_debug survives 3 load/unload cycles"
fi

# A veth pair stands in for the synthetic NIC and its VF.
ifindex_name() {
	for _n in /sys/class/net/*; do
		[ "$(cat "$_n/ifindex")" = "$1" ] && echo "${_n##*/}" && return 0
	done
	return 1
}
veth_pair() {
	if ! load_module veth && ! module_loaded veth && ! module_builtin veth; then
		echo "veth did not load"
		return 1
	fi
	ip link add azlt0 type veth peer name azlt1 || return 1
	# busybox ip ignores the peer's name: find the peer through iflink.
	_r=0
	if ! _peer=$(ifindex_name "$(cat /sys/class/net/azlt0/iflink)") || [ "$_peer" = azlt0 ]; then
		echo "azlt0 has no peer (iflink $(cat /sys/class/net/azlt0/iflink))"
		_r=1
	elif [ "$(cat "/sys/class/net/$_peer/iflink")" != "$(cat /sys/class/net/azlt0/ifindex)" ]; then
		echo "$_peer does not point back at azlt0"
		_r=1
	fi
	ip link set azlt0 up || _r=1
	[ -z "$_peer" ] || ip link set "$_peer" up || _r=1
	ip link del azlt0 || _r=1
	if [ -n "$_peer" ] && [ -e "/sys/class/net/$_peer" ]; then
		echo "$_peer outlived azlt0"
		_r=1
	fi
	return $_r
}
check "veth makes a NIC pair" veth_pair

# The agent and the shared libraries copied with it work in this guest.  Not
# a Hyper-V guest under QEMU without enlightenments: exit status 2 is fine.
if [ -z "${AZL_AGENT:-}" ]; then
	skip "azl-agent status --json runs" "no azl-agent (build it first)"
else
	json=$("$AZL_AGENT" status --json 2>/dev/null)
	rc=$?
	flat=$(printf '%s' "$json" | tr -d ' \n\t')
	if [ "$rc" -le 2 ] && printf '%s' "$flat" | grep -qF "\"kernel\":\"$release\""; then
		diag "exit status $rc"
		ok "azl-agent status --json runs"
	else
		diag "exit status $rc" "$(printf '%s\n' "$json" | head -n 20)"
		not_ok "azl-agent status --json runs"
	fi
fi

done_testing
