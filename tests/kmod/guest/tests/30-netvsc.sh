#!/bin/sh
# azl_netvsc against stand-ins: veth pairs (match_driver=veth) for synthetic
# NICs, then a bridge (match_driver=bridge) with an enslaved veth for a NIC
# and its VF.  The tuning path is the real one (ethtool operations from the
# module's work item, XPS maps); only the match differs.  The channel count
# used is min(T,8), which image validation accepts on every VM.  xps is off
# by default (hv_netvsc never reads XPS); the veth stand-in honours it, so
# the suite turns it on.
. "$AZL_GUEST_DIR/ktap.sh"
. "$AZL_GUEST_DIR/kmod.sh"

NTESTS=23
plan $NTESTS

AGENT=${AZL_AGENT:-}
ABUSE=${AZL_GENL_ABUSE:-genl_abuse}
TOOL=${AZL_NETVSC_TOOL:-netvsc_tool}
PARAMS=/sys/module/azl_netvsc/parameters
tmp=$(mktemp -d)
events_pid=

cleanup() {
	[ -z "$events_pid" ] || kill "$events_pid" 2>/dev/null
	for i in azlv0 azlv2 azlv4 azlbr0; do ip link del "$i" 2>/dev/null; done
	rmmod azl_netvsc 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

skip_all() {
	i=1
	while [ $i -le $NTESTS ]; do skip "netvsc $i" "$1"; i=$((i + 1)); done
	done_testing
	exit
}
[ -n "$AGENT" ] || skip_all "azl-agent was not built (make)"
command -v "$TOOL" >/dev/null || skip_all "netvsc_tool was not built (make check)"
command -v "$ABUSE" >/dev/null || skip_all "genl_abuse was not built (make check)"
module_loaded azl_netvsc && skip_all "azl_netvsc is loaded already; the suite needs its own parameters"
if ! load_module veth >/dev/null 2>&1 && ! module_loaded veth && ! module_builtin veth; then
	skip_all "veth is not available in this kernel"
fi

# online_cpus: the online CPUs, in order, one a line.
online_cpus() {
	tr ',' '\n' </sys/devices/system/cpu/online |
		awk -F- '{ e = NF > 1 ? $2 : $1; for (c = $1; c <= e; c++) print c }'
}
T=$(online_cpus | wc -l)
CH=$((T < 8 ? T : 8))	# min(T,8): allowed on every VM
QUEUES=$((CH + 2))

# dev_field NAME N: column N of NAME's line in `netvsc show` (2 kind, 3 master,
# 4 node, 5 channels, 6 rings, 7 results, 8 applications); empty if not shown.
dev_field() {
	"$AGENT" netvsc show 2>/dev/null | awk -v n="$1" -v f="$2" '$1 == n && NF == 8 { print $f }'
}

# wait_applied NAME N: the module applied its policy to NAME at least N times.
wait_applied() {
	_i=0
	while [ $_i -lt 50 ]; do
		_a=$(dev_field "$1" 8)
		[ -n "$_a" ] && [ "$_a" -ge "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "$1: applied ${_a:-never}, want $2 or more"
	"$AGENT" netvsc show
	return 1
}

# has_channels IFACE N: rx and tx channel counts are N (veth's shape).
has_channels() {
	_c=$("$TOOL" channels "$1") || return 1
	case "$_c" in "rx=$2 tx=$2 "*) return 0 ;; esac
	echo "$1: $_c, want rx=$2 tx=$2"
	return 1
}

# xps_list IFACE Q: the CPUs in tx-Q's XPS map, comma-separated (empty: none).
xps_list() {
	tr -d ',\n' <"/sys/class/net/$1/queues/tx-$2/xps_cpus" | awk '{
		s = tolower($0); n = length(s); out = ""
		for (i = n; i >= 1; i--) {
			d = index("0123456789abcdef", substr(s, i, 1)) - 1
			p = 1
			for (b = 0; b < 4; b++) {
				if (int(d / p) % 2)
					out = out (out == "" ? "" : ",") ((n - i) * 4 + b)
				p *= 2
			}
		}
		print out
	}'
}

