#!/usr/bin/env bash
# The installed layout and the packaging files (packaging/README.md):
# `make install` into a scratch DESTDIR with PREFIX=/usr (every file, its
# type and mode, the repository's text unchanged) and PREFIX=/usr/local (our
# paths rewritten in units and rules, nobody else's), `make install-kmod`,
# nothing written into the source tree, dkms.conf against the top Kbuild
# and built the way DKMS builds it, the RPM spec's %files against what
# `make install` puts down, and the man pages: lint, every command and
# option of `--help`, every configuration key of config.c.
#
# usage: tests/packaging/install.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/../tap.sh"
build=${1:?usage: install.sh BUILD_DIR}
case $build in /*) ;; *) build=$top/$build ;; esac
agent=${AZL_AGENT:-$build/azl-agent}
case $agent in /*) ;; *) agent=$top/$agent ;; esac
version=$(cat "$top/VERSION")
spec=$top/packaging/azl-guest.spec
dkmsconf=$top/packaging/dkms.conf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# is NAME WANT GOT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "want: $2" "got:  $3"; fi
}
# empty NAME TEXT: ok when TEXT is empty, else shows it.
empty() {
	if [ -z "$2" ]; then ok "$1"; else not_ok "$1"; diag "$2"; fi
}
# A make of our own, outside any parent make's jobserver, with the build's
# sanitizer setting (anything it links must match the archive's objects).
san=0
nm "$build/libazl-agent.a" 2>/dev/null | grep __asan_ >/dev/null && san=1 # not -q: nm would die of SIGPIPE (pipefail)
mk() { (cd "$top" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s SANITIZE=$san BUILD="$build" "$@"); }

# The layout with PREFIX=/usr: type (f file, l link), mode or link target, path.
layout=(
	"f 755 usr/sbin/azl-agent"
	"f 755 usr/libexec/azl-agent/azl-agent-provision"
	"l /usr/sbin/azl-agent usr/libexec/azl-agent/hv_kvp_daemon"
	"l /usr/sbin/azl-agent usr/libexec/azl-agent/azl-irqbalance-policy"
	"f 755 usr/lib/udev/azl-udev"
	"f 644 usr/lib/udev/rules.d/10-azl-net-vf.rules"
	"f 644 usr/lib/udev/rules.d/70-azl-hyperv.rules"
	"f 644 usr/lib/udev/rules.d/80-azl-disk.rules"
	"f 644 usr/lib/systemd/network/01-azl-unmanaged-vf.network"
	"f 644 usr/share/azl-guest/chrony/azl-ptp-hyperv.conf"
	"f 644 usr/share/azl-guest/chrony/azl-chrony-ptp.tmpfiles"
	"f 644 usr/lib/dracut/dracut.conf.d/50-azl-guest.conf"
	"f 644 usr/lib/systemd/system/azl-agent.service"
	"f 644 usr/lib/systemd/system/azl-provision.service"
	"f 644 usr/lib/systemd/system/azl-chrony-ptp.service"
	"f 644 usr/lib/systemd/system/irqbalance.service.d/50-azl-agent.conf"
	"f 644 usr/lib/tmpfiles.d/azl-guest.conf"
	"f 644 usr/lib/systemd/system-preset/50-azl-guest.preset"
	"f 644 usr/share/man/man8/azl-agent.8"
	"f 644 usr/share/man/man5/azl-agent.conf.5"
)
# install-kmod's files besides the module sources.
kmod_layout=(
	"f 644 usr/lib/udev/rules.d/70-azl-kmod.rules"
	"f 644 usr/lib/modprobe.d/azl-guest.conf"
	"f 644 usr/src/azl-guest-$version/dkms.conf"
	"f 644 usr/src/azl-guest-$version/Kbuild"
	"f 644 usr/src/azl-guest-$version/VERSION"
)
# Text files installed from the repository: source, installed path.
texts=(
	"udev/10-azl-net-vf.rules usr/lib/udev/rules.d/10-azl-net-vf.rules"
	"udev/70-azl-hyperv.rules usr/lib/udev/rules.d/70-azl-hyperv.rules"
	"udev/80-azl-disk.rules usr/lib/udev/rules.d/80-azl-disk.rules"
	"systemd/azl-agent.service usr/lib/systemd/system/azl-agent.service"
	"systemd/azl-provision.service usr/lib/systemd/system/azl-provision.service"
	"systemd/azl-chrony-ptp.service usr/lib/systemd/system/azl-chrony-ptp.service"
	"systemd/azl-chrony-ptp.tmpfiles usr/share/azl-guest/chrony/azl-chrony-ptp.tmpfiles"
	"systemd/irqbalance.service.d/50-azl-agent.conf usr/lib/systemd/system/irqbalance.service.d/50-azl-agent.conf"
	"udev/chrony/azl-ptp-hyperv.conf usr/share/azl-guest/chrony/azl-ptp-hyperv.conf"
	"man/azl-agent.8 usr/share/man/man8/azl-agent.8"
	"man/azl-agent.conf.5 usr/share/man/man5/azl-agent.conf.5"
)
modules=$(sed -n 's|^obj-m += kmod/\([a-z0-9_]*\)/$|\1|p' "$top/Kbuild")
nmod=$(echo "$modules" | wc -w)

plan $((${#layout[@]} + ${#kmod_layout[@]} + 44))

# check_entry ROOT "TYPE MODE-OR-TARGET PATH"
check_entry() {
	local root=$1 type want path got
	read -r type want path <<<"$2"
	if [ "$type" = l ]; then
		got=$( [ -L "$root/$path" ] && echo "l $(readlink "$root/$path")" || echo "not a link")
	else
		got=$( [ -f "$root/$path" ] && [ ! -L "$root/$path" ] &&
			echo "f $(stat -c %a "$root/$path")" || echo "missing or not a regular file")
	fi
	is "$path: $type $want" "$type $want" "$got"
}

status_before=$(cd "$top" && git status --porcelain --ignored 2>/dev/null | grep -v " build/$")

# ---- make install, PREFIX=/usr --------------------------------------------
d=$tmp/usr-root
if mk install DESTDIR="$d" PREFIX=/usr >"$tmp/install.log" 2>&1; then
	ok "make install DESTDIR=… PREFIX=/usr"
else
	not_ok "make install DESTDIR=… PREFIX=/usr"
	diag "$(tail -n 20 "$tmp/install.log")"
fi
for e in "${layout[@]}"; do check_entry "$d" "$e"; done
want=$(for e in "${layout[@]}"; do echo "${e##* }"; done | sort)
got=$(cd "$d" 2>/dev/null && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
is "nothing else installed (no azl-kvp.service, no temporary files)" "$want" "$got"
diffs=""
for t in "${texts[@]}"; do
	read -r src dst <<<"$t"
	cmp -s "$top/$src" "$d/$dst" || diffs+="$dst differs from $src"$'\n'
done
empty "with PREFIX=/usr the units, rules, man pages and chrony files are the repository's, byte for byte" "$diffs"
links=""
for n in hv_kvp_daemon azl-irqbalance-policy; do
	t=$(readlink "$d/usr/libexec/azl-agent/$n")
	[ -f "$d$t" ] && [ -x "$d$t" ] && cmp -s "$d$t" "$build/azl-agent" || links+="$n -> $t: not the installed azl-agent"$'\n'
done
empty "the links lead to the installed program, the build's azl-agent" "$links"
is "azl-agent.service runs hv_kvp_daemon --agent from LIBEXECDIR" \
	"ExecStart=/usr/libexec/azl-agent/hv_kvp_daemon --no-daemon --agent" \
	"$(grep -m1 '^ExecStart=' "$d/usr/lib/systemd/system/azl-agent.service")"

# ---- make install, PREFIX=/usr/local ----------------------------------------
# In a copy of the build: LIBEXECDIR is compiled into cli.c, so this
# install rebuilds it, and the suites after this one keep their binaries.
l=$tmp/local-root
lb=$tmp/local-build
mkdir -p "$lb" && cp -a "$build"/agent "$build"/libazl-agent.a "$build"/azl-agent "$build"/azl-agent-provision \
	"$build"/azl-udev "$lb/" 2>/dev/null
cp -a "$build"/libexecdir*.stamp "$lb/" 2>/dev/null
(cd "$top" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s SANITIZE=$san BUILD="$lb" install DESTDIR="$l" PREFIX=/usr/local) \
	>"$tmp/install-local.log" 2>&1 || diag "$(tail -n 20 "$tmp/install-local.log")"
is "PREFIX=/usr/local: program, helper, units and chrony template under /usr/local, nothing in /etc" \
	"yes yes yes yes no" \
	"$([ -x "$l/usr/local/sbin/azl-agent" ] && echo yes) $([ -x "$l/usr/local/lib/udev/azl-udev" ] && echo yes) \
$([ -f "$l/usr/local/lib/systemd/system/azl-agent.service" ] && echo yes) \
$([ -f "$l/usr/local/share/azl-guest/chrony/azl-ptp-hyperv.conf" ] && echo yes) $([ -e "$l/etc" ] && echo yes || echo no)"
empty "PREFIX=/usr/local: no file names /usr/sbin/azl-agent, /usr/libexec/azl-agent, /usr/lib/udev/azl-udev or /usr/share/azl-guest" \
	"$(grep -rlIE '/usr/(sbin/azl-agent|libexec/azl-agent|lib/udev/azl-udev|share/azl-guest)' "$l" 2>/dev/null | sed "s|^$l||")"
is "PREFIX=/usr/local: the chrony unit applies the fragment under /usr/local, which copies the template there" \
	"ExecStart=systemd-tmpfiles --create /usr/local/share/azl-guest/chrony/azl-chrony-ptp.tmpfiles
C /etc/chrony.d/azl-ptp-hyperv.conf - - - - /usr/local/share/azl-guest/chrony/azl-ptp-hyperv.conf" \
	"$(grep -h '^ExecStart=' "$l/usr/local/lib/systemd/system/azl-chrony-ptp.service"
	   grep -h '^C ' "$l/usr/local/share/azl-guest/chrony/azl-chrony-ptp.tmpfiles")"
is "PREFIX=/usr/local: azl-agent looks for azl-agent-provision in /usr/local/libexec/azl-agent" "1 0" \
	"$(grep -ac '^/usr/local/libexec/azl-agent$' <(strings "$l/usr/local/sbin/azl-agent" 2>/dev/null)) \
$(grep -ac '^/usr/libexec/azl-agent$' <(strings "$l/usr/local/sbin/azl-agent" 2>/dev/null))"
is "PREFIX=/usr/local: the units' commands follow" \
	"ExecStart=/usr/local/libexec/azl-agent/hv_kvp_daemon --no-daemon --agent
ExecCondition=/usr/local/sbin/azl-agent provision --check-platform
ExecStart=/usr/local/sbin/azl-agent provision" \
	"$(grep -h -m1 '^ExecStart=/' "$l/usr/local/lib/systemd/system/azl-agent.service"
	   grep -h '^ExecCondition=\|^ExecStart=/' "$l/usr/local/lib/systemd/system/azl-provision.service")"
is "PREFIX=/usr/local: irqbalance is still /usr/sbin/irqbalance, its policy program ours" \
	"ExecStart=/usr/sbin/irqbalance --foreground --policyscript=/usr/local/libexec/azl-agent/azl-irqbalance-policy \$IRQBALANCE_ARGS" \
	"$(grep '^ExecStart=/' "$l/usr/local/lib/systemd/system/irqbalance.service.d/50-azl-agent.conf")"
# udev runs a relative helper name from its own directory only.
bad=$(grep -hoE '(PROGRAM|IMPORT\{program\}|RUN\+?)="[^"]*azl-udev' "$l"/usr/local/lib/udev/rules.d/*.rules 2>/dev/null |
	grep -v '"/usr/local/lib/udev/azl-udev' || true)
calls=$(grep -hoE '(PROGRAM|IMPORT\{program\}|RUN\+?)="[^"]*azl-udev' "$l"/usr/local/lib/udev/rules.d/*.rules 2>/dev/null | wc -l)
if [ "$calls" -gt 0 ] && [ -z "$bad" ]; then
	ok "PREFIX=/usr/local: the rules run /usr/local/lib/udev/azl-udev ($calls calls)"
else
	not_ok "PREFIX=/usr/local: the rules run /usr/local/lib/udev/azl-udev"
	diag "calls: $calls" "$bad"
fi
is "PREFIX=/usr/local: the links lead to /usr/local/sbin/azl-agent" \
	"/usr/local/sbin/azl-agent /usr/local/sbin/azl-agent" \
	"$(readlink "$l/usr/local/libexec/azl-agent/hv_kvp_daemon") $(readlink "$l/usr/local/libexec/azl-agent/azl-irqbalance-policy")"

# CHRONYDIR (Debian's chrony reads /etc/chrony/conf.d): the fragment follows it.
dd=$tmp/debian-root
mk install DESTDIR="$dd" PREFIX=/usr CHRONYDIR=/etc/chrony/conf.d >"$tmp/install-debian.log" 2>&1 ||
	diag "$(tail -n 20 "$tmp/install-debian.log")"
is "CHRONYDIR=/etc/chrony/conf.d: the fragment creates and fills that directory, nothing else in /etc" \
	"d /etc/chrony/conf.d 0755 root root -
C /etc/chrony/conf.d/azl-ptp-hyperv.conf - - - - /usr/share/azl-guest/chrony/azl-ptp-hyperv.conf
no" \
	"$(grep -h '^[dC] ' "$dd/usr/share/azl-guest/chrony/azl-chrony-ptp.tmpfiles")
$([ -e "$dd/etc" ] && echo yes || echo no)"

# ---- make install-kmod ------------------------------------------------------
k=$tmp/kmod-root
if mk install-kmod DESTDIR="$k" PREFIX=/usr >"$tmp/install-kmod.log" 2>&1; then
	ok "make install-kmod DESTDIR=… PREFIX=/usr"
else
	not_ok "make install-kmod DESTDIR=… PREFIX=/usr"
	diag "$(tail -n 20 "$tmp/install-kmod.log")"
fi
for e in "${kmod_layout[@]}"; do check_entry "$k" "$e"; done
src=$k/usr/src/azl-guest-$version
want=$(cd "$top" && git ls-files kmod Kbuild VERSION 2>/dev/null | grep -E '(\.[ch]|Kbuild|VERSION)$' | sort)
got=$(cd "$src" 2>/dev/null && find . -type f ! -name dkms.conf | sed 's|^\./||' | sort)
is "the module sources are the tracked ones, no build output" "$want" "$got"
is "the installed dkms.conf carries VERSION" "PACKAGE_VERSION=\"$version\"" \
	"$(grep '^PACKAGE_VERSION=' "$src/dkms.conf" 2>/dev/null)"

# ---- dkms.conf --------------------------------------------------------------
# What DKMS does with it: source it as bash with its variables set.
dkms_eval() {
	bash -c 'kernel_source_dir=$1 dkms_tree=$2 kernelver=$3; . "$4" || exit 1
		echo "name=$PACKAGE_NAME version=$PACKAGE_VERSION autoinstall=$AUTOINSTALL"
		for i in "${!BUILT_MODULE_NAME[@]}"; do
			echo "module ${BUILT_MODULE_NAME[$i]} ${BUILT_MODULE_LOCATION[$i]} ${DEST_MODULE_LOCATION[$i]}"
		done
		echo "make ${MAKE[0]}"' dkms "$@"
}
out=$(dkms_eval /KSRC /DKMS 6.12.0 "$dkmsconf")
is "dkms.conf: name azl-guest, the VERSION file's version, AUTOINSTALL" \
	"name=azl-guest version=$version autoinstall=yes" "$(echo "$out" | grep '^name=')"
want=$(for m in $modules; do echo "module $m kmod/$m/ /extra"; done | sort)
is "dkms.conf: one entry per module of Kbuild ($nmod), built in kmod/<name>/, installed in /extra" \
	"$want" "$(echo "$out" | grep '^module ' | sort)"
is "dkms.conf: MAKE[0] builds the copy DKMS makes, against the kernel's tree" \
	"make make -C /KSRC M=/DKMS/azl-guest/$version/build modules" "$(echo "$out" | grep '^make ')"
kdir=$(ls -d /usr/src/linux-headers-6.12*-cloud-amd64 /lib/modules/"$(uname -r)"/build 2>/dev/null | head -n 1)
# A real `dkms add` + `dkms build`, into a scratch DKMS tree (never the
# system's /var/lib/dkms), from the installed sources.
if ! command -v dkms >/dev/null; then
	skip "dkms build into a scratch tree" "dkms is not installed here (the next test builds as DKMS would)"
elif [ -z "$kdir" ] || [ ! -f "$kdir/Makefile" ] || [ ! -f "$src/dkms.conf" ]; then
	skip "dkms build into a scratch tree" "no kernel headers or no installed sources"
else
	rdt=$tmp/dkms-tree
	mkdir -p "$rdt"
	kver=$(basename "$kdir" | sed 's/^linux-headers-//')
	[ "$kver" = build ] && kver=$(uname -r)
	if (env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dkms add -m azl-guest -v "$version" \
			--sourcetree "$k/usr/src" --dkmstree "$rdt" &&
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dkms build -m azl-guest -v "$version" -k "$kver" \
			--sourcetree "$k/usr/src" --dkmstree "$rdt" --kernelsourcedir "$kdir") \
		>"$tmp/dkms-real.log" 2>&1; then
		got=$(find "$rdt/azl-guest/$version" -name '*.ko*' -path '*/module/*' -printf '%f\n' | sed 's/\.ko.*//' | sort)
		is "dkms build into a scratch tree for $kver: $nmod modules" "$(echo "$modules" | tr ' ' '\n' | sort)" "$got"
	else
		not_ok "dkms build into a scratch tree for $kver"
		diag "$(tail -n 20 "$tmp/dkms-real.log")"
	fi
