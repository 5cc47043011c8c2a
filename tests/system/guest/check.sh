#!/bin/bash
# Guest side of the system test (tests/system/run.sh): run by the test-only
# azl-system-check.service once multi-user.target is reached.  Waits for the
# boot to finish, checks what the boot did, and writes to OUT (the second
# serial port, a file on the host):
#
#   AZL-SYSTEM BEGIN          then one TAP result a line (no numbers:
#   ok - NAME                 run.sh numbers them), "# ..." diagnostics
#   AZL-SYSTEM END R F        R results sent, F of them not ok: run.sh
#                             checks that all of them arrived
#   AZL-JOURNAL BEGIN         journalctl -b, always (run.sh shows it only
#   ...                       when something failed)
#   AZL-JOURNAL END
#   AZL-SYSTEM DONE
#
# then powers the machine off.  The mode comes from the kernel command line:
# azl.system=azure (the Azure-like machine: SMBIOS of a Hyper-V VM, the
# simulator, stand-in disks, azl.standins=1), azl.system=azure-again (the
# same machine and disk booted a second time) or azl.system=plain (no
# Hyper-V).  run.sh also passes what the guest checks against: azl.admin=,
# azl.hostname=, azl.key= (the SHA256 fingerprint of the IMDS key; "none"),
# azl.timeout= (seconds to wait for the boot to finish).  The files the
# tree ships are listed in the manifest beside this script.
# Every check here can fail; none asserts a time other than the 90 s that
# systemd gives a device job.
set -u
out=${1:-/dev/ttyS1}
exec 3>"$out"
export SYSTEMD_PAGER='' SYSTEMD_COLORS=0 LC_ALL=C

manifest=$(dirname "$0")/manifest
# arg NAME: the value of azl.NAME= on the kernel command line.
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^azl\\.$1=//p" | tail -n 1; }
mode=$(arg system)
admin=$(arg admin)
admin=${admin:-azureuser}
want_hostname=$(arg hostname)
want_key=$(arg key)
wait_s=$(arg timeout)
case $wait_s in '' | *[!0-9]*) wait_s=240 ;; esac
results=0 failed=0

emit() { printf '%s\n' "$*" >&3; }
ok() { emit "ok - $mode: $*"; results=$((results + 1)); }
not_ok() { emit "not ok - $mode: $*"; results=$((results + 1)) failed=$((failed + 1)); }
diag() { printf '%s\n' "$@" | sed 's/^/# /' >&3; }
# is NAME WANT GOT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "want: $2" "got:  $3"; fi
}
prop() { systemctl show -P "$2" "$1" 2>/dev/null; }

emit "AZL-SYSTEM BEGIN"
emit "# mode $mode, kernel $(uname -r), $(systemctl --version | head -n 1)"

# --- the boot as a whole ---------------------------------------------------------

# The boot is over when the job queue first empties; --wait returns then.
state=$(timeout "$wait_s" systemctl is-system-running --wait 2>&1)
is "systemctl is-system-running --wait says running" running "$state"

units=$(systemctl list-units --failed --plain --no-legend 2>&1)
if [ -z "$units" ]; then ok "no failed unit"; else not_ok "no failed unit"; diag "$units"; fi

jobs=$(systemctl list-jobs --no-legend 2>&1 | grep -v 'No jobs running')
if [ -z "$jobs" ]; then ok "no job left after the boot (nothing waits for a device)"; else
	not_ok "no job left after the boot (nothing waits for a device)"
	diag "$jobs"
fi

# A job waiting for a device that never comes ends after 90 s with these words.
timeouts=$(journalctl -b --no-pager -o cat 2>/dev/null | grep -E 'Timed out waiting for device|Job dev-.*\.device/start timed out' | head -n 5)
if [ -z "$timeouts" ]; then ok "no device job timed out"; else not_ok "no device job timed out"; diag "$timeouts"; fi

analyze=$(systemd-analyze time 2>&1)
diag "systemd-analyze time: $(echo "$analyze" | head -n 1)"
# How long the boot took is shown, never asserted (tests assert no time):
# the two checks above are what prove that nothing waited for a device.
t_start=$(systemctl show -P UserspaceTimestampMonotonic)
t_done=$(systemctl show -P FinishTimestampMonotonic)
diag "userspace boot: $(((${t_done:-0} - ${t_start:-0}) / 1000)) ms"
diag "$(systemd-analyze blame 2>&1 | head -n 5)"