# rr_list Q NQ: the CPUs queue Q of NQ gets round robin over the online CPUs
# (each CPU in one queue; fewer CPUs than queues: queues share).
rr_list() {
	online_cpus | awk -v q="$1" -v nq="$2" '{ c[NR - 1] = $1 } END {
		out = ""
		for (j = 0; j < NR; j++)
			if (NR >= nq ? j % nq == q : j == q % NR)
				out = out (out == "" ? "" : ",") c[j]
		print out
	}'
}

# xps_ok IFACE NQ: tx-0 .. tx-(NQ-1) have the round-robin maps.
xps_ok() {
	_q=0 _r=0
	while [ $_q -lt "$2" ]; do
		_got=$(xps_list "$1" $_q)
		_want=$(rr_list $_q "$2")
		[ "$_got" = "$_want" ] || { echo "$1 tx-$_q: xps {$_got}, want {$_want}"; _r=1; }
		_q=$((_q + 1))
	done
	return $_r
}

# xps_clear IFACE: no XPS map on any transmit queue.
xps_clear() {
	for _x in /sys/class/net/"$1"/queues/tx-*/xps_cpus; do echo 0 >"$_x" || return 1; done
}

# listen COUNT: collect COUNT events in $tmp/events (in the background).
listen() {
	: >"$tmp/events"
	"$TOOL" events "$1" 10 >"$tmp/events" 2>&1 &
	events_pid=$!
	_i=0
	while [ $_i -lt 50 ] && ! grep -q listening "$tmp/events"; do sleep 0.1; _i=$((_i + 1)); done
}

# heard: wait (10 s at most) for the listener, which exits once it has its
# COUNT events.  Checks run in subshells, where `wait` cannot reach it.
heard() {
	_i=0
	while [ $_i -lt 100 ] && kill -0 "$events_pid" 2>/dev/null; do sleep 0.1; _i=$((_i + 1)); done
	if kill -0 "$events_pid" 2>/dev/null; then
		kill "$events_pid"
		echo "the listener stopped short:"
		cat "$tmp/events"
		return 1
	fi
}

# ---- synthetic NICs: veth ----

mark=$(dmesg_mark)
check "azl_netvsc loads with match_driver=veth channels=$CH xps=1" \
	load_module azl_netvsc match_driver=veth channels=$CH xps=1

listen 4
created() {
	"$TOOL" veth azlv0 azlv1 $QUEUES || return 1
	wait_applied azlv0 1 && wait_applied azlv1 1 || return 1
	has_channels azlv0 $CH && has_channels azlv1 $CH || return 1
	_n=$(ls -d /sys/class/net/azlv0/queues/tx-* | wc -l)
	[ "$_n" -eq $CH ] || { echo "azlv0 has $_n transmit queues"; return 1; }
}
check "a veth pair with $QUEUES queues gets $CH channels at creation" created

xps_both() { xps_ok azlv0 $CH && xps_ok azlv1 $CH; }
check "each transmit queue's XPS map: round robin over the online CPUs" xps_both

shown() {
	[ "$(dev_field azlv0 2)" = synthetic ] || return 1
	[ "$(dev_field azlv0 5)" = "$CH/$QUEUES" ] || { echo "channels $(dev_field azlv0 5)"; return 1; }
	[ "$(dev_field azlv0 7)" = ok/ok/ok ] || { echo "results $(dev_field azlv0 7)"; return 1; }
	[ "$(dev_field azlv0 8)" = 1 ] || { echo "applied $(dev_field azlv0 8) times"; return 1; }
	_allowed=$("$AGENT" netvsc show | sed -n 's/^  channel counts allowed on this VM: //p')
	echo ",$_allowed," | grep -q ",$CH," || { echo "allowed: $_allowed"; return 1; }
	"$AGENT" netvsc show --json | grep -q '"kind": *"synthetic"' || { echo "--json:"; "$AGENT" netvsc show --json; return 1; }
}
check "netvsc show lists each NIC with its channels, results and applications" shown
diag "$("$AGENT" netvsc show 2>&1)"

