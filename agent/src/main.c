// SPDX-License-Identifier: MIT
/* azl-agent: the Azure Linux Hyper-V guest agent.  Subcommand dispatch. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "facts.h"
#include "root.h"
#include "status.h"

#ifndef AZL_VERSION
#define AZL_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"usage: azl-agent [--root DIR] COMMAND [OPTIONS]\n"
		"\n"
		"commands:\n"
		"  status [--json]   what this VM is and what is wrong with it\n"
		"                    exit 0 healthy, 1 warnings, 2 not a Hyper-V guest or error\n"
		"\n"
		"options:\n"
		"  --root DIR        read the system under DIR instead of / (also AZL_ROOT)\n"
		"  --json            machine-readable output (schema in agent/README.md)\n"
		"  -h, --help        this text\n"
		"  --version         print the version\n");
}

struct options {
	const char *root;
	const char *command;
	bool json;
};

/* Options may stand before or after the command: `status --root X` works. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->root = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("azl-agent %s\n", AZL_VERSION);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		o->command = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "azl-agent: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int cmd_status(const struct root *r, bool json)
{
	struct vm_facts facts;
	struct status st;
	int ret;

	facts_gather(r, &facts);
	status_evaluate(&facts, &st);
	if (json)
		ret = status_print_json(&st, stdout);
	else
		ret = status_print_text(&st, root_name(r), stdout);
	ret = ret < 0 || fflush(stdout) != 0 ? STATUS_ERROR : (int)st.exit_code;
	status_free(&st);
	facts_free(&facts);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct root r;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (!o.command) {
		usage(stderr);
		return 2;
	}
	if (root_init(&r, o.root) < 0) {
		fprintf(stderr, "azl-agent: root prefix too long\n");
		return 2;
	}
	if (!root_is_live(&r) && access(r.dir, R_OK | X_OK) != 0) {
		fprintf(stderr, "azl-agent: cannot use root %s: %s\n", r.dir, strerror(errno));
		return 2;
	}
	if (strcmp(o.command, "status") == 0)
		return cmd_status(&r, o.json);
	fprintf(stderr, "azl-agent: unknown command '%s'\n", o.command);
	usage(stderr);
	return 2;
}
