/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * azl-udev disk: what udev needs to name an Azure disk under
 * /dev/disk/azure/ (udev/80-azl-disk.rules).  Two families of names come
 * from one answer: azure-vm-utils' (os, resource, data/by-lun/N,
 * local/by-index/N, ...) from AZURE_DISK_*, and WALinuxAgent's (root,
 * resource, scsi1/lun<N>) from AZL_DISK_LEGACY.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "root.h"

#define AZURE_DISK_NAME_MAX 64

struct azure_disk {
	char type[16];                 /* os, resource, data, local; "" none */
	long lun;                      /* -1: none */
	long index;                    /* -1: none */
	char name[AZURE_DISK_NAME_MAX];   /* "" none */
	char serial[AZURE_DISK_NAME_MAX]; /* "" none */
	char legacy[32];               /* WALinuxAgent's name: root, resource, scsi1/lun5 */
	bool remote_nvme;              /* "MSFT NVMe Accelerator v1.0": its I/O timeout */
};

void azure_disk_init(struct azure_disk *d);

/*
 * The Azure classification of a storvsc disk from its controller's VMBus
 * instance id (sysfs device_id, "{guid}") and its LUN.  Returns true when
 * the disk gets a name (type, legacy name or both), false when it is not
 * one of Azure's (an unknown controller, the Gen2 DVD on LUN 2).
 */
bool azure_scsi_classify(const char *device_id, unsigned long long lun, struct azure_disk *d);

/*
 * The Identify Namespace page of an NVMe namespace (NVME_IDENTIFY_SIZE
 * bytes into page).  The production reader is nvme_identify_page()
 * (udev_nvme.h); tests pass their own.  disk is the namespace's kernel
 * name ("nvme0n1"); a negative errno when the page cannot be had.
 */
typedef int (*nvme_page_reader)(const struct root *r, const char *disk, unsigned nsid,
				unsigned char *page, size_t len);

/* What the helper takes from udev's environment (NULL when unset). */
struct udev_disk_env {
	/*
	 * AZL_DISK_CONTROLLER_ID: the stand-in seam.  Used only when no VMBus
	 * controller sits above a SCSI disk: only the system test's image sets it.
	 */
	const char *controller_id;
	const char *serial_short; /* ID_SERIAL_SHORT, for NVMe by-serial */
};

/*
 * Identify the block device kname (a disk or a partition; "sda",
 * "nvme0n1p2").  Returns 1 and fills d for an Azure disk, 0 for a device
 * that is not ours (nothing to print), a negative errno after a message on
 * stderr naming the path that could not be read.
 */
int udev_disk_identify(const struct root *r, const char *kname, const struct udev_disk_env *env,
		       nvme_page_reader reader, struct azure_disk *d);

/*
 * The SCSI address of a whole disk (disk_dir: its resolved sysfs
 * directory, under top, the resolved sysfs root): 1 when its device is an
 * H:C:T:L SCSI device, with the LUN and the device_id of the VMBus
 * controller above it in id ("" when there is none), 0 when it is not a
 * SCSI disk, a negative errno after a message.  Provisioning uses it too.
 */
int udev_scsi_address(const char *top, const char *disk_dir, unsigned long long *lun, char *id,
		      size_t len);

/* The KEY=value lines for IMPORT{program}. */
void azure_disk_print(FILE *f, const struct azure_disk *d);

/*
 * Is s safe as one component of a symlink name: 1 to 63 of [A-Za-z0-9._-],
 * not starting with '.' (so never "." or "..") or '-'?
 */
bool udev_safe_name(const char *s);
