#!/usr/bin/env bash
# The Azure host simulator proven on its own, with curl, before any agent
# relies on it: documents, the checks a real IMDS/wireserver makes, every
# fault of the scenario language, the request log, hostile clients, and a
# clean exit on SIGTERM.
#
# usage: tests/sim/selftest.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
build=${1:?usage: tests/sim/selftest.sh BUILD_DIR}
. "$here/lib.sh"

plan 47
why=$(sim_unusable)
for tool in curl jq xmllint; do
	[ -z "$why" ] && ! command -v "$tool" >/dev/null && why="$tool is not installed (scripts/deps.sh check)"
done
if [ -n "$why" ]; then
	for ((i = 0; i < 47; i++)); do skip "azure_sim self-test" "$why"; done
	exit 0
fi

tmp=$(mktemp -d)
trap 'sim_stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
IMDS_Q='/metadata/instance?api-version=2021-08-01&extended=true'

# req URL [curl args...]: sets $code (HTTP status, 000 on a transport
# error), $rc (curl's exit) and the body in $tmp/body.
req() {
	local url=$1
	shift
	code=$(curl -s -o "$tmp/body" -w '%{http_code}' --noproxy '*' --max-time 20 "$@" "$url")
	rc=$?
}
imds() { req "$IMDS_URL${1:-$IMDS_Q}" -H 'Metadata: true' -H "x-ms-client-request-id: $(cat /proc/sys/kernel/random/uuid)" "${@:2}"; }
check() { # check NAME COND...: one test from a command's status
	local name=$1
	shift
	if "$@"; then ok "$name"; else
		not_ok "$name"
		diag "code=${code:-} rc=${rc:-}" "$(tail -n 3 "$SIM_LOG" 2>/dev/null)"
	fi
}
jq_body() { jq -e "$@" "$tmp/body" >/dev/null 2>&1; }
statuses() { sim_field status "$1" | paste -sd' '; }
# stop: sim_stop, counting failures (a sanitizer report makes the exit non-zero).
stop_failures=0
stop() { sim_stop || stop_failures=$((stop_failures + 1)); }

# --- the happy path ------------------------------------------------------
sim_start happy || exit 1
imds
check "happy: IMDS answers 200 with the instance document" [ "$code" = 200 ]
check "happy: the document has the fields of §1.2, all strings" jq_body '
	.compute.vmId == "8f0e4c4a-7a1b-4f0e-9c7d-2b5b4e6a9d31" and .compute.vmSize == "Standard_D2s_v5" and
	.compute.osProfile.computerName == "simvm" and .compute.osProfile.adminUsername == "azureuser" and
	.compute.osProfile.disablePasswordAuthentication == "true" and
	(.compute.publicKeys[0].keyData | startswith("ssh-ed25519 ")) and
	(.compute.publicKeys[0].path == "/home/azureuser/.ssh/authorized_keys") and
	.compute.userData == "" and .extended.compute.ppsType == "None"'
check "happy: the log records Metadata, the request id and no proxy" \
	test "$(sim_field metadata imds)/$(sim_field proxy imds)/$(sim_field reqid imds | grep -c .)" = "true/no/1"
req "$WIRE_URL/machine/?comp=goalstate" -H 'x-ms-version: 2012-11-30' -H 'x-ms-agent-name: azl-agent'
check "happy: goal state answers 200" [ "$code" = 200 ]
check "happy: goal state is well-formed XML with Incarnation, ContainerId, InstanceId" bash -c "
	xmllint --xpath 'concat(/GoalState/Incarnation, \"|\", /GoalState/Container/ContainerId, \"|\",
		/GoalState/Container/RoleInstanceList/RoleInstance/InstanceId)' '$tmp/body' |
	grep -qx '1|3c7e9a4b-5f1d-4b7e-8a2c-6d9e1f0a2b3c|8f0e4c4a-7a1b-4f0e-9c7d-2b5b4e6a9d31._simvm'"
