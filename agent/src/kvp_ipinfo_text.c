// SPDX-License-Identifier: MIT
/*
 * The pure half of GET_IP_INFO / SET_IP_INFO: checking what the host sends,
 * joining what it receives, and the texts we write and read.  Nothing here
 * touches the system, so all of it is unit-tested (test_kvp_ipinfo.c).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "kvp_ipinfo_internal.h"
#include "sysfile.h"
#include "util.h"

/* ---- tokens ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The next ';'-separated token of [*p, end) with blanks around it trimmed.
 * Empty tokens (";;", a trailing ';') are passed over, as the reference
 * daemon does.
 */
static bool next_token(const char **p, const char *end, const char **tok, size_t *len)
{
	while (*p < end) {
		const char *s = *p, *e = memchr(s, ';', (size_t)(end - s));

		if (!e)
			e = end;
		*p = e < end ? e + 1 : end;
		while (s < e && is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			e--;
		if (e > s) {
			*tok = s;
			*len = (size_t)(e - s);
			return true;
		}
	}
	return false;
}

/*
 * A host token for a log line: at most 40 bytes, anything but printable
 * ASCII shown as '?', and the length when it was cut.
 */
static void describe_token(const char *tok, size_t len, char *out, size_t outlen)
{
	char shown[41];
	size_t n = len < 40 ? len : 40;

	for (size_t i = 0; i < n; i++)
		shown[i] = tok[i] >= 0x20 && tok[i] < 0x7f ? tok[i] : '?';
	shown[n] = '\0';
	if (n < len)
		snprintf(out, outlen, "\"%s...\" (%zu bytes)", shown, len);
	else
		snprintf(out, outlen, "\"%s\"", shown);
}

int ipinfo_parse_ip(const char *tok, size_t len, struct ipinfo_ip *out)
{
	char buf[INET6_ADDRSTRLEN];

	/*
	 * The length check comes before any copy: the reference daemon copied
	 * tokens of up to 2048 bytes into a 46-byte buffer (research/kvp.md
	 * §3.1 #1).
	 */
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, tok, len);
	buf[len] = '\0';
	if (strlen(buf) != len)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = memchr(buf, ':', len) ? AF_INET6 : AF_INET;
	if (inet_pton(out->family, buf, &out->u) != 1)
		return -EINVAL;
	return 0;
}

int ipinfo_mask_to_prefix(const unsigned char *mask, size_t bytes)
{
	size_t i = 0;
	int plen = 0;

	while (i < bytes && mask[i] == 0xff)
		i++, plen += 8;
	if (i < bytes) {
		unsigned char b = mask[i++];

		/* One partial byte: ones from the top, then zeros only. */
		while (b & 0x80)
			b = (unsigned char)(b << 1), plen++;
		if (b)
			return -EINVAL;
	}
	for (; i < bytes; i++)
		if (mask[i])
			return -EINVAL;
	return plen;
}

void ipinfo_prefix_to_mask4(unsigned plen, char *buf, size_t len)
{
	uint32_t m = plen >= 32 ? 0xffffffffu : plen == 0 ? 0 : ~(0xffffffffu >> plen);
	struct in_addr a = { .s_addr = htonl(m) };

	if (!inet_ntop(AF_INET, &a, buf, (socklen_t)len) && len)
		buf[0] = '\0';
}

/* "64" or "/64" (hosts send the bare number; accept the CIDR spelling too). */
static int parse_prefix_number(const char *tok, size_t len, unsigned *plen)
{
	unsigned long long v;
	char buf[8];

	if (len && tok[0] == '/')
		tok++, len--;
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, tok, len);
	buf[len] = '\0';
	if (parse_unsigned(buf, 128, &v) < 0)
		return -EINVAL;
	*plen = (unsigned)v;
	return 0;
}

int ipinfo_parse_subnet(const char *tok, size_t len, int *family, unsigned *plen)
{
	struct ipinfo_ip mask;
	int p;

	if (len && (tok[0] == '/' || !memchr(tok, '.', len)) && !memchr(tok, ':', len)) {
		*family = 0;
		if (parse_prefix_number(tok, len, plen) < 0)
			return -EINVAL;
	} else {
		if (ipinfo_parse_ip(tok, len, &mask) < 0)
			return -EINVAL;
		p = ipinfo_mask_to_prefix(mask.u.bytes, mask.family == AF_INET ? 4 : 16);
		if (p < 0)
			return -EINVAL;
		*family = mask.family;
		*plen = (unsigned)p;
	}
	/* A prefix of 0 would put every destination on this link. */
	return *plen == 0 ? -EINVAL : 0;
}

