// SPDX-License-Identifier: MIT
/*
 * Decoding what azl_netvsc sends: messages are built here the way the
 * module builds them (kmod/azl_netvsc/netlink.c), then validated and
 * decoded by the agent's code.  Short, oversized or missing attributes
 * must be refused, never read past.
 */
#include <errno.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <azl_netvsc.h>

#include "escape.h"
#include "kmod_netvsc.h"

/* No interface has this index on a test machine: its name is "#4242". */
#define NO_SUCH_IFINDEX 4242

static struct nl_msg *new_msg(uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	assert_non_null(m);
	assert_non_null(genlmsg_put(m, 0, 0, 42, 0, 0, cmd, 1));
	return m;
}

static void put_identity(struct nl_msg *m, const char *name, uint8_t kind)
{
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_IFINDEX, 7), 0);
	assert_int_equal(nla_put_string(m, AZL_NETVSC_A_IFNAME, name), 0);
	assert_int_equal(nla_put_u8(m, AZL_NETVSC_A_KIND, kind), 0);
}

/* A GET_DEVICES / APPLIED message as the module sends it for a synthetic NIC. */
static struct nl_msg *synthetic_msg(uint8_t cmd)
{
	struct nl_msg *m = new_msg(cmd);

	put_identity(m, "eth0", AZL_NETVSC_KIND_SYNTHETIC);
	assert_int_equal(nla_put_s32(m, AZL_NETVSC_A_NUMA_NODE, 1), 0);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_CHANNELS, 8), 0);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_MAX_CHANNELS, 16), 0);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_RX_RING, 9709), 0);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_TX_RING, 170), 0);
	assert_int_equal(nla_put_s32(m, AZL_NETVSC_A_RESULT_CHANNELS, 0), 0);
	assert_int_equal(nla_put_s32(m, AZL_NETVSC_A_RESULT_RINGS, -EOPNOTSUPP), 0);
	assert_int_equal(nla_put_s32(m, AZL_NETVSC_A_RESULT_XPS, 0), 0);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_APPLY_COUNT, 3), 0);
	return m;
}

static int parse(struct nl_msg *m, struct nlattr **tb)
{
	return genl_parse_reply(nlmsg_hdr(m), AZL_NETVSC_A_MAX, netvsc_reply_policy, tb);
}

static int decode_dev(struct nl_msg *m, struct netvsc_dev *d)
{
	struct nlattr *tb[AZL_NETVSC_A_MAX + 1];
	int ret = parse(m, tb);

	if (ret == 0)
		ret = netvsc_dev_from_attrs(tb, d);
	nlmsg_free(m);
	return ret;
}

static void test_synthetic_device(void **state)
{
	struct netvsc_dev d;

	(void)state;
	assert_int_equal(decode_dev(synthetic_msg(AZL_NETVSC_CMD_GET_DEVICES), &d), 0);
	assert_int_equal(d.ifindex, 7);
	assert_string_equal(d.ifname, "eth0");
	assert_string_equal(netvsc_kind_name(d.kind), "synthetic");
	assert_int_equal(d.master, 0);
	assert_int_equal(d.numa_node, 1);
	assert_true(d.has_channels);
	assert_int_equal(d.channels, 8);
	assert_int_equal(d.max_channels, 16);
	assert_true(d.has_rings);
	assert_int_equal(d.rx_ring, 9709);
	assert_int_equal(d.tx_ring, 170);
	assert_int_equal(d.result_rings, -EOPNOTSUPP);
	assert_int_equal(d.apply_count, 3);
}

/* An event from the notifier carries identity only; the rest defaults. */
static void test_identity_only(void **state)
{
	struct nl_msg *m = new_msg(AZL_NETVSC_CMD_DEV_ADD);
	struct netvsc_dev d;

	(void)state;
	put_identity(m, "eth1", AZL_NETVSC_KIND_SYNTHETIC);
	assert_int_equal(decode_dev(m, &d), 0);
	assert_int_equal(d.numa_node, -1);
	assert_false(d.has_channels);
	assert_false(d.has_rings);
	assert_int_equal(d.result_channels, 0);
	assert_int_equal(d.apply_count, 0);

	/* CHANNELS without MAX_CHANNELS is not a channel report. */
	m = new_msg(AZL_NETVSC_CMD_GET_DEVICES);
	put_identity(m, "eth1", AZL_NETVSC_KIND_SYNTHETIC);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_CHANNELS, 4), 0);
	assert_int_equal(decode_dev(m, &d), 0);
	assert_false(d.has_channels);
}

