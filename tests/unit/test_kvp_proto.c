// SPDX-License-Identifier: MIT
/*
 * The KVP message layout the kernel really uses (research/kvp.md §1.3, §6):
 * every size and every offset the kernel reads or writes.  If a header
 * update ever moved one of these, the daemon would talk garbage to the host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kvp_proto.h"

#define OFF(member) offsetof(struct hv_kvp_msg, member)

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct hv_kvp_hdr), 4);
	assert_int_equal(sizeof(struct hv_kvp_exchg_msg_value), 2572);
	assert_int_equal(sizeof(struct hv_kvp_msg_enumerate), 2576);
	assert_int_equal(sizeof(struct hv_kvp_msg_get), 2572);
	assert_int_equal(sizeof(struct hv_kvp_msg_set), 2572);
	assert_int_equal(sizeof(struct hv_kvp_msg_delete), 516);
	assert_int_equal(sizeof(struct hv_kvp_register), 512);
	assert_int_equal(sizeof(struct hv_kvp_ipaddr_value), 7426);
	assert_int_equal(sizeof(struct hv_kvp_ip_msg), 7428);
	assert_int_equal(sizeof(struct hv_kvp_msg), 7432);
	assert_int_equal(KVP_MSG_SIZE, 7432);
	assert_int_equal(KVP_POOL_RECORD_SIZE, 2560);
	assert_int_equal(KVP_POOL_COUNT, 5);
}

static void test_header_offsets(void **state)
{
	(void)state;
	assert_int_equal(OFF(kvp_hdr.operation), 0);
	assert_int_equal(OFF(kvp_hdr.pool), 1);
	assert_int_equal(OFF(error), 0);
	assert_int_equal(sizeof(((struct hv_kvp_msg *)0)->error), 4);
}

static void test_get_set_offsets(void **state)
{
	(void)state;
	assert_int_equal(OFF(body.kvp_set.data.value_type), 4);
	assert_int_equal(OFF(body.kvp_set.data.key_size), 8);
	assert_int_equal(OFF(body.kvp_set.data.value_size), 12);
	assert_int_equal(OFF(body.kvp_set.data.key), 16);
	assert_int_equal(OFF(body.kvp_set.data.value), 528);
	assert_int_equal(OFF(body.kvp_get.data.key), 16);
	assert_int_equal(OFF(body.kvp_get.data.value), 528);
}

static void test_enumerate_delete_register_offsets(void **state)
{
	(void)state;
	assert_int_equal(OFF(body.kvp_enum_data.index), 4);
	assert_int_equal(OFF(body.kvp_enum_data.data.value_type), 8);
	assert_int_equal(OFF(body.kvp_enum_data.data.key_size), 12);
	assert_int_equal(OFF(body.kvp_enum_data.data.value_size), 16);
	assert_int_equal(OFF(body.kvp_enum_data.data.key), 20);
	assert_int_equal(OFF(body.kvp_enum_data.data.value), 532);
	assert_int_equal(OFF(body.kvp_delete.key_size), 4);
	assert_int_equal(OFF(body.kvp_delete.key), 8);
	assert_int_equal(OFF(body.kvp_register.version), 4);
}

static void test_ip_offsets(void **state)
{
	(void)state;
	assert_int_equal(OFF(body.kvp_ip_val.adapter_id), 4);
	assert_int_equal(OFF(body.kvp_ip_val.addr_family), 260);
	assert_int_equal(OFF(body.kvp_ip_val.dhcp_enabled), 261);
	assert_int_equal(OFF(body.kvp_ip_val.ip_addr), 262);
	assert_int_equal(OFF(body.kvp_ip_val.sub_net), 2310);
	assert_int_equal(OFF(body.kvp_ip_val.gate_way), 4358);
	assert_int_equal(OFF(body.kvp_ip_val.dns_addr), 5382);
	/* On the host's wire the IP payload starts at 2, not 4. */
	assert_int_equal(offsetof(struct hv_kvp_ip_msg, kvp_ip_val), 2);
}

static void test_constants(void **state)
{
	(void)state;
	assert_int_equal(KVP_OP_GET, 0);
	assert_int_equal(KVP_OP_SET, 1);
	assert_int_equal(KVP_OP_DELETE, 2);
	assert_int_equal(KVP_OP_ENUMERATE, 3);
	assert_int_equal(KVP_OP_GET_IP_INFO, 4);
	assert_int_equal(KVP_OP_SET_IP_INFO, 5);
	assert_int_equal(KVP_OP_REGISTER, 4);
	assert_int_equal(KVP_OP_REGISTER1, 100);
	assert_int_equal(KVP_S_CONT, 0x80070103u);
	assert_int_equal(KVP_E_FAIL, 0x80004005u);
	assert_int_equal(KVP_INVALIDARG, 0x80070057u);
	assert_int_equal(KVP_GUID_NOTFOUND, 0x80041002u);
}

/* The IP fields round-trip and an unterminated host field is cut, not overrun. */
static void test_ip_info_copy(void **state)
{
	static struct hv_kvp_msg msg;
	static struct kvp_ip_info in, out;

	(void)state;
	memset(&msg, 'x', sizeof(msg));
	kvp_msg_get_ip_info(&msg, &out);
	assert_int_equal(strlen(out.adapter_id), sizeof(out.adapter_id) - 1);
	assert_int_equal(strlen(out.ip_addr), sizeof(out.ip_addr) - 1);
	assert_int_equal(strlen(out.gate_way), sizeof(out.gate_way) - 1);

	memset(&in, 0, sizeof(in));
	strcpy(in.adapter_id, "00:15:5D:00:00:01");
	strcpy(in.ip_addr, "10.0.0.4;fe80::1");
	strcpy(in.dns_addr, "168.63.129.16");
	in.addr_family = ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6;
	in.dhcp_enabled = 1;
	kvp_msg_put_ip_info(&msg, &in);
	/* Nothing of the old 'x' bytes survives after a string's NUL. */
	assert_int_equal(((unsigned char *)&msg)[262 + strlen(in.ip_addr) + 1], 0);
	kvp_msg_get_ip_info(&msg, &out);
	assert_memory_equal(&in, &out, sizeof(in));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_header_offsets),
		cmocka_unit_test(test_get_set_offsets),
		cmocka_unit_test(test_enumerate_delete_register_offsets),
		cmocka_unit_test(test_ip_offsets),
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_ip_info_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
