#!/usr/bin/env bash
# udev/ checked without `udevadm verify` (systemd 253; Debian 12 has 252):
# every rule line statically (known keys and operators, quoted values,
# commas, GOTO targets, helper modes that exist), the other files
# (.network, chrony, modprobe.d, dracut) by their own parsers where this
# machine has them, then the rules for real: `udevadm test` in a private
# mount namespace (tmpfs over the rules directories, /run and /dev, so that
# nothing of the host changes and only our rules run) on this machine's
# loop devices and lo, with the helper reading a fake sysfs (AZL_ROOT, set
# by a test-only rule) where those devices are Azure disks and a VF.
#
# usage: tests/udev/rules.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
build=$(cd "${1:?usage: rules.sh BUILD_DIR}" && pwd)
src="$here/../../udev"
helper="$build/azl-udev"
fixtures=${AZL_FIXTURES:-$build/fixtures}
rules="10-azl-net-vf.rules 70-azl-hyperv.rules 70-azl-kmod.rules 80-azl-disk.rules"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "want: $2" "got:  $3"; fi
}

# ---- static checks -----------------------------------------------------------

match_keys="ACTION DEVPATH KERNEL KERNELS SUBSYSTEM SUBSYSTEMS DRIVER DRIVERS ATTR ATTRS SYSCTL TAG TAGS ENV CONST TEST PROGRAM RESULT NAME SYMLINK"
assign_keys="NAME SYMLINK ENV TAG ATTR SYSCTL OWNER GROUP MODE SECLABEL OPTIONS IMPORT RUN LABEL GOTO"
attr_keys="ATTR ATTRS SYSCTL ENV CONST SECLABEL IMPORT"

# lint_rules FILE: one line per problem (empty: none).
lint_rules() {
	local file=$1 n=0 line rest key attr op val labels
	labels=$(grep -oE 'LABEL="[^"]*"' "$file" | sed 's/LABEL="//; s/"$//')
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		if [[ $line == *\\ ]]; then
			echo "$file:$n: line continuation (not used here)"
			continue
		fi
		rest=$line
		while [ -n "$rest" ]; do
			if ! [[ $rest =~ ^[[:space:]]*([A-Z_]+)(\{([^}]*)\})?[[:space:]]*(==|!=|\+=|-=|:=|=)[[:space:]]*\"([^\"]*)\"[[:space:]]*(,[[:space:]]*|$)(.*)$ ]]; then
				echo "$file:$n: cannot parse '$rest' (key, operator, quoted value, comma)"
				break
			fi
			key=${BASH_REMATCH[1]} attr=${BASH_REMATCH[3]} op=${BASH_REMATCH[4]}
			val=${BASH_REMATCH[5]} rest=${BASH_REMATCH[7]}
			if [ "${BASH_REMATCH[6]}" = "" ] && [ -n "$rest" ]; then
				echo "$file:$n: no comma before '$rest'"
				break
			fi
			case $op in
			'==' | '!=') [[ " $match_keys " == *" $key "* ]] || echo "$file:$n: $key cannot be matched" ;;
			*) [[ " $assign_keys " == *" $key "* ]] || echo "$file:$n: $key cannot be assigned" ;;
			esac
			if [[ " $attr_keys " == *" $key "* ]] && [ -z "${BASH_REMATCH[2]}" ]; then
				echo "$file:$n: $key needs {name}"
			fi
			if { [ "$key" = LABEL ] || [ "$key" = GOTO ]; } && [ "$op" != = ]; then
				echo "$file:$n: $key takes ="
			fi
			if [ "$key" = GOTO ] && ! grep -qxF -- "$val" <<<"$labels"; then
				echo "$file:$n: GOTO=\"$val\" has no LABEL"
			fi
			if [ "$key" = RUN ] && [ "$attr" != builtin ]; then
				echo "$file:$n: RUN of a program (only builtins here)"
			fi
		done
	done <"$file"
}

plan 21

# The linter must be able to fail.
printf '%s\n' 'SUBSYSTEM=="net" KERNEL=="x", GOTO="nowhere"' 'FOO=="1"' 'ATTR="x"' \
	'ENV{A}="unterminated' 'SUBSYSTEM="block"' 'RUN+="/bin/sh -c x"' >"$tmp/planted.rules"
got=$(lint_rules "$tmp/planted.rules" | wc -l)
if [ "$got" -ge 6 ]; then
	ok "the rule linter finds each of 6 planted problems"
