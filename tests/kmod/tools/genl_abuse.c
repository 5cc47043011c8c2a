// SPDX-License-Identifier: MIT
/*
 * genl_abuse: send malformed and unauthorised requests to a module's
 * generic netlink family and check that each is refused with the expected
 * errno (and, where the module words it, an extack message).  Prints TAP.
 *
 * usage: genl_abuse storvsc|vmbus|accel|netvsc
 * Runs in the kernel test guest as root; the last case drops CAP_NET_ADMIN.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <azl_accel.h>
#include <azl_netvsc.h>
#include <azl_storvsc.h>
#include <azl_vmbus.h>

#include "genl_client.h"
#include "kmod_accel.h"
#include "kmod_netvsc.h"
#include "kmod_storvsc.h"
#include "kmod_vmbus.h"

static int test_no, failed;

static void result(bool ok, const char *what, int got, const char *extack)
{
	printf("%s %d - %s (got %d%s%s)\n", ok ? "ok" : "not ok", ++test_no, what, got,
	       extack[0] ? ": " : "", extack);
	failed += !ok;
}

/* Send cmd with the attributes put() adds; expect errno @want (negative). */
static void expect(struct genl_client *c, const char *what, uint8_t cmd, bool dump,
		   int (*put)(struct nl_msg *), int want)
{
	struct nl_msg *m = genl_client_msg(c, cmd, dump);
	int got;

	if (!m || (put && put(m) < 0)) {
		result(false, what, -ENOMEM, "could not build the message");
		return;
	}
	got = genl_client_call(c, m, NULL, NULL);
	result(got == want, what, got, c->error);
}

static int put_unknown_attr(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 30) ?: nla_put_u32(m, 200, 1);
}

static int put_short_u32(struct nl_msg *m)
{
	uint16_t v = 30;

	return nla_put(m, AZL_STORVSC_A_TIMEOUT, sizeof(v), &v);
}

static int put_u64_as_u32(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_STORVSC_A_HOST, 0) ?: nla_put_u32(m, AZL_STORVSC_A_LUN, 1) ?:
	       nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 30);
}

static int put_oversize_string(struct nl_msg *m)
{
	char s[300];

	memset(s, 'x', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	return nla_put_string(m, AZL_STORVSC_A_CONTROLLER, s) ?:
	       nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 30);
}

static int put_unterminated_string(struct nl_msg *m)
{
	return nla_put(m, AZL_STORVSC_A_CONTROLLER, 4, "abcd") ?:
	       nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 30);
}

static int put_timeout_too_big(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, AZL_STORVSC_TIMEOUT_MAX + 1);
}

static int put_depth_too_big(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_STORVSC_A_QUEUE_DEPTH, AZL_STORVSC_QUEUE_DEPTH_MAX + 1);
}

static int put_lun_without_host(struct nl_msg *m)
{
	return nla_put_u64(m, AZL_STORVSC_A_LUN, 1) ?: nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 30);
}

static int put_host_only(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_STORVSC_A_HOST, 4242);
}

static int put_missing_host(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_STORVSC_A_HOST, 4242) ?: nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 30);
}

static int put_output_only(struct nl_msg *m)
{
	return nla_put_u8(m, AZL_STORVSC_A_SOURCE, 0) ?: nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 30);
}

static int put_host_and_knob(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_STORVSC_A_HOST, 0) ?: nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 30);
}

static int put_filter(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_STORVSC_A_HOST, 0);
}

static int put_pad(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_STORVSC_A_PAD, 0) ?: nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 30);
}

static int put_valid_default(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_STORVSC_A_TIMEOUT, 30);
}

static int put_vmbus_filter(struct nl_msg *m)
{
	static const uint8_t guid[16];

	return nla_put(m, AZL_VMBUS_A_DEV_INSTANCE, sizeof(guid), guid);
}

