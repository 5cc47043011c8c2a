// SPDX-License-Identifier: MIT
/*
 * azl-agent accel show|set|topo: the azl_accel module's device list and
 * NUMA table (cmd_accel_kmod.c), and the NCCL topology of ND-class VMs
 * (cmd_accel_topo.c).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void accel_usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent accel show [--json]\n"
		"       azl-agent accel set --node DOMAIN:NODE... | --sku | --clear\n"
		"       azl-agent accel topo [--output FILE] [--nccl-conf FILE]\n"
		"\n"
		"show and set read and change the azl_accel module's table (PCI domain\n"
		"to NUMA node) and list the accelerators it matched; topo writes the NCCL\n"
		"topology XML of this VM (accel topo --help).\n");
}

int cmd_accel(const struct global_options *g, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (!verb || strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
		accel_usage(verb ? stdout : stderr);
		return verb ? 0 : 2;
	}
	/* accel topo never gets here: azl-agent hands it to azl-agent-provision (cli.h). */
	if (strcmp(verb, "show") == 0 || strcmp(verb, "set") == 0)
		return cmd_accel_kmod(g, argc - 1, argv + 1);
	fprintf(stderr, "azl-agent: accel: unknown verb '%s'\n", verb);
	accel_usage(stderr);
	return 2;
}
