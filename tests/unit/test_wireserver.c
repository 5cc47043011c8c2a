// SPDX-License-Identifier: MIT
/*
 * The wireserver: goal state parsing (real shapes, missing elements, huge,
 * XXE), the XML and JSON health bodies, and wireserver_report against a
 * tiny scripted HTTP server on 127.0.0.1 (a forked child).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "util.h"
#include "wireserver.h"

#define INSTANCE "7d0b9b86e8f7438b9e1f8a1a2d6f4d1b.vm-name"
#define CONTAINER "c6d5526c-5ac2-4200-b6e2-56f2b70c5ab2"

/* The shape a wireserver sends (trimmed configuration URLs). */
static const char GOAL[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<GoalState xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	"xsi:noNamespaceSchemaLocation=\"goalstate10.xsd\">\n"
	"  <Version>2012-11-30</Version>\n"
	"  <Incarnation>12</Incarnation>\n"
	"  <Machine>\n"
	"    <ExpectedState>Started</ExpectedState>\n"
	"    <StopRolesDeadlineHint>300000</StopRolesDeadlineHint>\n"
	"    <LBProbePorts><Port>16001</Port></LBProbePorts>\n"
	"    <ExpectHealthReport>FALSE</ExpectHealthReport>\n"
	"  </Machine>\n"
	"  <Container>\n"
	"    <ContainerId>" CONTAINER "</ContainerId>\n"
	"    <RoleInstanceList>\n"
	"      <RoleInstance>\n"
	"        <InstanceId>" INSTANCE "</InstanceId>\n"
	"        <State>Started</State>\n"
	"        <Configuration>\n"
	"          <HostingEnvironmentConfig>http://127.0.0.1/machine/x?comp=config&amp;type=hostingEnvironmentConfig&amp;incarnation=12</HostingEnvironmentConfig>\n"
	"          <SharedConfig>http://127.0.0.1/machine/x?comp=config&amp;type=sharedConfig&amp;incarnation=12</SharedConfig>\n"
	"          <ExtensionsConfig>http://127.0.0.1/machine/x?comp=config&amp;type=extensionsConfig&amp;incarnation=12</ExtensionsConfig>\n"
	"          <FullConfig>http://127.0.0.1/machine/x?comp=config&amp;type=fullConfig&amp;incarnation=12</FullConfig>\n"
	"          <Certificates>http://127.0.0.1/machine/x?comp=certificates&amp;incarnation=12</Certificates>\n"
	"          <ConfigName>x.0.x.0._vm.1.xml</ConfigName>\n"
	"        </Configuration>\n"
	"      </RoleInstance>\n"
	"    </RoleInstanceList>\n"
	"  </Container>\n"
	"</GoalState>\n";

static int parse(const char *xml, struct goal_state *gs, char *err, size_t errlen)
{
	return goal_state_parse(xml, strlen(xml), gs, err, errlen);
}

/* ---- goal state ------------------------------------------------------------ */

static void goal_state_real_shape(void **state)
{
	struct goal_state gs;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(GOAL, &gs, err, sizeof(err)), 0);
	assert_string_equal(gs.incarnation, "12");
	assert_string_equal(gs.container_id, CONTAINER);
	assert_string_equal(gs.role_instance_id, INSTANCE);
}

static void goal_state_namespaces_cdata_whitespace(void **state)
{
	static const char xml[] =
		"<GoalState xmlns=\"urn:example\"><Incarnation>\n 3 \n</Incarnation><!-- c -->"
		"<Container><ContainerId><![CDATA[abc]]>-def</ContainerId><RoleInstanceList>"
		"<RoleInstance><InstanceId>first</InstanceId></RoleInstance>"
		"<RoleInstance><InstanceId>second</InstanceId></RoleInstance>"
		"</RoleInstanceList></Container></GoalState>";
	struct goal_state gs;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(xml, &gs, err, sizeof(err)), 0);
	assert_string_equal(gs.incarnation, "3");
	assert_string_equal(gs.container_id, "abc-def");
	assert_string_equal(gs.role_instance_id, "first");
}

