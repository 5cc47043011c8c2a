// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the wireserver goal state parser, and the health bodies
 * built from what it returns and from the input as a description.  Beyond
 * "no crash": a Health document must always parse back as well-formed XML,
 * a JSON body as JSON, and a PROVISIONING_REPORT must fit 1022 bytes.
 */
#include <json-c/json.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provisioning_report.h"
#include "wireserver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_xml(const char *x)
{
	xmlDoc *doc;

	if (!x)
		return;
	doc = xmlReadMemory(x, (int)strlen(x), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		abort(); /* we built a Health document the wireserver could not read */
	xmlFreeDoc(doc);
}

static void check_json(const char *j)
{
	json_object *o;

	if (!j)
		return;
	o = json_tokener_parse(j);
	if (!o)
		abort();
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct goal_state gs;
	char err[256], *s, *x, *j, *r;

	if (goal_state_parse((const char *)data, size, &gs, err, sizeof(err)) == 0) {
		x = health_xml_build(&gs, true, NULL);
		check_xml(x);
		free(x);
	} else if (!memchr(err, '\0', sizeof(err))) {
		abort();
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&gs, 0, sizeof(gs));
	strncpy(gs.incarnation, s, sizeof(gs.incarnation)); /* maybe unterminated: allowed */
	x = health_xml_build(&gs, false, s);
	check_xml(x);
	j = health_json_build(false, s);
	check_json(j);
	r = provisioning_report_encode(false, s, NULL, 0, s, "2024-01-01T00:00:00Z");
	if (r && strlen(r) > PROVISIONING_REPORT_MAX)
		abort();
	free(r);
	free(j);
	free(x);
	free(s);
	return 0;
}
