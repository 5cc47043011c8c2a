#!/usr/bin/env bash
# The provisioning actions (agent/src/provision_actions*.c) against a
# scratch root, with the real useradd, usermod, chpasswd and visudo
# (`--root`), through actions_tool.  The scratch /etc (passwd, group,
# shadow, gshadow, login.defs) is generated here, never copied from the
# machine.  Also: the password never reaches a process's argv (strace of
# every execve), nor any file but shadow; re-runs change nothing.
#
# usage: tests/provision/actions.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: actions.sh BUILD_DIR}" && pwd)
tool="$build/tests/actions_tool"
. "$here/../tap.sh"
. "$here/lib.sh"

N=30
plan $N
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null || ! command -v visudo >/dev/null; then
	for i in $(seq $N); do skip "action $i" "needs root, useradd and visudo (passwd, sudo)"; done
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
R="$tmp/root"
PW='Pr0v!s10n-t3st pass'

mkroot() { prov_mkroot "$R"; }

# check NAME CMD...: ok when CMD succeeds, else not_ok with the last output.
out=
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; diag "$out"; fi
}
act() { out=$("$tool" --root "$R" "$@" 2>&1); }
mode_owner() { stat -c '%a %u %g' "$1"; }

mkroot

# --- the user ---
act user azure 'sudo, adm ,wheel'
check "useradd creates the user" grep -q '^result=0' <<<"$out"
check "missing group skipped with a warning" grep -q 'group wheel does not exist' <<<"$out"
check "exactly one passwd line, home created" \
	test "$(grep -c '^azure:' "$R/etc/passwd")" = 1 -a -d "$R/home/azure"
uid=$(awk -F: '$1=="azure"{print $3}' "$R/etc/passwd")
gid=$(awk -F: '$1=="azure"{print $4}' "$R/etc/passwd")
check "in the existing groups" grep -q '^sudo:x:27:azure$' "$R/etc/group"
cp "$R/etc/passwd" "$tmp/passwd.1"
cp "$R/etc/group" "$tmp/group.1"
act user azure 'sudo,adm,wheel'
check "second run: success, passwd and group unchanged" \
	eval 'grep -q "^result=0" <<<"$out" && cmp -s "$R/etc/passwd" "$tmp/passwd.1" && cmp -s "$R/etc/group" "$tmp/group.1"'
act user azure 'sudo,adm,video'
check "an existing user gets a missing group (usermod -aG)" \
	eval 'grep -q "^result=0" <<<"$out" && grep -q "^video:x:44:azure$" "$R/etc/group" && test "$(grep -c "^azure:" "$R/etc/passwd")" = 1'
act user daemon sudo
check "a system account is refused" eval '! grep -q "^result=0" <<<"$out" && grep -q "system account" <<<"$out"'
act user 'Bad;name' sudo
check "an invalid user name is refused before any tool runs" \
	eval '! grep -q "^result=0" <<<"$out" && ! grep -q "Bad" "$R/etc/passwd"'

# --- sudoers ---
act sudoers azure 1
f="$R/etc/sudoers.d/azl-agent-azure"
check "sudoers drop-in installed" grep -q '^result=0' <<<"$out"
check "sudoers: 0440 root, NOPASSWD line" \
	eval 'test "$(mode_owner "$f")" = "440 0 0" && grep -qx "azure ALL=(ALL) NOPASSWD:ALL" "$f"'
check "sudoers passes visudo -cf" eval 'visudo -cf "$f" >/dev/null'
ino=$(stat -c %i "$f")
act sudoers azure 1
check "sudoers second run rewrites nothing" test "$(stat -c %i "$f")" = "$ino"
act sudoers azure 0
check "sudoers without NOPASSWD" eval 'grep -qx "azure ALL=(ALL) ALL" "$f" && ! ls -a "$R/etc/sudoers.d" | grep -q "\.azl-"'

# --- password ---
if command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null; then
	# LeakSanitizer cannot run under ptrace; the re-run below checks leaks
	printf '%s\n' "$PW" | ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -qq -s 4096 -e trace=execve -o "$tmp/strace" \
		"$tool" --root "$R" password azure >"$tmp/pw.out" 2>&1
	out=$(cat "$tmp/pw.out")
	check "password set" grep -q '^result=0' <<<"$out"
	check "chpasswd ran (strace saw its execve)" grep -q 'chpasswd' "$tmp/strace"
	check "the password is in no execve argv or environment" eval '! grep -qF "$PW" "$tmp/strace"'
else
	printf '%s\n' "$PW" | "$tool" --root "$R" password azure >"$tmp/pw.out" 2>&1
	out=$(cat "$tmp/pw.out")
	check "password set" grep -q '^result=0' <<<"$out"
	skip "chpasswd ran (strace saw its execve)" "strace is missing or ptrace is not permitted"
	skip "the password is in no execve argv or environment" "strace is missing or ptrace is not permitted"
