// SPDX-License-Identifier: MIT
/*
 * GET_IP_INFO and SET_IP_INFO (kvp_ipinfo.h), put together from the pure
 * text functions (kvp_ipinfo_text.c), the kernel (kvp_ipinfo_nl.c) and the
 * system bus (kvp_ipinfo_bus.c).
 *
 * Files (sysfs, resolv.conf, network configuration) are read and written
 * under the root prefix; netlink always acts on the current network
 * namespace, and the system bus is asked only when the root is the live
 * system (a fixture tree has no services of its own).  A NIC is found by
 * name in the root's sysfs; the kernel is then asked about that name.
 *
 * GET_IP_INFO, field by field:
 *   ip_addr, sub_net  every address of the NIC, IPv4 then IPv6 in kernel
 *                     order (secondary, tentative and link-local ones too,
 *                     as getifaddrs() gives them to hv_kvp_daemon);
 *                     "a;b", IPv4 dotted masks, IPv6 "/plen"
 *   gate_way          gateways of main-table default routes (multipath
 *                     next hops included) that leave through this NIC,
 *                     IPv4 then IPv6, "a;b;"
 *   dns_addr          systemd-resolved's servers for the link and its
 *                     global ones when resolved runs, else resolv.conf's
 *                     nameserver lines, "a;b;"
 *   dhcp_enabled      DHCPv4 on this NIC: systemd-networkd (a lease file,
 *                     or DHCP= of the .network file and drop-ins its state
 *                     file names) if networkd manages the link; else
 *                     NetworkManager (a DHCPv4 lease object, or the active
 *                     profile's ipv4.method=auto); else ifupdown
 *                     ("iface <nic> inet dhcp"); else an initscripts ifcfg
 *                     file (BOOTPROTO=dhcp); else off.
 * A list that would exceed what the host receives whole stops before the
 * entry that does not fit.
 *
 * SET_IP_INFO: every token is checked first (nothing is written for a bad
 * request); the configuration is written for systemd-networkd, or as a
 * NetworkManager keyfile where NM manages the NIC, atomically; then it is
 * applied: by the manager that owns the file when it runs, else directly
 * over netlink.  A failure to apply is an error for the host, but the file
 * stays: it is the persistent configuration and applies at the next start
 * of the network manager.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "kvp_ipinfo.h"
#include "kvp_ipinfo_internal.h"
#include "fileio.h"
#include "log.h"
#include "sysfile.h"
#include "util.h"

/* What one request holds: a netlink socket, and a bus opened on first need. */
struct ipinfo_req {
	const struct root *r;
	struct ipinfo_nl *nl;
	sd_bus *bus;
	bool bus_tried;
};

static sd_bus *req_bus(struct ipinfo_req *q)
{
	if (!q->bus_tried && root_is_live(q->r)) {
		q->bus_tried = true;
		if (ipinfo_bus_open(&q->bus) < 0)
			q->bus = NULL; /* no bus: no resolved, networkd or NM to ask */
	}
	return q->bus;
}

/*
 * A bus that let a call time out is asked nothing more in this request, so
 * a hung bus costs one timeout, not one per question.
 */
static int req_bus_result(struct ipinfo_req *q, int r)
{
	if (r == -ETIMEDOUT && q->bus) {
		log_warning("kvp: the system bus did not answer in time; not asking it again now");
		sd_bus_close_unref(q->bus);
		q->bus = NULL;
	}
	return r;
}

static void req_done(struct ipinfo_req *q)
{
	ipinfo_nl_close(q->nl);
	/* Our calls are synchronous: nothing is queued, nothing to flush. */
	if (q->bus)
		sd_bus_close_unref(q->bus);
}

/*
 * An absolute path that a state file of the root names (networkd's
 * NETWORK_FILE=, under /etc, /run or /usr/lib) inside the same root.
 */
