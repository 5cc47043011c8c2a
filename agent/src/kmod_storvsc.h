/* SPDX-License-Identifier: MIT */
#pragma once

/* azl-agent's side of the azl_storvsc generic netlink family. */
#include <stddef.h>
#include <stdint.h>

#include "genl_client.h"

struct storvsc_knobs {
	uint32_t timeout;	/* seconds; 0 keeps the kernel's */
	uint32_t eh_timeout;	/* seconds; 0 keeps the kernel's */
	uint32_t queue_depth;	/* 0 keeps the kernel's */
};

#define STORVSC_KNOB_TIMEOUT     (1u << 0)
#define STORVSC_KNOB_EH_TIMEOUT  (1u << 1)
#define STORVSC_KNOB_QUEUE_DEPTH (1u << 2)

/* A policy layer: the default (no host), a controller, or a LUN. */
struct storvsc_rule {
	bool has_host, has_lun;
	uint32_t host;
	uint64_t lun;
	struct storvsc_knobs knobs;
	unsigned int mask;	/* which knobs a SET carries */
};

struct storvsc_dev {
	uint32_t host, channel, target;
	uint64_t lun;
	char controller[64];	/* the host's parent: the VMBus instance GUID */
	struct storvsc_knobs applied;
	uint8_t source;		/* enum azl_storvsc_source */
};

/* What a reply may carry (AZL_STORVSC_A_MAX + 1 entries). */
extern struct nla_policy storvsc_reply_policy[];

/* Connect to the family; -ENOENT when azl_storvsc is not loaded. */
int storvsc_open(struct genl_client *c);

/* Decoders of one message's attributes; -EBADMSG when a required one is missing. */
int storvsc_dev_from_attrs(struct nlattr **tb, struct storvsc_dev *d);
int storvsc_rule_from_attrs(struct nlattr **tb, struct storvsc_rule *r);
const char *storvsc_source_name(uint8_t source);

int storvsc_get_devices(struct genl_client *c, struct storvsc_dev **devs, size_t *n);
int storvsc_get_policy(struct genl_client *c, struct storvsc_rule **rules, size_t *n);
/* *applied: how many disks the change reached. */
int storvsc_set_policy(struct genl_client *c, const struct storvsc_rule *r,
		       uint32_t *applied);
int storvsc_del_policy(struct genl_client *c, const struct storvsc_rule *r,
		       uint32_t *applied);
