// SPDX-License-Identifier: MIT
/*
 * azl-udev disk: storvsc disks (and the dispatch to NVMe, udev_nvme.c).
 * The rules of azure-vm-utils' 80-azure-disk.rules and WALinuxAgent's
 * 66-azure-storage.rules (research/tuning.md §1.2, §1.7), read from sysfs
 * instead of udev's ATTRS{} search so that the result is unit-tested.
 */
#include "udev_disk.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "sysfile.h"
#include "udev_nvme.h"
#include "vmbus_class.h"

/* The Gen2 SCSI controllers: f8b3781a (OS, resource, DVD), b..d (data). */
#define AZURE_SCSI_SUFFIX "-1e82-4818-a1c3-63d806ec15bb"
#define AZURE_SCSI_PREFIX "f8b3781"

void azure_disk_init(struct azure_disk *d)
{
	memset(d, 0, sizeof(*d));
	d->lun = -1;
	d->index = -1;
}

bool udev_safe_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= AZURE_DISK_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static void set_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

bool azure_scsi_classify(const char *device_id, unsigned long long lun, struct azure_disk *d)
{
	char g[37];
	char c;

	azure_disk_init(d);
	/* Gen1: the OS and resource disks sit on the IDE controllers. */
	if (fnmatch("?00000000-0000-*", device_id, 0) == 0) {
		set_str(d->type, sizeof(d->type), "os");
		set_str(d->legacy, sizeof(d->legacy), "root");
		return true;
	}
	if (fnmatch("?00000000-0001-*", device_id, 0) == 0) {
		set_str(d->type, sizeof(d->type), "resource");
		set_str(d->legacy, sizeof(d->legacy), "resource");
		return true;
	}
	if (guid_normalize(device_id, g) < 0 || strncmp(g, AZURE_SCSI_PREFIX, 7) != 0 ||
	    strcmp(g + 8, AZURE_SCSI_SUFFIX) != 0)
		return false;
	c = g[7];
	if (c == 'a') {
		/* Gen2 controller 0: LUN 0 OS, 1 resource, 2 the DVD (no name). */
		if (lun == 0) {
			set_str(d->type, sizeof(d->type), "os");
			set_str(d->legacy, sizeof(d->legacy), "root");
		} else if (lun == 1) {
			set_str(d->type, sizeof(d->type), "resource");
			set_str(d->legacy, sizeof(d->legacy), "resource");
		} else if (lun == 2) {
			return false;
		} else {
			/* WALinuxAgent names it; azure-vm-utils gives it no type. */
			snprintf(d->legacy, sizeof(d->legacy), "scsi0/lun%llu", lun);
		}
		return true;
	}
	if (c < 'b' || c > 'd')
		return false;
	set_str(d->type, sizeof(d->type), "data");
	d->lun = (long)lun;
	snprintf(d->legacy, sizeof(d->legacy), "scsi%c/lun%llu", '1' + (c - 'b'), lun);
	return true;
}

void azure_disk_print(FILE *f, const struct azure_disk *d)
{
	if (d->type[0])
		fprintf(f, "AZURE_DISK_TYPE=%s\n", d->type);
	if (d->index >= 0)
		fprintf(f, "AZURE_DISK_INDEX=%ld\n", d->index);
	if (d->lun >= 0)
		fprintf(f, "AZURE_DISK_LUN=%ld\n", d->lun);
	if (d->name[0])
		fprintf(f, "AZURE_DISK_NAME=%s\n", d->name);
	if (d->serial[0])
		fprintf(f, "AZURE_DISK_SERIAL=%s\n", d->serial);
	if (d->legacy[0])
		fprintf(f, "AZL_DISK_LEGACY=%s\n", d->legacy);
	if (d->remote_nvme)
		fprintf(f, "AZL_DISK_REMOTE_NVME=1\n");
}

/* H:C:T:L, four decimal numbers: the LUN.  False for any other name. */
static bool parse_hctl(const char *name, unsigned long long *lun)
{
	char buf[64], *field, *save = NULL;
	unsigned long long v = 0;
	int n = 0;

	if (!*name || strlen(name) >= sizeof(buf) || strstr(name, "::") || name[0] == ':' ||
	    name[strlen(name) - 1] == ':')
		return false;
	set_str(buf, sizeof(buf), name);
	for (field = strtok_r(buf, ":", &save); field; field = strtok_r(NULL, ":", &save)) {
		if (field[0] == '0' && field[1] == 'x') /* parse_unsigned's hex: not here */
			return false;
		if (++n > 4 || parse_unsigned(field, (unsigned long long)LONG_MAX, &v) < 0)
			return false;
	}
	if (n != 4)
		return false;
	*lun = v;
	return true;
}

