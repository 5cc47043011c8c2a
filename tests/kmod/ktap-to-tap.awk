# Read the guest's serial console log; print the flat, unnumbered TAP lines
# that tests/kmod/run.sh numbers and tests/run.sh counts:
#
#   ok - SUITE: TEST            not ok - SUITE: TEST
#   ok - SUITE: TEST # SKIP reason
#   # diagnostics
#
# The KTAP document lies between "=== AZL-KTAP BEGIN/END ===", the kernel log
# between "=== AZL-DMESG BEGIN/END ===" (tests/kmod/guest/init prints them).
# Subtests of each top-level suite become flat tests; deeper levels are left
# to their parent's result.  A suite that failed without a failing subtest
# (it died, stopped short, timed out) adds one failure of its own.  A guest
# that did not finish adds "not ok - guest did not finish (see log)" and the
# last 40 console lines.  The kernel log is checked for oopses, BUGs,
# WARNINGs and lockups (except lines tagged "azl-harness:", injected on
# purpose by the guest's harness self-test).
#
# Plain POSIX awk (mawk is Debian's default): no regex intervals, no gawk-isms.

function strip_indent(s) { sub(/^    /, "", s); return s }

# parse_result(s): split a KTAP result line into res, desc, directive.
function parse_result(s,    p) {
	if (s ~ /^not ok [0-9]+/) { res = "not ok"; sub(/^not ok [0-9]+/, "", s) }
	else if (s ~ /^ok [0-9]+/) { res = "ok"; sub(/^ok [0-9]+/, "", s) }
	else return 0
	sub(/^ *(- )?/, "", s)
	directive = ""
	p = index(s, " # ")
	if (p == 0 && substr(s, 1, 2) == "# ") p = -1
	if (p > 0) { directive = substr(s, p + 3); s = substr(s, 1, p - 1) }
	else if (p == -1) { directive = substr(s, 3); s = "" }
	desc = s
	return 1
}

function emit(line) { out[++nout] = line }

function flat(r, name, dir) {
	if (dir ~ /^[Ss][Kk][Ii][Pp]/) {
		sub(/^[Ss][Kk][Ii][Pp] */, "", dir)
		emit("ok - " name " # SKIP " dir)
	} else if (r == "ok")
		emit("ok - " name)
	else
		emit("not ok - " name)
}

function ktap_line(line,    s) {
	if (line ~ /^    /) {
		s = strip_indent(line)
		if (s ~ /^ /) return                       # deeper than one level
		if (s ~ /^# Subtest: /) { suite = substr(s, 12); sub_failed = 0; sub_n = 0; return }
		if (s ~ /^#/) { emit(s); return }
		if (parse_result(s)) {
			sub_n++
			if (res == "not ok" && directive !~ /^[Ss][Kk][Ii][Pp]/) sub_failed++
			flat(res, (suite != "" ? suite : "?") ": " desc, directive)
		}
		return
	}
	if (line ~ /^KTAP version/) return
	if (line ~ /^1\.\.[0-9]+$/) { top_plan = substr(line, 4) + 0; have_plan = 1; return }
	if (line ~ /^#/) { emit(line); last_comment = line; return }
	if (parse_result(line)) {
		top_n++
		if (sub_n == 0 || (res == "not ok" && sub_failed == 0)) {
			if (res == "not ok") {
				why = last_comment
				sub(/^# [^:]*: /, "", why)
				emit("not ok - " desc ": suite failed" (why != "" ? " (" why ")" : ""))
			} else
				flat(res, desc, directive)
		}
		suite = ""; sub_n = 0; sub_failed = 0; last_comment = ""
	}
}

BEGIN {
	state = "console"
	bad = "WARNING:|BUG:|Oops|Call Trace|general protection fault|Kernel panic|UBSAN:|KASAN:|" \
	      "soft lockup|hard LOCKUP|blocked for more than|rcu_sched self-detected stall|rcu: INFO:"
}

{
	sub(/\r+$/, "")
	# SeaBIOS paints the screen with escape sequences; keep them out of TAP.
	gsub(/\033\[[0-9;?]*[A-Za-z]|\033c/, "")
	ring[NR % 40] = $0
}
index($0, "=== AZL-KTAP BEGIN ===") { state = "ktap"; began = 1; next }
index($0, "=== AZL-KTAP END ===") { state = "console"; ended = 1; next }
index($0, "=== AZL-DMESG BEGIN ===") { state = "dmesg"; next }
index($0, "=== AZL-DMESG END ===") { state = "console"; dmesg_done = 1; next }
state == "ktap" { ktap_line($0); next }
# Lines the guest's 99-harness suite injects on purpose carry this tag.
state == "dmesg" && $0 ~ bad && !index($0, "azl-harness:") { nbad++; if (nbad <= 20) badline[nbad] = $0; next }

END {
	if (!began) why = "the guest printed no KTAP"
	else if (!have_plan) why = "the guest printed no plan"
	else if (top_n != top_plan) why = "it reported " top_n " of " top_plan " suites"
	else if (!ended) why = "no end marker after the suites"
	else why = ""
	if (why != "") {
		emit("not ok - guest did not finish (see log)")
		emit("# " why "; last console lines:")
		first = NR > 40 ? NR - 39 : 1
		for (i = first; i <= NR; i++) emit("#   " ring[i % 40])
	}
	if (dmesg_done) {
		name = "kernel log: no oops, BUG, WARNING or lockup"
		if (nbad == 0) emit("ok - " name)
		else {
			emit("not ok - " name)
			for (i = 1; i <= nbad && i <= 20; i++) emit("#   " badline[i])
			if (nbad > 20) emit("#   ... " nbad - 20 " more")
		}
	}
	for (i = 1; i <= nout; i++) print out[i]
}
