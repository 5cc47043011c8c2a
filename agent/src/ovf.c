// SPDX-License-Identifier: MIT
/*
 * ovf-env.xml: the parser, the redactor and the media reader
 * (research/provisioning.md §2).
 */
#include "ovf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cdrom.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <blkid/blkid.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "log.h"
#include "sysfile.h"
#include "util.h"

#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

/*
 * No DTD loading, no entity substitution (XML_PARSE_NOENT off), no network,
 * no dictionary (so every text node is our own allocation and can be wiped),
 * and libxml2 never prints: errors are read back from the context.
 */
#define OVF_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NODICT | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static int seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- libxml2 plumbing ---------------------------------------------------- */

#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

static void xml_silent(void *data, xml_error_arg e)
{
	(void)data;
	(void)e;
}

/*
 * Encoding errors are raised without a parser context and go to libxml2's
 * generic handler, which prints the offending bytes (they may be the
 * password) on stderr.  Silence it for the length of one parse and restore
 * the caller's handler: libxml2 keeps it per thread, the agent has one.
 */
static void xml_generic_silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

struct xml_generic_saved {
	xmlGenericErrorFunc func;
	void *ctx;
};

static struct xml_generic_saved xml_generic_mute(void)
{
	struct xml_generic_saved s = { xmlGenericError, xmlGenericErrorContext };

	xmlSetGenericErrorFunc(NULL, xml_generic_silent);
	return s;
}

static void xml_generic_restore(const struct xml_generic_saved *s)
{
	xmlSetGenericErrorFunc(s->ctx, s->func);
}

static bool is_text(const xmlNode *n)
{
	return n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE;
}

/* Zero every text node before the tree is freed: one of them is the password. */
static void wipe_text(xmlNode *n)
{
	for (; n; n = n->next) {
		if (is_text(n) && n->content)
			explicit_bzero(n->content, (size_t)xmlStrlen(n->content));
		else if (n->type == XML_ELEMENT_NODE)
			wipe_text(n->children);
	}
}

static void wipe_free_doc(xmlDoc *doc)
{
	if (!doc)
		return;
	wipe_text(doc->children);
	xmlFreeDoc(doc);
}

static void wipe_free_docp(xmlDoc **doc)
{
	wipe_free_doc(*doc);
}

/*
 * libxml2's own messages may quote document bytes (an undefined entity's
 * name, a mismatched end tag, invalid bytes), and those bytes may be the
 * password.  So say what kind of error and where, in our words.
 */
static const char *xml_error_kind(int code)
{
	switch (code) {
	case XML_ERR_DOCUMENT_EMPTY:
		return "empty document";
	case XML_ERR_DOCUMENT_END:
		return "extra content after the document element";
	case XML_ERR_TAG_NAME_MISMATCH:
		return "opening and ending tags do not match";
	case XML_ERR_TAG_NOT_FINISHED:
	case XML_ERR_LTSLASH_REQUIRED:
		return "document ends inside an element";
	case XML_ERR_INVALID_CHAR:
	case XML_ERR_INVALID_CHARREF:
	case XML_ERR_INVALID_DEC_CHARREF:
	case XML_ERR_INVALID_HEX_CHARREF:
		return "invalid character";
	case XML_ERR_INVALID_ENCODING:
	case XML_ERR_UNSUPPORTED_ENCODING:
	case XML_ERR_UNKNOWN_ENCODING:
		return "invalid or unsupported encoding";
	case XML_ERR_UNDECLARED_ENTITY:
	case XML_WAR_UNDECLARED_ENTITY:
		return "undefined entity reference";
	case XML_ERR_ENTITY_LOOP:
	case XML_ERR_ENTITY_BOUNDARY:
		return "entity expansion refused";
	case XML_ERR_NAME_REQUIRED:
	case XML_ERR_GT_REQUIRED:
		return "malformed tag";
	case XML_ERR_ATTRIBUTE_WITHOUT_VALUE:
	case XML_ERR_ATTRIBUTE_NOT_STARTED:
	case XML_ERR_ATTRIBUTE_REDEFINED:
	case XML_ERR_LT_IN_ATTRIBUTE:
		return "malformed attribute";
	case XML_ERR_ENTITYREF_SEMICOL_MISSING:
		return "'&' not followed by an entity reference (escape it as &amp;)";
	default:
		return "not well-formed";
	}
}

