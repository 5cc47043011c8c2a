#!/bin/sh
# azl_vmbus.  It needs a VMBus: a Hyper-V guest (run-on-host) or QEMU under
# KVM with the Hyper-V enlightenments and a vmbus-bridge (kvm-hyperv).
# Elsewhere hv_vmbus refuses to load and every test here says SKIP with the
# reason hv_vmbus gave.
. "$AZL_GUEST_DIR/ktap.sh"
. "$AZL_GUEST_DIR/kmod.sh"

N=7
plan $N
AGENT=${AZL_AGENT:-}
ABUSE=${AZL_GENL_ABUSE:-genl_abuse}

skip_all() {
	i=1
	while [ $i -le $N ]; do skip "vmbus $i" "$1"; i=$((i + 1)); done
	done_testing
	exit
}

if [ ! -d /sys/bus/vmbus ]; then
	why=$(modprobe hv_vmbus 2>&1 | tail -n 1)
	[ -d /sys/bus/vmbus ] ||
		skip_all "hv_vmbus did not load (mode=$AZL_MODE: ${why:-no VMBus, no Hyper-V SynIC})"
fi
[ -n "$AGENT" ] || skip_all "azl-agent was not built (make)"
if ! out=$(load_module azl_vmbus 2>&1); then
	skip_all "azl_vmbus did not load on this VMBus (mode=$AZL_MODE): $out"
fi

# 1. The dump lists the same channels, on the same CPUs, as sysfs.
same_as_sysfs() {
	"$AGENT" kmod channels | awk '{ sub("relid=", "", $3); sub("cpu=", "", $4); print $1, $3 ":" $4 }' |
		sort >/tmp/dump || return 1
	for d in /sys/bus/vmbus/devices/*; do
		while IFS= read -r l; do echo "${d##*/} $l"; done <"$d/channel_vp_mapping"
	done | sort >/tmp/sysfs
	[ -s /tmp/sysfs ] || { echo "sysfs shows no channels"; return 1; }
	diff /tmp/sysfs /tmp/dump
}
check "channel dump matches channel_vp_mapping of every device" same_as_sysfs

# 2. status says it used the module.
check "status reads VMBus through azl_vmbus" sh -c "\"$AGENT\" status --json | grep -q '\"source\": \"azl_vmbus\"'"

# 3. NUMA node and driver agree with sysfs.
nodes_drivers() {
	"$AGENT" kmod channels | while read -r inst _ _ _ node drv; do
		want_node=$(cat "/sys/bus/vmbus/devices/$inst/numa_node" 2>/dev/null || echo -1)
		want_drv=-
		[ -e "/sys/bus/vmbus/devices/$inst/driver" ] &&
			want_drv=$(basename "$(readlink "/sys/bus/vmbus/devices/$inst/driver")")
		[ "$node" = "node=$want_node" ] && [ "$drv" = "driver=$want_drv" ] ||
			{ echo "$inst: $node $drv, sysfs node=$want_node driver=$want_drv"; return 1; }
	done
}
check "NUMA node and driver match sysfs" nodes_drivers

# 4. Malformed requests are refused.
check "malformed generic netlink requests are rejected" sh -c "\"$ABUSE\" vmbus | tee /dev/stderr | grep -q '^1\\.\\.4$' && ! \"$ABUSE\" vmbus | grep -q '^not ok'"

# 5. It binds nothing: every device keeps the driver it had.
check "binds no device" sh -c '! ls /sys/bus/vmbus/drivers/azl_vmbus/ | grep -q -- -'

# 6. Event subscription works (device events need a host to add or remove one).
events_listen() {
	"$AGENT" kmod events --count 1 >/tmp/ev 2>&1 &
	pid=$!
	sleep 1
	kill "$pid" 2>/dev/null
	grep -q listening /tmp/ev
}
check "kmod events subscribes to the events group" events_listen

# 7. 100 load/unload cycles.
rmmod azl_vmbus
check "100 load/unload cycles" load_unload_cycles azl_vmbus 100

done_testing
