#!/usr/bin/env bash
# The system test: a small Debian 12 (scripts/rootfs-cache.sh) with our build
# installed the way a package installs it (`make install`), booted in QEMU
# with systemd as init and udev, twice:
#
#   azure  an Azure-like machine: SMBIOS of a Hyper-V VM with Azure's chassis
#          asset tag, `azl.standins=1`, the Azure host simulator (tests/sim/)
#          reachable at 10.0.2.2 through QEMU user networking, stand-in data
#          disks (virtio-scsi, vendor Msft, LUN 5 and LUN 0 with a partition)
#   azure-again  the same machine and disk booted again: the provisioning
#          runs, finds its marker and asks the host nothing
#   plain  a machine without Hyper-V: our units must skip themselves cleanly
#
# The guest side is tests/system/guest/check.sh, run by the test-only
# azl-system-check.service after multi-user.target; it writes TAP and the
# journal to the second serial port and powers off.  Output: flat TAP.
#
# usage: tests/system/run.sh BUILD_DIR
#   Needs root (the image is made with ownership kept), QEMU, busybox, mke2fs.
#   AZL_SYSTEM_TIMEOUT   seconds per boot (default 300)
#   AZL_SYSTEM_BOOTS     which boots, in order (default "azure azure-again plain")
#   AZL_SYSTEM_SCENARIO  the simulator's scenario (default happy; tests/sim/scenarios)
#   AZL_SYSTEM_ACCEL     tcg (default) or kvm
#   AZL_SYSTEM_KEEP=1    keep this run's directory BUILD_DIR/system/run.XXXXXX
#                        (root.img, azure.img, the LUN images, stage/, initramfs)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: tests/system/run.sh BUILD_DIR}" && pwd)
logdir=$build/test-logs
mkdir -p "$build/system" "$logdir"
# A directory of this run's own: concurrent runs never share an image.
work=''
qemu_pid=''
boot_timeout=${AZL_SYSTEM_TIMEOUT:-300}
boots=${AZL_SYSTEM_BOOTS:-azure azure-again plain}
accel=${AZL_SYSTEM_ACCEL:-tcg}

# SMBIOS of the Azure-like machine: DMI product_uuid is the simulator's vmId.
vm_uuid=8f0e4c4a-7a1b-4f0e-9c7d-2b5b4e6a9d31
azure_asset=7783-7084-3265-9085-8269-3286-77

