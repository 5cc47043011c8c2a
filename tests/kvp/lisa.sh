#!/usr/bin/env bash
# What Microsoft's image validation (LISA, research/lisa.md §1) and
# administrators expect of the KVP daemon, checked on ours started as
# hv_kvp_daemon (issue 4 item 8), with the options systemd/azl-agent.service
# gives it (--agent: every service of the daemon under that one name): the
# process name and that it is the only one, that it holds the KVP device
# itself, that the other services run in it, the reference daemon's options
# (KVP only without --agent), the modes of /var/lib/hyperv and its pools,
# pool 3 updated in place, and the unit's aliases.
#
# usage: tests/kvp/lisa.sh BUILD_DIR     (root; AZL_AGENT)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/tap.sh
. "$here/../tap.sh"
build=${1:?usage: lisa.sh BUILD_DIR}
# shellcheck source=tests/kvp/lib.sh
. "$here/lib.sh"
unit="$here/../../systemd/azl-agent.service"

tmp=$(mktemp -d /tmp/kvp-lisa.XXXXXX)
trap 'plan $_tap_n; rm -rf "$tmp"' EXIT

# The unit's names need nothing but the file.
aliases=$(sed -n 's/^Alias=//p' "$unit" 2>/dev/null | tr ' ' '\n')
for name in hv-kvp-daemon.service hypervkvpd.service; do
	if grep -qx "$name" <<<"$aliases"; then
		ok "unit: systemd/azl-agent.service answers to $name (Alias=)"
	else
		not_ok "unit: systemd/azl-agent.service answers to $name (Alias=)"
		diag "Alias= lines: $(grep '^Alias=' "$unit" 2>/dev/null || echo none)"
	fi
done

# The unit's command line: the drop-in's link, then its options.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit" 2>/dev/null | tail -n 1)
read -ra unit_args <<<"${exec_start#* }"
if [ "${exec_start%% *}" = /usr/libexec/azl-agent/hv_kvp_daemon ] &&
	[ "${#unit_args[@]}" -gt 0 ]; then
	ok "unit: ExecStart= runs the hv_kvp_daemon link (${unit_args[*]})"
else
	not_ok "unit: ExecStart= runs the hv_kvp_daemon link"
	diag "ExecStart=$exec_start"
	unit_args=(-n --agent)
fi

if [ ! -x "$kvp_agent" ]; then
	skip "hv_kvp_daemon drop-in checks" "$kvp_agent not built"
	exit 0
fi
mkdir -p "$tmp/bin"
ln -s "$kvp_agent" "$tmp/bin/hv_kvp_daemon"
link="$tmp/bin/hv_kvp_daemon"

"$link" -h >"$tmp/help" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q -- '-n, --no-daemon' "$tmp/help"; then
	ok "options: hv_kvp_daemon -h prints the usage and exits 0"
else
	not_ok "options: hv_kvp_daemon -h prints the usage and exits 0"
	diag "exit $rc" "$(head -5 "$tmp/help")"
fi

why=$(kvp_unusable)
if [ -n "$why" ]; then
	skip "hv_kvp_daemon drop-in checks in a namespace" "$why"
	exit 0
fi

# One session: the checks run in the daemon's namespaces while it serves.
cat >"$tmp/checks.sh" <<'EOF'
same="" children=""
for d in /proc/[0-9]*; do
	[ "$(cat "$d/comm" 2>/dev/null)" = hv_kvp_daemon ] && same+="${d#/proc/} "
	stat=$(cat "$d/stat" 2>/dev/null) || continue
	read -r _ ppid _ <<<"${stat##*) }"
	[ "$ppid" = "$DAEMON_PID" ] && children+="${d#/proc/} "
done
echo "comm=$(cat "/proc/$DAEMON_PID/comm")"
echo "same-name=$same"
echo "children=$children"
echo "sockets=$(ls -l "/proc/$DAEMON_PID/fd" | grep -c 'socket:')"
EOF
cat >"$tmp/main.kvp" <<EOF
wait-register
getip 00:15:5D:00:00:01 both
enumerate-all 2
set 3 HostName HOST-A
set 3 PhysicalHostName HOST-A.example.test
set 3 PhysicalHostNameFullyQualified host-a.example.test
set 3 VirtualMachineName vm
set 3 VirtualMachineId 6E3AC2B1-4D4C-4E4A-9C57-6A1C1E5F0B77
set 3 HostingSystemEditionId 8
repeat 20 set 3 HostName HOST-{i}
repeat 20 set 3 VirtualMachineName vm-with-a-longer-name-{i}
repeat 20 set 3 HostingSystemEditionId {i}
set 3 PhysicalHostName B
wait-file $tmp/main/during.done
enumerate-all 3
EOF
kvp_run "$tmp/main" "$tmp/main.kvp" --during "bash $tmp/checks.sh" -- "$link" "${unit_args[@]}"
out=$tmp/main
during=$(cat "$out/during.txt" 2>/dev/null)
pid=$(cat "$out/daemon.pid" 2>/dev/null)

