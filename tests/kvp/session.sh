#!/usr/bin/env bash
# Our KVP daemon alone against the fake kernel side (kvp_host, through
# kvp_shim.so), each session in its own namespaces (run-daemon.sh):
# the harness itself (the char device's EINVAL/EBUSY/EBADF/ENOENT rules),
# the handshake and every operation, a table of hostile requests, recovery
# after teardown, hibernation (EINVAL) and a timeout with a late reply, a
# second opener, SIGTERM, and a daemon started before the device exists.
#
# usage: tests/kvp/session.sh BUILD_DIR     (root; AZL_AGENT)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/tap.sh
. "$here/../tap.sh"
build=${1:?usage: session.sh BUILD_DIR}
# shellcheck source=tests/kvp/lib.sh
. "$here/lib.sh"

why=$(kvp_unusable)
[ -z "$why" ] && [ ! -x "$kvp_agent" ] && why="$kvp_agent not built"
if [ -n "$why" ]; then
	plan 1
	skip "KVP sessions against the fake host" "$why"
	exit 0
fi

tmp=$(mktemp -d /tmp/kvp-session.XXXXXX)
# The plan comes last: a run that stops early has none and fails.
trap 'plan $_tap_n; rm -rf "$tmp"' EXIT

# check DESC FILE ERE: FILE has a line matching ERE.
check() {
	if grep -qaE -- "$3" "$2"; then
		ok "$1"
	else
		not_ok "$1"
		diag "no line matches /$3/ in $(basename "$2"):" "$(tail -n 8 "$2" | cut -c1-200)"
	fi
}

# daemon_clean NAME: our daemon ended with status 0 and said nothing bad.
daemon_clean() {
	local out=$tmp/$1
	if kvp_asan_clean "$out/daemon.log" && grep -qE '^(exited|SIGTERM) 0$' "$out/daemon.rc"; then
		ok "$1: the daemon exited 0, no sanitizer report"
	else
		not_ok "$1: the daemon exited 0, no sanitizer report"
		diag "$(cat "$out/daemon.rc")" "$(tail -n 15 "$out/daemon.log")"
	fi
}

session() { # NAME [run-daemon options]: run $tmp/NAME.kvp against ours
	local name=$1
	shift
	kvp_run "$tmp/$name" "$tmp/$name.kvp" "$@" -- "$kvp_agent" daemon
}