static int rooted_named_path(const struct root *r, const char *abs, char *buf, size_t len)
{
	size_t k = strlen(abs);
	int n;

	if (abs[0] != '/' || strstr(abs, "/../") || (k >= 3 && strcmp(abs + k - 3, "/..") == 0))
		return -EINVAL;
	n = snprintf(buf, len, "%s%s", r->dir, abs);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- GET_IP_INFO ---- */

static bool mac_matches(const struct root *r, const char *ifname, const char *mac)
{
	char addr[128];

	if (!*mac || root_read_text(r, ROOT_SYS, addr, sizeof(addr), "class/net/%s/address",
				    ifname) < 0)
		return false;
	/* The whole string in any case: a prefix of a MAC is not that MAC. */
	return strcasecmp(addr, mac) == 0;
}

static bool is_loopback(const struct root *r, const char *ifname)
{
	unsigned long long flags;
	char text[32];

	return root_read_text(r, ROOT_SYS, text, sizeof(text), "class/net/%s/flags", ifname) >= 0 &&
	       parse_unsigned(text, ~0ull, &flags) >= 0 && (flags & IFF_LOOPBACK);
}

/*
 * The first NIC with the MAC that has an address: an accelerated-networking
 * VF shares its synthetic NIC's MAC and has none.  Fills ip_addr, sub_net
 * and addr_family; returns the ifindex or -ENODEV.
 */
static int find_nic_by_mac(struct ipinfo_req *q, struct kvp_ip_info *info, char *ifname,
			   size_t len)
{
	char **names = NULL;
	size_t n = 0;
	int ret, found = -ENODEV;

	ret = root_list_dir(q->r, ROOT_SYS, &names, &n, "class/net");
	if (ret < 0)
		return ret == -ENOENT ? -ENODEV : ret;
	for (size_t i = 0; i < n && found < 0; i++) {
		int ifindex;

		if (!mac_matches(q->r, names[i], info->adapter_id) || is_loopback(q->r, names[i]))
			continue;
		ifindex = (int)if_nametoindex(names[i]);
		if (ifindex <= 0)
			continue; /* not in this network namespace */
		ret = ipinfo_nl_addresses(q->nl, ifindex, info);
		if (ret < 0) {
			found = ret;
			break;
		}
		if (ret > 0) {
			snprintf(ifname, len, "%s", names[i]);
			found = ifindex;
		}
	}
	strv_free(names, n);
	return found;
}

static void get_dns(struct ipinfo_req *q, int ifindex, struct kvp_ip_info *info)
{
	_cleanup_free_ char *text = NULL;
	sd_bus *bus = req_bus(q);

	if (bus &&
	    req_bus_result(q, ipinfo_resolved_dns(bus, ifindex, info->dns_addr, KVP_IP_LIST_LIMIT)) == 0)
		return;
	info->dns_addr[0] = '\0';
	if (root_read_all(q->r, ROOT_ETC, &text, NULL, "resolv.conf") == 0)
		ipinfo_resolv_conf_dns(text, info->dns_addr, KVP_IP_LIST_LIMIT);
}

/* DHCP= of one .network file or drop-in named by networkd's state. */
static void networkd_file_dhcp(const struct root *r, const char *abs, int *v4)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];

	if (rooted_named_path(r, abs, path, sizeof(path)) == 0 && read_all(path, &text, NULL) == 0)
		ipinfo_networkd_dhcp(text, v4);
}

/* 1/0 when systemd-networkd manages the link, -ENOENT when it does not. */
static int networkd_dhcp(const struct root *r, int ifindex)
{
	_cleanup_free_ char *text = NULL;
	struct ipinfo_networkd_link l;
	int v4 = 0;

	if (root_exists(r, ROOT_RUN, "systemd/netif/leases/%d", ifindex))
		return 1;
	if (root_read_all(r, ROOT_RUN, &text, NULL, "systemd/netif/links/%d", ifindex) < 0 ||
	    ipinfo_parse_networkd_link(text, &l) < 0 || !l.managed || !l.network_file[0])
		return -ENOENT;
	networkd_file_dhcp(r, l.network_file, &v4);
	/* Drop-ins in the order networkd read them: the last DHCP= wins. */
	for (char *save = NULL, *tok = strtok_r(l.dropins, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save))
		networkd_file_dhcp(r, tok, &v4);
	return v4;
}