if grep -qx 'comm=hv_kvp_daemon' <<<"$during"; then
	ok "process: /proc/PID/comm is exactly hv_kvp_daemon"
else
	not_ok "process: /proc/PID/comm is exactly hv_kvp_daemon"
	diag "$during"
fi
if grep -qx "same-name=$pid " <<<"$during" && grep -qx 'children=' <<<"$during"; then
	ok "process: the only process named hv_kvp_daemon, no forked helper"
else
	not_ok "process: the only process named hv_kvp_daemon, no forked helper"
	diag "daemon pid $pid" "$during"
fi
if grep -q "registered pid=$pid\$" "$out/host.log" && ! grep -qx 'sockets=0' <<<"$during"; then
	ok "process: it holds the KVP device itself (the opener is PID $pid)"
else
	not_ok "process: it holds the KVP device itself"
	diag "$(grep -E 'open|registered' "$out/host.log")" "$during"
fi
if grep -qx '755 \.' "$out/modes"; then
	ok "files: /var/lib/hyperv is created 0755"
else
	not_ok "files: /var/lib/hyperv is created 0755"
	diag "$(cat "$out/modes")"
fi
if [ "$(grep -c '^644 \.kvp_pool_[0-4]$' "$out/modes")" -eq 5 ] &&
	[ "$(grep -c 'kvp_pool' "$out/modes")" -eq 5 ]; then
	ok "files: .kvp_pool_0 to _4 exist, 0644"
else
	not_ok "files: .kvp_pool_0 to _4 exist, 0644"
	diag "$(cat "$out/modes")"
fi
kvp_dump "$out/pools/.kvp_pool_3" >"$tmp/pool3" 2>&1
keys=$(sed -n 's/^[0-9]* key="\(\([^"\\]\|\\.\)*\)".*/\1/p' "$tmp/pool3")
if [ "$(wc -l <"$tmp/pool3")" -eq 6 ] && [ -z "$(sort <<<"$keys" | uniq -d)" ]; then
	ok "pool 3: 66 host SETs of 6 keys leave 6 records, unique keys"
else
	not_ok "pool 3: 66 host SETs of 6 keys leave 6 records, unique keys"
	diag "$(cut -c1-120 "$tmp/pool3")"
fi
if ! grep -q -- '\\n\|-nul=no\|partial=' "$tmp/pool3" &&
	grep -q '^[0-9]* key="HostName" value="HOST-19"$' "$tmp/pool3" &&
	grep -q '^[0-9]* key="PhysicalHostName" value="B"$' "$tmp/pool3"; then
	ok "pool 3: last values kept, no newline in any key or value, every record whole"
else
	not_ok "pool 3: last values kept, no newline in any key or value, every record whole"
	diag "$(cut -c1-120 "$tmp/pool3")"
fi
if grep -q '^enumerate 3 6 -> 0x80070103$' "$out/transcript"; then
	ok "pool 3: the host enumerates the same 6 records"
else
	not_ok "pool 3: the host enumerates the same 6 records"
	diag "$(grep '^enumerate 3' "$out/transcript" | cut -c1-120)"
fi
# --agent: placement and the modules' policy run in this same process.
# run-daemon.sh switches placement off by configuration (/proc/irq is the
# machine's own), so it says so: a line the KVP-only drop-in never logs.
if grep -q '^daemon: running KVP, module policy$' "$out/daemon.log" &&
	grep -qF 'daemon: interrupt placement is off ([affinity] enabled = no)' "$out/daemon.log"; then
	ok "process: as the unit runs it, placement and module policy run in it too"
else
	not_ok "process: as the unit runs it, placement and module policy run in it too"
	diag "$(grep -E '^(daemon|affinity|modules):' "$out/daemon.log" | head -5)"
fi
if grep -qE '^(exited|SIGTERM) 0$' "$out/daemon.rc" && kvp_asan_clean "$out/daemon.log"; then
	ok "process: exits 0 on SIGTERM"
else
	not_ok "process: exits 0 on SIGTERM"
	diag "$(cat "$out/daemon.rc")" "$(tail -5 "$out/daemon.log")"
fi

# The reference daemon's other option spellings are accepted.
printf 'wait-register\nenumerate 2 1\n' >"$tmp/opt.kvp"
for opts in "-n -d" "--no-daemon --debug"; do
	name=opt-${opts// /}
	read -ra words <<<"$opts"
	kvp_run "$tmp/$name" "$tmp/opt.kvp" -- "$link" "${words[@]}"
	if grep -q '^enumerate 2 1 -> 0x00000000' "$tmp/$name/transcript" &&
		grep -q '^daemon: running KVP$' "$tmp/$name/daemon.log" &&
		! grep -q 'interrupt placement' "$tmp/$name/daemon.log"; then
		ok "options: hv_kvp_daemon $opts is accepted and serves, KVP only"
	else
		not_ok "options: hv_kvp_daemon $opts is accepted and serves, KVP only"
		diag "$(tail -5 "$tmp/$name/daemon.log")"
	fi
done
done_testing
