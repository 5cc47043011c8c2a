// SPDX-License-Identifier: MIT
/*
 * actions_tool: run one provisioning action (agent/src/provision_actions.h)
 * against a root, for tests/provision/actions.sh.
 *
 * usage: actions_tool --root R hostname NAME
 *        actions_tool --root R user NAME GROUPS
 *        actions_tool --root R sudoers NAME 0|1
 *        actions_tool --root R password NAME        (the password on stdin, one line)
 *        actions_tool --root R keys NAME FILE       (one key per line)
 *        actions_tool --root R sshd 0|1
 *        actions_tool --root R customdata B64
 *        actions_tool --root R resource-disk [--swap MB]
 *
 * Prints "result=0" or "result=-<errno> <message>" and exits 0 when the
 * action succeeded, 1 when it failed, 2 on a usage error.  resource-disk
 * also prints the plan (plan=, device=, reason=) and never touches a live
 * root unless AZL_ACTIONS_LIVE=1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "provision_actions.h"
#include "provision_actions_internal.h"
#include "root.h"
#include "util.h"

static int usage(void)
{
	fputs("usage: actions_tool --root R hostname NAME | user NAME GROUPS | sudoers NAME 0|1 |\n"
	      "       password NAME (stdin) | keys NAME FILE | sshd 0|1 | customdata B64 |\n"
	      "       resource-disk [--swap MB]\n",
	      stderr);
	return 2;
}

static int report(int ret, const char *err)
{
	if (ret == 0)
		puts("result=0");
	else
		printf("result=%d %s\n", ret, err[0] ? err : strerror(-ret));
	return ret == 0 ? 0 : 1;
}

static int do_password(const struct root *r, const char *user, char *err, size_t errlen)
{
	char pw[256];
	size_t len;
	int ret;

	if (!fgets(pw, sizeof(pw), stdin))
		return pa_fail(-EINVAL, err, errlen, "no password on stdin");
	len = strcspn(pw, "\n");
	pw[len] = '\0';
	ret = action_set_password(r, user, pw, err, errlen);
	explicit_bzero(pw, sizeof(pw));
	return ret;
}

static int do_keys(const struct root *r, const char *user, const char *file, char *err,
		   size_t errlen)
{
	char *keys[64], line[8192];
	size_t n = 0;
	FILE *f = fopen(file, "re");
	int ret;

	if (!f)
		return pa_fail(-errno, err, errlen, "%s: %s", file, strerror(errno));
	while (n < ELEMENTSOF(keys) && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] && !(keys[n++] = strdup(line)))
			break;
	}
	fclose(f);
	ret = action_authorized_keys(r, user, keys, n, err, errlen);
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	return ret;
}

static const char *const action_names[] = {
	[RDISK_NOTHING] = "nothing", [RDISK_PROBE] = "probe",
	[RDISK_MOUNT] = "mount",     [RDISK_FORMAT] = "format",
};

static int do_resource_disk(const struct root *r, int argc, char **argv, char *err,
			    size_t errlen)
{
	struct agent_config cfg;
	struct rdisk_plan plan;
	int ret;

	config_defaults(&cfg);
	cfg.resource_disk.enabled = true;
	if (argc == 2 && strcmp(argv[0], "--swap") == 0)
		cfg.resource_disk.swap_mb = (unsigned)strtoul(argv[1], NULL, 10);
	ret = resource_disk_plan(r, &cfg, &plan);
	printf("plan=%s\ndevice=%s\nreason=%s\n", ret < 0 ? "none" : action_names[plan.action],
	       plan.device, plan.reason);
	if (root_is_live(r) && !getenv("AZL_ACTIONS_LIVE"))
		return ret == -ENOENT ? 0 : ret;
	ret = action_resource_disk(r, &cfg, err, errlen);
	return ret == -ENOENT ? 0 : ret;
}

int main(int argc, char **argv)
{
	struct root r;
	char err[1024] = "";
	const char *cmd;
	int ret;

	if (argc < 4 || strcmp(argv[1], "--root") != 0)
		return usage();
	if (root_init(&r, argv[2]) < 0)
		return usage();
	cmd = argv[3];
	argc -= 4;
	argv += 4;
	if (strcmp(cmd, "hostname") == 0 && argc == 1)
		ret = action_set_hostname(&r, argv[0], err, sizeof(err));
	else if (strcmp(cmd, "user") == 0 && argc == 2)
		ret = action_ensure_user(&r, argv[0], argv[1], err, sizeof(err));
	else if (strcmp(cmd, "sudoers") == 0 && argc == 2)
		ret = action_sudoers(&r, argv[0], strcmp(argv[1], "1") == 0, err, sizeof(err));
	else if (strcmp(cmd, "password") == 0 && argc == 1)
		ret = do_password(&r, argv[0], err, sizeof(err));
	else if (strcmp(cmd, "keys") == 0 && argc == 2)
		ret = do_keys(&r, argv[0], argv[1], err, sizeof(err));
	else if (strcmp(cmd, "sshd") == 0 && argc == 1)
		ret = action_sshd_password_auth(&r, strcmp(argv[0], "1") == 0, err, sizeof(err));
	else if (strcmp(cmd, "customdata") == 0 && argc == 1)
		ret = action_save_custom_data(&r, argv[0], err, sizeof(err));
	else if (strcmp(cmd, "resource-disk") == 0)
		ret = do_resource_disk(&r, argc, argv, err, sizeof(err));
	else
		return usage();
	return report(ret, err);
}
