// SPDX-License-Identifier: GPL-2.0
/*
 * The "azl_storvsc" generic netlink family; the contract (commands,
 * attributes, who may call what) is documented in
 * kmod/include/uapi/azl_storvsc.h.  Each request has its own policy and
 * the family validates strictly, so unknown or misplaced attributes and
 * wrong types are refused by the netlink core with an extack message.
 */
#include <linux/device.h>
#include <net/genetlink.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_host.h>

#include "../include/azl_compat.h"
#include "../include/azl_genl.h"
#include "../include/uapi/azl_storvsc.h"
#include "azl_storvsc.h"

static struct netlink_range_validation azl_depth_range = {
	.max = AZL_STORVSC_QUEUE_DEPTH_MAX,
};

/*
 * One policy per request: an attribute a request does not take is refused,
 * not ignored, so a later version can add one and a caller can tell
 * whether the running module understands it.
 */
static const struct nla_policy azl_set_policy_nl[AZL_STORVSC_A_QUEUE_DEPTH + 1] = {
	[AZL_STORVSC_A_HOST]		= { .type = NLA_U32 },
	[AZL_STORVSC_A_CHANNEL]		= { .type = NLA_REJECT },
	[AZL_STORVSC_A_TARGET]		= { .type = NLA_REJECT },
	[AZL_STORVSC_A_LUN]		= { .type = NLA_U64 },
	[AZL_STORVSC_A_CONTROLLER]	= { .type = NLA_REJECT },
	[AZL_STORVSC_A_TIMEOUT]		= NLA_POLICY_MAX(NLA_U32, AZL_STORVSC_TIMEOUT_MAX),
	[AZL_STORVSC_A_EH_TIMEOUT]	= NLA_POLICY_MAX(NLA_U32, AZL_STORVSC_EH_TIMEOUT_MAX),
	[AZL_STORVSC_A_QUEUE_DEPTH]	= NLA_POLICY_FULL_RANGE(NLA_U32, &azl_depth_range),
};

static const struct nla_policy azl_del_policy_nl[AZL_STORVSC_A_LUN + 1] = {
	[AZL_STORVSC_A_HOST]		= { .type = NLA_U32 },
	[AZL_STORVSC_A_CHANNEL]		= { .type = NLA_REJECT },
	[AZL_STORVSC_A_TARGET]		= { .type = NLA_REJECT },
	[AZL_STORVSC_A_LUN]		= { .type = NLA_U64 },
};

/* The dumps take no filter yet. */
static const struct nla_policy azl_dump_policy_nl[AZL_STORVSC_A_HOST + 1] = {
	[AZL_STORVSC_A_HOST]		= { .type = NLA_REJECT },
};

static struct genl_family azl_storvsc_family;

enum { AZL_STORVSC_MCGRP_EVENTS_IDX };

static const struct genl_multicast_group azl_storvsc_mcgrps[] = {
	[AZL_STORVSC_MCGRP_EVENTS_IDX] = { .name = AZL_STORVSC_MCGRP_EVENTS },
};

/*
 * One device message: identity, the values it has now, where they came
 * from.  @cb is the dump it belongs to (NULL for an event).
 */
static int azl_fill_dev(struct sk_buff *skb, struct netlink_callback *cb,
			u8 cmd, const struct azl_storvsc_dev *d)
{
	struct scsi_device *sdev = d->sdev;
	struct device *parent = sdev->host->shost_gendev.parent;
	void *hdr = azl_genl_put(skb, cb, &azl_storvsc_family, cmd);

	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, AZL_STORVSC_A_HOST, sdev->host->host_no) ||
	    nla_put_u32(skb, AZL_STORVSC_A_CHANNEL, sdev->channel) ||
	    nla_put_u32(skb, AZL_STORVSC_A_TARGET, sdev->id) ||
	    nla_put_u64_64bit(skb, AZL_STORVSC_A_LUN, sdev->lun, AZL_STORVSC_A_PAD) ||
	    (parent && nla_put_string(skb, AZL_STORVSC_A_CONTROLLER, dev_name(parent))) ||
	    nla_put_u32(skb, AZL_STORVSC_A_TIMEOUT, sdev->request_queue->rq_timeout / HZ) ||
	    nla_put_u32(skb, AZL_STORVSC_A_EH_TIMEOUT, READ_ONCE(sdev->eh_timeout) / HZ) ||
	    nla_put_u32(skb, AZL_STORVSC_A_QUEUE_DEPTH, sdev->queue_depth) ||
	    nla_put_u8(skb, AZL_STORVSC_A_SOURCE, d->source)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

void azl_storvsc_notify_applied(struct azl_storvsc_dev *d)
{
	struct sk_buff *skb;

	azl_genl_notify(&azl_storvsc_family, AZL_STORVSC_MCGRP_EVENTS_IDX, skb,
			azl_fill_dev(skb, NULL, AZL_STORVSC_CMD_APPLIED, d));
}

