#!/usr/bin/env bash
# azl-agent kvp list|get|set|delete on a scratch root: the pools as files,
# pool 2 as the service computes it, the host-visible limits of pool 1,
# clear errors and exit statuses (0 done, 1 not found or I/O, 2 usage).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
build=${1:?usage: cli.sh BUILD_DIR}
agent=${AZL_AGENT:-$build/azl-agent}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
kvp() { "$agent" --root "$root" kvp "$@"; }

# is NAME WANT GOT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "want: $2" "got:  $3"; fi
}
# status NAME WANT CMD...: the exit status of CMD, stderr kept for diag.
status() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >"$root/out" 2>"$root/err"
	rc=$?
	is "$name (exit $want)" "$want" "$rc"
}

plan 20
status "set in pool 1 (the default)" 0 kvp set PROVISIONING_REPORT 'result=success|agent=azl-agent'
is "get returns the value" 'result=success|agent=azl-agent' "$(kvp get PROVISIONING_REPORT)"
is "the record is 2560 bytes, key NUL-padded to 512" "2560 PROVISIONING_REPORT" \
	"$(stat -c %s "$root/var/lib/hyperv/.kvp_pool_1") $(head -c 512 "$root/var/lib/hyperv/.kvp_pool_1" | tr -d '\0')"
is "pool files are 0644 in a 0755 directory" "755 644" \
	"$(stat -c %a "$root/var/lib/hyperv") $(stat -c %a "$root/var/lib/hyperv/.kvp_pool_1")"
status "set again updates in place" 0 kvp set PROVISIONING_REPORT 'result=error'
is "one record, the new value" "1 result=error" \
	"$(($(stat -c %s "$root/var/lib/hyperv/.kvp_pool_1") / 2560)) $(kvp get PROVISIONING_REPORT)"
is "get --json after the key" '{"pool":1,"key":"PROVISIONING_REPORT","value":"result=error"}' \
	"$(kvp get PROVISIONING_REPORT --json | jq -c .)"
kvp set --pool 0 admin-key admin-value
is "list --pool 0 prints pool, key and value" "$(printf '0\tadmin-key\tadmin-value')" "$(kvp list --pool 0)"
is "list --json covers every pool, pool 2 computed" "true 10" \
	"$(kvp list --json | jq -c '(map(select(.pool == 0 and .key == "admin-key")) | length == 1), (map(select(.pool == 2)) | length)' | tr '\n' ' ' | sed 's/ $//')"
is "pool 2: the ten intrinsic keys, OSBuildNumber is uname -r" "$(uname -r)" \
	"$(kvp get --pool 2 OSBuildNumber)"
k254=$(printf 'k%.0s' $(seq 254)) k255=$(printf 'k%.0s' $(seq 255))
v1022=$(printf 'v%.0s' $(seq 1022)) v1023=$(printf 'v%.0s' $(seq 1023))
status "pool 1: a 254-byte key and a 1022-byte value fit" 0 kvp set "$k254" "$v1022"
status "pool 1: a 255-byte key does not" 2 kvp set "$k255" v
if grep -q 'must be 1..254 bytes (this one is 255): the host reads no more' "$root/err"; then
	ok "the error says why and by how much"
else
	not_ok "the error says why and by how much"
	diag "$(cat "$root/err")"
fi
status "pool 1: a 1023-byte value does not" 2 kvp set k "$v1023"
status "pool 0 takes keys up to 511 bytes" 0 kvp set --pool 0 "$k255" v
status "pool 2 cannot be written" 2 kvp set --pool 2 OSName x
status "delete of a missing key" 1 kvp delete no-such-key
status "delete" 0 kvp delete --pool 0 admin-key
status "--pool 5 is refused" 2 kvp list --pool 5
status "an unknown verb is refused" 2 kvp frobnicate
done_testing
