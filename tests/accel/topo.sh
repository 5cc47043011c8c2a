#!/usr/bin/env bash
# `azl-agent accel topo` on copies of the SKU fixtures: the NCCL topology XML
# and the nccl.conf lines of the ND H200 v5 against golden files, the same
# XML from the variant whose devices report no NUMA node (the SKU table
# places them), exit 1 on VMs without GPUs, exit 3 on malformed trees with
# nothing written, the order of link sources, writes that never leave the
# root through a link and leave nothing behind when refused, and exit 3 when
# standard output cannot be written.
#
# UPDATE_GOLDEN=1 rewrites tests/accel/golden/nd96isr-h200-v5.xml from the
# current output (the nccl.conf golden file is the specification: kept).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
golden="$here/golden"
agent=${AZL_AGENT:?} fixtures=${AZL_FIXTURES:?}
nd=nd96isr-h200-v5
gxml="$golden/$nd.xml" gconf="$golden/$nd.nccl.conf"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plan 41

fresh() { rm -rf "${tmp:?}/$2" && cp -a "$fixtures/$1" "$tmp/$2"; }
# sums DIR: one line per regular file (content hash), per link (target) and
# per directory, sorted: a file, link or directory left behind shows.
sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum &&
		find . -type l -printf 'link %p -> %l\n' | sort &&
		find . -type d -printf 'dir %p\n' | sort)
}
# check NAME COMMAND...: ok when the command succeeds.
check() {
	local name=$1
	shift
	if "$@" >/dev/null; then ok "$name"; else not_ok "$name"; fi
}
topo() { "$agent" --root "$@"; }

# ---- golden -----------------------------------------------------------------

topo "$fixtures/$nd" accel topo >"$tmp/nd.xml" 2>"$tmp/nd.err"
rc=$?
if [ "${UPDATE_GOLDEN:-0}" = 1 ] && [ "$rc" -eq 0 ]; then
	cp "$tmp/nd.xml" "$gxml"
fi
if [ "$rc" -eq 0 ] && cmp -s "$tmp/nd.xml" "$gxml" && [ ! -s "$tmp/nd.err" ]; then
	ok "$nd: the XML on standard output is the golden file, nothing on stderr"
else
	not_ok "$nd: the XML on standard output is the golden file (rc $rc)"
	diag "$(diff "$gxml" "$tmp/nd.xml" | head -10)" "$(head -3 "$tmp/nd.err")"
fi

# The golden file's facts, so that regenerating it can never hide a wrong one.
g=$(cat "$gxml")
check "golden: 0001 pairs with 0101 and 0008 with 0104 under their switches" \
	grep -qzP '(?s)<pci busid="ffff:ff:01.0"[^>]*>\s*<pci busid="0001:00:00.0"[^>]*/>\s*<pci busid="0101:00:00.0"[^>]*/>\s*</pci>\s*<pci busid="ffff:ff:02.0".*<pci busid="ffff:ff:04.0"[^>]*>\s*<pci busid="0008:00:00.0"[^>]*/>\s*<pci busid="0104:00:00.0"' "$gxml"
check "golden: node 0 is CPUs 0-47, node 1 CPUs 48-95 (the fixed ND v5 masks)" \
	grep -qzP '<cpu numaid="0" affinity="00000000,0000ffff,ffffffff" arch="x86_64" vendor="GenuineIntel" familyid="6" modelid="143">(.|\n)*<cpu numaid="1" affinity="ffffffff,ffff0000,00000000"' "$gxml"
n_sw=$(grep -c 'class="0x060400" link_speed="32.0 GT/s PCIe" link_width="16" vendor="0x0000" device="0x0000" subsystem_vendor="0x0000" subsystem_device="0x0000">' <<<"$g")
n_gpu=$(grep -c 'class="0x030200" link_speed="32.0 GT/s PCIe" link_width="16"/>' <<<"$g")
n_hca=$(grep -c 'class="0x020700" link_speed="32.0 GT/s PCIe" link_width="16"/>' <<<"$g")
if [ "$n_sw" -eq 8 ] && [ "$n_gpu" -eq 8 ] && [ "$n_hca" -eq 8 ]; then
	ok "golden: 8 switches, 8 GPUs and 8 HCAs at 32.0 GT/s x16 (max_link, not the idle GPUs' 2.5 GT/s)"
