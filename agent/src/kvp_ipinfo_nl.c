// SPDX-License-Identifier: MIT
/*
 * GET_IP_INFO and SET_IP_INFO against the kernel, over rtnetlink with
 * libnl-route: one socket per request, one address dump reused for every
 * interface a request looks at, one route dump per family.  Always the
 * current network namespace (tests run in their own).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kvp_ipinfo_internal.h"
#include "util.h"

struct ipinfo_nl {
	struct nl_sock *sk;
	struct nl_cache *addrs; /* the request's address dump, taken once */
};

/* libnl's error codes as errno values (libnl only maps the other way). */
static int nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
	case NLE_NOACCESS:
		return -EPERM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_AF_NOSUPPORT:
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

int ipinfo_nl_open(struct ipinfo_nl **out)
{
	struct ipinfo_nl *nl;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		free(nl);
		return -ENOMEM;
	}
	ret = nl_connect(nl->sk, NETLINK_ROUTE);
	if (ret < 0) {
		nl_socket_free(nl->sk);
		free(nl);
		return nl_errno(ret);
	}
	*out = nl;
	return 0;
}

void ipinfo_nl_close(struct ipinfo_nl *nl)
{
	if (!nl)
		return;
	if (nl->addrs)
		nl_cache_free(nl->addrs);
	nl_socket_free(nl->sk);
	free(nl);
}

static int nl_addresses(struct ipinfo_nl *nl, bool fresh)
{
	int ret;

	if (nl->addrs && !fresh)
		return 0;
	if (nl->addrs) {
		nl_cache_free(nl->addrs);
		nl->addrs = NULL;
	}
	ret = rtnl_addr_alloc_cache(nl->sk, &nl->addrs);
	return ret < 0 ? nl_errno(ret) : 0;
}

/* An nl_addr as text; false if it is not an IPv4 or IPv6 address. */
static bool addr_text(struct nl_addr *a, char *buf, size_t len)
{
	int fam = a ? nl_addr_get_family(a) : AF_UNSPEC;
	size_t need = fam == AF_INET ? 4 : 16;

	if ((fam != AF_INET && fam != AF_INET6) || nl_addr_get_len(a) != need)
		return false;
	return inet_ntop(fam, nl_addr_get_binary_addr(a), buf, (socklen_t)len) != NULL;
}

/* The sub_net entry of one address: dotted mask (IPv4), "/plen" (IPv6). */
static void subnet_text(int family, int plen, char *buf, size_t len)
{
	if (family == AF_INET)
		ipinfo_prefix_to_mask4((unsigned)plen, buf, len);
	else
		snprintf(buf, len, "/%d", plen);
}

struct addr_walk {
	int ifindex, family, count;
	bool full; /* a pair did not fit: add no more, as the host reads in order */
	struct kvp_ip_info *info;
};

static void add_address(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct addr_walk *w = arg;
	char ip[INET6_ADDRSTRLEN], sn[INET6_ADDRSTRLEN + 2];

	/* By index, not by name: eth10's addresses are not eth1's (§3.1 #5). */
	if (rtnl_addr_get_ifindex(a) != w->ifindex || rtnl_addr_get_family(a) != w->family ||
	    !addr_text(rtnl_addr_get_local(a), ip, sizeof(ip)))
		return;
	w->count++;
	w->info->addr_family |= w->family == AF_INET ? ADDR_FAMILY_IPV4 : ADDR_FAMILY_IPV6;
	subnet_text(w->family, rtnl_addr_get_prefixlen(a), sn, sizeof(sn));
	/* An address and its subnet go together or not at all. */
	if (w->full || !ipinfo_list_fits(w->info->ip_addr, KVP_IP_LIST_LIMIT, ip, false) ||
	    !ipinfo_list_fits(w->info->sub_net, KVP_IP_LIST_LIMIT, sn, false)) {
		w->full = true;
		return;
	}
	ipinfo_list_add(w->info->ip_addr, KVP_IP_LIST_LIMIT, ip, false);
	ipinfo_list_add(w->info->sub_net, KVP_IP_LIST_LIMIT, sn, false);
}

int ipinfo_nl_addresses(struct ipinfo_nl *nl, int ifindex, struct kvp_ip_info *info)
{
	struct addr_walk w = { .ifindex = ifindex, .info = info };
	int ret;

	ret = nl_addresses(nl, false);
	if (ret < 0)
		return ret;
	/* IPv4 first, then IPv6: the order getifaddrs() gives the reference. */
	w.family = AF_INET;
	nl_cache_foreach(nl->addrs, add_address, &w);
	w.family = AF_INET6;
	nl_cache_foreach(nl->addrs, add_address, &w);
	return w.count;
}