/* Refuse what Azure never sends and what makes XML dangerous. */
static int check_dtd(const xmlDoc *doc, char *err, size_t errlen)
{
	const xmlDtd *dtd = doc->intSubset;

	if (doc->extSubset || (dtd && (dtd->ExternalID || dtd->SystemID)))
		return seterr(err, errlen, -EINVAL,
			      "ovf-env.xml names an external DTD: refused (never loaded)");
	if (dtd && (dtd->entities || dtd->pentities))
		return seterr(err, errlen, -EINVAL,
			      "ovf-env.xml declares entities: refused (never expanded)");
	return 0;
}

static int parse_doc(const char *xml, size_t len, xmlDoc **out, char *err, size_t errlen)
{
	struct xml_generic_saved saved;
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	int ret;

	*out = NULL;
	if (!xml || len == 0)
		return seterr(err, errlen, -EINVAL, "ovf-env.xml is empty");
	if (len > OVF_MAX_SIZE)
		return seterr(err, errlen, -EFBIG, "ovf-env.xml is %zu bytes, more than the %u allowed",
			      len, OVF_MAX_SIZE);
	/* Declarations are refused before libxml2 sees them, so no expansion ever runs. */
	if (memmem(xml, len, "<!ENTITY", 8))
		return seterr(err, errlen, -EINVAL,
			      "ovf-env.xml declares entities: refused (never expanded)");
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return seterr(err, errlen, -ENOMEM, "out of memory");
	ctxt->sax->serror = xml_silent;
	saved = xml_generic_mute();
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "ovf-env.xml", NULL, OVF_XML_OPTIONS);
	xml_generic_restore(&saved);
	if (!doc || !ctxt->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);

		wipe_free_doc(doc);
		if (e && e->code == XML_ERR_NO_MEMORY)
			ret = seterr(err, errlen, -ENOMEM, "out of memory");
		else
			ret = seterr(err, errlen, -EINVAL,
				     "ovf-env.xml is not well-formed XML: %s (line %d, column %d)",
				     xml_error_kind(e ? e->code : 0), e ? e->line : 0,
				     e ? e->int2 : 0);
		xmlFreeParserCtxt(ctxt);
		return ret;
	}
	xmlFreeParserCtxt(ctxt);
	ret = check_dtd(doc, err, errlen);
	if (ret < 0) {
		wipe_free_doc(doc);
		return ret;
	}
	*out = doc;
	return 0;
}

/* ---- the tree ------------------------------------------------------------ */

static bool is_el(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       xmlStrEqual(n->ns->href, BAD_CAST ns) && xmlStrEqual(n->name, BAD_CAST name);
}

