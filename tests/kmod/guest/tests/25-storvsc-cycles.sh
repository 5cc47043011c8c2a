#!/bin/sh
# azl_storvsc loaded and unloaded 100 times while scsi_debug disks (its
# stand-in for storvsc disks) are present: each load tunes them, each
# unload leaves a clean kernel log.  Its own suite for its own time budget.
. "$AZL_GUEST_DIR/ktap.sh"
. "$AZL_GUEST_DIR/kmod.sh"

plan 2

cleanup() { rmmod azl_storvsc 2>/dev/null; rmmod scsi_debug 2>/dev/null; }
trap cleanup EXIT

if ! modprobe scsi_debug add_host=2 num_tgts=1 max_luns=2 dev_size_mb=1 >/dev/null 2>&1; then
	skip "100 load/unload cycles with disks present" "scsi_debug is not available in this kernel"
	skip "last load tuned the disks" "scsi_debug is not available in this kernel"
	done_testing
	exit
fi
sleep 0.5
check "100 load/unload cycles with disks present" \
	load_unload_cycles azl_storvsc 100 match_host=scsi_debug timeout=41

tuned_on_load() {
	load_module azl_storvsc match_host=scsi_debug timeout=42 || return 1
	for d in /sys/bus/scsi/devices/*:*:*:*; do
		[ -f "$d/timeout" ] || continue
		[ "$(cat "$d/timeout")" = 42 ] || { echo "${d##*/}: timeout $(cat "$d/timeout")"; return 1; }
	done
}
check "a load tunes the disks already present" tuned_on_load

done_testing
