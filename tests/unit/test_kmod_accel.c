// SPDX-License-Identifier: MIT
/*
 * Decoding the azl_accel family's messages: built here the way the module
 * builds them (kmod/azl_accel/netlink.c), then validated and decoded by the
 * agent's code.  Short, missing or misplaced attributes must be refused,
 * never read past.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <azl_accel.h>

#include "kmod_accel.h"
#include "kmod_accel_internal.h"

static struct nl_msg *new_msg(uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc_size(65536); /* a full table is 5 KiB */

	assert_non_null(m);
	assert_non_null(genlmsg_put(m, 0, 0, 42, 0, 0, cmd, 1));
	return m;
}

/* Every attribute of a device message but @skip (0: none). */
static struct nl_msg *dev_msg(uint8_t cmd, int skip, const char *driver)
{
	struct nl_msg *m = new_msg(cmd);

	if (skip != AZL_ACCEL_A_BDF)
		assert_int_equal(nla_put_string(m, AZL_ACCEL_A_BDF, "0101:00:00.0"), 0);
	if (skip != AZL_ACCEL_A_DOMAIN)
		assert_int_equal(nla_put_u32(m, AZL_ACCEL_A_DOMAIN, 0x0101), 0);
	if (skip != AZL_ACCEL_A_VENDOR)
		assert_int_equal(nla_put_u16(m, AZL_ACCEL_A_VENDOR, 0x15b3), 0);
	if (skip != AZL_ACCEL_A_DEVICE)
		assert_int_equal(nla_put_u16(m, AZL_ACCEL_A_DEVICE, 0x1021), 0);
	if (skip != AZL_ACCEL_A_CLASS)
		assert_int_equal(nla_put_u32(m, AZL_ACCEL_A_CLASS, 0x020700), 0);
	if (skip != AZL_ACCEL_A_KIND)
		assert_int_equal(nla_put_u8(m, AZL_ACCEL_A_KIND, AZL_ACCEL_KIND_HCA), 0);
	if (skip != AZL_ACCEL_A_HOST_NODE)
		assert_int_equal(nla_put_u32(m, AZL_ACCEL_A_HOST_NODE, (uint32_t)-1), 0);
	if (skip != AZL_ACCEL_A_NODE)
		assert_int_equal(nla_put_u32(m, AZL_ACCEL_A_NODE, 1), 0);
	if (skip != AZL_ACCEL_A_SOURCE)
		assert_int_equal(nla_put_u8(m, AZL_ACCEL_A_SOURCE, AZL_ACCEL_SOURCE_TABLE), 0);
	if (driver)
		assert_int_equal(nla_put_string(m, AZL_ACCEL_A_DRIVER, driver), 0);
	return m;
}

static int parse(struct nl_msg *m, struct nlattr **tb)
{
	return genl_parse_reply(nlmsg_hdr(m), AZL_ACCEL_A_MAX, accel_reply_policy, tb);
}

static int decode(struct nl_msg *m, struct accel_dev *d)
{
	struct nlattr *tb[AZL_ACCEL_A_MAX + 1];
	int ret = parse(m, tb);

	if (ret == 0)
		ret = accel_dev_from_attrs(tb, d);
	nlmsg_free(m);
	return ret;
}

static void test_device_decodes(void **state)
{
	struct accel_dev d;

	(void)state;
	assert_int_equal(decode(dev_msg(AZL_ACCEL_CMD_GET_DEVICES, 0, "mlx5_core"), &d), 0);
	assert_string_equal(d.bdf, "0101:00:00.0");
	assert_int_equal(d.domain, 0x0101);
	assert_int_equal(d.vendor, 0x15b3);
	assert_int_equal(d.device, 0x1021);
	assert_int_equal(d.class_code, 0x020700);
	assert_int_equal(d.kind, AZL_ACCEL_KIND_HCA);
	assert_int_equal(d.host_node, -1);
	assert_int_equal(d.node, 1);
	assert_int_equal(d.source, AZL_ACCEL_SOURCE_TABLE);
	assert_string_equal(d.driver, "mlx5_core");
}

static void test_device_without_driver(void **state)
{
	struct accel_dev d;

	(void)state;
	memset(&d, 'x', sizeof(d));
	assert_int_equal(decode(dev_msg(AZL_ACCEL_CMD_GET_DEVICES, 0, NULL), &d), 0);
	assert_string_equal(d.driver, "");
}

static void test_device_missing_attribute(void **state)
{
	static const int required[] = {
		AZL_ACCEL_A_BDF, AZL_ACCEL_A_DOMAIN, AZL_ACCEL_A_VENDOR, AZL_ACCEL_A_DEVICE,
		AZL_ACCEL_A_CLASS, AZL_ACCEL_A_KIND, AZL_ACCEL_A_HOST_NODE, AZL_ACCEL_A_NODE,
		AZL_ACCEL_A_SOURCE,
	};
	struct accel_dev d;

	(void)state;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		assert_int_equal(decode(dev_msg(AZL_ACCEL_CMD_GET_DEVICES, required[i], NULL), &d),
				 -EBADMSG);
}