static bool is_nil(const xmlNode *el)
{
	xmlChar *v = xmlGetNsProp(el, BAD_CAST "nil", BAD_CAST NS_XSI);
	bool nil = v && (xmlStrEqual(v, BAD_CAST "true") || xmlStrEqual(v, BAD_CAST "1"));

	xmlFree(v);
	return nil;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * The text of a leaf element: its text and CDATA children joined (comments
 * skipped).  *out is NULL when empty or xsi:nil.  A child element is an
 * error: a field is never a structure.
 */
static int el_text(const xmlNode *el, bool trim, char **out, char *err, size_t errlen)
{
	size_t total = 0, a, b;
	char *buf;

	*out = NULL;
	if (is_nil(el))
		return 0;
	for (const xmlNode *c = el->children; c; c = c->next) {
		if (is_text(c))
			total += c->content ? (size_t)xmlStrlen(c->content) : 0;
		else if (c->type == XML_ELEMENT_NODE || c->type == XML_ENTITY_REF_NODE)
			return seterr(err, errlen, -EINVAL,
				      "ovf-env.xml: %s (line %ld) must hold text only", (const char *)el->name,
				      xmlGetLineNo(el));
	}
	buf = malloc(total + 1);
	if (!buf)
		return seterr(err, errlen, -ENOMEM, "out of memory");
	total = 0;
	for (const xmlNode *c = el->children; c; c = c->next)
		if (is_text(c) && c->content) {
			size_t l = (size_t)xmlStrlen(c->content);

			memcpy(buf + total, c->content, l);
			total += l;
		}
	buf[total] = '\0';
	a = 0;
	b = total;
	if (trim) {
		while (a < b && is_space(buf[a]))
			a++;
		while (b > a && is_space(buf[b - 1]))
			b--;
	}
	if (a == b) {
		explicit_bzero(buf, total);
		free(buf);
		return 0;
	}
	if (a > 0)
		memmove(buf, buf + a, b - a);
	buf[b - a] = '\0';
	if (b - a < total)
		explicit_bzero(buf + (b - a), total - (b - a));
	*out = buf;
	return 0;
}

/* A field that may appear once: a second one is ambiguous, so an error. */
static int take_text(const xmlNode *el, bool trim, char **field, bool *seen, char *err,
		     size_t errlen)
{
	if (*seen)
		return seterr(err, errlen, -EINVAL, "ovf-env.xml: %s appears twice (line %ld)",
			      (const char *)el->name, xmlGetLineNo(el));
	*seen = true;
	return el_text(el, trim, field, err, errlen);
}

/* "true"/"false" (any case, 1/0 too) -> 1/0; empty -> -1. */
static int take_bool(const xmlNode *el, int *field, bool *seen, char *err, size_t errlen)
{
	_cleanup_free_ char *v = NULL;
	int ret = take_text(el, true, &v, seen, err, errlen);

	if (ret < 0)
		return ret;
	if (!v)
		*field = -1;
	else if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*field = 1;
	else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*field = 0;
	else
		return seterr(err, errlen, -EINVAL, "ovf-env.xml: %s is \"%.32s\", expected true or false",
			      (const char *)el->name, v);
	return 0;
}

static int parse_public_key(const xmlNode *pk, struct ovf_env *env, char *err, size_t errlen)
{
	struct ovf_ssh_key *k;
	bool seen_fp = false, seen_path = false, seen_value = false;
	int ret = 0;

	if (env->n_keys == OVF_MAX_KEYS)
		return seterr(err, errlen, -EINVAL, "ovf-env.xml: more than %d public keys",
			      OVF_MAX_KEYS);
	k = &env->keys[env->n_keys++];
	for (const xmlNode *c = pk->children; c && ret == 0; c = c->next) {
		if (is_el(c, OVF_NS_WA, "Fingerprint"))
			ret = take_text(c, true, &k->fingerprint, &seen_fp, err, errlen);
		else if (is_el(c, OVF_NS_WA, "Path"))
			ret = take_text(c, true, &k->path, &seen_path, err, errlen);
		else if (is_el(c, OVF_NS_WA, "Value"))
			ret = take_text(c, true, &k->value, &seen_value, err, errlen);
	}
	if (ret == 0 && !k->fingerprint && !k->value)
		ret = seterr(err, errlen, -EINVAL,
			     "ovf-env.xml: PublicKey (line %ld) has neither Fingerprint nor Value",
			     xmlGetLineNo(pk));
	return ret;
}

static int parse_ssh(const xmlNode *ssh, struct ovf_env *env, char *err, size_t errlen)
{
	int ret = 0;

	for (const xmlNode *c = ssh->children; c && ret == 0; c = c->next) {
		if (!is_el(c, OVF_NS_WA, "PublicKeys"))
			continue; /* KeyPairs: private keys come from wireserver certificates */
		for (const xmlNode *pk = c->children; pk && ret == 0; pk = pk->next)
			if (is_el(pk, OVF_NS_WA, "PublicKey"))
				ret = parse_public_key(pk, env, err, errlen);
	}
	return ret;
}

struct lpcs_seen {
	bool host, user, password, disable, custom, user_data, ssh;
};

static int parse_lpcs(const xmlNode *lpcs, struct ovf_env *env, char *err, size_t errlen)
{
	struct lpcs_seen s = { 0 };
	_cleanup_free_ char *user_data = NULL;
	int ret = 0;

	for (const xmlNode *c = lpcs->children; c && ret == 0; c = c->next) {
		if (is_el(c, OVF_NS_WA, "HostName"))
			ret = take_text(c, true, &env->hostname, &s.host, err, errlen);
		else if (is_el(c, OVF_NS_WA, "UserName"))
			ret = take_text(c, true, &env->username, &s.user, err, errlen);
		else if (is_el(c, OVF_NS_WA, "UserPassword"))
			ret = take_text(c, false, &env->password, &s.password, err, errlen);
		else if (is_el(c, OVF_NS_WA, "DisableSshPasswordAuthentication"))
			ret = take_bool(c, &env->disable_ssh_password_auth, &s.disable, err, errlen);
		else if (is_el(c, OVF_NS_WA, "CustomData"))
			ret = take_text(c, true, &env->custom_data, &s.custom, err, errlen);
		else if (is_el(c, OVF_NS_WA, "UserData"))
			ret = take_text(c, true, &user_data, &s.user_data, err, errlen);
		else if (is_el(c, OVF_NS_WA, "SSH"))
			ret = parse_ssh(c, env, err, errlen);
		/* anything else (ConfigurationSetType, dscfg, new fields) is not ours */
	}
	if (ret == 0 && !env->custom_data)
		env->custom_data = TAKE_PTR(user_data);
	return ret;
}

static int parse_platform(const xmlNode *ps, struct ovf_env *env, char *err, size_t errlen)
{
	_cleanup_free_ char *vm = NULL, *type_vm = NULL, *type_vm_lower = NULL;
	bool seen_vm = false, seen_t1 = false, seen_t2 = false;
	int ret = 0, pp = -1;

	for (const xmlNode *c = ps->children; c && ret == 0; c = c->next) {
		if (is_el(c, OVF_NS_WA, "PreprovisionedVm"))
			ret = take_bool(c, &pp, &seen_vm, err, errlen);
		else if (is_el(c, OVF_NS_WA, "PreprovisionedVMType"))
			ret = take_text(c, true, &type_vm, &seen_t1, err, errlen);
		else if (is_el(c, OVF_NS_WA, "PreprovisionedVmType"))
			ret = take_text(c, true, &type_vm_lower, &seen_t2, err, errlen);
	}
	if (ret < 0)
		return ret;
	/* cloud-init's spelling (production) and azure-init's: both, if they agree. */
	if (type_vm && type_vm_lower && strcmp(type_vm, type_vm_lower) != 0)
		return seterr(err, errlen, -EINVAL,
			      "ovf-env.xml: PreprovisionedVMType \"%.32s\" and PreprovisionedVmType "
			      "\"%.32s\" disagree",
			      type_vm, type_vm_lower);
	env->preprovisioned_vm = pp == 1;
	env->preprovisioned_vm_type = type_vm ? TAKE_PTR(type_vm) : TAKE_PTR(type_vm_lower);
	return 0;
}

/* The one child of parent named {ns}name; -ENOENT none, -EINVAL several. */
static int find_one(const xmlNode *parent, const char *ns, const char *name, const xmlNode **out,
		    char *err, size_t errlen)
{
	*out = NULL;
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (!is_el(c, ns, name))
			continue;
		if (*out)
			return seterr(err, errlen, -EINVAL, "ovf-env.xml: %s appears twice (line %ld)",
				      name, xmlGetLineNo(c));
		*out = c;
	}
	return *out ? 0 : -ENOENT;
}