static int nm_dhcp(struct ipinfo_req *q, const char *ifname)
{
	_cleanup_free_ char *dev = NULL;
	sd_bus *bus = req_bus(q);
	bool managed = false;

	if (!bus || req_bus_result(q, ipinfo_nm_device(bus, ifname, &dev, &managed)) < 0 || !managed)
		return -ENOENT;
	return req_bus_result(q, ipinfo_nm_dhcp(bus, dev));
}

static int ifupdown_dhcp(const struct root *r, const char *ifname)
{
	_cleanup_free_ char *text = NULL;
	char **names = NULL;
	size_t n = 0;
	int on;

	if (root_read_all(r, ROOT_ETC, &text, NULL, "network/interfaces") < 0)
		return -ENOENT;
	on = ipinfo_ifupdown_dhcp(text, ifname);
	/* interfaces.d, as the Debian helper reads it (names of [A-Za-z0-9_-]). */
	if (!on && root_list_dir(r, ROOT_ETC, &names, &n, "network/interfaces.d") == 0) {
		for (size_t i = 0; i < n && !on; i++) {
			_cleanup_free_ char *part = NULL;

			if (strspn(names[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					     "0123456789_-") != strlen(names[i]))
				continue;
			if (root_read_all(r, ROOT_ETC, &part, NULL, "network/interfaces.d/%s",
					  names[i]) == 0)
				on = ipinfo_ifupdown_dhcp(part, ifname);
		}
		strv_free(names, n);
	}
	return on;
}

static int ifcfg_dhcp(const struct root *r, const char *ifname)
{
	_cleanup_free_ char *text = NULL;

	if (root_read_all(r, ROOT_ETC, &text, NULL, "sysconfig/network-scripts/ifcfg-%s",
			  ifname) < 0)
		return -ENOENT;
	return ipinfo_ifcfg_dhcp(text);
}

static int get_dhcp(struct ipinfo_req *q, int ifindex, const char *ifname)
{
	int on = networkd_dhcp(q->r, ifindex);

	if (on < 0)
		on = nm_dhcp(q, ifname);
	if (on < 0)
		on = ifupdown_dhcp(q->r, ifname);
	if (on < 0)
		on = ifcfg_dhcp(q->r, ifname);
	return on > 0;
}

int kvp_ip_info_get(const struct root *r, struct kvp_ip_info *info)
{
	struct ipinfo_req q = { .r = r };
	char ifname[IF_NAMESIZE + 1] = "";
	int ifindex, ret;

	/* adapter_id stays as the host sent it; the host reads it back. */
	info->adapter_id[sizeof(info->adapter_id) - 1] = '\0';
	info->addr_family = 0;
	info->dhcp_enabled = 0;
	info->ip_addr[0] = info->sub_net[0] = info->gate_way[0] = info->dns_addr[0] = '\0';
	ret = ipinfo_nl_open(&q.nl);
	if (ret < 0)
		return ret;
	ifindex = find_nic_by_mac(&q, info, ifname, sizeof(ifname));
	if (ifindex < 0) {
		req_done(&q);
		return ifindex;
	}
	ret = ipinfo_nl_gateways(q.nl, ifindex, info);
	if (ret >= 0) {
		get_dns(&q, ifindex, info);
		info->dhcp_enabled = (uint8_t)get_dhcp(&q, ifindex, ifname);
	}
	req_done(&q);
	return ret < 0 ? ret : 0;
}

/* ---- SET_IP_INFO ---- */

/* The NIC whose VMBus device GUID ("{...}") is guid, in the root's sysfs. */
static int find_nic_by_guid(const struct root *r, const char *guid, char *ifname, size_t len)
{
	char **names = NULL, id[128];
	size_t n = 0;
	int ret = -ENODEV;

	if (!*guid)
		return -ENODEV;
	if (root_list_dir(r, ROOT_SYS, &names, &n, "class/net") < 0)
		return -ENODEV;
	for (size_t i = 0; i < n && ret < 0; i++) {
		if (root_read_text(r, ROOT_SYS, id, sizeof(id), "class/net/%s/device/device_id",
				   names[i]) < 0 ||
		    strcasecmp(id, guid) != 0)
			continue;
		snprintf(ifname, len, "%s", names[i]);
		ret = 0;
	}
	strv_free(names, n);
	return ret;
}

/* Create the missing directories above the last component of path. */
struct set_plan {
	char ifname[IF_NAMESIZE + 1];
	char mac[128];
	int ifindex;                  /* in this network namespace; 0 if absent */
	enum ip_renderer renderer;    /* networkd or networkmanager, decided */
	char networkd_path[PATH_MAX]; /* under the root */
	char keyfile_path[PATH_MAX];
	char *nm_device;              /* NM's device object, when NM knows the NIC */
};

/* Where the files go, and which manager's file we write. */
static int plan_set(struct ipinfo_req *q, const struct agent_config *cfg, struct set_plan *p)
{
	sd_bus *bus = req_bus(q);
	bool managed = false;
	int ret;

	ret = root_path(q->r, ROOT_ETC, p->networkd_path, sizeof(p->networkd_path),
			"systemd/network/10-azl-kvp-%s.network", p->ifname);
	if (ret == 0)
		ret = root_path(q->r, ROOT_ETC, p->keyfile_path, sizeof(p->keyfile_path),
				"NetworkManager/system-connections/azl-kvp-%s.nmconnection",
				p->ifname);
	if (ret < 0)
		return ret;
	if (bus && req_bus_result(q, ipinfo_nm_device(bus, p->ifname, &p->nm_device, &managed)) < 0)
		p->nm_device = NULL;
	p->renderer = cfg->kvp.renderer;
	if (p->renderer == IP_RENDERER_AUTO)
		p->renderer = p->nm_device && managed ? IP_RENDERER_NETWORKMANAGER
						      : IP_RENDERER_NETWORKD;
	return 0;
}

/* Write the file of the chosen manager; remove our file for the other one. */
static int write_config(const struct set_plan *p, const struct ipinfo_cfg *c)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	bool nm = p->renderer == IP_RENDERER_NETWORKMANAGER;
	int ret;

	ret = nm ? ipinfo_render_keyfile(c, p->ifname, p->mac, &text)
		 : ipinfo_render_networkd(c, p->ifname, p->mac, &text);
	if (ret < 0)
		return ret;
	/* NetworkManager wants its profiles private: they may hold secrets. */
	snprintf(path, sizeof(path), "%s", nm ? p->keyfile_path : p->networkd_path);
	ret = write_file_atomic(path, text, strlen(text), nm ? 0600 : 0644);
	if (ret < 0) {
		log_error("kvp: SET_IP_INFO: cannot write %s: %s", path, strerror(-ret));
		return ret;
	}
	if (unlink(nm ? p->networkd_path : p->keyfile_path) < 0 && errno != ENOENT)
		log_error("kvp: SET_IP_INFO: cannot remove the stale %s: %m",
			   nm ? p->networkd_path : p->keyfile_path);
	return 0;
}

