#!/usr/bin/env bash
# Seed corpus for fuzz_kvp: one well-formed kernel request per operation,
# built at the offsets of research/kvp.md §6, so the fuzzer starts from
# messages that reach deep into each handler.
#
# usage: tests/fuzz/kvp-seeds.sh OUTDIR
set -euo pipefail
out=${1:?usage: kvp-seeds.sh OUTDIR}
mkdir -p "$out"

# seed NAME OP POOL [OFFSET TEXT]...: a 7432-byte message, zero-filled.
seed() {
	local f="$out/$1" op=$2 pool=$3
	shift 3
	head -c 7432 /dev/zero >"$f"
	printf "\\x$(printf %02x "$op")\\x$(printf %02x "$pool")" |
		dd of="$f" conv=notrunc status=none
	while [ $# -ge 2 ]; do
		printf '%b' "$2" | dd of="$f" bs=1 seek="$1" conv=notrunc status=none
		shift 2
	done
}

# GET/SET: key_size @8, value_size @12, key @16, value @528.
seed set-pool0 1 0 8 '\x06\x00\x00\x00' 12 '\x06\x00\x00\x00' 16 'Key01' 528 'Value'
seed set-pool3 1 3 8 '\x09\x00\x00\x00' 12 '\x07\x00\x00\x00' 16 'HostName' 528 'host-1'
seed get-pool0 0 0 8 '\x06\x00\x00\x00' 16 'Key01'
seed get-pool2 0 2 8 '\x07\x00\x00\x00' 16 'OSName'
# DELETE: key_size @4, key @8.
seed delete-pool0 2 0 4 '\x06\x00\x00\x00' 8 'Key01'
# ENUMERATE: index @4.
seed enum-pool2-0 3 2 4 '\x00\x00\x00\x00'
seed enum-pool2-9 3 2 4 '\x09\x00\x00\x00'
seed enum-pool1-0 3 1 4 '\x00\x00\x00\x00'
# IP: adapter_id @4, addr_family @260, dhcp @261, ip @262, subnet @2310, gw @4358, dns @5382.
seed getip 4 0 4 '00:15:5D:00:00:01' 260 '\x03'
seed setip 5 0 4 '{f8615163-0000-1000-8000-000000000001}' 260 '\x03' 261 '\x00' \
	262 '10.0.0.4;10.0.0.5;fd00::4' 2310 '255.255.255.0;255.255.0.0;64' \
	4358 '10.0.0.1;fd00::1' 5382 '168.63.129.16;10.0.0.2'
seed setip-dhcp 5 0 4 '{f8615163-0000-1000-8000-000000000001}' 260 '\x01' 261 '\x01'
