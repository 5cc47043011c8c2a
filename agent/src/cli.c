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
#include "provisioning_report.h"
#include "root.h"

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

/* Is arg a (getopt-abbreviated) spelling of the long option name? */
static bool is_long_option(const char *arg, const char *name)
{
	size_t n = strcspn(arg, "=");

	return n > 2 && strncmp(arg, name, n) == 0;
}

bool cli_is_provisioning(int argc, char **argv)
{
	/* The first word that is not a global option or its argument, as getopt sees it. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			a = i + 1 < argc ? argv[++i] : "";
		else if (is_long_option(a, "--root")) {
			if (!strchr(a, '='))
				i++;
			continue;
		} else if (is_long_option(a, "--json")) {
			continue;
		}
		return strcmp(a, "provision") == 0 || strcmp(a, "deprovision") == 0;
	}
	return false;
}

/*
 * A VM whose provisioning program is missing must not fail silently: the
 * KVP report needs nothing but the pool file (and the root to find it).
 */
static void report_missing_provisioner(char **argv, const char *path)
{
	struct report_kv extra[] = { { "step", "start" } };
	struct global_options g = { 0 };
	char reason[PATH_MAX + 32], *value;
	struct root r;

	for (int i = 1; argv[i]; i++)
		if (strcmp(argv[i], "deprovision") == 0 || strcmp(argv[i], "--dry-run") == 0)
			return;
	for (int i = 1; argv[i] && argv[i + 1]; i++)
		if (strcmp(argv[i], "--root") == 0)
			g.root = argv[i + 1];
	if (root_init(&r, g.root) < 0)
		return;
	snprintf(reason, sizeof(reason), "cannot run %s", path);
	value = provisioning_report_encode(false, reason, extra, 1, NULL, NULL);
	if (value)
		provisioning_report_write(&r, value);
	free(value);
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
	report_missing_provisioner(argv, path);
	return 2;
}
