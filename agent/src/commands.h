/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Subcommands.  Each gets argv from its own name on (argv[0] is the
 * command) and the global options given before it; it returns the exit
 * status.
 */
#include <stdbool.h>

struct global_options {
	const char *root;
	bool json;
};

int cmd_status(const struct global_options *g, int argc, char **argv);
int cmd_storvsc(const struct global_options *g, int argc, char **argv);
int cmd_netvsc(const struct global_options *g, int argc, char **argv);
int cmd_accel(const struct global_options *g, int argc, char **argv);
/* accel show|set (cmd_accel_kmod.c) and accel topo (cmd_accel_topo.c); argv[0] is the verb. */
int cmd_accel_kmod(const struct global_options *g, int argc, char **argv);
int cmd_accel_topo(const struct global_options *g, int argc, char **argv);
int cmd_kmod(const struct global_options *g, int argc, char **argv);
int cmd_kvp(const struct global_options *g, int argc, char **argv);
int cmd_affinity(const struct global_options *g, int argc, char **argv);
int cmd_daemon(const struct global_options *g, int argc, char **argv);
int cmd_provision(const struct global_options *g, int argc, char **argv);
int cmd_deprovision(const struct global_options *g, int argc, char **argv);
/* main() when started as hv_kvp_daemon (the drop-in, cmd_daemon.c). */
int hv_kvp_daemon_main(int argc, char **argv);
