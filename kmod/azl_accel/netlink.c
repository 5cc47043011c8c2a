// SPDX-License-Identifier: GPL-2.0
/*
 * The "azl_accel" generic netlink family; the contract (commands,
 * attributes, who may call what) is documented in
 * kmod/include/uapi/azl_accel.h.  Each request has its own policy and the
 * family validates strictly, so unknown or misplaced attributes and wrong
 * types are refused by the netlink core with an extack message.
 */
#include <linux/capability.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <net/genetlink.h>

#include "../include/azl_compat.h"
#include "../include/azl_genl.h"
#include "azl_accel.h"

/* Inside a NODE_ENTRY. */
static const struct nla_policy azl_entry_nl[AZL_ACCEL_A_NODE + 1] = {
	[AZL_ACCEL_A_DOMAIN]	= { .type = NLA_U32 },
	[AZL_ACCEL_A_NODE]	= { .type = NLA_S32 },
};

/* Inside NODES: NODE_ENTRY only. */
static const struct nla_policy azl_nodes_nl[AZL_ACCEL_A_NODE_ENTRY + 1] = {
	[AZL_ACCEL_A_NODE_ENTRY] = NLA_POLICY_NESTED(azl_entry_nl),
};

/*
 * One policy per request: an attribute a request does not take is refused,
 * not ignored, so a later version can add one and a caller can tell
 * whether the running module understands it.  Types past the last entry
 * are unknown to the core and refused too.
 */
static const struct nla_policy azl_set_policy_nl[AZL_ACCEL_A_NODES + 1] = {
	[AZL_ACCEL_A_BDF]	= { .type = NLA_REJECT },
	[AZL_ACCEL_A_DOMAIN]	= { .type = NLA_REJECT },
	[AZL_ACCEL_A_VENDOR]	= { .type = NLA_REJECT },
	[AZL_ACCEL_A_DEVICE]	= { .type = NLA_REJECT },
	[AZL_ACCEL_A_CLASS]	= { .type = NLA_REJECT },
	[AZL_ACCEL_A_KIND]	= { .type = NLA_REJECT },
	[AZL_ACCEL_A_HOST_NODE]	= { .type = NLA_REJECT },
	[AZL_ACCEL_A_NODE]	= { .type = NLA_REJECT },
	[AZL_ACCEL_A_SOURCE]	= { .type = NLA_REJECT },
	[AZL_ACCEL_A_DRIVER]	= { .type = NLA_REJECT },
	[AZL_ACCEL_A_NODES]	= NLA_POLICY_NESTED(azl_nodes_nl),
};

/* GET_DEVICES and GET_POLICY take no attribute yet. */
static const struct nla_policy azl_get_policy_nl[AZL_ACCEL_A_BDF + 1] = {
	[AZL_ACCEL_A_BDF]	= { .type = NLA_REJECT },
};

static struct genl_family azl_accel_family;

enum { AZL_ACCEL_MCGRP_EVENTS_IDX };

static const struct genl_multicast_group azl_accel_mcgrps[] = {
	[AZL_ACCEL_MCGRP_EVENTS_IDX] = { .name = AZL_ACCEL_MCGRP_EVENTS },
};