static int parse_tree(const xmlDoc *doc, struct ovf_env *env, char *err, size_t errlen)
{
	const xmlNode *root = xmlDocGetRootElement(doc), *prov, *lpcs, *pss, *ps;
	int ret;

	if (!is_el(root, OVF_NS_ENV, "Environment"))
		return seterr(err, errlen, -EINVAL,
			      "ovf-env.xml: the document element is not Environment in namespace "
			      OVF_NS_ENV);
	ret = find_one(root, OVF_NS_WA, "ProvisioningSection", &prov, err, errlen);
	if (ret == -ENOENT)
		return seterr(err, errlen, -EINVAL,
			      "ovf-env.xml: no ProvisioningSection in namespace " OVF_NS_WA);
	if (ret < 0)
		return ret;
	ret = find_one(prov, OVF_NS_WA, "LinuxProvisioningConfigurationSet", &lpcs, err, errlen);
	if (ret == -ENOENT)
		return seterr(err, errlen, -EINVAL,
			      "ovf-env.xml: no LinuxProvisioningConfigurationSet in namespace " OVF_NS_WA);
	if (ret < 0)
		return ret;
	ret = parse_lpcs(lpcs, env, err, errlen);
	if (ret < 0)
		return ret;
	ret = find_one(root, OVF_NS_WA, "PlatformSettingsSection", &pss, err, errlen);
	if (ret == -ENOENT)
		return 0; /* optional */
	if (ret < 0)
		return ret;
	ret = find_one(pss, OVF_NS_WA, "PlatformSettings", &ps, err, errlen);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	return parse_platform(ps, env, err, errlen);
}

