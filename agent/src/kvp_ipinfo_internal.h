/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The parts of GET_IP_INFO / SET_IP_INFO (kvp_ipinfo.h) that the entry
 * points in kvp_ipinfo.c put together:
 *   kvp_ipinfo_text.c  pure functions: host tokens, masks, list joining,
 *                      the .network file and the NetworkManager keyfile,
 *                      the small state and configuration files we read;
 *   kvp_ipinfo_nl.c    the kernel over rtnetlink (libnl-route);
 *   kvp_ipinfo_bus.c   systemd-resolved, systemd-networkd and
 *                      NetworkManager over the system bus (sd-bus).
 * Not an interface for other parts of the agent.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "kvp_proto.h"

/* One address of a host list. */
struct ipinfo_ip {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		unsigned char bytes[16];
	} u;
};

/* An address with its prefix length. */
struct ipinfo_addr {
	struct ipinfo_ip ip;
	unsigned plen;
};

/*
 * Every list entry takes at least two characters ("::") and a separator, so
 * no list of a struct kvp_ip_info can hold more entries than this.
 */
#define IPINFO_LIST_MAX ((sizeof(((struct kvp_ip_info *)0)->ip_addr) + 1) / 3)

/*
 * A validated SET_IP_INFO request.  dhcp means IPv4 by DHCP: the IPv4
 * addresses and IPv4 gateways of the request are dropped (after checking),
 * as the reference daemon's comment says the flag is for IPv4 only; IPv6
 * entries and DNS servers stay.
 */
struct ipinfo_cfg {
	bool dhcp;
	size_t n_addr, n_gw, n_dns;
	struct ipinfo_addr addr[IPINFO_LIST_MAX];
	struct ipinfo_ip gw[IPINFO_LIST_MAX];
	struct ipinfo_ip dns[IPINFO_LIST_MAX];
};

/* ---- tokens and masks (kvp_ipinfo_text.c) ---- */

/*
 * An IPv4 or IPv6 address of exactly len bytes (not NUL-terminated; any
 * length is safe).  Returns 0 or -EINVAL.
 */
int ipinfo_parse_ip(const char *tok, size_t len, struct ipinfo_ip *out);

/*
 * A sub_net token: an IPv4 dotted mask ("255.255.255.0", contiguous), a
 * prefix length ("64" or "/64") or an IPv6 mask ("ffff:ffff::", contiguous).
 * *family is AF_INET or AF_INET6 when the form belongs to one family, 0 for
 * a bare prefix length.  Returns 0 or -EINVAL (also for a prefix of 0).
 */
int ipinfo_parse_subnet(const char *tok, size_t len, int *family, unsigned *plen);

/* The prefix length of a contiguous mask of 4 or 16 bytes, or -EINVAL. */
int ipinfo_mask_to_prefix(const unsigned char *mask, size_t bytes);
/* "255.255.254.0" for 23; buf of at least INET_ADDRSTRLEN bytes. */
void ipinfo_prefix_to_mask4(unsigned plen, char *buf, size_t len);

/*
 * Check every token of every list of info and fill cfg.  On -EINVAL, err
 * says which list, which token and why (host bytes shown sanitised).
 */
int ipinfo_parse_request(const struct kvp_ip_info *info, struct ipinfo_cfg *cfg,
			 char *err, size_t errlen);

/* ---- host-visible lists (kvp_ipinfo_text.c) ---- */

/*
 * Append entry to the ';'-list in buf if the result stays shorter than
 * limit (what the host receives whole); terminated adds ';' after the
 * entry (gate_way, dns_addr), else ';' goes between entries (ip_addr,
 * sub_net).  Returns 0, or -ENOSPC and buf unchanged.
 */
int ipinfo_list_add(char *buf, size_t limit, const char *entry, bool terminated);
bool ipinfo_list_fits(const char *buf, size_t limit, const char *entry, bool terminated);

/* ---- files we render (kvp_ipinfo_text.c) ---- */

/* The systemd-networkd .network text for ifname/mac; *out is malloc'd. */
int ipinfo_render_networkd(const struct ipinfo_cfg *c, const char *ifname,
			   const char *mac, char **out);
/* The NetworkManager keyfile text; *out is malloc'd. */
int ipinfo_render_keyfile(const struct ipinfo_cfg *c, const char *ifname,
			  const char *mac, char **out);
/* The keyfile's connection UUID, derived from ifname and mac (stable). */
void ipinfo_keyfile_uuid(const char *ifname, const char *mac, char uuid[37]);
/* An interface name we may put into a file name and a config file. */
bool ipinfo_ifname_ok(const char *name);

