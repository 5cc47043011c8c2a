// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "interrupts.h"

/* Shaped like a 4-vCPU Azure VM with a MANA VF (pci-hyperv MSI lines). */
static const char hyperv_sample[] =
	"            CPU0       CPU1       CPU2       CPU3       \n"
	"   1:          0          9          0          0   IO-APIC   1-edge      i8042\n"
	"   4:          0          0        312          0   IO-APIC   4-edge      ttyS0\n"
	"   9:          0          0          0          0   IO-APIC   9-fasteoi   acpi\n"
	"  24:          0          0          0         17  Hyper-V PCIe MSI 4138200989696-edge      mana_hwc@pci:7870:00:00.0\n"
	"  25:        211          0          0          0  Hyper-V PCIe MSI 4138200989697-edge      mana_q0@pci:7870:00:00.0\n"
	"NMI:          0          0          0          0   Non-maskable interrupts\n"
	"LOC:      10231       9922      11021       9710   Local timer interrupts\n"
	"HYP:       5120        130          0        977   Hypervisor callback interrupts\n"
	"HRE:          0          0          0          0   Hyper-V reenlightenment interrupts\n"
	"HVS:      33210      30111      29876      31002   Hyper-V stimer0 interrupts\n"
	"ERR:          0\n"
	"MIS:          0\n";

static void test_hyperv_sample(void **state)
{
	const struct irq_line *l;
	struct irq_table t;
	size_t bad;

	(void)state;
	assert_int_equal(interrupts_parse(hyperv_sample, &t, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(t.h.ncols, 4);
	assert_int_equal(t.h.col_cpu[3], 3);
	assert_int_equal(t.n, 12);

	l = interrupts_find(&t, "24");
	assert_non_null(l);
	assert_int_equal(l->irq, 24);
	assert_string_equal(l->chip, "Hyper-V PCIe MSI");
	assert_string_equal(l->hwirq, "4138200989696");
	assert_string_equal(l->trigger, "edge");
	assert_string_equal(l->text, "mana_hwc@pci:7870:00:00.0");
	assert_int_equal(interrupts_count(&t, (size_t)(l - t.lines), 3), 17);

	l = interrupts_find(&t, "9");
	assert_string_equal(l->chip, "IO-APIC");
	assert_string_equal(l->trigger, "fasteoi");
	assert_string_equal(l->text, "acpi");

	l = interrupts_find(&t, "HYP");
	assert_non_null(l);
	assert_int_equal(l->irq, -1);
	assert_string_equal(l->text, "Hypervisor callback interrupts");
	assert_int_equal(interrupts_count(&t, (size_t)(l - t.lines), 0), 5120);
	assert_int_equal(interrupts_count(&t, (size_t)(l - t.lines), 2), 0);

	l = interrupts_find(&t, "ERR");
	assert_int_equal(l->ncounts, 1);
	assert_int_equal(interrupts_count(&t, (size_t)(l - t.lines), 1), 0);
	interrupts_free(&t);
}

/* With CPU 1 offline the header skips it: columns are not CPU numbers. */
static void test_offline_cpu_columns(void **state)
{
	static const char text[] =
		"           CPU0       CPU2       CPU3\n"
		"HYP:          7          0          5   Hypervisor callback interrupts\n";
	struct irq_table t;
	size_t bad;

	(void)state;
	assert_int_equal(interrupts_parse(text, &t, &bad), 0);
	assert_int_equal(t.h.ncols, 3);
	assert_int_equal(t.h.col_cpu[1], 2);
	assert_int_equal(t.h.col_cpu[2], 3);
	assert_int_equal(interrupts_count(&t, 0, 2), 5);
	interrupts_free(&t);
}

static void expect_bad(const char *text, size_t line)
{
	struct irq_table t;
	size_t bad;

	assert_int_equal(interrupts_parse(text, &t, &bad), -EBADMSG);
	assert_int_equal(bad, line);
	assert_null(t.lines);
	assert_int_equal(t.n, 0);
}

static void test_malformed(void **state)
{
	char long_label[64];

	(void)state;
	expect_bad("", 1);
	expect_bad("garbage\n", 1);
	expect_bad("   CPU0 CPUx\n", 1);
	expect_bad("   CPU0\n  1 0 IO-APIC 1-edge i8042\n", 2);     /* no colon */
	expect_bad("   CPU0\n  1:   IO-APIC 1-edge i8042\n", 2);    /* no counts */
	expect_bad("   CPU0\n 1x:  3 IO-APIC 1-edge i8042\n", 2);   /* bad number */
	expect_bad("   CPU0\nN$I:  3 Non-maskable\n", 2);            /* bad label */
	memset(long_label, 'A', sizeof(long_label));
	memcpy(long_label + 40, ": 1\n", 5);
	char text[128] = "  CPU0\n";
	strcat(text, long_label);
	expect_bad(text, 2);
}

/* A file cut off mid-line (a short read) still parses what is whole. */
static void test_truncated_tail(void **state)
{
	static const char text[] = "   CPU0  CPU1\nNMI:  0  0  Non-maskable interrupts\nLOC:  12";
	struct irq_table t;
	size_t bad;

	(void)state;
	assert_int_equal(interrupts_parse(text, &t, &bad), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.lines[1].ncounts, 1);
	interrupts_free(&t);
}

/* arm64 prints the trigger as its own word: the chip field runs long and is cut, not fatal. */
static void test_long_descriptive_fields(void **state)
{
	static const char text[] =
		"           CPU0       CPU1\n"
		" 14:          3          0  Hyper-V PCIe MSI 1879048192 Edge      mlx5_comp12@pci:0101:00:00.0, "
		"mlx5_comp13@pci:0101:00:00.0, mlx5_comp14@pci:0101:00:00.0, mlx5_comp15@pci:0101:00:00.0, "
		"mlx5_comp16@pci:0101:00:00.0, mlx5_comp17@pci:0101:00:00.0\n";
	struct irq_table t;
	size_t bad;

	(void)state;
	assert_int_equal(interrupts_parse(text, &t, &bad), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.lines[0].irq, 14);
	assert_int_equal(strlen(t.lines[0].chip), sizeof(t.lines[0].chip) - 1);
	assert_int_equal(interrupts_count(&t, 0, 0), 3);
	interrupts_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hyperv_sample),
		cmocka_unit_test(test_offline_cpu_columns),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated_tail),
		cmocka_unit_test(test_long_descriptive_fields),
	};

	return cmocka_run_group_tests_name("interrupts", tests, NULL, NULL);
}
