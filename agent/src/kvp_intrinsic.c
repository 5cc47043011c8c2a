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

struct fqdn_lookup {
	struct gaicb req;
	struct addrinfo hints;
	char host[256];
};

/*
 * Free a lookup, or leave it to glibc's resolver thread when it is still
 * running: that thread writes into it when it finishes, so freeing it
 * would be a use after free.  Only a service stopping while DNS hangs
 * gets here with one running; the few hundred bytes go with the process.
 */
static void lookup_release(struct fqdn_lookup *l)
{
	if (!l)
		return;
	if (gai_error(&l->req) == EAI_INPROGRESS && gai_cancel(&l->req) == EAI_NOTCANCELED)
		return;
	if (gai_error(&l->req) == 0 && l->req.ar_result)
		freeaddrinfo(l->req.ar_result);
	free(l);
}

void kvp_intrinsic_done(struct kvp_intrinsic *k)
{
	lookup_release(k->fqdn.running);
	lookup_release(k->fqdn.abandoned);
	k->fqdn.running = k->fqdn.abandoned = NULL;
}

/* Start an asynchronous canonical-name lookup of host (glibc getaddrinfo_a). */
static struct fqdn_lookup *lookup_start(const char *host)
{
	struct fqdn_lookup *l = calloc(1, sizeof(*l));
	struct gaicb *list[1];

	if (!l)
		return NULL;
	snprintf(l->host, sizeof(l->host), "%s", host);
	l->hints.ai_family = AF_UNSPEC;
	l->hints.ai_flags = AI_CANONNAME;
	l->req.ar_name = l->host;
	l->req.ar_request = &l->hints;
	list[0] = &l->req;
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
		free(l);
		return NULL;
	}
	return l;
}

/* Wait up to wait_ms for the running lookup; true once it is over (and freed). */
static bool lookup_collect(struct kvp_fqdn *f, unsigned wait_ms)
{
	struct fqdn_lookup *l = f->running;
	const struct gaicb *const list[] = { &l->req };
	struct timespec ts = { .tv_sec = wait_ms / 1000, .tv_nsec = (long)(wait_ms % 1000) * 1000000 };
	int ret;

	if (wait_ms && gai_error(&l->req) == EAI_INPROGRESS)
		gai_suspend(list, 1, &ts);
	ret = gai_error(&l->req);
	if (ret == EAI_INPROGRESS)
		return false;
	snprintf(f->host, sizeof(f->host), "%s", l->host);
	f->fqdn[0] = '\0';
	if (ret == 0 && l->req.ar_result && l->req.ar_result->ai_canonname)
		snprintf(f->fqdn, sizeof(f->fqdn), "%s", l->req.ar_result->ai_canonname);
	else
		log_debug("kvp: cannot resolve %s: %s", l->host, gai_strerror(ret));
	f->done_usec = monotonic_usec();
	f->running = NULL;
	lookup_release(l);
	return true;
}

/*
 * A lookup for a name the host no longer has is set aside, so a rename
 * while DNS is slow (provisioning does exactly that) starts a lookup of
 * the new name at once.  One is kept aside at most; it is freed when
 * glibc is done with it.
 */
static void lookup_set_aside(struct kvp_fqdn *f)
{
	if (f->abandoned && gai_error(&f->abandoned->req) != EAI_INPROGRESS) {
		lookup_release(f->abandoned);
		f->abandoned = NULL;
	}
	if (!f->abandoned) {
		f->abandoned = f->running;
		f->running = NULL;
	}
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
	if (f->running && strcmp(f->running->host, host) != 0 && !lookup_collect(f, 0))
		lookup_set_aside(f);
	if (!f->running && (strcmp(host, f->host) != 0 || !f->fqdn[0] ||
			    monotonic_usec() - f->done_usec > FQDN_MAX_AGE_USEC))
		f->running = lookup_start(host);
	/* Wait only when there is nothing to answer yet for this name. */
	if (f->running && strcmp(f->running->host, host) == 0)
		lookup_collect(f, strcmp(host, f->host) == 0 && f->fqdn[0] ? 0 : k->timeout_ms);
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
