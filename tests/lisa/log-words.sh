#!/usr/bin/env bash
# LISA verify_boot_error_fail_warnings, statically (tests/lisa/README.md):
# no text we send to the journal or the kernel log may hold a lowercase
# "fail", "error" or "warning" (case-sensitive substrings), unless LISA's own
# ignore list (lisa-ignore.txt) forgives the line.
#
# What is scanned, and why (the streams that can reach the journal or dmesg):
# - agent/src/*.[ch]: the daemon's stderr is the journal (azl-agent.service),
#   and so are azl-agent provision's stdout and stderr (azl-provision.service,
#   StandardOutput=journal is systemd's default) and the azl-udev helper's
#   stderr (udevd logs it).  Every literal is looked at: a literal inside a
#   logging call (log_*, say, syslog, sd_journal_*, perror, fprintf/fputs to
#   stderr) must be clean; any other literal (an error message built for later,
#   a table entry) must be clean too unless log-words.allow says why it never
#   reaches a log (the interactive commands' stdout, JSON keys, the KVP report).
# - kmod/**/*.[ch]: every literal, with no exceptions: pr_*/dev_*/netdev_*
#   go to dmesg, and extack messages (NL_SET_ERR_MSG*) reach the agent, which
#   logs them (genl_client_describe()).
# - systemd/ units: Description= (systemd logs "Started <Description>").
# Texts the C library or the host supply at run time (strerror, curl,
# host-chosen keys) are not in any source; log.c rewrites the libc strerror
# texts (see tests/unit/test_log.c) and the README lists the rest.
#
# usage: tests/lisa/log-words.sh [BUILD_DIR]   (the build dir is not needed)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/tap.sh
. "$here/../tap.sh"

