// SPDX-License-Identifier: GPL-2.0
/*
 * azl_netvsc: give every Hyper-V synthetic NIC (hv_netvsc) and every VF
 * joined to one a policy: channel count, ring sizes, XPS.
 *
 * A netdevice notifier sees devices come and go.  It never calls an
 * ethtool operation: at NETDEV_REGISTER the driver may still be setting
 * the device up (veth, for one, ties the pair together and sets its real
 * queue counts after registering it), and a driver's operations may sleep
 * on its host.  The notifier only records the device and schedules one
 * work item; the work takes RTNL, decides what the device is (the driver
 * bound to its parent device, or its link kind, or its master: no driver
 * operation is called to find out), and applies.
 *
 * A synthetic NIC gets its channel count when it registers and when the
 * policy changes, never otherwise: a later `ethtool -L` by the user stays
 * (Microsoft's image validation changes the count and expects it to stay).
 *
 * Only devices of the initial network namespace are tracked: the agent
 * lives there and names devices by ifindex.  A device moved to another
 * namespace is unregistered from this one, and forgotten.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "../include/azl_compat.h"
#include "azl_netvsc.h"

LIST_HEAD(azl_netvsc_devs);
/* Starts at 1: a dump's consistency check is off while it is 0. */
unsigned int azl_netvsc_generation = 1;
bool azl_netvsc_live;
/* All 0: nothing is touched until a parameter or SET_POLICY says so. */
struct azl_netvsc_policy azl_netvsc_policy;

static void azl_netvsc_work_fn(struct work_struct *work);
static DECLARE_WORK(azl_netvsc_work, azl_netvsc_work_fn);

/* ---- module parameters: the policy ---- */

static char match_driver[32] = "hv_netvsc";
module_param_string(match_driver, match_driver, sizeof(match_driver), 0444);
MODULE_PARM_DESC(match_driver,
		 "NICs to tune: the driver bound to their parent device (default hv_netvsc), or for a device without one its link kind (tests use veth and bridge as stand-ins)");

struct azl_knob {
	u32 *value;
	u32 max;
	unsigned int mask;	/* AZL_KNOB_* */
};

static int azl_knob_set(const char *val, const struct kernel_param *kp)
{
	const struct azl_knob *knob = kp->arg;
	u32 v;
	int ret;

	if (knob->max == 1) {
		bool b;

		ret = kstrtobool(val, &b);
		v = b;
	} else {
		ret = kstrtou32(val, 0, &v);
	}
	if (ret)
		return ret;
	if (v > knob->max)
		return -ERANGE;
	if (knob->mask == AZL_KNOB_CHANNELS) {
		ret = azl_netvsc_check_channels(v, NULL);
		if (ret)
			return ret;
	}
	/*
	 * Under RTNL, like every other policy change: a parameter write and
	 * module exit (which clears azl_netvsc_live under RTNL before it
	 * cancels the work) cannot interleave.
	 */
	rtnl_lock();
	WRITE_ONCE(*knob->value, v);
	azl_netvsc_policy_changed(knob->mask);
	rtnl_unlock();
	return 0;
}

static int azl_knob_get(char *buffer, const struct kernel_param *kp)
{
	const struct azl_knob *knob = kp->arg;

	return sysfs_emit(buffer, "%u\n", READ_ONCE(*knob->value));
}

static const struct kernel_param_ops azl_knob_ops = {
	.set = azl_knob_set,
	.get = azl_knob_get,
};

static struct azl_knob azl_channels_knob = {
	&azl_netvsc_policy.channels, AZL_NETVSC_CHANNELS_MAX, AZL_KNOB_CHANNELS
};
static struct azl_knob azl_rx_ring_knob = {
	&azl_netvsc_policy.rx_ring, AZL_NETVSC_RING_MAX, AZL_KNOB_RX_RING
};
static struct azl_knob azl_tx_ring_knob = {
	&azl_netvsc_policy.tx_ring, AZL_NETVSC_RING_MAX, AZL_KNOB_TX_RING
};
static struct azl_knob azl_xps_knob = { &azl_netvsc_policy.xps, 1, AZL_KNOB_XPS };
static struct azl_knob azl_vf_xps_knob = { &azl_netvsc_policy.vf_xps, 1, AZL_KNOB_VF_XPS };