/*
 * cb->args[0]: how many entries earlier parts of the dump already sent.
 * A change between parts shifts them; cb->seq makes the core flag such a
 * dump NLM_F_DUMP_INTR so the reader retries.
 */
static int azl_dump_devices(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct azl_storvsc_dev *d;
	unsigned long i = 0;
	int ret = 0;

	mutex_lock(&azl_storvsc_lock);
	cb->seq = azl_storvsc_generation;
	list_for_each_entry(d, &azl_storvsc_devs, node) {
		if (i < cb->args[0]) {
			i++;
			continue;
		}
		ret = azl_fill_dev(skb, cb, AZL_STORVSC_CMD_GET_DEVICES, d);
		if (ret)
			break;
		i++;
	}
	mutex_unlock(&azl_storvsc_lock);
	cb->args[0] = i;
	return azl_genl_dump_done(skb, ret);
}

struct azl_policy_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

/* One layer; the default is the one without a host. */
static int azl_fill_layer(struct azl_policy_dump *pd, bool has_host, u32 host,
			  bool has_lun, u64 lun, const struct azl_storvsc_policy *p)
{
	struct sk_buff *skb = pd->skb;
	void *hdr = azl_genl_put(skb, pd->cb, &azl_storvsc_family,
				 AZL_STORVSC_CMD_GET_POLICY);

	if (!hdr)
		return -EMSGSIZE;
	if ((has_host && nla_put_u32(skb, AZL_STORVSC_A_HOST, host)) ||
	    (has_lun && nla_put_u64_64bit(skb, AZL_STORVSC_A_LUN, lun,
					  AZL_STORVSC_A_PAD)) ||
	    nla_put_u32(skb, AZL_STORVSC_A_TIMEOUT, p->timeout) ||
	    nla_put_u32(skb, AZL_STORVSC_A_EH_TIMEOUT, p->eh_timeout) ||
	    nla_put_u32(skb, AZL_STORVSC_A_QUEUE_DEPTH, p->queue_depth)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	pd->cb->args[0]++;
	return 0;
}

static int azl_fill_rule(void *ctx, u32 host, bool has_lun, u64 lun,
			 const struct azl_storvsc_policy *p)
{
	return azl_fill_layer(ctx, true, host, has_lun, lun, p);
}

/* The default first (no HOST attribute), then each rule. */
static int azl_dump_policy(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct azl_policy_dump pd = { .skb = skb, .cb = cb };
	int ret = 0;

	mutex_lock(&azl_storvsc_lock);
	cb->seq = azl_storvsc_generation;
	if (cb->args[0] == 0)
		ret = azl_fill_layer(&pd, false, 0, false, 0, &azl_storvsc_default);
	if (!ret)
		ret = azl_storvsc_rules_walk(cb->args[0] - 1, azl_fill_rule, &pd);
	mutex_unlock(&azl_storvsc_lock);
	return azl_genl_dump_done(skb, ret);
}

/* Read the knobs a request carries into @p; returns the knob mask. */
static unsigned int azl_parse_knobs(struct nlattr **attrs,
				    struct azl_storvsc_policy *p)
{
	unsigned int mask = 0;

	if (attrs[AZL_STORVSC_A_TIMEOUT]) {
		p->timeout = nla_get_u32(attrs[AZL_STORVSC_A_TIMEOUT]);
		mask |= AZL_KNOB_TIMEOUT;
	}
	if (attrs[AZL_STORVSC_A_EH_TIMEOUT]) {
		p->eh_timeout = nla_get_u32(attrs[AZL_STORVSC_A_EH_TIMEOUT]);
		mask |= AZL_KNOB_EH_TIMEOUT;
	}
	if (attrs[AZL_STORVSC_A_QUEUE_DEPTH]) {
		p->queue_depth = nla_get_u32(attrs[AZL_STORVSC_A_QUEUE_DEPTH]);
		mask |= AZL_KNOB_QUEUE_DEPTH;
	}
	return mask;
}

static int azl_reply_count(struct genl_info *info, unsigned int count)
{
	return azl_genl_reply_u32(info, &azl_storvsc_family,
				  AZL_STORVSC_A_APPLIED_COUNT, count);
}

/*
 * Disk policy is storage administration: CAP_SYS_ADMIN, as writing the
 * same sysfs files needs, on top of the family's CAP_NET_ADMIN check.
 */
static int azl_check_admin(struct sk_buff *skb, struct genl_info *info)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	NL_SET_ERR_MSG(info->extack, "changing disk policy needs CAP_SYS_ADMIN");
	return -EPERM;
}

/*
 * What every change request starts with: the caller's right to change
 * policy, then the layer (HOST and LUN; LUN alone means nothing).
 */
