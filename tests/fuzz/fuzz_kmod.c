// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: what the agent reads from our kernel modules and from
 * the files `accel topo` parses.  The first byte picks the family; the
 * rest is a generic netlink message body (genl header + attributes) that
 * goes through the same validation the clients use (genl_parse_reply with
 * the family's reply policy) and then every decoder and event formatter
 * of that family.  Beyond "no crash": a formatted event line is always
 * NUL-terminated within its buffer and holds no control character.  The
 * rest of the bytes also feed the cpuinfo and link parsers of accel topo.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <azl_accel.h>
#include <azl_netvsc.h>
#include <azl_storvsc.h>
#include <azl_vmbus.h>

#include "kmod_accel.h"
#include "kmod_accel_internal.h"
#include "kmod_netvsc.h"
#include "kmod_storvsc.h"
#include "kmod_vmbus.h"
#include "nccl_topo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *line, size_t size)
{
	size_t n = strnlen(line, size);

	if (n == size)
		abort(); /* not terminated within the buffer */
	for (size_t i = 0; i < n; i++)
		if (iscntrl((unsigned char)line[i]))
			abort(); /* a control character would reach the journal */
}

static void decode(uint8_t family, struct nlmsghdr *nlh)
{
	struct nlattr *tb[64];
	struct genlmsghdr *gh = nlmsg_data(nlh);
	char line[256];

	switch (family % 4) {
	case 0: {
		struct netvsc_dev d;
		struct netvsc_policy p;

		if (genl_parse_reply(nlh, AZL_NETVSC_A_MAX, netvsc_reply_policy, tb) < 0)
			return;
		netvsc_dev_from_attrs(tb, &d);
		netvsc_policy_from_attrs(tb, &p);
		if (netvsc_event_format(tb, gh->cmd, line, sizeof(line)) == 0)
			check_line(line, sizeof(line));
		break;
	}
	case 1: {
		struct accel_dev d;
		struct accel_node_entry *e = NULL;
		size_t n = 0;

		if (genl_parse_reply(nlh, AZL_ACCEL_A_MAX, accel_reply_policy, tb) < 0)
			return;
		accel_dev_from_attrs(tb, &d);
		if (accel_table_from_attrs(tb, &e, &n) == 0 && n > AZL_ACCEL_NODES_MAX)
			abort();
		free(e);
		if (accel_event_format(tb, gh->cmd, line, sizeof(line)) == 0)
			check_line(line, sizeof(line));
		break;
	}
	case 2: {
		struct storvsc_dev d;
		struct storvsc_rule r;

		if (genl_parse_reply(nlh, AZL_STORVSC_A_MAX, storvsc_reply_policy, tb) < 0)
			return;
		storvsc_dev_from_attrs(tb, &d);
		storvsc_rule_from_attrs(tb, &r);
		break;
	}
	default:
		if (genl_parse_reply(nlh, AZL_VMBUS_A_MAX, vmbus_reply_policy, tb) < 0)
			return;
		if (vmbus_event_format(tb, gh->cmd, line, sizeof(line)) == 0)
			check_line(line, sizeof(line));
		break;
	}
}

static void text_parsers(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), speed[64];
	struct nt_cpu_id id;
	unsigned int line, width;

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	nt_parse_cpuinfo(text, &id, &line);
	if (nt_parse_link_speed(text, speed, sizeof(speed)) == 0 &&
	    strnlen(speed, sizeof(speed)) == sizeof(speed))
		abort();
	nt_parse_link_width(text, &width);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nlmsghdr *nlh;

	if (size < 1)
		return 0;
	text_parsers(data + 1, size - 1);
	if (size > 65536)
		return 0;
	nlh = calloc(1, NLMSG_HDRLEN + NLMSG_ALIGN(size - 1));
	if (!nlh)
		return 0;
	nlh->nlmsg_len = (uint32_t)(NLMSG_HDRLEN + size - 1);
	memcpy((char *)nlh + NLMSG_HDRLEN, data + 1, size - 1);
	decode(data[0], nlh);
	free(nlh);
	return 0;
}