bad=$( { dmesg 2>/dev/null; journalctl -b --no-pager -o cat 2>/dev/null; } | grep -E 'Call Trace|BUG:' | head -n 10)
if [ -z "$bad" ]; then ok 'no "Call Trace" or "BUG:" in dmesg and the journal'; else
	not_ok 'no "Call Trace" or "BUG:" in dmesg and the journal'
	diag "$bad"
fi

# What the tree ships is installed and loaded: a missing unit or rule is a
# failure, never a skip.
bad=''
n=0
while read -r kind what; do
	case $kind in
	unit)
		n=$((n + 1))
		st=$(prop "$what" LoadState)
		[ "$st" = loaded ] || bad+="$what: LoadState=${st:-?}"$'\n'
		;;
	esac
done <"$manifest"
if [ "$n" -gt 0 ] && [ -z "$bad" ]; then ok "the $n units the tree ships are installed and loaded"; else
	not_ok "the units the tree ships are installed and loaded ($n in the manifest)"
	diag "$bad"
fi
bad=''
n=0
while read -r kind what; do
	if [ "$kind" = file ]; then
		n=$((n + 1))
		[ -e "$what" ] || bad+="missing: $what"$'\n'
	fi
done <"$manifest"
if [ "$n" -gt 0 ] && [ -z "$bad" ]; then ok "the $n rules, network and modprobe.d files and programs the tree ships are installed"; else
	not_ok "the rules, network and modprobe.d files and programs the tree ships are installed ($n in the manifest)"
	diag "$bad"
fi

# LISA reads the journal for these words: what our services log must avoid
# them (lowercase; "Failed" and the like are fine).
words=$(journalctl -b --no-pager -o cat -u azl-agent.service -u azl-provision.service 2>/dev/null |
	grep -E 'fail|error|warning' | head -n 10)
if [ -z "$words" ]; then ok 'our services log no lowercase "fail", "error" or "warning"'; else
	not_ok 'our services log no lowercase "fail", "error" or "warning"'
	diag "$words"
fi

# udevd names a rules file it cannot parse and a program that fails; ours
# must never be among them.
udevlog=$(journalctl -b --no-pager -o cat -u systemd-udevd.service 2>/dev/null | grep -i 'azl' | head -n 10)
if [ -z "$udevlog" ]; then ok "systemd-udevd logs nothing about our rules or helper"; else
	not_ok "systemd-udevd logs nothing about our rules or helper"
	diag "$udevlog"
fi

# --- the Azure-like machine --------------------------------------------------------

# mono UNIT PROP: a monotonic timestamp (microseconds; 0 when it never happened).
mono() { local v; v=$(prop "$1" "$2"); echo "${v:-0}"; }

