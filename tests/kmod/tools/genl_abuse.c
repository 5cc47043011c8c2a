// SPDX-License-Identifier: MIT
/*
 * genl_abuse: send malformed and unauthorised requests to a module's
 * generic netlink family and check that each is refused with the expected
 * errno (and, where the module words it, an extack message).  Prints TAP.
 *
 * usage: genl_abuse storvsc|vmbus
 * Runs in the kernel test guest as root; the last case drops CAP_NET_ADMIN.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <azl_storvsc.h>
#include <azl_vmbus.h>

#include "genl_client.h"
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

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "storvsc") == 0)
		return abuse_storvsc();
	if (argc == 2 && strcmp(argv[1], "vmbus") == 0)
		return abuse_vmbus();
	fprintf(stderr, "usage: genl_abuse storvsc|vmbus\n");
	return 2;
}
