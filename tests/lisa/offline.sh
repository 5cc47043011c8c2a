#!/usr/bin/env bash
# shellcheck disable=SC2046  # file lists are split on purpose: no blanks in them
# Microsoft's image validation (LISA, research/lisa.md §9), the checks that
# can run offline, against the INSTALLED package: `make install` and
# `make install-kmod` into a scratch DESTDIR with PREFIX=/usr, then each
# check reads the installed files the way LISA reads an image (LISA's own
# `find` for chrony, its LUN regex for the disk links...).  The map of the
# fifteen items to this suite and the others is tests/lisa/README.md.
#
# A check whose source file is not in the tree yet says SKIP with the file;
# once the source exists, a missing installed file is a failure.
#
# usage: tests/lisa/offline.sh BUILD_DIR     (make, perl; root not needed)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/tap.sh
. "$here/../tap.sh"
build=${1:?usage: offline.sh BUILD_DIR}
case $build in /*) ;; *) build="$PWD/$build" ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lisa-offline.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
D="$tmp/dest"
plan 28

# The sources the install is made of (tree paths), for SKIP versus failure.
# need SRC...: true when every SRC is in the tree; else prints the missing.
need() {
	local m=""
	for f in "$@"; do [ -e "$top/$f" ] || m+=" $f"; done
	[ -z "$m" ] && return 0
	echo "not in the tree yet:$m"
	return 1
}

# ---- 1: the install itself ----------------------------------------------------------
install_ok=0
if make -C "$top" --no-print-directory -s install install-kmod DESTDIR="$D" PREFIX=/usr \
	BUILD="$build" >"$tmp/install.log" 2>&1; then
	install_ok=1
	ok "make install install-kmod DESTDIR=… PREFIX=/usr succeed ($(find "$D" -type f -o -type l | wc -l) files)"
else
	# Missing sources are work in progress (SKIP); with every source there, a failure.
	srcs="udev/10-azl-net-vf.rules udev/70-azl-hyperv.rules udev/80-azl-disk.rules
	      udev/01-azl-unmanaged-vf.network udev/chrony/azl-ptp-hyperv.conf
	      udev/dracut/50-azl-guest.conf udev/70-azl-kmod.rules udev/modprobe/azl-guest.conf
	      systemd/azl-agent.service systemd/azl-provision.service"
	# shellcheck disable=SC2086
	if why=$(need $srcs); then
		not_ok "make install install-kmod DESTDIR=… PREFIX=/usr succeed"
		diag "$(tail -n 15 "$tmp/install.log")"
	else
		skip "make install install-kmod DESTDIR=… PREFIX=/usr succeed" "$why"
		# Install what can be installed, one file at a time, for the rest.
		make -C "$top" --no-print-directory -s -k install install-kmod DESTDIR="$D" \
			PREFIX=/usr BUILD="$build" >>"$tmp/install.log" 2>&1
	fi
fi

# inst PATH: the installed file (under DESTDIR).
inst() { echo "$D$1"; }
# check_file NAME SRC INSTALLED CMD...: SKIP when SRC is not in the tree,
# failure when it is and INSTALLED is not there, else CMD decides.
check_file() {
	local name=$1 src=$2 f=$3 why
	shift 3
	if ! why=$(need "$src"); then
		skip "$name" "$why"
	elif [ ! -e "$f" ] && [ ! -L "$f" ] && [ "$install_ok" = 0 ]; then
		skip "$name" "${f#"$D"} not installed: make install stopped at a source not in the tree yet"
	elif [ ! -e "$f" ] && [ ! -L "$f" ]; then
		not_ok "$name"
		diag "$src is in the tree but ${f#"$D"} is not installed"
	elif "$@"; then
		ok "$name"
	else
		not_ok "$name"
		[ -s "$tmp/why" ] && diag "$(cat "$tmp/why")"
	fi
	: >"$tmp/why"
}
: >"$tmp/why"
say() { printf '%s\n' "$@" >>"$tmp/why"; }

# Every installed udev rule, modprobe.d file and unit (for the scans below).
rules() { find "$D" -path '*/rules.d/*.rules' -type f 2>/dev/null | sort; }
modprobe_files() { find "$D" -path '*/modprobe.d/*' -type f 2>/dev/null | sort; }
unit_files() { find "$D" -path '*/systemd/system/*' -type f 2>/dev/null | sort; }
# Comment lines and continuation are not an issue for these greps: our files
# keep one directive a line; comments are dropped.
nocomment() { grep -hvE '^[[:space:]]*#' "$@" 2>/dev/null; }

# The agent's defaults, as the installed azl-agent.conf(5) gives them (the
# page is required: it is what an administrator reads).
man5=$(inst /usr/share/man/man5/azl-agent.conf.5)
# man_default KEY: the value of the ".TP" entry "\fBKEY\fR = \fBVALUE\fR"
# of $man5 (font escapes dropped); fails, saying why, without the page or entry.
man_default() {
	local v
	[ -f "$man5" ] || { say "azl-agent.conf(5) is not installed (${man5#"$D"})"; return 1; }
	v=$(awk -v key="$1" '
		{ l = $0; gsub(/\\f[BIRP]/, "", l) }
		prev == ".TP" && index(l, key " = ") == 1 { print substr(l, length(key) + 4); exit }
		{ prev = $0 }' "$man5")
	[ -n "$v" ] || { say "azl-agent.conf(5) gives no default for $1"; return 1; }
	echo "$v"
}

# ---- 2-4: item 1 and 2, the static part (the live checks are tests/kvp/lisa.sh) ---
kvp_name() {
	local u link exe
	u=$(inst /usr/lib/systemd/system/azl-agent.service)
	exe=$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$u" | head -n 1)
	# pgrep matches the comm: the basename of the program run, 15 bytes at most.
	[ "$(basename "$exe")" = hv_kvp_daemon ] || { say "ExecStart runs $exe"; return 1; }
	link=$(readlink "$D$exe") || { say "$exe is not a symlink in the install"; return 1; }
	[ "$link" = /usr/sbin/azl-agent ] && [ -x "$D/usr/sbin/azl-agent" ] ||
		{ say "$exe -> $link"; return 1; }
}
check_file "item 1: azl-agent.service runs the installed hv_kvp_daemon -> /usr/sbin/azl-agent (comm hv_kvp_daemon)" \
	systemd/azl-agent.service "$(inst /usr/lib/systemd/system/azl-agent.service)" kvp_name

kvp_alias() {
	local a
	a=$(sed -n 's/^Alias=//p' "$1" | tr ' ' '\n')
	for n in hv-kvp-daemon.service hypervkvpd.service; do
		grep -qx "$n" <<<"$a" || { say "no Alias=$n"; return 1; }
	done
}
check_file "item 1: LISA's systemctl names hv-kvp-daemon and hypervkvpd are Alias= of azl-agent.service" \
	systemd/azl-agent.service "$(inst /usr/lib/systemd/system/azl-agent.service)" \
	kvp_alias "$(inst /usr/lib/systemd/system/azl-agent.service)"

kvp_dir() {
	# tmpfiles.d: "d /var/lib/hyperv 0755 ..." (LISA: pools 0644 in a 0755 directory).
	nocomment "$1" | awk '$1 ~ /^[dDv]$/ && $2 == "/var/lib/hyperv" && $3 == "0755" { f = 1 } END { exit !f }' ||
		{ say "no 'd /var/lib/hyperv 0755' line"; return 1; }
}
check_file "item 2: tmpfiles.d creates /var/lib/hyperv 0755" systemd/azl-guest.tmpfiles \
	"$(inst /usr/lib/tmpfiles.d/azl-guest.conf)" kvp_dir "$(inst /usr/lib/tmpfiles.d/azl-guest.conf)"

# ---- 5-7: item 5, channel counts untouched (static part) ------------------------------
mp_no_subch() {
	local hits
	hits=$(nocomment $(modprobe_files) /dev/null | grep -n 'storvsc_vcpus_per_sub_channel')
	[ -z "$hits" ] || { say "$hits"; return 1; }
}
check_file "item 5: no storvsc_vcpus_per_sub_channel in the installed modprobe.d" \
	udev/modprobe/azl-guest.conf "$(inst /usr/lib/modprobe.d/azl-guest.conf)" mp_no_subch

mp_no_channels() {
	# azl_netvsc keeps the kernel's channel count unless told (channels=0).
	local hits
	hits=$(nocomment $(modprobe_files) /dev/null | grep -nE '^[[:space:]]*options[[:space:]]+(azl_netvsc|hv_netvsc)\b.*\b(channels|max_num_vrss)=[1-9]')
	[ -z "$hits" ] || { say "$hits"; return 1; }
	local d
	d=$(man_default netvsc_channels) || return 1
	[ "$d" = kernel ] ||
		{ say "azl-agent.conf(5): [modules] netvsc_channels default is '$d', not 'kernel'"; return 1; }
}
check_file "item 5: modprobe.d sets no netvsc channel count; the netvsc_channels default the installed azl-agent.conf(5) gives is kernel" \
	udev/modprobe/azl-guest.conf "$(inst /usr/lib/modprobe.d/azl-guest.conf)" mp_no_channels

no_ethtool() {
	local hits
	# shellcheck disable=SC2046
	hits=$(grep -nE 'ethtool([^#]*)(-L|--set-channels)' $(unit_files) $(rules) /dev/null)
	[ -z "$hits" ] || { say "$hits"; return 1; }
}
check_file "item 5: no 'ethtool -L' / --set-channels in an installed unit or udev rule" \
	systemd/azl-agent.service "$(inst /usr/lib/systemd/system/azl-agent.service)" no_ethtool

# ---- 8-10: item 6, /dev/ptp_hyperv and chrony -----------------------------------------
# ptp_rule: a rule line with exactly LISA's match and symlink, in any key order.
ptp_rule() {
	# shellcheck disable=SC2046
	nocomment $(rules) /dev/null | perl -ne '
		my %k;
		while (/([A-Z_]+(?:\{[^}]*\})?)\s*(==|\+=|=|!=|:=)\s*"([^"]*)"/g) { $k{"$1$2"} = $3 }
		$f = 1 if ($k{"SUBSYSTEM=="} // "") eq "ptp" &&
			  ($k{"ATTR{clock_name}=="} // "") eq "hyperv" &&
			  ($k{"SYMLINK+="} // "") =~ /(^|\s)ptp_hyperv(\s|$)/;
		END { exit !$f }' || { say 'no rule line with SUBSYSTEM=="ptp", ATTR{clock_name}=="hyperv", SYMLINK+="ptp_hyperv"'; return 1; }
}
check_file "item 6: a rule SUBSYSTEM==\"ptp\", ATTR{clock_name}==\"hyperv\", SYMLINK+=\"ptp_hyperv\"" \
	udev/70-azl-hyperv.rules "$(inst /usr/lib/udev/rules.d/70-azl-hyperv.rules)" ptp_rule

# lisa_chrony ETC: LISA's find expression (timesync.py), run on ETC (the
# install's /etc), and its check: the regular files it finds hold "ptp_hyperv".
lisa_chrony() {
	local etc=$1
	find "$etc" \( -path "$etc/chrony.conf" -o -path "$etc/chrony/chrony.conf" \
		-o -path "$etc/chrony.d/*.conf" -o -path "$etc/chrony/conf.d/*.conf" \) -type f -print0 |
		xargs -0 -r cat | grep -q ptp_hyperv
}
# The template is installed under /usr/share/azl-guest/chrony; on Hyper-V,
# azl-chrony-ptp.service copies it into /etc/chrony.d at boot (a PHC
# refclock chrony cannot open stops chronyd, so never off Hyper-V).  LISA
# looks at the booted VM: run the unit's own copy step (its ExecStart=,
# systemd-tmpfiles on the shipped fragment) against the install first.
chrony_step() {
	local u frag
	u=$(inst /usr/lib/systemd/system/azl-chrony-ptp.service)
	[ -f "$u" ] || { echo "azl-chrony-ptp.service not installed" >"$tmp/chrony-step.log"; return 1; }
	frag=$(sed -n 's/^ExecStart=systemd-tmpfiles --create \(\/[^ ]*\)$/\1/p' "$u")
	[ -n "$frag" ] || { echo "ExecStart= is not 'systemd-tmpfiles --create FRAGMENT'" >"$tmp/chrony-step.log"; return 1; }
	systemd-tmpfiles --create --root="$D" "$D$frag" >"$tmp/chrony-step.log" 2>&1
}
: >"$tmp/chrony-step.log"
# Without systemd-tmpfiles the copy step cannot run: both checks below SKIP
# and say so (the missing file would otherwise look like a packaging bug).
have_tmpfiles=0
command -v systemd-tmpfiles >/dev/null && have_tmpfiles=1
[ "$have_tmpfiles" = 1 ] && chrony_step
chrony_ok() {
	local f
	[ -s "$tmp/chrony-step.log" ] && say "the copy step: $(cat "$tmp/chrony-step.log")"
	f=$(inst /etc/chrony.d/azl-ptp-hyperv.conf)
	[ -f "$f" ] && [ ! -L "$f" ] || { say "not a regular file: ${f#"$D"}"; return 1; }
	lisa_chrony "$D/etc" || { say "LISA's find on the install's /etc finds no ptp_hyperv"; return 1; }
	nocomment "$f" | grep -qE '^[[:space:]]*refclock[[:space:]]+PHC[[:space:]]+/dev/ptp_hyperv\b' ||
		{ say "no 'refclock PHC /dev/ptp_hyperv' line"; return 1; }
}
# check_chrony NAME FUNC: check_file on the copied drop-in, or SKIP without the copy step.
check_chrony() {
	if [ "$have_tmpfiles" = 0 ]; then
		skip "$1" "no systemd-tmpfiles on this host: azl-chrony-ptp.service's copy step cannot run"
	else
		check_file "$1" udev/chrony/azl-ptp-hyperv.conf "$(inst /etc/chrony.d/azl-ptp-hyperv.conf)" "$2"
	fi
}
check_chrony "item 6: azl-chrony-ptp.service's copy step makes /etc/chrony.d/azl-ptp-hyperv.conf, a regular file LISA's find reads, refclock PHC /dev/ptp_hyperv" \
	chrony_ok

# Negative: the same file as a symlink, or under /usr/lib, is what LISA misses.
chrony_neg() {
	local e="$tmp/etc-neg"
	mkdir -p "$e/chrony.d" "$tmp/usrlib"
	cp "$(inst /etc/chrony.d/azl-ptp-hyperv.conf)" "$tmp/usrlib/azl-ptp-hyperv.conf"
	ln -s "$tmp/usrlib/azl-ptp-hyperv.conf" "$e/chrony.d/azl-ptp-hyperv.conf"
	! lisa_chrony "$e" || { say "LISA's find accepted a symlinked drop-in"; return 1; }
}
check_chrony "item 6 (negative): the check rejects the drop-in as a symlink, as LISA's -type f does" \
	chrony_neg

# ---- 11-13: item 7, /dev/disk/azure/scsi1/lunN from the installed helper --------------
# fake_scsi ROOT CONTROLLER_GUID HOST LUN NAME: a storvsc disk under a VMBus
# device, as sysfs lays it out (/sys/class/block/NAME -> the device tree).
fake_scsi() {
	local root=$1 guid=$2 host=$3 lun=$4 name=$5
	local vmbus="devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/$guid"
	local sdev="$vmbus/host$host/target$host:0:0/$host:0:0:$lun"
	mkdir -p "$root/sys/$sdev/block/$name" "$root/sys/class/block"
	echo "{$guid}" >"$root/sys/$vmbus/device_id"
	echo "{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}" >"$root/sys/$vmbus/class_id"
	ln -sfn "../../../$host:0:0:$lun" "$root/sys/$sdev/block/$name/device"
	echo "Msft    " >"$root/sys/$sdev/vendor"
	echo "Virtual Disk    " >"$root/sys/$sdev/model"
	ln -sfn "../../$sdev/block/$name" "$root/sys/class/block/$name"
}
helper=$(inst /usr/lib/udev/azl-udev)
fake="$tmp/fake"
data=f8b3781b-1e82-4818-a1c3-63d806ec15bb
os=f8b3781a-1e82-4818-a1c3-63d806ec15bb
fake_scsi "$fake" "$data" 1 0 sdc
fake_scsi "$fake" "$data" 1 5 sdd
fake_scsi "$fake" "$data" 1 63 sde
fake_scsi "$fake" "$os" 0 0 sda
fake_scsi "$fake" "$os" 0 1 sdb
# LISA's filter of `ls /dev/disk/azure/scsi1` (features/disks.py).
lisa_lun='/dev/disk/azure/scsi[0-9]/lun[0-9][0-9]?$'
helper_luns() {
	local out got="" want
	for d in sdc sdd sde; do
		out=$("$helper" --root "$fake" disk "$d" 2>>"$tmp/helper.err") ||
			{ say "azl-udev disk $d: exit $? $(cat "$tmp/helper.err")"; return 1; }
		got+="$(sed -n 's/^AZL_DISK_LEGACY=//p' <<<"$out") "
	done
	want="scsi1/lun0 scsi1/lun5 scsi1/lun63 "
	[ "$got" = "$want" ] || { say "AZL_DISK_LEGACY: got '$got', want '$want'"; return 1; }
	for l in $got; do
		grep -qE "$lisa_lun" <<<"/dev/disk/azure/$l" || { say "/dev/disk/azure/$l fails $lisa_lun"; return 1; }
	done
	out=$("$helper" --root "$fake" disk sda; "$helper" --root "$fake" disk sdb)
	grep -qx 'AZL_DISK_LEGACY=root' <<<"$out" && grep -qx 'AZL_DISK_LEGACY=resource' <<<"$out" ||
		{ say "scsi0 LUN 0 / 1: $out"; return 1; }
}
check_file "item 7: installed azl-udev on fake sysfs: controller {f8b3781b-…} LUN 0, 5, 63 -> scsi1/lun0|5|63 (LISA's regex); LUN 0/1 of f8b3781a -> root, resource" \
	agent/src/main_udev.c "$helper" helper_luns

# The rule turns AZL_DISK_LEGACY into /dev/disk/azure/<it> and <it>-part%n.
rule_links() {
	local r
	r=$(nocomment "$(inst /usr/lib/udev/rules.d/80-azl-disk.rules)")
	grep -q 'IMPORT{program}=[^,]*azl-udev' <<<"$r" || { say "no IMPORT{program} of azl-udev"; return 1; }
	grep -qE 'SYMLINK\+="disk/azure/\$env\{AZL_DISK_LEGACY\}"' <<<"$r" ||
		{ say 'no SYMLINK+="disk/azure/$env{AZL_DISK_LEGACY}"'; return 1; }
	grep -qE 'SYMLINK\+="disk/azure/\$env\{AZL_DISK_LEGACY\}-part%n"' <<<"$r" ||
		{ say 'no SYMLINK+="disk/azure/$env{AZL_DISK_LEGACY}-part%n"'; return 1; }
}
check_file "item 7: 80-azl-disk.rules imports azl-udev and links disk/azure/\$env{AZL_DISK_LEGACY} and -part%n" \
	udev/80-azl-disk.rules "$(inst /usr/lib/udev/rules.d/80-azl-disk.rules)" rule_links

# Negative: a controller that is not Azure's data controller gives no name.
helper_neg() {
	local f2="$tmp/fake2" out
	fake_scsi "$f2" f8b3781e-1e82-4818-a1c3-63d806ec15bb 2 5 sdf
	out=$("$helper" --root "$f2" disk sdf 2>&1)
	[ -z "$out" ] || { say "controller f8b3781e: '$out'"; return 1; }
}
check_file "item 7 (negative): a disk under controller {f8b3781e-…} gets no /dev/disk/azure name" \
	agent/src/main_udev.c "$helper" helper_neg

# ---- 14-15: item 8, SCSI timeout (15: negative) ----------------------------------------------------
timeout_ok() {
	local r t agent_t
	# shellcheck disable=SC2046
	r=$(nocomment $(rules) /dev/null)
	t=$(grep -oE 'ATTR\{(device/)?timeout\}="[0-9]+"' <<<"$r" | grep -oE '[0-9]+' | sort -u)
	[ -n "$t" ] || { say "no rule writes ATTR{device/timeout}"; return 1; }
	[ "$(wc -l <<<"$t")" -eq 1 ] || { say "rules write different timeouts: $t"; return 1; }
	agent_t=$(man_default storvsc_timeout) || return 1
	[ "$t" = 300 ] && [ "$agent_t" = 300 ] ||
		{ say "rule $t, azl-agent.conf(5) [modules] storvsc_timeout default $agent_t; both must be 300"; return 1; }
}
check_file "item 8: the rule's SCSI timeout is 300, the [modules] storvsc_timeout default the installed azl-agent.conf(5) gives" \
	udev/80-azl-disk.rules "$(inst /usr/lib/udev/rules.d/80-azl-disk.rules)" timeout_ok

# Negative: the same two checks on a planted page with other defaults, and
# with no page at all, must fail.
man_neg() {
	local p="$tmp/planted.conf.5" got=""
	sed -e 's/^\(\\fBstorvsc_timeout\\fR = \\fB\)300/\130/' \
	    -e 's/^\(\\fBnetvsc_channels\\fR = \\fB\)kernel/\1max/' "$man5" >"$p"
	man5=$p timeout_ok && got+=" timeout(30)"
	man5=$p mp_no_channels && got+=" channels(max)"
	man5="$tmp/none.5" timeout_ok && got+=" timeout(no page)"
	man5="$tmp/none.5" mp_no_channels && got+=" channels(no page)"
	: >"$tmp/why"
	[ -z "$got" ] || { say "accepted:$got"; return 1; }
}
check_file "items 5, 8 (negative): a planted azl-agent.conf(5) with storvsc_timeout 30 or netvsc_channels max, or none, fails both checks" \
	man/azl-agent.conf.5 "$man5" man_neg

# ---- 16: item 8 / S1-S2, the waagent.conf LISA reads ---------------------------------
w=$(inst /etc/waagent.conf)
if [ -f "$w" ]; then
	# LISA's parse: ^\s*(\S+)=(\S+)\s*$
	wt=$(sed -nE 's/^[[:space:]]*OS\.RootDeviceScsiTimeout=([^[:space:]]+)[[:space:]]*$/\1/p' "$w")
	if [ "$wt" = 300 ] && grep -qE '^[[:space:]]*ResourceDisk\.MountPoint=\S+' "$w" &&
		grep -qE '^[[:space:]]*ResourceDisk\.EnableSwap=[yn]' "$w"; then
		ok "items 8, 13: waagent.conf gives OS.RootDeviceScsiTimeout=300, ResourceDisk.MountPoint, EnableSwap"
	else
		not_ok "items 8, 13: waagent.conf gives OS.RootDeviceScsiTimeout=300, ResourceDisk.MountPoint, EnableSwap"
	fi
else
	skip "items 8, 13: the waagent.conf LISA reads (OS.RootDeviceScsiTimeout, ResourceDisk.*)" \
		"by design: the package ships no /etc/waagent.conf or cloud-init mounts config (tests/lisa/README.md)"
fi

# ---- 17-18: item 9, the initramfs modules and no blacklist --------------------------
dracut_ok() {
	local f=$1 v missing=""
	# dracut sources its conf files with bash: read them the same way.
	v=$(bash -c 'add_drivers=""; force_drivers=""; . "$1"; echo "$add_drivers $force_drivers"' _ "$f") ||
		{ say "bash cannot source it"; return 1; }
	for m in hv_vmbus hv_storvsc hv_netvsc hid_hyperv hyperv_keyboard; do
		# modprobe treats - and _ alike; accept either spelling.
		grep -qwE "${m//_/[-_]}" <<<"$v" || missing+=" $m"
	done
	[ -z "$missing" ] || { say "add_drivers/force_drivers: '$v'; missing:$missing"; return 1; }
}
check_file "item 9: the dracut drop-in adds hv_vmbus, hv_storvsc, hv_netvsc, hid-hyperv, hyperv-keyboard" \
	udev/dracut/50-azl-guest.conf "$(inst /usr/lib/dracut/dracut.conf.d/50-azl-guest.conf)" \
	dracut_ok "$(inst /usr/lib/dracut/dracut.conf.d/50-azl-guest.conf)"

mp_no_blacklist() {
	local hits
	# shellcheck disable=SC2046
	hits=$(nocomment $(modprobe_files) /dev/null |
		grep -nE '^[[:space:]]*blacklist[[:space:]]+(hv_balloon|hyperv_keyboard|hv_utils|hv_vmbus|hv_storvsc|hv_netvsc|hid_hyperv)\b')
	[ -z "$hits" ] || { say "$hits"; return 1; }
}
check_file "item 9: no modprobe.d blacklist of hv_balloon, hyperv_keyboard, hv_utils (nor the other hv modules)" \
	udev/modprobe/azl-guest.conf "$(inst /usr/lib/modprobe.d/azl-guest.conf)" mp_no_blacklist

# ---- 19-21: item 10, reload counting safety (static part) ---------------------------
mp_no_install() {
	local hits
	# shellcheck disable=SC2046
	hits=$(nocomment $(modprobe_files) /dev/null | grep -nE '^[[:space:]]*(install|remove)[[:space:]]')
	[ -z "$hits" ] || { say "$hits"; return 1; }
	# A softdep that pulls in one of ours is fine; one naming an hv_ module substring is not.
	hits=$(nocomment $(modprobe_files) /dev/null | grep -nE '^[[:space:]]*softdep[[:space:]].*(hv_netvsc|hv_storvsc|hv_vmbus)')
	[ -z "$hits" ] || { say "$hits"; return 1; }
}
check_file "item 10: no install/remove directives, no softdep on hv_* in the installed modprobe.d" \
	udev/modprobe/azl-guest.conf "$(inst /usr/lib/modprobe.d/azl-guest.conf)" mp_no_install

# module_names TREE KO_DIR...: every module name the Kbuild files under TREE
# build (their obj-* "NAME.o" entries, continuation lines joined), and every
# .ko under the KO_DIRs.
module_names() {
	local tree=$1
	shift
	{
		find "$tree" -name Kbuild -type f -exec cat {} + 2>/dev/null |
			sed -e ':a' -e '/\\$/{N;s/\\\n/ /;ba' -e '}' |
			sed -nE 's/^[[:space:]]*obj-[^[:space:]:+=]*[[:space:]]*[:+]?=(.*)$/\1/p' |
			tr '[:blank:]' '\n' | sed -n 's/\.o$//p'
		find "$@" -name '*.ko*' -type f 2>/dev/null | sed 's|.*/||; s/\.ko.*//'
	} | sort -u
}
hv_names() { grep -E 'hv_netvsc|hv_storvsc|hv_vmbus|hv_utils|hv_balloon|hid_hyperv|hyperv_keyboard'; }

