/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Reporting to the wireserver (research/provisioning.md §3.2–3.3): the JSON
 * /provisioning/health endpoint first, else goal state plus the XML Health
 * report, with bounded retries.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct goal_state {
	char incarnation[64];
	char container_id[64];
	char role_instance_id[128];
};

/*
 * Pure: parse a goal state document (GoalState/Incarnation,
 * Container/ContainerId, the first RoleInstance's InstanceId; elements are
 * matched by local name, whatever their namespace).  -EINVAL with err
 * naming the element when one is missing, empty, too long for its field,
 * holds markup or control characters; -EINVAL for XML that is not
 * well-formed or carries a DTD (nothing is ever loaded or expanded: no
 * network, no entities); -EFBIG above 256 KiB.  *out is zeroed on error.
 */
int goal_state_parse(const char *xml, size_t len, struct goal_state *out, char *err, size_t errlen);

/*
 * Pure: the XML Health body of §3.2 (Ready, or NotReady with Details
 * ProvisioningFailed and the description; a Ready report has no Details).
 * Every value is XML-escaped (& < > ' "), bytes that are not UTF-8 become
 * '?', control characters XML forbids become spaces, and the escaped
 * description is cut to 3686 bytes (WALinuxAgent's margin under the
 * host's 4096) between characters.  malloc'd; NULL only without memory.
 */
char *health_xml_build(const struct goal_state *gs, bool ready, const char *description);
/*
 * Pure: the JSON health body of §3.3: {"state":"Ready"} or
 * {"state":"NotReady","details":{"subStatus":"ProvisioningFailed",
 * "description":…}}, the description cleaned and cut as above.  malloc'd.
 */
char *health_json_build(bool ready, const char *description);

struct wireserver_options {
	const char *base_url;   /* "http://168.63.129.16" (config) */
	const char *agent_name; /* x-ms-agent-name (NULL: "azl-agent") */
	unsigned budget_ms;     /* total for retries */
	unsigned retry_ms;
	const volatile sig_atomic_t *stop; /* non-zero: no more attempts (-EINTR); may be NULL */
};

/*
 * Report Ready (ready) or NotReady/ProvisioningFailed with description.
 * Each attempt: POST {base}/provisioning/health (JSON) unless it answered
 * 404 once (no such endpoint: not asked again); when that is not a 2xx,
 * GET {base}/machine/?comp=goalstate afresh and POST the XML Health to
 * {base}/machine?comp=health.  Between attempts retry_ms (longer if the
 * host sent Retry-After), all within budget_ms; one attempt is made even
 * with a zero budget.  0 once the wireserver accepted it (any 2xx);
 * -ETIMEDOUT after the budget, err holding the last failure; -EINVAL for
 * unusable options.  *via says which protocol took it ("json" or "xml"),
 * NULL when none did.
 */
int wireserver_report(const struct wireserver_options *o, bool ready, const char *description,
		      const char **via, char *err, size_t errlen);