static void expect_missing(const char *from, const char *to, const char *named)
{
	_cleanup_free_ char *xml = strdup(GOAL);
	char *a = strstr(xml, from), *b;
	struct goal_state gs;
	char err[256] = "";

	assert_non_null(a);
	b = strstr(a, to);
	assert_non_null(b);
	memmove(a, b + strlen(to), strlen(b + strlen(to)) + 1);
	assert_int_equal(parse(xml, &gs, err, sizeof(err)), -EINVAL);
	if (!strstr(err, named))
		fail_msg("error \"%s\" does not name %s", err, named);
	assert_string_equal(gs.incarnation, "");
}

static void goal_state_missing_elements(void **state)
{
	(void)state;
	expect_missing("<Incarnation>", "</Incarnation>", "Incarnation");
	expect_missing("<ContainerId>", "</ContainerId>", "ContainerId");
	expect_missing("<InstanceId>", "</InstanceId>", "InstanceId");
	expect_missing("<RoleInstanceList>", "</RoleInstanceList>", "RoleInstanceList");
	expect_missing("<RoleInstance>", "</RoleInstance>", "RoleInstance");
	expect_missing("<Container>", "</Container>", "Container");
}

static void goal_state_bad_values(void **state)
{
	struct goal_state gs;
	char err[256] = "", xml[1024], longid[200];

	(void)state;
	assert_int_equal(parse("<GoalState><Incarnation></Incarnation></GoalState>", &gs, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Incarnation is empty"));
	assert_int_equal(parse("<GoalState><Incarnation><b>1</b></Incarnation></GoalState>", &gs, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "markup"));
	assert_int_equal(parse("<GoalState><Incarnation>1&#1;</Incarnation></GoalState>", &gs, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(parse("<Other/>", &gs, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "GoalState"));
	assert_int_equal(parse("<GoalState><Incarnation>1</Incar", &gs, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not valid XML"));
	assert_int_equal(goal_state_parse("", 0, &gs, err, sizeof(err)), -EINVAL);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	snprintf(xml, sizeof(xml),
		 "<GoalState><Incarnation>1</Incarnation><Container><ContainerId>c</ContainerId>"
		 "<RoleInstanceList><RoleInstance><InstanceId>%s</InstanceId></RoleInstance>"
		 "</RoleInstanceList></Container></GoalState>", longid);
	assert_int_equal(parse(xml, &gs, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "InstanceId is too long"));
}

static void goal_state_huge(void **state)
{
	size_t n = 2u << 20;
	_cleanup_free_ char *xml = malloc(n + 1);
	struct goal_state gs;
	char err[256] = "";
	size_t at;

	(void)state;
	at = (size_t)sprintf(xml, "<GoalState><Incarnation>1</Incarnation><Pad>");
	memset(xml + at, 'x', n - at);
	xml[n] = '\0';
	assert_int_equal(goal_state_parse(xml, n, &gs, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "more than"));
}

static void goal_state_xxe_not_expanded(void **state)
{
	char secret[] = "/tmp/azl-ws-secret-XXXXXX", xml[1024];
	struct goal_state gs;
	char err[256] = "";
	int fd = mkstemp(secret);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "TOPSECRET", 9), 9);
	close(fd);
	snprintf(xml, sizeof(xml),
		 "<?xml version=\"1.0\"?>\n<!DOCTYPE GoalState [ <!ENTITY xxe SYSTEM \"file://%s\"> ]>\n"
		 "<GoalState><Incarnation>&xxe;</Incarnation><Container><ContainerId>&xxe;</ContainerId>"
		 "<RoleInstanceList><RoleInstance><InstanceId>&xxe;</InstanceId></RoleInstance>"
		 "</RoleInstanceList></Container></GoalState>", secret);
	assert_int_equal(parse(xml, &gs, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "TOPSECRET"));
	assert_null(strstr(gs.incarnation, "TOPSECRET"));
	unlink(secret);

	/* An internal entity is not expanded either, and a billion laughs costs nothing. */
	assert_int_equal(parse("<!DOCTYPE GoalState [<!ENTITY a \"42\">]><GoalState><Incarnation>&a;</Incarnation>"
			       "</GoalState>", &gs, err, sizeof(err)), -EINVAL);
	assert_int_equal(parse("<!DOCTYPE GoalState [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
			       "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;\">"
			       "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;\">]>"
			       "<GoalState><Incarnation>&f;</Incarnation></GoalState>", &gs, err, sizeof(err)),
			 -EINVAL);
}

/* ---- bodies ---------------------------------------------------------------- */

static const struct goal_state GS = { "12", CONTAINER, INSTANCE };

#define HEALTH_HEAD                                                                                        \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                                                     \
	"<Health xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "                                 \
	"xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n"                                                \
	"  <GoalStateIncarnation>12</GoalStateIncarnation>\n"                                              \
	"  <Container>\n"                                                                                  \
	"    <ContainerId>" CONTAINER "</ContainerId>\n"                                                   \
	"    <RoleInstanceList>\n"                                                                         \
	"      <Role>\n"                                                                                   \
	"        <InstanceId>" INSTANCE "</InstanceId>\n"                                                  \
	"        <Health>\n"
#define HEALTH_TAIL                                                                                        \
	"        </Health>\n"                                                                              \
	"      </Role>\n"                                                                                  \
	"    </RoleInstanceList>\n"                                                                        \
	"  </Container>\n"                                                                                 \
	"</Health>\n"

static void health_xml_ready(void **state)
{
	_cleanup_free_ char *x = health_xml_build(&GS, true, "ignored");

	(void)state;
	assert_string_equal(x, HEALTH_HEAD "          <State>Ready</State>\n" HEALTH_TAIL);
}

static void health_xml_failure_escaped(void **state)
{
	_cleanup_free_ char *x = health_xml_build(&GS, false, "result=error|reason=<a> & 'b' \"c\"\x01");

	(void)state;
	assert_string_equal(x, HEALTH_HEAD "          <State>NotReady</State>\n"
			       "          <Details><SubStatus>ProvisioningFailed</SubStatus><Description>"
			       "result=error|reason=&lt;a&gt; &amp; &apos;b&apos; &quot;c&quot; "
			       "</Description></Details>\n" HEALTH_TAIL);
}

static void health_xml_escapes_goal_state_values(void **state)
{
	struct goal_state gs = { "1", "<c&>", "i\"d" };
	_cleanup_free_ char *x = health_xml_build(&gs, true, NULL);

	(void)state;
	assert_non_null(strstr(x, "<ContainerId>&lt;c&amp;&gt;</ContainerId>"));
	assert_non_null(strstr(x, "<InstanceId>i&quot;d</InstanceId>"));
}

/* The first element named `name` under n, depth first. */
static xmlNode *find_element(xmlNode *n, const char *name)
{
	for (; n; n = n->next) {
		xmlNode *f;

		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
		f = find_element(n->children, name);
		if (f)
			return f;
	}
	return NULL;
}

/* The Description text of a Health document, as an XML parser reads it. */
static char *description_of(const char *x)
{
	xmlDoc *doc = xmlReadMemory(x, (int)strlen(x), NULL, NULL, XML_PARSE_NONET);
	xmlNode *n;
	char *text = NULL;

	assert_non_null(doc);
	n = find_element(xmlDocGetRootElement(doc), "Description");
	if (n) {
		xmlChar *c = xmlNodeGetContent(n);

		text = strdup((const char *)c);
		xmlFree(c);
	}
	xmlFreeDoc(doc);
	return text;
}

static void health_xml_long_description_cut(void **state)
{
	size_t n = 10 * 1024;
	_cleanup_free_ char *desc = malloc(n + 1), *x = NULL, *back = NULL;
	const char *a, *b;

	(void)state;
	for (size_t i = 0; i < n; i++)
		desc[i] = "ab&<\xc3\xa9"[i % 6];
	/* Keep the UTF-8 pairs whole in the source. */
	for (size_t i = 0; i + 1 < n; i++)
		if ((unsigned char)desc[i] == 0xc3)
			desc[i + 1] = (char)0xa9;
	desc[n] = '\0';
	x = health_xml_build(&GS, false, desc);
	a = strstr(x, "<Description>") + strlen("<Description>");
	b = strstr(x, "</Description>");
	assert_true(b - a <= 3686);
	assert_true(b - a > 3686 - 6);
	assert_true(strlen(x) < 4096 + 1024);
	back = description_of(x);
	assert_non_null(back);
	assert_true(strlen(back) > 1000);
	assert_memory_equal(back, desc, strlen(back));
}

static void health_json_bodies(void **state)
{
	_cleanup_free_ char *ready = health_json_build(true, "ignored");
	_cleanup_free_ char *bad = health_json_build(false, "reason=\"x\"\n\\ <y>\xff");
	json_object *o, *d, *v;

	(void)state;
	assert_string_equal(ready, "{\"state\":\"Ready\"}");
	o = json_tokener_parse(bad);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "state", &v));
	assert_string_equal(json_object_get_string(v), "NotReady");
	assert_true(json_object_object_get_ex(o, "details", &d));
	assert_true(json_object_object_get_ex(d, "subStatus", &v));
	assert_string_equal(json_object_get_string(v), "ProvisioningFailed");
	assert_true(json_object_object_get_ex(d, "description", &v));
	assert_string_equal(json_object_get_string(v), "reason=\"x\"\n\\ <y>?");
	json_object_put(o);
}

static void health_json_long_description_cut(void **state)
{
	char desc[10 * 1024];
	_cleanup_free_ char *bad = NULL;
	json_object *o, *d, *v;

	(void)state;
	memset(desc, 'd', sizeof(desc) - 1);
	desc[sizeof(desc) - 1] = '\0';
	bad = health_json_build(false, desc);
	o = json_tokener_parse(bad);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "details", &d));
	assert_true(json_object_object_get_ex(d, "description", &v));
	assert_int_equal(strlen(json_object_get_string(v)), 3686);
	json_object_put(o);
}