static void test_device_empty_bdf(void **state)
{
	struct nl_msg *m = dev_msg(AZL_ACCEL_CMD_GET_DEVICES, AZL_ACCEL_A_BDF, NULL);
	struct accel_dev d;

	(void)state;
	assert_int_equal(nla_put_string(m, AZL_ACCEL_A_BDF, ""), 0);
	assert_int_equal(decode(m, &d), -EBADMSG);
}

/* Wrong sizes and strings are refused by the policy, before any nla_get_*(). */
static void test_device_malformed(void **state)
{
	struct nlattr *tb[AZL_ACCEL_A_MAX + 1];
	char longname[64];
	uint16_t half = 1;
	struct nl_msg *m;

	(void)state;
	m = dev_msg(AZL_ACCEL_CMD_GET_DEVICES, AZL_ACCEL_A_NODE, NULL);
	assert_int_equal(nla_put(m, AZL_ACCEL_A_NODE, sizeof(half), &half), 0);
	assert_int_equal(parse(m, tb), -EBADMSG);
	nlmsg_free(m);

	m = dev_msg(AZL_ACCEL_CMD_GET_DEVICES, AZL_ACCEL_A_BDF, NULL);
	assert_int_equal(nla_put(m, AZL_ACCEL_A_BDF, 4, "0101"), 0); /* no NUL */
	assert_int_equal(parse(m, tb), -EBADMSG);
	nlmsg_free(m);

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	m = dev_msg(AZL_ACCEL_CMD_GET_DEVICES, 0, longname);
	assert_int_equal(parse(m, tb), -EBADMSG);
	nlmsg_free(m);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(accel_kind_name(AZL_ACCEL_KIND_GPU_NVIDIA), "gpu-nvidia");
	assert_string_equal(accel_kind_name(AZL_ACCEL_KIND_HCA), "hca");
	assert_string_equal(accel_kind_name(AZL_ACCEL_KIND_MANA), "mana");
	assert_string_equal(accel_kind_name(AZL_ACCEL_KIND_GPU_AMD), "gpu-amd");
	assert_string_equal(accel_kind_name(AZL_ACCEL_KIND_TEST), "test");
	assert_string_equal(accel_kind_name(200), "unknown");
	assert_string_equal(accel_source_name(AZL_ACCEL_SOURCE_HOST), "host");
	assert_string_equal(accel_source_name(AZL_ACCEL_SOURCE_TABLE), "table");
	assert_string_equal(accel_source_name(AZL_ACCEL_SOURCE_NONE), "none");
	assert_string_equal(accel_source_name(AZL_ACCEL_SOURCE_LATE), "late");
	assert_string_equal(accel_source_name(AZL_ACCEL_SOURCE_PENDING), "pending");
	assert_string_equal(accel_source_name(200), "unknown");
}

static int format(struct nl_msg *m, uint8_t cmd, char *buf, size_t size)
{
	struct nlattr *tb[AZL_ACCEL_A_MAX + 1];
	int ret = parse(m, tb);

	if (ret == 0)
		ret = accel_event_format(tb, cmd, buf, size);
	nlmsg_free(m);
	return ret;
}

static void test_event_lines(void **state)
{
	static const struct {
		uint8_t cmd;
		const char *driver, *line;
	} cases[] = {
		{ AZL_ACCEL_CMD_DEV_ADD, NULL, "accel add 0101:00:00.0 hca node -1->1 table" },
		{ AZL_ACCEL_CMD_DEV_BOUND, "mlx5_core",
		  "accel bound 0101:00:00.0 hca node -1->1 table driver mlx5_core" },
		{ AZL_ACCEL_CMD_DEV_UNBOUND, NULL, "accel unbound 0101:00:00.0 hca node -1->1 table" },
		{ AZL_ACCEL_CMD_DEV_REMOVE, NULL, "accel remove 0101:00:00.0 hca node -1->1 table" },
		{ AZL_ACCEL_CMD_NODE_SET, NULL, "accel node-set 0101:00:00.0 hca node -1->1 table" },
	};
	char line[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(format(dev_msg(cases[i].cmd, 0, cases[i].driver), cases[i].cmd,
					line, sizeof(line)), 0);
		assert_string_equal(line, cases[i].line);
	}
}

