// SPDX-License-Identifier: MIT
/* The azl_storvsc family: decode devices and policy layers, push changes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <azl_storvsc.h>

#include "kmod_storvsc.h"

#define STORVSC_MAX_ITEMS 65536 /* a hostile or broken module cannot exhaust us */

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

/* A growing array filled by dump callbacks. */
struct collect {
	void *items;
	size_t n, size;
	int (*decode)(struct nlattr **tb, void *item);
};

static int collect_one(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	struct collect *c = ctx;
	char *grown;
	int ret;

	(void)cmd;
	if (c->n >= STORVSC_MAX_ITEMS)
		return -E2BIG;
	grown = realloc(c->items, (c->n + 1) * c->size);
	if (!grown)
		return -ENOMEM;
	c->items = grown;
	ret = c->decode(tb, grown + c->n * c->size);
	if (ret < 0)
		return ret;
	c->n++;
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

/* Dump @cmd into @col; a dump interrupted by a change is retried. */
static int dump(struct genl_client *gc, uint8_t cmd, struct collect *col)
{
	int ret = -EAGAIN;

	for (int tries = 0; tries < 3 && ret == -EAGAIN; tries++) {
		struct nl_msg *msg = genl_client_msg(gc, cmd, true);

		free(col->items);
		col->items = NULL;
		col->n = 0;
		if (!msg)
			return -ENOMEM;
		ret = genl_client_call(gc, msg, collect_one, col);
	}
	if (ret < 0) {
		free(col->items);
		col->items = NULL;
		col->n = 0;
	}
	return ret;
}

int storvsc_get_devices(struct genl_client *c, struct storvsc_dev **devs, size_t *n)
{
	struct collect col = { NULL, 0, sizeof(**devs), decode_dev };
	int ret = dump(c, AZL_STORVSC_CMD_GET_DEVICES, &col);

	*devs = col.items;
	*n = col.n;
	return ret;
}

int storvsc_get_policy(struct genl_client *c, struct storvsc_rule **rules, size_t *n)
{
	struct collect col = { NULL, 0, sizeof(**rules), decode_rule };
	int ret = dump(c, AZL_STORVSC_CMD_GET_POLICY, &col);

	*rules = col.items;
	*n = col.n;
	return ret;
}

static int read_count(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	(void)cmd;
	if (tb[AZL_STORVSC_A_APPLIED_COUNT])
		*(uint32_t *)ctx = nla_get_u32(tb[AZL_STORVSC_A_APPLIED_COUNT]);
	return 0;
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
	return genl_client_call(c, msg, read_count, applied);
}

int storvsc_set_policy(struct genl_client *c, const struct storvsc_rule *r, uint32_t *applied)
{
	return send_change(c, AZL_STORVSC_CMD_SET_POLICY, r, applied);
}

int storvsc_del_policy(struct genl_client *c, const struct storvsc_rule *r, uint32_t *applied)
{
	return send_change(c, AZL_STORVSC_CMD_DEL_POLICY, r, applied);
}
