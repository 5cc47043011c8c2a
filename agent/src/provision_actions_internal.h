/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The pieces of provision_actions*.c: pure validators and text builders
 * (unit-tested without a system), the resource-disk decision, and the two
 * system helpers every action shares (atomic file writes, running a tool
 * with an argv array).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "fileio.h"
#include "root.h"

/* ---- pure: provision_actions_text.c ---- */

#define PA_HOSTNAME_MAX 253 /* RFC 1123 / DNS */
#define PA_KERNEL_HOSTNAME_MAX 64 /* HOST_NAME_MAX: what sethostname() and hostnamed take */
#define PA_USER_MAX 32
#define PA_PASSWORD_MAX 72 /* Azure's own limit for an admin password */
#define PA_CUSTOM_DATA_MAX (64u << 10) /* Azure caps CustomData at 64 KiB */
#define PA_KEYS_FILE_MAX (1u << 20) /* an authorized_keys larger than this is refused */

/* 0 or -EINVAL with the reason in err. */
int pa_validate_hostname(const char *name, char *err, size_t errlen);
int pa_validate_user(const char *name, char *err, size_t errlen);
int pa_validate_password(const char *password, char *err, size_t errlen);

/* The sudoers drop-in text ("<user> ALL=(ALL) [NOPASSWD:]ALL\n"); -ENOSPC if it does not fit. */
int pa_sudoers_text(const char *user, bool nopasswd, char *buf, size_t len);
/* The sshd drop-in text. */
int pa_sshd_text(bool allow, char *buf, size_t len);

/*
 * Strict base64 (RFC 4648 alphabet, '=' padding required, ASCII white space
 * between characters ignored as in XML text).  *out is malloc'ed (NUL
 * appended, not counted).  -EBADMSG with the offset in err on a bad input.
 */
int pa_base64_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen,
		     char *err, size_t errlen);

/*
 * The new authorized_keys content: every line of `old` (may be NULL) that
 * is not one of `keys` (compared by key type and blob, so a comment or
 * options do not duplicate a key), then each of `keys` once, in order.
 * A key with a newline or NUL is -EINVAL.  *out is malloc'ed.
 */
int pa_keys_merge(const char *old, size_t oldlen, char *const *keys, size_t n, char **out,
		  size_t *outlen, char *err, size_t errlen);

/* Comma-separated group list: calls fn for each trimmed non-empty name. */
int pa_groups_foreach(const char *csv, int (*fn)(const char *group, void *data), void *data);

/* ---- the resource disk decision: provision_actions_disk.c (pure part) ---- */

enum rdisk_kind {
	RDISK_SCSI, /* storvsc: Gen2 controller 0 LUN 1, or Gen1 device_id ?00000000-0001-* */
	RDISK_NVME, /* "Microsoft NVMe Direct Disk[ v2]" namespace */
};

/* What sysfs says about one whole disk. */
struct rdisk_facts {
	char name[32];          /* sdb, nvme0n1 */
	bool storvsc;           /* under a VMBus device of the storvsc class */
	char controller[40];    /* the storvsc controller's device_id, lower case, no braces */
	int lun;                /* SCSI LUN, -1 when not SCSI */
	char nvme_model[64];    /* controller model, trimmed; "" when not NVMe */
	char part1[40];         /* name of its partition 1 ("" when none) */
};

enum rdisk_fs_state {
	RDISK_FS_UNKNOWN,  /* not probed (not the live root) */
	RDISK_FS_NONE,     /* no partition table, no file system: a fresh NVMe temp disk */
	RDISK_FS_NTFS,     /* partition 1 NTFS: as Azure hands it out after a (re)allocation */
	RDISK_FS_TARGET,   /* partition 1 (or the disk) already carries the configured fs */
	RDISK_FS_OTHER,    /* anything else: not ours to destroy */
};

enum rdisk_action {
	RDISK_NOTHING,     /* leave alone (reason says why) */
	RDISK_PROBE,       /* fixture root: would probe the device and decide */
	RDISK_MOUNT,       /* mount what is there */
	RDISK_FORMAT,      /* mkfs, then mount */
};

struct rdisk_plan {
	int index;                 /* into the facts array, -1 when none */
	enum rdisk_action action;
	char device[64];           /* what would be formatted/mounted: sdb1, nvme0n1 */
	char reason[160];
};

/*
 * The disk that is the resource disk: the storvsc one first (its ids are
 * assigned by the host), else exactly one NVMe Direct Disk namespace.
 * Several NVMe local disks are left alone (they are meant for a RAID the
 * operator builds).  Returns the index or -ENOENT (reason in plan).
 */
int rdisk_pick(const struct rdisk_facts *disks, size_t n, struct rdisk_plan *plan);
/* Fill plan->action/device/reason from the picked disk and what blkid found. */
void rdisk_decide(const struct rdisk_facts *disk, enum rdisk_fs_state fs, bool mounted,
		  struct rdisk_plan *plan);
/*
 * The whole decision for a root: scan, pick, probe with libblkid (live root
 * only; a fixture gets RDISK_PROBE) and check mounts.  -ENOENT (reason in
 * plan) when the VM has no resource disk.
 */
int resource_disk_plan(const struct root *r, const struct agent_config *cfg,
		       struct rdisk_plan *plan);
/* Collect the facts of every whole disk under the root's sysfs; *out malloc'ed. */
int rdisk_scan(const struct root *r, struct rdisk_facts **out, size_t *n);

/* ---- system helpers: provision_actions_sys.c ---- */

#define PA_BUS_TIMEOUT_USEC (5u * 1000000u) /* each bus call (hostnamed, systemd) */

 /* tmp: PATH_MAX bytes */
/*
 * Run a tool by absolute path with argv (never a shell), a clean
 * environment, `input` on its stdin (may be NULL) and its output captured
 * for the error message.  Returns its exit status (0..255), or a negative
 * errno when it could not run or was killed; err gets its first line.
 */
int pa_run(const char *const argv[], const char *input, size_t inlen, char *err, size_t errlen);
/* The absolute path of a tool from the fixed system directories; -ENOENT. */
int pa_find_tool(const char *name, char *buf, size_t len);
/* Fill err like snprintf and return ret (for one-line error returns). */
int pa_fail(int ret, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- the system bus: provision_actions_bus.c ---- */

/* SetStaticHostname + SetHostname on systemd-hostnamed; negative when it cannot be reached. */
int pa_hostnamed_set(const char *hostname, char *err, size_t errlen);
/* Reload ssh.service / sshd.service where one is active; 0 when none runs or no bus. */
int pa_sshd_reload(char *err, size_t errlen);
