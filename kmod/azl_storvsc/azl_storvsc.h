/* SPDX-License-Identifier: GPL-2.0 */
/*
 * azl_storvsc internals shared by its three files:
 *   main.c     module parameters, the SCSI bus observer, the device list
 *   policy.c   policy layers (default, controller, LUN) and applying them
 *   netlink.c  the generic netlink family (kmod/include/uapi/azl_storvsc.h)
 *
 * One mutex, azl_storvsc_lock, guards the device list, the rules and the
 * default policy, so a policy change and a device arriving can never
 * interleave: a disk always ends up with the newest policy.
 */
#ifndef _AZL_STORVSC_H
#define _AZL_STORVSC_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <scsi/scsi_device.h>

/* Knob values are seconds / a depth; 0 means "keep the kernel's choice". */
struct azl_storvsc_policy {
	u32 timeout;
	u32 eh_timeout;
	u32 queue_depth;
};

/* A SCSI device of a matched host, with the values the kernel chose. */
struct azl_storvsc_dev {
	struct list_head node;
	struct scsi_device *sdev;	/* holds a reference on sdev_gendev */
	u32 orig_timeout;		/* jiffies */
	u32 orig_eh_timeout;		/* jiffies */
	u32 orig_queue_depth;
	u8 source;			/* enum azl_storvsc_source */
};

extern struct mutex azl_storvsc_lock;
extern struct list_head azl_storvsc_devs;
extern struct azl_storvsc_policy azl_storvsc_default;
/* Bumped on every change of the device list or the rules; dumps check it. */
extern unsigned int azl_storvsc_generation;

/* Which knobs a change touches. */
#define AZL_KNOB_TIMEOUT	BIT(0)
#define AZL_KNOB_EH_TIMEOUT	BIT(1)
#define AZL_KNOB_QUEUE_DEPTH	BIT(2)
#define AZL_KNOB_ALL		(AZL_KNOB_TIMEOUT | AZL_KNOB_EH_TIMEOUT | AZL_KNOB_QUEUE_DEPTH)

/*
 * policy.c; all with azl_storvsc_lock held.  Only the knobs in @mask are
 * written, so a change of one knob never undoes what udev, an
 * administrator or the SCSI core set on another.
 */
void azl_storvsc_apply(struct azl_storvsc_dev *d, unsigned int mask);
unsigned int azl_storvsc_reapply(bool all_hosts, u32 host, bool has_lun, u64 lun,
				 unsigned int mask);
int azl_storvsc_rule_set(u32 host, bool has_lun, u64 lun,
			 const struct azl_storvsc_policy *p, unsigned int mask);
/* Returns the knobs the deleted rule had set, or -ENOENT. */
int azl_storvsc_rule_del(u32 host, bool has_lun, u64 lun);
void azl_storvsc_rules_drop_host(u32 host);
void azl_storvsc_rules_free(void);
int azl_storvsc_rules_walk(unsigned long skip,
			   int (*fn)(void *ctx, u32 host, bool has_lun, u64 lun,
				     const struct azl_storvsc_policy *p),
			   void *ctx);
void azl_storvsc_policy_merge(struct azl_storvsc_policy *dst,
			      const struct azl_storvsc_policy *src,
			      unsigned int mask);

/* main.c: true when @host is an existing host of the matched template. */
bool azl_storvsc_host_exists(u32 host);

/* netlink.c */
int azl_storvsc_netlink_init(void);
void azl_storvsc_netlink_exit(void);
void azl_storvsc_notify_applied(struct azl_storvsc_dev *d);

#endif /* _AZL_STORVSC_H */
