// SPDX-License-Identifier: GPL-2.0
/*
 * The "azl_netvsc" generic netlink family; the contract (commands,
 * attributes, who may call what) is documented in
 * kmod/include/uapi/azl_netvsc.h.  Each request has its own policy and the
 * family validates strictly, so unknown or misplaced attributes and wrong
 * types or sizes are refused by the netlink core with an extack message.
 *
 * Handlers take RTNL (generic netlink never calls them with it held, and
 * the ethtool family's handlers do the same); events are sent from the
 * notifier and the work, which hold RTNL and may sleep.
 */
#include <linux/rtnetlink.h>
#include <net/genetlink.h>

#include "../include/azl_compat.h"
#include "../include/azl_genl.h"
#include "azl_netvsc.h"

static struct netlink_range_validation azl_ring_range = {
	.max = AZL_NETVSC_RING_MAX,
};

/*
 * One policy per request: an attribute a request does not take is refused,
 * not ignored, so a later version can add one and a caller can tell
 * whether the running module understands it.
 */
static const struct nla_policy azl_set_policy_nl[AZL_NETVSC_A_VF_XPS + 1] = {
	[AZL_NETVSC_A_IFINDEX]		= { .type = NLA_REJECT },
	[AZL_NETVSC_A_IFNAME]		= { .type = NLA_REJECT },
	[AZL_NETVSC_A_KIND]		= { .type = NLA_REJECT },
	[AZL_NETVSC_A_MASTER]		= { .type = NLA_REJECT },
	[AZL_NETVSC_A_NUMA_NODE]	= { .type = NLA_REJECT },
	[AZL_NETVSC_A_CHANNELS]		= NLA_POLICY_MAX(NLA_U32, AZL_NETVSC_CHANNELS_MAX),
	[AZL_NETVSC_A_MAX_CHANNELS]	= { .type = NLA_REJECT },
	[AZL_NETVSC_A_RX_RING]		= NLA_POLICY_FULL_RANGE(NLA_U32, &azl_ring_range),
	[AZL_NETVSC_A_TX_RING]		= NLA_POLICY_FULL_RANGE(NLA_U32, &azl_ring_range),
	[AZL_NETVSC_A_XPS]		= NLA_POLICY_MAX(NLA_U8, 1),
	[AZL_NETVSC_A_VF_XPS]		= NLA_POLICY_MAX(NLA_U8, 1),
};

/* GET_DEVICES and GET_POLICY take no attribute (no filter yet). */
static const struct nla_policy azl_get_policy_nl[AZL_NETVSC_A_IFINDEX + 1] = {
	[AZL_NETVSC_A_IFINDEX]		= { .type = NLA_REJECT },
};

static struct genl_family azl_netvsc_family;

enum { AZL_NETVSC_MCGRP_EVENTS_IDX };

static const struct genl_multicast_group azl_netvsc_mcgrps[] = {
	[AZL_NETVSC_MCGRP_EVENTS_IDX] = { .name = AZL_NETVSC_MCGRP_EVENTS },
};

/* What the driver reports now: only from the work or a dump, never the notifier. */
static int azl_put_state(struct sk_buff *skb, struct net_device *dev)
{
	u32 a, b;

	if (!azl_netvsc_read_channels(dev, &a, &b) &&
	    (nla_put_u32(skb, AZL_NETVSC_A_CHANNELS, a) ||
	     nla_put_u32(skb, AZL_NETVSC_A_MAX_CHANNELS, b)))
		return -EMSGSIZE;
	if (!azl_netvsc_read_rings(dev, &a, &b) &&
	    (nla_put_u32(skb, AZL_NETVSC_A_RX_RING, a) ||
	     nla_put_u32(skb, AZL_NETVSC_A_TX_RING, b)))
		return -EMSGSIZE;
	return 0;
}

/*
 * One device message.  @cb is the dump it belongs to (NULL for an event);
 * @state adds what the driver reports (CHANNELS, rings).
 */