/* ---- files we read (kvp_ipinfo_text.c) ---- */

/* The nameserver lines of resolv.conf text, each followed by ';'. */
void ipinfo_resolv_conf_dns(const char *text, char *buf, size_t limit);
/* 1 when ifupdown text has "iface <ifname> inet dhcp", else 0. */
int ipinfo_ifupdown_dhcp(const char *text, const char *ifname);
/* 1 when an initscripts ifcfg file says BOOTPROTO=dhcp, else 0. */
int ipinfo_ifcfg_dhcp(const char *text);

/* What systemd-networkd's state file for a link says. */
struct ipinfo_networkd_link {
	bool managed;           /* ADMIN_STATE is not "unmanaged" */
	char network_file[256]; /* NETWORK_FILE=, "" when none */
	char dropins[1024];     /* NETWORK_FILE_DROPINS=, space-separated */
};
int ipinfo_parse_networkd_link(const char *text, struct ipinfo_networkd_link *l);
/*
 * The [Network] DHCP= setting of a .network file: *v4 is set to 1 when it
 * enables DHCPv4 (yes, true, ipv4, both, on, 1), 0 when it disables it, and
 * left alone when the file has no DHCP= (a drop-in may set it).  Returns 0
 * or -EINVAL for text inih cannot parse.
 */
int ipinfo_networkd_dhcp(const char *text, int *v4);

/* ---- the kernel (kvp_ipinfo_nl.c) ---- */

struct ipinfo_nl;

int ipinfo_nl_open(struct ipinfo_nl **out);
void ipinfo_nl_close(struct ipinfo_nl *nl);
/*
 * Append the addresses of ifindex to info (ip_addr and sub_net in pairs,
 * kernel order, IPv4 first; addr_family bits) and return how many there
 * are (also those that did not fit the host's limit).  The first call takes
 * one address dump that later calls reuse.
 */
int ipinfo_nl_addresses(struct ipinfo_nl *nl, int ifindex, struct kvp_ip_info *info);
/* Append the gateways of the main table's default routes through ifindex. */
int ipinfo_nl_gateways(struct ipinfo_nl *nl, int ifindex, struct kvp_ip_info *info);
/*
 * Make the kernel's state of ifindex what cfg asks: link up, global
 * addresses replaced, default routes through it replaced.  Returns 0 or a
 * negative errno (never -EINVAL or -ENODEV: those are the host's).
 */
int ipinfo_nl_apply(struct ipinfo_nl *nl, int ifindex, const struct ipinfo_cfg *cfg);

/* ---- the system bus (kvp_ipinfo_bus.c) ---- */

struct sd_bus;

/* Every call on the bus gives up after this long (the kernel waits 30 s). */
#define IPINFO_BUS_QUERY_USEC (500 * 1000ULL)
#define IPINFO_BUS_APPLY_USEC (5 * 1000 * 1000ULL)

/* Connect to the system bus, ready within IPINFO_BUS_QUERY_USEC. */
int ipinfo_bus_open(struct sd_bus **out);
/* 1 when a name (a service) has an owner now, 0 when not; never starts one. */
int ipinfo_bus_name_owned(struct sd_bus *bus, const char *name);
/*
 * Each of these returns -ETIMEDOUT when the bus or the service did not
 * answer in time; the caller then asks this bus nothing more.
 *
 * systemd-resolved's DNS servers for ifindex and the global ones, each
 * followed by ';'.  -ENOENT when resolved does not run.
 */
int ipinfo_resolved_dns(struct sd_bus *bus, int ifindex, char *buf, size_t limit);
/*
 * NetworkManager's device object for ifname and whether NM manages it.
 * -ENOENT when NM does not run or does not know the interface.
 */
int ipinfo_nm_device(struct sd_bus *bus, const char *ifname, char **path, bool *managed);
/* 1 DHCPv4 on, 0 off, -ENOENT when NM has no active connection on it. */
int ipinfo_nm_dhcp(struct sd_bus *bus, const char *device);
/* networkd: Manager.Reload, then Manager.ReconfigureLink(ifindex). */
int ipinfo_networkd_apply(struct sd_bus *bus, int ifindex);
/* NM: LoadConnections(keyfile), then ActivateConnection on the device. */
int ipinfo_nm_apply(struct sd_bus *bus, const char *keyfile, const char *uuid,
		    const char *device);
