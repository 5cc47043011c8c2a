// SPDX-License-Identifier: MIT
/*
 * The pure half of the provisioning actions: what is a valid host name,
 * user name and password, the text of the drop-ins, strict base64 for
 * CustomData, and the authorized_keys merge.  No system access here, so
 * the unit tests and the fuzzer cover all of it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "provision_actions_internal.h"
#include "util.h"

int pa_fail(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 1123 labels: letters, digits, inner hyphens, 1..63 each, 253 in all, no trailing dot. */
int pa_validate_hostname(const char *name, char *err, size_t errlen)
{
	size_t len, label = 0;

	if (!name || !*name)
		return pa_fail(-EINVAL, err, errlen, "the host name is empty");
	len = strlen(name);
	if (len > PA_HOSTNAME_MAX)
		return pa_fail(-EINVAL, err, errlen, "the host name has %zu characters (at most %d)",
			       len, PA_HOSTNAME_MAX);
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '.' || c == '\0') {
			if (label == 0)
				return pa_fail(-EINVAL, err, errlen,
					       "the host name has an empty label at offset %zu", i);
			if (name[i - 1] == '-')
				return pa_fail(-EINVAL, err, errlen,
					       "a host name label ends with '-' (offset %zu)", i - 1);
			label = 0;
			continue;
		}
		if (!is_alnum(c) && c != '-')
			return pa_fail(-EINVAL, err, errlen,
				       "the host name has a character other than a letter, digit, '-' "
				       "or '.' at offset %zu (0x%02x)",
				       i, (unsigned char)c);
		if (c == '-' && label == 0)
			return pa_fail(-EINVAL, err, errlen,
				       "a host name label starts with '-' (offset %zu)", i);
		if (++label > 63)
			return pa_fail(-EINVAL, err, errlen,
				       "a host name label is longer than 63 characters");
	}
	return 0;
}

/*
 * The portable user name of useradd's default rules: [a-z_][a-z0-9_-]*[$]?,
 * at most 32.  Upper case, dots and '@' are refused although some tools
 * accept them: sudoers and sshd treat them specially.
 */
int pa_validate_user(const char *name, char *err, size_t errlen)
{
	size_t len;

	if (!name || !*name)
		return pa_fail(-EINVAL, err, errlen, "the user name is empty");
	len = strlen(name);
	if (len > PA_USER_MAX)
		return pa_fail(-EINVAL, err, errlen, "the user name has %zu characters (at most %d)",
			       len, PA_USER_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || c == '_' ||
			  (i > 0 && ((c >= '0' && c <= '9') || c == '-')) ||
			  (i > 0 && i == len - 1 && c == '$');

		if (!ok)
			return pa_fail(-EINVAL, err, errlen,
				       "the user name has a character not allowed at offset %zu (0x%02x); "
				       "allowed: [a-z_][a-z0-9_-]*[$]?",
				       i, (unsigned char)c);
	}
	if (strcmp(name, "root") == 0)
		return pa_fail(-EPERM, err, errlen, "refusing to provision the root account");
	return 0;
}

/*
 * Azure accepts 6..72 characters for an admin password; anything longer
 * did not come from the platform, and yescrypt/sha512 would hash it fine,
 * so refusing is a policy, not a hash limit.  A NUL cannot occur (C string).
 */
int pa_validate_password(const char *password, char *err, size_t errlen)
{
	size_t len = password ? strlen(password) : 0;

	if (len == 0)
		return pa_fail(-EINVAL, err, errlen, "the password is empty");
	if (len > PA_PASSWORD_MAX)
		return pa_fail(-EINVAL, err, errlen,
			       "the password is longer than %d characters (refused)",
			       PA_PASSWORD_MAX);
	return 0;
}

int pa_sudoers_text(const char *user, bool nopasswd, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "# Written by azl-agent at provisioning; the administrator of this VM.\n"
			 "%s ALL=(ALL) %sALL\n",
			 user, nopasswd ? "NOPASSWD:" : "");

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int pa_sshd_text(bool allow, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "# Written by azl-agent at provisioning (disablePasswordAuthentication).\n"
			 "PasswordAuthentication %s\n",
			 allow ? "yes" : "no");

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int pa_base64_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen,
		     char *err, size_t errlen)
{
	int ret = base64_decode(in, inlen, out, outlen);

	if (ret == -EBADMSG)
		return pa_fail(ret, err, errlen,
			       "not valid base64 (bad character, missing padding or data after it)");
	return ret < 0 ? pa_fail(ret, err, errlen, "base64: %s", strerror(-ret)) : 0;
}

