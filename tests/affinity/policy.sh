#!/usr/bin/env bash
# azl-irqbalance-policy, irqbalance's --policyscript, under the real
# irqbalance (Debian's 1.9.2 here), and the unit drop-in that sets it.
#
# First, without root: `make install` puts the program where the drop-in's
# ExecStart says, and systemd accepts the packaged irqbalance.service with
# the drop-in.  Then, as root, the namespace harness of irqbalance.sh:
# private mount, network and PID namespaces whose /sys, /proc/irq and
# /proc/interrupts are bind mounts of a copy of the d64ds-v5-mlx5 fixture,
# with one emulated (non-vPCI) PCI function added, 0000:00:07.1 with IRQ 57.
# irqbalance runs the command line of the drop-in with our program, so it
# balances the copy and never the host.
#
# Which tree the program reads: irqbalance names devices by the paths of
# its own /sys, and in the namespace that /sys is the copy's sys bind
# mounted, so the live root and AZL_ROOT=<copy> see the same sysfs files.
# They differ in /etc: AZL_ROOT=<copy> reads the copy's etc/azl-agent.conf,
# which the tests write; the live root reads the host's /etc, which we
# mask with empty bind mounts (private to the namespace) for the one run
# that uses it.  irqbalance passes its environment to the program, so
# AZL_ROOT reaches it.
#
# usage: tests/affinity/policy.sh BUILD_DIR   (the irqbalance part needs root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
build=$(cd "${1:?usage: policy.sh BUILD_DIR}" && pwd)
fixtures=${AZL_FIXTURES:-$build/fixtures}
repo=$(cd "$here/../.." && pwd)
dropin=$repo/systemd/irqbalance.service.d/50-azl-agent.conf
ntests=13
vpci_irqs=$(seq -s ' ' 24 56) # every MSI of the fixture's mlx5 VF
# shellcheck disable=SC2016 # the word itself: systemd expands it, not us
args_word='$IRQBALANCE_ARGS'

# The drop-in's command line, split as systemd would (no quotes in it).
exec_start() { sed -n 's/^ExecStart=\(..*\)$/\1/p' "$dropin" | tail -n 1; }

