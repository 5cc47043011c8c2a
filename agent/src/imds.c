// SPDX-License-Identifier: MIT
/*
 * The IMDS instance document: parsing (json-c), the OpenSSH key check and
 * the fetch loop of research/provisioning.md §7.3.
 *
 * Every byte here comes from the network.  Syntax is checked strictly
 * (strict json-c, valid UTF-8, nothing after the document); values are
 * read liberally where IMDS is known to vary (all primitives are strings,
 * "" means absent, booleans come as "true"/"false" or as JSON booleans)
 * and strictly where a value ends up in a file name or a login (vmId must
 * be a UUID, keys must be OpenSSH public keys, lengths are bounded).
 */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "base64.h"
#include "base64.h"
#include "imds.h"
#include "log.h"
#include "util.h"

#define IMDS_PRIMARY_QUERY "/metadata/instance?api-version=2021-08-01&extended=true"
#define IMDS_FALLBACK_QUERY "/metadata/instance?api-version=2019-06-01"
#define IMDS_REQUEST_TIMEOUT_MS 30000u /* per attempt, as cloud-init */
#define IMDS_REQUEST_MIN_MS 100u      /* the last attempt still gets a chance */

/* Bounds on strings (bytes).  Azure's own limits are lower; these only
 * keep a hostile document from making us carry megabytes around. */
#define MAX_SHORT 128u    /* vmSize, location */
#define MAX_NAME 255u     /* computerName, adminUsername: the plan checks the syntax */
#define MAX_PATH_LEN 4096u
#define SSH_KEY_LINE_MAX 16384u /* a 16384-bit RSA key is about 2.8 KiB */

struct perr {
	char *buf;
	size_t len;
};

static int fail_key(const struct perr *e, const char *key, const char *why)
{
	/* The prefix is cloud-init's wording: fleet tooling matches it. */
	if (e->buf && e->len)
		snprintf(e->buf, e->len, "invalid IMDS metadata for key=%s: %s", key, why);
	return -EINVAL;
}

static int fail_parse(const struct perr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail_parse(const struct perr *e, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (e->buf && e->len)
		snprintf(e->buf, e->len, "unusable IMDS metadata: %s", why);
	return -EINVAL;
}

/* ---- OpenSSH public keys ---------------------------------------------- */

struct blob {
	const uint8_t *p;
	size_t len;
};

/* The SSH wire "string": a 32-bit big-endian length and that many bytes. */
static bool blob_string(struct blob *b, struct blob *s)
{
	uint32_t n;

	if (b->len < 4)
		return false;
	n = (uint32_t)b->p[0] << 24 | (uint32_t)b->p[1] << 16 | (uint32_t)b->p[2] << 8 | b->p[3];
	if (n > b->len - 4)
		return false;
	s->p = b->p + 4;
	s->len = n;
	b->p += 4 + n;
	b->len -= 4 + n;
	return true;
}

static bool blob_is(const struct blob *s, const char *text)
{
	return s->len == strlen(text) && memcmp(s->p, text, s->len) == 0;
}

enum key_shape { SHAPE_RSA, SHAPE_ED25519, SHAPE_ECDSA, SHAPE_SK_ED25519, SHAPE_SK_ECDSA };

struct key_type {
	const char *name;
	enum key_shape shape;
	const char *curve; /* ECDSA: the curve name inside the blob */
	size_t point_len;  /* ECDSA: uncompressed point; ed25519: key length */
};

/*
 * The types sshd accepts by default.  ssh-dss is not here: OpenSSH has
 * refused DSA keys by default since 7.0 and dropped them in 9.8, and Azure
 * does not accept them, so installing one would only look like success.
 */
static const struct key_type key_types[] = {
	{ "ssh-rsa", SHAPE_RSA, NULL, 0 },
	{ "ssh-ed25519", SHAPE_ED25519, NULL, 32 },
	{ "ecdsa-sha2-nistp256", SHAPE_ECDSA, "nistp256", 65 },
	{ "ecdsa-sha2-nistp384", SHAPE_ECDSA, "nistp384", 97 },
	{ "ecdsa-sha2-nistp521", SHAPE_ECDSA, "nistp521", 133 },
	{ "sk-ssh-ed25519@openssh.com", SHAPE_SK_ED25519, NULL, 32 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", SHAPE_SK_ECDSA, "nistp256", 65 },
};

static bool ecdsa_point_ok(struct blob *b, const struct key_type *t)
{
	struct blob curve, q;

	return blob_string(b, &curve) && blob_is(&curve, t->curve) && blob_string(b, &q) &&
	       q.len == t->point_len && q.p[0] == 0x04;
}

static bool rsa_ok(struct blob *b)
{
	struct blob e, n;

	if (!blob_string(b, &e) || !blob_string(b, &n) || e.len == 0)
		return false;
	while (n.len && n.p[0] == 0)
		n.p++, n.len--;
	return n.len >= 1024 / 8; /* sshd's minimum modulus */
}

/* The blob after the type string, by the layout of each type (RFC 4253, 5656, 8709, PROTOCOL.u2f). */
static bool key_body_ok(struct blob *b, const struct key_type *t)
{
	struct blob s;

	switch (t->shape) {
	case SHAPE_RSA:
		return rsa_ok(b);
	case SHAPE_ED25519:
		return blob_string(b, &s) && s.len == t->point_len;
	case SHAPE_ECDSA:
		return ecdsa_point_ok(b, t);
	case SHAPE_SK_ED25519:
		return blob_string(b, &s) && s.len == t->point_len && blob_string(b, &s);
	case SHAPE_SK_ECDSA:
		return ecdsa_point_ok(b, t) && blob_string(b, &s);
	}
	return false;
}

static const struct key_type *key_type_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(key_types); i++)
		if (strlen(key_types[i].name) == len && memcmp(key_types[i].name, name, len) == 0)
			return &key_types[i];
	return NULL;
}