events_seen() {
	heard || return 1
	cat "$tmp/events"
	[ "$(grep -c '^netvsc dev-add azlv[01] node=none$' "$tmp/events")" -eq 2 ] || return 1
	[ "$(grep -c "^netvsc applied azlv[01] kind=synthetic node=none channels=$CH/$QUEUES result=channels:ok,rings:ok,xps:ok applies=1$" "$tmp/events")" -eq 2 ]
}
check "events: dev-add and applied for each end" events_seen

# What image validation does: change the count with ethtool -L and expect it
# to stay.  Link changes and other NICs coming and going must not re-apply.
user_change_stays() {
	_before=$(dev_field azlv0 8)
	"$TOOL" set-channels azlv0 1 || return 1
	ip link set azlv0 up && ip link set azlv1 up && ip link set azlv0 down &&
		ip link set azlv0 up || return 1
	"$TOOL" veth azlv2 azlv3 $QUEUES && wait_applied azlv2 1 && ip link del azlv2 || return 1
	sleep 0.5
	has_channels azlv0 1 || return 1
	[ "$(dev_field azlv0 8)" = "$_before" ] || { echo "applied again: $(dev_field azlv0 8) times"; return 1; }
}
check "a user's channel change stays through link and device events" user_change_stays

policy_change() {
	_before=$(dev_field azlv0 8)
	_out=$("$AGENT" netvsc set --channels $CH) || return 1
	[ "$_out" = "applied to 2 devices" ] || { echo "$_out"; return 1; }
	wait_applied azlv0 $((_before + 1)) && has_channels azlv0 $CH && xps_ok azlv0 $CH
}
check "a policy change reaches every NIC, a user's count included" policy_change

recreated() {
	ip link del azlv0 || return 1
	"$TOOL" veth azlv0 azlv1 $QUEUES && wait_applied azlv0 1 || return 1
	has_channels azlv0 $CH && [ "$(dev_field azlv0 8)" = 1 ]
}
check "a NIC deleted and created again gets the policy again" recreated

# A count this VM does not allow: the first of 1..64 not in the allowed set.
allowed=$("$AGENT" netvsc show | sed -n 's/^  channel counts allowed on this VM: //p')
bad=1
while echo ",$allowed," | grep -q ",$bad,"; do bad=$((bad + 1)); done

refused() {
	_out=$("$AGENT" netvsc set --channels $bad 2>&1)
	_rc=$?
	echo "$_out"
	[ $_rc -eq 1 ] && echo "$_out" | grep -qi "allowed" || return 1
	"$AGENT" netvsc show | grep -q "^  channels $CH " || { echo "the policy changed"; return 1; }
	has_channels azlv0 $CH
}
check "SET_POLICY with a count this VM does not allow ($bad) is refused" refused

param_writes() {
	_m=$(dmesg_mark)
	! echo $bad >$PARAMS/channels 2>/dev/null || { echo "channels=$bad taken"; return 1; }
	! echo 65 >$PARAMS/channels 2>/dev/null || { echo "channels=65 taken"; return 1; }
	[ "$(cat $PARAMS/channels)" = $CH ] || return 1
	dmesg_since "$_m" | grep -q "azl_netvsc: channels=$bad refused" || { echo "no notice"; return 1; }
	_before=$(dev_field azlv0 8)
	echo $CH >$PARAMS/channels && wait_applied azlv0 $((_before + 1))
}
check "parameter writes: a count not allowed refused, an allowed one applied" param_writes

no_rings() {
	_before=$(dev_field azlv0 8)
	[ "$("$AGENT" netvsc set --rx-ring 100)" = "applied to 2 devices" ] || return 1
	wait_applied azlv0 $((_before + 1)) || return 1
	[ "$(dev_field azlv0 7)" = ok/EOPNOTSUPP/ok ] || { echo "results $(dev_field azlv0 7)"; return 1; }
	"$AGENT" netvsc set --rx-ring 0 >/dev/null && wait_applied azlv0 $((_before + 2)) &&
		[ "$(dev_field azlv0 7)" = ok/ok/ok ]
}
check "rings on a driver without ring operations: EOPNOTSUPP recorded" no_rings

