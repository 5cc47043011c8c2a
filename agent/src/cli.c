// SPDX-License-Identifier: MIT
/* Global options, and handing provisioning to its own program. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef AZL_VERSION
#define AZL_VERSION "0.1.0"
#endif
#ifndef AZL_LIBEXECDIR
#define AZL_LIBEXECDIR "/usr/libexec/azl-agent"
#endif
#define PROVISIONER "azl-agent-provision"

int cli_parse_global(int argc, char **argv, struct global_options *g, bool stop_at_command,
		     void (*usage)(FILE *))
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, stop_at_command ? "+h" : "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g->root = optarg;
			break;
		case 'j':
			g->json = true;
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
	return 0;
}

bool cli_is_provisioning(int argc, char **argv)
{
	/* The first word that is not a global option or its argument. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--root=", 7) == 0 || strcmp(argv[i], "--json") == 0)
			continue;
		return strcmp(argv[i], "provision") == 0 || strcmp(argv[i], "deprovision") == 0;
	}
	return false;
}

int cli_exec_provisioner(char **argv)
{
	char path[PATH_MAX];
	const char *slash = strrchr(argv[0], '/');

	/* Beside this program when it was started by a path (a build tree). */
	if (slash && snprintf(path, sizeof(path), "%.*s/" PROVISIONER, (int)(slash - argv[0]),
			      argv[0]) < (int)sizeof(path) && access(path, X_OK) == 0) {
		argv[0] = path;
		execv(path, argv);
	}
	snprintf(path, sizeof(path), "%s/" PROVISIONER, AZL_LIBEXECDIR);
	argv[0] = path;
	execv(path, argv);
	fprintf(stderr, "azl-agent: cannot run %s: %s\n", path, strerror(errno));
	return 2;
}