static bool blob_matches(const char *b64, size_t len, const struct key_type *t)
{
	_cleanup_free_ uint8_t *raw = NULL;
	struct blob b, type;
	size_t n;

	/* The blob is one token: no blanks inside it (nettle would skip them). */
	if (len == 0 || memchr(b64, ' ', len) || memchr(b64, '\t', len) ||
	    base64_decode(b64, len, &raw, &n) < 0)
		return false;
	b = (struct blob){ raw, n };
	/* OpenSSH's own check: the type inside the blob is the declared one. */
	if (!blob_string(&b, &type) || !blob_is(&type, t->name))
		return false;
	return key_body_ok(&b, t) && b.len == 0;
}

/*
 * "type base64 [comment]" on one line.  An authorized_keys options prefix
 * (command=, from=, no-pty, ...) is not accepted: the platform never sends
 * one, and a key restricted or widened by options the customer did not see
 * is not what they asked for.  Control characters anywhere (newline, CR)
 * would split the line into more entries than were validated.
 */
bool ssh_public_key_valid(const char *line)
{
	const struct key_type *t;
	size_t len, tlen, blen;
	const char *b64;

	if (!line)
		return false;
	len = strlen(line);
	if (len == 0 || len > SSH_KEY_LINE_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	tlen = strcspn(line, " \t");
	t = key_type_lookup(line, tlen);
	if (!t || line[tlen] == '\0')
		return false;
	b64 = line + tlen + strspn(line + tlen, " \t");
	blen = strcspn(b64, " \t");
	return blen > 0 && blob_matches(b64, blen, t);
}

/* ---- the instance document -------------------------------------------- */

/*
 * A string member: absent, JSON null and "" (IMDS's "does not apply") all
 * leave *out NULL.  Any other type, an embedded NUL or an overlong value is
 * an error naming the key.
 */
static int get_str(struct json_object *parent, const char *name, const char *key, size_t max, char **out,
		   const struct perr *e)
{
	struct json_object *v;
	const char *s;
	size_t len;
	char why[64];

	*out = NULL;
	if (!json_object_object_get_ex(parent, name, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return fail_key(e, key, "not a string");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len)
		return fail_key(e, key, "contains a NUL byte");
	if (len > max) {
		snprintf(why, sizeof(why), "longer than %zu bytes", max);
		return fail_key(e, key, why);
	}
	if (len == 0)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* JSON true/false or the strings "true"/"false" (any case); 1, 0 or -1 (absent). */
static int get_bool(struct json_object *parent, const char *name, const char *key, int *out, const struct perr *e)
{
	struct json_object *v;
	const char *s;

	*out = -1;
	if (!json_object_object_get_ex(parent, name, &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v) ? 1 : 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return fail_key(e, key, "not a boolean");
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return fail_key(e, key, "not a boolean");
	if (strcasecmp(s, "true") == 0)
		*out = 1;
	else if (strcasecmp(s, "false") == 0)
		*out = 0;
	else if (*s)
		return fail_key(e, key, "not \"true\" or \"false\"");
	return 0;
}

/* An object member: absent or null gives NULL; another type is an error. */
static int get_obj(struct json_object *parent, const char *name, const char *key, struct json_object **out,
		   const struct perr *e)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(parent, name, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return fail_key(e, key, "not an object");
	*out = v;
	return 0;
}

static bool uuid_valid(const char *s)
{
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return s[36] == '\0';
}

static int parse_vm_id(struct json_object *compute, struct imds_instance *out, const struct perr *e)
{
	_cleanup_free_ char *id = NULL;
	int r;

	r = get_str(compute, "vmId", "compute.vmId", 64, &id, e);
	if (r < 0 || !id)
		return r;
	/* It names the provisioned marker file: only a real UUID will do. */
	if (!uuid_valid(id))
		return fail_key(e, "compute.vmId", "not a UUID");
	for (size_t i = 0; i < 36; i++)
		out->vm_id[i] = (char)tolower((unsigned char)id[i]);
	out->vm_id[36] = '\0';
	return 0;
}

static int parse_os_profile(struct json_object *compute, struct imds_instance *out, const struct perr *e)
{
	struct json_object *os;
	int r;

	r = get_obj(compute, "osProfile", "compute.osProfile", &os, e);
	if (r < 0 || !os)
		return r;
	r = get_str(os, "computerName", "compute.osProfile.computerName", MAX_NAME, &out->computer_name, e);
	if (r >= 0)
		r = get_str(os, "adminUsername", "compute.osProfile.adminUsername", MAX_NAME,
			    &out->admin_username, e);
	if (r >= 0)
		r = get_bool(os, "disablePasswordAuthentication", "compute.osProfile.disablePasswordAuthentication",
			     &out->disable_password_auth, e);
	return r;
}

/* Leading and trailing blanks and line ends (keys pasted with CRLF) are not part of the key. */
static char *trim(char *s)
{
	size_t n;

	s += strspn(s, " \t\r\n");
	n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int parse_key(struct json_object *entry, size_t i, struct imds_instance *out, const struct perr *e)
{
	_cleanup_free_ char *data = NULL, *path = NULL;
	char key[64];
	char *line;
	int r;

	snprintf(key, sizeof(key), "compute.publicKeys[%zu]", i);
	if (!json_object_is_type(entry, json_type_object))
		return fail_key(e, key, "not an object");
	snprintf(key, sizeof(key), "compute.publicKeys[%zu].keyData", i);
	r = get_str(entry, "keyData", key, SSH_KEY_LINE_MAX, &data, e);
	if (r < 0)
		return r;
	snprintf(key, sizeof(key), "compute.publicKeys[%zu].path", i);
	r = get_str(entry, "path", key, MAX_PATH_LEN, &path, e);
	if (r < 0)
		return r;
	line = data ? trim(data) : NULL;
	/* A bad key is dropped, not fatal: the others (or a password) may still
	 * let the customer in, and the count tells the plan and the report. */
	if (!line || !ssh_public_key_valid(line)) {
		log_warning("IMDS: dropping compute.publicKeys[%zu]: %s", i,
			    line ? "not a valid OpenSSH public key" : "no keyData");
		out->n_invalid_keys++;
		return 0;
	}
	out->keys[out->n_keys].key_data = strdup(line);
	if (!out->keys[out->n_keys].key_data)
		return -ENOMEM;
	out->keys[out->n_keys++].path = TAKE_PTR(path);
	return 0;
}

static int parse_keys(struct json_object *compute, struct imds_instance *out, const struct perr *e)
{
	struct json_object *arr;
	size_t n;
	int r;

	if (!json_object_object_get_ex(compute, "publicKeys", &arr) || !arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return fail_key(e, "compute.publicKeys", "not an array");
	n = json_object_array_length(arr);
	/* Refused rather than cut: silently ignoring a customer's key is worse. */
	if (n > IMDS_MAX_KEYS) {
		char why[48];

		snprintf(why, sizeof(why), "more than %d keys", IMDS_MAX_KEYS);
		return fail_key(e, "compute.publicKeys", why);
	}
	for (size_t i = 0; i < n; i++) {
		r = parse_key(json_object_array_get_idx(arr, i), i, out, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_compute(struct json_object *compute, struct imds_instance *out, const struct perr *e)
{
	const char *text;
	int r;

	r = parse_vm_id(compute, out, e);
	if (r >= 0)
		r = get_str(compute, "vmSize", "compute.vmSize", MAX_SHORT, &out->vm_size, e);
	if (r >= 0)
		r = get_str(compute, "location", "compute.location", MAX_SHORT, &out->location, e);
	if (r >= 0)
		r = parse_os_profile(compute, out, e);
	if (r >= 0)
		r = parse_keys(compute, out, e);
	if (r >= 0)
		r = get_str(compute, "userData", "compute.userData", HTTP_BODY_MAX, &out->user_data, e);
	if (r < 0)
		return r;
	/* As received, userData included: whoever stores it keeps it 0600. */
	text = json_object_to_json_string_ext(compute, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	out->compute_json = strdup(text ? text : "{}");
	return out->compute_json ? 0 : -ENOMEM;
}

static void json_tokener_freep(struct json_tokener **t)
{
	if (*t)
		json_tokener_free(*t);
}

static void json_object_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}

/* The whole input must be one JSON object and nothing else but blanks. */
static int parse_document(const char *json, size_t len, struct json_object **out, const struct perr *e)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	if (len > HTTP_BODY_MAX)
		return fail_parse(e, "document larger than %u bytes", HTTP_BODY_MAX);
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!obj) {
		if (jerr == json_tokener_continue || jerr == json_tokener_success)
			return fail_parse(e, "unexpected end of document after %zu bytes", len);
		return fail_parse(e, "%s at byte %zu", json_tokener_error_desc(jerr), end);
	}
	*out = obj;
	for (; end < len; end++)
		if (!strchr(" \t\r\n", json[end]) || json[end] == '\0')
			return fail_parse(e, "unexpected data after the document at byte %zu", end);
	if (!json_object_is_type(obj, json_type_object))
		return fail_parse(e, "%s", "the document is not a JSON object");
	return 0;
}

int imds_parse(const char *json, size_t len, struct imds_instance *out, char *err, size_t errlen)
{
	_cleanup_(json_object_putp) struct json_object *doc = NULL;
	const struct perr e = { err, errlen };
	struct json_object *compute;
	int r;

	memset(out, 0, sizeof(*out));
	out->disable_password_auth = -1;
	if (err && errlen)
		err[0] = '\0';
	if (!json)
		return fail_parse(&e, "%s", "no document");
	r = parse_document(json, len, &doc, &e);
	if (r >= 0)
		r = get_obj(doc, "compute", "compute", &compute, &e);
	if (r >= 0 && !compute)
		r = fail_key(&e, "compute", "missing");
	if (r >= 0)
		r = parse_compute(compute, out, &e);
	if (r == -ENOMEM && err && errlen)
		snprintf(err, errlen, "out of memory parsing IMDS metadata");
	if (r < 0)
		imds_instance_free(out);
	return r;
}

void imds_instance_free(struct imds_instance *inst)
{
	if (!inst)
		return;
	free(inst->vm_size);
	free(inst->location);
	free(inst->computer_name);
	free(inst->admin_username);
	free(inst->user_data);
	free(inst->compute_json);
	for (size_t i = 0; i < inst->n_keys && i < IMDS_MAX_KEYS; i++) {
		free(inst->keys[i].key_data);
		free(inst->keys[i].path);
	}
	memset(inst, 0, sizeof(*inst));
	inst->disable_password_auth = -1;
}

/* ---- fetching ----------------------------------------------------------- */

/*
 * 400 is "this api-version is unknown here" (older Azure Stack hubs): try
 * the old version once.  404/410/429/500/503 are the documented transient
 * answers; any other 5xx is a server-side fault of a host-local service and
 * is retried as well, within the same budget.  Other 4xx (403: we are not
 * allowed; 405: a bug of ours) will not change by asking again.  A 2xx is
 * done: an empty or wrong body is the parser's error, not a retry.
 */
enum imds_next imds_next_step(long status, bool transport_error, bool fallback_used)
{
	if (transport_error || status == 0)
		return IMDS_RETRY;
	if (status >= 200 && status < 300)
		return IMDS_DONE;
	if (status == 400)
		return fallback_used ? IMDS_FAIL : IMDS_FALLBACK;
	if (status == 404 || status == 410 || status == 429 || status >= 500)
		return status < 600 ? IMDS_RETRY : IMDS_FAIL;
	return IMDS_FAIL;
}

/*
 * A random (version 4) UUID for x-ms-client-request-id.  Early at boot the
 * kernel's pool may not be initialised yet and a blocking getrandom() would
 * stall provisioning, so ask without blocking and fall back to mixing
 * clocks, pid and the attempt number: the id only has to be unique enough
 * to correlate one request in the host's logs, never secret.
 */
static void request_id(unsigned attempt, char out[37])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
		struct timespec ts;
		uint64_t x;

		clock_gettime(CLOCK_REALTIME, &ts);
		x = monotonic_usec() ^ ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
		    ((uint64_t)getpid() << 40) ^ attempt;
		for (size_t i = 0; i < sizeof(b); i += 8) {
			/* splitmix64: spreads the few changing bits over all 64 */
			uint64_t z = (x += 0x9e3779b97f4a7c15ull);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			z ^= z >> 31;
			memcpy(b + i, &z, 8);
		}
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

struct fetch {
	const struct imds_options *o;
	char url_primary[512], url_fallback[512];
	uint64_t deadline_us;
	bool fallback;
	unsigned attempt;
	long last_status;
	char reason[320];
};

static unsigned remaining_ms(const struct fetch *f)
{
	uint64_t now = monotonic_usec();

	return now >= f->deadline_us ? 0 : (unsigned)((f->deadline_us - now) / 1000u);
}

static int one_attempt(struct fetch *f, struct http_response *resp)
{
	char id[37], id_header[64];
	const char *headers[] = { "Metadata: true", id_header, NULL };
	unsigned timeout = remaining_ms(f);
	struct http_request req = {
		.method = "GET",
		.url = f->fallback ? f->url_fallback : f->url_primary,
		.headers = headers,
		.stop = f->o->stop,
	};

	request_id(f->attempt, id);
	snprintf(id_header, sizeof(id_header), "x-ms-client-request-id: %s", id);
	if (timeout > IMDS_REQUEST_TIMEOUT_MS)
		timeout = IMDS_REQUEST_TIMEOUT_MS;
	/* One hung request must leave room for others: a quarter of the budget at most. */
	if (timeout > f->o->budget_ms / 4)
		timeout = f->o->budget_ms / 4;
	if (timeout < IMDS_REQUEST_MIN_MS)
		timeout = IMDS_REQUEST_MIN_MS;
	req.timeout_ms = timeout;
	log_debug("IMDS attempt %u: GET %s (x-ms-client-request-id %s)", f->attempt, req.url, id);
	return http_do(&req, resp);
}

/* A short, printable excerpt of an error answer: IMDS says why in its body. */
static void excerpt(const struct http_response *resp, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; resp->body && i < resp->body_len && o + 1 < len && i < 160; i++)
		out[o++] = isprint((unsigned char)resp->body[i]) ? resp->body[i] : '?';
	out[o] = '\0';
}

/*
 * Waits before the next attempt: the configured pause, or longer when IMDS
 * asks with Retry-After (never shorter: "Retry-After: 0" must not turn the
 * loop into a flood), cut to what is left of the budget; -ETIMEDOUT only
 * when nothing is left.
 */
static int pause_before_retry(struct fetch *f, const struct http_response *resp, int r, char *err, size_t errlen)
{
	uint64_t pause = f->o->retry_ms;
	unsigned left = remaining_ms(f);

	if (resp->retry_after_s > 0 && (uint64_t)resp->retry_after_s * 1000u > pause)
		pause = (uint64_t)resp->retry_after_s * 1000u;
	if (r < 0)
		snprintf(f->reason, sizeof(f->reason), "%s querying IMDS: %s",
			 r == -ETIMEDOUT ? "timeout" : "connection problem", resp->error);
	else
		snprintf(f->reason, sizeof(f->reason), "HTTP status %ld querying IMDS", resp->status);
	if (left == 0) {
		snprintf(err, errlen, "IMDS gave no answer within %u ms (%u attempts): %s", f->o->budget_ms,
			 f->attempt, f->reason);
		log_warning("%s", err);
		return -ETIMEDOUT;
	}
	if (pause > left)
		pause = left;
	/* One warning per change of symptom; the repeats at debug. */
	if (resp->status != f->last_status || f->attempt == 1)
		log_warning("IMDS attempt %u: %s; retrying in %llu ms, for up to %u ms", f->attempt,
			    f->reason, (unsigned long long)pause, left);
	else
		log_debug("IMDS attempt %u: %s; retrying in %llu ms", f->attempt, f->reason,
			  (unsigned long long)pause);
	f->last_status = resp->status;
	sleep_ms((unsigned)pause, f->o->stop);
	return 0;
}

static int finish_done(const struct http_response *resp, struct imds_instance *out, char *err, size_t errlen)
{
	int r = imds_parse(resp->body, resp->body_len, out, err, errlen);

	if (r < 0)
		log_warning("%s", err);
	else
		log_info("IMDS: instance metadata received (vmId %s, %zu keys, %zu dropped)",
			 out->vm_id[0] ? out->vm_id : "absent", out->n_keys, out->n_invalid_keys);
	return r;
}

static int finish_fail(const struct http_response *resp, char *err, size_t errlen)
{
	char body[161];

	excerpt(resp, body, sizeof(body));
	snprintf(err, errlen, "HTTP status %ld querying IMDS%s%s", resp->status, *body ? ": " : "", body);
	log_warning("%s", err);
	return -EPROTO;
}

static int fetch_init(struct fetch *f, const struct imds_options *o)
{
	size_t n;

	if (!o || !o->base_url)
		return -EINVAL;
	n = strlen(o->base_url);
	while (n && o->base_url[n - 1] == '/')
		n--;
	if (n == 0 || n > 256)
		return -EINVAL;
	*f = (struct fetch){ .o = o, .last_status = -1 };
	snprintf(f->url_primary, sizeof(f->url_primary), "%.*s" IMDS_PRIMARY_QUERY, (int)n, o->base_url);
	snprintf(f->url_fallback, sizeof(f->url_fallback), "%.*s" IMDS_FALLBACK_QUERY, (int)n, o->base_url);
	f->deadline_us = monotonic_usec() + (uint64_t)o->budget_ms * 1000u;
	return 0;
}

int imds_fetch(const struct imds_options *o, struct imds_instance *out, char *err, size_t errlen)
{
	struct fetch f;
	int r;

	memset(out, 0, sizeof(*out));
	out->disable_password_auth = -1;
	if (fetch_init(&f, o) < 0) {
		snprintf(err, errlen, "IMDS: no valid base URL configured");
		return -EINVAL;
	}
	for (f.attempt = 1;; f.attempt++) {
		_cleanup_(http_response_free) struct http_response resp = { 0 };

		if (o->stop && *o->stop) {
			snprintf(err, errlen, "IMDS: interrupted (the agent is stopping)");
			return -EINTR;
		}
		r = one_attempt(&f, &resp);
		if (r == -EFBIG) {
			snprintf(err, errlen, "unusable IMDS metadata: answer larger than %u bytes",
				 HTTP_BODY_MAX);
			log_warning("%s", err);
			return -EINVAL;
		}
		switch (imds_next_step(resp.status, r < 0, f.fallback)) {
		case IMDS_DONE:
			return finish_done(&resp, out, err, errlen);
		case IMDS_FAIL:
			return finish_fail(&resp, err, errlen);
		case IMDS_FALLBACK:
			log_warning("IMDS: api-version 2021-08-01 refused (400), falling back to 2019-06-01");
			f.fallback = true;
			continue;
		case IMDS_RETRY:
			r = pause_before_retry(&f, &resp, r, err, errlen);
			if (r < 0)
				return r;
			break;
		}
	}
}
