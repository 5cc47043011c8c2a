# shellcheck shell=bash
# Start, stop and query the Azure host simulator from a bash test.
#
#   build=build/default; . tests/sim/lib.sh
#   sim_start imds-500-burst        # a name in tests/sim/scenarios/ or a file
#   ... run the agent with imds_url=$IMDS_URL wireserver_url=$WIRE_URL ...
#   sim_count imds                  # how many IMDS requests came
#   sim_field state health          # the State of each XML health report
#   sim_stop                        # SIGTERM; fails if the simulator did not exit 0
#
# sim_start exports IMDS_URL, WIRE_URL, SIM_LOG, SIM_PID and SIM_WORK.
# AZURE_SIM overrides the binary ($build/tests/azure_sim).
: "${build:?set build before sourcing tests/sim/lib.sh}"
sim_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sim_bin=${AZURE_SIM:-$build/tests/azure_sim}

# sim_unusable: why the simulator cannot run (empty: it can).
sim_unusable() {
	[ -x "$sim_bin" ] || echo "azure_sim not built ($sim_bin)"
}

# sim_scenario NAME|FILE: the scenario file's path.
sim_scenario() {
	case $1 in
	*/*) echo "$1" ;;
	*.scn) echo "$sim_dir/scenarios/$1" ;;
	*) echo "$sim_dir/scenarios/$1.scn" ;;
	esac
}

# sim_start SCENARIO [azure_sim options...]: start and wait until it serves.
sim_start() {
	local scn i
	scn=$(sim_scenario "$1")
	shift
	[ -f "$scn" ] || { echo "sim_start: no scenario $scn" >&2; return 1; }
	SIM_WORK=$(mktemp -d "${TMPDIR:-/tmp}/azure-sim.XXXXXX")
	SIM_LOG=$SIM_WORK/requests.log
	: >"$SIM_LOG"
	"$sim_bin" --scenario "$scn" --log "$SIM_LOG" --port-file "$SIM_WORK/ports" "$@" \
		>"$SIM_WORK/stdout" 2>"$SIM_WORK/stderr" &
	SIM_PID=$!
	# The port file appears (atomically) once both sockets are bound.
	for ((i = 0; i < 500; i++)); do
		[ -s "$SIM_WORK/ports" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || break
		sleep 0.01
	done
	if [ ! -s "$SIM_WORK/ports" ]; then
		echo "sim_start: azure_sim did not start:" >&2
		cat "$SIM_WORK/stderr" >&2
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
		return 1
	fi
	IMDS_URL=$(sed -n 's/^IMDS_URL=//p' "$SIM_WORK/ports")
	WIRE_URL=$(sed -n 's/^WIRE_URL=//p' "$SIM_WORK/ports")
	export IMDS_URL WIRE_URL SIM_LOG SIM_PID SIM_WORK
}

# sim_stop [--keep]: SIGTERM, wait; 0 only if it exited 0.  The work
# directory (log, stderr) is removed unless --keep or the exit failed.
sim_stop() {
	local rc=0
	[ -n "${SIM_PID:-}" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null
	wait "$SIM_PID" || rc=$?
	SIM_PID=
	if [ "$rc" -ne 0 ]; then
		echo "sim_stop: azure_sim exited with $rc; see $SIM_WORK" >&2
		return "$rc"
	fi
	[ "${1:-}" = --keep ] || rm -rf "$SIM_WORK"
}

# sim_log: the request log so far (one tab-separated line per request).
sim_log() {
	cat "$SIM_LOG"
}

# sim_count [EP]: the number of requests (to endpoint EP: imds goalstate
# health jsonhealth other).
sim_count() {
	if [ $# -eq 0 ]; then
		grep -c . "$SIM_LOG"
	else
		grep -c -P "\tep=$1(\t|$)" "$SIM_LOG"
	fi
}

# sim_field FIELD [EP]: FIELD's value in each request (to EP), one a line;
# a request without FIELD prints an empty line.
sim_field() {
	awk -F '\t' -v f="$1" -v ep="${2:-}" '{
		v = ""; e = ""
		for (i = 1; i <= NF; i++) {
			if (index($i, f "=") == 1) v = substr($i, length(f) + 2)
			if (index($i, "ep=") == 1) e = substr($i, 4)
		}
		if (ep == "" || e == ep) print v
	}' "$SIM_LOG"
}