else
	not_ok "golden: 8 switches, GPUs and HCAs at 32.0 GT/s x16 ($n_sw, $n_gpu, $n_hca)"
fi
check "golden: no XML declaration (NCCL's reader stops at '<?xml'), no Ethernet VF, no NVMe" \
	bash -c '[ "$(head -c 20 "$1")" = "<system version=\"1\">" ] && ! grep -qE "0x0200|0x0108" "$1"' _ "$gxml"

if command -v xmllint >/dev/null; then
	check "xmllint --noout: the XML is well-formed" xmllint --noout "$tmp/nd.xml"
else
	skip "xmllint --noout: the XML is well-formed" "xmllint is not installed"
fi

# ---- writing ----------------------------------------------------------------------

fresh "$nd" w
sums "$tmp/w" >"$tmp/w.sum0"
topo "$tmp/w" accel topo --output /opt/microsoft/ndv5/topo.xml --nccl-conf /etc/nccl.conf \
	>"$tmp/w.out" 2>"$tmp/w.err"
rc=$?
sums "$tmp/w" >"$tmp/w.sum1"
check "--output --nccl-conf: exit 0 and says what it wrote" \
	bash -c '[ "$1" -eq 0 ] && grep -q "^wrote /opt/microsoft/ndv5/topo.xml: 8 GPUs, 8 HCAs, 8 pairs on 2 nodes; wrote /etc/nccl.conf$" "$2"' _ "$rc" "$tmp/w.out"
check "--output: the written XML is the golden file" cmp -s "$tmp/w/opt/microsoft/ndv5/topo.xml" "$gxml"
check "--nccl-conf: the written lines are the golden nccl.conf" cmp -s "$tmp/w/etc/nccl.conf" "$gconf"
check "both files are regular, mode 0644" \
	bash -c 'for f; do [ -f "$f" ] && [ ! -L "$f" ] && [ "$(stat -c %a "$f")" = 644 ] || exit 1; done' _ \
	"$tmp/w/opt/microsoft/ndv5/topo.xml" "$tmp/w/etc/nccl.conf"
changed=$(diff "$tmp/w.sum0" "$tmp/w.sum1" | grep '^[<>]' | sed -E 's/^[<>] ([0-9a-f]+|link|dir) +//' | sort -u | tr '\n' ' ')
if [ "$changed" = "./etc ./etc/nccl.conf ./opt ./opt/microsoft ./opt/microsoft/ndv5 ./opt/microsoft/ndv5/topo.xml " ]; then
	ok "nothing but the two files and their directories changed in the tree, no temporary file left"
else
	not_ok "nothing but the two files changed in the tree"
	diag "$changed"
fi
# Azure's layout has topo.xml as a link to ../ndv5-topo.xml: it is replaced, its target kept.
printf 'old\n' >"$tmp/w/opt/microsoft/ndv5-topo.xml"
ln -sf ../ndv5-topo.xml "$tmp/w/opt/microsoft/ndv5/topo.xml"
topo "$tmp/w" accel topo --output /opt/microsoft/ndv5/topo.xml >/dev/null 2>&1
rc=$?
check "a link inside the root is replaced by the file, its target left alone" \
	bash -c '[ "$1" -eq 0 ] && [ ! -L "$2" ] && cmp -s "$2" "$3" && [ "$(cat "$4")" = old ]' _ "$rc" \
	"$tmp/w/opt/microsoft/ndv5/topo.xml" "$gxml" "$tmp/w/opt/microsoft/ndv5-topo.xml"

# Links out of the root: a directory on the way and the file itself.
mkdir "$tmp/outside"
ln -s "$tmp/outside" "$tmp/w/data"
topo "$tmp/w" accel topo --output /data/ndv5/topo.xml >/dev/null 2>"$tmp/l.err"
rc=$?
if [ "$rc" -eq 3 ] && [ -z "$(ls -A "$tmp/outside")" ] && grep -q 'leads out of the root' "$tmp/l.err"; then
	ok "--output through a directory link out of the root: refused (exit 3), nothing created outside"
else
	not_ok "--output through a directory link out of the root: refused (rc $rc)"
	diag "$(cat "$tmp/l.err")" "$(ls -AR "$tmp/outside" | head -5)"
