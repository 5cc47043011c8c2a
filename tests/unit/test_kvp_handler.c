// SPDX-License-Identifier: MIT
/*
 * kvp_handle() against a temporary root: every operation, and a hostile
 * host (research/kvp.md §3.1 and issue 4's table: oversize keys, missing
 * NULs, pools >= 5, unknown operations, lying sizes).  Each answer is the
 * status and reply bytes the kernel would forward to the host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "kvp_handler.h"

struct fixture {
	char dir[64];
	struct root root;
	struct agent_config cfg;
	struct kvp_handler h;
	struct hv_kvp_msg msg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/azl-kvp-handler-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(root_init(&f->root, f->dir), 0);
	config_defaults(&f->cfg);
	f->cfg.kvp.durable = false;
	kvp_handler_init(&f->h, &f->root, &f->cfg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	kvp_handler_done(&f->h);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A request as the kernel builds it: zeroed, then the fields of §1.6. */
static struct hv_kvp_msg *request(struct fixture *f, unsigned op, unsigned pool)
{
	memset(&f->msg, 0, sizeof(f->msg));
	f->msg.kvp_hdr.operation = (__u8)op;
	f->msg.kvp_hdr.pool = (__u8)pool;
	return &f->msg;
}

static unsigned handle(struct fixture *f)
{
	kvp_handle(&f->h, &f->msg);
	return (unsigned)f->msg.error;
}

static unsigned do_set(struct fixture *f, unsigned pool, const char *key, const char *value)
{
	struct hv_kvp_msg *m = request(f, KVP_OP_SET, pool);

	strcpy((char *)m->body.kvp_set.data.key, key);
	m->body.kvp_set.data.key_size = (__u32)strlen(key) + 1;
	strcpy((char *)m->body.kvp_set.data.value, value);
	m->body.kvp_set.data.value_size = (__u32)strlen(value) + 1;
	return handle(f);
}

static unsigned do_get(struct fixture *f, unsigned pool, const char *key)
{
	struct hv_kvp_msg *m = request(f, KVP_OP_GET, pool);

	strcpy((char *)m->body.kvp_get.data.key, key);
	m->body.kvp_get.data.key_size = (__u32)strlen(key) + 1;
	return handle(f);
}

static unsigned do_enumerate(struct fixture *f, unsigned pool, uint32_t index)
{
	request(f, KVP_OP_ENUMERATE, pool)->body.kvp_enum_data.index = index;
	return handle(f);
}

static unsigned do_delete(struct fixture *f, unsigned pool, const char *key)
{
	struct hv_kvp_msg *m = request(f, KVP_OP_DELETE, pool);

	strcpy((char *)m->body.kvp_delete.key, key);
	m->body.kvp_delete.key_size = (__u32)strlen(key) + 1;
	return handle(f);
}

/* What the kernel reads back: key @20, value @532 (the ENUMERATE layout). */
static const char *reply_key(struct fixture *f)
{
	return (const char *)f->msg.body.kvp_enum_data.data.key;
}

static const char *reply_value(struct fixture *f)
{
	return (const char *)f->msg.body.kvp_enum_data.data.value;
}

static void test_pool2_ten_keys_in_reference_order(void **state)
{
	static const char *const keys[] = {
		"FullyQualifiedDomainName", "IntegrationServicesVersion", "NetworkAddressIPv4",
		"NetworkAddressIPv6", "OSBuildNumber", "OSName", "OSMajorVersion",
		"OSMinorVersion", "OSVersion", "ProcessorArchitecture",
	};
	struct fixture *f = *state;

	kvp_handler_set_version(&f->h, "3.1");
	for (uint32_t i = 0; i < 10; i++) {
		assert_int_equal(do_enumerate(f, KVP_POOL_AUTO, i), KVP_S_OK);
		assert_string_equal(reply_key(f), keys[i]);
		assert_int_equal(f->msg.body.kvp_enum_data.data.key_size, strlen(keys[i]) + 1);
	}
	assert_int_equal(do_enumerate(f, KVP_POOL_AUTO, 1), KVP_S_OK);
	assert_string_equal(reply_value(f), "3.1");
	assert_int_equal(do_enumerate(f, KVP_POOL_AUTO, 10), KVP_S_CONT);
	assert_int_equal(do_enumerate(f, KVP_POOL_AUTO, 0xffffffffu), KVP_S_CONT);
}

static void test_set_enumerate_delete(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(do_set(f, KVP_POOL_EXTERNAL, "alpha", "1"), KVP_S_OK);
	assert_int_equal(do_set(f, KVP_POOL_EXTERNAL, "beta", "2"), KVP_S_OK);
	assert_int_equal(do_set(f, KVP_POOL_EXTERNAL, "alpha", "one"), KVP_S_OK);
	assert_int_equal(do_enumerate(f, KVP_POOL_EXTERNAL, 0), KVP_S_OK);
	assert_string_equal(reply_key(f), "alpha");
	assert_string_equal(reply_value(f), "one");
	assert_int_equal(do_enumerate(f, KVP_POOL_EXTERNAL, 1), KVP_S_OK);
	assert_string_equal(reply_key(f), "beta");
	assert_int_equal(do_enumerate(f, KVP_POOL_EXTERNAL, 2), KVP_S_CONT);
	assert_int_equal(do_delete(f, KVP_POOL_EXTERNAL, "alpha"), KVP_S_OK);
	assert_int_equal(do_enumerate(f, KVP_POOL_EXTERNAL, 0), KVP_S_OK);
	assert_string_equal(reply_key(f), "beta");
	assert_int_equal(do_delete(f, KVP_POOL_EXTERNAL, "alpha"), KVP_S_CONT);
}

