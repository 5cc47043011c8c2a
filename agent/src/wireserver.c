// SPDX-License-Identifier: MIT
/*
 * The wireserver health report (research/provisioning.md §3.2–3.3, §7.6):
 * azure-init's JSON /provisioning/health first, else the goal state plus
 * the XML Health document that WALinuxAgent and cloud-init post.  Bodies
 * are built here from host-supplied values, so every value is cleaned
 * (UTF-8, no control bytes) and escaped before it goes out.
 */
#include <errno.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_client.h"
#include "log.h"
#include "provisioning_report.h"
#include "util.h"
#include "wireserver.h"

#define GOAL_STATE_MAX (256u * 1024u)  /* real ones are a few KiB */
#define DESCRIPTION_MAX 3686           /* WALA's cut: 10% under the host's 4096 bytes */
#define REQUEST_TIMEOUT_MS 30000u      /* one request; the budget bounds them all */
#define WIRE_PROTOCOL_VERSION "2012-11-30"

/* ---- text ---------------------------------------------------------------- */

/* What one source character becomes in the body: an entity, itself, or a stand-in. */
static size_t text_piece(const unsigned char *p, size_t n, bool xml, const char **piece, size_t *used)
{
	size_t l = report_utf8_char(p, n);

	*used = l ? l : 1;
	if (l == 0) {
		*piece = "?";
		return 1;
	}
	/* XML 1.0 allows no other control characters, even escaped. */
	if (l == 1 && ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)) {
		*piece = " ";
		return 1;
	}
	/* U+FFFE and U+FFFF are not XML characters either. */
	if (l == 3 && p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
		*piece = "?";
		return 1;
	}
	if (xml && l == 1) {
		switch (*p) {
		case '&': *piece = "&amp;"; return 5;
		case '<': *piece = "&lt;"; return 4;
		case '>': *piece = "&gt;"; return 4;
		case '"': *piece = "&quot;"; return 6;
		case '\'': *piece = "&apos;"; return 6;
		}
	}
	*piece = (const char *)p;
	return l;
}

/*
 * s (its first slen bytes at most) cleaned, and XML-escaped when xml, in
 * at most max bytes, cut between characters: never inside an entity or a
 * UTF-8 sequence.  malloc'd.
 */
static char *text_clean(const char *s, size_t slen, size_t max, bool xml)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = s ? strnlen(s, slen) : 0, len = 0;
	char *out = malloc(max + 1);

	if (!out)
		return NULL;
	while (n > 0) {
		const char *piece;
		size_t used, l = text_piece(p, n, xml, &piece, &used);

		if (len + l > max)
			break;
		memcpy(out + len, piece, l);
		len += l, p += used, n -= used;
	}
	out[len] = '\0';
	return out;
}

/* ---- goal state ------------------------------------------------------------ */

static void xml_free_docp(xmlDoc **d)
{
	if (*d)
		xmlFreeDoc(*d);
}

static void xml_free_ctxtp(xmlParserCtxt **c)
{
	if (*c)
		xmlFreeParserCtxt(*c);
}

static xmlNode *child_element(xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

/*
 * The text of a leaf element into buf, trimmed.  Only text and CDATA count:
 * an entity reference is refused rather than looked up, so nothing the
 * document declares is ever expanded.
 */
static int leaf_text(xmlNode *el, const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	size_t n = 0, start = 0;

	if (!el) {
		snprintf(err, errlen, "goal state has no %s", path);
		return -EINVAL;
	}
	for (xmlNode *c = el->children; c; c = c->next) {
		size_t l;

		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
			continue;
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) {
			snprintf(err, errlen, "goal state %s holds markup, not text", path);
			return -EINVAL;
		}
		l = c->content ? strlen((const char *)c->content) : 0;
		if (n + l >= len) {
			snprintf(err, errlen, "goal state %s is too long (at most %zu bytes)", path, len - 1);
			return -EINVAL;
		}
		memcpy(buf + n, c->content, l);
		n += l;
	}
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]))
		n--;
	while (start < n && strchr(" \t\r\n", buf[start]))
		start++;
	memmove(buf, buf + start, n - start);
	buf[n - start] = '\0';
	if (!buf[0]) {
		snprintf(err, errlen, "goal state %s is empty", path);
		return -EINVAL;
	}
	for (const unsigned char *p = (const unsigned char *)buf; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "goal state %s holds a control character", path);
			return -EINVAL;
		}
	return 0;
}