azure_checks() {
	local r st ex a_up p_start p_end us_start u ak fps lun link want dev pids rep out rc
	# A unit that is not installed or does not load fails each check below
	# (its properties are then empty or 0).
	r=$(prop azl-provision.service Result)
	st=$(mono azl-provision.service ExecMainStartTimestampMonotonic)
	ex=$(prop azl-provision.service ExecMainStatus)
	if [ "$(prop azl-provision.service LoadState)" = loaded ] && [ "$r" = success ] &&
		[ "$st" -gt 0 ] && [ "$ex" = 0 ]; then
		ok "azl-provision.service ran and succeeded"
	else
		not_ok "azl-provision.service ran and succeeded"
		diag "LoadState=$(prop azl-provision.service LoadState) Result=$r ExecMainStartTimestampMonotonic=$st ExecMainStatus=$ex" \
			"$(systemctl status --no-pager -l azl-provision.service 2>&1 | head -n 30)"
	fi

	is "azl-agent.service is active" active "$(systemctl is-active azl-agent.service)"
	# Restart=on-failure would hide a crash or a watchdog kill behind "active".
	is "azl-agent.service never restarted (no crash, no watchdog kill)" 0 "$(prop azl-agent.service NRestarts)"
	a_up=$(mono azl-agent.service ActiveEnterTimestampMonotonic)
	p_start=$(mono azl-provision.service InactiveExitTimestampMonotonic)
	if [ "$a_up" -gt 0 ] && [ "$p_start" -gt 0 ] && [ "$a_up" -le "$p_start" ]; then
		ok "the provisioning starts after azl-agent.service is up"
	else
		not_ok "the provisioning starts after azl-agent.service is up"
		diag "azl-agent ActiveEnter=$a_up azl-provision InactiveExit=$p_start (monotonic us)"
	fi

	# A oneshot without RemainAfterExit goes back to inactive when done.
	p_end=$(mono azl-provision.service InactiveEnterTimestampMonotonic)
	for u in ssh.service systemd-user-sessions.service; do
		us_start=$(mono "$u" InactiveExitTimestampMonotonic)
		if [ "$p_end" -gt 0 ] && [ "$us_start" -gt 0 ] && [ "$p_end" -le "$us_start" ]; then
			ok "$u starts after the provisioning finished"
		else
			not_ok "$u starts after the provisioning finished"
			diag "azl-provision InactiveEnter=$p_end $u InactiveExit=$us_start (monotonic us)"
		fi
	done

	if getent passwd "$admin" >/dev/null; then ok "the user $admin exists"; else not_ok "the user $admin exists"; fi
	# The key IMDS gave, by its fingerprint (run.sh computes it from the
	# simulator's document; ssh-keygen reads the file here).
	ak=/home/$admin/.ssh/authorized_keys
	fps=$(ssh-keygen -lf "$ak" 2>&1)
	if [ -n "$want_key" ] && [ "$want_key" != none ] &&
		printf '%s\n' "$fps" | awk -v k="$want_key" '$2 == k { f = 1 } END { exit !f }' &&
		[ "$(stat -c %U "$ak" 2>/dev/null)" = "$admin" ]; then
		ok "$ak holds the key from IMDS ($want_key) and belongs to $admin"
	else
		not_ok "$ak holds the key from IMDS (${want_key:-no azl.key= given}) and belongs to $admin"
		diag "ssh-keygen -l: $fps" "$(ls -la "/home/$admin/.ssh" 2>&1)"
	fi
	is "the host name is the one IMDS gave" "${want_hostname:-(no azl.hostname= given)}" "$(hostname)"

	# No KVP device here: the provisioning writes the pool file all the same.
	rep=$(azl-agent kvp get --pool 1 PROVISIONING_REPORT 2>&1)
	if printf '%s' "$rep" | grep -q '^result=success'; then
		ok "the KVP pool file holds PROVISIONING_REPORT (result=success)"
	else
		not_ok "the KVP pool file holds PROVISIONING_REPORT (result=success)"
		diag "$rep" "$(ls -la /var/lib/hyperv 2>&1)"
	fi

	out=$(azl-agent status 2>&1)
	rc=$?
	if [ "$rc" -le 2 ] && printf '%s\n' "$out" | grep -q '^Verdict'; then
		ok "azl-agent status runs and prints a verdict (exit $rc; $(printf '%s\n' "$out" | grep -m1 '^Verdict' | tr -s ' '))"
	else
		not_ok "azl-agent status runs and prints a verdict"
		diag "exit $rc" "$out"
	fi

	pids=$(pgrep -x hv_kvp_daemon | tr '\n' ' ')
	if [ "$(pgrep -cx hv_kvp_daemon)" = 1 ]; then
		ok "exactly one hv_kvp_daemon process runs"
	else
		not_ok "exactly one hv_kvp_daemon process runs"
		diag "pids: ${pids:-none}" "$(ps -eo pid,comm,args 2>&1 | grep -E 'azl|kvp')"
	fi

	# The stand-in data disks: scsi-hd vendor Msft at LUN 5 (whole disk) and
	# at LUN 0 (one partition).  Without 80-azl-disk.rules these fail (and
	# the manifest check above names the missing file).
	for lun in 5 0; do
		want=''
		for dev in /sys/block/sd*; do
			[ -e "$dev/device" ] || continue
			case $(basename "$(readlink -f "$dev/device")") in
			*:"$lun") want=/dev/$(basename "$dev") ;;
			esac
		done
		link=/dev/disk/azure/scsi1/lun$lun
		if [ -z "$want" ]; then
			not_ok "$link links to the disk at LUN $lun"
			diag "no sd device at LUN $lun: $(ls /sys/block 2>&1 | tr '\n' ' ')"
		elif [ "$(readlink -f "$link")" = "$want" ]; then
			ok "$link links to the disk at LUN $lun ($want)"
		else
			not_ok "$link links to the disk at LUN $lun ($want)"
			diag "$link -> $(readlink -f "$link" 2>&1)" "$(find /dev/disk/azure 2>&1 | head -n 20)" \
				"$(udevadm info --query=property --name="$want" 2>&1 | grep -E 'AZL|ID_|DEVLINKS')"
		fi
	done
	link=/dev/disk/azure/scsi1/lun0-part1
	if [ "$(readlink -f "$link")" = "$(readlink -f /dev/disk/azure/scsi1/lun0)1" ]; then
		ok "$link links to the partition"
	else
		not_ok "$link links to the partition"
		diag "$link -> $(readlink -f "$link" 2>&1)" "$(find /dev/disk/azure 2>&1 | head -n 20)"
	fi
}

