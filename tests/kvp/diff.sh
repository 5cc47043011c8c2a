#!/usr/bin/env bash
# Differential test: one scripted host session against Debian's
# hv_kvp_daemon -n and against ours (azl-agent daemon), each in its own
# namespaces with the same NICs, addresses, routes, DNS, host name and a
# pool 1 that cloud-init filled (run-daemon.sh).  The host-visible answers
# (kvp_host transcripts) and the pool files must be identical byte for byte,
# except the intended differences of intended-differences.txt, each of which
# is asserted both ways (the reference still has the defect, ours the fix).
#
# usage: tests/kvp/diff.sh BUILD_DIR     (root; AZL_AGENT, KVP_REFERENCE)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/tap.sh
. "$here/../tap.sh"
build=${1:?usage: diff.sh BUILD_DIR}
# shellcheck source=tests/kvp/lib.sh
. "$here/lib.sh"
rules_file="$here/intended-differences.txt"

why=$(kvp_unusable)
[ -z "$why" ] && [ ! -x "$kvp_reference" ] &&
	why="no reference daemon at $kvp_reference (Debian: hyperv-daemons; Fedora: hyperv-daemons)"
[ -z "$why" ] && [ ! -x "$kvp_agent" ] && why="$kvp_agent not built"
if [ -n "$why" ]; then
	plan 1
	skip "differential test against hv_kvp_daemon" "$why"
	exit 0
fi