int ovf_parse(const char *xml, size_t len, struct ovf_env *out, char *err, size_t errlen)
{
	_cleanup_(wipe_free_docp) xmlDoc *doc = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	out->disable_ssh_password_auth = -1;
	ret = parse_doc(xml, len, &doc, err, errlen);
	if (ret < 0)
		return ret;
	ret = parse_tree(doc, out, err, errlen);
	if (ret < 0)
		ovf_env_free(out);
	return ret;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void ovf_env_free(struct ovf_env *env)
{
	if (!env)
		return;
	free(env->hostname);
	free(env->username);
	free_secret(env->password);
	free(env->custom_data);
	for (size_t i = 0; i < env->n_keys && i < OVF_MAX_KEYS; i++) {
		free(env->keys[i].fingerprint);
		free(env->keys[i].path);
		free(env->keys[i].value);
	}
	free(env->preprovisioned_vm_type);
	memset(env, 0, sizeof(*env));
	env->disable_ssh_password_auth = -1;
}

/* ---- redaction ----------------------------------------------------------- */

static bool has_text(const xmlNode *el)
{
	for (const xmlNode *c = el->children; c; c = c->next)
		if (is_text(c) && c->content && c->content[0])
			return true;
	return false;
}

/* Every UserPassword, whatever its namespace: redacting too much is harmless. */
static int redact_tree(xmlNode *n)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(n->name, BAD_CAST "UserPassword")) {
			if (!has_text(n))
				continue; /* empty (or only a comment): nothing to hide */
			wipe_text(n->children);
			xmlNodeSetContent(n, BAD_CAST "REDACTED");
			if (!n->children)
				return -ENOMEM;
			continue;
		}
		if (redact_tree(n->children) < 0)
			return -ENOMEM;
	}
	return 0;
}

int ovf_redact(const char *xml, size_t len, char **out, size_t *out_len)
{
	_cleanup_(wipe_free_docp) xmlDoc *doc = NULL;
	xmlChar *mem = NULL;
	int size = 0, ret;
	char *copy;

	*out = NULL;
	*out_len = 0;
	ret = parse_doc(xml, len, &doc, NULL, 0);
	if (ret < 0)
		return ret;
	if (redact_tree(doc->children) < 0)
		return -ENOMEM;
	/* Always UTF-8: re-encoding into an exotic declared charset (UTF-7...) may not round-trip. */
	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	if (!mem || size < 0) {
		xmlFree(mem);
		return -ENOMEM;
	}
	copy = malloc((size_t)size + 1);
	if (!copy) {
		xmlFree(mem);
		return -ENOMEM;
	}
	memcpy(copy, mem, (size_t)size);
	copy[size] = '\0';
	xmlFree(mem);
	*out = copy;
	*out_len = (size_t)size;
	return 0;
}

/* ---- the media ----------------------------------------------------------- */

static const char *const default_fstypes[] = { "udf", "iso9660", NULL };

