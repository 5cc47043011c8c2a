// SPDX-License-Identifier: GPL-2.0
/*
 * The "azl_vmbus" generic netlink family; the contract is documented in
 * kmod/include/uapi/azl_vmbus.h.  The dump sends channel snapshots
 * (inventory.c); ring figures come from hv_ringbuffer_get_debuginfo(),
 * which takes the ring's own mutex and refuses a closed channel.
 */
#include <linux/hyperv.h>
#include <linux/slab.h>
#include <net/genetlink.h>

#include "../include/azl_compat.h"
#include "../include/azl_genl.h"
#include "../include/uapi/azl_vmbus.h"
#include "azl_vmbus.h"

/*
 * The dump takes no filter yet: an attribute is refused, not ignored, so a
 * later version can add one and a caller can tell whether it is understood.
 * (Replies and events carry the attributes of the uapi header.)
 */
static const struct nla_policy azl_dump_policy_nl[AZL_VMBUS_A_DEV_INSTANCE + 1] = {
	[AZL_VMBUS_A_DEV_INSTANCE]	= { .type = NLA_REJECT },
};

static struct genl_family azl_vmbus_family;

enum { AZL_VMBUS_MCGRP_EVENTS_IDX };

static const struct genl_multicast_group azl_vmbus_mcgrps[] = {
	[AZL_VMBUS_MCGRP_EVENTS_IDX] = { .name = AZL_VMBUS_MCGRP_EVENTS },
};

/* What sysfs numa_node shows: the node of the primary channel's CPU. */
static int azl_device_node(struct hv_device *hdev)
{
	return cpu_to_node(READ_ONCE(hdev->channel->target_cpu));
}

static int azl_put_device(struct sk_buff *skb, struct azl_vmbus_dev *d)
{
	struct hv_device *hdev = d->hdev;

	if ((d->driver[0] && nla_put_string(skb, AZL_VMBUS_A_DEV_DRIVER, d->driver)) ||
	    nla_put(skb, AZL_VMBUS_A_DEV_INSTANCE, sizeof(guid_t), &hdev->dev_instance) ||
	    nla_put(skb, AZL_VMBUS_A_DEV_CLASS, sizeof(guid_t), &hdev->dev_type) ||
	    nla_put_string(skb, AZL_VMBUS_A_DEV_CLASS_NAME, azl_vmbus_class_name(hdev)) ||
	    nla_put_s32(skb, AZL_VMBUS_A_DEV_NUMA_NODE, azl_device_node(hdev)))
		return -EMSGSIZE;
	return 0;
}

static int azl_put_u64(struct sk_buff *skb, int type, u64 value)
{
	return nla_put_u64_64bit(skb, type, value, AZL_VMBUS_A_PAD);
}

/* Ring figures only for an open channel: the ring exists only then. */
static int azl_put_rings(struct sk_buff *skb, struct hv_device *hdev,
			 const struct azl_vmbus_chan_snap *c)
{
	u32 write_avail, read_avail;

	if (c->rescind || azl_vmbus_ring_avail(hdev, c->relid, &write_avail, &read_avail))
		return 0;
	if (nla_put_u32(skb, AZL_VMBUS_A_CHAN_OUT_RING_SIZE, c->out_ring_size) ||
	    nla_put_u32(skb, AZL_VMBUS_A_CHAN_IN_RING_SIZE, c->in_ring_size) ||
	    nla_put_u32(skb, AZL_VMBUS_A_CHAN_OUT_WRITE_AVAIL, write_avail) ||
	    nla_put_u32(skb, AZL_VMBUS_A_CHAN_IN_READ_AVAIL, read_avail))
		return -EMSGSIZE;
	return 0;
}

static int azl_put_channel(struct sk_buff *skb, struct hv_device *hdev,
			   const struct azl_vmbus_chan_snap *c)
{
	if (nla_put_u32(skb, AZL_VMBUS_A_CHAN_RELID, c->relid) ||
	    nla_put_u16(skb, AZL_VMBUS_A_CHAN_SUBCHANNEL, c->subchannel) ||
	    nla_put_u32(skb, AZL_VMBUS_A_CHAN_TARGET_CPU, c->target_cpu) ||
	    azl_put_rings(skb, hdev, c) ||
	    azl_put_u64(skb, AZL_VMBUS_A_CHAN_INTERRUPTS, c->interrupts) ||
	    azl_put_u64(skb, AZL_VMBUS_A_CHAN_EVENTS, c->sig_events) ||
	    azl_put_u64(skb, AZL_VMBUS_A_CHAN_OUT_FULL_TOTAL, c->out_full_total) ||
	    azl_put_u64(skb, AZL_VMBUS_A_CHAN_OUT_FULL_FIRST, c->out_full_first) ||
	    azl_put_u64(skb, AZL_VMBUS_A_CHAN_INTR_IN_FULL, c->intr_in_full) ||
	    azl_put_u64(skb, AZL_VMBUS_A_CHAN_INTR_OUT_EMPTY, c->intr_out_empty) ||
	    (c->rescind && nla_put_flag(skb, AZL_VMBUS_A_CHAN_RESCINDED)))
		return -EMSGSIZE;
	return 0;
}