tmp=$(mktemp -d /tmp/kvp-diff.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---------------------------------------------------------------- the session
rep() { local s="" i; for ((i = 0; i < $2; i++)); do s+=$1; done; printf '%s' "$s"; }

# Checkpoints: the session pauses (wait-file) while a helper in the
# namespace renames the host.
ck1="$tmp/renamed" ck2="$tmp/renamed-unknown"
# Pool 1: 200 cloud-init records, one that is not UTF-8 (the kernel turns
# it into HV_E_FAIL for the host) and the first 100 bytes of another (a
# writer that died mid-record).
kvp_prefill_cloudinit "$tmp/pool1" 200
{
	printf 'not-utf8'
	head -c $((512 - 8)) /dev/zero
	printf 'bad \377\376 value'
	head -c $((2048 - 12)) /dev/zero
	printf 'CLOUD_INIT|partial'
	head -c $((100 - 18)) /dev/zero
} >>"$tmp/pool1"
cat >"$tmp/session.kvp" <<EOF
# ---- registration and the intrinsic pool (research/kvp.md §2.3)
wait-register
enumerate-all 2
# ---- host facts (pool 3): sent at connect, then updated in place
set 3 HostName HOST-A
set 3 HostingSystemEditionId 8
set 3 HostingSystemOsMajor 10
set 3 PhysicalHostName HOST-A
set 3 PhysicalHostNameFullyQualified host-a.example.test
set 3 VirtualMachineId 6E3AC2B1-4D4C-4E4A-9C57-6A1C1E5F0B77
set 3 VirtualMachineName kvp-test-vm
set 3 HostName HOST-B
set 3 PhysicalHostName HOST-BB-LONGER-NAME
set 3 HostName H
enumerate-all 3
# ---- administrator data (pool 0)
set 0 alpha 1
set 0 beta 2
set 0 gamma 3
set 0 delta 4
set 0 beta two-updated
delete 0 gamma
delete 0 gamma
delete 0 nosuch
get 0 alpha
get 0 nosuch
set-u32 0 u32 4294967295
set-u64 0 u64 18446744073709551615
set 0 "key with spaces" "value with spaces"
set 0 "" empty-key
set 0 empty-value ""
set 0 ключ значение
set 0 emoji😀 値😀
set 0 $(rep k 254) $(rep v 1022)
set 0 $(rep K 255) $(rep V 1023)
set 0 long-value $(rep w 2000)
set 0 $(rep é 255) $(rep € 1023)
set 0 "tab\\tnewline\\nquote\\"" "line1\\nline2"
enumerate-all 0
get 0 beta
get 0 long-value
delete 0 alpha
enumerate-all 0
# ---- guest data (pool 1): what cloud-init appended, then host writes
enumerate 1 0
enumerate 1 99
enumerate 1 100
enumerate 1 200
set 1 PROVISIONING_REPORT "result=success|agent=Cloud-Init/23.4|timestamp=2024-01-01T00:00:00Z|vm_id=6e3ac2b1"
delete 1 "$(kvp_dump "$tmp/pool1" | sed -n 's/^3 key="\([^"]*\)".*/\1/p')"
enumerate-all 1
enumerate 1 0xc8
# ---- pools 2 and 4, and beyond the intrinsic keys
set 4 k4 v4
enumerate-all 4
set 2 k2 v2
get 2 k2
enumerate 2 10
enumerate 2 4294967295
# ---- GET_IP_INFO
getip 00:15:5D:00:00:01 ipv4
getip 00:15:5D:00:00:01 ipv6
getip 00:15:5D:00:00:01 both
getip 00:15:5D:00:00:01 none
getip 00:15:5d:00:00:01 ipv4
getip 00:15:5D:00:00:02 ipv4
getip 00:15:5D:00:00:03 ipv4
getip 00:15:5D:00:00:0A ipv4
getip 00:15:5D:00:01:01 ipv4
getip 00:15:5D:00:00:99 ipv4
getip "" ipv4
# ---- the VM is renamed: pool 2 follows (ours) or not (reference)
echo rename
wait-file $ck1
enumerate 2 00
echo rename-unknown
wait-file $ck2
enumerate 2 0x0
# ---- SET_IP_INFO
setip {f8615163-df3e-46c5-913f-f2d2f965ed99} ipv4 0 10.1.0.9 255.255.255.0 10.1.0.1 10.1.0.53
setip {f8615163-df3e-46c5-913f-f2d2f965ed02} ipv4 0 bogus 255.255.255.0 10.2.0.1 10.1.0.53
setip {f8615163-df3e-46c5-913f-f2d2f965ed02} ipv4 0 10.2.0.9 255.255.255.0 10.2.0.1 10.1.0.53
getip 00:15:5D:00:00:02 1
# Last: this one kills hv_kvp_daemon (research/kvp.md §3.1 #1).
wait-ms 2000
setip {f8615163-df3e-46c5-913f-f2d2f965ed0a} ipv4 0 $(rep 1 1000) 255.255.255.0 10.10.0.1 10.1.0.53
enumerate 2 0x1
EOF

# What configures the NICs: eth10 through ifupdown, eth2 through
# systemd-networkd (its link state names the .network file), both DHCP.
cat >"$tmp/setup.sh" <<'EOF'
set -e
mkdir -p /etc/network /etc/systemd/network /run/systemd/netif/links
printf 'auto eth10\niface eth10 inet dhcp\n' >/etc/network/interfaces
printf '[Match]\nName=eth2\n\n[Network]\nDHCP=yes\n' >/etc/systemd/network/10-eth2.network
printf 'ADMIN_STATE=configured\nOPER_STATE=routable\nNETWORK_FILE=/etc/systemd/network/10-eth2.network\n' \
	>"/run/systemd/netif/links/$(cat /sys/class/net/eth2/ifindex)"
EOF

# Renames the host when the session says so (in the daemon's namespace).
cat >"$tmp/during.sh" <<EOF
wait_line() { for _ in \$(seq 1000); do grep -qx "\$1" "\$OUT/transcript" && return; sleep 0.02; done; }
wait_line rename
hostname kvp-renamed
echo "10.1.0.4 kvp-renamed.example.test kvp-renamed" >>/etc/hosts
touch $ck1
wait_line rename-unknown
hostname kvp-unknown
touch $ck2
EOF

run_one() { # NAME DAEMON ARGS...
	local name=$1
	shift
	rm -f "$ck1" "$ck2"
	kvp_run "$tmp/$name" "$tmp/session.kvp" --pool 1="$tmp/pool1" \
		--setup "bash $tmp/setup.sh" --during "bash $tmp/during.sh" -- "$@"
}
# Reconstruct this session later with the files under $tmp kept:
#   KVP_DIFF_KEEP=1 tests/kvp/diff.sh build/default
[ -n "${KVP_DIFF_KEEP:-}" ] && trap 'echo "# kept $tmp"' EXIT
true

# ------------------------------------------------------------ the rules
rule_ids=() rule_defect=() rule_lines=() rule_ref=() rule_ours=() rule_of=()
load_rules() {
	local key val id=""
	while IFS= read -r line; do
		case $line in '#'* | '') continue ;; esac
		if [[ $line =~ ^\[(.*)\]$ ]]; then
			id=${BASH_REMATCH[1]}
			rule_ids+=("$id")
			rule_defect+=("")
			continue
		fi
		key=${line%%: *} val=${line#*: }
		case $key in
		defect) rule_defect[${#rule_defect[@]} - 1]=$val ;;
		line) rule_lines+=("$val") rule_of+=("$id") rule_ref+=("") rule_ours+=("") ;;
		reference) rule_ref[${#rule_ref[@]} - 1]=$val ;;
		ours) rule_ours[${#rule_ours[@]} - 1]=$val ;;
		*) echo "bad line in $rules_file: $line" >&2; return 1 ;;
		esac
	done <"$rules_file"
}

# The transcript line whose request (before " -> ") matches a glob.
matching_lines() { # TRANSCRIPT GLOB
	local l req
	while IFS= read -r l; do
		req=${l%% -> *}
		# shellcheck disable=SC2053
		[[ $req == $2 ]] && printf '%s\n' "$l"
	done <"$1"
}

# ------------------------------------------------------------------ run
load_rules || exit 1
npools=5
plan $((4 + ${#rule_ids[@]} + 2 + npools))

run_one ref "$kvp_reference" -n
run_one ours "$kvp_agent" daemon

for d in ref ours; do
	if grep -q '^wait-register -> registered' "$tmp/$d/transcript"; then
		ok "$d: the daemon registered with the fake host"
	else
		not_ok "$d: the daemon registered with the fake host"
		diag "$(cat "$tmp/$d/host.log" "$tmp/$d/daemon.log" 2>/dev/null | tail -20)"
	fi
done
if tail -n 1 "$tmp/ref/transcript" | grep -q '^enumerate 2 0x1 -> ' &&
	tail -n 1 "$tmp/ours/transcript" | grep -q '^enumerate 2 0x1 -> '; then
	ok "both sessions ran to the end of the script"
else
	not_ok "both sessions ran to the end of the script"
	diag "last lines: $(tail -n 1 "$tmp/ref/transcript" | cut -c1-200)" \
		"            $(tail -n 1 "$tmp/ours/transcript" | cut -c1-200)"
fi

# Each intended difference, both ways; its lines leave the comparison.
cp "$tmp/ref/transcript" "$tmp/ref.rest"
cp "$tmp/ours/transcript" "$tmp/ours.rest"
for i in "${!rule_ids[@]}"; do
	id=${rule_ids[$i]} bad=""
	for j in "${!rule_lines[@]}"; do
		[ "${rule_of[$j]}" = "$id" ] || continue
		glob=${rule_lines[$j]}
		for side in ref ours; do
			mapfile -t hits < <(matching_lines "$tmp/$side/transcript" "$glob")
			if [ "${#hits[@]}" -ne 1 ]; then
				bad+="$side: ${#hits[@]} lines match '$glob'"$'\n'
				continue
			fi
			answer="-> ${hits[0]#* -> }"
			[ "$side" = ref ] && re=${rule_ref[$j]} || re=${rule_ours[$j]}
			[[ $answer =~ $re ]] ||
				bad+="$side: '$glob' answered '${answer:0:300}', expected /$re/"$'\n'
			grep -vxF -- "${hits[0]}" "$tmp/$side.rest" >"$tmp/$side.tmp"
			mv "$tmp/$side.tmp" "$tmp/$side.rest"
		done
	done
	if [ -z "$bad" ]; then
		ok "intended difference $id (reference: defect, ours: fixed)"
	else
		not_ok "intended difference $id (reference: defect, ours: fixed)"
		diag "${rule_defect[$i]}" "$bad"
	fi
done

if diff -u "$tmp/ref.rest" "$tmp/ours.rest" >"$tmp/rest.diff"; then
	ok "every other host-visible answer is identical ($(wc -l <"$tmp/ours.rest") lines)"
else
	not_ok "every other host-visible answer is identical"
	diag "differences not in intended-differences.txt (a bug in ours, or a missing entry):"
	diag "$(grep -a '^[-+][^-+]' "$tmp/rest.diff" | cut -c1-240 | head -60)"
fi

# Pools: identical once the bytes after each NUL are ignored (the only
# intended difference in the files: research/kvp.md §3.1 #3).
stale_ref=0 stale_ours=0
for n in $(seq 0 $((npools - 1))); do
	f=.kvp_pool_$n
	if [ ! -f "$tmp/ref/pools/$f" ] || [ ! -f "$tmp/ours/pools/$f" ]; then
		not_ok "pool $n: both daemons created it"
		continue
	fi
	kvp_dump "$tmp/ref/pools/$f" >"$tmp/ref.$n"
	kvp_dump "$tmp/ours/pools/$f" >"$tmp/ours.$n"
	stale_ref=$((stale_ref + $(grep -c -- '-tail=' "$tmp/ref.$n")))
	stale_ours=$((stale_ours + $(grep -c -- '-tail=' "$tmp/ours.$n")))
	sed -E 's/ (key|value)-tail=[0-9]+//g' "$tmp/ref.$n" >"$tmp/ref.$n.masked"
	sed -E 's/ (key|value)-tail=[0-9]+//g' "$tmp/ours.$n" >"$tmp/ours.$n.masked"
	if cmp -s "$tmp/ref/pools/$f" "$tmp/ours/pools/$f"; then
		ok "pool $n: identical byte for byte ($(stat -c %s "$tmp/ours/pools/$f") bytes)"
	elif cmp -s "$tmp/ref.$n.masked" "$tmp/ours.$n.masked"; then
		ok "pool $n: identical but for the bytes after each NUL (pool-zero-padding)"
	else
		not_ok "pool $n: identical but for the bytes after each NUL"
		diag "$(diff "$tmp/ref.$n.masked" "$tmp/ours.$n.masked" | cut -c1-300 | head -20)"
	fi
done
if [ "$stale_ref" -gt 0 ] && [ "$stale_ours" -eq 0 ]; then
	ok "intended difference pool-zero-padding (reference: $stale_ref fields with stale bytes after the NUL, ours: none)"
else
	not_ok "intended difference pool-zero-padding (reference: stale bytes after the NUL, ours: zeros)"
	diag "fields with non-zero bytes after the NUL: reference $stale_ref, ours $stale_ours"
	diag "$(grep -h -- '-tail=' "$tmp"/ours.[0-9] | cut -c1-200 | head -5)"
fi
if kvp_asan_clean "$tmp/ours/daemon.log" && grep -qx 'SIGTERM 0' "$tmp/ours/daemon.rc"; then
	ok "ours: clean exit 0 on SIGTERM, no sanitizer report"
else
	not_ok "ours: clean exit 0 on SIGTERM, no sanitizer report"
	diag "$(cat "$tmp/ours/daemon.rc")" "$(tail -20 "$tmp/ours/daemon.log")"
fi
done_testing
