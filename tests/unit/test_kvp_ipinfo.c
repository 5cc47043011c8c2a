// SPDX-License-Identifier: MIT
/*
 * GET_IP_INFO / SET_IP_INFO: the pure parts (host tokens, masks, list
 * limits, the files we render and read), and the entry points against a
 * fixture root where no network namespace is needed (unknown MAC or GUID,
 * a bad request writes nothing, a failed apply keeps the file).  The
 * kernel side runs in tests/kvp/ipinfo.sh.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "kvp_ipinfo.h"
#include "kvp_ipinfo_internal.h"
#include "root.h"

/* ---- helpers ---- */

static struct kvp_ip_info *request(const char *guid, int dhcp, const char *ip, const char *sn,
				   const char *gw, const char *dns)
{
	static struct kvp_ip_info info;

	memset(&info, 0, sizeof(info));
	snprintf(info.adapter_id, sizeof(info.adapter_id), "%s", guid);
	info.dhcp_enabled = (uint8_t)dhcp;
	snprintf(info.ip_addr, sizeof(info.ip_addr), "%s", ip);
	snprintf(info.sub_net, sizeof(info.sub_net), "%s", sn);
	snprintf(info.gate_way, sizeof(info.gate_way), "%s", gw);
	snprintf(info.dns_addr, sizeof(info.dns_addr), "%s", dns);
	return &info;
}

static struct ipinfo_cfg *cfg_new(void)
{
	struct ipinfo_cfg *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	return c;
}

static int parse(const struct kvp_ip_info *info, struct ipinfo_cfg *c, char *err, size_t len)
{
	return ipinfo_parse_request(info, c, err, len);
}

static const char *ntop(const struct ipinfo_ip *ip)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	return inet_ntop(ip->family, &ip->u, buf[i], sizeof(buf[i]));
}

/* ---- host tokens ---- */

/*
 * research/kvp.md §3.1 #1: hv_kvp_daemon's parse_ip_val_buffer() copied a
 * token of up to 2048 bytes into a 46-byte stack buffer.  Tokens of 2 KiB
 * in every list must be refused cleanly (ASan watches the copy).
 */