results=()
add() { results+=("$@"); }
note() { add "# $*"; }
print_tap() {
	local n=0 line
	for line in "${results[@]}"; do
		case $line in 'ok '* | 'not ok '*) n=$((n + 1)) ;; esac
	done
	echo "1..$n"
	n=0
	for line in "${results[@]}"; do
		case $line in
		'ok '*) n=$((n + 1)) && echo "ok $n ${line#ok }" ;;
		'not ok '*) n=$((n + 1)) && echo "not ok $n ${line#not ok }" ;;
		*) echo "$line" ;;
		esac
	done
}
skip_all() {
	echo "1..1"
	echo "ok 1 - system test # SKIP $*"
	exit 0
}
fail_all() {
	echo "1..1"
	echo "not ok 1 - system test: $1"
	shift
	[ $# -eq 0 ] || printf '# %s\n' "$@"
	exit 1
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", b - a }'; }

# cleanup: on every exit (a failure, Ctrl-C, a CI kill): QEMU and the
# simulator stopped, this run's images, stage and initramfs removed unless
# AZL_SYSTEM_KEEP=1.
cleanup() {
	if [ -n "$qemu_pid" ]; then
		# timeout passes the signal on to QEMU.
		kill -TERM "$qemu_pid" 2>/dev/null
		wait "$qemu_pid" 2>/dev/null
		qemu_pid=''
	fi
	if declare -F sim_stop >/dev/null; then sim_stop >/dev/null 2>&1; fi
	if [ -n "$work" ] && [ -d "$work" ]; then
		if [ "${AZL_SYSTEM_KEEP:-0}" = 1 ]; then
			echo "# kept $work (AZL_SYSTEM_KEEP=1)"
		else
			rm -rf --one-file-system "$work"
		fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools, kernel, root file system ------------------------------------------------

check_tools() {
	local missing=() t
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (the image keeps the root file system's owners)"
	for t in qemu-system-x86_64 busybox cpio gzip xz mke2fs systemctl modprobe timeout; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] || skip_all "missing tools: ${missing[*]} (scripts/deps.sh check)"
	busybox=$(command -v busybox)
	# The initramfs holds busybox alone: it must need no shared library.
	if ldd "$busybox" >/dev/null 2>&1; then
		skip_all "$busybox is dynamically linked (install busybox-static)"
	fi
	[ -x "$build/tests/azure_sim" ] || skip_all "no $build/tests/azure_sim (make check-system builds it)"
	[ -x "$build/azl-agent" ] || skip_all "no $build/azl-agent (make check-system builds it)"
	# An ASan/UBSan build needs the sanitizer runtimes, which the guest
	# image does not carry: the plain build is the one that boots.
	if ldd "$build/azl-agent" 2>/dev/null | grep -q 'libasan\|libubsan'; then
		skip_all "$build is a sanitizer build (its programs need runtimes the image lacks; the plain make check boots)"
	fi
}

# cached SCRIPT LOG: run a cache script, print its last line (the path);
# the status is the script's (77: cannot be made here).  Runs in $(...), so
# it only reports: the caller skips or fails through cache_problem.
cached() {
	local out rc=0
	out=$("$top/scripts/$1" 2>"$2") || rc=$?
	printf '%s\n' "$out" | tail -n 1
	return "$rc"
}

# cache_problem SCRIPT LOG STATUS: in the main shell, SKIP all on 77, else
# fail all with the log's last lines.
cache_problem() {
	local lines
	if [ "$3" -eq 77 ]; then
		skip_all "$(tail -n 1 "$2")"
	fi
	mapfile -t lines < <(tail -n 20 "$2")
	fail_all "scripts/$1 exited with status $3" "${lines[@]}"
}

get_kernel() {
	local log=$logdir/system-kernel-cache.log
	kdir=$(cached kernel-cache.sh "$log") || cache_problem kernel-cache.sh "$log" $?
	local vers=("$kdir"/lib/modules/*)
	if [ ${#vers[@]} -ne 1 ] || [ ! -d "${vers[0]}" ]; then
		fail_all "expected one release in $kdir/lib/modules"
	fi
	ver=$(basename "${vers[0]}")
	vmlinuz=$kdir/boot/vmlinuz-$ver
	kmods=$kdir/lib/modules/$ver
}

# --- the image --------------------------------------------------------------------------

# stage_config ROOT: what a test machine needs beyond the package: the agent
# pointed at the simulator, DHCP on the virtio NIC, the test-only check unit
# and stand-in disk rule, an identity of its own.
stage_config() {
	local R=$1 u
	mkdir -p "$R/etc/azl-agent.conf.d" "$R/etc/systemd/network" "$R/etc/udev/rules.d" \
		"$R/usr/local/libexec/azl-system-check" "$R/etc/systemd/system/multi-user.target.wants"
	cat >"$R/etc/azl-agent.conf.d/50-system-test.conf" <<-EOF
	# tests/system: the Azure host simulator on the host, through QEMU user
	# networking (10.0.2.2 is the host's loopback).
	[provision]
	imds_url = http://10.0.2.2:$sim_imds_port
	wireserver_url = http://10.0.2.2:$sim_wire_port
	imds_budget_s = 60
	report_budget_s = 60
	groups = sudo,adm
	media = no
	[resource_disk]
	enabled = no
	EOF
	cat >"$R/etc/systemd/network/80-azl-system-test.network" <<-'EOF'
	[Match]
	Name=en* eth*
	[Network]
	DHCP=ipv4
	LinkLocalAddressing=no
	IPv6AcceptRA=no
	EOF
	cp "$here/guest/05-azl-standin.rules" "$R/etc/udev/rules.d/"
	install -m 0755 "$here/guest/check.sh" "$R/usr/local/libexec/azl-system-check/check.sh"
	cp "$here/guest/azl-system-check.service" "$R/etc/systemd/system/"
	ln -sf ../azl-system-check.service "$R/etc/systemd/system/multi-user.target.wants/"
	echo azl-system-test >"$R/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tazl-system-test\n' >"$R/etc/hosts"
	od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$R/etc/machine-id"
	echo >>"$R/etc/machine-id"
	echo '/dev/vda / ext4 rw 0 0' >"$R/etc/fstab"
	systemctl --root="$R" enable systemd-networkd.service systemd-networkd-wait-online.service \
		>>"$logdir/system-image.log" 2>&1 || return 1
	# Our units, as the package's scriptlets would: presets where the package
	# ships them, else enable.
	# Every azl-*.service installed (azl-kvp.service is what azl-agent.service
	# replaces: only without it).
	local ours=() how
	for u in "$R"/usr/lib/systemd/system/azl-*.service; do
		[ -f "$u" ] || continue
		u=${u##*/}
		if [ "$u" = azl-kvp.service ] && [ -f "$R/usr/lib/systemd/system/azl-agent.service" ]; then
			continue
		fi
		ours+=("$u")
	done
	[ ${#ours[@]} -gt 0 ] || return 0
	how=enable
	! compgen -G "$R/usr/lib/systemd/system-preset/*azl*.preset" >/dev/null || how=preset
	if systemctl --root="$R" "$how" "${ours[@]}" >>"$logdir/system-image.log" 2>&1; then
		add "ok - image: systemctl $how ${ours[*]}"
	else
		add "not ok - image: systemctl $how ${ours[*]}"
		while IFS= read -r u; do note "  $u"; done < <(tail -n 5 "$logdir/system-image.log")
	fi
}

# install_by_hand ROOT: when `make install` fails, what it would install at
# least, so the boots still test the rest (the failure is reported).
install_by_hand() {
	local R=$1 f
	install -D -m 0755 "$build/azl-agent" "$R/usr/sbin/azl-agent"
	install -D -m 0755 "$build/azl-agent-provision" "$R/usr/libexec/azl-agent/azl-agent-provision"
	ln -sf /usr/sbin/azl-agent "$R/usr/libexec/azl-agent/hv_kvp_daemon"
	[ ! -x "$build/azl-udev" ] || install -D -m 0755 "$build/azl-udev" "$R/usr/lib/udev/azl-udev"
	mkdir -p "$R/usr/lib/systemd/system" "$R/usr/lib/udev/rules.d" "$R/usr/lib/tmpfiles.d"
	for f in "$top"/systemd/*.service; do [ ! -f "$f" ] || cp "$f" "$R/usr/lib/systemd/system/"; done
	for f in "$top"/udev/*.rules; do [ ! -f "$f" ] || cp "$f" "$R/usr/lib/udev/rules.d/"; done
	[ ! -f "$top/systemd/azl-guest.tmpfiles" ] || cp "$top/systemd/azl-guest.tmpfiles" "$R/usr/lib/tmpfiles.d/azl-guest.conf"
}

# write_manifest ROOT: what the tree ships, for the guest to find installed
# and loaded (a unit or rule that is missing in the guest is a failure, not
# a skip): "unit NAME" per systemd/*.service, "file PATH" per rule, network
# file, modprobe.d file and program.
write_manifest() {
	local R=$1 f n
	{
		for f in "$top"/systemd/*.service; do
			[ -f "$f" ] || continue
			n=${f##*/}
			# azl-agent.service replaces azl-kvp.service (the file may linger).
			[ "$n" != azl-kvp.service ] || [ ! -f "$top/systemd/azl-agent.service" ] || continue
			echo "unit $n"
		done
		for f in "$top"/udev/*.rules; do [ ! -f "$f" ] || echo "file /usr/lib/udev/rules.d/${f##*/}"; done
		for f in "$top"/udev/*.network; do [ ! -f "$f" ] || echo "file /usr/lib/systemd/network/${f##*/}"; done
		[ ! -f "$top/udev/modprobe/azl-guest.conf" ] || echo "file /usr/lib/modprobe.d/azl-guest.conf"
		echo "file /usr/sbin/azl-agent"
		echo "file /usr/libexec/azl-agent/hv_kvp_daemon"
		echo "file /usr/lib/udev/azl-udev"
	} >"$R/usr/local/libexec/azl-system-check/manifest"
}

# build_image: a copy of the cached root file system, our `make install`,
# the kernel's modules and the test configuration, made into an ext4 image.
build_image() {
	local stage=$work/stage mb line
	: >"$logdir/system-image.log"
	rm -rf "$stage"
	cp -a "$rootfs/." "$stage/" || return 1
	rm -f "$stage/.azl-rootfs-complete"
	# install-kmod: the module sources, 70-azl-kmod.rules and modprobe.d, as
	# the kmod package installs them (no module is built: no VMBus here, so
	# the rule only has to parse and stay quiet).
	if make -C "$top" --no-print-directory install install-kmod DESTDIR="$stage" PREFIX=/usr BUILD="$build" \
		>>"$logdir/system-image.log" 2>&1; then
		add "ok - image: make install install-kmod DESTDIR=… PREFIX=/usr"
	else
		add "not ok - image: make install install-kmod DESTDIR=… PREFIX=/usr" \
			"#   failed (see $logdir/system-image.log); the image gets the binaries, units and rules by hand"
		while IFS= read -r line; do note "  $line"; done < <(tail -n 5 "$logdir/system-image.log")
		install_by_hand "$stage"
	fi
	mkdir -p "$stage/usr/lib/modules/$ver"
	cp -a "$kmods/." "$stage/usr/lib/modules/$ver/" || return 1
	if ! stage_config "$stage"; then
		image_problem="the test configuration could not be written (see $logdir/system-image.log)"
		return 1
	fi
	write_manifest "$stage" || return 1
	mb=$(du -sm "$stage" | cut -f1)
	rm -f "$work/root.img"
	if ! mke2fs -q -t ext4 -L azl-root -d "$stage" "$work/root.img" "$((mb + mb / 2 + 256))M" \
		>>"$logdir/system-image.log" 2>&1; then
		image_problem="mke2fs -d failed (see $logdir/system-image.log)"
		return 1
	fi
	rm -rf "$stage"
	# The stand-in data disks: LUN 5 blank, LUN 0 with one partition.
	rm -f "$work/lun5.img" "$work/lun0.img"
	truncate -s 64M "$work/lun5.img" "$work/lun0.img"
	mbr_one_partition "$work/lun0.img" 2048 $((64 * 2048 - 2048))
}

# mbr_one_partition IMAGE START SECTORS: a DOS partition table with one Linux
# partition (written by hand: no partitioning tool needed on the host).
mbr_one_partition() {
	local i
	le32() { for i in 0 8 16 24; do printf '\\%03o' $(($1 >> i & 255)); done; }
	# status, CHS first (unused: LBA), type 0x83, CHS last, LBA start, sectors
	# shellcheck disable=SC2059 # the format is the bytes
	printf "\\000\\376\\377\\377\\203\\376\\377\\377$(le32 "$2")$(le32 "$3")" |
		dd of="$1" bs=1 seek=446 conv=notrunc status=none
	printf '\125\252' | dd of="$1" bs=1 seek=510 conv=notrunc status=none
}

# build_initramfs: busybox and the root disk's driver; /init mounts
# /dev/vda and switches to systemd.
build_initramfs() {
	local ir=$work/initramfs m f
	rm -rf "$ir"
	mkdir -p "$ir"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,newroot,lib/modules}
	cp "$busybox" "$ir/bin/busybox"
	ln -s busybox "$ir/bin/sh"
	mknod "$ir/dev/console" c 5 1
	: >"$ir/modules"
	while read -r m f; do
		[ "$m" = insmod ] || continue
		case $f in
		*.ko.xz) xz -dc "$f" >"$ir/lib/modules/$(basename "${f%.xz}")" ;;
		*.ko.gz) gzip -dc "$f" >"$ir/lib/modules/$(basename "${f%.gz}")" ;;
		*.ko.zst) zstd -qdc "$f" >"$ir/lib/modules/$(basename "${f%.zst}")" ;;
		*) cp "$f" "$ir/lib/modules/" ;;
		esac
		echo "$(basename "${f%.ko*}").ko" >>"$ir/modules"
	done < <(modprobe -d "$kdir" -S "$ver" --show-depends virtio_blk 2>/dev/null)
	cat >"$ir/init" <<-'EOF'
	#!/bin/sh
	# The system test's initramfs: the root disk's driver, then systemd.
	/bin/busybox mount -t proc proc /proc
	/bin/busybox --install -s
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	for m in $(cat /modules); do insmod "/lib/modules/$m"; done
	i=0
	while [ ! -b /dev/vda ] && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	if ! mount -t ext4 -o rw /dev/vda /newroot; then
		echo "AZL-INITRAMFS: cannot mount /dev/vda"
		poweroff -f
	fi
	mount --move /dev /newroot/dev
	umount /sys /proc
	exec switch_root /newroot /sbin/init
	EOF
	chmod 0755 "$ir/init"
	(cd "$ir" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$work/initramfs.img"
}