# The same machine booted again: the provisioning runs at every boot and
# finds its marker, so it does nothing more (and asks the host nothing:
# run.sh checks the simulator saw no request).
again_checks() {
	local r st ex out
	r=$(prop azl-provision.service Result)
	st=$(mono azl-provision.service ExecMainStartTimestampMonotonic)
	ex=$(prop azl-provision.service ExecMainStatus)
	out=$(journalctl -b --no-pager -o cat -u azl-provision.service 2>&1)
	if [ "$r" = success ] && [ "$st" -gt 0 ] && [ "$ex" = 0 ] &&
		printf '%s\n' "$out" | grep -q 'already provisioned'; then
		ok "azl-provision.service ran again and found the marker"
	else
		not_ok "azl-provision.service ran again and found the marker"
		diag "LoadState=$(prop azl-provision.service LoadState) Result=$r ExecMainStartTimestampMonotonic=$st ExecMainStatus=$ex" "$out"
	fi
	is "the user $admin is still there, once" 1 "$(grep -c "^$admin:" /etc/passwd)"
	is "exactly one hv_kvp_daemon process runs" 1 "$(pgrep -cx hv_kvp_daemon)"
	is "azl-agent.service never restarted (no crash, no watchdog kill)" 0 "$(prop azl-agent.service NRestarts)"
	if azl-agent kvp get --pool 1 PROVISIONING_REPORT 2>/dev/null | grep -q '^result=success'; then
		ok "PROVISIONING_REPORT is still in the KVP pool file"
	else
		not_ok "PROVISIONING_REPORT is still in the KVP pool file"
	fi
}

# --- a machine that is not Hyper-V ------------------------------------------------------

plain_checks() {
	local ec st r ct
	ec=$(prop azl-provision.service ExecCondition)
	st=$(mono azl-provision.service ExecMainStartTimestampMonotonic)
	r=$(prop azl-provision.service Result)
	# ExecCondition exits 1: the unit is skipped (Result=exec-condition),
	# not failed, and its ExecStart never runs.
	if printf '%s' "$ec" | grep -q 'status=1[ ;/]' && [ "$st" = 0 ] && [ "$r" = exec-condition ]; then
		ok "azl-provision.service skipped by its ExecCondition"
	else
		not_ok "azl-provision.service skipped by its ExecCondition"
		diag "LoadState=$(prop azl-provision.service LoadState) ExecCondition=$ec" \
			"ExecMainStartTimestampMonotonic=$st Result=$r" \
			"$(systemctl status --no-pager -l azl-provision.service 2>&1 | head -n 20)"
	fi
	# ConditionResult is "no" also for a unit that was never started: the
	# condition must have been checked (ConditionTimestampMonotonic > 0).
	r=$(prop azl-agent.service ConditionResult)
	ct=$(mono azl-agent.service ConditionTimestampMonotonic)
	st=$(prop azl-agent.service ActiveState)
	if [ "$r" = no ] && [ "$ct" -gt 0 ] && [ "$st" = inactive ]; then
		ok "azl-agent.service skipped by its conditions"
	else
		not_ok "azl-agent.service skipped by its conditions"
		diag "LoadState=$(prop azl-agent.service LoadState) ConditionResult=$r ConditionTimestampMonotonic=$ct ActiveState=$st"
	fi
	if pgrep -x hv_kvp_daemon >/dev/null; then
		not_ok "no hv_kvp_daemon process runs"
		diag "$(ps -eo pid,comm,args | grep -E 'azl|kvp')"
	else
		ok "no hv_kvp_daemon process runs"
	fi
	if getent passwd "$admin" >/dev/null; then not_ok "no user $admin was made"; else ok "no user $admin was made"; fi
}

case $mode in
azure) azure_checks ;;
azure-again) again_checks ;;
plain) plain_checks ;;
*) not_ok "azl.system=azure|azure-again|plain on the kernel command line (got '$mode')" ;;
esac

emit "# $failed check(s) not ok"
emit "AZL-SYSTEM END $results $failed"
emit "AZL-JOURNAL BEGIN"
journalctl -b --no-pager -o short-monotonic >&3 2>&1
emit "AZL-JOURNAL END"
emit "AZL-SYSTEM DONE"
exec 3>&-
sync
systemctl poweroff --no-block
