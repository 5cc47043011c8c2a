# Module helpers for the guest suites (POSIX sh).  Source after ktap.sh.
#
# Our modules come from AZL_KO_DIR when it is set (the initramfs puts them in
# /lib/modules/<release>/extra; run-on-host points it at a build directory),
# so the same suite works whether or not they are installed.  Every other
# module goes through modprobe.

# module_loaded NAME: listed in /proc/modules (dashes and underscores are the
# same to the kernel).
module_loaded() {
	_m=$(printf '%s' "$1" | tr - _)
	grep -q "^$_m " /proc/modules
}

# module_builtin NAME: compiled into the kernel, so it can be neither loaded
# nor unloaded; /sys/module/NAME exists without a /proc/modules line.
module_builtin() {
	_m=$(printf '%s' "$1" | tr - _)
	[ -d "/sys/module/$_m" ] && ! module_loaded "$_m"
}

# module_state NAME: Live, Loading or Unloading (empty when not loaded).
module_state() {
	_m=$(printf '%s' "$1" | tr - _)
	awk -v m="$_m" '$1 == m { print $5 }' /proc/modules
}

# ko_path NAME: our built module, if AZL_KO_DIR has it.
ko_path() {
	[ -n "${AZL_KO_DIR:-}" ] && [ -f "$AZL_KO_DIR/$1.ko" ] && echo "$AZL_KO_DIR/$1.ko"
}

# load_module NAME [PARAM=VALUE...]: insmod our build (after modprobe of what
# it depends on, which insmod cannot do), or modprobe anything else.
load_module() {
	_name=$1
	shift
	if _ko=$(ko_path "$_name"); then
		for _dep in $(tr '\000' '\n' <"$_ko" | sed -n 's/^depends=//p' | tr , ' '); do
			module_loaded "$_dep" || module_builtin "$_dep" || modprobe "$_dep" || return 1
		done
		insmod "$_ko" "$@"
	else
		modprobe "$_name" "$@"
	fi
}

unload_module() { rmmod "$1"; }

# dmesg_mark: a position in the kernel log, for dmesg_since.
dmesg_mark() { dmesg | wc -l; }

# dmesg_since MARK: the kernel log lines written after MARK.
dmesg_since() { dmesg | tail -n "+$(($1 + 1))"; }

# dmesg_bad_since MARK MODULE: new kernel log lines that point at a problem
# with MODULE.  A splat (WARNING:, BUG:, Call Trace, Oops) in the window is
# attributed to the operation we ran in it; a line merely saying "warning",
# "fail" or "error" counts only if it names MODULE, because other drivers
# print such words too.  The one notice every unsigned out-of-tree module
# gets on its first load is not a problem.
dmesg_bad_since() {
	_m=$(printf '%s' "$2" | tr - _)
	_md=$(printf '%s' "$2" | tr _ -)
	dmesg_since "$1" |
		grep -v 'module verification failed: signature and/or required key missing' |
		awk -v m="$_m" -v md="$_md" '
			/WARNING:|BUG:|Call Trace|Oops|general protection fault|UBSAN:|KASAN:/ { print; next }
			{
				l = tolower($0)
				# "bug:" as a word: every scsi_debug message has "scsi_debug:".
				if (l ~ /warning|call trace|(^|[^a-z0-9_])bug:|fail|error/ &&
				    (index(l, tolower(m)) || index(l, tolower(md))))
					print
			}'
}

# load_unload_cycles MODULE N [PARAM=VALUE...]: load and unload MODULE N
# times.  Each cycle: the load succeeds and /proc/modules shows it Live, the
# unload succeeds and /proc/modules no longer lists it, and the kernel log got
# nothing dmesg_bad_since attributes to it.  Says why as diagnostics and
# returns 1 on the first failed cycle.  MODULE must not be loaded already.
load_unload_cycles() {
	_lm=$1 _ln=$2 _li=1
	shift 2
	if module_loaded "$_lm"; then
		diag "$_lm is loaded already; cannot cycle it"
		return 1
	fi
	while [ "$_li" -le "$_ln" ]; do
		_mark=$(dmesg_mark)
		if ! _out=$(load_module "$_lm" "$@" 2>&1); then
			diag "cycle $_li: loading $_lm failed:" "$_out"
			return 1
		fi
		_st=$(module_state "$_lm")
		if [ "$_st" != Live ]; then
			diag "cycle $_li: $_lm is '${_st:-absent}' in /proc/modules after loading, not Live"
			unload_module "$_lm" >/dev/null 2>&1
			return 1
		fi
		if ! _out=$(unload_module "$_lm" 2>&1); then
			diag "cycle $_li: unloading $_lm failed:" "$_out"
			return 1
		fi
		if module_loaded "$_lm"; then
			diag "cycle $_li: $_lm still in /proc/modules after rmmod"
			return 1
		fi
		_bad=$(dmesg_bad_since "$_mark" "$_lm")
		if [ -n "$_bad" ]; then
			diag "cycle $_li: kernel log:" "$_bad"
			return 1
		fi
		_li=$((_li + 1))
	done
	return 0
}