# The installed module sources (make install-kmod: DESTDIR/usr/src/azl-guest-*/kmod).
kbuilds=$(find "$D/usr/src" -path '*/kmod/*/Kbuild' -type f 2>/dev/null | wc -l)
tree_kbuilds=$(find "$top/kmod" -name Kbuild -type f | wc -l)
names=$(module_names "$D/usr/src" "$build/kmod" "$D")
bad=$(hv_names <<<"$names")
name10="item 10: no module the installed sources build (or a built .ko) has hv_netvsc, hv_storvsc, hv_vmbus (or another hv name) in its name"
if [ "$kbuilds" = 0 ] && [ "$install_ok" = 0 ]; then
	skip "$name10" "no Kbuild installed under /usr/src: make install stopped at a source not in the tree yet"
elif [ "$kbuilds" -ge 1 ] && [ "$kbuilds" = "$tree_kbuilds" ] && [ -n "$names" ] && [ -z "$bad" ]; then
	ok "$name10: $(tr '\n' ' ' <<<"$names")"
else
	not_ok "$name10"
	diag "Kbuild files installed under /usr/src/*/kmod: $kbuilds (kmod/ has $tree_kbuilds)" \
		"names: $(tr '\n' ' ' <<<"$names")" "bad: $(tr '\n' ' ' <<<"$bad")"