cat >"$tmp/health.xml" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<Health xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <GoalStateIncarnation>1</GoalStateIncarnation>
  <Container>
    <ContainerId>3c7e9a4b-5f1d-4b7e-8a2c-6d9e1f0a2b3c</ContainerId>
    <RoleInstanceList>
      <Role>
        <InstanceId>8f0e4c4a-7a1b-4f0e-9c7d-2b5b4e6a9d31._simvm</InstanceId>
        <Health>
          <State>NotReady</State>
          <Details><SubStatus>ProvisioningFailed</SubStatus><Description>result=error|reason=a &amp; b &lt;c&gt;</Description></Details>
        </Health>
      </Role>
    </RoleInstanceList>
  </Container>
</Health>
EOF
xml_post() { req "$WIRE_URL/machine?comp=health" -X POST -H 'x-ms-version: 2012-11-30' \
	-H 'Content-Type: text/xml;charset=utf-8' --data-binary "@$1"; }
xml_post "$tmp/health.xml"
check "happy: an XML health report is accepted" [ "$code" = 200 ]
check "happy: the log has its state, substatus, unescaped description, ids=ok" test \
	"$(sim_field state health)|$(sim_field substatus health)|$(sim_field description health)|$(sim_field ids health)" = \
	"NotReady|ProvisioningFailed|result=error|reason=a & b <c>|ok"
body_joined() { sim_field body health | grep -qF '</GoalStateIncarnation><Container><ContainerId>'; }
check "happy: the XML body is logged on one line, tags joined" body_joined
req "$WIRE_URL/provisioning/health" -X POST -H 'Content-Type: application/json' \
	--data-binary '{"state":"NotReady","details":{"subStatus":"ProvisioningFailed","description":"x|y \"q\""}}'
check "happy: a JSON health report is accepted and recorded" test \
	"$code|$(sim_field state jsonhealth)|$(sim_field description jsonhealth)" = '200|NotReady|x|y "q"'
sim_stop --keep
check "SIGTERM: the simulator exits 0 and removes its port file" test ! -e "$SIM_WORK/ports"
rm -rf "$SIM_WORK"

# --- what a real IMDS refuses --------------------------------------------
sim_start happy || exit 1
req "$IMDS_URL$IMDS_Q"
check "IMDS without 'Metadata: true' -> 400, recorded without metadata" \
	test "$code|$(sim_field metadata imds)" = "400|"
# The absolute URI goes to the simulator only (never curl -x: nothing here may reach a real address).
req "$IMDS_URL$IMDS_Q" --request-target "http://169.254.169.254$IMDS_Q" -H 'Metadata: true'
check "IMDS through a proxy (absolute URI) -> 400, recorded proxy=yes" \
	test "$code|$(sim_field proxy imds | tail -n1)" = "400|yes"
imds "$IMDS_Q" -H 'X-Forwarded-For: 10.0.0.9'
check "IMDS with X-Forwarded-For -> 400" [ "$code" = 400 ]
imds "/metadata/instance"
check "IMDS without api-version -> 400 with the newest versions" \
	test "$code|$(jq -r '.["newest-versions"][0]' "$tmp/body")" = "400|2023-11-15"
imds "/metadata/nothing?api-version=2021-08-01"
check "an unknown IMDS path -> 404, recorded as ep=other" test "$code|$(sim_count other)" = "404|1"
req "$WIRE_URL/machine/?comp=goalstate"
check "goal state without x-ms-version -> 400" [ "$code" = 400 ]
sed 's/3c7e9a4b/deadbeef/' "$tmp/health.xml" >"$tmp/other.xml"
xml_post "$tmp/other.xml"
check "XML health for another container -> 400, ids=mismatch" test "$code|$(sim_field ids health)" = "400|mismatch"
printf '<Health><State>Ready</State>' >"$tmp/bad.xml"
xml_post "$tmp/bad.xml"
check "malformed XML health -> 400, xml=invalid" test "$code|$(sim_field xml health | tail -n1)" = "400|invalid"
req "$WIRE_URL/provisioning/health" -X POST --data-binary '{"state":'
check "malformed JSON health -> 400, json=invalid" test "$code|$(sim_field json jsonhealth)" = "400|invalid"
stop