__MODULE_PARM_TYPE(channels, "uint");
module_param_cb(channels, &azl_knob_ops, &azl_channels_knob, 0644);
MODULE_PARM_DESC(channels,
		 "Combined channels of synthetic NICs, at registration and on change (0 keeps the kernel's, the default; only counts image validation accepts for this VM)");
__MODULE_PARM_TYPE(rx_ring, "uint");
module_param_cb(rx_ring, &azl_knob_ops, &azl_rx_ring_knob, 0644);
MODULE_PARM_DESC(rx_ring, "Receive ring of synthetic NICs (0 keeps the kernel's, the default; max 65535)");
__MODULE_PARM_TYPE(tx_ring, "uint");
module_param_cb(tx_ring, &azl_knob_ops, &azl_tx_ring_knob, 0644);
MODULE_PARM_DESC(tx_ring, "Send ring of synthetic NICs (0 keeps the kernel's, the default; max 65535)");
__MODULE_PARM_TYPE(xps, "bool");
module_param_cb(xps, &azl_knob_ops, &azl_xps_knob, 0644);
MODULE_PARM_DESC(xps,
		 "1: XPS maps transmit queue i of a synthetic NIC to the CPU of VMBus channel i. No effect on hv_netvsc, which never reads XPS (only vf_xps matters there); for drivers that do, such as veth. 0 (default): maps are not touched, earlier ones stay");
__MODULE_PARM_TYPE(vf_xps, "bool");
module_param_cb(vf_xps, &azl_knob_ops, &azl_vf_xps_knob, 0644);
MODULE_PARM_DESC(vf_xps,
		 "1: XPS spreads a VF's transmit queues over the CPUs of its NUMA node (hv_netvsc lets the VF's driver pick, which reads XPS). 0 (default): maps are not touched, its driver's or earlier ones stay");

/* ---- the device list (RTNL) ---- */

struct azl_netvsc_dev *azl_netvsc_find(const struct net_device *dev)
{
	struct azl_netvsc_dev *d;

	list_for_each_entry(d, &azl_netvsc_devs, node)
		if (d->dev == dev)
			return d;
	return NULL;
}

static struct azl_netvsc_dev *azl_dev_add(struct net_device *dev)
{
	struct azl_netvsc_dev *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return NULL;
	d->dev = dev;
	d->state = AZL_DEV_NEW;
	list_add_tail(&d->node, &azl_netvsc_devs);
	return d;
}

static void azl_dev_free(struct azl_netvsc_dev *d)
{
	if (d->state != AZL_DEV_NEW)
		azl_netvsc_generation++;
	list_del(&d->node);
	kfree(d);
}

static void azl_schedule(void)
{
	if (azl_netvsc_live)
		queue_work(system_wq, &azl_netvsc_work);
}

/*
 * @d joins the synthetic NIC @master as its VF.  With xps on, the NIC's
 * XPS is applied again too: the host re-adds VFs after servicing.  The
 * caller makes sure the work runs.
 */
static void azl_make_vf(struct azl_netvsc_dev *d, struct net_device *master)
{
	struct azl_netvsc_dev *m = azl_netvsc_find(master);

	d->state = AZL_DEV_VF;
	d->master = master;
	d->pending |= AZL_APPLY_XPS;
	azl_netvsc_generation++;
	if (m && azl_netvsc_policy.xps)
		m->pending |= AZL_APPLY_XPS;
	azl_netvsc_notify(d, AZL_NETVSC_CMD_VF_JOIN);
}

static void azl_vf_leave(struct azl_netvsc_dev *d)
{
	azl_netvsc_notify(d, AZL_NETVSC_CMD_VF_LEAVE);
	azl_dev_free(d);
}

/* What a change of @knobs means for @d. */
static unsigned int azl_apply_mask(const struct azl_netvsc_dev *d, unsigned int knobs)
{
	unsigned int mask = 0;

	if (d->state == AZL_DEV_VF)
		return knobs & AZL_KNOB_VF_XPS ? AZL_APPLY_XPS : 0;
	if (d->state != AZL_DEV_SYNTHETIC)
		return 0;	/* gets everything when the work classifies it */
	if (knobs & AZL_KNOB_CHANNELS)
		mask |= AZL_APPLY_CHANNELS;
	if (knobs & (AZL_KNOB_RX_RING | AZL_KNOB_TX_RING))
		mask |= AZL_APPLY_RINGS;
	if (knobs & AZL_KNOB_XPS)
		mask |= AZL_APPLY_XPS;
	return mask;
}

