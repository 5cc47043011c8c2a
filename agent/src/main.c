// SPDX-License-Identifier: MIT
/* azl-agent: the Azure Linux Hyper-V guest agent.  Subcommand dispatch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "facts.h"
#include "irqbalance_policy.h"
#include "platform_check.h"
#include "root.h"
#include "status.h"

#ifndef AZL_VERSION
#define AZL_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent [--root DIR] [--json] COMMAND [OPTIONS]\n"
		"\n"
		"commands:\n"
		"  status [--json]   what this VM is and what is wrong with it\n"
		"                    exit 0 healthy, 1 warnings, 2 not a Hyper-V guest or error\n"
		"  storvsc show|set|unset\n"
		"                    disk policy of the azl_storvsc module (storvsc --help)\n"
		"  netvsc show|set   NIC policy of the azl_netvsc module (netvsc --help)\n"
		"  accel show|set|topo\n"
		"                    accelerators of the azl_accel module; NCCL topology (accel --help)\n"
		"  kmod events [--count N]\n"
		"                    print events of our kernel modules as they happen\n"
		"  kmod channels     the VMBus channels as azl_vmbus reports them\n"
		"  kvp list|get|set|delete [--pool N] [--json]\n"
		"                    the Hyper-V KVP pools (kvp --help)\n"
		"  affinity plan|apply|check [--json] [--all]\n"
		"                    VMBus channel and device IRQ placement (affinity --help)\n"
		"  daemon [--debug]  the KVP exchange and other services;\n"
		"                    started as hv_kvp_daemon it is a drop-in for that daemon,\n"
		"                    and hv_kvp_daemon --agent runs every service (as systemd does)\n"
		"  provision [--dry-run [--json]] [--ovf FILE] [--imds-json FILE]\n"
		"                    first boot: identity, administrator, keys, reports\n"
		"  provision --check-platform\n"
		"                    exit 0 on an Azure VM, 1 not (and why), 255 could not tell\n"
		"  deprovision [--dry-run] [--user NAME]\n"
		"                    prepare this system for capture as an image\n"
		"\n"
		"options:\n"
		"  --root DIR        read the system under DIR instead of / (also AZL_ROOT)\n"
		"  --json            machine-readable output (schema in agent/README.md)\n"
		"  -h, --help        this text\n"
		"  --version         print the version\n");
}

int cmd_status(const struct global_options *g0, int argc, char **argv)
{
	struct global_options g = *g0;
	struct vm_facts facts;
	struct status st;
	struct root r;
	int ret;

	optind = 1;
	if (cli_parse_global(argc, argv, &g, false, usage) < 0 || optind < argc) {
		if (optind < argc)
			fprintf(stderr, "azl-agent: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (root_init(&r, g.root) < 0) {
		fprintf(stderr, "azl-agent: root prefix too long\n");
		return 2;
	}
	if (!root_is_live(&r) && access(r.dir, R_OK | X_OK) != 0) {
		fprintf(stderr, "azl-agent: cannot use root %s: %s\n", r.dir, strerror(errno));
		return 2;
	}
	facts_gather(&r, &facts);
	status_evaluate(&facts, &st);
	if (facts.platform.hyperv == TRI_YES)
		status_placement(&r, &st);
	/* Our modules belong to the running kernel: a --root tree has none. */
	if (root_is_live(&r))
		status_kmods(&st);
	if (g.json)
		ret = status_print_json(&st, stdout);
	else
		ret = status_print_text(&st, root_name(&r), stdout);
	ret = ret < 0 || fflush(stdout) != 0 ? STATUS_ERROR : (int)st.exit_code;
	status_free(&st);
	facts_free(&facts);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const struct global_options *, int, char **);
	} commands[] = {
		{ "status", cmd_status },
		{ "storvsc", cmd_storvsc },
		{ "netvsc", cmd_netvsc },
		{ "accel", cmd_accel },
		{ "kmod", cmd_kmod },
		{ "kvp", cmd_kvp },
		{ "affinity", cmd_affinity },
		{ "daemon", cmd_daemon },
		/* Only `provision --check-platform` gets here (cli_is_provisioning). */
		{ "provision", cmd_check_platform },
	};
	struct global_options g = { 0 };
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	if (strcmp(self, "hv_kvp_daemon") == 0)
		return hv_kvp_daemon_main(argc, argv);
	if (strcmp(self, "azl-irqbalance-policy") == 0)
		return irqbalance_policy_main(argc, argv);
	if (cli_is_provisioning(argc, argv))
		return cli_exec_provisioner(argv);

	if (cli_parse_global(argc, argv, &g, true, usage) < 0 || optind >= argc) {
		usage(stderr);
		return 2;
	}
	argc -= optind;
	argv += optind;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(&g, argc, argv);
	fprintf(stderr, "azl-agent: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return 2;
}
