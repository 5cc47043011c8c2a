#!/bin/sh
# azl_netvsc loaded and unloaded many times while veth pairs (its stand-in
# for synthetic NICs) are created and deleted, parameters are written and
# the agent dumps and changes the policy: each load finds the NICs there,
# each unload leaves a clean kernel log.  Its own suite for its own time
# budget.
. "$AZL_GUEST_DIR/ktap.sh"
. "$AZL_GUEST_DIR/kmod.sh"

plan 4

AGENT=${AZL_AGENT:-}
TOOL=${AZL_NETVSC_TOOL:-netvsc_tool}
stop=$(mktemp -u)	# the background loops end when this file exists

cleanup() {
	: >"$stop"
	sleep 0.5
	rm -f "$stop"
	for i in azlc0 azlc2; do ip link del "$i" 2>/dev/null; done
	rmmod azl_netvsc 2>/dev/null
}
trap cleanup EXIT

skip_all() {
	skip "30 load/unload cycles while NICs come and go" "$1"
	skip "20 load/unload cycles under concurrent dumps and policy changes" "$1"
	skip "a load tunes the NICs already present" "$1"
	skip "kernel log clean after the churn" "$1"
	done_testing
	exit
}
[ -n "$AGENT" ] || skip_all "azl-agent was not built (make)"
command -v "$TOOL" >/dev/null || skip_all "netvsc_tool was not built (make check)"
module_loaded azl_netvsc && skip_all "azl_netvsc is loaded already; the suite needs its own parameters"
if ! load_module veth >/dev/null 2>&1 && ! module_loaded veth && ! module_builtin veth; then
	skip_all "veth is not available in this kernel"
fi

T=$(tr ',' '\n' </sys/devices/system/cpu/online |
	awk -F- '{ e = NF > 1 ? $2 : $1; n += e - $1 + 1 } END { print n }')
CH=$((T < 8 ? T : 8))
QUEUES=$((CH + 2))
mark=$(dmesg_mark)

# stop_loops: end the background loops and wait for them.
stop_loops() {
	: >"$stop"
	wait
	rm -f "$stop"
}

churn() {
	(while [ ! -e "$stop" ]; do
		"$TOOL" veth azlc0 azlc1 $QUEUES 2>/dev/null
		ip link set azlc0 up 2>/dev/null
		ip link del azlc0 2>/dev/null
	done) &
	(_x=1; while [ ! -e "$stop" ]; do	# xps on and off (off by default)
		{ echo $_x >/sys/module/azl_netvsc/parameters/xps; } 2>/dev/null
		_x=$((1 - _x))
		sleep 0.05
	done) &
	load_unload_cycles azl_netvsc 30 match_driver=veth channels=$CH
	_rc=$?
	stop_loops
	return $_rc
}
check "30 load/unload cycles while NICs come and go" churn

# A dump holds the module, so an unload can be refused while one runs
# (EAGAIN): retry it.  A SET_POLICY that races the unload must not queue
# work after the module stopped it.
netlink_churn() {
	"$TOOL" veth azlc0 azlc1 $QUEUES || return 1
	(while [ ! -e "$stop" ]; do "$AGENT" netvsc show >/dev/null 2>&1; done) &
	(while [ ! -e "$stop" ]; do "$AGENT" netvsc set --xps on --channels $CH >/dev/null 2>&1; done) &
	_i=1 _rc=0
	while [ $_i -le 20 ] && [ $_rc -eq 0 ]; do
		load_module azl_netvsc match_driver=veth channels=$CH || { echo "cycle $_i: load"; _rc=1; }
		_n=0
		until rmmod azl_netvsc 2>/dev/null; do
			_n=$((_n + 1))
			[ $_n -lt 200 ] || { echo "cycle $_i: unload refused 200 times"; _rc=1; break; }
			sleep 0.05
		done
		_i=$((_i + 1))
	done
	stop_loops
	ip link del azlc0
	return $_rc
}
check "20 load/unload cycles under concurrent dumps and policy changes" netlink_churn

tuned_on_load() {
	"$TOOL" veth azlc2 azlc3 $QUEUES || return 1
	load_module azl_netvsc match_driver=veth channels=$CH || return 1
	_i=0
	while [ $_i -lt 50 ]; do
		case "$("$TOOL" channels azlc2)" in "rx=$CH tx=$CH "*) break ;; esac
		sleep 0.1
		_i=$((_i + 1))
	done
	"$TOOL" channels azlc2
	"$TOOL" channels azlc3 | grep -q "^rx=$CH tx=$CH " || return 1
	"$TOOL" channels azlc2 | grep -q "^rx=$CH tx=$CH " && rmmod azl_netvsc
}
check "a load tunes the NICs already present" tuned_on_load

log_clean() {
	_bad=$(dmesg_bad_since "$mark" azl_netvsc)
	[ -z "$_bad" ] || { echo "$_bad"; return 1; }
}
check "kernel log clean after the churn" log_clean

done_testing
