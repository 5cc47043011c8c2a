// SPDX-License-Identifier: MIT
/* The placement line of `status`: the affinity planner, dry. */
#include <stdio.h>
#include <string.h>

#include "affinity.h"
#include "config.h"
#include "status.h"

void status_placement(const struct root *r, struct status *s)
{
	struct placement_summary *p = &s->placement;
	struct agent_config cfg;
	struct aff_policy pol;
	struct aff_input in;
	struct aff_plan plan;
	char err[256];

	memset(p, 0, sizeof(*p));
	/* The configured policy when it is readable, else the defaults. */
	if (config_load(r, NULL, &cfg, err, sizeof(err)) == 0)
		aff_policy_from_config(&cfg, &pol);
	else
		aff_policy_defaults(&pol);
	if (affinity_gather(r, &in, p->error, sizeof(p->error)) < 0)
		return;
	if (affinity_plan(&in, &pol, &plan) < 0) {
		snprintf(p->error, sizeof(p->error), "out of memory");
		affinity_input_free(&in);
		return;
	}
	p->known = true;
	p->score = aff_quality_score(&plan.before);
	p->planned_score = aff_quality_score(&plan.after);
	p->moves = plan.moves;
	p->sku = in.sku ? in.sku->name : NULL;
	p->sku_source = in.sku_source;
	affinity_plan_free(&plan);
	affinity_input_free(&in);
}