/* ---- a whole request ---- */

/* Why an address cannot be a NIC's address, gateway or DNS server, or NULL. */
static const char *ip_unusable(const struct ipinfo_ip *ip, bool loopback_ok)
{
	if (ip->family == AF_INET) {
		uint32_t a = ntohl(ip->u.v4.s_addr);

		if (a == 0)
			return "the unspecified address";
		if ((a >> 28) == 0xe)
			return "a multicast address";
		if (a == 0xffffffffu)
			return "the broadcast address";
		if ((a >> 24) == 127 && !loopback_ok)
			return "a loopback address";
		return NULL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&ip->u.v6))
		return "the unspecified address";
	if (IN6_IS_ADDR_MULTICAST(&ip->u.v6))
		return "a multicast address";
	if (IN6_IS_ADDR_LOOPBACK(&ip->u.v6) && !loopback_ok)
		return "a loopback address";
	return NULL;
}

struct request_error {
	char *buf;
	size_t len;
};

/* A reason for a whole list (not one token) into the caller's message. */
static int __attribute__((format(printf, 3, 4)))
reject(struct request_error *e, const char *list, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(e->buf, e->len, "%s: %s", list, why);
	return -EINVAL;
}

/* One list of addresses (ip_addr, gate_way, dns_addr) into out[]. */
static int parse_ip_list(const char *field, size_t size, const char *name, bool loopback_ok,
			 struct ipinfo_ip *out, size_t *n, struct request_error *e)
{
	const char *p = field, *end = field + strnlen(field, size), *tok;
	size_t len, i = 0;
	const char *why;

	for (; next_token(&p, end, &tok, &len); i++) {
		char shown[80];

		if (i >= IPINFO_LIST_MAX)
			return reject(e, name, "more than %zu entries", (size_t)IPINFO_LIST_MAX);
		if (ipinfo_parse_ip(tok, len, &out[i]) < 0) {
			describe_token(tok, len, shown, sizeof(shown));
			snprintf(e->buf, e->len, "%s entry %zu %s: not an IPv4 or IPv6 address",
				 name, i + 1, shown);
			return -EINVAL;
		}
		why = ip_unusable(&out[i], loopback_ok);
		if (why) {
			describe_token(tok, len, shown, sizeof(shown));
			snprintf(e->buf, e->len, "%s entry %zu %s: %s", name, i + 1, shown, why);
			return -EINVAL;
		}
	}
	*n = i;
	return 0;
}

/* The sub_net list: the i-th entry is the prefix of the i-th address. */
static int parse_subnets(const struct kvp_ip_info *info, struct ipinfo_cfg *c,
			 struct request_error *e)
{
	const char *p = info->sub_net, *tok;
	const char *end = p + strnlen(p, sizeof(info->sub_net));
	size_t len, i = 0;
	unsigned plen;
	int fam;

	for (; next_token(&p, end, &tok, &len); i++) {
		char shown[80];

		describe_token(tok, len, shown, sizeof(shown));
		if (ipinfo_parse_subnet(tok, len, &fam, &plen) < 0) {
			snprintf(e->buf, e->len,
				 "sub_net entry %zu %s: not a netmask or a prefix length (1-128)",
				 i + 1, shown);
			return -EINVAL;
		}
		if (i >= c->n_addr)
			continue; /* checked, but no address wants it */
		if ((fam && fam != c->addr[i].ip.family) ||
		    (c->addr[i].ip.family == AF_INET && plen > 32)) {
			snprintf(e->buf, e->len, "sub_net entry %zu %s: does not fit the %s address %zu",
				 i + 1, shown, c->addr[i].ip.family == AF_INET ? "IPv4" : "IPv6",
				 i + 1);
			return -EINVAL;
		}
		c->addr[i].plen = plen;
	}
	/* Under DHCP the IPv4 addresses go anyway; any other needs its prefix. */
	for (size_t k = i; k < c->n_addr; k++)
		if (!(c->dhcp && c->addr[k].ip.family == AF_INET))
			return reject(e, "sub_net", "%zu addresses but %zu netmasks or prefix lengths",
				      c->n_addr, i);
	return 0;
}

/* DHCP brings the IPv4 addresses and gateways: drop what the host listed. */
static void drop_ipv4_for_dhcp(struct ipinfo_cfg *c)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n_addr; i++)
		if (c->addr[i].ip.family != AF_INET)
			c->addr[k++] = c->addr[i];
	c->n_addr = k;
	k = 0;
	for (size_t i = 0; i < c->n_gw; i++)
		if (c->gw[i].family != AF_INET)
			c->gw[k++] = c->gw[i];
	c->n_gw = k;
}

