// SPDX-License-Identifier: MIT
/*
 * Decoding the replies of our kernel modules: messages are built here the
 * way the modules build them, then validated and decoded by the agent's
 * code.  Short or missing attributes must be refused, never read past.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <azl_storvsc.h>
#include <azl_vmbus.h>

#include "kmod_storvsc.h"
#include "kmod_vmbus.h"

/* A GET_CHANNELS-style message with the kernel's guid_t byte order. */
static const uint8_t nic_instance[16] = {
	0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};
/* f8615163-df3e-46c5-913f-f2d2f965ed0e (synthetic NIC) as guid_t bytes */
static const uint8_t nic_class[16] = {
	0x63, 0x51, 0x61, 0xf8, 0x3e, 0xdf, 0xc5, 0x46,
	0x91, 0x3f, 0xf2, 0xd2, 0xf9, 0x65, 0xed, 0x0e,
};

static struct nl_msg *new_msg(uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	assert_non_null(m);
	assert_non_null(genlmsg_put(m, 0, 0, 42, 0, 0, cmd, 1));
	return m;
}

static struct nl_msg *channel_msg(uint32_t relid, uint16_t sub, uint32_t cpu)
{
	struct nl_msg *m = new_msg(AZL_VMBUS_CMD_GET_CHANNELS);

	assert_int_equal(nla_put(m, AZL_VMBUS_A_DEV_INSTANCE, 16, nic_instance), 0);
	assert_int_equal(nla_put(m, AZL_VMBUS_A_DEV_CLASS, 16, nic_class), 0);
	assert_int_equal(nla_put_string(m, AZL_VMBUS_A_DEV_CLASS_NAME, "network"), 0);
	assert_int_equal(nla_put_u32(m, AZL_VMBUS_A_DEV_NUMA_NODE, (uint32_t)-1), 0);
	assert_int_equal(nla_put_string(m, AZL_VMBUS_A_DEV_DRIVER, "hv_netvsc"), 0);
	assert_int_equal(nla_put_u32(m, AZL_VMBUS_A_CHAN_RELID, relid), 0);
	assert_int_equal(nla_put_u16(m, AZL_VMBUS_A_CHAN_SUBCHANNEL, sub), 0);
	assert_int_equal(nla_put_u32(m, AZL_VMBUS_A_CHAN_TARGET_CPU, cpu), 0);
	return m;
}

static int parse_vmbus(struct nl_msg *m, struct nlattr **tb)
{
	return genl_parse_reply(nlmsg_hdr(m), AZL_VMBUS_A_MAX, vmbus_reply_policy, tb);
}

static int add(struct vmbus_facts *v, struct nl_msg *m)
{
	struct nlattr *tb[AZL_VMBUS_A_MAX + 1];
	int ret = parse_vmbus(m, tb);

	if (ret == 0)
		ret = vmbus_facts_add_message(v, tb);
	nlmsg_free(m);
	return ret;
}

static void test_guid_format_matches_sysfs(void **state)
{
	char s[37];

	(void)state;
	vmbus_guid_format(nic_class, s);
	assert_string_equal(s, "f8615163-df3e-46c5-913f-f2d2f965ed0e");
	vmbus_guid_format(nic_instance, s);
	assert_string_equal(s, "12345678-9abc-def0-0123-456789abcdef");
}

static void test_channels_group_by_device(void **state)
{
	struct vmbus_facts v = { 0 };

	(void)state;
	assert_int_equal(add(&v, channel_msg(14, 0, 0)), 0);
	assert_int_equal(add(&v, channel_msg(31, 1, 3)), 0);
	assert_int_equal(add(&v, channel_msg(32, 2, 5)), 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.devs[0].instance, "12345678-9abc-def0-0123-456789abcdef");
	assert_non_null(v.devs[0].cls);
	assert_string_equal(v.devs[0].cls->kind, "network");
	assert_int_equal(v.devs[0].relid, 14); /* the primary's */
	assert_int_equal(v.devs[0].numa_node, -1);
	assert_string_equal(v.devs[0].driver, "hv_netvsc");
	assert_true(v.devs[0].channels_known);
	assert_int_equal(v.devs[0].nchannels, 3);
	assert_int_equal(v.devs[0].channels[2].relid, 32);
	assert_int_equal(v.devs[0].channels[2].cpu, 5);
	vmbus_facts_free(&v);
}

static void test_channel_cpu_out_of_range(void **state)
{
	struct vmbus_facts v = { 0 };

	(void)state;
	assert_int_equal(add(&v, channel_msg(14, 0, CPUSET_MAX)), -ERANGE);
	vmbus_facts_free(&v);
}

static void test_short_attribute_refused(void **state)
{
	struct nlattr *tb[AZL_VMBUS_A_MAX + 1];
	struct nl_msg *m = new_msg(AZL_VMBUS_CMD_GET_CHANNELS);
	uint16_t two_bytes = 7;

	(void)state;
	/* A u32 attribute with two bytes: nla_get_u32 would read past it. */
	assert_int_equal(nla_put(m, AZL_VMBUS_A_CHAN_RELID, 2, &two_bytes), 0);
	assert_int_equal(parse_vmbus(m, tb), -EBADMSG);
	nlmsg_free(m);
	/* A 15-byte GUID. */
	m = new_msg(AZL_VMBUS_CMD_GET_CHANNELS);
	assert_int_equal(nla_put(m, AZL_VMBUS_A_DEV_INSTANCE, 15, nic_instance), 0);
	assert_int_equal(parse_vmbus(m, tb), -EBADMSG);
	nlmsg_free(m);
}

