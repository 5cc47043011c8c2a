#!/bin/sh
# azl_accel against QEMU's stand-ins (tests/kmod/run.sh machine_args): two
# NUMA nodes; matched through test_match=: three pci-testdevs (one on the
# root bus with numa_node -1, one behind an expander bridge on node 1, "a
# node the host gave", one behind an expander bridge on node 0, as
# pci-hyperv leaves a device the host gave no affinity) and nvme; edu,
# which is not matched.  All are in PCI domain 0; the table maps domain 0
# to a node.  pci-pf-stub binds the pci-testdevs (new_id), nvme binds
# nvme: the module decides a node at BUS_NOTIFY_BIND_DRIVER, before the
# probe, which nvme records (/sys/class/nvme/*/numa_node).  The matching
# is the only part that differs from a Hyper-V guest: the node is set by
# the same code at the same moment.
#
# When run.sh booted this machine (azl.standins=1 on the kernel command
# line), a machine of another shape fails the suite; elsewhere (a real
# Hyper-V guest, run-on-host) the suite skips.
#
# Hotplug through QMP: the suite prints "AZL-QMP SEQ VERB ID END" on the
# console and run.sh's polling loop sends it to QEMU (azl.qmp=1 on the
# kernel command line says that loop is there).
AZL_GUEST_DIR=${AZL_GUEST_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$AZL_GUEST_DIR/ktap.sh"
. "$AZL_GUEST_DIR/kmod.sh"

N=32
plan $N

AGENT=${AZL_AGENT:-}
ABUSE=${AZL_GENL_ABUSE:-genl_abuse}
LISTEN=${AZL_ACCEL_LISTEN:-accel_listen}
DEVS=/sys/bus/pci/devices
TD0=0000:00:10.0	# pci-testdev, root bus: numa_node -1
EDU=0000:00:11.0	# edu: not matched
NVME=0000:00:12.0	# nvme: the driver binds
TD1=0000:21:00.0	# pci-testdev behind the pxb on node 1
TD2=0000:31:00.0	# pci-testdev behind the pxb on node 0
HOT=0000:00:14.0	# the hotplug slot
MATCH=1b36:0005,1b36:0010
PARAMS=/sys/module/azl_accel/parameters
STUB=/sys/bus/pci/drivers/pci-pf-stub
SD=pci-pf-stub
tmp=$(mktemp -d)
listen_pid=

cleanup() {
	[ -z "$listen_pid" ] || kill "$listen_pid" 2>/dev/null
	rmmod azl_accel 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# skip_rest FROM REASON: tests FROM to N skip.
skip_rest() {
	_i=$1
	while [ "$_i" -le $N ]; do skip "accel $_i" "$2"; _i=$((_i + 1)); done
	done_testing
	exit
}

node_of() { cat "$DEVS/$1/numa_node"; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s.
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

present() { [ -e "$DEVS/$1" ]; }
absent() { [ ! -e "$DEVS/$1" ]; }

# row BDF: the device's line of `azl-agent accel show`:
# pci kind id class host node source driver
row() { "$AGENT" accel show | awk -v b="$1" '$1 == b'; }

# expect_row BDF HOST NODE SOURCE DRIVER: what the module reports.
expect_row() {
	_r=$(row "$1")
	# shellcheck disable=SC2086 # the row's fields
	set -- "$1" "$2" "$3" "$4" "$5" $_r
	[ "$2 $3 $4 $5" = "${10} ${11} ${12} ${13}" ] && return 0
	echo "$1: reported '$_r', want host $2 node $3 source $4 driver $5"
	return 1
}

# expect_node BDF NODE: sysfs says so.
expect_node() {
	_n=$(node_of "$1")
	[ "$_n" = "$2" ] || { echo "$1: numa_node $_n, want $2"; return 1; }
}

# Events: a listener in the background writes them to $tmp/events.
listen_start() {
	: >"$tmp/events"
	"$LISTEN" 0 60 >"$tmp/events" 2>&1 &
	listen_pid=$!
	wait_for 5 grep -q '^listening$' "$tmp/events"
}

listen_stop() {
	[ -z "$listen_pid" ] || kill "$listen_pid" 2>/dev/null
	wait "$listen_pid" 2>/dev/null
	listen_pid=
}

# expect_events LINE...: these lines arrive, in this order (others may be
# between them).
expect_events() {
	for _e in "$@"; do
		if ! wait_for 10 grep -qxF "$_e" "$tmp/events"; then
			echo "no event '$_e'; got:"
			cat "$tmp/events"
			return 1
		fi
	done
	awk -v want="$(printf '%s\n' "$@")" '
		BEGIN { n = split(want, w, "\n"); i = 1 }
		i <= n && $0 == w[i] { i++ }
		END { exit i <= n }' "$tmp/events" && return 0
	echo "events out of order; got:"
	cat "$tmp/events"
	return 1
}

remove() { echo 1 >"$DEVS/$1/remove"; }
# What Microsoft's image validation does: the whole tree.
rescan() { echo 1 >/sys/bus/pci/rescan; }
# The root bus only, for the loops: a rescan of the whole tree also logs the
# expander's bridge windows, and the kernel log (128 KiB here) is shared
# with the suites after this one, whose marks count its lines.
rescan_root() { echo 1 >/sys/class/pci_bus/0000:00/rescan; }

# nvme_node BDF: the node nvme recorded for its controller, once the
# controller is live (6.1 records it in the reset work after probe, 6.12
# in probe; both read it from the PCI device; unbinding before the reset
# work is done makes that work fail).
nvme_node() {
	for _c in /sys/class/nvme/nvme*; do
		[ "$(basename "$(readlink -f "$_c/device")")" = "$1" ] || continue
		_s=$(cat "$_c/state" 2>/dev/null)
		[ "$_s" = live ] || { echo "$_c is '$_s', not live"; return 1; }
		cat "$_c/numa_node"
		return 0
	done
	echo "no nvme controller on $1"
	return 1
}

# qmp SEQ VERB ID: ask the host (run.sh) for a hotplug.
qmp() { diag "AZL-QMP $1 $2 $3 END" >/dev/console; }

driver_of() { basename "$(readlink "$DEVS/$1/driver" 2>/dev/null)" 2>/dev/null; }
unbind() { echo "$1" >"$DEVS/$1/driver/unbind"; }
# bind BDF DRIVER
bind() { echo "$1" >"/sys/bus/pci/drivers/$2/bind"; }

# listed: the addresses `azl-agent accel show` lists, one a line.
listed() { "$AGENT" accel show | awk '$1 ~ /^[0-9a-f]+:[0-9a-f]+:[0-9a-f]+\.[0-7]$/ { print $1 }'; }

# expect_no_event PATTERN: no event line so far matches PATTERN (grep -E).
expect_no_event() {
	! grep -qE "$1" "$tmp/events" && return 0
	echo "unexpected event:"
	grep -E "$1" "$tmp/events"
	return 1
}

# ---- 1. the machine ----
[ -n "$AGENT" ] || skip_rest 1 "azl-agent was not built (make)"
command -v "$LISTEN" >/dev/null || skip_rest 1 "no $LISTEN in the guest (make check builds it)"
id_is() { [ "$(cat "$DEVS/$1/vendor" 2>/dev/null):$(cat "$DEVS/$1/device" 2>/dev/null)" = "$2" ]; }
shape() {
	[ "$(cat /sys/devices/system/node/online)" = 0-1 ] &&
		id_is "$TD0" 0x1b36:0x0005 && id_is "$TD1" 0x1b36:0x0005 && id_is "$TD2" 0x1b36:0x0005 &&
		id_is "$EDU" 0x1234:0x11e8 && [ "$(driver_of "$NVME")" = nvme ] &&
		[ "$(node_of "$TD0")" = -1 ] && [ "$(node_of "$TD1")" = 1 ] &&
		[ "$(node_of "$TD2")" = 0 ] && [ "$(node_of "$EDU")" = -1 ] &&
		[ -z "$(driver_of "$TD0")$(driver_of "$TD1")$(driver_of "$TD2")" ] &&
		modprobe pci_pf_stub 2>/dev/null && [ -e "$STUB/new_id" ]
}
if ! shape; then
	diag "nodes online: $(cat /sys/devices/system/node/online 2>&1)" "$(ls "$DEVS")" \
		"pci-pf-stub: $(ls "$STUB" 2>&1 | tr '\n' ' ')"
	if grep -q 'azl\.standins=1' /proc/cmdline; then
		not_ok "QEMU stand-ins: 2 nodes, testdevs on -1, 1 and 0, edu, nvme bound, pci-pf-stub"
		skip_rest 2 "run.sh's machine is not as tests/kmod/README.md describes it"
	fi
	skip_rest 1 "not tests/kmod/run.sh's machine (no QEMU stand-ins for azl_accel)"
fi
ok "QEMU stand-ins: 2 nodes, testdevs on -1, 1 and 0, edu, nvme bound, pci-pf-stub"
mark=$(dmesg_mark)

# ---- 2. junk parameters ----
junk_at_load() {
	for _p in nodes=x nodes=0 nodes=0: nodes=:1 "nodes=0:1," "nodes=,0:1" nodes=0:1x \
		nodes=0:1:2 nodes=10000:0 nodes=0:2 nodes=0:-1 "nodes=0:1,0:0" nodes=g:1 \
		test_match=zz test_match=1b36 "test_match=1b36:0005," test_match=1b36:10000 \
		"test_match=1:1,1:2,1:3,1:4,1:5,1:6,1:7,1:8,1:9" zero_is_unset=x zero_is_unset=2; do
		if load_module azl_accel "$_p" 2>/dev/null || module_loaded azl_accel; then
			echo "azl_accel loaded with $_p"
			rmmod azl_accel
			return 1
		fi
	done
}
check "junk in nodes=, test_match= and zero_is_unset= refused at load" junk_at_load

# ---- 3-6. load: the devices present ----
loaded() {
	load_module azl_accel "test_match=$MATCH" nodes=0:0 || return 1
	[ "$(cat "$PARAMS/zero_is_unset")" = Y ] || { echo "zero_is_unset: $(cat "$PARAMS/zero_is_unset")"; return 1; }
}
check "loads with test_match= and nodes=0:0; zero_is_unset defaults to Y" loaded
diag "$("$AGENT" accel show 2>&1)"
at_load() {
	expect_node "$TD0" -1 && expect_node "$TD1" 1 && expect_node "$TD2" 0 &&
		expect_row "$TD0" -1 -1 pending - && expect_row "$TD1" 1 1 pending - &&
		expect_row "$TD2" 0 0 pending -
}
check "at load, devices without a driver are pending and unchanged" at_load
unmatched() {
	expect_node "$EDU" -1 || return 1
	[ -z "$(row "$EDU")" ] || { echo "edu is listed: $(row "$EDU")"; return 1; }
}
check "a device not matched keeps -1 and is not listed" unmatched
bound_at_load() { expect_node "$NVME" -1 && expect_row "$NVME" -1 -1 late nvme; }
check "a device bound before load is not changed (late)" bound_at_load

# ---- 7-9. drivers bind: the node is decided before the probe ----
listen_start
stub_binds() {
	echo "1b36 0005" >"$STUB/new_id" || return 1
	wait_for 10 sh -c "[ \"\$(basename \"\$(readlink $DEVS/$TD2/driver)\")\" = $SD ]" || return 1
	expect_events "accel node-set $TD0 test node -1->0 table" \
		"accel bound $TD0 test node -1->0 table driver $SD" &&
		expect_node "$TD0" 0 && expect_row "$TD0" -1 0 table "$SD"
}
check "a bind gives the table's node first: node-set, then bound (pci-pf-stub)" stub_binds
host_given() {
	expect_events "accel bound $TD1 test node 1->1 host driver $SD" &&
		expect_no_event "node-set $TD1" && expect_node "$TD1" 1 && expect_row "$TD1" 1 1 host "$SD"
}
check "a node the host gave stays at bind (table says 0, device keeps 1)" host_given
zero_same() {
	expect_events "accel bound $TD2 test node 0->0 host driver $SD" &&
		expect_no_event "node-set $TD2" && expect_row "$TD2" 0 0 host "$SD"
}
check "numa_node 0 and a table that says 0: host, unchanged" zero_same
listen_stop

# ---- 10. runtime writes of the parameters ----
param_junk() {
	[ "$(cat "$PARAMS/nodes")" = 0000:0 ] || { echo "nodes reads '$(cat "$PARAMS/nodes")'"; return 1; }
	for _v in x "0:1," 0:9 10000:1 "0:1,0:0" "0:1 "; do
		if printf '%s' "$_v" >"$PARAMS/nodes" 2>/dev/null; then
			echo "nodes accepted '$_v'"
			return 1
		fi
	done
	# Only one trailing newline is forgiven, none inside.  (One write: a
	# shell's printf may write up to the newline first.)
	printf '0:1\n,1:0' >"$tmp/value"
	if dd if="$tmp/value" of="$PARAMS/nodes" bs=64 count=1 2>/dev/null; then
		echo "nodes accepted a newline inside"
		return 1
	fi
	[ "$(cat "$PARAMS/nodes")" = 0000:0 ] || { echo "table changed: $(cat "$PARAMS/nodes")"; return 1; }
	for _v in x 2 " "; do
		if printf '%s' "$_v" >"$PARAMS/zero_is_unset" 2>/dev/null; then
			echo "zero_is_unset accepted '$_v'"
			return 1
		fi
	done
	[ "$(cat "$PARAMS/zero_is_unset")" = Y ] || return 1
	# test_match is fixed at load.
	! echo 1:1 >"$PARAMS/test_match" 2>/dev/null
}
check "junk written to nodes and zero_is_unset is refused; the table stays" param_junk

# ---- 11-13. a new table, and zero_is_unset ----
set_late() {
	out=$("$AGENT" accel set --node 0:1) || return 1
	[ "$out" = "table of 1 entry; 0 devices without a driver change node at the next bind" ] ||
		{ echo "$out"; return 1; }
	[ "$(cat "$PARAMS/nodes")" = 0000:1 ] && expect_node "$TD0" 0 && expect_node "$TD2" 0 &&
		expect_node "$NVME" -1 && expect_row "$TD0" -1 0 late "$SD" && expect_row "$TD1" 1 1 host "$SD" &&
		expect_row "$TD2" 0 0 late "$SD" && expect_row "$NVME" -1 -1 late nvme
}
check "accel set --node 0:1: bound devices it would change are late, unchanged" set_late

listen_start
zero_table() {
	unbind "$TD2" && expect_row "$TD2" 0 0 pending - && bind "$TD2" "$SD" || return 1
	expect_events "accel unbound $TD2 test node 0->0 pending" \
		"accel node-set $TD2 test node 0->1 table" "accel bound $TD2 test node 0->1 table driver $SD" &&
		expect_node "$TD2" 1 && expect_row "$TD2" 0 1 table "$SD" || return 1
	dmesg_since "$mark" | grep -qF "$SD $TD2: numa_node 0 (pci-hyperv's default when the host gives none) -> 1 from the SKU table (domain 0000)" ||
		{ echo "no log line for the change from 0"; return 1; }
}
check "zero_is_unset=Y: numa_node 0 becomes the table's 1 at the next bind (host 0, table)" zero_table
zero_off() {
	echo 0 >"$PARAMS/zero_is_unset" && [ "$(cat "$PARAMS/zero_is_unset")" = N ] || return 1
	expect_row "$TD2" 0 1 late "$SD" || return 1
	unbind "$TD2" && bind "$TD2" "$SD" || return 1
	expect_events "accel node-set $TD2 test node 0->0 host" "accel bound $TD2 test node 0->0 host driver $SD" &&
		expect_node "$TD2" 0 && expect_row "$TD2" 0 0 host "$SD" || return 1
	dmesg_since "$mark" | grep -qF "$SD $TD2: numa_node 1 -> 0, the host's: the SKU table no longer applies (domain 0000)" ||
		{ echo "no log line for the change back"; return 1; }
	# Back to the default, and to the table's node for what follows.
	echo 1 >"$PARAMS/zero_is_unset" && expect_row "$TD2" 0 0 late "$SD" &&
		unbind "$TD2" && bind "$TD2" "$SD" && expect_node "$TD2" 1
}
check "zero_is_unset=N: late while bound, the host's 0 again at the next bind" zero_off
listen_stop

# ---- 14-17. sysfs remove and rescan: the node is set before nvme probes ----
listen_start
sysfs_remove() {
	remove "$NVME" && remove "$TD0" && wait_for 10 absent "$NVME" && wait_for 10 absent "$TD0" || return 1
	expect_events "accel unbound $NVME test node -1->-1 pending" "accel remove $NVME test node -1->-1 pending" \
		"accel unbound $TD0 test node -1->0 pending" "accel remove $TD0 test node -1->0 pending"
}
check "sysfs remove: unbound and remove events" sysfs_remove
sysfs_rescan() {
	rescan && wait_for 10 present "$TD0" && wait_for 10 present "$NVME" || return 1
	expect_events "accel add $TD0 test node -1->-1 pending" "accel node-set $TD0 test node -1->1 table" \
		"accel bound $TD0 test node -1->1 table driver $SD" && expect_node "$TD0" 1
}
check "sysfs rescan: added pending, the table's node at bind" sysfs_rescan
order() {
	expect_events "accel add $NVME test node -1->-1 pending" "accel node-set $NVME test node -1->1 table" \
		"accel bound $NVME test node -1->1 table driver nvme"
}
check "nvme: DEV_ADD, then NODE_SET, then DEV_BOUND" order
nvme_probed() {
	wait_for 10 nvme_node "$NVME" >/dev/null || return 1
	n=$(nvme_node "$NVME")
	[ "$n" = 1 ] || { echo "nvme recorded numa_node $n at probe, want 1"; return 1; }
	expect_row "$NVME" -1 1 table nvme
}
check "nvme probed with the table's node (/sys/class/nvme/*/numa_node)" nvme_probed
listen_stop

# ---- 18-20. a table that changes later ----
listen_start
cleared() {
	out=$("$AGENT" accel set --clear) || return 1
	[ "$out" = "table of 0 entries; 0 devices without a driver change node at the next bind" ] ||
		{ echo "$out"; return 1; }
	expect_row "$NVME" -1 1 late nvme && expect_row "$TD0" -1 1 late "$SD" &&
		expect_row "$TD2" 0 1 late "$SD" && expect_node "$NVME" 1 && [ "$(nvme_node "$NVME")" = 1 ]
}
check "a table cleared later: bound devices it set are late, unchanged" cleared
rebind_none() {
	unbind "$NVME" && expect_row "$NVME" -1 1 pending - && bind "$NVME" nvme &&
		wait_for 10 nvme_node "$NVME" >/dev/null || return 1
	expect_events "accel unbound $NVME test node -1->1 pending" "accel node-set $NVME test node -1->-1 none" \
		"accel bound $NVME test node -1->-1 none driver nvme" && expect_row "$NVME" -1 -1 none nvme || return 1
	[ "$(nvme_node "$NVME")" = -1 ] || { echo "nvme probed with $(nvme_node "$NVME")"; return 1; }
	dmesg_since "$mark" | grep -qF "nvme $NVME: numa_node 1 -> -1, the host's: the SKU table no longer applies (domain 0000)" ||
		{ echo "no log line for the change back"; return 1; }
}
check "... the next bind puts the host's -1 back before nvme probes" rebind_none
later_unbound() {
	unbind "$NVME" && expect_row "$NVME" -1 -1 none - || return 1
	out=$("$AGENT" accel set --node 0:1) || return 1
	[ "$out" = "table of 1 entry; 1 device without a driver changes node at the next bind" ] ||
		{ echo "$out"; return 1; }
	expect_row "$NVME" -1 -1 pending - && expect_node "$NVME" -1 && expect_row "$TD0" -1 1 table "$SD" &&
		bind "$NVME" nvme && wait_for 10 nvme_node "$NVME" >/dev/null || return 1
	expect_events "accel node-set $NVME test node -1->1 table" "accel bound $NVME test node -1->1 table driver nvme" &&
		expect_row "$NVME" -1 1 table nvme && [ "$(nvme_node "$NVME")" = 1 ]
}
check "a table set while nvme has no driver: counted, pending, applied before its probe" later_unbound
listen_stop

# ---- 21-24. hotplug through QMP ----
if grep -q 'azl\.qmp=1' /proc/cmdline; then
	listen_start
	qmp_del() {
		qmp 1 device_del azl-td0
		wait_for 30 absent "$TD0" || { echo "$TD0 still there after 30 s"; return 1; }
		expect_events "accel remove $TD0 test node -1->1 table"
	}
	check "QMP device_del: remove event" qmp_del
	qmp_add() {
		qmp 2 device_add azl-td0
		wait_for 30 present "$TD0" || { echo "$TD0 not there after 30 s"; return 1; }
		expect_events "accel add $TD0 test node -1->-1 pending" "accel node-set $TD0 test node -1->1 table" \
			"accel bound $TD0 test node -1->1 table driver $SD" && expect_node "$TD0" 1
	}
	check "QMP device_add: added pending, the table's node at bind" qmp_add
	qmp_hot() {
		qmp 3 device_add azl-hot
		wait_for 30 present "$HOT" || { echo "$HOT not there after 30 s"; return 1; }
		expect_events "accel add $HOT test node -1->-1 pending" "accel node-set $HOT test node -1->1 table" \
			"accel bound $HOT test node -1->1 table driver $SD" && expect_node "$HOT" 1
	}
	check "QMP device_add in a new slot: the table's node at bind" qmp_hot
	qmp_hot_del() {
		qmp 4 device_del azl-hot
		wait_for 30 absent "$HOT" || { echo "$HOT still there after 30 s"; return 1; }
		expect_events "accel remove $HOT test node -1->1 table" &&
			[ -z "$(row "$HOT")" ]
	}
	check "QMP device_del of the new device: remove event, gone from the list" qmp_hot_del
	listen_stop
else
	for t in "QMP device_del: remove event" "QMP device_add: added pending, the table's node at bind" \
		"QMP device_add in a new slot: the table's node at bind" \
		"QMP device_del of the new device: remove event, gone from the list"; do
		skip "$t" "no QMP: azl.qmp=1 is not on the kernel command line (only tests/kmod/run.sh offers it)"
	done
fi

# ---- 25. churn ----
churn() {
	(while :; do "$AGENT" accel show >/dev/null 2>&1; done) &
	dumper=$!
	(while :; do "$AGENT" accel set --node 0:1 >/dev/null 2>&1; cat "$PARAMS/nodes" >/dev/null; done) &
	setter=$!
	rc=0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		remove "$TD0" && wait_for 10 absent "$TD0" && rescan_root && wait_for 10 present "$TD0" &&
			wait_for 10 sh -c "[ \"\$(cat $DEVS/$TD0/numa_node)\" = 1 ]" || { echo "round $i"; rc=1; break; }
	done
	kill "$dumper" "$setter"
	wait "$dumper" "$setter" 2>/dev/null
	[ "$rc" = 0 ] && expect_row "$TD0" -1 1 table "$SD"
}
check "10 rounds of remove and rescan under concurrent dumps and table changes" churn

# ---- 26-28. the agent and malformed requests ----
abuse() {
	out=$("$ABUSE" accel 2>&1)
	rc=$?
	echo "$out"
	[ $rc -eq 0 ] && echo "$out" | grep -q '^1\.\.20$' && ! echo "$out" | grep -q '^not ok' &&
		[ "$(cat "$PARAMS/nodes")" = 0000:1 ]
}
check "genl_abuse accel: malformed and unprivileged requests refused, table unchanged" abuse
refusals() {
	err=$("$AGENT" accel set --node 0:5 2>&1)
	[ $? -eq 1 ] && echo "$err" | grep -q "not online" || { echo "$err"; return 1; }
	err=$("$AGENT" accel set --sku 2>&1)
	[ $? -eq 1 ] && echo "$err" | grep -q "has no PCI domain table" || { echo "$err"; return 1; }
	[ "$(cat "$PARAMS/nodes")" = 0000:1 ]
}
check "accel set: the kernel's refusal and a size without a table reach the user" refusals
json() {
	out=$("$AGENT" accel show --json) || return 1
	echo "$out" | grep -q '"pci": *"0000:00:10.0"' &&
		echo "$out" | grep -q '"source": *"host"' &&
		echo "$out" | grep -q '"node": *1' || { echo "$out"; return 1; }
}
check "accel show --json" json

# ---- 29-30. load and unload ----
unload_keeps() {
	rmmod azl_accel && expect_node "$TD0" 1 && expect_node "$TD2" 1 && ! module_loaded azl_accel
}
check "unloads; devices keep their nodes" unload_keeps
# Each cycle loads while $TD0 is removed and rescanned: the walk at load
# must not track a device whose removal it missed (it would be listed
# twice once the device is back, or while it is gone).
one_cycle() {
	(while :; do remove "$TD0" 2>/dev/null; rescan_root; done) &
	churner=$!
	_m=$(dmesg_mark)
	load_module azl_accel "test_match=$MATCH" nodes=0:1
	_rc=$?
	sleep 0.3
	kill "$churner"
	wait "$churner" 2>/dev/null
	rescan_root
	[ $_rc -eq 0 ] || { echo "cycle $1: loading failed"; return 1; }
	[ "$(module_state azl_accel)" = Live ] || { echo "cycle $1: not Live"; return 1; }
	wait_for 10 present "$TD0" || { echo "cycle $1: $TD0 did not come back"; return 1; }
	_l=$(listed)
	_d=$(echo "$_l" | sort | uniq -d)
	[ -z "$_d" ] || { echo "cycle $1: listed twice: $_d"; echo "$_l"; return 1; }
	for _b in $_l; do
		present "$_b" || { echo "cycle $1: $_b is listed but not present"; return 1; }
	done
	for _b in "$TD0" "$TD1" "$TD2" "$NVME"; do
		echo "$_l" | grep -qxF "$_b" || { echo "cycle $1: $_b is not listed"; echo "$_l"; return 1; }
	done
	rmmod azl_accel && ! module_loaded azl_accel || { echo "cycle $1: unload"; return 1; }
	_bad=$(dmesg_bad_since "$_m" azl_accel)
	[ -z "$_bad" ] || { echo "cycle $1: kernel log:"; echo "$_bad"; return 1; }
}
cycles() {
	for _c in 1 2 3 4 5 6 7 8; do one_cycle "$_c" || return 1; done
}
check "8 load and unload cycles while a device is removed and rescanned: each device listed once" cycles

# ---- 31-32. what it leaves behind ----
deps_ok() {
	if ko=$(ko_path azl_accel); then
		info=$(tr '\000' '\n' <"$ko")
		name=$(echo "$info" | sed -n 's/^name=//p')
		echo "$info" | grep -q '^depends=' || { echo "$ko: no depends= in .modinfo"; return 1; }
		deps=$(echo "$info" | sed -n 's/^depends=//p')
	else
		name=$(modinfo -F name azl_accel 2>/dev/null)
		deps=$(modinfo -F depends azl_accel 2>/dev/null)
	fi
	[ "$name" = azl_accel ] || { echo "azl_accel's .modinfo was not found (name '$name')"; return 1; }
	echo "depends=$deps"
	[ -z "$deps" ]
}
check "no dependency on pci-hyperv, hv_vmbus or any other module" deps_ok
log_clean() {
	bad=$(dmesg_bad_since "$mark" azl_accel)
	[ -z "$bad" ] || { echo "$bad"; return 1; }
	dmesg_since "$mark" | grep -qF "nvme $NVME: numa_node -1 -> 1 from the SKU table (domain 0000)" ||
		{ echo "no log line for the nvme change"; return 1; }
	# TAINT_FIRMWARE_WORKAROUND (bit 11) is what the sysfs override sets.
	t=$(cat /proc/sys/kernel/tainted)
	[ $((t & 2048)) -eq 0 ] || { echo "tainted $t"; return 1; }
}
check "kernel log clean, every change logged, no firmware-workaround taint" log_clean

done_testing