static int azl_fill_dev(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd,
			const struct azl_netvsc_dev *d, bool state)
{
	struct net_device *dev = d->dev;
	struct device *parent = dev->dev.parent;
	void *hdr = azl_genl_put(skb, cb, &azl_netvsc_family, cmd);

	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, AZL_NETVSC_A_IFINDEX, dev->ifindex) ||
	    nla_put_string(skb, AZL_NETVSC_A_IFNAME, dev->name) ||
	    nla_put_u8(skb, AZL_NETVSC_A_KIND, d->state == AZL_DEV_VF ? AZL_NETVSC_KIND_VF
								  : AZL_NETVSC_KIND_SYNTHETIC) ||
	    (d->master && nla_put_u32(skb, AZL_NETVSC_A_MASTER, d->master->ifindex)) ||
	    nla_put_s32(skb, AZL_NETVSC_A_NUMA_NODE, parent ? dev_to_node(parent) : NUMA_NO_NODE) ||
	    (state && azl_put_state(skb, dev)) ||
	    nla_put_s32(skb, AZL_NETVSC_A_RESULT_CHANNELS, d->result_channels) ||
	    nla_put_s32(skb, AZL_NETVSC_A_RESULT_RINGS, d->result_rings) ||
	    nla_put_s32(skb, AZL_NETVSC_A_RESULT_XPS, d->result_xps) ||
	    nla_put_u32(skb, AZL_NETVSC_A_APPLY_COUNT, d->apply_count)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * An event about @d, RTNL held.  Only APPLIED, sent by the work, carries
 * the driver's state: the others may come from the notifier, where no
 * ethtool operation is called.
 */
void azl_netvsc_notify(struct azl_netvsc_dev *d, u8 cmd)
{
	struct sk_buff *skb;

	if (!azl_netvsc_live)
		return;
	azl_genl_notify(&azl_netvsc_family, AZL_NETVSC_MCGRP_EVENTS_IDX, skb,
			azl_fill_dev(skb, NULL, cmd, d, cmd == AZL_NETVSC_CMD_APPLIED));
}

/*
 * cb->args[0]: how many devices earlier parts of the dump already sent.
 * A change between parts shifts them; cb->seq makes the core flag such a
 * dump NLM_F_DUMP_INTR so the reader retries.  Devices the work has not
 * classified yet are not shown.
 */
static int azl_dump_devices(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct azl_netvsc_dev *d;
	unsigned long i = 0;
	int ret = 0;

	rtnl_lock();
	cb->seq = azl_netvsc_generation;
	list_for_each_entry(d, &azl_netvsc_devs, node) {
		if (d->state == AZL_DEV_NEW)
			continue;
		if (i < cb->args[0]) {
			i++;
			continue;
		}
		ret = azl_fill_dev(skb, cb, AZL_NETVSC_CMD_GET_DEVICES, d, true);
		if (ret)
			break;
		i++;
	}
	rtnl_unlock();
	cb->args[0] = i;
	return azl_genl_dump_done(skb, ret);
}

static int azl_put_policy(struct sk_buff *msg)
{
	const struct azl_netvsc_policy *p = &azl_netvsc_policy;
	u32 allowed[AZL_NETVSC_ALLOWED_MAX];
	unsigned int i, n = azl_netvsc_allowed(allowed, NULL);
	struct nlattr *nest;

	if (nla_put_u32(msg, AZL_NETVSC_A_CHANNELS, READ_ONCE(p->channels)) ||
	    nla_put_u32(msg, AZL_NETVSC_A_RX_RING, READ_ONCE(p->rx_ring)) ||
	    nla_put_u32(msg, AZL_NETVSC_A_TX_RING, READ_ONCE(p->tx_ring)) ||
	    nla_put_u8(msg, AZL_NETVSC_A_XPS, READ_ONCE(p->xps)) ||
	    nla_put_u8(msg, AZL_NETVSC_A_VF_XPS, READ_ONCE(p->vf_xps)))
		return -EMSGSIZE;
	nest = nla_nest_start(msg, AZL_NETVSC_A_ALLOWED);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++)
		if (nla_put_u32(msg, AZL_NETVSC_A_ALLOWED_COUNT, allowed[i]))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int azl_get_policy(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	void *hdr;
	int ret;

	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &azl_netvsc_family, 0, info->genlhdr->cmd);
	ret = hdr ? azl_put_policy(msg) : -EMSGSIZE;
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* Read the knobs a request carries into @p; returns the knob mask. */
static unsigned int azl_parse_knobs(struct nlattr **a, struct azl_netvsc_policy *p)
{
	unsigned int mask = 0;

	if (a[AZL_NETVSC_A_CHANNELS]) {
		p->channels = nla_get_u32(a[AZL_NETVSC_A_CHANNELS]);
		mask |= AZL_KNOB_CHANNELS;
	}
	if (a[AZL_NETVSC_A_RX_RING]) {
		p->rx_ring = nla_get_u32(a[AZL_NETVSC_A_RX_RING]);
		mask |= AZL_KNOB_RX_RING;
	}
	if (a[AZL_NETVSC_A_TX_RING]) {
		p->tx_ring = nla_get_u32(a[AZL_NETVSC_A_TX_RING]);
		mask |= AZL_KNOB_TX_RING;
	}
	if (a[AZL_NETVSC_A_XPS]) {
		p->xps = nla_get_u8(a[AZL_NETVSC_A_XPS]);
		mask |= AZL_KNOB_XPS;
	}
	if (a[AZL_NETVSC_A_VF_XPS]) {
		p->vf_xps = nla_get_u8(a[AZL_NETVSC_A_VF_XPS]);
		mask |= AZL_KNOB_VF_XPS;
	}
	return mask;
}

