/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * azl_storvsc generic netlink contract, shared by the kernel module and
 * azl-agent (through libnl-genl).  Changing a number here breaks the other
 * side: add, never renumber; bump AZL_STORVSC_GENL_VERSION when a command
 * changes meaning.
 *
 * Family "azl_storvsc", version 1.
 *
 * A policy has three knobs; 0 means "leave what the kernel chose":
 *   timeout      command timeout in seconds (device/timeout)
 *   eh_timeout   error-handling timeout in seconds (device/eh_timeout)
 *   queue_depth  queue depth (device/queue_depth), clamped by the host
 *
 * Policies are layered: the module default (module parameters), then a
 * controller rule (SCSI host number), then a LUN rule (host number + LUN).
 * Each knob of a rule may be 0, which inherits the broader layer's value.
 * Rules of a host are dropped when the host goes away.  Only disks
 * (TYPE_DISK, TYPE_ZBC) are tuned.
 *
 * Commands:
 *   GET_DEVICES  dump, unprivileged.  One message per SCSI device of a
 *                matched host: HOST, CHANNEL, TARGET, LUN, CONTROLLER
 *                (name of the host's parent device: the VMBus instance
 *                GUID on Hyper-V), the applied TIMEOUT, EH_TIMEOUT,
 *                QUEUE_DEPTH as read back from the device, and SOURCE.
 *   GET_POLICY   dump, unprivileged.  First message: the default (no HOST).
 *                Then one message per rule (HOST, LUN if a LUN rule).
 *   SET_POLICY   do, CAP_NET_ADMIN and CAP_SYS_ADMIN.  No HOST: change
 *                the default.  HOST: controller rule.  HOST + LUN: LUN
 *                rule.  At least one of TIMEOUT, EH_TIMEOUT, QUEUE_DEPTH.
 *                The knobs given are applied at once to every existing
 *                disk the layer covers (other knobs are not touched); the
 *                reply is the number of disks (APPLIED_COUNT).  -ENODEV
 *                when HOST is not a live host of the matched template.
 *   DEL_POLICY   do, CAP_NET_ADMIN and CAP_SYS_ADMIN.  Remove the rule of
 *                HOST (+ LUN); the knobs it set go back to the broader
 *                layer at once.  -ENOENT when there is no such rule.
 *   APPLIED      event only, multicast group "events": a device got its
 *                policy (new device, or a policy change).  Attributes as
 *                in GET_DEVICES.
 *
 * Requests take only the attributes named for them (SET: HOST, LUN and
 * the three knobs; DEL: HOST, LUN; the dumps: none); any other is refused
 * with -EINVAL, so a caller can tell what a running module understands.
 * Errors are negative errnos in the netlink ACK, with an extack message.
 */
#ifndef _UAPI_AZL_STORVSC_H
#define _UAPI_AZL_STORVSC_H

#define AZL_STORVSC_GENL_NAME		"azl_storvsc"
#define AZL_STORVSC_GENL_VERSION	1
#define AZL_STORVSC_MCGRP_EVENTS	"events"

/*
 * Largest values SET_POLICY accepts (the kernel's own sysfs takes more,
 * but an hour-long command timeout is a typo, not a policy).
 */
#define AZL_STORVSC_TIMEOUT_MAX		3600
#define AZL_STORVSC_EH_TIMEOUT_MAX	3600
#define AZL_STORVSC_QUEUE_DEPTH_MAX	65535
#define AZL_STORVSC_RULES_MAX		256
#define AZL_STORVSC_CONTROLLER_LEN	64	/* with the NUL */

enum azl_storvsc_cmd {
	AZL_STORVSC_CMD_UNSPEC,
	AZL_STORVSC_CMD_GET_DEVICES,
	AZL_STORVSC_CMD_GET_POLICY,
	AZL_STORVSC_CMD_SET_POLICY,
	AZL_STORVSC_CMD_DEL_POLICY,
	AZL_STORVSC_CMD_APPLIED,

	__AZL_STORVSC_CMD_MAX,
	AZL_STORVSC_CMD_MAX = __AZL_STORVSC_CMD_MAX - 1
};

/* Which layer a device's policy came from (AZL_STORVSC_A_SOURCE). */
enum azl_storvsc_source {
	AZL_STORVSC_SOURCE_DEFAULT,
	AZL_STORVSC_SOURCE_CONTROLLER,
	AZL_STORVSC_SOURCE_LUN,
};

enum azl_storvsc_attr {
	AZL_STORVSC_A_UNSPEC,
	AZL_STORVSC_A_HOST,		/* u32: SCSI host number */
	AZL_STORVSC_A_CHANNEL,		/* u32 */
	AZL_STORVSC_A_TARGET,		/* u32 */
	AZL_STORVSC_A_LUN,		/* u64 */
	AZL_STORVSC_A_CONTROLLER,	/* NUL string, < CONTROLLER_LEN */
	AZL_STORVSC_A_TIMEOUT,		/* u32 seconds, 0..TIMEOUT_MAX */
	AZL_STORVSC_A_EH_TIMEOUT,	/* u32 seconds, 0..EH_TIMEOUT_MAX */
	AZL_STORVSC_A_QUEUE_DEPTH,	/* u32, 0..QUEUE_DEPTH_MAX */
	AZL_STORVSC_A_SOURCE,		/* u8: enum azl_storvsc_source */
	AZL_STORVSC_A_APPLIED_COUNT,	/* u32: devices a change reached */
	AZL_STORVSC_A_PAD,

	__AZL_STORVSC_A_MAX,
	AZL_STORVSC_A_MAX = __AZL_STORVSC_A_MAX - 1
};

#endif /* _UAPI_AZL_STORVSC_H */