/* One device message; @cb is the dump it belongs to (NULL for an event). */
static int azl_fill_dev(struct sk_buff *skb, struct netlink_callback *cb,
			u8 cmd, const struct azl_accel_dev *d)
{
	struct pci_dev *pdev = d->pdev;
	void *hdr = azl_genl_put(skb, cb, &azl_accel_family, cmd);

	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_string(skb, AZL_ACCEL_A_BDF, pci_name(pdev)) ||
	    nla_put_u32(skb, AZL_ACCEL_A_DOMAIN, pci_domain_nr(pdev->bus)) ||
	    nla_put_u16(skb, AZL_ACCEL_A_VENDOR, pdev->vendor) ||
	    nla_put_u16(skb, AZL_ACCEL_A_DEVICE, pdev->device) ||
	    nla_put_u32(skb, AZL_ACCEL_A_CLASS, pdev->class) ||
	    nla_put_u8(skb, AZL_ACCEL_A_KIND, d->kind) ||
	    nla_put_s32(skb, AZL_ACCEL_A_HOST_NODE, d->host_node) ||
	    nla_put_s32(skb, AZL_ACCEL_A_NODE, dev_to_node(&pdev->dev)) ||
	    nla_put_u8(skb, AZL_ACCEL_A_SOURCE, d->source) ||
	    (d->driver[0] && nla_put_string(skb, AZL_ACCEL_A_DRIVER, d->driver))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

void azl_accel_notify(const struct azl_accel_dev *d, u8 cmd)
{
	struct sk_buff *skb;

	azl_genl_notify(&azl_accel_family, AZL_ACCEL_MCGRP_EVENTS_IDX, skb,
			azl_fill_dev(skb, NULL, cmd, d));
}

/*
 * cb->args[0]: how many devices earlier parts of the dump already sent.
 * A change between parts shifts them; cb->seq makes the core flag such a
 * dump NLM_F_DUMP_INTR so the reader retries.
 */
static int azl_dump_devices(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct azl_accel_dev *d;
	unsigned long i = 0;
	int ret = 0;

	mutex_lock(&azl_accel_lock);
	cb->seq = azl_accel_generation;
	list_for_each_entry(d, &azl_accel_devs, node) {
		if (i < cb->args[0]) {
			i++;
			continue;
		}
		ret = azl_fill_dev(skb, cb, AZL_ACCEL_CMD_GET_DEVICES, d);
		if (ret)
			break;
		i++;
	}
	mutex_unlock(&azl_accel_lock);
	cb->args[0] = i;
	return azl_genl_dump_done(skb, ret);
}

/* One message with the whole table: at most 256 small entries. */
static int azl_get_policy(struct sk_buff *skb, struct genl_info *info)
{
	struct azl_accel_entry *e;
	struct nlattr *nodes, *entry;
	struct sk_buff *msg;
	unsigned int i, n;
	void *hdr;

	e = kcalloc(AZL_ACCEL_NODES_MAX, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	mutex_lock(&azl_accel_lock);
	n = azl_accel_table_copy(e);
	mutex_unlock(&azl_accel_lock);
	msg = genlmsg_new(nla_total_size(0) +
			  n * nla_total_size(2 * nla_total_size(sizeof(u32))),
			  GFP_KERNEL);
	if (!msg) {
		kfree(e);
		return -ENOMEM;
	}
	hdr = genlmsg_put_reply(msg, info, &azl_accel_family, 0, info->genlhdr->cmd);
	if (!hdr)
		goto too_big;
	nodes = nla_nest_start(msg, AZL_ACCEL_A_NODES);
	if (!nodes)
		goto too_big;
	for (i = 0; i < n; i++) {
		entry = nla_nest_start(msg, AZL_ACCEL_A_NODE_ENTRY);
		if (!entry || nla_put_u32(msg, AZL_ACCEL_A_DOMAIN, e[i].domain) ||
		    nla_put_s32(msg, AZL_ACCEL_A_NODE, e[i].node))
			goto too_big;
		nla_nest_end(msg, entry);
	}
	nla_nest_end(msg, nodes);
	genlmsg_end(msg, hdr);
	kfree(e);
	return genlmsg_reply(msg, info);

too_big:
	kfree(e);
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* Read NODES into @e; -EINVAL with an extack message on anything wrong. */
static int azl_parse_entries(struct genl_info *info, struct azl_accel_entry *e,
			     unsigned int *n)
{
	struct nlattr *tb[AZL_ACCEL_A_NODE + 1];
	struct nlattr *entry;
	int rem, ret;

	*n = 0;
	nla_for_each_nested(entry, info->attrs[AZL_ACCEL_A_NODES], rem) {
		if (*n == AZL_ACCEL_NODES_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, entry,
					    "more than AZL_ACCEL_NODES_MAX entries");
			return -EINVAL;
		}
		ret = nla_parse_nested(tb, AZL_ACCEL_A_NODE, entry, azl_entry_nl,
				       info->extack);
		if (ret)
			return ret;
		if (!tb[AZL_ACCEL_A_DOMAIN] || !tb[AZL_ACCEL_A_NODE]) {
			NL_SET_ERR_MSG_ATTR(info->extack, entry,
					    "a NODE_ENTRY needs DOMAIN and NODE");
			return -EINVAL;
		}
		e[*n].domain = nla_get_u32(tb[AZL_ACCEL_A_DOMAIN]);
		e[*n].node = nla_get_s32(tb[AZL_ACCEL_A_NODE]);
		switch (azl_accel_entry_check(e, (*n)++)) {
		case AZL_ENTRY_OK:
			break;
		case AZL_ENTRY_BAD_DOMAIN:
			NL_SET_ERR_MSG_ATTR(info->extack, entry,
					    "a PCI domain is at most ffff");
			return -EINVAL;
		case AZL_ENTRY_BAD_NODE:
			NL_SET_ERR_MSG_ATTR(info->extack, entry,
					    "the NUMA node is not online");
			return -EINVAL;
		case AZL_ENTRY_DUPLICATE:
			NL_SET_ERR_MSG_ATTR(info->extack, entry,
					    "the PCI domain is in the table already");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Placing devices on NUMA nodes is system administration: CAP_SYS_ADMIN,
 * as writing numa_node in sysfs needs, on top of the family's
 * CAP_NET_ADMIN check.  Only the table changes here (devices get their
 * node at their next bind), under azl_accel_lock and no device lock:
 * see the lock order in azl_accel.h.
 */
static int azl_set_policy(struct sk_buff *skb, struct genl_info *info)
{
	struct azl_accel_entry *e;
	unsigned int n, count;
	int ret;

	if (!netlink_capable(skb, CAP_SYS_ADMIN)) {
		NL_SET_ERR_MSG(info->extack, "changing the NUMA table needs CAP_SYS_ADMIN");
		return -EPERM;
	}
	if (!info->attrs[AZL_ACCEL_A_NODES]) {
		NL_SET_ERR_MSG(info->extack, "NODES is required (an empty NODES clears the table)");
		return -EINVAL;
	}
	e = kcalloc(AZL_ACCEL_NODES_MAX, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	ret = azl_parse_entries(info, e, &n);
	if (!ret)
		count = azl_accel_table_replace(e, n);
	kfree(e);
	if (ret)
		return ret;
	return azl_genl_reply_u32(info, &azl_accel_family, AZL_ACCEL_A_APPLIED_COUNT, count);
}

static const struct genl_ops azl_accel_ops[] = {
	{
		.cmd	= AZL_ACCEL_CMD_GET_DEVICES,
		.dumpit	= azl_dump_devices,
		.policy	= azl_get_policy_nl,
		.maxattr = ARRAY_SIZE(azl_get_policy_nl) - 1,
	},
	{
		.cmd	= AZL_ACCEL_CMD_GET_POLICY,
		.doit	= azl_get_policy,
		.policy	= azl_get_policy_nl,
		.maxattr = ARRAY_SIZE(azl_get_policy_nl) - 1,
	},
	{
		.cmd	= AZL_ACCEL_CMD_SET_POLICY,
		.doit	= azl_set_policy,
		.flags	= GENL_ADMIN_PERM,
		.policy	= azl_set_policy_nl,
		.maxattr = ARRAY_SIZE(azl_set_policy_nl) - 1,
	},
};

static struct genl_family azl_accel_family __ro_after_init = {
	.name		= AZL_ACCEL_GENL_NAME,
	.version	= AZL_ACCEL_GENL_VERSION,
	.module		= THIS_MODULE,
	.ops		= azl_accel_ops,
	.n_ops		= ARRAY_SIZE(azl_accel_ops),
	/*
	 * resv_start_op stays 0: every command is new, so the core checks
	 * the reserved header field and validates attributes strictly.
	 */
	.mcgrps		= azl_accel_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(azl_accel_mcgrps),
	.parallel_ops	= true,
};

int azl_accel_netlink_init(void)
{
	return genl_register_family(&azl_accel_family);
}

void azl_accel_netlink_exit(void)
{
	genl_unregister_family(&azl_accel_family);
}
