#!/usr/bin/env bash
# `azl-agent provision` end to end against the Azure host simulator
# (tests/sim/) in scratch roots, with the real useradd and chpasswd:
# every scenario of the simulator ends with the right report (Ready, or
# NotReady with the reason) and a marker only after Ready; a kill after
# each step followed by a re-run ends with one user, one KVP report and
# one marker; a password from the OVF media reaches shadow only; a new
# vmId provisions again; deprovision removes what it lists.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: provision.sh BUILD_DIR}" && pwd)
agent="$build/azl-agent"
. "$here/../tap.sh"
. "$here/lib.sh"
. "$here/../sim/lib.sh"

N=58
plan $N
why=$(sim_unusable)
[ -z "$why" ] && { [ "$(id -u)" -eq 0 ] || why="needs root (useradd --root)"; }
[ -z "$why" ] && { command -v useradd >/dev/null || why="no useradd (passwd)"; }
if [ -n "$why" ]; then
	for i in $(seq $N); do skip "provision $i" "$why"; done
	exit 0
fi
tmp=$(mktemp -d)
trap 'sim_stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
R="$tmp/root"
PW='S3cret-ovf pass!'

is() { # NAME WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "want: $2" "got:  $3"; fi
}
has() { # NAME FILE ERE
	if grep -qE -- "$3" "$2" 2>/dev/null; then ok "$1"; else not_ok "$1"; diag "no /$3/ in $2:" "$(tail -5 "$2" 2>/dev/null)"; fi
}

# run SCENARIO [provision options]: fresh root, simulator, one provisioning run.
run() {
	local scn=$1
	shift
	prov_mkroot "$R"
	sim_start "$scn" || return 1
	prov_config "$tmp/agent.conf"
	"$agent" --root "$R" provision --config "$tmp/agent.conf" "$@" >"$tmp/out" 2>&1
	rc=$?
}
report() { "$agent" --root "$R" kvp get --pool 1 PROVISIONING_REPORT 2>/dev/null; }
users() { grep -c '^azureuser:' "$R/etc/passwd"; }
markers() { find "$R/var/lib/azl-agent" -name '*.provisioned' 2>/dev/null | wc -l; }
states() { sim_field state health; sim_field state jsonhealth; }

ovf="$tmp/ovf-env.xml"
cat >"$ovf" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:wa="http://schemas.microsoft.com/windowsazure">
 <wa:ProvisioningSection><wa:Version>1.0</wa:Version>
  <LinuxProvisioningConfigurationSet xmlns="http://schemas.microsoft.com/windowsazure">
   <ConfigurationSetType>LinuxProvisioningConfiguration</ConfigurationSetType>
   <HostName>ovfhost</HostName><UserName>azureuser</UserName>
   <UserPassword>$PW</UserPassword>
   <DisableSshPasswordAuthentication>false</DisableSshPasswordAuthentication>
  </LinuxProvisioningConfigurationSet>
 </wa:ProvisioningSection>
</Environment>
EOF
# The same without a password: what older IMDS api-versions need beside them.
sed '/UserPassword/d' "$ovf" >"$tmp/ovf-nopw.xml"

# 1. The happy path.
run happy
is "happy: exit 0" 0 "$rc"
is "happy: the administrator from IMDS, once" 1 "$(users)"
is "happy: host name from IMDS" simvm "$(cat "$R/etc/hostname" 2>/dev/null)"
has "happy: the IMDS key in authorized_keys" "$R/home/azureuser/.ssh/authorized_keys" '^ssh-ed25519 '
is "happy: sudoers drop-in 0440" 440 "$(stat -c %a "$R/etc/sudoers.d/azl-agent-azureuser" 2>/dev/null)"
has "happy: KVP PROVISIONING_REPORT says success" <(report) '^result=success\|agent=azl-agent/'
is "happy: Ready reported once" Ready "$(states | grep -v '^$')"
is "happy: the marker, once" 1 "$(markers)"
is "happy: the state directory is 0700" 700 "$(stat -c %a "$R/var/lib/azl-agent")"
before=$(sim_count)
"$agent" --root "$R" provision --config "$tmp/agent.conf" >"$tmp/out2" 2>&1
is "happy: a second run is a no-op (exit 0; no DMI here, so IMDS names the VM; no report)" \
	"0 $((before + 1)) 1" "$? $(sim_count) $(sim_count jsonhealth)"