/* Clear the effective capabilities, CAP_NET_ADMIN among them. */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	d[0].effective = d[1].effective = 0;
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static int abuse_storvsc(void)
{
	struct genl_client c;

	if (storvsc_open(&c) < 0) {
		printf("1..0 # SKIP azl_storvsc is not loaded\n");
		return 0;
	}
	printf("1..19\n");
	expect(&c, "unknown attribute type", AZL_STORVSC_CMD_SET_POLICY, false, put_unknown_attr, -EINVAL);
	expect(&c, "u32 attribute with 2 bytes", AZL_STORVSC_CMD_SET_POLICY, false, put_short_u32, -EINVAL);
	expect(&c, "u64 attribute with 4 bytes", AZL_STORVSC_CMD_SET_POLICY, false, put_u64_as_u32, -EINVAL);
	expect(&c, "string longer than its policy", AZL_STORVSC_CMD_SET_POLICY, false, put_oversize_string, -EINVAL);
	expect(&c, "string without its NUL", AZL_STORVSC_CMD_SET_POLICY, false, put_unterminated_string, -EINVAL);
	expect(&c, "timeout above the maximum", AZL_STORVSC_CMD_SET_POLICY, false, put_timeout_too_big, -ERANGE);
	expect(&c, "queue depth above the maximum", AZL_STORVSC_CMD_SET_POLICY, false, put_depth_too_big, -ERANGE);
	expect(&c, "padding attribute in a request", AZL_STORVSC_CMD_SET_POLICY, false, put_pad, -EINVAL);
	expect(&c, "LUN rule without a host", AZL_STORVSC_CMD_SET_POLICY, false, put_lun_without_host, -EINVAL);
	expect(&c, "SET without any knob", AZL_STORVSC_CMD_SET_POLICY, false, put_host_only, -EINVAL);
	expect(&c, "rule for a host that does not exist", AZL_STORVSC_CMD_SET_POLICY, false, put_missing_host, -ENODEV);
	expect(&c, "DEL of a rule that does not exist", AZL_STORVSC_CMD_DEL_POLICY, false, put_host_only, -ENOENT);
	expect(&c, "event-only command sent as a request", AZL_STORVSC_CMD_APPLIED, false, NULL, -EOPNOTSUPP);
	expect(&c, "command number the family does not have", 77, false, NULL, -EOPNOTSUPP);
	expect(&c, "dump with an unknown attribute", AZL_STORVSC_CMD_GET_DEVICES, true, put_unknown_attr, -EINVAL);
	expect(&c, "output-only attribute in a request", AZL_STORVSC_CMD_SET_POLICY, false, put_output_only, -EINVAL);
	expect(&c, "knob in a DEL request", AZL_STORVSC_CMD_DEL_POLICY, false, put_host_and_knob, -EINVAL);
	expect(&c, "filter the dump does not have", AZL_STORVSC_CMD_GET_POLICY, true, put_filter, -EINVAL);
	if (drop_capabilities() < 0)
		result(false, "SET without CAP_NET_ADMIN", -errno, "cannot drop capabilities");
	else
		expect(&c, "SET without CAP_NET_ADMIN", AZL_STORVSC_CMD_SET_POLICY, false,
		       put_valid_default, -EPERM);
	genl_client_close(&c);
	return failed ? 1 : 0;
}

static int abuse_vmbus(void)
{
	struct genl_client c;

	if (vmbus_kmod_open(&c) < 0) {
		printf("1..0 # SKIP azl_vmbus is not loaded\n");
		return 0;
	}
	printf("1..4\n");
	expect(&c, "dump with an unknown attribute", AZL_VMBUS_CMD_GET_CHANNELS, true, put_unknown_attr, -EINVAL);
	expect(&c, "filter the dump does not have", AZL_VMBUS_CMD_GET_CHANNELS, true, put_vmbus_filter, -EINVAL);
	expect(&c, "event-only command sent as a request", AZL_VMBUS_CMD_DEVICE_ADD, false, NULL, -EOPNOTSUPP);
	expect(&c, "command number the family does not have", 77, false, NULL, -EOPNOTSUPP);
	genl_client_close(&c);
	return failed ? 1 : 0;
}

/* ---- accel ---- */

/* NODES { NODE_ENTRY { DOMAIN, NODE } } for each (domain, node) pair. */
static int put_accel_nodes(struct nl_msg *m, const uint32_t *domains, const int32_t *nodes,
			   size_t n)
{
	struct nlattr *all = nla_nest_start(m, AZL_ACCEL_A_NODES | NLA_F_NESTED);

	if (!all)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct nlattr *e = nla_nest_start(m, AZL_ACCEL_A_NODE_ENTRY | NLA_F_NESTED);

		if (!e || nla_put_u32(m, AZL_ACCEL_A_DOMAIN, domains[i]) ||
		    nla_put_u32(m, AZL_ACCEL_A_NODE, (uint32_t)nodes[i]))
			return -1;
		nla_nest_end(m, e);
	}
	return nla_nest_end_keep_empty(m, all);
}

