// SPDX-License-Identifier: MIT
/*
 * The resource (temporary) disk, as WALinuxAgent and cloud-init handle it
 * (research/lisa.md §5, tuning.md §1.2).
 *
 * Which disk: the host names it.  A storvsc disk at LUN 1 of the Gen2
 * SCSI controller 0 ({f8b3781a-1e82-4818-a1c3-63d806ec15bb}, whose LUN 0 is
 * the OS disk), or a storvsc disk whose controller device_id matches
 * ?00000000-0001-* (Gen1).  Without one, a single "Microsoft NVMe Direct
 * Disk" namespace (v6 sizes); several NVMe local disks are left alone,
 * they are meant for a RAID the operator builds.
 *
 * What to do: Azure hands the disk out again after every deallocation with
 * one NTFS partition holding only DATALOSS_WARNING_README.txt.  Checking
 * that content needs an NTFS driver the image may not have; like
 * WALinuxAgent we reformat an NTFS partition 1 of the disk the host
 * identified as temporary without looking inside, and only because
 * [resource_disk] enabled = yes says the agent owns that disk.  Any other
 * file system is never destroyed; the configured one is just mounted.
 *
 * Destructive steps run only on the live root and only on the device the
 * plan names; a fixture root gets the plan logged instead.
 */
#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#include "log.h"
#include "provision_actions.h"
#include "provision_actions_internal.h"
#include "sysfile.h"
#include "udev_disk.h"
#include "udev_nvme.h"
#include "util.h"
#include "vmbus_class.h"

#define README_NAME "DATALOSS_WARNING_README.txt"

/* udev's answer (udev_disk.c), so that provisioning and /dev/disk/azure/resource agree. */
static bool is_scsi_resource(const struct rdisk_facts *d)
{
	char id[48];
	struct azure_disk ad;

	if (!d->storvsc || d->lun < 0)
		return false;
	/* udev matches the sysfs form "{guid}"; the facts keep it without braces */
	snprintf(id, sizeof(id), "{%s}", d->controller);
	return azure_scsi_classify(id, (unsigned long long)d->lun, &ad) &&
	       strcmp(ad.type, "resource") == 0;
}

int rdisk_pick(const struct rdisk_facts *disks, size_t n, struct rdisk_plan *plan)
{
	size_t nvme = 0, nvme_at = 0;

	memset(plan, 0, sizeof(*plan));
	plan->index = -1;
	for (size_t i = 0; i < n; i++)
		if (is_scsi_resource(&disks[i])) {
			plan->index = (int)i;
			snprintf(plan->reason, sizeof(plan->reason), "%s: storvsc %s LUN %d",
				 disks[i].name, disks[i].controller, disks[i].lun);
			return (int)i;
		}
	for (size_t i = 0; i < n; i++)
		if (nvme_model_direct_disk(disks[i].nvme_model) && nvme++ == 0)
			nvme_at = i;
	if (nvme == 1) {
		plan->index = (int)nvme_at;
		snprintf(plan->reason, sizeof(plan->reason), "%s: %s", disks[nvme_at].name,
			 disks[nvme_at].nvme_model);
		return (int)nvme_at;
	}
	if (nvme > 1)
		snprintf(plan->reason, sizeof(plan->reason),
			 "%zu NVMe local disks and no SCSI resource disk: left to the operator", nvme);
	else
		snprintf(plan->reason, sizeof(plan->reason), "no resource disk");
	return -ENOENT;
}

void rdisk_decide(const struct rdisk_facts *disk, enum rdisk_fs_state fs, bool mounted,
		  struct rdisk_plan *plan)
{
	const char *dev = disk->part1[0] ? disk->part1 : disk->name;
	static const struct {
		enum rdisk_action action;
		const char *why;
	} table[] = {
		[RDISK_FS_UNKNOWN] = { RDISK_PROBE, "not the live root: would probe it and decide" },
		[RDISK_FS_NONE] = { RDISK_FORMAT, "blank: format and mount" },
		[RDISK_FS_NTFS] = { RDISK_FORMAT, "NTFS as Azure hands it out: reformat and mount" },
		[RDISK_FS_TARGET] = { RDISK_MOUNT, "has the configured file system: mount" },
		[RDISK_FS_OTHER] = { RDISK_NOTHING, "holds another file system: left alone" },
	};