has "happy: ... and says so" "$tmp/out2" 'already provisioned'
is "happy: IMDS asked with Metadata: true and no proxy" "true no" \
	"$(sim_field metadata imds | sort -u | tr '\n' ' ')$(sim_field proxy imds | sort -u)"
sim_stop

# 2. IMDS faults the agent rides out.
for scn in imds-500-burst imds-410-then-200 imds-429-retry-after imds-503 imds-connection-drop; do
	run "$scn"
	is "$scn: provisioned, Ready" "0 Ready 1" "$rc $(states | grep -v '^$' | tail -1) $(markers)"
	sim_stop
done
# api-version 2019-06-01 has no osProfile: the user comes from the media.
run imds-api-fallback --ovf "$tmp/ovf-nopw.xml"
is "imds-api-fallback: 2019-06-01 after the 400, user from OVF, Ready" "0 Ready 1 2" \
	"$rc $(states | grep -v '^$' | tail -1) $(users) $(sim_count imds)"
sim_stop
run imds-api-fallback
has "imds-api-fallback without media: failure names the missing administrator" <(report) \
	'result=error.*administrator'
sim_stop
run imds-500-burst
ids=$(sim_field reqid imds)
is "a fresh x-ms-client-request-id per IMDS attempt" "$(wc -l <<<"$ids")" "$(sort -u <<<"$ids" | wc -l)"
sim_stop

# Slow answers, a hung request (abandoned at its timeout, then retried),
# no keys at all, a goal state without its role instance (fetched again).
run delay
is "delay: provisioned, Ready" "0 Ready 1" "$rc $(states | grep -v '^$' | tail -1) $(markers)"
sim_stop
run imds-no-keys
is "imds-no-keys: provisioned with no key, Ready" "0 1 0" \
	"$rc $(markers) $(cat "$R/home/azureuser/.ssh/authorized_keys" 2>/dev/null | grep -c .)"
sim_stop
run goalstate-no-role
is "goalstate-no-role: the goal state asked again, Ready over XML" "0 Ready 2" \
	"$rc $(sim_field state health | grep -v '^$' | tail -1) $(sim_count goalstate)"
sim_stop
PROV_IMDS_BUDGET=4 run imds-hang
is "imds-hang: the hung request abandoned, the next one provisions" "0 1 2" "$rc $(markers) $(sim_count imds)"
sim_stop

# 3. Faults that must fail, reported with the reason, no marker.
for scn in imds-403 imds-truncated imds-wrong-types imds-huge imds-missing-fields; do
	run "$scn"
	is "$scn: exit 1, NotReady, no marker" "1 NotReady 0" \
		"$rc $(states | grep -v '^$' | tail -1) $(markers)"
	sim_stop
done
run imds-truncated
has "imds-truncated: the reason reaches KVP" <(report) '^result=error\|reason=.*(IMDS|imds)'
sim_stop
PROV_IMDS_BUDGET=1 run imds-down
is "imds-down: exit 1 after the budget, NotReady" "1 NotReady" "$rc $(states | grep -v '^$' | tail -1)"
sim_stop
PROV_REPORT_BUDGET=1 run wire-down
is "wire-down: exit 1, no marker" "1 0" "$rc $(markers)"
has "wire-down: the KVP report was written first" <(report) '^result=success'
sim_stop

# 4. The wireserver's other paths.
run json-health-absent
is "json-health-absent: Ready over the XML Health" "0 Ready" "$rc $(sim_field state health | grep -v '^$' | tail -1)"
is "json-health-absent: goal state asked with x-ms-version" "2012-11-30" "$(sim_field xms_version goalstate | sort -u)"
sim_stop
run wire-500-burst
is "wire-500-burst: Ready in the end" "0 1" "$rc $(markers)"
sim_stop

