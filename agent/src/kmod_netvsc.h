/* SPDX-License-Identifier: MIT */
#pragma once

/* azl-agent's side of the azl_netvsc generic netlink family. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "genl_client.h"

#include <azl_netvsc.h>

#define NETVSC_KNOB_CHANNELS (1u << 0)
#define NETVSC_KNOB_RX_RING  (1u << 1)
#define NETVSC_KNOB_TX_RING  (1u << 2)
#define NETVSC_KNOB_XPS      (1u << 3)
#define NETVSC_KNOB_VF_XPS   (1u << 4)

/* The module's one policy; 0 in a number keeps the kernel's choice. */
struct netvsc_policy {
	uint32_t channels, rx_ring, tx_ring;
	bool xps, vf_xps;
	unsigned int mask;	/* which knobs a SET carries */
	/* GET_POLICY only: channel counts the module accepts on this VM. */
	uint32_t allowed[AZL_NETVSC_ALLOWED_MAX];
	size_t nallowed;
};

struct netvsc_dev {
	uint32_t ifindex;
	char ifname[16];
	uint8_t kind;		/* enum azl_netvsc_kind */
	uint32_t master;	/* VF: the synthetic NIC's ifindex; else 0 */
	int32_t numa_node;
	bool has_channels, has_rings;
	uint32_t channels, max_channels, rx_ring, tx_ring;
	int32_t result_channels, result_rings, result_xps; /* 0 or -errno */
	uint32_t apply_count;
};

/* What a reply may carry (AZL_NETVSC_A_MAX + 1 entries). */
extern struct nla_policy netvsc_reply_policy[];

/* Connect to the family; -ENOENT when azl_netvsc is not loaded. */
int netvsc_open(struct genl_client *c);

/* Decoders of one message's attributes; -EBADMSG when a required one is missing. */
int netvsc_dev_from_attrs(struct nlattr **tb, struct netvsc_dev *d);
int netvsc_policy_from_attrs(struct nlattr **tb, struct netvsc_policy *p);
const char *netvsc_kind_name(uint8_t kind);

int netvsc_get_devices(struct genl_client *c, struct netvsc_dev **devs, size_t *n);
int netvsc_get_policy(struct genl_client *c, struct netvsc_policy *p);
/* Sends the knobs in p->mask; *applied: devices the change reached. */
int netvsc_set_policy(struct genl_client *c, const struct netvsc_policy *p,
		      uint32_t *applied);

/* A device's result: "ok", the errno's name ("EOPNOTSUPP"), or the number in @buf. */
const char *netvsc_result_name(int32_t r, char *buf, size_t size);
/*
 * A VF's master, escaped (Linux lets a name hold control bytes): its name
 * in @devs (a dump; may be NULL), else its name here while it exists, else
 * "#<ifindex>": events outlive devices, and a unit test's ifindex names nothing.
 */
void netvsc_master_name(uint32_t ifindex, const struct netvsc_dev *devs, size_t n, char *buf,
			size_t size);

/* One line describing an event ("netvsc vf-join eth1 master=eth0 ..."); <0 unknown. */
int netvsc_event_format(struct nlattr **tb, uint8_t cmd, char *buf, size_t size);
