// SPDX-License-Identifier: MIT
/* The kernel command line walker shared by azl-udev and the affinity facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_cmdline.h"

/* "name=value" of the next parameter, or "" at the end. */
static const char *next(const char **pos, char *buf, size_t size)
{
	struct cmdline_param p;

	if (!cmdline_next(pos, &p))
		return "";
	if (p.value)
		snprintf(buf, size, "%.*s=%.*s", (int)p.name_len, p.name, (int)p.value_len, p.value);
	else
		snprintf(buf, size, "%.*s", (int)p.name_len, p.name);
	return buf;
}

static void test_words(void **state)
{
	const char *pos = "  BOOT_IMAGE=/vmlinuz\tro isolcpus=\"managed_irq,1-3\" \"acpi=off x\" quiet\n";
	char buf[64];

	(void)state;
	assert_string_equal(next(&pos, buf, sizeof(buf)), "BOOT_IMAGE=/vmlinuz");
	assert_string_equal(next(&pos, buf, sizeof(buf)), "ro");
	assert_string_equal(next(&pos, buf, sizeof(buf)), "isolcpus=managed_irq,1-3");
	assert_string_equal(next(&pos, buf, sizeof(buf)), "acpi=off x");
	assert_string_equal(next(&pos, buf, sizeof(buf)), "quiet");
	assert_string_equal(next(&pos, buf, sizeof(buf)), "");
	assert_string_equal(next(&pos, buf, sizeof(buf)), "");
}

/* What follows "--" is init's; an unclosed quote runs to the end. */
static void test_end_and_quotes(void **state)
{
	const char *pos = "a=1 -- maxcpus=2", *open = "x=\"1 2";
	char buf[64];

	(void)state;
	assert_string_equal(next(&pos, buf, sizeof(buf)), "a=1");
	assert_string_equal(next(&pos, buf, sizeof(buf)), "");
	assert_string_equal(next(&open, buf, sizeof(buf)), "x=\"1 2");
	assert_string_equal(next(&open, buf, sizeof(buf)), "");
	pos = "";
	assert_string_equal(next(&pos, buf, sizeof(buf)), "");
}

static void test_param_is(void **state)
{
	const char *pos = "nr-cpus=4 maxcpus maxcpusx=1 max";
	struct cmdline_param p;

	(void)state;
	assert_true(cmdline_next(&pos, &p));
	assert_true(cmdline_param_is(&p, "nr_cpus"));
	assert_true(cmdline_next(&pos, &p));
	assert_true(cmdline_param_is(&p, "maxcpus"));
	assert_null(p.value);
	assert_true(cmdline_next(&pos, &p));
	assert_false(cmdline_param_is(&p, "maxcpus"));
	assert_true(cmdline_next(&pos, &p));
	assert_false(cmdline_param_is(&p, "maxcpus"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_end_and_quotes),
		cmocka_unit_test(test_param_is),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