# 5. A kill after each step, then a re-run: one user, one report, one marker.
for step in hostname user kvp-report report; do
	prov_mkroot "$R"
	sim_start happy
	prov_config "$tmp/agent.conf"
	crash_rc=$( (AZL_TEST_CRASH_AFTER=$step "$agent" --root "$R" provision \
		--config "$tmp/agent.conf" >"$tmp/crash" 2>&1; echo $?) 2>/dev/null)
	"$agent" --root "$R" provision --config "$tmp/agent.conf" >"$tmp/rerun" 2>&1
	rerun_rc=$?
	nrep=$(grep -c 'PROVISIONING_REPORT' <("$agent" --root "$R" kvp list --pool 1))
	is "killed after $step (status $crash_rc), then re-run: exit 0, 1 user, 1 report, 1 marker" \
		"137 0 1 1 1" "$crash_rc $rerun_rc $(users) $nrep $(markers)"
	sim_stop
done

# 6. A password from the OVF media: hashed into shadow, nowhere else.
run happy --ovf "$ovf"
is "ovf password: provisioned" 0 "$rc"
has "ovf password: a yescrypt or SHA-512 hash in shadow" "$R/etc/shadow" '^azureuser:\$(y|6)\$'
leaks=$(grep -rlF -- "$PW" "$R" "$tmp/out" "$SIM_LOG" 2>/dev/null | grep -v "^$ovf$")
is "ovf password: in no file of the root, no output, no report" "" "$leaks"
has "ovf password: the plan still comes from IMDS (host name)" "$R/etc/hostname" '^simvm$'
"$agent" --root "$R" provision --dry-run --ovf "$ovf" --config "$tmp/agent.conf" >"$tmp/plan" 2>&1
has "dry run: prints the plan with key fingerprints" "$tmp/plan" 'SHA256:'
if grep -qF -- "$PW" "$tmp/plan"; then not_ok "dry run: never the password"; else ok "dry run: never the password"; fi
"$agent" --root "$R" provision --dry-run --json --ovf "$ovf" --config "$tmp/agent.conf" >"$tmp/plan.json" 2>/dev/null
is "dry run --json: user, password policy, source of the host name" "azureuser set IMDS" \
	"$(jq -r '[.username, .password, .hostname_from] | join(" ")' "$tmp/plan.json" 2>/dev/null)"
sim_stop

# 7. A new vmId provisions again.
prov_mkroot "$R"
sim_start happy
prov_config "$tmp/agent.conf"
"$agent" --root "$R" provision --config "$tmp/agent.conf" >"$tmp/out" 2>&1
printf 'set vm-id 11111111-2222-3333-4444-555555555555\n' >"$tmp/newvm.scn"
sim_stop
sim_start "$tmp/newvm.scn"
prov_config "$tmp/agent.conf"
"$agent" --root "$R" provision --config "$tmp/agent.conf" >"$tmp/out" 2>&1
is "a new vmId provisions again: exit 0, two markers, link to the new one" \
	"0 2 11111111-2222-3333-4444-555555555555.provisioned" \
	"$? $(markers) $(readlink "$R/var/lib/azl-agent/provisioned")"
is "... and the user is still there once" 1 "$(users)"
sim_stop

# IMDS userData is kept, decoded, root only; and so refused when not base64.
printf 'set user-data %s\n' "$(printf '#cloud-config\nhostname: x\n' | base64 -w0)" >"$tmp/ud.scn"
prov_mkroot "$R"
sim_start "$tmp/ud.scn"
prov_config "$tmp/agent.conf"
"$agent" --root "$R" provision --config "$tmp/agent.conf" >"$tmp/out" 2>&1
is "IMDS userData: saved decoded, 0600" "0 #cloud-config 600" \
	"$? $(head -1 "$R/var/lib/azl-agent/UserData" 2>/dev/null) $(stat -c %a "$R/var/lib/azl-agent/UserData" 2>/dev/null)"
sim_stop