# --- faults --------------------------------------------------------------
sim_start imds-500-burst || exit 1
for i in 1 2 3 4 5; do imds; done
check "500 x3 then 200 (the last rule repeats)" test "$(statuses imds)" = "500 500 500 200 200"
check "a fresh request id per attempt is recorded" test "$(sim_field reqid imds | sort -u | grep -c .)" = 5
stop

sim_start imds-429-retry-after || exit 1
req "$IMDS_URL$IMDS_Q" -H 'Metadata: true' -D "$tmp/headers"
check "429 carries Retry-After: 2" bash -c "[ '$code' = 429 ] && grep -qi '^Retry-After: 2' '$tmp/headers'"
imds; imds
check "429 x2 then 200" test "$(statuses imds)" = "429 429 200"
stop

sim_start imds-410-then-200 || exit 1
imds; imds
check "410 then 200" test "$(statuses imds)" = "410 200"
stop

sim_start imds-api-fallback || exit 1
imds
c1=$code
imds '/metadata/instance?api-version=2019-06-01'
check "api 2021-08-01 -> 400; 2019-06-01 -> 200 without osProfile/userData/extended" test \
	"$c1|$code|$(jq -c '[.compute.osProfile, .compute.userData, .extended, .compute.vmId]' "$tmp/body")" = \
	'400|200|[null,null,null,"8f0e4c4a-7a1b-4f0e-9c7d-2b5b4e6a9d31"]'
stop

sim_start imds-truncated || exit 1
imds
check "truncated: 200 with a body that is not JSON" bash -c "[ '$code' = 200 ] && ! jq . '$tmp/body' >/dev/null 2>&1 && [ -s '$tmp/body' ]"
stop

sim_start imds-wrong-types || exit 1
imds
check "wrong types: publicKeys a string, vmId a number, computerName an object" jq_body \
	'(.compute.publicKeys|type) == "string" and (.compute.vmId|type) == "number" and
	 (.compute.osProfile.computerName|type) == "object" and (.compute.osProfile.disablePasswordAuthentication|type) == "array"'
stop

sim_start imds-missing-fields || exit 1
imds
check "missing fields: no osProfile, no vmId, the rest intact" jq_body \
	'.compute.osProfile == null and .compute.vmId == null and .compute.vmSize == "Standard_D2s_v5"'
stop

sim_start imds-huge || exit 1
imds
check "huge: a valid JSON body of at least 5 MiB" bash -c \
	"[ '$code' = 200 ] && [ \$(stat -c %s '$tmp/body') -ge 5242880 ] && jq -e '.compute.vmId' '$tmp/body' >/dev/null"
stop

sim_start delay || exit 1
imds
check "delay: answered 200, the delay recorded" test "$code|$(sim_field delay_ms imds)" = "200|300"
stop

sim_start imds-connection-drop || exit 1
imds; r1=$rc
imds; imds
check "close x2: two transport errors (no HTTP status), then 200" test \
	"$r1|$(statuses imds)|$code" = "56|0 0 200|200"
stop

sim_start imds-hang || exit 1
imds "$IMDS_Q" --max-time 2 &
hang_pid=$!
sleep 0.3
req "$WIRE_URL/machine/?comp=goalstate" -H 'x-ms-version: 2012-11-30'
check "a hanging IMDS answer does not block the wireserver" [ "$code" = 200 ]
wait "$hang_pid"
imds
check "hang: the client times out; the next request gets 200" test "$(statuses imds)|$code" = "0 200|200"
stop

sim_start imds-down || exit 1
imds
check "imds down: connection refused (curl exit 7), nothing recorded" test "$rc|$(sim_count)" = "7|0"
stop

sim_start wire-down || exit 1
req "$WIRE_URL/machine/?comp=goalstate" -H 'x-ms-version: 2012-11-30'
rw=$rc
imds
check "wire down: connection refused while IMDS serves" test "$rw|$code" = "7|200"
stop

