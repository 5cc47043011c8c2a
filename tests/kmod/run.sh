#!/usr/bin/env bash
# Kernel CI runner, host side: boot a real kernel in QEMU with our modules and
# run the guest suites (tests/kmod/guest/tests/*.sh) in it, then print what
# they found as flat TAP for tests/run.sh ("SUITE: TEST" per guest subtest).
#
# usage: tests/kmod/run.sh BUILD_DIR [KO_DIR]
#   BUILD_DIR  azl-agent is taken from here; the initramfs is built in
#              BUILD_DIR/kmod-initramfs, logs go to BUILD_DIR/test-logs
#   KO_DIR     our *.ko files (default: BUILD_DIR/kmod/<release> as
#              `make kmod` leaves them, else every *.ko under kmod/); none is
#              fine.  The programs tests/kmod/guest-tools names (paths under
#              BUILD_DIR) go to the guest's /usr/bin with their libraries.
#
# The kernel comes from scripts/kernel-cache.sh (KERNEL= MODULES= for another
# build).  Acceleration: KVM with Hyper-V enlightenments and a VMBus bridge
# when KVM offers SynIC, plain KVM when it works, TCG otherwise; force one
# with AZL_KMOD_ACCEL=tcg|kvm|kvm-hyperv.  AZL_KMOD_TIMEOUT (default 600)
# bounds the whole boot, AZL_SUITE_TIMEOUT (default 120) each guest suite.
#
# The guest has two NUMA nodes and the azl_accel stand-ins (machine_args
# below), and a QMP monitor on a pair of FIFOs: a guest suite asks for a
# hotplug by printing "AZL-QMP SEQ VERB ID END" on the console, and
# qmp_poll sends the allowed ones to QEMU (tests/kmod/README.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:?usage: tests/kmod/run.sh BUILD_DIR [KO_DIR]}
ko_dir=${2:-}
mkdir -p "$build"
build=$(cd "$build" && pwd)
work=$build/kmod-initramfs
logdir=$build/test-logs
console=$logdir/kmod-console.log
boot_timeout=${AZL_KMOD_TIMEOUT:-600}
suite_timeout=${AZL_SUITE_TIMEOUT:-120}
mkdir -p "$work" "$logdir"

# Flat TAP lines ("ok - name", "not ok - name", "# comment"), numbered at the end.
results=()
add() { results+=("$@"); }
note() { add "# $*"; }

print_tap() {
	local n=0 line
	for line in "${results[@]}"; do
		case $line in ok\ -* | not\ ok\ -*) n=$((n + 1)) ;; esac
	done
	echo "1..$n"
	n=0
	for line in "${results[@]}"; do
		case $line in
		ok\ -*) n=$((n + 1)) && echo "ok $n ${line#ok }" ;;
		not\ ok\ -*) n=$((n + 1)) && echo "not ok $n ${line#not ok }" ;;
		*) echo "$line" ;;
		esac
	done
}

skip_all() {
	echo "1..1"
	echo "ok 1 - kernel tests # SKIP $*"
	exit 0
}

fail_all() {
	echo "1..1"
	echo "not ok 1 - $1"
	shift
	[ $# -eq 0 ] || printf '# %s\n' "$@"
	exit 1
}

# --- tools and kernel ---------------------------------------------------------

find_busybox() {
	local b
	for b in /bin/busybox /usr/bin/busybox /usr/sbin/busybox "$(command -v busybox || true)"; do
		[ -n "$b" ] && [ -x "$b" ] && { echo "$b"; return 0; }
	done
	return 1
}

check_tools() {
	local missing=() t
	command -v qemu-system-x86_64 >/dev/null || skip_all "no qemu-system-x86_64 (package qemu-system-x86): no KVM and no TCG"
	busybox=$(find_busybox) || missing+=("busybox (busybox-static)")
	for t in cpio gzip depmod xz; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] || skip_all "missing tools: ${missing[*]} (scripts/deps.sh kmod)"
}

