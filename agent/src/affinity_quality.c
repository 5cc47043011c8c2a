// SPDX-License-Identifier: MIT
/*
 * The quality figures of a placement (the same for before and after a
 * plan), the lookups they and the planner share, and the one-line
 * description of an action.
 */
#include <stdio.h>
#include <string.h>

#include "affinity.h"

void aff_action_from(const struct aff_input *in, const struct aff_action *a,
		     struct cpuset *out)
{
	const struct aff_vmbus_dev *d;
	const struct aff_irq *q;
	const struct aff_nic *nic;

	cpuset_zero(out);
	switch (a->target) {
	case AFF_CHANNEL:
		d = &in->vmbus[a->dev];
		for (size_t c = 0; c < d->nchannels; c++)
			if (d->channels[c].relid == a->id && d->channels[c].cpu >= 0 &&
			    d->channels[c].cpu < CPUSET_MAX)
				cpuset_set(out, (unsigned int)d->channels[c].cpu);
		return;
	case AFF_IRQ:
		q = aff_find_irq(in, a->id);
		if (q)
			*out = q->affinity;
		return;
	case AFF_XPS:
	case AFF_RPS:
		nic = &in->nics[a->dev];
		for (size_t k = 0; k < (a->target == AFF_XPS ? nic->ntx : nic->nrx); k++) {
			const struct aff_queue *qu = a->target == AFF_XPS ? &nic->tx[k] : &nic->rx[k];

			if ((long)qu->index == a->id)
				*out = qu->cpus;
		}
		return;
	}
}

long aff_cpu_index(const struct aff_input *in, long cpu)
{
	size_t lo = 0, hi = in->ncpus;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if ((long)in->cpus[mid].id == cpu)
			return (long)mid;
		if ((long)in->cpus[mid].id < cpu)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

bool aff_cpu_on_node(const struct aff_input *in, long cpu, int node)
{
	long pos = aff_cpu_index(in, cpu);

	return node < 0 || (pos >= 0 && in->cpus[pos].node == node);
}

const struct aff_irq *aff_find_irq(const struct aff_input *in, long irq)
{
	size_t lo = 0, hi = in->nirqs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (in->irqs[mid].irq == irq)
			return &in->irqs[mid];
		if (in->irqs[mid].irq < irq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Where a source interrupts before the plan: its one CPU, else the effective one. */
static long cpu_before(const struct aff_input *in, const struct aff_action *a)
{
	struct cpuset from;
	long cpu;

	aff_action_from(in, a, &from);
	cpu = cpuset_single(&from);
	const struct aff_irq *q;

	if (cpu >= 0 || a->target != AFF_IRQ)
		return cpu;
	q = aff_find_irq(in, a->id);
	return q ? q->effective : -1;
}

static bool is_perf_channel(const struct aff_input *in, const struct aff_action *a)
{
	return a->target == AFF_CHANNEL && in->vmbus[a->dev].perf;
}

void aff_quality_compute(const struct aff_input *in, const struct aff_plan *plan, bool after,
		    unsigned int *per_cpu, struct aff_quality *q)
{
	struct cpuset chan;

	memset(q, 0, sizeof(*q));
	memset(per_cpu, 0, in->ncpus * sizeof(unsigned int));
	cpuset_zero(&chan);
	for (size_t i = 0; i < plan->n; i++) {
		const struct aff_action *a = &plan->v[i];
		long cpu = after ? cpuset_single(&a->to) : cpu_before(in, a);
		long pos = cpu >= 0 ? aff_cpu_index(in, cpu) : -1;
		bool local = cpu >= 0 && aff_cpu_on_node(in, cpu, a->node);

		if (a->target == AFF_CHANNEL && cpu >= 0)
			cpuset_set(&chan, (unsigned int)cpu);
		if (a->target == AFF_IRQ) {
			q->irqs++;
			q->irqs_local += local;
		} else if (is_perf_channel(in, a)) {
			q->channels++;
			q->channels_local += local;
		} else {
			continue;
		}
		if (pos >= 0)
			per_cpu[pos]++;
	}
	q->channel_cpus = cpuset_count(&chan);
	q->src_min = ~0u;
	for (size_t c = 0; c < in->ncpus; c++) {
		if (!in->cpus[c].allowed)
			continue;
		q->src_max = per_cpu[c] > q->src_max ? per_cpu[c] : q->src_max;
		q->src_min = per_cpu[c] < q->src_min ? per_cpu[c] : q->src_min;
	}
	if (q->src_min == ~0u)
		q->src_min = 0;
	q->managed = in->nmanaged;
	for (size_t i = 0; i < in->nirqs; i++)
		q->managed += in->irqs[i].managed;
}

unsigned int aff_quality_score(const struct aff_quality *q)
{
	unsigned int total = q->irqs + q->channels;

	if (!total)
		return 100;
	return (unsigned int)((q->irqs_local + q->channels_local) * 100ull / total);
}

void aff_action_describe(const struct aff_input *in, const struct aff_action *a,
			 char *buf, size_t len)
{
	const struct aff_irq *q;

	switch (a->target) {
	case AFF_CHANNEL:
		snprintf(buf, len, "vmbus %s (%s) channel %ld", in->vmbus[a->dev].instance,
			 in->vmbus[a->dev].kind, a->id);
		break;
	case AFF_IRQ:
		q = aff_find_irq(in, a->id);
		snprintf(buf, len, "irq %ld %s", a->id, q ? q->action : "?");
		break;
	case AFF_XPS:
		snprintf(buf, len, "%s tx-%ld xps", in->nics[a->dev].name, a->id);
		break;
	case AFF_RPS:
		snprintf(buf, len, "%s rx-%ld rps", in->nics[a->dev].name, a->id);
		break;
	}
}
