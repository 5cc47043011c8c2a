// SPDX-License-Identifier: MIT
/* The azl_netvsc family: decode devices and the policy, push changes, format events. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <azl_netvsc.h>

#include "escape.h"
#include "kmod_netvsc.h"

/*
 * What a reply may carry; lengths are checked before any nla_get_*().
 * The s32 attributes are checked as NLA_U32 (the same four bytes): libnl
 * 3.7 has no minimum length for NLA_S32 and would let a short one through.
 */
struct nla_policy netvsc_reply_policy[AZL_NETVSC_A_MAX + 1] = {
	[AZL_NETVSC_A_IFINDEX] = { .type = NLA_U32 },
	[AZL_NETVSC_A_IFNAME] = { .type = NLA_STRING, .maxlen = IF_NAMESIZE },
	[AZL_NETVSC_A_KIND] = { .type = NLA_U8 },
	[AZL_NETVSC_A_MASTER] = { .type = NLA_U32 },
	[AZL_NETVSC_A_NUMA_NODE] = { .type = NLA_U32 },
	[AZL_NETVSC_A_CHANNELS] = { .type = NLA_U32 },
	[AZL_NETVSC_A_MAX_CHANNELS] = { .type = NLA_U32 },
	[AZL_NETVSC_A_RX_RING] = { .type = NLA_U32 },
	[AZL_NETVSC_A_TX_RING] = { .type = NLA_U32 },
	[AZL_NETVSC_A_XPS] = { .type = NLA_U8 },
	[AZL_NETVSC_A_VF_XPS] = { .type = NLA_U8 },
	[AZL_NETVSC_A_ALLOWED] = { .type = NLA_NESTED },
	[AZL_NETVSC_A_ALLOWED_COUNT] = { .type = NLA_U32 },
	[AZL_NETVSC_A_RESULT_CHANNELS] = { .type = NLA_U32 },
	[AZL_NETVSC_A_RESULT_RINGS] = { .type = NLA_U32 },
	[AZL_NETVSC_A_RESULT_XPS] = { .type = NLA_U32 },
	[AZL_NETVSC_A_APPLY_COUNT] = { .type = NLA_U32 },
	[AZL_NETVSC_A_APPLIED_COUNT] = { .type = NLA_U32 },
};

int netvsc_open(struct genl_client *c)
{
	return genl_client_open(c, AZL_NETVSC_GENL_NAME, AZL_NETVSC_A_MAX, netvsc_reply_policy);
}

const char *netvsc_kind_name(uint8_t kind)
{
	switch (kind) {
	case AZL_NETVSC_KIND_SYNTHETIC:
		return "synthetic";
	case AZL_NETVSC_KIND_VF:
		return "vf";
	}
	return "unknown";
}

static uint32_t get_u32_or(struct nlattr *a, uint32_t dflt)
{
	return a ? nla_get_u32(a) : dflt;
}

static int32_t get_s32_or(struct nlattr *a, int32_t dflt)
{
	return a ? (int32_t)nla_get_u32(a) : dflt;
}

/*
 * A result is 0 or a negative errno; anything else is a malformed reply
 * and is shown as a protocol error rather than trusted (or negated).
 */
static int32_t get_result(struct nlattr *a)
{
	int32_t r = get_s32_or(a, 0);

	return r > 0 || r < -4095 ? -EPROTO : r;
}

/* Identity is required (and a VF's master); the rest has defaults. */
int netvsc_dev_from_attrs(struct nlattr **tb, struct netvsc_dev *d)
{
	if (!tb[AZL_NETVSC_A_IFINDEX] || !tb[AZL_NETVSC_A_IFNAME] || !tb[AZL_NETVSC_A_KIND])
		return -EBADMSG;
	memset(d, 0, sizeof(*d));
	d->ifindex = nla_get_u32(tb[AZL_NETVSC_A_IFINDEX]);
	nla_strlcpy(d->ifname, tb[AZL_NETVSC_A_IFNAME], sizeof(d->ifname));
	d->kind = nla_get_u8(tb[AZL_NETVSC_A_KIND]);
	if (d->kind == AZL_NETVSC_KIND_VF && !tb[AZL_NETVSC_A_MASTER])
		return -EBADMSG;
	d->master = get_u32_or(tb[AZL_NETVSC_A_MASTER], 0);
	d->numa_node = get_s32_or(tb[AZL_NETVSC_A_NUMA_NODE], -1);
	d->has_channels = tb[AZL_NETVSC_A_CHANNELS] && tb[AZL_NETVSC_A_MAX_CHANNELS];
	d->channels = get_u32_or(tb[AZL_NETVSC_A_CHANNELS], 0);
	d->max_channels = get_u32_or(tb[AZL_NETVSC_A_MAX_CHANNELS], 0);
	d->has_rings = tb[AZL_NETVSC_A_RX_RING] && tb[AZL_NETVSC_A_TX_RING];
	d->rx_ring = get_u32_or(tb[AZL_NETVSC_A_RX_RING], 0);
	d->tx_ring = get_u32_or(tb[AZL_NETVSC_A_TX_RING], 0);
	d->result_channels = get_result(tb[AZL_NETVSC_A_RESULT_CHANNELS]);
	d->result_rings = get_result(tb[AZL_NETVSC_A_RESULT_RINGS]);
	d->result_xps = get_result(tb[AZL_NETVSC_A_RESULT_XPS]);
	d->apply_count = get_u32_or(tb[AZL_NETVSC_A_APPLY_COUNT], 0);
	return 0;
}