/* ---- a scripted wireserver ------------------------------------------------- */

struct reply {
	int status;
	const char *body;
};

struct script {
	struct reply json[8], goal[8], health[8]; /* status 0 ends a list; the last repeats */
};

struct server {
	pid_t pid;
	int port;
	char log[64];
	char url[64];
};

static size_t read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0, need = 0;
	char *end = NULL;

	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");

			need = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
		}
		if (end && len >= need)
			break;
	}
	buf[len] = '\0';
	return len;
}

static const struct reply *pick(const struct reply *list, unsigned *i)
{
	const struct reply *r = &list[*i];

	if (list[*i + 1].status)
		(*i)++;
	return r;
}

static void serve(int lfd, const struct script *s, const char *log)
{
	unsigned ij = 0, ig = 0, ih = 0;
	static char buf[1 << 16];
	static const struct reply nf = { 404, "" };

	for (;;) {
		int fd = accept(lfd, NULL, NULL), lf;
		const struct reply *r = &nf;
		char head[256];
		size_t len;

		if (fd < 0)
			continue;
		len = read_request(fd, buf, sizeof(buf));
		if (strncmp(buf, "POST /provisioning/health ", 26) == 0 && s->json[0].status)
			r = pick(s->json, &ij);
		else if (strncmp(buf, "GET /machine/?comp=goalstate ", 29) == 0 && s->goal[0].status)
			r = pick(s->goal, &ig);
		else if (strncmp(buf, "POST /machine?comp=health ", 26) == 0 && s->health[0].status)
			r = pick(s->health, &ih);
		lf = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (lf >= 0) {
			if (write(lf, buf, len) < 0 || write(lf, "\n=====\n", 7) < 0)
				_exit(2);
			close(lf);
		}
		snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 r->status, strlen(r->body ? r->body : ""));
		if (write(fd, head, strlen(head)) < 0 || write(fd, r->body ? r->body : "", strlen(r->body ? r->body : "")) < 0)
			_exit(2);
		close(fd);
	}
}