int ipinfo_parse_request(const struct kvp_ip_info *info, struct ipinfo_cfg *c,
			 char *err, size_t errlen)
{
	struct request_error e = { .buf = err, .len = errlen };
	_cleanup_free_ struct ipinfo_ip *ips = NULL;
	int ret;

	memset(c, 0, sizeof(*c));
	if (errlen)
		err[0] = '\0';
	c->dhcp = info->dhcp_enabled != 0;
	ips = calloc(IPINFO_LIST_MAX, sizeof(*ips));
	if (!ips)
		return -ENOMEM;
	ret = parse_ip_list(info->ip_addr, sizeof(info->ip_addr), "ip_addr", false, ips,
			    &c->n_addr, &e);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < c->n_addr; i++)
		c->addr[i].ip = ips[i];
	ret = parse_subnets(info, c, &e);
	if (ret < 0)
		return ret;
	ret = parse_ip_list(info->gate_way, sizeof(info->gate_way), "gate_way", false, c->gw,
			    &c->n_gw, &e);
	if (ret < 0)
		return ret;
	ret = parse_ip_list(info->dns_addr, sizeof(info->dns_addr), "dns_addr", true, c->dns,
			    &c->n_dns, &e);
	if (ret < 0)
		return ret;
	if (c->dhcp)
		drop_ipv4_for_dhcp(c);
	return 0;
}

/* ---- host-visible lists ---- */

bool ipinfo_list_fits(const char *buf, size_t limit, const char *entry, bool terminated)
{
	size_t cur = strlen(buf), add = strlen(entry);

	add += terminated || cur ? 1 : 0;
	return cur + add < limit;
}

int ipinfo_list_add(char *buf, size_t limit, const char *entry, bool terminated)
{
	size_t cur = strlen(buf), n = strlen(entry);

	if (!ipinfo_list_fits(buf, limit, entry, terminated))
		return -ENOSPC;
	if (!terminated && cur)
		buf[cur++] = ';';
	memcpy(buf + cur, entry, n);
	cur += n;
	if (terminated)
		buf[cur++] = ';';
	buf[cur] = '\0';
	return 0;
}

/* ---- the files we write ---- */

static const char file_header[] =
	"# Written by azl-agent: the Hyper-V host set the IP configuration of this\n"
	"# NIC (KVP SET_IP_INFO, for example a Hyper-V Replica failover).  The next\n"
	"# SET_IP_INFO for this NIC replaces this file.\n";