static int put_accel_one(struct nl_msg *m, uint32_t domain, int32_t node)
{
	return put_accel_nodes(m, &domain, &node, 1);
}

static int put_accel_unknown(struct nl_msg *m)
{
	return put_accel_one(m, 0, 0) ?: nla_put_u32(m, 200, 1);
}

static int put_accel_nodes_as_u32(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_ACCEL_A_NODES, 1);
}

/* A valid table, but its NODES lacks NLA_F_NESTED (libnl's nests set it). */
static int put_accel_nodes_unflagged(struct nl_msg *m)
{
	struct {
		struct nlattr entry, domain;
		uint32_t d;
		struct nlattr node;
		int32_t n;
	} nodes = {
		{ sizeof(nodes), AZL_ACCEL_A_NODE_ENTRY | NLA_F_NESTED },
		{ NLA_HDRLEN + 4, AZL_ACCEL_A_DOMAIN }, 0,
		{ NLA_HDRLEN + 4, AZL_ACCEL_A_NODE }, 0,
	};

	return nla_put(m, AZL_ACCEL_A_NODES, sizeof(nodes), &nodes);
}

static int put_accel_short_domain(struct nl_msg *m)
{
	struct nlattr *all = nla_nest_start(m, AZL_ACCEL_A_NODES | NLA_F_NESTED);
	struct nlattr *e = nla_nest_start(m, AZL_ACCEL_A_NODE_ENTRY | NLA_F_NESTED);

	if (!all || !e || nla_put_u16(m, AZL_ACCEL_A_DOMAIN, 0) || nla_put_u32(m, AZL_ACCEL_A_NODE, 0))
		return -1;
	nla_nest_end(m, e);
	return nla_nest_end(m, all);
}

static int put_accel_stray_in_nodes(struct nl_msg *m)
{
	struct nlattr *all = nla_nest_start(m, AZL_ACCEL_A_NODES | NLA_F_NESTED);

	if (!all || nla_put_u32(m, AZL_ACCEL_A_DOMAIN, 0))
		return -1;
	return nla_nest_end(m, all);
}

static int put_accel_output_only(struct nl_msg *m)
{
	return put_accel_one(m, 0, 0) ?: nla_put_u8(m, AZL_ACCEL_A_SOURCE, 0);
}

static int put_accel_too_many(struct nl_msg *m)
{
	uint32_t d[AZL_ACCEL_NODES_MAX + 1];
	int32_t n[AZL_ACCEL_NODES_MAX + 1];

	for (size_t i = 0; i <= AZL_ACCEL_NODES_MAX; i++) {
		d[i] = (uint32_t)i;
		n[i] = 0;
	}
	return put_accel_nodes(m, d, n, AZL_ACCEL_NODES_MAX + 1);
}

static int put_accel_duplicate(struct nl_msg *m)
{
	static const uint32_t d[] = { 0x101, 0x102, 0x101 };
	static const int32_t n[] = { 0, 0, 0 };

	return put_accel_nodes(m, d, n, 3);
}

static int put_accel_offline(struct nl_msg *m)
{
	return put_accel_one(m, 0x101, 1000);
}

static int put_accel_negative(struct nl_msg *m)
{
	return put_accel_one(m, 0x101, -1);
}

static int put_accel_big_domain(struct nl_msg *m)
{
	return put_accel_one(m, 0x10000, 0);
}

static int put_accel_no_node(struct nl_msg *m)
{
	struct nlattr *all = nla_nest_start(m, AZL_ACCEL_A_NODES | NLA_F_NESTED);
	struct nlattr *e = nla_nest_start(m, AZL_ACCEL_A_NODE_ENTRY | NLA_F_NESTED);

	if (!all || !e || nla_put_u32(m, AZL_ACCEL_A_DOMAIN, 0))
		return -1;
	nla_nest_end(m, e);
	return nla_nest_end(m, all);
}