/* research/kvp.md §3.1 #2: the reference daemon's GET can never return a value. */
static void test_defect2_get_returns_value(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(do_set(f, KVP_POOL_AUTO_EXTERNAL, "HostName", "host-7"), KVP_S_OK);
	assert_int_equal(do_get(f, KVP_POOL_AUTO_EXTERNAL, "HostName"), KVP_S_OK);
	assert_string_equal(reply_value(f), "host-7");
	assert_int_equal(do_get(f, KVP_POOL_AUTO_EXTERNAL, "Missing"), KVP_S_CONT);
	/* Pool 2 answers its computed keys by name too. */
	kvp_handler_set_version(&f->h, "3.1");
	assert_int_equal(do_get(f, KVP_POOL_AUTO, "IntegrationServicesVersion"), KVP_S_OK);
	assert_string_equal(reply_value(f), "3.1");
}

/* A key or value that fills its field without a NUL is refused, not overrun. */
static void test_hostile_unterminated_fields(void **state)
{
	struct fixture *f = *state;
	struct hv_kvp_msg *m;

	m = request(f, KVP_OP_SET, KVP_POOL_EXTERNAL);
	memset(m->body.kvp_set.data.key, 'k', sizeof(m->body.kvp_set.data.key));
	strcpy((char *)m->body.kvp_set.data.value, "v");
	m->body.kvp_set.data.key_size = 512;
	assert_int_equal(handle(f), KVP_S_CONT);

	m = request(f, KVP_OP_SET, KVP_POOL_EXTERNAL);
	strcpy((char *)m->body.kvp_set.data.key, "k");
	memset(m->body.kvp_set.data.value, 'v', sizeof(m->body.kvp_set.data.value));
	assert_int_equal(handle(f), KVP_S_CONT);

	m = request(f, KVP_OP_GET, KVP_POOL_EXTERNAL);
	memset(m->body.kvp_get.data.key, 'k', sizeof(m->body.kvp_get.data.key));
	assert_int_equal(handle(f), KVP_S_CONT);

	m = request(f, KVP_OP_DELETE, KVP_POOL_EXTERNAL);
	memset(m->body.kvp_delete.key, 'k', sizeof(m->body.kvp_delete.key));
	m->body.kvp_delete.key_size = 0xffffffffu;
	assert_int_equal(handle(f), KVP_S_CONT);
	/* Nothing was stored by any of them. */
	assert_int_equal(do_enumerate(f, KVP_POOL_EXTERNAL, 0), KVP_S_CONT);
}

/* The sizes the host claims are not trusted; the strings are. */
static void test_hostile_lying_sizes(void **state)
{
	struct fixture *f = *state;
	struct hv_kvp_msg *m = request(f, KVP_OP_SET, KVP_POOL_EXTERNAL);

	strcpy((char *)m->body.kvp_set.data.key, "key");
	strcpy((char *)m->body.kvp_set.data.value, "value");
	m->body.kvp_set.data.key_size = 0xffffffffu;
	m->body.kvp_set.data.value_size = 7;
	assert_int_equal(handle(f), KVP_S_OK);
	assert_int_equal(do_get(f, KVP_POOL_EXTERNAL, "key"), KVP_S_OK);
	assert_string_equal(reply_value(f), "value");
}

/* The empty key is stored like any other, as hv_kvp_daemon stores it. */
static void test_empty_key_is_a_key(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(do_set(f, KVP_POOL_EXTERNAL, "", "x"), KVP_S_OK);
	assert_int_equal(do_get(f, KVP_POOL_EXTERNAL, ""), KVP_S_OK);
	assert_string_equal(reply_value(f), "x");
	assert_int_equal(do_delete(f, KVP_POOL_EXTERNAL, ""), KVP_S_OK);
	assert_int_equal(do_get(f, KVP_POOL_EXTERNAL, ""), KVP_S_CONT);
}

/* Pools 5..255 do not exist; the reference daemon indexes its arrays with them. */
static void test_hostile_pool_out_of_range(void **state)
{
	struct fixture *f = *state;

	for (unsigned pool = KVP_POOL_COUNT; pool < 256; pool += 25) {
		assert_int_equal(do_set(f, pool, "k", "v"), KVP_S_CONT);
		assert_int_equal(do_get(f, pool, "k"), KVP_S_CONT);
		assert_int_equal(do_delete(f, pool, "k"), KVP_S_CONT);
		assert_int_equal(do_enumerate(f, pool, 0), KVP_S_CONT);
	}
	assert_int_equal(do_set(f, 255, "k", "v"), KVP_S_CONT);
}

