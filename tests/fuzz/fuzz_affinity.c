// SPDX-License-Identifier: MIT
/*
 * Property fuzzing of the placement planner.  The bytes describe a VM (CPUs,
 * nodes in any order, SMT, disallowed CPUs, VMBus devices with channels on
 * any CPU number, PCI devices with any node, IRQs, NICs); the planner must
 * not crash and its plan must hold the policy's promises:
 *   - every move targets exactly one allowed, online CPU;
 *   - a second plan over the applied plan moves nothing;
 *   - the same input gives the same plan.
 * A broken promise aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity.h"

struct bytes {
	const uint8_t *p;
	size_t n;
};

static unsigned int take(struct bytes *b)
{
	if (!b->n)
		return 0;
	b->n--;
	return *b->p++;
}

static void build_cpus(struct bytes *b, struct aff_input *in)
{
	unsigned int n = 1 + take(b) % 48, nodes = 1 + take(b) % 4, flags = take(b);

	in->ncpus = n;
	in->cpus = calloc(n, sizeof(*in->cpus));
	for (unsigned int i = 0; i < n; i++) {
		unsigned int v = take(b);

		/* CPU ids ascending but with holes (offline CPUs). */
		in->cpus[i].id = i ? in->cpus[i - 1].id + 1 + (v >> 6) : (v >> 6);
		in->cpus[i].node = (int)((v & 0x3) % nodes);
		in->cpus[i].core = (flags & 1) ? in->cpus[i].id & ~1u : in->cpus[i].id;
		in->cpus[i].thread = (flags & 1) ? in->cpus[i].id & 1u : 0;
		in->cpus[i].allowed = !(v & 0x4) || !(flags & 2);
		if (!in->cpus[i].allowed)
			cpuset_set(&in->excluded, in->cpus[i].id);
	}
	in->nnodes = nodes;
}

static void add_vmbus(struct bytes *b, struct aff_input *in, long *relid)
{
	struct aff_vmbus_dev *d;
	unsigned int v = take(b), n = 1 + v % 12;

	in->vmbus = realloc(in->vmbus, (in->nvmbus + 1) * sizeof(*d));
	d = &in->vmbus[in->nvmbus];
	memset(d, 0, sizeof(*d));
	snprintf(d->instance, sizeof(d->instance), "%08zx-0000-0000-0000-000000000000",
		 (size_t)(take(b) << 8 | in->nvmbus));
	d->kind = "x";
	d->perf = v & 0x80;
	d->nchannels = n;
	d->channels = calloc(n, sizeof(*d->channels));
	for (unsigned int i = 0; i < n; i++) {
		d->channels[i].relid = (*relid)++;
		d->channels[i].subchannel = i;
		d->channels[i].cpu = (long)take(b) - 8; /* negative and absent CPUs too */
	}
	in->nvmbus++;
}

static void add_pci(struct bytes *b, struct aff_input *in, long *irq)
{
	struct aff_pci_dev *d;
	unsigned int v = take(b), n = 1 + take(b) % 12;

	in->pci = realloc(in->pci, (in->npci + 1) * sizeof(*d));
	d = &in->pci[in->npci];
	memset(d, 0, sizeof(*d));
	d->domain = take(b) % 0x110;
	snprintf(d->addr, sizeof(d->addr), "%04x:00:%02zx.0", d->domain, in->npci);
	d->kind = (enum pci_kind)(v % 5);
	d->numa_node = (long)((v >> 3) % 6) - 1;
	d->vpci = !(v & 0x80);
	in->irqs = realloc(in->irqs, (in->nirqs + n) * sizeof(*in->irqs));
	for (unsigned int i = 0; i < n; i++) {
		struct aff_irq *q = &in->irqs[in->nirqs++];
		unsigned int a = take(b);

		memset(q, 0, sizeof(*q));
		q->irq = (*irq)++;
		q->dev = (int)in->npci;
		q->queue = a & 1 ? (long)i : -1;
		q->managed = (a & 0x6) == 0x6;
		if (a & 0x8)
			cpuset_set(&q->affinity, a >> 4);
		else
			for (unsigned int c = 0; c < (a >> 4) + 1; c++)
				cpuset_set(&q->affinity, c);
		q->effective = (long)(a >> 4) - 1;
	}
	in->npci++;
}