static int put_accel_empty(struct nl_msg *m)
{
	return put_accel_nodes(m, NULL, NULL, 0);
}

static int put_accel_nothing(struct nl_msg *m)
{
	(void)m;
	return 0;
}

static int put_accel_filter(struct nl_msg *m)
{
	return nla_put_string(m, AZL_ACCEL_A_BDF, "0000:00:00.0");
}

/* Like expect(), and the kernel's message must name what was wrong. */
static void expect_text(struct genl_client *c, const char *what, int (*put)(struct nl_msg *),
			int want, const char *text)
{
	struct nl_msg *m = genl_client_msg(c, AZL_ACCEL_CMD_SET_POLICY, false);
	int got;

	if (!m || put(m) < 0) {
		if (m)
			nlmsg_free(m);
		result(false, what, -ENOMEM, "could not build the message");
		return;
	}
	got = genl_client_call(c, m, NULL, NULL);
	result(got == want && strstr(c->error, text), what, got, c->error);
}

/* Clear one effective capability, keeping the others. */
static int drop_capability(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	d[cap / 32].effective &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static int abuse_accel(void)
{
	struct genl_client c;

	if (accel_open(&c) < 0) {
		printf("1..0 # SKIP azl_accel is not loaded\n");
		return 0;
	}
	/* A table of 257 entries is 5 kB, more than a default message. */
	nlmsg_set_default_size(65536);
	printf("1..20\n");
	expect(&c, "unknown attribute type", AZL_ACCEL_CMD_SET_POLICY, false, put_accel_unknown, -EINVAL);
	expect(&c, "NODES as a u32, not a nest", AZL_ACCEL_CMD_SET_POLICY, false, put_accel_nodes_as_u32, -EINVAL);
	expect(&c, "NODES without NLA_F_NESTED", AZL_ACCEL_CMD_SET_POLICY, false, put_accel_nodes_unflagged, -EINVAL);
	expect(&c, "DOMAIN with 2 bytes", AZL_ACCEL_CMD_SET_POLICY, false, put_accel_short_domain, -EINVAL);
	expect(&c, "DOMAIN straight in NODES", AZL_ACCEL_CMD_SET_POLICY, false, put_accel_stray_in_nodes, -EINVAL);
	expect(&c, "output-only attribute in a request", AZL_ACCEL_CMD_SET_POLICY, false, put_accel_output_only, -EINVAL);
	expect_text(&c, "more than AZL_ACCEL_NODES_MAX entries", put_accel_too_many, -EINVAL, "NODES_MAX");
	expect_text(&c, "a domain twice", put_accel_duplicate, -EINVAL, "in the table already");
	expect_text(&c, "a node that is not online", put_accel_offline, -EINVAL, "not online");
	expect_text(&c, "a negative node", put_accel_negative, -EINVAL, "not online");
	expect_text(&c, "a domain above ffff", put_accel_big_domain, -EINVAL, "at most ffff");
	expect_text(&c, "an entry without NODE", put_accel_no_node, -EINVAL, "DOMAIN and NODE");
	expect_text(&c, "SET without NODES", put_accel_nothing, -EINVAL, "NODES is required");
	expect(&c, "device dump with an attribute", AZL_ACCEL_CMD_GET_DEVICES, true, put_accel_filter, -EINVAL);
	expect(&c, "GET_POLICY with an attribute", AZL_ACCEL_CMD_GET_POLICY, false, put_accel_filter, -EINVAL);
	expect(&c, "event-only command sent as a request", AZL_ACCEL_CMD_DEV_ADD, false, NULL, -EOPNOTSUPP);
	expect(&c, "command number the family does not have", 77, false, NULL, -EOPNOTSUPP);
	expect(&c, "GET_POLICY still answers", AZL_ACCEL_CMD_GET_POLICY, false, NULL, 0);
	if (drop_capability(CAP_SYS_ADMIN) < 0)
		result(false, "SET with CAP_NET_ADMIN but not CAP_SYS_ADMIN", -errno, "cannot drop it");
	else
		expect_text(&c, "SET with CAP_NET_ADMIN but not CAP_SYS_ADMIN", put_accel_empty, -EPERM,
			    "CAP_SYS_ADMIN");
	if (drop_capabilities() < 0)
		result(false, "SET without any capability", -errno, "cannot drop capabilities");
	else
		expect(&c, "SET without any capability", AZL_ACCEL_CMD_SET_POLICY, false,
		       put_accel_empty, -EPERM);
	genl_client_close(&c);
	return failed ? 1 : 0;
}

/* ---- netvsc ---- */

static uint32_t netvsc_refused_count;	/* a channel count this VM does not allow */

static int put_netvsc_unknown(struct nl_msg *m)
{
	return nla_put_u8(m, AZL_NETVSC_A_XPS, 1) ?: nla_put_u32(m, 200, 1);
}

static int put_netvsc_short_u32(struct nl_msg *m)
{
	uint16_t v = 2;

	return nla_put(m, AZL_NETVSC_A_CHANNELS, sizeof(v), &v);
}

static int put_netvsc_long_u32(struct nl_msg *m)
{
	uint64_t v = 2;

	return nla_put(m, AZL_NETVSC_A_CHANNELS, sizeof(v), &v);
}

static int put_netvsc_long_u8(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_NETVSC_A_XPS, 1);
}

