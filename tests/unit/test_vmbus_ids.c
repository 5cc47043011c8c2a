// SPDX-License-Identifier: MIT
/* VMBus class ids and the DMI vmId byte swap. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "vmbus_class.h"
#include "vmid.h"

static void test_class_lookup(void **state)
{
	const struct vmbus_class *c;

	(void)state;
	c = vmbus_class_lookup("{f8615163-df3e-46c5-913f-f2d2f965ed0e}");
	assert_non_null(c);
	assert_string_equal(c->kind, "network");
	assert_true(c->perf);
	c = vmbus_class_lookup("BA6163D9-04A1-4D29-B605-72E2FFB1DC7F");
	assert_non_null(c);
	assert_string_equal(c->kind, "storage");
	c = vmbus_class_lookup("{a9a0f4e7-5a45-4d96-b827-8a841e8c03e6}");
	assert_non_null(c);
	assert_string_equal(c->description, "Data Exchange");
	assert_false(c->perf);
	c = vmbus_class_lookup("{44c4f61d-4444-4400-9d52-802e27ede19f}");
	assert_non_null(c);
	assert_string_equal(c->kind, "vpci");
	assert_false(c->perf); /* pass-through channels stay on CPU 0 */
}

static void test_class_unknown_and_malformed(void **state)
{
	(void)state;
	assert_null(vmbus_class_lookup("{00000000-0000-0000-0000-000000000000}"));
	assert_null(vmbus_class_lookup("{f8615163-df3e-46c5-913f-f2d2f965ed0e"));
	assert_null(vmbus_class_lookup("f8615163df3e46c5913ff2d2f965ed0e"));
	assert_null(vmbus_class_lookup("{f8615163-df3e-46c5-913f-f2d2f965ed0g}"));
	assert_null(vmbus_class_lookup(""));
}

static void test_vmid_gen2_is_verbatim(void **state)
{
	char id[37];

	(void)state;
	assert_int_equal(vmid_from_product_uuid("D5C4A1F2-7B3E-4C21-9A8B-1234567890AB", false, id), 0);
	assert_string_equal(id, "d5c4a1f2-7b3e-4c21-9a8b-1234567890ab");
}

static void test_vmid_gen1_swaps_three_fields(void **state)
{
	char id[37];

	(void)state;
	/* The first three fields are stored little-endian by SMBIOS 2.3 firmware. */
	assert_int_equal(vmid_from_product_uuid("f2a1c4d5-3e7b-214c-9a8b-1234567890ab", true, id), 0);
	assert_string_equal(id, "d5c4a1f2-7b3e-4c21-9a8b-1234567890ab");
	/* Swapping twice gives the original back. */
	assert_int_equal(vmid_from_product_uuid(id, true, id), 0);
	assert_string_equal(id, "f2a1c4d5-3e7b-214c-9a8b-1234567890ab");
}

static void test_vmid_rejects_garbage(void **state)
{
	char id[37];

	(void)state;
	assert_int_equal(vmid_from_product_uuid("not-a-uuid", false, id), -EINVAL);
	assert_int_equal(vmid_from_product_uuid("", true, id), -EINVAL);
	assert_int_equal(vmid_from_product_uuid("d5c4a1f2-7b3e-4c21-9a8b-1234567890abff", false, id),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_lookup),
		cmocka_unit_test(test_class_unknown_and_malformed),
		cmocka_unit_test(test_vmid_gen2_is_verbatim),
		cmocka_unit_test(test_vmid_gen1_swaps_three_fields),
		cmocka_unit_test(test_vmid_rejects_garbage),
	};

	return cmocka_run_group_tests_name("vmbus_ids", tests, NULL, NULL);
}