static void test_hostile_unknown_operations(void **state)
{
	struct fixture *f = *state;

	for (unsigned op = KVP_OP_COUNT; op < 256; op++) {
		request(f, op, KVP_POOL_EXTERNAL);
		assert_int_equal(handle(f), 0x80070032u);
	}
}

/* Huge ENUMERATE indexes end the walk; they never index memory. */
static void test_hostile_enumerate_index(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(do_set(f, KVP_POOL_GUEST, "k", "v"), KVP_S_OK);
	assert_int_equal(do_enumerate(f, KVP_POOL_GUEST, 1), KVP_S_CONT);
	assert_int_equal(do_enumerate(f, KVP_POOL_GUEST, 0x7fffffffu), KVP_S_CONT);
	assert_int_equal(do_enumerate(f, KVP_POOL_GUEST, 0xffffffffu), KVP_S_CONT);
}

/* GET_IP_INFO for a MAC no NIC has: the reference's status, HV_E_FAIL. */
static void test_get_ip_info_unknown_mac(void **state)
{
	struct fixture *f = *state;
	struct hv_kvp_msg *m = request(f, KVP_OP_GET_IP_INFO, 0);

	strcpy((char *)m->body.kvp_ip_val.adapter_id, "00:15:5D:FF:FF:FF");
	m->body.kvp_ip_val.addr_family = ADDR_FAMILY_IPV4;
	assert_int_equal(handle(f), KVP_E_FAIL);
}

static void put_set_ip(struct fixture *f, const char *guid, const char *ip)
{
	struct hv_kvp_msg *m = request(f, KVP_OP_SET_IP_INFO, 0);
	struct kvp_ip_info info = { 0 };

	snprintf(info.adapter_id, sizeof(info.adapter_id), "%s", guid);
	info.addr_family = ADDR_FAMILY_IPV4;
	snprintf(info.ip_addr, sizeof(info.ip_addr), "%s", ip);
	snprintf(info.sub_net, sizeof(info.sub_net), "255.255.255.0");
	kvp_msg_put_ip_info(m, &info);
}

static void test_set_ip_info_unknown_guid(void **state)
{
	struct fixture *f = *state;

	put_set_ip(f, "{00000000-0000-0000-0000-000000000000}", "10.1.2.3");
	assert_int_equal(handle(f), KVP_GUID_NOTFOUND);
}

static void test_set_ip_info_refused_by_configuration(void **state)
{
	struct fixture *f = *state;

	f->cfg.kvp.set_ip_info = false;
	put_set_ip(f, "{00000000-0000-0000-0000-000000000000}", "10.1.2.3");
	assert_int_equal(handle(f), KVP_E_FAIL);
}

/* A NIC in the root's sysfs, so SET_IP_INFO gets past the GUID lookup. */
static void add_nic(struct fixture *f, const char *name, const char *mac, const char *guid)
{
	char path[256];
	FILE *out;

	snprintf(path, sizeof(path), "mkdir -p '%s/sys/class/net/%s/device'", f->dir, name);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "%s/sys/class/net/%s/address", f->dir, name);
	assert_non_null(out = fopen(path, "w"));
	fprintf(out, "%s\n", mac);
	fclose(out);
	snprintf(path, sizeof(path), "%s/sys/class/net/%s/device/device_id", f->dir, name);
	assert_non_null(out = fopen(path, "w"));
	fprintf(out, "%s\n", guid);
	fclose(out);
}

/*
 * research/kvp.md §3.1 #1: the reference daemon copies each ';' token of a
 * host-supplied list into a 46-byte stack buffer after checking it against
 * 2048.  A 2 KiB token must be an invalid argument here, and nothing written.
 */
static void test_defect1_parse_ip_val_buffer_overflow(void **state)
{
	struct fixture *f = *state;
	static char token[2040];
	char path[256];

	add_nic(f, "eth9", "00:15:5d:00:00:09", "{12345678-1234-1234-1234-123456789abc}");
	memset(token, '1', sizeof(token) - 1);
	put_set_ip(f, "{12345678-1234-1234-1234-123456789abc}", token);
	assert_int_equal(handle(f), KVP_INVALIDARG);
	memset(token, 'f', sizeof(token) - 1);
	token[4] = ':';
	put_set_ip(f, "{12345678-1234-1234-1234-123456789ABC}", token);
	assert_int_equal(handle(f), KVP_INVALIDARG);
	snprintf(path, sizeof(path), "%s/etc/systemd/network", f->dir);
	assert_int_not_equal(access(path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_pool2_ten_keys_in_reference_order),
		T(test_set_enumerate_delete),
		T(test_defect2_get_returns_value),
		T(test_hostile_unterminated_fields),
		T(test_hostile_lying_sizes),
		T(test_empty_key_is_a_key),
		T(test_hostile_pool_out_of_range),
		T(test_hostile_unknown_operations),
		T(test_hostile_enumerate_index),
		T(test_get_ip_info_unknown_mac),
		T(test_set_ip_info_unknown_guid),
		T(test_set_ip_info_refused_by_configuration),
		T(test_defect1_parse_ip_val_buffer_overflow),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
