#!/usr/bin/env bash
# irqbalance_ban() and irqbalance_pid() against a real irqbalance (Debian's
# 1.9.2 here): the daemon runs in private mount, network and PID namespaces.
# There /sys, /proc/irq and /proc/interrupts are bind mounts of a copy of the
# d64ds-v5-mlx5 fixture, and /run is a fresh tmpfs.  So irqbalance balances
# the fixture's IRQs and writes only the copy, never the host's /proc/irq.
# It dies with the namespace's init, this script's second half.  An
# administrator's --banirq=24 must survive our bans.  We read the ban list
# back through a client of our own (irqbalance_tool banned), not through the
# code under test.
#
# usage: tests/affinity/irqbalance.sh BUILD_DIR   (root; SKIP otherwise)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
build=${1:?usage: irqbalance.sh BUILD_DIR}
tool=$build/tests/irqbalance_tool
fixtures=${AZL_FIXTURES:-$build/fixtures}
ntests=18

skip_all() {
	plan $ntests
	for i in $(seq $ntests); do skip "irqbalance coexistence $i" "$1"; done
	exit 0
}

if [ "${1:-}" != --inside ] && [ "${2:-}" != --inside ]; then
	irqb=$("$here/../../scripts/irqbalance-cache.sh" 2>/dev/null | tail -1)
	[ "$(id -u)" = 0 ] || skip_all "needs root (namespaces, irqbalance's root-only socket)"
	[ -n "$irqb" ] && [ -x "$irqb" ] || skip_all "no irqbalance binary (scripts/irqbalance-cache.sh could not fetch one)"
	[ -x "$tool" ] || skip_all "no $tool (make $tool)"
	[ -d "$fixtures/d64ds-v5-mlx5" ] || skip_all "no fixtures in $fixtures (make fixtures)"
	unshare -m -n -p -f --kill-child --mount-proc true 2>/dev/null ||
		skip_all "cannot create mount, network and PID namespaces here"
	work=$(mktemp -d)
	# The namespace and its mounts are gone when unshare returns.
	trap 'rm -rf "$work"' EXIT
	cp -a "$fixtures/d64ds-v5-mlx5" "$work/root"
	cp -a "$fixtures/d64ds-v5-mlx5/proc/irq" "$work/irq.orig"
	IRQB_BIN="$irqb" IRQB_WORK="$work" IRQB_TOOL="$tool" unshare -m -n -p -f --kill-child --mount-proc \
		--propagation private "$0" "$build" --inside
	exit $?
fi

# ---- inside the namespaces: we are PID 1, irqbalance dies with us ----------

plan $ntests
root=$IRQB_WORK/root
log=$IRQB_WORK/irqbalance.log
ibpid=

# wait_for TRIES CMD...: poll every 0.1 s.
wait_for() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# start_irqbalance ARGS...: in the foreground (no daemon()), console log line-buffered.
start_irqbalance() {
	env -u INVOCATION_ID -u IRQBALANCE_BANNED_CPULIST -u IRQBALANCE_BANNED_CPUS \
		stdbuf -oL "$IRQB_BIN" --foreground --debug --interval=1 "$@" >>"$log" 2>&1 &
	ibpid=$!
}

stop_irqbalance() {
	[ -n "$ibpid" ] || return 0
	kill -CONT "$ibpid" 2>/dev/null
	kill "$ibpid" 2>/dev/null
	wait "$ibpid" 2>/dev/null
	ibpid=
}
trap stop_irqbalance EXIT

sock() { echo "/run/irqbalance/irqbalance$ibpid.sock"; }
banned() { "$IRQB_TOOL" banned "$1" | sort -n | tr '\n' ' ' | sed 's/ $//'; }
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "want: $2" "got:  $3"; fi
}
# bans NAME WANT [SOCKET]: the ban list in the "setup" reply.
bans() { is "$1" "$2" "$(banned "${3:-$(sock)}")"; }
ban() { "$IRQB_TOOL" ban "$@" 2>"$IRQB_WORK/err"; }
grepq() { grep -q "$1" "$IRQB_WORK/err" || diag "stderr: $(cat "$IRQB_WORK/err")"; grep -q "$1" "$IRQB_WORK/err"; }

mount --bind "$root/sys" /sys &&
	mount --bind "$root/proc/irq" /proc/irq &&
	mount --bind "$root/proc/interrupts" /proc/interrupts &&
	mount -t tmpfs -o mode=0755 tmpfs /run &&
	mkdir /run/irqbalance
if [ "$(stat -c %d:%i /proc/irq)" = "$(stat -c %d:%i "$root/proc/irq")" ] &&
	[ "$(stat -c %d:%i /sys)" = "$(stat -c %d:%i "$root/sys")" ]; then
	ok "irqbalance's /proc/irq and /sys are the fixture copy, not the host's"
else
	not_ok "irqbalance's /proc/irq and /sys are the fixture copy, not the host's"
	for i in $(seq $((ntests - 1))); do not_ok "not run: the namespace is not isolated"; done
	exit 1