/* A main-table unicast default route: what `ip route` calls "default". */
static bool is_default_route(struct rtnl_route *rt)
{
	struct nl_addr *dst = rtnl_route_get_dst(rt);

	return rtnl_route_get_table(rt) == RT_TABLE_MAIN && rtnl_route_get_type(rt) == RTN_UNICAST &&
	       (!dst || nl_addr_get_prefixlen(dst) == 0);
}

static int route_dump(struct ipinfo_nl *nl, int family, struct nl_cache **out)
{
	int ret = rtnl_route_alloc_cache(nl->sk, family, 0, out);

	return ret < 0 ? nl_errno(ret) : 0;
}

struct gw_walk {
	int ifindex;
	bool full;
	struct kvp_ip_info *info;
};

static void add_gateway(struct rtnl_nexthop *nh, void *arg)
{
	struct gw_walk *w = arg;
	struct nl_addr *gw;
	char text[INET6_ADDRSTRLEN];

	if (w->full || rtnl_route_nh_get_ifindex(nh) != w->ifindex)
		return;
	gw = rtnl_route_nh_get_gateway(nh);
	if (!gw)
		gw = rtnl_route_nh_get_via(nh); /* an IPv4 route via an IPv6 neighbour */
	if (!gw || !addr_text(gw, text, sizeof(text)))
		return;
	if (ipinfo_list_add(w->info->gate_way, KVP_GATEWAY_LIST_LIMIT, text, true) < 0)
		w->full = true;
}

static void route_gateways(struct nl_object *obj, void *arg)
{
	struct rtnl_route *rt = (struct rtnl_route *)obj;

	if (is_default_route(rt))
		rtnl_route_foreach_nexthop(rt, add_gateway, arg);
}

int ipinfo_nl_gateways(struct ipinfo_nl *nl, int ifindex, struct kvp_ip_info *info)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct gw_walk w = { .ifindex = ifindex, .info = info };

	for (size_t i = 0; i < ELEMENTSOF(families); i++) {
		struct nl_cache *routes = NULL;
		int ret = route_dump(nl, families[i], &routes);

		if (ret < 0)
			return ret;
		nl_cache_foreach(routes, route_gateways, &w);
		nl_cache_free(routes);
	}
	return 0;
}

/* ---- SET_IP_INFO without a network manager ---- */

