/* SPDX-License-Identifier: GPL-2.0 */
/*
 * azl_netvsc internals shared by its three files:
 *   main.c     module parameters, the netdevice notifier, the device list,
 *              the work item
 *   policy.c   the channel counts image validation accepts, which devices
 *              match, and applying channels, rings and XPS to one device
 *   netlink.c  the generic netlink family (kmod/include/uapi/azl_netvsc.h)
 *
 * Locking: RTNL guards everything here (the device list, the policy, the
 * generation counter and azl_netvsc_live).  The notifier and the work run
 * under it; netlink handlers and parameter writes take it (neither is ever
 * called with RTNL held).  Readers that only show the policy use
 * READ_ONCE() and take no lock.
 */
#ifndef _AZL_NETVSC_H
#define _AZL_NETVSC_H

#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/types.h>

#include "../include/uapi/azl_netvsc.h"

/*
 * Every number 0 keeps the kernel's choice.  xps and vf_xps are 0 or 1;
 * 0 means "do not touch the maps" (those set earlier stay).
 */
struct azl_netvsc_policy {
	u32 channels;
	u32 rx_ring;
	u32 tx_ring;
	u32 xps;
	u32 vf_xps;
};

/* Policy knobs, as a change names them. */
#define AZL_KNOB_CHANNELS	BIT(0)
#define AZL_KNOB_RX_RING	BIT(1)
#define AZL_KNOB_TX_RING	BIT(2)
#define AZL_KNOB_XPS		BIT(3)
#define AZL_KNOB_VF_XPS		BIT(4)

/* What one application of the policy to a device does. */
#define AZL_APPLY_CHANNELS	BIT(0)
#define AZL_APPLY_RINGS		BIT(1)
#define AZL_APPLY_XPS		BIT(2)	/* xps on a synthetic NIC, vf_xps on a VF */
#define AZL_APPLY_ALL		(AZL_APPLY_CHANNELS | AZL_APPLY_RINGS | AZL_APPLY_XPS)

enum azl_netvsc_state {
	AZL_DEV_NEW,		/* registered; the work has not looked at it yet */
	AZL_DEV_SYNTHETIC,	/* its driver is match_driver */
	AZL_DEV_VF,		/* its master is a tracked synthetic NIC */
};

struct azl_netvsc_dev {
	struct list_head node;
	/*
	 * No reference is held: the entry is deleted at NETDEV_UNREGISTER,
	 * under RTNL, so an entry on the list is a registered device.
	 */
	struct net_device *dev;
	struct net_device *master;	/* a VF's synthetic NIC, else NULL */
	u8 state;			/* enum azl_netvsc_state */
	unsigned int pending;		/* AZL_APPLY_* the work still has to do */
	int result_channels;		/* 0 or -errno of the last application */
	int result_rings;
	int result_xps;
	u32 apply_count;
	u32 xps_sig;			/* the maps XPS last set, hashed: log changes only */
};

extern struct list_head azl_netvsc_devs;
extern struct azl_netvsc_policy azl_netvsc_policy;
/* Bumped when a device appears in or leaves the dump; dumps check it. */
extern unsigned int azl_netvsc_generation;
/* False before init finished and from the start of exit: nothing queues work. */
extern bool azl_netvsc_live;

/* main.c, RTNL held */
struct azl_netvsc_dev *azl_netvsc_find(const struct net_device *dev);
unsigned int azl_netvsc_policy_changed(unsigned int knobs);

/* policy.c */
unsigned int azl_netvsc_allowed(u32 *set, unsigned int *online);
bool azl_netvsc_channels_allowed(u32 n);
int azl_netvsc_check_channels(u32 n, struct netlink_ext_ack *extack);
bool azl_netvsc_driver_matches(const struct net_device *dev, const char *driver);
void azl_netvsc_apply(struct azl_netvsc_dev *d, unsigned int mask);
int azl_netvsc_read_channels(struct net_device *dev, u32 *cur, u32 *max);
int azl_netvsc_read_rings(struct net_device *dev, u32 *rx, u32 *tx);

/* netlink.c */
int azl_netvsc_netlink_init(void);
void azl_netvsc_netlink_exit(void);
void azl_netvsc_notify(struct azl_netvsc_dev *d, u8 cmd);

#endif /* _AZL_NETVSC_H */
