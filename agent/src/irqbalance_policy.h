/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * azl-irqbalance-policy: irqbalance's --policyscript, the durable way to keep
 * irqbalance off the IRQs the agent places (irqbalance_policy.c).
 */

#include "root.h"

/*
 * Is devpath, as irqbalance names a device (/sys/bus/pci/devices/<bdf>, or
 * /sys itself for an IRQ without one), a PCI function passed through VMBus
 * (vPCI) in the tree of r?  1 yes, 0 no (also: gone, or not a PCI
 * function), -EINVAL when devpath is not a path under /sys at all.
 */
int irqb_policy_vpci(const struct root *r, const char *devpath);

/* main() of the program, started through a link of that name. */
int irqbalance_policy_main(int argc, char **argv);
