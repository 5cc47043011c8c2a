#!/usr/bin/env bash
# The units, tmpfiles and presets of systemd/ (issue 8 item 2), offline:
#   - `systemd-analyze verify` of each unit on a scratch root that holds the
#     units, the distribution's targets and stand-ins for our programs at
#     the installed paths, so a unit naming another path does not verify;
#     verify exits 0 on a bad value ("ignoring"), so any output counts as
#     a failure, and a broken copy proves the check can fail;
#   - the `systemd-analyze security --offline=true` exposure of each unit,
#     printed and held under a ceiling (systemd/README.md says why);
#   - the ordering, conditions and names the units promise, the udev rule
#     that starts azl-agent.service, the options of ExecStart= against the
#     built binary;
#   - `systemctl --root enable` and `preset` (aliases, wants links) and
#     `systemd-tmpfiles --create --root` (modes);
#   - azl-chrony-ptp.service: Hyper-V and not a container (ANDed, evaluated
#     by systemd-analyze against this machine), before chrony, and its copy
#     step run on the scratch root: a regular file, never overwritten.
#
# usage: tests/systemd/units.sh [BUILD_DIR]     (AZL_AGENT)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/tap.sh
. "$here/../tap.sh"
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build/default}
agent=${AZL_AGENT:-$build/azl-agent}
case $agent in /*) ;; *) agent="$PWD/$agent" ;; esac
units="azl-agent.service azl-provision.service azl-chrony-ptp.service"
# Ceilings of the exposure (0 safest .. 10): systemd/README.md, "Hardening".
declare -A ceiling=([azl-agent.service]=3.0 [azl-provision.service]=6.0 [azl-chrony-ptp.service]=2.0)

tmp=$(mktemp -d /tmp/systemd-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
plan 46

# unit_values FILE KEY: every value of KEY= in FILE, one word a line (an
# empty assignment resets the list, as systemd does).
unit_values() {
	awk -v key="$2" '
		/^[ \t]*[#;]/ { next }
		index($0, key "=") == 1 {
			v = substr($0, length(key) + 2)
			if (v == "") { n = 0; delete w; next }
			m = split(v, a, /[ \t]+/)
			for (i = 1; i <= m; i++) if (a[i] != "") w[++n] = a[i]
		}
		END { for (i = 1; i <= n; i++) print w[i] }' "$1"
}

# has_all NAME FILE KEY WORD...: KEY= of FILE holds every WORD.
has_all() {
	local name=$1 file=$2 key=$3 missing="" vals
	shift 3
	vals=$(unit_values "$file" "$key")
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$vals" || missing+=" $w"
	done
	if [ -z "$missing" ]; then
		ok "$name"
	else
		not_ok "$name"
		diag "$(basename "$file") $key= lacks:$missing" "it has: $(tr '\n' ' ' <<<"$vals")"
	fi
}

# is NAME WANT GOT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "want: $2" "got:  $3"; fi
}

# The scratch root: our files where `make install` puts them, the
# distribution's targets and slices (DefaultDependencies= needs
# sysinit.target and friends), stand-ins for the programs the units run.
root=$tmp/root
unitdir=$root/usr/lib/systemd/system
mkdir -p "$unitdir" "$root/usr/lib/tmpfiles.d" "$root/usr/lib/systemd/system-preset" \
	"$root/usr/sbin" "$root/usr/libexec/azl-agent" "$root/usr/bin" "$root/etc"
ln -s usr/bin "$root/bin"
for u in $units; do
	cp "$src/systemd/$u" "$unitdir/"
done
cp "$src/systemd/azl-guest.tmpfiles" "$root/usr/lib/tmpfiles.d/azl-guest.conf"
cp "$src/systemd/50-azl-guest.preset" "$root/usr/lib/systemd/system-preset/"
mkdir -p "$root/usr/share/azl-guest/chrony"
cp "$src/udev/chrony/azl-ptp-hyperv.conf" "$src/systemd/azl-chrony-ptp.tmpfiles" \
	"$root/usr/share/azl-guest/chrony/"
for p in usr/sbin/azl-agent usr/libexec/azl-agent/hv_kvp_daemon usr/bin/kill usr/bin/systemd-tmpfiles; do
	printf '#!/bin/sh\nexit 0\n' >"$root/$p"
	chmod 0755 "$root/$p"
done
host_units=""
for d in /usr/lib/systemd/system /lib/systemd/system; do
	if [ -f "$d/sysinit.target" ]; then
		host_units=$d
		break
	fi
done
if [ -n "$host_units" ]; then
	cp "$host_units"/*.target "$host_units"/*.slice "$unitdir/" 2>/dev/null
	# Ours win over any of the same name the host has.
	for u in $units; do cp "$src/systemd/$u" "$unitdir/"; done
fi
have_analyze=yes
command -v systemd-analyze >/dev/null || have_analyze=""

# verify UNIT: empty output and exit 0, or the output on stdout.
verify() {
	local out rc
	out=$(systemd-analyze verify --man=no --root="$root" "$1" 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] && [ -z "$out" ] && return 0
	echo "exit $rc: $out"
	return 1
}

# ---- 1-5: systemd-analyze verify ---------------------------------------------
for u in $units; do
	if [ -z "$have_analyze" ] || [ -z "$host_units" ]; then
		skip "verify: $u" "no systemd-analyze or no systemd units on this machine"
		continue
	fi
	if why=$(verify "$u"); then
		ok "verify: $u is clean (exit 0, nothing said)"
	else
		not_ok "verify: $u is clean"
		diag "$why"
	fi
done
if [ -z "$have_analyze" ] || [ -z "$host_units" ]; then
	skip "verify: a bad value is caught" "no systemd-analyze"
	skip "verify: a program not at its installed path is caught" "no systemd-analyze"
else
	sed 's/^Type=notify$/Type=notifyy/' "$unitdir/azl-agent.service" >"$unitdir/azl-broken1.service"
	sed 's|^ExecStart=/usr/libexec/azl-agent/|ExecStart=/usr/lib/azl-agent/|' \
		"$unitdir/azl-agent.service" >"$unitdir/azl-broken2.service"
	why=$(verify azl-broken1.service) && why=""
	if ! cmp -s "$unitdir/azl-broken1.service" "$unitdir/azl-agent.service" &&
		grep -q notifyy <<<"$why"; then
		ok "verify: a bad value (Type=notifyy) is caught although verify exits 0"
	else
		not_ok "verify: a bad value (Type=notifyy) is caught"
		diag "${why:-verify said nothing}"
	fi
	why=$(verify azl-broken2.service) && why=""
	if ! cmp -s "$unitdir/azl-broken2.service" "$unitdir/azl-agent.service" &&
		grep -q 'not executable' <<<"$why"; then
		ok "verify: a program not at its installed path is caught"
	else
		not_ok "verify: a program not at its installed path is caught"
		diag "${why:-verify said nothing}"
	fi
	rm -f "$unitdir"/azl-broken*.service
fi

# ---- 6-8: exposure ----------------------------------------------------------
for u in $units; do
	if [ -z "$have_analyze" ]; then
		skip "security: $u" "no systemd-analyze"
		continue
	fi
	line=$(systemd-analyze security --offline=true --root="$root" "$u" 2>&1 |
		grep 'Overall exposure level')
	level=$(sed -n 's/.*: \([0-9][0-9]*\.[0-9]\) .*/\1/p' <<<"$line")
	max=${ceiling[$u]}
	if [ -n "$level" ] && awk -v l="$level" -v m="$max" 'BEGIN { exit !(l <= m) }'; then
		ok "security: $u exposure $level <= $max"
	else
		not_ok "security: $u exposure ${level:-?} <= $max"
		diag "${line:-no exposure line}"
	fi
	echo "# exposure: ${line#*for }"