	snprintf(plan->device, sizeof(plan->device), "%s", dev);
	if (mounted) {
		plan->action = RDISK_NOTHING;
		snprintf(plan->reason, sizeof(plan->reason), "%s is mounted: never formatted", dev);
		return;
	}
	plan->action = table[fs].action;
	snprintf(plan->reason, sizeof(plan->reason), "%s %s", dev, table[fs].why);
}

/* ---- sysfs facts ---- */

/*
 * The LUN and controller from udev's walk (udev_disk.c): any VMBus device
 * above an H:C:T:L disk is its storvsc controller (SCSI on Gen2, IDE on Gen1).
 */
static void find_controller(const struct root *r, const char *name, struct rdisk_facts *d)
{
	char link[PATH_MAX], sys[PATH_MAX], top[PATH_MAX], real[PATH_MAX], buf[64], id[37];
	unsigned long long lun;

	if (root_path(r, ROOT_SYS, link, sizeof(link), "class/block/%s", name) < 0 ||
	    root_path(r, ROOT_SYS, sys, sizeof(sys), "%s", "") < 0 || !realpath(sys, top) ||
	    !realpath(link, real) || udev_scsi_address(top, real, &lun, buf, sizeof(buf)) != 1 ||
	    lun > 65535)
		return;
	d->lun = (int)lun;
	if (!buf[0])
		return;
	d->storvsc = true;
	if (guid_normalize(buf, id) == 0)
		snprintf(d->controller, sizeof(d->controller), "%s", id);
}