fi
printf 'keep\n' >"$tmp/outside/nccl.conf"
ln -sf "$tmp/outside/nccl.conf" "$tmp/w/etc/nccl.conf"
sums "$tmp/w" >"$tmp/l.sum0"
topo "$tmp/w" accel topo --output /srv/a/b/topo.xml --nccl-conf /etc/nccl.conf >/dev/null 2>"$tmp/l.err"
rc=$?
sums "$tmp/w" >"$tmp/l.sum1"
if [ "$rc" -eq 3 ] && [ "$(cat "$tmp/outside/nccl.conf")" = keep ] && [ ! -e "$tmp/w/srv" ] &&
	cmp -s "$tmp/l.sum0" "$tmp/l.sum1" && grep -q 'a link that leads out of the root' "$tmp/l.err"; then
	ok "--nccl-conf onto a link out of the root: refused, the XML not written, srv/a/b not created"
else
	not_ok "--nccl-conf onto a link out of the root: refused, nothing written or created (rc $rc)"
	diag "$(cat "$tmp/l.err")" "$(diff "$tmp/l.sum0" "$tmp/l.sum1" | head -5)"
fi

# refused NAME MESSAGE-REGEX ARGS...: exit 3 with the message, the tree (every
# file, link and directory) and the directory outside it as they were.
refused() {
	local name=$1 want=$2 rc
	shift 2
	sums "$tmp/w" >"$tmp/r.sum0"
	sums "$tmp/outside" >"$tmp/r.out0"
	topo "$tmp/w" accel topo "$@" >/dev/null 2>"$tmp/r.err"
	rc=$?
	sums "$tmp/w" >"$tmp/r.sum1"
	sums "$tmp/outside" >"$tmp/r.out1"
	if [ "$rc" -eq 3 ] && grep -qE "$want" "$tmp/r.err" && cmp -s "$tmp/r.sum0" "$tmp/r.sum1" &&
		cmp -s "$tmp/r.out0" "$tmp/r.out1"; then
		ok "$name: refused (exit 3), nothing written or created"
	else
		not_ok "$name: refused (exit 3), nothing written or created (rc $rc)"
		diag "$(cat "$tmp/r.err")" "$(diff "$tmp/r.sum0" "$tmp/r.sum1" | head -5)"
	fi
}
rm "$tmp/w/etc/nccl.conf"
refused "a file where --nccl-conf needs a directory (/proc/cpuinfo/x)" \
	'/proc/cpuinfo: Not a directory$' --output /srv/a/b/topo.xml --nccl-conf /proc/cpuinfo/x
# The temporary file's name (".NAME.XXXXXX") is too long once srv/a/b and
# etc/c exist: the XML is staged by then, and both are undone.
refused "a failure after the directories are made (a name too long for its temporary file)" \
	'File name too long$' --output /srv/a/b/topo.xml --nccl-conf "/etc/c/$(printf 'n%.0s' {1..250})"
ln -s "$tmp/outside/gone" "$tmp/w/etc/nccl.conf"
refused "--nccl-conf onto a dangling link out of the root" 'a link that leads out of the root$' \
	--output /srv/a/b/topo.xml --nccl-conf /etc/nccl.conf
ln -s lost "$tmp/w/scratch"
refused "--output through a directory link to nothing" '/scratch: a link to nothing$' \
	--output /scratch/x/topo.xml --nccl-conf /srv/nccl.conf
ln -sf ../gone "$tmp/w/etc/nccl.conf"
topo "$tmp/w" accel topo --output /opt/microsoft/ndv5/topo.xml --nccl-conf /etc/nccl.conf \
	>/dev/null 2>"$tmp/l.err"
rc=$?
check "--nccl-conf onto a dangling link inside the root: replaced by the file (exit 0)" \
	bash -c '[ "$1" -eq 0 ] && [ ! -L "$2" ] && cmp -s "$2" "$3" && [ ! -e "$4" ]' _ "$rc" \
	"$tmp/w/etc/nccl.conf" "$gconf" "$tmp/w/gone"

# ---- standard output that cannot be written ------------------------------------------

