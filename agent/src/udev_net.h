/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * azl-udev vf: is a network interface the accelerated-networking VF of a
 * synthetic NIC (udev/10-azl-net-vf.rules)?  Then neither NetworkManager
 * nor systemd-networkd may configure it: the synthetic NIC carries the
 * address and switches its data path to the VF by itself.
 */

#include <stdbool.h>
#include <stdio.h>

#include "root.h"

#define UDEV_IFF_SLAVE 0x800u

/*
 * The `flags` attribute ("0x1803", or "0" for none: the kernel prints
 * "%#x") parsed as a number: 1 when IFF_SLAVE is set, 0 when not, -EINVAL
 * when it is not such a number.
 */
int udev_flags_slave(const char *flags);

/*
 * 1 when ifname is a VF to leave alone: IFF_SLAVE set, and its master is a
 * hv_netvsc device or, when the kernel has linked no master yet, the NIC
 * sits behind Hyper-V's PCI pass-through (udev_behind_vpci()).  0 when
 * not, a negative errno after a message naming the path when its flags
 * cannot be read.
 */
int udev_vf_identify(const struct root *r, const char *ifname);

/*
 * 1 when the device of ifname has a VMBus device among its sysfs parents
 * (a `subsystem` link to vmbus, or the vPCI class_id
 * {44c4f61d-4444-4400-9d52-802e27ede19f}), 0 otherwise.
 */
int udev_behind_vpci(const struct root *r, const char *ifname);

/* The KEY=value lines for a VF. */
void udev_vf_print(FILE *f);
