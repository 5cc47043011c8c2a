// SPDX-License-Identifier: GPL-2.0
/*
 * Policy layers and how a layer reaches a disk.
 *
 * The effective policy of a disk is the module default, overlaid by the
 * rule of its controller (SCSI host number), overlaid by the rule of its
 * LUN; a knob that is 0 in a layer inherits.  A knob that ends up 0 goes
 * back to the value the kernel chose when the disk appeared, so deleting a
 * rule really undoes it.
 */
#include <linux/blkdev.h>
#include <linux/slab.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_host.h>

#include "azl_storvsc.h"
#include "../include/uapi/azl_storvsc.h"

struct azl_storvsc_rule {
	struct list_head node;
	u32 host;
	bool has_lun;
	u64 lun;
	struct azl_storvsc_policy policy;
};

static LIST_HEAD(azl_storvsc_rules);
static unsigned int azl_storvsc_nr_rules;

void azl_storvsc_policy_merge(struct azl_storvsc_policy *dst,
			      const struct azl_storvsc_policy *src,
			      unsigned int mask)
{
	if (mask & AZL_KNOB_TIMEOUT)
		dst->timeout = src->timeout;
	if (mask & AZL_KNOB_EH_TIMEOUT)
		dst->eh_timeout = src->eh_timeout;
	if (mask & AZL_KNOB_QUEUE_DEPTH)
		dst->queue_depth = src->queue_depth;
}

/* Overlay the knobs a rule sets (non-zero) on @dst. */
static void azl_overlay(struct azl_storvsc_policy *dst,
			const struct azl_storvsc_policy *rule)
{
	if (rule->timeout)
		dst->timeout = rule->timeout;
	if (rule->eh_timeout)
		dst->eh_timeout = rule->eh_timeout;
	if (rule->queue_depth)
		dst->queue_depth = rule->queue_depth;
}

static struct azl_storvsc_rule *azl_rule_find(u32 host, bool has_lun, u64 lun)
{
	struct azl_storvsc_rule *r;

	list_for_each_entry(r, &azl_storvsc_rules, node)
		if (r->host == host && r->has_lun == has_lun &&
		    (!has_lun || r->lun == lun))
			return r;
	return NULL;
}

static struct azl_storvsc_policy azl_resolve(struct scsi_device *sdev, u8 *source)
{
	struct azl_storvsc_policy p = azl_storvsc_default;
	struct azl_storvsc_rule *r;

	*source = AZL_STORVSC_SOURCE_DEFAULT;
	r = azl_rule_find(sdev->host->host_no, false, 0);
	if (r) {
		azl_overlay(&p, &r->policy);
		*source = AZL_STORVSC_SOURCE_CONTROLLER;
	}
	r = azl_rule_find(sdev->host->host_no, true, sdev->lun);
	if (r) {
		azl_overlay(&p, &r->policy);
		*source = AZL_STORVSC_SOURCE_LUN;
	}
	return p;
}

/*
 * The same steps as writing device/queue_depth in sysfs: the host's own
 * change_queue_depth (which may clamp further), bounded by can_queue.
 */
static void azl_set_queue_depth(struct scsi_device *sdev, u32 depth)
{
	const struct scsi_host_template *sht = sdev->host->hostt;
	int ret;

	if (!sht->change_queue_depth || depth == sdev->queue_depth)
		return;
	depth = clamp_t(u32, depth, 1, sdev->host->can_queue);
	ret = sht->change_queue_depth(sdev, depth);
	if (ret < 0) {
		sdev_printk(KERN_INFO, sdev,
			    "azl_storvsc: queue depth %u not taken by the host (%d)\n",
			    depth, ret);
		return;
	}
	sdev->max_queue_depth = sdev->queue_depth;
}