# full NAME MESSAGE-REGEX ARGS...: exit 3 with the message when stdout is /dev/full.
full() {
	local name=$1 want=$2 rc
	shift 2
	if [ ! -c /dev/full ]; then
		skip "$name" "no /dev/full"
		return
	fi
	topo "$tmp/w" accel topo "$@" >/dev/full 2>"$tmp/f.err"
	rc=$?
	if [ "$rc" -eq 3 ] && grep -qE "$want" "$tmp/f.err"; then
		ok "$name: exit 3, says so"
	else
		not_ok "$name: exit 3, says so (rc $rc)"
		diag "$(cat "$tmp/f.err")"
	fi
}
full "the XML to a full standard output" \
	'^azl-agent: accel topo: standard output: No space left on device$'
full "--json to a full standard output" \
	'^azl-agent: accel topo: standard output: No space left on device$' --json
full "--output's line to a full standard output (the files are written)" \
	'standard output: No space left on device \(both files are written\)$' \
	--output /opt/microsoft/ndv5/topo.xml --nccl-conf /etc/nccl.conf
full "--help to a full standard output" 'standard output: No space left on device$' --help

# ---- the variant without NUMA nodes ----------------------------------------------

topo "$fixtures/$nd-numa-none" accel topo >"$tmp/nn.xml" 2>"$tmp/nn.err"
rc=$?
if [ "$rc" -eq 0 ] && cmp -s "$tmp/nn.xml" "$gxml"; then
	ok "$nd-numa-none: numa_node -1 everywhere gives the same XML (nodes from the SKU table)"
else
	not_ok "$nd-numa-none: the same XML as $nd (rc $rc)"
	diag "$(diff "$gxml" "$tmp/nn.xml" | head -6)" "$(head -3 "$tmp/nn.err")"
fi
check "$nd-numa-none: stderr says the ND H200 v5 table placed the 16 devices" \
	grep -q '^azl-agent: accel topo: 16 devices without a NUMA node placed by the ND H200 v5 table$' "$tmp/nn.err"

# ---- JSON ----------------------------------------------------------------------

topo "$fixtures/$nd" --json accel topo >"$tmp/nd.json" 2>/dev/null
check "--json: 8 pairs, node 1's mask, every node from sysfs, GPUs' max_link figures" \
	jq -e '.pairs == 8 and .gpus == 8 and .hcas == 8 and .nodes[1].affinity == "ffffffff,ffff0000,00000000"
		and ([.nodes[].devices[] | select(.node_source == "sysfs")] | length) == 16
		and ([.nodes[].devices[] | select(.kind == "gpu" and .link_source == "max_link")] | length) == 8
		and .nodes[0].switches[3] == {"busid":"ffff:ff:04.0","gpu":"0008:00:00.0","hca":"0104:00:00.0","link_speed":"32.0 GT/s PCIe","link_width":16}' \
	"$tmp/nd.json"
topo "$fixtures/$nd-numa-none" accel topo --json >"$tmp/nn.json" 2>/dev/null
check "--json on $nd-numa-none: every device placed by the SKU table, numa_node -1" \
	jq -e '.sku == "ND H200 v5" and ([.nodes[].devices[] | select(.node_source == "sku" and .numa_node == -1)] | length) == 16' \
	"$tmp/nn.json"

# ---- nothing to describe -------------------------------------------------------------

for f in d64ds-v5-mlx5 d64ds-v5-mana d2s-v5 not-hyperv; do
	fresh "$f" "$f"
	sums "$tmp/$f" >"$tmp/$f.sum0"
	topo "$tmp/$f" accel topo --output /opt/microsoft/topo.xml --nccl-conf /etc/nccl.conf \
		>"$tmp/$f.out" 2>"$tmp/$f.err"
	rc=$?
	sums "$tmp/$f" >"$tmp/$f.sum1"
	if [ "$rc" -eq 1 ] && grep -q 'no NVIDIA GPU: no NCCL topology to describe' "$tmp/$f.err" &&
		[ ! -s "$tmp/$f.out" ] && cmp -s "$tmp/$f.sum0" "$tmp/$f.sum1"; then
		ok "$f: exit 1, says there is no GPU, writes nothing"
	else
		not_ok "$f: exit 1, says there is no GPU, writes nothing (rc $rc)"
		diag "$(cat "$tmp/$f.err")"
	fi
done

# ---- malformed trees: exit 3, the file named, nothing written -------------------------

