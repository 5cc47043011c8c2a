// SPDX-License-Identifier: MIT
/*
 * azl-irqbalance-policy (irqbalance_policy.c) in a scratch tree: which
 * device paths are vPCI functions, what it prints for each configuration,
 * and that bad arguments print nothing on stdout.  tests/affinity/policy.sh
 * runs it under the real irqbalance.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "irqbalance_policy.h"

/* Where pci-hyperv puts a function, and where an emulated one lives. */
#define VMBUS_DEV "sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/" \
		  "e9ac9b28-cf63-4466-9ae3-4b849c3ee03b"
#define VPCI_FN VMBUS_DEV "/pcicf63:00/cf63:00:02.0"
#define PLAIN_FN "sys/devices/pci0000:00/0000:00:07.1"

struct t {
	char dir[64];
	struct root root;
	char out[256]; /* what main printed on stdout */
};

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void put(struct t *t, const char *rel, const char *content)
{
	char path[512];
	FILE *f;

	sh("mkdir -p \"$(dirname '%s/%s')\"", t->dir, rel);
	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void link_to(struct t *t, const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/azl-irqbpol-XXXXXX");
	if (!mkdtemp(t->dir) || root_init(&t->root, t->dir) < 0)
		return -1;
	*state = t;
	put(t, VPCI_FN "/numa_node", "0\n");
	put(t, VPCI_FN "/msi_irqs/25", "msix\n");
	put(t, PLAIN_FN "/numa_node", "-1\n");
	put(t, VMBUS_DEV "/class_id", "{44c4f61d-4444-4400-9d52-802e27ede19f}\n");
	sh("mkdir -p '%s/sys/bus/pci/devices'", t->dir);
	/* Relative links, as sysfs writes them. */
	link_to(t, "../../../devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/"
		   "e9ac9b28-cf63-4466-9ae3-4b849c3ee03b/pcicf63:00/cf63:00:02.0",
		"sys/bus/pci/devices/cf63:00:02.0");
	link_to(t, "../../../devices/pci0000:00/0000:00:07.1",
		"sys/bus/pci/devices/0000:00:07.1");
	return setenv("AZL_ROOT", t->dir, 1);
}

static int teardown(void **state)
{
	struct t *t = *state;

	unsetenv("AZL_ROOT");
	sh("rm -rf '%s'", t->dir);
	free(t);
	return 0;
}

/* Run the program's main with stdout and stderr caught; t->out gets stdout. */
static int run(struct t *t, int argc, const char *a1, const char *a2, const char *a3)
{
	char *argv[] = { "azl-irqbalance-policy", (char *)a1, (char *)a2, (char *)a3, NULL };
	char path[128];
	int saved_out, saved_err, fd, null, ret;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stdout", t->dir);
	fflush(stdout);
	fflush(stderr);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fd, 1);
	null = open("/dev/null", O_WRONLY);
	assert_true(null >= 0);
	dup2(null, 2);
	close(null);
	ret = irqbalance_policy_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	n = pread(fd, t->out, sizeof(t->out) - 1, 0);
	assert_true(n >= 0);
	t->out[n] = '\0';
	close(fd);
	return ret;
}

/* ---- which paths are vPCI functions --------------------------------- */

static void test_vpci_through_the_bus_link(void **state)
{
	struct t *t = *state;

	assert_int_equal(irqb_policy_vpci(&t->root, "/sys/bus/pci/devices/cf63:00:02.0"), 1);
	/* The device's own path (an irqbalance that resolves it first). */
	assert_int_equal(irqb_policy_vpci(&t->root, "/" VPCI_FN), 1);
	assert_int_equal(irqb_policy_vpci(&t->root, "/sys//bus/pci/devices/cf63:00:02.0/"), 1);
}

static void test_not_vpci(void **state)
{
	struct t *t = *state;

	/* An emulated PCI function, an IRQ without a device, nothing there. */
	assert_int_equal(irqb_policy_vpci(&t->root, "/sys/bus/pci/devices/0000:00:07.1"), 0);
	assert_int_equal(irqb_policy_vpci(&t->root, "/sys"), 0);
	assert_int_equal(irqb_policy_vpci(&t->root, "/sys/"), 0);
	assert_int_equal(irqb_policy_vpci(&t->root, "/sys/bus/pci/devices/cf63:00:03.0"), 0);
	/* Under VMBus, but no PCI function: the VMBus device, the PCI bus, a file. */
	assert_int_equal(irqb_policy_vpci(&t->root, "/" VMBUS_DEV), 0);
	assert_int_equal(irqb_policy_vpci(&t->root, "/" VMBUS_DEV "/pcicf63:00"), 0);
	assert_int_equal(irqb_policy_vpci(&t->root, "/" VPCI_FN "/msi_irqs"), 0);
}

static void test_paths_out_of_the_tree(void **state)
{
	struct t *t = *state;
	char outside[256], rel[64];

	/* ".." that stays in the tree is fine; out of it is no device. */
	assert_int_equal(irqb_policy_vpci(&t->root, "/sys/../" VPCI_FN), 1);
	assert_int_equal(irqb_policy_vpci(&t->root, "/sys/../.."), 0);
	/* A link to a look-alike outside the tree. */
	snprintf(outside, sizeof(outside), "%s-out/VMBUS:00/x/cf63:00:04.0", t->dir);
	sh("mkdir -p '%s'", outside);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/cf63:00:04.0");
	link_to(t, outside, rel);
	assert_int_equal(irqb_policy_vpci(&t->root, "/sys/bus/pci/devices/cf63:00:04.0"), 0);
	sh("rm -rf '%s-out'", t->dir);
}