/* A result is 0 or -errno; anything else is a malformed reply, never negated. */
static void test_result_out_of_range(void **state)
{
	struct nl_msg *m = new_msg(AZL_NETVSC_CMD_APPLIED);
	struct netvsc_dev d;

	(void)state;
	put_identity(m, "eth0", AZL_NETVSC_KIND_SYNTHETIC);
	assert_int_equal(nla_put_s32(m, AZL_NETVSC_A_RESULT_CHANNELS, INT32_MIN), 0);
	assert_int_equal(nla_put_s32(m, AZL_NETVSC_A_RESULT_RINGS, 5), 0);
	assert_int_equal(nla_put_s32(m, AZL_NETVSC_A_RESULT_XPS, -4096), 0);
	assert_int_equal(decode_dev(m, &d), 0);
	assert_int_equal(d.result_channels, -EPROTO);
	assert_int_equal(d.result_rings, -EPROTO);
	assert_int_equal(d.result_xps, -EPROTO);
}

static void test_missing_identity_refused(void **state)
{
	struct nl_msg *m = new_msg(AZL_NETVSC_CMD_GET_DEVICES);
	struct netvsc_dev d;

	(void)state;
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_IFINDEX, 7), 0);
	assert_int_equal(nla_put_u8(m, AZL_NETVSC_A_KIND, AZL_NETVSC_KIND_SYNTHETIC), 0);
	assert_int_equal(decode_dev(m, &d), -EBADMSG);	/* no IFNAME */

	m = new_msg(AZL_NETVSC_CMD_GET_DEVICES);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_IFINDEX, 7), 0);
	assert_int_equal(nla_put_string(m, AZL_NETVSC_A_IFNAME, "eth0"), 0);
	assert_int_equal(decode_dev(m, &d), -EBADMSG);	/* no KIND */

	m = new_msg(AZL_NETVSC_CMD_GET_DEVICES);
	assert_int_equal(nla_put_string(m, AZL_NETVSC_A_IFNAME, "eth0"), 0);
	assert_int_equal(nla_put_u8(m, AZL_NETVSC_A_KIND, AZL_NETVSC_KIND_SYNTHETIC), 0);
	assert_int_equal(decode_dev(m, &d), -EBADMSG);	/* no IFINDEX */
}

static void test_vf_needs_master(void **state)
{
	struct nl_msg *m = new_msg(AZL_NETVSC_CMD_VF_JOIN);
	struct netvsc_dev d;

	(void)state;
	put_identity(m, "enP1s1", AZL_NETVSC_KIND_VF);
	assert_int_equal(decode_dev(m, &d), -EBADMSG);

	m = new_msg(AZL_NETVSC_CMD_VF_JOIN);
	put_identity(m, "enP1s1", AZL_NETVSC_KIND_VF);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_MASTER, 2), 0);
	assert_int_equal(decode_dev(m, &d), 0);
	assert_string_equal(netvsc_kind_name(d.kind), "vf");
	assert_int_equal(d.master, 2);
	assert_string_equal(netvsc_kind_name(9), "unknown");
}

/* Every attribute's size is checked before it is read. */
static void test_wrong_sizes_refused(void **state)
{
	struct nlattr *tb[AZL_NETVSC_A_MAX + 1];
	static const struct {
		int type;
		size_t len;
	} bad[] = {
		{ AZL_NETVSC_A_IFINDEX, 2 },	   { AZL_NETVSC_A_KIND, 0 },
		{ AZL_NETVSC_A_CHANNELS, 2 },	   { AZL_NETVSC_A_NUMA_NODE, 1 },
		{ AZL_NETVSC_A_RESULT_XPS, 3 },	   { AZL_NETVSC_A_APPLY_COUNT, 1 },
		{ AZL_NETVSC_A_APPLIED_COUNT, 2 }, { AZL_NETVSC_A_MASTER, 2 },
	};
	const uint8_t zero[8] = { 0 };
	char longname[40];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nl_msg *m = new_msg(AZL_NETVSC_CMD_GET_DEVICES);

		assert_int_equal(nla_put(m, bad[i].type, (int)bad[i].len, zero), 0);
		assert_int_equal(parse(m, tb), -EBADMSG);
		nlmsg_free(m);
	}

	/* A name longer than IFNAMSIZ cannot come from the kernel. */
	struct nl_msg *m = new_msg(AZL_NETVSC_CMD_GET_DEVICES);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(nla_put_string(m, AZL_NETVSC_A_IFNAME, longname), 0);
	assert_int_equal(parse(m, tb), -EBADMSG);
	nlmsg_free(m);
}