shim_env=(LD_PRELOAD="$kvp_tools/kvp_shim.so"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0")

# ---------------------------------------------------------------------------
# 1. The harness: kvp_host + kvp_shim behave as the kernel's char device.
cat >"$tmp/harness.kvp" <<EOF
wait-register 10000
wait-file $tmp/go
get 0 hello
device off
EOF
cat >"$tmp/harness.client" <<EOF
open
write 5
write 100 100
write 100
read 100
read
write 0
open
nonblock
touch $tmp/go
read
reply 0
poll 10000
read
write 100
close
open
EOF
"$kvp_tools/kvp_host" --socket "$tmp/h.sock" --log "$tmp/harness.log" "$tmp/harness.kvp" \
	>"$tmp/harness.transcript" &
hpid=$!
for _ in $(seq 100); do grep -q 'device on' "$tmp/harness.log" 2>/dev/null && break; sleep 0.02; done
env "${shim_env[@]}" AZL_KVP_SHIM_SOCKET="$tmp/h.sock" AZL_KVP_SHIM_PATH="$tmp/hv_kvp" \
	"$kvp_tools/kvp_host" --client "$tmp/harness.client" >"$tmp/harness.out" 2>&1
wait "$hpid"
expected="open -> 0
write 5 -> EINVAL
write 100 100 -> EINVAL
write 100 -> 7432
read 100 -> EINVAL
read -> 7432 op=100 pool=0 text=\"3.1\"
write 0 -> EINVAL
open -> EBUSY
nonblock -> 0
touch $tmp/go
read -> 7432 op=0 pool=0 text=\"hello\"
reply 0 -> 7432
poll 10000 -> 1 POLLIN POLLHUP
read -> EBADF
write 100 -> EBADF
close -> 0
open -> ENOENT"
if [ "$(cat "$tmp/harness.out")" = "$expected" ]; then
	ok "harness: handshake EINVAL, short write/read EINVAL (message kept), reply with nothing outstanding EINVAL, EBUSY, blocking read on O_NONBLOCK, EBADF after teardown, ENOENT without device"
else
	not_ok "harness: the char device rules"
	diag "$(diff <(echo "$expected") "$tmp/harness.out")"
fi
check "harness: the host sees the reply" "$tmp/harness.transcript" '^get 0 hello -> 0x00000000 value=""$'

# A legacy daemon (REGISTER, op 4): the op is echoed, the status ignored and
# an empty key ends an enumeration (research/kvp.md §1.6).
printf 'wait-register 10000\nenumerate 2 0\n' >"$tmp/legacy.kvp"
printf 'open\nwrite 4\nread\nread\nreply 0\n' >"$tmp/legacy.client"
"$kvp_tools/kvp_host" --socket "$tmp/l.sock" --log "$tmp/legacy.log" "$tmp/legacy.kvp" \
	>"$tmp/legacy.transcript" &
hpid=$!
for _ in $(seq 100); do grep -q 'device on' "$tmp/legacy.log" 2>/dev/null && break; sleep 0.02; done
env "${shim_env[@]}" AZL_KVP_SHIM_SOCKET="$tmp/l.sock" AZL_KVP_SHIM_PATH="$tmp/hv_kvp" \
	"$kvp_tools/kvp_host" --client "$tmp/legacy.client" >"$tmp/legacy.out" 2>&1
wait "$hpid"
if grep -qx 'read -> 7432 op=4 pool=0 text="3.1"' "$tmp/legacy.out" &&
	grep -qx 'enumerate 2 0 -> 0x80070103' "$tmp/legacy.transcript"; then
	ok "harness: legacy registration (op 4) echoed; an empty key ends the enumeration"
else
	not_ok "harness: legacy registration (op 4) echoed; an empty key ends the enumeration"
	diag "$(cat "$tmp/legacy.out" "$tmp/legacy.transcript")"
fi

# ---------------------------------------------------------------------------
# 2. Handshake and every operation; a second opener meanwhile gets EBUSY.
cat >"$tmp/ops.kvp" <<EOF
wait-register
enumerate-all 2
set 0 key1 value1
get 0 key1
enumerate 0 0
set 0 key1 value1-updated
enumerate 0 0
delete 0 key1
delete 0 key1
get 0 key1
enumerate 0 0
set-u32 0 n32 7
set-u64 0 n64 12345678901
enumerate-all 0
set 1 guest-key guest-value
set 3 HostName HOST
set 4 k4 v4
getip 00:15:5D:00:00:01 both
getip 00:15:5D:00:00:99 ipv4
setip {f8615163-df3e-46c5-913f-f2d2f965ed99} ipv4 0 10.1.0.9 255.255.255.0 10.1.0.1 10.1.0.53
setip {f8615163-df3e-46c5-913f-f2d2f965ed0a} ipv4 0 "10.10.0.9;not-an-address" "255.255.255.0;255.255.255.0" 10.10.0.1 10.1.0.53
wait-file $tmp/ops/during.done
enumerate 2 1
EOF
# shellcheck disable=SC2016 # expanded in the namespace
session ops --during 'echo open | env LD_PRELOAD=$KVP_TOOLS/kvp_shim.so AZL_KVP_SHIM_SOCKET=$KVP_SOCK \
	ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 $KVP_TOOLS/kvp_host --client'
t=$tmp/ops/transcript
check "ops: REGISTER1 handshake answered, version 3.1" "$t" '^wait-register -> registered op=100$'
check "ops: pool 2 index 0 is FullyQualifiedDomainName" "$t" '^enumerate 2 0 -> 0x00000000 key="FullyQualifiedDomainName" value="kvp-test\.example\.test"$'
check "ops: pool 2 IntegrationServicesVersion is the kernel's 3.1" "$t" '^enumerate 2 1 -> 0x00000000 key="IntegrationServicesVersion" value="3\.1"$'
check "ops: pool 2 NetworkAddressIPv4 lists every address" "$t" '^enumerate 2 2 -> 0x00000000 key="NetworkAddressIPv4" value="10\.1\.0\.4;10\.1\.1\.4;10\.2\.0\.4;10\.3\.0\.4;10\.10\.0\.4"$'
check "ops: pool 2 ProcessorArchitecture at index 9" "$t" "^enumerate 2 9 -> 0x00000000 key=\"ProcessorArchitecture\" value=\"$(uname -m)\"\$"
check "ops: pool 2 ends at index 10 with HV_S_CONT" "$t" '^enumerate 2 10 -> 0x80070103$'
check "ops: SET then GET returns the value" "$t" '^get 0 key1 -> 0x00000000 value="value1"$'
check "ops: SET of an existing key updates it in place" "$t" '^enumerate 0 0 -> 0x00000000 key="key1" value="value1-updated"$'
check "ops: DELETE of a missing key is an error" "$t" '^delete 0 key1 -> 0x80070103$'
check "ops: GET of a missing key is an error" "$t" '^get 0 key1 -> 0x800'
check "ops: REG_U32 and REG_U64 values arrive as decimal text" "$t" '^enumerate 0 1 -> 0x00000000 key="n64" value="12345678901"$'
check "ops: GET_IP_INFO of eth0: its four addresses" "$t" '^getip 00:15:5D:00:00:01 both -> 0x00000000 adapter="00:15:5D:00:00:01" family=3 dhcp=0 ip="10\.1\.0\.4;10\.1\.1\.4;fd00:1::4;fe80::215:5dff:fe00:1" '
check "ops: GET_IP_INFO of an unknown MAC: HV_E_FAIL" "$t" '^getip 00:15:5D:00:00:99 ipv4 -> 0x80004005$'
check "ops: SET_IP_INFO of an unknown GUID: HV_GUID_NOTFOUND" "$t" '^setip \{f8615163-df3e-46c5-913f-f2d2f965ed99\} .* -> 0x80041002$'
check "ops: SET_IP_INFO with a bad address: HV_INVALIDARG" "$t" '^setip \{f8615163-df3e-46c5-913f-f2d2f965ed0a\} .* -> 0x80070057$'
check "ops: a second opener gets EBUSY" "$tmp/ops/during.txt" '^open -> EBUSY$'
check "ops: the first opener still answers after that" "$t" '^enumerate 2 1 -> 0x00000000 '
daemon_clean ops

# ---------------------------------------------------------------------------
# 3. Hostile requests (built byte by byte): no crash, the device never
# reopened, the daemon still answering; an error status for each request
# that names a pool, an operation, a key or an address that cannot be
# ("err"); requests whose size fields lie about a well-formed key may be
# served ("any": the daemon trusts the NUL, not the size).
guid0a='{f8615163-df3e-46c5-913f-f2d2f965ed0a}' guid03='{f8615163-df3e-46c5-913f-f2d2f965ed03}'
ip_rest='str@2310=255.255.255.0 str@4358=10.10.0.1 str@5382=10.1.0.53'
hostile=(
	"err|SET in pool 5|raw op=1 pool=5 u32@8=2 str@16=k u32@12=2 str@528=v"
	"err|SET in pool 255|raw op=1 pool=255 u32@8=2 str@16=k u32@12=2 str@528=v"
	"err|GET in pool 5|raw op=0 pool=5 u32@8=2 str@16=k"
	"err|DELETE in pool 7|raw op=2 pool=7 u32@4=2 str@8=k"
	"err|ENUMERATE in pool 5|raw op=3 pool=5 u32@4=0"
	"err|ENUMERATE in pool 200|raw op=3 pool=200 u32@4=0"
	"err|unknown op 6|raw op=6 pool=0"
	"err|unknown op 99|raw op=99 pool=0"
	"err|REGISTER1 as a request|raw op=100 pool=0"
	"err|unknown op 255|raw op=255 pool=0"
	"err|SET with a 512-byte key without NUL|raw op=1 pool=0 u32@8=512 fill@16=512:A u32@12=2 str@528=v"
	"err|SET with a 2048-byte value without NUL|raw op=1 pool=0 u32@8=2 str@16=k u32@12=2048 fill@528=2048:B"
	"err|GET with a 512-byte key without NUL|raw op=0 pool=0 u32@8=512 fill@16=512:A"
	"err|DELETE with a 512-byte key without NUL|raw op=2 pool=0 u32@4=512 fill@8=512:A"
	"err|ENUMERATE index 4294967295|raw op=3 pool=0 u32@4=4294967295"
	"err|GET_IP_INFO with a 256-byte MAC without NUL|raw op=4 pool=0 fill@4=256:A u8@260=255"
	"err|SET_IP_INFO with a 2 KiB address without NUL|raw op=5 pool=0 str@4=$guid0a u8@260=1 fill@262=2048:1 $ip_rest"
	"err|SET_IP_INFO with a 2 KiB list of short tokens|raw op=5 pool=0 str@4=$guid0a u8@260=1 fill@262=2047:; str@2310=255.255.255.0 str@4358=10.10.0.1 str@5382=x"
	"err|SET_IP_INFO with a 2 KiB subnet|raw op=5 pool=0 str@4=$guid0a u8@260=1 str@262=10.10.0.9 fill@2310=2048:9 str@4358=10.10.0.1 str@5382=10.1.0.53"
	"err|SET_IP_INFO with a 1 KiB gateway|raw op=5 pool=0 str@4=$guid0a u8@260=1 str@262=10.10.0.9 str@2310=255.255.255.0 fill@4358=1024:1 str@5382=10.1.0.53"
	"err|SET_IP_INFO with a 2 KiB DNS list|raw op=5 pool=0 str@4=$guid0a u8@260=1 str@262=10.10.0.9 str@2310=255.255.255.0 str@4358=10.10.0.1 fill@5382=2048:1"
	"err|SET_IP_INFO with a 256-byte GUID without NUL|raw op=5 pool=0 fill@4=256:{ u8@260=1 str@262=10.10.0.9 $ip_rest"
	"any|SET whose key_size says 4000000000|raw op=1 pool=0 u32@8=4000000000 str@16=k u32@12=2 str@528=v"
	"any|SET whose value_size says 4000000000|raw op=1 pool=0 u32@8=2 str@16=k u32@12=4000000000 str@528=v"
	"any|SET whose key_size says 0|raw op=1 pool=0 u32@8=0 str@16=k u32@12=2 str@528=v"
	"any|DELETE whose key_size says 4000000000|raw op=2 pool=0 u32@4=4000000000 str@8=k"
	"any|SET_IP_INFO with address family 255|raw op=5 pool=0 str@4=$guid03 u8@260=255 str@262=10.3.0.9 str@2310=255.255.255.0 str@4358=10.3.0.1 str@5382=10.1.0.53"
)
{
	echo wait-register
	for h in "${hostile[@]}"; do echo "${h##*|}"; done
	echo "enumerate 2 1"
	echo "getip 00:15:5D:00:00:0A ipv4"
} >"$tmp/hostile.kvp"
session hostile
t=$tmp/hostile/transcript
i=0
for h in "${hostile[@]}"; do
	i=$((i + 1))
	class=${h%%|*} desc=${h#*|} desc=${desc%%|*}
	line=$(sed -n "$((i + 1))p" "$t")
	if [[ $line =~ \ -\>\ 0x([0-9a-f]{8})( \(.*\))?( |$) ]] && [ -z "${BASH_REMATCH[2]}" ] &&
		{ [ "$class" = any ] || [ "${BASH_REMATCH[1]}" != 00000000 ]; }; then
		ok "hostile: $desc: 0x${BASH_REMATCH[1]}"
	else
		not_ok "hostile: $desc: $([ "$class" = err ] && echo "an error status" || echo "an answer") from the daemon"
		diag "${line:0:300}"
	fi
done
check "hostile: the daemon still answers afterwards" "$t" '^enumerate 2 1 -> 0x00000000 key="IntegrationServicesVersion" value="3\.1"$'
check "hostile: eth10 is unchanged by the refused SET_IP_INFOs" "$t" '^getip 00:15:5D:00:00:0A ipv4 -> 0x00000000 .* ip="10\.10\.0\.4;fe80::215:5dff:fe00:a" '
if [ "$(grep -c '^kvp_host .*: open pid=' "$tmp/hostile/host.log")" -eq 1 ]; then
	ok "hostile: the daemon never closed the device"
else
	not_ok "hostile: the daemon never closed the device"
	diag "$(grep -E 'open|close' "$tmp/hostile/host.log")"
fi
if [ "$(cd "$tmp/hostile/pools" && echo .kvp_pool_*)" = ".kvp_pool_0 .kvp_pool_1 .kvp_pool_2 .kvp_pool_3 .kvp_pool_4" ]; then
	ok "hostile: no pool file beyond .kvp_pool_4"
else
	not_ok "hostile: no pool file beyond .kvp_pool_4"
	diag "$(ls -a "$tmp/hostile/pools")"
fi
daemon_clean hostile

# ---------------------------------------------------------------------------
# 4. Recovery: hibernation (the reply's write fails EINVAL), module teardown,
# a reply that comes after the kernel's timeout, a request never read.
cat >"$tmp/recover.kvp" <<'EOF'
wait-register
hibernate enumerate 2 1
expect-reconnect
enumerate 2 1
teardown
expect-reconnect
enumerate 2 4
timeout 500
stall enumerate 2 1
expect-reconnect
enumerate 2 5
kill STOP
enumerate 2 1
enumerate 2 2
kill CONT
expect-reconnect
timeout 30000
enumerate 2 6
EOF
session recover
t=$tmp/recover/transcript
check "hibernation: the write of the reply fails, the host's request is lost" "$t" '^hibernate enumerate 2 1 -> 0x80004005 \(hibernate\)$'
check "hibernation: the daemon reopens and registers again" "$t" '^expect-reconnect -> registered op=100$'
check "hibernation: then answers" "$t" '^enumerate 2 1 -> 0x00000000 key="IntegrationServicesVersion"'
check "teardown: the daemon reopens, registers again and answers" "$t" '^enumerate 2 4 -> 0x00000000 key="OSBuildNumber"'
check "timeout: the host gets HV_E_FAIL" "$t" '^stall enumerate 2 1 -> 0x80004005 \(timeout\)$'
check "timeout: the late reply's EINVAL makes the daemon register again, then it answers" "$t" '^enumerate 2 5 -> 0x00000000 key="OSName"'
check "unread request: HV_E_FAIL after the timeout" "$t" '^enumerate 2 1 -> 0x80004005 \(timeout\)$'
check "unread request: it stays queued, the next host request fails at once" "$t" '^enumerate 2 2 -> 0x80004005 \(queue full\)$'
check "unread request: once it runs again the daemon recovers and answers" "$t" '^enumerate 2 6 -> 0x00000000 key="OSMajorVersion"'
if [ "$(grep -c '^expect-reconnect -> registered' "$t")" -eq 4 ]; then
	ok "recovery: four re-registrations, one per incident"
else
	not_ok "recovery: four re-registrations, one per incident"
	diag "$(cat "$t")"
fi
daemon_clean recover

# ---------------------------------------------------------------------------
# 5. SIGTERM: a clean exit 0 and the host sees the device closed.
cat >"$tmp/term.kvp" <<'EOF'
wait-register
enumerate 2 1
kill TERM
expect-close
EOF
session term
check "SIGTERM: the host sees the close" "$tmp/term/transcript" '^expect-close -> closed$'
if grep -qx 'exited 0' "$tmp/term/daemon.rc" && kvp_asan_clean "$tmp/term/daemon.log"; then
	ok "SIGTERM: the daemon exits 0 by itself"
else
	not_ok "SIGTERM: the daemon exits 0 by itself"
	diag "$(cat "$tmp/term/daemon.rc")" "$(tail -n 5 "$tmp/term/daemon.log")"
fi

# ---------------------------------------------------------------------------
# 6. No device at start: READY at once (nothing waits for it), idle, then
# the device appears and the daemon registers.  /dev/vmbus exists, or not.
for variant in dev-node dev-node-bare; do
	cat >"$tmp/late-$variant.kvp" <<'EOF'
expect-notify READY=1 10000
sleep 300
device on
wait-register 10000
enumerate 2 1
EOF
	session "late-$variant" --host-off --notify "--$variant"
	t=$tmp/late-$variant/transcript
	check "no device ($variant): READY=1 while there is no device" "$t" '^expect-notify READY=1 -> received$'
	if grep -q '^kvp_host .*: open pid=' "$tmp/late-$variant/host.log" &&
		[ "$(grep -n 'device on' "$tmp/late-$variant/host.log" | head -1 | cut -d: -f1)" -lt \
			"$(grep -n 'open pid=' "$tmp/late-$variant/host.log" | head -1 | cut -d: -f1)" ]; then
		ok "no device ($variant): the daemon stays up and opens the device when it appears"
	else
		not_ok "no device ($variant): the daemon stays up and opens the device when it appears"
		diag "$(cat "$tmp/late-$variant/host.log")" "$(tail -n 5 "$tmp/late-$variant/daemon.log")"
	fi
	check "no device ($variant): then registers and answers" "$t" '^enumerate 2 1 -> 0x00000000 key="IntegrationServicesVersion" value="3\.1"$'
	daemon_clean "late-$variant"
done
# ---------------------------------------------------------------------------
# 7. The systemd watchdog: with WATCHDOG_USEC set (as WatchdogSec= does), the
# daemon pets it from its event loop, also while it has no device.
cat >"$tmp/watchdog.kvp" <<'EOF'
expect-notify READY=1 10000
expect-notify WATCHDOG=1 5000
device on
wait-register 10000
expect-notify WATCHDOG=1 5000
enumerate 2 1
EOF
WATCHDOG_USEC=400000 session watchdog --host-off --notify --dev-node
check "watchdog: WATCHDOG=1 while idle without a device" "$tmp/watchdog/transcript" \
	'^expect-notify WATCHDOG=1 -> received$'
check "watchdog: still answering after the watchdog pings" "$tmp/watchdog/transcript" \
	'^enumerate 2 1 -> 0x00000000 key="IntegrationServicesVersion"'
daemon_clean watchdog
done_testing
