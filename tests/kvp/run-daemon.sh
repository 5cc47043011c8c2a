#!/usr/bin/env bash
# Run one KVP daemon (hv_kvp_daemon or ours) against the fake host, each run
# in its own namespaces, so that two daemons see the same world:
#   - mount: /var/lib and /etc under overlays (pool files and whatever a
#     daemon writes stay private, the real ones untouched), test
#     /etc/resolv.conf and /etc/hosts, an empty /run (no D-Bus, resolved or
#     NetworkManager of the machine answers), a fresh sysfs on /sys
#     (/sys/class/net shows this namespace);
#   - network: veth pairs with fixed MACs, addresses, default routes;
#   - UTS: host name kvp-test;
#   - PID: the daemon's processes are the only ones it or a check sees.
# The daemon gets kvp_shim.so in LD_PRELOAD, so its open() of
# /dev/vmbus/hv_kvp reaches kvp_host.
#
# usage: tests/kvp/run-daemon.sh [options] -- DAEMON [ARGS...]
#   --tools DIR        kvp_host and kvp_shim.so (BUILD/tests)
#   --script FILE      the host script (kvp_host.c documents the verbs)
#   --out DIR          results: transcript (stdout of the host), host.log,
#                      daemon.log, daemon.rc, pools/ (copies of
#                      /var/lib/hyperv), modes (octal mode of the directory
#                      and of each pool), during.txt
#   --timeout-ms N     the kernel's request timeout (default 30000)
#   --pool N=FILE      pool N starts as a copy of FILE
#   --dev-node         /dev/vmbus/ exists (an overlay on /dev) and the host
#                      creates /dev/vmbus/hv_kvp while it listens
#   --dev-node-bare    the same, but /dev/vmbus/ too appears with the device
#   --host-off         the host starts with the device absent (`device on`
#                      in the script makes it appear)
#   --notify           the daemon gets NOTIFY_SOCKET (expect-notify works)
#   --during CMD       once the daemon has registered, run CMD in the
#                      namespace with DAEMON_PID, HOST_PID, OUT, KVP_TOOLS
#                      and KVP_SOCK (the host's socket) set; its output goes to
#                      during.txt, then the file OUT/during.done appears
#                      (the script can `wait-file` for it)
#   --setup CMD        run CMD in the namespace before the daemon starts
#   --net none         only lo (default: full)
#   --limit SEC        kill everything after SEC seconds (default 300)
# usage: tests/kvp/run-daemon.sh --probe
#   exit 0 when this machine can run it, else print why and exit 1.
#
# The network (MACs are 00:15:5D:00:00:NN, what the host script asks for):
#   eth0  00:15:5D:00:00:01  10.1.0.4/24 10.1.1.4/24 fd00:1::4/64 + link-local
#         default via 10.1.0.1 and fd00:1::1
#   eth1  00:15:5D:00:00:02  10.2.0.4/24 fd00:2::4/64 + link-local
#         default via 10.2.0.1 (metric 200)
#   eth2  00:15:5D:00:00:03  10.3.0.4/24 + link-local (no route)
#   eth10 00:15:5D:00:00:0A  10.10.0.4/24 + link-local (no route)
#   peerN the other ends, up, without addresses
#   device/device_id of ethN: {f8615163-df3e-46c5-913f-f2d2f965edNN} (NN as the MAC)
#   DNS: 10.1.0.53, fd00:1::53 (resolv.conf); kvp-test.example.test is
#   10.1.0.4 in /etc/hosts.
set -euo pipefail

# shellcheck disable=SC2016 # the overlay check is expanded by its own sh
probe() {
	local why=""
	if [ "$(id -u)" -ne 0 ]; then
		why="needs root (unshare, mount, veth)"
	elif ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
		why="needs unshare (util-linux) and ip (iproute2)"
	elif ! unshare -m -n -u -p --fork --mount-proc --propagation private true 2>/dev/null; then
		why="cannot create mount/network/UTS/PID namespaces here"
	elif ! unshare -m -n --propagation private sh -c \
		'ip link add kvpprobe0 type veth peer name kvpprobe1' 2>/dev/null; then
		why="no veth support in this kernel"
	elif ! unshare -m --propagation private sh -c \
		't=$(mktemp -d) && mount -t tmpfs tmpfs "$t" && mkdir "$t/u" "$t/w" &&
		 mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$t/u,workdir=$t/w" /var/lib' \
		2>/dev/null; then
		why="no overlayfs over /var/lib"
	fi
	if [ -n "$why" ]; then
		echo "$why"
		return 1
	fi
}

if [ "${1:-}" = --probe ]; then
	probe
	exit
fi

