// SPDX-License-Identifier: MIT
/*
 * azl-udev cpu: the CPU hot-add rule's decision.  A CPU offline on purpose
 * (maxcpus=, nr_cpus=, SMT off) is left alone; a hot-added one comes up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "udev_tree.h"

#include "root.h"
#include "udev_cpu.h"

static void test_cmdline(void **state)
{
	(void)state;
	assert_false(udev_cmdline_limits_cpus(""));
	assert_false(udev_cmdline_limits_cpus("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n"));
	assert_true(udev_cmdline_limits_cpus("root=/dev/sda1 maxcpus=2"));
	assert_true(udev_cmdline_limits_cpus("maxcpus=0 ro"));
	assert_true(udev_cmdline_limits_cpus("ro\tnr_cpus=4\n"));
	assert_true(udev_cmdline_limits_cpus("ro nr-cpus=4")); /* the kernel: '-' == '_' */
	assert_true(udev_cmdline_limits_cpus("maxcpus"));      /* a value-less form is still asked */
	/* Other parameters that only look alike. */
	assert_false(udev_cmdline_limits_cpus("xmaxcpus=2 maxcpus2=1 nr_cpus_x=3 possible_cpus=8"));
	assert_false(udev_cmdline_limits_cpus("nosmt=force isolcpus=2-3"));
	/* Inside a quoted value: one word, not a parameter. */
	assert_false(udev_cmdline_limits_cpus("dyndbg=\"file x.c maxcpus=2\" ro"));
	/* After "--": init's, not the kernel's. */
	assert_false(udev_cmdline_limits_cpus("ro -- maxcpus=2"));
	assert_true(udev_cmdline_limits_cpus("ro --x maxcpus=2"));
}

static void test_smt(void **state)
{
	(void)state;
	assert_true(udev_smt_allows("on"));
	assert_true(udev_smt_allows("notsupported"));
	assert_true(udev_smt_allows("notimplemented"));
	assert_true(udev_smt_allows(NULL));
	assert_false(udev_smt_allows("off"));
	assert_false(udev_smt_allows("forceoff"));
	assert_false(udev_smt_allows("2"));
	assert_false(udev_smt_allows(""));
	assert_false(udev_smt_allows("On"));
}

/* A tree with cpu1's online (NULL: no file), a command line and an SMT control (NULL: none). */
static int cpu_of(const char *online, const char *cmdline, const char *smt)
{
	struct tree t;
	struct root r;
	int ret;

	tree_init(&t);
	tree_dir(&t, "sys/devices/system/cpu/cpu1");
	if (online)
		tree_file(&t, "sys/devices/system/cpu/cpu1/online", online);
	if (cmdline)
		tree_file(&t, "proc/cmdline", cmdline);
	if (smt)
		tree_file(&t, "sys/devices/system/cpu/smt/control", smt);
	assert_int_equal(root_init(&r, t.root), 0);
	ret = udev_cpu_identify(&r, "cpu1");
	tree_free(&t);
	return ret;
}

static void test_identify(void **state)
{
	const char *cmd = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro console=ttyS0\n";

	(void)state;
	/* Hot-added and offline: bring it up. */
	assert_int_equal(cpu_of("0\n", cmd, "on\n"), 1);
	assert_int_equal(cpu_of("0\n", cmd, "notsupported\n"), 1);
	assert_int_equal(cpu_of("0\n", cmd, "notimplemented\n"), 1);
	assert_int_equal(cpu_of("0\n", cmd, NULL), 1);
	/* Already online, or no switch at all. */
	assert_int_equal(cpu_of("1\n", cmd, "on\n"), 0);
	assert_int_equal(cpu_of(NULL, cmd, "on\n"), 0);
	/* Offline on purpose. */
	assert_int_equal(cpu_of("0\n", "ro maxcpus=1\n", "on\n"), 0);
	assert_int_equal(cpu_of("0\n", "ro nr_cpus=2\n", "on\n"), 0);
	assert_int_equal(cpu_of("0\n", cmd, "off\n"), 0);
	assert_int_equal(cpu_of("0\n", "ro nosmt\n", "forceoff\n"), 0);
	/* A command line that cannot be read: a problem, not a yes. */
	assert_int_equal(cpu_of("0\n", NULL, "on\n"), -ENOENT);
	assert_int_equal(cpu_of("0\n", "ro\0maxcpus=1", "on\n"), 1); /* tree_file stops at the NUL */
}

static void test_names_and_print(void **state)
{
	struct tree t;
	struct root r;
	char *out = NULL;

	(void)state;
	tree_init(&t);
	tree_file(&t, "sys/devices/system/cpu/cpu1/online", "0\n");
	tree_file(&t, "proc/cmdline", "ro\n");
	assert_int_equal(root_init(&r, t.root), 0);
	assert_int_equal(udev_cpu_identify(&r, "cpu1"), 1);
	assert_int_equal(udev_cpu_identify(&r, "cpu"), 0);
	assert_int_equal(udev_cpu_identify(&r, "cpu1a"), 0);
	assert_int_equal(udev_cpu_identify(&r, "memory1"), 0);
	assert_int_equal(udev_cpu_identify(&r, "cpu2"), 0); /* not there: no switch */
	/* A NUL inside the command line: refused rather than half read. */
	{
		char p[PATH_MAX];
		FILE *f;

		snprintf(p, sizeof(p), "%s/proc/cmdline", t.root);
		f = fopen(p, "w");
		assert_non_null(f);
		fwrite("ro\0maxcpus=1\n", 1, 13, f);
		fclose(f);
	}
	assert_int_equal(udev_cpu_identify(&r, "cpu1"), -EBADMSG);
	tree_free(&t);
	CAPTURE(udev_cpu_print(f_), out);
	assert_string_equal(out, "AZL_CPU_ONLINE=1\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_smt),
		cmocka_unit_test(test_identify),
		cmocka_unit_test(test_names_and_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