/* ALLOWED: a nest of ALLOWED_COUNT u32 entries, each checked here. */
static int parse_allowed(struct nlattr *nest, struct netvsc_policy *p)
{
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != AZL_NETVSC_A_ALLOWED_COUNT || nla_len(a) != sizeof(uint32_t))
			return -EBADMSG;
		if (p->nallowed == AZL_NETVSC_ALLOWED_MAX)
			return -EBADMSG;
		p->allowed[p->nallowed++] = nla_get_u32(a);
	}
	return rem == 0 ? 0 : -EBADMSG;
}

int netvsc_policy_from_attrs(struct nlattr **tb, struct netvsc_policy *p)
{
	static const int required[] = {
		AZL_NETVSC_A_CHANNELS, AZL_NETVSC_A_RX_RING, AZL_NETVSC_A_TX_RING,
		AZL_NETVSC_A_XPS, AZL_NETVSC_A_VF_XPS, AZL_NETVSC_A_ALLOWED,
	};

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!tb[required[i]])
			return -EBADMSG;
	memset(p, 0, sizeof(*p));
	p->channels = nla_get_u32(tb[AZL_NETVSC_A_CHANNELS]);
	p->rx_ring = nla_get_u32(tb[AZL_NETVSC_A_RX_RING]);
	p->tx_ring = nla_get_u32(tb[AZL_NETVSC_A_TX_RING]);
	p->xps = nla_get_u8(tb[AZL_NETVSC_A_XPS]) != 0;
	p->vf_xps = nla_get_u8(tb[AZL_NETVSC_A_VF_XPS]) != 0;
	return parse_allowed(tb[AZL_NETVSC_A_ALLOWED], p);
}

static int decode_dev(struct nlattr **tb, void *item)
{
	return netvsc_dev_from_attrs(tb, item);
}

/* A dump interrupted by a change (a NIC came or went) is retried. */
int netvsc_get_devices(struct genl_client *c, struct netvsc_dev **devs, size_t *n)
{
	void *items;
	int ret = genl_client_dump_all(c, AZL_NETVSC_CMD_GET_DEVICES, sizeof(**devs), decode_dev,
				       &items, n);

	*devs = items;
	return ret;
}

struct policy_reply {
	struct netvsc_policy *p;
	bool seen;
};

static int read_policy(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	struct policy_reply *r = ctx;
	int ret;

	(void)cmd;
	ret = netvsc_policy_from_attrs(tb, r->p);
	if (ret == 0)
		r->seen = true;
	return ret;
}

int netvsc_get_policy(struct genl_client *c, struct netvsc_policy *p)
{
	struct policy_reply r = { p, false };
	struct nl_msg *msg = genl_client_msg(c, AZL_NETVSC_CMD_GET_POLICY, false);
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = genl_client_call(c, msg, read_policy, &r);
	if (ret == 0 && !r.seen)
		return -EBADMSG;	/* an ACK without the policy */
	return ret;
}

static int put_knobs(struct nl_msg *msg, const struct netvsc_policy *p)
{
	if ((p->mask & NETVSC_KNOB_CHANNELS) &&
	    nla_put_u32(msg, AZL_NETVSC_A_CHANNELS, p->channels) < 0)
		return -EMSGSIZE;
	if ((p->mask & NETVSC_KNOB_RX_RING) &&
	    nla_put_u32(msg, AZL_NETVSC_A_RX_RING, p->rx_ring) < 0)
		return -EMSGSIZE;
	if ((p->mask & NETVSC_KNOB_TX_RING) &&
	    nla_put_u32(msg, AZL_NETVSC_A_TX_RING, p->tx_ring) < 0)
		return -EMSGSIZE;
	if ((p->mask & NETVSC_KNOB_XPS) && nla_put_u8(msg, AZL_NETVSC_A_XPS, p->xps) < 0)
		return -EMSGSIZE;
	if ((p->mask & NETVSC_KNOB_VF_XPS) && nla_put_u8(msg, AZL_NETVSC_A_VF_XPS, p->vf_xps) < 0)
		return -EMSGSIZE;
	return 0;
}