get_kernel() {
	local out rc=0 log=$logdir/kmod-kernel-cache.log
	out=$("$top/scripts/kernel-cache.sh" 2>"$log") || rc=$?
	if [ "$rc" -eq 77 ]; then
		skip_all "kernel not available: $(grep 'kernel-cache:' "$log" | tail -n 1 | sed 's/^kernel-cache: //')"
	elif [ "$rc" -ne 0 ]; then
		mapfile -t lines < <(tail -n 20 "$log")
		fail_all "kernel tests: cannot get a kernel (scripts/kernel-cache.sh status $rc)" "${lines[@]}"
	fi
	kdir=$(printf '%s\n' "$out" | tail -n 1)
	local vers=("$kdir"/lib/modules/*)
	if [ ${#vers[@]} -ne 1 ] || [ ! -d "${vers[0]}" ]; then
		fail_all "kernel tests: expected one release in $kdir/lib/modules"
	fi
	ver=$(basename "${vers[0]}")
	vmlinuz=$kdir/boot/vmlinuz-$ver
	kmods=$kdir/lib/modules/$ver
}

# --- our modules ----------------------------------------------------------------

# find_kos: our modules, one per name; the shallowest copy wins (make kmod
# leaves a copy of the sources beside the results).
find_kos() {
	local dir=$ko_dir
	if [ -z "$dir" ]; then
		if [ -d "$build/kmod/$ver" ]; then dir=$build/kmod/$ver; else dir=$top/kmod; fi
	fi
	[ -d "$dir" ] || return 0
	find "$dir" -name '*.ko' -printf '%d %p\n' | sort -n | cut -d' ' -f2- |
		awk '{ n = $0; sub(/.*\//, "", n) } !seen[n]++'
}

# modinfo_field KO FIELD: read .modinfo without depending on modinfo's flags.
modinfo_field() { tr '\000' '\n' <"$1" | sed -n "s/^$2=//p" | head -n 1; }

# A module built for another release fails to load in the guest for a reason
# the guest cannot explain well; say it here.
check_vermagic() {
	local ko magic
	for ko in "${kos[@]}"; do
		magic=$(modinfo_field "$ko" vermagic)
		if [ "${magic%% *}" = "$ver" ]; then
			add "ok - host: $(basename "$ko") is built for $ver"
		else
			add "not ok - host: $(basename "$ko") is built for $ver" \
				"#   $ko: vermagic '${magic:-none}' (rebuild: make kmod KDIR=/usr/src/linux-headers-$ver)"
		fi
	done
}

# --- initramfs ------------------------------------------------------------------

# wanted_kmods: kernel modules the guest suites use (kernel-modules, one name
# a line) plus whatever our modules depend on.
wanted_kmods() {
	sed 's/#.*//' "$here/kernel-modules" | tr -s ' \t' '\n' | sed '/^$/d'
	local ko
	for ko in "${kos[@]}"; do
		modinfo_field "$ko" depends | tr ',' '\n' | sed '/^$/d'
	done
}

# resolve_kmods NAME...: the modules.dep paths of NAME and of everything it
# needs (depmod lists the whole closure on each line).  Built-in and unknown
# names are reported as comments.
resolve_kmods() {
	awk -v names="$*" -v builtin="$kmods/modules.builtin" '
		function modname(p) { sub(/.*\//, "", p); sub(/\.ko.*$/, "", p); gsub(/-/, "_", p); return p }
		BEGIN {
			n = split(names, w, " ")
			for (i = 1; i <= n; i++) { x = w[i]; gsub(/-/, "_", x); want[x] = 1 }
			while ((getline l < builtin) > 0) inkernel[modname(l)] = 1
		}
		{
			sub(/:$/, "", $1)
			m = modname($1)
			if (!(m in want)) next
			found[m] = 1
			for (i = 1; i <= NF; i++) { p = $i; sub(/:$/, "", p); if (!(p in seen)) { seen[p] = 1; print p } }
		}
		END {
			for (m in want) if (!(m in found))
				print "# " m ": " ((m in inkernel) ? "built into the kernel" : "not in this kernel") > "/dev/stderr"
		}' "$kmods/modules.dep"
}

# install_kmod REL DEST: copy one module, decompressed (busybox insmod and
# modprobe read plain .ko only).
install_kmod() {
	local src=$kmods/$1 file=${1##*/}
	local dst=$2/${file%.*}
	case $1 in
	*.ko) cp "$src" "$2/$file" ;;
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*) echo "unknown module format: $1" >&2 && return 1 ;;
	esac
}

# copy_libs BINARY ROOT: the shared libraries and dynamic loader ldd lists.
copy_libs() {
	local lib
	while read -r lib; do
		mkdir -p "$2$(dirname "$lib")"
		cp -L "$lib" "$2$lib"
	done < <(ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
	if ldd "$1" 2>/dev/null | grep -q 'not found'; then
		note "$(basename "$1"): $(ldd "$1" | grep 'not found' | tr -s '\t\n' '  ')"
	fi
}

# pack DIR OUT: a gzip'd newc archive of DIR, owned by root whoever builds it.
pack() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -"$3" >"$2.tmp"
	mv "$2.tmp" "$2"
}

# newc_entry NAME MODE RDEVMAJOR RDEVMINOR INO: one header and name of a
# newc archive without data.  /dev/console must exist before init runs (the
# kernel opens it for init's stdio) and mknod needs root, so write it by hand.
newc_entry() {
	local namesize=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$5" "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
	printf '%s\0' "$1"
	head -c $(((4 - (110 + namesize) % 4) % 4)) /dev/zero
}

dev_archive() {
	[ -s "$work/dev.cpio" ] && return 0
	{
		newc_entry dev $((8#040755)) 0 0 1
		newc_entry dev/console $((8#020600)) 5 1 2
		newc_entry 'TRAILER!!!' 0 0 0 3
	} >"$work/dev.cpio.tmp"
	# Pad to a cpio block so the gzip'd archives after it start aligned.
	truncate -s 512 "$work/dev.cpio.tmp"
	mv "$work/dev.cpio.tmp" "$work/dev.cpio"
}

# The base layer (busybox, kernel modules) changes only with the kernel, the
# module list or busybox: rebuild it only then.
base_archive() {
	local names key rel base=$work/base
	names=$(wanted_kmods | sort -u | tr '\n' ' ')
	key=$(printf '%s\n' "$ver" "$(realpath "$kmods")" "$names" \
		"$(stat -L -c '%s %Y' "$busybox" "$vmlinuz" "$kmods/modules.dep")" \
		"$(md5sum <"$0")" | md5sum | cut -d' ' -f1)
	if [ -s "$work/base.cpio.gz" ] && [ "$(cat "$work/base.key" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	rm -rf "$base"
	mkdir -p "$base"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc} "$base/lib/modules/$ver"
	cp "$busybox" "$base/bin/busybox"
	ln -s busybox "$base/bin/sh"
	copy_libs "$busybox" "$base"
	# shellcheck disable=SC2086 # names is a word list
	resolve_kmods $names >"$work/kmods.list" 2>"$work/kmods.notes"
	while read -r rel; do
		mkdir -p "$base/lib/modules/$ver/$(dirname "$rel")"
		install_kmod "$rel" "$base/lib/modules/$ver/$(dirname "$rel")"
	done <"$work/kmods.list"
	for rel in modules.order modules.builtin modules.builtin.modinfo; do
		[ ! -f "$kmods/$rel" ] || cp "$kmods/$rel" "$base/lib/modules/$ver/"
	done
	pack "$base" "$work/base.cpio.gz" 6
	echo "$key" >"$work/base.key"
}

# The overlay layer: what changes between runs (our modules, the agent, the
# guest scripts) and the module index over both layers.  Later archives win
# in the kernel's unpacker, so this one's modules.dep replaces the base's.
overlay_archive() {
	local ov=$work/overlay dm=$work/depmod ko f agent=$build/azl-agent
	rm -rf "$ov" "$dm"
	mkdir -p "$ov/tests" "$ov/lib/modules/$ver/extra" "$ov/usr/sbin"
	cp "$here/guest/init" "$here/guest/ktap.sh" "$here/guest/kmod.sh" "$here/guest/run-suites.sh" "$ov/"
	cp "$here"/guest/tests/*.sh "$ov/tests/"
	chmod 0755 "$ov/init" "$ov/run-suites.sh"
	# Debug info is most of a .ko built against Debian's headers; the guest
	# does not need it, and a smaller initramfs unpacks faster under TCG.
	for ko in "${kos[@]}"; do
		f=$ov/lib/modules/$ver/extra/${ko##*/}
		strip --strip-debug -o "$f" "$ko" 2>/dev/null || cp "$ko" "$f"
	done
	if [ -x "$agent" ]; then
		cp "$agent" "$ov/usr/sbin/azl-agent"
		copy_libs "$agent" "$ov"
	else
		note "no $agent: the agent tests skip (build it: make)"
	fi
	# Test-only programs (guest-tools: paths under BUILD_DIR) go on the
	# guest's PATH; a suite that needs a missing one says so itself.
	mkdir -p "$ov/usr/bin"
	while read -r f; do
		if [ -x "$build/$f" ]; then
			cp "$build/$f" "$ov/usr/bin/"
			copy_libs "$build/$f" "$ov"
		else
			note "no $build/$f (guest-tools): not in the guest"
		fi
	done < <(sed 's/#.*//; /^[[:space:]]*$/d' "$here/guest-tools")
	# depmod over both layers, through hard links (no copying).
	mkdir -p "$dm/lib/modules"
	cp -al "$work/base/lib/modules/$ver" "$dm/lib/modules/"
	cp -al "$ov/lib/modules/$ver/extra" "$dm/lib/modules/$ver/"
	depmod -b "$dm" "$ver"
	for f in "$dm/lib/modules/$ver"/modules.*; do cp "$f" "$ov/lib/modules/$ver/"; done
	rm -rf "$dm"
	pack "$ov" "$work/overlay.cpio.gz" 1
}

build_initramfs() {
	dev_archive
	base_archive
	overlay_archive
	while read -r line; do note "$line"; done <"$work/kmods.notes"
	cat "$work/dev.cpio" "$work/base.cpio.gz" "$work/overlay.cpio.gz" >"$work/initramfs.img"
}

# --- QEMU -----------------------------------------------------------------------

hv_flags=hv-relaxed,hv-vapic,hv-time,hv-vpindex,hv-synic,hv-stimer

# qemu_works ARGS...: QEMU starts with ARGS and runs guest code: a boot
# sector that writes to the isa-debug-exit port, which ends QEMU with status
# (0x31 << 1) | 1 = 99.  Checking that QEMU merely starts is not enough:
# some KVMs accept a CPU model and then fail on its first MSR write.
qemu_works() {
	local img=$work/probe.img rc=0
	if [ ! -s "$img" ]; then
		{ printf '\xb0\x31\xe6\xf4\xf4\xeb\xfd'; head -c 503 /dev/zero; printf '\x55\xaa'; } >"$img"
	fi
	# The subshell keeps bash's "Aborted" job notice out of the TAP stream.
	(timeout -k 5 60 qemu-system-x86_64 -nodefaults -display none -no-reboot -m 64 \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-drive "file=$img,format=raw,if=ide,snapshot=on" "$@" \
		</dev/null >/dev/null 2>"$work/probe.err" || exit $?) 2>/dev/null || rc=$?
	[ "$rc" -eq 99 ] && return 0
	note "accel probe ($*): status $rc $(head -n 2 "$work/probe.err" | tr '\n' ' ')"
	return 1
}

# RDRAND lets the guest's RNG start at once; without it the RNG needs about
# 7 s under TCG, and azl-agent started before then waits for it.
tcg_args=(-accel tcg -cpu "qemu64,+rdrand")

kvm_usable() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# A KVM that runs the probe can still fail on the kernel ("KVM internal
# error" on some nested hosts).  When it did, and TCG then booted the same
# kernel, remember it here so later runs go to TCG at once.  Keyed by QEMU,
# host kernel and guest kernel; `make clean` or deleting the file retries.
verdict=$work/kvm-verdict
verdict_key() { echo "$(qemu-system-x86_64 --version | head -n 1) | host $(uname -r) | guest $ver"; }

# pick_accel: sets mode (tcg, kvm, kvm-hyperv), accel_args and auto_kvm
# (yes when KVM was chosen by detection and may fall back to TCG).
pick_accel() {
	local want=${AZL_KMOD_ACCEL:-auto} kcpu=none
	mode='' accel_args=() auto_kvm=no
	case $want in auto | tcg | kvm | kvm-hyperv) ;; *) fail_all "AZL_KMOD_ACCEL=$want: use tcg, kvm or kvm-hyperv" ;; esac
	if [ "$want" = auto ] && [ -f "$verdict" ] && [ "$(head -n 1 "$verdict")" = "$(verdict_key)" ]; then
		note "KVM not tried: $(tail -n 1 "$verdict") (remembered in $verdict)"
		want=tcg
	fi
	if [ "$want" != tcg ] && kvm_usable; then
		# -cpu host is best; some nested KVMs run only the default model.
		if qemu_works -accel kvm -cpu host; then
			kcpu=host
		elif qemu_works -accel kvm; then
			kcpu=qemu64
		fi
		if [ "$kcpu" != none ] && [ "$want" != kvm ] &&
			qemu_works -accel kvm -cpu "$kcpu,$hv_flags" -device vmbus-bridge; then
			mode=kvm-hyperv accel_args=(-accel kvm -cpu "$kcpu,$hv_flags" -device vmbus-bridge)
		elif [ "$kcpu" != none ] && [ "$want" != kvm-hyperv ]; then
			mode=kvm accel_args=(-accel kvm)
			[ "$kcpu" = qemu64 ] || accel_args+=(-cpu "$kcpu")
		fi
		[ -z "$mode" ] || [ "$want" != auto ] || auto_kvm=yes
	fi
	if [ -z "$mode" ] && [ "$want" != auto ] && [ "$want" != tcg ]; then
		fail_all "AZL_KMOD_ACCEL=$want does not work here" "${results[@]#\# }"
	fi
	if [ -z "$mode" ]; then
		qemu_works -accel tcg || skip_all "QEMU runs neither KVM nor TCG here"
		mode=tcg accel_args=("${tcg_args[@]}")
	fi
}

# The guest machine: 1 GiB as two NUMA nodes of one CPU each (each CPU its
# own socket: two nodes sharing a socket's cache would make the scheduler
# warn at boot that the topology is not sane), and the
# azl_accel stand-ins at fixed addresses (the suites find them there):
#   00:10.0  pci-testdev   on the root bus, which has no _PXM: numa_node -1
#   00:11.0  edu           not in azl_accel's test_match: must stay untouched
#   00:12.0  nvme          the nvme driver binds (it is built into Debian's
#                          kernel) and records the node it saw at probe
#   00:13.0  pxb           an expander bridge on node 1 (ACPI _PXM); its bus
#   21:00.0  pci-testdev   (behind the pxb's own bridge, 20:00.0) has a node
#                          "the host gave"
#   00:15.0  pxb           an expander bridge on node 0; behind it
#   31:00.0  pci-testdev   numa_node 0, as pci-hyperv leaves a device the
#                          host gave no affinity (azl_accel's zero_is_unset)
# 00:14.0 stays free for the hotplug test (qmp_request).  azl.standins=1 on
# the kernel command line tells the suites this machine is the one here.
# shellcheck disable=SC2054 # QEMU's option values have commas
machine_args=(
	-object memory-backend-ram,id=azl-mem0,size=512M
	-object memory-backend-ram,id=azl-mem1,size=512M
	-numa node,nodeid=0,cpus=0,memdev=azl-mem0
	-numa node,nodeid=1,cpus=1,memdev=azl-mem1
	-device pci-testdev,id=azl-td0,bus=pci.0,addr=0x10
	-device edu,id=azl-edu,bus=pci.0,addr=0x11
	-device nvme,id=azl-nvme,serial=azlaccel0,bus=pci.0,addr=0x12
	-device pxb,id=azl-pxb,bus_nr=32,numa_node=1,bus=pci.0,addr=0x13
	-device pci-testdev,id=azl-td1,bus=azl-pxb,addr=0x0
	-device pxb,id=azl-pxb0,bus_nr=48,numa_node=0,bus=pci.0,addr=0x15
	-device pci-testdev,id=azl-td2,bus=azl-pxb0,addr=0x0
)

# --- QMP for the guest's hotplug requests -----------------------------------------
#
# QEMU's "pipe" chardev reads PATH.in and writes PATH.out; both are FIFOs
# opened read-write here (which never blocks), so no port, socket tool or
# helper process is needed.  qmp_log keeps the whole conversation.
qmp_ok=no qmp_args=() qmp_seen=0 qmp_ready=no
qmp_log=$logdir/kmod-qmp.log

qmp_open() {
	qmp_ok=no qmp_args=() qmp_seen=0 qmp_ready=no
	: >"$qmp_log"
	if ! command -v mkfifo >/dev/null; then
		note "no mkfifo: the guest's QMP hotplug tests skip"
		return 0
	fi
	rm -f "$work/qmp.in" "$work/qmp.out"
	mkfifo "$work/qmp.in" "$work/qmp.out" || return 0
	exec {qmp_in}<>"$work/qmp.in" {qmp_out}<>"$work/qmp.out"
	qmp_ok=yes
	qmp_args=(-chardev "pipe,id=azl-qmp,path=$work/qmp" -mon "chardev=azl-qmp,mode=control")
}

qmp_close() {
	[ "$qmp_ok" = yes ] || return 0
	qmp_drain
	exec {qmp_in}>&- {qmp_out}<&-
	rm -f "$work/qmp.in" "$work/qmp.out"
	qmp_ok=no
}

# qmp_drain: copy what QEMU said so far into the log (replies, events).
qmp_drain() {
	local line
	while IFS= read -r -t 0.2 line <&"$qmp_out"; do
		printf '< %s\n' "$line" >>"$qmp_log"
	done
	return 0
}

qmp_send() {
	printf '> %s\n' "$1" >>"$qmp_log"
	printf '%s\n' "$1" >&"$qmp_in"
}

# qmp_request SEQ VERB ID: only these commands on these devices; anything
# else the guest prints is refused (and the guest's wait fails).
qmp_request() {
	local json addr
	case $3 in
	azl-td0) addr=0x10 ;;
	azl-hot) addr=0x14 ;;
	*) addr='' ;;
	esac
	case $2 in
	device_del) json='{"execute":"device_del","arguments":{"id":"'$3'"}}' ;;
	device_add) json='{"execute":"device_add","arguments":{"driver":"pci-testdev","id":"'$3'","bus":"pci.0","addr":"'$addr'"}}' ;;
	*) addr='' ;;
	esac
	if [ -z "$addr" ]; then
		printf '# request %s refused: %s %s\n' "$1" "$2" "$3" >>"$qmp_log"
		return 0
	fi
	# The monitor accepts commands once capabilities are negotiated.
	if [ "$qmp_ready" = no ]; then
		qmp_send '{"execute":"qmp_capabilities"}'
		qmp_ready=yes
	fi
	printf '# request %s: %s %s\n' "$1" "$2" "$3" >>"$qmp_log"
	qmp_send "$json"
	qmp_drain
}

