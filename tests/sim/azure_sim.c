/* SPDX-License-Identifier: MIT */
/*
 * azure_sim: the Azure host as a provisioning agent sees it, on loopback.
 *
 * Two HTTP/1.1 listeners: IMDS (GET /metadata/instance, /metadata/versions)
 * and the wireserver (GET /machine/?comp=goalstate, POST
 * /machine?comp=health, POST /provisioning/health, GET /?comp=versions),
 * shaped as research/provisioning.md §1.2, §3.2 and §3.3 describe.  A
 * scenario file (tests/sim/README.md) injects faults per endpoint: any
 * status, delays, Retry-After, dropped connections, hanging answers,
 * truncated, mistyped, incomplete or huge bodies, a listener that refuses
 * connections.  Every request is recorded as one tab-separated line in the
 * log so that tests can assert what the agent sent.
 *
 * The server is deliberately small: one thread, poll(), every connection
 * closed after one answer (Connection: close), Content-Length request
 * bodies only (Transfer-Encoding is answered 501), headers up to 64 KiB,
 * bodies up to 1 MiB.  Clients that misbehave get a 4xx and a log line,
 * never a crash.
 *
 * usage: azure_sim [--scenario FILE] [--log FILE] [--port-file FILE]
 *                  [--imds-port N] [--wire-port N] [--bind ADDR]
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX (64u * 1024)
#define BODY_MAX (1u << 20)
#define MAX_CONNS 64
#define MAX_HEADERS 64
#define MAX_RULES 256
#define MAX_OPTS 8
#define MAX_KEYS 16
#define DEFAULT_HUGE (5u << 20)
/* A real OpenSSH public key (the private half was thrown away). */
#define DEFAULT_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEB0lz32dgW/iRrWGRpVHMlFK7XE9He2ezbz+QHdbwOm sim@azure"

enum listener { L_IMDS, L_WIRE, L__N };
static const char *const listener_names[L__N] = { "imds", "wire" };

enum endpoint { EP_IMDS, EP_GOALSTATE, EP_HEALTH, EP_JSONHEALTH, EP__N, EP_OTHER = EP__N };
static const char *const ep_names[EP__N + 1] = { "imds", "goalstate", "health", "jsonhealth", "other" };

enum action { ACT_ANSWER, ACT_CLOSE, ACT_HANG };

struct rule {
	enum endpoint ep;
	unsigned count; /* 0: forever */
	unsigned used;
	enum action act;
	int status;
	unsigned delay_ms;
	long retry_after; /* -1: none */
	char *body;       /* body kind, NULL: ok */
	char *drops[MAX_OPTS];
	size_t n_drops;
	char *patches[MAX_OPTS];
	size_t n_patches;
};

struct doc {
	char *vm_id, *computer_name, *admin_username, *disable_password, *user_data, *vm_size,
		*location, *pps_type, *has_custom_data;
	char *keys[MAX_KEYS];
	size_t n_keys;
	bool keys_set; /* a scenario's first "set key" replaces the default key */
	char *reject_api[MAX_OPTS];
	size_t n_reject_api;
	char *incarnation, *container_id, *instance_id;
};

struct scenario {
	struct rule rules[MAX_RULES];
	size_t n_rules;
	bool down[L__N];
	struct doc doc;
	char dir[PATH_MAX]; /* for body=file: paths */
};

struct header {
	const char *name, *value;
};

struct request {
	char *method, *target, *version;
	char *path, *query; /* a malloc'd copy of target, split at '?' */
	struct header headers[MAX_HEADERS];
	size_t n_headers;
	char *body;
	size_t body_len;
};

enum conn_state { C_FREE, C_READ, C_BODY, C_WAIT, C_WRITE, C_HANG };

struct conn {
	enum conn_state state;
	int fd;
	enum listener l;
	char hdr[HDR_MAX + 1];
	size_t hdr_len, hdr_end;
	struct request req;
	size_t content_length, body_got;
	uint64_t due_ms;
	bool close_at_due; /* ACT_CLOSE */
	char *out;
	size_t out_len, out_off;
};

struct sim {
	struct scenario sc;
	int listen_fd[L__N];
	int port[L__N];
	int sig_fd;
	int log_fd;
	unsigned long seq;
	uint64_t start_ms;
	struct conn *conns; /* MAX_CONNS */
};

/* ---------------------------------------------------------------- helpers */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("azure_sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		die("out of memory");
	return d;
}

/* A growable string; out of memory is fatal for a test tool. */
struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			die("out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		buf_add(b, tmp, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big)
		die("out of memory");
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_add(b, big, (size_t)n);
	free(big);
}

/*
 * A log field value: tabs, newlines, backslashes and other control or
 * non-ASCII bytes escaped so that a record stays one line of text and a
 * hostile client cannot forge fields.
 */
static void buf_escaped(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\')
			buf_puts(b, "\\\\");
		else if (c == '\t')
			buf_puts(b, "\\t");
		else if (c == '\n')
			buf_puts(b, "\\n");
		else if (c == '\r')
			buf_puts(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_add(b, (const char *)&s[i], 1);
	}
}

static void field(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, "\t%s=", key);
	if (value)
		buf_escaped(b, value, strlen(value));
}

/*
 * A body on one line: a line break with its indentation vanishes between
 * two tags ("> <"), elsewhere it becomes one blank.
 */
static void field_body(struct buf *b, const char *body, size_t len)
{
	struct buf t = { 0 };
	for (size_t i = 0; i < len;) {
		if (body[i] == '\r' || body[i] == '\n') {
			size_t j = i;
			while (j < len && (body[j] == '\r' || body[j] == '\n' || body[j] == ' ' || body[j] == '\t'))
				j++;
			bool between_tags = t.len > 0 && t.p[t.len - 1] == '>' && j < len && body[j] == '<';
			bool at_edge = t.len == 0 || j == len;
			if (!between_tags && !at_edge)
				buf_puts(&t, " ");
			i = j;
		} else {
			buf_add(&t, &body[i], 1);
			i++;
		}
	}
	buf_puts(b, "\tbody=");
	if (t.p)
		buf_escaped(b, t.p, t.len);
	free(t.p);
}

/* ------------------------------------------------------------- scenario */

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static void doc_set(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

static void doc_defaults(struct doc *d)
{
	doc_set(&d->vm_id, "8f0e4c4a-7a1b-4f0e-9c7d-2b5b4e6a9d31");
	doc_set(&d->computer_name, "simvm");
	doc_set(&d->admin_username, "azureuser");
	doc_set(&d->disable_password, "true");
	doc_set(&d->user_data, "");
	doc_set(&d->vm_size, "Standard_D2s_v5");
	doc_set(&d->location, "westus2");
	doc_set(&d->pps_type, "None");
	doc_set(&d->has_custom_data, "false");
	doc_set(&d->incarnation, "1");
	doc_set(&d->container_id, "3c7e9a4b-5f1d-4b7e-8a2c-6d9e1f0a2b3c");
	d->keys[d->n_keys++] = xstrdup(DEFAULT_KEY);
}

static void doc_free(struct doc *d)
{
	char **all[] = { &d->vm_id, &d->computer_name, &d->admin_username, &d->disable_password,
			 &d->user_data, &d->vm_size, &d->location, &d->pps_type, &d->has_custom_data,
			 &d->incarnation, &d->container_id, &d->instance_id };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		free(*all[i]);
		*all[i] = NULL;
	}
	for (size_t i = 0; i < d->n_keys; i++)
		free(d->keys[i]);
	for (size_t i = 0; i < d->n_reject_api; i++)
		free(d->reject_api[i]);
	d->n_keys = d->n_reject_api = 0;
}

