#!/bin/sh
# azl_storvsc against scsi_debug, its stand-in for storvsc hosts
# (match_host=scsi_debug: the tuning path is the real one, only the match
# differs).  Every disk must carry the policy before its "add" uevent can be
# acted on, and every policy change must reach existing and new disks.
. "$AZL_GUEST_DIR/ktap.sh"
. "$AZL_GUEST_DIR/kmod.sh"

plan 17

AGENT=${AZL_AGENT:-}
ABUSE=${AZL_GENL_ABUSE:-genl_abuse}
SDEBUG=/sys/bus/pseudo/drivers/scsi_debug
tmp=$(mktemp -d)

# scsi_debug_hosts: host numbers of the scsi_debug hosts.
scsi_debug_hosts() {
	for h in /sys/class/scsi_host/host*; do
		[ "$(cat "$h/proc_name" 2>/dev/null)" = scsi_debug ] && echo "${h##*host}"
	done
}

# disks [HOST]: H:C:T:L of the scsi_debug disks (of HOST only, if given).
disks() {
	for h in ${1:-$(scsi_debug_hosts)}; do
		for d in /sys/bus/scsi/devices/"$h":*:*:*; do
			[ -f "$d/timeout" ] && basename "$d"
		done
	done
}

# expect_all ATTR VALUE [HOST]: every disk (of HOST) has ATTR = VALUE.
expect_all() {
	_bad=0 _n=0
	for d in $(disks "${3:-}"); do
		_n=$((_n + 1))
		_v=$(cat "/sys/bus/scsi/devices/$d/$1")
		[ "$_v" = "$2" ] || { echo "$d: $1 is $_v, want $2"; _bad=1; }
	done
	[ "$_n" -gt 0 ] || { echo "no scsi_debug disks"; return 1; }
	return $_bad
}

attr() { cat "/sys/bus/scsi/devices/$1/$2"; }