static int parse_error(xmlParserCtxt *ctxt, char *err, size_t errlen)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	char msg[160] = "not well-formed";

	if (e && e->message) {
		snprintf(msg, sizeof(msg), "%s", e->message);
		msg[strcspn(msg, "\r\n")] = '\0';
	}
	snprintf(err, errlen, "goal state is not valid XML (line %d): %s", e ? e->line : 0, msg);
	return -EINVAL;
}

static int goal_state_fields(xmlNode *root, struct goal_state *out, char *err, size_t errlen)
{
	xmlNode *container = child_element(root, "Container");
	xmlNode *ril = child_element(container, "RoleInstanceList");
	xmlNode *ri = child_element(ril, "RoleInstance");
	int r;

	r = leaf_text(child_element(root, "Incarnation"), "GoalState/Incarnation", out->incarnation,
		      sizeof(out->incarnation), err, errlen);
	if (r == 0 && !container)
		r = leaf_text(NULL, "GoalState/Container", NULL, 0, err, errlen);
	if (r == 0)
		r = leaf_text(child_element(container, "ContainerId"), "Container/ContainerId",
			      out->container_id, sizeof(out->container_id), err, errlen);
	if (r == 0 && !ril)
		r = leaf_text(NULL, "Container/RoleInstanceList", NULL, 0, err, errlen);
	if (r == 0 && !ri)
		r = leaf_text(NULL, "RoleInstanceList/RoleInstance", NULL, 0, err, errlen);
	if (r == 0)
		r = leaf_text(child_element(ri, "InstanceId"), "RoleInstance/InstanceId",
			      out->role_instance_id, sizeof(out->role_instance_id), err, errlen);
	return r;
}

int goal_state_parse(const char *xml, size_t len, struct goal_state *out, char *err, size_t errlen)
{
	_cleanup_(xml_free_ctxtp) xmlParserCtxt *ctxt = NULL;
	_cleanup_(xml_free_docp) xmlDoc *doc = NULL;
	xmlNode *root;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > GOAL_STATE_MAX) {
		snprintf(err, errlen, "goal state is %zu bytes, more than %u", len, GOAL_STATE_MAX);
		return -EFBIG;
	}
	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* No network, no DTD loading, no entity substitution, no stderr noise. */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "goalstate.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return parse_error(ctxt, err, errlen);
	/* A goal state never declares anything: a DTD is an attack, not data. */
	if (doc->intSubset || doc->extSubset) {
		snprintf(err, errlen, "goal state carries a DTD, refused");
		return -EINVAL;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "GoalState") != 0) {
		snprintf(err, errlen, "goal state root element is not GoalState");
		return -EINVAL;
	}
	r = goal_state_fields(root, out, err, errlen);
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

/* ---- bodies ---------------------------------------------------------------- */

/* A goal state field, maybe not terminated: six bytes out per byte in at most (&quot;). */
#define clean_field(f) text_clean((f), sizeof(f), 6 * sizeof(f), true)

char *health_xml_build(const struct goal_state *gs, bool ready, const char *description)
{
	_cleanup_free_ char *inc = clean_field(gs->incarnation);
	_cleanup_free_ char *cid = clean_field(gs->container_id);
	_cleanup_free_ char *iid = clean_field(gs->role_instance_id);
	_cleanup_free_ char *desc = NULL, *details = NULL;
	char *out = NULL;

	if (!inc || !cid || !iid)
		return NULL;
	if (!ready) {
		desc = text_clean(description, SIZE_MAX, DESCRIPTION_MAX, true);
		if (!desc || asprintf(&details,
				      "          <Details><SubStatus>ProvisioningFailed</SubStatus>"
				      "<Description>%s</Description></Details>\n", desc) < 0)
			return NULL;
	}
	if (asprintf(&out,
		     "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		     "<Health xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
		     "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n"
		     "  <GoalStateIncarnation>%s</GoalStateIncarnation>\n"
		     "  <Container>\n"
		     "    <ContainerId>%s</ContainerId>\n"
		     "    <RoleInstanceList>\n"
		     "      <Role>\n"
		     "        <InstanceId>%s</InstanceId>\n"
		     "        <Health>\n"
		     "          <State>%s</State>\n"
		     "%s"
		     "        </Health>\n"
		     "      </Role>\n"
		     "    </RoleInstanceList>\n"
		     "  </Container>\n"
		     "</Health>\n",
		     inc, cid, iid, ready ? "Ready" : "NotReady", details ? details : "") < 0)
		return NULL;
	return out;
}

