/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The provisioning media: ovf-env.xml on a UDF/ISO9660 disc
 * (research/provisioning.md §2).  Parsed with libxml2 by namespace URI,
 * never by prefix; the password is a secret: it is kept only in memory,
 * wiped when freed, and the redacted copy written to disk has it removed.
 *
 * Hostile input: the document is bounded (OVF_MAX_SIZE), never loads a DTD
 * or an external entity and never touches the network; a document that
 * declares entities or names an external DTD is refused (Azure never sends
 * one, and refusing closes XXE and entity expansion for good).
 */

#include <stdbool.h>
#include <stddef.h>

#include "root.h"

#define OVF_MAX_KEYS 32
/* Azure caps CustomData at 64 KiB (base64 ~ 88 KiB); 1 MiB is generous. */
#define OVF_MAX_SIZE (1u << 20)

#define OVF_NS_ENV "http://schemas.dmtf.org/ovf/environment/1"
#define OVF_NS_WA "http://schemas.microsoft.com/windowsazure"

struct ovf_ssh_key {
	char *fingerprint; /* as given, may be NULL */
	char *path;        /* where to put it, may be NULL */
	char *value;       /* the key itself when given inline, may be NULL */
};

/*
 * Every string is NULL when its element is absent, empty or xsi:nil.
 * Leading and trailing white space is trimmed from every field but the
 * password (taken byte for byte).  CustomData falls back to UserData (the
 * other spelling cloud-init accepts).
 */
struct ovf_env {
	char *hostname;
	char *username;
	char *password;          /* secret: never logged; wiped by ovf_env_free */
	char *custom_data;       /* base64 as given, may be NULL */
	int disable_ssh_password_auth; /* 1, 0, -1 absent */
	struct ovf_ssh_key keys[OVF_MAX_KEYS];
	size_t n_keys;
	bool preprovisioned_vm;
	char *preprovisioned_vm_type; /* PreprovisionedVMType or PreprovisionedVmType */
};

/*
 * -EINVAL with err saying what is wrong (never the password, never text of
 * the document: only element names and line numbers), -EFBIG over
 * OVF_MAX_SIZE, -ENOMEM.  On error *out is left empty (nothing to free,
 * though ovf_env_free is harmless).  Missing HostName or UserName is not an
 * error here: the merge with IMDS decides (provision_plan.h).
 */
int ovf_parse(const char *xml, size_t len, struct ovf_env *out, char *err, size_t errlen);
void ovf_env_free(struct ovf_env *env);
/*
 * The document with the text of every UserPassword element replaced by
 * "REDACTED" (an empty one stays empty); *out malloc'd, NUL-terminated,
 * still a well-formed document, in UTF-8 whatever the original encoding.  CustomData is
 * kept: the copy is for re-reading after a reboot (0600 in a 0700
 * directory, like the saved CustomData), and Azure tells customers not to
 * put secrets there.  Errors as ovf_parse (no err text: call ovf_parse).
 */
int ovf_redact(const char *xml, size_t len, char **out, size_t *out_len);

/*
 * Find the media (libblkid: iso9660/udf, and /dev/sr0), mount it read-only
 * in a private directory (retries), read ovf-env.xml, unmount.  Device
 * paths go through the root prefix.  -ENOENT: no media (not an error for
 * IMDS-only provisioning).  *device names the device found.  Other errors
 * (-ENODEV: the kernel cannot mount udf nor iso9660; -EPERM; -EFBIG) mean
 * there may be media we could not read: provisioning should fail loudly.
 */
int ovf_media_read(const struct root *r, char **xml, size_t *len, char *device, size_t devlen,
		   char *err, size_t errlen);

struct ovf_media_options {
	const char *const *fstypes; /* NULL-terminated; NULL: udf, iso9660 */
	unsigned attempts;          /* per device for ENOMEDIUM/EBUSY; 0: 5 */
	unsigned delay_ms;          /* between attempts; 0: 1000 */
};
/* ovf_media_read with explicit options (tests mount an ext4 loop device). */
int ovf_media_read_opts(const struct root *r, const struct ovf_media_options *o, char **xml,
			size_t *len, char *device, size_t devlen, char *err, size_t errlen);
/*
 * The devices ovf_media_read would try, in order: <root>/dev/sr0 if it
 * exists, then every <root>/dev/<name> of <root>/sys/class/block whose
 * blkid TYPE is one of fstypes (NULL: udf, iso9660).  *devs: free with
 * strv_free (sysfile.h).
 */
int ovf_media_candidates(const struct root *r, const char *const *fstypes, char ***devs,
			 size_t *n);
/* ovf-env.xml (or OVF-ENV.XML) of an already mounted directory; bounded. */
int ovf_media_read_dir(const char *dir, char **xml, size_t *len, char *err, size_t errlen);
/* Eject (CDROMEJECT) after the ready report; returns -errno, caller logs. */
int ovf_media_eject(const char *device);
