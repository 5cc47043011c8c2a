# shellcheck shell=bash disable=SC2034
# Shared by the KVP suites (diff.sh, session.sh, lisa.sh) and bench/kvp.sh.
# Source it after setting $build (the build directory); it sets kvp_dir,
# kvp_tools, kvp_agent and kvp_reference.
: "${build:?set build before sourcing lib.sh}"
kvp_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kvp_tools="$build/tests"
kvp_agent=${AZL_AGENT:-$build/azl-agent}
case $kvp_agent in /*) ;; *) kvp_agent="$PWD/$kvp_agent" ;; esac
kvp_reference=${KVP_REFERENCE:-/usr/sbin/hv_kvp_daemon}

# kvp_unusable: why the namespace harness cannot run here (empty: it can).
kvp_unusable() {
	local why
	if [ ! -x "$kvp_tools/kvp_host" ] || [ ! -f "$kvp_tools/kvp_shim.so" ]; then
		echo "kvp_host/kvp_shim.so not built in $kvp_tools"
		return
	fi
	why=$("$kvp_dir/run-daemon.sh" --probe) || echo "$why"
}

# kvp_run OUT SCRIPT [run-daemon options] -- DAEMON ARGS...: one session.
kvp_run() {
	local out=$1 script=$2
	shift 2
	"$kvp_dir/run-daemon.sh" --tools "$kvp_tools" --script "$script" --out "$out" "$@"
}

# kvp_prefill_cloudinit FILE N: N pool records as cloud-init's KVP reporting
# handler appends them (research/kvp.md §3.3): a 512-byte key
# CLOUD_INIT|<boot time>|<event type>|<event name>|<uuid> and a compact JSON
# value, both NUL-padded; deterministic.
kvp_prefill_cloudinit() {
	awk -v n="$2" 'BEGIN {
		z = sprintf("%c", 0)
		while (length(z) < 2048)
			z = z z
		for (i = 0; i < n; i++) {
			type = i % 2 ? "finish" : "start"
			name = sprintf("init-network/config-%d", i)
			uuid = sprintf("%08x-%04x-4%03x-8%03x-%012x", (i * 2654435761) % 4294967296,
				i % 65536, i % 4096, (i * 7) % 4096, i * 104729)
			key = sprintf("CLOUD_INIT|1700000000|%s|%s|%s", type, name, uuid)
			val = sprintf("{\"name\":\"%s\",\"type\":\"%s\",\"ts\":\"2024-01-01T00:%02d:%02d.%06dZ\",%s\"msg\":\"running config-%d with frequency once-per-instance\"}",
				name, type, int(i / 60) % 60, i % 60, (i * 37) % 1000000,
				type == "finish" ? "\"result\":\"SUCCESS\"," : "", i)
			printf "%s%s%s%s", key, substr(z, 1, 512 - length(key)), val, substr(z, 1, 2048 - length(val))
		}
	}' >"$1"
}

# kvp_dump POOLFILE: one line per record (kvp_host --dump-pool).
kvp_dump() {
	"$kvp_tools/kvp_host" --dump-pool "$1"
}

# kvp_asan_clean LOG: no sanitizer report in a daemon's log.
kvp_asan_clean() {
	! grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$1"
}
