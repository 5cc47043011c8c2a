#!/usr/bin/perl
# Find the words Microsoft's image validation (LISA verify_boot_error_fail_warnings)
# rejects in any journal or dmesg line: lowercase "fail", "error", "warning",
# case-sensitive, so "failed" and "errors" count and "Failed" does not.
#
# usage: scan-log-words.pl FILE...
# For every C string literal (adjacent literals joined, PRI* macros kept as
# "%PRI") that holds one of the words, prints one line:
#   FILE:LINE<TAB>KIND<TAB>CALL<TAB>LITERAL
# KIND is "log" when the literal is an argument of a call whose text reaches
# the journal or the kernel log (the list in $log_calls below, and
# fprintf/vfprintf/fputs/dprintf/vdprintf when an argument names stderr),
# else "other" (a message built for later, a table, a stdout text).
# Provisioning's stdout is the journal too (azl-provision.service): in
# provision*.c, cmd_provision.c and platform_check.c (ExecCondition=) a stream
# write naming run->out or stdout, and printf/vprintf/puts, are "log" as well.
# CALL is the innermost call the literal is an argument of ("-" at top level).
# Comments, #include and #pragma lines are skipped; character literals are
# not strings.  Exit 0; the caller decides what a hit means.
use strict;
use warnings;

my $words = qr/fail|error|warning/;
my $log_calls = qr/^(?:log_(?:error|warning|notice|info|debug|msg)|v?syslog
	|sd_journal_\w+|sd_notifyf?|say|perror|v?warnx?|v?errx?|printk\w*|pr_\w+
	|(?:dev|netdev|netif)_(?:emerg|alert|crit|err|warn|notice|info|dbg)\w*
	|WARN\w*|NL_SET_ERR_MSG\w*|GENL_SET_ERR_MSG\w*)$/x;
my $stream_calls = qr/^(?:v?fprintf|fputs|v?dprintf)$/;
my $stdout_calls = qr/^(?:v?printf|puts)$/;
# The files whose stdout a unit sends to the journal, and the streams that are it.
my $unit_stdout_files = qr{(?:^|/)(?:provision\w*|cmd_provision|platform_check)\.c$};
my $unit_streams = qr/\b(?:stderr|stdout|run\s*->\s*out)\b/;

for my $file (@ARGV) {
	open(my $fh, '<', $file) or die "$file: $!\n";
	local $/;
	my $src = <$fh>;
	close $fh;
	scan($file, $src);
}

sub scan {
	my ($file, $s) = @_;
	my $logged = $file =~ $unit_stdout_files ? $unit_streams : qr/\bstderr\b/;
	my $n = length $s;
	my $line = 1;
	my @stack;		# [call name, start offset of its arguments]
	my $last_ident = '';
	my $bol = 1;		# only blanks since the last newline
	my $i = 0;
	while ($i < $n) {
		my $c = substr($s, $i, 1);
		if ($c eq "\n") { $line++; $bol = 1; $i++; next; }
		if ($bol && $c eq '#') {
			# A preprocessor line: skip #include/#pragma wholly.
			if (substr($s, $i) =~ /^#\s*(include|pragma)\b[^\n]*/) {
				$i += length $&;
				next;
			}
		}
		$bol = 0 unless $c =~ /[ \t]/;
		if (substr($s, $i, 2) eq '/*') {
			my $end = index($s, '*/', $i + 2);
			$end = $n - 2 if $end < 0;
			$line += () = substr($s, $i, $end + 2 - $i) =~ /\n/g;
			$i = $end + 2;
			next;
		}
		if (substr($s, $i, 2) eq '//') {
			my $end = index($s, "\n", $i);
			$i = $end < 0 ? $n : $end;
			next;
		}
		if ($c eq "'") {
			$i++;
			while ($i < $n && substr($s, $i, 1) ne "'") {
				$i++ if substr($s, $i, 1) eq '\\';
				$i++;
			}
			$i++;
			next;
		}
		if ($c eq '"') {
			my $start_line = $line;
			my $text = '';
			# Adjacent literals (and PRIx64-style macros between them) are one string.
			while (1) {
				$i++;
				while ($i < $n && substr($s, $i, 1) ne '"') {
					if (substr($s, $i, 1) eq '\\') {
						$text .= substr($s, $i, 2);
						$i += 2;
						next;
					}
					$line++ if substr($s, $i, 1) eq "\n";
					$text .= substr($s, $i, 1);
					$i++;
				}
				$i++;
				my $rest = substr($s, $i, 400);
				if ($rest =~ /^(\s*(?:PRI\w+\s*)?)"/) {
					my $gap = $1;
					$line += () = $gap =~ /\n/g;
					$text .= "%PRI" if $gap =~ /PRI/;
					$i += length $gap;
					next;
				}
				last;
			}
			if ($text =~ $words) {
				my ($call, $kind) = ('-', 'other');
				if (@stack) {
					my ($name, $from) = @{$stack[-1]};
					$call = $name eq '' ? '-' : $name;
					if ($name =~ $log_calls) {
						$kind = 'log';
					} elsif ($name =~ $stdout_calls && $file =~ $unit_stdout_files) {
						$kind = 'log';
					} elsif ($name =~ $stream_calls) {
						my $args = substr($s, $from, $i - $from);
						$kind = 'log' if $args =~ $logged;
						# fputs names its stream after the string.
						$kind = 'log' if $name eq 'fputs' &&
							substr($s, $i, 60) =~ /^\s*,\s*$logged/;
					}
				}
				print "$file:$start_line\t$kind\t$call\t$text\n";
			}
			$last_ident = '';
			next;
		}
		if ($c =~ /[A-Za-z_]/) {
			substr($s, $i) =~ /^\w+/;
			$last_ident = $&;
			$i += length $&;
			next;
		}
		if ($c eq '(') {
			push @stack, [$last_ident, $i + 1];
		} elsif ($c eq ')') {
			pop @stack;
		} elsif ($c eq ';' || $c eq '{' || $c eq '}') {
			@stack = ();	# resynchronise after any unbalanced macro
		}
		$last_ident = '' unless $c =~ /\s/;
		$i++;
	}
}