scan="$here/scan-log-words.pl"
allow="$here/log-words.allow"
ignore="$here/lisa-ignore.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# judge < scanner output: print the hits that fail (LISA's ignore list
# forgives any hit; the allowlist forgives "other" hits only), and into
# $tmp/used the allowlist lines that forgave something.
judge() {
	perl -e '
		my ($ignore, $allow, $used) = @ARGV;
		open(my $ig, "<", $ignore) or die "$ignore: $!";
		my @ign = map { chomp; qr/$_/ } grep { !/^#/ && /\S/ } <$ig>;
		open(my $al, "<", $allow) or die "$allow: $!";
		my @all = map { chomp; [split /\t/] } grep { !/^#/ && /\S/ } <$al>;
		my %hit;
		while (my $l = <STDIN>) {
			chomp $l;
			my ($where, $kind, $call, $text) = split /\t/, $l, 4;
			next if grep { $text =~ $_ } @ign;
			(my $path = $where) =~ s/:\d+$//;
			if ($kind eq "other") {
				my @m = grep { $_->[0] eq $path && $_->[1] eq $call &&
					       index($text, $_->[2]) >= 0 } @all;
				if (@m) { $hit{join("\t", @{$_}[0..2])} = 1 for @m; next; }
			}
			print "$l\n";
		}
		open(my $u, ">>", $used) or die;
		print $u "$_\n" for keys %hit;
	' "$ignore" "$allow" "$tmp/used"
}

plan 9

# 1-2. The scanner itself, on a planted file: it must flag every bad string
# and none of the good ones.
cat >"$tmp/planted.c" <<'C'
#include "warnings.h"
/* a comment that says failed, error and warning is not logged */
// neither is this error
static void f(int ret)
{
	log_warning("kvp: open failed: %s", strerror(-ret));
	log_info("kvp: "
		 "two literals, one " "error");
	fprintf(stderr, "%s: warning: x\n", "y");
	fputs("a failure\n", stderr);
	pr_err("bad thing, error %d\n", ret);
	NL_SET_ERR_MSG(extack, "warnings are here");
	snprintf(buf, len, "http error %" PRIu64 " here", v);
	log_error("Failed: capital letters are fine; so is Error and Warning");
	log_notice("mount option nofail is on LISA's ignore list");
	fprintf(stdout, "count %d errors\n", 2);
	char c = '"';
	log_info("after a char literal: still scanned, failing");
}
C
"$scan" "$tmp/planted.c" >"$tmp/planted.out"
want=$(cat <<'W'
6 log log_warning
7 log log_info
9 log fprintf
10 log fputs
11 log pr_err
12 log NL_SET_ERR_MSG
13 other snprintf
15 log log_notice
16 other fprintf
18 log log_info
W
)
got=$(awk -F'\t' '{ sub(/.*:/, "", $1); print $1, $2, $3 }' "$tmp/planted.out")
if [ "$got" = "$want" ]; then
	ok "scanner: flags the 10 planted strings (log calls, stderr streams, pr_err, extack, builders)"
else
	not_ok "scanner: flags the 10 planted strings"
	diag "want:" "$want" "got:" "$got"
fi
judged=$(judge <"$tmp/planted.out" | awk -F'\t' '{ sub(/.*:/, "", $1); print $1 }' | tr '\n' ' ')
if [ "$judged" = "6 7 9 10 11 12 13 16 18 " ]; then
	ok "scanner: comments, #include, capitalised words pass; LISA's ignore list forgives 'nofail'"
else
	not_ok "scanner: comments, #include, capitalised words pass; LISA's ignore list forgives 'nofail'"
	diag "failing lines: $judged (want 6 7 9 10 11 12 13 16 18)"
fi

# 3. Provisioning's stdout is the journal: the same writes are "log" in a
# provision*.c file (so the allowlist cannot excuse them) and "other" elsewhere.
cat >"$tmp/writes.c" <<'C'
static void g(struct run *run, FILE *out)
{
	fprintf(run->out, "step failed\n");
	printf("an error\n");
	puts("a warning");
	fprintf(stdout, "%s failed\n", "x");
	fputs("a failure\n", run -> out);
	fprintf(out, "usage: exit 1 failed\n");
}
C
mkdir -p "$tmp/p"
cp "$tmp/writes.c" "$tmp/p/provision_planted.c"
cp "$tmp/writes.c" "$tmp/p/cmd_provision.c"
cp "$tmp/writes.c" "$tmp/p/status_planted.c"
got=$("$scan" "$tmp/p/provision_planted.c" "$tmp/p/cmd_provision.c" "$tmp/p/status_planted.c" |
	awk -F'\t' '{ sub(/.*\//, "", $1); sub(/_planted/, "", $1); print $1, $2, $3 }' | tr '\n' ',')
want="provision.c:3 log fprintf,provision.c:4 log printf,provision.c:5 log puts,provision.c:6 log fprintf,provision.c:7 log fputs,provision.c:8 other fprintf,"
want+="${want//provision.c/cmd_provision.c}"
want+="status.c:3 other fprintf,status.c:4 other printf,status.c:5 other puts,status.c:6 other fprintf,status.c:7 other fputs,status.c:8 other fprintf,"
if [ "$got" = "$want" ]; then
	ok "scanner: run->out/stdout/printf/puts writes in provision*.c and cmd_provision.c are log lines (elsewhere: other)"
else
	not_ok "scanner: run->out/stdout/printf/puts writes in provision*.c and cmd_provision.c are log lines"
	diag "want: $want" "got:  $got"
fi

cd "$top" || exit 1
: >"$tmp/used"
# 4-5. The agent: log calls strictly, other literals against the allowlist.
"$scan" agent/src/*.c agent/src/*.h >"$tmp/agent.out"
bad=$(awk -F'\t' '$2 == "log"' "$tmp/agent.out" | judge)
if [ -z "$bad" ]; then
	ok "agent/src: no logging call has a lowercase fail/error/warning"
else
	not_ok "agent/src: no logging call has a lowercase fail/error/warning"
	diag "$bad"
fi
bad=$(awk -F'\t' '$2 != "log"' "$tmp/agent.out" | judge)
if [ -z "$bad" ]; then
	ok "agent/src: every other literal with those words is in log-words.allow, with the reason"
else
	not_ok "agent/src: every other literal with those words is in log-words.allow"
	diag "reword these (or, if they can never reach a log, list them in log-words.allow):" "$bad"
fi

# 6. The kernel modules: every literal, no allowlist.
mapfile -t kfiles < <(find kmod -name '*.[ch]' | sort)
"$scan" "${kfiles[@]}" >"$tmp/kmod.out"
bad=$(sed 's/\tother\t/\tkmod\t/' "$tmp/kmod.out" | judge)
if [ "${#kfiles[@]}" -gt 0 ] && [ -z "$bad" ]; then
	ok "kmod: no literal (printk, dev_*, netdev_*, extack) has a lowercase fail/error/warning (${#kfiles[@]} files)"
else
	not_ok "kmod: no literal has a lowercase fail/error/warning (${#kfiles[@]} files)"
	diag "$bad"
fi

# 7. The allowlist has no stale entry.
stale=$(grep -v '^#' "$allow" | grep . | cut -f1-3 | sort -u |
	comm -23 - <(sort -u "$tmp/used"))
if [ -z "$stale" ]; then
	ok "log-words.allow: every entry still matches a literal"
else
	not_ok "log-words.allow: every entry still matches a literal"
	diag "stale entries (remove them):" "$stale"
fi

# 8. Unit descriptions.
units=$(find systemd udev -type f \( -name '*.service' -o -name '*.socket' -o -name '*.timer' \
	-o -name '*.target' -o -name '*.path' -o -name '*.mount' \) 2>/dev/null | sort)
if [ -z "$units" ]; then
	skip "systemd units: Description= lines" "no unit files found"
else
	# shellcheck disable=SC2086
	bad=$(grep -HnE '^Description=.*(fail|error|warning)' $units)
	if [ -z "$bad" ]; then
		ok "systemd units: no Description= has a lowercase fail/error/warning ($(echo "$units" | wc -l) units)"
	else
		not_ok "systemd units: no Description= has a lowercase fail/error/warning"
		diag "$bad"
	fi
fi

# 9. Negative test of the whole pipeline: a copy of a real agent source with
# one planted log line must fail the agent check.
sed '0,/log_info(/s//log_info("planted: open failed");\n\tlog_info(/' agent/src/kvp_service.c \
	>"$tmp/kvp_service.c"
bad=$("$scan" "$tmp/kvp_service.c" | awk -F'\t' '$2 == "log"' | judge)
if echo "$bad" | grep -q 'planted: open failed'; then
	ok "a planted log_info(\"... failed\") in a copy of kvp_service.c is caught"
else
	not_ok "a planted log_info(\"... failed\") in a copy of kvp_service.c is caught"
	diag "got: $bad"
fi

done_testing