/* Names from the kernel reach a terminal: control bytes come out as \xNN. */
static void test_event_escaped(void **state)
{
	struct nl_msg *m = dev_msg(AZL_ACCEL_CMD_DEV_BOUND, AZL_ACCEL_A_BDF, "mlx5\x1b[2J\ncore");
	char line[256];

	(void)state;
	assert_int_equal(nla_put_string(m, AZL_ACCEL_A_BDF, "0101:00\r:00.0"), 0);
	assert_int_equal(format(m, AZL_ACCEL_CMD_DEV_BOUND, line, sizeof(line)), 0);
	assert_string_equal(line, "accel bound 0101:00\\x0d:00.0 hca node -1->1 table "
				  "driver mlx5\\x1b[2J\\x0acore");
}

static void test_event_refused(void **state)
{
	char line[16];

	(void)state;
	/* A reply, not an event; and an event without its device. */
	assert_int_equal(format(dev_msg(AZL_ACCEL_CMD_GET_DEVICES, 0, NULL),
				AZL_ACCEL_CMD_GET_DEVICES, line, sizeof(line)), -EBADMSG);
	assert_int_equal(format(dev_msg(AZL_ACCEL_CMD_DEV_ADD, AZL_ACCEL_A_BDF, NULL),
				AZL_ACCEL_CMD_DEV_ADD, line, sizeof(line)), -EBADMSG);
	/* A short buffer truncates, never overflows. */
	assert_int_equal(format(dev_msg(AZL_ACCEL_CMD_DEV_BOUND, 0, "mlx5_core"),
				AZL_ACCEL_CMD_DEV_BOUND, line, sizeof(line)), 0);
	assert_string_equal(line, "accel bound 010");
}

/* A GET_POLICY reply: NODES { NODE_ENTRY { DOMAIN, NODE } ... }. */
static struct nl_msg *table_msg(size_t n, int bad)
{
	struct nl_msg *m = new_msg(AZL_ACCEL_CMD_GET_POLICY);
	struct nlattr *nodes = nla_nest_start(m, AZL_ACCEL_A_NODES | NLA_F_NESTED);

	assert_non_null(nodes);
	for (size_t i = 0; i < n; i++) {
		struct nlattr *e = nla_nest_start(m, (bad == 1 && i == n - 1 ? AZL_ACCEL_A_DOMAIN
							: AZL_ACCEL_A_NODE_ENTRY) | NLA_F_NESTED);

		assert_non_null(e);
		assert_int_equal(nla_put_u32(m, AZL_ACCEL_A_DOMAIN, (uint32_t)(0x100 + i)), 0);
		if (bad == 2 && i == n - 1)
			assert_int_equal(nla_put_u16(m, AZL_ACCEL_A_NODE, 1), 0);
		else if (bad != 3 || i != n - 1)
			assert_int_equal(nla_put_u32(m, AZL_ACCEL_A_NODE, (uint32_t)(i % 2)), 0);
		nla_nest_end(m, e);
	}
	/* The module sends NODES for an empty table too. */
	assert_int_equal(nla_nest_end_keep_empty(m, nodes), 0);
	return m;
}

static int decode_table(struct nl_msg *m, struct accel_node_entry **e, size_t *n)
{
	struct nlattr *tb[AZL_ACCEL_A_MAX + 1];
	int ret = parse(m, tb);

	if (ret == 0)
		ret = accel_table_from_attrs(tb, e, n);
	nlmsg_free(m);
	return ret;
}

static void test_table_decodes(void **state)
{
	struct accel_node_entry *e;
	size_t n;

	(void)state;
	assert_int_equal(decode_table(table_msg(3, 0), &e, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].domain, 0x100);
	assert_int_equal(e[0].node, 0);
	assert_int_equal(e[2].domain, 0x102);
	assert_int_equal(e[2].node, 0);
	assert_int_equal(e[1].node, 1);
	free(e);

	/* An empty table is a table. */
	assert_int_equal(decode_table(table_msg(0, 0), &e, &n), 0);
	assert_int_equal(n, 0);
	free(e);

	/* The most the module sends. */
	assert_int_equal(decode_table(table_msg(AZL_ACCEL_NODES_MAX, 0), &e, &n), 0);
	assert_int_equal(n, AZL_ACCEL_NODES_MAX);
	assert_int_equal(e[AZL_ACCEL_NODES_MAX - 1].domain, 0x100 + AZL_ACCEL_NODES_MAX - 1);
	free(e);
}

static void test_table_refused(void **state)
{
	struct accel_node_entry *e = NULL;
	size_t n = 7;

	(void)state;
	assert_int_equal(decode_table(table_msg(2, 1), &e, &n), -EBADMSG); /* not a NODE_ENTRY */
	assert_null(e);
	assert_int_equal(n, 0);
	assert_int_equal(decode_table(table_msg(2, 2), &e, &n), -EBADMSG); /* short NODE */
	assert_int_equal(decode_table(table_msg(2, 3), &e, &n), -EBADMSG); /* no NODE */
	assert_int_equal(decode_table(table_msg(AZL_ACCEL_NODES_MAX + 1, 0), &e, &n), -E2BIG);
	assert_null(e);
	/* No NODES at all. */
	assert_int_equal(decode_table(new_msg(AZL_ACCEL_CMD_GET_POLICY), &e, &n), -EBADMSG);
}