# 8. Accounts provisioning must never touch: nobody (daemons run as it) and
# system accounts; a broken configuration still leaves a KVP report.
printf 'set admin-username nobody\n' >"$tmp/nobody.scn"
prov_mkroot "$R"
echo 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >>"$R/etc/passwd"
sim_start "$tmp/nobody.scn"
prov_config "$tmp/agent.conf"
"$agent" --root "$R" provision --config "$tmp/agent.conf" >"$tmp/out" 2>&1
is "admin nobody: refused (exit 1), no sudoers drop-in, NotReady" "1 0 NotReady" \
	"$? $(find "$R/etc/sudoers.d" -type f 2>/dev/null | wc -l) $(states | grep -v '^$' | tail -1)"
sim_stop
prov_mkroot "$R"
printf '[provision]\nretry_ms = 1s\n' >"$tmp/bad.conf"
"$agent" --root "$R" provision --config "$tmp/bad.conf" >"$tmp/out" 2>&1
rc=$?
is "a broken configuration: exit 2, and the KVP report says why" "2 yes" \
	"$rc $(report | grep -q 'result=error.*retry_ms' && echo yes)"

# 9. DMI and IMDS disagree on the vmId: provisioned by IMDS's; the next
# boot, with IMDS down, knows it is provisioned without asking anybody.
prov_mkroot "$R"
dmi="$R/sys/devices/virtual/dmi/id"
mkdir -p "$dmi" "$R/sys/firmware/efi" "$R/sys/bus/vmbus"
echo aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee >"$dmi/product_uuid"
echo "Microsoft Corporation" >"$dmi/sys_vendor"
echo "Virtual Machine" >"$dmi/product_name"
sim_start happy
prov_config "$tmp/agent.conf"
"$agent" --root "$R" provision --config "$tmp/agent.conf" >"$tmp/out" 2>&1
first=$?
has "vmId mismatch: said, IMDS's used" "$tmp/out" 'DMI aaaaaaaa-.* and IMDS 8f0e4c4a-.* differ'
sim_stop
PROV_IMDS_BUDGET=1 sim_start imds-down
prov_config "$tmp/agent.conf"
"$agent" --root "$R" provision --config "$tmp/agent.conf" >"$tmp/out" 2>&1
is "vmId mismatch: the next boot is a no-op without IMDS (exit 0, KVP report still success)" \
	"0 0 yes 0" "$first $? $(report | grep -q '^result=success' && echo yes) $(sim_count)"
sim_stop

# 10. Stopped (SIGTERM, as systemd does past TimeoutStartSec) while IMDS
# hangs: the run ends at once and still reports why.
R_main=$R
R="$tmp/root-stop"
prov_mkroot "$R"
sim_start imds-hang
PROV_IMDS_BUDGET=120 prov_config "$tmp/agent.conf"
"$agent" --root "$R" provision --config "$tmp/agent.conf" >"$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 100); do [ "$(sim_count imds)" -ge 1 ] && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
stop_rc=$?
is "SIGTERM while IMDS hangs: exit 1, KVP and wireserver told why" "1 yes NotReady" \
	"$stop_rc $(report | grep -q 'result=error.*interrupted' && echo yes) $(states | grep -v '^$' | tail -1)"
sim_stop
R=$R_main

# 11. deprovision lists, then removes.
"$agent" --root "$R" deprovision --dry-run >"$tmp/dep" 2>&1
has "deprovision --dry-run lists the markers" "$tmp/dep" 'would remove .*provisioned'
is "deprovision --dry-run removes nothing" 2 "$(markers)"
"$agent" --root "$R" deprovision --user azureuser >"$tmp/dep" 2>&1
dep_rc=$?
pools=$(find "$R/var/lib/hyperv" -name '.kvp_pool_*' 2>/dev/null | wc -l)
drop_ins=$(find "$R/etc/sudoers.d" -name 'azl-agent-*' 2>/dev/null | wc -l)
is "deprovision --user: exit 0, no marker, no KVP pool, no user, no sudoers drop-in" "0 0 0 0 0" \
	"$dep_rc $(markers) $pools $(users) $drop_ins"
done_testing
