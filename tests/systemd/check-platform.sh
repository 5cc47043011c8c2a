#!/usr/bin/env bash
# `azl-agent provision --check-platform`, the ExecCondition= of
# azl-provision.service, on the generated fixtures and copies of them:
# exit 0 and one line on Azure's DMI chassis asset tag, exit 1 and one line
# saying why otherwise (another tag, an empty one, a missing file, bytes
# a terminal would act on, no tag file), exit 255 on anything else (a bad
# command line, a tag that cannot be read, a root too long): ExecCondition=
# skips the unit on 1 and fails it on 255.  azl-agent answers it itself:
# with no azl-agent-provision anywhere the answer is the same.  Nothing
# written, no configuration read, no network needed.
#
# usage: tests/systemd/check-platform.sh BUILD_DIR     (AZL_AGENT, AZL_FIXTURES)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/tap.sh
. "$here/../tap.sh"
build=${1:?usage: check-platform.sh BUILD_DIR}
agent=${AZL_AGENT:-$build/azl-agent}
fixtures=${AZL_FIXTURES:-$build/fixtures}
tag=7783-7084-3265-9085-8269-3286-77
dmi=sys/devices/virtual/dmi/id

tmp=$(mktemp -d /tmp/check-platform.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
plan 17

if [ ! -x "$agent" ] || [ ! -d "$fixtures/not-hyperv" ] || [ ! -d "$fixtures/d2s-v5" ]; then
	for _ in $(seq 17); do skip "check-platform" "$agent or $fixtures not built"; done
	exit 0
fi

# check NAME ROOT WANT_RC WANT_LINE: the exit status and the whole output.
check() {
	local name=$1 root=$2 rc out
	out=$("$agent" --root "$root" provision --check-platform 2>&1)
	rc=$?
	if [ "$rc" -eq "$3" ] && [ "$out" = "$4" ]; then
		ok "$name (exit $3)"
	else
		not_ok "$name (exit $3)"
		diag "exit $rc" "want: $4" "got:  $out"
	fi
}

# copy FIXTURE NAME: a private copy to change.
copy() {
	cp -a "$fixtures/$1" "$tmp/$2"
	REPLY=$tmp/$2
}

# 1: every Hyper-V fixture is an Azure VM.
azure_ok="" azure_bad=""
for f in "$fixtures"/*/; do
	f=${f%/}
	[ "$(basename "$f")" = not-hyperv ] && continue
	if out=$("$agent" --root "$f" provision --check-platform 2>&1) &&
		[ "$out" = "Azure (chassis asset tag $tag)" ]; then
		azure_ok+="$(basename "$f") "
	else
		azure_bad+="$(basename "$f"): $out; "
	fi
done
if [ -n "$azure_ok" ] && [ -z "$azure_bad" ]; then
	ok "the Azure fixtures pass (exit 0, one line): $azure_ok"
else
	not_ok "the Azure fixtures pass"
	diag "${azure_bad:-no Azure fixture}"
fi

# 2: the KVM guest (an empty tag, as QEMU leaves it).
check "not-hyperv: not an Azure VM, one line" "$fixtures/not-hyperv" 1 \
	"not an Azure VM (chassis asset tag ''): nothing to provision"

# 3: Hyper-V, but not Azure (an on-premises host sets no Azure tag).
copy d2s-v5 onprem; r=$REPLY
echo None >"$r/$dmi/chassis_asset_tag"
check "Hyper-V off Azure (tag None): skipped" "$r" 1 \
	"not an Azure VM (chassis asset tag 'None'): nothing to provision"

# 4: almost the tag: the comparison is exact.
echo "${tag}7" >"$r/$dmi/chassis_asset_tag"
check "a longer tag is not Azure's" "$r" 1 \
	"not an Azure VM (chassis asset tag '${tag}7'): nothing to provision"

# 5: firmware bytes that would drive a terminal are shown escaped, on one line.
printf '%s\033[2J\rX\n' "$tag" >"$r/$dmi/chassis_asset_tag"
check "control bytes in the tag are escaped, still one line" "$r" 1 \
	"not an Azure VM (chassis asset tag '$tag\\x1b[2J\\x0dX'): nothing to provision"

# 5b: bytes >= 0x80 too (C1 controls on a Latin-1 serial console; UTF-8 kept as bytes).
printf 'A\x9b2J\xc3\xa9\xffZ\n' >"$r/$dmi/chassis_asset_tag"
check "bytes >= 0x80 in the tag are escaped" "$r" 1 \
	"not an Azure VM (chassis asset tag 'A\\x9b2J\\xc3\\xa9\\xffZ'): nothing to provision"

# 6: no DMI at all (some ARM machines, containers): exit 1 naming the file.
copy d2s-v5 nodmi; r=$REPLY
rm -f "$r/$dmi/chassis_asset_tag"
check "no chassis_asset_tag: skipped, naming the file" "$r" 1 \
	"cannot read $r/sys/class/dmi/id/chassis_asset_tag: No such file or directory: nothing to provision"

# 7: a huge or binary file is refused, not a crash.
head -c 100000 /dev/zero | tr '\0' A >"$r/$dmi/chassis_asset_tag"
out=$("$agent" --root "$r" provision --check-platform 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -q 'nothing to provision$' <<<"$out"; then
	ok "a 100 kB tag: exit 1, one line"
else
	not_ok "a 100 kB tag: exit 1, one line"
	diag "exit $rc" "$(head -c 300 <<<"$out")"
fi

# 8: the configuration is not read: a broken one changes nothing.
copy d2s-v5 badconf; r=$REPLY
mkdir -p "$r/etc"
printf '[provision]\nno_such_key = 1\n' >"$r/etc/azl-agent.conf"
check "a configuration that does not parse is not read" "$r" 0 "Azure (chassis asset tag $tag)"

# 9: nothing written under the root: the same files, sizes and times after.
snap() { (cd "$1" && find . -printf '%p %s %T@ %m\n' | sort); }
before=$(snap "$r")
"$agent" --root "$r" provision --check-platform >/dev/null 2>&1
"$agent" --root "$fixtures/not-hyperv" provision --check-platform >/dev/null 2>&1
after=$(snap "$r")
if [ "$before" = "$after" ]; then
	ok "nothing written under the root"
else
	not_ok "nothing written under the root"
	diag "$(diff <(echo "$before") <(echo "$after") | head -10)"
fi

# 10: no network needed: the same answer with no network at all.
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
	out=$(unshare -n "$agent" --root "$fixtures/d2s-v5" provision --check-platform 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ "$out" = "Azure (chassis asset tag $tag)" ]; then
		ok "the same answer without a network (unshare -n)"
	else
		not_ok "the same answer without a network (unshare -n)"
		diag "exit $rc: $out"
	fi
else
	skip "the same answer without a network" "needs root and unshare -n"
fi

# 11-13: the command line: a usage error is 255, which fails the unit.
for args in "--check-platform --dry-run" "--check-platform extra" "--dry-run --check-platform"; do
	read -ra words <<<"$args"
	"$agent" --root "$fixtures/d2s-v5" provision "${words[@]}" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 255 ] && grep -q -- '--check-platform' "$tmp/out"; then
		ok "provision $args: usage, exit 255"
	else
		not_ok "provision $args: usage, exit 255"
		diag "exit $rc" "$(head -3 "$tmp/out")"
	fi
done

# 14: a tag that exists but cannot be read (here a directory): 255, not a skip.
copy d2s-v5 unreadable; r=$REPLY
rm -f "$r/$dmi/chassis_asset_tag"
mkdir "$r/$dmi/chassis_asset_tag"
out=$("$agent" --root "$r" provision --check-platform 2>&1)
rc=$?
if [ "$rc" -eq 255 ] && [ "$out" = "cannot read $r/sys/class/dmi/id/chassis_asset_tag: Is a directory" ]; then
	ok "an unreadable tag (EISDIR): exit 255, one line"
else
	not_ok "an unreadable tag (EISDIR): exit 255, one line"
	diag "exit $rc: $out"
fi

# 15: a root prefix too long: 255.
long=/$(head -c 5000 /dev/zero | tr '\0' a)
"$agent" --root "$long" provision --check-platform >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 255 ] && grep -q 'root prefix too long' "$tmp/out"; then
	ok "a root prefix too long: exit 255"
else
	not_ok "a root prefix too long: exit 255"
	diag "exit $rc" "$(head -c 300 "$tmp/out")"
fi

# 16: azl-agent answers itself: a copy with no azl-agent-provision beside it
# (and, on this machine, none installed) still says Azure, exit 0, and
# writes no KVP report; ExecStart= is what fails then.
mkdir -p "$tmp/alone"
cp "$agent" "$tmp/alone/azl-agent"
out=$("$tmp/alone/azl-agent" --root "$fixtures/d2s-v5" provision --check-platform 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && [ "$out" = "Azure (chassis asset tag $tag)" ]; then
	ok "no provisioner anywhere: the check still answers (exit 0)"
else
	not_ok "no provisioner anywhere: the check still answers (exit 0)"
	diag "exit $rc: $out"
fi
done_testing