static bool key_type_token(const char *s, size_t len)
{
	static const char *const prefixes[] = { "ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-" };

	for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
		size_t pl = strlen(prefixes[i]);

		if (len > pl && strncmp(s, prefixes[i], pl) == 0)
			return true;
	}
	return false;
}

/*
 * The identity of a key line: "type blob" (options before and a comment
 * after do not count).  A line without a recognisable key is identified by
 * all of itself.  Sets *id and *idlen to a slice of line.
 */
static void key_identity(const char *line, size_t len, const char **id, size_t *idlen)
{
	size_t i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		s = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (!key_type_token(line + s, i - s))
			continue;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		e = i;
		while (e < len && line[e] != ' ' && line[e] != '\t')
			e++;
		*id = line + s;
		*idlen = e - s;
		return;
	}
	*id = line;
	*idlen = len;
}

static bool same_key(const char *a, size_t alen, const char *b, size_t blen)
{
	const char *ia, *ib;
	size_t la, lb;

	key_identity(a, alen, &ia, &la);
	key_identity(b, blen, &ib, &lb);
	return la == lb && memcmp(ia, ib, la) == 0;
}

static size_t trimmed(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	return len;
}

static bool is_one_of(const char *line, size_t len, char *const *keys, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (same_key(line, len, keys[k], trimmed(keys[k], strlen(keys[k]))))
			return true;
	return false;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 2 > *cap) {
		size_t ncap = (*len + n + 2) * 2;
		char *p = realloc(*buf, ncap);

		if (!p)
			return -ENOMEM;
		*buf = p;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[(*len)++] = '\n';
	(*buf)[*len] = '\0';
	return 0;
}

int pa_keys_merge(const char *old, size_t oldlen, char *const *keys, size_t n, char **out,
		  size_t *outlen, char *err, size_t errlen)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	for (size_t k = 0; k < n; k++) {
		size_t kl = strlen(keys[k]);

		if (strchr(keys[k], '\n') || strchr(keys[k], '\r') || trimmed(keys[k], kl) == 0)
			return pa_fail(-EINVAL, err, errlen,
				       "public key %zu is empty or spans several lines", k + 1);
	}
	for (size_t i = 0; old && i < oldlen;) {
		const char *nl = memchr(old + i, '\n', oldlen - i);
		size_t ll = nl ? (size_t)(nl - (old + i)) : oldlen - i;
		size_t tl = trimmed(old + i, ll);

		if (memchr(old + i, '\0', ll))
			return pa_fail(-EBADMSG, err, errlen,
				       "the existing authorized_keys holds a NUL byte");
		if (tl > 0 && !is_one_of(old + i, tl, keys, n)) {
			r = append(&buf, &len, &cap, old + i, tl);
			if (r < 0)
				return r;
		}
		i += ll + 1;
	}
	for (size_t k = 0; k < n; k++) {
		bool dup = false;

		for (size_t j = 0; j < k && !dup; j++)
			dup = same_key(keys[j], trimmed(keys[j], strlen(keys[j])), keys[k],
				       trimmed(keys[k], strlen(keys[k])));
		if (dup)
			continue;
		r = append(&buf, &len, &cap, keys[k], trimmed(keys[k], strlen(keys[k])));
		if (r < 0)
			return r;
	}
	if (!buf) {
		buf = strdup("");
		if (!buf)
			return -ENOMEM;
	}
	*outlen = len;
	*out = TAKE_PTR(buf);
	return 0;
}

int pa_groups_foreach(const char *csv, int (*fn)(const char *group, void *data), void *data)
{
	char name[64];

	for (const char *p = csv ? csv : ""; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *s = p;
		int r;

		p += len + (e ? 1 : 0);
		while (len > 0 && (*s == ' ' || *s == '\t'))
			s++, len--;
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == 0)
			continue;
		if (len >= sizeof(name))
			return -ENAMETOOLONG;
		memcpy(name, s, len);
		name[len] = '\0';
		r = fn(name, data);
		if (r < 0)
			return r;
	}
	return 0;
}
