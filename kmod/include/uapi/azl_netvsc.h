/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * azl_netvsc generic netlink contract, shared by the kernel module and
 * azl-agent (through libnl-genl).  Add, never renumber; bump
 * AZL_NETVSC_GENL_VERSION when a command changes meaning.
 *
 * Family "azl_netvsc", version 1.
 *
 * The module tracks every synthetic NIC (a netdev whose parent device is
 * bound to hv_netvsc, the driver ethtool -i reports) and every VF joined to
 * one (a netdev whose master upper device is a tracked synthetic NIC).  One
 * policy covers them all; every knob at 0 leaves what the kernel chose:
 *   channels   combined channel count of synthetic NICs.  Only a count
 *              Microsoft's image validation accepts for this VM may be
 *              set (see AZL_NETVSC_A_ALLOWED): min(T,8); T when T <= 16;
 *              min(64, max(16, C/2)) and min(64, max(16, T/2)) when T > 16,
 *              with T online CPUs and C physical cores.  Applied when a NIC
 *              registers and when the policy changes, never when a user
 *              changes the count afterwards (ethtool -L wins).
 *   rx_ring    receive ring (netvsc: receive buffer sections)
 *   tx_ring    send ring (netvsc: send buffer sections)
 *   xps        1: the XPS map of transmit queue i of a synthetic NIC is the
 *              CPU of its VMBus channel i; without channels (a stand-in),
 *              the CPUs of the device's NUMA node (all online CPUs when it
 *              has none), round robin.  Re-applied after a channel change
 *              the module made and when a VF joins.  NO EFFECT ON
 *              hv_netvsc: its ndo_select_queue picks the queue from the
 *              socket or the host's send indirection table and never reads
 *              XPS (with a VF, the VF's driver picks, and reads the VF's
 *              maps: only vf_xps matters on Hyper-V).  For drivers that
 *              honour XPS, such as the veth stand-in.  Default 0.
 *   vf_xps     1: XPS of a VF's transmit queues, round robin over the CPUs
 *              of the VF's NUMA node.  Default 0: mlx5 and mana set their
 *              own.
 *              For both, 0 means "stop touching": maps set earlier (by the
 *              module while the knob was 1, or by the driver) stay as they
 *              are; nothing is cleared.
 * Ethtool operations run from a work item under RTNL (and, from 6.15, the
 * netdev instance lock of drivers that take it), never in the notifier;
 * no driver operation is called to decide whether a device is tracked.
 * storvsc sub-channels are never touched here.
 *
 * Commands:
 *   GET_DEVICES  dump, unprivileged.  One message per tracked device:
 *                IFINDEX, IFNAME, KIND, MASTER (VFs), NUMA_NODE, the
 *                current CHANNELS / MAX_CHANNELS / RX_RING / TX_RING as the
 *                driver reports them (absent when it has no such operation),
 *                and the outcome of the last application (RESULT_*), plus
 *                APPLY_COUNT.
 *   GET_POLICY   do, unprivileged.  The policy (CHANNELS, RX_RING, TX_RING,
 *                XPS, VF_XPS) and ALLOWED: the channel counts SET_POLICY
 *                accepts on this VM now.
 *   SET_POLICY   do, CAP_NET_ADMIN.  Any of CHANNELS, RX_RING, TX_RING, XPS,
 *                VF_XPS (at least one); the knobs given change and are
 *                applied to every tracked device; the reply carries
 *                APPLIED_COUNT (devices queued for the work item).  A
 *                channel count outside ALLOWED is -EINVAL with an extack
 *                message.
 *   DEV_ADD, DEV_REMOVE   events: a synthetic NIC registered / unregistered
 *                (device attributes).
 *   VF_JOIN, VF_LEAVE     events: a VF linked to / unlinked from a synthetic
 *                NIC (device attributes of the VF, MASTER).
 *   APPLIED      event: the work item applied the policy to a device
 *                (GET_DEVICES attributes).
 *
 * Requests take only the attributes named for them; any other is refused
 * with -EINVAL.  Errors are negative errnos in the ACK, with extack text.
 */
#ifndef _UAPI_AZL_NETVSC_H
#define _UAPI_AZL_NETVSC_H

#define AZL_NETVSC_GENL_NAME		"azl_netvsc"
#define AZL_NETVSC_GENL_VERSION		1
#define AZL_NETVSC_MCGRP_EVENTS		"events"

#define AZL_NETVSC_CHANNELS_MAX		64	/* VRSS_CHANNEL_MAX */
#define AZL_NETVSC_RING_MAX		65535
#define AZL_NETVSC_ALLOWED_MAX		8	/* entries in ALLOWED */

enum azl_netvsc_cmd {
	AZL_NETVSC_CMD_UNSPEC,
	AZL_NETVSC_CMD_GET_DEVICES,
	AZL_NETVSC_CMD_GET_POLICY,
	AZL_NETVSC_CMD_SET_POLICY,
	AZL_NETVSC_CMD_DEV_ADD,
	AZL_NETVSC_CMD_DEV_REMOVE,
	AZL_NETVSC_CMD_VF_JOIN,
	AZL_NETVSC_CMD_VF_LEAVE,
	AZL_NETVSC_CMD_APPLIED,

	__AZL_NETVSC_CMD_MAX,
	AZL_NETVSC_CMD_MAX = __AZL_NETVSC_CMD_MAX - 1
};

enum azl_netvsc_kind {
	AZL_NETVSC_KIND_SYNTHETIC,
	AZL_NETVSC_KIND_VF,
};

enum azl_netvsc_attr {
	AZL_NETVSC_A_UNSPEC,
	AZL_NETVSC_A_IFINDEX,		/* u32 */
	AZL_NETVSC_A_IFNAME,		/* NUL string, < IFNAMSIZ */
	AZL_NETVSC_A_KIND,		/* u8: enum azl_netvsc_kind */
	AZL_NETVSC_A_MASTER,		/* u32: the synthetic NIC of a VF */
	AZL_NETVSC_A_NUMA_NODE,		/* s32: -1 when none */
	AZL_NETVSC_A_CHANNELS,		/* u32: policy, or current count */
	AZL_NETVSC_A_MAX_CHANNELS,	/* u32 */
	AZL_NETVSC_A_RX_RING,		/* u32: policy, or current size */
	AZL_NETVSC_A_TX_RING,		/* u32 */
	AZL_NETVSC_A_XPS,		/* u8: 0 or 1 */
	AZL_NETVSC_A_VF_XPS,		/* u8: 0 or 1 */
	AZL_NETVSC_A_ALLOWED,		/* nested: ALLOWED_COUNT u32 entries */
	AZL_NETVSC_A_ALLOWED_COUNT,	/* u32, inside ALLOWED */
	AZL_NETVSC_A_RESULT_CHANNELS,	/* s32: 0 applied or nothing to do, -errno */
	AZL_NETVSC_A_RESULT_RINGS,	/* s32 */
	AZL_NETVSC_A_RESULT_XPS,	/* s32 */
	AZL_NETVSC_A_APPLY_COUNT,	/* u32: times the policy was applied */
	AZL_NETVSC_A_APPLIED_COUNT,	/* u32: devices a SET_POLICY reached */

	__AZL_NETVSC_A_MAX,
	AZL_NETVSC_A_MAX = __AZL_NETVSC_A_MAX - 1
};

#endif /* _UAPI_AZL_NETVSC_H */