static void json_object_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

char *health_json_build(bool ready, const char *description)
{
	_cleanup_(json_object_putp) json_object *root = json_object_new_object();
	_cleanup_free_ char *desc = NULL;
	json_object *details;
	const char *s;

	if (!root || json_object_object_add(root, "state", json_object_new_string(ready ? "Ready" : "NotReady")) < 0)
		return NULL;
	if (!ready) {
		desc = text_clean(description, SIZE_MAX, DESCRIPTION_MAX, false);
		details = json_object_new_object();
		if (!desc || !details || json_object_object_add(root, "details", details) < 0) {
			json_object_put(details);
			return NULL;
		}
		if (json_object_object_add(details, "subStatus", json_object_new_string("ProvisioningFailed")) < 0 ||
		    json_object_object_add(details, "description", json_object_new_string(desc)) < 0)
			return NULL;
	}
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	return s ? strdup(s) : NULL;
}

/* ---- reporting ------------------------------------------------------------- */

struct report {
	const struct wireserver_options *o;
	bool ready;
	const char *description;
	char base[512];           /* base_url without a trailing '/' */
	char agent_header[160];   /* "x-ms-agent-name: …" */
	char guest_header[160];   /* "x-ms-guest-agent-name: …" */
	uint64_t deadline_us;
	bool json_absent;         /* 404: this wireserver has no JSON endpoint */
	long retry_after_s;       /* the last answer's Retry-After, -1 if none */
	char last[320];           /* why the last attempt failed */
};

static unsigned remaining_ms(const struct report *rp)
{
	uint64_t now = monotonic_usec();

	return now >= rp->deadline_us ? 0 : (unsigned)((rp->deadline_us - now + 999) / 1000);
}

/* The first attempt always runs, with at least a second: a zero budget still reports once. */
static unsigned request_timeout_ms(const struct report *rp)
{
	unsigned left = remaining_ms(rp);

	if (left < 1000)
		left = 1000;
	return left < REQUEST_TIMEOUT_MS ? left : REQUEST_TIMEOUT_MS;
}

static int request(struct report *rp, const char *method, const char *url, const char *const *headers,
		   const char *body, struct http_response *resp, const char *what)
{
	struct http_request req = {
		.method = method, .url = url, .headers = headers, .body = body,
		.body_len = body ? strlen(body) : 0, .timeout_ms = request_timeout_ms(rp),
		.stop = rp->o->stop,
	};
	int r = http_do(&req, resp);

	rp->retry_after_s = r == 0 ? resp->retry_after_s : -1;
	if (r < 0)
		snprintf(rp->last, sizeof(rp->last), "%s: %s", what, resp->error);
	else if (resp->status < 200 || resp->status > 299)
		snprintf(rp->last, sizeof(rp->last), "%s: HTTP %ld", what, resp->status);
	return r;
}

static bool success(const struct http_response *resp)
{
	return resp->status >= 200 && resp->status <= 299;
}

static int try_json(struct report *rp)
{
	_cleanup_(http_response_free) struct http_response resp = { 0 };
	_cleanup_free_ char *body = health_json_build(rp->ready, rp->description);
	const char *headers[] = { "Content-Type: application/json", rp->guest_header, NULL };
	char url[600];

	if (!body)
		return -ENOMEM;
	snprintf(url, sizeof(url), "%s/provisioning/health", rp->base);
	if (request(rp, "POST", url, headers, body, &resp, "JSON health") < 0)
		return -EAGAIN;
	if (resp.status == 404) {
		rp->json_absent = true;
		log_info("wireserver: no JSON health endpoint (HTTP 404), using goal state and XML health");
	}
	return success(&resp) ? 0 : -EAGAIN;
}

static int fetch_goal_state(struct report *rp, struct goal_state *gs)
{
	_cleanup_(http_response_free) struct http_response resp = { 0 };
	const char *headers[] = { "x-ms-version: " WIRE_PROTOCOL_VERSION, rp->agent_header, NULL };
	char url[600], err[200];

	snprintf(url, sizeof(url), "%s/machine/?comp=goalstate", rp->base);
	if (request(rp, "GET", url, headers, NULL, &resp, "goal state") < 0 || resp.status != 200)
		return -EAGAIN;
	if (goal_state_parse(resp.body, resp.body_len, gs, err, sizeof(err)) < 0) {
		snprintf(rp->last, sizeof(rp->last), "%s", err);
		return -EAGAIN;
	}
	return 0;
}

