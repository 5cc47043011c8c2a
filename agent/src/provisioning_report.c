// SPDX-License-Identifier: MIT
/*
 * PROVISIONING_REPORT: the one-line provisioning result the Hyper-V host
 * reads from KVP pool 1 and shows as the provisioning error when the
 * wireserver never heard from us (research/provisioning.md §3.4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvp_pool.h"
#include "provisioning_report.h"
#include "util.h"

#ifndef AZL_VERSION
#define AZL_VERSION "0.0.0"
#endif

#define AGENT_ID "azl-agent/" AZL_VERSION
#define REPORT_FIELDS_MAX 8 /* the fixed pairs of either form */

size_t report_utf8_char(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* One line of UTF-8: control bytes become spaces, stray bytes '?'. */
static char *clean_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	while (n > 0) {
		size_t l = report_utf8_char(p, n);

		if (l == 0) {
			*o++ = '?';
			l = 1;
		} else if (l == 1 && (*p < 0x20 || *p == 0x7f)) {
			*o++ = ' ';
		} else {
			memcpy(o, p, l);
			o += l;
		}
		p += l;
		n -= l;
	}
	*o = '\0';
	return out;
}

/*
 * "key=value" as one csv field, at most max bytes: quoted when it holds
 * the delimiter or the quote, a quote doubled, cut at a character (never
 * between the two halves of a doubled quote).
 */
static char *pair_encode(const char *key, const char *value, size_t max)
{
	_cleanup_free_ char *raw = NULL, *text = NULL;
	size_t used = 0, budget, left;
	const char *p;
	bool quote;
	char *out, *o;

	if (asprintf(&raw, "%s=%s", key, value ? value : "") < 0)
		return NULL;
	text = clean_text(raw);
	if (!text)
		return NULL;
	quote = strpbrk(text, "|'") != NULL;
	budget = quote ? (max > 2 ? max - 2 : 0) : max;
	out = malloc(2 * strlen(text) + 3);
	if (!out)
		return NULL;
	o = out;
	if (quote)
		*o++ = '\'';
	for (p = text, left = strlen(text); left > 0;) {
		size_t l = report_utf8_char((const unsigned char *)p, left);
		size_t cost = *p == '\'' ? 2 : l;

		if (used + cost > budget)
			break;
		if (*p == '\'')
			*o++ = '\'';
		memcpy(o, p, l);
		o += l, p += l, left -= l, used += cost;
	}
	if (quote)
		*o++ = '\'';
	*o = '\0';
	return out;
}

struct fields {
	char *f[REPORT_FIELDS_MAX];
	size_t n;
};

static void fields_free(struct fields *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->f[i]);
	fs->n = 0;
}

static int fields_add(struct fields *fs, const char *key, const char *value)
{
	char *e = pair_encode(key, value, PROVISIONING_REPORT_MAX);

	if (!e)
		return -ENOMEM;
	fs->f[fs->n++] = e;
	return 0;
}

/* Bytes of the fields joined with '|'. */
static size_t fields_len(const struct fields *fs)
{
	size_t len = 0;

	for (size_t i = 0; i < fs->n; i++)
		len += strlen(fs->f[i]) + (i > 0);
	return len;
}

static void timestamp_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "unknown");
}

/* The error form's reason is the one pair worth shortening to make room. */
static int shorten_reason(struct fields *head, const struct fields *tail, const char *reason)
{
	size_t total = fields_len(head) + 1 + fields_len(tail);
	size_t others = total - strlen(head->f[1]);
	char *e;

	if (total <= PROVISIONING_REPORT_MAX)
		return 0;
	e = pair_encode("reason", reason, others < PROVISIONING_REPORT_MAX ? PROVISIONING_REPORT_MAX - others : 0);
	if (!e)
		return -ENOMEM;
	free(head->f[1]);
	head->f[1] = e;
	return 0;
}

static int build_fixed(bool success, const char *reason, const char *vm_id, const char *timestamp,
		       struct fields *head, struct fields *tail)
{
	int r = 0;

