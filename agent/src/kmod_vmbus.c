// SPDX-License-Identifier: MIT
/* The azl_vmbus family: one dump instead of a walk of /sys/bus/vmbus. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <azl_vmbus.h>

#include "escape.h"
#include "kmod_vmbus.h"

#define VMBUS_MAX_DEVICES 4096

struct nla_policy vmbus_reply_policy[AZL_VMBUS_A_MAX + 1] = {
	[AZL_VMBUS_A_DEV_INSTANCE] = { .type = NLA_UNSPEC, .minlen = 16, .maxlen = 16 },
	[AZL_VMBUS_A_DEV_CLASS] = { .type = NLA_UNSPEC, .minlen = 16, .maxlen = 16 },
	[AZL_VMBUS_A_DEV_CLASS_NAME] = { .type = NLA_STRING, .maxlen = AZL_VMBUS_CLASS_NAME_LEN },
	[AZL_VMBUS_A_DEV_NUMA_NODE] = { .type = NLA_U32 },
	[AZL_VMBUS_A_DEV_DRIVER] = { .type = NLA_STRING, .maxlen = AZL_VMBUS_DRIVER_LEN },
	[AZL_VMBUS_A_CHAN_RELID] = { .type = NLA_U32 },
	[AZL_VMBUS_A_CHAN_SUBCHANNEL] = { .type = NLA_U16 },
	[AZL_VMBUS_A_CHAN_TARGET_CPU] = { .type = NLA_U32 },
	[AZL_VMBUS_A_CHAN_OUT_RING_SIZE] = { .type = NLA_U32 },
	[AZL_VMBUS_A_CHAN_IN_RING_SIZE] = { .type = NLA_U32 },
	[AZL_VMBUS_A_CHAN_OUT_WRITE_AVAIL] = { .type = NLA_U32 },
	[AZL_VMBUS_A_CHAN_IN_READ_AVAIL] = { .type = NLA_U32 },
	[AZL_VMBUS_A_CHAN_INTERRUPTS] = { .type = NLA_U64 },
	[AZL_VMBUS_A_CHAN_EVENTS] = { .type = NLA_U64 },
	[AZL_VMBUS_A_CHAN_OUT_FULL_TOTAL] = { .type = NLA_U64 },
	[AZL_VMBUS_A_CHAN_OUT_FULL_FIRST] = { .type = NLA_U64 },
	[AZL_VMBUS_A_CHAN_INTR_IN_FULL] = { .type = NLA_U64 },
	[AZL_VMBUS_A_CHAN_INTR_OUT_EMPTY] = { .type = NLA_U64 },
	[AZL_VMBUS_A_CHAN_RESCINDED] = { .type = NLA_FLAG },
};

int vmbus_kmod_open(struct genl_client *c)
{
	return genl_client_open(c, AZL_VMBUS_GENL_NAME, AZL_VMBUS_A_MAX, vmbus_reply_policy);
}

void vmbus_guid_format(const uint8_t b[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

static struct vmbus_device_fact *find_or_add_device(struct vmbus_facts *v,
						    const char *instance)
{
	struct vmbus_device_fact *d;

	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->devs[i].instance, instance) == 0)
			return &v->devs[i];
	if (v->n >= VMBUS_MAX_DEVICES)
		return NULL;
	d = realloc(v->devs, (v->n + 1) * sizeof(*d));
	if (!d)
		return NULL;
	v->devs = d;
	d = &v->devs[v->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->instance, sizeof(d->instance), "%s", instance);
	d->relid = -1;
	d->channels_known = true;
	return d;
}

static int add_channel(struct vmbus_device_fact *d, struct nlattr **tb)
{
	uint32_t cpu = nla_get_u32(tb[AZL_VMBUS_A_CHAN_TARGET_CPU]);
	uint32_t relid = nla_get_u32(tb[AZL_VMBUS_A_CHAN_RELID]);
	int ret;

	if (cpu >= CPUSET_MAX || relid > INT_MAX)
		return -ERANGE;
	ret = vmbus_fact_add_channel(d, relid, cpu);
	if (ret == 0 && nla_get_u16(tb[AZL_VMBUS_A_CHAN_SUBCHANNEL]) == 0)
		d->relid = relid;
	return ret;
}

int vmbus_facts_add_message(struct vmbus_facts *v, struct nlattr **tb)
{
	struct vmbus_device_fact *d;
	char instance[37];

	if (!tb[AZL_VMBUS_A_DEV_INSTANCE] || !tb[AZL_VMBUS_A_DEV_CLASS] ||
	    !tb[AZL_VMBUS_A_DEV_NUMA_NODE] || !tb[AZL_VMBUS_A_CHAN_RELID] ||
	    !tb[AZL_VMBUS_A_CHAN_SUBCHANNEL] || !tb[AZL_VMBUS_A_CHAN_TARGET_CPU])
		return -EBADMSG;
	vmbus_guid_format(nla_data(tb[AZL_VMBUS_A_DEV_INSTANCE]), instance);
	d = find_or_add_device(v, instance);
	if (!d)
		return -ENOMEM;
	vmbus_guid_format(nla_data(tb[AZL_VMBUS_A_DEV_CLASS]), d->class_id);
	d->cls = vmbus_class_lookup(d->class_id);
	d->numa_node = (int32_t)nla_get_u32(tb[AZL_VMBUS_A_DEV_NUMA_NODE]);
	if (tb[AZL_VMBUS_A_DEV_DRIVER])
		nla_strlcpy(d->driver, tb[AZL_VMBUS_A_DEV_DRIVER], sizeof(d->driver));
	return add_channel(d, tb);
}

static int on_channel(struct nlattr **tb, uint8_t cmd, void *ctx)
{
	(void)cmd;
	return vmbus_facts_add_message(ctx, tb);
}

static void reset_facts(void *ctx)
{
	vmbus_facts_free(ctx);
}

/* A device that comes or goes mid-dump makes the kernel flag it; retried. */
int vmbus_kmod_read(struct genl_client *c, struct vmbus_facts *v)
{
	return genl_client_dump(c, AZL_VMBUS_CMD_GET_CHANNELS, on_channel, reset_facts, v);
}

