// SPDX-License-Identifier: MIT
/* The azl_storvsc family: decode devices and policy layers, push changes. */
#include <errno.h>
#include <string.h>

#include <azl_storvsc.h>

#include "kmod_storvsc.h"

/* What a reply may carry; lengths are checked before any nla_get_*(). */
struct nla_policy storvsc_reply_policy[AZL_STORVSC_A_MAX + 1] = {
	[AZL_STORVSC_A_HOST] = { .type = NLA_U32 },
	[AZL_STORVSC_A_CHANNEL] = { .type = NLA_U32 },
	[AZL_STORVSC_A_TARGET] = { .type = NLA_U32 },
	[AZL_STORVSC_A_LUN] = { .type = NLA_U64 },
	[AZL_STORVSC_A_CONTROLLER] = { .type = NLA_STRING, .maxlen = AZL_STORVSC_CONTROLLER_LEN },
	[AZL_STORVSC_A_TIMEOUT] = { .type = NLA_U32 },
	[AZL_STORVSC_A_EH_TIMEOUT] = { .type = NLA_U32 },
	[AZL_STORVSC_A_QUEUE_DEPTH] = { .type = NLA_U32 },
	[AZL_STORVSC_A_SOURCE] = { .type = NLA_U8 },
	[AZL_STORVSC_A_APPLIED_COUNT] = { .type = NLA_U32 },
};

int storvsc_open(struct genl_client *c)
{
	return genl_client_open(c, AZL_STORVSC_GENL_NAME, AZL_STORVSC_A_MAX, storvsc_reply_policy);
}

const char *storvsc_source_name(uint8_t source)
{
	switch (source) {
	case AZL_STORVSC_SOURCE_DEFAULT:
		return "default";
	case AZL_STORVSC_SOURCE_CONTROLLER:
		return "controller";
	case AZL_STORVSC_SOURCE_LUN:
		return "lun";
	}
	return "unknown";
}

static uint32_t get_u32_or(struct nlattr *a, uint32_t dflt)
{
	return a ? nla_get_u32(a) : dflt;
}

int storvsc_dev_from_attrs(struct nlattr **tb, struct storvsc_dev *d)
{
	static const int required[] = {
		AZL_STORVSC_A_HOST, AZL_STORVSC_A_CHANNEL, AZL_STORVSC_A_TARGET,
		AZL_STORVSC_A_LUN, AZL_STORVSC_A_TIMEOUT, AZL_STORVSC_A_EH_TIMEOUT,
		AZL_STORVSC_A_QUEUE_DEPTH, AZL_STORVSC_A_SOURCE,
	};

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!tb[required[i]])
			return -EBADMSG;
	memset(d, 0, sizeof(*d));
	d->host = nla_get_u32(tb[AZL_STORVSC_A_HOST]);
	d->channel = nla_get_u32(tb[AZL_STORVSC_A_CHANNEL]);
	d->target = nla_get_u32(tb[AZL_STORVSC_A_TARGET]);
	d->lun = nla_get_u64(tb[AZL_STORVSC_A_LUN]);
	if (tb[AZL_STORVSC_A_CONTROLLER])
		nla_strlcpy(d->controller, tb[AZL_STORVSC_A_CONTROLLER], sizeof(d->controller));
	d->applied.timeout = nla_get_u32(tb[AZL_STORVSC_A_TIMEOUT]);
	d->applied.eh_timeout = nla_get_u32(tb[AZL_STORVSC_A_EH_TIMEOUT]);
	d->applied.queue_depth = nla_get_u32(tb[AZL_STORVSC_A_QUEUE_DEPTH]);
	d->source = nla_get_u8(tb[AZL_STORVSC_A_SOURCE]);
	return 0;
}

int storvsc_rule_from_attrs(struct nlattr **tb, struct storvsc_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->has_host = tb[AZL_STORVSC_A_HOST] != NULL;
	r->has_lun = tb[AZL_STORVSC_A_LUN] != NULL;
	if (r->has_lun && !r->has_host)
		return -EBADMSG;
	r->host = get_u32_or(tb[AZL_STORVSC_A_HOST], 0);
	r->lun = r->has_lun ? nla_get_u64(tb[AZL_STORVSC_A_LUN]) : 0;
	r->knobs.timeout = get_u32_or(tb[AZL_STORVSC_A_TIMEOUT], 0);
	r->knobs.eh_timeout = get_u32_or(tb[AZL_STORVSC_A_EH_TIMEOUT], 0);
	r->knobs.queue_depth = get_u32_or(tb[AZL_STORVSC_A_QUEUE_DEPTH], 0);
	return 0;
}

static int decode_dev(struct nlattr **tb, void *item)
{
	return storvsc_dev_from_attrs(tb, item);
}

static int decode_rule(struct nlattr **tb, void *item)
{
	return storvsc_rule_from_attrs(tb, item);
}

int storvsc_get_devices(struct genl_client *c, struct storvsc_dev **devs, size_t *n)
{
	void *items;
	int ret = genl_client_dump_all(c, AZL_STORVSC_CMD_GET_DEVICES, sizeof(**devs), decode_dev,
				       &items, n);

	*devs = items;
	return ret;
}

int storvsc_get_policy(struct genl_client *c, struct storvsc_rule **rules, size_t *n)
{
	void *items;
	int ret = genl_client_dump_all(c, AZL_STORVSC_CMD_GET_POLICY, sizeof(**rules), decode_rule,
				       &items, n);

	*rules = items;
	return ret;
}

static int put_scope(struct nl_msg *msg, const struct storvsc_rule *r)
{
	if (r->has_host && nla_put_u32(msg, AZL_STORVSC_A_HOST, r->host) < 0)
		return -EMSGSIZE;
	if (r->has_lun && nla_put_u64(msg, AZL_STORVSC_A_LUN, r->lun) < 0)
		return -EMSGSIZE;
	return 0;
}

static int put_knobs(struct nl_msg *msg, const struct storvsc_rule *r)
{
	if ((r->mask & STORVSC_KNOB_TIMEOUT) &&
	    nla_put_u32(msg, AZL_STORVSC_A_TIMEOUT, r->knobs.timeout) < 0)
		return -EMSGSIZE;
	if ((r->mask & STORVSC_KNOB_EH_TIMEOUT) &&
	    nla_put_u32(msg, AZL_STORVSC_A_EH_TIMEOUT, r->knobs.eh_timeout) < 0)
		return -EMSGSIZE;
	if ((r->mask & STORVSC_KNOB_QUEUE_DEPTH) &&
	    nla_put_u32(msg, AZL_STORVSC_A_QUEUE_DEPTH, r->knobs.queue_depth) < 0)
		return -EMSGSIZE;
	return 0;
}

static int send_change(struct genl_client *c, uint8_t cmd, const struct storvsc_rule *r,
		       uint32_t *applied)
{
	struct nl_msg *msg = genl_client_msg(c, cmd, false);

	*applied = 0;
	if (!msg)
		return -ENOMEM;
	if (put_scope(msg, r) < 0 || (cmd == AZL_STORVSC_CMD_SET_POLICY && put_knobs(msg, r) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return genl_client_call_u32(c, msg, AZL_STORVSC_A_APPLIED_COUNT, applied);
}

int storvsc_set_policy(struct genl_client *c, const struct storvsc_rule *r, uint32_t *applied)
{
	return send_change(c, AZL_STORVSC_CMD_SET_POLICY, r, applied);
}

int storvsc_del_policy(struct genl_client *c, const struct storvsc_rule *r, uint32_t *applied)
{
	return send_change(c, AZL_STORVSC_CMD_DEL_POLICY, r, applied);
}