static int apply_config(struct ipinfo_req *q, const struct set_plan *p, const struct ipinfo_cfg *c)
{
	sd_bus *bus = req_bus(q);
	char uuid[37];

	if (p->renderer == IP_RENDERER_NETWORKMANAGER && bus && p->nm_device) {
		ipinfo_keyfile_uuid(p->ifname, p->mac, uuid);
		return ipinfo_nm_apply(bus, p->keyfile_path, uuid, p->nm_device);
	}
	if (p->renderer == IP_RENDERER_NETWORKD && bus && p->ifindex > 0 &&
	    req_bus_result(q, ipinfo_bus_name_owned(bus, "org.freedesktop.network1")) > 0)
		return ipinfo_networkd_apply(bus, p->ifindex);
	/* No manager runs: the kernel directly, so GET_IP_INFO sees it now. */
	if (p->ifindex <= 0)
		return -ENXIO;
	if (c->dhcp) {
		log_warning("kvp: SET_IP_INFO: %s: DHCP asked, but neither systemd-networkd nor "
			   "NetworkManager runs to do it; the configuration is written and "
			   "applies when one starts",
			   p->ifname);
		return -EOPNOTSUPP;
	}
	return ipinfo_nl_apply(q->nl, p->ifindex, c);
}

static int set_checked(struct ipinfo_req *q, const struct agent_config *cfg,
		       const struct ipinfo_cfg *c, struct set_plan *p)
{
	int ret;

	ret = root_read_text(q->r, ROOT_SYS, p->mac, sizeof(p->mac), "class/net/%s/address",
			     p->ifname);
	if (ret < 0 || !ipinfo_ifname_ok(p->ifname) || strspn(p->mac, "0123456789abcdefABCDEF:") !=
								  strlen(p->mac)) {
		log_error("kvp: SET_IP_INFO: %s: unusable interface name or MAC address", p->ifname);
		return ret < 0 ? ret : -EIO;
	}
	p->ifindex = (int)if_nametoindex(p->ifname);
	ret = plan_set(q, cfg, p);
	if (ret == 0)
		ret = write_config(p, c);
	if (ret < 0)
		return ret;
	ret = ipinfo_nl_open(&q->nl);
	if (ret == 0)
		ret = apply_config(q, p, c);
	if (ret < 0)
		log_error("kvp: SET_IP_INFO: %s: configuration written, but it could not be applied: %s",
			   p->ifname, strerror(-ret));
	return ret;
}