cleanup() {
	rmmod azl_storvsc 2>/dev/null
	rmmod scsi_debug 2>/dev/null
	[ -z "${uevent_pid:-}" ] || kill "$uevent_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

skip_all() {
	i=1
	while [ $i -le 17 ]; do skip "storvsc $i" "$1"; i=$((i + 1)); done
	done_testing
	exit
}
[ -n "${AZL_AGENT:-}" ] || skip_all "azl-agent was not built (make)"
modprobe scsi_debug add_host=0 >/dev/null 2>&1 || skip_all "scsi_debug is not available in this kernel"

rmmod scsi_debug

# 1. Loading with a policy, before any disk exists.
check "azl_storvsc loads with match_host=scsi_debug" \
	load_module azl_storvsc match_host=scsi_debug timeout=77 eh_timeout=23 queue_depth=5

# A uevent listener (busybox uevent, on the same netlink socket udev
# uses) records what each disk looked like when its "add" uevent arrived;
# udev can act no earlier than that.
cat >"$tmp/on-uevent" <<HELPER
#!/bin/sh
[ "\$ACTION" = add ] && [ "\$DEVTYPE" = scsi_device ] &&
	echo "\${DEVPATH##*/} \$(cat /sys\$DEVPATH/timeout) \$(cat /sys\$DEVPATH/queue_depth)" >>$tmp/seen
exit 0
HELPER
chmod +x "$tmp/on-uevent"
uevent_pid=
if command -v uevent >/dev/null; then
	uevent "$tmp/on-uevent" &
	uevent_pid=$!
	sleep 0.5
fi

# Events the agent hears while disks appear (2 hosts x 2 LUNs = 4).
"$AGENT" kmod events --count 4 >"$tmp/events" 2>&1 &
events_pid=$!
i=0
while [ $i -lt 50 ] && ! grep -q listening "$tmp/events"; do sleep 0.1; i=$((i + 1)); done

mark=$(dmesg_mark)
modprobe scsi_debug add_host=2 num_tgts=1 max_luns=2 dev_size_mb=1 >/dev/null 2>&1
sleep 1

# 2-4. The policy is on every new disk.
check "new disks have timeout 77" expect_all timeout 77
check "new disks have eh_timeout 23" expect_all eh_timeout 23
check "new disks have queue_depth 5" expect_all queue_depth 5

# 5. ... already when the add uevent went out.
if [ -n "$uevent_pid" ]; then
	seen_ok() {
		kill "$uevent_pid" 2>/dev/null
		[ -s "$tmp/seen" ] || { echo "the uevent helper saw no disk"; return 1; }
		[ "$(wc -l <"$tmp/seen")" -eq "$(disks | wc -l)" ] ||
			{ echo "uevents seen:"; cat "$tmp/seen"; return 1; }
		! awk '$2 != 77 || $3 != 5 { print; bad = 1 } END { exit !bad }' "$tmp/seen"
	}
	check "policy in place when each add uevent reached userspace" seen_ok
else
	skip "policy in place when each add uevent reached userspace" "no uevent listener (busybox uevent applet)"
fi

# 6. The agent heard one applied event per disk.
events_ok() {
	i=0
	while [ $i -lt 50 ] && kill -0 "$events_pid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	kill "$events_pid" 2>/dev/null
	n=$(grep -c '^storvsc applied .* timeout=77 eh_timeout=23 queue_depth=5 source=default$' "$tmp/events")
	[ "$n" -eq 4 ] || { cat "$tmp/events"; return 1; }
}
check "azl-agent kmod events reports each disk" events_ok

# 7. A default change reaches existing disks, and says how many.
set_default() {
	out=$("$AGENT" storvsc set --timeout 91) || return 1
	[ "$out" = "applied to 4 disks" ] || { echo "$out"; return 1; }
	expect_all timeout 91
}
check "storvsc set --timeout reaches existing disks" set_default

# 8. A change writes only the knob it names: a queue depth set through
# sysfs (by udev, an administrator) survives a timeout change.
one_knob_only() {
	d=$(disks | head -n 1)
	echo 2 >"/sys/bus/scsi/devices/$d/queue_depth" || return 1
	"$AGENT" storvsc set --timeout 92 >/dev/null || return 1
	[ "$(attr "$d" queue_depth)" = 2 ] || { echo "queue_depth reset to $(attr "$d" queue_depth)"; return 1; }
	[ "$(attr "$d" timeout)" = 92 ] || return 1
	echo 5 >"/sys/bus/scsi/devices/$d/queue_depth"
	"$AGENT" storvsc set --timeout 91 >/dev/null
}
check "a change leaves the knobs it does not name alone" one_knob_only

h1=$(scsi_debug_hosts | head -n 1)
h2=$(scsi_debug_hosts | tail -n 1)

# 8. A controller rule touches that controller only.
controller_rule() {
	"$AGENT" storvsc set --host "$h1" --queue-depth 3 >/dev/null || return 1
	expect_all queue_depth 3 "$h1" && expect_all queue_depth 5 "$h2" &&
		"$AGENT" storvsc show | grep -q "^  $h1:0:0:0 .* controller "
}
check "controller rule applies to its own disks only" controller_rule

# 9-10. A LUN rule overrides, and removing it restores the broader layer.
lun_rule() {
	"$AGENT" storvsc set --host "$h1" --lun 1 --timeout 45 >/dev/null || return 1
	[ "$(attr "$h1:0:0:1" timeout)" = 45 ] && [ "$(attr "$h1:0:0:0" timeout)" = 91 ] &&
		[ "$(attr "$h1:0:0:1" queue_depth)" = 3 ]
}
check "LUN rule overrides the controller and default layers" lun_rule
lun_unset() {
	"$AGENT" storvsc unset --host "$h1" --lun 1 >/dev/null || return 1
	[ "$(attr "$h1:0:0:1" timeout)" = 91 ]
}
check "storvsc unset restores the broader layer" lun_unset
diag "$("$AGENT" storvsc show 2>&1)"

# 11. A module parameter write is a default change too.
param_write() {
	echo 66 >/sys/module/azl_storvsc/parameters/timeout || return 1
	expect_all timeout 66 &&
		! echo 99999 >/sys/module/azl_storvsc/parameters/timeout 2>/dev/null &&
		[ "$(cat /sys/module/azl_storvsc/parameters/timeout)" = 66 ]
}
check "module parameter reaches existing disks; out of range refused" param_write

# 12. Hosts and disks added and removed in a loop keep getting the policy,
# while dumps and policy changes run against the same disks.
churn() {
	(while :; do "$AGENT" storvsc show >/dev/null 2>&1; done) &
	dumper=$!
	(while :; do "$AGENT" storvsc set --eh-timeout 23 >/dev/null 2>&1; done) &
	setter=$!
	rc=0
	for i in $(seq 1 20); do
		echo 1 >"$SDEBUG/add_host" || { rc=1; break; }
		expect_all timeout 66 >/dev/null || { echo "round $i:"; expect_all timeout 66; rc=1; break; }
		echo -1 >"$SDEBUG/add_host" || { rc=1; break; }
	done
	kill "$dumper" "$setter"
	wait "$dumper" "$setter" 2>/dev/null
	return $rc
}
check "20 rounds of host add and remove under concurrent dumps and changes" churn

# 13. Malformed and unauthorised requests are refused with the right errno.
abuse() {
	out=$("$ABUSE" storvsc 2>&1)
	rc=$?
	echo "$out"
	[ $rc -eq 0 ] && echo "$out" | grep -q '^1\.\.19$' && ! echo "$out" | grep -q '^not ok'
}
check "malformed generic netlink requests are rejected" abuse

# 14. Unloading leaves the disks as they are and a clean log.
unload_clean() {
	rmmod azl_storvsc || return 1
	expect_all timeout 66 || return 1
	bad=$(dmesg_bad_since "$mark" azl_storvsc)
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}
check "unloads with disks present; disks keep their values" unload_clean

# 15. Without the test match it leaves scsi_debug alone.
untouched() {
	rmmod scsi_debug || return 1
	load_module azl_storvsc timeout=77 || return 1
	modprobe scsi_debug add_host=1 num_tgts=1 max_luns=1 dev_size_mb=1 || return 1
	sleep 0.5
	t=$(attr "$(disks | head -n 1)" timeout)
	rmmod azl_storvsc
	[ "$t" != 77 ] || { echo "a non-storvsc disk got timeout 77"; return 1; }
}
check "default match (storvsc_host) leaves other hosts' disks alone" untouched

# 16. The module holds no hv_storvsc or hv_netvsc symbol (they stay reloadable).
deps_ok() {
	ko=$(ko_path azl_storvsc) || ko=$(modinfo -n azl_storvsc)
	deps=$(tr '\000' '\n' <"$ko" | sed -n 's/^depends=//p')
	echo "depends=$deps"
	case ",$deps," in *,hv_storvsc,* | *,hv_netvsc,*) return 1 ;; esac
}
check "no dependency on hv_storvsc or hv_netvsc" deps_ok

done_testing
