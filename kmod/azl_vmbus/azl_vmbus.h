/* SPDX-License-Identifier: GPL-2.0 */
/*
 * azl_vmbus internals shared by its three files:
 *   main.c       the observer VMBus driver, the bus notifier, module glue
 *   inventory.c  the device list, channel snapshots and channel events
 *   netlink.c    the generic netlink family (kmod/include/uapi/azl_vmbus.h)
 *
 * azl_vmbus_lock guards the device list and each device's known-channel
 * set.  Under it the module takes only its own allocations, the kset's
 * list_lock and, for ring figures, a ring's own mutex; never a lock of the
 * VMBus core.
 */
#ifndef _AZL_VMBUS_H
#define _AZL_VMBUS_H

#include <linux/hyperv.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "../include/uapi/azl_vmbus.h"

/* More than any VMBus device offers (netvsc: 64 + 1, storvsc: CPUs / 4 + 1). */
#define AZL_VMBUS_MAX_CHANNELS 512

/* What a channel looked like at one walk, copied under the kset's lock. */
struct azl_vmbus_chan_snap {
	u32 relid;
	u16 subchannel;
	bool rescind;
	u32 target_cpu;
	u32 out_ring_size, in_ring_size;
	u64 interrupts, sig_events;
	u64 out_full_total, out_full_first;
	u64 intr_in_full, intr_out_empty;
};

struct azl_vmbus_chan_id {
	u32 relid;
	u16 subchannel;
	bool rescind_sent;
};

struct azl_vmbus_dev {
	struct list_head node;
	struct hv_device *hdev;		/* holds a reference on hdev->device */
	struct delayed_work settle;	/* rescans while sub-channels arrive */
	unsigned int settle_step;
	bool gone;			/* unlinked; the settle work must stop */
	char driver[AZL_VMBUS_DRIVER_LEN]; /* copied while the device lock is held */
	struct azl_vmbus_chan_id *known;
	unsigned int nr_known;
};

extern struct mutex azl_vmbus_lock;
extern struct list_head azl_vmbus_devs;
extern unsigned int azl_vmbus_generation;	/* bumped on every change */

/* inventory.c */
void azl_vmbus_track(struct hv_device *hdev);
void azl_vmbus_untrack(struct hv_device *hdev);
void azl_vmbus_kick(struct hv_device *hdev);
void azl_vmbus_driver_changed(struct hv_device *hdev);
void azl_vmbus_untrack_all(void);
void azl_vmbus_rescan(struct azl_vmbus_dev *d);
struct azl_vmbus_chan_snap *azl_vmbus_snapshot_alloc(void);
int azl_vmbus_snapshot(struct hv_device *hdev, struct azl_vmbus_chan_snap *snap);
int azl_vmbus_ring_avail(struct hv_device *hdev, u32 relid, u32 *out_write_avail,
			 u32 *in_read_avail);
const char *azl_vmbus_class_name(const struct hv_device *hdev);

/* netlink.c */
int azl_vmbus_netlink_init(void);
void azl_vmbus_netlink_exit(void);
void azl_vmbus_notify_device(struct azl_vmbus_dev *d, u8 cmd);
void azl_vmbus_notify_channel(struct azl_vmbus_dev *d, u8 cmd,
			      const struct azl_vmbus_chan_id *id,
			      const struct azl_vmbus_chan_snap *snap);

#endif /* _AZL_VMBUS_H */
