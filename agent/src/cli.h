/* SPDX-License-Identifier: MIT */
#pragma once

/* What azl-agent and its provisioning program share on the command line. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "commands.h"

/*
 * --root and --json before the command (stop_at_command) or, for status,
 * after it.  -h prints usage() and exits 0, --version the version.
 */
int cli_parse_global(int argc, char **argv, struct global_options *g, bool stop_at_command,
		     void (*usage)(FILE *));

/*
 * A command option's number from 0 to @max; otherwise a message on stderr
 * naming the option ("--timeout wants a number from 0 to 3600, not 'x'").
 */
int cli_option_number(const char *arg, unsigned long long max, const char *option,
		      unsigned long long *out);
/* The same into a uint32_t (@max must fit). */
int cli_option_u32(const char *arg, unsigned long long max, const char *option, uint32_t *out);

struct genl_client;

/*
 * Open a kernel module's generic netlink family with @open (storvsc_open,
 * netvsc_open, ...).  0, or the exit status after a message naming
 * @module: 3 when it is not loaded, 2 when generic netlink is out of reach.
 */
int cli_open_module(struct genl_client *c, int (*open)(struct genl_client *c),
		    const char *module);
/*
 * The module's refusal of @what, with its own words when it gave some
 * ("azl-agent: azl_netvsc refused the change: Invalid argument: ...").
 * Returns 1, the commands' exit status for it.
 */
int cli_module_refused(const struct genl_client *c, const char *what, int err);

/*
 * `provision` and `deprovision` live in a program of their own,
 * azl-agent-provision: they need libcurl and libxml2 (and what those pull
 * in, several MiB of resident libraries) which the daemon and `status`
 * must not carry.  `accel topo` (libxml2's xmlTextWriter) lives there too.
 * Is this command line one of them?
 */
bool cli_is_provisioning(int argc, char **argv);

/*
 * Run azl-agent-provision with the same arguments: the one beside this
 * program (a build tree), else the installed one.  Returns only on error.
 */
int cli_exec_provisioner(char **argv);