static void scenario_free(struct scenario *sc)
{
	for (size_t i = 0; i < sc->n_rules; i++) {
		struct rule *r = &sc->rules[i];
		free(r->body);
		for (size_t j = 0; j < r->n_drops; j++)
			free(r->drops[j]);
		for (size_t j = 0; j < r->n_patches; j++)
			free(r->patches[j]);
	}
	sc->n_rules = 0;
	doc_free(&sc->doc);
}

/* "set NAME VALUE": VALUE is the rest of the line (a key has blanks). */
static int scenario_set(struct scenario *sc, const char *name, const char *value, char *err, size_t errlen)
{
	struct doc *d = &sc->doc;
	static const struct {
		const char *name;
		size_t off;
	} slots[] = {
		{ "vm-id", offsetof(struct doc, vm_id) },
		{ "computer-name", offsetof(struct doc, computer_name) },
		{ "admin-username", offsetof(struct doc, admin_username) },
		{ "disable-password", offsetof(struct doc, disable_password) },
		{ "user-data", offsetof(struct doc, user_data) },
		{ "vm-size", offsetof(struct doc, vm_size) },
		{ "location", offsetof(struct doc, location) },
		{ "pps-type", offsetof(struct doc, pps_type) },
		{ "has-custom-data", offsetof(struct doc, has_custom_data) },
		{ "incarnation", offsetof(struct doc, incarnation) },
		{ "container-id", offsetof(struct doc, container_id) },
		{ "instance-id", offsetof(struct doc, instance_id) },
	};
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		if (strcmp(name, slots[i].name) == 0) {
			doc_set((char **)((char *)d + slots[i].off), value);
			return 0;
		}
	}
	if (strcmp(name, "no-keys") == 0 || (strcmp(name, "key") == 0 && !d->keys_set)) {
		for (size_t i = 0; i < d->n_keys; i++)
			free(d->keys[i]);
		d->n_keys = 0;
		d->keys_set = true;
		if (name[0] == 'n')
			return 0;
	}
	if (strcmp(name, "key") == 0 || strcmp(name, "reject-api-version") == 0) {
		bool key = name[0] == 'k';
		char **arr = key ? d->keys : d->reject_api;
		size_t *n = key ? &d->n_keys : &d->n_reject_api;
		size_t max = key ? MAX_KEYS : MAX_OPTS;
		if (*n >= max) {
			snprintf(err, errlen, "too many '%s' lines (max %zu)", name, max);
			return -EINVAL;
		}
		arr[(*n)++] = xstrdup(value);
		return 0;
	}
	snprintf(err, errlen, "unknown setting '%s'", name);
	return -EINVAL;
}

static int rule_option(struct rule *r, const char *opt, char *err, size_t errlen)
{
	unsigned long v;
	if (opt[0] == 'x') {
		if (strcmp(opt, "x*") == 0) {
			r->count = 0;
			return 0;
		}
		if (!parse_uint(opt + 1, 1000000, &v) || v == 0)
			goto bad;
		r->count = (unsigned)v;
		return 0;
	}
	if (strncmp(opt, "delay=", 6) == 0) {
		if (!parse_uint(opt + 6, 600000, &v))
			goto bad;
		r->delay_ms = (unsigned)v;
		return 0;
	}
	if (strncmp(opt, "retry-after=", 12) == 0) {
		if (!parse_uint(opt + 12, 86400, &v))
			goto bad;
		r->retry_after = (long)v;
		return 0;
	}
	if (strncmp(opt, "body=", 5) == 0) {
		free(r->body);
		r->body = xstrdup(opt + 5);
		return 0;
	}
	if (strncmp(opt, "drop=", 5) == 0 || strncmp(opt, "patch=", 6) == 0) {
		bool drop = opt[0] == 'd';
		size_t *n = drop ? &r->n_drops : &r->n_patches;
		if (*n >= MAX_OPTS) {
			snprintf(err, errlen, "too many drop=/patch= options (max %d)", MAX_OPTS);
			return -EINVAL;
		}
		const char *arg = strchr(opt, '=') + 1;
		if (!drop && !strchr(arg, ':'))
			goto bad;
		(drop ? r->drops : r->patches)[(*n)++] = xstrdup(arg);
		return 0;
	}
bad:
	snprintf(err, errlen, "bad option '%s'", opt);
	return -EINVAL;
}