fi
# Negative: the same scan on a planted source tree and .ko directory.
mkdir -p "$tmp/planted-kmod/src/kmod/x" "$tmp/planted-kmod/ko"
# shellcheck disable=SC1003  # a Kbuild continuation line, backslash and all
printf '%s\n' 'obj-m += x_hv_netvsc.o' 'obj-m += azl_a.o \' '	z_hv_vmbus.o' 'x_hv_netvsc-y := main.o' \
	>"$tmp/planted-kmod/src/kmod/x/Kbuild"
: >"$tmp/planted-kmod/ko/y_hv_storvsc.ko"
bad=$(module_names "$tmp/planted-kmod/src" "$tmp/planted-kmod/ko" | hv_names | tr '\n' ' ')
if [ "$bad" = "x_hv_netvsc y_hv_storvsc z_hv_vmbus " ]; then
	ok "item 10 (negative): the scan catches a planted Kbuild 'obj-m += x_hv_netvsc.o' (and a continued z_hv_vmbus.o) and y_hv_storvsc.ko"
else
	not_ok "item 10 (negative): the scan catches a planted Kbuild 'obj-m += x_hv_netvsc.o' (and a continued z_hv_vmbus.o) and y_hv_storvsc.ko"
	diag "caught: '$bad'"
fi

