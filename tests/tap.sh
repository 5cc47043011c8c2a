# Minimal TAP producer for shell suites.  Source it, call plan N, then
# ok/not_ok/skip or check CMD...; finish with done_testing.
_tap_n=0
_tap_failed=0

plan() { echo "1..$1"; }

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }

not_ok() {
	_tap_n=$((_tap_n + 1)) _tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $*"
}

skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }

# diag TEXT: a comment line that the runner shows on failure.
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

done_testing() { [ "$_tap_failed" -eq 0 ]; }