static int scenario_rule(struct scenario *sc, char **tok, size_t n, char *err, size_t errlen)
{
	if (n < 2) {
		snprintf(err, errlen, "'%s' needs an action", tok[0]);
		return -EINVAL;
	}
	if (strcmp(tok[1], "down") == 0) {
		for (int l = 0; l < L__N; l++) {
			if (strcmp(tok[0], listener_names[l]) == 0 && n == 2) {
				sc->down[l] = true;
				return 0;
			}
		}
		snprintf(err, errlen, "'down' takes a listener: 'imds down' or 'wire down'");
		return -EINVAL;
	}
	int ep = -1;
	for (int e = 0; e < EP__N; e++)
		if (strcmp(tok[0], ep_names[e]) == 0)
			ep = e;
	if (ep < 0) {
		snprintf(err, errlen, "unknown endpoint '%s'", tok[0]);
		return -EINVAL;
	}
	if (sc->n_rules >= MAX_RULES) {
		snprintf(err, errlen, "too many rules (max %d)", MAX_RULES);
		return -EINVAL;
	}
	struct rule *r = &sc->rules[sc->n_rules];
	*r = (struct rule){ .ep = (enum endpoint)ep, .count = 1, .retry_after = -1 };
	unsigned long v;
	if (strcmp(tok[1], "close") == 0)
		r->act = ACT_CLOSE;
	else if (strcmp(tok[1], "hang") == 0)
		r->act = ACT_HANG;
	else if (parse_uint(tok[1], 599, &v) && v >= 100)
		r->status = (int)v;
	else {
		snprintf(err, errlen, "bad action '%s' (a status 100-599, close, hang)", tok[1]);
		return -EINVAL;
	}
	sc->n_rules++; /* counted now so that scenario_free frees its options */
	for (size_t i = 2; i < n; i++) {
		int rc = rule_option(r, tok[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int scenario_line(struct scenario *sc, char *line, char *err, size_t errlen)
{
	char *hash = strchr(line, '#');
	char *tok[32];
	size_t n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	if (strncmp(line, "set ", 4) == 0 || strncmp(line, "set\t", 4) == 0) {
		char *name = line + 4;
		name += strspn(name, " \t");
		char *value = name + strcspn(name, " \t");
		if (*value) {
			*value++ = '\0';
			value += strspn(value, " \t");
		}
		size_t vl = strlen(value);
		while (vl && (value[vl - 1] == ' ' || value[vl - 1] == '\t'))
			value[--vl] = '\0';
		return scenario_set(sc, name, value, err, errlen);
	}
	if (hash)
		*hash = '\0';
	for (char *save = NULL, *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == sizeof(tok) / sizeof(tok[0])) {
			snprintf(err, errlen, "too many words");
			return -EINVAL;
		}
		tok[n++] = t;
	}
	if (n == 0)
		return 0;
	return scenario_rule(sc, tok, n, err, errlen);
}

static void scenario_load(struct scenario *sc, const char *path)
{
	doc_defaults(&sc->doc);
	if (!path) {
		if (!getcwd(sc->dir, sizeof(sc->dir)))
			die("getcwd: %s", strerror(errno));
		return;
	}
	FILE *f = fopen(path, "re");
	if (!f)
		die("%s: %s", path, strerror(errno));
	snprintf(sc->dir, sizeof(sc->dir), "%s", path);
	char *slash = strrchr(sc->dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(sc->dir, sizeof(sc->dir), ".");

	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	char err[256];
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (scenario_line(sc, line, err, sizeof(err)) < 0) {
			fprintf(stderr, "azure_sim: %s:%u: %s\n", path, lineno, err);
			free(line);
			fclose(f);
			scenario_free(sc);
			exit(2);
		}
	}
	free(line);
	fclose(f);
}

/* The role instance id is "<vmId>._<computer name>" unless the scenario set one. */
static void scenario_finish(struct scenario *sc)
{
	struct doc *d = &sc->doc;
	if (d->instance_id)
		return;
	size_t n = strlen(d->vm_id) + strlen(d->computer_name) + 3;
	d->instance_id = malloc(n);
	if (!d->instance_id)
		die("out of memory");
	snprintf(d->instance_id, n, "%s._%s", d->vm_id, d->computer_name);
}

/* The next rule for an endpoint: the first unexhausted, else the last. */
static struct rule *scenario_next(struct scenario *sc, enum endpoint ep)
{
	struct rule *last = NULL;
	for (size_t i = 0; i < sc->n_rules; i++) {
		struct rule *r = &sc->rules[i];
		if (r->ep != ep)
			continue;
		if (r->count == 0 || r->used < r->count) {
			r->used++;
			return r;
		}
		last = r;
	}
	if (last)
		last->used++;
	return last;
}

/* ------------------------------------------------------------ documents */

static bool api_at_least(const char *api, const char *since)
{
	return strcmp(api, since) >= 0; /* YYYY-MM-DD compares as text */
}

static void jadd(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* The instance document of §1.2: every primitive a string, as IMDS sends. */
static struct json_object *imds_document(const struct doc *d, const char *api, bool extended)
{
	struct json_object *root = json_object_new_object();
	struct json_object *c = json_object_new_object();
	jadd(c, "azEnvironment", "AzurePublicCloud");
	jadd(c, "location", d->location);
	jadd(c, "name", d->computer_name);
	jadd(c, "offer", "azure-linux-3");
	jadd(c, "osType", "Linux");
	if (api_at_least(api, "2020-07-15")) {
		struct json_object *os = json_object_new_object();
		jadd(os, "adminUsername", d->admin_username);
		jadd(os, "computerName", d->computer_name);
		if (api_at_least(api, "2020-10-01"))
			jadd(os, "disablePasswordAuthentication", d->disable_password);
		json_object_object_add(c, "osProfile", os);
	}
	jadd(c, "platformFaultDomain", "0");
	jadd(c, "platformUpdateDomain", "0");
	struct json_object *keys = json_object_new_array();
	for (size_t i = 0; i < d->n_keys; i++) {
		struct json_object *k = json_object_new_object();
		char path[512];
		snprintf(path, sizeof(path), "/home/%s/.ssh/authorized_keys", d->admin_username);
		jadd(k, "keyData", d->keys[i]);
		jadd(k, "path", path);
		json_object_array_add(keys, k);
	}
	json_object_object_add(c, "publicKeys", keys);
	jadd(c, "publisher", "MicrosoftCBLMariner");
	jadd(c, "resourceGroupName", "sim-rg");
	jadd(c, "sku", "azure-linux-3-gen2");
	struct json_object *sp = json_object_new_object();
	struct json_object *rd = json_object_new_object();
	jadd(rd, "size", "16384");
	json_object_object_add(sp, "resourceDisk", rd);
	json_object_object_add(c, "storageProfile", sp);
	jadd(c, "subscriptionId", "00000000-0000-4000-8000-000000000000");
	jadd(c, "tags", "");
	if (api_at_least(api, "2021-01-01"))
		jadd(c, "userData", d->user_data);
	jadd(c, "version", "3.20250101.01");
	jadd(c, "vmId", d->vm_id);
	jadd(c, "vmScaleSetName", "");
	jadd(c, "vmSize", d->vm_size);
	jadd(c, "zone", "");
	json_object_object_add(root, "compute", c);

	struct json_object *nic = json_object_new_object();
	struct json_object *v4 = json_object_new_object(), *ip = json_object_new_object();
	struct json_object *sn = json_object_new_object(), *v6 = json_object_new_object();
	jadd(ip, "privateIpAddress", "10.0.0.4");
	jadd(ip, "publicIpAddress", "");
	struct json_object *ips = json_object_new_array();
	json_object_array_add(ips, ip);
	json_object_object_add(v4, "ipAddress", ips);
	jadd(sn, "address", "10.0.0.0");
	jadd(sn, "prefix", "24");
	struct json_object *sns = json_object_new_array();
	json_object_array_add(sns, sn);
	json_object_object_add(v4, "subnet", sns);
	json_object_object_add(nic, "ipv4", v4);
	json_object_object_add(v6, "ipAddress", json_object_new_array());
	json_object_object_add(nic, "ipv6", v6);
	jadd(nic, "macAddress", "000D3A5F1E2B");
	struct json_object *nics = json_object_new_array(), *net = json_object_new_object();
	json_object_array_add(nics, nic);
	json_object_object_add(net, "interface", nics);
	json_object_object_add(root, "network", net);

	if (extended) {
		struct json_object *ext = json_object_new_object(), *ec = json_object_new_object();
		jadd(ec, "ppsType", d->pps_type);
		jadd(ec, "hasCustomData", d->has_custom_data);
		json_object_object_add(ext, "compute", ec);
		json_object_object_add(root, "extended", ext);
	}
	return root;
}

/*
 * Walk a dotted path ("compute.publicKeys.0.keyData"); returns the parent
 * of the last component and points *last at it.  NULL when a step is
 * missing.
 */
static struct json_object *json_walk(struct json_object *root, char *path, char **last)
{
	struct json_object *cur = root;
	char *dot;
	while ((dot = strchr(path, '.'))) {
		*dot = '\0';
		struct json_object *next = NULL;
		unsigned long idx;
		if (json_object_is_type(cur, json_type_array) && parse_uint(path, INT_MAX, &idx))
			next = json_object_array_get_idx(cur, (size_t)idx);
		else if (json_object_is_type(cur, json_type_object))
			json_object_object_get_ex(cur, path, &next);
		if (!next)
			return NULL;
		cur = next;
		path = dot + 1;
	}
	*last = path;
	return cur;
}

static void json_drop(struct json_object *root, const char *spec)
{
	char *p = xstrdup(spec), *last;
	struct json_object *parent = json_walk(root, p, &last);
	unsigned long idx;
	if (parent && json_object_is_type(parent, json_type_object))
		json_object_object_del(parent, last);
	else if (parent && json_object_is_type(parent, json_type_array) && parse_uint(last, INT_MAX, &idx))
		json_object_array_del_idx(parent, (size_t)idx, 1);
	free(p);
}

/* patch=PATH:JSON sets (or adds) PATH to a raw JSON value. */
static void json_patch(struct json_object *root, const char *spec)
{
	char *p = xstrdup(spec), *last;
	char *colon = strchr(p, ':');
	*colon = '\0';
	struct json_object *value = json_tokener_parse(colon + 1);
	if (!value)
		value = json_object_new_string(colon + 1); /* not JSON: a string */
	struct json_object *parent = json_walk(root, p, &last);
	unsigned long idx;
	if (parent && json_object_is_type(parent, json_type_object))
		json_object_object_add(parent, last, value);
	else if (parent && json_object_is_type(parent, json_type_array) && parse_uint(last, INT_MAX, &idx))
		json_object_array_put_idx(parent, (size_t)idx, value);
	else
		json_object_put(value);
	free(p);
}

static char *read_file_rel(const struct scenario *sc, const char *name, size_t *len)
{
	char path[PATH_MAX * 2];
	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", sc->dir, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	struct buf b = { 0 };
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(&b, tmp, n);
	fclose(f);
	if (!b.p)
		buf_add(&b, "", 0);
	*len = b.len;
	return b.p;
}

/* A body kind every endpoint understands; true when it handled it. */
static bool body_common(const struct scenario *sc, const char *kind, struct buf *out)
{
	if (strcmp(kind, "empty") == 0) {
		buf_add(out, "", 0);
		return true;
	}
	if (strcmp(kind, "html") == 0) {
		buf_puts(out, "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>\n");
		return true;
	}
	if (strncmp(kind, "file:", 5) == 0) {
		size_t len;
		char *data = read_file_rel(sc, kind + 5, &len);
		if (!data)
			die("body=%s: %s", kind, strerror(errno));
		buf_add(out, data, len);
		free(data);
		return true;
	}
	return false;
}

static void imds_body(const struct scenario *sc, const struct rule *r, const char *api, bool extended,
		      struct buf *out)
{
	const char *kind = r && r->body ? r->body : "ok";
	if (body_common(sc, kind, out))
		return;
	struct json_object *doc = imds_document(&sc->doc, api, extended);
	if (strcmp(kind, "wrong-types") == 0) {
		json_patch(doc, "compute.publicKeys:\"ssh-rsa AAAA\"");
		json_patch(doc, "compute.vmId:12345");
		json_patch(doc, "compute.osProfile.computerName:{\"name\":\"x\"}");
		json_patch(doc, "compute.osProfile.disablePasswordAuthentication:[true]");
	}
	for (size_t i = 0; r && i < r->n_drops; i++)
		json_drop(doc, r->drops[i]);
	for (size_t i = 0; r && i < r->n_patches; i++)
		json_patch(doc, r->patches[i]);
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text);
	if (strcmp(kind, "truncated") == 0) {
		buf_add(out, text, len / 2);
	} else if (strncmp(kind, "huge", 4) == 0) {
		/* Valid JSON, padded in compute.tags to the size asked for. */
		unsigned long want = DEFAULT_HUGE;
		if (kind[4] == ':' && !parse_uint(kind + 5, 1ul << 30, &want))
			die("bad body=%s", kind);
		size_t pad = want > len ? want - len : 0;
		char *fill = malloc(pad + 1);
		if (!fill)
			die("out of memory");
		memset(fill, 'x', pad);
		fill[pad] = '\0';
		struct json_object *c;
		json_object_object_get_ex(doc, "compute", &c);
		jadd(c, "tags", fill);
		free(fill);
		buf_puts(out, json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (strcmp(kind, "ok") == 0 || strcmp(kind, "wrong-types") == 0) {
		buf_add(out, text, len);
	} else {
		die("unknown imds body kind '%s'", kind);
	}
	json_object_put(doc);
}

static void goalstate_body(const struct scenario *sc, const struct rule *r, int wire_port, struct buf *out)
{
	const char *kind = r && r->body ? r->body : "ok";
	const struct doc *d = &sc->doc;
	if (body_common(sc, kind, out))
		return;
	struct buf b = { 0 };
	char cfg[512];
	snprintf(cfg, sizeof(cfg), "http://127.0.0.1:%d/machine/%s/%s?comp=config&amp;incarnation=%s", wire_port,
		 d->container_id, d->instance_id, d->incarnation);
	buf_printf(&b,
		   "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		   "<GoalState xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
		   "xsi:noNamespaceSchemaLocation=\"goalstate10.xsd\">\n"
		   "  <Version>2012-11-30</Version>\n"
		   "  <Incarnation>%s</Incarnation>\n"
		   "  <Machine>\n"
		   "    <ExpectedState>Started</ExpectedState>\n"
		   "    <StopRolesDeadlineHint>300000</StopRolesDeadlineHint>\n"
		   "    <LBProbePorts>\n      <Port>16001</Port>\n    </LBProbePorts>\n"
		   "    <ExpectHealthReport>FALSE</ExpectHealthReport>\n"
		   "  </Machine>\n"
		   "  <Container>\n"
		   "    <ContainerId>%s</ContainerId>\n"
		   "    <RoleInstanceList>\n",
		   d->incarnation, d->container_id);
	if (strcmp(kind, "no-role-instance") != 0)
		buf_printf(&b,
			   "      <RoleInstance>\n"
			   "        <InstanceId>%s</InstanceId>\n"
			   "        <State>Started</State>\n"
			   "        <Configuration>\n"
			   "          <HostingEnvironmentConfig>%s&amp;type=hostingEnvironmentConfig</HostingEnvironmentConfig>\n"
			   "          <SharedConfig>%s&amp;type=sharedConfig</SharedConfig>\n"
			   "          <ExtensionsConfig>%s&amp;type=extensionsConfig</ExtensionsConfig>\n"
			   "          <FullConfig>%s&amp;type=fullConfig</FullConfig>\n"
			   "          <Certificates>%s&amp;type=certificates</Certificates>\n"
			   "          <ConfigName>%s.0.%s.1.xml</ConfigName>\n"
			   "        </Configuration>\n"
			   "      </RoleInstance>\n",
			   d->instance_id, cfg, cfg, cfg, cfg, cfg, d->container_id, d->instance_id);
	buf_puts(&b, "    </RoleInstanceList>\n  </Container>\n</GoalState>\n");
	if (strcmp(kind, "truncated") == 0)
		buf_add(out, b.p, b.len / 2);
	else if (strcmp(kind, "ok") == 0 || strcmp(kind, "no-role-instance") == 0)
		buf_add(out, b.p, b.len);
	else
		die("unknown goalstate body kind '%s'", kind);
	free(b.p);
}

/* ------------------------------------------------------------------ HTTP */

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static const char *req_header(const struct request *q, const char *name)
{
	for (size_t i = 0; i < q->n_headers; i++)
		if (strcasecmp(q->headers[i].name, name) == 0)
			return q->headers[i].value;
	return NULL;
}

/* The value of a query parameter (no percent-decoding: ours are plain). */
static bool query_param(const char *query, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	for (const char *p = query; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t seg = amp ? (size_t)(amp - p) : strlen(p);
		if (seg > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = seg - nl - 1;
			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return true;
		}
		if (seg == nl && strncmp(p, name, nl) == 0) {
			out[0] = '\0';
			return true;
		}
		p = amp ? amp + 1 : NULL;
	}
	return false;
}

/* Parse the request line and headers in place; NULL or an error text. */
static const char *parse_head(char *hdr, struct request *q)
{
	char *save = NULL;
	char *line = strtok_r(hdr, "\n", &save);
	if (!line)
		return "empty request";
	line[strcspn(line, "\r")] = '\0';
	q->method = line;
	char *sp1 = strchr(line, ' ');
	if (!sp1)
		return "bad request line";
	*sp1 = '\0';
	q->target = sp1 + 1;
	char *sp2 = strchr(q->target, ' ');
	if (!sp2)
		return "bad request line";
	*sp2 = '\0';
	q->version = sp2 + 1;
	if (strncmp(q->version, "HTTP/1.", 7) != 0)
		return "not HTTP/1.x";
	while ((line = strtok_r(NULL, "\n", &save))) {
		line[strcspn(line, "\r")] = '\0';
		if (!*line)
			break;
		char *colon = strchr(line, ':');
		if (!colon || colon == line)
			return "bad header line";
		if (q->n_headers == MAX_HEADERS)
			return "too many headers";
		*colon = '\0';
		char *v = colon + 1;
		v += strspn(v, " \t");
		size_t vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			v[--vl] = '\0';
		q->headers[q->n_headers++] = (struct header){ line, v };
	}
	return NULL;
}

/* ------------------------------------------------------------ recording */

static void record(struct sim *s, struct buf *line)
{
	buf_puts(line, "\n");
	/* One write per record on an O_APPEND descriptor: readers never see half a line. */
	for (size_t off = 0; off < line->len;) {
		ssize_t n = write(s->log_fd, line->p + off, line->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

static void record_start(struct sim *s, struct buf *b, enum listener l, enum endpoint ep, const struct request *q)
{
	buf_printf(b, "seq=%lu\tt_ms=%llu\tport=%s\tep=%s", ++s->seq,
		   (unsigned long long)(now_ms() - s->start_ms), listener_names[l], ep_names[ep]);
	field(b, "method", q ? q->method : "");
	field(b, "target", q ? q->target : "");
}

static void record_headers(struct buf *b, const struct request *q)
{
	static const struct {
		const char *key, *header;
	} keys[] = {
		{ "metadata", "Metadata" },
		{ "reqid", "x-ms-client-request-id" },
		{ "xms_version", "x-ms-version" },
		{ "agent_name", "x-ms-agent-name" },
		{ "guest_agent_name", "x-ms-guest-agent-name" },
		{ "user_agent", "User-Agent" },
		{ "content_type", "Content-Type" },
		{ "xff", "X-Forwarded-For" },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = req_header(q, keys[i].header);
		if (v)
			field(b, keys[i].key, v);
	}
	bool proxy = strncmp(q->target, "/", 1) != 0 || req_header(q, "Proxy-Connection") ||
		     req_header(q, "Proxy-Authorization");
	field(b, "proxy", proxy ? "yes" : "no");
}

/* --------------------------------------------------------- health bodies */

static xmlNode *xml_find(xmlNode *n, const char *name)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
		xmlNode *c = xml_find(n->children, name);
		if (c)
			return c;
	}
	return NULL;
}

static void xml_field(struct buf *b, xmlDoc *doc, const char *key, const char *element, char *copy, size_t copylen)
{
	xmlNode *n = xml_find(xmlDocGetRootElement(doc), element);
	xmlChar *text = n ? xmlNodeGetContent(n) : NULL;
	field(b, key, text ? (const char *)text : "");
	if (copy)
		snprintf(copy, copylen, "%s", text ? (const char *)text : "");
	xmlFree(text);
}

/* The XML Health report: recorded field by field; 400 if not well formed or for another VM. */
static int health_xml(const struct scenario *sc, const struct request *q, struct buf *b)
{
	xmlDoc *doc = xmlReadMemory(q->body ? q->body : "", (int)q->body_len, "health.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc || !xmlDocGetRootElement(doc) ||
	    strcmp((const char *)xmlDocGetRootElement(doc)->name, "Health") != 0) {
		field(b, "xml", "invalid");
		xmlFreeDoc(doc);
		return 400;
	}
	char state[64], inc[128], cid[128], iid[256];
	field(b, "xml", "valid");
	xml_field(b, doc, "state", "State", state, sizeof(state));
	xml_field(b, doc, "substatus", "SubStatus", NULL, 0);
	xml_field(b, doc, "description", "Description", NULL, 0);
	xml_field(b, doc, "incarnation", "GoalStateIncarnation", inc, sizeof(inc));
	xml_field(b, doc, "container_id", "ContainerId", cid, sizeof(cid));
	xml_field(b, doc, "instance_id", "InstanceId", iid, sizeof(iid));
	xmlFreeDoc(doc);
	bool ids = strcmp(inc, sc->doc.incarnation) == 0 && strcmp(cid, sc->doc.container_id) == 0 &&
		   strcmp(iid, sc->doc.instance_id) == 0;
	field(b, "ids", ids ? "ok" : "mismatch");
	if (strcmp(state, "Ready") != 0 && strcmp(state, "NotReady") != 0)
		return 400;
	return ids ? 200 : 400;
}

static const char *json_str(struct json_object *o, const char *a, const char *k)
{
	struct json_object *v = NULL;
	if (a && !json_object_object_get_ex(o, a, &o))
		return NULL;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The JSON health report (§3.3); 400 unless {"state":"Ready"|"NotReady",...}. */
static int health_json(const struct request *q, struct buf *b)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, q->body ? q->body : "", (int)q->body_len);
	bool complete = o && json_tokener_get_error(tok) == json_tokener_success &&
			(size_t)json_tokener_get_parse_end(tok) == q->body_len;
	json_tokener_free(tok);
	if (!complete || !json_object_is_type(o, json_type_object)) {
		field(b, "json", "invalid");
		json_object_put(o);
		return 400;
	}
	const char *state = json_str(o, NULL, "state");
	field(b, "json", "valid");
	field(b, "state", state ? state : "");
	field(b, "substatus", json_str(o, "details", "subStatus"));
	field(b, "description", json_str(o, "details", "description"));
	int status = state && (strcmp(state, "Ready") == 0 || strcmp(state, "NotReady") == 0) ? 200 : 400;
	json_object_put(o);
	return status;
}

/* ------------------------------------------------------------- routing */

struct answer {
	int status;
	enum action act;
	unsigned delay_ms;
	long retry_after;
	const char *content_type;
	struct buf body;
};

static void answer_text(struct answer *a, int status, const char *text)
{
	a->status = status;
	a->content_type = "text/plain; charset=utf-8";
	buf_puts(&a->body, text);
	buf_puts(&a->body, "\n");
}

/* A rule's fault applies; true when the rule decided the whole answer. */
static bool apply_rule(struct answer *a, const struct rule *r)
{
	if (!r)
		return false;
	a->act = r->act;
	a->delay_ms = r->delay_ms;
	a->retry_after = r->retry_after;
	if (r->act != ACT_ANSWER)
		return true;
	if (r->status >= 200 && r->status < 300)
		return false; /* the endpoint builds the success body */
	a->status = r->status;
	return false;
}

static enum endpoint route_imds(struct sim *s, const struct request *q, struct answer *a, struct buf *rec)
{
	char api[64] = "", ext[16] = "";
	if (strcmp(q->path, "/metadata/versions") == 0) {
		a->content_type = "application/json; charset=utf-8";
		buf_puts(&a->body, "{\"apiVersions\":[\"2019-06-01\",\"2020-10-01\",\"2021-08-01\",\"2023-11-15\"]}");
		a->status = 200;
		return EP_OTHER;
	}
	if (strcmp(q->path, "/metadata/instance") != 0) {
		answer_text(a, 404, "Not found");
		return EP_OTHER;
	}
	bool has_api = query_param(q->query, "api-version", api, sizeof(api));
	query_param(q->query, "extended", ext, sizeof(ext));
	field(rec, "api", api);
	field(rec, "extended", ext);
	const char *md = req_header(q, "Metadata");
	a->content_type = "application/json; charset=utf-8";
	/* What the real service refuses, before any fault of the scenario. */
	if (strcmp(q->method, "GET") != 0) {
		answer_text(a, 405, "Method not allowed");
		return EP_IMDS;
	}
	if (q->target[0] != '/' || req_header(q, "X-Forwarded-For")) {
		a->status = 400;
		buf_puts(&a->body, "{\"error\":\"Bad request. Proxied requests and X-Forwarded-For are not allowed\"}");
		return EP_IMDS;
	}
	if (!md || strcasecmp(md, "true") != 0) {
		a->status = 400;
		buf_puts(&a->body, "{\"error\":\"Bad request. Required metadata header not specified\"}");
		return EP_IMDS;
	}
	if (!has_api || !*api) {
		a->status = 400;
		buf_puts(&a->body, "{\"error\":\"Bad request. api-version was not specified in the request\","
				   "\"newest-versions\":[\"2023-11-15\",\"2021-08-01\",\"2019-06-01\"]}");
		return EP_IMDS;
	}
	for (size_t i = 0; i < s->sc.doc.n_reject_api; i++) {
		if (strcmp(api, s->sc.doc.reject_api[i]) == 0) {
			a->status = 400;
			buf_puts(&a->body, "{\"error\":\"Bad request. api-version is invalid\"}");
			return EP_IMDS;
		}
	}
	struct rule *r = scenario_next(&s->sc, EP_IMDS);
	apply_rule(a, r);
	if (a->act != ACT_ANSWER)
		return EP_IMDS;
	if (a->status && (a->status < 200 || a->status >= 300)) {
		if (!r || !r->body)
			buf_printf(&a->body, "{\"error\":\"%s\"}", reason_phrase(a->status));
		else
			imds_body(&s->sc, r, api, strcmp(ext, "true") == 0, &a->body);
		return EP_IMDS;
	}
	a->status = r ? r->status : 200;
	imds_body(&s->sc, r, api, strcmp(ext, "true") == 0, &a->body);
	return EP_IMDS;
}

static enum endpoint route_wire(struct sim *s, const struct request *q, struct answer *a, struct buf *rec)
{
	char comp[64] = "";
	enum endpoint ep;
	query_param(q->query, "comp", comp, sizeof(comp));
	bool machine = strcmp(q->path, "/machine") == 0 || strcmp(q->path, "/machine/") == 0;
	if (machine && strcmp(comp, "goalstate") == 0 && strcmp(q->method, "GET") == 0)
		ep = EP_GOALSTATE;
	else if (machine && strcmp(comp, "health") == 0 && strcmp(q->method, "POST") == 0)
		ep = EP_HEALTH;
	else if (strcmp(q->path, "/provisioning/health") == 0 && strcmp(q->method, "POST") == 0)
		ep = EP_JSONHEALTH;
	else if (strcmp(q->path, "/") == 0 && strcmp(comp, "versions") == 0) {
		a->status = 200;
		a->content_type = "text/xml; charset=utf-8";
		buf_puts(&a->body, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Versions><Preferred><Version>"
				   "2012-11-30</Version></Preferred><Supported><Version>2015-04-05</Version>"
				   "<Version>2012-11-30</Version></Supported></Versions>\n");
		return EP_OTHER;
	} else {
		answer_text(a, 404, "Not found");
		return EP_OTHER;
	}

	const char *ver = req_header(q, "x-ms-version");
	if (ep != EP_JSONHEALTH && (!ver || strcmp(ver, "2012-11-30") != 0)) {
		answer_text(a, 400, "x-ms-version 2012-11-30 required");
		return ep;
	}
	/* The report is checked (and recorded) even when a fault answers it. */
	int verdict = 200;
	if (ep == EP_HEALTH)
		verdict = health_xml(&s->sc, q, rec);
	else if (ep == EP_JSONHEALTH)
		verdict = health_json(q, rec);
	if (verdict != 200) {
		answer_text(a, verdict, "Malformed health report");
		return ep;
	}
	struct rule *r = scenario_next(&s->sc, ep);
	apply_rule(a, r);
	if (a->act != ACT_ANSWER)
		return ep;
	if (a->status && (a->status < 200 || a->status >= 300)) {
		answer_text(a, a->status, reason_phrase(a->status));
		return ep;
	}
	a->status = r ? r->status : 200;
	if (ep == EP_GOALSTATE) {
		a->content_type = "text/xml; charset=utf-8";
		goalstate_body(&s->sc, r, s->port[L_WIRE], &a->body);
	}
	return ep;
}

/* ---------------------------------------------------------- connections */

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->req.body);
	free(c->req.path);
	free(c->out);
	c->fd = -1;
	c->req = (struct request){ 0 };
	c->out = NULL;
	c->state = C_FREE;
}

static void conn_respond(struct sim *s, struct conn *c, struct answer *a)
{
	struct buf out = { 0 };
	buf_printf(&out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n",
		   a->status, reason_phrase(a->status), a->content_type ? a->content_type : "text/plain",
		   a->body.len);
	if (a->retry_after >= 0)
		buf_printf(&out, "Retry-After: %ld\r\n", a->retry_after);
	buf_puts(&out, "Server: azure_sim\r\n\r\n");
	if (a->body.len)
		buf_add(&out, a->body.p, a->body.len);
	c->out = out.p;
	c->out_len = out.len;
	c->out_off = 0;
	c->due_ms = now_ms() + a->delay_ms;
	c->close_at_due = a->act == ACT_CLOSE;
	c->state = a->act == ACT_HANG ? C_HANG : C_WAIT;
	(void)s;
}

/* An error found by the server itself (bad framing): answered, recorded. */
static void conn_fail(struct sim *s, struct conn *c, int status, const char *why)
{
	struct buf rec = { 0 };
	struct answer a = { .retry_after = -1 };
	record_start(s, &rec, c->l, EP_OTHER, c->req.method ? &c->req : NULL);
	buf_printf(&rec, "\tstatus=%d", status);
	field(&rec, "error", why);
	record(s, &rec);
	free(rec.p);
	answer_text(&a, status, why);
	conn_respond(s, c, &a);
	free(a.body.p);
}

static void conn_request(struct sim *s, struct conn *c)
{
	struct request *q = &c->req;
	struct buf rec = { 0 };
	struct answer a = { .retry_after = -1 };

	/* Split path and query; an absolute URI keeps its host out of the path. */
	char *t = q->target;
	if (strncasecmp(t, "http://", 7) == 0) {
		char *slash = strchr(t + 7, '/');
		t = slash ? slash : (char *)"/";
	}
	q->path = xstrdup(t);
	char *qm = strchr(q->path, '?');
	q->query = qm ? qm + 1 : NULL;
	if (qm)
		*qm = '\0';

	struct buf fields = { 0 };
	record_headers(&fields, q);
	enum endpoint ep = c->l == L_IMDS ? route_imds(s, q, &a, &fields) : route_wire(s, q, &a, &fields);
	record_start(s, &rec, c->l, ep, q);
	static const char *const act_names[] = { "answer", "close", "hang" };
	buf_printf(&rec, "\tstatus=%d\taction=%s\tdelay_ms=%u\tresp_bytes=%zu", a.act == ACT_ANSWER ? a.status : 0,
		   act_names[a.act], a.delay_ms, a.body.len);
	if (fields.p)
		buf_add(&rec, fields.p, fields.len);
	if (q->body_len)
		field_body(&rec, q->body, q->body_len);
	record(s, &rec);
	free(rec.p);
	free(fields.p);
	conn_respond(s, c, &a);
	free(a.body.p);
}

static bool parse_content_length(const char *v, size_t *out)
{
	unsigned long n;
	if (!parse_uint(v, ULONG_MAX, &n))
		return false;
	*out = n;
	return true;
}

/* Headers complete: decide whether a body follows, or answer at once. */
static void conn_head_done(struct sim *s, struct conn *c)
{
	/* Bytes past the head are the start of the body: set aside before parsing. */
	size_t extra = c->hdr_len - c->hdr_end;
	char rest[HDR_MAX];
	memcpy(rest, c->hdr + c->hdr_end, extra);
	c->hdr[c->hdr_end] = '\0';
	const char *err = parse_head(c->hdr, &c->req);
	if (err) {
		conn_fail(s, c, 400, err);
		return;
	}
	if (req_header(&c->req, "Transfer-Encoding")) {
		conn_fail(s, c, 501, "Transfer-Encoding is not supported (send Content-Length)");
		return;
	}
	size_t cl = 0;
	bool seen = false;
	for (size_t i = 0; i < c->req.n_headers; i++) {
		if (strcasecmp(c->req.headers[i].name, "Content-Length") != 0)
			continue;
		size_t v;
		if (!parse_content_length(c->req.headers[i].value, &v) || (seen && v != cl)) {
			conn_fail(s, c, 400, "bad Content-Length");
			return;
		}
		cl = v;
		seen = true;
	}
	if (cl > BODY_MAX) {
		conn_fail(s, c, 413, "body larger than 1 MiB");
		return;
	}
	c->content_length = cl;
	c->req.body = malloc(cl + 1);
	if (!c->req.body)
		die("out of memory");
	size_t take = extra < cl ? extra : cl;
	memcpy(c->req.body, rest, take);
	c->body_got = take;
	c->req.body[c->body_got] = '\0';
	c->req.body_len = cl;
	if (c->body_got == cl) {
		conn_request(s, c);
		return;
	}
	/*
	 * libcurl asks before larger POST bodies and would otherwise wait a
	 * second for this; 25 bytes always fit an empty socket buffer.
	 */
	const char *expect = req_header(&c->req, "Expect");
	if (expect && strcasecmp(expect, "100-continue") == 0) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		if (send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL) < 0) {
			conn_close(c);
			return;
		}
	}
	c->state = C_BODY;
}

static void conn_readable(struct sim *s, struct conn *c)
{
	if (c->state == C_READ) {
		ssize_t n = read(c->fd, c->hdr + c->hdr_len, HDR_MAX - c->hdr_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (c->hdr_len) {
				struct buf rec = { 0 };
				record_start(s, &rec, c->l, EP_OTHER, NULL);
				field(&rec, "error", "connection closed before the request was complete");
				record(s, &rec);
				free(rec.p);
			}
			conn_close(c);
			return;
		}
		c->hdr_len += (size_t)n;
		c->hdr[c->hdr_len] = '\0';
		char *end = memmem(c->hdr, c->hdr_len, "\r\n\r\n", 4);
		if (end) {
			c->hdr_end = (size_t)(end - c->hdr) + 4;
			conn_head_done(s, c);
		} else if (c->hdr_len == HDR_MAX) {
			conn_fail(s, c, 431, "request head larger than 64 KiB");
		}
		return;
	}
	if (c->state == C_BODY) {
		ssize_t n = read(c->fd, c->req.body + c->body_got, c->content_length - c->body_got);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			struct buf rec = { 0 };
			record_start(s, &rec, c->l, EP_OTHER, &c->req);
			field(&rec, "error", "connection closed before the body was complete");
			record(s, &rec);
			free(rec.p);
			conn_close(c);
			return;
		}
		c->body_got += (size_t)n;
		c->req.body[c->body_got] = '\0';
		if (c->body_got == c->content_length)
			conn_request(s, c);
		return;
	}
	/* Waiting or hanging: the client hung up (or sent more, ignored). */
	char tmp[4096];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		conn_close(c);
}