/* The policy changed: queue every device it concerns; returns how many. */
unsigned int azl_netvsc_policy_changed(unsigned int knobs)
{
	struct azl_netvsc_dev *d;
	unsigned int n = 0, mask;

	if (!azl_netvsc_live)
		return 0;
	list_for_each_entry(d, &azl_netvsc_devs, node) {
		mask = azl_apply_mask(d, knobs);
		if (!mask)
			continue;
		d->pending |= mask;
		n++;
	}
	if (n)
		azl_schedule();
	return n;
}

/* ---- the notifier: record, never apply ---- */

static void azl_on_register(struct net_device *dev)
{
	if (!net_eq(dev_net(dev), &init_net) || !azl_netvsc_live || azl_netvsc_find(dev))
		return;
	if (azl_dev_add(dev))
		azl_schedule();
}

static void azl_on_changeupper(struct net_device *dev,
			       const struct netdev_notifier_changeupper_info *info)
{
	struct azl_netvsc_dev *d = azl_netvsc_find(dev), *up;

	if (!info->master || !azl_netvsc_live)
		return;
	if (!info->linking) {
		if (d && d->state == AZL_DEV_VF && d->master == info->upper_dev)
			azl_vf_leave(d);
		return;
	}
	up = azl_netvsc_find(info->upper_dev);
	if (!up || (d && d->state != AZL_DEV_NEW))
		return;
	if (up->state == AZL_DEV_NEW) {
		/* The work classifies the master first, then looks at us. */
		if (!d && azl_dev_add(dev))
			azl_schedule();
		return;
	}
	if (up->state != AZL_DEV_SYNTHETIC)
		return;
	if (!d)
		d = azl_dev_add(dev);
	if (d) {
		azl_make_vf(d, info->upper_dev);
		azl_schedule();
	}
}

static void azl_on_unregister(struct net_device *dev)
{
	struct azl_netvsc_dev *d = azl_netvsc_find(dev), *v, *tmp;

	if (!d)
		return;
	if (d->state == AZL_DEV_SYNTHETIC) {
		/* Its driver unlinks VFs first; in case one is left: */
		list_for_each_entry_safe(v, tmp, &azl_netvsc_devs, node)
			if (v->state == AZL_DEV_VF && v->master == dev)
				azl_vf_leave(v);
		azl_netvsc_notify(d, AZL_NETVSC_CMD_DEV_REMOVE);
	} else if (d->state == AZL_DEV_VF) {
		azl_netvsc_notify(d, AZL_NETVSC_CMD_VF_LEAVE);
	}
	azl_dev_free(d);
}