void azl_vmbus_notify_device(struct azl_vmbus_dev *d, u8 cmd)
{
	azl_vmbus_notify_channel(d, cmd, NULL, NULL);
}

/* One event message; the caller drops @skb on an error. */
static int azl_fill_event(struct sk_buff *skb, struct azl_vmbus_dev *d, u8 cmd,
			  const struct azl_vmbus_chan_id *id,
			  const struct azl_vmbus_chan_snap *snap)
{
	void *hdr = azl_genl_put(skb, NULL, &azl_vmbus_family, cmd);

	if (!hdr || azl_put_device(skb, d) ||
	    (id && (nla_put_u32(skb, AZL_VMBUS_A_CHAN_RELID, id->relid) ||
		    nla_put_u16(skb, AZL_VMBUS_A_CHAN_SUBCHANNEL, id->subchannel))) ||
	    (snap && nla_put_u32(skb, AZL_VMBUS_A_CHAN_TARGET_CPU, snap->target_cpu)))
		return -EMSGSIZE;
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * A device event when @id is NULL; a channel event otherwise, where @snap
 * may be NULL (the channel is gone) and the identity comes from @id only.
 */
void azl_vmbus_notify_channel(struct azl_vmbus_dev *d, u8 cmd,
			      const struct azl_vmbus_chan_id *id,
			      const struct azl_vmbus_chan_snap *snap)
{
	struct sk_buff *skb;

	azl_genl_notify(&azl_vmbus_family, AZL_VMBUS_MCGRP_EVENTS_IDX, skb,
			azl_fill_event(skb, d, cmd, id, snap));
}

static int azl_fill_channel(struct sk_buff *skb, struct netlink_callback *cb,
			    struct azl_vmbus_dev *d, const struct azl_vmbus_chan_snap *c)
{
	void *hdr = azl_genl_put(skb, cb, &azl_vmbus_family, AZL_VMBUS_CMD_GET_CHANNELS);

	if (!hdr)
		return -EMSGSIZE;
	if (azl_put_device(skb, d) || azl_put_channel(skb, d->hdev, c)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* Fill from channel cb->args[1] of @d on; -EMSGSIZE when the skb is full. */
static int azl_dump_device(struct sk_buff *skb, struct netlink_callback *cb,
			   struct azl_vmbus_dev *d, struct azl_vmbus_chan_snap *snap)
{
	int n = azl_vmbus_snapshot(d->hdev, snap);
	int ret = 0;

	for (; cb->args[1] < n; cb->args[1]++) {
		ret = azl_fill_channel(skb, cb, d, &snap[cb->args[1]]);
		if (ret)
			break;
	}
	return ret;
}

/*
 * cb->args[0]: device index, cb->args[1]: channel index within it.  Every
 * part first compares the inventory with the bus (azl_vmbus_rescan()), so
 * a device or channel that came or went between parts changes the
 * generation, and cb->seq makes the core flag the dump NLM_F_DUMP_INTR:
 * the reader retries instead of trusting shifted indices.
 */
static int azl_dump_channels(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct azl_vmbus_chan_snap *snap = azl_vmbus_snapshot_alloc();
	struct azl_vmbus_dev *d;
	long i = 0;
	int ret = 0;

	if (!snap)
		return -ENOMEM;
	mutex_lock(&azl_vmbus_lock);
	list_for_each_entry(d, &azl_vmbus_devs, node)
		azl_vmbus_rescan(d);
	cb->seq = azl_vmbus_generation;
	list_for_each_entry(d, &azl_vmbus_devs, node) {
		if (i++ < cb->args[0])
			continue;
		ret = azl_dump_device(skb, cb, d, snap);
		if (ret)
			break;
		cb->args[0]++;
		cb->args[1] = 0;
	}
	mutex_unlock(&azl_vmbus_lock);
	kvfree(snap);
	return azl_genl_dump_done(skb, ret);
}

static const struct genl_ops azl_vmbus_ops[] = {
	{
		.cmd	= AZL_VMBUS_CMD_GET_CHANNELS,
		.dumpit	= azl_dump_channels,
		.policy	= azl_dump_policy_nl,
		.maxattr = ARRAY_SIZE(azl_dump_policy_nl) - 1,
	},
};

static struct genl_family azl_vmbus_family __ro_after_init = {
	.name		= AZL_VMBUS_GENL_NAME,
	.version	= AZL_VMBUS_GENL_VERSION,
	.module		= THIS_MODULE,
	.ops		= azl_vmbus_ops,
	.n_ops		= ARRAY_SIZE(azl_vmbus_ops),
	/*
	 * resv_start_op stays 0: every command is new, so the core checks
	 * the reserved header field and validates attributes strictly.
	 */
	.mcgrps		= azl_vmbus_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(azl_vmbus_mcgrps),
	.parallel_ops	= true,
};

int azl_vmbus_netlink_init(void)
{
	return genl_register_family(&azl_vmbus_family);
}

void azl_vmbus_netlink_exit(void)
{
	genl_unregister_family(&azl_vmbus_family);
}