# --- boots -------------------------------------------------------------------------------

# boot NAME: boot a copy of the image as machine NAME; the console goes to
# test-logs/system-NAME-console.log, the guest's results to
# test-logs/system-NAME-results.log.  Adds the results.
boot() {
	local name=$1 img=$work/$1.img console=$logdir/system-$1-console.log
	local res=$logdir/system-$1-results.log journal=$logdir/system-$1-journal.log
	local append args=() t0 t1 rc=0 nres nfail min end_line done_seen=no off_seen=no line bad
	boot_failed=no
	# The second Azure boot is the first one's disk booted again.
	case $name in
	azure-again) img=$work/azure.img ;;
	*) cp --sparse=always "$work/root.img" "$img" ;;
	esac
	if [ ! -f "$img" ]; then
		add "not ok - $name: boots the disk of the azure boot (AZL_SYSTEM_BOOTS: azure first)"
		boot_failed=yes
		return 0
	fi
	# What the guest checks against comes from here: the simulator's
	# administrator, host name and key fingerprint, and how long to wait
	# for the boot (less than the time limit, so the guest reports first).
	append="console=ttyS0 root=/dev/vda rw panic=-1 systemd.unit=multi-user.target azl.system=$name"
	append+=" azl.timeout=$guest_timeout azl.admin=$want_admin"
	# shellcheck disable=SC2054 # QEMU's option values have commas
	args=(-machine pc -m 1536 -smp 2 -display none -monitor none -nodefaults -no-reboot
		-kernel "$vmlinuz" -initrd "$work/initramfs.img"
		-drive "file=$img,format=raw,if=virtio,cache=unsafe"
		-netdev user,id=net0 -device virtio-net-pci,netdev=net0
		-serial "file:$console.raw" -serial "file:$res.raw")
	if [ "$accel" = kvm ]; then
		# shellcheck disable=SC2054 # QEMU's option values have commas
		args+=(-accel kvm -cpu qemu64,+rdrand)
	else
		# shellcheck disable=SC2054 # QEMU's option values have commas
		args+=(-accel tcg,thread=multi -cpu qemu64,+rdrand)
	fi
	if [ "$name" != plain ]; then
		append+=" azl.standins=1 azl.hostname=$want_hostname azl.key=$want_keyfp"
		# shellcheck disable=SC2054 # QEMU's option values have commas
		args+=(-smbios "type=1,manufacturer=Microsoft Corporation,product=Virtual Machine,uuid=$vm_uuid"
			-smbios "type=3,manufacturer=Microsoft Corporation,asset=$azure_asset"
			-device virtio-scsi-pci,id=scsi0
			-drive "if=none,id=lun5,file=$work/lun5.img,format=raw,cache=unsafe"
			-device "scsi-hd,bus=scsi0.0,channel=0,scsi-id=0,lun=5,drive=lun5,vendor=Msft,product=Virtual Disk"
			-drive "if=none,id=lun0,file=$work/lun0.img,format=raw,cache=unsafe"
			-device "scsi-hd,bus=scsi0.0,channel=0,scsi-id=0,lun=0,drive=lun0,vendor=Msft,product=Virtual Disk")
	fi
	args+=(-append "$append")
	printf '%q ' qemu-system-x86_64 "${args[@]}" >"$logdir/system-$name-qemu.cmd"
	echo >>"$logdir/system-$name-qemu.cmd"
	rm -f "$console.raw" "$res.raw"
	t0=$(date +%s.%N)
	# In the background with its pid kept, so that cleanup() stops QEMU at
	# once when this script is interrupted or killed (timeout passes the
	# signal on); --foreground keeps QEMU in our process group, so a
	# terminal's Ctrl-C reaches it too.
	timeout --foreground -k 10 "$boot_timeout" qemu-system-x86_64 "${args[@]}" </dev/null \
		>"$logdir/system-$name-qemu.err" 2>&1 &
	qemu_pid=$!
	wait "$qemu_pid" || rc=$?
	qemu_pid=''
	t1=$(date +%s.%N)
	tr -d '\r' <"$console.raw" >"$console" 2>/dev/null
	tr -d '\r' <"$res.raw" >"$res.all" 2>/dev/null
	rm -f "$console.raw" "$res.raw"
	if [ "$name" = plain ] && [ "${AZL_SYSTEM_KEEP:-0}" != 1 ]; then rm -f "$img"; fi
	awk '/^AZL-SYSTEM BEGIN$/ { on = 1; next } /^AZL-SYSTEM END( |$)/ { on = 0 } on' "$res.all" >"$res"
	awk '/^AZL-JOURNAL BEGIN$/ { on = 1; next } /^AZL-JOURNAL END$/ { on = 0 } on' "$res.all" >"$journal"
	end_line=$(grep -m1 '^AZL-SYSTEM END' "$res.all")
	! grep -qx 'AZL-SYSTEM DONE' "$res.all" || done_seen=yes
	! grep -q 'reboot: Power down' "$console" || off_seen=yes
	note "$name: boot and checks took $(elapsed "$t0" "$t1") s (qemu status $rc); console: $console"
	while IFS= read -r line; do
		case $line in 'ok '* | 'not ok '* | '#'*) add "$line" ;; esac
	done <"$res"
	rm -f "$res.all"
	nres=$(grep -cE '^(ok|not ok) ' "$res")
	nfail=$(grep -c '^not ok' "$res")

	# Every result the guest sent arrived: a guest that stopped half way,
	# or a check that vanished from check.sh, fails here.
	min=$(min_results "$name")
	if [ "$end_line" = "AZL-SYSTEM END $nres $nfail" ] && [ "$nres" -ge "$min" ]; then
		add "ok - $name: all the guest's results arrived ($nres, at least $min; $nfail not ok)"
	else
		add "not ok - $name: all the guest's results arrived"
		note "  want: AZL-SYSTEM END $nres $nfail (what arrived), at least $min results"
		note "  got:  ${end_line:-no END line}"
		boot_failed=yes
	fi

	# A clean power-off: the guest finished, QEMU exited by itself (not
	# killed at the time limit: 124; not a reboot after a panic: no
	# "Power down").
	if [ "$rc" -eq 0 ] && [ "$done_seen" = yes ] && [ "$off_seen" = yes ]; then
		add "ok - $name: the guest finished its checks and powered off within ${boot_timeout} s"
	else
		add "not ok - $name: the guest finished its checks and powered off within ${boot_timeout} s"
		boot_failed=yes
		note "  qemu status $rc, AZL-SYSTEM DONE seen: $done_seen, \"reboot: Power down\" seen: $off_seen"
		case $rc in 124 | 137) note "  killed after $boot_timeout s (AZL_SYSTEM_TIMEOUT)" ;; esac
		[ ! -s "$logdir/system-$name-qemu.err" ] || note "  qemu: $(head -n 3 "$logdir/system-$name-qemu.err" | tr '\n' ' ')"
		note "  the last console lines ($console):"
		while IFS= read -r line; do note "  $line"; done < <(tail -n 40 "$console")
	fi

	# The whole console, shutdown included (the guest's own checks end
	# before it): no oops, no panic, no stop job that hung.
	bad=$(grep -E 'Call Trace|BUG:|Kernel panic|timed out|Failed to stop' "$console" | head -n 10)
	if [ -z "$bad" ]; then
		add "ok - $name: the console has no Call Trace, BUG:, Kernel panic, \"timed out\" or \"Failed to stop\""
	else
		add "not ok - $name: the console has no Call Trace, BUG:, Kernel panic, \"timed out\" or \"Failed to stop\""
		while IFS= read -r line; do note "  $line"; done <<<"$bad"
		boot_failed=yes
	fi
	[ "$nfail" -eq 0 ] || boot_failed=yes
	return 0
}

