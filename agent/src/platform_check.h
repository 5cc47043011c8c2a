/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "commands.h"
#include "root.h"

/* The DMI chassis asset tag of every Azure VM. */
#define AZURE_CHASSIS_ASSET_TAG "7783-7084-3265-9085-8269-3286-77"

/*
 * Is the system under @r an Azure VM?  0 yes, 1 no, negative errno when
 * the tag cannot be read; @msg (@len bytes) gets one line saying why,
 * with every byte of the tag that is not printable ASCII escaped.
 */
int platform_check_azure(const struct root *r, char *msg, size_t len);

/*
 * Exit statuses of `provision --check-platform`, for ExecCondition=:
 * systemd runs the unit on 0, skips it on 1 to 254, fails it on 255.
 */
enum {
	CHECK_PLATFORM_AZURE = 0,
	CHECK_PLATFORM_NOT_AZURE = 1,	/* another tag, or no DMI tag file */
	CHECK_PLATFORM_OTHER = 255,	/* usage, unreadable tag, root too long */
};

/*
 * `provision --check-platform` (argv[0] is "provision"); answered by
 * azl-agent itself and by azl-agent-provision alike.
 */
int cmd_check_platform(const struct global_options *g, int argc, char **argv);

/* Does this `provision` command line (argv[0] "provision") ask for the check? */
bool platform_check_wanted(int argc, char **argv);