static int link_up(struct ipinfo_nl *nl, int ifindex)
{
	struct rtnl_link *link = NULL, *change;
	int ret;

	ret = rtnl_link_get_kernel(nl->sk, ifindex, NULL, &link);
	if (ret < 0)
		return nl_errno(ret);
	if (rtnl_link_get_flags(link) & IFF_UP) {
		rtnl_link_put(link);
		return 0;
	}
	change = rtnl_link_alloc();
	if (!change) {
		rtnl_link_put(link);
		return -ENOMEM;
	}
	rtnl_link_set_flags(change, IFF_UP);
	ret = rtnl_link_change(nl->sk, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	return ret < 0 ? nl_errno(ret) : 0;
}

static struct nl_addr *nl_addr_of(const struct ipinfo_ip *ip, unsigned plen)
{
	struct nl_addr *a = nl_addr_build(ip->family, ip->u.bytes, ip->family == AF_INET ? 4 : 16);

	if (a)
		nl_addr_set_prefixlen(a, (int)plen);
	return a;
}

static bool same_ip(struct nl_addr *a, const struct ipinfo_ip *ip)
{
	size_t n = ip->family == AF_INET ? 4 : 16;

	return a && nl_addr_get_family(a) == ip->family && nl_addr_get_len(a) == n &&
	       memcmp(nl_addr_get_binary_addr(a), ip->u.bytes, n) == 0;
}

/*
 * The addresses we replace: global IPv4 ones, and the IPv6 ones configured
 * statically (IFA_F_PERMANENT).  Link-local addresses and what the kernel
 * made from router advertisements stay, as with systemd-networkd.
 */
static bool address_is_ours_to_replace(struct rtnl_addr *a, int ifindex, bool keep_ipv4)
{
	int fam = rtnl_addr_get_family(a);

	if (rtnl_addr_get_ifindex(a) != ifindex)
		return false;
	if (fam == AF_INET)
		return !keep_ipv4 && rtnl_addr_get_scope(a) == RT_SCOPE_UNIVERSE;
	return fam == AF_INET6 && rtnl_addr_get_scope(a) == RT_SCOPE_UNIVERSE &&
	       (rtnl_addr_get_flags(a) & IFA_F_PERMANENT);
}

struct addr_apply {
	struct ipinfo_nl *nl;
	const struct ipinfo_cfg *cfg;
	bool *present; /* cfg->addr[i] is already there */
	bool remove;   /* this pass removes what is not wanted */
	int ifindex, ret;
};

static void reconcile_address(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct addr_apply *x = arg;
	int ret;

	if (!address_is_ours_to_replace(a, x->ifindex, x->cfg->dhcp))
		return;
	for (size_t i = 0; i < x->cfg->n_addr; i++) {
		if (same_ip(rtnl_addr_get_local(a), &x->cfg->addr[i].ip) &&
		    (unsigned)rtnl_addr_get_prefixlen(a) == x->cfg->addr[i].plen) {
			x->present[i] = true;
			return;
		}
	}
	if (!x->remove)
		return;
	ret = rtnl_addr_delete(x->nl->sk, a, 0);
	if (ret < 0 && nl_errno(ret) != -EADDRNOTAVAIL && !x->ret)
		x->ret = nl_errno(ret);
}

static int add_address_to_link(struct ipinfo_nl *nl, int ifindex, const struct ipinfo_addr *want)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_of(&want->ip, want->plen), *brd = NULL;
	int ret = -ENOMEM;

	if (!a || !local)
		goto out;
	rtnl_addr_set_ifindex(a, ifindex);
	ret = rtnl_addr_set_local(a, local);
	if (ret < 0)
		goto out;
	rtnl_addr_set_prefixlen(a, (int)want->plen);
	if (want->ip.family == AF_INET && want->plen <= 30) {
		/* The broadcast address, as ip's "brd +" and networkd set it. */
		struct ipinfo_ip b = want->ip;
		uint32_t host = want->plen == 0 ? 0xffffffffu : 0xffffffffu >> want->plen;

		b.u.v4.s_addr |= htonl(host);
		brd = nl_addr_of(&b, 32);
		if (brd)
			rtnl_addr_set_broadcast(a, brd);
	}
	ret = rtnl_addr_add(nl->sk, a, NLM_F_REPLACE);
	ret = ret < 0 ? nl_errno(ret) : 0;
out:
	if (brd)
		nl_addr_put(brd);
	if (local)
		nl_addr_put(local);
	if (a)
		rtnl_addr_put(a);
	return ret;
}