fi
# DKMS's build: a copy of /usr/src/<name>-<version> as <dkms_tree>/<name>/<version>/build,
# MAKE[0] run in it, then each BUILT_MODULE_LOCATION/BUILT_MODULE_NAME.ko taken.
if [ -z "$kdir" ] || [ ! -f "$kdir/Makefile" ]; then
	skip "the installed sources build with dkms.conf's MAKE[0]" "no kernel headers here"
elif [ ! -f "$src/dkms.conf" ]; then
	not_ok "the installed sources build with dkms.conf's MAKE[0]"
	diag "install-kmod did not install them"
else
	dt=$tmp/dkms
	mkdir -p "$dt/azl-guest/$version" && cp -a "$src" "$dt/azl-guest/$version/build"
	cmd=$(dkms_eval "$kdir" "$dt" "$(basename "$kdir")" "$src/dkms.conf" | sed -n 's/^make //p')
	if (cd "$dt/azl-guest/$version/build" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		bash -c "$cmd -j$(nproc)") >"$tmp/dkms.log" 2>&1; then
		missing=$(dkms_eval "$kdir" "$dt" x "$src/dkms.conf" | awk '/^module /{print $3 $2 ".ko"}' |
			while read -r f; do [ -f "$dt/azl-guest/$version/build/$f" ] || echo "$f"; done)
		empty "the installed sources build with dkms.conf's MAKE[0] against $(basename "$kdir"): $nmod modules" "$missing"
	else
		not_ok "the installed sources build with dkms.conf's MAKE[0]"
		diag "$(tail -n 20 "$tmp/dkms.log")"
	fi
