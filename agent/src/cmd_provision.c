// SPDX-License-Identifier: MIT
/* `azl-agent provision` and `azl-agent deprovision`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "platform_check.h"
#include "provision.h"
#include "provisioning_report.h"

static void provision_usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent provision [--dry-run [--json]] [--ovf FILE] [--imds-json FILE]\n"
		"                           [--config FILE] [--debug]\n"
		"       azl-agent provision --check-platform\n"
		"       azl-agent deprovision [--dry-run] [--user NAME] [--config FILE]\n"
		"\n"
		"provision: first boot of an Azure VM: IMDS and the OVF media, the host name,\n"
		"the administrator, keys, sudo, then the reports (KVP, wireserver) and the\n"
		"marker.  Exit 0 provisioned (or already), 1 failed and reported, 2 bad input.\n"
		"--dry-run reads the sources (or FILEs) and prints the plan, changing nothing.\n"
		"--check-platform: exit 0 on an Azure VM (its DMI chassis asset tag), 1 and\n"
		"why not (another tag, no tag file), 255 otherwise (azl-provision.service's\n"
		"ExecCondition=: 1 skips, 255 fails); no network, no configuration.\n"
		"deprovision: remove what ties the system to this VM before capturing an image\n"
		"(markers, caches, KVP pools, SSH host keys; with --user, that administrator).\n");
}

/*
 * A provisioning that cannot even read its configuration must still not
 * fail silently: the KVP report needs no endpoint, so it says why.
 */
static void report_config_error(const struct root *r, const char *err)
{
	struct report_kv extra[] = { { "step", "configuration" } };
	char *value = provisioning_report_encode(false, err, extra, 1, NULL, NULL);

	if (value && provisioning_report_write(r, value) < 0)
		fprintf(stderr, "azl-agent: could not write the KVP report either\n");
	free(value);
}

static int load_config(const struct global_options *g, const char *path, struct agent_config *cfg,
		       struct root *r, bool report)
{
	char err[512];

	if (root_init(r, g->root) < 0) {
		fprintf(stderr, "azl-agent: root prefix too long\n");
		return -1;
	}
	if (config_load(r, path, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "azl-agent: %s\n", err);
		if (report)
			report_config_error(r, err);
		return -1;
	}
	return 0;
}

int cmd_provision(const struct global_options *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "ovf", required_argument, NULL, 'o' },
		{ "imds-json", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct provision_options o = { .json = g->json };
	const char *config = NULL;
	struct agent_config cfg;
	struct root r;
	int c;

	/*
	 * The same answer as azl-agent's own (platform_check.c), which the unit
	 * runs; this one is for `azl-agent-provision provision --check-platform`.
	 * It reads no configuration: a broken file must not turn "not Azure,
	 * skip" into a failed unit, and Azure's tag is not configurable.
	 */
	if (platform_check_wanted(argc, argv))
		return cmd_check_platform(g, argc, argv);
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.dry_run = true; break;
		case 'j': o.json = true; break;
		case 'o': o.ovf_file = optarg; break;
		case 'i': o.imds_file = optarg; break;
		case 'c': config = optarg; break;
		case 'd': log_set_debug(true); break;
		case 'h': provision_usage(stdout); return 0;
		default: provision_usage(stderr); return 2;
		}
	}
	if (optind < argc || (o.json && !o.dry_run)) {
		provision_usage(stderr);
		return 2;
	}
	if (load_config(g, config, &cfg, &r, !o.dry_run) < 0)
		return 2;
	return provision_run(&r, &cfg, &o, stdout);
}

int cmd_deprovision(const struct global_options *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "user", required_argument, NULL, 'u' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct deprovision_options o = { 0 };
	const char *config = NULL;
	struct agent_config cfg;
	struct root r;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.dry_run = true; break;
		case 'u': o.user = optarg; break;
		case 'c': config = optarg; break;
		case 'h': provision_usage(stdout); return 0;
		default: provision_usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		provision_usage(stderr);
		return 2;
	}
	if (load_config(g, config, &cfg, &r, false) < 0)
		return 2;
	return deprovision_run(&r, &cfg, &o, stdout);
}
