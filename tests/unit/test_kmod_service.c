// SPDX-License-Identifier: MIT
/* Which module events make the daemon re-plan, and module names by family. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/ethtool_netlink.h>

#include <azl_accel.h>
#include <azl_netvsc.h>
#include <azl_vmbus.h>

#include "kmod_push.h"
#include "kmod_service.h"

static void test_relevant_events(void **state)
{
	(void)state;
	for (uint8_t c = AZL_NETVSC_CMD_DEV_ADD; c <= AZL_NETVSC_CMD_APPLIED; c++)
		assert_true(kmod_event_relevant(KMOD_EV_NETVSC, c));
	/* Requests are not events. */
	assert_false(kmod_event_relevant(KMOD_EV_NETVSC, AZL_NETVSC_CMD_GET_DEVICES));
	assert_false(kmod_event_relevant(KMOD_EV_NETVSC, AZL_NETVSC_CMD_SET_POLICY));
	assert_false(kmod_event_relevant(KMOD_EV_NETVSC, 200));

	/* A device's IRQs come with its driver: add alone changes nothing to place. */
	assert_false(kmod_event_relevant(KMOD_EV_ACCEL, AZL_ACCEL_CMD_DEV_ADD));
	assert_true(kmod_event_relevant(KMOD_EV_ACCEL, AZL_ACCEL_CMD_DEV_BOUND));
	assert_true(kmod_event_relevant(KMOD_EV_ACCEL, AZL_ACCEL_CMD_DEV_UNBOUND));
	assert_true(kmod_event_relevant(KMOD_EV_ACCEL, AZL_ACCEL_CMD_DEV_REMOVE));
	assert_true(kmod_event_relevant(KMOD_EV_ACCEL, AZL_ACCEL_CMD_NODE_SET));
	assert_false(kmod_event_relevant(KMOD_EV_ACCEL, AZL_ACCEL_CMD_GET_POLICY));

	assert_true(kmod_event_relevant(KMOD_EV_VMBUS, AZL_VMBUS_CMD_CHANNEL_ADD));
	assert_true(kmod_event_relevant(KMOD_EV_VMBUS, AZL_VMBUS_CMD_DEVICE_RESCIND));
	assert_false(kmod_event_relevant(KMOD_EV_VMBUS, AZL_VMBUS_CMD_GET_CHANNELS));

	/* Of ethtool's notifications, only a channel change moves anything. */
	assert_true(kmod_event_relevant(KMOD_EV_ETHTOOL, ETHTOOL_MSG_CHANNELS_NTF));
	assert_false(kmod_event_relevant(KMOD_EV_ETHTOOL, ETHTOOL_MSG_FEATURES_NTF));
	assert_false(kmod_event_relevant(KMOD_EV_ETHTOOL, ETHTOOL_MSG_RINGS_NTF));
	assert_false(kmod_event_relevant(KMOD_EV_COUNT, AZL_NETVSC_CMD_DEV_ADD));
}

static void test_module_names(void **state)
{
	(void)state;
	assert_int_equal(kmod_module_of_family(AZL_NETVSC_GENL_NAME), KMOD_NETVSC);
	assert_int_equal(kmod_module_of_family(AZL_ACCEL_GENL_NAME), KMOD_ACCEL);
	assert_int_equal(kmod_module_of_family("azl_storvsc"), KMOD_STORVSC);
	/* azl_vmbus has no policy to push. */
	assert_int_equal(kmod_module_of_family(AZL_VMBUS_GENL_NAME), KMOD_COUNT);
	assert_int_equal(kmod_module_of_family("nlctrl"), KMOD_COUNT);
	assert_int_equal(kmod_module_of_family(NULL), KMOD_COUNT);
	assert_string_equal(kmod_module_name(KMOD_ACCEL), "azl_accel");
	assert_null(kmod_module_name(KMOD_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relevant_events),
		cmocka_unit_test(test_module_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