static void msleep(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A bounded read of a regular file (never a FIFO or a device). */
static int read_bounded(int dirfd, const char *name, char **xml, size_t *len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t cap, n = 0;
	struct stat st;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if (st.st_size > (off_t)OVF_MAX_SIZE)
		return -EFBIG;
	/* st_size is a hint: read to the end, but never past the bound. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (cap > OVF_MAX_SIZE)
				return -EFBIG;
			cap = cap * 2 > OVF_MAX_SIZE + 1 ? OVF_MAX_SIZE + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > OVF_MAX_SIZE)
		return -EFBIG;
	buf[n] = '\0';
	*xml = TAKE_PTR(buf);
	*len = n;
	return 0;
}

int ovf_media_read_dir(const char *dir, char **xml, size_t *len, char *err, size_t errlen)
{
	/* ISO9660 without Rock Ridge/Joliet may show the 8.3 upper-case name. */
	static const char *const names[] = { "ovf-env.xml", "OVF-ENV.XML" };
	_cleanup_close_ int dfd = -1;
	int ret = -ENOENT;

	*xml = NULL;
	*len = 0;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return seterr(err, errlen, -errno, "cannot open %s: %m", dir);
	for (size_t i = 0; i < ELEMENTSOF(names) && ret == -ENOENT; i++)
		ret = read_bounded(dfd, names[i], xml, len);
	if (ret == -ENOENT)
		return seterr(err, errlen, ret, "no ovf-env.xml in %s", dir);
	if (ret == -EFBIG)
		return seterr(err, errlen, ret, "ovf-env.xml in %s is larger than %u bytes", dir,
			      OVF_MAX_SIZE);
	if (ret < 0)
		return seterr(err, errlen, ret, "cannot read ovf-env.xml in %s: %s", dir,
			      strerror(-ret));
	return 0;
}

static bool probe_type(const char *dev, const char *const *fstypes)
{
	blkid_probe pr = blkid_new_probe_from_filename(dev);
	const char *type = NULL;
	bool match = false;

	if (!pr)
		return false; /* no medium, no permission, gone: not a candidate */
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_ONLYIN, (char **)fstypes);
	if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0)
		for (size_t i = 0; fstypes[i] && !match; i++)
			match = strcmp(type, fstypes[i]) == 0;
	blkid_free_probe(pr);
	return match;
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int ovf_media_candidates(const struct root *r, const char *const *fstypes, char ***devs,
			 size_t *n)
{
	char path[PATH_MAX], **names = NULL;
	size_t nn = 0;
	int ret;

	*devs = NULL;
	*n = 0;
	if (!fstypes)
		fstypes = default_fstypes;
	ret = root_path(r, ROOT_DEV, path, sizeof(path), "sr0");
	if (ret < 0)
		return ret;
	/* sr0 is tried even when blkid cannot read it yet (the medium may be late). */
	if (access(path, F_OK) == 0 && strv_push(devs, n, path) < 0)
		goto oom;
	ret = root_list_dir(r, ROOT_SYS, &names, &nn, "class/block");
	if (ret < 0)
		return ret == -ENOENT ? 0 : ret;
	for (size_t i = 0; i < nn; i++) {
		if (strcmp(names[i], "sr0") == 0 ||
		    root_path(r, ROOT_DEV, path, sizeof(path), "%s", names[i]) < 0)
			continue;
		if (probe_type(path, fstypes) && strv_push(devs, n, path) < 0) {
			strv_free(names, nn);
			goto oom;
		}
	}
	strv_free(names, nn);
	return 0;
oom:
	strv_free(*devs, *n);
	*devs = NULL;
	*n = 0;
	return -ENOMEM;
}

static bool transient(int e)
{
	return e == ENOMEDIUM || e == EBUSY || e == EAGAIN || e == EIO;
}

/*
 * Mount dev on dir with the first fstype that works, retrying while the
 * drive says the medium is not ready.  Returns 0 mounted, or the errno that
 * best explains the failure: a transient one (still no medium), else ENODEV
 * when some type is unknown to the kernel (a UDF disc where udf is
 * blacklisted must say so, not "no media"), else the first other error.
 */
static int mount_media(const char *dev, const char *dir, const struct ovf_media_options *o)
{
	const unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	int busy = 0, unknown = 0, other = 0;

	for (unsigned attempt = 0; attempt < o->attempts; attempt++) {
		busy = unknown = other = 0;
		for (size_t i = 0; o->fstypes[i]; i++) {
			if (mount(dev, dir, o->fstypes[i], flags, NULL) == 0)
				return 0;
			if (transient(errno))
				busy = errno;
			else if (errno == ENODEV)
				unknown = errno;
			else if (!other)
				other = errno;
		}
		if (!busy)
			break;
		if (attempt + 1 < o->attempts)
			msleep(o->delay_ms);
	}
	return -(busy ? busy : unknown ? unknown : other ? other : ENODEV);
}

