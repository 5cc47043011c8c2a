// SPDX-License-Identifier: MIT
/*
 * azl-irqbalance-policy DEVPATH IRQ: irqbalance's policy program.  The
 * control-socket ban (irqbalance.c) is lost when irqbalance restarts and
 * cannot carry the ~300 IRQs of an ND H200 v5 in irqbalance's 500-byte
 * command buffer.  A policy program has neither limit: irqbalance asks it
 * about every IRQ each time it rebuilds its IRQ list.  The irqbalance unit
 * starts it through our drop-in (systemd/irqbalance.service.d/).
 *
 * What irqbalance 1.9.x does with it (project Irqbalance/irqbalance:
 * classify.c get_irq_user_policy(), run_script_for_policy(),
 * parse_user_policy_key(), proc_irq_hotplug(); scan() in its irqbalance.c.
 * The strings of Debian's 1.9.2 binary match, and tests/affinity/policy.sh
 * runs that binary):
 *
 *  - When: rebuild_irq_db() asks once per IRQ, at start and at every
 *    rescan (SIGHUP, which upstream's udev rule 90-irqbalance.rules sends on
 *    each device add or remove; a change in the CPUs; a ban or CPU setting
 *    on the socket), and proc_irq_hotplug() asks about an IRQ that shows up
 *    in /proc/interrupts between rescans (a VF added back).  Hundreds of
 *    runs a rescan on a large VM, so this must be quick: no network, no
 *    IMDS, no planner.
 *  - How: popen("exec <script> <devpath> <irq>"), a shell command line, so
 *    the installed path must hold no blank.  devpath is the PCI device's
 *    link /sys/bus/pci/devices/<bdf> (into /sys/devices), or /sys itself
 *    for an IRQ with no device (IO-APIC, say).
 *  - Output: lines of at most 127 bytes, each "key=value" (keys and values
 *    case-insensitive): ban=true|false, balance_level=none|package|cache|
 *    core, numa_node=<n>, hintpolicy=exact|subset|ignore.  Anything else is
 *    logged and ignored; no output keeps irqbalance's defaults.  ban=true
 *    puts the IRQ on a ban list of its own (not the one "setup" shows) and
 *    irqbalance never writes its smp_affinity until a rescan asks again.
 *  - Exit status, when --policyscript names a file: anything but 0 throws
 *    the output away and logs "policy script returned non-zero code!" at
 *    LOG_ERR, which under systemd reaches the journal for every IRQ
 *    whatever the log level.  So "no opinion" is exit 0 with no output.
 *  - When it names a directory, each executable file in it runs in readdir
 *    order: 0 means "this policy is the answer" and stops the walk, 1 "not
 *    mine" and the walk goes on, 2 or more an error (logged, goes on).  Our
 *    exit 0 answers for every IRQ there, so this program is meant to be the
 *    --policyscript file, as our drop-in sets it.
 *
 * We answer ban=true for a vPCI function when [affinity] says the agent
 * places device IRQs, and nothing otherwise.  The configuration is read
 * only for a vPCI function: an IRQ of anything else costs path lookups
 * only.  An unreadable configuration gives no answer (the daemon does not
 * run with one either), a message on stderr (irqbalance's journal) and
 * exit 1.  Bad arguments: a usage line on stderr and exit 2, nothing on
 * stdout.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "irqbalance_policy.h"
#include "sysfile.h"

#define PROG "azl-irqbalance-policy"

/* "0101:00:02.0": domain (4 to 8 hex digits), bus, device, function. */
static bool is_pci_addr(const char *s)
{
	static const char shape[] = "xx:xx.f";
	size_t n = strlen(s), dom;

	if (n < 4 + sizeof(shape) || n > 8 + sizeof(shape))
		return false;
	dom = n - sizeof(shape);
	for (size_t i = 0; i < dom; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	if (s[dom] != ':')
		return false;
	for (size_t i = 0; shape[i]; i++) {
		unsigned char c = (unsigned char)s[dom + 1 + i];

		if (shape[i] == 'x' ? !isxdigit(c) :
		    shape[i] == 'f' ? c < '0' || c > '7' : c != (unsigned char)shape[i])
			return false;
	}
	return true;
}

int irqb_policy_vpci(const struct root *r, const char *devpath)
{
	const char *sys = root_dir_name(ROOT_SYS), *rel, *tail, *base;
	char path[PATH_MAX], top[PATH_MAX], real[PATH_MAX];
	size_t n = strlen(sys);
	int len;

	if (strncmp(devpath, sys, n) != 0 || (devpath[n] != '/' && devpath[n] != '\0'))
		return -EINVAL;
	for (rel = devpath + n; *rel == '/'; rel++)
		;
	if (!*rel)
		return 0; /* an IRQ without a device */
	if (root_path(r, ROOT_SYS, path, sizeof(path), "%s", rel) < 0 ||
	    root_path(r, ROOT_SYS, top, sizeof(top), "%s", "") < 0)
		return 0;
	/*
	 * The device's own directory, symlinks resolved inside the tree: a
	 * passed-through function lives under its VMBus device (the same
	 * test as facts_pci.c).  A path that leaves the tree ("..", a link
	 * out of a fixture) is no device of it.
	 */
	len = resolve_under(top, path, real);
	if (len < 0 || real[len] != '/')
		return 0;
	tail = real + len;
	base = strrchr(tail, '/') + 1;
	return strstr(tail, "/VMBUS:") != NULL && is_pci_addr(base);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: " PROG " DEVPATH IRQ   (irqbalance --policyscript)\n");
}

/* 1: the agent places device IRQs, 0: it does not, <0: unreadable config. */
static int we_place_irqs(const struct root *r)
{
	struct agent_config cfg;
	char err[512];

	if (config_load(r, NULL, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s; no policy given\n", err);
		return -EINVAL;
	}
	return cfg.affinity.enabled && cfg.affinity.irqs;
}

int irqbalance_policy_main(int argc, char **argv)
{
	struct root r;
	long irq;
	int vpci, place;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc != 3 || parse_long(argv[2], &irq) < 0 || irq < 0 || irq > INT_MAX) {
		usage(stderr);
		return 2;
	}
	if (root_init(&r, NULL) < 0) {
		fprintf(stderr, PROG ": AZL_ROOT is too long\n");
		return 2;
	}
	vpci = irqb_policy_vpci(&r, argv[1]);
	if (vpci < 0) {
		fprintf(stderr, PROG ": '%s' is not a device path under %s\n", argv[1],
			root_dir_name(ROOT_SYS));
		usage(stderr);
		return 2;
	}
	if (!vpci)
		return 0;
	place = we_place_irqs(&r);
	if (place < 0)
		return 1;
	if (place && (fputs("ban=true\n", stdout) == EOF || fflush(stdout) == EOF))
		return 1;
	return 0;
}
