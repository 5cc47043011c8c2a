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

#endif /* _AZL_COMPAT_H */