static void find_part1(const struct root *r, const char *name, struct rdisk_facts *d)
{
	char **names = NULL;
	size_t n = 0;
	long part;

	if (root_list_dir(r, ROOT_SYS, &names, &n, "class/block/%s", name) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (strncmp(names[i], name, strlen(name)) == 0 &&
		    root_read_long(r, ROOT_SYS, &part, "class/block/%s/%s/partition", name,
				   names[i]) == 0 &&
		    part == 1 && strlen(names[i]) < sizeof(d->part1)) {
			snprintf(d->part1, sizeof(d->part1), "%s", names[i]);
			break;
		}
	strv_free(names, n);
}

static void disk_facts(const struct root *r, const char *name, struct rdisk_facts *d)
{
	char buf[64];

	memset(d, 0, sizeof(*d));
	d->lun = -1;
	snprintf(d->name, sizeof(d->name), "%s", name);
	find_controller(r, name, d);
	if (strncmp(name, "nvme", 4) == 0 &&
	    root_read_text(r, ROOT_SYS, buf, sizeof(buf), "class/block/%s/device/model", name) >= 0)
		snprintf(d->nvme_model, sizeof(d->nvme_model), "%s", buf);
	find_part1(r, name, d);
}

int rdisk_scan(const struct root *r, struct rdisk_facts **out, size_t *nout)
{
	_cleanup_free_ struct rdisk_facts *disks = NULL;
	char **names = NULL;
	size_t n = 0, k = 0;
	int ret;

	ret = root_list_dir(r, ROOT_SYS, &names, &n, "class/block");
	if (ret < 0)
		return ret;
	disks = calloc(n ? n : 1, sizeof(*disks));
	if (!disks) {
		strv_free(names, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		/* whole disks only, with a name that fits */
		if (strlen(names[i]) >= sizeof(disks[0].name) ||
		    root_exists(r, ROOT_SYS, "class/block/%s/partition", names[i]))
			continue;
		disk_facts(r, names[i], &disks[k++]);
	}
	strv_free(names, n);
	*nout = k;
	*out = TAKE_PTR(disks);
	return 0;
}

/* ---- the live probe and the destructive steps ---- */

static enum rdisk_fs_state probe_fs(const struct root *r, const struct rdisk_facts *d,
				    const char *fs, char *seen, size_t seenlen)
{
	char dev[PATH_MAX];
	const char *type = NULL, *pttype = NULL;
	enum rdisk_fs_state st = RDISK_FS_OTHER;
	blkid_probe pr;

	if (root_path(r, ROOT_DEV, dev, sizeof(dev), "%s", d->part1[0] ? d->part1 : d->name) < 0)
		return RDISK_FS_OTHER;
	pr = blkid_new_probe_from_filename(dev);
	if (!pr)
		return RDISK_FS_OTHER;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	if (blkid_do_safeprobe(pr) == 0) {
		(void)blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
		(void)blkid_probe_lookup_value(pr, "PTTYPE", &pttype, NULL);
	}
	snprintf(seen, seenlen, "%s", type ? type : pttype ? pttype : "nothing");
	if (type && strcmp(type, "ntfs") == 0)
		st = d->part1[0] ? RDISK_FS_NTFS : RDISK_FS_OTHER;
	else if (type && strcmp(type, fs) == 0)
		st = RDISK_FS_TARGET;
	else if (!type && !pttype)
		st = RDISK_FS_NONE;
	blkid_free_probe(pr);
	return st;
}

/* Is the block device's major:minor a mount source?  mp (may be NULL) must match too. */
static bool is_mounted(const struct root *r, const char *dev, const char *mp)
{
	_cleanup_free_ char *line = NULL;
	char majmin[32];
	size_t cap = 0, len;
	bool found = false;
	FILE *f;

	if (root_read_text(r, ROOT_SYS, majmin, sizeof(majmin), "class/block/%s/dev", dev) < 0)
		return false;
	f = root_fopen(r, ROOT_PROC, "self/mountinfo");
	if (!f)
		return false;
	while (!found && read_line(f, &line, &cap, 65536, &len) == 1) {
		char id[32], where[PATH_MAX];

		if (sscanf(line, "%*s %*s %31s %*s %4095s", id, where) != 2)
			continue;
		found = strcmp(id, majmin) == 0 && (!mp || strcmp(where, mp) == 0);
	}
	fclose(f);
	return found;
}

static int valid_config(const struct agent_config *cfg, char *err, size_t errlen)
{
	const char *fs = cfg->resource_disk.filesystem, *mp = cfg->resource_disk.mount_point;

	if (strcmp(fs, "ext4") != 0 && strcmp(fs, "xfs") != 0 && strcmp(fs, "ext3") != 0)
		return pa_fail(-EINVAL, err, errlen, "resource_disk.filesystem %s: ext4, ext3 or xfs",
			       fs);
	if (mp[0] != '/' || mp[1] == '\0' || strstr(mp, "..") || strpbrk(mp, " \t\n\\"))
		return pa_fail(-EINVAL, err, errlen,
			       "resource_disk.mount_point %s: an absolute path other than /", mp);
	return 0;
}

static int format_device(const char *dev, const char *fs, char *err, size_t errlen)
{
	char tool[32], path[64];
	const char *argv[] = { path, strcmp(fs, "xfs") == 0 ? "-f" : "-F", "-q", dev, NULL };
	int ret;

	snprintf(tool, sizeof(tool), "mkfs.%s", fs);
	ret = pa_find_tool(tool, path, sizeof(path));
	if (ret < 0)
		return pa_fail(ret, err, errlen, "%s is not installed", tool);
	ret = pa_run(argv, NULL, 0, err, errlen);
	return ret > 0 ? -EIO : ret;
}

static const char readme[] =
	"WARNING: THIS IS A TEMPORARY DISK.\n\n"
	"Any data stored on this drive is SUBJECT TO LOSS and THERE IS NO WAY TO RECOVER IT.\n\n"
	"Please do not use this disk for storing any personal or application data.\n";

static int swap_file(const struct agent_config *cfg, char *err, size_t errlen)
{
	char path[PATH_MAX], mkswap[64];
	const char *argv[] = { mkswap, "-q", path, NULL };
	off_t size = (off_t)cfg->resource_disk.swap_mb << 20;
	_cleanup_close_ int fd = -1;
	struct stat st;
	int ret;

	snprintf(path, sizeof(path), "%s/swapfile", cfg->resource_disk.mount_point);
	if (stat(path, &st) == 0 && st.st_size == size) {
		ret = swapon(path, 0);
		return ret < 0 && errno != EBUSY ? pa_fail(-errno, err, errlen, "swapon %s: %s", path,
							  strerror(errno)) : 0;
	}
	unlink(path); /* a swap file of another size: made anew */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fallocate(fd, 0, 0, size) < 0 || fsync(fd) < 0)
		return pa_fail(-errno, err, errlen, "creating %s: %s", path, strerror(errno));
	ret = pa_find_tool("mkswap", mkswap, sizeof(mkswap));
	if (ret < 0)
		return pa_fail(ret, err, errlen, "mkswap is not installed");
	ret = pa_run(argv, NULL, 0, err, errlen);
	if (ret != 0)
		return ret > 0 ? -EIO : ret;
	if (swapon(path, 0) < 0 && errno != EBUSY)
		return pa_fail(-errno, err, errlen, "swapon %s: %s", path, strerror(errno));
	return 0;
}

/* After the disk is mounted at the mount point: the warning file and the swap file. */
static int finish_mounted(const struct agent_config *cfg, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/" README_NAME, cfg->resource_disk.mount_point);
	if (!file_is(path, readme, sizeof(readme) - 1, 0644)) {
		ret = write_file_atomic_owned(path, readme, sizeof(readme) - 1, 0644, (uid_t)-1, (gid_t)-1);
		if (ret < 0)
			return pa_fail(ret, err, errlen, "writing %s: %s", path, strerror(-ret));
	}
	return cfg->resource_disk.swap_mb ? swap_file(cfg, err, errlen) : 0;
}

static int apply(const struct root *r, const struct agent_config *cfg,
		 const struct rdisk_plan *plan, char *err, size_t errlen)
{
	const char *mp = cfg->resource_disk.mount_point, *fs = cfg->resource_disk.filesystem;
	char dev[PATH_MAX];
	int ret;

	if (root_path(r, ROOT_DEV, dev, sizeof(dev), "%s", plan->device) < 0)
		return -ENAMETOOLONG;
	if (plan->action == RDISK_FORMAT) {
		log_notice("provision: formatting the resource disk %s as %s", dev, fs);
		ret = format_device(dev, fs, err, errlen);
		if (ret < 0)
			return ret;
	}
	ret = mkdir_p(mp, 0755);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "creating %s: %s", mp, strerror(-ret));
	if (mount(dev, mp, fs, MS_NOATIME, NULL) < 0)
		return pa_fail(-errno, err, errlen, "mounting %s on %s: %s", dev, mp, strerror(errno));
	return finish_mounted(cfg, err, errlen);
}

