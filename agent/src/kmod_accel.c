// SPDX-License-Identifier: MIT
/* The azl_accel family: decode devices and the NUMA table, push a table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azl_accel.h>

#include "escape.h"
#include "kmod_accel.h"
#include "kmod_accel_internal.h"

/* What a reply may carry; lengths are checked before any nla_get_*(). */
struct nla_policy accel_reply_policy[AZL_ACCEL_A_MAX + 1] = {
	[AZL_ACCEL_A_BDF] = { .type = NLA_STRING, .maxlen = AZL_ACCEL_BDF_LEN },
	[AZL_ACCEL_A_DOMAIN] = { .type = NLA_U32 },
	[AZL_ACCEL_A_VENDOR] = { .type = NLA_U16 },
	[AZL_ACCEL_A_DEVICE] = { .type = NLA_U16 },
	[AZL_ACCEL_A_CLASS] = { .type = NLA_U32 },
	[AZL_ACCEL_A_KIND] = { .type = NLA_U8 },
	[AZL_ACCEL_A_HOST_NODE] = { .type = NLA_U32 },
	[AZL_ACCEL_A_NODE] = { .type = NLA_U32 },
	[AZL_ACCEL_A_SOURCE] = { .type = NLA_U8 },
	[AZL_ACCEL_A_DRIVER] = { .type = NLA_STRING, .maxlen = AZL_ACCEL_DRIVER_LEN },
	/*
	 * Nests, decoded entry by entry.  Not NLA_NESTED: libnl wants at least
	 * an attribute header of payload in one, and the module's NODES of an
	 * empty table has none.
	 */
	[AZL_ACCEL_A_NODES] = { .type = NLA_UNSPEC },
	[AZL_ACCEL_A_NODE_ENTRY] = { .type = NLA_UNSPEC },
	[AZL_ACCEL_A_APPLIED_COUNT] = { .type = NLA_U32 },
};

/* Inside a NODE_ENTRY. */
static struct nla_policy entry_policy[AZL_ACCEL_A_NODE + 1] = {
	[AZL_ACCEL_A_DOMAIN] = { .type = NLA_U32 },
	[AZL_ACCEL_A_NODE] = { .type = NLA_U32 },
};

int accel_open(struct genl_client *c)
{
	return genl_client_open(c, AZL_ACCEL_GENL_NAME, AZL_ACCEL_A_MAX, accel_reply_policy);
}

const char *accel_kind_name(uint8_t kind)
{
	switch (kind) {
	case AZL_ACCEL_KIND_GPU_NVIDIA:
		return "gpu-nvidia";
	case AZL_ACCEL_KIND_HCA:
		return "hca";
	case AZL_ACCEL_KIND_MANA:
		return "mana";
	case AZL_ACCEL_KIND_GPU_AMD:
		return "gpu-amd";
	case AZL_ACCEL_KIND_TEST:
		return "test";
	}
	return "unknown";
}

const char *accel_source_name(uint8_t source)
{
	switch (source) {
	case AZL_ACCEL_SOURCE_HOST:
		return "host";
	case AZL_ACCEL_SOURCE_TABLE:
		return "table";
	case AZL_ACCEL_SOURCE_NONE:
		return "none";
	case AZL_ACCEL_SOURCE_LATE:
		return "late";
	case AZL_ACCEL_SOURCE_PENDING:
		return "pending";
	}
	return "unknown";
}

/* libnl's nla_get_s32 is recent; the policy checked the length. */
static int32_t get_s32(struct nlattr *a)
{
	return (int32_t)nla_get_u32(a);
}