# xps off means "stop touching": the maps set earlier stay.
xps_switch() {
	_before=$(dev_field azlv0 8)
	"$AGENT" netvsc set --xps off >/dev/null || return 1
	wait_applied azlv0 $((_before + 1)) || return 1
	xps_ok azlv0 $CH || { echo "azlv0 lost its maps when xps went off"; return 1; }
	"$TOOL" veth azlv2 azlv3 $QUEUES && wait_applied azlv2 1 || return 1
	_q=0
	while [ $_q -lt $CH ]; do
		[ -z "$(xps_list azlv2 $_q)" ] || { echo "tx-$_q has a map with xps off"; return 1; }
		_q=$((_q + 1))
	done
	"$AGENT" netvsc set --xps on >/dev/null && wait_applied azlv2 2 && xps_ok azlv2 $CH &&
		ip link del azlv2
}
check "xps off: maps stay, a new NIC gets none; xps on: it gets them" xps_switch

usage_codes() {
	"$AGENT" netvsc set >/dev/null 2>&1
	[ $? -eq 2 ] || return 1
	"$AGENT" netvsc set --xps maybe >/dev/null 2>&1
	[ $? -eq 2 ] || return 1
	"$AGENT" netvsc set --channels 65 >/dev/null 2>&1
	[ $? -eq 2 ] || return 1
	"$AGENT" netvsc frob >/dev/null 2>&1
	[ $? -eq 2 ]
}
check "netvsc set: usage errors exit 2" usage_codes

abuse() {
	_out=$("$ABUSE" netvsc 2>&1)
	_rc=$?
	echo "$_out"
	[ $_rc -eq 0 ] && echo "$_out" | grep -q '^1\.\.23$' && ! echo "$_out" | grep -q '^not ok'
}
check "malformed, out-of-range and unprivileged requests are refused" abuse

log_clean() {
	_bad=$(dmesg_bad_since "$mark" azl_netvsc)
	[ -z "$_bad" ] || { echo "$_bad"; return 1; }
	dmesg_since "$mark" | grep -q "azlv0: azl_netvsc: channels $QUEUES -> $CH, xps set on $CH queues" || {
		echo "no line for the change:"
		dmesg_since "$mark" | grep azl_netvsc
		return 1
	}
}
check "kernel log: one line per change, nothing that reads as a failure" log_clean

unloaded() {
	rmmod azl_netvsc || return 1
	has_channels azlv0 $CH || return 1
	"$AGENT" netvsc show >/dev/null 2>&1
	_rc=$?
	[ $_rc -eq 3 ] || { echo "netvsc show without the module: exit $_rc"; return 1; }
}
check "unloads with NICs present; they keep their values; show exits 3" unloaded

# ---- a synthetic NIC and its VF: a bridge and an enslaved veth ----

mark=$(dmesg_mark)
vf_at_load() {
	ip link add azlbr0 type bridge || return 1
	ip link set azlv0 master azlbr0 || return 1
	xps_clear azlv0 || return 1
	load_module azl_netvsc match_driver=bridge channels=$CH xps=1 vf_xps=1 || return 1
	wait_applied azlbr0 1 && wait_applied azlv0 1 || return 1
	[ "$(dev_field azlv0 2)" = vf ] && [ "$(dev_field azlv0 3)" = azlbr0 ] || return 1
	[ "$(dev_field azlbr0 7)" = EOPNOTSUPP/ok/ok ] || { echo "bridge: $(dev_field azlbr0 7)"; return 1; }
	[ "$(dev_field azlv0 7)" = ok/ok/ok ] || return 1
	xps_ok azlv0 $CH
}
check "a VF linked before load is found, gets vf_xps; the NIC reports EOPNOTSUPP" vf_at_load
diag "$("$AGENT" netvsc show 2>&1)"

vf_leave_join() {
	_br=$(dev_field azlbr0 8)
	listen 4
	ip link set azlv0 nomaster || return 1
	_i=0
	while [ $_i -lt 50 ] && [ -n "$(dev_field azlv0 2)" ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -z "$(dev_field azlv0 2)" ] || { echo "azlv0 still shown after it left"; return 1; }
	xps_clear azlv0 || return 1
	ip link set azlv0 master azlbr0 || return 1
	heard || return 1
	cat "$tmp/events"
	grep -q '^netvsc vf-leave azlv0 master=azlbr0 node=none$' "$tmp/events" &&
		grep -q '^netvsc vf-join azlv0 master=azlbr0 node=none$' "$tmp/events" &&
		grep -q '^netvsc applied azlv0 master=azlbr0 kind=vf node=none .*applies=1$' "$tmp/events" &&
		grep -q "^netvsc applied azlbr0 kind=synthetic node=none result=channels:EOPNOTSUPP,rings:ok,xps:ok applies=$((_br + 1))$" "$tmp/events" ||
		return 1
	xps_ok azlv0 $CH
}
check "VF leave and join: events, the VF's XPS, the NIC's XPS again" vf_leave_join

