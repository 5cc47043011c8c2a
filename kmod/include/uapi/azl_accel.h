/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * azl_accel generic netlink contract, shared by the kernel module and
 * azl-agent (through libnl-genl).  Add, never renumber; bump
 * AZL_ACCEL_GENL_VERSION when a command changes meaning.
 *
 * Family "azl_accel", version 1.
 *
 * The module watches the PCI bus for accelerators passed through by
 * Hyper-V (devices whose host bridge hangs off VMBus, pci-hyperv's):
 * NVIDIA GPUs (10de, class 0302), Mellanox/NVIDIA HCAs and VFs (15b3),
 * MANA (1414:00ba) and AMD Instinct (1002, class 1200 or 0380).  It never
 * touches any other device.  It decides a device's node at
 * BUS_NOTIFY_BIND_DRIVER, each time a driver is about to probe it (after
 * pci-hyperv assigned the host's node, which it does after adding the
 * device): with the table's node N for the device's PCI domain,
 *   numa_node -1 becomes N (SOURCE_TABLE);
 *   numa_node 0 becomes N when N is not 0 and the module parameter
 *     zero_is_unset is on (the default): 0 is what pci-hyperv leaves when
 *     the host gives no affinity (SOURCE_TABLE, HOST_NODE 0);
 *   any other node stays (SOURCE_HOST); no entry: SOURCE_NONE (-1) or
 *     SOURCE_HOST.
 * A node the module set is put back to the host's at a later bind when
 * the table no longer gives it.  A bound driver's node is never changed.
 *
 * The table (PCI domain -> NUMA node) comes from the agent's SKU table,
 * by SET_POLICY, or from the module parameter nodes= ("dom:node,...",
 * hexadecimal domain, decimal node) so it is there before pci-hyperv
 * adds the boot devices.
 *
 * Commands:
 *   GET_DEVICES  dump, unprivileged.  One message per matched device:
 *                BDF, DOMAIN, VENDOR, DEVICE, CLASS, KIND, HOST_NODE (what
 *                the host gave), NODE (now), SOURCE, DRIVER (absent if
 *                none).
 *   GET_POLICY   do, unprivileged.  NODES: the table, one NODE_ENTRY
 *                (DOMAIN, NODE) per domain.
 *   SET_POLICY   do, CAP_SYS_ADMIN.  NODES replaces the table (an empty
 *                NODES clears it); at most AZL_ACCEL_NODES_MAX entries,
 *                each domain once, each node online, else -EINVAL with an
 *                extack message.  No device changes now: devices without
 *                a driver whose node the new table changes become
 *                SOURCE_PENDING and get it at their next bind; bound ones
 *                become SOURCE_LATE.  The reply carries APPLIED_COUNT:
 *                how many devices without a driver change node at their
 *                next bind.
 *   DEV_ADD      event: a matched device was added (SOURCE_PENDING: its
 *                node is decided when a driver binds).
 *   NODE_SET     event: a bind changed a device's node, before the probe;
 *                DEV_BOUND follows when the probe succeeds, DEV_UNBOUND
 *                when it fails.
 *   DEV_BOUND, DEV_UNBOUND   events: a driver bound to / unbound from one
 *                (DEV_UNBOUND also when a probe failed after NODE_SET).
 *   DEV_REMOVE   event: one was removed (hot remove or surprise removal).
 *
 * Requests take only the attributes named for them; any other is refused
 * with -EINVAL.  Errors are negative errnos in the ACK, with extack text.
 */
#ifndef _UAPI_AZL_ACCEL_H
#define _UAPI_AZL_ACCEL_H

#define AZL_ACCEL_GENL_NAME		"azl_accel"
#define AZL_ACCEL_GENL_VERSION		1
#define AZL_ACCEL_MCGRP_EVENTS		"events"

#define AZL_ACCEL_NODES_MAX		256
#define AZL_ACCEL_BDF_LEN		16	/* "dddd:bb:dd.f" with the NUL */
#define AZL_ACCEL_DRIVER_LEN		32	/* with the NUL */

enum azl_accel_cmd {
	AZL_ACCEL_CMD_UNSPEC,
	AZL_ACCEL_CMD_GET_DEVICES,
	AZL_ACCEL_CMD_GET_POLICY,
	AZL_ACCEL_CMD_SET_POLICY,
	AZL_ACCEL_CMD_DEV_ADD,
	AZL_ACCEL_CMD_DEV_BOUND,
	AZL_ACCEL_CMD_DEV_UNBOUND,
	AZL_ACCEL_CMD_DEV_REMOVE,
	AZL_ACCEL_CMD_NODE_SET,

	__AZL_ACCEL_CMD_MAX,
	AZL_ACCEL_CMD_MAX = __AZL_ACCEL_CMD_MAX - 1
};

enum azl_accel_kind {
	AZL_ACCEL_KIND_GPU_NVIDIA,
	AZL_ACCEL_KIND_HCA,		/* 15b3: InfiniBand HCA or Ethernet VF */
	AZL_ACCEL_KIND_MANA,
	AZL_ACCEL_KIND_GPU_AMD,
	AZL_ACCEL_KIND_TEST,		/* matched through test_match= only */
};

/* Where a device's node came from (AZL_ACCEL_A_SOURCE). */
enum azl_accel_source {
	AZL_ACCEL_SOURCE_HOST,		/* the host gave one; left alone */
	AZL_ACCEL_SOURCE_TABLE,		/* set from the table before a driver probed */
	AZL_ACCEL_SOURCE_NONE,		/* no node from the host, none in the table */
	AZL_ACCEL_SOURCE_LATE,		/* the table says otherwise, but a driver is bound */
	AZL_ACCEL_SOURCE_PENDING,	/* no driver: decided when one binds */
};

enum azl_accel_attr {
	AZL_ACCEL_A_UNSPEC,
	AZL_ACCEL_A_BDF,		/* NUL string: "dddd:bb:dd.f" */
	AZL_ACCEL_A_DOMAIN,		/* u32: PCI domain */
	AZL_ACCEL_A_VENDOR,		/* u16 */
	AZL_ACCEL_A_DEVICE,		/* u16 */
	AZL_ACCEL_A_CLASS,		/* u32: 24-bit class code */
	AZL_ACCEL_A_KIND,		/* u8: enum azl_accel_kind */
	AZL_ACCEL_A_HOST_NODE,		/* s32: -1 when the host gave none */
	AZL_ACCEL_A_NODE,		/* s32: numa_node now */
	AZL_ACCEL_A_SOURCE,		/* u8: enum azl_accel_source */
	AZL_ACCEL_A_DRIVER,		/* NUL string: bound driver */
	AZL_ACCEL_A_NODES,		/* nested: NODE_ENTRY, ... */
	AZL_ACCEL_A_NODE_ENTRY,		/* nested: DOMAIN, NODE */
	AZL_ACCEL_A_APPLIED_COUNT,	/* u32: unbound devices the table changes */

	__AZL_ACCEL_A_MAX,
	AZL_ACCEL_A_MAX = __AZL_ACCEL_A_MAX - 1
};

#endif /* _UAPI_AZL_ACCEL_H */