fi

start_irqbalance --banirq=24
wait_for 100 test -S "$(sock)"
is "irqbalance_pid finds it through /proc/<pid>/comm" "$ibpid" "$("$IRQB_TOOL" pid)"
# It balances the fixture: it rewrites some smp_affinity in the copy.
if wait_for 100 bash -c "! diff -rq '$IRQB_WORK/irq.orig' '$root/proc/irq'"; then
	ok "irqbalance balances the fixture's IRQs (it wrote the copy)"
else
	not_ok "irqbalance balances the fixture's IRQs (it wrote the copy)"
	diag "$(tail -n 20 "$log")"
fi

t0=$(date +%s%N)
out=$(ban 25 26 27)
t1=$(date +%s%N)
is "ban 25 26 27: told" "told" "$out"
diag "irqbalance_ban took $(((t1 - t0) / 1000)) us (tool start included)"
bans "the list holds ours and the administrator's --banirq=24" "24 25 26 27"
ban 28 >/dev/null
bans "a second ban adds to the list" "24 25 26 27 28"

# With --debug irqbalance logs "IRQ n was BANNED." for each IRQ of every list it gets.
n0=$(grep -c 'IRQ 25 was BANNED' "$log")
out=$(ban 25 27)
n1=$(grep -c 'IRQ 25 was BANNED' "$log")
is "IRQs banned already: told, and no command sent (no rebuilt list)" "told 2 2" "$out $n0 $n1"

ban 0 >/dev/null
bans "IRQ 0 survives irqbalance 1.9.2's parser (it must come first)" "0 24 25 26 27 28"

# More IRQs than irqbalance's 500-byte command buffer holds (they exist).
mkdir "$root"/proc/irq/{1000..1119}
if ! ban $(seq 1000 1119) >/dev/null && grepq 'reads at most 500 bytes'; then
	ok "a list irqbalance would cut is refused, with the reason"
else
	not_ok "a list irqbalance would cut is refused, with the reason"
fi
bans "and irqbalance's list is unchanged" "0 24 25 26 27 28"

# A stopped irqbalance is not asked: a "setup" reply to a client that gave
# up would kill it (SIGPIPE).
kill -STOP "$ibpid"
wait_for 50 grep -q '^State:.*stopped' "/proc/$ibpid/status"
if ! timeout 20 "$IRQB_TOOL" ban 29 >/dev/null 2>"$IRQB_WORK/err" && grepq 'is stopped'; then
	ok "a stopped irqbalance gives a clear error at once"
else
	not_ok "a stopped irqbalance gives a clear error at once"
fi
kill -CONT "$ibpid"
bans "it lives on and took nothing meanwhile" "0 24 25 26 27 28"

if ! setpriv --reuid=65534 --regid=65534 --clear-groups "$IRQB_TOOL" ban 30 >/dev/null 2>"$IRQB_WORK/err" &&
	grepq 'root only'; then
	ok "a caller other than root gets a clear error"
else
	not_ok "a caller other than root gets a clear error"
fi

stop_irqbalance
is "no irqbalance running: irqbalance_ban says so (0)" "none 3" "$(ban 25) $?"

# Bans of IRQs that no longer exist are dropped when the list would not fit.
stale=$(for i in $(seq 90000 90099); do printf ' --banirq=%s' "$i"; done)
# shellcheck disable=SC2086
start_irqbalance --banirq=24 $stale
wait_for 100 test -S "$(sock)"
is "stale bans are dropped to make room, existing ones kept" "told|24 25" \
	"$(ban 25)|$(banned "$(sock)")"

# Without /run/irqbalance, irqbalance binds the all-zero abstract address.
stop_irqbalance
umount /run
mount -t tmpfs -o mode=0755 tmpfs /run
start_irqbalance --banirq=24
wait_for 100 "$IRQB_TOOL" raw @ setup
is "without /run/irqbalance: told through the abstract socket" "told" "$(ban 25 26)"
bans "and the abstract socket's list holds ours and --banirq=24" "24 25 26" @

# An irqbalance that never answers: an error after the timeout, never a hang
# (timeout 20 is the guard, not a check).
stop_irqbalance
mkdir -p /run/irqbalance
cp "$IRQB_TOOL" "$IRQB_WORK/irqbalance"
"$IRQB_WORK/irqbalance" listen /run/irqbalance >"$IRQB_WORK/fake" &
fake=$!
wait_for 50 test -s "$IRQB_WORK/fake"
timeout 20 "$IRQB_TOOL" ban 25 >/dev/null 2>"$IRQB_WORK/err"
rc=$?
kill "$fake"
wait "$fake" 2>/dev/null
if [ "$rc" = 1 ] && grepq 'no answer to "setup"'; then
	ok "an irqbalance that never answers gives an error, not a hang"
else
	not_ok "an irqbalance that never answers gives an error, not a hang"
	diag "exit status $rc"
fi
done_testing