# bad NAME FILE CONTENT MESSAGE-REGEX: FILE (relative to the tree) gets CONTENT
# for one run, then its own content back.
fresh "$nd" bad
bad() {
	local name=$1 file=$2 content=$3 want=$4 rc
	cp -a "$tmp/bad/$file" "$tmp/saved"
	rm -f "$tmp/bad/$file"
	printf '%s\n' "$content" >"$tmp/bad/$file"
	sums "$tmp/bad" >"$tmp/bad.sum0"
	topo "$tmp/bad" accel topo --output /opt/microsoft/ndv5/topo.xml --nccl-conf /etc/nccl.conf \
		>"$tmp/bad.out" 2>"$tmp/bad.err"
	rc=$?
	sums "$tmp/bad" >"$tmp/bad.sum1"
	if [ "$rc" -eq 3 ] && grep -qE "$want" "$tmp/bad.err" && cmp -s "$tmp/bad.sum0" "$tmp/bad.sum1" &&
		[ ! -s "$tmp/bad.out" ]; then
		ok "malformed $name: exit 3 naming the file, nothing written"
	else
		not_ok "malformed $name: exit 3 naming the file, nothing written (rc $rc)"
		diag "$(cat "$tmp/bad.err")"
	fi
	rm -f "$tmp/bad/$file"
	mv "$tmp/saved" "$tmp/bad/$file"
}
bad "max_link_speed" sys/bus/pci/devices/000a:00:00.0/max_link_speed "fast" \
	'^azl-agent: accel topo: /sys/bus/pci/devices/000a:00:00.0/max_link_speed: malformed$'
bad "current_link_width" sys/bus/pci/devices/0105:00:00.0/current_link_width "x16" \
	'/sys/bus/pci/devices/0105:00:00.0/current_link_width: malformed$'
bad "numa_node" sys/bus/pci/devices/0003:00:00.0/numa_node "zero" \
	'/sys/bus/pci/devices/0003:00:00.0/numa_node: malformed$'
bad "/proc/cpuinfo" proc/cpuinfo "$(printf 'processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 0x8f')" \
	'^azl-agent: accel topo: /proc/cpuinfo line 4: malformed$'
bad "cpu/possible" sys/devices/system/cpu/possible "0-95,oops" \
	'/sys/devices/system/cpu/possible: (malformed|not a CPU list)$'
bad "GPU class" sys/bus/pci/devices/0009:00:00.0/class "0x03020000" \
	'/sys/bus/pci/devices/0009:00:00.0/class: value out of range$'

# ---- link sources (on the same tree, every file back as it was) --------------------

rm "$tmp/bad/sys/bus/pci/devices/0001:00:00.0/max_link_speed"
topo "$tmp/bad" accel topo >"$tmp/k.xml" 2>/dev/null
check "without max_link_speed the GPU's current (idle) speed is used" \
	grep -q '<pci busid="0001:00:00.0" class="0x030200" link_speed="2.5 GT/s PCIe" link_width="16"/>' "$tmp/k.xml"
rm -f "$tmp"/bad/sys/bus/pci/devices/*/{max,current}_link_{speed,width}
topo "$tmp/bad" accel topo >"$tmp/k.xml" 2>/dev/null
check "without any link file the SKU's figures give the golden XML again" cmp -s "$tmp/k.xml" "$gxml"

# ---- usage -------------------------------------------------------------------------

usage_ok=1
for args in "--nccl-conf /etc/nccl.conf" "--output topo.xml" "--output /opt/../etc/x.xml" \
	"--output /opt/x --nccl-conf /opt/x" "--output /opt/x --nccl-conf /opt/x/y" \
	"--output /opt/x/y --nccl-conf /opt/x" "--frobnicate" "extra"; do
	# shellcheck disable=SC2086
	topo "$fixtures/$nd" accel topo $args >/dev/null 2>&1
	rc=$?
	if [ "$rc" -ne 2 ]; then
		usage_ok=0
		diag "accel topo $args: exit $rc"
	fi
done
if [ "$usage_ok" -eq 1 ]; then
	ok "usage errors exit 2: --nccl-conf alone, relative or unclean paths, one file twice or under the other, unknown options"
else
	not_ok "usage errors exit 2"
fi
check "--help exits 0 and shows the options" \
	bash -c '"$1" accel topo --help | grep -q -- "--nccl-conf FILE"' _ "$agent"

done_testing