/* Give one disk the knobs @mask of its effective policy, then tell listeners. */
void azl_storvsc_apply(struct azl_storvsc_dev *d, unsigned int mask)
{
	struct scsi_device *sdev = d->sdev;
	struct azl_storvsc_policy p = azl_resolve(sdev, &d->source);
	u32 timeout = p.timeout ? p.timeout * HZ : d->orig_timeout;
	u32 eh_timeout = p.eh_timeout ? p.eh_timeout * HZ : d->orig_eh_timeout;
	u32 depth = p.queue_depth ? p.queue_depth : d->orig_queue_depth;

	lockdep_assert_held(&azl_storvsc_lock);
	if ((mask & AZL_KNOB_TIMEOUT) && sdev->request_queue->rq_timeout != timeout)
		blk_queue_rq_timeout(sdev->request_queue, timeout);
	if (mask & AZL_KNOB_EH_TIMEOUT)
		WRITE_ONCE(sdev->eh_timeout, eh_timeout);
	if (mask & AZL_KNOB_QUEUE_DEPTH)
		azl_set_queue_depth(sdev, depth);
	azl_storvsc_notify_applied(d);
}

/* Re-apply knobs @mask to the disks a changed layer covers; returns how many. */
unsigned int azl_storvsc_reapply(bool all_hosts, u32 host, bool has_lun, u64 lun,
				 unsigned int mask)
{
	struct azl_storvsc_dev *d;
	unsigned int n = 0;

	list_for_each_entry(d, &azl_storvsc_devs, node) {
		if (!all_hosts && d->sdev->host->host_no != host)
			continue;
		if (!all_hosts && has_lun && d->sdev->lun != lun)
			continue;
		azl_storvsc_apply(d, mask);
		n++;
	}
	return n;
}

int azl_storvsc_rule_set(u32 host, bool has_lun, u64 lun,
			 const struct azl_storvsc_policy *p, unsigned int mask)
{
	struct azl_storvsc_rule *r = azl_rule_find(host, has_lun, lun);

	if (!r) {
		if (azl_storvsc_nr_rules >= AZL_STORVSC_RULES_MAX)
			return -ENOSPC;
		r = kzalloc(sizeof(*r), GFP_KERNEL);
		if (!r)
			return -ENOMEM;
		r->host = host;
		r->has_lun = has_lun;
		r->lun = has_lun ? lun : 0;
		list_add_tail(&r->node, &azl_storvsc_rules);
		azl_storvsc_nr_rules++;
	}
	azl_storvsc_policy_merge(&r->policy, p, mask);
	azl_storvsc_generation++;
	return 0;
}

static void azl_rule_free(struct azl_storvsc_rule *r)
{
	list_del(&r->node);
	azl_storvsc_nr_rules--;
	azl_storvsc_generation++;
	kfree(r);
}

int azl_storvsc_rule_del(u32 host, bool has_lun, u64 lun)
{
	struct azl_storvsc_rule *r = azl_rule_find(host, has_lun, lun);
	int mask = 0;

	if (!r)
		return -ENOENT;
	if (r->policy.timeout)
		mask |= AZL_KNOB_TIMEOUT;
	if (r->policy.eh_timeout)
		mask |= AZL_KNOB_EH_TIMEOUT;
	if (r->policy.queue_depth)
		mask |= AZL_KNOB_QUEUE_DEPTH;
	azl_rule_free(r);
	return mask;
}

/*
 * Host numbers are reused after a controller goes away; its rules must not
 * silently apply to whatever controller gets the number next.
 */
void azl_storvsc_rules_drop_host(u32 host)
{
	struct azl_storvsc_rule *r, *tmp;

	list_for_each_entry_safe(r, tmp, &azl_storvsc_rules, node)
		if (r->host == host)
			azl_rule_free(r);
}

void azl_storvsc_rules_free(void)
{
	struct azl_storvsc_rule *r, *tmp;

	list_for_each_entry_safe(r, tmp, &azl_storvsc_rules, node)
		azl_rule_free(r);
}

/* Call @fn for each rule after the first @skip; stops at fn's first error. */
int azl_storvsc_rules_walk(unsigned long skip,
			   int (*fn)(void *ctx, u32 host, bool has_lun, u64 lun,
				     const struct azl_storvsc_policy *p),
			   void *ctx)
{
	struct azl_storvsc_rule *r;
	unsigned long i = 0;
	int ret;

	list_for_each_entry(r, &azl_storvsc_rules, node) {
		if (i++ < skip)
			continue;
		ret = fn(ctx, r->host, r->has_lun, r->lun, &r->policy);
		if (ret)
			return ret;
	}
	return 0;
}
