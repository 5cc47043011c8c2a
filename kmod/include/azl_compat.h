/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where kernel version differences live (6.1 to 6.18).
 * Module code calls the names defined here and never tests
 * LINUX_VERSION_CODE itself.
 */
#ifndef _AZL_COMPAT_H
#define _AZL_COMPAT_H

/*
 * Every module reports the project version (modinfo "version").  The
 * top-level Kbuild passes it from the VERSION file.
 */
#ifndef AZL_VERSION
#define AZL_VERSION "0.0.0"
#endif

/*
 * What was checked and needs no shim (6.1, 6.12, 6.18):
 *  - generic netlink: genl_ops with a policy and maxattr per op,
 *    mcgrps, genl_has_listeners(), genlmsg_multicast(), cb->args[].
 *    (Dump request attributes differ: genl_dumpit_info() in 6.1,
 *    genl_info_dump() from 6.6; no dump here reads request attributes.)
 *  - bus_register_notifier()/bus_for_each_dev() take a const bus from
 *    6.3 and a plain one before; the modules pass the driver's own .bus
 *    field, whose type follows the same change, so no cast is needed.
 *  - hv_driver.remove became void in 6.3: azl_vmbus never binds a
 *    device and has no remove callback.
 *  - no symbol used lives in a symbol namespace (MODULE_IMPORT_NS quoting
 *    changed in 6.13), and no timer API is used (renamed 6.15/6.16).
 */

/*
 * SCSI upper-level drivers: through 6.18 a driver is a bare struct
 * device_driver passed to scsi_register_driver(), which points its .bus
 * at the unexported scsi_bus_type.  (Past 6.18 registration takes a
 * struct scsi_driver with its own probe; this is where that shim goes.)
 */
#include <scsi/scsi_driver.h>

struct azl_scsi_observer {
	struct device_driver drv;
};

#define AZL_SCSI_OBSERVER_INIT(_name, _probe) \
	{ .drv = { .name = (_name), .owner = THIS_MODULE, .probe = (_probe), \
		   .suppress_bind_attrs = true } }

static inline int azl_scsi_observer_register(struct azl_scsi_observer *o)
{
	return scsi_register_driver(&o->drv);
}

static inline void azl_scsi_observer_unregister(struct azl_scsi_observer *o)
{
	driver_unregister(&o->drv);
}

/* The SCSI bus, which scsi_bus_type would name if it were exported. */
#define azl_scsi_observer_bus(o) ((o)->drv.bus)

/* ---- azl_netvsc ---- */
/*
 * Checked against the 6.1 and 6.12 headers, no shim needed:
 *  - ethtool_ops get_drvinfo, begin/complete, get/set_channels, and
 *    get/set_ringparam with struct kernel_ethtool_ringparam and an extack
 *    (the same four-argument form since 5.17);
 *  - ethtool_notify() (exported in both; called after a change, as the
 *    ethtool core does), netif_set_xps_queue(), xsk_get_pool_from_qid(),
 *    netdev_master_upper_dev_get(), netdev_notifier_changeupper_info,
 *    register/unregister_netdevice_notifier() replaying REGISTER and
 *    UNREGISTER, struct hv_device.channels_kset.
 * The netdev instance lock is below (azl_netdev_lock_ops()).
 *
 * Formatted extack messages (NL_SET_ERR_MSG_FMT, up to 80 characters)
 * came in 6.2; before, the request gets the fixed @fallback text (the
 * arguments are still type-checked).
 */
#include <linux/netlink.h>

#ifdef NL_SET_ERR_MSG_FMT
#define AZL_SET_ERR_MSG_FMT(extack, fallback, fmt, args...) \
	NL_SET_ERR_MSG_FMT(extack, fmt, ##args)
#else
#define AZL_SET_ERR_MSG_FMT(extack, fallback, fmt, args...) do {	\
	if (0)								\
		no_printk(fmt, ##args);					\
	NL_SET_ERR_MSG(extack, fallback);				\
} while (0)
#endif

/* ---- azl_netvsc: the netdev instance lock (6.15) ---- */
/*
 * From 6.15 the ethtool core calls a driver's ethtool operations (begin
 * to complete) with netdev_lock_ops() held as well as RTNL, and drivers
 * that ask for that lock (queue management or shaper ops, or
 * request_ops_lock; mlx5 among them) change their queues under it.  It
 * lives in <net/netdev_lock.h>, which 6.15 added together with it, and
 * takes dev->lock only for those drivers.  Before 6.15 there is no such
 * lock: RTNL alone, so the shim does nothing.  Take it after RTNL, as the
 * core does.  The test is on the header, not the version, so a distribution
 * kernel with the lock backported gets it too.
 */
#if __has_include(<net/netdev_lock.h>)
#include <net/netdev_lock.h>

static inline void azl_netdev_lock_ops(struct net_device *dev)
{
	netdev_lock_ops(dev);
}

static inline void azl_netdev_unlock_ops(struct net_device *dev)
{
	netdev_unlock_ops(dev);
}
#else
struct net_device;

static inline void azl_netdev_lock_ops(struct net_device *dev)
{
}

static inline void azl_netdev_unlock_ops(struct net_device *dev)
{
}
#endif

/* ---- azl_accel ---- */
/*
 * Checked against the 6.1 and 6.12 headers, no shim needed:
 *  - pci_bus_type became const in 6.4; bus_register_notifier() and
 *    bus_for_each_dev() take it as it is declared in either.
 *  - BUS_NOTIFY_ADD_DEVICE before bus_probe_device(), BOUND_DRIVER and
 *    UNBOUND_DRIVER under the device lock, DEL_DEVICE and REMOVED_DEVICE;
 *    PCI's match_driver gate until pci_bus_add_device().
 *  - pci_find_host_bridge() (EXPORT_SYMBOL_GPL), set_dev_node(),
 *    node_online(), NLA_POLICY_NESTED(), nla_put_s32(), nla_parse_nested()
 *    (strict), sysfs_emit_at(), kmemdup_nul().
 * Not checked past 6.12: the driver core's iterator callbacks (the one
 * bus_for_each_dev() takes) were being constified after 6.12; that shim
 * goes here.
 */

#endif /* _AZL_COMPAT_H */