fi
hash=$(awk -F: '$1=="azure"{print $2}' "$R/etc/shadow")
check "shadow holds a yescrypt or SHA-512 hash" eval 'case "$hash" in "\$y\$"*|"\$6\$"*) true;; *) false;; esac'
check "the password is in no file of the root, nor in the tool output" \
	eval '! grep -rqF "$PW" "$R" && ! grep -qF "$PW" "$tmp/pw.out"'
cp "$R/etc/shadow" "$tmp/shadow.1"
printf '%s\n' "$PW" | "$tool" --root "$R" password azure >/dev/null 2>&1
check "the same password again leaves shadow alone" cmp -s "$R/etc/shadow" "$tmp/shadow.1"
act password azure <<<"$(printf 'x%.0s' $(seq 73))"
check "a password of 73 characters is refused" eval '! grep -q "^result=0" <<<"$out" && cmp -s "$R/etc/shadow" "$tmp/shadow.1"'

# --- authorized_keys ---
mkdir -p "$R/home/azure/.ssh"
printf 'ssh-ed25519 AAAAUSERKEY me@laptop\n' >"$R/home/azure/.ssh/authorized_keys"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEY1 azure\nssh-rsa AAAAB3NzaC1yc2EAAAAKEY2\n' >"$tmp/keys"
act keys azure "$tmp/keys"
act keys azure "$tmp/keys"
ak="$R/home/azure/.ssh/authorized_keys"
check "keys: .ssh 0700 and authorized_keys 0600, owned by the user" \
	eval 'test "$(mode_owner "$R/home/azure/.ssh")" = "700 $uid $gid" && test "$(mode_owner "$ak")" = "600 $uid $gid"'
check "keys: ours exactly once after two runs, the user's own kept" \
	eval 'test "$(grep -c KEY1 "$ak")" = 1 && test "$(grep -c KEY2 "$ak")" = 1 && grep -q USERKEY "$ak"'
act user eve users
rm -rf "$R/home/eve/.ssh"
ln -s ../../etc "$R/home/eve/.ssh"
act keys eve "$tmp/keys"
check "keys: a .ssh symlink is not followed" \
	eval '! grep -q "^result=0" <<<"$out" && test ! -e "$R/etc/authorized_keys"'

# --- sshd, CustomData, host name ---
act sshd 0
s="$R/etc/ssh/sshd_config.d/50-azl-agent.conf"
check "sshd drop-in: PasswordAuthentication no, 0644" \
	eval 'grep -qx "PasswordAuthentication no" "$s" && test "$(stat -c %a "$s")" = 644'
act customdata "$(printf '#!/bin/sh\necho hi\n' | base64 -w 20)"
c="$R/var/lib/azl-agent/CustomData"
check "CustomData decoded, 0600 in a 0700 directory" \
	eval 'test "$(cat "$c")" = "$(printf "#!/bin/sh\necho hi")" && test "$(stat -c %a "$c")" = 600 && test "$(stat -c %a "$R/var/lib/azl-agent")" = 700'
cp "$c" "$tmp/cd.1"
act customdata 'bm90IGJhc2U2NA*'
check "invalid base64 is an error and the saved CustomData stays" \
	eval '! grep -q "^result=0" <<<"$out" && cmp -s "$c" "$tmp/cd.1"'
act hostname vm-test-1
check "host name written to the root's /etc/hostname" test "$(cat "$R/etc/hostname")" = vm-test-1
act hostname 'bad_name'
check "an invalid host name is refused" eval '! grep -q "^result=0" <<<"$out" && test "$(cat "$R/etc/hostname")" = vm-test-1'

# --- resource disk on the SKU fixtures (plans only: never the live root) ---
fx="$build/fixtures"
if [ -d "$fx/d2s-v5" ] && [ -d "$fx/not-hyperv" ]; then
	out=$("$tool" --root "$fx/d2s-v5" resource-disk 2>&1)
	check "resource disk on d2s-v5: sdb (scsi0 LUN 1), probe planned" \
		eval 'grep -qx "device=sdb" <<<"$out" && grep -qx "plan=probe" <<<"$out"'
	out=$("$tool" --root "$fx/not-hyperv" resource-disk 2>&1)
	check "no resource disk on not-hyperv" eval 'grep -qx "plan=none" <<<"$out" && grep -q "^result=0" <<<"$out"'
else
	skip "resource disk on d2s-v5" "fixtures not generated (make fixtures)"
	skip "no resource disk on not-hyperv" "fixtures not generated (make fixtures)"
fi
done_testing
