#!/usr/bin/env bash
# Benchmark: the KVP exchange of azl-agent side by side with Debian's
# hv_kvp_daemon, in one run, through the same harness (tests/kvp: the fake
# kernel side times each request from the moment it is queued for the
# daemon to the moment the daemon's reply is in; each daemon in its own
# namespaces with the same NICs and pools):
#   - GET_IP_INFO of eth0 (4 addresses: 2 IPv4, 1 global IPv6, link-local);
#   - one full ENUMERATE walk of pool 2 (the 10 intrinsic keys + the end);
#   - one ENUMERATE of a 1,000-record pool 1 (cloud-init records written
#     straight into the file) against one of an empty pool;
#   - a full ENUMERATE scan of that 1,000-record pool;
#   - SET into pool 0 while it grows from 0 to 1,000 records;
#   - the daemon's RSS (VmHWM, VmRSS) after all of it.
# Prints medians, the ratio reference/ours of each, and the targets of
# issue 4; never fails on a time: benchmarks inform, tests assert.
#
# usage: bench/kvp.sh BUILD_DIR     (root; KVP_REFERENCE, BENCH_RUNS=N scales)
set -euo pipefail
build=${1:?usage: bench/kvp.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/kvp/lib.sh
. "$here/../tests/kvp/lib.sh"
scale=${BENCH_RUNS:-100}

echo "bench/kvp: azl-agent daemon vs $kvp_reference -n ($(nproc) CPUs; harness and daemons on CPU ${BENCH_CPU-0})"
why=$(kvp_unusable)
[ -z "$why" ] && [ ! -x "$kvp_reference" ] && why="no $kvp_reference (Debian/Fedora: hyperv-daemons)"
if [ -n "$why" ]; then
	echo "bench/kvp: skipped: $why"
	exit 0
fi

tmp=$(mktemp -d /tmp/kvp-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
kvp_prefill_cloudinit "$tmp/pool1" 1000

n_ip=$((scale * 3 / 10 > 10 ? scale * 3 / 10 : 10)) # the reference forks per request
n_walk=$scale n_one=$((scale * 20)) n_scan=$((scale / 20 > 3 ? scale / 20 : 3))
bench_script() { # OUT: the same session for both daemons
	cat <<EOF
wait-register
repeat 5 getip 00:15:5D:00:00:01 both
repeat $n_ip getip 00:15:5D:00:00:01 both
repeat 10 enumerate-all 2
repeat $n_walk enumerate-all 2
repeat $n_one enumerate 4 0
repeat $n_one enumerate 1 500
repeat $n_one enumerate 4 0
repeat $n_scan enumerate-all 1
repeat 1000 set 0 key-{i} "cloud-init style value {i}"
echo rss
wait-file $1/during.done
EOF
}
# shellcheck disable=SC2016 # expanded in the namespace
rss='for _ in $(seq 3000); do grep -qx rss "$OUT/transcript" && break; sleep 0.02; done
grep -E "^(Vm(HWM|RSS)|RssAnon):" /proc/$DAEMON_PID/status
grep -E "^Pss:" /proc/$DAEMON_PID/smaps_rollup'

run() { # NAME DAEMON ARGS...
	local name=$1
	shift
	bench_script "$tmp/$name" >"$tmp/$name.kvp"
	kvp_run "$tmp/$name" "$tmp/$name.kvp" --pool 1="$tmp/pool1" --during "$rss" -- "$@"
	if ! grep -q '^wait-register -> registered' "$tmp/$name/transcript"; then
		echo "bench/kvp: $name did not register" >&2
		tail -5 "$tmp/$name/host.log" "$tmp/$name/daemon.log" >&2
		exit 1
	fi
}
# Host and daemon on one CPU (BENCH_CPU, "" for none): on this kind of VM a
# wakeup across CPUs costs ~50 us, which would measure the hypervisor's
# IPIs rather than either daemon.  Both daemons run the same way.
bench_cpu=${BENCH_CPU-0}
[ -z "$bench_cpu" ] || taskset -cp "$bench_cpu" $$ >/dev/null
run ref "$kvp_reference" -n
run ours "$kvp_agent" daemon

# median NAME REQUEST: the median of "repeat N REQUEST" in microseconds.
median() {
	sed -n "s/^repeat [0-9]* $2: median_us=\([0-9.]*\) .*/\1/p" "$tmp/$1/transcript" | tail -n 1
}
statuses() {
	sed -n "s/^repeat [0-9]* $2: .* status=\(.*\)/\1/p" "$tmp/$1/transcript" | tail -n 1
}
kib() { # NAME FIELD
	sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "$tmp/$1/during.txt"
}

metrics=(
	"getip 00:15:5D:00:00:01 both|GET_IP_INFO, eth0 with 4 addresses"
	"enumerate-all 2|ENUMERATE pool 2, one full walk (11 requests)"
	"enumerate 4 0|ENUMERATE of an empty pool (pool 4)"
	"enumerate 1 500|ENUMERATE in a 1,000-record pool (index 500)"
	"enumerate-all 1|full ENUMERATE scan, 1,000-record pool"
	"set 0 key-{i} \"cloud-init style value {i}\"|SET into pool 0 growing to 1,000 records"
)
printf '%-48s %12s %12s %10s\n' "median per request (ms)" hv_kvp_daemon azl-agent "ref/ours"
declare -A r o
for m in "${metrics[@]}"; do
	req=${m%%|*} label=${m#*|}
	key=$(sed 's/[][\.*^$/]/\\&/g' <<<"$req")
	r[$req]=$(median ref "$key")
	o[$req]=$(median ours "$key")
	awk -v l="$label" -v a="${r[$req]}" -v b="${o[$req]}" 'BEGIN {
		printf "%-48s %12.3f %12.3f %9.1fx\n", l, a / 1000, b / 1000, (b > 0 ? a / b : 0) }'
	for side in ref ours; do
		st=$(statuses "$side" "$key")
		case $req in
		"enumerate 4 0") want='0x80070103' ;;
		"enumerate-all"*) want='0x80070103' ;;
		*) want='0x00000000' ;;
		esac
		[[ $st =~ ^${want}\*[0-9]+$ ]] || echo "  note: $side answered $st"
	done