static void say(const char *what, const char *path, int err)
{
	log_error("azl-udev: cannot %s %s: %s", what, path, strerror(-err));
}

/*
 * The VMBus device above dev (a resolved path under top): the first
 * ancestor with both device_id and class_id.  1 with its device_id in id,
 * 0 when there is none, or a negative errno after a message.
 */
static int vmbus_controller_id(const char *top, const char *dev, char *id, size_t len)
{
	char p[PATH_MAX], attr[PATH_MAX + 16];
	size_t ntop = strlen(top);
	struct stat st;
	char *slash;
	int ret;

	set_str(p, sizeof(p), dev);
	while ((slash = strrchr(p, '/')) && (size_t)(slash - p) > ntop) {
		*slash = '\0';
		snprintf(attr, sizeof(attr), "%s/class_id", p);
		if (stat(attr, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(attr, sizeof(attr), "%s/device_id", p);
		ret = read_text(attr, id, len);
		if (ret == -ENOENT)
			continue;
		if (ret < 0) {
			say("read", attr, ret);
			return ret;
		}
		return 1;
	}
	return 0;
}

int udev_scsi_address(const char *top, const char *disk_dir, unsigned long long *lun, char *id,
		      size_t len)
{
	char link[PATH_MAX + 8], sdev[PATH_MAX];
	const char *base;
	int ret;

	snprintf(link, sizeof(link), "%s/device", disk_dir);
	if (!realpath(link, sdev)) {
		ret = -errno; /* say() may change errno */
		if (ret == -ENOENT || ret == -ENOTDIR)
			return 0; /* no device: a loop, a dm or md device */
		say("resolve", link, ret);
		return ret;
	}
	if (strncmp(sdev, top, strlen(top)) != 0 || sdev[strlen(top)] != '/')
		return 0; /* a link out of the tree is not a SCSI device of it */
	base = strrchr(sdev, '/') + 1;
	if (!parse_hctl(base, lun))
		return 0;
	ret = vmbus_controller_id(top, sdev, id, len);
	if (ret < 0)
		return ret;
	if (ret == 0 && len)
		id[0] = '\0';
	return 1;
}

static int scsi_identify(const char *top, const char *disk_dir, const struct udev_disk_env *env,
			 struct azure_disk *d)
{
	unsigned long long lun;
	char id[64];
	int ret;

	ret = udev_scsi_address(top, disk_dir, &lun, id, sizeof(id));
	if (ret <= 0)
		return ret;
	if (!id[0]) {
		/* The stand-in seam: only where no VMBus controller is above. */
		if (!env || !env->controller_id || !*env->controller_id)
			return 0;
		set_str(id, sizeof(id), env->controller_id);
	}
	return azure_scsi_classify(id, lun, d) ? 1 : 0;
}

int udev_disk_identify(const struct root *r, const char *kname, const struct udev_disk_env *env,
		       nvme_page_reader reader, struct azure_disk *d)
{
	char top[PATH_MAX], path[PATH_MAX], real[PATH_MAX], part[PATH_MAX + 16];
	const char *disk;
	struct stat st;
	char *slash;
	int ret;

	azure_disk_init(d);
	if ((ret = root_path(r, ROOT_SYS, path, sizeof(path), "%s", "")) < 0 ||
	    (ret = root_path(r, ROOT_SYS, part, sizeof(part), "class/block/%s", kname)) < 0) {
		log_error("azl-udev: the path of %s is too long", kname);
		return ret;
	}
	if (!realpath(path, top)) {
		ret = -errno; /* say() may change errno */
		say("resolve", path, ret);
		return ret;
	}
	ret = resolve_under(top, part, real);
	if (ret == -EXDEV)
		log_error("azl-udev: %s leads out of %s", part, top);
	else if (ret < 0)
		say("resolve", part, ret);
	if (ret < 0)
		return ret;
	/* A partition's directory sits in its disk's. */
	snprintf(part, sizeof(part), "%s/partition", real);
	if (stat(part, &st) == 0 && S_ISREG(st.st_mode)) {
		slash = strrchr(real, '/');
		if (!slash || (size_t)(slash - real) <= strlen(top))
			return 0;
		*slash = '\0';
	}
	disk = strrchr(real, '/') + 1;
	if (strncmp(disk, "nvme", 4) == 0)
		return udev_nvme_identify(r, real, disk, env, reader, d);
	return scsi_identify(top, real, env, d);
}