static const char *ip_str(const struct ipinfo_ip *ip, char *buf, size_t len)
{
	if (!inet_ntop(ip->family, &ip->u, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

bool ipinfo_ifname_ok(const char *name)
{
	size_t n = strnlen(name, 16);

	/* What the kernel allows, minus what could upset a path or a config file. */
	if (n == 0 || n > 15 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.@+", name[i]))
			return false;
	return true;
}

/* Finish an open_memstream text: 0 and *out, or -ENOMEM. */
static int memstream_done(FILE *f, char **text, char **out)
{
	bool bad = ferror(f);

	if (fclose(f) != 0 || bad) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	*out = *text;
	*text = NULL;
	return 0;
}

int ipinfo_render_networkd(const struct ipinfo_cfg *c, const char *ifname,
			   const char *mac, char **out)
{
	char *text = NULL, a[INET6_ADDRSTRLEN];
	size_t size = 0;
	FILE *f;

	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	fputs(file_header, f);
	fprintf(f, "\n[Match]\nMACAddress=%s\nName=%s\n\n[Network]\n", mac, ifname);
	fprintf(f, "DHCP=%s\n", c->dhcp ? "ipv4" : "no");
	for (size_t i = 0; i < c->n_addr; i++)
		fprintf(f, "Address=%s/%u\n", ip_str(&c->addr[i].ip, a, sizeof(a)), c->addr[i].plen);
	for (size_t i = 0; i < c->n_gw; i++)
		fprintf(f, "Gateway=%s\n", ip_str(&c->gw[i], a, sizeof(a)));
	for (size_t i = 0; i < c->n_dns; i++)
		fprintf(f, "DNS=%s\n", ip_str(&c->dns[i], a, sizeof(a)));
	return memstream_done(f, &text, out);
}

/*
 * One [ipv4] or [ipv6] section.  NetworkManager refuses gateway= and DNS
 * servers where a method has no addresses of its own, so: manual takes the
 * first gateway as gateway= and the others as default routes; auto takes
 * every gateway as a default route; disabled takes none.
 */
static void keyfile_section(FILE *f, const struct ipinfo_cfg *c, int family)
{
	const char *any = family == AF_INET ? "0.0.0.0/0" : "::/0";
	char a[INET6_ADDRSTRLEN];
	size_t n_addr = 0, route = 0;
	bool gw_done = false, dns_done = false;
	const char *method;

	for (size_t i = 0; i < c->n_addr; i++)
		n_addr += c->addr[i].ip.family == family;
	if (family == AF_INET)
		method = c->dhcp ? "auto" : n_addr ? "manual" : "disabled";
	else
		method = n_addr ? "manual" : "auto";
	fprintf(f, "\n[%s]\nmethod=%s\n", family == AF_INET ? "ipv4" : "ipv6", method);
	for (size_t i = 0, k = 0; i < c->n_addr; i++)
		if (c->addr[i].ip.family == family)
			fprintf(f, "address%zu=%s/%u\n", ++k,
				ip_str(&c->addr[i].ip, a, sizeof(a)), c->addr[i].plen);
	if (strcmp(method, "disabled") == 0)
		return;
	for (size_t i = 0; i < c->n_gw; i++) {
		if (c->gw[i].family != family)
			continue;
		if (!gw_done && strcmp(method, "manual") == 0)
			fprintf(f, "gateway=%s\n", ip_str(&c->gw[i], a, sizeof(a)));
		else
			fprintf(f, "route%zu=%s,%s\n", ++route, any, ip_str(&c->gw[i], a, sizeof(a)));
		gw_done = true;
	}
	for (size_t i = 0; i < c->n_dns; i++) {
		if (c->dns[i].family != family)
			continue;
		fprintf(f, "%s%s;", dns_done ? "" : "dns=", ip_str(&c->dns[i], a, sizeof(a)));
		dns_done = true;
	}
	if (dns_done)
		fputc('\n', f);
}

int ipinfo_render_keyfile(const struct ipinfo_cfg *c, const char *ifname,
			  const char *mac, char **out)
{
	char *text = NULL, uuid[37];
	size_t size = 0;
	FILE *f;

	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	ipinfo_keyfile_uuid(ifname, mac, uuid);
	fputs(file_header, f);
	fprintf(f,
		"\n[connection]\nid=azl-kvp-%s\nuuid=%s\ntype=ethernet\n"
		"interface-name=%s\nautoconnect=true\n\n[ethernet]\nmac-address=%s\n",
		ifname, uuid, ifname, mac);
	keyfile_section(f, c, AF_INET);
	keyfile_section(f, c, AF_INET6);
	return memstream_done(f, &text, out);
}

/* FNV-1a, 64 bits, from a given basis. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

void ipinfo_keyfile_uuid(const char *ifname, const char *mac, char uuid[37])
{
	/*
	 * The same NIC always gets the same connection, so a second
	 * SET_IP_INFO updates it instead of piling up profiles.  Not a
	 * cryptographic name: an RFC 9562 version 8 (custom) UUID.
	 */
	uint64_t hi = fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ull, "azl-kvp/"), ifname), mac);
	uint64_t lo = fnv1a(fnv1a(fnv1a(0x84222325cbf29ce4ull, mac), "/"), ifname);

	hi = (hi & ~0xf000ull) | 0x8000ull;
	lo = (lo & ~(3ull << 62)) | (2ull << 62);
	snprintf(uuid, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
		 (unsigned)(hi >> 16) & 0xffff, (unsigned)hi & 0xffff, (unsigned)(lo >> 48),
		 (unsigned long long)(lo & 0xffffffffffffull));
}

/* ---- the files we read ---- */

/* The next line of text (without '\n') into [*s, *e); false at the end. */
static bool next_line(const char **p, const char **s, const char **e)
{
	if (!**p)
		return false;
	*s = *p;
	*e = strchr(*p, '\n');
	if (!*e)
		*e = *s + strlen(*s);
	*p = **e ? *e + 1 : *e;
	return true;
}

/* The next blank-separated word of [*p, e) into [*w, *we). */
static bool next_word(const char **p, const char *e, const char **w, const char **we)
{
	const char *s = *p;

	while (s < e && (is_blank(*s) || *s == '\r'))
		s++;
	if (s == e)
		return false;
	*w = s;
	while (s < e && !is_blank(*s) && *s != '\r')
		s++;
	*we = s;
	*p = s;
	return true;
}

static bool word_is(const char *w, const char *we, const char *s)
{
	return (size_t)(we - w) == strlen(s) && strncmp(w, s, (size_t)(we - w)) == 0;
}

