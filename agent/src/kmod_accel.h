/* SPDX-License-Identifier: MIT */
#pragma once

/* azl-agent's side of the azl_accel generic netlink family. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "genl_client.h"

#include <azl_accel.h>

/* One entry of the module's table: PCI domain -> NUMA node. */
struct accel_node_entry {
	uint32_t domain;
	int32_t node;
};

struct accel_dev {
	char bdf[AZL_ACCEL_BDF_LEN];
	uint32_t domain;
	uint16_t vendor, device;
	uint32_t class_code;
	uint8_t kind;		/* enum azl_accel_kind */
	int32_t host_node, node;
	uint8_t source;		/* enum azl_accel_source */
	char driver[AZL_ACCEL_DRIVER_LEN]; /* "" when none */
};

/* What a reply may carry (AZL_ACCEL_A_MAX + 1 entries). */
extern struct nla_policy accel_reply_policy[];

/* Connect to the family; -ENOENT when azl_accel is not loaded. */
int accel_open(struct genl_client *c);

/* Decoder of one device message; -EBADMSG when a required attribute is missing. */
int accel_dev_from_attrs(struct nlattr **tb, struct accel_dev *d);
const char *accel_kind_name(uint8_t kind);
const char *accel_source_name(uint8_t source);

int accel_get_devices(struct genl_client *c, struct accel_dev **devs, size_t *n);
/* The table; *entries is malloc'ed (free it), *n may be 0. */
int accel_get_policy(struct genl_client *c, struct accel_node_entry **entries, size_t *n);
/* Replace the table; *applied: present devices that got their node. */
int accel_set_policy(struct genl_client *c, const struct accel_node_entry *entries,
		     size_t n, uint32_t *applied);

/* One line describing an event ("accel add 0001:00:00.0 gpu-nvidia node -1->0 table"). */
int accel_event_format(struct nlattr **tb, uint8_t cmd, char *buf, size_t size);
