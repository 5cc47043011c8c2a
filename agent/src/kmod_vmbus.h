/* SPDX-License-Identifier: MIT */
#pragma once

/* azl-agent's side of the azl_vmbus generic netlink family. */
#include <stdint.h>

#include "facts.h"
#include "genl_client.h"

#include <azl_vmbus.h>

/* What a reply may carry (AZL_VMBUS_A_MAX + 1 entries). */
extern struct nla_policy vmbus_reply_policy[];

/* Connect to the family; -ENOENT when azl_vmbus is not loaded. */
int vmbus_kmod_open(struct genl_client *c);

/* Format a kernel guid_t (16 bytes, the order sysfs prints with %pUl). */
void vmbus_guid_format(const uint8_t b[16], char out[37]);

/* Add the device and channel one GET_CHANNELS message describes to @v. */
int vmbus_facts_add_message(struct vmbus_facts *v, struct nlattr **tb);

/* The whole inventory in one dump; @v is reset first. */
int vmbus_kmod_read(struct genl_client *c, struct vmbus_facts *v);

/* One line describing an event message ("channel-add <guid> relid=…"). */
int vmbus_event_format(struct nlattr **tb, uint8_t cmd, char *buf, size_t size);