# ---- 22: item 10: the udev rule that loads our modules does not reload hv_* ----------
kmod_rule() {
	local r
	r=$(nocomment "$(inst /usr/lib/udev/rules.d/70-azl-kmod.rules)")
	! grep -nE '(modprobe|RUN\{builtin\}\+?="kmod load)[^"]*\b(hv_netvsc|hv_storvsc|hv_vmbus|hv_utils)\b' <<<"$r" ||
		{ say "the rule loads an hv_ module"; return 1; }
	grep -qE 'azl_(vmbus|storvsc|netvsc|accel)' <<<"$r" || { say "the rule loads none of ours"; return 1; }
	# Never from modules-load.d (it would fail off Hyper-V).
	[ -z "$(find "$D" -path '*/modules-load.d/*' -type f)" ] || { say "a modules-load.d file is installed"; return 1; }
}
check_file "item 10/14: 70-azl-kmod.rules loads only azl_* modules, nothing in modules-load.d" \
	udev/70-azl-kmod.rules "$(inst /usr/lib/udev/rules.d/70-azl-kmod.rules)" kmod_rule

# ---- 23-25: item 14, the static part ----------------------------------------------------
persist=$(find "$D" \( -name '70-persistent-net.rules' -o -name '75-persistent-net-generator.rules' \) 2>/dev/null)
if [ "$install_ok" = 1 ] || [ -d "$D/usr" ]; then
	if [ -z "$persist" ]; then
		ok "item 14: no 70-persistent-net.rules / 75-persistent-net-generator.rules in the install"
	else
		not_ok "item 14: no 70-persistent-net.rules / 75-persistent-net-generator.rules in the install"
		diag "$persist"
	fi