done

# ---- 9-20: what azl-agent.service promises -------------------------------------
a=$src/systemd/azl-agent.service
is "azl-agent: Type=notify" notify "$(unit_values "$a" Type)"
is "azl-agent: runs the whole daemon as hv_kvp_daemon" \
	"/usr/libexec/azl-agent/hv_kvp_daemon --no-daemon --agent" \
	"$(unit_values "$a" ExecStart | tr '\n' ' ' | sed 's/ $//')"
if [ -n "$(unit_values "$a" WatchdogSec)" ] && [ "$(unit_values "$a" Restart)" = on-failure ] &&
	[ -n "$(unit_values "$a" RestartSec)" ]; then
	ok "azl-agent: WatchdogSec=, Restart=on-failure, RestartSec="
else
	not_ok "azl-agent: WatchdogSec=, Restart=on-failure, RestartSec="
fi
has_all "azl-agent: Alias= the names image validation and administrators ask for" \
	"$a" Alias hv-kvp-daemon.service hypervkvpd.service
has_all "azl-agent: conflicts with the distribution's KVP daemon and with shutdown" \
	"$a" Conflicts hyperv-daemons.hv-kvp-daemon.service shutdown.target
# Early (DefaultDependencies=no), but after /var/lib and udevd.
if [ "$(unit_values "$a" DefaultDependencies)" = no ]; then
	has_all "azl-agent: early, after local file systems and udevd" \
		"$a" After local-fs.target systemd-udevd.service
	has_all "azl-agent: before sysinit.target and shutdown.target" \
		"$a" Before sysinit.target shutdown.target
