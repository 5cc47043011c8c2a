// SPDX-License-Identifier: MIT
/* What the agent pushes to its kernel modules: see kmod_policy.h. */
#include <errno.h>
#include <string.h>

#include "kmod_policy.h"

static void plan_storvsc(const struct agent_config *cfg, struct kmod_policy *p)
{
	p->storvsc = true;
	p->storvsc_rule.knobs.timeout = cfg->modules.storvsc_timeout;
	p->storvsc_rule.mask = STORVSC_KNOB_TIMEOUT;
}

static void plan_netvsc(const struct agent_config *cfg, struct kmod_policy *p)
{
	struct netvsc_policy *n = &p->netvsc_policy;

	p->netvsc = true;
	p->channels_mode = cfg->modules.netvsc_channels_mode;
	p->channels = cfg->modules.netvsc_channels;
	n->xps = cfg->modules.netvsc_xps;
	n->vf_xps = cfg->modules.netvsc_vf_xps;
	/*
	 * Always with a count: 0 ("kernel") tells the module to leave
	 * counts alone, replacing a count pushed under an older configuration.
	 * It changes no NIC either way (a count set by hand stays).
	 */
	n->mask = NETVSC_KNOB_CHANNELS | NETVSC_KNOB_XPS | NETVSC_KNOB_VF_XPS;
}

/* Every device of the SKU's table with a node, each domain once. */
static void plan_accel(const struct sku_policy *sku, struct kmod_policy *p)
{
	for (size_t i = 0; sku && i < sku->npci && p->naccel < AZL_ACCEL_NODES_MAX; i++) {
		const struct sku_pci_node *e = &sku->pci[i];
		bool seen = false;

		if (e->node < 0 || e->domain > 0xffff)
			continue;
		for (size_t k = 0; k < p->naccel; k++)
			seen |= p->accel_nodes[k].domain == e->domain;
		if (!seen)
			p->accel_nodes[p->naccel++] = (struct accel_node_entry){ e->domain, e->node };
	}
	p->accel = p->naccel > 0;
}

void kmod_policy_plan(const struct agent_config *cfg, const struct sku_policy *sku,
		      struct kmod_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->sku = sku ? sku->name : NULL;
	if (!cfg->modules.push)
		return;
	plan_storvsc(cfg, p);
	plan_netvsc(cfg, p);
	if (cfg->modules.accel_numa)
		plan_accel(sku, p);
}

int kmod_netvsc_channels(const struct kmod_policy *p, const uint32_t *allowed, size_t nallowed,
			 uint32_t *out)
{
	uint32_t best = 0;

	*out = 0;
	switch (p->channels_mode) {
	case NETVSC_CHANNELS_KERNEL:
		return 0;
	case NETVSC_CHANNELS_MAX:
		for (size_t i = 0; i < nallowed; i++)
			if (allowed[i] > best)
				best = allowed[i];
		*out = best;
		return best ? 0 : -ERANGE;
	case NETVSC_CHANNELS_COUNT:
		for (size_t i = 0; i < nallowed; i++)
			if (allowed[i] == p->channels) {
				*out = p->channels;
				return 0;
			}
		return -ERANGE;
	}
	return -EINVAL;
}

unsigned int kmod_netvsc_changed(const struct netvsc_policy *cur, const struct netvsc_policy *want)
{
	unsigned int m = 0;

	if ((want->mask & NETVSC_KNOB_CHANNELS) && want->channels != cur->channels)
		m |= NETVSC_KNOB_CHANNELS;
	if ((want->mask & NETVSC_KNOB_XPS) && want->xps != cur->xps)
		m |= NETVSC_KNOB_XPS;
	if ((want->mask & NETVSC_KNOB_VF_XPS) && want->vf_xps != cur->vf_xps)
		m |= NETVSC_KNOB_VF_XPS;
	return m;
}

bool kmod_accel_same_table(const struct accel_node_entry *a, size_t na,
			   const struct accel_node_entry *b, size_t nb)
{
	if (na != nb)
		return false;
	/* Each domain is in a table once (the module refuses duplicates). */
	for (size_t i = 0; i < na; i++) {
		bool found = false;

		for (size_t k = 0; k < nb && !found; k++)
			found = a[i].domain == b[k].domain && a[i].node == b[k].node;
		if (!found)
			return false;
	}
	return true;
}