static int apply_addresses(struct ipinfo_nl *nl, int ifindex, const struct ipinfo_cfg *cfg)
{
	_cleanup_free_ bool *present = calloc(cfg->n_addr + 1, sizeof(bool));
	struct addr_apply x = { .nl = nl, .cfg = cfg, .present = present, .ifindex = ifindex };
	int ret;

	if (!present)
		return -ENOMEM;
	/*
	 * Remove first, then look again: removing a primary IPv4 address takes
	 * its secondaries along, wanted or not.
	 */
	for (int pass = 0; pass < 2; pass++) {
		ret = nl_addresses(nl, true);
		if (ret < 0)
			return ret;
		memset(present, 0, (cfg->n_addr + 1) * sizeof(bool));
		x.remove = pass == 0;
		nl_cache_foreach(nl->addrs, reconcile_address, &x);
		if (x.ret < 0)
			return x.ret;
	}
	for (size_t i = 0; i < cfg->n_addr; i++) {
		if (present[i])
			continue;
		ret = add_address_to_link(nl, ifindex, &cfg->addr[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The metric of the i-th gateway of a family: the kernel's defaults, then up. */
static uint32_t gateway_metric(int family, size_t i)
{
	return (family == AF_INET6 ? 1024 : 0) + (uint32_t)i;
}

struct route_apply {
	struct ipinfo_nl *nl;
	const struct ipinfo_cfg *cfg;
	bool *present; /* cfg->gw[i] already has its route */
	int ifindex, ret;
};

struct nh_match {
	int ifindex;
	bool all_ours;
	struct nl_addr *gw;
};

static void nexthop_is_ours(struct rtnl_nexthop *nh, void *arg)
{
	struct nh_match *m = arg;

	if (rtnl_route_nh_get_ifindex(nh) != m->ifindex)
		m->all_ours = false;
	m->gw = rtnl_route_nh_get_gateway(nh);
}

static void reconcile_route(struct nl_object *obj, void *arg)
{
	struct rtnl_route *rt = (struct rtnl_route *)obj;
	struct route_apply *x = arg;
	struct nh_match m = { .ifindex = x->ifindex, .all_ours = true };
	int fam = rtnl_route_get_family(rt), ret;

	/* Routes from router advertisements belong to the kernel's SLAAC. */
	if (!is_default_route(rt) || rtnl_route_get_protocol(rt) == RTPROT_RA ||
	    rtnl_route_get_nnexthops(rt) < 1 || (fam == AF_INET && x->cfg->dhcp))
		return;
	rtnl_route_foreach_nexthop(rt, nexthop_is_ours, &m);
	if (!m.all_ours)
		return; /* another NIC takes part: not ours to remove */
	for (size_t i = 0, k = 0; i < x->cfg->n_gw; i++) {
		if (x->cfg->gw[i].family != fam)
			continue;
		if (rtnl_route_get_nnexthops(rt) == 1 && same_ip(m.gw, &x->cfg->gw[i]) &&
		    rtnl_route_get_priority(rt) == gateway_metric(fam, k)) {
			x->present[i] = true;
			return;
		}
		k++;
	}
	ret = rtnl_route_delete(x->nl->sk, rt, 0);
	if (ret < 0 && nl_errno(ret) != -ENOENT && !x->ret)
		x->ret = nl_errno(ret);
}

static int add_default_route(struct ipinfo_nl *nl, int ifindex, const struct ipinfo_ip *gw,
			     uint32_t metric)
{
	struct ipinfo_ip any = { .family = gw->family };
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = nl_addr_of(&any, 0), *via = nl_addr_of(gw, gw->family == AF_INET ? 32 : 128);
	int ret = -ENOMEM;

	if (!rt || !nh || !dst || !via)
		goto out;
	rtnl_route_set_family(rt, (uint8_t)gw->family);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_type(rt, RTN_UNICAST);
	rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_priority(rt, metric);
	ret = rtnl_route_set_dst(rt, dst);
	if (ret < 0)
		goto out;
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, via);
	rtnl_route_add_nexthop(rt, nh);
	nh = NULL; /* the route owns it now */
	ret = rtnl_route_add(nl->sk, rt, NLM_F_REPLACE);
	ret = ret < 0 ? nl_errno(ret) : 0;
out:
	if (nh)
		rtnl_route_nh_free(nh);
	if (via)
		nl_addr_put(via);
	if (dst)
		nl_addr_put(dst);
	if (rt)
		rtnl_route_put(rt);
	return ret;
}

static int apply_routes(struct ipinfo_nl *nl, int ifindex, const struct ipinfo_cfg *cfg)
{
	static const int families[] = { AF_INET, AF_INET6 };
	_cleanup_free_ bool *present = calloc(cfg->n_gw + 1, sizeof(bool));
	struct route_apply x = { .nl = nl, .cfg = cfg, .present = present, .ifindex = ifindex };
	int ret;

	if (!present)
		return -ENOMEM;
	for (size_t f = 0; f < ELEMENTSOF(families); f++) {
		struct nl_cache *routes = NULL;

		ret = route_dump(nl, families[f], &routes);
		if (ret < 0)
			return ret;
		nl_cache_foreach(routes, reconcile_route, &x);
		nl_cache_free(routes);
		if (x.ret < 0)
			return x.ret;
	}
	for (size_t f = 0; f < ELEMENTSOF(families); f++) {
		for (size_t i = 0, k = 0; i < cfg->n_gw; i++) {
			if (cfg->gw[i].family != families[f])
				continue;
			if (!present[i]) {
				ret = add_default_route(nl, ifindex, &cfg->gw[i],
							gateway_metric(families[f], k));
				if (ret < 0)
					return ret;
			}
			k++;
		}
	}
	return 0;
}

int ipinfo_nl_apply(struct ipinfo_nl *nl, int ifindex, const struct ipinfo_cfg *cfg)
{
	int ret;

	ret = link_up(nl, ifindex);
	if (ret >= 0)
		ret = apply_addresses(nl, ifindex, cfg);
	if (ret >= 0)
		ret = apply_routes(nl, ifindex, cfg);
	/* -EINVAL and -ENODEV are answers about the host's request, not ours. */
	if (ret == -EINVAL || ret == -ENODEV)
		ret = -EIO;
	return ret;
}
