/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Azure NVMe namespaces (research/tuning.md §1.3): Microsoft's controllers
 * (PCI vendor 0x1414) put a NUL-terminated "key=value,key=value" string in
 * the vendor-specific area of Identify Namespace; without it the model
 * decides.
 */

#include <stdbool.h>
#include <stddef.h>

#include "root.h"
#include "udev_disk.h"

#define NVME_IDENTIFY_SIZE 4096u
#define NVME_VS_OFFSET 384u
#define NVME_VS_SIZE (NVME_IDENTIFY_SIZE - NVME_VS_OFFSET) /* 3712 */
#define NVME_MSFT_VENDOR 0x1414

struct nvme_vs {
	char type[16];                   /* os, data, local, resource; "" not given */
	long index;                      /* -1: not given */
	long lun;                        /* -1: not given */
	char name[AZURE_DISK_NAME_MAX];  /* "" not given */
};

/*
 * Parse the vendor-specific area (buf, len bytes: device-supplied, hostile).
 * Returns 1 with vs filled, 0 when it is empty (a leading NUL: the host
 * does not speak the protocol), -EBADMSG when there is no NUL within len or
 * the string is not key=value pairs of printable characters, -EINVAL when a
 * known key has a value we refuse (a type we do not know, a number out of
 * range, a name unsafe for a symlink) or appears twice.  Unknown keys
 * are ignored.  vs is only meaningful on 1.
 */
int nvme_vs_parse(const void *buf, size_t len, struct nvme_vs *vs);

/*
 * The classification without the vendor area, from the model: Direct Disk
 * v1/v2 -> local; "MSFT NVMe Accelerator v1.0" -> os for nsid 1, data with
 * LUN nsid - 2 above.  Sets d->remote_nvme for the accelerator.  False for
 * any other model.
 */
bool nvme_model_classify(const char *model, unsigned long nsid, struct azure_disk *d);

/* "Microsoft NVMe Direct Disk" or "... v2": a local disk, one namespace per controller. */
bool nvme_model_direct_disk(const char *model);

/*
 * The vendor area over the model's answer d: only the keys the area has
 * replace d's (what udev does with azure-nvme-id --udev's output after the
 * rules set type and LUN from the model), so an area with a type and no
 * lun keeps the model's LUN, and one without a type still names the index.
 */
void nvme_vs_overlay(const struct nvme_vs *vs, struct azure_disk *d);

/*
 * The production reader: NVME_IOCTL_ADMIN_CMD Identify Namespace (opcode
 * 0x06, CNS 0) on <root>/dev/<disk>, which must be a block device.
 */
int nvme_identify_page(const struct root *r, const char *disk, unsigned nsid, unsigned char *page,
		       size_t len);

/* An NVMe namespace or partition name: nvme<C>n<N>[p<P>] -> C and N. */
bool nvme_parse_kname(const char *kname, unsigned long *ctrl, unsigned long *nsid);

/*
 * An NVMe namespace (disk_dir: its resolved sysfs directory, disk: its
 * kernel name) as udev_disk_identify() answers: 1 ours, 0 not (another
 * vendor, a model and vendor area that say nothing), negative errno after
 * a message.  reader NULL: no vendor area (the model decides).
 * AZURE_DISK_SERIAL (env->serial_short) only for a Direct Disk model.
 */
int udev_nvme_identify(const struct root *r, const char *disk_dir, const char *disk,
		       const struct udev_disk_env *env, nvme_page_reader reader,
		       struct azure_disk *d);