static void server_start(struct server *sv, const struct script *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	sv->port = ntohs(a.sin_port);
	strcpy(sv->log, "/tmp/azl-ws-log-XXXXXX");
	fd = mkstemp(sv->log);
	assert_true(fd >= 0);
	close(fd);
	snprintf(sv->url, sizeof(sv->url), "http://127.0.0.1:%d/", sv->port);
	sv->pid = fork();
	assert_true(sv->pid >= 0);
	if (sv->pid == 0)
		serve(lfd, s, sv->log);
	close(lfd);
}

/* Stop the server and return what it was asked, requests separated by "=====". */
static char *server_stop(struct server *sv)
{
	char *text = NULL;
	size_t cap = 0;
	FILE *f;

	kill(sv->pid, SIGKILL);
	waitpid(sv->pid, NULL, 0);
	f = fopen(sv->log, "r");
	assert_non_null(f);
	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(f);
	unlink(sv->log);
	return text;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static int report(const char *url, unsigned budget_ms, bool ready, const char *desc, const char **via, char *err,
		  size_t errlen)
{
	struct wireserver_options o = { .base_url = url, .agent_name = "test-agent", .budget_ms = budget_ms,
					.retry_ms = 20 };

	return wireserver_report(&o, ready, desc, via, err, errlen);
}

static void report_json_accepted(void **state)
{
	struct script s = { .json = { { 201, "" } } };
	struct server sv;
	_cleanup_free_ char *log = NULL;
	const char *via = NULL;
	char err[512] = "";

	(void)state;
	server_start(&sv, &s);
	assert_int_equal(report(sv.url, 10000, true, NULL, &via, err, sizeof(err)), 0);
	log = server_stop(&sv);
	assert_string_equal(via, "json");
	assert_int_equal(count(log, "POST /provisioning/health HTTP/1.1"), 1);
	assert_non_null(strcasestr(log, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strcasestr(log, "\r\nx-ms-guest-agent-name: test-agent\r\n"));
	assert_non_null(strstr(log, "\r\n\r\n{\"state\":\"Ready\"}"));
	assert_int_equal(count(log, "comp=goalstate"), 0);
}

static void report_json_404_goes_xml(void **state)
{
	struct script s = { .json = { { 404, "" } }, .goal = { { 200, GOAL } }, .health = { { 200, "" } } };
	struct server sv;
	_cleanup_free_ char *log = NULL, *want = health_xml_build(&GS, false, "result=error|reason=x<y");
	const char *via = NULL;
	char err[512] = "";

	(void)state;
	server_start(&sv, &s);
	assert_int_equal(report(sv.url, 10000, false, "result=error|reason=x<y", &via, err, sizeof(err)), 0);
	log = server_stop(&sv);
	assert_string_equal(via, "xml");
	assert_int_equal(count(log, "POST /provisioning/health "), 1);
	assert_int_equal(count(log, "GET /machine/?comp=goalstate HTTP/1.1"), 1);
	assert_int_equal(count(log, "POST /machine?comp=health HTTP/1.1"), 1);
	assert_true(count(log, "\r\nx-ms-version: 2012-11-30\r\n") == 2);
	assert_true(count(log, "\r\nx-ms-agent-name: test-agent\r\n") == 2);
	assert_non_null(strcasestr(log, "\r\nContent-Type: text/xml; charset=utf-8\r\n"));
	assert_non_null(strstr(log, want));
}

static void report_500s_then_success(void **state)
{
	struct script s = { .json = { { 404, "" } },
			    .goal = { { 500, "" }, { 500, "" }, { 200, GOAL } },
			    .health = { { 500, "" }, { 200, "" } } };
	struct server sv;
	_cleanup_free_ char *log = NULL;
	const char *via = NULL;
	char err[512] = "";

	(void)state;
	server_start(&sv, &s);
	assert_int_equal(report(sv.url, 20000, true, NULL, &via, err, sizeof(err)), 0);
	log = server_stop(&sv);
	assert_string_equal(via, "xml");
	/* JSON once (404: absent); a fresh goal state before each XML post. */
	assert_int_equal(count(log, "POST /provisioning/health "), 1);
	assert_int_equal(count(log, "GET /machine/?comp=goalstate "), 4);
	assert_int_equal(count(log, "POST /machine?comp=health "), 2);
}

static void report_json_500s_then_json_success(void **state)
{
	struct script s = { .json = { { 500, "" }, { 503, "" }, { 200, "" } }, .goal = { { 500, "" } } };
	struct server sv;
	_cleanup_free_ char *log = NULL;
	const char *via = NULL;
	char err[512] = "";

	(void)state;
	server_start(&sv, &s);
	assert_int_equal(report(sv.url, 20000, false, "boom", &via, err, sizeof(err)), 0);
	log = server_stop(&sv);
	assert_string_equal(via, "json");
	assert_int_equal(count(log, "POST /provisioning/health "), 3);
	assert_int_equal(count(log, "GET /machine/?comp=goalstate "), 2);
}

static void report_bad_goal_state_retried(void **state)
{
	struct script s = { .json = { { 404, "" } },
			    .goal = { { 200, "<GoalState><Incarnation>1</Incarnation></GoalState>" }, { 200, GOAL } },
			    .health = { { 200, "" } } };
	struct server sv;
	_cleanup_free_ char *log = NULL;
	const char *via = NULL;
	char err[512] = "";

	(void)state;
	server_start(&sv, &s);
	assert_int_equal(report(sv.url, 20000, true, NULL, &via, err, sizeof(err)), 0);
	log = server_stop(&sv);
	assert_string_equal(via, "xml");
	assert_int_equal(count(log, "GET /machine/?comp=goalstate "), 2);
	assert_int_equal(count(log, "POST /machine?comp=health "), 1);
}

static void report_budget_exhausted(void **state)
{
	struct script s = { .json = { { 500, "" } }, .goal = { { 200, GOAL } }, .health = { { 503, "" } } };
	struct server sv;
	_cleanup_free_ char *log = NULL;
	const char *via = "x";
	char err[512] = "";

	(void)state;
	server_start(&sv, &s);
	assert_int_equal(report(sv.url, 300, true, NULL, &via, err, sizeof(err)), -ETIMEDOUT);
	log = server_stop(&sv);
	assert_null(via);
	assert_non_null(strstr(err, "XML health: HTTP 503"));
	assert_true(count(log, "POST /machine?comp=health ") >= 1);
}

static void report_wireserver_down(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char url[64], err[512] = "";
	const char *via = NULL;

	(void)state;
	/* A port nobody listens on: bound, closed, refused. */
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	assert_int_equal(report(url, 200, true, NULL, &via, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "goal state:"));
}

static void report_bad_options(void **state)
{
	struct wireserver_options o = { .base_url = "", .budget_ms = 10 };
	char err[256] = "";

	(void)state;
	assert_int_equal(wireserver_report(&o, true, NULL, NULL, err, sizeof(err)), -EINVAL);
	o.base_url = "http://127.0.0.1:1";
	o.agent_name = "evil\r\nX-Injected: 1";
	assert_int_equal(wireserver_report(&o, true, NULL, NULL, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(goal_state_real_shape),
		cmocka_unit_test(goal_state_namespaces_cdata_whitespace),
		cmocka_unit_test(goal_state_missing_elements),
		cmocka_unit_test(goal_state_bad_values),
		cmocka_unit_test(goal_state_huge),
		cmocka_unit_test(goal_state_xxe_not_expanded),
		cmocka_unit_test(health_xml_ready),
		cmocka_unit_test(health_xml_failure_escaped),
		cmocka_unit_test(health_xml_escapes_goal_state_values),
		cmocka_unit_test(health_xml_long_description_cut),
		cmocka_unit_test(health_json_bodies),
		cmocka_unit_test(health_json_long_description_cut),
		cmocka_unit_test(report_json_accepted),
		cmocka_unit_test(report_json_404_goes_xml),
		cmocka_unit_test(report_500s_then_success),
		cmocka_unit_test(report_json_500s_then_json_success),
		cmocka_unit_test(report_bad_goal_state_retried),
		cmocka_unit_test(report_budget_exhausted),
		cmocka_unit_test(report_wireserver_down),
		cmocka_unit_test(report_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
