// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "cpuset.h"

static void list_roundtrip(const char *in, const char *canon, unsigned int count)
{
	struct cpuset s;
	char buf[256];

	assert_int_equal(cpuset_parse_list(in, &s), 0);
	assert_int_equal(cpuset_count(&s), count);
	assert_int_equal(cpuset_format_list(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, canon);
}

static void test_lists(void **state)
{
	(void)state;
	list_roundtrip("0", "0", 1);
	list_roundtrip("0-3", "0-3", 4);
	list_roundtrip("0-3,8,10-11\n", "0-3,8,10-11", 7);
	list_roundtrip("3,2,1,0", "0-3", 4); /* canonical order */
	list_roundtrip("", "", 0);           /* isolated/nohz_full when unset */
	list_roundtrip("\n", "", 0);
	list_roundtrip("0-95", "0-95", 96);
	list_roundtrip("8191", "8191", 1);
}

static void test_list_errors(void **state)
{
	struct cpuset s;

	(void)state;
	assert_int_equal(cpuset_parse_list("3-1", &s), -EINVAL);
	assert_int_equal(cpuset_parse_list("a", &s), -EINVAL);
	assert_int_equal(cpuset_parse_list("1,", &s), -EINVAL);
	assert_int_equal(cpuset_parse_list("1-", &s), -EINVAL);
	assert_int_equal(cpuset_parse_list("-1", &s), -EINVAL);
	assert_int_equal(cpuset_parse_list("1 2", &s), -EINVAL);
	assert_int_equal(cpuset_parse_list("8192", &s), -ERANGE);
	assert_int_equal(cpuset_parse_list("99999999999999999999", &s), -ERANGE);
}

static void test_masks(void **state)
{
	struct cpuset s;
	char buf[256];

	(void)state;
	/* The ND H200 v5 node masks from the NCCL topology file. */
	assert_int_equal(cpuset_parse_mask("00000000,0000ffff,ffffffff", &s), 0);
	assert_int_equal(cpuset_format_list(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0-47");
	assert_int_equal(cpuset_parse_mask("ffffffff,ffff0000,00000000\n", &s), 0);
	assert_int_equal(cpuset_format_list(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "48-95");
	assert_int_equal(cpuset_parse_mask("5", &s), 0);
	assert_int_equal(cpuset_format_list(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0,2");
	assert_int_equal(cpuset_parse_mask("", &s), -EINVAL);
	assert_int_equal(cpuset_parse_mask("xyz", &s), -EINVAL);
}

static void test_format_too_small(void **state)
{
	struct cpuset s;
	char buf[4];

	(void)state;
	assert_int_equal(cpuset_parse_list("0,2,4,6,8", &s), 0);
	assert_int_equal(cpuset_format_list(&s, buf, sizeof(buf)), -ENOSPC);
	assert_int_equal(cpuset_last(&s), 8);
	cpuset_zero(&s);
	assert_int_equal(cpuset_last(&s), -1);
	assert_true(cpuset_empty(&s));
}

static void mask_is(const char *list, unsigned int nbits, const char *want)
{
	struct cpuset s, back;
	char buf[2200];

	assert_int_equal(cpuset_parse_list(list, &s), 0);
	assert_int_equal(cpuset_format_mask(&s, nbits, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	/* What we print, the parser (and the kernel's bitmap_parse) reads back. */
	assert_int_equal(cpuset_parse_mask(buf, &back), 0);
	assert_memory_equal(&s, &back, sizeof(s));
}

static void test_format_mask(void **state)
{
	struct cpuset s, big;
	char buf[2304];
	char small[8];

	(void)state;
	/* The fixtures' xps_cpus and smp_affinity files, as the kernel prints them. */
	mask_is("0-1", 2, "3");
	mask_is("", 2, "0");
	mask_is("0", 64, "00000000,00000001");
	mask_is("", 64, "00000000,00000000");
	mask_is("0", 96, "00000000,00000000,00000001");
	mask_is("0-47", 96, "00000000,0000ffff,ffffffff");
	mask_is("48-95", 96, "ffffffff,ffff0000,00000000");
	mask_is("31-32,63-64,95", 96, "80000001,80000001,80000000");
	mask_is("0-3", 4, "f");
	mask_is("4", 5, "10");
	mask_is("32", 33, "1,00000000");
	mask_is("0-31", 32, "ffffffff");
	mask_is("0", 40, "00,00000001");
	/* 8192 bits: 256 groups, 2303 characters with the commas. */
	cpuset_zero(&big);
	cpuset_set(&big, 8191);
	assert_int_equal(cpuset_format_mask(&big, CPUSET_MAX, buf, 2303), -ENOSPC);
	assert_int_equal(cpuset_format_mask(&big, CPUSET_MAX, buf, 2304), 0);
	assert_int_equal(strlen(buf), 2303);
	assert_memory_equal(buf, "80000000,00000000,", 18);
	assert_int_equal(cpuset_parse_list("95", &s), 0);
	assert_int_equal(cpuset_format_mask(&s, 95, buf, sizeof(buf)), -ERANGE);
	assert_int_equal(cpuset_format_mask(&s, 0, buf, sizeof(buf)), -ERANGE);
	assert_int_equal(cpuset_format_mask(&s, CPUSET_MAX + 1, buf, sizeof(buf)), -ERANGE);
	assert_int_equal(cpuset_format_mask(&s, 96, small, sizeof(small)), -ENOSPC);
	assert_int_equal(cpuset_format_mask(&s, 96, buf, 0), -ENOSPC);
}

static void test_single(void **state)
{
	struct cpuset s;

	(void)state;
	cpuset_zero(&s);
	assert_int_equal(cpuset_single(&s), -1);
	cpuset_set(&s, 8191);
	assert_int_equal(cpuset_single(&s), 8191);
	cpuset_set(&s, 0);
	assert_int_equal(cpuset_single(&s), -1); /* two words */
	cpuset_zero(&s);
	cpuset_set(&s, 64);
	assert_int_equal(cpuset_single(&s), 64);
	cpuset_set(&s, 65);
	assert_int_equal(cpuset_single(&s), -1); /* one word, two bits */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_format_too_small),
		cmocka_unit_test(test_format_mask),
		cmocka_unit_test(test_single),
	};

	return cmocka_run_group_tests_name("cpuset", tests, NULL, NULL);
}