else
	has_all "azl-agent: after local file systems" "$a" After local-fs.target
	skip "azl-agent: before sysinit.target" "DefaultDependencies= is on"
fi
# Skipped cleanly without Hyper-V; "|": either condition is enough.
has_all "azl-agent: conditions: VMBus, or the stand-in seam" "$a" \
	ConditionPathIsDirectory '|/sys/bus/vmbus'
has_all "azl-agent: conditions: azl.standins on the kernel command line" "$a" \
	ConditionKernelCommandLine '|azl.standins'
# Without "|": ANDed with the two above, so a container never runs it.
has_all "azl-agent: never in a container (ConditionVirtualization=!container, no |)" "$a" \
	ConditionVirtualization '!container'
if ! grep -qE '^(BindsTo|Requires)=.*(dev-vmbus|\.device)' "$a"; then
	ok "azl-agent: waits for no device (no BindsTo=/Requires= on a .device)"
else
	not_ok "azl-agent: waits for no device"
	diag "$(grep -E '^(BindsTo|Requires)=' "$a")"
fi
has_all "azl-agent: WantedBy=multi-user.target" "$a" WantedBy multi-user.target

# ---- 21-28: what azl-provision.service promises ----------------------------------
p=$src/systemd/azl-provision.service
is "azl-provision: Type=oneshot" oneshot "$(unit_values "$p" Type)"
is "azl-provision: skipped off Azure by the platform check" \
	"/usr/sbin/azl-agent provision --check-platform" \
	"$(unit_values "$p" ExecCondition | tr '\n' ' ' | sed 's/ $//')"
has_all "azl-provision: after the KVP service and the network" "$p" \
	After azl-agent.service network-online.target
# Wants= (or Requires=) would make every boot, off Azure too, wait for the
# network before the ExecCondition= skip.
is "azl-provision: does not pull in network-online.target" "" \
	"$(unit_values "$p" Wants; unit_values "$p" Requires)"
has_all "azl-provision: before sshd and logins" "$p" \
	Before ssh.service sshd.service systemd-user-sessions.service