int resource_disk_plan(const struct root *r, const struct agent_config *cfg,
		       struct rdisk_plan *plan)
{
	_cleanup_free_ struct rdisk_facts *disks = NULL;
	enum rdisk_fs_state fs = RDISK_FS_UNKNOWN;
	char seen[32];
	size_t n = 0;
	int i, ret;

	ret = rdisk_scan(r, &disks, &n);
	if (ret < 0) {
		memset(plan, 0, sizeof(*plan));
		plan->index = -1;
		snprintf(plan->reason, sizeof(plan->reason), "listing block devices: %s",
			 strerror(-ret));
		return ret;
	}
	i = rdisk_pick(disks, n, plan);
	if (i < 0)
		return i;
	if (root_is_live(r))
		fs = probe_fs(r, &disks[i], cfg->resource_disk.filesystem, seen, sizeof(seen));
	rdisk_decide(&disks[i], fs,
		     is_mounted(r, disks[i].part1[0] ? disks[i].part1 : disks[i].name, NULL), plan);
	return 0;
}

int action_resource_disk(const struct root *r, const struct agent_config *cfg, char *err,
			 size_t errlen)
{
	struct rdisk_plan plan;
	int ret;

	if (!cfg->resource_disk.enabled)
		return 0;
	ret = valid_config(cfg, err, errlen);
	if (ret < 0)
		return ret;
	ret = resource_disk_plan(r, cfg, &plan);
	if (ret < 0)
		return pa_fail(ret, err, errlen, "%s", plan.reason);
	log_info("provision: resource disk: %s", plan.reason);
	if (!root_is_live(r))
		return 0; /* a fixture: the plan is all we do */
	if (plan.action == RDISK_MOUNT || plan.action == RDISK_FORMAT)
		return apply(r, cfg, &plan, err, errlen);
	/* already mounted where it belongs (an earlier run, or fstab): finish the rest */
	if (is_mounted(r, plan.device, cfg->resource_disk.mount_point))
		return finish_mounted(cfg, err, errlen);
	return 0;
}