if [ "${2:-}" != --inside ]; then
	plan $ntests
	work=$(mktemp -d)
	# The namespace and its mounts are gone when unshare returns.
	trap 'rm -rf "$work"' EXIT

	# ---- the drop-in and `make install`, no root needed ---------------
	read -r -a cmd <<<"$(exec_start)"
	policy_path=
	for w in "${cmd[@]}"; do
		case $w in --policyscript=*) policy_path=${w#--policyscript=} ;; esac
	done
	# -o: install what is built, never rebuild it from here.
	if make --no-print-directory -s -C "$repo" -o "$build/azl-agent" -o "$build/azl-agent-provision" \
		install DESTDIR="$work/dest" BUILD="$build" >"$work/make.log" 2>&1 &&
		[ -n "$policy_path" ] &&
		[ "$(readlink "$work/dest$policy_path")" = /usr/sbin/azl-agent ] &&
		[ -x "$work/dest/usr/sbin/azl-agent" ] &&
		[ "${cmd[-1]}" = "$args_word" ] &&
		cmp -s "$dropin" "$work/dest/usr/lib/systemd/system/irqbalance.service.d/50-azl-agent.conf"; then
		ok "make install puts the program where the drop-in's ExecStart says, and \$IRQBALANCE_ARGS stays"
	else
		not_ok "make install puts the program where the drop-in's ExecStart says, and \$IRQBALANCE_ARGS stays"
		diag "ExecStart: ${cmd[*]}" "$(tail -n 5 "$work/make.log")" \
			"link: $(readlink "$work/dest$policy_path" 2>&1)"
	fi
	# systemd loads the packaged unit with our drop-in from the unit path.
	if ! command -v systemd-analyze >/dev/null; then
		skip "systemd accepts irqbalance.service with the drop-in" "no systemd-analyze"
	elif [ ! -f /lib/systemd/system/irqbalance.service ] && [ ! -f /usr/lib/systemd/system/irqbalance.service ] ||
		[ ! -x /usr/sbin/irqbalance ]; then
		# Tests use an unpacked binary (scripts/irqbalance-cache.sh): the
		# package is not installed, so there is no unit to verify against.
		skip "systemd accepts irqbalance.service with the drop-in" "irqbalance is not installed here"
	elif SYSTEMD_UNIT_PATH=$work/dest/usr/lib/systemd/system: \
		systemd-analyze verify irqbalance.service >"$work/verify" 2>&1; then
		ok "systemd accepts irqbalance.service with the drop-in"
	else
		not_ok "systemd accepts irqbalance.service with the drop-in"
		diag "$(cat "$work/verify")"
	fi

	# ---- the real irqbalance: root only ----------------------------------
	# shellcheck disable=SC2154 # set by tap.sh
	outer_failed=$_tap_failed
	skip_rest() {
		for i in $(seq 3 $ntests); do skip "irqbalance policy $i" "$1"; done
		exit $((outer_failed > 0))
	}
	irqb=$("$here/../../scripts/irqbalance-cache.sh" 2>/dev/null | tail -1)
	[ "$(id -u)" = 0 ] || skip_rest "needs root (namespaces, bind mounts)"
	[ -n "$irqb" ] && [ -x "$irqb" ] || skip_rest "no irqbalance binary (scripts/irqbalance-cache.sh could not fetch one)"
	[ -x "$build/azl-agent" ] || skip_rest "no $build/azl-agent (make)"
	[ -d "$fixtures/d64ds-v5-mlx5" ] || skip_rest "no fixtures in $fixtures (make fixtures)"
	unshare -m -n -p -f --kill-child --mount-proc true 2>/dev/null ||
		skip_rest "cannot create mount, network and PID namespaces here"

	root=$work/root
	cp -a "$fixtures/d64ds-v5-mlx5" "$root"
	# An emulated PCI function (storage class, no node) with IRQ 57 on every CPU.
	fn=$root/sys/devices/pci0000:00/0000:00:07.1
	mkdir -p "$fn/msi_irqs" "$root/proc/irq/57"
	printf '0x8086\n' >"$fn/vendor"
	printf '0x7111\n' >"$fn/device"
	printf '0x010802\n' >"$fn/class"
	printf '0x1414\n' >"$fn/subsystem_vendor"
	printf '0x0000\n' >"$fn/subsystem_device"
	printf -- '-1\n' >"$fn/numa_node"
	printf 'msix\n' >"$fn/msi_irqs/57"
	ln -s ../../../devices/pci0000:00/0000:00:07.1 "$root/sys/bus/pci/devices/0000:00:07.1"
	cp -a "$root/proc/irq/24/." "$root/proc/irq/57/"
	awk '{ print } /^ *56:/ { sub(/56:/, "57:"); sub(/mlx5_comp31@pci:cf63:00:02.0/, "nvme0q1");
	       sub(/Hyper-V PCIe MSI [0-9]+-edge/, "PCI-MSIX-0000:00:07.1 1-edge"); print }' \
		"$root/proc/interrupts" >"$work/interrupts" && cat "$work/interrupts" >"$root/proc/interrupts"
	cp -a "$root/proc/irq" "$work/irq.orig"
	mkdir "$work/bin" "$work/empty.d"
	: >"$work/empty.conf"
	# irqbalance runs "exec <script> <devpath> <irq>" through sh: no blanks.
	ln -s "$build/azl-agent" "$work/bin/azl-irqbalance-policy"

	IRQB_BIN="$irqb" IRQB_WORK="$work" IRQB_EXEC="$(exec_start)" \
		unshare -m -n -p -f --kill-child --mount-proc --propagation private \
		"$0" "$build" --inside
	rc=$?
	exit $((rc != 0 || outer_failed > 0))
fi

# ---- inside the namespaces: we are PID 1, irqbalance dies with us ----------

_tap_n=2 # the two tests above
work=$IRQB_WORK
root=$work/root
policy=$work/bin/azl-irqbalance-policy
log=$work/irqbalance.log
ibpid=

wait_for() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "want: $2" "got:  $3"; fi
}

