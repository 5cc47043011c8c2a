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

tmp=$(mktemp -d /tmp/lisa-offline.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
D="$tmp/dest"
plan 26

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
	grep -q '\.netvsc_channels_mode = NETVSC_CHANNELS_KERNEL' "$top/agent/src/config.c" ||
		{ say "agent/src/config.c: [modules] netvsc_channels default is not 'kernel'"; return 1; }
}
check_file "item 5: modprobe.d sets no netvsc channel count; the agent's default keeps the kernel's" \
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
command -v systemd-tmpfiles >/dev/null && chrony_step
chrony_ok() {
	local f
	[ -s "$tmp/chrony-step.log" ] && say "the copy step: $(cat "$tmp/chrony-step.log")"
	f=$(inst /etc/chrony.d/azl-ptp-hyperv.conf)
	[ -f "$f" ] && [ ! -L "$f" ] || { say "not a regular file: ${f#"$D"}"; return 1; }
	lisa_chrony "$D/etc" || { say "LISA's find on the install's /etc finds no ptp_hyperv"; return 1; }
	nocomment "$f" | grep -qE '^[[:space:]]*refclock[[:space:]]+PHC[[:space:]]+/dev/ptp_hyperv\b' ||
		{ say "no 'refclock PHC /dev/ptp_hyperv' line"; return 1; }
}
check_file "item 6: azl-chrony-ptp.service's copy step makes /etc/chrony.d/azl-ptp-hyperv.conf, a regular file LISA's find reads, refclock PHC /dev/ptp_hyperv" \
	udev/chrony/azl-ptp-hyperv.conf "$(inst /etc/chrony.d/azl-ptp-hyperv.conf)" chrony_ok

# Negative: the same file as a symlink, or under /usr/lib, is what LISA misses.
chrony_neg() {
	local e="$tmp/etc-neg"
	mkdir -p "$e/chrony.d" "$tmp/usrlib"
	cp "$(inst /etc/chrony.d/azl-ptp-hyperv.conf)" "$tmp/usrlib/azl-ptp-hyperv.conf"
	ln -s "$tmp/usrlib/azl-ptp-hyperv.conf" "$e/chrony.d/azl-ptp-hyperv.conf"
	! lisa_chrony "$e" || { say "LISA's find accepted a symlinked drop-in"; return 1; }
}
check_file "item 6 (negative): the check rejects the drop-in as a symlink, as LISA's -type f does" \
	udev/chrony/azl-ptp-hyperv.conf "$(inst /etc/chrony.d/azl-ptp-hyperv.conf)" chrony_neg

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

# ---- 14: item 8, SCSI timeout --------------------------------------------------------
timeout_ok() {
	local r t agent_t man
	# shellcheck disable=SC2046
	r=$(nocomment $(rules) /dev/null)
	t=$(grep -oE 'ATTR\{(device/)?timeout\}="[0-9]+"' <<<"$r" | grep -oE '[0-9]+' | sort -u)
	[ -n "$t" ] || { say "no rule writes ATTR{device/timeout}"; return 1; }
	[ "$(wc -l <<<"$t")" -eq 1 ] || { say "rules write different timeouts: $t"; return 1; }
	agent_t=$(sed -n 's/.*\.storvsc_timeout = \([0-9]*\),.*/\1/p' "$top/agent/src/config.c")
	[ "$t" = 300 ] && [ "$agent_t" = 300 ] ||
		{ say "rule $t, agent [modules] storvsc_timeout default ${agent_t:-?}; both must be 300"; return 1; }
	man=$(inst /usr/share/man/man5/azl-agent.conf.5)
	if [ -f "$man" ]; then
		grep -A8 'storvsc_timeout' "$man" | grep -q '300' ||
			{ say "azl-agent.conf(5) does not give 300 for storvsc_timeout"; return 1; }
	fi
}
check_file "item 8: the rule's SCSI timeout is 300, the agent's [modules] storvsc_timeout default" \
	udev/80-azl-disk.rules "$(inst /usr/lib/udev/rules.d/80-azl-disk.rules)" timeout_ok

# ---- 15: item 8 / S1-S2, the waagent.conf LISA reads ---------------------------------
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

# ---- 16-17: item 9, the initramfs modules and no blacklist --------------------------
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

# ---- 18-20: item 10, reload counting safety (static part) ---------------------------
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

# Every module name we build (Kbuild obj-m, and the .ko files of any build).
names=$(sed -nE 's/^obj-m[[:space:]]*[:+]?=[[:space:]]*(.*)$/\1/p' "$top"/kmod/*/Kbuild | tr ' ' '\n' |
	sed -n 's/\.o$//p'; find "$build/kmod" "$D" -name '*.ko*' 2>/dev/null | sed 's|.*/||; s/\.ko.*//')
names=$(sort -u <<<"$names")
bad=$(grep -E 'hv_netvsc|hv_storvsc|hv_vmbus|hv_utils|hv_balloon|hid_hyperv|hyperv_keyboard' <<<"$names")
if [ -n "$names" ] && [ -z "$bad" ]; then
	ok "item 10: no module we build has hv_netvsc, hv_storvsc, hv_vmbus (or another hv name) in its name: $(echo $names)"
else
	not_ok "item 10: no module we build has hv_netvsc, hv_storvsc, hv_vmbus in its name"
	diag "names: $(echo $names)" "bad: $bad"
fi
# Negative: the same scan on a planted name catches it.
if grep -qE 'hv_netvsc|hv_storvsc|hv_vmbus' <<<"azl_x
x_hv_netvsc"; then
	ok "item 10 (negative): the name scan catches a planted x_hv_netvsc.ko"
else
	not_ok "item 10 (negative): the name scan catches a planted x_hv_netvsc.ko"
fi

# ---- 21: item 10: the udev rule that loads our modules does not reload hv_* ----------
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

# ---- 22-24: item 14, the static part ----------------------------------------------------
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

# ---- 25-26: item 15, the distribution files ------------------------------------------
nm=$(grep -rlE 'dhcp-timeout' "$D" 2>/dev/null)
low=$(grep -rhE '^[[:space:]]*ipv4\.dhcp-timeout[[:space:]]*=[[:space:]]*[0-9]+' $nm /dev/null 2>/dev/null |
	awk -F= '$2 + 0 < 300')
if [ -z "$low" ]; then
	ok "item 15: the package sets no NetworkManager ipv4.dhcp-timeout below 300"
else
	not_ok "item 15: the package sets no NetworkManager ipv4.dhcp-timeout below 300"
	diag "$low"
fi
skip "item 15: /etc/dhcpcd.conf 'option host_name', /usr/lib/systemd/networkd.conf" \
	"the image's files (dhcpcd, systemd), not this package's: checked on an image, not here"

done_testing