dump_journal() {
	local name=$1 journal=$2 console=$3 n
	n=$(wc -l <"$journal" 2>/dev/null || echo 0)
	note "$name: the guest's journal ($n lines; $journal; console $console):"
	if [ "$n" -gt 0 ]; then
		while IFS= read -r line; do note "  $line"; done < <(tail -n 2000 "$journal")
	fi
}

# keyfp "TYPE BASE64 [COMMENT]": the key's SHA256 fingerprint as ssh-keygen
# -l prints it (coreutils only: the guest checks with ssh-keygen).
keyfp() {
	local hex
	hex=$(printf '%s\n' "$1" | awk '{ print $2 }' | base64 -d 2>/dev/null | sha256sum | cut -c1-64)
	# shellcheck disable=SC2059 # the format is the bytes
	printf 'SHA256:%s\n' "$(printf "$(printf '%s' "$hex" | sed 's/../\\x&/g')" | base64 -w0 | tr -d '=')"
}

# sim_expect SCENARIO_FILE: what the simulator's IMDS document holds (its
# defaults in tests/sim/azure_sim.c, changed by the scenario's "set" lines):
# sets want_admin, want_hostname and want_keyfp (of the first key; "none").
sim_expect() {
	local src=$top/tests/sim/azure_sim.c key
	want_admin=$(sed -n 's/.*doc_set(&d->admin_username, "\(.*\)");.*/\1/p' "$src")
	want_hostname=$(sed -n 's/.*doc_set(&d->computer_name, "\(.*\)");.*/\1/p' "$src")
	key=$(sed -n 's/^#define DEFAULT_KEY "\(.*\)"$/\1/p' "$src")
	want_admin=$(sed -n 's/^set admin-username[[:space:]]\{1,\}//p' "$1" | tail -n 1 | grep . || echo "$want_admin")
	want_hostname=$(sed -n 's/^set computer-name[[:space:]]\{1,\}//p' "$1" | tail -n 1 | grep . || echo "$want_hostname")
	if grep -q '^set no-keys' "$1"; then key=''; fi
	key=$(sed -n 's/^set key[[:space:]]\{1,\}//p' "$1" | head -n 1 | grep . || echo "$key")
	if [ -n "$key" ]; then want_keyfp=$(keyfp "$key"); else want_keyfp=none; fi
	if [ -z "$want_admin" ] || [ -z "$want_hostname" ]; then
		fail_all "cannot read the simulator's administrator and host name from $src"
	fi
}

