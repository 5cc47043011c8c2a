/* SPDX-License-Identifier: GPL-2.0 */
/*
 * azl_accel internals shared by its files:
 *   main.c     module parameters, matching, the PCI bus notifier, the
 *              device list and the table
 *   netlink.c  the generic netlink family (kmod/include/uapi/azl_accel.h)
 *
 * Lock order: a device's lock, then azl_accel_lock.  The driver core holds
 * the device lock while it sends BUS_NOTIFY_BIND_DRIVER, BOUND_DRIVER,
 * UNBOUND_DRIVER and DRIVER_NOT_BOUND; the walk at load takes it.  The
 * generic netlink handlers and the parameter writes take azl_accel_lock
 * only, never a device lock: a handler runs under genl's cb_lock (read),
 * and a probe holding its device lock may register a genl family, which
 * takes cb_lock for writing.  azl_accel_lock guards the device list, each
 * entry's state and the table, so a table change and a bind never
 * interleave: the bind decides with one table or the other.
 */
#ifndef _AZL_ACCEL_H
#define _AZL_ACCEL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/types.h>

#include "../include/uapi/azl_accel.h"

/* A matched PCI device. */
struct azl_accel_dev {
	struct list_head node;
	struct pci_dev *pdev;		/* holds a reference */
	/*
	 * The node the host gave: numa_node as the last bind found it (a
	 * node this module set does not count); before the first bind,
	 * numa_node as it is (pci-hyperv assigns it after the device is
	 * added, so at BUS_NOTIFY_ADD_DEVICE it is not the host's answer).
	 */
	int host_node;
	int set_node;			/* what the last bind set, or NUMA_NO_NODE */
	bool decided;			/* a bind decided its node (or it was bound at load) */
	bool bound;			/* from BIND_DRIVER to UNBOUND_DRIVER / DRIVER_NOT_BOUND */
	u8 kind;			/* enum azl_accel_kind */
	u8 source;			/* enum azl_accel_source */
	char driver[AZL_ACCEL_DRIVER_LEN]; /* "" until BOUND_DRIVER and after unbinding */
};

/* One entry of the table: PCI domain -> NUMA node. */
struct azl_accel_entry {
	u32 domain;
	int node;
};

extern struct mutex azl_accel_lock;
extern struct list_head azl_accel_devs;
/* Bumped on every change of the device list or of a device's state. */
extern unsigned int azl_accel_generation;

/* main.c; with azl_accel_lock held. */
unsigned int azl_accel_table_copy(struct azl_accel_entry *out);
/* What SET_POLICY and nodes= check of entry @i, given entries 0 to @i - 1. */
enum azl_entry_check {
	AZL_ENTRY_OK,
	AZL_ENTRY_BAD_DOMAIN,		/* above ffff */
	AZL_ENTRY_BAD_NODE,		/* not an online node */
	AZL_ENTRY_DUPLICATE,		/* the domain is there already */
};

enum azl_entry_check azl_accel_entry_check(const struct azl_accel_entry *e,
					   unsigned int i);
/*
 * main.c; takes azl_accel_lock (no device lock).  Replace the table and
 * report what it would change: returns how many present devices without a
 * driver get another node at their next bind.
 */
unsigned int azl_accel_table_replace(const struct azl_accel_entry *e, unsigned int n);

/* netlink.c */
int azl_accel_netlink_init(void);
void azl_accel_netlink_exit(void);
/* With azl_accel_lock held: an event about @d (AZL_ACCEL_CMD_DEV_*, NODE_SET). */
void azl_accel_notify(const struct azl_accel_dev *d, u8 cmd);

#endif /* _AZL_ACCEL_H */