sim_start json-health-absent || exit 1
req "$WIRE_URL/provisioning/health" -X POST -H 'Content-Type: application/json' --data-binary '{"state":"Ready"}'
check "JSON health absent -> 404 (the report is still recorded)" test "$code|$(sim_field state jsonhealth)" = "404|Ready"
stop

sim_start wire-500-burst || exit 1
for i in 1 2 3 4; do req "$WIRE_URL/machine/?comp=goalstate" -H 'x-ms-version: 2012-11-30'; done
for i in 1 2 3 4; do xml_post "$tmp/health.xml"; done
check "wire bursts: goal state 500 x3 then 200, health 503 x3 then 200" test \
	"$(statuses goalstate)/$(statuses health)" = "500 500 500 200/503 503 503 200"
stop

sim_start goalstate-no-role || exit 1
req "$WIRE_URL/machine/?comp=goalstate" -H 'x-ms-version: 2012-11-30'
n1=$(grep -c '<RoleInstance>' "$tmp/body")
req "$WIRE_URL/machine/?comp=goalstate" -H 'x-ms-version: 2012-11-30'
check "goal state without RoleInstance once, then complete" test "$n1|$(grep -c '<RoleInstance>' "$tmp/body")" = "0|1"
stop

# --- hostile clients ------------------------------------------------------
sim_start happy || exit 1
port=${WIRE_URL##*:}
send_raw() { # send_raw BYTES-FILE: what the server answers (first line)
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	cat "$1" >&3
	head -n1 <&3 | tr -d '\r'
	exec 3<&-
}
printf 'POST /provisioning/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' >"$tmp/raw"
check "chunked request body -> 501, recorded" test "$(send_raw "$tmp/raw")|$(sim_field status other | tail -n1)" = \
	"HTTP/1.1 501 Not Implemented|501"
printf 'GARBAGE\x01\x02\r\n\r\n' >"$tmp/raw"
resp=$(send_raw "$tmp/raw")
check "a garbage request line -> 400, the log line escapes control bytes" \
	test "$resp|$(grep -cF 'GARBAGE\x01\x02' "$SIM_LOG")" = "HTTP/1.1 400 Bad Request|1"
{ printf 'GET / HTTP/1.1\r\nX-Big: '; head -c 70000 /dev/zero | tr '\0' a; printf '\r\n\r\n'; } >"$tmp/raw"
check "a request head over 64 KiB -> 431" test "$(send_raw "$tmp/raw")" = "HTTP/1.1 431 Request Header Fields Too Large"
printf 'POST /provisioning/health HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n' >"$tmp/raw"
check "a body over 1 MiB -> 413" test "$(send_raw "$tmp/raw")" = "HTTP/1.1 413 Payload Too Large"
printf 'POST /provisioning/health HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello' >"$tmp/raw"
check "conflicting Content-Length -> 400" test "$(send_raw "$tmp/raw")" = "HTTP/1.1 400 Bad Request"
imds
check "after all that the simulator still serves" [ "$code" = 200 ]
stop

# --- scenario errors ------------------------------------------------------
printf 'imds 200\nimds teapot\n' >"$tmp/bad.scn"
err=$("$sim_bin" --scenario "$tmp/bad.scn" --log /dev/null 2>&1)
check "a bad scenario line is refused with file:line and exit 2" \
	test "$?|$err" = "2|azure_sim: $tmp/bad.scn:2: bad action 'teapot' (a status 100-599, close, hang)"
# libcurl sends "Expect: 100-continue" before larger POST bodies.
sim_start happy || exit 1
req "$WIRE_URL/provisioning/health" -X POST -H 'Expect: 100-continue' -H 'Content-Type: application/json' \
	--data-binary "{\"state\":\"NotReady\",\"details\":{\"subStatus\":\"ProvisioningFailed\",\"description\":\"$(head -c 3000 /dev/zero | tr '\0' d)\"}}"
check "Expect: 100-continue is honoured; the 3000-byte description is recorded whole" \
	test "$code|$(sim_field description jsonhealth | wc -c)" = "200|3001"
stop
check "every simulator run exited 0 on SIGTERM (no sanitizer report)" [ "$stop_failures" = 0 ]
done_testing
