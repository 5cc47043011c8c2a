/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What provisioning does to the system, one idempotent step each, all
 * through the root prefix (a scratch root in tests: `useradd --root`,
 * `chpasswd --root`).  Each returns 0 (done, or already so) or a negative
 * errno with err saying what failed.  No secret ever reaches argv, a log
 * or a file other than shadow.
 */

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "root.h"

/* systemd-hostnamed over sd-bus when it runs (live root), else <root>/etc/hostname (+ sethostname on the live root). */
int action_set_hostname(const struct root *r, const char *hostname, char *err, size_t errlen);

/* useradd --root with a home and the groups that exist; an existing user gets the groups added. */
int action_ensure_user(const struct root *r, const char *user, const char *groups_csv,
		       char *err, size_t errlen);

/* userdel --root -r, and the sudoers drop-in: for deprovisioning (uid >= 1000 only). */
int action_remove_user(const struct root *r, const char *user, char *err, size_t errlen);

/* <root>/etc/sudoers.d/azl-agent-<user>, 0440, validated with `visudo -cf` before it is installed. */
int action_sudoers(const struct root *r, const char *user, bool nopasswd, char *err, size_t errlen);

/* Hash with libxcrypt (yescrypt or sha512) and set through `chpasswd -e --root` on stdin. */
int action_set_password(const struct root *r, const char *user, const char *password,
			char *err, size_t errlen);

/* ~user/.ssh 0700 and authorized_keys 0600, owned by the user; exactly these keys (ours), others kept. */
int action_authorized_keys(const struct root *r, const char *user, char *const *keys, size_t n,
			   char *err, size_t errlen);

/* <root>/etc/ssh/sshd_config.d/50-azl-agent.conf: PasswordAuthentication yes|no; reload sshd if it runs. */
int action_sshd_password_auth(const struct root *r, bool allow, char *err, size_t errlen);

/* CustomData (base64-decoded) to <root>/var/lib/azl-agent/CustomData, 0600. */
int action_save_custom_data(const struct root *r, const char *base64, char *err, size_t errlen);
/* IMDS userData (base64-decoded) to <root>/var/lib/azl-agent/UserData, 0600. */
int action_save_user_data(const struct root *r, const char *base64, char *err, size_t errlen);

/* restorecon of a path where SELinux is enabled (live root only); 0 where it is off. */
int action_restorecon(const struct root *r, const char *path);

/*
 * The resource (temporary) disk (research/lisa.md §5): found by storvsc
 * LUN or as the NVMe temporary disk, re-formatted when it comes back NTFS,
 * mounted at the configured point with the data-loss warning file, and an
 * optional swap file.  -ENOENT when the VM has none (not an error).
 */
int action_resource_disk(const struct root *r, const struct agent_config *cfg, char *err,
			 size_t errlen);