static void add_nic(struct bytes *b, struct aff_input *in)
{
	struct aff_nic *nic;
	unsigned int v = take(b);

	if (!in->nvmbus)
		return;
	in->nics = realloc(in->nics, (in->nnics + 1) * sizeof(*nic));
	nic = &in->nics[in->nnics];
	memset(nic, 0, sizeof(*nic));
	snprintf(nic->name, sizeof(nic->name), "eth%zu", in->nnics);
	nic->vmbus_dev = (int)(v % in->nvmbus);
	nic->vf = in->npci && (v & 0x80) ? (int)((v >> 4) % in->npci) : -1;
	nic->ntx = 1 + take(b) % 10;
	nic->tx = calloc(nic->ntx, sizeof(*nic->tx));
	for (size_t q = 0; q < nic->ntx; q++)
		nic->tx[q].index = (unsigned int)q;
	in->nnics++;
}

static void free_input(struct aff_input *in)
{
	for (size_t i = 0; i < in->nvmbus; i++)
		free(in->vmbus[i].channels);
	for (size_t i = 0; i < in->nnics; i++)
		free(in->nics[i].tx);
	free(in->vmbus);
	free(in->pci);
	free(in->irqs);
	free(in->nics);
	free(in->cpus);
}

static const struct aff_cpu *cpu_of(const struct aff_input *in, long id)
{
	for (size_t i = 0; i < in->ncpus; i++)
		if ((long)in->cpus[i].id == id)
			return &in->cpus[i];
	return NULL;
}

static void check_moves(const struct aff_input *in, const struct aff_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct aff_action *a = &plan->v[i];
		const struct aff_cpu *c;

		if (!a->move)
			continue;
		if (a->target == AFF_XPS || a->target == AFF_RPS)
			continue;
		if (cpuset_count(&a->to) != 1)
			abort();
		c = cpu_of(in, cpuset_last(&a->to));
		if (!c || !c->allowed)
			abort();
	}
}

static void apply_in_memory(struct aff_input *in, const struct aff_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct aff_action *a = &plan->v[i];

		if (!a->move)
			continue;
		if (a->target == AFF_CHANNEL) {
			struct aff_vmbus_dev *d = &in->vmbus[a->dev];

			for (size_t c = 0; c < d->nchannels; c++)
				if (d->channels[c].relid == a->id)
					d->channels[c].cpu = cpuset_last(&a->to);
		} else if (a->target == AFF_IRQ) {
			for (size_t k = 0; k < in->nirqs; k++)
				if (in->irqs[k].irq == a->id)
					in->irqs[k].affinity = a->to;
		} else if (a->target == AFF_XPS) {
			in->nics[a->dev].tx[a->id].cpus = a->to;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bytes b = { data, size };
	struct aff_input in = { .sku_source = "none" };
	struct aff_policy pol;
	struct aff_plan p1, p2, p3;
	long relid = 1, irq = 24;

	aff_policy_defaults(&pol);
	build_cpus(&b, &in);
	while (b.n) {
		switch (take(&b) % 3) {
		case 0: add_vmbus(&b, &in, &relid); break;
		case 1: add_pci(&b, &in, &irq); break;
		default: add_nic(&b, &in); break;
		}
		if (in.nvmbus > 16 || in.npci > 16)
			break;
	}
	if (in.pci && in.npci && (in.pci[0].domain & 1))
		in.sku = sku_by_vm_size("Standard_ND96isr_H200_v5");
	if (affinity_plan(&in, &pol, &p1) < 0)
		abort();
	if (affinity_plan(&in, &pol, &p3) < 0 || p3.n != p1.n ||
	    (p1.n && memcmp(p1.v, p3.v, p1.n * sizeof(*p1.v)) != 0))
		abort(); /* not deterministic */
	check_moves(&in, &p1);
	apply_in_memory(&in, &p1);
	if (affinity_plan(&in, &pol, &p2) < 0)
		abort();
	if (p2.moves != 0)
		abort(); /* the plan of an applied plan must be empty */
	affinity_plan_free(&p1);
	affinity_plan_free(&p2);
	affinity_plan_free(&p3);
	free_input(&in);
	return 0;
}