static const char *event_name(uint8_t cmd)
{
	switch (cmd) {
	case AZL_VMBUS_CMD_DEVICE_ADD: return "device-add";
	case AZL_VMBUS_CMD_DEVICE_REMOVE: return "device-remove";
	case AZL_VMBUS_CMD_DEVICE_RESCIND: return "device-rescind";
	case AZL_VMBUS_CMD_CHANNEL_ADD: return "channel-add";
	case AZL_VMBUS_CMD_CHANNEL_REMOVE: return "channel-remove";
	case AZL_VMBUS_CMD_CHANNEL_RESCIND: return "channel-rescind";
	}
	return NULL;
}

int vmbus_event_format(struct nlattr **tb, uint8_t cmd, char *buf, size_t size)
{
	const char *name = event_name(cmd);
	char instance[37], cls[AZL_VMBUS_CLASS_NAME_LEN] = "?";
	char shown[ESCAPED_SIZE(AZL_VMBUS_CLASS_NAME_LEN)];
	int n;

	if (!name || !tb[AZL_VMBUS_A_DEV_INSTANCE])
		return -EBADMSG;
	vmbus_guid_format(nla_data(tb[AZL_VMBUS_A_DEV_INSTANCE]), instance);
	if (tb[AZL_VMBUS_A_DEV_CLASS_NAME])
		nla_strlcpy(cls, tb[AZL_VMBUS_A_DEV_CLASS_NAME], sizeof(cls));
	/* The line goes to a terminal or the journal. */
	escape_controls(cls, shown, sizeof(shown));
	n = snprintf(buf, size, "vmbus %s %s class=%s", name, instance, shown);
	if (n >= 0 && (size_t)n < size && tb[AZL_VMBUS_A_CHAN_RELID])
		n += snprintf(buf + n, size - n, " relid=%u sub=%u", nla_get_u32(tb[AZL_VMBUS_A_CHAN_RELID]),
			      tb[AZL_VMBUS_A_CHAN_SUBCHANNEL] ?
			      nla_get_u16(tb[AZL_VMBUS_A_CHAN_SUBCHANNEL]) : 0);
	if (n >= 0 && (size_t)n < size && tb[AZL_VMBUS_A_CHAN_TARGET_CPU])
		snprintf(buf + n, size - n, " cpu=%u", nla_get_u32(tb[AZL_VMBUS_A_CHAN_TARGET_CPU]));
	return 0;
}