int accel_dev_from_attrs(struct nlattr **tb, struct accel_dev *d)
{
	static const int required[] = {
		AZL_ACCEL_A_BDF, AZL_ACCEL_A_DOMAIN, AZL_ACCEL_A_VENDOR, AZL_ACCEL_A_DEVICE,
		AZL_ACCEL_A_CLASS, AZL_ACCEL_A_KIND, AZL_ACCEL_A_HOST_NODE, AZL_ACCEL_A_NODE,
		AZL_ACCEL_A_SOURCE,
	};

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!tb[required[i]])
			return -EBADMSG;
	memset(d, 0, sizeof(*d));
	/* An empty name would print as nothing: refuse it like a missing one. */
	if (nla_strlcpy(d->bdf, tb[AZL_ACCEL_A_BDF], sizeof(d->bdf)) == 0 || !d->bdf[0])
		return -EBADMSG;
	d->domain = nla_get_u32(tb[AZL_ACCEL_A_DOMAIN]);
	d->vendor = nla_get_u16(tb[AZL_ACCEL_A_VENDOR]);
	d->device = nla_get_u16(tb[AZL_ACCEL_A_DEVICE]);
	d->class_code = nla_get_u32(tb[AZL_ACCEL_A_CLASS]);
	d->kind = nla_get_u8(tb[AZL_ACCEL_A_KIND]);
	d->host_node = get_s32(tb[AZL_ACCEL_A_HOST_NODE]);
	d->node = get_s32(tb[AZL_ACCEL_A_NODE]);
	d->source = nla_get_u8(tb[AZL_ACCEL_A_SOURCE]);
	if (tb[AZL_ACCEL_A_DRIVER])
		nla_strlcpy(d->driver, tb[AZL_ACCEL_A_DRIVER], sizeof(d->driver));
	return 0;
}

static int decode_dev(struct nlattr **tb, void *item)
{
	return accel_dev_from_attrs(tb, item);
}

int accel_get_devices(struct genl_client *c, struct accel_dev **devs, size_t *n)
{
	void *items;
	int ret = genl_client_dump_all(c, AZL_ACCEL_CMD_GET_DEVICES, sizeof(**devs), decode_dev,
				       &items, n);

	*devs = items;
	return ret;
}

/* One NODE_ENTRY; -EBADMSG when it lacks a field or is not one. */
static int decode_entry(struct nlattr *a, struct accel_node_entry *out)
{
	struct nlattr *tb[AZL_ACCEL_A_NODE + 1];

	if (nla_type(a) != AZL_ACCEL_A_NODE_ENTRY ||
	    nla_parse_nested(tb, AZL_ACCEL_A_NODE, a, entry_policy) < 0 ||
	    !tb[AZL_ACCEL_A_DOMAIN] || !tb[AZL_ACCEL_A_NODE])
		return -EBADMSG;
	out->domain = nla_get_u32(tb[AZL_ACCEL_A_DOMAIN]);
	out->node = get_s32(tb[AZL_ACCEL_A_NODE]);
	return 0;
}

