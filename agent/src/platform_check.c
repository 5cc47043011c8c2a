// SPDX-License-Identifier: MIT
/*
 * `azl-agent provision --check-platform`: is this an Azure VM at all?
 * azl-provision.service runs it as ExecCondition= so that a machine off
 * Azure (another hypervisor, Hyper-V on premises, bare metal) skips
 * provisioning at once instead of waiting out the IMDS budget.  Azure
 * marks its VMs with one DMI chassis asset tag (research/provisioning.md
 * §4.4, as cloud-init's ds-identify and WALinuxAgent test it); Hyper-V
 * elsewhere leaves the tag empty or sets its own.  Only that file is read:
 * no network, nothing written.
 *
 * azl-agent answers it itself (main.c; cli_is_provisioning does not hand
 * it to azl-agent-provision): with a missing or broken provisioner the
 * check still says "Azure", so ExecStart= runs, fails the unit and
 * writes the KVP report, instead of the unit being skipped in silence.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "log.h"
#include "platform_check.h"
#include "sysfile.h"

#define DMI_TAG "class/dmi/id/chassis_asset_tag"

int platform_check_azure(const struct root *r, char *msg, size_t len)
{
	char tag[256], shown[ESCAPED_SIZE(sizeof(tag))], path[PATH_MAX];
	int ret;

	ret = root_read_text(r, ROOT_SYS, tag, sizeof(tag), DMI_TAG);
	/* Longer than any tag this buffer holds, so not Azure's. */
	if (ret == -EFBIG) {
		snprintf(msg, len, "not an Azure VM (chassis asset tag of more than %zu bytes): "
			 "nothing to provision", sizeof(tag) - 1);
		return 1;
	}
	if (ret < 0) {
		if (root_path(r, ROOT_SYS, path, sizeof(path), DMI_TAG) < 0)
			snprintf(path, sizeof(path), "chassis_asset_tag under %s", root_name(r));
		snprintf(msg, len, "cannot read %s: %s%s", path, strerror(-ret),
			 ret == -ENOENT ? ": nothing to provision" : "");
		return ret;
	}
	escape_non_ascii(tag, shown, sizeof(shown));
	if (strcmp(tag, AZURE_CHASSIS_ASSET_TAG) == 0) {
		snprintf(msg, len, "Azure (chassis asset tag %s)", shown);
		return 0;
	}
	snprintf(msg, len, "not an Azure VM (chassis asset tag '%s'): nothing to provision", shown);
	return 1;
}

static void check_platform_usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent [--root DIR] provision --check-platform\n"
		"exit 0 on an Azure VM (its DMI chassis asset tag), 1 and one line why not\n"
		"(another tag, no DMI tag file), 255 on anything else (azl-provision.service's\n"
		"ExecCondition=: 1 skips the unit, 255 stops it as broken).\n");
}

int cmd_check_platform(const struct global_options *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check-platform", no_argument, NULL, 'p' },
		{ 0 },
	};
	char msg[1536];
	bool check = false;
	struct root r;
	int c, ret;

	optind = 0;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'p') {
			check_platform_usage(stderr);
			return CHECK_PLATFORM_OTHER;
		}
		check = true;
	}
	if (!check || optind < argc) {
		check_platform_usage(stderr);
		return CHECK_PLATFORM_OTHER;
	}
	if (root_init(&r, g->root) < 0) {
		fprintf(stderr, "azl-agent: root prefix too long\n");
		return CHECK_PLATFORM_OTHER;
	}
	ret = platform_check_azure(&r, msg, sizeof(msg));
	/* ExecCondition= output reaches the journal: no strerror() wording there. */
	log_reword_libc_texts(msg, sizeof(msg));
	printf("%s\n", msg);
	if (fflush(stdout) != 0)
		return CHECK_PLATFORM_OTHER;
	if (ret == 0)
		return CHECK_PLATFORM_AZURE;
	return ret == 1 || ret == -ENOENT ? CHECK_PLATFORM_NOT_AZURE : CHECK_PLATFORM_OTHER;
}

bool platform_check_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t n = strcspn(a, "=");

		if (strcmp(a, "--") == 0)
			break;
		/* getopt's abbreviations: "--ch" is already unique among provision's options. */
		if (n >= 4 && strncmp(a, "--check-platform", n) == 0)
			return true;
	}
	return false;
}