else
	skip "item 14: no persistent-net rules in the install" "nothing was installed"
fi

units_skip() {
	local u bad=""
	for u in $(unit_files); do
		case $u in *.service) ;; *) continue ;; esac
		grep -qE '^(Condition[A-Za-z]+|ExecCondition)=' "$u" || bad+=" ${u#"$D"}"
	done
	[ -z "$bad" ] || { say "no Condition*= or ExecCondition=:$bad"; return 1; }
}
check_file "item 14: every installed service has a Condition*= or ExecCondition= that skips it off Hyper-V/Azure" \
	systemd/azl-agent.service "$(inst /usr/lib/systemd/system/azl-agent.service)" units_skip

no_rename() {
	local hits
	# Our rules must not race VF renames (LISA Sriov.verify_services_state): no NAME=.
	# shellcheck disable=SC2046
	hits=$(nocomment $(rules) /dev/null | grep -nE '(^|,)[[:space:]]*NAME[[:space:]]*:?=')
	[ -z "$hits" ] || { say "$hits"; return 1; }
}
check_file "item 14: no installed rule renames a network interface (NAME=)" \
	udev/10-azl-net-vf.rules "$(inst /usr/lib/udev/rules.d/10-azl-net-vf.rules)" no_rename

# ---- 26-28: item 15, the distribution files ------------------------------------------
# dhcp_low DIR: the NetworkManager DHCP timeouts below 300 s in the files
# under DIR: "ipv4.dhcp-timeout=N" (NetworkManager.conf [connection]
# defaults) and "dhcp-timeout=N" in an [ipv4] section (a keyfile profile).
dhcp_low() {
	{ grep -rlIE 'dhcp-timeout' "$1" 2>/dev/null || :; } | tr '\n' '\0' | xargs -0 -r perl -ne '
		$sec = $1 if /^\s*\[([^\]]*)\]/;
		if (/^\s*ipv4\.dhcp-timeout\s*=\s*(\d+)/ ||
		    ($sec eq "ipv4" && /^\s*dhcp-timeout\s*=\s*(\d+)/)) {
			print "$ARGV:$.: $_" if $1 < 300;
		}
		if (eof) { close ARGV; $sec = "" }'
}
name15="item 15: the package sets no NetworkManager DHCP timeout below 300 (ipv4.dhcp-timeout=, keyfile [ipv4] dhcp-timeout=)"
if [ "$install_ok" = 0 ]; then
	skip "$name15" "make install stopped at a source not in the tree yet: the install is partial"