static int put_netvsc_xps_2(struct nl_msg *m)
{
	return nla_put_u8(m, AZL_NETVSC_A_XPS, 2);
}

static int put_netvsc_vf_xps_7(struct nl_msg *m)
{
	return nla_put_u8(m, AZL_NETVSC_A_VF_XPS, 7);
}

static int put_netvsc_channels_too_big(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_NETVSC_A_CHANNELS, AZL_NETVSC_CHANNELS_MAX + 1);
}

static int put_netvsc_rx_ring_too_big(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_NETVSC_A_RX_RING, AZL_NETVSC_RING_MAX + 1);
}

static int put_netvsc_tx_ring_too_big(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_NETVSC_A_TX_RING, 0x7fffffff);
}

static int put_netvsc_not_allowed(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_NETVSC_A_CHANNELS, netvsc_refused_count);
}

static int put_netvsc_ifindex(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_NETVSC_A_IFINDEX, 1) ?: nla_put_u8(m, AZL_NETVSC_A_XPS, 1);
}

static int put_netvsc_allowed(struct nl_msg *m)
{
	struct nlattr *nest = nla_nest_start(m, AZL_NETVSC_A_ALLOWED);

	if (!nest || nla_put_u32(m, AZL_NETVSC_A_ALLOWED_COUNT, 2))
		return -1;
	nla_nest_end(m, nest);
	return nla_put_u8(m, AZL_NETVSC_A_XPS, 1);
}

static int put_netvsc_apply_count(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_NETVSC_A_APPLY_COUNT, 1) ?: nla_put_u8(m, AZL_NETVSC_A_XPS, 1);
}

static int put_netvsc_filter(struct nl_msg *m)
{
	return nla_put_u32(m, AZL_NETVSC_A_IFINDEX, 1);
}

static uint8_t netvsc_xps_now;

static int put_netvsc_valid(struct nl_msg *m)
{
	return nla_put_u8(m, AZL_NETVSC_A_XPS, netvsc_xps_now);
}

/* The refusal of a count not allowed names the allowed counts (or says where). */
static void expect_not_allowed(struct genl_client *c)
{
	struct nl_msg *m = genl_client_msg(c, AZL_NETVSC_CMD_SET_POLICY, false);
	int got;

	if (!m || put_netvsc_not_allowed(m) < 0) {
		result(false, "channel count this VM does not allow", -ENOMEM, "");
		return;
	}
	got = genl_client_call(c, m, NULL, NULL);
	result(got == -EINVAL && strcasestr(c->error, "allowed"),
	       "channel count this VM does not allow", got, c->error);
}

/* Unprivileged reads work: the policy, and the device dump. */
static void expect_reads(struct genl_client *c, const char *what)
{
	struct netvsc_dev *devs = NULL;
	struct netvsc_policy p;
	size_t n = 0;
	int got = netvsc_get_policy(c, &p);

	result(got == 0, what, got, c->error);
	got = netvsc_get_devices(c, &devs, &n);
	free(devs);
	result(got == 0, "device dump", got, c->error);
}