# min_results BOOT: how many results the guest sends at least in that boot;
# fewer (with a matching END line) means check.sh lost checks.
min_results() {
	case $1 in
	azure) echo $((guest_common + 15)) ;;
	azure-again) echo $((guest_common + 5)) ;;
	plain) echo $((guest_common + 4)) ;;
	*) echo 1 ;;
	esac
}
# The checks of every boot (check.sh, before the boot's own).
guest_common=9

# --- main --------------------------------------------------------------------------------

main() {
	local t0 t1 before after states name
	check_tools
	work=$(mktemp -d "$build/system/run.XXXXXX") || fail_all "cannot make a directory under $build/system"
	t0=$(date +%s.%N)
	get_kernel
	rootfs=$(cached rootfs-cache.sh "$logdir/system-rootfs-cache.log") ||
		cache_problem rootfs-cache.sh "$logdir/system-rootfs-cache.log" $?
	t1=$(date +%s.%N)
	note "kernel $ver, root file system $rootfs ($(elapsed "$t0" "$t1") s to get both)"

	# The simulator first: its ports go into the image.
	# shellcheck source=../sim/lib.sh
	. "$top/tests/sim/lib.sh"
	sim_start "${AZL_SYSTEM_SCENARIO:-happy}" || fail_all "the Azure host simulator did not start"
	sim_imds_port=${IMDS_URL##*:} sim_wire_port=${WIRE_URL##*:}
	sim_expect "$(sim_scenario "${AZL_SYSTEM_SCENARIO:-happy}")"
	note "the guest expects administrator $want_admin, host name $want_hostname, key $want_keyfp"
	if [ "$boot_timeout" -ge 120 ]; then guest_timeout=$((boot_timeout - 60)); else guest_timeout=$((boot_timeout / 2)); fi

	image_problem=''
	t0=$(date +%s.%N)
	if ! build_image; then
		fail_all "${image_problem:-the image could not be built}" "$(tail -n 20 "$logdir/system-image.log")"
	fi
	build_initramfs || fail_all "the initramfs could not be built"
	t1=$(date +%s.%N)
	note "image and initramfs built in $(elapsed "$t0" "$t1") s"

	for name in $boots; do
		before=$(sim_count)
		boot "$name"
		after=$(sim_count)
		case $name in
		azure)
			states=$(sim_field state health; sim_field state jsonhealth)
			if printf '%s\n' "$states" | grep -qx Ready; then
				add "ok - azure: host: the simulator recorded the Ready report"
			else
				add "not ok - azure: host: the simulator recorded the Ready report"
				boot_failed=yes
				note "  the simulator's log ($((after - before)) requests):"
				while IFS= read -r line; do note "  $line"; done < <(cut -c1-300 "$SIM_LOG" | tail -n 20)
			fi
			;;
		plain | azure-again)
			if [ "$after" -eq "$before" ]; then
				add "ok - $name: host: the simulator got no request"
			else
				add "not ok - $name: host: the simulator got no request"
				boot_failed=yes
				while IFS= read -r line; do note "  $line"; done < <(cut -c1-300 "$SIM_LOG" | tail -n $((after - before)))
			fi
			;;
		esac
		# On any failure: the guest's whole journal, and where the console is.
		[ "$boot_failed" = no ] ||
			dump_journal "$name" "$logdir/system-$name-journal.log" "$logdir/system-$name-console.log"
	done
	cp "$SIM_LOG" "$logdir/system-sim-requests.log" 2>/dev/null
	if sim_stop; then add "ok - host: the simulator exited cleanly"; else add "not ok - host: the simulator exited cleanly"; fi
	print_tap
	[ "$(printf '%s\n' "${results[@]}" | grep -c '^not ok')" -eq 0 ]
}

main "$@"