# qmp_poll RAW: handle the requests printed since the last call, in order.
# A request counts once its line is complete ("END"), so a line QEMU is
# still writing is never read half.
qmp_poll() {
	[ "$qmp_ok" = yes ] || return 0
	local seq verb id
	while read -r seq verb id; do
		[ "$seq" -eq $((qmp_seen + 1)) ] || continue
		qmp_request "$seq" "$verb" "$id"
		qmp_seen=$seq
	done < <(grep -a -o 'AZL-QMP [0-9][0-9]* [a-z_]* [a-z0-9-]* END' "$1" 2>/dev/null |
		awk '{ print $2, $3, $4 }')
}

# boot_guest: run QEMU once in the current mode, the serial console into
# $console.  Sets boot_failure (empty when the guest got to its tests) to why
# the accelerator, not the tests, failed: a KVM internal error, or no
# "=== AZL-KTAP BEGIN ===" within AZL_KMOD_BOOT_DEADLINE seconds.
boot_guest() {
	local raw=$console.raw err=$logdir/kmod-qemu.err pid rc=0 deadline start now cmd
	# log_buf_len: the suites find their part of the kernel log by counting
	# lines (dmesg_mark), which stops working once the ring wraps; the
	# default 128 KiB is nearly full after all suites.
	local append="console=ttyS0 panic=-1 quiet log_buf_len=1M azl.mode=$mode azl.timeout=$suite_timeout azl.standins=1"
	[ -z "${AZL_KMOD_SUITES:-}" ] || append+=" azl.suites=$(echo "$AZL_KMOD_SUITES" | tr ' ' ,)"
	qmp_open
	[ "$qmp_ok" != yes ] || append+=" azl.qmp=1"
	cmd=(qemu-system-x86_64 -m 1024 -smp "2,sockets=2,cores=1,threads=1" -nographic -nodefaults
		-serial stdio -no-reboot "${accel_args[@]}" "${machine_args[@]}" "${qmp_args[@]}"
		-kernel "$vmlinuz" -initrd "$work/initramfs.img" -append "$append")
	printf '%q ' "${cmd[@]}" >"$logdir/kmod-qemu.cmd"
	echo >>"$logdir/kmod-qemu.cmd"
	boot_failure=''
	deadline=${AZL_KMOD_BOOT_DEADLINE:-120}
	start=$SECONDS
	timeout -k 10 "$boot_timeout" "${cmd[@]}" </dev/null >"$raw" 2>"$err" &
	pid=$!
	# QEMU pauses, and would wait out the hard timeout, on a KVM internal
	# error; a kernel that never reaches /init would do the same.
	while kill -0 "$pid" 2>/dev/null; do
		now=$((SECONDS - start))
		if [ "$mode" != tcg ] && grep -q 'KVM internal error' "$err"; then
			boot_failure="KVM internal error after ${now} s: $(grep -m1 -A2 'KVM internal error' "$err" | tr '\n' ' ')"
		elif [ "$now" -ge "$deadline" ] && ! grep -q '=== AZL-KTAP BEGIN ===' "$raw"; then
			boot_failure="no tests started within $deadline s (AZL_KMOD_BOOT_DEADLINE)"
		fi
		if [ -n "$boot_failure" ]; then
			kill "$pid" 2>/dev/null
			break
		fi
		qmp_poll "$raw"
		sleep 0.1
	done
	wait "$pid" || rc=$?
	qmp_close
	tr -d '\r' <"$raw" >"$console"
	rm -f "$raw"
	if [ -z "$boot_failure" ] && [ "$rc" -ne 0 ]; then
		note "qemu exited with status $rc$([ "$rc" -eq 124 ] && echo " (killed after $boot_timeout s, AZL_KMOD_TIMEOUT)")"
	fi
	if [ -s "$err" ] && [ -z "$boot_failure" ]; then
		note "qemu: $(head -n 3 "$err" | tr '\n' ' ')"
	fi
	return 0
}