/* A resolv.conf server: an address, optionally with an alphanumeric %zone. */
static bool nameserver_ok(const char *w, size_t len)
{
	const char *pct = memchr(w, '%', len);
	struct ipinfo_ip ip;

	if (pct)
		for (const char *z = pct + 1; z < w + len; z++)
			if (!isalnum((unsigned char)*z) && !strchr("-_.", *z))
				return false;
	return ipinfo_parse_ip(w, pct ? (size_t)(pct - w) : len, &ip) == 0;
}

void ipinfo_resolv_conf_dns(const char *text, char *buf, size_t limit)
{
	const char *p = text, *s, *e, *w, *we;
	char server[INET6_ADDRSTRLEN + 32];

	/* As the reference's helper: "nameserver" at the start of a line, its value. */
	while (next_line(&p, &s, &e)) {
		const char *q = s;

		if (strncmp(s, "nameserver", 10) != 0 || (s + 10 < e && !is_blank(s[10])))
			continue;
		q = s + 10;
		if (!next_word(&q, e, &w, &we) || (size_t)(we - w) >= sizeof(server) ||
		    !nameserver_ok(w, (size_t)(we - w)))
			continue;
		memcpy(server, w, (size_t)(we - w));
		server[we - w] = '\0';
		if (ipinfo_list_add(buf, limit, server, true) < 0)
			break;
	}
}

int ipinfo_ifupdown_dhcp(const char *text, const char *ifname)
{
	const char *p = text, *s, *e;

	while (next_line(&p, &s, &e)) {
		const char *q = s, *w[4], *we[4];
		int n = 0;

		while (n < 4 && next_word(&q, e, &w[n], &we[n]) && *w[n] != '#')
			n++;
		if (n == 4 && word_is(w[0], we[0], "iface") && word_is(w[1], we[1], ifname) &&
		    word_is(w[2], we[2], "inet") && word_is(w[3], we[3], "dhcp"))
			return 1;
	}
	return 0;
}

int ipinfo_ifcfg_dhcp(const char *text)
{
	const char *p = text, *s, *e;

	while (next_line(&p, &s, &e)) {
		const char *v;
		size_t n;

		while (s < e && is_blank(*s))
			s++;
		if ((size_t)(e - s) < 10 || strncmp(s, "BOOTPROTO=", 10) != 0)
			continue;
		v = s + 10;
		n = (size_t)(e - v);
		while (n && (is_blank(v[n - 1]) || v[n - 1] == '\r'))
			n--;
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
			v++, n -= 2;
		return n == 4 && strncasecmp(v, "dhcp", 4) == 0;
	}
	return 0;
}

/* Copy a state-file value, dropping the double quotes networkd puts around lists. */
static int copy_value(const char *v, const char *e, char *out, size_t len)
{
	size_t n = (size_t)(e - v);

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		v++, n -= 2;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

int ipinfo_parse_networkd_link(const char *text, struct ipinfo_networkd_link *l)
{
	const char *p = text, *s, *e;
	bool have_state = false;
	int ret;

	memset(l, 0, sizeof(*l));
	while (next_line(&p, &s, &e)) {
		if (strncmp(s, "ADMIN_STATE=", 12) == 0) {
			have_state = true;
			l->managed = !word_is(s + 12, e, "unmanaged");
		} else if (strncmp(s, "NETWORK_FILE=", 13) == 0) {
			ret = copy_value(s + 13, e, l->network_file, sizeof(l->network_file));
			if (ret < 0)
				return ret;
		} else if (strncmp(s, "NETWORK_FILE_DROPINS=", 21) == 0) {
			ret = copy_value(s + 21, e, l->dropins, sizeof(l->dropins));
			if (ret < 0)
				return ret;
		}
	}
	if (!have_state)
		l->managed = false;
	return 0;
}

static int dhcp_handler(void *user, const char *section, const char *name, const char *value)
{
	static const char *const on[] = { "yes", "true", "on", "1", "ipv4", "both" };
	int *v4 = user;

	if (strcmp(section, "Network") != 0 || strcmp(name, "DHCP") != 0)
		return 1;
	*v4 = 0; /* the last DHCP= wins, as in systemd-networkd */
	for (size_t i = 0; i < ELEMENTSOF(on); i++)
		if (strcasecmp(value, on[i]) == 0)
			*v4 = 1;
	return 1;
}

int ipinfo_networkd_dhcp(const char *text, int *v4)
{
	/*
	 * inih reports a line it could not parse but goes on; what matters
	 * here is only DHCP= of [Network], so such lines are passed over.
	 */
	return ini_parse_string(text, dhcp_handler, v4) == -2 ? -ENOMEM : 0;
}