static int azl_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	switch (event) {
	case NETDEV_REGISTER:
		azl_on_register(dev);
		break;
	case NETDEV_CHANGEUPPER:
		azl_on_changeupper(dev, ptr);
		break;
	case NETDEV_UNREGISTER:
		azl_on_unregister(dev);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block azl_netdev_nb = {
	.notifier_call = azl_netdev_event,
};

/* ---- the work: classify, then apply ---- */

static void azl_classify(void)
{
	struct azl_netvsc_dev *d, *tmp;
	struct net_device *master;
	struct azl_netvsc_dev *m;

	/* Synthetic NICs first, so a VF seen in the same pass finds its master. */
	list_for_each_entry(d, &azl_netvsc_devs, node) {
		if (d->state != AZL_DEV_NEW ||
		    !azl_netvsc_driver_matches(d->dev, match_driver))
			continue;
		d->state = AZL_DEV_SYNTHETIC;
		d->pending = AZL_APPLY_ALL;
		azl_netvsc_generation++;
		azl_netvsc_notify(d, AZL_NETVSC_CMD_DEV_ADD);
	}
	/*
	 * A VF that was linked before we saw it (at load, or while its
	 * master was still unclassified); anything else is of no interest.
	 */
	list_for_each_entry_safe(d, tmp, &azl_netvsc_devs, node) {
		if (d->state != AZL_DEV_NEW)
			continue;
		master = netdev_master_upper_dev_get(d->dev);
		m = master ? azl_netvsc_find(master) : NULL;
		if (m && m->state == AZL_DEV_SYNTHETIC)
			azl_make_vf(d, master);
		else
			azl_dev_free(d);
	}
}

/*
 * Why this is safe against unregistration and module exit:
 *  - the list changes only under RTNL, and the work holds RTNL for its
 *    whole run.  A device's entry is deleted at its NETDEV_UNREGISTER,
 *    which runs under RTNL too, so every entry the work sees is a
 *    registered device, and none goes away while the work uses it (the
 *    reg_state test below only documents that).
 *  - work is queued only under RTNL and only while azl_netvsc_live.  Exit
 *    clears azl_netvsc_live under RTNL first; after that nothing queues the
 *    work (notifier, parameter writes and SET_POLICY all test the flag
 *    under RTNL), a work already queued returns at once, and exit's
 *    cancel_work_sync() waits for one that runs.  Unregistering the
 *    notifier replays NETDEV_UNREGISTER for every device, which empties
 *    the list; the family goes last, after the work can no longer send.
 */
static void azl_netvsc_work_fn(struct work_struct *work)
{
	struct azl_netvsc_dev *d;
	unsigned int mask;

	rtnl_lock();
	if (!azl_netvsc_live)
		goto out;
	azl_classify();
	list_for_each_entry(d, &azl_netvsc_devs, node) {
		if (d->dev->reg_state != NETREG_REGISTERED || !d->pending)
			continue;
		mask = d->pending;
		d->pending = 0;
		azl_netvsc_apply(d, mask);
	}
out:
	rtnl_unlock();
}

/* ---- load and unload ---- */

static void azl_free_all(void)
{
	struct azl_netvsc_dev *d, *tmp;

	rtnl_lock();
	list_for_each_entry_safe(d, tmp, &azl_netvsc_devs, node)
		azl_dev_free(d);
	rtnl_unlock();
}

static void azl_stop(void)
{
	rtnl_lock();
	azl_netvsc_live = false;
	rtnl_unlock();
}

static int __init azl_netvsc_init(void)
{
	u32 allowed[AZL_NETVSC_ALLOWED_MAX];
	unsigned int n, i, online;
	char set[48];
	int ret, len = 0;

	ret = azl_netvsc_netlink_init();
	if (ret)
		return ret;
	rtnl_lock();
	azl_netvsc_live = true;
	rtnl_unlock();
	/* Replays NETDEV_REGISTER for the devices that are there already. */
	ret = register_netdevice_notifier(&azl_netdev_nb);
	if (ret) {
		azl_stop();
		cancel_work_sync(&azl_netvsc_work);
		azl_free_all();
		azl_netvsc_netlink_exit();
		return ret;
	}
	n = azl_netvsc_allowed(allowed, &online);
	for (i = 0; i < n; i++)
		len += scnprintf(set + len, sizeof(set) - len, "%s%u", i ? "," : "", allowed[i]);
	pr_info("tuning NICs of driver \"%s\": channels %u (allowed with %u CPUs: %s), rx_ring %u, tx_ring %u, xps %u, vf_xps %u (0 keeps the kernel's)\n",
		match_driver, azl_netvsc_policy.channels, online, set,
		azl_netvsc_policy.rx_ring, azl_netvsc_policy.tx_ring,
		azl_netvsc_policy.xps, azl_netvsc_policy.vf_xps);
	return 0;
}

static void __exit azl_netvsc_exit(void)
{
	/* The order is the one the comment above azl_netvsc_work_fn() explains. */
	azl_stop();
	unregister_netdevice_notifier(&azl_netdev_nb);
	cancel_work_sync(&azl_netvsc_work);
	azl_free_all();
	azl_netvsc_netlink_exit();
}

module_init(azl_netvsc_init);
module_exit(azl_netvsc_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("azl-guest developers");
MODULE_DESCRIPTION("Channel, ring and XPS policy for Hyper-V synthetic NICs and their VFs");
MODULE_VERSION(AZL_VERSION);