# The drop-in's ExecStart with irqbalance's path, our link, and ARGS... for
# $IRQBALANCE_ARGS.  irqbalance runs in the foreground (--foreground, --debug).
irqb_cmd() {
	local w
	read -r -a words <<<"$IRQB_EXEC"
	cmd=("$IRQB_BIN")
	for w in "${words[@]:1}"; do
		case $w in
		--policyscript=*) cmd+=("--policyscript=$policy") ;;
		"$args_word") cmd+=("$@") ;;
		*) cmd+=("$w") ;;
		esac
	done
}
# oneshot ENV...: one balancing pass (exit after the first scan), log in $log.
oneshot() {
	irqb_cmd --oneshot --debug --interval=1
	: >"$log"
	env -u INVOCATION_ID -u IRQBALANCE_BANNED_CPULIST -u IRQBALANCE_BANNED_CPUS "$@" \
		timeout 60 "${cmd[@]}" >>"$log" 2>&1
}
# The IRQs irqbalance banned on the policy's word, ascending.
policy_bans() {
	sed -n 's/^IRQ \([0-9]*\): Override ban to true$/\1/p' "$log" | sort -n | uniq |
		tr '\n' ' ' | sed 's/ $//'
}
n_bans() { grep -c ': Override ban to true$' "$log"; }
# changed IRQ...: those whose smp_affinity differs from the fixture's.
changed() {
	local i out=
	for i in "$@"; do
		cmp -s "$work/irq.orig/$i/smp_affinity" "$root/proc/irq/$i/smp_affinity" || out+="$i "
	done
	echo "${out% }"
}
restore_irqs() { cp -a "$work/irq.orig/." "$root/proc/irq/"; }
set_conf() { mkdir -p "$root/etc" && printf '%s\n' "$@" >"$root/etc/azl-agent.conf"; }

mount --bind "$root/sys" /sys &&
	mount --bind "$root/proc/irq" /proc/irq &&
	mount --bind "$root/proc/interrupts" /proc/interrupts &&
	mount -t tmpfs -o mode=0755 tmpfs /run &&
	mkdir /run/irqbalance
if [ "$(stat -c %d:%i /proc/irq)" = "$(stat -c %d:%i "$root/proc/irq")" ] &&
	[ "$(stat -c %d:%i /sys)" = "$(stat -c %d:%i "$root/sys")" ]; then
	ok "irqbalance's /proc/irq and /sys are the fixture copy, not the host's"
else
	not_ok "irqbalance's /proc/irq and /sys are the fixture copy, not the host's"
	for i in $(seq 4 $ntests); do not_ok "not run: the namespace is not isolated"; done
	exit 1
fi

# By hand first, with the paths irqbalance 1.9.2 passes.
got="$(AZL_ROOT=$root "$policy" /sys/bus/pci/devices/cf63:00:02.0 25)|"
got+="$(AZL_ROOT=$root "$policy" /sys/bus/pci/devices/0000:00:07.1 57)|"
got+="$(AZL_ROOT=$root "$policy" /sys 4)"
is "by hand: ban=true for the vPCI function, nothing for the emulated one or no device" \
	"ban=true||" "$got"
t0=$(date +%s%N)
for i in $(seq 200); do AZL_ROOT=$root "$policy" /sys/bus/pci/devices/cf63:00:02.0 25 >/dev/null; done
t1=$(date +%s%N)
for i in $(seq 200); do AZL_ROOT=$root "$policy" /sys 4 >/dev/null; done
t2=$(date +%s%N)
diag "per call, fork and exec included: vPCI (reads the config) $(((t1 - t0) / 200000)) us," \
	"no device $(((t2 - t1) / 200000)) us"

# ---- the drop-in's command line, once, AZL_ROOT at the copy ---------------
oneshot AZL_ROOT="$root"
rc=$?
is "irqbalance runs the drop-in's command line with our program (one pass)" 0 "$rc"
[ "$rc" = 0 ] || diag "$(tail -n 20 "$log")"
is "it banned exactly the vPCI function's IRQs on the policy's word" "$vpci_irqs" "$(policy_bans)"
# shellcheck disable=SC2086
is "and left their smp_affinity alone" "" "$(changed $vpci_irqs)"
banned_other=$(grep -E '^IRQ (4|9|57) was BANNED' "$log")
is "the emulated function's IRQ 57 was balanced (moved), not banned, nor IRQs 4 and 9" \
	"57|" "$(changed 57)|$banned_other"

