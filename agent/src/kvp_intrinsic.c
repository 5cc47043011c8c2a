// SPDX-License-Identifier: MIT
/* Pool 2: the guest's intrinsic facts, computed at request time. */
#include <errno.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvp_intrinsic.h"
#include "log.h"
#include "sysfile.h"
#include "util.h"

/* A lookup result older than this is refreshed (in the background). */
#define FQDN_MAX_AGE_USEC (60ull * 1000 * 1000)

static const char *const intrinsic_keys[KVP_INTRINSIC_COUNT] = {
	"FullyQualifiedDomainName", "IntegrationServicesVersion", "NetworkAddressIPv4",
	"NetworkAddressIPv6", "OSBuildNumber", "OSName", "OSMajorVersion",
	"OSMinorVersion", "OSVersion", "ProcessorArchitecture",
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void os_release(const struct root *r, const char *field, char *out, size_t len);

void kvp_intrinsic_init(struct kvp_intrinsic *k, const struct root *r, unsigned timeout_ms)
{
	memset(k, 0, sizeof(*k));
	k->root = r;
	k->timeout_ms = timeout_ms;
	snprintf(k->version, sizeof(k->version), "Unknown version");
	if (uname(&k->uts) < 0)
		memset(&k->uts, 0, sizeof(k->uts));
	os_release(r, "NAME", k->os_name, sizeof(k->os_name));
	if (!k->os_name[0])
		snprintf(k->os_name, sizeof(k->os_name), "%s", k->uts.sysname);
	os_release(r, "VERSION_ID", k->os_version, sizeof(k->os_version));
}

void kvp_intrinsic_done(struct kvp_intrinsic *k)
{
	/* A lookup still running owns its result list; wait it out, briefly. */
	if (k->fqdn.pending) {
		struct gaicb *list[] = { &k->fqdn.req };

		if (gai_cancel(&k->fqdn.req) == EAI_NOTCANCELED) {
			struct timespec ts = { .tv_sec = 1 };

			gai_suspend((const struct gaicb *const *)list, 1, &ts);
		}
		if (gai_error(&k->fqdn.req) == 0 && k->fqdn.req.ar_result)
			freeaddrinfo(k->fqdn.req.ar_result);
	}
	k->fqdn.pending = false;
}

/* Start an asynchronous canonical-name lookup of host (glibc getaddrinfo_a). */
static void fqdn_start(struct kvp_fqdn *f, const char *host)
{
	struct gaicb *list[] = { &f->req };

	snprintf(f->host, sizeof(f->host), "%s", host);
	f->fqdn[0] = '\0';
	memset(&f->req, 0, sizeof(f->req));
	memset(&f->hints, 0, sizeof(f->hints));
	f->hints.ai_family = AF_UNSPEC;
	f->hints.ai_flags = AI_CANONNAME;
	f->req.ar_name = f->host;
	f->req.ar_request = &f->hints;
	f->pending = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) == 0;
}

/* Take a finished lookup's answer; false while it is still running. */
static bool fqdn_collect(struct kvp_fqdn *f, unsigned wait_ms)
{
	const struct gaicb *const list[] = { &f->req };
	struct timespec ts = { .tv_sec = wait_ms / 1000, .tv_nsec = (long)(wait_ms % 1000) * 1000000 };
	int ret;

	if (gai_error(&f->req) == EAI_INPROGRESS)
		gai_suspend(list, 1, &ts);
	ret = gai_error(&f->req);
	if (ret == EAI_INPROGRESS)
		return false;
	f->pending = false;
	f->done_usec = now_usec();
	if (ret == 0 && f->req.ar_result && f->req.ar_result->ai_canonname)
		snprintf(f->fqdn, sizeof(f->fqdn), "%s", f->req.ar_result->ai_canonname);
	else
		log_debug("kvp: cannot resolve %s: %s", f->host, gai_strerror(ret));
	if (ret == 0)
		freeaddrinfo(f->req.ar_result);
	f->req.ar_result = NULL;
	return true;
}

/*
 * The FQDN of the current host name.  The lookup runs in glibc's resolver
 * thread; a request waits for it at most timeout_ms and otherwise answers
 * with the last result for this name, or the bare host name.  A renamed
 * host is noticed at the next request (the reference daemon resolves once
 * at start and publishes an error text when DNS is not up yet).
 */