else
	not_ok "the rule linter finds each of 6 planted problems"
	diag "$(lint_rules "$tmp/planted.rules")"
fi
for r in $rules; do
	problems=$(lint_rules "$src/$r")
	if [ -z "$problems" ]; then ok "$r: every line parses (keys, operators, quotes, GOTOs)"; else
		not_ok "$r: every line parses (keys, operators, quotes, GOTOs)"
		diag "$problems"
	fi
done

# Every program the rules run is azl-udev with a mode it has.
# shellcheck disable=SC2086 # the list of file names
cmds=$(cd "$src" && cat $rules | grep -ohE '(PROGRAM|IMPORT\{program\})="[^"]*"' |
	sed -E 's/^[^"]*"//; s/"$//' | sort -u)
bad=
while IFS= read -r cmd; do
	[ -z "$cmd" ] && continue
	# shellcheck disable=SC2086 # split the command into its words
	set -- $cmd
	if [ "$1" != azl-udev ] || [ $# -ne 3 ] || [ "$3" != %k ]; then
		bad+="not 'azl-udev MODE %k': $cmd; "
		continue
	fi
	"$helper" --root "$tmp/empty-root" "$2" x >/dev/null 2>&1
	[ $? -eq 2 ] && bad+="azl-udev has no mode '$2'; "
done <<<"$cmds"
"$helper" --root "$tmp/empty-root" nosuchmode x >/dev/null 2>&1
unknown=$?
if [ -z "$bad" ] && [ "$unknown" -eq 2 ] && (cd "$src" && grep -q 'azl-udev disk %k' 80-azl-disk.rules &&
	grep -q 'azl-udev vf %k' 10-azl-net-vf.rules && grep -q 'azl-udev cpu %k' 70-azl-hyperv.rules); then
	ok "the rules run azl-udev disk, vf and cpu only, modes the helper has (an unknown one exits 2)"
else
	not_ok "the rules run azl-udev disk, vf and cpu only, modes the helper has (an unknown one exits 2)"
	diag "${bad:-an unknown mode exited $unknown}"
fi

# The kmod rule: the class ids of agent/src/vmbus_class.c, modules that exist.
want_classes=""
for kind in storage ide fibre-channel network vpci; do
	want_classes+=$(grep -oE "\"[0-9a-f-]{36}\", \"$kind\"" "$here/../../agent/src/vmbus_class.c" |
		cut -d'"' -f2)" "
done
got_classes=$(grep -oE 'class_id\}=="\{[0-9a-f-]{36}\}"' "$src/70-azl-kmod.rules" | grep -oE '[0-9a-f-]{36}' | tr '\n' ' ')
mods_ok=1
for m in $(grep -oE 'kmod load [a-z_]+' "$src/70-azl-kmod.rules" | awk '{print $3}' | sort -u); do
	[ -d "$here/../../kmod/$m" ] || mods_ok=0
done
nmods=$(grep -oE 'kmod load [a-z_]+' "$src/70-azl-kmod.rules" | sort -u | wc -l)
is "70-azl-kmod.rules: storage, IDE, FC, network and vPCI class ids of vmbus_class.c; modules of kmod/" \
	"${want_classes% } 1 4" "${got_classes% } $mods_ok $nmods"

# The outcomes Microsoft's image validation and common.md name, verbatim.
h=$src/70-azl-hyperv.rules
if grep -qxF 'SUBSYSTEM=="ptp", ATTR{clock_name}=="hyperv", SYMLINK+="ptp_hyperv"' "$h" &&
	grep -qxF 'SUBSYSTEM=="misc", KERNEL=="vmbus/hv_kvp", TAG+="systemd", ENV{SYSTEMD_WANTS}+="azl-agent.service"' "$h" &&
	grep -qE '^SUBSYSTEM=="memory", ACTION=="add",.*ATTR\{state\}=="offline", ATTR\{state\}="online"$' "$h" &&
	grep -qE '^SUBSYSTEM=="cpu", ACTION=="add",.*ATTR\{online\}=="0", ENV\{AZL_CPU_ONLINE\}="", IMPORT\{program\}="azl-udev cpu %k"$' "$h" &&
	grep -qE '^SUBSYSTEM=="cpu", ACTION=="add", ENV\{AZL_CPU_ONLINE\}=="1", ATTR\{online\}=="0", ATTR\{online\}="1"$' "$h" &&
	[ "$(grep -c 'ATTR{online}="1"' "$h")" -eq 1 ]; then
	ok "70-azl-hyperv.rules: /dev/ptp_hyperv, the KVP device's unit, memory onlining, CPU onlining only on azl-udev cpu's word"
else
	not_ok "70-azl-hyperv.rules: /dev/ptp_hyperv, the KVP device's unit, memory onlining, CPU onlining only on azl-udev cpu's word"
fi
d=$src/80-azl-disk.rules
if grep -qE '^ACTION=="add", ENV\{DEVTYPE\}=="disk", TEST!="/sys/module/azl_storvsc", .*ATTR\{device/timeout\}="300"$' "$d" &&
	[ "$(grep -c 'device/timeout}=' "$d")" -eq 1 ] &&
	grep -qE '^ENV\{DEVTYPE\}=="disk", ENV\{AZL_DISK_REMOTE_NVME\}=="1", ATTR\{queue/io_timeout\}="240000"$' "$d" &&
	[ "$(grep -c 'SYMLINK+=' "$d")" -eq 12 ] && [ "$(grep -c -- '-part%n"' "$d")" -eq 6 ]; then
	ok "80-azl-disk.rules: SCSI timeout 300 only on add without azl_storvsc, remote NVMe 240 s, 6 link kinds x (disk, -part%n)"
else
	not_ok "80-azl-disk.rules: SCSI timeout 300 only on add without azl_storvsc, remote NVMe 240 s, 6 link kinds x (disk, -part%n)"
fi

# The helper itself: the root prefix from --root only (udev passes device
# properties as the environment), and the CPU decision.
hr=$tmp/helper-root
scsi_disk_min() { # ROOT KNAME: a data disk on f8b3781b LUN 5
	local c=$1/sys/devices/VMBUS:00/c
	mkdir -p "$c/host1/target1:0:0/1:0:0:5/block/$2" "$1/sys/class/block"
	echo "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}" >"$c/device_id"
	echo "{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}" >"$c/class_id"
	ln -s "$c/host1/target1:0:0/1:0:0:5" "$c/host1/target1:0:0/1:0:0:5/block/$2/device"
	ln -s "$c/host1/target1:0:0/1:0:0:5/block/$2" "$1/sys/class/block/$2"
}
scsi_disk_min "$hr" azlfakedisk0
with_root=$("$helper" --root "$hr" disk azlfakedisk0 2>&1)
with_env=$(AZL_ROOT=$hr "$helper" disk azlfakedisk0 2>&1)
env_rc=$?
is "azl-udev takes its root from --root and ignores AZL_ROOT from udev's environment" \
	"AZURE_DISK_TYPE=data
AZURE_DISK_LUN=5
AZL_DISK_LEGACY=scsi1/lun5|1" "$with_root|$([ "$env_rc" -ne 0 ] && ! grep -q AZURE_ <<<"$with_env" && echo 1)"

mkdir -p "$hr/sys/devices/system/cpu/cpu1" "$hr/sys/devices/system/cpu/smt" "$hr/proc"
echo 0 >"$hr/sys/devices/system/cpu/cpu1/online"
echo on >"$hr/sys/devices/system/cpu/smt/control"
cpu_says() { # CMDLINE SMT_CONTROL
	echo "$1" >"$hr/proc/cmdline"
	echo "$2" >"$hr/sys/devices/system/cpu/smt/control"
	"$helper" --root "$hr" cpu cpu1 2>&1
	echo "rc=$?"
}
is "azl-udev cpu: online a hot-added CPU, not with maxcpus=, nr_cpus= or SMT off" \
	"AZL_CPU_ONLINE=1 rc=0|rc=0|rc=0|rc=0|rc=0" \
	"$(cpu_says "ro quiet" on | tr '\n' ' ' | sed 's/ $//')|$(cpu_says "ro maxcpus=2" on)|$(cpu_says "nr_cpus=4" on)|$(cpu_says "ro" off)|$(cpu_says "ro nosmt" forceoff)"

# The .network file matches the property the helper prints for a real VF layout.
net=$src/01-azl-unmanaged-vf.network
if [ ! -d "$fixtures/d64ds-v5-mlx5" ]; then
	skip "01-azl-unmanaged-vf.network matches what azl-udev prints for the fixture's VF" "no fixtures in $fixtures (make fixtures)"
else
	prop=$(sed -n 's/^Property=//p' "$net")
	out=$("$helper" --root "$fixtures/d64ds-v5-mlx5" vf enP53091s1np0)
	if [ "$(sed -n '/^\[Link\]/,$p' "$net" | grep -c '^Unmanaged=yes$')" -eq 1 ] && [ -n "$prop" ] &&
		grep -qxF "$prop" <<<"$out" && grep -qxF AZURE_UNMANAGED_SRIOV=1 <<<"$out"; then
		ok "01-azl-unmanaged-vf.network matches what azl-udev prints for the fixture's VF"
	else
		not_ok "01-azl-unmanaged-vf.network matches what azl-udev prints for the fixture's VF"
		diag "property: $prop" "helper: $out"
	fi
fi

# chrony: a regular file holding the refclock (LISA greps regular files for ptp_hyperv).
c=$src/chrony/azl-ptp-hyperv.conf
if [ -f "$c" ] && [ ! -L "$c" ] &&
	[ "$(grep -vE '^[[:space:]]*(#|$)' "$c")" = "refclock PHC /dev/ptp_hyperv poll 3 dpoll -2 offset 0 stratum 2" ]; then
	ok "chrony/azl-ptp-hyperv.conf: a regular file with only the ptp_hyperv refclock"
else
	not_ok "chrony/azl-ptp-hyperv.conf: a regular file with only the ptp_hyperv refclock"
fi

# modprobe.d: no install/remove/blacklist (LISA M1/M3); kmod's own parser reads the softdep.
m=$src/modprobe/azl-guest.conf
if grep -qE '^[[:space:]]*(install|remove|blacklist)[[:space:]]' "$m"; then
	not_ok "modprobe/azl-guest.conf: no install, remove or blacklist line; modprobe reads the softdep"
elif ! command -v modprobe >/dev/null; then
	skip "modprobe/azl-guest.conf: no install, remove or blacklist line; modprobe reads the softdep" "no modprobe here"
else
	shown=$(modprobe --showconfig -C "$m" 2>&1 | grep '^softdep')
	is "modprobe/azl-guest.conf: no install, remove or blacklist line; modprobe reads the softdep" \
		"softdep pci_hyperv pre: azl_accel" "$shown"
fi

# dracut: a shell fragment; add_drivers (not force_drivers) with the five names.
dr=$src/dracut/50-azl-guest.conf
got=$(bash -c 'set -u; add_drivers=""; . "$1"; echo $add_drivers; echo "${force_drivers-unset}"' _ "$dr" 2>&1)
is "dracut/50-azl-guest.conf sources cleanly: add_drivers with the five modules, no force_drivers" \
	"hv_vmbus hv_storvsc hv_netvsc hid-hyperv hyperv-keyboard
unset" "$got"

# ---- the real udev parser and rule engine ------------------------------------

# A fake sysfs where a real block device of this machine is an Azure disk:
# scsi_disk ROOT KNAME DEVICE_ID LUN [PARTITION_OF_DISK]
scsi_disk() {
	local root=$1 k=$2 id=$3 lun=$4 ctrl sdev disk
	ctrl=$root/sys/devices/VMBUS:00/ctrl-$k
	mkdir -p "$ctrl"
	echo "$id" >"$ctrl/device_id"
	echo "{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}" >"$ctrl/class_id"
	sdev=$ctrl/host1/target1:0:0/1:0:0:$lun
	disk=$sdev/block/sdx$k
	mkdir -p "$disk" "$root/sys/class/block"
	ln -s "$sdev" "$disk/device"
	if [ -n "${5:-}" ]; then
		mkdir -p "$disk/$k"
		echo 1 >"$disk/$k/partition"
		ln -s "$disk/$k" "$root/sys/class/block/$k"
	else
		ln -s "$disk" "$root/sys/class/block/$k"
	fi
}

udev_names="udevadm test in a private mount namespace"
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || ! command -v udevadm >/dev/null ||
	! unshare -m true 2>/dev/null; then
	for t in "the udev parser reads our four rules files without a diagnostic" \
		"a data disk on controller f8b3781b LUN 5: data/by-lun/5 and scsi1/lun5 -> the disk" \
		"a partition of LUN 63: data/by-lun/63-part<N> and scsi1/lun63-part<N>" \
		"LUN 0 of controller f8b3781a: /dev/disk/azure/os and root" \
		"devices not ours (a Msft disk on an unknown controller, lo, a non-slave NIC through the VF rule) get no Azure property" \
		"a VF enslaved to a synthetic NIC gets the four unmanaged properties"; do
		skip "$t" "$udev_names needs root, unshare and udevadm"
	done
	done_testing
	exit
fi

fake=$tmp/fake
mkdir -p "$fake" "$tmp/rules"
scsi_disk "$fake" loop0 "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}" 5
# A partition of this machine, if it has one (udev takes DEVTYPE and %n
# from the kernel: a loop device cannot stand in for one).
part=
for f in /sys/class/block/*/partition; do
	[ -f "$f" ] && part=$(basename "$(dirname "$f")") && break
done
[ -n "$part" ] && scsi_disk "$fake" "$part" "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}" 63 partition
scsi_disk "$fake" loop2 "{f8b3781a-1e82-4818-a1c3-63d806ec15bb}" 0
# loop3: a Msft Virtual_Disk (the test rule) on a controller Azure does not have.
scsi_disk "$fake" loop3 "{12345678-1e82-4818-a1c3-63d806ec15bb}" 5
# lo as an mlx5 VF enslaved to eth0 (hv_netvsc).
mkdir -p "$fake/sys/bus/vmbus/drivers/hv_netvsc" "$fake/sys/devices/VMBUS:00/nic/net/eth0" \
	"$fake/sys/devices/pci/vf/net/lo" "$fake/sys/class/net"
ln -s "$fake/sys/bus/vmbus/drivers/hv_netvsc" "$fake/sys/devices/VMBUS:00/nic/driver"
ln -s "$fake/sys/devices/VMBUS:00/nic" "$fake/sys/devices/VMBUS:00/nic/net/eth0/device"
ln -s "$fake/sys/devices/VMBUS:00/nic/net/eth0" "$fake/sys/class/net/eth0"
echo 0x1803 >"$fake/sys/devices/pci/vf/net/lo/flags"
ln -s "$fake/sys/class/net/eth0" "$fake/sys/devices/pci/vf/net/lo/master"
ln -s "$fake/sys/devices/pci/vf/net/lo" "$fake/sys/class/net/lo"

# Our rules with the helper's path of this build (as `make install` does
# for a helper outside /usr/lib/udev), and the test-only rule that makes
# this machine's devices look like Azure's to them.
# The helper reads the fake sysfs through --root (it ignores AZL_ROOT).
for r in $rules; do
	sed "s|\"azl-udev |\"$helper --root $fake |" "$src/$r" >"$tmp/rules/$r"
done
cat >"$tmp/rules/00-azl-test.rules" <<EOF
SUBSYSTEM=="block", KERNEL=="loop[023]|${part:-none}", ENV{ID_VENDOR}="Msft", ENV{ID_MODEL}="Virtual_Disk"
EOF
# The VF rule without its DRIVERS match (lo has no driver), for the VF run only.
mkdir -p "$tmp/rules-vf"
cp "$tmp/rules/10-azl-net-vf.rules" "$tmp/rules-vf/"
sed -i 's/DRIVERS=="mana|mlx4_core|mlx5_core", //' "$tmp/rules-vf/10-azl-net-vf.rules"

out=$tmp/out
mkdir -p "$out"
# shellcheck disable=SC2016
timeout 120 unshare -m --propagation private bash -c '
	set -e
	tmp=$1 out=$2 part=$3 fake=$4
	for d in /usr/lib/udev/rules.d /etc/udev/rules.d /run /dev; do
		mkdir -p "$d"
		mount -t tmpfs tmpfs "$d"
	done
	mknod -m 666 /dev/null c 1 3
	for i in 0 2 3; do mknod -m 600 /dev/loop$i b 7 $i; done
	if [ -n "$part" ]; then
		IFS=: read -r maj min </sys/class/block/$part/dev
		mknod -m 600 /dev/$part b "$maj" "$min"
	fi
	cp "$tmp"/rules/*.rules /usr/lib/udev/rules.d/
	set +e
	for k in loop0 loop2 loop3 $part; do
		udevadm test --action=add /sys/class/block/$k >"$out/$k" 2>&1
	done
	udevadm test --action=add /sys/class/net/lo >"$out/lo" 2>&1
	find /dev/disk -type l -printf "%p -> %l\n" 2>/dev/null | sort >"$out/links"
	rm -f /usr/lib/udev/rules.d/*
	cp "$tmp"/rules-vf/*.rules /usr/lib/udev/rules.d/
	udevadm test --action=add /sys/class/net/lo >"$out/vf" 2>&1
	# The same interface not enslaved (UP|BROADCAST|MULTICAST): not a VF.
	echo 0x1003 >"$fake/sys/devices/pci/vf/net/lo/flags"
	udevadm test --action=add /sys/class/net/lo >"$out/notvf" 2>&1
' _ "$tmp" "$out" "$part" "$fake" >"$tmp/ns.log" 2>&1

diags=$(cat "$out"/loop0 "$out"/lo "$out"/vf 2>/dev/null | grep -E '^/usr/lib/udev/rules\.d/[^ ]*azl[^ ]*\.rules:[0-9]+' | sort -u)
if grep -q 'Reading rules file: /usr/lib/udev/rules.d/80-azl-disk.rules' "$out/loop0" 2>/dev/null &&
	[ "$(grep -c 'Reading rules file: .*azl-' "$out/loop0")" -eq 5 ] && [ -z "$diags" ]; then
	ok "the udev parser reads our four rules files without a diagnostic"
else
	not_ok "the udev parser reads our four rules files without a diagnostic"
	diag "$diags" "$(head -20 "$tmp/ns.log" "$out/loop0" 2>/dev/null)"
fi
links=$(cat "$out/links" 2>/dev/null)
is "a data disk on controller f8b3781b LUN 5: data/by-lun/5 and scsi1/lun5 -> the disk" \
	"/dev/disk/azure/data/by-lun/5 -> ../../../../loop0
/dev/disk/azure/scsi1/lun5 -> ../../../loop0" "$(grep -E 'lun/?5 ' <<<"$links")"
if [ -z "$part" ]; then
	skip "a partition of LUN 63: data/by-lun/63-part<N> and scsi1/lun63-part<N>" \
		"this machine has no partition (the -part%n lines are checked above, the helper's partition branch by unit/udev_disk)"
else
	is "a partition of LUN 63: data/by-lun/63-part<N> and scsi1/lun63-part<N>" \
		"/dev/disk/azure/data/by-lun/63-part${part##*[!0-9]} -> ../../../../$part
/dev/disk/azure/scsi1/lun63-part${part##*[!0-9]} -> ../../../$part" "$(grep -E 'lun/?63' <<<"$links")"
fi
is "LUN 0 of controller f8b3781a: /dev/disk/azure/os and root" \
	"/dev/disk/azure/os -> ../../loop2
/dev/disk/azure/root -> ../../loop2" "$(grep -E 'azure/(os|root) ' <<<"$links")"
# loop3 reaches the helper (Msft/Virtual_Disk, a VMBus controller in the
# fake tree) and lo reaches it through the VF rule: only the helper's
# answers keep them out.
if [ -s "$out/loop3" ] && [ -s "$out/lo" ] && [ -s "$out/notvf" ] &&
	grep -q "azl-udev --root $fake disk loop3" "$out/loop3" &&
	grep -q "azl-udev --root $fake vf lo" "$out/notvf" &&
	! grep -qE '^(AZURE_|AZL_|ID_NET_MANAGED_BY|NM_UNMANAGED)' "$out/loop3" "$out/lo" "$out/notvf" &&
	[ "$(grep -c loop3 <<<"$links")" -eq 0 ]; then
	ok "devices not ours (a Msft disk on an unknown controller, lo, a non-slave NIC through the VF rule) get no Azure property"
else
	not_ok "devices not ours (a Msft disk on an unknown controller, lo, a non-slave NIC through the VF rule) get no Azure property"
	diag "$(grep -E '^(AZURE_|AZL_|ID_NET_MANAGED_BY|NM_UNMANAGED)' "$out/loop3" "$out/lo" "$out/notvf")" \
		"$(grep -c "azl-udev --root" "$out/loop3" "$out/notvf")"
fi
is "a VF enslaved to a synthetic NIC gets the four unmanaged properties" \
	"AZL_UNMANAGED_VF=1
AZURE_UNMANAGED_SRIOV=1
ID_NET_MANAGED_BY=unmanaged
NM_UNMANAGED=1" "$(grep -E '^(AZL_UNMANAGED_VF|AZURE_UNMANAGED_SRIOV|ID_NET_MANAGED_BY|NM_UNMANAGED)=' "$out/vf" 2>/dev/null | sort)"
done_testing