static bool same_policy(const struct netvsc_policy *a, const struct netvsc_policy *b)
{
	return a->channels == b->channels && a->rx_ring == b->rx_ring &&
	       a->tx_ring == b->tx_ring && a->xps == b->xps && a->vf_xps == b->vf_xps;
}

static int abuse_netvsc(void)
{
	struct netvsc_policy before, after;
	struct genl_client c;
	int ret;

	if (netvsc_open(&c) < 0) {
		printf("1..0 # SKIP azl_netvsc is not loaded\n");
		return 0;
	}
	ret = netvsc_get_policy(&c, &before);
	if (ret < 0) {
		printf("1..1\nnot ok 1 - GET_POLICY (got %d: %s)\n", ret, c.error);
		return 1;
	}
	netvsc_xps_now = before.xps;
	for (netvsc_refused_count = 1; netvsc_refused_count <= AZL_NETVSC_CHANNELS_MAX;
	     netvsc_refused_count++) {
		bool allowed = false;

		for (size_t i = 0; i < before.nallowed; i++)
			allowed |= before.allowed[i] == netvsc_refused_count;
		if (!allowed)
			break;
	}
	printf("1..23\n");
	expect(&c, "unknown attribute type", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_unknown, -EINVAL);
	expect(&c, "u32 attribute with 2 bytes", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_short_u32, -EINVAL);
	expect(&c, "u32 attribute with 8 bytes", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_long_u32, -EINVAL);
	expect(&c, "u8 attribute with 4 bytes", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_long_u8, -EINVAL);
	expect(&c, "xps 2", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_xps_2, -ERANGE);
	expect(&c, "vf_xps 7", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_vf_xps_7, -ERANGE);
	expect(&c, "channels above VRSS_CHANNEL_MAX", AZL_NETVSC_CMD_SET_POLICY, false,
	       put_netvsc_channels_too_big, -ERANGE);
	expect(&c, "rx ring above the maximum", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_rx_ring_too_big, -ERANGE);
	expect(&c, "tx ring far above the maximum", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_tx_ring_too_big, -ERANGE);
	expect_not_allowed(&c);
	expect(&c, "output-only IFINDEX in a request", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_ifindex, -EINVAL);
	expect(&c, "output-only ALLOWED in a request", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_allowed, -EINVAL);
	expect(&c, "output-only APPLY_COUNT in a request", AZL_NETVSC_CMD_SET_POLICY, false, put_netvsc_apply_count, -EINVAL);
	expect(&c, "SET without any knob", AZL_NETVSC_CMD_SET_POLICY, false, NULL, -EINVAL);
	expect(&c, "GET_POLICY with an attribute", AZL_NETVSC_CMD_GET_POLICY, false, put_netvsc_filter, -EINVAL);
	expect(&c, "filter the dump does not have", AZL_NETVSC_CMD_GET_DEVICES, true, put_netvsc_filter, -EINVAL);
	expect(&c, "event-only command sent as a request", AZL_NETVSC_CMD_APPLIED, false, NULL, -EOPNOTSUPP);
	expect(&c, "event-only command sent as a dump", AZL_NETVSC_CMD_DEV_ADD, true, NULL, -EOPNOTSUPP);
	expect(&c, "command number the family does not have", 77, false, NULL, -EOPNOTSUPP);
	ret = netvsc_get_policy(&c, &after);
	result(ret == 0 && same_policy(&before, &after), "the policy is what it was", ret, c.error);
	if (drop_capabilities() < 0) {
		result(false, "SET without CAP_NET_ADMIN", -errno, "cannot drop capabilities");
	} else {
		expect(&c, "SET without CAP_NET_ADMIN", AZL_NETVSC_CMD_SET_POLICY, false,
		       put_netvsc_valid, -EPERM);
	}
	expect_reads(&c, "GET_POLICY without CAP_NET_ADMIN");
	genl_client_close(&c);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "storvsc") == 0)
		return abuse_storvsc();
	if (argc == 2 && strcmp(argv[1], "vmbus") == 0)
		return abuse_vmbus();
	if (argc == 2 && strcmp(argv[1], "accel") == 0)
		return abuse_accel();
	if (argc == 2 && strcmp(argv[1], "netvsc") == 0)
		return abuse_netvsc();
	fprintf(stderr, "usage: genl_abuse storvsc|vmbus|accel|netvsc\n");
	return 2;
}