static void test_not_a_sysfs_path(void **state)
{
	struct t *t = *state;

	assert_int_equal(irqb_policy_vpci(&t->root, "/proc/irq/25"), -EINVAL);
	assert_int_equal(irqb_policy_vpci(&t->root, "/sysfoo/bus"), -EINVAL);
	assert_int_equal(irqb_policy_vpci(&t->root, "sys/bus/pci/devices/cf63:00:02.0"), -EINVAL);
	assert_int_equal(irqb_policy_vpci(&t->root, ""), -EINVAL);
}

static void test_pci_address_shapes(void **state)
{
	struct t *t = *state;
	static const struct {
		const char *name;
		int want;
	} cases[] = {
		{ "0001:00:00.0", 1 },     { "deadbeef:1f:1f.7", 1 }, { "001:00:00.0", 0 },
		{ "123456789:00:00.0", 0 }, { "0001:00:00.8", 0 },    { "0001:0g:00.0", 0 },
		{ "0001-00:00.0", 0 },      { "0001:00:00:0", 0 },    { "0001:00:00.00", 0 },
	};
	char rel[256], dev[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rel, sizeof(rel), VMBUS_DEV "/pcix/%s/numa_node", cases[i].name);
		put(t, rel, "0\n");
		snprintf(dev, sizeof(dev), "/" VMBUS_DEV "/pcix/%s", cases[i].name);
		if (irqb_policy_vpci(&t->root, dev) != cases[i].want)
			fail_msg("%s: want %d", cases[i].name, cases[i].want);
	}
}

/* ---- what the program says ------------------------------------------ */

static void test_bans_vpci_by_default(void **state)
{
	struct t *t = *state;

	/* No configuration file: the defaults place device IRQs. */
	assert_int_equal(run(t, 3, "/sys/bus/pci/devices/cf63:00:02.0", "25", NULL), 0);
	assert_string_equal(t->out, "ban=true\n");
	assert_int_equal(run(t, 3, "/sys/bus/pci/devices/0000:00:07.1", "40", NULL), 0);
	assert_string_equal(t->out, "");
	assert_int_equal(run(t, 3, "/sys", "4", NULL), 0);
	assert_string_equal(t->out, "");
}

static void test_configuration_turns_it_off(void **state)
{
	struct t *t = *state;

	put(t, "etc/azl-agent.conf", "[affinity]\nirqs = no\n");
	assert_int_equal(run(t, 3, "/sys/bus/pci/devices/cf63:00:02.0", "25", NULL), 0);
	assert_string_equal(t->out, "");
	put(t, "etc/azl-agent.conf", "[affinity]\nenabled = no\n");
	assert_int_equal(run(t, 3, "/sys/bus/pci/devices/cf63:00:02.0", "25", NULL), 0);
	assert_string_equal(t->out, "");
	/* A drop-in that turns it back on wins over the main file. */
	put(t, "etc/azl-agent.conf.d/50-on.conf", "[affinity]\nenabled = yes\n");
	assert_int_equal(run(t, 3, "/sys/bus/pci/devices/cf63:00:02.0", "25", NULL), 0);
	assert_string_equal(t->out, "ban=true\n");
}

static void test_broken_configuration_gives_no_policy(void **state)
{
	struct t *t = *state;

	put(t, "etc/azl-agent.conf", "[affinity]\nirqs = perhaps\n");
	assert_int_equal(run(t, 3, "/sys/bus/pci/devices/cf63:00:02.0", "25", NULL), 1);
	assert_string_equal(t->out, "");
	/* Read only for a vPCI function: anything else answers as before. */
	assert_int_equal(run(t, 3, "/sys/bus/pci/devices/0000:00:07.1", "40", NULL), 0);
	assert_string_equal(t->out, "");
}

static void test_bad_arguments(void **state)
{
	struct t *t = *state;
	static const char *irqs[] = { "", "x", "25x", "-1", "99999999999", " 25" };

	assert_int_equal(run(t, 1, NULL, NULL, NULL), 2);
	assert_string_equal(t->out, "");
	assert_int_equal(run(t, 2, "/sys/bus/pci/devices/cf63:00:02.0", NULL, NULL), 2);
	assert_string_equal(t->out, "");
	assert_int_equal(run(t, 4, "/sys/bus/pci/devices/cf63:00:02.0", "25", "26"), 2);
	assert_string_equal(t->out, "");
	for (size_t i = 0; i < sizeof(irqs) / sizeof(irqs[0]); i++) {
		if (run(t, 3, "/sys/bus/pci/devices/cf63:00:02.0", irqs[i], NULL) != 2 ||
		    t->out[0])
			fail_msg("IRQ '%s': want exit 2 and no output, got '%s'", irqs[i], t->out);
	}
	assert_int_equal(run(t, 3, "/proc/irq/25", "25", NULL), 2);
	assert_string_equal(t->out, "");
	assert_int_equal(run(t, 2, "--help", NULL, NULL), 0);
	assert_non_null(strstr(t->out, "usage: azl-irqbalance-policy DEVPATH IRQ"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_vpci_through_the_bus_link),
		T(test_not_vpci),
		T(test_paths_out_of_the_tree),
		T(test_not_a_sysfs_path),
		T(test_pci_address_shapes),
		T(test_bans_vpci_by_default),
		T(test_configuration_turns_it_off),
		T(test_broken_configuration_gives_no_policy),
		T(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