elif low=$(dhcp_low "$D") && [ -z "$low" ]; then
	ok "$name15"
else
	not_ok "$name15"
	diag "${low//"$D"/}"
fi
# Negative: planted files, one of each kind too low (ipv6's and 300 are fine).
mkdir -p "$tmp/nm/conf.d" "$tmp/nm/system-connections"
printf '[connection]\nipv4.dhcp-timeout=60\n' >"$tmp/nm/conf.d/x.conf"
printf '[ipv4]\nmethod=auto\ndhcp-timeout=20\n[ipv6]\ndhcp-timeout=10\n' >"$tmp/nm/system-connections/a.nmconnection"
printf '[ipv4]\ndhcp-timeout=300\n' >"$tmp/nm/system-connections/b.nmconnection"
got=$(dhcp_low "$tmp/nm" | sed 's|.*/||' | sort | tr '\n' ' ')
if [ "$got" = "a.nmconnection:3: dhcp-timeout=20 x.conf:2: ipv4.dhcp-timeout=60 " ]; then
	ok "item 15 (negative): the scan catches planted ipv4.dhcp-timeout=60 and keyfile [ipv4] dhcp-timeout=20"
else
	not_ok "item 15 (negative): the scan catches planted ipv4.dhcp-timeout=60 and keyfile [ipv4] dhcp-timeout=20"
	diag "caught: '$got'"
fi
skip "item 15: /etc/dhcpcd.conf 'option host_name', /usr/lib/systemd/networkd.conf" \
	"the image's files (dhcpcd, systemd), not this package's: checked on an image, not here"

done_testing