tools="" script="" out="" timeout_ms=30000 dev_node=0 host_off=0 notify=0 during="" setup="" net=full
limit=300 pools=()
inner=0
while [ $# -gt 0 ]; do
	case $1 in
	--inner) inner=1 ;;
	--tools) tools=$2; shift ;;
	--script) script=$2; shift ;;
	--out) out=$2; shift ;;
	--timeout-ms) timeout_ms=$2; shift ;;
	--pool) pools+=("$2"); shift ;;
	--dev-node) dev_node=1 ;;
	--dev-node-bare) dev_node=2 ;;
	--host-off) host_off=1 ;;
	--notify) notify=1 ;;
	--during) during=$2; shift ;;
	--setup) setup=$2; shift ;;
	--net) net=$2; shift ;;
	--limit) limit=$2; shift ;;
	--) shift; break ;;
	*) echo "run-daemon.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if [ $# -eq 0 ] || [ -z "$tools" ] || [ -z "$script" ] || [ -z "$out" ]; then
	echo "usage: run-daemon.sh --tools DIR --script FILE --out DIR [options] -- DAEMON [ARGS...]" >&2
	exit 2
fi

if [ "$inner" -eq 0 ]; then
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	tools=$(cd "$tools" && pwd)
	script=$(cd "$(dirname "$script")" && pwd)/$(basename "$script")
	args=(--tools "$tools" --script "$script" --out "$out" --timeout-ms "$timeout_ms"
		--net "$net" --limit "$limit")
	for p in "${pools[@]}"; do
		f=${p#*=}
		args+=(--pool "${p%%=*}=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
	done
	[ "$dev_node" -eq 1 ] && args+=(--dev-node)
	[ "$dev_node" -eq 2 ] && args+=(--dev-node-bare)
	[ "$host_off" -eq 1 ] && args+=(--host-off)
	[ "$notify" -eq 1 ] && args+=(--notify)
	[ -n "$during" ] && args+=(--during "$during")
	[ -n "$setup" ] && args+=(--setup "$setup")
	exec timeout -k 5 "$limit" unshare -m -n -u -p --fork --kill-child --mount-proc \
		--propagation private -- \
		bash "$0" --inner "${args[@]}" -- "$@"
fi

# ---- inside the namespaces ----
scratch=$(mktemp -d /tmp/kvp-ns.XXXXXX)
# The mounts go with the namespace; the directory under them must go too.
trap 'umount -l "$scratch" 2>/dev/null; rmdir "$scratch" 2>/dev/null' EXIT
mount -t tmpfs -o mode=0700 tmpfs "$scratch"

overlay() { # DIR NAME: DIR becomes writable here, changes kept in scratch
	mkdir -p "$scratch/$2/u" "$scratch/$2/w"
	mount -t overlay overlay -o "lowerdir=$1,upperdir=$scratch/$2/u,workdir=$scratch/$2/w" "$1"
}

setup_files() {
	umask 022
	overlay /var/lib lib
	for p in "${pools[@]}"; do
		[ -d /var/lib/hyperv ] || mkdir -m 0755 /var/lib/hyperv
		install -m 0644 "${p#*=}" "/var/lib/hyperv/.kvp_pool_${p%%=*}"
	done
	overlay /etc etc
	rm -f /etc/resolv.conf /etc/hosts
	printf '# kvp test\nsearch example.test\nnameserver 10.1.0.53\nnameserver fd00:1::53\n' \
		>/etc/resolv.conf
	printf '127.0.0.1 localhost\n10.1.0.4 kvp-test.example.test kvp-test\n' >/etc/hosts
	# The daemon under test must never move this machine's real interrupts:
	# /proc/irq and the VMBus sysfs are global, not part of the namespace.
	mkdir -p /etc/azl-agent.conf.d
	printf '[affinity]\nenabled = no\n' >/etc/azl-agent.conf.d/00-kvp-test.conf
	hostname kvp-test
	mount -t tmpfs -o mode=0755 tmpfs /run
	mount -t sysfs sysfs /sys
	if [ "$dev_node" -ne 0 ]; then
		# /dev stays the real one but becomes writable here: an overlay,
		# with the submounts (pts, shm, mqueue) bound back.
		mkdir -p "$scratch/dev/u" "$scratch/dev/w" "$scratch/olddev"
		mount --rbind /dev "$scratch/olddev"
		mount -t overlay overlay -o "lowerdir=/dev,upperdir=$scratch/dev/u,workdir=$scratch/dev/w" /dev
		for m in pts shm mqueue; do
			[ -d "$scratch/olddev/$m" ] && mountpoint -q "$scratch/olddev/$m" &&
				mount --rbind "$scratch/olddev/$m" "/dev/$m"
		done
		if [ "$dev_node" -eq 1 ]; then
			mkdir -p /dev/vmbus
		fi
	fi
}

veth() { # NAME MAC PEER PEERMAC
	ip link add "$1" address "$2" type veth peer name "$3" address "$4"
	ip link set dev "$3" addrgenmode none
	ip link set dev "$1" up
	ip link set dev "$3" up
}

setup_net() {
	ip link set lo up
	[ "$net" = none ] && return
	echo 0 >/proc/sys/net/ipv6/conf/all/accept_dad
	echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad
	veth eth0 00:15:5d:00:00:01 peer0 00:15:5d:00:01:01
	veth eth1 00:15:5d:00:00:02 peer1 00:15:5d:00:01:02
	veth eth2 00:15:5d:00:00:03 peer2 00:15:5d:00:01:03
	veth eth10 00:15:5d:00:00:0a peer10 00:15:5d:00:01:0a
	ip addr add 10.1.0.4/24 dev eth0
	ip addr add 10.1.1.4/24 dev eth0
	ip -6 addr add fd00:1::4/64 dev eth0 nodad
	ip addr add 10.2.0.4/24 dev eth1
	ip -6 addr add fd00:2::4/64 dev eth1 nodad
	ip addr add 10.3.0.4/24 dev eth2
	ip addr add 10.10.0.4/24 dev eth10
	ip route add default via 10.1.0.1 dev eth0
	ip -6 route add default via fd00:1::1 dev eth0
	ip route add default via 10.2.0.1 dev eth1 metric 200
	# A synthetic NIC's VMBus instance id (what SET_IP_INFO names): veth
	# has no device/, so an overlay on its sysfs directory adds one.
	fake_device_id eth0 '{f8615163-df3e-46c5-913f-f2d2f965ed01}'
	fake_device_id eth1 '{f8615163-df3e-46c5-913f-f2d2f965ed02}'
	fake_device_id eth2 '{f8615163-df3e-46c5-913f-f2d2f965ed03}'
	fake_device_id eth10 '{f8615163-df3e-46c5-913f-f2d2f965ed0a}'
}

fake_device_id() { # IFNAME GUID
	local d
	d=$(readlink -f "/sys/class/net/$1")
	overlay "$d" "sys-$1"
	mkdir "$d/device"
	echo "$2" >"$d/device/device_id"
}

# Wait for a process to end by itself, up to $2 tenths of a second.
wait_gone() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

setup_files
setup_net
if [ -n "$setup" ]; then
	OUT=$out KVP_TOOLS=$tools bash -c "$setup" >"$out/setup.txt" 2>&1 ||
		{ echo "run-daemon.sh: --setup failed:" >&2; cat "$out/setup.txt" >&2; exit 1; }
fi

sock="$scratch/kvp.sock"
host_args=(--socket "$sock" --timeout-ms "$timeout_ms" --log "$out/host.log")
[ "$dev_node" -ne 0 ] && host_args+=(--device /dev/vmbus/hv_kvp)
[ "$host_off" -eq 1 ] && host_args+=(--off)
[ "$notify" -eq 1 ] && host_args+=(--notify "$scratch/notify.sock")
: >"$out/host.log"
rm -f "$out/during.done"

"$tools/kvp_host" "${host_args[@]}" "$script" >"$out/transcript" &
host_pid=$!
# The host is listening (or, with --host-off, ready) once its log says so
# or, for --host-off, at once.
for _ in $(seq 100); do
	[ "$host_off" -eq 1 ] && break
	grep -q 'device on' "$out/host.log" && break
	sleep 0.02
done

daemon_env=(LD_PRELOAD="$tools/kvp_shim.so${LD_PRELOAD:+:$LD_PRELOAD}"
	AZL_KVP_SHIM_SOCKET="$sock" AZL_KVP_SHIM_PATH=/dev/vmbus/hv_kvp
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
[ "$notify" -eq 1 ] && daemon_env+=(NOTIFY_SOCKET="$scratch/notify.sock")
env "${daemon_env[@]}" "$@" >"$out/daemon.log" 2>&1 &
daemon_pid=$!
echo "$daemon_pid" >"$out/daemon.pid"

if [ -n "$during" ]; then
	(
		for _ in $(seq 500); do
			grep -q '^kvp_host .*registered' "$out/host.log" && break
			sleep 0.02
		done
		DAEMON_PID=$daemon_pid HOST_PID=$host_pid OUT=$out KVP_TOOLS=$tools KVP_SOCK=$sock \
			bash -c "$during" >"$out/during.txt" 2>&1 || true
		touch "$out/during.done"
	) &
fi

wait "$host_pid" 2>/dev/null || echo "kvp_host exited with status $?" >>"$out/host.log"
# The device is gone now: hv_kvp_daemon exits by itself, ours stays idle.
rc=""
if wait_gone "$daemon_pid" 5; then
	wait "$daemon_pid" 2>/dev/null && rc=0 || rc=$?
	echo "exited $rc" >"$out/daemon.rc"
else
	kill -TERM "$daemon_pid" 2>/dev/null || true
	if wait_gone "$daemon_pid" 100; then
		wait "$daemon_pid" && rc=0 || rc=$?
		echo "SIGTERM $rc" >"$out/daemon.rc"
	else
		kill -KILL "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" || true
		echo "SIGKILL" >"$out/daemon.rc"
	fi
fi
wait || true

rm -rf "$out/pools"
mkdir -p "$out/pools"
: >"$out/modes"
if [ -d /var/lib/hyperv ]; then
	cp -a /var/lib/hyperv/. "$out/pools/"
	(cd /var/lib/hyperv && stat -c '%a %n' . .kvp_pool_* 2>/dev/null) >"$out/modes" || true
fi
