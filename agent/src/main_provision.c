// SPDX-License-Identifier: MIT
/*
 * azl-agent-provision: `azl-agent provision` and `azl-agent deprovision`.
 * azl-agent hands these commands to this program so that libcurl and
 * libxml2, which only provisioning needs, are never loaded by the daemon
 * or by `status` (cli.h says why).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent [--root DIR] [--json] provision [OPTIONS]\n"
		"       azl-agent [--root DIR] deprovision [OPTIONS]\n"
		"       azl-agent [--root DIR] [--json] accel topo [OPTIONS]\n"
		"(`azl-agent provision --help` for the options)\n");
}

int main(int argc, char **argv)
{
	struct global_options g = { 0 };

	if (cli_parse_global(argc, argv, &g, true, usage) < 0 || optind >= argc) {
		usage(stderr);
		return 2;
	}
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "provision") == 0)
		return cmd_provision(&g, argc, argv);
	if (strcmp(argv[0], "deprovision") == 0)
		return cmd_deprovision(&g, argc, argv);
	if (strcmp(argv[0], "accel") == 0 && argc > 1 && strcmp(argv[1], "topo") == 0)
		return cmd_accel_topo(&g, argc - 1, argv + 1);
	usage(stderr);
	return 2;
}
