/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where kernel version differences live (6.1 to 6.18).
 * Module code calls the names defined here and never tests
 * LINUX_VERSION_CODE itself.
 */
#ifndef _AZL_COMPAT_H
#define _AZL_COMPAT_H

#include <linux/version.h>

/*
 * Every module reports the project version (modinfo "version").  The
 * top-level Kbuild passes it from the VERSION file.
 */
#ifndef AZL_VERSION
#define AZL_VERSION "0.0.0"
#endif

/*
 * Generic netlink: genl_info_dump() (6.6) replaced the direct use of
 * genl_dumpit_info(cb)->info.  Nothing here needs request attributes in
 * dumps yet, so only the extack accessor differs: none so far.
 */

/*
 * SCSI upper-level drivers: up to 6.x a driver is a bare struct
 * device_driver passed to scsi_register_driver(); the probe-less
 * observer driver of azl_storvsc uses that form.
 */
#include <scsi/scsi_driver.h>

struct azl_scsi_observer {
	struct device_driver drv;
};

#define AZL_SCSI_OBSERVER_INIT(_name, _probe) \
	{ .drv = { .name = (_name), .probe = (_probe) } }

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
