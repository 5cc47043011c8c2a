/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * azl_vmbus generic netlink contract, shared by the kernel module and
 * azl-agent (through libnl-genl).  Add, never renumber; bump
 * AZL_VMBUS_GENL_VERSION when a command changes meaning.
 *
 * Family "azl_vmbus", version 1.
 *
 * Commands:
 *   GET_CHANNELS  dump, unprivileged.  One message per VMBus channel of
 *                 every device on the bus, primary channels first within a
 *                 device.  Every message carries the device attributes
 *                 (DEV_INSTANCE, DEV_CLASS, DEV_CLASS_NAME, DEV_NUMA_NODE
 *                 as sysfs numa_node shows it, DEV_DRIVER)
 *                 and the channel attributes (CHAN_*).  Ring attributes are
 *                 absent when the channel is closed (no ring allocated).
 *   DEVICE_ADD, DEVICE_REMOVE, DEVICE_RESCIND
 *                 events on the "events" group: device attributes only.
 *                 RESCIND: the device was removed and its primary channel
 *                 was rescinded first, which is how every removal in
 *                 current kernels happens (host hot remove or servicing,
 *                 and hv_vmbus tearing down).  REMOVE: removed without a
 *                 rescind.  A driver unbind is neither: the device stays.
 *   CHANNEL_ADD, CHANNEL_REMOVE, CHANNEL_RESCIND
 *                 events on the "events" group: device attributes plus
 *                 CHAN_RELID and CHAN_SUBCHANNEL (and CHAN_TARGET_CPU for
 *                 ADD).  Channel events come from comparing the inventory
 *                 with the bus when a device is added or bound, shortly
 *                 after (sub-channels are offered asynchronously) and at
 *                 every dump; see kmod/README.md.
 *
 * GET_CHANNELS takes no attribute (any is refused with -EINVAL).
 * GUIDs are 16 raw bytes in the kernel's guid_t byte order (the order
 * sysfs prints with %pUl).
 */
#ifndef _UAPI_AZL_VMBUS_H
#define _UAPI_AZL_VMBUS_H

#define AZL_VMBUS_GENL_NAME	"azl_vmbus"
#define AZL_VMBUS_GENL_VERSION	1
#define AZL_VMBUS_MCGRP_EVENTS	"events"
#define AZL_VMBUS_CLASS_NAME_LEN 32	/* with the NUL */
#define AZL_VMBUS_DRIVER_LEN	32	/* with the NUL */

enum azl_vmbus_cmd {
	AZL_VMBUS_CMD_UNSPEC,
	AZL_VMBUS_CMD_GET_CHANNELS,
	AZL_VMBUS_CMD_DEVICE_ADD,
	AZL_VMBUS_CMD_DEVICE_REMOVE,
	AZL_VMBUS_CMD_DEVICE_RESCIND,
	AZL_VMBUS_CMD_CHANNEL_ADD,
	AZL_VMBUS_CMD_CHANNEL_REMOVE,
	AZL_VMBUS_CMD_CHANNEL_RESCIND,

	__AZL_VMBUS_CMD_MAX,
	AZL_VMBUS_CMD_MAX = __AZL_VMBUS_CMD_MAX - 1
};

enum azl_vmbus_attr {
	AZL_VMBUS_A_UNSPEC,
	AZL_VMBUS_A_DEV_INSTANCE,	/* binary, 16 bytes */
	AZL_VMBUS_A_DEV_CLASS,		/* binary, 16 bytes */
	AZL_VMBUS_A_DEV_CLASS_NAME,	/* NUL string: "network", "storage", ...;
					 * "unknown" for a class not in the table */
	AZL_VMBUS_A_DEV_NUMA_NODE,	/* s32, -1 when none */
	AZL_VMBUS_A_CHAN_RELID,		/* u32 */
	AZL_VMBUS_A_CHAN_SUBCHANNEL,	/* u16: 0 for the primary */
	AZL_VMBUS_A_CHAN_TARGET_CPU,	/* u32: Linux CPU number */
	AZL_VMBUS_A_CHAN_OUT_RING_SIZE,	/* u32: outbound ring data bytes */
	AZL_VMBUS_A_CHAN_IN_RING_SIZE,	/* u32: inbound ring data bytes */
	AZL_VMBUS_A_CHAN_OUT_WRITE_AVAIL, /* u32 */
	AZL_VMBUS_A_CHAN_IN_READ_AVAIL,	/* u32 */
	AZL_VMBUS_A_CHAN_INTERRUPTS,	/* u64: host-to-guest interrupts */
	AZL_VMBUS_A_CHAN_EVENTS,	/* u64: guest-to-host signals */
	AZL_VMBUS_A_CHAN_OUT_FULL_TOTAL, /* u64 */
	AZL_VMBUS_A_CHAN_OUT_FULL_FIRST, /* u64 */
	AZL_VMBUS_A_CHAN_INTR_IN_FULL,	/* u64 */
	AZL_VMBUS_A_CHAN_INTR_OUT_EMPTY, /* u64 */
	AZL_VMBUS_A_CHAN_RESCINDED,	/* flag */
	AZL_VMBUS_A_PAD,
	AZL_VMBUS_A_DEV_DRIVER,		/* NUL string: bound driver, absent if none */

	__AZL_VMBUS_A_MAX,
	AZL_VMBUS_A_MAX = __AZL_VMBUS_A_MAX - 1
};

#endif /* _UAPI_AZL_VMBUS_H */
