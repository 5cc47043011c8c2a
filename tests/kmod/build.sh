#!/usr/bin/env bash
# Build the modules against every installed kernel header set (W=1, zero
# warnings) and check what modinfo and the sources say: license,
# description, version, every parameter described, no dependency on
# hv_storvsc or hv_netvsc, and the good-citizenship rules of the kernel log
# (no WARN_ON/BUG_ON, no "fail"/"error"/"warning" in normal messages).
#
# usage: tests/kmod/build.sh BUILD_DIR     (KDIRS="dir ..." to choose trees)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/tap.sh"

build=${1:?usage: build.sh BUILD_DIR}
version=$(cat "$top/VERSION")
modules=(azl_vmbus azl_storvsc azl_netvsc azl_accel)

if [ -z "${KDIRS:-}" ]; then
	KDIRS=$(ls -d /usr/src/linux-headers-*-cloud-amd64 2>/dev/null | tr '\n' ' ')
fi
read -ra kdirs <<<"$KDIRS"

# One build test plus one modinfo test per module and tree, and two lints.
plan $((${#kdirs[@]} * (1 + ${#modules[@]}) + 2))

# modinfo_ok KO: the fields a packager and an operator rely on.
modinfo_ok() {
	local ko=$1 f parmtypes described
	for f in license description version; do
		[ -n "$(modinfo -F "$f" "$ko")" ] || { echo "no $f"; return 1; }
	done
	[ "$(modinfo -F license "$ko")" = GPL ] || { echo "license is not GPL"; return 1; }
	[ "$(modinfo -F version "$ko")" = "$version" ] || { echo "version is not $version"; return 1; }
	# Every parameter with a type must have a description too (read the
	# raw .modinfo strings: modinfo -F parm shows the type in place of a
	# missing description).
	parmtypes=$(tr '\000' '\n' <"$ko" | sed -n 's/^parmtype=\([^:]*\):.*/\1/p' | sort)
	described=$(tr '\000' '\n' <"$ko" | sed -n 's/^parm=\([^:]*\):..*/\1/p' | sort)
	[ "$parmtypes" = "$described" ] || { echo "undescribed parameters:"; comm -23 <(echo "$parmtypes") <(echo "$described"); return 1; }
	case ",$(modinfo -F depends "$ko")," in
	*,hv_storvsc,* | *,hv_netvsc,*) echo "depends on $(modinfo -F depends "$ko")"; return 1 ;;
	esac
}

for kdir in "${kdirs[@]}"; do
	release=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || basename "$kdir")
	if out=$(WERROR=1 "$top/scripts/kmod-build.sh" "$kdir" "$build/kmod" 2>&1); then
		ok "builds against $release with W=1 and no warnings"
		dir=$(echo "$out" | tail -n 1)
	else
		diag "$out"
		not_ok "builds against $release with W=1 and no warnings"
		dir=
	fi
	for m in "${modules[@]}"; do
		if [ -n "$dir" ] && out=$(modinfo_ok "$dir/$m.ko" 2>&1); then
			ok "$m ($release): modinfo complete, no hv_storvsc/hv_netvsc dependency"
		else
			diag "${out:-not built}"
			not_ok "$m ($release): modinfo complete, no hv_storvsc/hv_netvsc dependency"
		fi
	done
done

# No WARN/BUG on any path: a normal event must never print a stack trace.
if hits=$(grep -nE '\b(WARN|WARN_ON|WARN_ON_ONCE|WARN_ONCE|BUG|BUG_ON)\(' -r "$top/kmod" --include='*.[ch]'); then
	diag "$hits"
	not_ok "no WARN_ON or BUG_ON in module sources"
else
	ok "no WARN_ON or BUG_ON in module sources"
fi

# Messages the kernel log shows must not use words image validation greps for.
if hits=$(grep -nE '(pr_[a-z]+|dev_[a-z]+|sdev_printk|printk)\(' -A2 -r "$top/kmod" --include='*.c' |
	grep -iE '"[^"]*(fail|error|warning)[^"]*"'); then
	diag "$hits"
	not_ok "kernel messages avoid fail, error and warning"
else
	ok "kernel messages avoid fail, error and warning"
fi

[ "${#kdirs[@]}" -gt 0 ] || diag "no kernel headers installed (linux-headers-cloud-amd64, linux-headers-6.12-cloud-amd64): nothing built"
done_testing