static void conn_writable(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	conn_close(c);
}

static void conn_due(struct conn *c)
{
	if (c->close_at_due) {
		/* A connection dropped without an answer: a transport error for the client. */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		conn_close(c);
		return;
	}
	c->state = C_WRITE;
	conn_writable(c);
}

static void accept_one(struct sim *s, enum listener l)
{
	int fd = accept4(s->listen_fd[l], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &s->conns[i];
		if (c->state != C_FREE)
			continue;
		c->fd = fd;
		c->l = l;
		c->state = C_READ;
		c->hdr_len = c->hdr_end = c->content_length = c->body_got = 0;
		c->req = (struct request){ 0 };
		c->out = NULL;
		c->close_at_due = false;
		return;
	}
	close(fd); /* full: the client sees a reset and retries */
}

/* --------------------------------------------------------------- setup */

static int listen_on(const char *addr, int port, bool down, int *out_port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		die("--bind %s: not an IPv4 address", addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind %s:%d: %s", addr, port, strerror(errno));
	/* A "down" listener stays bound but never listens: connects are refused. */
	if (!down && listen(fd, 64) < 0)
		die("listen: %s", strerror(errno));
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*out_port = ntohs(sa.sin_port);
	return fd;
}

static void write_port_file(const struct sim *s, const char *path, const char *addr)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "we");
	if (!f)
		die("%s: %s", tmp, strerror(errno));
	fprintf(f, "IMDS_URL=http://%s:%d\nWIRE_URL=http://%s:%d\nIMDS_PORT=%d\nWIRE_PORT=%d\nSIM_PID=%d\n", addr,
		s->port[L_IMDS], addr, s->port[L_WIRE], s->port[L_IMDS], s->port[L_WIRE], (int)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		die("%s: %s", path, strerror(errno));
}