# vf_xps off and xps off stop touching: the VF keeps its maps, and a VF that
# joins then gets none, nor does its NIC get XPS again.
vf_xps_off() {
	_vf=$(dev_field azlv0 8)
	"$AGENT" netvsc set --vf-xps off --xps off >/dev/null || return 1
	wait_applied azlv0 $((_vf + 1)) || return 1
	xps_ok azlv0 $CH || { echo "the VF lost its maps when vf_xps went off"; return 1; }
	_br=$(dev_field azlbr0 8)
	ip link set azlv0 nomaster && xps_clear azlv0 && ip link set azlv0 master azlbr0 || return 1
	wait_applied azlv0 1 || return 1
	sleep 0.5
	[ -z "$(xps_list azlv0 0)" ] || { echo "the VF got a map with vf_xps off"; return 1; }
	[ "$(dev_field azlbr0 8)" = "$_br" ] || { echo "the NIC was applied again: $(dev_field azlbr0 8)"; return 1; }
}
check "vf_xps and xps off: maps stay; a VF that joins gets none, its NIC nothing" vf_xps_off

bridge_clean() {
	rmmod azl_netvsc || return 1
	_bad=$(dmesg_bad_since "$mark" azl_netvsc)
	[ -z "$_bad" ] || { echo "$_bad"; return 1; }
}
check "kernel log after the VF tests has nothing that reads as a failure" bridge_clean

defaults() {
	load_module azl_netvsc || return 1
	_p="channels=$(cat $PARAMS/channels) rx_ring=$(cat $PARAMS/rx_ring) tx_ring=$(cat $PARAMS/tx_ring)"
	_p="$_p xps=$(cat $PARAMS/xps) vf_xps=$(cat $PARAMS/vf_xps)"
	[ "$_p" = "channels=0 rx_ring=0 tx_ring=0 xps=0 vf_xps=0" ] || { echo "$_p"; return 1; }
	"$AGENT" netvsc show | grep -q "xps off  vf_xps off" || { "$AGENT" netvsc show; return 1; }
}
check "defaults: every knob 0, xps and vf_xps off" defaults

untouched() {
	"$TOOL" veth azlv4 azlv5 $QUEUES || return 1
	sleep 0.5
	[ -z "$(dev_field azlv4 2)" ] || { echo "azlv4 is tracked"; return 1; }
	[ -z "$(xps_list azlv4 0)" ] || { echo "azlv4 got an XPS map"; return 1; }
	ip link del azlv4 && rmmod azl_netvsc
}
check "default match (hv_netvsc) leaves veth alone" untouched

# The .ko must be found and must carry a depends= field (modpost always
# writes one, empty or not): no file or no field is a failure, not a pass.
deps_ok() {
	ko=$(ko_path azl_netvsc) || ko=$(modinfo -n azl_netvsc 2>/dev/null)
	[ -n "$ko" ] && [ -f "$ko" ] || { echo "azl_netvsc.ko not found (AZL_KO_DIR, modinfo)"; return 1; }
	case "$ko" in *.ko) ;; *) echo "$ko: compressed, cannot read its .modinfo"; return 1 ;; esac
	_line=$(tr '\000' '\n' <"$ko" | grep '^depends=') || { echo "$ko: no depends= field"; return 1; }
	deps=${_line#depends=}
	echo "depends=$deps"
	case ",$deps," in *,hv_netvsc,* | *,hv_vmbus,* | *,hv_storvsc,*) return 1 ;; esac
}
check "no dependency on hv_netvsc or hv_vmbus (they stay reloadable)" deps_ok

done_testing