static void azl_merge(struct azl_netvsc_policy *dst, const struct azl_netvsc_policy *src,
		      unsigned int mask)
{
	if (mask & AZL_KNOB_CHANNELS)
		WRITE_ONCE(dst->channels, src->channels);
	if (mask & AZL_KNOB_RX_RING)
		WRITE_ONCE(dst->rx_ring, src->rx_ring);
	if (mask & AZL_KNOB_TX_RING)
		WRITE_ONCE(dst->tx_ring, src->tx_ring);
	if (mask & AZL_KNOB_XPS)
		WRITE_ONCE(dst->xps, src->xps);
	if (mask & AZL_KNOB_VF_XPS)
		WRITE_ONCE(dst->vf_xps, src->vf_xps);
}

static int azl_set_policy(struct sk_buff *skb, struct genl_info *info)
{
	struct azl_netvsc_policy p = {};
	unsigned int mask, count;
	int ret;

	mask = azl_parse_knobs(info->attrs, &p);
	if (!mask) {
		NL_SET_ERR_MSG(info->extack,
			       "give at least one of CHANNELS, RX_RING, TX_RING, XPS, VF_XPS");
		return -EINVAL;
	}
	if (mask & AZL_KNOB_CHANNELS) {
		ret = azl_netvsc_check_channels(p.channels, info->extack);
		if (ret) {
			NL_SET_BAD_ATTR(info->extack, info->attrs[AZL_NETVSC_A_CHANNELS]);
			return ret;
		}
	}
	rtnl_lock();
	if (!azl_netvsc_live) {
		rtnl_unlock();
		NL_SET_ERR_MSG(info->extack, "azl_netvsc is loading or unloading");
		return -ENODEV;
	}
	azl_merge(&azl_netvsc_policy, &p, mask);
	count = azl_netvsc_policy_changed(mask);
	rtnl_unlock();
	return azl_genl_reply_u32(info, &azl_netvsc_family, AZL_NETVSC_A_APPLIED_COUNT, count);
}

static const struct genl_ops azl_netvsc_ops[] = {
	{
		.cmd	= AZL_NETVSC_CMD_GET_DEVICES,
		.dumpit	= azl_dump_devices,
		.policy	= azl_get_policy_nl,
		.maxattr = ARRAY_SIZE(azl_get_policy_nl) - 1,
	},
	{
		.cmd	= AZL_NETVSC_CMD_GET_POLICY,
		.doit	= azl_get_policy,
		.policy	= azl_get_policy_nl,
		.maxattr = ARRAY_SIZE(azl_get_policy_nl) - 1,
	},
	{
		.cmd	= AZL_NETVSC_CMD_SET_POLICY,
		.doit	= azl_set_policy,
		.flags	= GENL_ADMIN_PERM,	/* CAP_NET_ADMIN, as ethtool -L needs */
		.policy	= azl_set_policy_nl,
		.maxattr = ARRAY_SIZE(azl_set_policy_nl) - 1,
	},
};

static struct genl_family azl_netvsc_family __ro_after_init = {
	.name		= AZL_NETVSC_GENL_NAME,
	.version	= AZL_NETVSC_GENL_VERSION,
	.module		= THIS_MODULE,
	.ops		= azl_netvsc_ops,
	.n_ops		= ARRAY_SIZE(azl_netvsc_ops),
	/*
	 * resv_start_op stays 0: every command is new, so the core checks
	 * the reserved header field and validates attributes strictly.
	 */
	.mcgrps		= azl_netvsc_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(azl_netvsc_mcgrps),
	.parallel_ops	= true,
};

int azl_netvsc_netlink_init(void)
{
	return genl_register_family(&azl_netvsc_family);
}

void azl_netvsc_netlink_exit(void)
{
	genl_unregister_family(&azl_netvsc_family);
}