	if (success) {
		r = r ?: fields_add(head, "result", "success");
		r = r ?: fields_add(head, "agent", AGENT_ID);
		r = r ?: fields_add(head, "pps_type", "None");
		r = r ?: fields_add(head, "vm_id", vm_id);
		r = r ?: fields_add(head, "timestamp", timestamp);
		return r;
	}
	r = r ?: fields_add(head, "result", "error");
	r = r ?: fields_add(head, "reason", reason ? reason : "unknown");
	r = r ?: fields_add(head, "agent", AGENT_ID);
	r = r ?: fields_add(tail, "vm_id", vm_id);
	r = r ?: fields_add(tail, "timestamp", timestamp);
	r = r ?: fields_add(tail, "documentation_url", PROVISIONING_REPORT_DOC_URL);
	r = r ?: shorten_reason(head, tail, reason ? reason : "unknown");
	return r;
}

/* Append src to *o when it still fits in the limit; false from then on. */
static bool join_one(char *buf, size_t *len, const char *src)
{
	size_t n = strlen(src) + (*len > 0);

	if (*len + n > PROVISIONING_REPORT_MAX)
		return false;
	if (*len > 0)
		buf[(*len)++] = '|';
	memcpy(buf + *len, src, strlen(src) + 1);
	*len += strlen(src);
	return true;
}

char *provisioning_report_encode(bool success, const char *reason, const struct report_kv *extra,
				 size_t n_extra, const char *vm_id, const char *timestamp)
{
	struct fields head = { 0 }, tail = { 0 };
	size_t len = 0, room;
	char ts[32], *out = NULL;
	bool fits = true;

	if (!timestamp) {
		timestamp_now(ts, sizeof(ts));
		timestamp = ts;
	}
	if (build_fixed(success, reason, vm_id ? vm_id : "", timestamp, &head, &tail) < 0)
		goto out;
	out = malloc(PROVISIONING_REPORT_MAX + 1);
	if (!out)
		goto out;
	out[0] = '\0';
	/* Room the extras leave for the pairs that always follow them. */
	room = fields_len(&tail) + (tail.n > 0);
	for (size_t i = 0; i < head.n && fits; i++)
		fits = join_one(out, &len, head.f[i]);
	for (size_t i = 0; i < n_extra && fits; i++) {
		_cleanup_free_ char *e = pair_encode(extra[i].key ? extra[i].key : "", extra[i].value,
						     PROVISIONING_REPORT_MAX);

		if (!e) {
			free(out);
			out = NULL;
			goto out;
		}
		if (len + 1 + strlen(e) + room > PROVISIONING_REPORT_MAX)
			break; /* this and all later extras are left out */
		fits = join_one(out, &len, e);
	}
	for (size_t i = 0; i < tail.n && fits; i++)
		fits = join_one(out, &len, tail.f[i]);
out:
	fields_free(&head);
	fields_free(&tail);
	return out;
}

static void kvp_pool_closep(struct kvp_pool **p)
{
	if (*p)
		kvp_pool_close(*p);
}

/* Records of `key` in the pool: other agents append, so there may be several. */
static int count_key(struct kvp_pool *p, const char *key)
{
	char k[KVP_KEY_SIZE], v[KVP_VALUE_SIZE];
	int n = 0, r;

	for (uint32_t i = 0;; i++) {
		r = kvp_pool_enumerate(p, i, k, v);
		if (r == -ENOENT)
			return n;
		if (r < 0)
			return r;
		n += strcmp(k, key) == 0;
	}
}

int provisioning_report_write(const struct root *r, const char *value)
{
	_cleanup_(kvp_pool_closep) struct kvp_pool *p = NULL;
	int n, k;

	if (!value || strlen(value) > PROVISIONING_REPORT_MAX)
		return -EINVAL;
	k = kvp_pool_open(r, 1, true, &p);
	if (k < 0)
		return k;
	/* Upsert means one record: drop older duplicates, then update the last. */
	n = count_key(p, PROVISIONING_REPORT_KEY);
	if (n < 0)
		return n;
	for (; n > 1; n--) {
		k = kvp_pool_delete(p, PROVISIONING_REPORT_KEY);
		if (k < 0)
			return k;
	}
	return kvp_pool_set(p, PROVISIONING_REPORT_KEY, value);
}