static void intrinsic_fqdn(struct kvp_intrinsic *k, char *out, size_t len)
{
	struct kvp_fqdn *f = &k->fqdn;
	char host[256];

	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (!f->pending && (strcmp(host, f->host) != 0 || !f->fqdn[0] ||
			    now_usec() - f->done_usec > FQDN_MAX_AGE_USEC)) {
		char last[256];

		snprintf(last, sizeof(last), "%s", strcmp(host, f->host) == 0 ? f->fqdn : "");
		fqdn_start(f, host);
		snprintf(f->fqdn, sizeof(f->fqdn), "%s", last);
	}
	if (f->pending && strcmp(host, f->host) == 0)
		fqdn_collect(f, k->timeout_ms);
	snprintf(out, len, "%s", strcmp(host, f->host) == 0 && f->fqdn[0] ? f->fqdn : host);
}

/* Append s to a ';'-joined list if it fits whole in the host-visible limit. */
static void list_append(char *list, size_t limit, const char *s)
{
	size_t used = strlen(list), add = strlen(s) + (used ? 1 : 0);

	if (used + add > limit)
		return;
	if (used)
		strcat(list, ";");
	strcat(list, s);
}

/* Every address of one family on every non-loopback interface, in kernel order. */
static void intrinsic_addresses(int family, char *out, size_t len)
{
	struct ifaddrs *ifs, *i;
	char buf[INET6_ADDRSTRLEN];
	size_t limit = len - 1 < KVP_HOST_VALUE_LIMIT ? len - 1 : KVP_HOST_VALUE_LIMIT;

	out[0] = '\0';
	if (getifaddrs(&ifs) < 0)
		return;
	for (i = ifs; i; i = i->ifa_next) {
		const void *a;

		if (!i->ifa_addr || i->ifa_addr->sa_family != family || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		a = family == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
				      : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (inet_ntop(family, a, buf, sizeof(buf)))
			list_append(out, limit, buf);
	}
	freeifaddrs(ifs);
}

/* os-release value with quotes dropped and backslash escapes undone. */
static void unquote(char *v)
{
	char *q = v;

	for (char *p = v; *p; p++) {
		if (*p == '\\' && p[1])
			*q++ = *++p;
		else if (*p != '"' && *p != '\'' && *p != '\n')
			*q++ = *p;
	}
	*q = '\0';
}

/* NAME or VERSION_ID from os-release (/etc, else /usr/lib); "" when absent. */
static void os_release(const struct root *r, const char *field, char *out, size_t len)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, n;
	FILE *f = root_fopen(r, ROOT_ETC, "os-release");

	out[0] = '\0';
	if (!f)
		f = root_fopen(r, ROOT_LIB, "os-release");
	if (!f)
		return;
	while (read_line(f, &line, &cap, 4096, &n) > 0) {
		char *eq = strchr(line, '=');

		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		if (strcmp(line, field) == 0) {
			unquote(eq + 1);
			snprintf(out, len, "%s", eq + 1);
		}
	}
	fclose(f);
}

static void intrinsic_value(struct kvp_intrinsic *k, uint32_t index, char *v, size_t len)
{
	const struct utsname *u = &k->uts;

	switch (index) {
	case 0: intrinsic_fqdn(k, v, len); break;
	case 1: snprintf(v, len, "%s", k->version); break;
	case 2: intrinsic_addresses(AF_INET, v, len); break;
	case 3: intrinsic_addresses(AF_INET6, v, len); break;
	case 4: snprintf(v, len, "%s", u->release); break;
	case 5: snprintf(v, len, "%s", k->os_name); break;
	case 6: snprintf(v, len, "%s", k->os_version); break;
	case 7: v[0] = '\0'; break; /* only legacy release files had a minor version */
	case 8: /* the host expects x.y.z: the release up to its first '-' */
		snprintf(v, len, "%.*s", (int)strcspn(u->release, "-"), u->release);
		break;
	default: snprintf(v, len, "%s", u->machine); break;
	}
}

int kvp_intrinsic_get(struct kvp_intrinsic *k, uint32_t index, char key[KVP_KEY_SIZE],
		      char value[KVP_VALUE_SIZE])
{
	if (index >= KVP_INTRINSIC_COUNT)
		return -ENOENT;
	snprintf(key, KVP_KEY_SIZE, "%s", intrinsic_keys[index]);
	intrinsic_value(k, index, value, KVP_VALUE_SIZE);
	return 0;
}

int kvp_intrinsic_lookup(struct kvp_intrinsic *k, const char *key, char value[KVP_VALUE_SIZE])
{
	for (uint32_t i = 0; i < KVP_INTRINSIC_COUNT; i++)
		if (strcmp(key, intrinsic_keys[i]) == 0) {
			intrinsic_value(k, i, value, KVP_VALUE_SIZE);
			return 0;
		}
	return -ENOENT;
}
