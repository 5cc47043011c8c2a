// SPDX-License-Identifier: MIT
/*
 * azl-udev disk for NVMe namespaces: Microsoft's controllers only, the
 * vendor-specific Identify Namespace string first, the model otherwise
 * (research/tuning.md §1.3, what azure-nvme-id does).
 */
#include "udev_nvme.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nvme_ioctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sysfile.h"
#include "util.h"

#define NVME_ADMIN_IDENTIFY 0x06
#define VS_KEY_MAX 32
#define VS_NUMBER_MAX 65535

enum vs_key { VS_TYPE, VS_INDEX, VS_LUN, VS_NAME, VS_UNKNOWN };

static const char *const vs_keys[] = {
	[VS_TYPE] = "type", [VS_INDEX] = "index", [VS_LUN] = "lun", [VS_NAME] = "name",
};

static const char *const vs_types[] = { "os", "data", "local", "resource" };

static enum vs_key vs_key_lookup(const char *key, size_t n)
{
	for (size_t i = 0; i < ELEMENTSOF(vs_keys); i++)
		if (strlen(vs_keys[i]) == n && memcmp(vs_keys[i], key, n) == 0)
			return (enum vs_key)i;
	return VS_UNKNOWN;
}

static bool vs_key_ok(const char *key, size_t n)
{
	if (n == 0 || n > VS_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

/* A small decimal number, digits only (no sign, no 0x, no blanks). */
static int vs_number(const char *v, long *out)
{
	size_t n = strlen(v);
	long x = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		x = x * 10 + (v[i] - '0');
	}
	if (x > VS_NUMBER_MAX)
		return -EINVAL;
	*out = x;
	return 0;
}

static int vs_set(struct nvme_vs *vs, enum vs_key k, const char *v)
{
	switch (k) {
	case VS_TYPE:
		for (size_t i = 0; i < ELEMENTSOF(vs_types); i++)
			if (strcmp(v, vs_types[i]) == 0) {
				snprintf(vs->type, sizeof(vs->type), "%s", vs_types[i]);
				return 0;
			}
		return -EINVAL;
	case VS_INDEX:
		return vs_number(v, &vs->index);
	case VS_LUN:
		return vs_number(v, &vs->lun);
	case VS_NAME:
		if (!udev_safe_name(v))
			return -EINVAL;
		snprintf(vs->name, sizeof(vs->name), "%s", v);
		return 0;
	case VS_UNKNOWN:
		break;
	}
	return 0;
}

/* One "key=value" of [p, end): -EBADMSG when it is not one. */
static int vs_pair(struct nvme_vs *vs, const char *p, const char *end, unsigned *seen)
{
	char value[AZURE_DISK_NAME_MAX];
	const char *eq = memchr(p, '=', (size_t)(end - p));
	enum vs_key k;

	for (const char *c = p; c < end; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return -EBADMSG; /* control, blank or non-ASCII byte */
	if (!eq || !vs_key_ok(p, (size_t)(eq - p)))
		return -EBADMSG;
	k = vs_key_lookup(p, (size_t)(eq - p));
	if (k == VS_UNKNOWN)
		return 0; /* a key of a later protocol: not ours to judge */
	if (*seen & (1u << k))
		return -EINVAL; /* two answers to one question: believe neither */
	*seen |= 1u << k;
	if ((size_t)(end - eq - 1) >= sizeof(value))
		return -EINVAL;
	memcpy(value, eq + 1, (size_t)(end - eq - 1));
	value[end - eq - 1] = '\0';
	return vs_set(vs, k, value);
}

int nvme_vs_parse(const void *buf, size_t len, struct nvme_vs *vs)
{
	const char *s = buf, *nul, *p, *end;
	unsigned seen = 0;
	int ret;

	memset(vs, 0, sizeof(*vs));
	vs->index = -1;
	vs->lun = -1;
	nul = len ? memchr(s, '\0', len) : NULL;
	if (!nul)
		return -EBADMSG; /* unterminated: never read past the area */
	if (nul == s)
		return 0;
	for (p = s;; p = end + 1) {
		end = memchr(p, ',', (size_t)(nul - p));
		if (!end)
			end = nul;
		if (end == p)
			return -EBADMSG; /* an empty pair: ",," or a trailing comma */
		ret = vs_pair(vs, p, end, &seen);
		if (ret < 0)
			return ret;
		if (end == nul)
			return 1;
	}
}

bool nvme_model_direct_disk(const char *model)
{
	return strcmp(model, "Microsoft NVMe Direct Disk") == 0 ||
	       strcmp(model, "Microsoft NVMe Direct Disk v2") == 0;
}

void nvme_vs_overlay(const struct nvme_vs *vs, struct azure_disk *d)
{
	if (vs->type[0])
		snprintf(d->type, sizeof(d->type), "%s", vs->type);
	if (vs->index >= 0)
		d->index = vs->index;
	if (vs->lun >= 0)
		d->lun = vs->lun;
	if (vs->name[0])
		snprintf(d->name, sizeof(d->name), "%s", vs->name);
}

bool nvme_model_classify(const char *model, unsigned long nsid, struct azure_disk *d)
{
	if (nvme_model_direct_disk(model)) {
		snprintf(d->type, sizeof(d->type), "local");
		return true;
	}
	if (strcmp(model, "MSFT NVMe Accelerator v1.0") != 0 || nsid == 0)
		return false;
	d->remote_nvme = true;
	if (nsid == 1) {
		snprintf(d->type, sizeof(d->type), "os");
	} else {
		snprintf(d->type, sizeof(d->type), "data");
		d->lun = (long)(nsid - 2);
	}
	return true;
}

/* Digits at *s (at least one, at most 9) into *v; advances *s. */
static bool take_number(const char **s, unsigned long *v)
{
	const char *p = *s;
	unsigned long x = 0;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9' && p - *s < 9)
		x = x * 10 + (unsigned long)(*p++ - '0');
	if (*p >= '0' && *p <= '9')
		return false;
	*s = p;
	*v = x;
	return true;
}

bool nvme_parse_kname(const char *kname, unsigned long *ctrl, unsigned long *nsid)
{
	const char *p = kname;
	unsigned long part;

	if (strncmp(p, "nvme", 4) != 0)
		return false;
	p += 4;
	if (!take_number(&p, ctrl) || *p++ != 'n' || !take_number(&p, nsid))
		return false;
	if (*p == 'p') {
		p++;
		if (!take_number(&p, &part))
			return false;
	}
	return *p == '\0';
}

int nvme_identify_page(const struct root *r, const char *disk, unsigned nsid, unsigned char *page,
		       size_t len)
{
	struct nvme_admin_cmd cmd;
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	struct stat st;
	int ret;

	if (len < NVME_IDENTIFY_SIZE)
		return -EINVAL;
	ret = root_path(r, ROOT_DEV, path, sizeof(path), "%s", disk);
	if (ret < 0)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* Only a block device gets an ioctl: never a file planted in a tree. */
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_ADMIN_IDENTIFY;
	cmd.nsid = nsid;
	cmd.addr = (uint64_t)(uintptr_t)page;
	cmd.data_len = NVME_IDENTIFY_SIZE;
	cmd.cdw10 = 0; /* CNS 0: Identify Namespace */
	ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
	if (ret < 0)
		return -errno;
	return ret > 0 ? -EIO : 0; /* > 0: an NVMe status, the command was refused */
}

/* A sysfs attribute of the namespace's controller (or subsystem) or, failing that, of nvme<C>. */
static int ctrl_attr(const struct root *r, const char *disk_dir, const char *rel,
		     unsigned long ctrl, char *buf, size_t len, char *where, size_t wlen)
{
	int ret;

	snprintf(where, wlen, "%s/device/%s", disk_dir, rel);
	ret = read_text(where, buf, len);
	if (ret != -ENOENT && ret != -ENOTDIR)
		return ret;
	ret = root_path(r, ROOT_SYS, where, wlen, "class/nvme/nvme%lu/%s", ctrl, rel);
	return ret < 0 ? ret : read_text(where, buf, len);
}

static int nsid_of(const char *disk_dir, unsigned long name_nsid, unsigned long *nsid)
{
	char path[PATH_MAX + 8], buf[32];
	unsigned long long v;
	int ret;

	snprintf(path, sizeof(path), "%s/nsid", disk_dir);
	ret = read_text(path, buf, sizeof(buf));
	if (ret == -ENOENT) {
		*nsid = name_nsid;
		return 0;
	}
	if (ret >= 0)
		ret = parse_unsigned(buf, UINT32_MAX, &v);
	if (ret < 0 || v == 0) {
		log_error("azl-udev: cannot use %s: %s", path,
			ret < 0 ? strerror(-ret) : "namespace id 0");
		return ret < 0 ? ret : -EINVAL;
	}
	*nsid = (unsigned long)v;
	return 0;
}

/* The vendor area through reader: 1 parsed into vs, 0 none or refused. */
static int read_vs(const struct root *r, const char *disk, unsigned long nsid,
		   nvme_page_reader reader, struct nvme_vs *vs)
{
	_cleanup_free_ unsigned char *page = NULL;
	int ret;

	if (!reader)
		return 0;
	if (posix_memalign((void **)&page, 4096, NVME_IDENTIFY_SIZE) != 0)
		return -ENOMEM;
	memset(page, 0, NVME_IDENTIFY_SIZE);
	ret = reader(r, disk, (unsigned)nsid, page, NVME_IDENTIFY_SIZE);
	if (ret < 0) {
		/* No node (a test tree), no ioctl: the model decides, quietly. */
		if (ret != -ENOENT && ret != -ENOTBLK && ret != -ENOTTY)
			log_error("azl-udev: cannot identify namespace %lu of %s: %s",
				nsid, disk, strerror(-ret));
		return 0;
	}
	ret = nvme_vs_parse(page + NVME_VS_OFFSET, NVME_VS_SIZE, vs);
	if (ret < 0) {
		log_error("azl-udev: refused the vendor identify data of %s: %s", disk,
			strerror(-ret));
		return 0;
	}
	return ret;
}

int udev_nvme_identify(const struct root *r, const char *disk_dir, const char *disk,
		       const struct udev_disk_env *env, nvme_page_reader reader,
		       struct azure_disk *d)
{
	char where[PATH_MAX + 32], vendor[32], model[128];
	unsigned long ctrl, name_nsid, nsid;
	unsigned long long v;
	struct nvme_vs vs;
	int ret;

	if (!nvme_parse_kname(disk, &ctrl, &name_nsid))
		return 0; /* nvme0c0n1: a multipath path, not the namespace */
	ret = ctrl_attr(r, disk_dir, "device/vendor", ctrl, vendor, sizeof(vendor), where,
			sizeof(where));
	if (ret == -ENOENT)
		return 0;
	if (ret < 0) {
		log_error("azl-udev: cannot read %s: %s", where, strerror(-ret));
		return ret;
	}
	if (parse_unsigned(vendor, 0xffff, &v) < 0 || v != NVME_MSFT_VENDOR)
		return 0;
	ret = ctrl_attr(r, disk_dir, "model", ctrl, model, sizeof(model), where, sizeof(where));
	if (ret == -ENOENT)
		model[0] = '\0';
	else if (ret < 0) {
		log_error("azl-udev: cannot read %s: %s", where, strerror(-ret));
		return ret;
	}
	ret = nsid_of(disk_dir, name_nsid, &nsid);
	if (ret < 0)
		return ret;
	azure_disk_init(d);
	/* The remote disks' I/O timeout follows the model whatever the area says. */
	nvme_model_classify(model, nsid, d);
	ret = read_vs(r, disk, nsid, reader, &vs);
	if (ret < 0)
		return ret;
	if (ret > 0)
		nvme_vs_overlay(&vs, d);
	if (!d->type[0])
		return 0;
	/*
	 * A Direct Disk's serial is its own (one namespace per controller); a
	 * remote controller's is shared by all its namespaces, which would
	 * all claim one by-serial link.  azure-vm-utils sets it for local only.
	 */
	if (nvme_model_direct_disk(model) && env && env->serial_short &&
	    udev_safe_name(env->serial_short))
		snprintf(d->serial, sizeof(d->serial), "%s", env->serial_short);
	return 1;
}