# ---- [affinity] irqs = no: the program says nothing ------------------------
restore_irqs
set_conf '[affinity]' 'irqs = no'
oneshot AZL_ROOT="$root"
is "[affinity] irqs = no: nothing banned" "0|" "$?|$(policy_bans)"
# shellcheck disable=SC2086
moved=$(changed $vpci_irqs)
if [ -n "$moved" ]; then
	ok "and irqbalance balances the vPCI IRQs again"
else
	not_ok "and irqbalance balances the vPCI IRQs again"
fi
rm -f "$root/etc/azl-agent.conf"

# ---- the live root: no AZL_ROOT, the host's /etc masked ------------------
restore_irqs
[ -e /etc/azl-agent.conf ] && mount --bind "$work/empty.conf" /etc/azl-agent.conf
[ -d /etc/azl-agent.conf.d ] && mount --bind "$work/empty.d" /etc/azl-agent.conf.d
oneshot -u AZL_ROOT
is "live root (irqbalance's own /sys, default configuration): the same bans" \
	"0|$vpci_irqs" "$?|$(policy_bans)"

# ---- a running irqbalance asks again at each rescan ----------------------
restore_irqs
irqb_cmd --debug --interval=1
: >"$log"
# Line-buffered through stdbuf, so that the log shows each step as it
# happens.  stdbuf's LD_PRELOAD reaches the policy program too, and a
# sanitizer build refuses to start behind a preloaded library unless told.
AZL_ROOT=$root ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	env -u INVOCATION_ID -u IRQBALANCE_BANNED_CPULIST -u IRQBALANCE_BANNED_CPUS \
	stdbuf -oL "${cmd[@]}" >>"$log" 2>&1 &
ibpid=$!
trap 'kill "$ibpid" 2>/dev/null; wait "$ibpid" 2>/dev/null' EXIT
scans() { grep -c -- '^-----------------' "$log"; }
rescans() { grep -c 'Rescanning cpu topology' "$log"; }
# Conditions for wait_for, looked at again at each try.
bans_at_least() { [ "$(n_bans)" -ge "$1" ]; }
scans_at_least() { [ "$(scans)" -ge "$1" ]; }
rescans_above() { [ "$(rescans)" -gt "$1" ]; }
# shellcheck disable=SC2086
vpci_moved() { [ -n "$(changed $vpci_irqs)" ]; }
# rescan: SIGHUP until irqbalance starts a rescan (it ignores one that comes
# before its first scan after the last rescan; one more taken would mean a
# second rescan), then wait for the next scan: the IRQ list, and every
# question to the policy, is done by then.
rescan() {
	local before s
	before=$(rescans)
	for _ in $(seq 10); do
		kill -HUP "$ibpid"
		wait_for 30 rescans_above "$before" && break
	done
	s=$(scans)
	rescans_above "$before" && wait_for 100 scans_at_least $((s + 1))
}
wait_for 200 bans_at_least 33
wait_for 100 scans_at_least 2
first=$(n_bans)
rescan
# At least: on a slow machine a second SIGHUP may have been taken too.
again=$(n_bans)
[ "$again" -ge 66 ] && again=">=66"
is "a rescan (SIGHUP; upstream's udev rule sends one per device event) asks again" \
	"33|>=66" "$first|$again"

set_conf '[affinity]' 'irqs = no'
rescan
n1=$(n_bans)
rescan
wait_for 200 vpci_moved
if [ "$n1" = "$(n_bans)" ] && [ "$(rescans)" -ge 3 ] && vpci_moved; then
	ok "a configuration change counts at the next rescan: no ban, the vPCI IRQs balanced"
else
	not_ok "a configuration change counts at the next rescan: no ban, the vPCI IRQs balanced"
	# shellcheck disable=SC2086
	diag "bans: $n1, then $(n_bans)" "rescans: $(rescans)" "changed: $(changed $vpci_irqs)"
fi
done_testing
