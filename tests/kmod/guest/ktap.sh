# KTAP producer for the guest test suites (POSIX sh; busybox ash in the
# initramfs, any sh on a real Hyper-V guest).  The counterpart of the host's
# tests/tap.sh, but speaking KTAP version 1 (Documentation/dev-tools/ktap.rst):
# a suite is a subtest of the run, so its lines are indented by KTAP_INDENT.
#
#   . "$AZL_GUEST_DIR/ktap.sh"
#   plan 3
#   ok "name"; not_ok "name"; skip "name" "reason"; diag "text"
#   check "name" command args...      # ok when the command succeeds
#   done_testing                        # exit status: 0 when nothing failed
#
# Set by run-suites.sh: KTAP_INDENT (4 spaces), KTAP_SUITE (the suite's name)
# and KTAP_TALLY (a file that receives "planned ran failed skipped", so the
# runner can tell a suite that stopped short from one that finished).

KTAP_INDENT=${KTAP_INDENT-}
_ktap_planned=0 _ktap_n=0 _ktap_failed=0 _ktap_skipped=0

_ktap_line() { printf '%s%s\n' "$KTAP_INDENT" "$*"; }

# A name must stay one token sequence of a result line: no newline, no '#'.
_ktap_name() { printf '%s' "$*" | tr '\n#' ' _'; }

plan() {
	_ktap_planned=$1
	_ktap_line "KTAP version 1"
	[ -z "${KTAP_SUITE:-}" ] || _ktap_line "# Subtest: $KTAP_SUITE"
	_ktap_line "1..$1"
}

ok() {
	_ktap_n=$((_ktap_n + 1))
	_ktap_line "ok $_ktap_n $(_ktap_name "$*")"
}

not_ok() {
	_ktap_n=$((_ktap_n + 1)) _ktap_failed=$((_ktap_failed + 1))
	_ktap_line "not ok $_ktap_n $(_ktap_name "$*")"
}

# skip NAME REASON
skip() {
	_ktap_n=$((_ktap_n + 1)) _ktap_skipped=$((_ktap_skipped + 1))
	_ktap_line "ok $_ktap_n $(_ktap_name "$1") # SKIP $(_ktap_name "$2")"
}

# diag TEXT...: each line becomes a "# " comment (kept in the host's log).
diag() {
	printf '%s\n' "$@" | while IFS= read -r _l; do _ktap_line "# $_l"; done
}

# check NAME CMD...: run CMD; ok if it succeeds, otherwise not ok with its
# output as diagnostics.
check() {
	_c_name=$1
	shift
	if _c_out=$("$@" 2>&1); then
		ok "$_c_name"
	else
		diag "$* failed (status $?)" "$_c_out"
		not_ok "$_c_name"
	fi
}

done_testing() {
	if [ "$_ktap_n" -ne "$_ktap_planned" ]; then
		diag "planned $_ktap_planned tests but ran $_ktap_n"
	fi
	[ -z "${KTAP_TALLY:-}" ] ||
		echo "$_ktap_planned $_ktap_n $_ktap_failed $_ktap_skipped" >"$KTAP_TALLY"
	[ "$_ktap_failed" -eq 0 ] && [ "$_ktap_n" -eq "$_ktap_planned" ]
}