int netvsc_set_policy(struct genl_client *c, const struct netvsc_policy *p, uint32_t *applied)
{
	struct nl_msg *msg = genl_client_msg(c, AZL_NETVSC_CMD_SET_POLICY, false);

	*applied = 0;
	if (!msg)
		return -ENOMEM;
	if (put_knobs(msg, p) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return genl_client_call_u32(c, msg, AZL_NETVSC_A_APPLIED_COUNT, applied);
}

static const char *event_name(uint8_t cmd)
{
	switch (cmd) {
	case AZL_NETVSC_CMD_DEV_ADD: return "dev-add";
	case AZL_NETVSC_CMD_DEV_REMOVE: return "dev-remove";
	case AZL_NETVSC_CMD_VF_JOIN: return "vf-join";
	case AZL_NETVSC_CMD_VF_LEAVE: return "vf-leave";
	case AZL_NETVSC_CMD_APPLIED: return "applied";
	}
	return NULL;
}

const char *netvsc_result_name(int32_t r, char *buf, size_t size)
{
	const char *name = r < 0 && r > INT32_MIN ? strerrorname_np(-r) : NULL;

	if (r == 0)
		return "ok";
	if (name)
		return name;
	snprintf(buf, size, "%" PRId32, r);
	return buf;
}

void netvsc_master_name(uint32_t ifindex, const struct netvsc_dev *devs, size_t n, char *buf,
			size_t size)
{
	char name[IF_NAMESIZE];

	for (size_t i = 0; i < n; i++) {
		if (devs[i].ifindex == ifindex) {
			escape_controls(devs[i].ifname, buf, size);
			return;
		}
	}
	if (ifindex && if_indextoname(ifindex, name))
		escape_controls(name, buf, size);
	else
		snprintf(buf, size, "#%" PRIu32, ifindex);
}

int netvsc_event_format(struct nlattr **tb, uint8_t cmd, char *buf, size_t size)
{
	const char *name = event_name(cmd);
	char master[ESCAPED_SIZE(IF_NAMESIZE)], ifname[ESCAPED_SIZE(IF_NAMESIZE)];
	char node[16], r1[16], r2[16], r3[16];
	struct netvsc_dev d;
	size_t n;

	if (!name || netvsc_dev_from_attrs(tb, &d) < 0)
		return -EBADMSG;
	escape_controls(d.ifname, ifname, sizeof(ifname));
	if (d.numa_node < 0)
		snprintf(node, sizeof(node), "none");
	else
		snprintf(node, sizeof(node), "%d", d.numa_node);
	n = (size_t)snprintf(buf, size, "netvsc %s %s", name, ifname);
	if (n < size && d.kind == AZL_NETVSC_KIND_VF) {
		netvsc_master_name(d.master, NULL, 0, master, sizeof(master));
		n += (size_t)snprintf(buf + n, size - n, " master=%s", master);
	}
	if (n < size && cmd == AZL_NETVSC_CMD_APPLIED)
		n += (size_t)snprintf(buf + n, size - n, " kind=%s", netvsc_kind_name(d.kind));
	if (n < size)
		n += (size_t)snprintf(buf + n, size - n, " node=%s", node);
	if (cmd != AZL_NETVSC_CMD_APPLIED || n >= size)
		return 0;
	if (d.has_channels)
		n += (size_t)snprintf(buf + n, size - n, " channels=%u/%u", d.channels,
				      d.max_channels);
	if (n < size && d.has_rings)
		n += (size_t)snprintf(buf + n, size - n, " rings=%u/%u", d.rx_ring, d.tx_ring);
	if (n < size)
		snprintf(buf + n, size - n, " result=channels:%s,rings:%s,xps:%s applies=%u",
			 netvsc_result_name(d.result_channels, r1, sizeof(r1)),
			 netvsc_result_name(d.result_rings, r2, sizeof(r2)),
			 netvsc_result_name(d.result_xps, r3, sizeof(r3)), d.apply_count);
	return 0;
}
