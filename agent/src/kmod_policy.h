/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The policy the agent pushes to its kernel modules (kmod/README.md), as a
 * pure function of the configuration ([modules]) and the VM's SKU
 * (sku.h).  kmod_push.c sends it; the daemon does at start and whenever a
 * module (re)appears.
 *
 *   azl_storvsc  the default layer's command timeout
 *   azl_netvsc   channel count (0, the kernel's, unless configured; only
 *                a count image validation accepts), XPS for NICs and VFs
 *   azl_accel    the SKU table's PCI domain -> NUMA node entries, so a
 *                GPU or HCA the host gave no node gets one before its
 *                driver binds; nothing when the SKU is not known (a table
 *                an administrator gave with nodes= stays)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "kmod_accel.h"
#include "kmod_netvsc.h"
#include "kmod_storvsc.h"
#include "sku.h"

struct kmod_policy {
	const char *sku;               /* the SKU's name, NULL: general purpose */
	bool storvsc;                  /* push the storvsc default layer */
	struct storvsc_rule storvsc_rule;
	bool netvsc;                   /* push the netvsc policy */
	struct netvsc_policy netvsc_policy; /* channels resolved by kmod_netvsc_channels() */
	enum netvsc_channels_mode channels_mode;
	unsigned int channels;         /* NETVSC_CHANNELS_COUNT's N */
	bool accel;                    /* push the table below */
	struct accel_node_entry accel_nodes[AZL_ACCEL_NODES_MAX];
	size_t naccel;
};

/* Pure.  Nothing to push at all when [modules] push = no. */
void kmod_policy_plan(const struct agent_config *cfg, const struct sku_policy *sku,
		      struct kmod_policy *p);

/*
 * The channel count to ask azl_netvsc for, given the counts it accepts on
 * this VM (GET_POLICY's ALLOWED): 0 keeps the kernel's.  -ERANGE when a
 * configured N is not among them (the module would refuse it too; saying
 * so here names the configuration key).
 */
int kmod_netvsc_channels(const struct kmod_policy *p, const uint32_t *allowed, size_t nallowed,
			 uint32_t *out);

/*
 * The knobs of @want (of want->mask) that differ from the module's @cur.
 * Only those are sent: a SET naming the channel count re-applies it to
 * every NIC, and a daemon restart must not undo a count set by hand since
 * (image validation checks that `ethtool -L` sticks).
 */
unsigned int kmod_netvsc_changed(const struct netvsc_policy *cur,
				 const struct netvsc_policy *want);

/*
 * The same domain -> node entries, in any order?  The daemon replaces
 * azl_accel's table only when it differs (`[modules] accel_numa = yes`
 * owns the table: one set by hand is replaced at the next start).
 */
bool kmod_accel_same_table(const struct accel_node_entry *a, size_t na,
			   const struct accel_node_entry *b, size_t nb);