fi

# ---- the RPM spec -----------------------------------------------------------
is "spec: Version is the VERSION file's" "$version" "$(sed -n 's/^Version:[[:space:]]*//p' "$spec")"
# Expand the spec's path macros: Fedora's values, then its own %global lines.
expand_table() {
	cat <<-EOF
	_prefix /usr
	_sbindir /usr/sbin
	_bindir /usr/bin
	_libexecdir /usr/libexec
	_sysconfdir /etc
	_unitdir /usr/lib/systemd/system
	_presetdir /usr/lib/systemd/system-preset
	_tmpfilesdir /usr/lib/tmpfiles.d
	_udevrulesdir /usr/lib/udev/rules.d
	_modprobedir /usr/lib/modprobe.d
	_mandir /usr/share/man
	_datadir /usr/share
	_usrsrc /usr/src
	version $version
	name azl-guest
	EOF
	sed -n 's/^%global \(azl_[a-z]*dir\) \(.*\)$/\1 \2/p' "$spec"
}
expand() {
	local line=$1 prev="" name value
	while [ "$line" != "$prev" ]; do
		prev=$line
		while read -r name value; do
			line=${line//"%{$name}"/$value}
		done < <(expand_table)
	done
	printf '%s\n' "$line"
}
# %files entries as "SECTION KIND PATH" (KIND: dir for %dir, else path).
files_entries() {
	awk '/^%files/ { sec = ($2 == "-n") ? $3 : ($2 == "" ? "main" : "azl-guest-" $2); infiles = 1; next }
	     /^%(package|description|prep|build|install|check|post|preun|postun|changelog)/ { infiles = 0 }
	     infiles && /^\// || infiles && /^%(dir |config|\{)/ { print sec, $0 }' "$spec" |
	while read -r sec rest; do
		kind=path
		case $rest in "%dir "*) kind=dir rest=${rest#%dir } ;; esac
		rest=${rest#%config(noreplace) }
		case $rest in *kmod_moddir*) continue ;; esac # built modules: not from make install
		echo "$sec $kind $(expand "$rest")"
	done
}
notinst=$(cd "$top" && for f in udev/*.rules udev/*.network udev/*/*.conf systemd/*.service systemd/*.preset \
	systemd/*.service.d/*.conf; do
	[ -e "$f" ] || continue
	found=""
	while read -r g; do cmp -s "$f" "$g" && found=1; done < <(find "$d" "$k" -name "$(basename "$f")")
	[ -n "$found" ] || echo "$f"
done)
empty "every rule, unit, preset and configuration file of udev/ and systemd/ is installed" "$notinst"
entries=$(files_entries)
empty "spec: every %files path expands (no unknown macro)" "$(echo "$entries" | grep '%' || true)"
both=$tmp/both
mkdir -p "$both" && cp -a "$d/." "$both/" 2>/dev/null && cp -a "$k/." "$both/" 2>/dev/null
installed=$(cd "$both" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort)
owners=$(echo "$installed" | while read -r f; do
	n=0
	while read -r sec kind pat; do
		[ "$kind" = path ] || continue
		# shellcheck disable=SC2254
		case $f in $pat | "$pat"/*) n=$((n + 1)) ;; esac
	done <<<"$entries"
	[ "$n" -eq 1 ] || echo "$f: in $n %files entries"
done)
empty "spec: every file make install and install-kmod put down is in exactly one %files entry" "$owners"
unused=$(echo "$entries" | while read -r sec kind pat; do
	if [ "$kind" = dir ]; then
		[ -d "$both$pat" ] || echo "%dir $pat: no such directory"
		continue
	fi
	n=0
	while read -r f; do
		# shellcheck disable=SC2254
		case $f in $pat | "$pat"/*) n=$((n + 1)) ;; esac
	done <<<"$installed"
	[ "$n" -gt 0 ] || echo "$pat ($sec): nothing installed there"
done)
empty "spec: every %files entry names something make install puts down" "$unused"
pk=$(sed -n 's/^%package -n \(.*\)/\1/p; s/^%package \([^-].*\)/azl-guest-\1/p' "$spec" | sort)
fs=$(sed -n 's/^%files -n \(.*\)/\1/p; s/^%files \([^-].*\)/azl-guest-\1/p' "$spec" | sort)
is "spec: each subpackage has its %files" "$pk" "$fs"
fedora=$(cd "$top" && scripts/deps.sh --list 2>/dev/null | awk '$1 == "build" { print $3 }' | sort -u)
missing=$(for p in $fedora; do grep -q "^BuildRequires:[[:space:]]*$p\$" "$spec" || echo "$p"; done)
empty "spec: BuildRequires every build package by its Fedora name (scripts/deps.sh --list)" "$missing"
is "spec: takes over the distribution's KVP daemon (Provides and Obsoletes hypervkvpd)" "2" \
	"$(grep -cE '^(Provides|Obsoletes):[[:space:]]*hypervkvpd [<=]' "$spec")"
is "spec: scriptlets enable, stop and restart the three units through the systemd macros" \
	"%systemd_post azl-agent.service azl-provision.service azl-chrony-ptp.service
%systemd_preun azl-agent.service azl-provision.service azl-chrony-ptp.service
%systemd_postun_with_restart azl-agent.service
%systemd_postun azl-provision.service azl-chrony-ptp.service" \
	"$(grep -E '^%systemd_(post|preun|postun)' "$spec")"
# hypervkvpd's %preun disables and stops our unit through the alias:
# a trigger of -systemd on its removal enables (preset) and starts it again.
trig=$(awk '/^%triggerpostun/ { s = ($0 ~ /^%triggerpostun -n azl-guest-systemd -- hypervkvpd$/); next }
	/^%[a-z]/ && !/^%\{/ { s = 0 } s && !/^#/' "$spec")
if grep -q 'systemctl --no-reload preset azl-agent.service' <<<"$trig" &&
	grep -q '\[ -d /run/systemd/system \]' <<<"$trig" &&
	grep -q 'systemctl --no-block start azl-agent.service' <<<"$trig" &&
	[ "$(grep -c 'start azl-agent' <<<"$trig")" -eq 1 ] &&
	awk '/run\/systemd\/system/ { g = 1 } /start azl-agent/ { exit !g }' <<<"$trig"; then
	ok "spec: %triggerpostun -n azl-guest-systemd -- hypervkvpd re-applies the preset and starts azl-agent.service when booted with systemd"
else
	not_ok "spec: %triggerpostun -n azl-guest-systemd -- hypervkvpd re-enables and starts azl-agent.service"
	diag "trigger body: ${trig:-none}"
fi
is "spec: recommends the kmod package by name, not the virtual azl-guest-kmod dkms also provides" \
	"kmod-azl-guest" "$(sed -n 's/^Recommends:[[:space:]]*\(.*kmod.*\)$/\1/p' "$spec")"
is "spec: the .ko files are installed 0755 (brp-strip and find-debuginfo take executables only)" \
	"0755" "$(sed -n 's|^install -m \([0-7]*\) build/rpm/kmod/.*\.ko .*|\1|p' "$spec")"
is "spec: the chrony copy in /etc/chrony.d is -systemd's %ghost, never a packaged file" \
	"azl-guest-systemd %ghost %config(noreplace) %attr(0644,root,root) %{azl_chronydir}/azl-ptp-hyperv.conf" \
	"$(awk '/^%files/ { sec = ($2 == "-n") ? $3 : ($2 == "" ? "azl-guest" : "azl-guest-" $2); next }
		/azl_chronydir\}/ && !/^%global/ { print sec, $0 }' "$spec")"
scriptlets=$(awk '/^%(post|preun|postun|posttrans|pretrans|trigger)/ { s = 1; next } /^%/ && !/^%(systemd|tmpfiles|\{)/ { s = 0 } s' "$spec")
empty "spec: no scriptlet rebuilds the initramfs" "$(echo "$scriptlets" | grep -v '^#' | grep -E 'dracut|mkinitrd' || true)"
checksec=$(awk '/^%check/ { s = 1; next } /^%[a-z]/ && !/^%make_build/ { s = 0 } s && !/^#/' "$spec")
if echo "$checksec" | grep -q 'tests/unit/test_' && ! echo "$checksec" | grep -qE 'run\.sh|qemu|check-run|make check'; then
	ok "spec: %check runs the unit tests only"
else
	not_ok "spec: %check runs the unit tests only"
	diag "$checksec"
fi
if command -v rpmspec >/dev/null; then
	if rpmspec -P "$spec" >"$tmp/spec.out" 2>&1; then ok "rpmspec -P parses the spec"
	else not_ok "rpmspec -P parses the spec"; diag "$(tail -n 20 "$tmp/spec.out")"; fi
else
	skip "rpmspec -P parses the spec" "rpm is not installed (Debian package rpm)"
fi

# ---- man pages ----------------------------------------------------------------
for m in man/azl-agent.8 man/azl-agent.conf.5; do
	if ! command -v groff >/dev/null; then
		skip "$m: groff -man -ww finds nothing" "groff is not installed"
		continue
	fi
	empty "$m: groff -man -ww finds nothing" "$(groff -man -ww -z "$top/$m" 2>&1)"
done
# Every command of `azl-agent --help` and every long option any --help shows.
helps=$("$agent" --help 2>&1
	for c in status storvsc netvsc accel kmod kvp daemon provision deprovision affinity; do
		"$agent" "$c" --help 2>&1
	done
	"$agent" accel topo --help 2>&1
	(cd "$tmp" && ln -sf "$agent" hv_kvp_daemon && ./hv_kvp_daemon --help 2>&1))
cmds=$("$agent" --help | sed -n '/^commands:/,/^options:/p' | sed -n 's/^  \([a-z]\+\) .*/\1/p' | sort -u)
opts=$(echo "$helps" | grep -oE -- '--[a-z][a-z-]*' | sort -u)
man8=$(sed 's/\\-/-/g' "$top/man/azl-agent.8")
undoc=$(for c in $cmds; do echo "$man8" | grep -qE "^\.SS $c( |$)" || echo "command $c"; done
	for o in $opts; do echo "$man8" | grep -qE -- "$o([^a-z-]|$)" || echo "option $o"; done)
if [ "$(echo "$cmds" | wc -w)" -ge 10 ] && [ "$(echo "$opts" | wc -w)" -ge 20 ]; then
	empty "azl-agent.8 documents every command and option of --help ($(echo "$cmds" | wc -w) commands, $(echo "$opts" | wc -w) options)" "$undoc"
else
	not_ok "azl-agent.8 documents every command and option of --help"
	diag "could not read the help: $(echo "$cmds" | wc -w) commands, $(echo "$opts" | wc -w) options"
fi
# The keys config.c accepts: on_entry() maps a section to parse_<x>_key(),
# whose strcmp(key, "...") lines are its keys.
code_keys=$(awk '
	/strcmp\(section, "/ { match($0, /"[a-z_]+"/); sec = substr($0, RSTART + 1, RLENGTH - 2); next }
	sec != "" && /ret = parse_[a-z_]+_key\(/ { match($0, /parse_[a-z_]+_key/); fn[substr($0, RSTART, RLENGTH)] = sec; sec = "" }
	/^static int parse_[a-z_]+_key\(/ { match($0, /parse_[a-z_]+_key/); cur = substr($0, RSTART, RLENGTH) }
	/^}/ { cur = "" }
	cur != "" && /strcmp\(key, "/ { match($0, /"[a-z_]+"/); keys[cur] = keys[cur] " " substr($0, RSTART + 1, RLENGTH - 2) }
	END { for (f in fn) { n = split(keys[f], k, " "); for (i = 1; i <= n; i++) print fn[f] "." k[i] } }
	' "$top/agent/src/config.c" | sort)
man_keys=$(awk '/^\.SH \[[a-z_]+\]/ { sec = substr($2, 2, length($2) - 2); next } /^\.SH/ { sec = "" }
	sec != "" && prev == ".TP" && /^\\fB[a-z_]+\\fR = / { k = $0; sub(/^\\fB/, "", k); sub(/\\fR.*/, "", k); print sec "." k }
	{ prev = $0 }' "$top/man/azl-agent.conf.5" | sort)
if [ "$(echo "$code_keys" | wc -l)" -ge 30 ]; then
	is "azl-agent.conf.5 documents exactly the keys config.c accepts ($(echo "$code_keys" | wc -l))" "$code_keys" "$man_keys"
else
	not_ok "azl-agent.conf.5 documents exactly the keys config.c accepts"
	diag "read only $(echo "$code_keys" | wc -l) keys from config.c: the parser changed shape"
fi
# The defaults: the man page against the ini blocks of agent/README.md.
readme_defaults=$(awk '/^```ini/ { s = 1; next } /^```/ { s = 0 } s && /^\[/ { sec = $1; gsub(/[][]/, "", sec); next }
	s && / = / { sub(/[[:space:]]*#.*/, ""); split($0, kv, / = /); print sec "." kv[1] " " kv[2] }' "$top/agent/README.md" | sort)
man_defaults=$(awk '/^\.SH \[[a-z_]+\]/ { sec = substr($2, 2, length($2) - 2); next } /^\.SH/ { sec = "" }
	sec != "" && prev == ".TP" && /^\\fB[a-z_]+\\fR = / { k = $0; sub(/^\\fB/, "", k); sub(/\\fR.*/, "", k)
		v = $0; sub(/^.*\\fR = \\fB/, "", v); sub(/\\fR.*/, "", v); print sec "." k " " v }
	{ prev = $0 }' "$top/man/azl-agent.conf.5" | sort)
is "azl-agent.conf.5 gives each key the default agent/README.md gives it" "$readme_defaults" "$man_defaults"

status_after=$(cd "$top" && git status --porcelain --ignored 2>/dev/null | grep -v " build/$")
is "nothing written into the source tree (git status unchanged)" "$status_before" "$status_after"
done_testing