int kvp_ip_info_set(const struct root *r, const struct agent_config *cfg,
		    const struct kvp_ip_info *info)
{
	_cleanup_free_ struct ipinfo_cfg *c = NULL;
	struct ipinfo_req q = { .r = r };
	struct set_plan p = { 0 };
	char guid[sizeof(info->adapter_id)], err[256];
	int ret;

	if (!cfg->kvp.set_ip_info) {
		log_notice("kvp: SET_IP_INFO refused: [kvp] set_ip_info = no");
		return -EPERM;
	}
	snprintf(guid, sizeof(guid), "%.*s", (int)strnlen(info->adapter_id, sizeof(guid) - 1),
		 info->adapter_id);
	if (find_nic_by_guid(r, guid, p.ifname, sizeof(p.ifname)) < 0) {
		/* Host bytes in a log line: only what a GUID is made of. */
		bool plain = strspn(guid, "0123456789abcdefABCDEF{}-") == strlen(guid);

		log_warning("kvp: SET_IP_INFO: no NIC has the device GUID %s",
			   !*guid ? "(empty)" : plain ? guid : "(not a GUID)");
		return -ENODEV;
	}
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	ret = ipinfo_parse_request(info, c, err, sizeof(err));
	if (ret < 0) {
		log_warning("kvp: SET_IP_INFO for %s refused, nothing written: %s", p.ifname, err);
		return ret;
	}
	ret = set_checked(&q, cfg, c, &p);
	free(p.nm_device);
	req_done(&q);
	/* -EINVAL and -ENODEV are answers about the request; ours is a failure. */
	if (ret == -EINVAL || ret == -ENODEV)
		ret = -EIO;
	return ret;
}