static void unmount_media(const char *dir)
{
	if (umount2(dir, UMOUNT_NOFOLLOW) < 0 && umount2(dir, UMOUNT_NOFOLLOW | MNT_DETACH) < 0) {
		log_warning("cannot unmount %s: %m (left in place)", dir);
		return;
	}
	if (rmdir(dir) < 0)
		log_warning("cannot remove %s: %m", dir);
}

static int read_device(const struct root *r, const char *dev, const struct ovf_media_options *o,
		       char **xml, size_t *len, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int ret;

	ret = root_path(r, ROOT_RUN, dir, sizeof(dir), "azl-agent-ovf.XXXXXX");
	if (ret < 0)
		return seterr(err, errlen, ret, "mount point path too long");
	/* mkdtemp: a fresh 0700 directory nobody else can plant files in. */
	if (!mkdtemp(dir))
		return seterr(err, errlen, -errno, "cannot create a mount point like %s: %m", dir);
	ret = mount_media(dev, dir, o);
	if (ret < 0) {
		rmdir(dir);
		if (ret == -ENODEV)
			return seterr(err, errlen, ret,
				      "%s: the kernel cannot mount %s%s (module missing or blacklisted?)",
				      dev, o->fstypes[0], o->fstypes[1] ? " nor the other types" : "");
		return seterr(err, errlen, ret, "%s: cannot mount read-only: %s", dev, strerror(-ret));
	}
	ret = ovf_media_read_dir(dir, xml, len, err, errlen);
	if (ret == -ENOENT)
		seterr(err, errlen, ret, "%s: no ovf-env.xml on the media", dev);
	unmount_media(dir);
	return ret;
}

/* Media that is absent or not ours: try the next device, report "no media". */
static bool not_media(int ret)
{
	return ret == -ENOENT || ret == -EINVAL || ret == -ENOTBLK || ret == -ENXIO ||
	       ret == -ENOMEDIUM || ret == -EBUSY || ret == -EIO || ret == -EAGAIN;
}

int ovf_media_read_opts(const struct root *r, const struct ovf_media_options *opts, char **xml,
			size_t *len, char *device, size_t devlen, char *err, size_t errlen)
{
	struct ovf_media_options o = { .fstypes = default_fstypes, .attempts = 5, .delay_ms = 1000 };
	char **devs = NULL, last[256] = "", hard[256] = "";
	size_t n = 0;
	int ret, hard_ret = 0;

	*xml = NULL;
	*len = 0;
	if (device && devlen)
		device[0] = '\0';
	if (opts && opts->fstypes && opts->fstypes[0])
		o.fstypes = opts->fstypes;
	if (opts && opts->attempts)
		o.attempts = opts->attempts;
	if (opts && opts->delay_ms)
		o.delay_ms = opts->delay_ms;
	ret = ovf_media_candidates(r, o.fstypes, &devs, &n);
	if (ret < 0)
		return seterr(err, errlen, ret, "cannot list block devices: %s", strerror(-ret));
	for (size_t i = 0; i < n; i++) {
		ret = read_device(r, devs[i], &o, xml, len, last, sizeof(last));
		if (ret == 0) {
			if (device && devlen)
				snprintf(device, devlen, "%s", devs[i]);
			strv_free(devs, n);
			return 0;
		}
		log_debug("%s", last);
		if (!not_media(ret) && hard_ret == 0) {
			hard_ret = ret;
			snprintf(hard, sizeof(hard), "%s", last);
		}
	}
	strv_free(devs, n);
	if (hard_ret < 0)
		return seterr(err, errlen, hard_ret, "%s", hard);
	if (n == 0)
		return seterr(err, errlen, -ENOENT, "no provisioning media (no sr0, no %s device)",
			      o.fstypes[0]);
	return seterr(err, errlen, -ENOENT, "no provisioning media (last: %s)", last);
}

int ovf_media_read(const struct root *r, char **xml, size_t *len, char *device, size_t devlen,
		   char *err, size_t errlen)
{
	return ovf_media_read_opts(r, NULL, xml, len, device, devlen, err, errlen);
}

int ovf_media_eject(const char *device)
{
	_cleanup_close_ int fd = -1;

	/* O_NONBLOCK: opening a drive must not wait for (or need) a medium. */
	fd = open(device, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, CDROMEJECT, 0) < 0)
		return -errno;
	return 0;
}