static int azl_parse_scope(struct sk_buff *skb, struct genl_info *info, bool *has_host,
			   u32 *host, bool *has_lun, u64 *lun)
{
	struct nlattr **attrs = info->attrs;
	int ret = azl_check_admin(skb, info);

	if (ret)
		return ret;
	*has_host = !!attrs[AZL_STORVSC_A_HOST];
	*has_lun = !!attrs[AZL_STORVSC_A_LUN];
	*host = *has_host ? nla_get_u32(attrs[AZL_STORVSC_A_HOST]) : 0;
	*lun = *has_lun ? nla_get_u64(attrs[AZL_STORVSC_A_LUN]) : 0;
	if (*has_lun && !*has_host) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[AZL_STORVSC_A_LUN],
				    "a LUN rule needs the HOST attribute too");
		return -EINVAL;
	}
	return 0;
}

static int azl_set_policy(struct sk_buff *skb, struct genl_info *info)
{
	struct azl_storvsc_policy p = {};
	unsigned int mask, count;
	bool has_host, has_lun;
	u32 host;
	u64 lun;
	int ret;

	ret = azl_parse_scope(skb, info, &has_host, &host, &has_lun, &lun);
	if (ret)
		return ret;
	mask = azl_parse_knobs(info->attrs, &p);
	if (!mask) {
		NL_SET_ERR_MSG(info->extack,
			       "give at least one of TIMEOUT, EH_TIMEOUT, QUEUE_DEPTH");
		return -EINVAL;
	}
	mutex_lock(&azl_storvsc_lock);
	if (has_host && !azl_storvsc_host_exists(host)) {
		/* A rule for a host number nobody has would wait for whoever gets it. */
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[AZL_STORVSC_A_HOST],
				    "no SCSI host with this number of the matched template");
		ret = -ENODEV;
	} else if (has_host) {
		ret = azl_storvsc_rule_set(host, has_lun, lun, &p, mask);
		if (ret == -ENOSPC)
			NL_SET_ERR_MSG(info->extack, "too many rules (AZL_STORVSC_RULES_MAX)");
	} else {
		azl_storvsc_policy_merge(&azl_storvsc_default, &p, mask);
	}
	count = ret ? 0 : azl_storvsc_reapply(!has_host, host, has_lun, lun, mask);
	mutex_unlock(&azl_storvsc_lock);
	return ret ? ret : azl_reply_count(info, count);
}

static int azl_del_policy(struct sk_buff *skb, struct genl_info *info)
{
	bool has_host, has_lun;
	unsigned int count = 0;
	u32 host;
	u64 lun;
	int ret;

	ret = azl_parse_scope(skb, info, &has_host, &host, &has_lun, &lun);
	if (ret)
		return ret;
	if (!has_host) {
		NL_SET_ERR_MSG(info->extack,
			       "the default has no rule to delete; set its knobs instead");
		return -EINVAL;
	}
	mutex_lock(&azl_storvsc_lock);
	ret = azl_storvsc_rule_del(host, has_lun, lun);
	if (ret == -ENOENT)
		NL_SET_ERR_MSG(info->extack, "no such rule");
	else
		count = azl_storvsc_reapply(false, host, has_lun, lun, ret);
	mutex_unlock(&azl_storvsc_lock);
	return ret < 0 ? ret : azl_reply_count(info, count);
}

static const struct genl_ops azl_storvsc_ops[] = {
	{
		.cmd	= AZL_STORVSC_CMD_GET_DEVICES,
		.dumpit	= azl_dump_devices,
		.policy	= azl_dump_policy_nl,
		.maxattr = ARRAY_SIZE(azl_dump_policy_nl) - 1,
	},
	{
		.cmd	= AZL_STORVSC_CMD_GET_POLICY,
		.dumpit	= azl_dump_policy,
		.policy	= azl_dump_policy_nl,
		.maxattr = ARRAY_SIZE(azl_dump_policy_nl) - 1,
	},
	{
		.cmd	= AZL_STORVSC_CMD_SET_POLICY,
		.doit	= azl_set_policy,
		.flags	= GENL_ADMIN_PERM,
		.policy	= azl_set_policy_nl,
		.maxattr = ARRAY_SIZE(azl_set_policy_nl) - 1,
	},
	{
		.cmd	= AZL_STORVSC_CMD_DEL_POLICY,
		.doit	= azl_del_policy,
		.flags	= GENL_ADMIN_PERM,
		.policy	= azl_del_policy_nl,
		.maxattr = ARRAY_SIZE(azl_del_policy_nl) - 1,
	},
};

static struct genl_family azl_storvsc_family __ro_after_init = {
	.name		= AZL_STORVSC_GENL_NAME,
	.version	= AZL_STORVSC_GENL_VERSION,
	.module		= THIS_MODULE,
	.ops		= azl_storvsc_ops,
	.n_ops		= ARRAY_SIZE(azl_storvsc_ops),
	/*
	 * resv_start_op stays 0: every command is new, so the core checks
	 * the reserved header field and validates attributes strictly.
	 */
	.mcgrps		= azl_storvsc_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(azl_storvsc_mcgrps),
	.parallel_ops	= true,
};

int azl_storvsc_netlink_init(void)
{
	return genl_register_family(&azl_storvsc_family);
}

void azl_storvsc_netlink_exit(void)
{
	genl_unregister_family(&azl_storvsc_family);
}