int accel_table_from_attrs(struct nlattr **tb, struct accel_node_entry **entries, size_t *n)
{
	struct accel_node_entry *e;
	struct nlattr *a;
	size_t count = 0;
	int rem;

	*entries = NULL;
	*n = 0;
	if (!tb[AZL_ACCEL_A_NODES])
		return -EBADMSG;
	nla_for_each_nested(a, tb[AZL_ACCEL_A_NODES], rem)
		count++;
	if (rem != 0)
		return -EBADMSG;	/* bytes after the last entry */
	if (count > AZL_ACCEL_NODES_MAX)
		return -E2BIG;
	e = calloc(count ? count : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	count = 0;
	nla_for_each_nested(a, tb[AZL_ACCEL_A_NODES], rem) {
		if (decode_entry(a, &e[count]) < 0) {
			free(e);
			return -EBADMSG;
		}
		count++;
	}
	*entries = e;
	*n = count;
	return 0;
}

struct table {
	struct accel_node_entry *e;
	size_t n;
	bool seen;	/* the reply arrived */
};

static int read_table(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	struct table *t = ctx;

	(void)cmd;
	if (t->seen)
		return -EBADMSG;	/* GET_POLICY has one reply */
	t->seen = true;
	return accel_table_from_attrs(tb, &t->e, &t->n);
}

int accel_get_policy(struct genl_client *c, struct accel_node_entry **entries, size_t *n)
{
	struct table t = { NULL, 0, false };
	struct nl_msg *msg = genl_client_msg(c, AZL_ACCEL_CMD_GET_POLICY, false);
	int ret;

	*entries = NULL;
	*n = 0;
	if (!msg)
		return -ENOMEM;
	ret = genl_client_call(c, msg, read_table, &t);
	if (ret == 0 && !t.seen)
		ret = -EBADMSG;
	if (ret < 0) {
		free(t.e);
		return ret;
	}
	*entries = t.e;
	*n = t.n;
	return 0;
}

/* NODES { NODE_ENTRY { DOMAIN, NODE } x n }: 5 KiB for a full table. */
static size_t table_bytes(size_t n)
{
	size_t entry = (size_t)nla_total_size(0) + 2 * (size_t)nla_total_size(sizeof(uint32_t));

	return (size_t)nla_total_size(0) + n * entry;
}

/* The kernel validates strictly: nests must carry NLA_F_NESTED. */
static int put_table(struct nl_msg *msg, const struct accel_node_entry *e, size_t n)
{
	struct nlattr *nodes = nla_nest_start(msg, AZL_ACCEL_A_NODES | NLA_F_NESTED);

	if (!nodes)
		return -EMSGSIZE;
	for (size_t i = 0; i < n; i++) {
		struct nlattr *entry = nla_nest_start(msg, AZL_ACCEL_A_NODE_ENTRY | NLA_F_NESTED);

		if (!entry || nla_put_u32(msg, AZL_ACCEL_A_DOMAIN, e[i].domain) < 0 ||
		    nla_put_u32(msg, AZL_ACCEL_A_NODE, (uint32_t)e[i].node) < 0)
			return -EMSGSIZE;
		nla_nest_end(msg, entry);
	}
	/* An empty NODES clears the table: libnl would drop it otherwise. */
	return nla_nest_end_keep_empty(msg, nodes) < 0 ? -EMSGSIZE : 0;
}

int accel_set_msg(struct genl_client *c, const struct accel_node_entry *entries, size_t n,
		  struct nl_msg **out)
{
	struct nl_msg *msg;

	*out = NULL;
	/* The kernel refuses more too (its own AZL_ACCEL_NODES_MAX). */
	if (n > AZL_ACCEL_NODES_MAX)
		return -E2BIG;
	/* Sized for the table: a full one does not fit in nlmsg_alloc()'s page. */
	msg = genl_client_msg_size(c, AZL_ACCEL_CMD_SET_POLICY, false, table_bytes(n));
	if (!msg)
		return -ENOMEM;
	if (put_table(msg, entries, n) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	*out = msg;
	return 0;
}

int accel_set_policy(struct genl_client *c, const struct accel_node_entry *entries,
		     size_t n, uint32_t *applied)
{
	struct nl_msg *msg;
	int ret;

	*applied = 0;
	ret = accel_set_msg(c, entries, n, &msg);
	if (ret < 0)
		return ret;
	return genl_client_call_u32(c, msg, AZL_ACCEL_A_APPLIED_COUNT, applied);
}

static const char *event_name(uint8_t cmd)
{
	switch (cmd) {
	case AZL_ACCEL_CMD_DEV_ADD:
		return "add";
	case AZL_ACCEL_CMD_DEV_BOUND:
		return "bound";
	case AZL_ACCEL_CMD_DEV_UNBOUND:
		return "unbound";
	case AZL_ACCEL_CMD_DEV_REMOVE:
		return "remove";
	case AZL_ACCEL_CMD_NODE_SET:
		return "node-set";
	}
	return NULL;
}

int accel_event_format(struct nlattr **tb, uint8_t cmd, char *buf, size_t size)
{
	const char *name = event_name(cmd);
	char bdf[ESCAPED_SIZE(AZL_ACCEL_BDF_LEN)], driver[ESCAPED_SIZE(AZL_ACCEL_DRIVER_LEN)];
	struct accel_dev d;
	int n;

	if (!name || accel_dev_from_attrs(tb, &d) < 0)
		return -EBADMSG;
	/* The names reach a terminal or the journal: no control bytes. */
	escape_controls(d.bdf, bdf, sizeof(bdf));
	escape_controls(d.driver, driver, sizeof(driver));
	n = snprintf(buf, size, "accel %s %s %s node %d->%d %s", name, bdf,
		     accel_kind_name(d.kind), (int)d.host_node, (int)d.node,
		     accel_source_name(d.source));
	if (n >= 0 && (size_t)n < size && driver[0])
		snprintf(buf + n, size - n, " driver %s", driver);
	return 0;
}
