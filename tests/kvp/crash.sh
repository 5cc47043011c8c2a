#!/usr/bin/env bash
# SIGKILL of our KVP daemon at a random moment while the host deletes (the
# order-keeping shift), updates in place and appends in pool 0, through the
# fake kernel side.  After each kill the pool is opened again through
# the same store (which replays a journal left behind) and must hold
# exactly what the host was told succeeded: every acknowledged change, the
# one in flight either done or not, nothing torn, nothing doubled, a whole
# number of 2560-byte records.  KVP_CRASH_ROUNDS sets the number of kills.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
build=${1:?usage: crash.sh BUILD_DIR}
. "$here/lib.sh"
rounds=${KVP_CRASH_ROUNDS:-12}
n_del=20 n_upd=20 n_new=1000

plan "$rounds"
why=$(kvp_unusable)
if [ -n "$why" ]; then
	for r in $(seq "$rounds"); do skip "kill $r" "$why"; done
	exit 0
fi
tmp=$(mktemp -d /tmp/kvp-crash.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The starting pool: records to delete and to update, interleaved and
# written through the CLI, then 600 cloud-init-style records appended, so
# that each delete shifts about 1.5 MB (and takes long enough to be hit).
mkdir -p "$tmp/seed/var/lib"
for i in $(seq 0 $((n_del - 1))); do
	"$kvp_agent" --root "$tmp/seed" kvp set --pool 0 "del-$i" "d-$i" &&
		"$kvp_agent" --root "$tmp/seed" kvp set --pool 0 "keep-$i" "k-$i" || exit 1
done
kvp_prefill_cloudinit "$tmp/cloudinit" 600
cat "$tmp/cloudinit" >>"$tmp/seed/var/lib/hyperv/.kvp_pool_0"
printf '%s\n' "wait-register" "wait-ms 0" \
	"repeat $n_del delete 0 del-{i}" \
	"repeat $n_upd set 0 keep-{i} upd-{i}" \
	"repeat $n_new set 0 new-{i} v-{i}" >"$tmp/script.kvp"

# acked OUT N: how many requests of repeat line N (1-based) succeeded.
acked() {
	local n
	n=$(grep '^repeat ' "$1/transcript" | sed -n "${2}p" |
		sed -n 's/.*status=.*0x00000000\*\([0-9]*\).*/\1/p')
	echo "${n:-0}"
}

# check ROOT A1 A2 A3: the replayed pool against what was acknowledged.
check() {
	local size
	if ! "$kvp_agent" --root "$1" kvp list --pool 0 >"$1/list"; then
		echo "kvp list failed"
		return
	fi
	size=$(stat -c %s "$1/var/lib/hyperv/.kvp_pool_0")
	[ $((size % 2560)) -eq 0 ] || echo "pool size $size is not whole records"
	[ "$(wc -l <"$1/list")" -eq $((size / 2560)) ] || echo "records and lines differ"
	awk -F'\t' -v a1="$2" -v a2="$3" -v a3="$4" -v ndel="$n_del" -v nupd="$n_upd" -v nnew="$n_new" '
	function want(k, v, must, may) {
		if (!(k in val)) { if (must) print k " lost"; return }
		if (val[k] != v && val[k] != may) print k " is " val[k] ", want " v
	}
	{ if (seen[$2]++) print "key " $2 " twice"; val[$2] = $3 }
	END {
		for (i = 0; i < ndel; i++) {
			k = "del-" i
			if (i < a1 && (k in val)) print k " deleted (acknowledged) but present"
			if (i >= a1) want(k, "d-" i, i > a1, "")
		}
		for (i = 0; i < nupd; i++)
			want("keep-" i, i < a2 ? "upd-" i : "k-" i, 1, i == a2 ? "upd-" i : "")
		for (i = 0; i < nnew; i++) {
			k = "new-" i
			if (i <= a3) want(k, "v-" i, i < a3, "")
			else if (k in val) print k " never sent but present"
		}
		for (k in val) {
			if (k ~ /^CLOUD_INIT\|/) ci++
			else if (k !~ /^(del|keep|new)-[0-9]+$/) print "stray key " k
		}
		if (ci != 600) print ci " of the 600 cloud-init records"
	}' "$1/list"
}

for r in $(seq "$rounds"); do
	# Early kills are likelier: the deletes and updates come first and are few.
	delay=$(awk -v s="$RANDOM" 'BEGIN { srand(s); r = rand(); printf "%.3f", r * r * 0.15 }')
	out="$tmp/run$r"
	kvp_run "$out" "$tmp/script.kvp" --pool 0="$tmp/seed/var/lib/hyperv/.kvp_pool_0" \
		--during "sleep $delay; kill -KILL \$DAEMON_PID" -- "$kvp_agent" daemon >/dev/null 2>&1
	a1=$(acked "$out" 1) a2=$(acked "$out" 2) a3=$(acked "$out" 3)
	mkdir -p "$tmp/root$r/var/lib"
	cp -a "$out/pools" "$tmp/root$r/var/lib/hyperv"
	journals=$(find "$tmp/root$r/var/lib/hyperv" -name '.azl_kvp_journal_*' | wc -l)
	problems=$(check "$tmp/root$r" "$a1" "$a2" "$a3")
	what="kill $r after ${delay}s: $a1 deletes, $a2 updates, $a3 appends acknowledged, $journals journal(s) left"
	if [ -n "$problems" ]; then
		not_ok "$what; pool whole and exact after replay"
		diag "$(head -20 <<<"$problems")" "daemon: $(tail -3 "$out/daemon.log")"
	elif [ $((a1 + a2 + a3)) -eq $((n_del + n_upd + n_new)) ]; then
		ok "$what; the daemon finished before the kill, pool exact"
	else
		ok "$what; pool whole and exact after replay"
	fi
done