has_all "azl-provision: never in a container" "$p" ConditionVirtualization '!container'
# The agent's budgets (up to 3600 + 7200 s by configuration) and its 120 s
# tool limit are the timeouts; systemd's would cut a configured budget short.
is "azl-provision: TimeoutStartSec=infinity" infinity "$(unit_values "$p" TimeoutStartSec)"
caps=$(unit_values "$p" CapabilityBoundingSet)
if [ -n "$caps" ] && ! grep -qx CAP_SYS_CHROOT <<<"$caps" && grep -qx CAP_SYS_ADMIN <<<"$caps"; then
	ok "azl-provision: no CAP_SYS_CHROOT (useradd gets no --root on the live system)"
else
	not_ok "azl-provision: no CAP_SYS_CHROOT"
	diag "CapabilityBoundingSet: $(tr '\n' ' ' <<<"$caps")"
fi

# ---- 29-30: the options ExecStart= passes are ones the binary takes ----------------
if [ -x "$agent" ]; then
	mkdir -p "$tmp/bin"
	ln -s "$agent" "$tmp/bin/hv_kvp_daemon"
	read -ra words <<<"$(unit_values "$a" ExecStart | tail -n +2 | tr '\n' ' ')"
	out=$("$tmp/bin/hv_kvp_daemon" "${words[@]}" --help 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q -- '--agent' <<<"$out"; then
		ok "azl-agent: hv_kvp_daemon takes ${words[*]} (parsed up to --help, exit 0)"
	else
		not_ok "azl-agent: hv_kvp_daemon takes ${words[*]}"
		diag "exit $rc" "$(head -3 <<<"$out")"
	fi
else
	skip "azl-agent: hv_kvp_daemon takes the unit's options" "$agent not built"
fi
# --agent belongs to hv_kvp_daemon: `azl-agent daemon --agent` says so in one line.
if [ -x "$agent" ]; then
	out=$("$agent" daemon --agent 2>&1)
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <<<"$out")" -eq 1 ] &&
		grep -q -- '--agent is an option of hv_kvp_daemon' <<<"$out"; then
		ok "azl-agent daemon --agent: one line saying it is hv_kvp_daemon's, exit 2"
	else
		not_ok "azl-agent daemon --agent: one line saying it is hv_kvp_daemon's, exit 2"
		diag "exit $rc" "$(head -5 <<<"$out")"
	fi
else
	skip "azl-agent daemon --agent: one line" "$agent not built"
fi

# ---- 31: the udev rule names this unit ------------------------------------------
rules=$src/udev/70-azl-hyperv.rules
if [ ! -f "$rules" ]; then
	skip "udev: the KVP device rule wants azl-agent.service" "udev/70-azl-hyperv.rules not there yet"
else
	line=$(grep -v '^[[:space:]]*#' "$rules" | grep 'vmbus/hv_kvp')
	wants=$(sed -n 's/.*ENV{SYSTEMD_WANTS}+*="\([^"]*\)".*/\1/p' <<<"$line")
	if grep -q 'SUBSYSTEM=="misc"' <<<"$line" && grep -q 'TAG+="systemd"' <<<"$line" &&
		[ "$wants" = azl-agent.service ] && [ -f "$src/systemd/$wants" ]; then
		ok "udev: the KVP device rule tags it for systemd and wants azl-agent.service"
	else
		not_ok "udev: the KVP device rule wants azl-agent.service"
		diag "rule: ${line:-none for vmbus/hv_kvp}" "SYSTEMD_WANTS: ${wants:-none}"
	fi
fi

