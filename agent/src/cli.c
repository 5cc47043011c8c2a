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
#include "genl_client.h"
#include "platform_check.h"
#include "provisioning_report.h"
#include "root.h"
#include "sysfile.h"

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

/* The index of the command word, as getopt sees it after the global options; argc if none. */
static int command_index(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			return i + 1;
		if (is_long_option(a, "--root")) {
			if (!strchr(a, '='))
				i++;
			continue;
		}
		if (!is_long_option(a, "--json"))
			return i;
	}
	return argc;
}

bool cli_is_provisioning(int argc, char **argv)
{
	int i = command_index(argc, argv);
	const char *a = i < argc ? argv[i] : "";

	/*
	 * The unit's platform check is answered here (platform_check.c): a
	 * missing provisioner must fail ExecStart=, not skip the unit.
	 */
	if (strcmp(a, "provision") == 0 && platform_check_wanted(argc - i, argv + i))
		return false;
	/* accel topo writes its XML with libxml2's xmlTextWriter. */
	return strcmp(a, "provision") == 0 || strcmp(a, "deprovision") == 0 ||
	       (strcmp(a, "accel") == 0 && i + 1 < argc && strcmp(argv[i + 1], "topo") == 0);
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
	int argc = 0, cmd;
	struct root r;

	while (argv[argc])
		argc++;
	cmd = command_index(argc, argv);
	/* Only a provisioning run reports (not deprovision, not accel topo). */
	if (cmd >= argc || strcmp(argv[cmd], "provision") != 0)
		return;
	for (int i = 1; argv[i]; i++)
		if (strcmp(argv[i], "--dry-run") == 0)
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

int cli_option_number(const char *arg, unsigned long long max, const char *option,
		      unsigned long long *out)
{
	if (parse_unsigned(arg, max, out) < 0) {
		fprintf(stderr, "azl-agent: --%s wants a number from 0 to %llu, not '%s'\n",
			option, max, arg);
		return -EINVAL;
	}
	return 0;
}

int cli_option_u32(const char *arg, unsigned long long max, const char *option, uint32_t *out)
{
	unsigned long long v;
	int ret = cli_option_number(arg, max < UINT32_MAX ? max : UINT32_MAX, option, &v);

	if (ret == 0)
		*out = (uint32_t)v;
	return ret;
}

int cli_open_module(struct genl_client *c, int (*open)(struct genl_client *c),
		    const char *module)
{
	int ret = open(c);

	if (ret == -ENOENT) {
		fprintf(stderr, "azl-agent: the %s module is not loaded (modprobe %s)\n", module,
			module);
		return 3;
	}
	if (ret < 0) {
		fprintf(stderr, "azl-agent: cannot reach generic netlink: %s\n", strerror(-ret));
		return 2;
	}
	return 0;
}

int cli_module_refused(const struct genl_client *c, const char *what, int err)
{
	char why[sizeof(c->error) + 64];

	/* The family is named after its module. */
	fprintf(stderr, "azl-agent: %s refused %s: %s\n", c->name, what,
		genl_client_describe(c, err, why, sizeof(why)));
	return 1;
}