/* Bytes after the last entry, too few for an attribute: refused, like netvsc's ALLOWED. */
static void test_table_trailing_bytes(void **state)
{
	struct nl_msg *m = new_msg(AZL_ACCEL_CMD_GET_POLICY);
	struct nlattr *nodes = nla_nest_start(m, AZL_ACCEL_A_NODES | NLA_F_NESTED);
	struct nlattr *entry = nla_nest_start(m, AZL_ACCEL_A_NODE_ENTRY | NLA_F_NESTED);
	struct accel_node_entry *e = NULL;
	size_t n = 7;
	char *tail;

	(void)state;
	assert_int_equal(nla_put_u32(m, AZL_ACCEL_A_DOMAIN, 0x100), 0);
	assert_int_equal(nla_put_u32(m, AZL_ACCEL_A_NODE, 1), 0);
	nla_nest_end(m, entry);
	tail = nlmsg_reserve(m, 3, 0);
	assert_non_null(tail);
	memset(tail, 0xff, 3);
	assert_int_equal(nla_nest_end(m, nodes), 0);
	/* The nest holds the entry and 4 bytes: 3 and their padding. */
	assert_int_equal(nla_len(nodes), 20 + 4);
	assert_int_equal(decode_table(m, &e, &n), -EBADMSG);
	assert_null(e);
	assert_int_equal(n, 0);
}

/* The request accel_set_policy() sends, decoded back the way a reply is. */
static void decode_set(struct nl_msg *m, size_t want)
{
	struct nlattr *tb[AZL_ACCEL_A_MAX + 1];
	struct accel_node_entry *e;
	size_t n;

	assert_int_equal(genlmsg_hdr(nlmsg_hdr(m))->cmd, AZL_ACCEL_CMD_SET_POLICY);
	assert_int_equal(parse(m, tb), 0);
	assert_non_null(tb[AZL_ACCEL_A_NODES]);
	/* The kernel validates strictly: nests carry NLA_F_NESTED. */
	assert_true(tb[AZL_ACCEL_A_NODES]->nla_type & NLA_F_NESTED);
	assert_int_equal(accel_table_from_attrs(tb, &e, &n), 0);
	assert_int_equal(n, want);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(e[i].domain, 0x1000 + i);
		assert_int_equal(e[i].node, (int32_t)(i % 4));
	}
	free(e);
}

static void test_set_message(void **state)
{
	static struct accel_node_entry table[AZL_ACCEL_NODES_MAX + 1];
	struct genl_client c = { .family = 42 };
	struct nl_msg *m = NULL;

	(void)state;
	for (size_t i = 0; i < AZL_ACCEL_NODES_MAX + 1; i++)
		table[i] = (struct accel_node_entry){ (uint32_t)(0x1000 + i), (int32_t)(i % 4) };

	/* A full table: more than the 4 KiB page a plain request has. */
	assert_int_equal(accel_set_msg(&c, table, AZL_ACCEL_NODES_MAX, &m), 0);
	assert_non_null(m);
	assert_true(nlmsg_hdr(m)->nlmsg_len > 4096);
	decode_set(m, AZL_ACCEL_NODES_MAX);
	nlmsg_free(m);

	/* One entry, and an empty table (it clears the module's: NODES is kept). */
	assert_int_equal(accel_set_msg(&c, table, 1, &m), 0);
	decode_set(m, 1);
	nlmsg_free(m);
	assert_int_equal(accel_set_msg(&c, table, 0, &m), 0);
	decode_set(m, 0);
	nlmsg_free(m);

	/* One more than the module takes is refused before any message. */
	m = (struct nl_msg *)&c;
	assert_int_equal(accel_set_msg(&c, table, AZL_ACCEL_NODES_MAX + 1, &m), -E2BIG);
	assert_null(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_decodes),
		cmocka_unit_test(test_device_without_driver),
		cmocka_unit_test(test_device_missing_attribute),
		cmocka_unit_test(test_device_empty_bdf),
		cmocka_unit_test(test_device_malformed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_event_lines),
		cmocka_unit_test(test_event_escaped),
		cmocka_unit_test(test_event_refused),
		cmocka_unit_test(test_table_decodes),
		cmocka_unit_test(test_table_refused),
		cmocka_unit_test(test_table_trailing_bytes),
		cmocka_unit_test(test_set_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