# ---- 32-34: enable and preset on the scratch root --------------------------------
if command -v systemctl >/dev/null; then
	systemctl --root="$root" enable azl-agent.service >"$tmp/enable.log" 2>&1
	e=$root/etc/systemd/system
	if [ "$(readlink "$e/hv-kvp-daemon.service")" = /usr/lib/systemd/system/azl-agent.service ] &&
		[ "$(readlink "$e/hypervkvpd.service")" = /usr/lib/systemd/system/azl-agent.service ] &&
		[ -L "$e/multi-user.target.wants/azl-agent.service" ]; then
		ok "enable: azl-agent.service links its aliases and multi-user.target.wants"
	else
		not_ok "enable: azl-agent.service links its aliases and multi-user.target.wants"
		diag "$(cat "$tmp/enable.log")"
	fi
	rm -rf "$root/etc/systemd"
	# As Fedora and Azure Linux ship it: everything not named is disabled.
	echo 'disable *' >"$root/usr/lib/systemd/system-preset/99-default.preset"
	read -ra unit_list <<<"$units"
	systemctl --root="$root" preset "${unit_list[@]}" >"$tmp/preset.log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ -L "$e/multi-user.target.wants/azl-agent.service" ] &&
		[ -L "$e/multi-user.target.wants/azl-provision.service" ] &&
		[ -L "$e/multi-user.target.wants/azl-chrony-ptp.service" ]; then
		ok "preset: 50-azl-guest.preset enables the three units under a 'disable *' default"
	else
		not_ok "preset: 50-azl-guest.preset enables the three units"
		diag "exit $rc" "$(cat "$tmp/preset.log")"
	fi
else
	skip "enable: aliases" "no systemctl"
	skip "preset: the three units enabled" "no systemctl"
fi
bad=$(grep -vE '^(#.*|[[:space:]]*|(enable|disable) [^[:space:]]+)$' "$src/systemd/50-azl-guest.preset")
is "preset: every line is a comment or enable/disable UNIT" "" "$bad"