static struct nl_msg *policy_msg(const uint32_t *allowed, size_t n, bool with_xps)
{
	struct nl_msg *m = new_msg(AZL_NETVSC_CMD_GET_POLICY);
	struct nlattr *nest;

	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_CHANNELS, 8), 0);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_RX_RING, 0), 0);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_TX_RING, 512), 0);
	if (with_xps)
		assert_int_equal(nla_put_u8(m, AZL_NETVSC_A_XPS, 1), 0);
	assert_int_equal(nla_put_u8(m, AZL_NETVSC_A_VF_XPS, 0), 0);
	if (allowed) {
		nest = nla_nest_start(m, AZL_NETVSC_A_ALLOWED);
		assert_non_null(nest);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_ALLOWED_COUNT, allowed[i]), 0);
		nla_nest_end(m, nest);
	}
	return m;
}

static int decode_policy(struct nl_msg *m, struct netvsc_policy *p)
{
	struct nlattr *tb[AZL_NETVSC_A_MAX + 1];
	int ret = parse(m, tb);

	if (ret == 0)
		ret = netvsc_policy_from_attrs(tb, p);
	nlmsg_free(m);
	return ret;
}

static void test_policy(void **state)
{
	static const uint32_t allowed[] = { 8, 32, 48 };
	struct netvsc_policy p;

	(void)state;
	assert_int_equal(decode_policy(policy_msg(allowed, 3, true), &p), 0);
	assert_int_equal(p.channels, 8);
	assert_int_equal(p.rx_ring, 0);
	assert_int_equal(p.tx_ring, 512);
	assert_true(p.xps);
	assert_false(p.vf_xps);
	assert_int_equal(p.nallowed, 3);
	assert_int_equal(p.allowed[2], 48);
	assert_int_equal(p.mask, 0);

	/* (The module always allows min(T,8); libnl drops an empty nest anyway.) */
	assert_int_equal(decode_policy(policy_msg(allowed, 3, false), &p), -EBADMSG);
	assert_int_equal(decode_policy(policy_msg(NULL, 0, true), &p), -EBADMSG);
}

static void test_allowed_nest_checked(void **state)
{
	static const uint32_t many[AZL_NETVSC_ALLOWED_MAX + 1] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct netvsc_policy p;
	struct nlattr *nest;
	struct nl_msg *m;
	uint16_t shorty = 2;

	(void)state;
	/* More entries than the contract's maximum. */
	assert_int_equal(decode_policy(policy_msg(many, AZL_NETVSC_ALLOWED_MAX + 1, true), &p),
			 -EBADMSG);
	assert_int_equal(decode_policy(policy_msg(many, AZL_NETVSC_ALLOWED_MAX, true), &p), 0);
	assert_int_equal(p.nallowed, AZL_NETVSC_ALLOWED_MAX);

	/* A short entry inside the nest (the reply policy does not reach in). */
	m = policy_msg(NULL, 0, true);
	nest = nla_nest_start(m, AZL_NETVSC_A_ALLOWED);
	assert_int_equal(nla_put(m, AZL_NETVSC_A_ALLOWED_COUNT, sizeof(shorty), &shorty), 0);
	nla_nest_end(m, nest);
	assert_int_equal(decode_policy(m, &p), -EBADMSG);

	/* An entry of another type inside the nest. */
	m = policy_msg(NULL, 0, true);
	nest = nla_nest_start(m, AZL_NETVSC_A_ALLOWED);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_CHANNELS, 2), 0);
	nla_nest_end(m, nest);
	assert_int_equal(decode_policy(m, &p), -EBADMSG);
}

static void format(struct nl_msg *m, uint8_t cmd, char *line, size_t size, int want)
{
	struct nlattr *tb[AZL_NETVSC_A_MAX + 1];

	assert_int_equal(parse(m, tb), 0);
	assert_int_equal(netvsc_event_format(tb, cmd, line, size), want);
	nlmsg_free(m);
}

