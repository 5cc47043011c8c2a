/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * GET_IP_INFO and SET_IP_INFO: the IP configuration of a NIC as the host's
 * Networking tab and Hyper-V Replica failover see it.  No shell scripts: the
 * kernel over netlink, systemd-resolved and NetworkManager over D-Bus,
 * systemd-networkd's state files.
 */

#include "config.h"
#include "kvp_proto.h"
#include "root.h"

/*
 * Fill info for the NIC whose MAC is info->adapter_id ("AA:BB:..", compared
 * exactly, case-insensitively).  NICs with that MAC and no address (an
 * accelerated-networking VF shares its synthetic NIC's MAC) are passed
 * over.  Returns 0, or -ENODEV when no NIC with an address has that MAC.
 */
int kvp_ip_info_get(const struct root *r, struct kvp_ip_info *info);

/*
 * Configure the NIC whose VMBus device_id is info->adapter_id ("{guid}")
 * and apply it.  Returns 0; -ENODEV (HV_GUID_NOTFOUND) when no NIC has that
 * GUID; -EINVAL (HV_INVALIDARG) when any token of any list is not a valid
 * address for its place; another negative errno (HV_E_FAIL) when the
 * configuration could not be written or applied.
 */
int kvp_ip_info_set(const struct root *r, const struct agent_config *cfg,
		    const struct kvp_ip_info *info);