# ---- 35-37: tmpfiles ---------------------------------------------------------
if command -v systemd-tmpfiles >/dev/null; then
	out=$(systemd-tmpfiles --create --root="$root" azl-guest.conf 2>&1)
	rc=$?
	modes=$(stat -c '%a %U' "$root/var/lib/hyperv" "$root/var/lib/azl-agent" 2>&1 | tr '\n' ',')
	if [ "$rc" -eq 0 ] && [ -z "$out" ] && [ "$modes" = "755 root,700 root," ]; then
		ok "tmpfiles: /var/lib/hyperv 0755, /var/lib/azl-agent 0700, root's, nothing said"
	else
		not_ok "tmpfiles: /var/lib/hyperv 0755, /var/lib/azl-agent 0700"
		diag "exit $rc: $out" "modes: $modes"
	fi
	# The check can fail: a mode systemd-tmpfiles cannot parse.
	sed 's/ 0700 / 0799 /' "$root/usr/lib/tmpfiles.d/azl-guest.conf" \
		>"$root/usr/lib/tmpfiles.d/azl-broken.conf"
	out=$(systemd-tmpfiles --create --root="$root" azl-broken.conf 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && [ -n "$out" ]; then
		ok "tmpfiles: a broken copy is refused (exit $rc)"
	else
		not_ok "tmpfiles: a broken copy is refused"
		diag "exit $rc: $out"
	fi
else
	skip "tmpfiles: modes" "no systemd-tmpfiles"
	skip "tmpfiles: a broken copy is refused" "no systemd-tmpfiles"
fi
# The agent creates them with the same modes when tmpfiles has not run.
if grep -q 'make_dir(path, 0755)' "$src/agent/src/kvp_pool.c" &&
	grep -q 'mkdir_p(path, 0700)' "$src/agent/src/provision.c"; then
	ok "tmpfiles: the agent's own modes agree (kvp_pool.c 0755, provision.c 0700)"
else
	not_ok "tmpfiles: the agent's own modes agree"
fi

# ---- 38-44: azl-chrony-ptp.service -------------------------------------------------
c=$src/systemd/azl-chrony-ptp.service
is "azl-chrony-ptp: Type=oneshot, early (DefaultDependencies=no)" "oneshot no" \
	"$(unit_values "$c" Type) $(unit_values "$c" DefaultDependencies)"
has_all "azl-chrony-ptp: after local file systems" "$c" After local-fs.target
has_all "azl-chrony-ptp: before chronyd (Fedora, Azure Linux), chrony (Debian), time-sync.target" "$c" \
	Before chronyd.service chrony.service time-sync.target
# Two lines without "|" are ANDed: Hyper-V and not a container.
is "azl-chrony-ptp: ConditionVirtualization= microsoft AND !container (no |)" "microsoft !container" \
	"$(unit_values "$c" ConditionVirtualization | tr '\n' ' ' | sed 's/ $//')"
# What systemd makes of them here, against systemd-detect-virt's answer.
if [ -n "$have_analyze" ] && command -v systemd-detect-virt >/dev/null; then
	mapfile -t conds < <(grep '^Condition' "$c")
	systemd-analyze condition "${conds[@]}" >"$tmp/cond.log" 2>&1
	rc=$?
	vm=$(systemd-detect-virt -v 2>/dev/null) ct=$(systemd-detect-virt -c 2>/dev/null)
	want=1
	[ "$vm" = microsoft ] && [ "$ct" = none ] && want=0
	[ "$rc" -ne 0 ] && rc=1
	if [ "$rc" -eq "$want" ]; then
		ok "azl-chrony-ptp: systemd-analyze condition says $([ $rc -eq 0 ] && echo run || echo skip) here (vm ${vm:-none}, container ${ct:-none})"
	else
		not_ok "azl-chrony-ptp: conditions evaluated here"
		diag "vm ${vm:-none}, container ${ct:-none}, exit $rc" "$(cat "$tmp/cond.log")"
	fi
else
	skip "azl-chrony-ptp: conditions evaluated here" "no systemd-analyze or systemd-detect-virt"
fi
# The copy step, ExecStart='s own command, on the scratch root: a regular
# file with the template's bytes, mode 0644; an edited copy survives a rerun.
if command -v systemd-tmpfiles >/dev/null; then
	read -ra words <<<"$(unit_values "$c" ExecStart | tr '\n' ' ')"
	frag=${words[-1]}
	cdst=$root/etc/chrony.d/azl-ptp-hyperv.conf
	rm -rf "$root/etc/chrony.d"
	out=$(systemd-tmpfiles --create --root="$root" "$root$frag" 2>&1)
	rc=$?
	if [ "${words[0]}" = systemd-tmpfiles ] && [ "$rc" -eq 0 ] && [ -z "$out" ] && [ -f "$cdst" ] &&
		[ ! -L "$cdst" ] && [ "$(stat -c %a "$cdst")" = 644 ] &&
		cmp -s "$cdst" "$src/udev/chrony/azl-ptp-hyperv.conf" && grep -q '^refclock PHC /dev/ptp_hyperv' "$cdst"; then
		ok "azl-chrony-ptp: its tmpfiles step makes /etc/chrony.d/azl-ptp-hyperv.conf, a regular 0644 file, the template's bytes"
	else
		not_ok "azl-chrony-ptp: its tmpfiles step makes /etc/chrony.d/azl-ptp-hyperv.conf"
		diag "command: ${words[*]}" "exit $rc: $out" "$(ls -l "$cdst" 2>&1)"
	fi
	echo '# edited' >"$cdst"
	systemd-tmpfiles --create --root="$root" "$root$frag" >/dev/null 2>&1
	is "azl-chrony-ptp: an existing file is left alone (only copied when absent)" "# edited" "$(cat "$cdst" 2>&1)"
else
	skip "azl-chrony-ptp: the copy step" "no systemd-tmpfiles"
	skip "azl-chrony-ptp: an existing file is left alone" "no systemd-tmpfiles"
fi
has_all "azl-chrony-ptp: WantedBy=multi-user.target" "$c" WantedBy multi-user.target

# ---- 46: LISA's log words in what systemd prints of ours ------------------------
hits=$(grep -hvE '^[[:space:]]*[#;]' "$src"/systemd/*.service | grep -E '^Description=' |
	grep -E 'fail|error|warning')
is "units: no lowercase fail/error/warning in a Description=" "" "$hits"
done_testing
