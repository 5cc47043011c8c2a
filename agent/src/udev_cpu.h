/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * azl-udev cpu: may udev bring a CPU online (udev/70-azl-hyperv.rules)?
 * The rule sees `add` for every CPU at each `udevadm trigger`, boot
 * included, not only when the host hot-adds one: a CPU offline on purpose
 * (maxcpus=, nr_cpus=, SMT switched off) must stay so, and writing to it
 * would only log EPERM at every boot.
 */

#include <stdbool.h>
#include <stdio.h>

#include "root.h"

/*
 * Does the kernel command line limit the CPUs brought up (maxcpus= or
 * nr_cpus=, '-' and '_' alike as the kernel compares them)?  Words after
 * "--" are init's, not the kernel's.
 */
bool udev_cmdline_limits_cpus(const char *cmdline);

/*
 * Does /sys/devices/system/cpu/smt/control (its content, NULL when the
 * file does not exist) let any CPU come online: "on", "notsupported" (no
 * SMT in the CPU), "notimplemented" or no file (no SMT control in the
 * kernel).  "off", "forceoff" and anything else (a thread count) keep
 * some threads offline on purpose: false.
 */
bool udev_smt_allows(const char *control);

/*
 * 1 when cpu ("cpu3") is offline and may be brought online, 0 when not (it
 * is online, has no online switch, or one of the above says no), a
 * negative errno after a message naming the file that could not be read.
 */
int udev_cpu_identify(const struct root *r, const char *cpu);

/* The KEY=value line for a CPU to bring online. */
void udev_cpu_print(FILE *f);