static void usage(FILE *f)
{
	fputs("usage: azure_sim [--scenario FILE] [--log FILE] [--port-file FILE]\n"
	      "                 [--imds-port N] [--wire-port N] [--bind ADDR]\n"
	      "Serves IMDS and the wireserver on ADDR (127.0.0.1); port 0 picks one.\n"
	      "Scenario format and log fields: tests/sim/README.md.\n",
	      f);
}

static int run(struct sim *s)
{
	for (;;) {
		struct pollfd pfd[L__N + 1 + MAX_CONNS];
		int idx[L__N + 1 + MAX_CONNS];
		nfds_t n = 0;
		pfd[n] = (struct pollfd){ .fd = s->sig_fd, .events = POLLIN };
		idx[n++] = -1;
		for (int l = 0; l < L__N; l++) {
			if (s->sc.down[l])
				continue;
			pfd[n] = (struct pollfd){ .fd = s->listen_fd[l], .events = POLLIN };
			idx[n++] = -2 - l;
		}
		uint64_t now = now_ms(), next = UINT64_MAX;
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &s->conns[i];
			if (c->state == C_FREE)
				continue;
			short ev = POLLIN;
			if (c->state == C_WRITE)
				ev = POLLOUT;
			if (c->state == C_WAIT && c->due_ms < next)
				next = c->due_ms;
			pfd[n] = (struct pollfd){ .fd = c->fd, .events = ev };
			idx[n++] = i;
		}
		int timeout = next == UINT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
		int rc = poll(pfd, n, timeout);
		if (rc < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (nfds_t i = 0; rc > 0 && i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (idx[i] == -1)
				return 0; /* SIGTERM or SIGINT */
			if (idx[i] <= -2) {
				accept_one(s, (enum listener)(-2 - idx[i]));
				continue;
			}
			struct conn *c = &s->conns[idx[i]];
			if (c->state == C_WRITE)
				conn_writable(c);
			else if (c->state != C_FREE)
				conn_readable(s, c);
		}
		now = now_ms();
		for (int i = 0; i < MAX_CONNS; i++)
			if (s->conns[i].state == C_WAIT && s->conns[i].due_ms <= now)
				conn_due(&s->conns[i]);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 's' }, { "log", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' }, { "imds-port", required_argument, NULL, 'i' },
		{ "wire-port", required_argument, NULL, 'w' }, { "bind", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
	};
	const char *scenario = NULL, *log_path = NULL, *port_file = NULL, *addr = "127.0.0.1";
	unsigned long ports[L__N] = { 0, 0 };
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's': scenario = optarg; break;
		case 'l': log_path = optarg; break;
		case 'p': port_file = optarg; break;
		case 'b': addr = optarg; break;
		case 'i':
		case 'w':
			if (!parse_uint(optarg, 65535, &ports[o == 'i' ? L_IMDS : L_WIRE]))
				die("bad port '%s'", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	struct sim *s = calloc(1, sizeof(*s));
	if (!s)
		die("out of memory");
	s->conns = calloc(MAX_CONNS, sizeof(*s->conns));
	if (!s->conns)
		die("out of memory");
	for (int i = 0; i < MAX_CONNS; i++)
		s->conns[i].fd = -1;
	scenario_load(&s->sc, scenario);
	scenario_finish(&s->sc);
	s->log_fd = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : STDERR_FILENO;
	if (s->log_fd < 0)
		die("%s: %s", log_path, strerror(errno));

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sig_fd < 0)
		die("signalfd: %s", strerror(errno));

	xmlInitParser();
	for (int l = 0; l < L__N; l++)
		s->listen_fd[l] = listen_on(addr, (int)ports[l], s->sc.down[l], &s->port[l]);
	s->start_ms = now_ms();
	if (port_file)
		write_port_file(s, port_file, addr);
	printf("imds http://%s:%d%s\nwire http://%s:%d%s\n", addr, s->port[L_IMDS], s->sc.down[L_IMDS] ? " (down)" : "",
	       addr, s->port[L_WIRE], s->sc.down[L_WIRE] ? " (down)" : "");
	fflush(stdout);

	int rc = run(s);

	for (int i = 0; i < MAX_CONNS; i++)
		if (s->conns[i].state != C_FREE)
			conn_close(&s->conns[i]);
	for (int l = 0; l < L__N; l++)
		close(s->listen_fd[l]);
	close(s->sig_fd);
	if (log_path)
		close(s->log_fd);
	if (port_file)
		unlink(port_file);
	scenario_free(&s->sc);
	free(s->conns);
	free(s);
	xmlCleanupParser();
	return rc;
}