# boot: boot_guest; when detected KVM fails to boot the kernel, keep that
# console log aside, boot again under TCG, and remember the verdict if TCG
# got further.
boot() {
	boot_guest
	[ -n "$boot_failure" ] || return 0
	if [ "$auto_kvm" = yes ]; then
		local failed_mode=$mode
		cp "$console" "$logdir/kmod-console.$failed_mode.log"
		note "mode $failed_mode failed: $boot_failure; console: $logdir/kmod-console.$failed_mode.log; retrying under TCG"
		mode=tcg accel_args=("${tcg_args[@]}") auto_kvm=no
		boot_guest
		if [ -z "$boot_failure" ]; then
			printf '%s\n%s\n' "$(verdict_key)" "$failed_mode failed to boot $ver ($(date -u +%F))" >"$verdict"
		fi
	fi
	[ -z "$boot_failure" ] || note "boot failed: $boot_failure"
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

main() {
	local t0 t1 t2 line failed
	t0=$(date +%s.%N)
	check_tools
	get_kernel
	if [ -n "$ko_dir" ] && [ ! -d "$ko_dir" ]; then
		fail_all "kernel tests: KO_DIR $ko_dir is not a directory"
	fi
	mapfile -t kos < <(find_kos)
	note "kernel $ver from $kdir; ${#kos[@]} module(s) of ours${kos:+: ${kos[*]##*/}}"
	check_vermagic
	build_initramfs
	pick_accel
	t1=$(date +%s.%N)
	boot
	t2=$(date +%s.%N)
	while IFS= read -r line; do add "$line"; done < <(awk -f "$here/ktap-to-tap.awk" "$console")
	note "mode $mode; prepare $(elapsed "$t0" "$t1") s, boot and tests $(elapsed "$t1" "$t2") s; console log: $console"
	print_tap
	failed=$(printf '%s\n' "${results[@]}" | grep -c '^not ok' || true)
	[ "$failed" -eq 0 ]
}

main "$@"