static void test_missing_attribute_refused(void **state)
{
	struct vmbus_facts v = { 0 };
	struct nl_msg *m = new_msg(AZL_VMBUS_CMD_GET_CHANNELS);

	(void)state;
	assert_int_equal(nla_put(m, AZL_VMBUS_A_DEV_INSTANCE, 16, nic_instance), 0);
	assert_int_equal(add(&v, m), -EBADMSG);
	assert_int_equal(v.n, 0);
	vmbus_facts_free(&v);
}

static void test_event_line(void **state)
{
	struct nlattr *tb[AZL_VMBUS_A_MAX + 1];
	struct nl_msg *m = channel_msg(31, 1, 3);
	char line[256];

	(void)state;
	assert_int_equal(parse_vmbus(m, tb), 0);
	assert_int_equal(vmbus_event_format(tb, AZL_VMBUS_CMD_CHANNEL_ADD, line, sizeof(line)), 0);
	assert_string_equal(line, "vmbus channel-add 12345678-9abc-def0-0123-456789abcdef "
				  "class=network relid=31 sub=1 cpu=3");
	assert_int_equal(vmbus_event_format(tb, 99, line, sizeof(line)), -EBADMSG);
	nlmsg_free(m);
}

static struct nl_msg *storvsc_dev_msg(bool complete)
{
	struct nl_msg *m = new_msg(AZL_STORVSC_CMD_GET_DEVICES);

	assert_int_equal(nla_put_u32(m, AZL_STORVSC_A_HOST, 2), 0);
	assert_int_equal(nla_put_u32(m, AZL_STORVSC_A_CHANNEL, 0), 0);
	assert_int_equal(nla_put_u32(m, AZL_STORVSC_A_TARGET, 1), 0);
	assert_int_equal(nla_put_u64(m, AZL_STORVSC_A_LUN, 7), 0);
	assert_int_equal(nla_put_string(m, AZL_STORVSC_A_CONTROLLER, "adapter0"), 0);
	assert_int_equal(nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 300), 0);
	assert_int_equal(nla_put_u32(m, AZL_STORVSC_A_EH_TIMEOUT, 10), 0);
	if (complete)
		assert_int_equal(nla_put_u32(m, AZL_STORVSC_A_QUEUE_DEPTH, 64), 0);
	assert_int_equal(nla_put_u8(m, AZL_STORVSC_A_SOURCE, AZL_STORVSC_SOURCE_LUN), 0);
	return m;
}

static void test_storvsc_device(void **state)
{
	struct nlattr *tb[AZL_STORVSC_A_MAX + 1];
	struct storvsc_dev d;
	struct nl_msg *m = storvsc_dev_msg(true);

	(void)state;
	assert_int_equal(genl_parse_reply(nlmsg_hdr(m), AZL_STORVSC_A_MAX,
					  storvsc_reply_policy, tb), 0);
	assert_int_equal(storvsc_dev_from_attrs(tb, &d), 0);
	assert_int_equal(d.host, 2);
	assert_int_equal(d.target, 1);
	assert_int_equal(d.lun, 7);
	assert_string_equal(d.controller, "adapter0");
	assert_int_equal(d.applied.timeout, 300);
	assert_int_equal(d.applied.queue_depth, 64);
	assert_string_equal(storvsc_source_name(d.source), "lun");
	nlmsg_free(m);

	m = storvsc_dev_msg(false);
	assert_int_equal(genl_parse_reply(nlmsg_hdr(m), AZL_STORVSC_A_MAX,
					  storvsc_reply_policy, tb), 0);
	assert_int_equal(storvsc_dev_from_attrs(tb, &d), -EBADMSG);
	nlmsg_free(m);
}

static void test_storvsc_rule(void **state)
{
	struct nlattr *tb[AZL_STORVSC_A_MAX + 1];
	struct storvsc_rule r;
	struct nl_msg *m = new_msg(AZL_STORVSC_CMD_GET_POLICY);

	(void)state;
	/* A LUN without a host is not a layer the module can have. */
	assert_int_equal(nla_put_u64(m, AZL_STORVSC_A_LUN, 3), 0);
	assert_int_equal(genl_parse_reply(nlmsg_hdr(m), AZL_STORVSC_A_MAX,
					  storvsc_reply_policy, tb), 0);
	assert_int_equal(storvsc_rule_from_attrs(tb, &r), -EBADMSG);
	nlmsg_free(m);

	m = new_msg(AZL_STORVSC_CMD_GET_POLICY);
	assert_int_equal(nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 300), 0);
	assert_int_equal(genl_parse_reply(nlmsg_hdr(m), AZL_STORVSC_A_MAX,
					  storvsc_reply_policy, tb), 0);
	assert_int_equal(storvsc_rule_from_attrs(tb, &r), 0);
	assert_false(r.has_host);
	assert_int_equal(r.knobs.timeout, 300);
	assert_int_equal(r.knobs.queue_depth, 0);
	nlmsg_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guid_format_matches_sysfs),
		cmocka_unit_test(test_channels_group_by_device),
		cmocka_unit_test(test_channel_cpu_out_of_range),
		cmocka_unit_test(test_short_attribute_refused),
		cmocka_unit_test(test_missing_attribute_refused),
		cmocka_unit_test(test_event_line),
		cmocka_unit_test(test_storvsc_device),
		cmocka_unit_test(test_storvsc_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