done
ref_hwm=$(kib ref VmHWM) ref_rss=$(kib ref VmRSS) our_hwm=$(kib ours VmHWM) our_rss=$(kib ours VmRSS)
printf '%-48s %12s %12s %9s\n' "daemon memory after the run (KiB)" hv_kvp_daemon azl-agent ""
awk -v a="$ref_hwm" -v b="$our_hwm" 'BEGIN { printf "%-48s %12d %12d %9.2fx\n", "VmHWM (peak RSS)", a, b, (b ? a / b : 0) }'
awk -v a="$ref_rss" -v b="$our_rss" 'BEGIN { printf "%-48s %12d %12d %9.2fx\n", "VmRSS", a, b, (b ? a / b : 0) }'
# Most of either RSS is shared library text faulted in around what is used;
# the private part and the proportional share say what the daemon costs.
for f in RssAnon Pss; do
	awk -v l="$f" -v a="$(kib ref $f)" -v b="$(kib ours $f)" 'BEGIN {
		printf "%-48s %12d %12d %9.2fx\n", l (l == "Pss" ? " (shared pages divided)" : " (private)"), a, b, (b ? a / b : 0) }'
done

ip_r=${r["getip 00:15:5D:00:00:01 both"]} ip_o=${o["getip 00:15:5D:00:00:01 both"]}
e0_o=${o["enumerate 4 0"]} e1_o=${o["enumerate 1 500"]} e0_r=${r["enumerate 4 0"]} e1_r=${r["enumerate 1 500"]}
sc_r=${r["enumerate-all 1"]} sc_o=${o["enumerate-all 1"]}
set_r=${r["set 0 key-{i} \"cloud-init style value {i}\""]} set_o=${o["set 0 key-{i} \"cloud-init style value {i}\""]}
echo "targets (issue 4):"
awk -v ipr="$ip_r" -v ipo="$ip_o" -v e0o="$e0_o" -v e1o="$e1_o" -v e0r="$e0_r" -v e1r="$e1_r" \
	-v scr="$sc_r" -v sco="$sc_o" -v setr="$set_r" -v seto="$set_o" -v hwm="$our_hwm" 'BEGIN {
	printf "  GET_IP_INFO at least 200x faster: %s (%.0fx)\n", (ipr / ipo >= 200 ? "met" : "NOT MET"), ipr / ipo
	printf "  GET_IP_INFO median under 0.5 ms: %s (%.3f ms)\n", (ipo < 500 ? "met" : "NOT MET"), ipo / 1000
	printf "  ENUMERATE on 1,000 records within 1.5x of an empty pool: %s (%.2fx; hv_kvp_daemon %.1fx)\n",
		(e1o <= 1.5 * e0o ? "met" : "NOT MET"), e1o / e0o, e1r / e0r
	printf "  full scan at least 15x faster: %s (%.1fx)\n", (scr / sco >= 15 ? "met" : "NOT MET"), scr / sco
	# What the harness itself costs per request (an ENUMERATE of an empty
	# pool answered by ours) bounds the ratio a constant-time daemon can
	# reach: the time of the daemon itself is what remains above it.
	printf "    (harness round trip %.3f ms per request; above it, per ENUMERATE of the scan: hv_kvp_daemon %.3f ms, azl-agent %.3f ms)\n",
		e0o / 1000, (scr / 1001 - e0o) / 1000, (sco / 1001 - e0o) / 1000
	printf "  SET no slower than hv_kvp_daemon: %s (%.3f vs %.3f ms)\n", (seto <= setr ? "met" : "NOT MET"),
		seto / 1000, setr / 1000
	printf "  RSS under 4 MiB: %s (VmHWM %.2f MiB)\n", (hwm < 4096 ? "met" : "NOT MET"), hwm / 1024
}'
