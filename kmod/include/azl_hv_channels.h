/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The channels of a VMBus device, found the way sysfs shows them: each
 * channel is a kobject in the device's "channels" kset (channels/<relid>),
 * the primary included.  Walk the kset's list under its list_lock and
 * copy what is needed there; take no reference on a channel without a
 * reason (a held one keeps channels/<relid> in sysfs after the host
 * released the relid, and a new offer of that relid collides with it).
 */
#ifndef _AZL_HV_CHANNELS_H
#define _AZL_HV_CHANNELS_H

#include <linux/hyperv.h>
#include <linux/kobject.h>

/*
 * The kset of @hdev's channels, or NULL before the primary channel joined
 * it (hv_vmbus creates the kset and adds the primary after the driver's
 * probe).  Only a primary that joined the kset pins it: the caller keeps
 * the device, and so the primary, alive (a device reference, or a netdev
 * its driver keeps registered).
 */
static inline struct kset *azl_hv_channels_kset(struct hv_device *hdev)
{
	struct kobject *primary = &hdev->channel->kobj;
	struct kset *kset = READ_ONCE(primary->kset);

	/* Read once and checked: the primary may be joining it right now. */
	return kset && primary->state_in_sysfs ? kset : NULL;
}

/* The channel a member @k of that kset is. */
static inline struct vmbus_channel *azl_hv_kobj_channel(struct kobject *k)
{
	return container_of(k, struct vmbus_channel, kobj);
}

#endif /* _AZL_HV_CHANNELS_H */