static void test_defect1_parse_ip_val_buffer_overflow_every_list(void **state)
{
	struct ipinfo_cfg *c = cfg_new();
	struct kvp_ip_info info;
	char err[256];

	(void)state;
	/* One token filling each whole field, of address-like characters. */
	memset(&info, 0, sizeof(info));
	strcpy(info.adapter_id, "{guid}");
	memset(info.ip_addr, '1', sizeof(info.ip_addr) - 1);
	strcpy(info.sub_net, "24");
	assert_int_equal(parse(&info, c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ip_addr entry 1"));
	assert_non_null(strstr(err, "(2047 bytes)"));

	memset(&info, 0, sizeof(info));
	strcpy(info.ip_addr, "10.0.0.4");
	memset(info.sub_net, 'f', sizeof(info.sub_net) - 1);
	info.sub_net[0] = ':';
	assert_int_equal(parse(&info, c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "sub_net entry 1"));

	memset(&info, 0, sizeof(info));
	strcpy(info.ip_addr, "10.0.0.4");
	strcpy(info.sub_net, "24");
	memset(info.gate_way, ':', sizeof(info.gate_way) - 1);
	assert_int_equal(parse(&info, c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "gate_way entry 1"));

	memset(&info, 0, sizeof(info));
	memset(info.dns_addr, '9', sizeof(info.dns_addr) - 1);
	memcpy(info.dns_addr, "9.9.9.9;", 8); /* a valid first token, then the long one */
	assert_int_equal(parse(&info, c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dns_addr entry 2"));

	/* Unterminated fields (no NUL at all) are read only to their size. */
	memset(&info, 'A', sizeof(info));
	info.dhcp_enabled = 0;
	assert_int_equal(parse(&info, c, err, sizeof(err)), -EINVAL);

	/* A long token after valid ones, and 2 KiB of blanks around one. */
	memset(&info, 0, sizeof(info));
	memset(info.ip_addr, 'a', sizeof(info.ip_addr) - 1);
	memcpy(info.ip_addr, "10.0.0.4;", 9);
	strcpy(info.sub_net, "24;24");
	assert_int_equal(parse(&info, c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ip_addr entry 2"));
	assert_non_null(strstr(err, "(2038 bytes)"));
	memset(&info, 0, sizeof(info));
	snprintf(info.ip_addr, sizeof(info.ip_addr), "%1000s10.0.0.4%1000s", "", "");
	strcpy(info.sub_net, "24");
	assert_int_equal(parse(&info, c, err, sizeof(err)), 0);
	assert_int_equal(c->n_addr, 1);
	free(c);
}

static void test_parse_ip(void **state)
{
	struct ipinfo_ip ip;
	char long46[64];

	(void)state;
	assert_int_equal(ipinfo_parse_ip("10.1.2.3", 8, &ip), 0);
	assert_int_equal(ip.family, AF_INET);
	assert_string_equal(ntop(&ip), "10.1.2.3");
	assert_int_equal(ipinfo_parse_ip("fd00:1::4", 9, &ip), 0);
	assert_int_equal(ip.family, AF_INET6);
	assert_int_equal(ipinfo_parse_ip("::ffff:10.1.2.3", 15, &ip), 0);
	assert_int_equal(ip.family, AF_INET6);
	/* Only len bytes count: "10.1.2.3" with a tail that is not looked at. */
	assert_int_equal(ipinfo_parse_ip("10.1.2.3;garbage", 8, &ip), 0);
	assert_int_equal(ipinfo_parse_ip("10.1.2", 6, &ip), -EINVAL);
	assert_int_equal(ipinfo_parse_ip("10.1.2.3.4", 10, &ip), -EINVAL);
	assert_int_equal(ipinfo_parse_ip("10.1.2.256", 10, &ip), -EINVAL);
	assert_int_equal(ipinfo_parse_ip("fe80::1%eth0", 12, &ip), -EINVAL);
	assert_int_equal(ipinfo_parse_ip("10.1.2.3\0x", 10, &ip), -EINVAL);
	assert_int_equal(ipinfo_parse_ip("", 0, &ip), -EINVAL);
	assert_int_equal(ipinfo_parse_ip(" 10.1.2.3", 9, &ip), -EINVAL);
	/* The longest IPv6 text (45) passes the length check; 46 does not. */
	strcpy(long46, "0000:0000:0000:0000:0000:ffff:255.255.255.255");
	assert_int_equal(strlen(long46), 45);
	assert_int_equal(ipinfo_parse_ip(long46, 45, &ip), 0);
	strcpy(long46, "00000:0000:0000:0000:0000:ffff:255.255.255.255");
	assert_int_equal(ipinfo_parse_ip(long46, 46, &ip), -EINVAL);
}

static void test_mask_to_prefix(void **state)
{
	const unsigned char m24[4] = { 255, 255, 255, 0 }, m23[4] = { 255, 255, 254, 0 };
	const unsigned char m32[4] = { 255, 255, 255, 255 }, m0[4] = { 0 };
	const unsigned char holes[4] = { 255, 0, 255, 0 }, odd[4] = { 255, 255, 253, 0 };
	unsigned char m64[16] = { 0 }, m65[16] = { 0 };

	(void)state;
	assert_int_equal(ipinfo_mask_to_prefix(m24, 4), 24);
	assert_int_equal(ipinfo_mask_to_prefix(m23, 4), 23);
	assert_int_equal(ipinfo_mask_to_prefix(m32, 4), 32);
	assert_int_equal(ipinfo_mask_to_prefix(m0, 4), 0);
	assert_int_equal(ipinfo_mask_to_prefix(holes, 4), -EINVAL);
	assert_int_equal(ipinfo_mask_to_prefix(odd, 4), -EINVAL);
	memset(m64, 0xff, 8);
	assert_int_equal(ipinfo_mask_to_prefix(m64, 16), 64);
	memset(m65, 0xff, 8);
	m65[8] = 0x80;
	assert_int_equal(ipinfo_mask_to_prefix(m65, 16), 65);
	m65[15] = 1;
	assert_int_equal(ipinfo_mask_to_prefix(m65, 16), -EINVAL);
}

static void test_prefix_to_mask4(void **state)
{
	char buf[INET_ADDRSTRLEN];

	(void)state;
	ipinfo_prefix_to_mask4(24, buf, sizeof(buf));
	assert_string_equal(buf, "255.255.255.0");
	ipinfo_prefix_to_mask4(23, buf, sizeof(buf));
	assert_string_equal(buf, "255.255.254.0");
	ipinfo_prefix_to_mask4(1, buf, sizeof(buf));
	assert_string_equal(buf, "128.0.0.0");
	ipinfo_prefix_to_mask4(32, buf, sizeof(buf));
	assert_string_equal(buf, "255.255.255.255");
	ipinfo_prefix_to_mask4(0, buf, sizeof(buf));
	assert_string_equal(buf, "0.0.0.0");
}

static void test_parse_subnet(void **state)
{
	static const struct {
		const char *tok;
		int ret, family;
		unsigned plen;
	} cases[] = {
		{ "255.255.255.0", 0, AF_INET, 24 },
		{ "255.255.255.255", 0, AF_INET, 32 },
		{ "255.255.128.0", 0, AF_INET, 17 },
		{ "24", 0, 0, 24 },
		{ "/24", 0, 0, 24 },
		{ "64", 0, 0, 64 },
		{ "/64", 0, 0, 64 },
		{ "128", 0, 0, 128 },
		{ "ffff:ffff:ffff:ffff::", 0, AF_INET6, 64 },
		{ "129", -EINVAL, 0, 0 },
		{ "0", -EINVAL, 0, 0 },
		{ "/0", -EINVAL, 0, 0 },
		{ "0.0.0.0", -EINVAL, 0, 0 },
		{ "255.0.255.0", -EINVAL, 0, 0 },
		{ "ffff::ffff", -EINVAL, 0, 0 },
		{ "-1", -EINVAL, 0, 0 },
		{ "/", -EINVAL, 0, 0 },
		{ "//64", -EINVAL, 0, 0 },
		{ "64x", -EINVAL, 0, 0 },
		{ "0064", 0, 0, 64 }, /* decimal, never octal */
		{ "abc", -EINVAL, 0, 0 },
		{ "/255.255.255.0", -EINVAL, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int family = -1;
		unsigned plen = 999;
		int ret = ipinfo_parse_subnet(cases[i].tok, strlen(cases[i].tok), &family, &plen);

		if (ret != cases[i].ret)
			fail_msg("%s: %d, want %d", cases[i].tok, ret, cases[i].ret);
		if (ret == 0 && (family != cases[i].family || plen != cases[i].plen))
			fail_msg("%s: family %d plen %u", cases[i].tok, family, plen);
	}
}

static void test_parse_request(void **state)
{
	struct ipinfo_cfg *c = cfg_new();
	char err[256];

	(void)state;
	/* Blanks around tokens, empty tokens and a trailing ';' as hosts send. */
	assert_int_equal(parse(request("{g}", 0, " 10.1.0.4 ;;fd00:1::4;10.1.1.4;",
				       "255.255.255.0; 64 ;/23", "10.1.0.1;;fd00:1::1;",
				       "10.1.0.53;fd00:1::53"),
			       c, err, sizeof(err)),
			 0);
	assert_false(c->dhcp);
	assert_int_equal(c->n_addr, 3);
	assert_string_equal(ntop(&c->addr[0].ip), "10.1.0.4");
	assert_int_equal(c->addr[0].plen, 24);
	assert_string_equal(ntop(&c->addr[1].ip), "fd00:1::4");
	assert_int_equal(c->addr[1].plen, 64);
	assert_string_equal(ntop(&c->addr[2].ip), "10.1.1.4");
	assert_int_equal(c->addr[2].plen, 23);
	assert_int_equal(c->n_gw, 2);
	assert_string_equal(ntop(&c->gw[1]), "fd00:1::1");
	assert_int_equal(c->n_dns, 2);
	assert_string_equal(ntop(&c->dns[0]), "10.1.0.53");

	/* Nothing at all is a valid (empty) static configuration. */
	assert_int_equal(parse(request("{g}", 0, "", "", "", ""), c, err, sizeof(err)), 0);
	assert_int_equal(c->n_addr + c->n_gw + c->n_dns, 0);
	/* More subnets than addresses: checked, then unused. */
	assert_int_equal(parse(request("{g}", 0, "10.0.0.4", "24;64", "", ""), c, err, sizeof(err)),
			 0);
	assert_int_equal(parse(request("{g}", 0, "10.0.0.4", "24;junk", "", ""), c, err,
			       sizeof(err)),
			 -EINVAL);
	free(c);
}

static void test_parse_request_rejects(void **state)
{
	static const struct {
		const char *ip, *sn, *gw, *dns, *why;
	} cases[] = {
		{ "10.0.0.4", "", "", "", "sub_net: 1 addresses but 0" },
		{ "10.0.0.4;10.0.0.5", "24", "", "", "sub_net: 2 addresses but 1" },
		{ "fd00::4", "255.255.255.0", "", "", "does not fit the IPv6 address 1" },
		{ "10.0.0.4", "64", "", "", "does not fit the IPv4 address 1" },
		{ "10.0.0.4", "ffff:ffff::", "", "", "does not fit the IPv4 address 1" },
		{ "10.0.0.4", "255.0.255.0", "", "", "not a netmask" },
		{ "10.0.0.4", "24", "10.0.0.256", "", "gate_way entry 1 \"10.0.0.256\"" },
		{ "10.0.0.4", "24", "", "8.8.8.8;bad", "dns_addr entry 2 \"bad\"" },
		{ "0.0.0.0", "24", "", "", "unspecified" },
		{ "224.0.0.1", "24", "", "", "multicast" },
		{ "127.0.0.2", "8", "", "", "loopback" },
		{ "::1", "128", "", "", "loopback" },
		{ "10.0.0.4", "24", "::", "", "unspecified" },
		{ "10.0.0.4", "24", "255.255.255.255", "", "broadcast" },
		{ "10.0.0.4", "24", "", "ff02::1", "multicast" },
		{ "10.0.0.4\x01", "24", "", "", "\"10.0.0.4?\"" },
		{ "10.0.0.4", "24", "10.0.0.1 10.0.0.2", "", "gate_way entry 1" },
	};
	struct ipinfo_cfg *c = cfg_new();
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = parse(request("{g}", 0, cases[i].ip, cases[i].sn, cases[i].gw, cases[i].dns),
				c, err, sizeof(err));

		if (ret != -EINVAL || !strstr(err, cases[i].why))
			fail_msg("case %zu: %d \"%s\", want \"%s\"", i, ret, err, cases[i].why);
	}
	/* A loopback DNS server is fine (a local resolver). */
	assert_int_equal(parse(request("{g}", 0, "", "", "", "127.0.0.53"), c, err, sizeof(err)), 0);
	free(c);
}

static void test_parse_request_dhcp(void **state)
{
	struct ipinfo_cfg *c = cfg_new();
	char err[256];

	(void)state;
	/* DHCP is IPv4's: its addresses and gateways go, IPv6 and DNS stay. */
	assert_int_equal(parse(request("{g}", 1, "10.0.0.4;fd00::4;10.0.0.5", "24;64",
				       "10.0.0.1;fd00::1", "10.0.0.53"),
			       c, err, sizeof(err)),
			 0);
	assert_true(c->dhcp);
	assert_int_equal(c->n_addr, 1);
	assert_string_equal(ntop(&c->addr[0].ip), "fd00::4");
	assert_int_equal(c->addr[0].plen, 64);
	assert_int_equal(c->n_gw, 1);
	assert_string_equal(ntop(&c->gw[0]), "fd00::1");
	assert_int_equal(c->n_dns, 1);
	/* Still every token is checked. */
	assert_int_equal(parse(request("{g}", 1, "10.0.0.x", "", "", ""), c, err, sizeof(err)),
			 -EINVAL);
	/* An IPv6 address still needs its prefix. */
	assert_int_equal(parse(request("{g}", 1, "10.0.0.4;fd00::4", "24", "", ""), c, err,
			       sizeof(err)),
			 -EINVAL);
	free(c);
}

/* The most entries any list can hold: all of them parse, none overflow. */
static void test_parse_request_many(void **state)
{
	struct ipinfo_cfg *c = cfg_new();
	struct kvp_ip_info info;
	char err[256];
	size_t n = 0;

	(void)state;
	memset(&info, 0, sizeof(info));
	while (strlen(info.dns_addr) + 8 < sizeof(info.dns_addr)) {
		strcat(info.dns_addr, "1.1.1.1;");
		n++;
	}
	assert_int_equal(parse(&info, c, err, sizeof(err)), 0);
	assert_int_equal(c->n_dns, n);
	memset(&info, 0, sizeof(info));
	while (strlen(info.gate_way) + 3 < sizeof(info.gate_way))
		strcat(info.gate_way, "::;");
	assert_int_equal(parse(&info, c, err, sizeof(err)), -EINVAL); /* :: is unusable */
	free(c);
}

/* ---- host-visible lists ---- */

static void test_list_limits(void **state)
{
	char buf[64] = "";

	(void)state;
	assert_int_equal(ipinfo_list_add(buf, 20, "10.0.0.4", false), 0);
	assert_string_equal(buf, "10.0.0.4");
	/* "10.0.0.4;10.0.0.55" is 18 < 20: fits; one more character would not. */
	assert_int_equal(ipinfo_list_add(buf, 20, "10.0.0.55", false), 0);
	assert_string_equal(buf, "10.0.0.4;10.0.0.55");
	assert_false(ipinfo_list_fits(buf, 20, "1", false));
	assert_int_equal(ipinfo_list_add(buf, 20, "1", false), -ENOSPC);
	assert_string_equal(buf, "10.0.0.4;10.0.0.55");

	buf[0] = '\0';
	assert_int_equal(ipinfo_list_add(buf, 9, "10.0.0.1", true), -ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(ipinfo_list_add(buf, 10, "10.0.0.1", true), 0);
	assert_string_equal(buf, "10.0.0.1;");
	assert_int_equal(ipinfo_list_add(buf, 11, "1", true), -ENOSPC);
	assert_string_equal(buf, "10.0.0.1;");
}

/* The host's real limits: 1023 for address lists, 511 for gateways. */
static void test_list_host_limits(void **state)
{
	struct kvp_ip_info info;
	size_t n = 0;

	(void)state;
	memset(&info, 0, sizeof(info));
	while (ipinfo_list_add(info.gate_way, KVP_GATEWAY_LIST_LIMIT, "fd00:1234:5678::1", true) == 0)
		n++;
	assert_true(strlen(info.gate_way) < KVP_GATEWAY_LIST_LIMIT);
	assert_int_equal(strlen(info.gate_way), n * 18);
	assert_int_equal(info.gate_way[strlen(info.gate_way) - 1], ';');
	n = 0;
	while (ipinfo_list_add(info.ip_addr, KVP_IP_LIST_LIMIT, "10.100.200.250", false) == 0)
		n++;
	assert_true(strlen(info.ip_addr) < KVP_IP_LIST_LIMIT);
	assert_int_equal(strlen(info.ip_addr), n * 15 - 1);
}

/* ---- rendering ---- */

static const char header[] =
	"# Written by azl-agent: the Hyper-V host set the IP configuration of this\n"
	"# NIC (KVP SET_IP_INFO, for example a Hyper-V Replica failover).  The next\n"
	"# SET_IP_INFO for this NIC replaces this file.\n";

static void test_render_networkd(void **state)
{
	struct ipinfo_cfg *c = cfg_new();
	char err[256], *text = NULL;

	(void)state;
	assert_int_equal(parse(request("{g}", 0, "10.1.0.4;fd00:1::4", "255.255.255.0;64",
				       "10.1.0.1;fd00:1::1", "10.1.0.53;fd00:1::53"),
			       c, err, sizeof(err)),
			 0);
	assert_int_equal(ipinfo_render_networkd(c, "eth0", "00:15:5d:00:00:01", &text), 0);
	assert_string_equal(text + strlen(header),
			    "\n[Match]\nMACAddress=00:15:5d:00:00:01\nName=eth0\n\n[Network]\n"
			    "DHCP=no\nAddress=10.1.0.4/24\nAddress=fd00:1::4/64\n"
			    "Gateway=10.1.0.1\nGateway=fd00:1::1\n"
			    "DNS=10.1.0.53\nDNS=fd00:1::53\n");
	assert_memory_equal(text, header, strlen(header));
	free(text);
	assert_int_equal(parse(request("{g}", 1, "10.1.0.4", "", "", ""), c, err, sizeof(err)), 0);
	assert_int_equal(ipinfo_render_networkd(c, "eth0", "00:15:5d:00:00:01", &text), 0);
	assert_string_equal(text + strlen(header),
			    "\n[Match]\nMACAddress=00:15:5d:00:00:01\nName=eth0\n\n[Network]\n"
			    "DHCP=ipv4\n");
	free(text);
	free(c);
}

static void test_defect11_render_keyfile(void **state)
{
	struct ipinfo_cfg *c = cfg_new();
	char err[256], *text = NULL, uuid[37], want[2048];

	(void)state;
	ipinfo_keyfile_uuid("eth0", "00:15:5d:00:00:01", uuid);
	assert_int_equal(parse(request("{g}", 0, "10.1.0.4;10.1.1.4;fd00:1::4", "24;24;64",
				       "10.1.0.1;10.1.0.2;fd00:1::1", "10.1.0.53;10.1.0.54;fd00:1::53"),
			       c, err, sizeof(err)),
			 0);
	assert_int_equal(ipinfo_render_keyfile(c, "eth0", "00:15:5d:00:00:01", &text), 0);
	snprintf(want, sizeof(want),
		 "\n[connection]\nid=azl-kvp-eth0\nuuid=%s\ntype=ethernet\ninterface-name=eth0\n"
		 "autoconnect=true\n\n[ethernet]\nmac-address=00:15:5d:00:00:01\n\n"
		 "[ipv4]\nmethod=manual\naddress1=10.1.0.4/24\naddress2=10.1.1.4/24\n"
		 "gateway=10.1.0.1\nroute1=0.0.0.0/0,10.1.0.2\ndns=10.1.0.53;10.1.0.54;\n\n"
		 "[ipv6]\nmethod=manual\naddress1=fd00:1::4/64\ngateway=fd00:1::1\n"
		 "dns=fd00:1::53;\n",
		 uuid);
	assert_memory_equal(text, header, strlen(header));
	assert_string_equal(text + strlen(header), want);
	free(text);

	/* DHCP: ipv4 auto; IPv6 without addresses is auto, its gateway a route. */
	assert_int_equal(parse(request("{g}", 1, "", "", "fd00:1::1", "10.1.0.53"), c, err,
			       sizeof(err)),
			 0);
	assert_int_equal(ipinfo_render_keyfile(c, "eth0", "00:15:5d:00:00:01", &text), 0);
	assert_non_null(strstr(text, "[ipv4]\nmethod=auto\ndns=10.1.0.53;\n\n"
				     "[ipv6]\nmethod=auto\nroute1=::/0,fd00:1::1\n"));
	free(text);

	/* No IPv4 at all: disabled, and NM would refuse its gateway and DNS. */
	assert_int_equal(parse(request("{g}", 0, "fd00:1::4", "64", "10.1.0.1", "10.1.0.53"), c,
			       err, sizeof(err)),
			 0);
	assert_int_equal(ipinfo_render_keyfile(c, "eth0", "00:15:5d:00:00:01", &text), 0);
	assert_non_null(strstr(text, "[ipv4]\nmethod=disabled\n\n[ipv6]\nmethod=manual\n"
				     "address1=fd00:1::4/64\n"));
	assert_null(strstr(text, "10.1.0"));
	free(text);
	free(c);
}

static void test_keyfile_uuid(void **state)
{
	char a[37], b[37], d[37];

	(void)state;
	ipinfo_keyfile_uuid("eth0", "00:15:5d:00:00:01", a);
	ipinfo_keyfile_uuid("eth0", "00:15:5d:00:00:01", b);
	ipinfo_keyfile_uuid("eth1", "00:15:5d:00:00:01", d);
	assert_string_equal(a, b);
	assert_string_not_equal(a, d);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[8], '-');
	assert_int_equal(a[14], '8'); /* version 8 */
	assert_non_null(strchr("89ab", a[19]));
}

static void test_ifname_ok(void **state)
{
	(void)state;
	assert_true(ipinfo_ifname_ok("eth0"));
	assert_true(ipinfo_ifname_ok("enP12345s1"));
	assert_true(ipinfo_ifname_ok("vlan.10@x"));
	assert_true(ipinfo_ifname_ok("abcdefghijklmno"));
	assert_false(ipinfo_ifname_ok("abcdefghijklmnop"));
	assert_false(ipinfo_ifname_ok(""));
	assert_false(ipinfo_ifname_ok(".."));
	assert_false(ipinfo_ifname_ok("a/b"));
	assert_false(ipinfo_ifname_ok("a b"));
	assert_false(ipinfo_ifname_ok("a\nb"));
	assert_false(ipinfo_ifname_ok("a\"b"));
}

/* ---- files we read ---- */

static void test_resolv_conf(void **state)
{
	char buf[64] = "";

	(void)state;
	ipinfo_resolv_conf_dns("# comment\nsearch example.test\nnameserver 10.1.0.53\n"
			       "nameserver\tfd00:1::53  # trailing\n nameserver 10.9.9.9\n"
			       "nameserverX 10.8.8.8\nnameserver not-an-ip\nnameserver\n"
			       "nameserver fe80::1%eth0\nnameserver fe80::2%e;x\n"
			       "nameserver 10.1.0.54",
			       buf, 64);
	assert_string_equal(buf, "10.1.0.53;fd00:1::53;fe80::1%eth0;10.1.0.54;");
	/* Whole entries only, stopping at the first that does not fit. */
	buf[0] = '\0';
	ipinfo_resolv_conf_dns("nameserver 10.1.0.53\nnameserver 10.1.0.54\nnameserver 1.1.1.1\n",
			       buf, 20);
	assert_string_equal(buf, "10.1.0.53;");
	buf[0] = '\0';
	ipinfo_resolv_conf_dns("", buf, 64);
	assert_string_equal(buf, "");
}

static void test_ifupdown(void **state)
{
	static const char text[] = "auto lo\niface lo inet loopback\n"
				   "# iface eth9 inet dhcp\n"
				   "iface eth1 inet static\n  address 10.0.0.4/24\n"
				   "\tiface   eth0\tinet dhcp # comment\n"
				   "iface eth2 inet6 dhcp\n";

	(void)state;
	assert_int_equal(ipinfo_ifupdown_dhcp(text, "eth0"), 1);
	assert_int_equal(ipinfo_ifupdown_dhcp(text, "eth1"), 0);
	assert_int_equal(ipinfo_ifupdown_dhcp(text, "eth2"), 0);
	assert_int_equal(ipinfo_ifupdown_dhcp(text, "eth"), 0);
	assert_int_equal(ipinfo_ifupdown_dhcp(text, "eth9"), 0);
	assert_int_equal(ipinfo_ifupdown_dhcp("iface eth0 inet dhcp", "eth0"), 1);
}

static void test_ifcfg(void **state)
{
	(void)state;
	assert_int_equal(ipinfo_ifcfg_dhcp("DEVICE=eth0\nBOOTPROTO=dhcp\n"), 1);
	assert_int_equal(ipinfo_ifcfg_dhcp("BOOTPROTO=\"dhcp\"\n"), 1);
	assert_int_equal(ipinfo_ifcfg_dhcp("BOOTPROTO='DHCP'"), 1);
	assert_int_equal(ipinfo_ifcfg_dhcp("BOOTPROTO=none\nDHCP_HOSTNAME=dhcp\n"), 0);
	assert_int_equal(ipinfo_ifcfg_dhcp("BOOTPROTO=static\n"), 0);
	assert_int_equal(ipinfo_ifcfg_dhcp("BOOTPROTO=dhcp6\n"), 0);
	assert_int_equal(ipinfo_ifcfg_dhcp("# BOOTPROTO=dhcp\n"), 0);
	assert_int_equal(ipinfo_ifcfg_dhcp("BOOTPROTO\n=dhcp"), 0);
}

static void test_networkd_state(void **state)
{
	struct ipinfo_networkd_link l;
	int v4;

	(void)state;
	assert_int_equal(ipinfo_parse_networkd_link(
				 "# This is private data. Do not parse.\nADMIN_STATE=configured\n"
				 "OPER_STATE=routable\nNETWORK_FILE=/etc/systemd/network/10-eth0.network\n"
				 "NETWORK_FILE_DROPINS=\"/etc/a.conf /run/b.conf\"\n",
				 &l),
			 0);
	assert_true(l.managed);
	assert_string_equal(l.network_file, "/etc/systemd/network/10-eth0.network");
	assert_string_equal(l.dropins, "/etc/a.conf /run/b.conf");
	assert_int_equal(ipinfo_parse_networkd_link("ADMIN_STATE=unmanaged\n", &l), 0);
	assert_false(l.managed);
	assert_string_equal(l.network_file, "");
	assert_int_equal(ipinfo_parse_networkd_link("NETWORK_FILE=/x\n", &l), 0);
	assert_false(l.managed);

	v4 = -1;
	assert_int_equal(ipinfo_networkd_dhcp("[Match]\nName=eth0\n[Network]\nDHCP=yes\n", &v4), 0);
	assert_int_equal(v4, 1);
	assert_int_equal(ipinfo_networkd_dhcp("[Network]\nDHCP=ipv4\n", &v4), 0);
	assert_int_equal(v4, 1);
	assert_int_equal(ipinfo_networkd_dhcp("[Network]\nDHCP=ipv6\n", &v4), 0);
	assert_int_equal(v4, 0);
	assert_int_equal(ipinfo_networkd_dhcp("[Network]\nDHCP=both\nDHCP=no\n", &v4), 0);
	assert_int_equal(v4, 0);
	/* No DHCP= leaves what an earlier file said (drop-ins). */
	v4 = 1;
	assert_int_equal(ipinfo_networkd_dhcp("[Network]\nAddress=10.0.0.4/24\n", &v4), 0);
	assert_int_equal(v4, 1);
	assert_int_equal(ipinfo_networkd_dhcp("[DHCPv4]\nDHCP=no\nnot ini at all\n", &v4), 0);
	assert_int_equal(v4, 1);
}

/* ---- the entry points on a fixture root ---- */

struct tree {
	char dir[64];
	struct root root;
	struct agent_config cfg;
};

static void put(const struct tree *t, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	for (char *p = strchr(path + strlen(t->dir) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool exists(const struct tree *t, const char *rel, mode_t *mode)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	if (stat(path, &st) < 0)
		return false;
	if (mode)
		*mode = st.st_mode & 07777;
	return true;
}

static int count_entries(const struct tree *t, const char *rel)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
	closedir(d);
	return n;
}

/*
 * A NIC only the fixture has: the kernel of the test's namespace does not
 * know the name, so applying fails after the file is written.
 */
#define GUID "{f8615163-df3e-46c5-913f-f2d2f965ed07}"
#define NIC "azlnoexist7"

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	strcpy(t->dir, "/tmp/azl-ipinfo-XXXXXX");
	if (!t || !mkdtemp(t->dir) || root_init(&t->root, t->dir) < 0)
		return -1;
	config_defaults(&t->cfg);
	put(t, "sys/class/net/" NIC "/address", "00:15:5d:00:00:07\n");
	put(t, "sys/class/net/" NIC "/device/device_id", GUID "\n");
	put(t, "sys/class/net/other0/address", "00:15:5d:00:00:08\n");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void test_get_unknown(void **state)
{
	struct tree *t = *state;
	struct kvp_ip_info info;
	struct root empty;

	memset(&info, 0, sizeof(info));
	strcpy(info.adapter_id, "00:15:5D:00:00:99");
	assert_int_equal(kvp_ip_info_get(&t->root, &info), -ENODEV);
	/* Known to the fixture, but no such link here: no address, so none. */
	strcpy(info.adapter_id, "00:15:5D:00:00:07");
	assert_int_equal(kvp_ip_info_get(&t->root, &info), -ENODEV);
	assert_string_equal(info.adapter_id, "00:15:5D:00:00:07");
	/* A prefix of a MAC is not that MAC. */
	strcpy(info.adapter_id, "00:15:5D:00:00:0");
	assert_int_equal(kvp_ip_info_get(&t->root, &info), -ENODEV);
	info.adapter_id[0] = '\0';
	assert_int_equal(kvp_ip_info_get(&t->root, &info), -ENODEV);
	assert_int_equal(root_init(&empty, "/nonexistent-azl-root"), 0);
	assert_int_equal(kvp_ip_info_get(&empty, &info), -ENODEV);
}

static void test_set_unknown_guid(void **state)
{
	struct tree *t = *state;

	assert_int_equal(kvp_ip_info_set(&t->root, &t->cfg,
					 request("{f8615163-df3e-46c5-913f-f2d2f965ed99}", 0,
						 "10.0.0.4", "24", "", "")),
			 -ENODEV);
	/* The GUID is compared whole. */
	assert_int_equal(kvp_ip_info_set(&t->root, &t->cfg,
					 request("{f8615163-df3e-46c5-913f-f2d2f965ed0}", 0,
						 "10.0.0.4", "24", "", "")),
			 -ENODEV);
	assert_int_equal(kvp_ip_info_set(&t->root, &t->cfg, request("", 0, "", "", "", "")),
			 -ENODEV);
	assert_false(exists(t, "etc/systemd", NULL));
}

static void test_set_invalid_writes_nothing(void **state)
{
	struct tree *t = *state;
	struct kvp_ip_info *info = request(GUID, 0, "10.0.0.4", "24", "", "");

	memset(info->gate_way, '7', sizeof(info->gate_way) - 1);
	assert_int_equal(kvp_ip_info_set(&t->root, &t->cfg, info), -EINVAL);
	assert_false(exists(t, "etc/systemd", NULL));
	assert_false(exists(t, "etc/NetworkManager", NULL));
}

static void test_set_refused_by_config(void **state)
{
	struct tree *t = *state;

	t->cfg.kvp.set_ip_info = false;
	assert_int_equal(kvp_ip_info_set(&t->root, &t->cfg, request(GUID, 0, "10.0.0.4", "24", "", "")),
			 -EPERM);
	assert_false(exists(t, "etc/systemd", NULL));
}

static void test_set_file_stays_when_apply_fails(void **state)
{
	struct tree *t = *state;
	mode_t mode = 0;
	int ret;

	/* The GUID in upper case is the same GUID. */
	ret = kvp_ip_info_set(&t->root, &t->cfg,
			      request("{F8615163-DF3E-46C5-913F-F2D2F965ED07}", 0, "10.0.0.4",
				      "255.255.255.0", "10.0.0.1", "10.0.0.53"));
	assert_true(ret < 0 && ret != -EINVAL && ret != -ENODEV); /* HV_E_FAIL */
	assert_true(exists(t, "etc/systemd/network/10-azl-kvp-" NIC ".network", &mode));
	assert_int_equal(mode, 0644);
	/* Atomic: nothing but the file itself is left in the directory. */
	assert_int_equal(count_entries(t, "etc/systemd/network"), 1);

	/* NetworkManager's keyfile instead: 0600, and ours for networkd goes. */
	t->cfg.kvp.renderer = IP_RENDERER_NETWORKMANAGER;
	ret = kvp_ip_info_set(&t->root, &t->cfg, request(GUID, 0, "10.0.0.5", "24", "", ""));
	assert_true(ret < 0 && ret != -EINVAL && ret != -ENODEV);
	assert_true(exists(t, "etc/NetworkManager/system-connections/azl-kvp-" NIC ".nmconnection",
			   &mode));
	assert_int_equal(mode, 0600);
	assert_false(exists(t, "etc/systemd/network/10-azl-kvp-" NIC ".network", NULL));
	assert_int_equal(count_entries(t, "etc/NetworkManager/system-connections"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defect1_parse_ip_val_buffer_overflow_every_list),
		cmocka_unit_test(test_parse_ip),
		cmocka_unit_test(test_mask_to_prefix),
		cmocka_unit_test(test_prefix_to_mask4),
		cmocka_unit_test(test_parse_subnet),
		cmocka_unit_test(test_parse_request),
		cmocka_unit_test(test_parse_request_rejects),
		cmocka_unit_test(test_parse_request_dhcp),
		cmocka_unit_test(test_parse_request_many),
		cmocka_unit_test(test_list_limits),
		cmocka_unit_test(test_list_host_limits),
		cmocka_unit_test(test_render_networkd),
		cmocka_unit_test(test_defect11_render_keyfile),
		cmocka_unit_test(test_keyfile_uuid),
		cmocka_unit_test(test_ifname_ok),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_ifupdown),
		cmocka_unit_test(test_ifcfg),
		cmocka_unit_test(test_networkd_state),
		cmocka_unit_test_setup_teardown(test_get_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_unknown_guid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_invalid_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_refused_by_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_file_stays_when_apply_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