/* A fresh goal state on every attempt: the incarnation may have moved on. */
static int try_xml(struct report *rp)
{
	_cleanup_(http_response_free) struct http_response resp = { 0 };
	_cleanup_free_ char *body = NULL;
	const char *headers[] = { "Content-Type: text/xml; charset=utf-8", "x-ms-version: " WIRE_PROTOCOL_VERSION,
				  rp->agent_header, NULL };
	struct goal_state gs;
	char url[600];
	int r;

	r = fetch_goal_state(rp, &gs);
	if (r < 0)
		return r;
	body = health_xml_build(&gs, rp->ready, rp->description);
	if (!body)
		return -ENOMEM;
	snprintf(url, sizeof(url), "%s/machine?comp=health", rp->base);
	if (request(rp, "POST", url, headers, body, &resp, "XML health") < 0)
		return -EAGAIN;
	return success(&resp) ? 0 : -EAGAIN;
}

/* The configured pause, longer when the host asked for it, never past the budget. */
static unsigned next_pause_ms(const struct report *rp)
{
	unsigned pause = rp->o->retry_ms, left = remaining_ms(rp);

	if (rp->retry_after_s > 0 && (uint64_t)rp->retry_after_s * 1000u > pause)
		pause = (uint64_t)rp->retry_after_s * 1000u > left ? left : (unsigned)rp->retry_after_s * 1000u;
	return pause < left ? pause : left;
}

static int report_init(struct report *rp, const struct wireserver_options *o, bool ready,
		       const char *description, char *err, size_t errlen)
{
	const char *agent = o->agent_name && *o->agent_name ? o->agent_name : "azl-agent";
	size_t n;

	*rp = (struct report){ .o = o, .ready = ready, .description = description, .retry_after_s = -1 };
	if (!o->base_url || !*o->base_url || strpbrk(agent, "\r\n")) {
		snprintf(err, errlen, "wireserver: %s", o->base_url && *o->base_url ? "agent name with a line break"
										  : "no base URL");
		return -EINVAL;
	}
	n = strlen(o->base_url);
	while (n > 0 && o->base_url[n - 1] == '/')
		n--;
	if (n >= sizeof(rp->base) || snprintf(rp->agent_header, sizeof(rp->agent_header), "x-ms-agent-name: %s",
					       agent) >= (int)sizeof(rp->agent_header)) {
		snprintf(err, errlen, "wireserver: base URL or agent name too long");
		return -EINVAL;
	}
	memcpy(rp->base, o->base_url, n);
	rp->base[n] = '\0';
	snprintf(rp->guest_header, sizeof(rp->guest_header), "x-ms-guest-agent-name: %s", agent);
	rp->deadline_us = monotonic_usec() + (uint64_t)o->budget_ms * 1000u;
	return 0;
}

int wireserver_report(const struct wireserver_options *o, bool ready, const char *description,
		      const char **via, char *err, size_t errlen)
{
	struct report rp;
	unsigned attempts = 0;
	int r;

	if (via)
		*via = NULL;
	r = report_init(&rp, o, ready, description, err, errlen);
	if (r < 0)
		return r;
	for (;;) {
		const char *took = NULL;

		attempts++;
		r = rp.json_absent ? -EAGAIN : try_json(&rp);
		if (r == 0)
			took = "json";
		else if (r == -EAGAIN && (r = try_xml(&rp)) == 0)
			took = "xml";
		if (took) {
			log_info("wireserver: %s reported over %s after %u attempt(s)", ready ? "Ready" : "NotReady",
				 took, attempts);
			if (via)
				*via = took;
			return 0;
		}
		if (r != -EAGAIN) {
			snprintf(err, errlen, "wireserver: %s", strerror(-r));
			return r;
		}
		log_debug("wireserver: attempt %u did not succeed: %s", attempts, rp.last);
		if (remaining_ms(&rp) == 0)
			break;
		sleep_ms(next_pause_ms(&rp), o->stop);
		if (o->stop && *o->stop) {
			snprintf(err, errlen, "wireserver: interrupted (the agent is stopping); last: %s", rp.last);
			return -EINTR;
		}
		if (remaining_ms(&rp) == 0)
			break;
	}
	snprintf(err, errlen, "wireserver: no report accepted in %u ms (%u attempts); last: %s", o->budget_ms,
		 attempts, rp.last);
	return -ETIMEDOUT;
}
