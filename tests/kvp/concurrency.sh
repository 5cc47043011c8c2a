#!/usr/bin/env bash
# A cloud-init-style appender (flock, O_APPEND, no fcntl lock) writes pool
# 1 while the host, through the fake kernel side and our daemon, SETs,
# DELETEs and ENUMERATEs the same pool: at least 100,000 host operations.
# Afterwards the pool holds every appended record once, exactly the host's
# keys that were not deleted, each once with its last value, and nothing
# else; every host request was answered with success.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
build=${1:?usage: concurrency.sh BUILD_DIR}
. "$here/lib.sh"
pairs=${KVP_CONCURRENCY_PAIRS:-50000} appends=600 scans=10

plan 3
why=$(kvp_unusable)
if [ -n "$why" ]; then
	for n in "every host request answered" "the appender's records, each once" \
		"the host's keys, each once, last value"; do
		skip "$n" "$why"
	done
	exit 0
fi
tmp=$(mktemp -d /tmp/kvp-concurrency.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/run"

# The host: SET a key, then (but for every 100th) DELETE it again, so the
# pool stays small and each DELETE drops the last record or shifts the
# appender's records behind it; a full ENUMERATE scan now and then.
awk -v n="$pairs" -v scans="$scans" -v out="$out" 'BEGIN {
	print "wait-register"
	for (i = 0; i < n; i++) {
		printf "set 1 host-%d h-%d\n", i, i
		if (i % 100 == 7)
			printf "set 1 host-%d last-%d\n", i, i
		else if (i % 100)
			printf "delete 1 host-%d\n", i
		if (i % int(n / scans) == 0)
			print "enumerate-all 1"
	}
	print "wait-file " out "/during.done 60000"
}' >"$tmp/script.kvp"
kvp_prefill_cloudinit "$tmp/appends" "$appends"
# The appender, in the daemon's namespace: one flock'ed O_APPEND write per record.
appender="for i in \$(seq 0 $((appends - 1))); do
	flock -x /var/lib/hyperv/.kvp_pool_1 dd if=$tmp/appends of=/var/lib/hyperv/.kvp_pool_1 \
		bs=2560 skip=\$i count=1 oflag=append conv=notrunc status=none
	sleep 0.002
done"
kvp_run "$out" "$tmp/script.kvp" --during "$appender" -- "$kvp_agent" daemon >/dev/null 2>&1

# Host requests: every set, delete and enumerate line (a scan prints one line
# per ENUMERATE; its last, HV_S_CONT, is the end of the walk, not a failure).
grep -E '^(set|delete|enumerate) ' "$out/transcript" >"$tmp/requests"
ops=$(wc -l <"$tmp/requests")
scan_requests=$(grep -c '^enumerate ' "$tmp/requests")
bad=$(grep -v ' -> 0x00000000' "$tmp/requests" | grep -vc '^enumerate 1 [0-9]* -> 0x80070103$')
if [ "$bad" -eq 0 ] && [ "$ops" -ge 100000 ]; then
	ok "every host request answered: $ops operations ($scan_requests of them ENUMERATEs of full scans)"
else
	not_ok "every host request answered: $ops operations, $bad failed"
	diag "$(grep ' -> ' "$out/transcript" | grep -v ' -> 0x00000000' | head -5)" "$(tail -5 "$out/daemon.log")"
fi

mkdir -p "$tmp/root/var/lib"
cp -a "$out/pools" "$tmp/root/var/lib/hyperv"
"$build/azl-agent" --root "$tmp/root" kvp list --pool 1 >"$tmp/list" 2>"$tmp/list.err"
size=$(stat -c %s "$tmp/root/var/lib/hyperv/.kvp_pool_1")
ci=$(grep -c "$(printf '\tCLOUD_INIT|')" "$tmp/list")
ci_unique=$(grep "$(printf '\tCLOUD_INIT|')" "$tmp/list" | cut -f2 | sort -u | wc -l)
if [ "$ci" -eq "$appends" ] && [ "$ci_unique" -eq "$appends" ] && [ $((size % 2560)) -eq 0 ]; then
	ok "the appender's records, each once ($appends)"
else
	not_ok "the appender's records, each once: $ci records, $ci_unique keys of $appends"
	diag "pool size $size" "$(head -3 "$tmp/list.err")"
fi
problems=$(awk -F'\t' -v n="$pairs" '
	$2 ~ /^CLOUD_INIT\|/ { next }
	{ if (seen[$2]++) print "key " $2 " twice"; val[$2] = $3 }
	END {
		for (i = 0; i < n; i++) {
			k = "host-" i
			want = i % 100 == 7 ? "last-" i : i % 100 == 0 ? "h-" i : ""
			if (want == "" && (k in val)) print k " deleted but present"
			if (want != "" && val[k] != want) print k " is \"" val[k] "\", want " want
		}
		for (k in val) if (k !~ /^host-[0-9]+$/) print "stray key " k
	}' "$tmp/list")
if [ -z "$problems" ]; then
	ok "the host's keys, each once, last value ($(grep -c $'\thost-' "$tmp/list") left)"
else
	not_ok "the host's keys, each once, last value"
	diag "$(head -10 <<<"$problems")"
fi