static void test_event_lines(void **state)
{
	char line[256];
	struct nl_msg *m;

	(void)state;
	format(synthetic_msg(AZL_NETVSC_CMD_APPLIED), AZL_NETVSC_CMD_APPLIED, line, sizeof(line), 0);
	assert_string_equal(line, "netvsc applied eth0 kind=synthetic node=1 channels=8/16 "
				  "rings=9709/170 result=channels:ok,rings:EOPNOTSUPP,xps:ok applies=3");

	m = new_msg(AZL_NETVSC_CMD_DEV_ADD);
	put_identity(m, "eth0", AZL_NETVSC_KIND_SYNTHETIC);
	format(m, AZL_NETVSC_CMD_DEV_ADD, line, sizeof(line), 0);
	assert_string_equal(line, "netvsc dev-add eth0 node=none");

	m = new_msg(AZL_NETVSC_CMD_VF_JOIN);
	put_identity(m, "enP1s1", AZL_NETVSC_KIND_VF);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_MASTER, NO_SUCH_IFINDEX), 0);
	assert_int_equal(nla_put_s32(m, AZL_NETVSC_A_NUMA_NODE, 0), 0);
	format(m, AZL_NETVSC_CMD_VF_JOIN, line, sizeof(line), 0);
	assert_string_equal(line, "netvsc vf-join enP1s1 master=#4242 node=0");

	/* An unknown result is shown as its number. */
	m = new_msg(AZL_NETVSC_CMD_APPLIED);
	put_identity(m, "eth0", AZL_NETVSC_KIND_SYNTHETIC);
	assert_int_equal(nla_put_s32(m, AZL_NETVSC_A_RESULT_XPS, -4095), 0);
	format(m, AZL_NETVSC_CMD_APPLIED, line, sizeof(line), 0);
	assert_string_equal(line, "netvsc applied eth0 kind=synthetic node=none "
				  "result=channels:ok,rings:ok,xps:-4095 applies=0");

	/* Linux lets a name hold control bytes: they come out as \xNN. */
	m = new_msg(AZL_NETVSC_CMD_VF_JOIN);
	put_identity(m, "e\x1b]0;x\x07\x7f", AZL_NETVSC_KIND_VF);
	assert_int_equal(nla_put_u32(m, AZL_NETVSC_A_MASTER, NO_SUCH_IFINDEX), 0);
	format(m, AZL_NETVSC_CMD_VF_JOIN, line, sizeof(line), 0);
	assert_string_equal(line, "netvsc vf-join e\\x1b]0;x\\x07\\x7f master=#4242 node=none");

	/* A short buffer is cut, never overrun. */
	format(synthetic_msg(AZL_NETVSC_CMD_APPLIED), AZL_NETVSC_CMD_APPLIED, line, 20, 0);
	assert_string_equal(line, "netvsc applied eth0");

	/* Not an event, or an event without a device. */
	format(synthetic_msg(AZL_NETVSC_CMD_GET_DEVICES), AZL_NETVSC_CMD_GET_DEVICES, line,
	       sizeof(line), -EBADMSG);
	format(new_msg(AZL_NETVSC_CMD_DEV_REMOVE), AZL_NETVSC_CMD_DEV_REMOVE, line, sizeof(line),
	       -EBADMSG);
	format(synthetic_msg(99), 99, line, sizeof(line), -EBADMSG);
}

static void test_result_name(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(netvsc_result_name(0, buf, sizeof(buf)), "ok");
	assert_string_equal(netvsc_result_name(-EOPNOTSUPP, buf, sizeof(buf)), "EOPNOTSUPP");
	assert_string_equal(netvsc_result_name(-EINVAL, buf, sizeof(buf)), "EINVAL");
	/* No errno's name: the number, in the caller's buffer. */
	assert_ptr_equal(netvsc_result_name(-4095, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "-4095");
	assert_string_equal(netvsc_result_name(7, buf, sizeof(buf)), "7");
	assert_string_equal(netvsc_result_name(INT32_MIN, buf, sizeof(buf)), "-2147483648");
}

static void test_master_name(void **state)
{
	struct netvsc_dev devs[2] = {
		{ .ifindex = 3, .ifname = "eth1" },
		{ .ifindex = NO_SUCH_IFINDEX, .ifname = "e\x1b[0m" },
	};
	char buf[ESCAPED_SIZE(IF_NAMESIZE)];

	(void)state;
	/* From the dump first (escaped), then the kernel, then the number. */
	netvsc_master_name(3, devs, 2, buf, sizeof(buf));
	assert_string_equal(buf, "eth1");
	netvsc_master_name(NO_SUCH_IFINDEX, devs, 2, buf, sizeof(buf));
	assert_string_equal(buf, "e\\x1b[0m");
	netvsc_master_name(NO_SUCH_IFINDEX, NULL, 0, buf, sizeof(buf));
	assert_string_equal(buf, "#4242");
	netvsc_master_name(0, NULL, 0, buf, sizeof(buf));
	assert_string_equal(buf, "#0");
	netvsc_master_name(1, NULL, 0, buf, sizeof(buf));
	assert_string_equal(buf, "lo");	/* the loopback is 1 in every namespace */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthetic_device),
		cmocka_unit_test(test_identity_only),
		cmocka_unit_test(test_result_out_of_range),
		cmocka_unit_test(test_missing_identity_refused),
		cmocka_unit_test(test_vf_needs_master),
		cmocka_unit_test(test_wrong_sizes_refused),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_allowed_nest_checked),
		cmocka_unit_test(test_event_lines),
		cmocka_unit_test(test_result_name),
		cmocka_unit_test(test_master_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
