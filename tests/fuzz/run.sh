#!/usr/bin/env bash
# Fuzz smoke for `make check`: build each libFuzzer target with clang (ASan +
# UBSan) and run it for a fixed number of inputs from the seed corpus.  A
# crash, leak or sanitizer report fails the test.  `make fuzz` runs longer.
#
# usage: tests/fuzz/run.sh BUILD_DIR [RUNS]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR [RUNS]}
runs=${2:-20000}
# `make check` fuzzes from a fixed seed so a clean clone gives the same result
# every time; `make fuzz` (FUZZ_SEED=0) lets libFuzzer pick a new one per run.
seed=${FUZZ_SEED:-1}
src="$here/../../agent/src"
out="$build/fuzz"
# name:sources[:divisor] ("all": every agent source but main.c, with the agent's
# libraries; a divisor runs that target for RUNS/divisor inputs: the planner
# property target plans three times per input)
targets="interrupts:interrupts.c,sysfile.c,root.c ids:cpuset.c,vmbus_class.c,vmid.c kvp:all goalstate:all imds:all ovf:all provision_text:all affinity:affinity_plan.c,affinity_quality.c,sku.c,cpuset.c:10 kmod:all nvme_vs:udev_nvme.c,udev_disk.c,sysfile.c,root.c,vmbus_class.c,log.c,escape.c"
agent_pkgs="json-c libnl-genl-3.0 libnl-route-3.0 libsystemd inih libcurl libxml-2.0 blkid libxcrypt libselinux nettle"

plan $(wc -w <<<"$targets")
if ! command -v clang >/dev/null; then
	for t in $targets; do
		skip "fuzz_${t%%:*}" "clang is not installed (scripts/deps.sh check installs it)"
	done
	exit 0
fi
mkdir -p "$out"
"$here/kvp-seeds.sh" "$out/seeds-kvp"
for t in $targets; do
	name=${t%%:*} files=${t#*:} libs= n=$runs
	if [[ $files == *:* ]]; then n=$((runs / ${files##*:})) files=${files%:*}; fi
	if [ "$files" = all ]; then
		srcs=$(ls "$src"/*.c | grep -v -E '/main(_provision|_udev)?\.c$')
		libs="$(pkg-config --cflags --libs $agent_pkgs)"
	else
		srcs=$(printf "$src/%s " ${files//,/ })
	fi
	# shellcheck disable=SC2086
	if ! clang -std=c11 -D_GNU_SOURCE -g -O1 -I"$src" -I"$here/../../kmod/include/uapi" \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o "$out/fuzz_$name" "$here/fuzz_$name.c" $srcs $libs 2>"$out/$name.build.log"; then
		not_ok "fuzz_$name builds"
		diag "$(head -20 "$out/$name.build.log")"
		continue
	fi
	mkdir -p "$out/corpus-$name"
	seeds="$here/corpus/$name"
	[ -d "$seeds" ] || seeds="$out/seeds-$name"
	if "$out/fuzz_$name" -seed="$seed" -runs="$n" -max_len=8192 "$out/corpus-$name" \
		"$seeds" >"$out/$name.log" 2>&1; then
		ok "fuzz_$name: $n inputs, no crash or sanitizer report"
	else
		not_ok "fuzz_$name: $n inputs, no crash or sanitizer report"
		diag "$(grep -E 'ERROR|SUMMARY|runtime error' "$out/$name.log" | head -10)"
	fi
done
done_testing
